package smoothquant

import (
	"slices"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
)

// builder makes small graphs of [N, T, C] activations.
type builder struct{ g *potv1.Graph }

func newBuilder() *builder {
	return &builder{g: &potv1.Graph{Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs: []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}}}}
}

func (b *builder) init(name string, dims ...int64) string {
	b.g.Initializers = append(b.g.Initializers, graph.FloatTensor(name, dims, make([]float32, graph.NumElements(dims))))
	return name
}

func (b *builder) node(op, name string, in []string, attrs ...*potv1.Attribute) string {
	out := name + ".out"
	b.g.Nodes = append(b.g.Nodes, &potv1.Node{Name: name, OpType: op, Inputs: in, Outputs: []string{out}, Attributes: attrs})
	return out
}

func (b *builder) output(t string) *potv1.Graph {
	b.g.Outputs = append(b.g.Outputs, &potv1.ValueInfo{Name: t, Dtype: potv1.DataType_DATA_TYPE_FLOAT})
	return b.g
}

// layerNorm is LayerNorm's decomposed tail: x·gamma + beta.
func (b *builder) layerNorm(name, x string) string {
	m := b.node("Mul", name+"/Mul", []string{x, b.init(name+".gamma", 4)})
	return b.node("Add", name+"/Add", []string{m, b.init(name+".beta", 4)})
}

