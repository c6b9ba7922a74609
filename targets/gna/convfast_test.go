package gna

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/internal/exampledata"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// convPath is one way to run GnaConv.
type convPath struct {
	name   string
	fast   bool
	direct bool // let the fast path take the direct path where it applies
	tile   func(a, b, offs []int32, out *[convTileM * convTileN]int64)
}

// convPaths are the twin, then the fast path with im2col and direct on
// the kernel's Go twin and on every assembly kernel this CPU runs.
func convPaths() []convPath {
	paths := []convPath{{"twin", false, false, nil}}
	add := func(name string, tile func(a, b, offs []int32, out *[convTileM * convTileN]int64)) {
		paths = append(paths, convPath{name + "-im2col", true, false, tile}, convPath{name + "-direct", true, true, tile})
	}
	add("fast-go", convTileGo)
	if hasConvAVX2 {
		add("fast-avx2", convTileAsmAVX2)
	}
	if hasConvBW {
		add("fast-avx512bw", convTileAsmBW)
	}
	if hasConvVNNI {
		add("fast-avx512vnni", convTileAsmVNNI)
	}
	return paths
}

// runPaths runs k on x along every path and fails unless every output
// equals the twin's bit for bit; it returns the twin's output and
// whether the direct paths took the direct path.
func runPaths(t *testing.T, k *conv, x *tensor.Tensor, threads int) (y []float32, direct bool) {
	t.Helper()
	fast, dir, tile := useFastConv, useDirectConv, convTile
	defer func() { useFastConv, useDirectConv, convTile = fast, dir, tile }()
	g, err := k.geom(x.Shape)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ops.NewContext(threads)
	defer ctx.Close()
	var want []float32
	for _, p := range convPaths() {
		useFastConv, useDirectConv, convTile = p.fast, p.direct, p.tile
		if convTile == nil {
			convTile = tile
		}
		if p.direct {
			direct = k.direct(g)
		}
		y := &tensor.Tensor{}
		if err := k.Run(ctx, []*tensor.Tensor{x}, []*tensor.Tensor{y}); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		got := append([]float32(nil), y.F32()...)
		if want == nil {
			want = got
			continue
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: y[%d] = %g, the twin %g", p.name, i, got[i], want[i])
			}
		}
	}
	return want, direct
}

