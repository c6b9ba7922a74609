package quant

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/hwconfig"
)

// Hardware configs of the tests: the parts of POT's cpu.json and
// vpu.json the graphs below touch.
var configs = map[string]string{
	"cpu": `{"target_device": "CPU", "config": {"quantization": {
	    "q8_a": {"bits": 8, "mode": ["symmetric", "asymmetric"], "granularity": "pertensor"},
	    "q8_a_ch": {"bits": 8, "mode": ["symmetric", "asymmetric"], "granularity": "perchannel"},
	    "q8_w_sym": {"bits": 8, "mode": "symmetric", "level_low": -127, "level_high": 127, "granularity": "perchannel"},
	    "q8_w_asym": {"bits": 8, "mode": "asymmetric", "granularity": "perchannel"}}},
	  "operations": [
	    {"type": "Conv", "quantization": {"activations": "q8_a", "weights": ["q8_w_sym", "q8_w_asym"]}},
	    {"type": "DepthwiseConv", "quantization": {"activations": "q8_a_ch", "weights": ["q8_w_sym", "q8_w_asym"]}},
	    {"type": "Add", "quantization": {"activations": "q8_a", "weights": ["q8_w_sym", "q8_w_asym"]}},
	    {"type": "Mul", "quantization": {"activations": "q8_a", "weights": ["q8_w_sym", "q8_w_asym"]}},
	    {"type": "Concat", "attributes": {"unified_scales": "all"}},
	    {"type": "MaxPool"}]}`,
	"vpu": `{"target_device": "VPU", "config": {"quantization": {
	    "q8_tn": {"bits": 8, "mode": "asymmetric", "granularity": "pertensor"},
	    "q4_tn": {"bits": 4, "mode": "symmetric", "granularity": "pertensor"},
	    "q8_ch": {"bits": 8, "mode": "symmetric", "granularity": "perchannel"},
	    "q4_ch": {"bits": 4, "mode": "symmetric", "granularity": "perchannel"}}},
	  "operations": [
	    {"type": "Conv", "quantization": {"activations": ["q8_tn", "q4_tn", "q8_tn"], "weights": ["q8_ch", "q4_ch"]}},
	    {"type": "Add", "quantization": {"activations": ["q8_tn", "q4_tn", "q8_tn"], "weights": "q8_ch"}, "attributes": {"scales": "unified"}}]}`,
}

func config(t *testing.T, device string) *Config {
	t.Helper()
	c, err := hwconfig.Parse([]byte(configs[device]))
	if err != nil {
		t.Fatal(err)
	}
	return NewConfig(c)
}

// g builds a graph from "op name inputs -> outputs" lines; inputs
// starting with "w" are float initializers of shape [4 4 1 1].
func g(t *testing.T, lines ...string) *graph.Index {
	t.Helper()
	gr := &potv1.Graph{Opsets: []*potv1.OpsetImport{{Version: 13}}, Inputs: []*potv1.ValueInfo{{Name: "x"}}}
	inits := map[string]bool{}
	for _, l := range lines {
		parts := strings.Fields(l)
		n := &potv1.Node{OpType: parts[0], Name: parts[1]}
		arrow := false
		for _, p := range parts[2:] {
			if p == "->" {
				arrow = true
				continue
			}
			if arrow {
				n.Outputs = append(n.Outputs, p)
				continue
			}
			if eq := strings.Index(p, "="); eq > 0 { // attr=int
				n.Attributes = append(n.Attributes, &potv1.Attribute{Name: p[:eq], Type: potv1.Attribute_TYPE_INT, I: int64(p[eq+1] - '0')})
				continue
			}
			n.Inputs = append(n.Inputs, p)
			if strings.HasPrefix(p, "w") && !inits[p] {
				inits[p] = true
				gr.Initializers = append(gr.Initializers, graph.FloatTensor(p, []int64{4, 4, 1, 1}, make([]float32, 16)))
			}
		}
		gr.Nodes = append(gr.Nodes, n)
	}
	gr.Outputs = []*potv1.ValueInfo{{Name: "y"}}
	return graph.NewIndex(gr)
}

