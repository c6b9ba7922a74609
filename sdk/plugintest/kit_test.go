package plugintest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/plugintest"
)

// The in-process path (go-plugin test mode, the SDK's serve path) passes
// the suites: a target that forwards to the cpu target binary, and a
// small algorithm written here.
func TestInProcess(t *testing.T) {
	cpu := filepath.Join(builtins, "pot-target-cpu")
	t.Run("target", func(t *testing.T) {
		plugintest.TestTarget(t, plugintest.StartTarget(t, cpu).Target)
	})
	t.Run("algorithm", func(t *testing.T) {
		plugintest.TestAlgorithm(t, weightsOnly{}, plugintest.WithTargetBinary(cpu), plugintest.WithParams(`{"bits": 8}`))
	})
	t.Run("algorithm with in-process target", func(t *testing.T) {
		plugintest.TestAlgorithm(t, weightsOnly{}, plugintest.WithTarget(plugintest.StartTarget(t, cpu).Target))
	})
}

// weightsOnly quantizes every Conv and Gemm weight per tensor.
type weightsOnly struct{}

func (weightsOnly) Describe(context.Context) (*potv1.AlgorithmDescription, error) {
	return &potv1.AlgorithmDescription{Name: "WeightsOnly", Version: "1.0.0", ProtocolVersions: []int32{sdk.ProtocolVersion},
		ParamsSchema: `{"type": "object", "properties": {"bits": {"type": "integer", "minimum": 2, "maximum": 8}}, "additionalProperties": false}`,
		Defaults:     `{"bits": 8}`}, nil
}

func (weightsOnly) Run(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.RunResponse, error) {
	g, err := h.Graph(ctx, req.ModelID)
	if err != nil {
		return nil, err
	}
	if err := h.Progress(ctx, &potv1.ProgressRequest{Stage: "weights", Total: int64(len(g.GetNodes()))}); err != nil {
		return nil, err
	}
	p := &potv1.QuantizationPlan{}
	for _, n := range g.GetNodes() {
		if n.GetOpType() != "Conv" && n.GetOpType() != "Gemm" {
			continue
		}
		w := n.GetInputs()[1]
		p.Quantizers = append(p.Quantizers, &potv1.Quantizer{Id: w, Location: &potv1.Location{Tensor: w, Node: n.GetName(), Input: 1},
			Weights: true, Bits: 8, Levels: 255, LevelLow: -127, LevelHigh: 127, Mode: potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC,
			Granularity: potv1.Granularity_GRANULARITY_PER_TENSOR, InputLow: []float32{-2}, InputHigh: []float32{2}, OutputLow: []float32{-2}, OutputHigh: []float32{2}})
	}
	return &potv1.RunResponse{Plan: p, Report: fmt.Sprintf(`{"quantizers": %d}`, len(p.Quantizers))}, nil
}