// newGnaConv builds a GnaConv kernel with constant weights and bias.
func newGnaConv(t testing.TB, a []*potv1.Attribute, w, b *tensor.Tensor) *conv {
	t.Helper()
	f, _ := Registry().Lookup(ops.DomainPot, "GnaConv", 1)
	node := &potv1.Node{Name: "n", OpType: "GnaConv", Domain: ops.DomainPot, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"}, Attributes: a}
	k, err := f(ops.NewNode(node, 1, []*tensor.Tensor{nil, w, b}))
	if err != nil {
		t.Fatal(err)
	}
	return k.(*conv)
}

// The fast path equals the twin bit for bit on random convolutions with
// full-range int16 inputs and weights (sums far beyond int32, so the
// outputs saturate), and falls back to the twin when more taps than an
// accumulator block could saturate midway.
func TestConvFastMatchesTwin(t *testing.T) {
	ints := func(v ...int64) *potv1.Attribute { return &potv1.Attribute{Type: potv1.Attribute_TYPE_INTS, Ints: v} }
	named := func(name string, a *potv1.Attribute) *potv1.Attribute { a.Name = name; return a }
	for _, tc := range []struct {
		name           string
		x, w           []int // input [n c (h) w], weights [m c/g (kh) kw]
		attrs          []*potv1.Attribute
		wMax, xMax     float64 // grid integers drawn in [-max, max], clamped to int16
		bias           float64 // bias magnitude on the accumulator grid
		fast, direct   bool    // packed for the fast path; taking the direct path
		extreme, small bool    // all inputs and weights -32768; tiny values
	}{
		{name: "3x3 pad 1", x: []int{2, 5, 9, 11}, w: []int{7, 5, 3, 3}, attrs: []*potv1.Attribute{named("pads", ints(1, 1, 1, 1))}, wMax: 40000, xMax: 40000, bias: 1e9, fast: true, direct: true},
		{name: "stride dilation groups", x: []int{1, 6, 13, 10}, w: []int{9, 2, 3, 2}, attrs: []*potv1.Attribute{graph.IntAttr("group", 3), named("pads", ints(2, 0, 1, 3)), named("strides", ints(2, 3)), named("dilations", ints(2, 1))}, wMax: 32768, xMax: 32768, bias: 3e6, fast: true},
		{name: "auto_pad SAME_LOWER", x: []int{3, 3, 8, 8}, w: []int{5, 3, 4, 4}, attrs: []*potv1.Attribute{{Name: "auto_pad", Type: potv1.Attribute_TYPE_STRING, S: []byte("SAME_LOWER")}, named("strides", ints(2, 2))}, wMax: 20000, xMax: 33000, fast: true},
		{name: "1-D", x: []int{2, 4, 37}, w: []int{6, 4, 5}, attrs: []*potv1.Attribute{named("pads", ints(3, 1)), named("dilations", ints(2))}, wMax: 32768, xMax: 32768, bias: 1e8, fast: true, direct: true},
		{name: "depthwise", x: []int{2, 8, 7, 7}, w: []int{8, 1, 3, 3}, attrs: []*potv1.Attribute{graph.IntAttr("group", 8), named("pads", ints(1, 1, 1, 1))}, wMax: 32768, xMax: 32768, fast: true},
		{name: "1024 taps", x: []int{1, 64, 6, 6}, w: []int{5, 64, 4, 4}, wMax: 32768, xMax: 32768, bias: 2e9, fast: true, direct: true},
		{name: "-32768 everywhere", x: []int{1, 16, 5, 5}, w: []int{6, 16, 3, 3}, attrs: []*potv1.Attribute{named("pads", ints(1, 1, 1, 1))}, extreme: true, fast: true},
		{name: "-32768 everywhere, direct", x: []int{2, 15, 12, 12}, w: []int{9, 15, 3, 3}, attrs: []*potv1.Attribute{named("pads", ints(1, 1, 1, 1))}, extreme: true, fast: true, direct: true},
		{name: "odd channels, dilations", x: []int{2, 7, 10, 9}, w: []int{5, 7, 3, 2}, attrs: []*potv1.Attribute{named("pads", ints(2, 1, 0, 3)), named("dilations", ints(2, 3))}, wMax: 32768, xMax: 32768, bias: 1e8, fast: true, direct: true},
		{name: "1152 small taps (bound holds)", x: []int{2, 128, 5, 5}, w: []int{6, 128, 3, 3}, attrs: []*potv1.Attribute{named("pads", ints(1, 0, 0, 1))}, wMax: 40, xMax: 40000, bias: 1e5, small: true, fast: true, direct: true},
		{name: "1152 huge taps (fallback)", x: []int{2, 128, 5, 5}, w: []int{6, 128, 3, 3}, attrs: []*potv1.Attribute{named("pads", ints(1, 0, 0, 1))}, wMax: 32768, xMax: 32768, bias: 1e9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(len(tc.name)), 7))
			draw := func(n int, max float64) []float32 {
				v := make([]float32, n)
				for i := range v {
					v[i] = float32(math.Round((rng.Float64()*2 - 1) * max))
					if tc.extreme {
						v[i] = -32768
					}
				}
				return v
			}
			m, cg := tc.w[0], tc.w[1]
			w := tensor.From(tc.w, draw(tensor.NumElements(tc.w), tc.wMax))
			b := tensor.From([]int{m}, draw(m, tc.bias))
			x := tensor.From(tc.x, draw(tensor.NumElements(tc.x), tc.xMax))
			// Grids of step 1 (bias on the grid 1·1) keep the drawn
			// integers; beyond ±32768 they clamp.
			k := newGnaConv(t, attrs(grid("x", Int16Lo, Int16Hi, 1), grid("w", Int16Lo, Int16Hi, 1), tc.attrs), w, b)
			if got := k.pack != nil; got != tc.fast {
				t.Fatalf("fast path packed: %v, want %v (%d taps per channel)", got, tc.fast, cg*tensor.NumElements(tc.w[2:]))
			}
			y, direct := runPaths(t, k, x, 2)
			if direct != tc.direct {
				t.Errorf("direct path taken: %v, want %v", direct, tc.direct)
			}
			sat := 0
			for _, v := range y {
				if s := float64(v); s >= Int32Hi || s <= Int32Lo {
					sat++
				}
			}
			t.Logf("%d outputs, %d saturated", len(y), sat)
			if !tc.small && !tc.fast && sat == 0 {
				t.Errorf("no output saturates: the fallback case does not test saturation")
			}
		})
	}
}

