package openvino

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// IRVersion is the IR version the writer writes.
const IRVersion = 11

// WriteOptions configure Write.
type WriteOptions struct {
	// Plan, when set, is written as FakeQuantize layers (and its weights
	// compressed to integers); its tensor updates replace the graph's
	// initializers first. Quantizers of nodes the plan keeps in float are
	// left out, as the QDQ export leaves them out.
	Plan *potv1.QuantizationPlan
	// Rounding rounds weights divided by their scale to levels, the way
	// the target's quantizers round (TargetCapabilities.rounding);
	// unspecified is half to even.
	Rounding potv1.Rounding
	// KeepWeightsFloat writes weight quantizers as FakeQuantize layers on
	// the float weights instead of compressing the weights.
	KeepWeightsFloat bool
	// Name is the net's name (default: the graph's).
	Name string
}

// Model is a written IR: the document and its weights.
type Model struct {
	Net *Net
	// Bin is model.bin: the constants, at the offsets their Const layers
	// give.
	Bin   []byte
	Stats WriteStats
}

// WriteStats counts what Write wrote.
type WriteStats struct {
	Layers, Constants int
	// FakeQuantize counts the FakeQuantize layers (activations, and
	// weights left in float); CompressedWeights the weights stored as
	// integers; Omitted the quantizers finer than float32 (more than 24
	// bits) left out.
	FakeQuantize, CompressedWeights, Omitted int
}

// XML returns model.xml.
func (m *Model) XML() ([]byte, error) { return m.Net.Encode() }

// Write maps a graph in the form of ONNX opset 13 (pot's working form),
// and optionally a quantization plan, to OpenVINO IR v11: a Parameter per
// graph input, a Result per output, the operations mapped to OpenVINO's
// opsets and the constants in the .bin. Output ports carry the ONNX
// tensor names (names="..."), layers the ONNX node names.
//
// Operations the writer cannot map are refused before anything is
// written, all of them in one error.
func Write(g *potv1.Graph, opts WriteOptions) (*Model, error) {
	if g == nil {
		return nil, fmt.Errorf("IR writer: no graph")
	}
	src := g
	quantizers := map[string]*potv1.Quantizer{}
	if opts.Plan != nil {
		applied, err := plan.Apply(g, opts.Plan)
		if err != nil {
			return nil, fmt.Errorf("IR writer: %w", err)
		}
		src = applied.Graph
		for _, q := range opts.Plan.GetQuantizers() {
			quantizers["fq/"+q.GetId()] = q
		}
	}
	if err := checkSupported(src); err != nil {
		return nil, err
	}
	name := opts.Name
	if name == "" {
		name = src.GetName()
	}
	if name == "" {
		name = "model"
	}
	w := &writer{
		g: src, x: graph.NewIndex(src), opts: opts, quantizers: quantizers,
		net:  &Net{Name: name, Version: IRVersion},
		vals: map[string]*val{}, blobs: map[[32]byte][]blob{}, used: map[string]bool{},
		round: plan.Rounder(opts.Rounding),
	}
	if err := w.write(); err != nil {
		return nil, err
	}
	return &Model{Net: w.net, Bin: w.bin.Bytes(), Stats: w.stats}, nil
}

// val is what the writer knows of a tensor: the output port that holds
// it (nil layer: a constant not written yet), its dims (-1 for a dynamic
// one), its element type and, for small integer tensors, its values as
// far as they are known (unknown elements are unk).
type val struct {
	layer *Layer
	port  int
	dims  []int64
	dt    potv1.DataType
	// konst is the value of a constant (an initializer or a Constant
	// node's) that has no layer yet: it gets one on first use.
	konst *potv1.Tensor
	parts []int64
}

// unk marks an element of val.parts whose value is not known.
const unk = math.MinInt64

type blob struct {
	data   []byte
	offset int
}

type writer struct {
	g          *potv1.Graph
	x          *graph.Index
	opts       WriteOptions
	quantizers map[string]*potv1.Quantizer
	net        *Net
	bin        bytes.Buffer
	blobs      map[[32]byte][]blob
	vals       map[string]*val
	used       map[string]bool // layer names
	stats      WriteStats
	round      func(float64) float64
}

