package openvino

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/potgo/pot/proto/potv1"
	sg "github.com/potgo/pot/sdk/graph"
)

// OnnxOpset is the ONNX opset of the graphs the reader builds.
const OnnxOpset = 13

// maxBinSize bounds the weights file the reader loads (16 GiB).
const maxBinSize = 16 << 30

// UnsupportedLayer is one IR layer the reader cannot map to ONNX.
type UnsupportedLayer struct {
	Name, Type, Version string
	// Reason says why ("no ONNX mapping", "batch_dims 1: only 0 is read").
	Reason string
}

func (u UnsupportedLayer) String() string {
	v := u.Version
	if v == "" {
		v = "no version"
	}
	return fmt.Sprintf("%q (%s, %s): %s", u.Name, u.Type, v, u.Reason)
}

// UnsupportedLayersError lists every layer of an IR the reader cannot map;
// the reader returns it before building anything from the model.
type UnsupportedLayersError struct {
	Layers []UnsupportedLayer
}

func (e *UnsupportedLayersError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "IR has %d layer(s) pot cannot read: ", len(e.Layers))
	for i, l := range e.Layers {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(l.String())
	}
	return b.String()
}

// IsIR tells whether a model path names an OpenVINO IR (model.xml).
func IsIR(path string) bool {
	return strings.EqualFold(filepath.Ext(path), ".xml")
}

// BinPath returns the weights file beside an IR's model.xml (model.bin).
func BinPath(xmlPath string) string {
	return strings.TrimSuffix(xmlPath, filepath.Ext(xmlPath)) + ".bin"
}

// ReadGraph reads an IR (model.xml and the model.bin beside it) as a pot
// graph of ONNX opset-13 operators.
func ReadGraph(xmlPath string) (*potv1.Graph, error) {
	return ReadFiles(xmlPath, "")
}

// ReadFiles reads an IR from model.xml and its weights file; an empty
// binPath means the .bin beside the .xml. A missing weights file is an
// error only when the model has constants to read from it.
func ReadFiles(xmlPath, binPath string) (*potv1.Graph, error) {
	xb, err := os.ReadFile(xmlPath)
	if err != nil {
		return nil, fmt.Errorf("read IR: %w", err)
	}
	net, err := Decode(xb)
	if err != nil {
		return nil, fmt.Errorf("read IR %s: %w", xmlPath, err)
	}
	explicit := binPath != ""
	if !explicit {
		binPath = BinPath(xmlPath)
	}
	var bin []byte
	fi, err := os.Stat(binPath)
	switch {
	case err == nil && fi.IsDir():
		return nil, fmt.Errorf("read IR weights %s: is a directory", binPath)
	case err == nil && fi.Size() > maxBinSize:
		return nil, fmt.Errorf("read IR weights %s: %d bytes (at most %d)", binPath, fi.Size(), int64(maxBinSize))
	case err == nil:
		if bin, err = os.ReadFile(binPath); err != nil {
			return nil, fmt.Errorf("read IR weights: %w", err)
		}
	case explicit || needsBin(net):
		return nil, fmt.Errorf("read IR weights: %w", err)
	}
	g, err := ToGraph(net, bin)
	if err != nil {
		return nil, fmt.Errorf("read IR %s: %w", xmlPath, err)
	}
	return g, nil
}

// needsBin tells whether a net has constants with data in the .bin.
func needsBin(n *Net) bool {
	for _, l := range n.Layers {
		if l.Type == "Const" {
			if s, ok := l.Attr("size"); ok && s != "0" {
				return true
			}
		}
	}
	return false
}

// portKey names a port of a layer.
type portKey struct{ layer, port int }

// value is what an output port carries.
type value struct {
	name  string
	dtype potv1.DataType
	// dims are the port's dims (-1 dynamic); nil when the port has none.
	dims []int64
	// konst is the value when it is a constant (a Const layer or a
	// subgraph of constants folded).
	konst *potv1.Tensor
	// dq, for compressed weights, are konst's integers, scale and zero
	// point (DequantizeLinear's inputs).
	dq *dqWeights
}

