package quant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
	sdkplan "github.com/potgo/pot/sdk/plan"
)

// MinMaxReport is what MinMaxQuantization reports.
type MinMaxReport struct {
	Preset      string `json:"preset"`
	Quantizers  int    `json:"quantizers"`
	Weights     int    `json:"weights"`
	Activations int    `json:"activations"`
	Samples     int64  `json:"stat_samples"`
	// SaturationFixed lists the layers whose weights use 7 bits.
	SaturationFixed []string `json:"saturation_fixed,omitempty"`
	// TargetDefault lists the operations whose constant operand (the
	// bound of a Maximum, the addend of an Add) the target cannot
	// quantize as the user asked (--weight-bits 4, say): it keeps the
	// target's configuration, with the reason. Layers with weights
	// (Conv, Gemm, MatMul) are refused instead.
	TargetDefault map[string]string `json:"target_default_weights,omitempty"`
	// Float lists the layers kept in float, with the reason: the
	// activations they read got no statistics (they sit in a subgraph no
	// calibration sample ran).
	Float map[string]string `json:"float_layers,omitempty"`
	// Outliers lists the activations whose range is more than 16 times
	// wider than 99.9% of their values (on the first calibration
	// samples), with their ranges: a quantile range estimator would
	// serve them better.
	Outliers map[string]string `json:"outliers,omitempty"`
}

