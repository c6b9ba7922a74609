package qdq

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/internal/realmodels"
	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/plan"
	"github.com/potgo/pot/targets/interp/tensor"
)

// repo is the repository root; openWakeWord holds the models.
var (
	repo         = filepath.Join("..", "..")
	openWakeWord = filepath.Join("..", "cli", "testdata", "openwakeword")
)

func readModel(t *testing.T, name string) (*onnxpb.ModelProto, *potv1.Graph) {
	t.Helper()
	m, err := onnx.ReadFile(filepath.Join(openWakeWord, name))
	if err != nil {
		t.Fatal(err)
	}
	g, err := onnx.ToGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	return m, g
}

// refSamples reads stacked reference tensors (one file per graph input,
// "" for silero_vad's sr) as per-sample inputs.
func refSamples(t *testing.T, files ...string) [][]*tensor.Tensor {
	t.Helper()
	var out [][]*tensor.Tensor
	for j, f := range files {
		if f == "" {
			for i := range out {
				out[i] = append(out[i], tensor.Scalar(int64(16000)))
			}
			continue
		}
		v, err := realmodels.Reference(repo, f)
		if err != nil {
			t.Fatal(err)
		}
		for i := range v.Shape[0] {
			if j == 0 {
				out = append(out, nil)
			}
			out[i] = append(out[i], realmodels.Row(v, i))
		}
	}
	return out
}

// layerPlan quantizes, in every graph, the weights of Conv and Gemm (per
// output channel) and of LSTM (W and R per tensor), all symmetric, and
// their activation inputs (input 0, and an LSTM's initial hidden state)
// per tensor, asymmetric, with ranges from the samples.
func layerPlan(t *testing.T, g *potv1.Graph, samples [][]*tensor.Tensor) *potv1.QuantizationPlan {
	t.Helper()
	x := graph.NewIndex(g)
	type act struct {
		node string
		in   int
	}
	var acts []act
	var watch []string
	p := &potv1.QuantizationPlan{}
	weight := func(n *potv1.Node, i int, perChannel bool) {
		w := x.Constant(n.GetInputs()[i])
		v, err := graph.Float32s(w)
		if err != nil {
			t.Fatal(err)
		}
		rows := 1
		q := &potv1.Quantizer{Id: n.GetName() + "/w" + string(rune('0'+i)), Weights: true, Location: &potv1.Location{Node: n.GetName(), Input: int32(i)},
			Bits: 8, Levels: 255, LevelLow: -127, LevelHigh: 127, Consumers: []string{n.GetName()}}
		if perChannel {
			rows = int(w.GetDims()[0])
			q.Granularity = potv1.Granularity_GRANULARITY_PER_CHANNEL
		}
		per := len(v) / rows
		for r := range rows {
			a := float32(1e-6)
			for _, f := range v[r*per : (r+1)*per] {
				a = max(a, float32(math.Abs(float64(f))))
			}
			q.InputLow, q.InputHigh = append(q.InputLow, -a), append(q.InputHigh, a)
		}
		q.OutputLow, q.OutputHigh = q.InputLow, q.InputHigh
		p.Quantizers = append(p.Quantizers, q)
	}
	for _, n := range x.Nodes() {
		switch n.GetOpType() {
		case "Conv", "Gemm":
			weight(n, 1, true)
			acts = append(acts, act{n.GetName(), 0})
		case "LSTM":
			weight(n, 1, false)
			weight(n, 2, false)
			acts = append(acts, act{n.GetName(), 0}, act{n.GetName(), 5})
		default:
			continue
		}
	}
	for _, a := range acts {
		watch = append(watch, x.Node(a.node).GetInputs()[a.in])
	}
	_, lo, hi := realmodels.Run(t, g, samples, watch...)
	for _, a := range acts {
		in := x.Node(a.node).GetInputs()[a.in]
		if _, ok := lo[in]; !ok {
			continue // not computed by these samples
		}
		l, h := min(lo[in], 0), max(hi[in], 1e-6)
		scale := (h - l) / 255
		zp := float32(math.Round(float64(-l / scale)))
		l, h = -zp*scale, (255-zp)*scale
		p.Quantizers = append(p.Quantizers, &potv1.Quantizer{Id: a.node + "/x" + string(rune('0'+a.in)),
			Location: &potv1.Location{Node: a.node, Input: int32(a.in)}, Bits: 8, Levels: 256, LevelHigh: 255,
			InputLow: []float32{l}, InputHigh: []float32{h}, OutputLow: []float32{l}, OutputHigh: []float32{h}, Consumers: []string{a.node}})
	}
	return p
}

