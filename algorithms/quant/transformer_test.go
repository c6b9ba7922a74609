package quant

import (
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/hwconfig"
)

// transformerCPU is the part of POT's cpu.json that transformers touch.
const transformerCPU = `{"target_device": "CPU", "config": {"quantization": {
    "q8_a": {"bits": 8, "mode": ["symmetric", "asymmetric"], "granularity": "pertensor"},
    "q8_w_sym": {"bits": 8, "mode": "symmetric", "level_low": -127, "level_high": 127, "granularity": "perchannel"},
    "q8_w_asym": {"bits": 8, "mode": "asymmetric", "granularity": "perchannel"}}},
  "operations": [
    {"type": "Conv", "quantization": {"activations": "q8_a", "weights": ["q8_w_sym", "q8_w_asym"]}},
    {"type": "MatMul", "quantization": {"activations": "q8_a", "weights": ["q8_w_sym", "q8_w_asym"]}},
    {"type": "Gemm", "quantization": {"activations": "q8_a", "weights": ["q8_w_sym", "q8_w_asym"]}},
    {"type": "Add", "quantization": {"activations": "q8_a", "weights": ["q8_w_sym", "q8_w_asym"]}},
    {"type": "Mul", "quantization": {"activations": "q8_a", "weights": ["q8_w_sym", "q8_w_asym"]}},
    {"type": "Sub", "quantization": {"activations": "q8_a", "weights": ["q8_w_sym", "q8_w_asym"]}},
    {"type": "Div", "quantization": {"activations": "q8_a", "weights": ["q8_w_sym", "q8_w_asym"]}},
    {"type": "Equal", "quantization": {"activations": "q8_a", "weights": ["q8_w_sym", "q8_w_asym"]}},
    {"type": "Pow", "quantization": {"activations": "q8_a"}},
    {"type": "ReduceMean", "quantization": {"activations": "q8_a"}},
    {"type": "MeanVarianceNormalization", "quantization": {"activations": "q8_a"}},
    {"type": "Concat", "attributes": {"unified_scales": "all"}},
    {"type": "Reshape"}, {"type": "Transpose"}, {"type": "Gather"}]}`

// layerNormLines is a layer normalization as PyTorch exports it at
// opset 13, reading t and writing out.
func layerNormLines(p, t, out string) []string {
	return []string{
		"ReduceMean " + p + "mean " + t + " -> " + p + "m",
		"Sub " + p + "sub " + t + " " + p + "m -> " + p + "d",
		"Pow " + p + "pow " + p + "d w2 -> " + p + "sq",
		"ReduceMean " + p + "var " + p + "sq -> " + p + "v",
		"Add " + p + "eps " + p + "v w3 -> " + p + "ve",
		"Sqrt " + p + "sqrt " + p + "ve -> " + p + "s",
		"Div " + p + "div " + p + "d " + p + "s -> " + p + "n",
		"Mul " + p + "gamma " + p + "n w4 -> " + p + "g",
		"Add " + p + "beta " + p + "g w5 -> " + out,
	}
}