func ids(ps []*Point) string {
	var out []string
	for _, p := range ps {
		s := p.ID
		if p.Group != "" {
			s += "{" + p.Group + "}"
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestPlace(t *testing.T) {
	tests := []struct {
		name, device string
		graph        []string
		want         string
	}{
		{
			// The quantizer of c2's input moves above MaxPool (agnostic).
			"conv relu maxpool conv", "cpu",
			[]string{"Conv c1 x w1 -> a", "Relu r a -> b", "MaxPool p b -> c", "Conv c2 c w2 -> y"},
			"a:b a:x w:c1:1 w:c2:1",
		},
		{
			// x·HardSigmoid(x) is an ignored pattern: the Mul gets no
			// quantizers; the next Conv's input does.
			"hard-swish", "cpu",
			[]string{"Conv c1 x w1 -> a", "HardSigmoid h a -> s", "Mul m a s -> b", "Conv c2 b w2 -> y"},
			"a:b a:x w:c1:1 w:c2:1",
		},
		{
			// A residual Add quantizes both inputs; the tensor x feeding c1
			// and the Add is shared: one edge quantizer serves both.
			"residual", "cpu",
			[]string{"Conv c1 x w1 -> a", "Add add x a -> b", "Conv c2 b w2 -> y"},
			"a:a a:b a:x w:c1:1 w:c2:1",
		},
		{
			// On VPU eltwise inputs share scales ("scales": "unified").
			"vpu unified add", "vpu",
			[]string{"Conv c1 x w1 -> a", "Conv c3 x w3 -> d", "Add add d a -> b", "Conv c2 b w2 -> y"},
			"a:a{unified:add} a:b a:d{unified:add} a:x w:c1:1 w:c2:1 w:c3:1",
		},
		{
			// A quantizer after Concat goes onto its inputs, unified on CPU.
			"concat", "cpu",
			[]string{"Conv c1 x w1 -> a", "Conv c3 x w3 -> d", "Concat cat a d -> b", "Conv c2 b w2 -> y"},
			"a:a{concat:cat} a:d{concat:cat} a:x w:c1:1 w:c2:1 w:c3:1",
		},
		{
			// A depthwise convolution (group = channels = 4) takes the
			// per-channel activation option of DepthwiseConv.
			"depthwise", "cpu",
			[]string{"Conv dw x w1 group=4 -> y"},
			"a:x w:dw:1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := g(t, tc.graph...)
			if tc.name == "depthwise" {
				x.G.Initializers[0] = graph.FloatTensor("w1", []int64{4, 1, 3, 3}, make([]float32, 36))
				x = graph.NewIndex(x.G)
			}
			p := &Params{}
			skip, err := p.Skip(x, tc.device)
			if err != nil {
				t.Fatal(err)
			}
			pts, err := Place(x, config(t, tc.device), PlaceOptions{Skip: skip})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(pts); got != tc.want {
				t.Errorf("points\n got %s\nwant %s", got, tc.want)
			}
			if tc.name == "depthwise" {
				for _, pt := range pts {
					if pt.ID == "a:x" && pt.Options[0].GetGranularity() != potv1.Granularity_GRANULARITY_PER_CHANNEL {
						t.Errorf("depthwise input option %v", pt.Options[0])
					}
				}
			}
		})
	}
}

func TestChoosePresetRule(t *testing.T) {
	cfg := config(t, "cpu")
	conv := cfg.Op("Conv")
	act := &Point{ID: "a", Options: conv.GetActivations(), Axis: 1}
	w := &Point{ID: "w", Weights: true, Options: conv.GetWeights(), Axis: 0}
	sym, asym := potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC, potv1.QuantizationMode_QUANTIZATION_MODE_ASYMMETRIC
	for _, tc := range []struct {
		preset        string
		act, weights  potv1.QuantizationMode
		weightsParams *TensorParams
	}{
		{Performance, sym, sym, nil},
		{Mixed, asym, sym, nil},
		{Accuracy, asym, asym, nil},
		{Performance, sym, asym, &TensorParams{Mode: "asymmetric"}},
	} {
		p := &Params{Weights: tc.weightsParams}
		a, err := choose(act, p, tc.preset)
		if err != nil {
			t.Fatal(err)
		}
		o, err := choose(w, p, tc.preset)
		if err != nil {
			t.Fatal(err)
		}
		if a.GetMode() != tc.act || o.GetMode() != tc.weights {
			t.Errorf("%s: activations %v, weights %v", tc.preset, a.GetMode(), o.GetMode())
		}
	}
	// A constraint the target cannot meet for a layer with weights names
	// what it allows; for the constant operand of another operation it
	// is relaxed (MinMax keeps the target's choice there).
	four := &Params{Weights: &TensorParams{Bits: 4}}
	for _, tc := range []struct {
		op      string
		relaxed bool
	}{{"Conv", false}, {"MatMul", false}, {"Gemm", false}, {"Max", true}, {"Add", true}} {
		pt := *w
		pt.Ports = []graph.Port{{Node: &potv1.Node{Name: "n", OpType: tc.op}, Input: 1}}
		_, err := choose(&pt, four, Performance)
		var relaxed *relaxedError
		if err == nil || !strings.Contains(err.Error(), "8-bit symmetric perchannel") || errors.As(err, &relaxed) != tc.relaxed {
			t.Errorf("4-bit weights of %s on CPU: %v (relaxed: want %v)", tc.op, err, tc.relaxed)
		}
	}
}

func TestSaturationLayers(t *testing.T) {
	x := g(t, "Conv c1 x w1 -> a", "Relu r a -> b", "Conv c2 b w2 -> y")
	pairs := &potv1.TargetCapabilities{Accumulator: potv1.Accumulator_ACCUMULATOR_INT16_PAIRS}
	exact := &potv1.TargetCapabilities{Accumulator: potv1.Accumulator_ACCUMULATOR_INT32}
	first, err := saturationLayers(x, "", pairs)
	if err != nil || !first["c1"] || first["c2"] {
		t.Errorf("first_layer: %v %v", first, err)
	}
	all, _ := saturationLayers(x, SaturationAll, pairs)
	if !all["c1"] || !all["c2"] {
		t.Errorf("all: %v", all)
	}
	if none, _ := saturationLayers(x, "", exact); len(none) != 0 {
		t.Errorf("exact int32 accumulation: %v", none)
	}
	if _, err := saturationLayers(x, "some", pairs); err == nil {
		t.Error("bad mode accepted")
	}
}
