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
