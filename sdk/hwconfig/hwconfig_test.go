package hwconfig

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/opset"
)

// config builds a config with one alias per bits value and the given
// operations (JSON objects).
func config(alias string, ops ...string) []byte {
	if alias == "" {
		alias = `"q8": {"bits": 8, "mode": "symmetric", "granularity": "pertensor"}`
	}
	return []byte(`{"config": {"quantization": {` + alias + `}}, "operations": [` + strings.Join(ops, ",") + `]}`)
}

func types(c *potv1.HardwareConfig) []string {
	var out []string
	for _, op := range c.GetOperations() {
		out = append(out, op.GetType())
	}
	return out
}

// TestParseMapsOpenVINONames: POT's operation types become the ONNX
// types pot matches nodes by; ONNX names and DepthwiseConv stay.
func TestParseMapsOpenVINONames(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Convolution", []string{"Conv"}},
		{"GroupConvolution", []string{"Conv"}},
		{"DepthWiseConvolution", []string{"DepthwiseConv"}},
		{"ConvolutionBackpropData", []string{"ConvTranspose"}},
		{"GroupConvolutionBackpropData", []string{"ConvTranspose"}},
		{"MatMul", []string{"MatMul", "Gemm"}},
		{"Multiply", []string{"Mul"}},
		{"Subtract", []string{"Sub"}},
		{"Divide", []string{"Div"}},
		{"Maximum", []string{"Max"}},
		{"Minimum", []string{"Min"}},
		{"LessEqual", []string{"LessOrEqual"}},
		{"GreaterEqual", []string{"GreaterOrEqual"}},
		{"FloorMod", []string{"Mod"}},
		{"LogicalAnd", []string{"And"}},
		{"LogicalOr", []string{"Or"}},
		{"LogicalXor", []string{"Xor"}},
		{"LogicalNot", []string{"Not"}},
		{"Power", []string{"Pow"}},
		{"AvgPool", []string{"AveragePool", "GlobalAveragePool"}},
		{"NormalizeL2", []string{"LpNormalization"}},
		{"Interpolate", []string{"Resize", "Upsample"}},
		{"MVN", []string{"MeanVarianceNormalization"}},
		{"LSTMSequence", []string{"LSTM"}},
		{"GRUSequence", []string{"GRU"}},
		{"ReLU", []string{"Relu"}},
		{"PReLU", []string{"PRelu"}},
		{"Clamp", []string{"Clip"}},
		{"StridedSlice", []string{"Slice"}},
		{"Crop", []string{"Slice"}},
		{"VariadicSplit", []string{"Split"}},
		{"Broadcast", []string{"Expand"}},
		{"ConvertLike", []string{"CastLike"}},
		{"SoftSign", []string{"Softsign"}},
		// The same in both, or ONNX names of pot's own configs.
		{"Add", []string{"Add"}},
		{"MaxPool", []string{"MaxPool"}},
		{"Conv", []string{"Conv"}},
		{"Gemm", []string{"Gemm"}},
		{"DepthwiseConv", []string{"DepthwiseConv"}},
		{"CastLike", []string{"CastLike"}},
	}
	for _, tc := range tests {
		c, warnings, err := ParseWarnings(config("", `{"type": "`+tc.in+`", "quantization": {"activations": "q8"}}`))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := types(c); !slices.Equal(got, tc.want) || len(warnings) > 0 {
			t.Errorf("%s: types %v, warnings %q; want %v and none", tc.in, got, warnings, tc.want)
		}
	}
}

