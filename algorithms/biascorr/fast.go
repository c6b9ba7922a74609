package biascorr

import (
	"context"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// Thresholds above which a correction is not applied: the largest
// |shift/bias| over the channels (POT's defaults).
const (
	FastThreshold = 2.0
	FullThreshold = 1000.0
)

// Report says what a bias correction did.
type Report struct {
	Corrected []string `json:"corrected"`
	// AfterActivation lists the corrected layers whose low-bit weights
	// had the mean after their activation corrected too.
	AfterActivation []string `json:"after_activation,omitempty"`
	// AfterActivationError says why those corrections were not made.
	AfterActivationError string            `json:"after_activation_error,omitempty"`
	Skipped              map[string]string `json:"skipped,omitempty"`
	Samples              int               `json:"stat_samples"`
}

// floatPlan is the float model as the incoming plan describes it: its
// tensor updates without quantizers.
func floatPlan(p *potv1.QuantizationPlan) *potv1.QuantizationPlan {
	return &potv1.QuantizationPlan{TensorUpdates: p.GetTensorUpdates()}
}

// updatedTensor returns an initializer, or a Constant node's value, as
// the plan updates it, named name.
func updatedTensor(x *graph.Index, p *potv1.QuantizationPlan, name string) *potv1.Tensor {
	for _, t := range p.GetTensorUpdates() {
		if t.GetName() == name {
			return t
		}
	}
	t := x.Constant(name)
	if t != nil && t.GetName() != name { // a Constant's value: its own name, if any
		t = proto.Clone(t).(*potv1.Tensor)
		t.Name = name
	}
	return t
}

func meanProbe(id, tensor string, axis int) *potv1.StatisticProbe {
	return &potv1.StatisticProbe{Id: id, Tensor: tensor, Reducer: potv1.Reducer_REDUCER_MEAN, PerChannel: true,
		ChannelAxis: int32(axis), Aggregator: potv1.Aggregator_AGGREGATOR_MEAN}
}

// run is what both bias corrections start from: the model, the layers
// to correct, the plan to return and the number of calibration samples.
type run struct {
	g       *potv1.Graph
	x       *graph.Index
	layers  []*layer
	out     *potv1.QuantizationPlan
	rep     *Report
	samples int
}

func start(ctx context.Context, h sdk.Host, req *sdk.RunRequest, p *quant.Params) (*run, error) {
	g, err := h.Graph(ctx, req.ModelID)
	if err != nil {
		return nil, err
	}
	r := &run{g: g, x: graph.NewIndex(g), rep: &Report{Skipped: map[string]string{}}, out: proto.Clone(req.Plan).(*potv1.QuantizationPlan)}
	for _, l := range layers(r.x, req.Plan, p.ApplyForAllNodes) {
		if sc := r.x.Scope(l.node.GetName()); sc.Parent != nil {
			// The sub-models bias correction runs hold top-level layers.
			r.rep.Skipped[l.node.GetName()] = fmt.Sprintf("inside the %s of %s %q: bias correction does not reach into subgraphs", sc.Attr, sc.Parent.GetOpType(), sc.Parent.GetName())
			continue
		}
		r.layers = append(r.layers, l)
	}
	if len(r.layers) == 0 {
		return r, nil
	}
	info, err := h.DataInfo(ctx)
	if err != nil {
		return nil, err
	}
	r.samples = int(info.GetCalibrationSamples())
	return r, nil
}

// shapes runs the float model on one sample to learn the shapes of the
// layers' inputs and outputs, and keeps the layers whose channels it can
// locate (see layer.geometry); the others are reported as skipped.
//
// It asks for the inputs and outputs of every top-level layer with a
// bias, those the plan does not pick too, so that the request is the
// same whatever the plan's quantizers: FastStatistics's, before
// MinMaxQuantization, and Fast's, after it (answered from memoHost).
func (r *run) shapes(ctx context.Context, h sdk.Host, req *sdk.RunRequest, sample int64) error {
	var names []string
	seen := map[string]bool{}
	for _, l := range layers(r.x, nil, true) {
		if r.x.Scope(l.node.GetName()).Parent != nil {
			continue
		}
		for _, t := range []string{l.in, l.out} {
			if !seen[t] {
				seen[t] = true
				names = append(names, t)
			}
		}
	}
	one, err := h.Infer(ctx, &potv1.InferRequest{ModelId: req.ModelID, Plan: floatPlan(req.Plan),
		Samples: &potv1.Samples{Indices: []int64{sample}, BatchSize: 1}, Outputs: names, ShapesOnly: true})
	if err != nil {
		return fmt.Errorf("infer the shapes of the layers' inputs and outputs: %w", err)
	}
	dims := map[string][]int64{}
	for _, t := range one.GetOutputs() {
		dims[t.GetName()] = t.GetDims()
	}
	kept := r.layers[:0]
	for _, l := range r.layers {
		if reason := l.geometry(r.x, dims[l.in], dims[l.out]); reason != "" {
			r.rep.Skipped[l.node.GetName()] = reason
			continue
		}
		kept = append(kept, l)
	}
	r.layers = kept
	return nil
}

// meansRequest asks for the float means of every layer's input and
// output channels (probes in<i> and out<i> of layer i) over samples idx.
func (r *run) meansRequest(req *sdk.RunRequest, p *quant.Params, idx []int64) *potv1.StatisticsRequest {
	sreq := &potv1.StatisticsRequest{ModelId: req.ModelID, Plan: floatPlan(req.Plan),
		Samples: &potv1.Samples{Indices: idx, BatchSize: int32(p.StatBatchSize)}}
	for i, l := range r.layers {
		sreq.Probes = append(sreq.Probes, meanProbe(fmt.Sprintf("in%d", i), l.in, l.inAxis), meanProbe(fmt.Sprintf("out%d", i), l.out, l.outAxis))
	}
	return sreq
}

// FastStatistics is what FastBiasCorrection tells ahead of its run
// (sdk.Prefetcher): the request for the float means Fast collects, over
// every layer it may correct. The plan it gets is the one before
// MinMaxQuantization, without the weight quantizers that pick the
// layers, so it asks for all layers with a bias; Fast's request, over the
// quantized ones, is then answered from those.
func FastStatistics(ctx context.Context, h sdk.Host, req *sdk.RunRequest, p *quant.Params) ([]*potv1.StatisticsRequest, error) {
	all := *p
	all.ApplyForAllNodes = true
	r, err := start(ctx, h, req, &all)
	if err != nil || len(r.layers) == 0 {
		return nil, err
	}
	idx := sdk.Subset(r.samples, p.StatSubsetSize, p.Seed, p.ShuffleData)
	if err := r.shapes(ctx, h, req, idx[0]); err != nil || len(r.layers) == 0 {
		return nil, err
	}
	return []*potv1.StatisticsRequest{r.meansRequest(req, p, idx)}, nil
}

// Fast runs FastBiasCorrection.
func Fast(ctx context.Context, h sdk.Host, req *sdk.RunRequest, p *quant.Params) (*potv1.QuantizationPlan, *Report, error) {
	r, err := start(ctx, h, req, p)
	if err != nil || len(r.layers) == 0 {
		return r.plan(err)
	}
	idx := sdk.Subset(r.samples, p.StatSubsetSize, p.Seed, p.ShuffleData)
	if err := r.shapes(ctx, h, req, idx[0]); err != nil || len(r.layers) == 0 {
		return r.plan(err)
	}
	x, ls, out, rep := r.x, r.layers, r.out, r.rep
	sresp, err := h.CollectStatistics(ctx, r.meansRequest(req, p, idx))
	if err != nil {
		return nil, nil, fmt.Errorf("collect statistics: %w", err)
	}
	rep.Samples = int(sresp.GetSamples())
	means := map[string][]float32{}
	for _, v := range sresp.GetValues() {
		means[v.GetProbeId()] = v.GetValues()
	}
	// A sub-model with a branch per layer: quantized weights (and, for
	// POT's formula, the input quantizer), no bias, fed the float input's
	// channel means.
	statistics := p.FastBiasReference == quant.FastBiasStatistics
	qSub, fSub, err := r.subMeans(ctx, h, req, means, statistics)
	if err != nil {
		return nil, nil, err
	}
	threshold := FastThreshold
	if p.Threshold != nil {
		threshold = *p.Threshold
	}
	corrected := map[int][]float32{}
	for i, l := range ls {
		qOut, err := qSub[i].means, qSub[i].err
		if err != nil {
			rep.Skipped[l.node.GetName()] = fmt.Sprintf("quantized sub-model output: %v", err)
			continue
		}
		fOut := means[fmt.Sprintf("out%d", i)]
		b := updatedTensor(x, out, l.bias)
		bias, err := graph.Float32s(b)
		if err != nil {
			return nil, nil, err
		}
		if len(qOut) != len(bias) || len(fOut) != len(bias) {
			rep.Skipped[l.node.GetName()] = fmt.Sprintf("%d bias values for %d channels", len(bias), len(qOut))
			continue
		}
		newBias := make([]float32, len(bias))
		if statistics {
			// POT: the float output mean of the data minus the quantized
			// sub-model's output on the mean input.
			for c := range bias {
				newBias[c] = fOut[c] - float32(qOut[c])
			}
		} else {
			fSub, err := fSub[i].means, fSub[i].err
			if err != nil {
				rep.Skipped[l.node.GetName()] = fmt.Sprintf("float sub-model output: %v", err)
				continue
			}
			for c := range bias {
				newBias[c] = bias[c] + float32(fSub[c]-qOut[c])
			}
		}
		if reason := exceeds(bias, newBias, threshold); reason != "" {
			rep.Skipped[l.node.GetName()] = reason
			continue
		}
		plan.SetTensorUpdate(out, graph.FloatTensor(l.bias, b.GetDims(), newBias))
		rep.Corrected = append(rep.Corrected, l.node.GetName())
		corrected[i] = newBias
	}
	if statistics {
		return out, rep, nil
	}
	shifts, err := activationShifts(ctx, h, req, r, corrected, &potv1.Samples{Indices: idx, BatchSize: int32(p.StatBatchSize)})
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, err
		}
		// The corrections before the activations stand on their own: a
		// target that cannot run the shadow layers leaves them as they are.
		rep.AfterActivationError = err.Error()
		return out, rep, nil
	}
	for i, l := range ls {
		shift := shifts[i]
		if shift == nil {
			continue
		}
		// POT's threshold guarded the correction of E[z] above; this one,
		// of E[f(z)], is bounded by the activation's mean slope instead
		// (the bias of a first layer is often small beside it).
		newBias := make([]float32, len(shift))
		for c := range newBias {
			newBias[c] = corrected[i][c] + shift[c]
		}
		b := updatedTensor(x, req.Plan, l.bias)
		plan.SetTensorUpdate(out, graph.FloatTensor(l.bias, b.GetDims(), newBias))
		rep.AfterActivation = append(rep.AfterActivation, l.node.GetName())
	}
	return out, rep, nil
}