// MinMax computes a plan: quantizers placed by the target's hardware
// config with ranges from weights and activation statistics (POT's
// MinMaxQuantization). The tensor updates of the incoming plan (from
// channel alignment, for instance) are kept and statistics are taken on
// the model with them.
func MinMax(ctx context.Context, h sdk.Host, req *sdk.RunRequest, p *Params) (*potv1.QuantizationPlan, *MinMaxReport, error) {
	g, err := h.Graph(ctx, req.ModelID)
	if err != nil {
		return nil, nil, err
	}
	x := graph.NewIndex(g)
	hw := req.Target.GetHardwareConfig()
	if hw == nil {
		return nil, nil, fmt.Errorf("target %q publishes no hardware config", req.Target.GetName())
	}
	cfg := NewConfig(hw)
	// The host resolves presets against what the target publishes; this
	// resolves them for hosts that do not.
	preset, _ := sdk.ResolvePreset(p.Preset, sdk.Presets(req.Target))
	skip, err := p.Skip(x, req.Target.GetDevice())
	if err != nil {
		return nil, nil, err
	}
	points, err := Place(x, cfg, PlaceOptions{Skip: skip})
	if err != nil {
		return nil, nil, err
	}
	needRescale := sdkplan.NeedRescale(req.Plan)
	plan := &potv1.QuantizationPlan{Preset: preset, TensorUpdates: append([]*potv1.Tensor(nil), req.Plan.GetTensorUpdates()...), Metadata: map[string]string{}}
	for k, v := range req.Plan.GetMetadata() {
		plan.Metadata[k] = v
	}
	sdkplan.SetNeedRescale(plan, slices.Clone(needRescale))
	updated := map[string]*potv1.Tensor{}
	for _, t := range plan.TensorUpdates {
		updated[t.GetName()] = t
	}
	satLayers, err := saturationLayers(x, p.SaturationFix, sdk.Capabilities(req.Target))
	if err != nil {
		return nil, nil, err
	}
	if satLayers != nil {
		// Layers whose input channels channel alignment rescaled get the
		// fix too (POT's need_rescale).
		for _, n := range needRescale {
			satLayers[n] = true
		}
	}
	rep := &MinMaxReport{Preset: preset}
	var acts []*activation
	for _, pt := range points {
		if p.ModelType == "transformer" && sdk.Capabilities(req.Target).GetSymmetricActivationProducts() && !pt.Weights && feedsActivationMatMul(x, pt) {
			// POT: activations of MatMuls without a constant input are
			// symmetric in transformers (on ANY, CPU and GPU).
			pt.Options = onlyMode(pt.Options, potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC)
		}
		o, err := choose(pt, p, preset)
		var relaxed *relaxedError
		if errors.As(err, &relaxed) {
			// Not a layer with weights: the target's own choice.
			if rep.TargetDefault == nil {
				rep.TargetDefault = map[string]string{}
			}
			for _, c := range pt.Consumers() {
				rep.TargetDefault[c] = relaxed.reason
			}
			o, err = choose(pt, &Params{}, preset)
		}
		if err != nil {
			return nil, nil, err
		}
		if pt.Weights {
			w := x.Constant(pt.Tensor)
			if u := updated[pt.Tensor]; u != nil {
				w = u
			}
			q, err := weightQuantizer(pt, o, w)
			if err != nil {
				return nil, nil, err
			}
			if satLayers[pt.Ports[0].Node.GetName()] && o.GetMode() == potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC && o.GetBits() == 8 {
				applySaturationFix(q)
				rep.SaturationFixed = append(rep.SaturationFixed, pt.Ports[0].Node.GetName())
			}
			plan.Quantizers = append(plan.Quantizers, q)
			rep.Weights++
			continue
		}
		a, err := newActivation(pt, o, activationRE(p))
		if err != nil {
			return nil, nil, err
		}
		acts = append(acts, a)
	}
	if len(acts) > 0 {
		info, err := h.DataInfo(ctx)
		if err != nil {
			return nil, nil, err
		}
		idx := sdk.Subset(int(info.GetCalibrationSamples()), p.StatSubsetSize, p.Seed, p.ShuffleData)
		req := &potv1.StatisticsRequest{
			ModelId: req.ModelID,
			// Statistics of the float model as it comes in (with earlier
			// algorithms' updates).
			Plan:    &potv1.QuantizationPlan{TensorUpdates: req.Plan.GetTensorUpdates()},
			Samples: &potv1.Samples{Indices: idx, BatchSize: int32(p.StatBatchSize)},
		}
		for _, a := range acts {
			req.Probes = append(req.Probes, a.probes()...)
		}
		resp, err := h.CollectStatistics(ctx, req)
		if err != nil {
			return nil, nil, fmt.Errorf("collect statistics: %w", err)
		}
		rep.Samples = resp.GetSamples()
		values := map[string][]float32{}
		unseen := map[string]bool{} // probes no sample computed
		for _, v := range resp.GetValues() {
			values[v.GetProbeId()] = v.GetValues()
			unseen[v.GetProbeId()] = len(v.GetValues()) == 0 && v.GetSamples() == 0
		}
		ranges := make([]*rawRange, len(acts))
		groups := map[string][]*rawRange{}
		for i, a := range acts {
			if unseen[a.pt.ID+"/min"] || unseen[a.pt.ID+"/max"] {
				// No range: the layers it quantizes for stay float.
				if rep.Float == nil {
					rep.Float = map[string]string{}
				}
				for _, op := range a.pt.Ops {
					rep.Float[op] = notComputedReason(x, a.pt.Tensor, op)
				}
				continue
			}
			if ranges[i], err = a.rawRange(values); err != nil {
				return nil, nil, err
			}
			if bad := ranges[i].nonFinite(); bad != "" {
				// An infinity or a NaN on the target (a float16 device
				// past ±65504): no quantizer can hold it; the layers stay
				// float.
				if rep.Float == nil {
					rep.Float = map[string]string{}
				}
				for _, op := range a.pt.Ops {
					rep.Float[op] = fmt.Sprintf("its input %q reaches %s on the target", a.pt.Tensor, bad)
				}
				ranges[i] = nil
				continue
			}
			if g := a.pt.Group; g != "" {
				groups[g] = append(groups[g], ranges[i])
			}
		}
		for _, op := range sortedKeys(rep.Float) {
			plan.Precisions = append(plan.Precisions, &potv1.NodePrecision{Node: op, Precision: potv1.Precision_PRECISION_FLOAT, Reason: rep.Float[op]})
		}
		for i, a := range acts {
			r := ranges[i]
			if r == nil {
				continue
			}
			if g := a.pt.Group; g != "" {
				r = unify(groups[g])
			}
			plan.Quantizers = append(plan.Quantizers, a.quantizer(r))
			rep.Activations++
			ranges[i] = r
		}
		found, err := outliers(ctx, h, req, idx, acts, ranges)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, err
			}
			sdk.Logger().Debug("outlier check left out", "error", err)
		}
		if len(found) > 0 {
			rep.Outliers = map[string]string{}
			for _, o := range found {
				rep.Outliers[o.tensor] = o.why
			}
			warnOutliers(found)
		}
	}
	rep.Quantizers = len(plan.Quantizers)
	return plan, rep, nil
}