// TestParseMergesAndDrops: an entry naming a type itself wins over one
// mapped to it; otherwise the first wins, with a warning when they
// differ; types without an ONNX operator are left out with a warning.
func TestParseMergesAndDrops(t *testing.T) {
	alias := `"q8": {"bits": 8, "mode": "symmetric", "granularity": "pertensor"},
		"q16": {"bits": 16, "mode": "symmetric", "granularity": "pertensor"}`
	tests := []struct {
		name     string
		ops      []string
		want     map[string]int32 // type -> bits of its first activation option (0: agnostic)
		warnings []string
	}{
		{"named type wins over a mapped one, in either order",
			[]string{`{"type": "MatMul", "quantization": {"activations": "q8"}}`, `{"type": "Gemm", "quantization": {"activations": "q16"}}`,
				`{"type": "Mod", "quantization": {"activations": "q16"}}`, `{"type": "FloorMod", "quantization": {"activations": "q8"}}`},
			map[string]int32{"MatMul": 8, "Gemm": 16, "Mod": 16}, nil},
		{"identical entries merge silently",
			[]string{`{"type": "StridedSlice"}`, `{"type": "Crop"}`, `{"type": "Split"}`, `{"type": "VariadicSplit"}`},
			map[string]int32{"Slice": 0, "Split": 0}, nil},
		{"different entries: the first wins, with a warning",
			[]string{`{"type": "Convolution", "quantization": {"activations": "q8"}}`, `{"type": "GroupConvolution", "quantization": {"activations": "q16"}}`},
			map[string]int32{"Conv": 8},
			[]string{"operations Convolution and GroupConvolution both configure Conv, differently: Convolution is used"}},
		{"no ONNX counterpart",
			[]string{`{"type": "Parameter", "quantization": {"outputs": "q16"}}`, `{"type": "NotEqual", "quantization": {"activations": "q8"}}`,
				`{"type": "ShuffleChannels"}`, `{"type": "Result", "quantization": {"activations": "q16"}}`, `{"type": "Assign", "quantization": {"activations": "q16"}}`},
			map[string]int32{},
			[]string{
				"operation 0: Parameter left out: a model input, not an operator in ONNX",
				"operation 1: NotEqual left out: ONNX writes it Not(Equal(...)); Equal and LogicalNot configure those",
				"operation 2: ShuffleChannels left out: ONNX writes it Reshape, Transpose, Reshape, which quantizers pass through",
				"operation 3: Result left out: a model output, not an operator in ONNX",
				"operation 4: Assign left out: model state, not an operator in ONNX",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, warnings, err := ParseWarnings(config(alias, tc.ops...))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int32{}
			for _, op := range c.GetOperations() {
				if _, dup := got[op.GetType()]; dup {
					t.Errorf("type %s configured twice", op.GetType())
				}
				got[op.GetType()] = 0
				if acts := op.GetActivations(); len(acts) > 0 {
					got[op.GetType()] = acts[0].GetBits()
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("types %v, want %v", got, tc.want)
			}
			if !slices.Equal(warnings, tc.warnings) {
				t.Errorf("warnings\n%q\nwant\n%q", warnings, tc.warnings)
			}
		})
	}
}

// TestParsePOTConfig: POT's cpu.json (OpenVINO names) parses, with the
// two operations that have no ONNX counterpart left out.
func TestParsePOTConfig(t *testing.T) {
	b, err := os.ReadFile("testdata/pot_cpu.json")
	if err != nil {
		t.Fatal(err)
	}
	c, warnings, err := ParseWarnings(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0], "NotEqual") || !strings.Contains(warnings[1], "ShuffleChannels") {
		t.Errorf("warnings %q, want NotEqual's and ShuffleChannels'", warnings)
	}
	for _, want := range []string{"Conv", "DepthwiseConv", "ConvTranspose", "MatMul", "Gemm", "Mul", "Max", "Min", "LessOrEqual",
		"GreaterOrEqual", "Div", "Sub", "Mod", "Or", "Xor", "And", "Not", "Pow", "AveragePool", "GlobalAveragePool",
		"LpNormalization", "Resize", "Upsample", "MeanVarianceNormalization", "LSTM", "GRU", "Slice", "Split", "Expand", "CastLike"} {
		if !slices.Contains(types(c), want) {
			t.Errorf("no %s in %v", want, types(c))
		}
	}
}

func TestParseErrors(t *testing.T) {
	op := `{"type": "Conv", "quantization": {"activations": "a"}}`
	alias := func(fields string) string {
		return `"a": {"mode": "symmetric", "granularity": "pertensor", ` + fields + `}`
	}
	for _, tc := range []struct {
		name string
		src  []byte
		want []string
	}{
		{"unknown alias", config("", `{"type":"Conv","quantization":{"activations":"q9"}}`), []string{`operation Conv: unknown quantization alias "q9"`}},
		{"bad mode", []byte(`{"config":{"quantization":{"a":{"bits":8,"mode":"sym","granularity":"pertensor"}}},"operations":[]}`), []string{`mode "sym" is not symmetric or asymmetric`}},
		{"unknown field", []byte(`{"config":{"quantization":{}},"operations":[],"extra":1}`), []string{`unknown field "extra"`}},
		{"levels pairing", config(alias(`"bits": 8, "level_low": -1`), op), []string{"level_low and level_high go together"}},
		{"misspelt OpenVINO type", config("", `{"type": "Convolutionn"}`),
			[]string{`operation 0: unknown operation type "Convolutionn" (neither an ONNX operator nor an OpenVINO one pot maps); did you mean "Convolution"?`}},
		{"misspelt ONNX type", config("", `{"type": "Relu"}`, `{"type": "GlobalAvgPool"}`),
			[]string{`operation 1: unknown operation type "GlobalAvgPool"`, `did you mean "GlobalLpPool"?`}},
		{"type far from any", config("", `{"type": "Frobnicate"}`), []string{`unknown operation type "Frobnicate" (neither an ONNX operator nor an OpenVINO one pot maps)`}},
		{"input priority type", []byte(`{"input_priority_types": ["Convolutio"], "config": {"quantization": {}}, "operations": []}`),
			[]string{`input_priority_types: unknown operation type "Convolutio"`, `did you mean "Convolution"?`}},
		{"9 bits", config(alias(`"bits": 9`), op), []string{"alias a: bits 9: want 2 to 8, 16 or 32 bits"}},
		{"1 bit", config(alias(`"bits": [8, 1]`), op), []string{"alias a: bits 1: want 2 to 8, 16 or 32 bits"}},
		{"64 bits", config(alias(`"bits": 64`), op), []string{"alias a: bits 64"}},
		{"primary bitwidth", []byte(`{"primary_bitwidth": 12, "config": {"quantization": {}}, "operations": []}`),
			[]string{"primary_bitwidth 12: want 2 to 8, 16 or 32 bits"}},
		{"level_low above level_high", config(alias(`"bits": 8, "level_low": 5, "level_high": -5`), op),
			[]string{"alias a: level_low 5 is not below level_high -5"}},
		{"levels outside the bits", config(alias(`"bits": 8, "level_low": -128, "level_high": 255`), op),
			[]string{"alias a: levels [-128, 255] do not fit 8 bits ([-128, 127] or [0, 255])"}},
		{"levels outside the smaller of two widths", config(alias(`"bits": [16, 8], "level_low": -32768, "level_high": 32767`), op),
			[]string{"alias a: levels [-32768, 32767] do not fit 8 bits"}},
		{"every problem at once", config(alias(`"bits": 9`), `{"type": "Convolutionn", "quantization": {"activations": "a"}}`, `{"type": "Poweer"}`),
			[]string{"alias a: bits 9", `"Convolutionn"`, `"Poweer"`}},
	} {
		_, err := Parse(tc.src)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, w)
			}
		}
	}
}

