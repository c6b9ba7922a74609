package hwconfig

import (
	"testing"

	"github.com/potgo/pot/proto/potv1"
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