func TestPlaceTransformer(t *testing.T) {
	hw, err := hwconfig.Parse([]byte(transformerCPU))
	if err != nil {
		t.Fatal(err)
	}
	cfg := NewConfig(hw)
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	attention := []string{
		"MatMul pq x w1 -> q", "MatMul pk x w6 -> k", "MatMul pv x w7 -> v",
		"Transpose tk k -> kt", "MatMul qk q kt -> s", "Softmax sm s -> a", "MatMul av a v -> y",
	}
	tests := []struct {
		name, modelType string
		graph           []string
		want            string
	}{
		{
			// Shape arithmetic (int64) gets no quantizer, whatever the
			// hardware config says of Mul and Equal; the float Add does.
			"integer shape subgraph", "",
			[]string{"Conv c1 x w1 -> a", "Shape sh a -> s", "Mul m s s -> s2", "Equal eq s s2 -> e", "Where wh e s s2 -> s3",
				"Reshape r a s3 -> b", "Add add b b -> y"},
			"a:b a:x w:c1:1",
		},
		{
			// A decomposed layer normalization is an MVN: its input is
			// quantized for it (both readers: ReduceMean and Sub), nothing
			// inside, and its scale and shift stay float; the MatMul after
			// it quantizes the normalized output.
			"decomposed layer norm", "",
			cat(layerNormLines("ln_", "x", "n"), []string{"MatMul mm n w6 -> y"}),
			"a:n a:x w:mm:1",
		},
		{
			// Transformer mode ignores ReduceMean, but not the MVN the
			// first ReduceMean stands for.
			"decomposed layer norm, transformer", "transformer",
			cat(layerNormLines("ln_", "x", "n"), []string{"MatMul mm n w6 -> y"}),
			"a:n a:x w:mm:1",
		},
		{
			// x·0.5·(1 + Erf(x/√2)) between two linear layers: no
			// quantizer inside the GELU (no hardware config quantizes
			// Gelu), the bias Add is an operation_with_bias.
			"erf gelu", "",
			[]string{"MatMul mm x w1 -> h", "Add bias h w2 -> a", "Div dv a w3 -> sc", "Erf erf sc -> e", "Add one e w4 -> e1",
				"Mul m a e1 -> p", "Mul half p w5 -> g", "MatMul mm2 g w6 -> y"},
			"a:g a:x w:mm2:1 w:mm:1",
		},
		{
			// Q·Kᵀ and softmax·V quantize both their inputs.
			"attention", "",
			attention,
			"a:a a:k a:q a:v a:x w:pk:1 w:pq:1 w:pv:1",
		},
		{
			// BERT's attention: values from Add → Reshape → Transpose make
			// softmax·V POT's softmax_reshape_transpose_matmul pattern,
			// which stays float.
			"attention with BERT's values", "",
			[]string{"MatMul pq x w1 -> q", "MatMul pk x w6 -> k", "MatMul pv x w7 -> vv", "Add vb vv w2 -> vb1", "Shape shp vb1 -> sh",
				"Reshape rv vb1 sh -> vr", "Transpose tv vr -> v", "Transpose tk k -> kt", "MatMul qk q kt -> s", "Softmax sm s -> a",
				"MatMul av a v -> y"},
			"a:k a:q a:x w:pk:1 w:pq:1 w:pv:1",
		},
		{
			// A residual Add and a division by a constant are float in
			// transformer mode; the MatMuls keep their quantizers, on
			// their own ports since the float readers share the tensors.
			"residual and scaling, transformer", "transformer",
			[]string{"MatMul mm x w1 -> h", "Div scale h w2 -> q", "MatMul qk q h -> s", "Add res s x -> y"},
			"a:h@qk:1 a:q a:x@mm:0 w:mm:1",
		},
		{
			"residual and scaling, default", "",
			[]string{"MatMul mm x w1 -> h", "Div scale h w2 -> q", "MatMul qk q h -> s", "Add res s x -> y"},
			"a:h a:q a:s a:x w:mm:1 w:scale:1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := g(t, tc.graph...)
			x.G.Inputs[0].Dtype = potv1.DataType_DATA_TYPE_FLOAT
			p := &Params{ModelType: tc.modelType}
			skip, err := p.Skip(x, "CPU")
			if err != nil {
				t.Fatal(err)
			}
			pts, err := Place(x, cfg, PlaceOptions{Skip: skip})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(pts); got != tc.want {
				t.Errorf("points\n got %s\nwant %s", got, tc.want)
			}
			for _, pt := range pts {
				if x.NotFloat(pt.Tensor) {
					t.Errorf("quantizer %s on a %v tensor", pt.ID, x.ValueType(pt.Tensor))
				}
			}
		})
	}
}

// In transformer mode the operands of a MatMul of two activations are
// symmetric on ANY, CPU and GPU (POT); VPU keeps its 8-bit asymmetric
// option, its symmetric one being 4-bit.
func TestTransformerProductOptions(t *testing.T) {
	sym, asym := potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC, potv1.QuantizationMode_QUANTIZATION_MODE_ASYMMETRIC
	cpu := []*potv1.QuantizationOption{{Bits: 8, Mode: sym}, {Bits: 8, Mode: asym}}
	vpu := []*potv1.QuantizationOption{{Bits: 8, Mode: asym}, {Bits: 4, Mode: sym}, {Bits: 8, Mode: asym}}
	for _, tc := range []struct {
		device string
		opts   []*potv1.QuantizationOption
		last   *potv1.QuantizationOption // what the mixed preset (last option) picks
	}{
		{"CPU", cpu, cpu[0]},
		{"GPU", cpu, cpu[0]},
		{"ANY", cpu, cpu[0]},
		{"VPU", vpu, vpu[2]},
	} {
		opts := tc.opts
		if sdk.Capabilities(&potv1.TargetDescription{Device: tc.device}).GetSymmetricActivationProducts() {
			opts = onlyMode(opts, sym)
		}
		if got := opts[len(opts)-1]; got.GetBits() != tc.last.GetBits() || got.GetMode() != tc.last.GetMode() {
			t.Errorf("%s: %d-bit %v, want %d-bit %v", tc.device, got.GetBits(), got.GetMode(), tc.last.GetBits(), tc.last.GetMode())
		}
	}
}
