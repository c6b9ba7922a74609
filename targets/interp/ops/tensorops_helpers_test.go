package ops

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Helpers of the shape, movement and quantization operator tests.

type potv1Attr = potv1.Attribute

var aInt = graph.IntAttr

func aInts(name string, v ...int64) *potv1.Attribute { return graph.IntsAttr(name, v) }

var aFloat = graph.FloatAttr

var aString = graph.StringAttr

// opCall describes one operator invocation in a test.
type opCall struct {
	domain string
	op     string
	opset  int64
	attrs  []*potv1.Attribute
	nout   int
	// consts marks inputs the factory sees as constants.
	consts  []bool
	threads int
	// rounding of quantizers (Node.Rounding).
	rounding Rounding
}

// run builds the node's kernel and runs it on in (nil entries are
// omitted inputs).
func (c opCall) run(in ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	p := &potv1.Node{Name: "n", OpType: c.op, Domain: c.domain, Attributes: c.attrs}
	consts := make([]*tensor.Tensor, len(in))
	for i, t := range in {
		name := ""
		if t != nil {
			name = fmt.Sprintf("in%d", i)
		}
		p.Inputs = append(p.Inputs, name)
		if i < len(c.consts) && c.consts[i] {
			consts[i] = t
		}
	}
	nout := max(c.nout, 1)
	for i := range nout {
		p.Outputs = append(p.Outputs, fmt.Sprintf("out%d", i))
	}
	f, ok := Lookup(c.domain, c.op, c.opset)
	if !ok {
		return nil, fmt.Errorf("%s not registered at opset %d", c.op, c.opset)
	}
	node := NewNode(p, c.opset, consts)
	node.Rounding = c.rounding
	node.InputTypes = make([]tensor.DType, len(in))
	for i, t := range in {
		if t != nil {
			node.InputTypes[i] = t.DType
		}
	}
	k, err := f(node)
	if err != nil {
		return nil, err
	}
	ctx := NewContext(max(c.threads, 1))
	defer ctx.Close()
	out := make([]*tensor.Tensor, nout)
	for i := range out {
		out[i] = &tensor.Tensor{}
	}
	if err := k.Run(ctx, in, out); err != nil {
		return nil, err
	}
	return out, nil
}

// mustRun is run failing the test on error.
func (c opCall) mustRun(t *testing.T, in ...*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	out, err := c.run(in...)
	if err != nil {
		t.Fatalf("%s: %v", c.op, err)
	}
	return out
}

func onnxOp(op string, opset int64, attrs ...*potv1.Attribute) opCall {
	return opCall{op: op, opset: opset, attrs: attrs}
}

func i64s(shape []int, v ...int64) *tensor.Tensor { return tensor.From(shape, v) }

func f32s(shape []int, v ...float32) *tensor.Tensor { return tensor.From(shape, v) }

// iota64 returns 0, 1, ... in a tensor of the given shape.
func iota64(shape ...int) *tensor.Tensor {
	v := make([]int64, tensor.NumElements(shape))
	for i := range v {
		v[i] = int64(i)
	}
	return tensor.From(shape, v)
}

// checkTensor compares shape and values (as float64, or strings) exactly.
func checkTensor(t *testing.T, what string, got *tensor.Tensor, shape []int, want any) {
	t.Helper()
	if !slices.Equal(got.Shape, shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, shape)
	}
	switch w := want.(type) {
	case []string:
		g := got.Data.([]string)
		for i := range w {
			if g[i] != w[i] {
				t.Fatalf("%s: %q, want %q", what, g, w)
			}
		}
		return
	case []float64:
		g, err := got.Float64s()
		if err != nil {
			t.Fatal(err)
		}
		if len(g) != len(w) {
			t.Fatalf("%s: %d values, want %d", what, len(g), len(w))
		}
		for i := range w {
			if g[i] != w[i] && !(math.IsNaN(g[i]) && math.IsNaN(w[i])) {
				t.Fatalf("%s: %v, want %v", what, g, w)
			}
		}
	default:
		t.Fatalf("checkTensor: unexpected %T", want)
	}
}

func floats(v ...float64) []float64 { return v }

func aFloats(name string, v ...float32) *potv1.Attribute { return graph.FloatsAttr(name, v) }
