package cpu

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/plan"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// The example models, quantized with a small MinMax plan of the
// test's own (POT's placement in spirit: inputs of Conv/Gemm and Add
// per tensor, weights per channel, symmetric), run in integer arithmetic
// and in FakeQuantize simulation.

const examples = "../../examples"

// idx reads n images (normalized as the descriptor says) and labels of
// an IDX data set descriptor.
func idx(t *testing.T, desc string, n int) (*tensor.Tensor, []int) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(examples, "data", desc))
	if err != nil {
		t.Skip(err)
	}
	var d struct {
		Images, Labels string
		Mean, Std      []float32
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		f, err := os.Open(filepath.Join(examples, "data", name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return b[4+4*int(b[3]):]
	}
	pix, lab := read(d.Images), read(d.Labels)
	x := make([]float32, n*784)
	for i := range x {
		x[i] = (float32(pix[i])/255 - d.Mean[0]) / d.Std[0]
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = int(lab[i])
	}
	return tensor.From([]int{n, 1, 28, 28}, x), labels
}

func model(t *testing.T, name string) *potv1.Graph {
	t.Helper()
	m, err := onnx.ReadFile(filepath.Join(examples, "models", name+".onnx"))
	if err != nil {
		t.Skip(err)
	}
	g, err := onnx.ToGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// runBatches returns the first output of g over x, in batches of 100.
func runBatches(t *testing.T, g *potv1.Graph, x *tensor.Tensor, names ...string) map[string][]float32 {
	t.Helper()
	p, err := rt.Compile(g, rt.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if len(names) == 0 {
		names = []string{g.Outputs[0].GetName()}
	}
	out := map[string][]float32{}
	in := p.InputNames()[0]
	n := x.Shape[0]
	for i := 0; i < n; i += 100 {
		j := min(n, i+100)
		b := tensor.From([]int{j - i, 1, 28, 28}, x.F32()[i*784:j*784])
		res, err := p.Run(context.Background(), map[string]*tensor.Tensor{in: b}, names...)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			out[name] = append(out[name], res[name].F32()...)
		}
	}
	return out
}

// minMaxPlan quantizes the inputs of Conv, Gemm, MatMul and Add (ranges
// from calib), and their weights. fix is the saturation fix: "no",
// "first_layer" (the first Conv) or "all" (every weight range doubled,
// so that the levels use 7 bits).
func minMaxPlan(t *testing.T, g *potv1.Graph, calib *tensor.Tensor, fix string) *potv1.QuantizationPlan {
	return minMaxPlanMode(t, g, calib, fix, false)
}

// minMaxPlanMode is minMaxPlan with symmetric activations (signed where
// they go below zero, so centred on level 128) or, with asym, asymmetric
// ones (the zero on the nearest level).
func minMaxPlanMode(t *testing.T, g *potv1.Graph, calib *tensor.Tensor, fix string, asym bool) *potv1.QuantizationPlan {
	t.Helper()
	x := graph.NewIndex(g)
	var acts []string
	seen := map[string]bool{}
	p := &potv1.QuantizationPlan{}
	first := true
	for _, n := range g.Nodes {
		var ins []int
		switch n.GetOpType() {
		case "Conv", "Gemm", "MatMul":
			ins = []int{0}
			w, err := rt.FromProto(x.Initializer(n.Inputs[1]))
			if err != nil {
				t.Fatal(err)
			}
			axis, ch := 0, w.Shape[0]
			if n.GetOpType() == "MatMul" || n.GetOpType() == "Gemm" && graph.AttrInt(n, "transB", 0) == 0 {
				axis, ch = 1, w.Shape[1]
			}
			inner := tensor.NumElements(w.Shape[axis+1:])
			absMax := make([]float32, ch)
			for i, v := range w.F32() {
				c := (i / inner) % ch
				absMax[c] = max(absMax[c], float32(math.Abs(float64(v))))
			}
			scale := float32(1)
			if fix == "all" || fix == "first_layer" && first && n.GetOpType() == "Conv" {
				scale = 2
			}
			if n.GetOpType() == "Conv" {
				first = false
			}
			q := &potv1.Quantizer{Id: n.GetName() + "/w", Weights: true, Location: &potv1.Location{Node: n.GetName(), Input: 1},
				Levels: 255, LevelLow: -127, LevelHigh: 127, Axis: int32(axis)}
			for _, a := range absMax {
				a = max(a, 1e-6) * scale
				q.InputLow, q.InputHigh = append(q.InputLow, -a), append(q.InputHigh, a)
			}
			q.OutputLow, q.OutputHigh = q.InputLow, q.InputHigh
			p.Quantizers = append(p.Quantizers, q)
		case "Add":
			ins = []int{0, 1}
		}
		for _, i := range ins {
			if s := n.Inputs[i]; !seen[s] && x.Initializer(s) == nil {
				seen[s] = true
				acts = append(acts, s)
			}
		}
	}
	vals := runBatches(t, g, calib, acts...)
	for _, s := range acts {
		lo, hi := float32(0), float32(0)
		for _, v := range vals[s] {
			lo, hi = min(lo, v), max(hi, v)
		}
		q := &potv1.Quantizer{Id: s, Location: &potv1.Location{Tensor: s}, Levels: 256, LevelHigh: 255}
		switch {
		case asym && lo < 0:
			scale := (hi - lo) / 255
			zp := float32(math.Round(float64(-lo / scale)))
			lo, hi = -zp*scale, (255-zp)*scale
		case lo < 0:
			a := max(-lo, hi)
			lo, hi = -a*128/127, a
		}
		q.InputLow, q.InputHigh = []float32{lo}, []float32{hi}
		q.OutputLow, q.OutputHigh = q.InputLow, q.InputHigh
		p.Quantizers = append(p.Quantizers, q)
	}
	return p
}

// samples is n, or a fifth of it with the pure-Go kernels (-tags noasm).
func samples(n int) int {
	if kernels.QAccelerated() {
		return n
	}
	return n / 5
}

func top1(logits []float32, labels []int) (acc float64, pred []int) {
	k := len(logits) / len(labels)
	right := 0
	for i, l := range labels {
		row := logits[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		pred = append(pred, best)
		if best == l {
			right++
		}
	}
	return float64(right) / float64(len(labels)), pred
}

// TestModelsMatchSimulation: on every example model the integer program
// (vnni) predicts the class the simulation predicts for at least 99% of
// the images, and its accuracy is within 0.5 point.
func TestModelsMatchSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four models")
	}
	for _, tc := range []struct{ model, data string }{
		{"lenet_mnist", "mnist"}, {"resnet_fmnist", "fmnist"}, {"mobilenet_fmnist", "fmnist"}, {"mlp_mnist", "mnist"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			g := model(t, tc.model)
			calib, _ := idx(t, tc.data+"-calib.json", 200)
			x, labels := idx(t, tc.data+"-test.json", samples(500))
			p := minMaxPlan(t, g, calib, "first_layer")
			sim, err := plan.Apply(g, p)
			if err != nil {
				t.Fatal(err)
			}
			low, err := Lowering{ISA: ISAVNNI}.Lower(g, p)
			if err != nil {
				t.Fatal(err)
			}
			if n := countOps(low.Graph, "QConv") + countOps(low.Graph, "QMatMul"); n == 0 || countOps(low.Graph, "Conv")+countOps(low.Graph, "Gemm") > 0 {
				t.Fatalf("%d integer operators; float Conv/Gemm left: %d", n, countOps(low.Graph, "Conv")+countOps(low.Graph, "Gemm"))
			}
			accSim, predSim := top1(runBatches(t, sim.Graph, x)[g.Outputs[0].GetName()], labels)
			accInt, predInt := top1(runBatches(t, low.Graph, x)[g.Outputs[0].GetName()], labels)
			agree := 0
			for i := range predSim {
				if predSim[i] == predInt[i] {
					agree++
				}
			}
			t.Logf("top-1 simulation %.4f, integer %.4f, agreement %d/%d", accSim, accInt, agree, len(labels))
			if agree*100 < 99*len(labels) || math.Abs(accSim-accInt) > 0.005 {
				t.Errorf("integer execution departs from the simulation: top-1 %.4f vs %.4f, %d of %d agree", accInt, accSim, agree, len(labels))
			}
		})
	}
}

