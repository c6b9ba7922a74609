package cpu

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// lowerUnfused lowers g with the LeakyRelu output stage and QLut off:
// the QConv outputs float, LeakyRelu runs in float, QLevels quantizes
// again, and element-wise operators between quantizers run in float.
func lowerUnfused(t *testing.T, l Lowering, g *potv1.Graph, p *potv1.QuantizationPlan) *potv1.Graph {
	t.Helper()
	fuseLeakyReLU, lutOps = false, false
	defer func() { fuseLeakyReLU, lutOps = true, true }()
	low, err := l.Lower(g, p)
	if err != nil {
		t.Fatal(err)
	}
	return low.Graph
}

// actOps counts the integer operators with the output stage act.
func actOps(g *potv1.Graph, act string) int {
	n := 0
	for _, nd := range g.Nodes {
		if graph.AttrString(nd, "act", "") == act {
			n++
		}
	}
	return n
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d outputs, unfused %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: output %d: fused %g, unfused %g", what, i, got[i], want[i])
		}
	}
}

// TestLeakyReLUFusedMatchesUnfused runs the LeakyRelu layers of the
// layer table with the fused output stage and without it: the levels
// (and so the dequantized outputs) are the same bits.
func TestLeakyReLUFusedMatchesUnfused(t *testing.T) {
	for _, l := range layers {
		if l.act != "LeakyRelu" {
			continue
		}
		for _, isa := range []string{ISAVNNI, ISAAVX2} {
			for _, alpha := range []float32{0.2, 0.01, 0.5, 1.5, -0.3} {
				r := rand.New(rand.NewPCG(12, uint64(len(l.name))))
				g, x := l.build(r, 5)
				for _, n := range g.Nodes {
					if n.GetOpType() == "LeakyRelu" {
						n.Attributes[0].F = alpha
					}
				}
				yf := run(t, g, x).F32()
				yMin, yMax := float32(0), float32(0)
				for _, v := range yf {
					yMin, yMax = min(yMin, v), max(yMax, v)
				}
				// A range narrower than the outputs': saturation both ways.
				p := l.plan(g, yMax*0.7, yMin*0.7)
				low, err := Lowering{ISA: isa}.Lower(g, p)
				if err != nil {
					t.Fatal(err)
				}
				requireLowered(t, low.Graph, l)
				if actOps(low.Graph, "leaky_relu") != 1 {
					t.Fatalf("%s %s: LeakyRelu not fused", l.name, isa)
				}
				un := lowerUnfused(t, Lowering{ISA: isa}, g, p)
				if countOps(un, "LeakyRelu") != 1 {
					t.Fatalf("%s %s: unfused graph without its LeakyRelu", l.name, isa)
				}
				sameBits(t, l.name+"/"+isa, run(t, low.Graph, x).F32(), run(t, un, x).F32())
			}
		}
	}
}

const openWakeWord = "../../host/cli/testdata/openwakeword"