func TestCheckPlan(t *testing.T) {
	g, _ := plugintest.CNNModel(1)
	good := func() *potv1.Quantizer {
		return &potv1.Quantizer{Id: "w", Location: &potv1.Location{Tensor: "conv.w", Node: "conv", Input: 1}, Weights: true,
			Bits: 8, Levels: 255, LevelLow: -127, LevelHigh: 127, Mode: potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC,
			Granularity: potv1.Granularity_GRANULARITY_PER_CHANNEL, Axis: 0,
			InputLow: []float32{-1, -1, -1, -1}, InputHigh: []float32{1, 1, 1, 1}, OutputLow: []float32{-1, -1, -1, -1}, OutputHigh: []float32{1, 1, 1, 1}}
	}
	act := func() *potv1.Quantizer {
		return &potv1.Quantizer{Id: "a", Location: &potv1.Location{Tensor: "relu.out"}, Bits: 8, Levels: 256, LevelLow: 0, LevelHigh: 255,
			Mode: potv1.QuantizationMode_QUANTIZATION_MODE_ASYMMETRIC, Granularity: potv1.Granularity_GRANULARITY_PER_TENSOR,
			InputLow: []float32{0}, InputHigh: []float32{4}, OutputLow: []float32{0}, OutputHigh: []float32{4}}
	}
	tests := []struct {
		name string
		edit func(p *potv1.QuantizationPlan)
		want string
	}{
		{"valid", func(*potv1.QuantizationPlan) {}, ""},
		{"duplicate id", func(p *potv1.QuantizationPlan) { p.Quantizers[1].Id = "w" }, `quantizer 1 on tensor "relu.out": id "w" is quantizer 0's too`},
		{"no id", func(p *potv1.QuantizationPlan) { p.Quantizers[1].Id = "" }, `quantizer 1 on tensor "relu.out": no id`},
		{"unknown tensor", func(p *potv1.QuantizationPlan) { p.Quantizers[1].Location.Tensor = "nope" }, `quantizer 1 on tensor "nope": no such tensor in the model`},
		{"unknown node", func(p *potv1.QuantizationPlan) { p.Quantizers[0].Location.Node = "nope" }, `node "nope": no such node in the model`},
		{"wrong port", func(p *potv1.QuantizationPlan) { p.Quantizers[0].Location.Input = 0 }, `that input is "input", not "conv.w"`},
		{"port out of range", func(p *potv1.QuantizationPlan) { p.Quantizers[0].Location.Input = 5 }, `node "conv" (Conv) has no input 5`},
		{"empty range", func(p *potv1.QuantizationPlan) { p.Quantizers[1].InputHigh[0] = 0 }, "is empty or not finite"},
		{"NaN range", func(p *potv1.QuantizationPlan) { p.Quantizers[1].OutputLow[0] = float32(nan()) }, "is empty or not finite"},
		{"ragged ranges", func(p *potv1.QuantizationPlan) { p.Quantizers[0].OutputLow = p.Quantizers[0].OutputLow[:3] }, "ranges have lengths 4/4/3/4"},
		{"per-channel count", func(p *potv1.QuantizationPlan) {
			q := p.Quantizers[0]
			q.InputLow, q.InputHigh, q.OutputLow, q.OutputHigh = q.InputLow[:3], q.InputHigh[:3], q.OutputLow[:3], q.OutputHigh[:3]
		}, `3 per-channel ranges for the 4 channels of axis 0 of "conv.w"`},
		{"per-tensor with many", func(p *potv1.QuantizationPlan) {
			p.Quantizers[0].Granularity = potv1.Granularity_GRANULARITY_PER_TENSOR
		}, "per-tensor, but has 4 ranges"},
		{"axis out of range", func(p *potv1.QuantizationPlan) { p.Quantizers[0].Axis = 7 }, "channel axis 7 is outside the 4 dimensions"},
		{"levels", func(p *potv1.QuantizationPlan) { p.Quantizers[1].Levels = 1 }, "1 levels, want at least 2"},
		{"level range", func(p *potv1.QuantizationPlan) { p.Quantizers[1].LevelHigh = 127 }, "levels [0, 127] are not 256 levels"},
		{"weights on an activation", func(p *potv1.QuantizationPlan) { p.Quantizers[1].Weights = true }, `"relu.out" is not a constant`},
		{"unified group", func(p *potv1.QuantizationPlan) {
			b := act()
			b.Id, b.UnifiedGroup, b.InputHigh, b.Location.Tensor = "b", "g", []float32{5}, "input"
			p.Quantizers[1].UnifiedGroup = "g"
			p.Quantizers = append(p.Quantizers, b)
		}, `unified group "g", but its ranges differ from quantizer 1's`},
		{"tensor update shape", func(p *potv1.QuantizationPlan) {
			p.TensorUpdates = []*potv1.Tensor{{Name: "conv.b", Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: []int64{5}, Data: make([]byte, 20)}}
		}, `tensor update "conv.b"`},
		{"tensor update unknown", func(p *potv1.QuantizationPlan) { p.TensorUpdates = []*potv1.Tensor{{Name: "nope"}} }, `tensor update "nope": no such initializer`},
		{"precision of unknown node", func(p *potv1.QuantizationPlan) {
			p.Precisions = []*potv1.NodePrecision{{Node: "nope", Precision: potv1.Precision_PRECISION_FLOAT}}
		}, `precision of node "nope": no such node`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{good(), act()}}
			tc.edit(p)
			err := plugintest.CheckPlan(proto.Clone(g).(*potv1.Graph), p)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("valid plan: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func nan() float64 { var z float64; return z / z }

func TestCheckAlgorithmDescription(t *testing.T) {
	ok := func() *potv1.AlgorithmDescription {
		return &potv1.AlgorithmDescription{Name: "A", Version: "1", ProtocolVersions: []int32{1},
			ParamsSchema: `{"type": "object", "properties": {"n": {"type": "integer"}}}`, Defaults: `{"n": 3}`}
	}
	tests := []struct {
		name string
		edit func(d *potv1.AlgorithmDescription)
		want string
	}{
		{"valid", func(*potv1.AlgorithmDescription) {}, ""},
		{"no name", func(d *potv1.AlgorithmDescription) { d.Name = "" }, "no name"},
		{"other name", func(d *potv1.AlgorithmDescription) { d.Name = "B" }, `name "B", but the binary is named for "A"`},
		{"no version", func(d *potv1.AlgorithmDescription) { d.Version = "" }, "no version"},
		{"protocol", func(d *potv1.AlgorithmDescription) { d.ProtocolVersions = []int32{2} }, "protocol versions [2] lack 1"},
		{"schema not JSON", func(d *potv1.AlgorithmDescription) { d.ParamsSchema = `{"type": ` }, "parameter schema: not JSON"},
		{"schema invalid", func(d *potv1.AlgorithmDescription) { d.ParamsSchema = `{"type": 5}` }, "parameter schema"},
		{"schema empty", func(d *potv1.AlgorithmDescription) { d.ParamsSchema = "" }, "parameter schema: empty"},
		{"bad defaults", func(d *potv1.AlgorithmDescription) { d.Defaults = `{"n": "three"}` }, "defaults"},
		{"capabilities naming its parameters", func(d *potv1.AlgorithmDescription) {
			d.Capabilities = &potv1.AlgorithmCapabilities{Evaluates: true, MaxDropParam: "n", WorkersParam: "n", PassesParamsTo: "B"}
		}, ""},
		{"budget parameter not in the schema", func(d *potv1.AlgorithmDescription) {
			d.Capabilities = &potv1.AlgorithmCapabilities{MaxDropParam: "maximal_drop"}
		}, `max_drop_param "maximal_drop" is not a property of the parameter schema`},
		{"workers parameter not in the schema", func(d *potv1.AlgorithmDescription) {
			d.Capabilities = &potv1.AlgorithmCapabilities{WorkersParam: "workers"}
		}, `workers_param "workers" is not a property`},
		{"passes on, but refuses other keys", func(d *potv1.AlgorithmDescription) {
			d.ParamsSchema = `{"type": "object", "additionalProperties": false, "properties": {"n": {"type": "integer"}}}`
			d.Capabilities = &potv1.AlgorithmCapabilities{PassesParamsTo: "B"}
		}, "passes parameters on to B, but its schema refuses keys it does not define"},
		{"passes on to itself", func(d *potv1.AlgorithmDescription) {
			d.Capabilities = &potv1.AlgorithmCapabilities{PassesParamsTo: "A"}
		}, "passes_params_to names the algorithm itself"},
		{"runs others", func(d *potv1.AlgorithmDescription) {
			d.Capabilities = &potv1.AlgorithmCapabilities{Runs: []string{"B", "C"}}
		}, ""},
		{"runs a nameless one", func(d *potv1.AlgorithmDescription) {
			d.Capabilities = &potv1.AlgorithmCapabilities{Runs: []string{"B", ""}}
		}, "runs[1] is empty"},
		{"runs itself", func(d *potv1.AlgorithmDescription) {
			d.Capabilities = &potv1.AlgorithmCapabilities{Runs: []string{"A"}}
		}, "runs names the algorithm itself"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := ok()
			tc.edit(d)
			err := plugintest.CheckAlgorithmDescription(d, "A")
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// CheckStatistics accepts the reference's own values and catches a
// target that computes something else.
func TestCheckStatistics(t *testing.T) {
	ref := plugintest.ReferenceModel(8)
	probes := plugintest.ReferenceProbes()
	// Answer from an exact in-Go "target": the engine-free computation.
	answer := func(skew float32) *potv1.StatisticsResponse {
		resp := &potv1.StatisticsResponse{Samples: 8}
		for _, p := range probes {
			v := exact(ref, p)
			for i := range v {
				v[i] += skew
			}
			sv := &potv1.StatisticValue{ProbeId: p.GetId(), Values: v}
			if p.GetAggregator() == potv1.Aggregator_AGGREGATOR_NONE {
				sv.Dims = []int64{8, int64(len(v) / 8)}
			}
			resp.Values = append(resp.Values, sv)
		}
		return resp
	}
	if err := plugintest.CheckStatistics(ref, probes, answer(0), 1e-6); err != nil {
		t.Errorf("exact answer: %v", err)
	}
	if err := plugintest.CheckStatistics(ref, probes, answer(0.1), 1e-3); err == nil || !strings.Contains(err.Error(), "the float reference") {
		t.Errorf("skewed answer: %v", err)
	}
	bad := answer(0)
	bad.Values = bad.Values[1:]
	if err := plugintest.CheckStatistics(ref, probes, bad, 1e-3); err == nil || !strings.Contains(err.Error(), "no value") {
		t.Errorf("missing probe: %v", err)
	}
}

// exact computes a probe on the reference independently of the kit: per
// sample reduce, then aggregate.
func exact(ref *plugintest.Reference, p *potv1.StatisticProbe) []float32 {
	c := ref.Channels(p.GetTensor())
	vals := ref.Values[p.GetTensor()]
	var rows [][]float64
	for s := 0; s < ref.N; s++ {
		row := vals[s*c : (s+1)*c]
		if p.GetPerChannel() {
			rows = append(rows, append([]float64(nil), row...))
			continue
		}
		var v float64
		switch p.GetReducer() {
		case potv1.Reducer_REDUCER_MIN:
			v = row[0]
			for _, x := range row {
				v = min(v, x)
			}
		case potv1.Reducer_REDUCER_MAX:
			v = row[0]
			for _, x := range row {
				v = max(v, x)
			}
		case potv1.Reducer_REDUCER_ABS_MAX:
			for _, x := range row {
				v = max(v, x, -x)
			}
		case potv1.Reducer_REDUCER_MEAN:
			for _, x := range row {
				v += x / float64(len(row))
			}
		}
		rows = append(rows, []float64{v})
	}
	if p.GetAggregator() == potv1.Aggregator_AGGREGATOR_NONE {
		var out []float32
		for _, r := range rows {
			for _, x := range r {
				out = append(out, float32(x))
			}
		}
		return out
	}
	out := make([]float32, len(rows[0]))
	for ch := range out {
		acc := rows[0][ch]
		sum := 0.0
		for _, r := range rows {
			sum += r[ch]
			switch p.GetAggregator() {
			case potv1.Aggregator_AGGREGATOR_MIN:
				acc = min(acc, r[ch])
			case potv1.Aggregator_AGGREGATOR_MAX:
				acc = max(acc, r[ch])
			}
		}
		if p.GetAggregator() == potv1.Aggregator_AGGREGATOR_MEAN {
			acc = sum / float64(len(rows))
		}
		out[ch] = float32(acc)
	}
	return out
}
