package quant

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

// Schema is the JSON Schema of Params.
//
//go:embed schema.json
var Schema string

// Defaults are POT's defaults of the parameters pot acts on.
var Defaults = `{"preset": "performance", "stat_subset_size": 0, "stat_batch_size": 1, "shuffle_data": false, "seed": 0, "use_fast_bias": true, "saturation_fix": "first_layer", "inplace_statistics": true}`

// Plugin makes an algorithm that takes DefaultQuantization's parameters
// (POT passes them to every algorithm of its chain) an sdk.Algorithm:
// it parses the parameters, runs Compute and reports R as JSON.
type Plugin[R any] struct {
	Name, Text string
	Compute    func(ctx context.Context, h sdk.Host, req *sdk.RunRequest, p *Params) (*potv1.QuantizationPlan, R, error)
}

// Describe implements sdk.Algorithm.
func (a Plugin[R]) Describe(context.Context) (*potv1.AlgorithmDescription, error) {
	return Describe(a.Name, a.Text), nil
}

// Run implements sdk.Algorithm.
func (a Plugin[R]) Run(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.RunResponse, error) {
	p, err := ParseParams(req.Params)
	if err != nil {
		return nil, err
	}
	plan, rep, err := a.Compute(ctx, h, req, p)
	if err != nil {
		return nil, err
	}
	return &potv1.RunResponse{Plan: plan, Report: ReportJSON(rep)}, nil
}

// PrefetchingPlugin is a Plugin that tells, before it runs, the
// statistics its run will collect (sdk.Prefetcher), computed by
// Statistics from the same request and parameters.
type PrefetchingPlugin[R any] struct {
	Plugin[R]
	Statistics func(ctx context.Context, h sdk.Host, req *sdk.RunRequest, p *Params) ([]*potv1.StatisticsRequest, error)
}

var _ sdk.Prefetcher = PrefetchingPlugin[any]{}

// Prefetch implements sdk.Prefetcher.
func (a PrefetchingPlugin[R]) Prefetch(ctx context.Context, h sdk.Host, req *sdk.RunRequest) ([]*potv1.StatisticsRequest, error) {
	p, err := ParseParams(req.Params)
	if err != nil {
		return nil, err
	}
	return a.Statistics(ctx, h, req, p)
}

// MinMaxAlgorithm is the MinMaxQuantization plugin.
var MinMaxAlgorithm sdk.Algorithm = Plugin[*MinMaxReport]{
	Name:    "MinMaxQuantization",
	Text:    "Inserts quantizers where the target's hardware config allows them, with ranges from weights and activation statistics.",
	Compute: MinMax,
}

// DefaultAlgorithm is the DefaultQuantization plugin: it runs, through the
// host, ActivationChannelAlignment, MinMaxQuantization and
// FastBiasCorrection or BiasCorrection, as POT's pipeline does.
type DefaultAlgorithm struct {
	// Steps, when set, replaces the chain (for tests and builds that lack
	// some plugins).
	Steps []string
}

var _ sdk.Algorithm = DefaultAlgorithm{}

// Describe implements sdk.Algorithm.
func (d DefaultAlgorithm) Describe(context.Context) (*potv1.AlgorithmDescription, error) {
	desc := Describe("DefaultQuantization", "POT's default 8-bit quantization: channel alignment, min/max ranges, bias correction.")
	// The chain of the default parameters on a target without
	// saturating accumulators, for the host to start ahead.
	desc.Capabilities.Runs = d.Steps
	if d.Steps == nil {
		desc.Capabilities.Runs = defaultChain(&Params{}, nil)
	}
	return desc, nil
}