// plan returns the run's result, or err.
func (r *run) plan(err error) (*potv1.QuantizationPlan, *Report, error) {
	if err != nil {
		return nil, nil, err
	}
	return r.out, r.rep, nil
}

// exceeds returns why a correction is refused: a zero bias, or a shift
// larger than threshold times the bias in some channel.
func exceeds(old, new []float32, threshold float64) string {
	worst := 0.0
	for c := range old {
		if old[c] == 0 {
			return "a bias is zero"
		}
		worst = math.Max(worst, math.Abs(float64((new[c]-old[c])/old[c])))
	}
	if !(worst < threshold) {
		return fmt.Sprintf("shift is %.3g times the bias (threshold %g)", worst, threshold)
	}
	return ""
}

// channelMeans averages a tensor over every axis but one.
func channelMeans(t *potv1.Tensor, axis int) ([]float64, error) {
	v, err := graph.Float32View(t) // read only
	if err != nil {
		return nil, err
	}
	d := t.GetDims()
	if axis >= len(d) {
		return nil, fmt.Errorf("output dims %v have no axis %d", d, axis)
	}
	outer, inner := 1, 1
	for i := 0; i < axis; i++ {
		outer *= int(d[i])
	}
	for i := axis + 1; i < len(d); i++ {
		inner *= int(d[i])
	}
	c := int(d[axis])
	out := make([]float64, c)
	for o := 0; o < outer; o++ {
		for ch := 0; ch < c; ch++ {
			base := (o*c + ch) * inner
			for _, x := range v[base : base+inner] {
				out[ch] += float64(x)
			}
		}
	}
	for ch := range out {
		out[ch] /= float64(outer * inner)
	}
	return out, nil
}

