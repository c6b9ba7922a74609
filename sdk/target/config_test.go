package target

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/targets/interp/tensor"
	"google.golang.org/protobuf/proto"
)

func TestNewRefusesInvalidConfigs(t *testing.T) {
	valid := func() Config {
		return Config{Name: "npu", Version: "1.0", Device: "NPU", HardwareConfig: testHW, Presets: []string{"performance"}}
	}
	kernel := func(*Node) (Kernel, error) { return nil, nil }
	tests := []struct {
		name string
		edit func(c *Config)
		want []string // in the error
	}{
		{"required fields", func(c *Config) { c.Version, c.Device, c.HardwareConfig = "", "", nil },
			[]string{"Version is empty", "Device is empty", "HardwareConfig is missing"}},
		{"no presets", func(c *Config) { c.Presets = nil }, []string{"Presets is empty"}},
		{"unknown preset", func(c *Config) { c.Presets = []string{"performance", "fast"} }, []string{`preset "fast"`}},
		{"precise preset", func(c *Config) { c.Capabilities = &potv1.TargetCapabilities{PrecisePreset: "accuracy"} },
			[]string{`precise preset "accuracy"`}},
		{"op set", func(c *Config) { c.OpSet = []string{"Conv", "ReLU", "Convolution"} },
			[]string{`op set: "ReLU"`, `op set: "Convolution"`}},
		{"operator", func(c *Config) { c.Operators = []Operator{{Domain: "com.npu", OpType: "Fused"}} },
			[]string{`operator "Fused" of domain "com.npu"`}},
		{"twice", func(c *Config) {
			c.Operators = []Operator{{OpType: "Gelu", New: kernel}, {OpType: "Gelu", Since: 1, New: kernel}}
		}, []string{"Gelu registered twice"}},
		{"rounding", func(c *Config) { c.Numerics.Rounding = 42 }, []string{"rounding"}},
		{"rounding said twice", func(c *Config) {
			c.Capabilities = &potv1.TargetCapabilities{Rounding: potv1.Rounding_ROUNDING_HALF_AWAY_FROM_ZERO}
		}, []string{"Capabilities say rounding ROUNDING_HALF_AWAY_FROM_ZERO, Numerics half_to_even"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.edit(&c)
			_, err := New(c)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	// An op set may name the target's own operators of the ONNX domain.
	c := valid()
	c.OpSet = []string{"Conv", "FusedConvRelu"}
	c.Operators = []Operator{{OpType: "FusedConvRelu", New: kernel}}
	if _, err := New(c); err != nil {
		t.Errorf("op set with an own operator: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustNew of an invalid config did not panic")
		}
	}()
	MustNew(Config{})
}

// New fills in the defaults: all cores, batches of 64, exact int32
// accumulation said in the capabilities.
func TestDefaults(t *testing.T) {
	e := newEngine(t, Config{Name: "d"})
	d, err := e.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if e.cfg.Threads < 1 || e.cfg.BatchSize != 64 || d.GetCapabilities().GetAccumulator() != potv1.Accumulator_ACCUMULATOR_INT32 {
		t.Errorf("threads %d, batch %d, capabilities %v", e.cfg.Threads, e.cfg.BatchSize, d.GetCapabilities())
	}
	caps := &potv1.TargetCapabilities{Accumulator: potv1.Accumulator_ACCUMULATOR_INT16_PAIRS}
	e = newEngine(t, Config{Name: "d", Threads: 3, BatchSize: 5, Capabilities: caps})
	want := &potv1.TargetCapabilities{Accumulator: potv1.Accumulator_ACCUMULATOR_INT16_PAIRS,
		Rounding: potv1.Rounding_ROUNDING_HALF_TO_EVEN, FloatPrecision: potv1.FloatPrecision_FLOAT_PRECISION_FLOAT32}
	if e.cfg.Threads != 3 || e.cfg.BatchSize != 5 || !proto.Equal(e.cfg.Capabilities, want) {
		t.Errorf("threads %d, batch %d, capabilities %v, want %v", e.cfg.Threads, e.cfg.BatchSize, e.cfg.Capabilities, want)
	}
	if caps.GetRounding() != potv1.Rounding_ROUNDING_UNSPECIFIED {
		t.Errorf("New changed the caller's capabilities: %v", caps)
	}
}

// The float precision is said typed and as a property: from either, the
// typed one winning.
func TestFloatPrecision(t *testing.T) {
	f16, f32 := potv1.FloatPrecision_FLOAT_PRECISION_FLOAT16, potv1.FloatPrecision_FLOAT_PRECISION_FLOAT32
	for _, tc := range []struct {
		name     string
		caps     *potv1.TargetCapabilities
		props    map[string]string
		want     potv1.FloatPrecision
		wantProp string
	}{
		{"none", nil, nil, f32, ""},
		{"typed", &potv1.TargetCapabilities{FloatPrecision: f16}, nil, f16, "float16"},
		{"property", nil, map[string]string{"float_precision": "float16"}, f16, "float16"},
		{"both", &potv1.TargetCapabilities{FloatPrecision: f16}, map[string]string{"float_precision": "float16", "x": "y"}, f16, "float16"},
		{"float32 property", nil, map[string]string{"float_precision": "float32"}, f32, "float32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := newEngine(t, Config{Name: "f", Capabilities: tc.caps, Properties: tc.props}).Describe(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got, prop := d.GetCapabilities().GetFloatPrecision(), d.GetProperties()["float_precision"]; got != tc.want || prop != tc.wantProp {
				t.Errorf("float precision %v, property %q; want %v, %q", got, prop, tc.want, tc.wantProp)
			}
		})
	}
}

