package plugintest

import (
	"math"
	"math/rand/v2"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
)

// Reference is a small graph whose every tensor the kit computes itself:
//
//	mm     = X · W          X: [N, 4], W: [4, 3]
//	biased = mm + B         B: [3]
//	out    = Relu(biased)
type Reference struct {
	Graph *potv1.Graph
	Data  *sdk.Dataset
	// X, W, B are the inputs and weights; Values holds, per tensor name
	// ("X", "mm", "biased", "out"), the row-major values of all samples.
	X      []float32
	W, B   []float32
	N      int
	Values map[string][]float64
}

// Channels of each tensor of the reference model.
func (r *Reference) Channels(tensor string) int {
	if tensor == "X" {
		return 4
	}
	return 3
}

// ReferenceModel builds the reference graph with n samples from a fixed
// seed.
func ReferenceModel(n int) *Reference {
	rng := rand.New(rand.NewPCG(7, 11))
	r := &Reference{N: n, Values: map[string][]float64{}}
	r.X = randn(rng, n*4, 1)
	r.W = randn(rng, 12, 0.7)
	r.B = []float32{0.25, -0.5, 0.1}
	g := &potv1.Graph{
		Name:      "plugintest-reference",
		IrVersion: 8,
		Opsets:    []*potv1.OpsetImport{{Version: 13}},
		Inputs:    []*potv1.ValueInfo{valueInfo("X", -1, 4)},
		Outputs:   []*potv1.ValueInfo{valueInfo("out", -1, 3)},
		Initializers: []*potv1.Tensor{
			floatTensor("W", []int64{4, 3}, r.W),
			floatTensor("B", []int64{3}, r.B),
		},
		Nodes: []*potv1.Node{
			{Name: "matmul", OpType: "MatMul", Inputs: []string{"X", "W"}, Outputs: []string{"mm"}},
			{Name: "add", OpType: "Add", Inputs: []string{"mm", "B"}, Outputs: []string{"biased"}},
			{Name: "relu", OpType: "Relu", Inputs: []string{"biased"}, Outputs: []string{"out"}},
		},
	}
	r.Graph = g
	r.Data = &sdk.Dataset{Name: "plugintest-reference", Inputs: []string{"X"},
		Tensors: []*potv1.Tensor{floatTensor("X", []int64{int64(n), 4}, r.X)}}
	for i := 0; i < n; i++ {
		for j := 0; j < 4; j++ {
			r.Values["X"] = append(r.Values["X"], float64(r.X[i*4+j]))
		}
		for c := 0; c < 3; c++ {
			var s float64
			for k := 0; k < 4; k++ {
				s += float64(r.X[i*4+k]) * float64(r.W[k*3+c])
			}
			b := s + float64(r.B[c])
			r.Values["mm"] = append(r.Values["mm"], s)
			r.Values["biased"] = append(r.Values["biased"], b)
			r.Values["out"] = append(r.Values["out"], math.Max(b, 0))
		}
	}
	return r
}

// CNNModel is a small convolutional classifier (Conv 3x3 → Relu → Flatten
// → Gemm, input [N, 1, 8, 8], 10 classes) with seeded weights, and n
// samples of seeded data: a model every quantization algorithm has
// something to do on.
func CNNModel(n int) (*potv1.Graph, *sdk.Dataset) {
	rng := rand.New(rand.NewPCG(3, 5))
	g := &potv1.Graph{
		Name:      "plugintest-cnn",
		IrVersion: 8,
		Opsets:    []*potv1.OpsetImport{{Version: 13}},
		Inputs:    []*potv1.ValueInfo{valueInfo("input", -1, 1, 8, 8)},
		Outputs:   []*potv1.ValueInfo{valueInfo("logits", -1, 10)},
		Initializers: []*potv1.Tensor{
			floatTensor("conv.w", []int64{4, 1, 3, 3}, randn(rng, 36, 0.5)),
			floatTensor("conv.b", []int64{4}, randn(rng, 4, 0.1)),
			floatTensor("fc.w", []int64{10, 256}, randn(rng, 2560, 0.1)),
			floatTensor("fc.b", []int64{10}, randn(rng, 10, 0.1)),
		},
		Nodes: []*potv1.Node{
			{Name: "conv", OpType: "Conv", Inputs: []string{"input", "conv.w", "conv.b"}, Outputs: []string{"conv.out"},
				Attributes: []*potv1.Attribute{ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1)}},
			{Name: "relu", OpType: "Relu", Inputs: []string{"conv.out"}, Outputs: []string{"relu.out"}},
			{Name: "flatten", OpType: "Flatten", Inputs: []string{"relu.out"}, Outputs: []string{"flat"},
				Attributes: []*potv1.Attribute{{Name: "axis", Type: potv1.Attribute_TYPE_INT, I: 1}}},
			{Name: "fc", OpType: "Gemm", Inputs: []string{"flat", "fc.w", "fc.b"}, Outputs: []string{"logits"},
				Attributes: []*potv1.Attribute{{Name: "transB", Type: potv1.Attribute_TYPE_INT, I: 1}}},
		},
	}
	d := &sdk.Dataset{Name: "plugintest-cnn", Inputs: []string{"input"},
		Tensors: []*potv1.Tensor{floatTensor("input", []int64{int64(n), 1, 8, 8}, randn(rng, n*64, 1))}}
	return g, d
}

// heavyModel is a stack of 256x256 MatMul+Relu layers and n samples: a
// workload long enough to be cancelled.
func heavyModel(n, layers int) (*potv1.Graph, *sdk.Dataset) {
	rng := rand.New(rand.NewPCG(13, 17))
	g := &potv1.Graph{Name: "plugintest-heavy", IrVersion: 8, Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs: []*potv1.ValueInfo{valueInfo("x", -1, 256)}}
	prev := "x"
	for i := 0; i < layers; i++ {
		w := "w" + string(rune('a'+i))
		mm, out := "mm"+string(rune('a'+i)), "h"+string(rune('a'+i))
		g.Initializers = append(g.Initializers, floatTensor(w, []int64{256, 256}, randn(rng, 256*256, 0.06)))
		g.Nodes = append(g.Nodes,
			&potv1.Node{Name: "matmul_" + w, OpType: "MatMul", Inputs: []string{prev, w}, Outputs: []string{mm}},
			&potv1.Node{Name: "relu_" + w, OpType: "Relu", Inputs: []string{mm}, Outputs: []string{out}})
		prev = out
	}
	g.Outputs = []*potv1.ValueInfo{valueInfo(prev, -1, 256)}
	d := &sdk.Dataset{Name: "plugintest-heavy", Inputs: []string{"x"},
		Tensors: []*potv1.Tensor{floatTensor("x", []int64{int64(n), 256}, randn(rng, n*256, 1))}}
	return g, d
}

func randn(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * scale)
	}
	return v
}

// valueInfo describes a float tensor; -1 is a symbolic batch dimension.
func valueInfo(name string, dims ...int64) *potv1.ValueInfo {
	vi := &potv1.ValueInfo{Name: name, Dtype: potv1.DataType_DATA_TYPE_FLOAT, HasShape: true}
	for _, d := range dims {
		if d < 0 {
			vi.Shape = append(vi.Shape, &potv1.Dim{Value: &potv1.Dim_Param{Param: "N"}})
		} else {
			vi.Shape = append(vi.Shape, &potv1.Dim{Value: &potv1.Dim_Size{Size: d}})
		}
	}
	return vi
}

var floatTensor = graph.FloatTensor

func ints(name string, v ...int64) *potv1.Attribute { return graph.IntsAttr(name, v) }