// subGroupValues bounds the float32 values, constant inputs and outputs,
// that one run of FastBiasCorrection's sub-model moves: 16 Mi of them, 64
// MiB each way, well within gRPC's 256 MiB messages. A segmenter at
// 1024×1024 has layers of 16 million values; all its layers at once were
// a gigabyte.
const subGroupValues = 16 << 20

// subResult is one layer's output channel means from the sub-model, or
// why they could not be read.
type subResult struct {
	means []float64
	err   error
}

// subMeans runs the sub-model (see subModel) of r's layers, quantized and
// (unless statistics) float, in groups of consecutive layers within
// subGroupValues (a larger layer alone), and returns each layer's output
// channel means. A small model is one group: one model, one or two runs.
func (r *run) subMeans(ctx context.Context, h sdk.Host, req *sdk.RunRequest, means map[string][]float32, statistics bool) (q, f []subResult, err error) {
	q, f = make([]subResult, len(r.layers)), make([]subResult, len(r.layers))
	sizes := make([]int64, len(r.layers))
	for i, l := range r.layers {
		sizes[i] = l.subValues()
	}
	for _, grp := range groups(sizes, subGroupValues) {
		if err := r.subGroup(ctx, h, req, grp[0], grp[1], means, statistics, q, f); err != nil {
			return nil, nil, err
		}
	}
	return q, f, nil
}