// TestSaturation: with full 8-bit weights and asymmetric activations,
// the avx2 model (int16 pair saturation) loses accuracy against vnni
// (exact) on resnet_fmnist's first layer (one input channel: adjacent
// kernel taps pair up, and input levels near 255 times weights near 127
// overflow int16); the saturation fix (7-bit weights) removes the loss.
// With symmetric activations the input is centred on level 128 and avx2
// sums exactly without the fix.
func TestSaturation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a model eight times")
	}
	g := model(t, "resnet_fmnist")
	calib, _ := idx(t, "fmnist-calib.json", 200)
	x, labels := idx(t, "fmnist-test.json", samples(1000))
	acc := map[string]float64{}
	var rows []string
	for _, fix := range []string{"no", "first_layer", "all", "symmetric"} {
		p := minMaxPlanMode(t, g, calib, fix, true)
		if fix == "symmetric" {
			p = minMaxPlan(t, g, calib, "no")
		}
		for _, isa := range []string{ISAVNNI, ISAAVX2} {
			low, err := Lowering{ISA: isa}.Lower(g, p)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := top1(runBatches(t, low.Graph, x)[g.Outputs[0].GetName()], labels)
			acc[fix+"/"+isa] = a
			rows = append(rows, fix+"/"+isa)
		}
	}
	sort.Strings(rows)
	for _, r := range rows {
		t.Logf("saturation_fix %-18s top-1 %.4f", r, acc[r])
	}
	if loss := acc["no/vnni"] - acc["no/avx2"]; loss < 0.02 {
		t.Errorf("without the fix avx2 loses %.4f against vnni, want at least 0.02", loss)
	}
	if acc["symmetric/vnni"] != acc["symmetric/avx2"] {
		t.Errorf("centred activations: avx2 %.4f, vnni %.4f, want equal", acc["symmetric/avx2"], acc["symmetric/vnni"])
	}
	for _, fix := range []string{"first_layer", "all"} {
		if d := math.Abs(acc[fix+"/vnni"] - acc[fix+"/avx2"]); d > 0.003 {
			t.Errorf("with saturation_fix %s avx2 and vnni differ by %.4f", fix, d)
		}
	}
}