// readNPYF32 reads a little-endian float32 .npy file (C order).
func readNPYF32(t *testing.T, path string, shape []int) *tensor.Tensor {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skip(err)
	}
	if len(b) < 10 || string(b[1:6]) != "NUMPY" || b[6] != 1 {
		t.Fatalf("%s: not a version 1 .npy file", path)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	if h := string(b[10 : 10+hl]); !strings.Contains(h, "'<f4'") || strings.Contains(h, "True") {
		t.Fatalf("%s: header %q", path, h)
	}
	data := b[10+hl:]
	n := tensor.NumElements(shape)
	if len(data) != 4*n {
		t.Fatalf("%s: %d bytes of data for %v", path, len(data), shape)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return tensor.From(shape, v)
}

// runNamed runs g on x (its first input) and returns the named values.
func runNamed(t *testing.T, g *potv1.Graph, x *tensor.Tensor, names ...string) map[string]*tensor.Tensor {
	t.Helper()
	p, err := rt.Compile(g, rt.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	res, err := p.Run(context.Background(), map[string]*tensor.Tensor{p.InputNames()[0]: x}, names...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestEmbeddingLeakyReLUFused quantizes openWakeWord's speech embedding
// CNN (a TensorFlow export: Conv, LeakyRelu, Max with a constant,
// MaxPool) with a MinMax plan that, as pot's cpu target does, puts a
// quantizer after each LeakyRelu, and wants the same output bits on the
// 64 samples with the LeakyRelu fused into the QConvs and without, and
// with the integer kernels in assembly and in Go.
func TestEmbeddingLeakyReLUFused(t *testing.T) {
	m, err := onnx.ReadFile(filepath.Join(openWakeWord, "embedding_model.onnx"))
	if err != nil {
		t.Skip(err)
	}
	g, err := onnx.ToGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	x := readNPYF32(t, filepath.Join(openWakeWord, "embedding.npy"), []int{64, 76, 32, 1})
	if testing.Short() {
		x = tensor.From([]int{8, 76, 32, 1}, x.F32()[:8*76*32])
	}
	p := embeddingPlan(t, g, x)
	out := g.Outputs[0].GetName()
	for _, isa := range []string{ISAAVX2, ISAVNNI} {
		low, err := Lowering{ISA: isa}.Lower(g, p)
		if err != nil {
			t.Fatal(err)
		}
		fused := actOps(low.Graph, "leaky_relu")
		if fused == 0 || countOps(low.Graph, "LeakyRelu") != 0 {
			t.Fatalf("%s: %d LeakyRelu fused, %d left", isa, fused, countOps(low.Graph, "LeakyRelu"))
		}
		un := lowerUnfused(t, Lowering{ISA: isa}, g, p)
		if countOps(un, "LeakyRelu") != fused {
			t.Fatalf("%s: unfused graph with %d LeakyRelu, fused %d", isa, countOps(un, "LeakyRelu"), fused)
		}
		got := runNamed(t, low.Graph, x, out)[out].F32()
		want := runNamed(t, un, x, out)[out].F32()
		sameBits(t, "embedding "+isa, got, want)
		if kernels.QAccelerated() {
			// And the fused stage in the kernels' assembly is its Go twin.
			was := kernels.UseQAssembly(false)
			twin := runNamed(t, low.Graph, x, out)[out].F32()
			kernels.UseQAssembly(was)
			sameBits(t, "embedding "+isa+" Go kernels", twin, want)
		}
		t.Logf("%s: %d LeakyRelu fused, %d QLut, %d outputs the same bits", isa, fused, countOps(low.Graph, "QLut"), len(got))
	}
}

// embeddingPlan quantizes the inputs of the convolutions (weights per
// channel, symmetric) and the outputs of the LeakyRelus, per tensor
// over their ranges on x.
func embeddingPlan(t *testing.T, g *potv1.Graph, x *tensor.Tensor) *potv1.QuantizationPlan {
	t.Helper()
	ix := graph.NewIndex(g)
	p := &potv1.QuantizationPlan{}
	var acts []string
	seen := map[string]bool{}
	for _, n := range g.Nodes {
		var s string
		switch n.GetOpType() {
		case "Conv":
			w, err := rt.FromProto(ix.Initializer(n.Inputs[1]))
			if err != nil {
				t.Fatal(err)
			}
			ch := w.Shape[0]
			inner := w.Len() / ch
			q := &potv1.Quantizer{Id: n.GetName() + "/w", Weights: true, Location: &potv1.Location{Node: n.GetName(), Input: 1},
				Levels: 255, LevelLow: -127, LevelHigh: 127}
			for c := 0; c < ch; c++ {
				a := float32(1e-6)
				for _, v := range w.F32()[c*inner : (c+1)*inner] {
					a = max(a, float32(math.Abs(float64(v))))
				}
				q.InputLow, q.InputHigh = append(q.InputLow, -a), append(q.InputHigh, a)
			}
			q.OutputLow, q.OutputHigh = q.InputLow, q.InputHigh
			p.Quantizers = append(p.Quantizers, q)
			s = n.Inputs[0]
		case "LeakyRelu":
			s = n.Outputs[0]
		}
		if s != "" && !seen[s] && ix.Initializer(s) == nil {
			seen[s] = true
			acts = append(acts, s)
		}
	}
	vals := runNamed(t, g, x, acts...)
	for _, s := range acts {
		lo, hi := float32(0), float32(0)
		for _, v := range vals[s].F32() {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo < 0 {
			// Asymmetric: the zero on the nearest level.
			scale := (hi - lo) / 255
			zp := float32(math.Round(float64(-lo / scale)))
			lo, hi = -zp*scale, (255-zp)*scale
		}
		q := &potv1.Quantizer{Id: s, Location: &potv1.Location{Tensor: s}, Levels: 256, LevelHigh: 255,
			InputLow: []float32{lo}, InputHigh: []float32{hi}}
		q.OutputLow, q.OutputHigh = q.InputLow, q.InputHigh
		p.Quantizers = append(p.Quantizers, q)
	}
	return p
}

// TestLeakyReLUKeeping wants the LeakyRelu left in float when its input
// or output must stay computed, and fused otherwise.
func TestLeakyReLUKeeping(t *testing.T) {
	var l layer
	for _, c := range layers {
		if c.name == "conv leaky-relu" {
			l = c
		}
	}
	r := rand.New(rand.NewPCG(31, 32))
	g, x := l.build(r, 2)
	p := l.plan(g, 1, -0.5)
	for _, keep := range [][]string{nil, {"c"}, {"y"}} {
		low, err := Lowering{ISA: ISAVNNI}.LowerKeeping(g, p, keep)
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if keep != nil {
			want = 0
		}
		if n := actOps(low.Graph, "leaky_relu"); n != want {
			t.Errorf("keeping %v: %d fused LeakyRelu, want %d", keep, n, want)
		}
		if keep != nil {
			res := runNamed(t, low.Graph, x, keep[0])
			if res[keep[0]] == nil || res[keep[0]].Len() == 0 {
				t.Errorf("keeping %v: not computed", keep)
			}
		}
	}
}