// A target with an op set refuses, at load, every node outside it (in
// subgraphs too) with its name and operator, lets quantizers and
// Constant nodes through, and lists only its operators.
func TestOpSet(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{Name: "npu", OpSet: []string{"Conv", "Relu", "MaxPool", "Flatten", "Gemm", "If"}})
	resp, err := e.LoadModel(ctx, lenet(t))
	if err != nil || resp.GetModelId() == "" {
		t.Fatalf("LeNet: %v, %v", resp, err)
	}
	g := lenet(t)
	g.Nodes[1].OpType = "Sigmoid" // /Relu
	g.Nodes = append(g.Nodes,
		&potv1.Node{Name: "k", OpType: "Constant", Outputs: []string{"k"},
			Attributes: []*potv1.Attribute{{Name: "value_float", Type: potv1.Attribute_TYPE_FLOAT, F: 1}}},
		&potv1.Node{Name: "q", OpType: "QuantizeLinear", Inputs: []string{"logits", "k"}, Outputs: []string{"q"}},
		&potv1.Node{Name: "dq", OpType: "DequantizeLinear", Inputs: []string{"q", "k"}, Outputs: []string{"dq"}},
		&potv1.Node{Name: "soft", OpType: "Softmax", Inputs: []string{"dq"}, Outputs: []string{"p"}},
		&potv1.Node{Name: "vendor", OpType: "Relu", Domain: "com.other", Inputs: []string{"p"}, Outputs: []string{"r"}},
		&potv1.Node{Name: "branch", OpType: "If", Inputs: []string{"c"}, Outputs: []string{"b"}, Attributes: []*potv1.Attribute{
			{Name: "then_branch", Type: potv1.Attribute_TYPE_GRAPH, G: &potv1.Graph{Outputs: []*potv1.ValueInfo{{Name: "t"}},
				Nodes: []*potv1.Node{{Name: "inner", OpType: "Tanh", Inputs: []string{"r"}, Outputs: []string{"t"}}}}},
		}},
	)
	resp, err = e.LoadModel(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/Relu (Sigmoid): operator Sigmoid is not in the op set of target npu",
		"soft (Softmax): operator Softmax is not in the op set of target npu",
		`vendor (Relu): operator Relu of domain "com.other" is not in the op set of target npu`,
		"inner (Tanh): operator Tanh is not in the op set of target npu",
	}
	if resp.GetModelId() != "" || !slices.Equal(resp.GetUnsupported(), want) {
		t.Errorf("model %q, unsupported\n%s\nwant\n%s", resp.GetModelId(), strings.Join(resp.GetUnsupported(), "\n"), strings.Join(want, "\n"))
	}
	d, err := e.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, o := range d.GetOperators() {
		types[o.GetDomain()+"/"+o.GetOpType()] = true
	}
	for _, op := range []string{"/Conv", "/Relu", "/MaxPool", "/Flatten", "/Gemm", "/If", "/QuantizeLinear", "/DequantizeLinear", "/Constant", "ai.pot/FakeQuantize",
		"com.microsoft/QuantizeLinear", "com.microsoft/DequantizeLinear"} {
		if !types[op] {
			t.Errorf("Describe does not list %s", op)
		}
		delete(types, op)
	}
	if len(types) > 0 {
		t.Errorf("Describe lists operators outside the op set: %v", types)
	}
}

