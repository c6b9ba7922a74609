package qdq

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/potgo/pot/internal/filemap"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// Stats counts what Export wrote.
type Stats struct {
	Activations int
	Weights     int
	Biases      int
	// FoldedWeights are weights stored as fake-quantized float because the
	// opset cannot express their quantizer (per-axis before opset 13).
	FoldedWeights int
	// Omitted quantizers are finer than float32 (GNA's 32-bit ones): they
	// change no value.
	Omitted int
}

// Export returns a copy of g with the plan written as QDQ. Quantizers of
// nodes the plan keeps in float are left out.
//
// Quantizers of subgraphs (If branches, Loop and Scan bodies) are written
// there: the QuantizeLinear/DequantizeLinear pairs in the graph of their
// location, the integer weights and biases, with their DequantizeLinear,
// in the graph of the layer that reads them (subgraphs read the float
// weights of enclosing graphs; the integer copies sit beside the layer).
//
// Integer weights are rounded half to even unless WithRounding says
// otherwise.
func Export(g *potv1.Graph, p *potv1.QuantizationPlan, opts ...Option) (*potv1.Graph, *Stats, error) {
	opset := graph.Opset(g)
	if opset < 10 {
		return nil, nil, fmt.Errorf("QDQ export needs opset 10 or later, the model has %d", opset)
	}
	applied, err := plan.Apply(g, &potv1.QuantizationPlan{TensorUpdates: p.GetTensorUpdates()})
	if err != nil {
		return nil, nil, err
	}
	out := applied.Graph
	x := graph.NewIndex(out)
	float := plan.FloatNodes(p)
	e := &exporter{g: out, x: x, opset: opset, names: graph.NewNamer(out), stats: &Stats{}, actScale: map[graph.Port]float32{},
		wScale: map[graph.Port][]float32{}, domains: map[string]bool{}, added: map[*potv1.Graph][]*potv1.Node{}, inits: map[*potv1.Graph][]*potv1.Tensor{}}
	for _, o := range opts {
		o(e)
	}
	for _, q := range p.GetQuantizers() {
		if err := e.quantizer(q, float); err != nil {
			return nil, nil, fmt.Errorf("quantizer %q: %w", q.GetId(), err)
		}
	}
	e.biases()
	for d := range e.domains {
		have := false
		for _, o := range out.Opsets {
			have = have || o.GetDomain() == d
		}
		if !have {
			out.Opsets = append(out.Opsets, &potv1.OpsetImport{Domain: d, Version: 1})
		}
	}
	for _, sg := range graph.Graphs(out) {
		sg.Nodes = append(sg.Nodes, e.added[sg]...)
		sg.Initializers = append(sg.Initializers, e.inits[sg]...)
	}
	// The float weights replaced by integer ones, initializers or
	// Constant nodes.
	graph.RemoveUnusedInitializers(out)
	graph.RemoveUnusedConstants(out)
	if err := graph.Sort(out, nil); err != nil {
		return nil, nil, fmt.Errorf("QDQ graph: %w", err)
	}
	return out, e.stats, nil
}

type exporter struct {
	g     *potv1.Graph
	x     *graph.Index
	opset int64
	names *graph.Namer
	// added and inits are the nodes and initializers to add, per graph.
	added map[*potv1.Graph][]*potv1.Node
	inits map[*potv1.Graph][]*potv1.Tensor
	stats *Stats
	// actScale is the per-tensor scale of the quantized activation read
	// by each node input; wScale the weight scales.
	actScale map[graph.Port]float32
	wScale   map[graph.Port][]float32
	// domains are operator domains the output needs to import.
	domains map[string]bool
	// round rounds a weight divided by its scale to a level (see level);
	// nil rounds half to even.
	round func(float64) float64
}

// scalePreserving operations map values on a quantization grid to values
// on the same grid: a quantizer above them also quantizes their output.
var scalePreserving = map[string]bool{
	"MaxPool": true, "GlobalMaxPool": true, "ReduceMax": true, "Reshape": true, "Flatten": true, "Squeeze": true,
	"Unsqueeze": true, "Transpose": true, "Tile": true, "Slice": true, "Expand": true, "DepthToSpace": true,
	"SpaceToDepth": true, "Identity": true, "Dropout": true,
}

