package cli

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/targets/cpu"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// roundTripSamples is the fixed evaluation subset of TestIRRoundTrip:
// the first samples of the test set (the full sets' figures are in
// docs/openvino.md).
const roundTripSamples = 300

// cpuOutputs runs a (QDQ) graph on the cpu target's integer lowering
// (the vnni accumulation, so that the figures do not depend on the host)
// over the first n samples of a data set: the first output, flat, and
// the labels. lowered counts the integer operators the lowering made.
func cpuOutputs(t *testing.T, g *potv1.Graph, data string, n int) (out []float32, labels []int, lowered int) {
	t.Helper()
	low, err := cpu.Lowering{ISA: cpu.ISAVNNI}.Lower(g, &potv1.QuantizationPlan{})
	if err != nil {
		t.Fatal(err)
	}
	for _, nd := range low.Graph.Nodes {
		if nd.OpType == "QConv" || nd.OpType == "QMatMul" {
			lowered++
		}
	}
	p, err := rt.Compile(low.Graph, rt.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ds, err := dataset.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	shape := ds.SampleShape()
	size := 1
	for _, d := range shape {
		size *= d
	}
	const batch = 100
	for i := 0; i < n; i += batch {
		j := min(n, i+batch)
		idx := make([]int, j-i)
		for k := range idx {
			idx[k] = i + k
		}
		x := make([]float32, len(idx)*size)
		lb, err := dataset.ReadBatch(context.Background(), ds, idx, x)
		if err != nil {
			t.Fatal(err)
		}
		labels = append(labels, lb...)
		res, err := p.Run(context.Background(), map[string]*tensor.Tensor{p.InputNames()[0]: tensor.From(append([]int{len(idx)}, shape...), x)}, g.Outputs[0].GetName())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res[g.Outputs[0].GetName()].F32()...)
	}
	return out, labels, lowered
}

// top1 is the share of rows of out whose largest value is at the label.
func top1(out []float32, labels []int) float64 {
	classes := len(out) / len(labels)
	hit := 0
	for i, l := range labels {
		row := out[i*classes : (i+1)*classes]
		best := 0
		for k, v := range row {
			if v > row[best] {
				best = k
			}
		}
		if best == l {
			hit++
		}
	}
	return float64(hit) / float64(len(labels))
}