// Operators add kernels in a vendor's domain and replace the runtime's,
// for the target's programs only; Describe lists them.
func TestOperators(t *testing.T) {
	ctx := context.Background()
	scale := func(k float32) func(n *Node) (Kernel, error) {
		return func(n *Node) (Kernel, error) {
			by := n.Float("by", k)
			return KernelFunc(func(_ *Context, in, out []*Tensor) error {
				out[0].Reset(Float, in[0].Shape)
				for i, v := range in[0].F32() {
					out[0].F32()[i] = by * v
				}
				return nil
			}), nil
		}
	}
	e := newEngine(t, Config{Name: "own", OpSet: []string{"Relu"}, Operators: []Operator{
		{Domain: "com.npu", OpType: "Scale", New: scale(2)},
		{OpType: "Relu", New: scale(-1)}, // the device's Relu negates
	}})
	g := &potv1.Graph{Name: "own", Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs:  []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Nodes: []*potv1.Node{
			{Name: "s", OpType: "Scale", Domain: "com.npu", Inputs: []string{"x"}, Outputs: []string{"s"},
				Attributes: []*potv1.Attribute{{Name: "by", Type: potv1.Attribute_TYPE_FLOAT, F: 3}}},
			{Name: "r", OpType: "Relu", Inputs: []string{"s"}, Outputs: []string{"y"}},
		}}
	resp, err := e.LoadModel(ctx, g)
	if err != nil || resp.GetModelId() == "" {
		t.Fatalf("LoadModel: %v, %v", resp, err)
	}
	x := floatTensor("x", 1, -2)
	out, err := e.Infer(ctx, &potv1.InferRequest{ModelId: resp.GetModelId(), Inputs: []*potv1.Tensor{x}})
	if err != nil {
		t.Fatal(err)
	}
	if got := floats(t, out.GetOutputs()[0]); !slices.Equal(got, []float32{-3, 6}) {
		t.Errorf("y = %v, want [-3 6]", got)
	}
	d, err := e.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range d.GetOperators() {
		found = found || o.GetDomain() == "com.npu" && o.GetOpType() == "Scale" && o.GetSinceVersion() == 1
	}
	if !found {
		t.Error("Describe does not list com.npu/Scale")
	}
	// Another target keeps the runtime's Relu.
	plain := newEngine(t, Config{Name: "plain"})
	g.Nodes = g.Nodes[1:]
	g.Nodes[0].Inputs = []string{"x"}
	resp, err = plain.LoadModel(ctx, g)
	if err != nil || resp.GetModelId() == "" {
		t.Fatalf("LoadModel: %v, %v", resp, err)
	}
	out, err = plain.Infer(ctx, &potv1.InferRequest{ModelId: resp.GetModelId(), Inputs: []*potv1.Tensor{x}})
	if err != nil {
		t.Fatal(err)
	}
	if got := floats(t, out.GetOutputs()[0]); !slices.Equal(got, []float32{1, 0}) {
		t.Errorf("y = %v, want [1 0]", got)
	}
}