func (w *writer) write() error {
	for _, in := range w.g.GetInputs() {
		if w.x.Initializer(in.GetName()) != nil {
			continue // an initializer listed as input (IR < 4): a constant
		}
		if !in.GetHasShape() {
			return fmt.Errorf("IR writer: input %q has no shape", in.GetName())
		}
		dims := make([]int64, len(in.GetShape()))
		for i, d := range in.GetShape() {
			dims[i] = -1
			if s, ok := d.GetValue().(*potv1.Dim_Size); ok && s.Size > 0 {
				dims[i] = s.Size
			}
		}
		et, err := ElementType(in.GetDtype())
		if err != nil {
			return fmt.Errorf("IR writer: input %q: %w", in.GetName(), err)
		}
		l := w.layer(in.GetName(), "Parameter", "opset1", nil)
		l.SetAttr("shape", FormatShape(dims))
		l.SetAttr("element_type", et)
		v := &val{dims: dims, dt: in.GetDtype()}
		if err := w.output(l, v, in.GetName()); err != nil {
			return err
		}
		w.vals[in.GetName()] = v
	}
	for _, t := range w.g.GetInitializers() {
		if _, ok := w.vals[t.GetName()]; !ok {
			w.vals[t.GetName()] = constVal(t)
		}
	}
	for _, n := range w.g.GetNodes() {
		if err := w.node(n); err != nil {
			return fmt.Errorf("IR writer: node %q (%s): %w", n.GetName(), n.GetOpType(), err)
		}
	}
	for _, o := range w.g.GetOutputs() {
		v, err := w.get(o.GetName())
		if err != nil {
			return fmt.Errorf("IR writer: output %q: %w", o.GetName(), err)
		}
		l := w.layer(o.GetName()+"/sink_port_0", "Result", "opset1", nil)
		w.connect(l, v)
	}
	w.stats.Layers = len(w.net.Layers)
	return nil
}

func constVal(t *potv1.Tensor) *val {
	v := &val{konst: t, dims: append([]int64{}, t.GetDims()...), dt: t.GetDtype()}
	if n := graph.NumElements(t.GetDims()); n <= 64 {
		v.parts = intValues(t)
	}
	return v
}

// intValues returns the elements of a small integer tensor, nil for
// another type.
func intValues(t *potv1.Tensor) []int64 {
	switch t.GetDtype() {
	case potv1.DataType_DATA_TYPE_INT64:
		v, err := graph.Int64s(t)
		if err == nil {
			return v
		}
	case potv1.DataType_DATA_TYPE_INT32:
		d := t.GetData()
		if len(d)%4 == 0 {
			out := make([]int64, len(d)/4)
			for i := range out {
				out[i] = int64(int32(uint32(d[4*i]) | uint32(d[4*i+1])<<8 | uint32(d[4*i+2])<<16 | uint32(d[4*i+3])<<24))
			}
			return out
		}
	}
	return nil
}

// layer adds a layer with a unique name.
func (w *writer) layer(name, typ, version string, attrs [][2]string) *Layer {
	base := name
	for i := 1; w.used[name]; i++ {
		name = base + "_" + strconv.Itoa(i)
	}
	w.used[name] = true
	l := &Layer{ID: len(w.net.Layers), Name: name, Type: typ, Version: version}
	for _, a := range attrs {
		l.SetAttr(a[0], a[1])
	}
	w.net.Layers = append(w.net.Layers, l)
	return l
}

// connect adds an input port to l reading v.
func (w *writer) connect(l *Layer, v *val) {
	prec, _ := Precision(v.dt)
	p := Port{ID: len(l.Input) + len(l.Output), Precision: prec, Dims: dimStrings(v.dims)}
	l.Input = append(l.Input, p)
	w.net.Edges = append(w.net.Edges, Edge{FromLayer: v.layer.ID, FromPort: v.port, ToLayer: l.ID, ToPort: p.ID})
}

// output adds an output port to l for v (setting v's layer and port),
// named by names.
func (w *writer) output(l *Layer, v *val, names ...string) error {
	prec, err := Precision(v.dt)
	if err != nil {
		return err
	}
	if v.dims == nil {
		return fmt.Errorf("output of %s layer %q has an unknown rank", l.Type, l.Name)
	}
	id := len(l.Input) + len(l.Output)
	var ns []string
	for _, n := range names {
		if n != "" {
			ns = append(ns, escapeName(n))
		}
	}
	l.Output = append(l.Output, Port{ID: id, Precision: prec, Names: strings.Join(ns, ","), Dims: dimStrings(v.dims)})
	v.layer, v.port = l, id
	return nil
}

// escapeName escapes the commas of a tensor name, which separate names in
// a port's names attribute (OpenVINO escapes them with a backslash).
func escapeName(s string) string {
	return strings.ReplaceAll(s, ",", `\,`)
}

func dimStrings(dims []int64) []string {
	out := make([]string, len(dims))
	for i, d := range dims {
		out[i] = strconv.FormatInt(d, 10)
	}
	return out
}

