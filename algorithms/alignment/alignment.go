package alignment

import (
	"context"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// QuantileProb is the outlier probability of the range statistics.
const QuantileProb = 1e-4

// Scale factors are clipped to [1/ScaleClip, ScaleClip].
const ScaleClip = 100.0

// pair is a producer convolution feeding a consumer one.
type pair struct {
	producer, consumer *potv1.Node
}

// Report says what channel alignment did.
type Report struct {
	Aligned []string `json:"aligned"`
}

// pairs finds the convolution pairs POT aligns.
func pairs(x *graph.Index) []pair {
	var out []pair
	for _, c := range x.G.GetNodes() {
		if c.GetOpType() != "Conv" || graph.AttrInt(c, "group", 1) != 1 || len(c.GetInputs()) < 3 || c.GetInputs()[2] == "" {
			continue
		}
		if x.Initializer(c.GetInputs()[1]) == nil || x.Initializer(c.GetInputs()[2]) == nil {
			continue
		}
		if !allEqual(graph.AttrInts(c, "pads", nil), 0) || !allEqual(graph.AttrInts(c, "strides", nil), 1) ||
			!allEqual(graph.AttrInts(c, "dilations", nil), 1) {
			continue
		}
		if ap := graph.AttrString(c, "auto_pad", "NOTSET"); ap != "NOTSET" && ap != "VALID" {
			continue
		}
		p := x.Producer(c.GetInputs()[0])
		if p == nil || p.GetOpType() != "Conv" || len(p.GetInputs()) < 3 || p.GetInputs()[2] == "" {
			continue
		}
		if x.Initializer(p.GetInputs()[1]) == nil || x.Initializer(p.GetInputs()[2]) == nil {
			continue
		}
		if len(x.Consumers(p.GetOutputs()[0])) != 1 || x.IsGraphOutput(p.GetOutputs()[0]) {
			continue
		}
		// Per-output-channel scaling of a grouped producer is fine, but its
		// output channel count must match the consumer's input channels.
		pw, cw := x.Initializer(p.GetInputs()[1]), x.Initializer(c.GetInputs()[1])
		if len(pw.GetDims()) < 2 || len(cw.GetDims()) < 2 || pw.GetDims()[0] != cw.GetDims()[1] {
			continue
		}
		out = append(out, pair{producer: p, consumer: c})
	}
	return out
}

func allEqual(v []int64, want int64) bool {
	for _, x := range v {
		if x != want {
			return false
		}
	}
	return true
}

// Align runs ActivationChannelAlignment and returns the plan with the
// updated weights and biases, and the consumers listed in the plan's
// plan's need_rescale.
func Align(ctx context.Context, h sdk.Host, req *sdk.RunRequest, p *quant.Params) (*potv1.QuantizationPlan, *Report, error) {
	g, err := h.Graph(ctx, req.ModelID)
	if err != nil {
		return nil, nil, err
	}
	x := graph.NewIndex(g)
	out := proto.Clone(req.Plan).(*potv1.QuantizationPlan)
	rep := &Report{}
	ps := pairs(x)
	if len(ps) == 0 {
		return out, rep, nil
	}
	info, err := h.DataInfo(ctx)
	if err != nil {
		return nil, nil, err
	}
	idx := sdk.Subset(int(info.GetCalibrationSamples()), p.StatSubsetSize, p.Seed, p.ShuffleData)
	sreq := &potv1.StatisticsRequest{ModelId: req.ModelID, Plan: &potv1.QuantizationPlan{TensorUpdates: req.Plan.GetTensorUpdates()},
		Samples: &potv1.Samples{Indices: idx, BatchSize: int32(p.StatBatchSize)}}
	for i, pr := range ps {
		t := pr.producer.GetOutputs()[0]
		sreq.Probes = append(sreq.Probes,
			&potv1.StatisticProbe{Id: fmt.Sprintf("min%d", i), Tensor: t, Reducer: potv1.Reducer_REDUCER_QUANTILE, Quantile: QuantileProb,
				PerChannel: true, ChannelAxis: 1, Aggregator: potv1.Aggregator_AGGREGATOR_MEDIAN},
			&potv1.StatisticProbe{Id: fmt.Sprintf("max%d", i), Tensor: t, Reducer: potv1.Reducer_REDUCER_QUANTILE, Quantile: 1 - QuantileProb,
				PerChannel: true, ChannelAxis: 1, Aggregator: potv1.Aggregator_AGGREGATOR_MEDIAN})
	}
	sresp, err := h.CollectStatistics(ctx, sreq)
	if err != nil {
		return nil, nil, fmt.Errorf("collect statistics: %w", err)
	}
	vals := map[string][]float32{}
	for _, v := range sresp.GetValues() {
		vals[v.GetProbeId()] = v.GetValues()
	}
	rescaled := slices.Clone(plan.NeedRescale(out))
	for i, pr := range ps {
		ups, err := align(x, out, pr, vals[fmt.Sprintf("min%d", i)], vals[fmt.Sprintf("max%d", i)])
		if err != nil {
			return nil, nil, fmt.Errorf("align %s -> %s: %w", pr.producer.GetName(), pr.consumer.GetName(), err)
		}
		for _, u := range ups {
			plan.SetTensorUpdate(out, u)
		}
		rep.Aligned = append(rep.Aligned, pr.consumer.GetName())
		rescaled = append(rescaled, pr.consumer.GetName())
	}
	plan.SetNeedRescale(out, rescaled)
	return out, rep, nil
}

// align computes the new producer weights and bias and consumer weights
// and bias of one pair from the producer output's channel ranges.
func align(x *graph.Index, p *potv1.QuantizationPlan, pr pair, amin, amax []float32) ([]*potv1.Tensor, error) {
	get := func(name string) (*potv1.Tensor, []float32, error) {
		t := x.Initializer(name)
		for _, u := range p.GetTensorUpdates() {
			if u.GetName() == name {
				t = u
			}
		}
		v, err := graph.Float32s(t)
		return t, v, err
	}
	wIn, wInV, err := get(pr.producer.GetInputs()[1])
	if err != nil {
		return nil, err
	}
	bIn, bInV, err := get(pr.producer.GetInputs()[2])
	if err != nil {
		return nil, err
	}
	wOut, wOutV, err := get(pr.consumer.GetInputs()[1])
	if err != nil {
		return nil, err
	}
	bOut, bOutV, err := get(pr.consumer.GetInputs()[2])
	if err != nil {
		return nil, err
	}
	c := len(bInV)
	if len(amin) != c || len(amax) != c || int(wOut.GetDims()[1]) != c || int(wIn.GetDims()[0]) != c {
		return nil, fmt.Errorf("channel counts disagree: %d statistics, %d biases, weights %v and %v", len(amin), c, wIn.GetDims(), wOut.GetDims())
	}
	mean := make([]float64, c)
	scale := make([]float64, c)
	var positive []float64
	for i := 0; i < c; i++ {
		mean[i] = (float64(amin[i]) + float64(amax[i])) / 2
		scale[i] = float64(amax[i]) - float64(amin[i])
		if scale[i] > 0 {
			positive = append(positive, scale[i])
		}
	}
	sf := make([]float64, c)
	med := 0.0
	if len(positive) > 0 {
		slices.Sort(positive)
		n := len(positive)
		med = positive[n/2]
		if n%2 == 0 {
			med = (positive[n/2-1] + positive[n/2]) / 2
		}
	}
	for i := range sf {
		sf[i] = 1
		if scale[i] > 0 && med > 0 {
			sf[i] = math.Max(1/ScaleClip, math.Min(ScaleClip, scale[i]/med))
		}
	}
	// Consumer bias takes the means through the original consumer weights.
	o := int(wOut.GetDims()[0])
	per := len(wOutV) / (o * c) // kernel elements per (out, in) pair
	for oc := 0; oc < o; oc++ {
		acc := float64(bOutV[oc])
		for ic := 0; ic < c; ic++ {
			base := (oc*c + ic) * per
			var s float64
			for _, w := range wOutV[base : base+per] {
				s += float64(w)
			}
			acc += s * mean[ic]
		}
		bOutV[oc] = float32(acc)
	}
	for oc := 0; oc < o; oc++ {
		for ic := 0; ic < c; ic++ {
			base := (oc*c + ic) * per
			for k := base; k < base+per; k++ {
				wOutV[k] = float32(float64(wOutV[k]) * sf[ic])
			}
		}
	}
	perIn := len(wInV) / c
	for ic := 0; ic < c; ic++ {
		bInV[ic] = float32((float64(bInV[ic]) - mean[ic]) / sf[ic])
		for k := ic * perIn; k < (ic+1)*perIn; k++ {
			wInV[k] = float32(float64(wInV[k]) / sf[ic])
		}
	}
	return []*potv1.Tensor{
		graph.FloatTensor(wIn.GetName(), wIn.GetDims(), wInV),
		graph.FloatTensor(bIn.GetName(), bIn.GetDims(), bInV),
		graph.FloatTensor(wOut.GetName(), wOut.GetDims(), wOutV),
		graph.FloatTensor(bOut.GetName(), bOut.GetDims(), bOutV),
	}, nil
}

// Algorithm is the ActivationChannelAlignment plugin.
var Algorithm sdk.Algorithm = quant.Plugin[*Report]{
	Name:    "ActivationChannelAlignment",
	Text:    "Aligns the channel ranges of a convolution feeding another, moving means into biases and equalizing scales.",
	Compute: Align,
}