// groups splits items of the given sizes into runs [lo, hi) of
// consecutive ones whose sizes sum to at most limit; an item larger than
// limit is a run of its own.
func groups(sizes []int64, limit int64) [][2]int {
	var out [][2]int
	for lo := 0; lo < len(sizes); {
		hi, sum := lo+1, sizes[lo]
		for hi < len(sizes) && sum+sizes[hi] <= limit {
			sum += sizes[hi]
			hi++
		}
		out = append(out, [2]int{lo, hi})
		lo = hi
	}
	return out
}

// subGroup runs the sub-model of layers lo..hi-1 into q and f.
func (r *run) subGroup(ctx context.Context, h sdk.Host, req *sdk.RunRequest, lo, hi int, means map[string][]float32, statistics bool, q, f []subResult) error {
	ls := r.layers[lo:hi]
	sub, subPlan, inputs, err := subModel(r.x, r.g, req.Plan, ls, lo, means, statistics)
	if err != nil {
		return err
	}
	id, err := h.LoadModel(ctx, sub)
	if err != nil {
		return fmt.Errorf("load the bias correction sub-model: %w", err)
	}
	defer h.UnloadModel(ctx, id)
	var outNames []string
	for i := lo; i < hi; i++ {
		outNames = append(outNames, fmt.Sprintf("fbc_out%d", i))
	}
	read := func(resp *potv1.InferResponse, into []subResult) {
		for k := range ls {
			into[lo+k].means, into[lo+k].err = channelMeans(resp.GetOutputs()[k], 1)
		}
	}
	iresp, err := h.Infer(ctx, &potv1.InferRequest{ModelId: id, Plan: subPlan, Inputs: inputs, Outputs: outNames})
	if err != nil {
		return fmt.Errorf("run the bias correction sub-model: %w", err)
	}
	read(iresp, q)
	if !statistics {
		// The float side of the same constant-input sub-model.
		fresp, err := h.Infer(ctx, &potv1.InferRequest{ModelId: id, Inputs: inputs, Outputs: outNames})
		if err != nil {
			return fmt.Errorf("run the bias correction sub-model: %w", err)
		}
		read(fresp, f)
	}
	return nil
}