// notComputedReason says why a layer stays float when its input tensor
// got no statistics: no calibration sample ran the subgraph holding it.
func notComputedReason(x *graph.Index, tensor, op string) string {
	sc := x.Scope(op)
	if g := x.DefiningGraph(tensor); g != nil && g != sc.Graph {
		for _, n := range x.Nodes() {
			for _, s := range graph.Subgraphs(n) {
				if s == g {
					sc = graph.Scope{Graph: g, Parent: n}
				}
			}
		}
	}
	if sc.Parent == nil {
		return fmt.Sprintf("no calibration sample computed its input %q", tensor)
	}
	attr := ""
	for _, a := range sc.Parent.GetAttributes() {
		if a.GetG() == sc.Graph {
			attr = a.GetName() + " of "
		}
	}
	return fmt.Sprintf("no calibration sample ran the %s%s %q, which computes its input %q", attr, sc.Parent.GetOpType(), sc.Parent.GetName(), tensor)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func activationRE(p *Params) *RangeEstimator {
	if p.Activations != nil && p.Activations.RangeEstimator != nil {
		return p.Activations.RangeEstimator
	}
	return p.RangeEstimator
}

// relaxedError is choose's answer when the user's weight constraints
// cannot be met for the constant operand of an operation that is not a
// layer with weights: MinMax then keeps the target's configuration for
// it, since --weight-bits 4 asks for 4-bit layers, not 4-bit bounds of a
// Maximum.
type relaxedError struct{ reason string }

func (e *relaxedError) Error() string { return e.reason }

// weightedOps are the layers whose weights the user's weight constraints
// are for.
var weightedOps = map[string]bool{"Conv": true, "ConvTranspose": true, "Gemm": true, "MatMul": true}

// weightedLayer tells whether a weight point serves a layer with weights.
func weightedLayer(pt *Point) bool {
	for _, port := range pt.Ports {
		if weightedOps[port.Node.GetOpType()] {
			return true
		}
	}
	return false
}

// choose picks a point's configuration: the options allowed by the
// user's constraints, then by the preset rule (activations: first for
// performance, last otherwise; weights: last for accuracy, first
// otherwise).
func choose(pt *Point, p *Params, preset string) (*potv1.QuantizationOption, error) {
	tp := p.Activations
	kind := "activations"
	if pt.Weights {
		tp, kind = p.Weights, "weights"
	}
	opts := pt.Options
	if tp != nil {
		var kept []*potv1.QuantizationOption
		for _, o := range opts {
			if tp.Bits != 0 && int(o.GetBits()) != tp.Bits {
				continue
			}
			if tp.Mode != "" && modeName(o.GetMode()) != tp.Mode {
				continue
			}
			if tp.Granularity != "" && granularityName(o.GetGranularity()) != tp.Granularity {
				continue
			}
			kept = append(kept, o)
		}
		if len(kept) == 0 {
			var want []string
			if tp.Bits != 0 {
				want = append(want, fmt.Sprintf("%d-bit", tp.Bits))
			}
			if tp.Mode != "" {
				want = append(want, tp.Mode)
			}
			if tp.Granularity != "" {
				want = append(want, tp.Granularity)
			}
			reason := fmt.Sprintf("%s: the target allows %s, not %s", kind, describeOptions(opts), strings.Join(want, " "))
			if pt.Weights && !weightedLayer(pt) {
				return nil, &relaxedError{reason: reason}
			}
			if cs := pt.Consumers(); len(cs) == 1 {
				return nil, sdk.NodeErrorf(cs[0], "%s", reason)
			}
			return nil, fmt.Errorf("%s of %s: the target allows %s, not %s", kind, strings.Join(pt.Consumers(), ", "),
				describeOptions(opts), strings.Join(want, " "))
		}
		opts = kept
	}
	o := opts[0]
	switch {
	case pt.Weights && preset == Accuracy:
		o = opts[len(opts)-1]
	case !pt.Weights && preset != Performance:
		o = opts[len(opts)-1]
	}
	if pt.Axis < 0 && o.GetGranularity() == potv1.Granularity_GRANULARITY_PER_CHANNEL {
		o = perTensor(o)
	}
	if tp != nil && tp.LevelLow != nil && tp.LevelHigh != nil {
		o = withLevels(o, *tp.LevelLow, *tp.LevelHigh)
	}
	return o, nil
}

func modeName(m potv1.QuantizationMode) string {
	if m == potv1.QuantizationMode_QUANTIZATION_MODE_ASYMMETRIC {
		return "asymmetric"
	}
	return "symmetric"
}

func granularityName(g potv1.Granularity) string {
	if g == potv1.Granularity_GRANULARITY_PER_CHANNEL {
		return "perchannel"
	}
	return "pertensor"
}

func describeOptions(opts []*potv1.QuantizationOption) string {
	s := ""
	for i, o := range opts {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%d-bit %s %s", o.GetBits(), modeName(o.GetMode()), granularityName(o.GetGranularity()))
	}
	return s
}

// activation is an activation quantizer waiting for its statistics.
type activation struct {
	pt       *Point
	opt      *potv1.QuantizationOption
	min, max estimator
}

func newActivation(pt *Point, o *potv1.QuantizationOption, re *RangeEstimator) (*activation, error) {
	min, max, err := activationEstimators(o, re)
	if err != nil {
		return nil, err
	}
	return &activation{pt: pt, opt: o, min: min, max: max}, nil
}

func (a *activation) probes() []*potv1.StatisticProbe {
	mk := func(side string, e estimator) *potv1.StatisticProbe {
		return &potv1.StatisticProbe{
			Id: a.pt.ID + "/" + side, Tensor: a.pt.Tensor, Reducer: e.reducer, Quantile: e.quantile,
			PerChannel: e.perChannel, ChannelAxis: int32(a.pt.Axis), Aggregator: e.aggregator,
		}
	}
	return []*potv1.StatisticProbe{mk("min", a.min), mk("max", a.max)}
}

// rawRange is an activation range from statistics, before it becomes
// FakeQuantize bounds.
type rawRange struct {
	lo, hi   []float64
	unsigned bool
}

func (a *activation) rawRange(values map[string][]float32) (*rawRange, error) {
	minV, ok1 := values[a.pt.ID+"/min"]
	maxV, ok2 := values[a.pt.ID+"/max"]
	if !ok1 || !ok2 || len(minV) == 0 || len(maxV) == 0 {
		return nil, fmt.Errorf("no statistics for quantizer %s", a.pt.ID)
	}
	n := max(len(minV), len(maxV))
	at := func(v []float32, i int) float64 {
		if len(v) == 1 {
			return float64(v[0])
		}
		return float64(v[i])
	}
	r := &rawRange{lo: make([]float64, n), hi: make([]float64, n), unsigned: true}
	for i := 0; i < n; i++ {
		r.lo[i], r.hi[i] = at(minV, i), at(maxV, i)
		if a.min.clip != nil {
			r.lo[i] = math.Max(r.lo[i], *a.min.clip)
		}
		if a.max.clip != nil {
			r.hi[i] = math.Min(r.hi[i], *a.max.clip)
		}
		r.unsigned = r.unsigned && r.lo[i] >= 0
	}
	return r, nil
}

// nonFinite describes the first infinite or NaN bound of r, or is "".
func (r *rawRange) nonFinite() string {
	for i := range r.lo {
		for _, v := range []float64{r.lo[i], r.hi[i]} {
			if math.IsInf(v, 0) || math.IsNaN(v) {
				return fmt.Sprint(v)
			}
		}
	}
	return ""
}

// unify merges the ranges of a unified-scale group: the widest range
// over the members, signed if any member is.
func unify(rs []*rawRange) *rawRange {
	out := &rawRange{lo: append([]float64(nil), rs[0].lo...), hi: append([]float64(nil), rs[0].hi...), unsigned: rs[0].unsigned}
	for _, r := range rs[1:] {
		if len(r.lo) != len(out.lo) {
			// Mixed granularity cannot share per-channel values: use the
			// per-tensor envelope.
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, s := range append([]*rawRange{out}, rs...) {
				for i := range s.lo {
					lo, hi = math.Min(lo, s.lo[i]), math.Max(hi, s.hi[i])
				}
			}
			return &rawRange{lo: []float64{lo}, hi: []float64{hi}, unsigned: lo >= 0}
		}
		for i := range out.lo {
			out.lo[i] = math.Min(out.lo[i], r.lo[i])
			out.hi[i] = math.Max(out.hi[i], r.hi[i])
		}
		out.unsigned = out.unsigned && r.unsigned
	}
	return out
}

// quantizer turns a raw range into the activation's quantizer.
func (a *activation) quantizer(r *rawRange) *potv1.Quantizer {
	sym := a.opt.GetMode() == potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC
	unsigned := !sym || r.unsigned
	hi := append([]float64(nil), r.hi...)
	if sym {
		FixZeroFiltersSymmetric(hi)
	}
	levels, low, high := Levels(a.opt, false, unsigned)
	q := newQuantizer(a.pt, a.opt, levels, low, high)
	q.UnifiedGroup = a.pt.Group
	for i := range hi {
		var l, h float64
		if sym {
			l, h = SymmetricRange(hi[i], levels, false, unsigned)
		} else {
			l, h = asymmetric(r.lo[i], r.hi[i], int(a.opt.GetBits()))
		}
		q.InputLow = append(q.InputLow, float32(l))
		q.InputHigh = append(q.InputHigh, float32(h))
	}
	q.OutputLow, q.OutputHigh = q.InputLow, q.InputHigh
	return q
}

// asymmetric turns a statistics range into FakeQuantize bounds: widened
// when tiny, made to contain zero, and tuned so zero is on the grid.
func asymmetric(lo, hi float64, bits int) (float64, float64) {
	l, h := []float64{lo}, []float64{hi}
	FixZeroFiltersAsymmetric(l, h)
	a, b := math.Min(l[0], 0), math.Max(h[0], 0)
	return TuneRange(a, b, bits)
}

func newQuantizer(pt *Point, o *potv1.QuantizationOption, levels, low, high int64) *potv1.Quantizer {
	q := &potv1.Quantizer{
		Id:          pt.ID,
		Location:    &potv1.Location{Tensor: pt.Tensor},
		Weights:     pt.Weights,
		Bits:        o.GetBits(),
		Levels:      levels,
		LevelLow:    low,
		LevelHigh:   high,
		Mode:        o.GetMode(),
		Granularity: o.GetGranularity(),
		Consumers:   pt.Consumers(),
	}
	if o.GetGranularity() == potv1.Granularity_GRANULARITY_PER_CHANNEL {
		q.Axis = int32(pt.Axis)
	}
	if !pt.Edge {
		q.Location.Node = pt.Ports[0].Node.GetName()
		q.Location.Input = int32(pt.Ports[0].Input)
	}
	return q
}

// weightQuantizer computes a weight quantizer's ranges from the weights.
func weightQuantizer(pt *Point, o *potv1.QuantizationOption, w *potv1.Tensor) (*potv1.Quantizer, error) {
	vals, err := graph.Float32View(w) // read only: large weights are not copied
	if err != nil {
		return nil, fmt.Errorf("weights of %v: %w", pt.Consumers(), err)
	}
	dims := w.GetDims()
	perCh := o.GetGranularity() == potv1.Granularity_GRANULARITY_PER_CHANNEL
	channels, outer, inner := 1, 1, len(vals)
	if perCh {
		if pt.Axis < 0 || pt.Axis >= len(dims) {
			return nil, fmt.Errorf("weights %q: no channel axis %d in dims %v", w.GetName(), pt.Axis, dims)
		}
		channels = int(dims[pt.Axis])
		outer, inner = 1, 1
		for i := 0; i < pt.Axis; i++ {
			outer *= int(dims[i])
		}
		for i := pt.Axis + 1; i < len(dims); i++ {
			inner *= int(dims[i])
		}
	}
	lo := make([]float64, channels)
	hi := make([]float64, channels)
	absMax := make([]float64, channels)
	for c := range lo {
		lo[c], hi[c] = math.Inf(1), math.Inf(-1)
	}
	for o := 0; o < outer; o++ {
		for c := 0; c < channels; c++ {
			base := (o*channels + c) * inner
			for _, v := range vals[base : base+inner] {
				f := float64(v)
				lo[c] = math.Min(lo[c], f)
				hi[c] = math.Max(hi[c], f)
				absMax[c] = math.Max(absMax[c], math.Abs(f))
			}
		}
	}
	sym := o.GetMode() == potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC
	levels, low, high := Levels(o, true, false)
	q := newQuantizer(pt, o, levels, low, high)
	q.Location = &potv1.Location{Tensor: pt.Tensor, Node: pt.Ports[0].Node.GetName(), Input: int32(pt.Ports[0].Input)}
	if sym {
		FixZeroFiltersSymmetric(absMax)
	}
	l, h := make([]float64, channels), make([]float64, channels)
	for c := 0; c < channels; c++ {
		if sym {
			l[c], h[c] = SymmetricRange(absMax[c], levels, true, false)
		} else {
			l[c], h[c] = asymmetric(lo[c], hi[c], int(o.GetBits()))
		}
	}
	if !sym && o.GetUnifiedZeropoint() && channels > 1 {
		UnifyZeroPoint(l, h, levels)
	}
	for c := 0; c < channels; c++ {
		q.InputLow = append(q.InputLow, float32(l[c]))
		q.InputHigh = append(q.InputHigh, float32(h[c]))
	}
	q.OutputLow, q.OutputHigh = q.InputLow, q.InputHigh
	return q, nil
}

func perTensor(o *potv1.QuantizationOption) *potv1.QuantizationOption {
	c := cloneOption(o)
	c.Granularity = potv1.Granularity_GRANULARITY_PER_TENSOR
	return c
}

func withLevels(o *potv1.QuantizationOption, low, high int64) *potv1.QuantizationOption {
	c := cloneOption(o)
	c.HasLevels, c.LevelLow, c.LevelHigh = true, low, high
	return c
}

// ReportJSON marshals a report.
func ReportJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// feedsActivationMatMul reports whether a point quantizes for a MatMul of
// two activations.
func feedsActivationMatMul(x *graph.Index, pt *Point) bool {
	for _, name := range pt.Ops {
		n := x.Node(name)
		if n != nil && n.GetOpType() == "MatMul" && len(n.GetInputs()) == 2 &&
			x.Constant(n.GetInputs()[0]) == nil && x.Constant(n.GetInputs()[1]) == nil {
			return true
		}
	}
	return false
}

// onlyMode keeps the options of one mode, or all when none has it.
func onlyMode(opts []*potv1.QuantizationOption, m potv1.QuantizationMode) []*potv1.QuantizationOption {
	var out []*potv1.QuantizationOption
	for _, o := range opts {
		if o.GetMode() == m {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		return opts
	}
	return out
}