// readONNXGraph reads a model pot wrote as ONNX.
func readONNXGraph(t *testing.T, path string) *potv1.Graph {
	t.Helper()
	m, err := onnx.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := onnx.ToGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// graphKey describes a graph for an equality check: the nodes (type,
// inputs, outputs, attributes) and the initializers (name, type, dims,
// data).
func graphKey(g *potv1.Graph) string {
	var s string
	for _, n := range g.Nodes {
		s += fmt.Sprintf("%s %s %v %v %v\n", n.Name, n.OpType, n.Inputs, n.Outputs, n.Attributes)
	}
	for _, in := range g.Initializers {
		s += fmt.Sprintf("%s %v %v %x\n", in.Name, in.Dtype, in.Dims, in.Data)
	}
	return s + fmt.Sprint(g.Inputs, g.Outputs)
}

// TestIRRoundTrip is issue 19's acceptance on the four shared models:
// converted to IR by pot convert and quantized from that IR with both
// presets, they reach the top-1 of the same quantization from ONNX (on a
// fixed subset of the test set); the quantized IR (--output-format ir)
// reads back to a graph whose outputs on the cpu target's integer
// kernels are bit for bit the QDQ twin's; and IR → ONNX → IR → ONNX
// (pot convert both ways) gives the same ONNX graph.
func TestIRRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("quantizes four models three times with two presets")
	}
	for _, ex := range []struct {
		model, data string
		extra       []string
		// loose: the quantized IR read back reaches the twin's top-1,
		// not its bits.
		loose bool
	}{
		{"lenet_mnist", "mnist", nil, false}, {"mlp_mnist", "mnist", nil, false},
		{"resnet_fmnist", "fmnist", nil, false}, {"mobilenet_fmnist", "fmnist", nil, false},
		// The transformer (Slice, SoftMax, Broadcast, Equal and Select
		// read back; POT's transformer mode). Its quantized IR reads back
		// with 3 of the twin's 14 integer operations in float (the
		// attention products of two activations), so only top-1 is equal.
		{"vit_fmnist", "fmnist", []string{"--model-type", "transformer"}, true},
	} {
		t.Run(ex.model, func(t *testing.T) {
			dir := t.TempDir()
			src := testenv.Example("models", ex.model+".onnx")
			calib, test := testenv.Example("data", ex.data+"-calib.json"), testenv.Example("data", ex.data+"-test.json")
			convert := func(in, out string) {
				t.Helper()
				if _, stderr, code := pot(t, "convert", "-m", in, "-o", out); code != 0 {
					t.Fatalf("convert %s: exit %d: %s", in, code, stderr)
				}
			}
			ir := filepath.Join(dir, "float.xml")
			convert(src, ir)
			// IR → ONNX → IR → ONNX: the second ONNX is the first.
			convert(ir, filepath.Join(dir, "float1.onnx"))
			convert(filepath.Join(dir, "float1.onnx"), filepath.Join(dir, "float2.xml"))
			convert(filepath.Join(dir, "float2.xml"), filepath.Join(dir, "float2.onnx"))
			if a, b := graphKey(readONNXGraph(t, filepath.Join(dir, "float1.onnx"))), graphKey(readONNXGraph(t, filepath.Join(dir, "float2.onnx"))); a != b {
				t.Errorf("IR → ONNX → IR → ONNX changed the graph")
			}
			for _, preset := range []string{"performance", "mixed"} {
				q := func(model, out string, extra ...string) string {
					t.Helper()
					p := filepath.Join(dir, preset+"-"+out)
					quantizeJSON(t, append(append([]string{"-m", model, "--data", calib, "--preset", preset, "-o", p}, ex.extra...), extra...)...)
					return p
				}
				fromIR, fromONNX := q(ir, "ir.onnx"), q(src, "onnx.onnx")
				qIR := q(src, "q.xml", "--output-format", "ir")

				oi, labels, li := cpuOutputs(t, readONNXGraph(t, fromIR), test, roundTripSamples)
				oo, _, lo := cpuOutputs(t, readONNXGraph(t, fromONNX), test, roundTripSamples)
				ai, ao := top1(oi, labels), top1(oo, labels)
				if ai != ao || li != lo {
					t.Errorf("%s: top-1 quantized from IR %.4f (%d integer ops), from ONNX %.4f (%d)", preset, ai, li, ao, lo)
				}

				_, back, err := ReadIR(qIR, "")
				if err != nil {
					t.Fatal(err)
				}
				ob, _, lb := cpuOutputs(t, back, test, roundTripSamples)
				diff := 0
				for i := range ob {
					if math.Float32bits(ob[i]) != math.Float32bits(oo[i]) {
						diff++
					}
				}
				if ex.loose {
					if ab := top1(ob, labels); ab != ao || lb == 0 {
						t.Errorf("%s: quantized IR read back: top-1 %.4f, the QDQ twin %.4f; %d integer ops", preset, ab, ao, lb)
					}
				} else if diff > 0 || lb != lo || lb == 0 {
					t.Errorf("%s: quantized IR read back: %d of %d outputs differ from the QDQ twin's; %d integer ops, the twin %d", preset, diff, len(ob), lb, lo)
				}
				// pot convert writes the quantized IR as the ONNX graph pot
				// reads it as.
				q1 := filepath.Join(dir, preset+"-q1.onnx")
				convert(qIR, q1)
				if a, b := graphKey(readONNXGraph(t, q1)), graphKey(back); a != b {
					t.Errorf("%s: pot convert of the quantized IR differs from its read graph", preset)
				}
				t.Logf("%s: top-1 (first %d) from IR %.4f, from ONNX %.4f; %d integer ops; read-back IR bit-identical: %v",
					preset, roundTripSamples, ai, ao, lo, diff == 0)
			}
		})
	}
}