// Numerics.Rounding rounds the quantizers of plans: ties (x/scale of
// 0.5, 1.5, -0.5, -2.5) go to even by default, away from zero, or down
// (as does 1.2).
func TestRounding(t *testing.T) {
	ctx := context.Background()
	g := &potv1.Graph{Name: "id", Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs:  []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Nodes:   []*potv1.Node{{Name: "id", OpType: "Identity", Inputs: []string{"x"}, Outputs: []string{"y"}}}}
	// 256 levels over [-64, 63.5]: a step of 0.5, zero on level 128.
	q := &potv1.Quantizer{Id: "x", Location: &potv1.Location{Tensor: "x"}, Levels: 256, Bits: 8,
		InputLow: []float32{-64}, InputHigh: []float32{63.5}, OutputLow: []float32{-64}, OutputHigh: []float32{63.5}}
	x := floatTensor("x", 0.25, 0.75, -0.25, -1.25, 0.6)
	tests := []struct {
		r    Rounding
		want []float32 // the quantized x
	}{
		{RoundHalfToEven, []float32{0, 1, 0, -1, 0.5}},
		{RoundHalfAwayFromZero, []float32{0.5, 1, -0.5, -1.5, 0.5}},
		{RoundDown, []float32{0, 0.5, -0.5, -1.5, 0.5}},
	}
	for _, tc := range tests {
		t.Run(tc.r.String(), func(t *testing.T) {
			e := newEngine(t, Config{Name: "r", Numerics: Numerics{Rounding: tc.r}})
			resp, err := e.LoadModel(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.Infer(ctx, &potv1.InferRequest{ModelId: resp.GetModelId(), Inputs: []*potv1.Tensor{x},
				Plan: &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{q}}, Outputs: []string{"y"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := floats(t, out.GetOutputs()[0]); !slices.Equal(got, tc.want) {
				t.Errorf("y = %v, want %v", got, tc.want)
			}
			d, err := e.Describe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r, ok := d.GetProperties()["rounding"]; ok != (tc.r != RoundHalfToEven) || ok && r != tc.r.String() {
				t.Errorf("property rounding %q (set: %v)", r, ok)
			}
			// The typed rounding is the protocol's of the same name, which
			// pot reads from the property of a target that does not say it.
			want := potv1.Rounding(potv1.Rounding_value["ROUNDING_"+strings.ToUpper(tc.r.String())])
			if got := d.GetCapabilities().GetRounding(); got != want || got == potv1.Rounding_ROUNDING_UNSPECIFIED {
				t.Errorf("capability rounding %v, want %v", got, want)
			}
			if got := sdk.Capabilities(&potv1.TargetDescription{Properties: d.GetProperties()}).GetRounding(); got != want {
				t.Errorf("a host reading the property only gets %v, want %v", got, want)
			}
		})
	}
}

// Every rounding has the protocol's rounding of its name, which pot reads
// from the property "rounding" of a target that does not say it typed.
func TestRoundingProto(t *testing.T) {
	seen := map[potv1.Rounding]bool{}
	for r := Rounding(0); r.Valid(); r++ {
		p := roundingProto(r)
		if p.String() != "ROUNDING_"+strings.ToUpper(r.String()) || seen[p] {
			t.Errorf("%v is %v", r, p)
		}
		if got := sdk.Capabilities(&potv1.TargetDescription{Properties: map[string]string{"rounding": r.String()}}).GetRounding(); got != p {
			t.Errorf("property %q reads as %v, want %v", r, got, p)
		}
		seen[p] = true
	}
	if len(seen) != 5 {
		t.Errorf("%d roundings, want 5", len(seen))
	}
}

// floats returns a float32 tensor's values.
func floats(t *testing.T, p *potv1.Tensor) []float32 {
	t.Helper()
	v, err := FromProto(p)
	if err != nil {
		t.Fatal(err)
	}
	return v.F32()
}

// floatTensor is a 1-D float32 tensor.
func floatTensor(name string, v ...float32) *potv1.Tensor {
	return ToProto(name, tensor.From([]int{len(v)}, v))
}
