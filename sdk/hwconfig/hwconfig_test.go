package hwconfig

import "testing"

func TestParseErrors(t *testing.T) {
	for name, src := range map[string]string{
		"unknown alias":  `{"config":{"quantization":{}},"operations":[{"type":"Conv","quantization":{"activations":"q8"}}]}`,
		"bad mode":       `{"config":{"quantization":{"a":{"bits":8,"mode":"sym","granularity":"pertensor"}}},"operations":[]}`,
		"unknown field":  `{"config":{"quantization":{}},"operations":[],"extra":1}`,
		"levels pairing": `{"config":{"quantization":{"a":{"bits":8,"mode":"symmetric","granularity":"pertensor","level_low":-1}}},"operations":[]}`,
	} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzParse checks that no input makes Parse panic, and that a config it
// accepts has options with sane bit widths.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"config":{"quantization":{"q8":{"bits":8,"mode":["symmetric","asymmetric"],"granularity":"pertensor"}}},"operations":[{"type":"Conv","quantization":{"activations":"q8"}},{"type":"MaxPool"}]}`))
	f.Add([]byte(`{"target_device":"GNA","primary_bitwidth":16,"config":{"quantization":{"w":{"bits":[8,16],"mode":"symmetric","granularity":"perchannel","level_low":-127,"level_high":127}}},"operations":[{"type":"MatMul","quantization":{"weights":["w"]},"attributes":{"unified_scales":[[0,1]]}}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		for _, op := range c.GetOperations() {
			for _, o := range append(append(op.GetActivations(), op.GetWeights()...), op.GetOutputs()...) {
				if o.GetMode() == 0 || o.GetGranularity() == 0 {
					t.Fatalf("option without mode or granularity: %v", o)
				}
			}
		}
	})
}

func TestMustParse(t *testing.T) {
	c := MustParse([]byte(`{"target_device":"NPU","config":{"quantization":{"q8":{"bits":8,"mode":"symmetric","granularity":"pertensor"}}},"operations":[{"type":"Conv","quantization":{"activations":"q8"}},{"type":"MaxPool"}]}`))
	if c.GetTargetDevice() != "NPU" || len(c.GetOperations()) != 2 || !c.GetOperations()[1].GetAgnostic() {
		t.Errorf("config %v", c)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParse of a bad config did not panic")
		}
	}()
	MustParse([]byte(`{"operations":[{"type":"Conv","quantization":{"activations":"q8"}}]}`))
}