// contribDomain holds ONNX Runtime's QuantizeLinear/DequantizeLinear with
// 16-bit (and 4-bit) types for models older than opset 21.
const contribDomain = "com.microsoft"

// storage is the integer type of a quantizer and the domain of its Q/DQ
// nodes ("" for ONNX's). skip reports a quantizer finer than float32
// itself (more than 24 bits): it changes no value and is left out.
func storage(q *potv1.Quantizer, opset int64) (dt potv1.DataType, domain string, skip bool, err error) {
	lo, hi := q.GetLevelLow(), q.GetLevelHigh()
	switch {
	case hi-lo >= 1<<24:
		return 0, "", true, nil
	case lo >= 0 && hi <= 255:
		if q.GetBits() <= 4 && hi <= 15 && opset >= 21 {
			return potv1.DataType_DATA_TYPE_UINT4, "", false, nil
		}
		return potv1.DataType_DATA_TYPE_UINT8, "", false, nil
	case lo >= -128 && hi <= 127:
		if q.GetBits() <= 4 && lo >= -8 && hi <= 7 && opset >= 21 {
			return potv1.DataType_DATA_TYPE_INT4, "", false, nil
		}
		return potv1.DataType_DATA_TYPE_INT8, "", false, nil
	case lo >= 0 && hi <= 65535:
		if opset >= 21 {
			return potv1.DataType_DATA_TYPE_UINT16, "", false, nil
		}
		return potv1.DataType_DATA_TYPE_UINT16, contribDomain, false, nil
	case lo >= -32768 && hi <= 32767:
		if opset >= 21 {
			return potv1.DataType_DATA_TYPE_INT16, "", false, nil
		}
		return potv1.DataType_DATA_TYPE_INT16, contribDomain, false, nil
	}
	return 0, "", false, fmt.Errorf("integer range [%d, %d] has no QDQ storage type", lo, hi)
}

