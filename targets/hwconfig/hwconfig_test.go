package hwconfig

import (
	"os"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/hwconfig"
)

func find(c *potv1.HardwareConfig, op string) *potv1.OperationConfig {
	for _, o := range c.GetOperations() {
		if o.GetType() == op {
			return o
		}
	}
	return nil
}

func TestBuiltinConfigs(t *testing.T) {
	sym, asym := potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC, potv1.QuantizationMode_QUANTIZATION_MODE_ASYMMETRIC
	pt, pc := potv1.Granularity_GRANULARITY_PER_TENSOR, potv1.Granularity_GRANULARITY_PER_CHANNEL
	tests := []struct {
		device, op   string
		acts, weight []potv1.QuantizationMode
		actGran      potv1.Granularity
		agnostic     bool
		attr         string
	}{
		// q8_a expands to symmetric first (performance), asymmetric last (mixed).
		{device: "cpu", op: "Conv", acts: []potv1.QuantizationMode{sym, asym}, weight: []potv1.QuantizationMode{sym, asym}, actGran: pt},
		{device: "cpu", op: "DepthwiseConv", acts: []potv1.QuantizationMode{sym, asym}, weight: []potv1.QuantizationMode{sym, asym}, actGran: pc},
		{device: "cpu", op: "MaxPool", agnostic: true},
		{device: "cpu", op: "Concat", agnostic: true, attr: "unified_scales"},
		{device: "vpu", op: "Conv", acts: []potv1.QuantizationMode{asym, sym, asym}, weight: []potv1.QuantizationMode{sym, sym, sym, asym}, actGran: pt},
		{device: "vpu", op: "Add", acts: []potv1.QuantizationMode{asym, sym, asym}, weight: []potv1.QuantizationMode{sym}, actGran: pt, attr: "scales"},
		{device: "gna", op: "MatMul", acts: []potv1.QuantizationMode{sym}, weight: []potv1.QuantizationMode{sym, sym}, actGran: pt},
	}
	for _, tc := range tests {
		t.Run(tc.device+"/"+tc.op, func(t *testing.T) {
			c := MustLoad(tc.device)
			o := find(c, tc.op)
			if o == nil {
				t.Fatalf("no %s in %s config", tc.op, tc.device)
			}
			if o.GetAgnostic() != tc.agnostic {
				t.Fatalf("agnostic = %v", o.GetAgnostic())
			}
			if tc.attr != "" && o.GetAttributes()[tc.attr] == "" {
				t.Fatalf("attribute %s missing: %v", tc.attr, o.GetAttributes())
			}
			if len(o.GetActivations()) != len(tc.acts) || len(o.GetWeights()) != len(tc.weight) {
				t.Fatalf("got %d activation and %d weight options", len(o.GetActivations()), len(o.GetWeights()))
			}
			for i, m := range tc.acts {
				if o.GetActivations()[i].GetMode() != m || o.GetActivations()[i].GetGranularity() != tc.actGran {
					t.Errorf("activation option %d: %v", i, o.GetActivations()[i])
				}
			}
			for i, m := range tc.weight {
				if o.GetWeights()[i].GetMode() != m {
					t.Errorf("weight option %d: %v", i, o.GetWeights()[i])
				}
			}
		})
	}
	// Symmetric 8-bit weights on CPU use the narrow range -127..127.
	w := find(MustLoad("cpu"), "Conv").GetWeights()[0]
	if !w.GetHasLevels() || w.GetLevelLow() != -127 || w.GetLevelHigh() != 127 || w.GetGranularity() != pc {
		t.Errorf("cpu q8_w_sym = %v", w)
	}
	if MustLoad("gna").GetPrimaryBitwidth() != 16 {
		t.Error("gna primary bitwidth is not 16")
	}
}

// TestBuiltinConfigsParseCleanly: the built-in configs name ONNX types
// only, each once, and parse without warnings.
func TestBuiltinConfigsParseCleanly(t *testing.T) {
	for _, d := range []string{"cpu", "gpu", "vpu", "gna"} {
		src, err := Source(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, warnings, err := hwconfig.ParseWarnings(src); err != nil || len(warnings) > 0 {
			t.Errorf("%s: %v, warnings %q", d, err, warnings)
		}
	}
}

// TestPOTConfigMatchesBuiltin: POT's cpu.json, with OpenVINO names, says
// what the built-in cpu config says of every type both configure; the
// built-in's other types are quantization-agnostic.
func TestPOTConfigMatchesBuiltin(t *testing.T) {
	src, err := os.ReadFile("../../sdk/hwconfig/testdata/pot_cpu.json")
	if err != nil {
		t.Fatal(err)
	}
	pot, err := hwconfig.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	builtin := MustLoad("cpu")
	for _, o := range builtin.GetOperations() {
		p := find(pot, o.GetType())
		switch {
		case p == nil && !o.GetAgnostic():
			t.Errorf("%s: quantized in the built-in config, absent from POT's", o.GetType())
		case p != nil && !proto.Equal(p, o):
			t.Errorf("%s: POT's %v, built-in %v", o.GetType(), p, o)
		}
	}
	for _, p := range pot.GetOperations() {
		if find(builtin, p.GetType()) == nil {
			t.Errorf("%s: in POT's config only", p.GetType())
		}
	}
}