// subModel builds the graph of FastBiasCorrection: per layer, an input
// fbc_in<i> of shape subIn (channels on axis 1), the layer without its
// bias, and an output fbc_out<i>, i counted from first (the layers' place
// in the run's); and the plan that quantizes its weights
// like the full model's, and its input too when inputQ is set.
func subModel(x *graph.Index, g *potv1.Graph, p *potv1.QuantizationPlan, ls []*layer, first int, means map[string][]float32, inputQ bool) (*potv1.Graph, *potv1.QuantizationPlan, []*potv1.Tensor, error) {
	sub := &potv1.Graph{Name: "fast_bias_correction", Opsets: g.GetOpsets(), IrVersion: g.GetIrVersion()}
	subPlan := &potv1.QuantizationPlan{}
	var inputs []*potv1.Tensor
	added := map[string]bool{}
	for k, l := range ls {
		i := first + k
		in, out := fmt.Sprintf("fbc_in%d", i), fmt.Sprintf("fbc_out%d", i)
		m := means[fmt.Sprintf("in%d", i)]
		blob, err := constantBlob(in, l.subIn, 1, m)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("layer %s: %w", l.node.GetName(), err)
		}
		inputs = append(inputs, blob)
		sub.Inputs = append(sub.Inputs, &potv1.ValueInfo{Name: in, Dtype: potv1.DataType_DATA_TYPE_FLOAT})
		sub.Outputs = append(sub.Outputs, &potv1.ValueInfo{Name: out, Dtype: potv1.DataType_DATA_TYPE_FLOAT})
		w := l.node.GetInputs()[1]
		n := &potv1.Node{Name: fmt.Sprintf("fbc_layer%d", i), OpType: l.node.GetOpType(), Domain: l.node.GetDomain(),
			Inputs: []string{in, w}, Outputs: []string{out}, Attributes: l.node.GetAttributes()}
		sub.Nodes = append(sub.Nodes, n)
		if !added[w] {
			added[w] = true
			t := updatedTensor(x, p, w)
			if t == nil {
				return nil, nil, nil, fmt.Errorf("layer %s: weights %q are not constant", l.node.GetName(), w)
			}
			sub.Initializers = append(sub.Initializers, t)
		}
		if q := l.inputQ; q != nil && inputQ {
			c := proto.Clone(q).(*potv1.Quantizer)
			c.Id = fmt.Sprintf("in%d", i)
			c.Location = &potv1.Location{Tensor: in}
			c.Consumers = []string{n.GetName()}
			subPlan.Quantizers = append(subPlan.Quantizers, c)
		}
		if q := l.weightsQ; q != nil {
			c := proto.Clone(q).(*potv1.Quantizer)
			c.Id = fmt.Sprintf("w%d", i)
			c.Location = &potv1.Location{Tensor: w, Node: n.GetName(), Input: 1}
			c.Consumers = []string{n.GetName()}
			subPlan.Quantizers = append(subPlan.Quantizers, c)
		}
	}
	if _, err := plan.Apply(sub, subPlan); err != nil {
		return nil, nil, nil, fmt.Errorf("bias correction sub-model: %w", err)
	}
	return sub, subPlan, inputs, nil
}

// constantBlob is a tensor of dims whose every element of channel c
// (along axis) is means[c].
func constantBlob(name string, dims []int64, axis int, means []float32) (*potv1.Tensor, error) {
	if axis >= len(dims) || int(dims[axis]) != len(means) {
		return nil, fmt.Errorf("input dims %v: %d channel means on axis %d", dims, len(means), axis)
	}
	outer, inner := 1, 1
	for i := 0; i < axis; i++ {
		outer *= int(dims[i])
	}
	for i := axis + 1; i < len(dims); i++ {
		inner *= int(dims[i])
	}
	c := len(means)
	v := make([]float32, outer*c*inner)
	for o := 0; o < outer; o++ {
		for ch := 0; ch < c; ch++ {
			base := (o*c + ch) * inner
			for k := 0; k < inner; k++ {
				v[base+k] = means[ch]
			}
		}
	}
	return graph.FloatTensor(name, dims, v), nil
}