func (e *exporter) quantizer(q *potv1.Quantizer, float map[string]bool) error {
	if plan.Reverted(q, float) {
		return nil
	}
	pr, err := plan.ParamsOf(q)
	if err != nil {
		return err
	}
	loc := q.GetLocation()
	perAxis := pr.Channels() > 1 || q.GetGranularity() == potv1.Granularity_GRANULARITY_PER_CHANNEL
	dt, domain, skip, err := storage(q, e.opset)
	if err != nil {
		return err
	}
	if skip {
		e.stats.Omitted++
		return nil
	}
	if domain != "" {
		e.domains[domain] = true
	}
	zp := make([]int64, pr.Channels())
	for i, z := range pr.Zero {
		zp[i] = int64(math.Round(float64(z))) + pr.LevelLow
	}
	if q.GetWeights() {
		node := e.x.Node(loc.GetNode())
		if node == nil {
			return fmt.Errorf("no node %q", loc.GetNode())
		}
		return e.weight(q, node, int(loc.GetInput()), pr, dt, domain, zp, perAxis)
	}
	if perAxis && e.opset < 13 {
		return fmt.Errorf("per-channel activation quantizers need opset 13, the model has %d", e.opset)
	}
	src := loc.GetTensor()
	var ports []graph.Port
	var scope *potv1.Graph
	if loc.GetNode() != "" {
		n := e.x.Node(loc.GetNode())
		if n == nil {
			return fmt.Errorf("no node %q", loc.GetNode())
		}
		i := int(loc.GetInput())
		if i >= len(n.GetInputs()) {
			return fmt.Errorf("node %q has no input %d", n.GetName(), i)
		}
		src = n.GetInputs()[i]
		ports = []graph.Port{{Node: n, Input: i}}
		scope = e.x.Scope(n.GetName()).Graph
	} else {
		ports = e.x.Consumers(src)
		scope = e.x.DefiningGraph(src)
	}
	live := ports
	if len(live) == 0 {
		return nil
	}
	for i := range pr.Scale {
		if pr.Scale[i] != pr.OutScale[i] {
			return fmt.Errorf("activation quantizer with different input and output ranges cannot be written as QDQ")
		}
	}
	if scope == nil {
		return fmt.Errorf("no tensor %q in the graph", src)
	}
	scale := e.floatInit(scope, src+"_scale", pr.Scale, perAxis)
	zero := e.intInit(scope, src+"_zero_point", dt, zp, perAxis)
	qOut := e.names.Name(src + "_quantized")
	dqOut := e.names.Name(src + "_dequantized")
	axis := []*potv1.Attribute(nil)
	if perAxis {
		axis = []*potv1.Attribute{graph.IntAttr("axis", int64(q.GetAxis()))}
	}
	e.added[scope] = append(e.added[scope],
		&potv1.Node{Name: e.names.Name(src + "_QuantizeLinear"), OpType: "QuantizeLinear", Domain: domain, Inputs: []string{src, scale, zero}, Outputs: []string{qOut}, Attributes: axis},
		&potv1.Node{Name: e.names.Name(src + "_DequantizeLinear"), OpType: "DequantizeLinear", Domain: domain, Inputs: []string{qOut, scale, zero}, Outputs: []string{dqOut}, Attributes: axis},
	)
	for _, pt := range live {
		pt.Node.Inputs[pt.Input] = dqOut
	}
	// The quantizer may sit above shape-only operations (MaxPool,
	// Flatten, ...) that lead to the operations it quantizes for. Give
	// each of those a DequantizeLinear of its own (a lossless requantize
	// with the same scale and zero point), as runtimes fuse DQ→op only.
	ops := map[string]bool{}
	for _, c := range q.GetConsumers() {
		ops[c] = true
	}
	var walk func(pt graph.Port, direct bool, depth int)
	walk = func(pt graph.Port, direct bool, depth int) {
		n := pt.Node
		if ops[n.GetName()] || len(ops) == 0 {
			if !direct {
				t := n.GetInputs()[pt.Input]
				rq := e.names.Name(t + "_requantized")
				rdq := e.names.Name(t + "_dequantized")
				// Beside the reader, where scale and zero (of the
				// quantizer's graph, an enclosing one) are visible.
				at := e.x.Scope(n.GetName()).Graph
				e.added[at] = append(e.added[at],
					&potv1.Node{Name: e.names.Name(t + "_QuantizeLinear"), OpType: "QuantizeLinear", Domain: domain, Inputs: []string{t, scale, zero}, Outputs: []string{rq}, Attributes: axis},
					&potv1.Node{Name: e.names.Name(t + "_DequantizeLinear"), OpType: "DequantizeLinear", Domain: domain, Inputs: []string{rq, scale, zero}, Outputs: []string{rdq}, Attributes: axis},
				)
				n.Inputs[pt.Input] = rdq
			}
			if !perAxis {
				e.actScale[pt] = pr.Scale[0]
			}
			return
		}
		if !scalePreserving[n.GetOpType()] || pt.Input != 0 || depth > 16 {
			return
		}
		for _, o := range n.GetOutputs() {
			for _, next := range e.x.Consumers(o) {
				walk(next, false, depth+1)
			}
		}
	}
	for _, pt := range live {
		walk(pt, true, 0)
	}
	e.stats.Activations++
	return nil
}