// reader is the state of one ToGraph.
type reader struct {
	net    *Net
	bin    []byte
	byID   map[int]*Layer
	order  []*Layer
	src    map[portKey]portKey   // input port -> output port feeding it
	users  map[portKey][]portKey // output port -> input ports it feeds
	vals   map[portKey]*value
	g      *potv1.Graph
	tensor map[string]bool // tensor names taken
	nodes  map[string]bool // node names taken
	inits  map[string]bool // constants emitted as initializers
	// absorbed are layers another layer's node took over (a bias Add
	// folded into Conv or Gemm).
	absorbed    map[int]bool
	unsupported []UnsupportedLayer
	// dqs are the DequantizeLinear outputs of compressed weights, by
	// value name and dims.
	dqs map[string]string
}

// ToGraph maps an IR document and its weights (the .bin's bytes) to a pot
// graph of ONNX opset-13 operators: node names are the IR layer names,
// tensor names are the output ports' names (else the layer name, with
// ":port" for a layer of several outputs), Parameters are graph inputs,
// Results graph outputs and Consts initializers. Constant subgraphs of
// decompression (Const f16/i8/u8 → Convert → Subtract → Multiply) fold
// into one f32 initializer, and a constant bias Add after a convolution
// or a 2-D MatMul folds into Conv's or Gemm's bias.
//
// A layer pot cannot map makes ToGraph fail with an
// *UnsupportedLayersError listing every such layer; a malformed document
// (an edge to a missing port, a cycle, weights outside the .bin) makes it
// fail with an error that says what and where. It never panics.
func ToGraph(net *Net, bin []byte) (g *potv1.Graph, err error) {
	defer func() {
		if p := recover(); p != nil {
			g, err = nil, fmt.Errorf("IR: internal error reading the model: %v", p)
		}
	}()
	return toGraph(net, bin)
}

// toGraph is ToGraph without the recover (the fuzz target calls it, so
// that a panic is found rather than hidden).
func toGraph(net *Net, bin []byte) (*potv1.Graph, error) {
	if net == nil {
		return nil, fmt.Errorf("IR: nil net")
	}
	r := &reader{
		net: net, bin: bin,
		byID:     map[int]*Layer{},
		src:      map[portKey]portKey{},
		users:    map[portKey][]portKey{},
		vals:     map[portKey]*value{},
		tensor:   map[string]bool{},
		nodes:    map[string]bool{},
		inits:    map[string]bool{},
		absorbed: map[int]bool{},
		dqs:      map[string]string{},
		g: &potv1.Graph{
			Name:   net.Name,
			Opsets: []*potv1.OpsetImport{{Domain: "", Version: OnnxOpset}},
		},
	}
	if err := r.link(); err != nil {
		return nil, err
	}
	if err := r.values(); err != nil {
		return nil, err
	}
	for _, l := range r.order {
		r.nodes[l.Name] = true
	}
	for _, l := range r.order {
		if r.absorbed[l.ID] || r.constant(l) {
			continue
		}
		if err := r.mapLayer(l); err != nil {
			if u, ok := err.(*refusal); ok {
				r.unsupported = append(r.unsupported, UnsupportedLayer{Name: l.Name, Type: l.Type, Version: l.Version, Reason: u.reason})
				continue
			}
			return nil, fmt.Errorf("IR layer %q (%s): %w", l.Name, l.Type, err)
		}
	}
	if len(r.unsupported) > 0 {
		return nil, &UnsupportedLayersError{Layers: r.unsupported}
	}
	if len(r.g.Outputs) == 0 {
		return nil, fmt.Errorf("IR: no Result layer (a model needs an output)")
	}
	if r.quantizeBiases() {
		if err := sg.Sort(r.g, nil); err != nil {
			return nil, fmt.Errorf("IR: %w", err)
		}
	}
	return r.g, nil
}

// refusal is a mapping error that makes a layer unsupported (as opposed
// to a malformed document).
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason }

func refuse(format string, args ...any) error {
	return &refusal{reason: fmt.Sprintf(format, args...)}
}

