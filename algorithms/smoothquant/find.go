package smoothquant

import (
	"fmt"
	"strings"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// scaled is a constant scaled along one of its axes: multiplied by s
// (a layer's weights, along their input channels) or divided by it (the
// producer's per-channel constants, along its output channels).
type scaled struct {
	tensor string
	axis   int
	divide bool
}

// layer is a MatMul, Gemm or 1×1 Conv that reads the smoothed tensor.
type layer struct {
	node   *potv1.Node
	weight scaled
	// rows is the weights as [in channels, out channels] for the α
	// search: transposed when the weights hold input channels on axis 1.
	inAxis int
}

// group is a tensor whose channels are smoothed, the layers that read
// it (one s for all), and the constants of its producer that 1/s folds
// into.
type group struct {
	source   string // the tensor whose channels s divides
	channels int
	// channelLast: the layers read channels on the last axis (MatMul,
	// Gemm); otherwise on axis 1 (Conv).
	channelLast bool
	layers      []layer
	folds       []scaled
	producer    string // the producer's description for the report
}

// find returns the groups of g that can be smoothed and, by layer, why
// the others cannot.
func find(g *potv1.Graph) ([]*group, map[string]string) {
	x := graph.NewIndex(g)
	skipped := map[string]string{}
	bySource := map[string]*group{}
	var order []string
	for _, n := range x.Nodes() {
		if x.InSubgraph(n.GetName()) {
			if isLayerOp(n.GetOpType()) {
				skipped[n.GetName()] = "inside a subgraph (If, Loop or Scan body)"
			}
			continue
		}
		if !isLayerOp(n.GetOpType()) {
			continue
		}
		l, channelLast, c, reason := asLayer(x, n)
		if reason != "" {
			skipped[n.GetName()] = reason
			continue
		}
		src := n.GetInputs()[0]
		if channelLast {
			for {
				p := x.Producer(src)
				if p == nil || !keepsLastAxis(p) {
					break
				}
				src = p.GetInputs()[0]
			}
		}
		gr, ok := bySource[src]
		if !ok {
			gr = &group{source: src, channels: c, channelLast: channelLast}
			bySource[src] = gr
			order = append(order, src)
		}
		if gr.channels != c || gr.channelLast != channelLast {
			gr.channels = -1 // readers disagree on the channels
		}
		gr.layers = append(gr.layers, l)
	}
	var groups []*group
	for _, src := range order {
		gr := bySource[src]
		reason := ""
		if gr.channels < 0 {
			reason = fmt.Sprintf("the layers that read %s disagree on its channels", src)
		}
		if reason == "" {
			reason = checkReaders(x, gr)
		}
		if reason == "" {
			gr.folds, gr.producer, reason = producerFolds(x, src, gr.channels, gr.channelLast)
		}
		if reason != "" {
			for _, l := range gr.layers {
				skipped[l.node.GetName()] = reason
			}
			continue
		}
		groups = append(groups, gr)
	}
	return groups, skipped
}

func isLayerOp(op string) bool { return op == "MatMul" || op == "Gemm" || op == "Conv" }

// asLayer checks that n is a layer with constant weights SmoothQuant can
// scale, and returns the weights' input-channel axis, whether the input
// holds its channels last, and their number.
func asLayer(x *graph.Index, n *potv1.Node) (l layer, channelLast bool, channels int, reason string) {
	in := n.GetInputs()
	if len(in) < 2 {
		return l, false, 0, "has no weights input"
	}
	w := x.Initializer(in[1])
	if w == nil {
		return l, false, 0, fmt.Sprintf("input 1 (%s) is not an initializer: a product of two activations has no weights to scale", in[1])
	}
	if w.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT {
		return l, false, 0, fmt.Sprintf("weights %s are %s, not float", in[1], w.GetDtype())
	}
	if r := soleReader(x, in[1]); r != "" {
		return l, false, 0, r
	}
	d := w.GetDims()
	l.node = n
	switch n.GetOpType() {
	case "MatMul":
		if len(d) != 2 {
			return l, false, 0, fmt.Sprintf("weights of rank %d, not a matrix", len(d))
		}
		l.weight, l.inAxis = scaled{tensor: in[1], axis: 0}, 0
		return l, true, int(d[0]), ""
	case "Gemm":
		if graph.AttrInt(n, "transA", 0) != 0 {
			return l, false, 0, "Gemm with transA reads its input channels on axis 0"
		}
		if len(d) != 2 {
			return l, false, 0, fmt.Sprintf("weights of rank %d, not a matrix", len(d))
		}
		a := 0
		if graph.AttrInt(n, "transB", 0) != 0 {
			a = 1
		}
		l.weight, l.inAxis = scaled{tensor: in[1], axis: a}, a
		return l, true, int(d[a]), ""
	default: // Conv
		if graph.AttrInt(n, "group", 1) != 1 {
			return l, false, 0, "grouped Conv: its input channels do not all meet every weight row"
		}
		if len(d) < 3 {
			return l, false, 0, fmt.Sprintf("Conv weights of rank %d", len(d))
		}
		for _, k := range d[2:] {
			if k != 1 {
				return l, false, 0, fmt.Sprintf("Conv kernel %v is not 1×1: SmoothQuant smooths linear layers (MatMul, Gemm, 1×1 Conv)", d[2:])
			}
		}
		l.weight, l.inAxis = scaled{tensor: in[1], axis: 1}, 1
		return l, false, int(d[1]), ""
	}
}

// keepsLastAxis reports whether n is a Transpose that keeps the last
// axis last (a view that moves no channel).
func keepsLastAxis(n *potv1.Node) bool {
	if n.GetOpType() != "Transpose" {
		return false
	}
	perm := graph.AttrInts(n, "perm", nil)
	return len(perm) > 0 && perm[len(perm)-1] == int64(len(perm)-1)
}

// checkReaders makes sure every reader of the group's source (through
// views) is one of its layers, or reads only the shape.
func checkReaders(x *graph.Index, gr *group) string {
	mine := map[string]bool{}
	for _, l := range gr.layers {
		mine[l.node.GetName()] = true
	}
	var walk func(t string) string
	walk = func(t string) string {
		if x.IsGraphOutput(t) {
			return fmt.Sprintf("%s is a graph output: scaling it would change the model's output", t)
		}
		for _, p := range x.Consumers(t) {
			op := p.Node.GetOpType()
			switch {
			case op == "Shape" || op == "Size":
			case mine[p.Node.GetName()] && p.Input == 0:
			case gr.channelLast && keepsLastAxis(p.Node):
				if r := walk(p.Node.GetOutputs()[0]); r != "" {
					return r
				}
			default:
				return fmt.Sprintf("%s is also read by %s (%s), which would see the scaled values", gr.source, p.Node.GetName(), op)
			}
		}
		return ""
	}
	return walk(gr.source)
}

// soleReader returns why constant t cannot be rescaled for one node:
// another node reads it too.
func soleReader(x *graph.Index, t string) string {
	if n := len(x.Consumers(t)); n != 1 {
		return fmt.Sprintf("constant %s is read by %d nodes: scaling it for one would change the others", t, n)
	}
	if x.IsGraphInput(t) {
		return fmt.Sprintf("constant %s is also a graph input", t)
	}
	return ""
}

// perChannel reports whether constant t holds one value per channel of a
// tensor whose channels are last (or on axis 1 of a 4-D, when not
// channelLast), and on which of its axes.
func perChannel(x *graph.Index, t string, c int, channelLast bool) (int, string) {
	w := x.Initializer(t)
	if w == nil {
		return 0, fmt.Sprintf("%s is not an initializer", t)
	}
	if w.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT {
		return 0, fmt.Sprintf("%s is %s, not float", t, w.GetDtype())
	}
	d := w.GetDims()
	if graph.NumElements(d) != int64(c) {
		return 0, fmt.Sprintf("%s of shape %v does not hold one value per channel (%d): a shared constant cannot be scaled per channel", t, d, c)
	}
	if channelLast {
		if len(d) == 0 || d[len(d)-1] != int64(c) {
			return 0, fmt.Sprintf("%s of shape %v does not hold the channels on its last axis", t, d)
		}
		return len(d) - 1, soleReader(x, t)
	}
	// NCHW: [C, 1, 1] or [1, C, 1, 1] broadcast on axis 1.
	switch {
	case len(d) == 3 && d[0] == int64(c):
		return 0, soleReader(x, t)
	case len(d) == 4 && d[1] == int64(c):
		return 1, soleReader(x, t)
	case len(d) == 1 && c == 1:
		return 0, soleReader(x, t)
	}
	return 0, fmt.Sprintf("%s of shape %v does not hold the channels on axis 1 of the Conv input", t, d)
}

// producerFolds finds the constants of the producer of t that 1/s folds
// into, so that t comes out divided by s per channel.
func producerFolds(x *graph.Index, t string, c int, channelLast bool) ([]scaled, string, string) {
	var folds []scaled
	var chain []string
	for {
		n := x.Producer(t)
		if n == nil {
			return nil, "", fmt.Sprintf("%s is a graph input or constant: nothing produces it to fold 1/s into", t)
		}
		if x.InSubgraph(n.GetName()) {
			return nil, "", fmt.Sprintf("%s is produced inside a subgraph", t)
		}
		chain = append(chain, n.GetOpType()+" "+n.GetName())
		desc := strings.Join(chain, " ← ")
		in := n.GetInputs()
		switch op := n.GetOpType(); op {
		case "Mul", "Add":
			if len(in) != 2 {
				return nil, "", fmt.Sprintf("%s %s has %d inputs", op, n.GetName(), len(in))
			}
			ci, other := -1, ""
			for i, s := range in[:2] {
				if x.Initializer(s) != nil {
					ci, other = i, in[1-i]
				}
			}
			if ci < 0 || x.Initializer(other) != nil {
				return nil, "", fmt.Sprintf("%s is produced by %s %s of two activations: no constant to fold 1/s into", t, op, n.GetName())
			}
			ax, r := perChannel(x, in[ci], c, channelLast)
			if r != "" {
				return nil, "", fmt.Sprintf("%s is produced by %s %s: %s", t, op, n.GetName(), r)
			}
			folds = append(folds, scaled{tensor: in[ci], axis: ax, divide: true})
			if op == "Mul" {
				return folds, desc, ""
			}
			// (y + b)/s = y/s + b/s: y must come out divided too.
			if r := internal(x, other); r != "" {
				return nil, "", r
			}
			t = other
		case "Relu":
			// Relu(y)/s = Relu(y/s) for s > 0.
			if r := internal(x, in[0]); r != "" {
				return nil, "", r
			}
			t = in[0]
		case "LayerNormalization":
			if !channelLast {
				return nil, "", fmt.Sprintf("%s is produced by LayerNormalization %s, but its readers take channels on axis 1", t, n.GetName())
			}
			if a := graph.AttrInt(n, "axis", -1); a != -1 {
				return nil, "", fmt.Sprintf("LayerNormalization %s normalizes from axis %d, not the channels alone", n.GetName(), a)
			}
			for _, s := range in[1:] {
				if s == "" {
					continue
				}
				ax, r := perChannel(x, s, c, true)
				if r != "" {
					return nil, "", fmt.Sprintf("LayerNormalization %s: %s", n.GetName(), r)
				}
				folds = append(folds, scaled{tensor: s, axis: ax, divide: true})
			}
			return folds, desc, ""
		case "MatMul", "Gemm", "Conv":
			fs, r := linearFolds(x, n, c, channelLast)
			if r != "" {
				return nil, "", fmt.Sprintf("%s is produced by %s %s: %s", t, op, n.GetName(), r)
			}
			return append(folds, fs...), desc, ""
		default:
			return nil, "", fmt.Sprintf("%s is produced by %s %s, which has no per-channel constant to fold 1/s into", t, op, n.GetName())
		}
	}
}

// internal returns why t, an intermediate tensor of the producer chain,
// cannot be scaled: another node reads it, or it is an output.
func internal(x *graph.Index, t string) string {
	if x.IsGraphOutput(t) {
		return fmt.Sprintf("%s is a graph output", t)
	}
	if n := len(x.Consumers(t)); n != 1 {
		return fmt.Sprintf("%s is read by %d nodes, which would see the scaled values", t, n)
	}
	return ""
}

// linearFolds are the output-channel weights and bias of a MatMul, Gemm
// or Conv producer.
func linearFolds(x *graph.Index, n *potv1.Node, c int, channelLast bool) ([]scaled, string) {
	in := n.GetInputs()
	if len(in) < 2 || x.Initializer(in[1]) == nil {
		return nil, "its weights are not an initializer"
	}
	if r := soleReader(x, in[1]); r != "" {
		return nil, r
	}
	d := x.Initializer(in[1]).GetDims()
	var out scaled
	switch n.GetOpType() {
	case "MatMul":
		if !channelLast || len(d) != 2 {
			return nil, fmt.Sprintf("weights of shape %v", d)
		}
		out = scaled{tensor: in[1], axis: 1, divide: true}
	case "Gemm":
		if !channelLast || len(d) != 2 {
			return nil, fmt.Sprintf("weights of shape %v", d)
		}
		a := 1
		if graph.AttrInt(n, "transB", 0) != 0 {
			a = 0
		}
		out = scaled{tensor: in[1], axis: a, divide: true}
	default:
		if channelLast || len(d) < 3 {
			return nil, fmt.Sprintf("weights of shape %v", d)
		}
		out = scaled{tensor: in[1], axis: 0, divide: true}
	}
	if int(d[out.axis]) != c {
		return nil, fmt.Sprintf("%d output channels, %d read", d[out.axis], c)
	}
	folds := []scaled{out}
	if len(in) > 2 && in[2] != "" {
		b := x.Initializer(in[2])
		if b == nil {
			return nil, "its bias is not an initializer"
		}
		if graph.NumElements(b.GetDims()) != int64(c) || len(b.GetDims()) != 1 {
			return nil, fmt.Sprintf("bias of shape %v is not per channel", b.GetDims())
		}
		if r := soleReader(x, in[2]); r != "" {
			return nil, r
		}
		folds = append(folds, scaled{tensor: in[2], axis: 0, divide: true})
	}
	return folds, ""
}