// weight stores a weight as integers behind a DequantizeLinear.
func (e *exporter) weight(q *potv1.Quantizer, n *potv1.Node, input int, pr *plan.Params, dt potv1.DataType, domain string, zp []int64, perAxis bool) error {
	if input >= len(n.GetInputs()) {
		return fmt.Errorf("node %q has no input %d", n.GetName(), input)
	}
	name := n.GetInputs()[input]
	w := e.x.Constant(name)
	if w == nil {
		return fmt.Errorf("weights %q of node %q are not constant", name, n.GetName())
	}
	// The float weights are read in place where their data is aligned
	// (Float32View) and the levels written straight into the storage
	// type: a large model's weights are not copied.
	vals, err := graph.Float32View(w)
	if err != nil {
		return fmt.Errorf("weights of node %q: %w", n.GetName(), err)
	}
	defer filemap.Release(w.GetData())
	dims := w.GetDims()
	count := len(vals)
	axis := int(q.GetAxis())
	channels, inner, outer := 1, count, 1
	if perAxis {
		if axis < 0 || axis >= len(dims) || int(dims[axis]) != pr.Channels() {
			return fmt.Errorf("weights %q dims %v: %d channels on axis %d", name, dims, pr.Channels(), axis)
		}
		channels = pr.Channels()
		inner = 1
		for i := axis + 1; i < len(dims); i++ {
			inner *= int(dims[i])
		}
		outer = count / (channels * inner)
	}
	scope := e.x.Scope(n.GetName()).Graph
	// Per-axis DequantizeLinear needs opset 13: before it, the quantized
	// values are stored as float, which computes the same numbers.
	folded := perAxis && e.opset < 13
	var out *potv1.Tensor // the levels in the storage type,
	var fq []float32      // or, folded, the fake-quantized values
	if folded {
		out, fq = &potv1.Tensor{Name: e.names.Name(name + "_fakequant")}, make([]float32, count)
	} else {
		out = intTensor(e.names.Name(name+"_quantized"), dt, dims, nil, count)
	}
	put := intSetter(dt, out.Data)
	for o := 0; o < outer; o++ {
		for c := 0; c < channels; c++ {
			s, z := pr.Scale[c], pr.Zero[c]
			for k := 0; k < inner; k++ {
				i := (o*channels+c)*inner + k
				lvl := e.level(float64(vals[i]/s)) + float64(z)
				lvl = math.Max(0, math.Min(float64(pr.Levels-1), lvl))
				if folded {
					fq[i] = float32(lvl-float64(z)) * pr.OutScale[c]
				} else {
					put(i, int64(lvl)+pr.LevelLow)
				}
			}
		}
	}
	if folded {
		out = graph.FloatTensor(out.GetName(), dims, fq)
	}
	e.inits[scope] = append(e.inits[scope], out)
	if folded {
		n.Inputs[input] = out.GetName()
		e.stats.FoldedWeights++
		return nil
	}
	qName := out.GetName()
	scale := e.floatInit(scope, name+"_scale", pr.OutScale, perAxis)
	zero := e.intInit(scope, name+"_zero_point", dt, zp, perAxis)
	dqOut := e.names.Name(name + "_dequantized")
	var attrs []*potv1.Attribute
	if perAxis {
		attrs = []*potv1.Attribute{graph.IntAttr("axis", int64(axis))}
	}
	e.added[scope] = append(e.added[scope], &potv1.Node{Name: e.names.Name(name + "_DequantizeLinear"), OpType: "DequantizeLinear", Domain: domain,
		Inputs: []string{qName, scale, zero}, Outputs: []string{dqOut}, Attributes: attrs})
	n.Inputs[input] = dqOut
	symZero := true
	for _, z := range zp {
		symZero = symZero && z == 0
	}
	if symZero {
		if !perAxis {
			e.wScale[graph.Port{Node: n, Input: input}] = []float32{pr.OutScale[0]}
		} else if (n.GetOpType() == "Conv" && axis == 0) || (n.GetOpType() == "Gemm" && axis == 0 && graph.AttrInt(n, "transB", 0) == 1) ||
			(n.GetOpType() == "Gemm" && axis == 1 && graph.AttrInt(n, "transB", 0) == 0) {
			e.wScale[graph.Port{Node: n, Input: input}] = pr.OutScale
		}
	}
	e.stats.Weights++
	return nil
}