// realConv is one convolution of an example model with the float
// model's activations at its input.
type realConv struct {
	name    string
	node    *potv1.Node
	x, w, b *tensor.Tensor
}

// modelConvs returns the convolutions of model (examples/models) keep
// accepts, with their inputs on images.
func modelConvs(tb testing.TB, model string, images *tensor.Tensor, keep func(n *potv1.Node, w []int64) bool) []realConv {
	tb.Helper()
	m, err := onnx.ReadFile(filepath.Join("..", "..", "examples", "models", model))
	if err != nil {
		tb.Fatal(err)
	}
	g, err := onnx.ToGraph(m)
	if err != nil {
		tb.Fatal(err)
	}
	inits := map[string]*potv1.Tensor{}
	for _, t := range g.GetInitializers() {
		inits[t.GetName()] = t
	}
	var convs []realConv
	var inputs []string
	for _, n := range g.GetNodes() {
		if n.GetOpType() != "Conv" || len(n.GetInputs()) < 3 || !keep(n, inits[n.GetInputs()[1]].GetDims()) {
			continue
		}
		w, err := tensor.FromProto(inits[n.GetInputs()[1]])
		if err != nil {
			tb.Fatal(err)
		}
		b, err := tensor.FromProto(inits[n.GetInputs()[2]])
		if err != nil {
			tb.Fatal(err)
		}
		d := w.Shape
		convs = append(convs, realConv{name: fmt.Sprintf("%s_%s_%dx%dx%dx%d", model, n.GetName(), d[0], d[1], d[2], d[3]), node: n, w: w, b: b})
		inputs = append(inputs, n.GetInputs()[0])
	}
	if len(convs) == 0 {
		tb.Fatalf("%s has no convolution to test", model)
	}
	p, err := interp.Compile(g, interp.Options{Threads: 1})
	if err != nil {
		tb.Fatal(err)
	}
	defer p.Close()
	acts, err := p.Run(context.Background(), map[string]*tensor.Tensor{p.InputNames()[0]: images}, inputs...)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range convs {
		convs[i].x = acts[inputs[i]]
	}
	return convs
}

// The fast path, with im2col and direct, equals the twin bit for bit on
// every convolution of lenet_mnist and resnet_fmnist, on int16 grids
// covering their weights (per output channel) and their inputs on real
// images; each model has convolutions the direct path takes.
func TestConvFastRealLayers(t *testing.T) {
	for _, tc := range []struct {
		model string
		set   exampledata.Set
	}{{"lenet_mnist.onnx", exampledata.MNIST}, {"resnet_fmnist.onnx", exampledata.FMNIST}} {
		images, err := tc.set.Images(exampledata.Root, "t10k", 3)
		if err != nil {
			t.Fatal(err)
		}
		all := func(*potv1.Node, []int64) bool { return true }
		directs := 0
		for _, c := range modelConvs(t, tc.model, images, all) {
			t.Run(c.name, func(t *testing.T) {
				k := newGnaConv(t, append(append([]*potv1.Attribute{}, c.node.GetAttributes()...), gnaGrids(c.x, c.w)...), c.w, c.b)
				if k.pack == nil {
					t.Fatalf("%v: the fast path is not packed", c.w.Shape)
				}
				if _, direct := runPaths(t, k, c.x, 2); direct {
					directs++
				}
			})
		}
		t.Logf("%s: %d convolutions on the direct path", tc.model, directs)
		if directs == 0 {
			t.Errorf("%s: no convolution took the direct path", tc.model)
		}
	}
}