// Run implements sdk.Algorithm.
func (d DefaultAlgorithm) Run(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.RunResponse, error) {
	p, err := ParseParams(req.Params)
	if err != nil {
		return nil, err
	}
	chain := d.Steps
	if chain == nil {
		chain = defaultChain(p, req.Target)
	}
	steps := chain // the chain, after SmoothQuant when it runs
	plan := req.Plan
	reports := map[string]json.RawMessage{}
	if p.SmoothQuantEnabled() {
		sq, err := smoothQuantParams(req.Params, *p.SmoothQuantAlpha)
		if err != nil {
			return nil, err
		}
		resp, err := h.RunAlgorithm(ctx, &potv1.RunAlgorithmRequest{Name: SmoothQuant, ModelId: req.ModelID, Plan: plan, Params: string(sq)})
		if err != nil {
			return nil, fmt.Errorf("smooth_quant_alpha %g with model_type transformer runs the %s algorithm plugin (pot-algorithm-%s) first: %w",
				*p.SmoothQuantAlpha, SmoothQuant, SmoothQuant, err)
		}
		plan = resp.GetPlan()
		reports[SmoothQuant] = json.RawMessage(resp.GetReport())
		steps = append([]string{SmoothQuant}, chain...)
	} else if p.SmoothQuantAlpha != nil && *p.SmoothQuantAlpha >= 0 {
		sdk.Logger().Warn("smooth_quant_alpha applies to model_type transformer only (as in NNCF): SmoothQuant does not run",
			"smooth_quant_alpha", *p.SmoothQuantAlpha, "model_type", p.ModelType)
	}
	for i, name := range chain {
		// The rest of the chain, so that the host starts those plugins
		// while this one runs.
		resp, err := h.RunAlgorithm(ctx, &potv1.RunAlgorithmRequest{Name: name, ModelId: req.ModelID, Plan: plan, Params: string(req.Params),
			Then: chain[i+1:]})
		if err != nil {
			return nil, err // the host's error names the plugin
		}
		plan = resp.GetPlan()
		reports[name] = json.RawMessage(resp.GetReport())
	}
	b, _ := json.Marshal(map[string]any{"steps": steps, "reports": reports})
	return &potv1.RunResponse{Plan: plan, Report: string(b)}, nil
}

// SmoothQuant is the name of the algorithm plugin DefaultQuantization runs
// first when smooth_quant_alpha asks for it.
const SmoothQuant = "SmoothQuant"

// smoothQuantParams are the parameters of the SmoothQuant run that
// smooth_quant_alpha asks for: DefaultQuantization's own (SmoothQuant
// reads the calibration subset and the preset of them), without
// smooth_quant_alpha, with SmoothQuant's alpha and smooth_only.
func smoothQuantParams(raw json.RawMessage, alpha float64) (json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("params: %w", err)
		}
	}
	delete(m, "smooth_quant_alpha")
	a, err := json.Marshal(alpha)
	if err != nil {
		return nil, fmt.Errorf("params: smooth_quant_alpha: %w", err)
	}
	m["alpha"] = a
	m["smooth_only"] = json.RawMessage("true")
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	return b, nil
}

// defaultChain is POT's DefaultQuantization pipeline for the parameters
// and target.
func defaultChain(p *Params, t *potv1.TargetDescription) []string {
	chain := []string{"ActivationChannelAlignment", "MinMaxQuantization"}
	if sdk.Capabilities(t).GetAccumulator() == potv1.Accumulator_ACCUMULATOR_INT32_SATURATING {
		// POT appends OverflowCorrection at the end, but its bias
		// correction measures a float simulation that cannot overflow;
		// pot's GNA target saturates its int32 accumulators as the device
		// does, so the rescaling must come before bias correction measures
		// the quantized model.
		chain = append(chain, "OverflowCorrection")
	}
	if p.UseFastBias == nil || *p.UseFastBias {
		chain = append(chain, "FastBiasCorrection")
	} else {
		chain = append(chain, "BiasCorrection")
	}
	return chain
}

// Describe builds the description of one of the algorithms that take
// DefaultQuantization's parameters.
func Describe(name, text string) *potv1.AlgorithmDescription {
	return &potv1.AlgorithmDescription{
		Name:             name,
		Version:          sdk.BuildVersion,
		Description:      text,
		ProtocolVersions: []int32{sdk.ProtocolVersion},
		ParamsSchema:     Schema,
		Defaults:         Defaults,
		// Nothing beyond a plain run (and a description of this SDK).
		Capabilities: &potv1.AlgorithmCapabilities{},
	}
}