func perm(p ...int64) *potv1.Attribute { return graph.IntsAttr("perm", p) }

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		name     string
		build    func(b *builder) *potv1.Graph
		smoothed map[string][]string // layer → folded constants
		skipped  map[string]string   // layer → part of the reason
	}{
		{"decomposed LayerNorm into a MatMul", func(b *builder) *potv1.Graph {
			return b.output(b.node("MatMul", "fc", []string{b.layerNorm("ln", "x"), b.init("w", 4, 8)}))
		}, map[string][]string{"fc": {"ln.beta", "ln.gamma"}}, nil},
		{"through a Transpose that keeps the channels last, beside Shape", func(b *builder) *potv1.Graph {
			tr := b.node("Transpose", "tr", []string{b.layerNorm("ln", "x")}, perm(1, 0, 2))
			b.node("Shape", "shape", []string{tr})
			return b.output(b.node("MatMul", "qkv", []string{tr, b.init("w", 4, 12)}))
		}, map[string][]string{"qkv": {"ln.beta", "ln.gamma"}}, nil},
		{"two layers read the LayerNorm: one s", func(b *builder) *potv1.Graph {
			ln := b.layerNorm("ln", "x")
			b.output(b.node("MatMul", "a", []string{ln, b.init("wa", 4, 8)}))
			return b.output(b.node("Gemm", "b", []string{ln, b.init("wb", 3, 4)}, &potv1.Attribute{Name: "transB", Type: potv1.Attribute_TYPE_INT, I: 1}))
		}, map[string][]string{"a": {"ln.beta", "ln.gamma"}, "b": {"ln.beta", "ln.gamma"}}, nil},
		{"MatMul, bias, Relu, MatMul", func(b *builder) *potv1.Graph {
			h := b.node("MatMul", "fc1", []string{b.layerNorm("ln", "x"), b.init("w1", 4, 4)})
			h = b.node("Add", "fc1/Add", []string{b.init("b1", 4), h})
			h = b.node("Relu", "relu", []string{h})
			return b.output(b.node("MatMul", "fc2", []string{h, b.init("w2", 4, 4)}))
		}, map[string][]string{"fc1": {"ln.beta", "ln.gamma"}, "fc2": {"b1", "w1"}}, nil},
		{"LayerNormalization", func(b *builder) *potv1.Graph {
			ln := b.node("LayerNormalization", "ln", []string{"x", b.init("scale", 4), b.init("bias", 4)})
			return b.output(b.node("MatMul", "fc", []string{ln, b.init("w", 4, 8)}))
		}, map[string][]string{"fc": {"bias", "scale"}}, nil},
		{"the LayerNorm output feeds a residual Add too", func(b *builder) *potv1.Graph {
			ln := b.layerNorm("ln", "x")
			b.output(b.node("Add", "residual", []string{ln, "x"}))
			return b.output(b.node("MatMul", "fc", []string{ln, b.init("w", 4, 8)}))
		}, nil, map[string]string{"fc": "also read by residual"}},
		{"GELU's product of two activations", func(b *builder) *potv1.Graph {
			h := b.node("Mul", "gelu", []string{"x", b.node("Erf", "erf", []string{"x"})})
			return b.output(b.node("MatMul", "fc", []string{h, b.init("w", 4, 8)}))
		}, nil, map[string]string{"fc": "of two activations"}},
		{"a scalar scale", func(b *builder) *potv1.Graph {
			h := b.node("Mul", "scale", []string{"x", b.init("half", 1)})
			return b.output(b.node("MatMul", "fc", []string{h, b.init("w", 4, 8)}))
		}, nil, map[string]string{"fc": "one value per channel"}},
		{"a Transpose that moves the channels", func(b *builder) *potv1.Graph {
			tr := b.node("Transpose", "tr", []string{b.layerNorm("ln", "x")}, perm(0, 2, 1))
			return b.output(b.node("MatMul", "fc", []string{tr, b.init("w", 4, 8)}))
		}, nil, map[string]string{"fc": "produced by Transpose"}},
		{"weights shared by two layers", func(b *builder) *potv1.Graph {
			w := b.init("w", 4, 4)
			h := b.node("MatMul", "fc1", []string{b.layerNorm("ln", "x"), w})
			return b.output(b.node("MatMul", "fc2", []string{b.layerNorm("ln2", h), w}))
		}, nil, map[string]string{"fc1": "read by 2 nodes", "fc2": "read by 2 nodes"}},
		{"a graph input", func(b *builder) *potv1.Graph {
			return b.output(b.node("MatMul", "fc", []string{"x", b.init("w", 4, 8)}))
		}, nil, map[string]string{"fc": "graph input"}},
		{"the smoothed tensor is a graph output", func(b *builder) *potv1.Graph {
			ln := b.layerNorm("ln", "x")
			b.output(ln)
			return b.output(b.node("MatMul", "fc", []string{ln, b.init("w", 4, 8)}))
		}, nil, map[string]string{"fc": "graph output"}},
		{"a 3×3 Conv", func(b *builder) *potv1.Graph {
			return b.output(b.node("Conv", "conv", []string{"x", b.init("w", 8, 4, 3, 3)}))
		}, nil, map[string]string{"conv": "not 1×1"}},
		{"a 1×1 Conv after a Conv and Relu", func(b *builder) *potv1.Graph {
			h := b.node("Conv", "c1", []string{"x", b.init("w1", 4, 1, 3, 3), b.init("b1", 4)})
			h = b.node("Relu", "relu", []string{h})
			return b.output(b.node("Conv", "c2", []string{h, b.init("w2", 8, 4, 1, 1)}))
		}, map[string][]string{"c2": {"b1", "w1"}}, map[string]string{"c1": "not 1×1"}},
		{"a product of two activations", func(b *builder) *potv1.Graph {
			return b.output(b.node("MatMul", "qk", []string{b.layerNorm("ln", "x"), "x"}))
		}, nil, map[string]string{"qk": "not an initializer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			groups, skipped := find(tc.build(newBuilder()))
			got := map[string][]string{}
			for _, gr := range groups {
				var folds []string
				for _, f := range gr.folds {
					if !f.divide {
						t.Errorf("fold %s multiplies", f.tensor)
					}
					folds = append(folds, f.tensor)
				}
				slices.Sort(folds)
				for _, l := range gr.layers {
					got[l.node.GetName()] = folds
				}
			}
			if len(got) != len(tc.smoothed) {
				t.Errorf("smoothed %v, want %v (skipped %v)", got, tc.smoothed, skipped)
			}
			for l, want := range tc.smoothed {
				if !slices.Equal(got[l], want) {
					t.Errorf("layer %s folds into %v, want %v (skipped: %q)", l, got[l], want, skipped[l])
				}
			}
			if len(skipped) != len(tc.skipped) {
				t.Errorf("skipped %v, want %v", skipped, tc.skipped)
			}
			for l, want := range tc.skipped {
				if !strings.Contains(skipped[l], want) {
					t.Errorf("layer %s skipped for %q, want %q", l, skipped[l], want)
				}
			}
		})
	}
}