// link indexes layers and edges and sorts the layers topologically.
func (r *reader) link() error {
	declared := map[portKey]bool{} // true: output port
	names := map[string]bool{}
	layers := make([]*Layer, len(r.net.Layers))
	for i, l := range r.net.Layers {
		if l == nil {
			return fmt.Errorf("IR: empty layer")
		}
		if _, dup := r.byID[l.ID]; dup {
			return fmt.Errorf("IR: layer id %d appears twice", l.ID)
		}
		// A copy, so that a duplicate name can be made unique without
		// touching the caller's net.
		c := *l
		l = &c
		if l.Name == "" || names[l.Name] {
			l.Name = fmt.Sprintf("%s_%d", l.Name, l.ID)
		}
		names[l.Name] = true
		layers[i] = l
		r.byID[l.ID] = l
		for _, p := range l.Input {
			k := portKey{l.ID, p.ID}
			if _, dup := declared[k]; dup {
				return fmt.Errorf("IR: layer %q declares port %d twice", l.Name, p.ID)
			}
			declared[k] = false
		}
		for _, p := range l.Output {
			k := portKey{l.ID, p.ID}
			if _, dup := declared[k]; dup {
				return fmt.Errorf("IR: layer %q declares port %d twice", l.Name, p.ID)
			}
			declared[k] = true
		}
	}
	deps := map[int]int{}
	next := map[int][]int{}
	for _, e := range r.net.Edges {
		from, to := portKey{e.FromLayer, e.FromPort}, portKey{e.ToLayer, e.ToPort}
		if out, ok := declared[from]; !ok || !out {
			return fmt.Errorf("IR: edge %d:%d -> %d:%d starts at a port that is not an output port of layer %d", e.FromLayer, e.FromPort, e.ToLayer, e.ToPort, e.FromLayer)
		}
		if out, ok := declared[to]; !ok || out {
			return fmt.Errorf("IR: edge %d:%d -> %d:%d ends at a port that is not an input port of layer %d", e.FromLayer, e.FromPort, e.ToLayer, e.ToPort, e.ToLayer)
		}
		if _, dup := r.src[to]; dup {
			return fmt.Errorf("IR: input port %d of layer %q has two incoming edges", e.ToPort, r.byID[e.ToLayer].Name)
		}
		r.src[to] = from
		r.users[from] = append(r.users[from], to)
		deps[e.ToLayer]++
		next[e.FromLayer] = append(next[e.FromLayer], e.ToLayer)
	}
	for _, l := range layers {
		for _, p := range l.Input {
			if _, ok := r.src[portKey{l.ID, p.ID}]; !ok {
				return fmt.Errorf("IR: input port %d of layer %q (%s) has no incoming edge", p.ID, l.Name, l.Type)
			}
		}
	}
	// Kahn's algorithm, in document order among ready layers.
	pos := map[int]int{}
	for i, l := range layers {
		pos[l.ID] = i
	}
	var ready []int
	for _, l := range layers {
		if deps[l.ID] == 0 {
			ready = append(ready, l.ID)
		}
	}
	for len(ready) > 0 {
		sort.Slice(ready, func(i, j int) bool { return pos[ready[i]] < pos[ready[j]] })
		id := ready[0]
		ready = ready[1:]
		r.order = append(r.order, r.byID[id])
		for _, n := range next[id] {
			deps[n]--
			if deps[n] == 0 {
				ready = append(ready, n)
			}
		}
	}
	if len(r.order) != len(layers) {
		var stuck []string
		for _, l := range layers {
			if deps[l.ID] > 0 {
				stuck = append(stuck, fmt.Sprintf("%q", l.Name))
			}
		}
		return fmt.Errorf("IR: the edges form a cycle through layers %s", strings.Join(stuck, ", "))
	}
	return nil
}

// in returns the value feeding input i (by position) of a layer.
func (r *reader) in(l *Layer, i int) *value {
	if i < 0 || i >= len(l.Input) {
		return nil
	}
	return r.vals[r.src[portKey{l.ID, l.Input[i].ID}]]
}