// TestExportInsideSubgraphs writes QDQ models of hey_jarvis and
// silero_vad with quantizers on the layers of their If branches (Gemms,
// Convs, LSTMs): the QuantizeLinear/DequantizeLinear pairs, the integer
// weights and biases sit in the branches; the model survives ONNX
// serialization and runs, computing what the FakeQuantize simulation of
// the plan computes.
func TestExportInsideSubgraphs(t *testing.T) {
	for _, tc := range []struct {
		model   string
		inputs  []string
		quantum float64 // a few steps of the output's quantization
	}{
		{"hey_jarvis_v0.1.onnx", []string{"hey_jarvis/x.pb"}, 0.02},
		{"silero_vad.onnx", []string{"silero_vad/input.pb", "", "silero_vad/h.pb", "silero_vad/c.pb"}, 0.02},
	} {
		t.Run(tc.model, func(t *testing.T) {
			m, g := readModel(t, tc.model)
			samples := refSamples(t, tc.inputs...)
			p := layerPlan(t, g, samples)
			out, stats, err := Export(g, p)
			if err != nil {
				t.Fatal(err)
			}
			x := graph.NewIndex(out)
			inBranch := map[string]int{}
			for _, n := range x.Nodes() {
				if x.InSubgraph(n.GetName()) {
					inBranch[n.GetOpType()]++
				}
			}
			intInits := 0
			for _, sg := range graph.Graphs(out)[1:] {
				for _, init := range sg.GetInitializers() {
					if dt := init.GetDtype(); dt == potv1.DataType_DATA_TYPE_INT8 || dt == potv1.DataType_DATA_TYPE_INT32 {
						intInits++
					}
				}
			}
			t.Logf("%+v; in subgraphs: %d QuantizeLinear, %d DequantizeLinear, %d integer initializers", *stats, inBranch["QuantizeLinear"], inBranch["DequantizeLinear"], intInits)
			if inBranch["QuantizeLinear"] == 0 || inBranch["DequantizeLinear"] <= inBranch["QuantizeLinear"] || intInits == 0 {
				t.Fatal("no quantized layer in the subgraphs")
			}
			// Serialize, read back, run.
			mp, err := onnx.FromGraph(out, m)
			if err != nil {
				t.Fatal(err)
			}
			b, err := onnx.Encode(mp)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "qdq.onnx")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			back, err := onnx.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			qg, err := onnx.ToGraph(back)
			if err != nil {
				t.Fatal(err)
			}
			sim, err := plan.Apply(g, p)
			if err != nil {
				t.Fatal(err)
			}
			qOut, _, _ := realmodels.Run(t, qg, samples)
			sOut, _, _ := realmodels.Run(t, sim.Graph, samples)
			fOut, _, _ := realmodels.Run(t, g, samples)
			worstSim, worstFloat := 0.0, 0.0
			for i := range qOut {
				for k := range qOut[i] {
					worstSim = max(worstSim, math.Abs(float64(qOut[i][k]-sOut[i][k])))
					worstFloat = max(worstFloat, math.Abs(float64(qOut[i][k]-fOut[i][k])))
				}
			}
			t.Logf("QDQ vs simulation %.3g, vs float %.3g", worstSim, worstFloat)
			if !(worstSim <= tc.quantum) {
				t.Errorf("the QDQ model differs from the simulation by %g", worstSim)
			}
		})
	}
}