// TestFindViT: in the ViT every query-key-value projection, first
// feed-forward layer and the head are smoothed into their LayerNorm;
// the second feed-forward layers (after GELU), the attention's output
// projections (after a Reshape of an activation product) and the
// products of two activations are skipped, with their reasons.
func TestFindViT(t *testing.T) {
	g, err := onnx.ReadGraph("../../examples/models/vit_fmnist.onnx")
	if err != nil {
		t.Fatal(err)
	}
	groups, skipped := find(g)
	var layers []string
	for _, gr := range groups {
		if len(gr.layers) != 1 || len(gr.folds) != 2 || !strings.Contains(gr.producer, "norm") {
			t.Errorf("group %s: %d layers, folds %v, producer %s", gr.source, len(gr.layers), gr.folds, gr.producer)
		}
		layers = append(layers, gr.layers[0].node.GetName())
	}
	want := []string{"/enc/layers.0/self_attn/MatMul", "/enc/layers.0/linear1/MatMul", "/enc/layers.1/self_attn/MatMul",
		"/enc/layers.1/linear1/MatMul", "/enc/layers.2/self_attn/MatMul", "/enc/layers.2/linear1/MatMul", "/head/Gemm"}
	if !slices.Equal(layers, want) {
		t.Errorf("smoothed %v, want %v", layers, want)
	}
	for _, l := range []string{"/enc/layers.1/linear2/MatMul", "/enc/layers.1/self_attn/Gemm", "/enc/layers.1/self_attn/MatMul_1", "/patch/Conv"} {
		if skipped[l] == "" {
			t.Errorf("%s is not reported as skipped", l)
		}
	}
}

func TestScales(t *testing.T) {
	act := []float64{8, 1, 0, 2}
	w := []float64{2, 1, 3, 0}
	for _, tc := range []struct {
		alpha float64
		want  []float64
	}{
		{0.5, []float64{2, 1, 1, 1}},
		{1, []float64{8, 1, 1, 1}},
		{0, []float64{0.5, 1, 1, 1}},
	} {
		s := scales(act, w, tc.alpha)
		for j := range s {
			if d := s[j] - tc.want[j]; d > 1e-12 || d < -1e-12 {
				t.Errorf("α %g: s %v, want %v", tc.alpha, s, tc.want)
				break
			}
		}
	}
	if r := outlierRatio([]float64{1, 2, 3, 12}); r != 12/2.5 {
		t.Errorf("outlier ratio %g, want %g", r, 12/2.5)
	}
}

// TestScaleAlong: multiplying by s along an axis and dividing again is
// the identity, and the per-axis maxima scale by s.
func TestScaleAlong(t *testing.T) {
	d := []int64{2, 3, 2}
	v := []float32{1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12}
	s := []float64{2, 0.5, 4}
	m := axisAbsMax(v, d, 1)
	up := scaleAlong(v, d, 1, s, false)
	mu := axisAbsMax(up, d, 1)
	for j := range s {
		if mu[j] != m[j]*s[j] {
			t.Errorf("channel %d: max %g, want %g", j, mu[j], m[j]*s[j])
		}
	}
	back := scaleAlong(up, d, 1, s, true)
	if !slices.Equal(back, v) {
		t.Errorf("round trip %v, want %v", back, v)
	}
}