// out returns the value of output i (by position) of a layer.
func (r *reader) out(l *Layer, i int) *value {
	if i < 0 || i >= len(l.Output) {
		return nil
	}
	return r.vals[portKey{l.ID, l.Output[i].ID}]
}

// used tells whether output i of a layer feeds any layer.
func (r *reader) used(l *Layer, i int) bool {
	return i < len(l.Output) && len(r.users[portKey{l.ID, l.Output[i].ID}]) > 0
}

// constant tells whether every output of a layer is a constant (its
// layer then needs no node).
func (r *reader) constant(l *Layer) bool {
	if len(l.Output) == 0 {
		return false
	}
	for i := range l.Output {
		if v := r.out(l, i); v == nil || v.konst == nil {
			return false
		}
	}
	return true
}

// values names every output port, reads constants and folds constant
// subgraphs.
func (r *reader) values() error {
	for _, l := range r.order {
		for i, p := range l.Output {
			dims, err := portDims(p)
			if err != nil {
				return fmt.Errorf("IR layer %q output port %d: %w", l.Name, p.ID, err)
			}
			v := &value{dims: dims}
			if p.Precision != "" {
				if v.dtype, err = DataType(p.Precision); err != nil {
					v.dtype = potv1.DataType_DATA_TYPE_UNDEFINED
				}
			}
			if v.dtype == potv1.DataType_DATA_TYPE_UNDEFINED {
				if et, ok := l.Attr("element_type"); ok && (l.Type == "Const" || l.Type == "Parameter") {
					v.dtype, _ = DataType(et)
				} else if et, ok := l.Attr("destination_type"); ok && l.Type == "Convert" {
					v.dtype, _ = DataType(et)
				} else if in := r.in(l, 0); in != nil {
					v.dtype = in.dtype
				}
			}
			base := l.Name
			if len(l.Output) > 1 {
				base = fmt.Sprintf("%s:%d", l.Name, p.ID)
			}
			if names := splitNames(p.Names); len(names) > 0 {
				base = names[0]
			}
			v.name = r.tensorName(base)
			r.vals[portKey{l.ID, p.ID}] = v
			_ = i
		}
		if err := r.fold(l); err != nil {
			return fmt.Errorf("IR layer %q (%s): %w", l.Name, l.Type, err)
		}
	}
	return nil
}

// tensorName returns base, or base with a suffix when it is taken.
func (r *reader) tensorName(base string) string {
	name := base
	for i := 1; r.tensor[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	r.tensor[name] = true
	return name
}

// nodeName returns base (when it is free or is the layer's own name the
// first time) or base with a suffix.
func (r *reader) nodeName(base string) string {
	name := base
	for i := 1; r.nodes[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	r.nodes[name] = true
	return name
}

// splitNames splits a port's names attribute: comma separated, a comma
// inside a name escaped with a backslash.
func splitNames(s string) []string {
	var out []string
	var cur strings.Builder
	esc := false
	for _, c := range s {
		switch {
		case esc:
			cur.WriteRune(c)
			esc = false
		case c == '\\':
			esc = true
		case c == ',':
			if t := strings.TrimSpace(cur.String()); t != "" {
				out = append(out, t)
			}
			cur.Reset()
		default:
			cur.WriteRune(c)
		}
	}
	if t := strings.TrimSpace(cur.String()); t != "" {
		out = append(out, t)
	}
	return out
}

// portDims parses a port's <dim> elements.
func portDims(p Port) ([]int64, error) {
	if len(p.Dims) > maxDims {
		return nil, fmt.Errorf("%d dims (at most %d)", len(p.Dims), maxDims)
	}
	dims := make([]int64, len(p.Dims))
	for i, d := range p.Dims {
		v, err := ParseDim(d)
		if err != nil {
			return nil, err
		}
		dims[i] = v
	}
	return dims, nil
}

// static tells whether every dim is known.
func static(dims []int64) bool {
	for _, d := range dims {
		if d < 0 {
			return false
		}
	}
	return true
}