// get returns the value of a tensor, writing the Const layer of a
// constant on first use.
func (w *writer) get(name string) (*val, error) {
	v, ok := w.vals[name]
	if !ok {
		return nil, fmt.Errorf("tensor %q is not defined", name)
	}
	if v.layer == nil {
		if err := w.constLayer(name, v, v.konst.GetDims()); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// constLayer writes the Const layer of a constant value with the given
// shape (the tensor's own or a reshaped one).
func (w *writer) constLayer(name string, v *val, dims []int64) error {
	t := v.konst
	et, err := ElementType(t.GetDtype())
	if err != nil {
		return fmt.Errorf("constant %q: %w", name, err)
	}
	data := t.GetData()
	if want := rawSize(t.GetDtype(), graph.NumElements(t.GetDims())); want >= 0 && int64(len(data)) != want {
		return fmt.Errorf("constant %q: %d data bytes, %v%v needs %d", name, len(data), t.GetDtype(), t.GetDims(), want)
	}
	off := w.blob(data)
	l := w.layer(name, "Const", "opset1", [][2]string{
		{"element_type", et}, {"shape", FormatShape(dims)}, {"offset", strconv.Itoa(off)}, {"size", strconv.Itoa(len(data))},
	})
	v.dims = append([]int64{}, dims...)
	w.stats.Constants++
	return w.output(l, v, name)
}

// newConst writes a Const layer of raw data that no tensor of the graph
// names.
func (w *writer) newConst(name string, dt potv1.DataType, dims []int64, data []byte) (*val, error) {
	v := &val{konst: &potv1.Tensor{Name: name, Dtype: dt, Dims: dims, Data: data}, dt: dt, dims: dims}
	if err := w.constLayer(name, v, dims); err != nil {
		return nil, err
	}
	v.layer.Output[0].Names = ""
	return v, nil
}

func (w *writer) i64Const(name string, dims []int64, v []int64) (*val, error) {
	c, err := w.newConst(name, potv1.DataType_DATA_TYPE_INT64, dims, graph.Int64Tensor("", dims, v).GetData())
	if c != nil {
		c.parts = append([]int64{}, v...)
	}
	return c, err
}

func (w *writer) f32Const(name string, dims []int64, v []float32) (*val, error) {
	return w.newConst(name, potv1.DataType_DATA_TYPE_FLOAT, dims, graph.FloatTensor("", dims, v).GetData())
}

// blob stores data in the .bin, once for equal contents (as OpenVINO's
// serializer does), and returns its offset. Constants follow each other
// without padding, as OpenVINO writes them.
func (w *writer) blob(data []byte) int {
	h := sha256.Sum256(data)
	for _, b := range w.blobs[h] {
		if bytes.Equal(b.data, data) {
			return b.offset
		}
	}
	off := w.bin.Len()
	w.bin.Write(data)
	w.blobs[h] = append(w.blobs[h], blob{data: w.bin.Bytes()[off:], offset: off})
	return off
}

// rawSize is the number of data bytes of n elements of dt, -1 when
// unknown.
func rawSize(dt potv1.DataType, n int64) int64 {
	switch dt {
	case potv1.DataType_DATA_TYPE_FLOAT, potv1.DataType_DATA_TYPE_INT32, potv1.DataType_DATA_TYPE_UINT32:
		return 4 * n
	case potv1.DataType_DATA_TYPE_INT64, potv1.DataType_DATA_TYPE_UINT64, potv1.DataType_DATA_TYPE_DOUBLE:
		return 8 * n
	case potv1.DataType_DATA_TYPE_FLOAT16, potv1.DataType_DATA_TYPE_BFLOAT16, potv1.DataType_DATA_TYPE_INT16, potv1.DataType_DATA_TYPE_UINT16:
		return 2 * n
	case potv1.DataType_DATA_TYPE_INT8, potv1.DataType_DATA_TYPE_UINT8, potv1.DataType_DATA_TYPE_BOOL:
		return n
	case potv1.DataType_DATA_TYPE_INT4, potv1.DataType_DATA_TYPE_UINT4:
		return (n + 1) / 2
	}
	return -1
}

// elementSize is the size in bits of one element of an IR element type.
func elementSize(et string) int {
	switch et {
	case "f64", "i64", "u64":
		return 64
	case "f32", "i32", "u32":
		return 32
	case "f16", "bf16", "i16", "u16":
		return 16
	case "i8", "u8", "boolean":
		return 8
	case "i4", "u4":
		return 4
	}
	return 0
}

// checkSupported lists every node the writer cannot map.
func checkSupported(g *potv1.Graph) error {
	var bad []string
	for _, n := range g.GetNodes() {
		if reason := unsupported(n); reason != "" {
			bad = append(bad, fmt.Sprintf("%s (%s%s)", n.GetName(), opName(n), reason))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("IR writer: %d node(s) with operations it cannot write as OpenVINO IR: %s", len(bad), strings.Join(bad, ", "))
}

func opName(n *potv1.Node) string {
	if graph.IsONNX(n) {
		return n.GetOpType()
	}
	return n.GetDomain() + "." + n.GetOpType()
}

// unsupported says why the writer cannot map n ("" when it can).
func unsupported(n *potv1.Node) string {
	switch {
	case n.GetDomain() == plan.FakeQuantizeDomain && n.GetOpType() == plan.FakeQuantizeOp:
		return ""
	case !graph.IsONNX(n):
		return ": not an ONNX operation"
	case len(graph.Subgraphs(n)) > 0:
		return ": control flow"
	}
	if _, ok := ops[n.GetOpType()]; !ok {
		return ": no OpenVINO mapping"
	}
	return ""
}