// TestParseAcceptsBitsPolicy: every width of the policy parses, with
// full signed and unsigned level ranges.
func TestParseAcceptsBitsPolicy(t *testing.T) {
	for _, b := range []int{2, 3, 4, 5, 6, 7, 8, 16, 32} {
		lo, hi := -(int64(1) << (b - 1)), int64(1)<<(b-1)-1
		for _, levels := range []string{"", fmt.Sprintf(`, "level_low": %d, "level_high": %d`, lo, hi), fmt.Sprintf(`, "level_low": 0, "level_high": %d`, int64(1)<<b-1)} {
			src := config(fmt.Sprintf(`"a": {"bits": %d, "mode": "symmetric", "granularity": "pertensor"%s}`, b, levels),
				`{"type": "Conv", "quantization": {"activations": "a"}}`)
			if _, err := Parse(src); err != nil {
				t.Errorf("%d bits%s: %v", b, levels, err)
			}
		}
	}
}

// FuzzParse checks that no input makes Parse panic, and that a config it
// accepts has options with mode, granularity and bits of the policy,
// level bounds in order, and one entry per known ONNX type.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"config":{"quantization":{"q8":{"bits":8,"mode":["symmetric","asymmetric"],"granularity":"pertensor"}}},"operations":[{"type":"Conv","quantization":{"activations":"q8"}},{"type":"MaxPool"}]}`))
	f.Add([]byte(`{"target_device":"GNA","primary_bitwidth":16,"config":{"quantization":{"w":{"bits":[8,16],"mode":"symmetric","granularity":"perchannel","level_low":-127,"level_high":127}}},"operations":[{"type":"MatMul","quantization":{"weights":["w"]},"attributes":{"unified_scales":[[0,1]]}}]}`))
	f.Add([]byte(`{}`))
	// OpenVINO names, merges and drops.
	f.Add([]byte(`{"input_priority_types":["Convolution"],"config":{"quantization":{"a":{"bits":8,"mode":"symmetric","granularity":"pertensor"}}},"operations":[{"type":"Convolution","quantization":{"activations":"a"}},{"type":"GroupConvolution"},{"type":"MatMul","quantization":{"activations":"a"}},{"type":"Gemm"},{"type":"Parameter","quantization":{"outputs":"a"}},{"type":"Crop"},{"type":"StridedSlice"}]}`))
	// Refused: bits, levels, unknown type.
	f.Add([]byte(`{"config":{"quantization":{"a":{"bits":9,"mode":"symmetric","granularity":"pertensor"}}},"operations":[{"type":"Convolutionn","quantization":{"activations":"a"}}]}`))
	f.Add([]byte(`{"config":{"quantization":{"a":{"bits":4,"mode":"asymmetric","granularity":"perchannel","level_low":0,"level_high":16}}},"operations":[]}`))
	if b, err := os.ReadFile("testdata/pot_cpu.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, warnings, err := ParseWarnings(b)
		if err != nil {
			return
		}
		_ = warnings
		if !AllowedBits(c.GetPrimaryBitwidth()) {
			t.Fatalf("primary bitwidth %d", c.GetPrimaryBitwidth())
		}
		seen := map[string]bool{}
		for _, op := range c.GetOperations() {
			if seen[op.GetType()] || !(op.GetType() == DepthwiseConv || opset.IsOperator(op.GetType())) {
				t.Fatalf("operation type %q repeated or not an ONNX type", op.GetType())
			}
			seen[op.GetType()] = true
			for _, o := range append(append(op.GetActivations(), op.GetWeights()...), op.GetOutputs()...) {
				if o.GetMode() == 0 || o.GetGranularity() == 0 || !AllowedBits(o.GetBits()) {
					t.Fatalf("option without mode or granularity, or with %d bits: %v", o.GetBits(), o)
				}
				if o.GetHasLevels() && o.GetLevelLow() >= o.GetLevelHigh() {
					t.Fatalf("levels [%d, %d]", o.GetLevelLow(), o.GetLevelHigh())
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