// biases stores the float bias of a Conv or Gemm whose activation and
// weights are quantized as int32 with scale s_x·s_w and zero point 0.
func (e *exporter) biases() {
	for _, n := range e.x.Nodes() {
		if n.GetOpType() != "Conv" && n.GetOpType() != "Gemm" || len(n.GetInputs()) < 3 || n.GetInputs()[2] == "" {
			continue
		}
		sx, okx := e.actScale[graph.Port{Node: n, Input: 0}]
		sw, okw := e.wScale[graph.Port{Node: n, Input: 1}]
		if !okx || !okw {
			continue
		}
		b := e.x.Constant(n.GetInputs()[2])
		if b == nil || len(b.GetDims()) != 1 {
			continue
		}
		vals, err := graph.Float32s(b)
		if err != nil || (len(sw) != 1 && len(sw) != len(vals)) {
			continue
		}
		scales := make([]float32, len(vals))
		ints := make([]int64, len(vals))
		ok := true
		for i, v := range vals {
			s := sw[0]
			if len(sw) > 1 {
				s = sw[i]
			}
			scales[i] = sx * s
			r := math.RoundToEven(float64(v / scales[i]))
			if scales[i] == 0 || r > math.MaxInt32 || r < math.MinInt32 {
				ok = false
				break
			}
			ints[i] = int64(r)
		}
		if !ok {
			continue
		}
		name := n.GetInputs()[2]
		scope := e.x.Scope(n.GetName()).Graph
		qName := e.names.Name(name + "_quantized")
		e.inits[scope] = append(e.inits[scope], intTensor(qName, potv1.DataType_DATA_TYPE_INT32, b.GetDims(), ints))
		scale := e.floatInit(scope, name+"_scale", scales, true)
		zero := e.intInit(scope, name+"_zero_point", potv1.DataType_DATA_TYPE_INT32, make([]int64, len(vals)), true)
		out := e.names.Name(name + "_dequantized")
		e.added[scope] = append(e.added[scope], &potv1.Node{Name: e.names.Name(name + "_DequantizeLinear"), OpType: "DequantizeLinear",
			Inputs: []string{qName, scale, zero}, Outputs: []string{out},
			Attributes: []*potv1.Attribute{graph.IntAttr("axis", 0)}})
		n.Inputs[2] = out
		e.stats.Biases++
	}
}

func (e *exporter) floatInit(scope *potv1.Graph, base string, v []float32, perAxis bool) string {
	name := e.names.Name(base)
	dims := []int64{int64(len(v))}
	if !perAxis {
		dims, v = nil, v[:1]
	}
	e.inits[scope] = append(e.inits[scope], graph.FloatTensor(name, dims, v))
	return name
}

func (e *exporter) intInit(scope *potv1.Graph, base string, dt potv1.DataType, v []int64, perAxis bool) string {
	name := e.names.Name(base)
	dims := []int64{int64(len(v))}
	if !perAxis {
		dims, v = nil, v[:1]
	}
	e.inits[scope] = append(e.inits[scope], intTensor(name, dt, dims, v))
	return name
}

// intTensor encodes integers in a storage type: the values v, or count
// zeros when v is nil.
func intTensor(name string, dt potv1.DataType, dims []int64, v []int64, count ...int) *potv1.Tensor {
	t := &potv1.Tensor{Name: name, Dtype: dt, Dims: append([]int64(nil), dims...)}
	n := len(v)
	if v == nil && len(count) > 0 {
		n = count[0]
	}
	switch dt {
	case potv1.DataType_DATA_TYPE_INT8, potv1.DataType_DATA_TYPE_UINT8:
		t.Data = make([]byte, n)
	case potv1.DataType_DATA_TYPE_INT4, potv1.DataType_DATA_TYPE_UINT4:
		t.Data = make([]byte, (n+1)/2)
	case potv1.DataType_DATA_TYPE_INT16, potv1.DataType_DATA_TYPE_UINT16:
		t.Data = make([]byte, 2*n)
	case potv1.DataType_DATA_TYPE_INT32:
		t.Data = make([]byte, 4*n)
	}
	put := intSetter(dt, t.Data)
	for i, x := range v {
		put(i, x)
	}
	return t
}

// intSetter returns a function storing value x at index i of raw data of
// a storage type (4-bit values must be stored starting from zeroed data).
func intSetter(dt potv1.DataType, data []byte) func(i int, x int64) {
	switch dt {
	case potv1.DataType_DATA_TYPE_INT8, potv1.DataType_DATA_TYPE_UINT8:
		return func(i int, x int64) { data[i] = byte(x) }
	case potv1.DataType_DATA_TYPE_INT4, potv1.DataType_DATA_TYPE_UINT4:
		return func(i int, x int64) { data[i/2] |= (byte(x) & 0xf) << (4 * uint(i%2)) }
	case potv1.DataType_DATA_TYPE_INT16, potv1.DataType_DATA_TYPE_UINT16:
		return func(i int, x int64) { binary.LittleEndian.PutUint16(data[2*i:], uint16(x)) }
	case potv1.DataType_DATA_TYPE_INT32:
		return func(i int, x int64) { binary.LittleEndian.PutUint32(data[4*i:], uint32(int32(x))) }
	}
	return func(int, int64) {}
}
