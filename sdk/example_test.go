package sdk_test

import (
	"context"
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

// An algorithm plugin's main: implement sdk.Algorithm and serve it. pot
// starts the binary (named pot-algorithm-NAME), and the SDK does the
// go-plugin handshake, gRPC, chunked transfer and logging.
func ExampleServeAlgorithm() {
	sdk.ServeAlgorithm(widen{})
}

// A target plugin's main is the same with sdk.Target and ServeTarget.
func ExampleServeTarget() {
	var t sdk.Target // a device backend: Describe, LoadModel, Infer, CollectStatistics, ...
	if t != nil {
		sdk.ServeTarget(t)
	}
}

// widen is an algorithm that talks to the host the way algorithms do: it
// composes with MinMaxQuantization, reads the graph, asks for statistics,
// evaluates its plan and reports progress.
type widen struct{}

func (widen) Describe(context.Context) (*potv1.AlgorithmDescription, error) {
	return &potv1.AlgorithmDescription{Name: "Widen", Version: "1.0.0", ProtocolVersions: []int32{sdk.ProtocolVersion},
		ParamsSchema: `{"type": "object"}`}, nil
}

func (widen) Run(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.RunResponse, error) {
	// Run another algorithm through the host.
	mm, err := h.RunAlgorithm(ctx, &potv1.RunAlgorithmRequest{Name: "MinMaxQuantization", ModelId: req.ModelID, Plan: req.Plan, Params: string(req.Params)})
	if err != nil {
		return nil, err
	}
	plan := mm.GetPlan()
	// Read the graph (it arrives whole; it travelled in chunks).
	g, err := h.Graph(ctx, req.ModelID)
	if err != nil {
		return nil, err
	}
	// Statistics are reduced inside the target: only numbers come back.
	stats, err := h.CollectStatistics(ctx, &potv1.StatisticsRequest{ModelId: req.ModelID, Probes: []*potv1.StatisticProbe{{
		Id: "out", Tensor: g.GetOutputs()[0].GetName(), Reducer: potv1.Reducer_REDUCER_ABS_MAX, Aggregator: potv1.Aggregator_AGGREGATOR_MAX}}})
	if err != nil {
		return nil, err
	}
	for _, q := range plan.GetQuantizers() {
		if !q.GetWeights() {
			for i := range q.InputHigh {
				q.InputHigh[i] *= 1.1
				q.OutputHigh[i] *= 1.1
			}
		}
	}
	// Evaluate the plan with the run's metric.
	ev, err := h.Evaluate(ctx, &potv1.HostEvaluateRequest{ModelId: req.ModelID, Plan: plan, DataSet: potv1.DataSet_DATA_SET_CALIBRATION})
	if err != nil {
		return nil, err
	}
	if err := h.Progress(ctx, &potv1.ProgressRequest{Stage: "widen", Done: 1, Total: 1}); err != nil {
		return nil, err
	}
	sdk.Logger().Info("widened", "quantizers", len(plan.GetQuantizers()), "metric", ev.GetValue())
	report := fmt.Sprintf(`{"output_abs_max": %g, "%s": %g}`, stats.GetValues()[0].GetValues()[0], ev.GetMetric(), ev.GetValue())
	return &potv1.RunResponse{Plan: plan, Report: report}, nil
}

// Algorithm.Run talks to pot through sdk.Host. Here a canned host stands
// in for pot; sdk/plugintest.NewHost gives a real one over a target.
func ExampleHost() {
	resp, err := widen{}.Run(context.Background(), cannedHost{}, &sdk.RunRequest{ModelID: "m1", Plan: &potv1.QuantizationPlan{}, Params: []byte("{}")})
	if err != nil {
		fmt.Println(err)
		return
	}
	q := resp.GetPlan().GetQuantizers()[0]
	fmt.Println(q.GetId(), q.GetInputLow(), q.GetInputHigh())
	fmt.Println(resp.GetReport())
	// Output:
	// a:out [0] [4.4]
	// {"output_abs_max": 3.5, "agreement": 0.98}
}

// cannedHost answers with fixed values.
type cannedHost struct{ sdk.Host }

func (cannedHost) RunAlgorithm(_ context.Context, req *potv1.RunAlgorithmRequest) (*potv1.RunResponse, error) {
	return &potv1.RunResponse{Plan: &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{{
		Id: "a:out", Location: &potv1.Location{Tensor: "out"}, Levels: 256,
		InputLow: []float32{0}, InputHigh: []float32{4}, OutputLow: []float32{0}, OutputHigh: []float32{4}}}}}, nil
}

func (cannedHost) Graph(context.Context, string) (*potv1.Graph, error) {
	return &potv1.Graph{Outputs: []*potv1.ValueInfo{{Name: "out"}}}, nil
}

func (cannedHost) CollectStatistics(context.Context, *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	return &potv1.StatisticsResponse{Values: []*potv1.StatisticValue{{ProbeId: "out", Values: []float32{3.5}}}}, nil
}

func (cannedHost) Evaluate(context.Context, *potv1.HostEvaluateRequest) (*potv1.HostEvaluateResponse, error) {
	return &potv1.HostEvaluateResponse{Metric: "agreement", Value: 0.98}, nil
}

func (cannedHost) Progress(context.Context, *potv1.ProgressRequest) error { return nil }

// Subset picks the calibration samples: the same ones for the host and
// every algorithm, on every machine.
func ExampleSubset() {
	fmt.Println(sdk.Subset(10, 4, 0, false))
	fmt.Println(len(sdk.Subset(1000, 300, 7, true)), sdk.Subset(5, 0, 0, false))
	// Output:
	// [0 1 2 3]
	// 300 [0 1 2 3 4]
}

// Logger writes hclog JSON lines on stderr, which pot shows under the
// plugin's name, filtered by its --log-level. stdout is reserved for the
// go-plugin handshake.
func ExampleLogger() {
	sdk.Logger().Debug("searching ranges", "quantizers", 12)
}

// outRange is an algorithm whose statistics do not depend on what the
// algorithms before it in a chain do to the plan: it tells them ahead
// (sdk.Prefetcher), so that pot gathers them in the pass of the
// algorithm before it, and its Run is then answered without a pass of
// its own. Run and Prefetch build the request the same way.
type outRange struct{ widen }

func (outRange) request(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.StatisticsRequest, error) {
	g, err := h.Graph(ctx, req.ModelID)
	if err != nil {
		return nil, err
	}
	return &potv1.StatisticsRequest{ModelId: req.ModelID, Samples: &potv1.Samples{Indices: sdk.Subset(300, 100, 0, false)},
		Probes: []*potv1.StatisticProbe{{Id: "out", Tensor: g.GetOutputs()[0].GetName(), Reducer: potv1.Reducer_REDUCER_ABS_MAX,
			Aggregator: potv1.Aggregator_AGGREGATOR_MAX}}}, nil
}

func (a outRange) Prefetch(ctx context.Context, h sdk.Host, req *sdk.RunRequest) ([]*potv1.StatisticsRequest, error) {
	r, err := a.request(ctx, h, req)
	if err != nil {
		return nil, err
	}
	return []*potv1.StatisticsRequest{r}, nil
}

func (a outRange) Run(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.RunResponse, error) {
	r, err := a.request(ctx, h, req)
	if err != nil {
		return nil, err
	}
	stats, err := h.CollectStatistics(ctx, r)
	if err != nil {
		return nil, err
	}
	return &potv1.RunResponse{Plan: req.Plan, Report: fmt.Sprintf(`{"output_abs_max": %g}`, stats.GetValues()[0].GetValues()[0])}, nil
}

// An algorithm that implements sdk.Prefetcher besides sdk.Algorithm tells
// pot, before the algorithms ahead of it run, the statistics its Run will
// ask for.
func ExamplePrefetcher() {
	var a sdk.Algorithm = outRange{}
	req := &sdk.RunRequest{ModelID: "m1", Plan: &potv1.QuantizationPlan{}, Params: []byte("{}")}
	ahead, err := a.(sdk.Prefetcher).Prefetch(context.Background(), cannedHost{}, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	p := ahead[0].GetProbes()[0]
	fmt.Println(len(ahead), p.GetTensor(), p.GetReducer(), len(ahead[0].GetSamples().GetIndices()))
	resp, err := a.Run(context.Background(), cannedHost{}, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.GetReport())
	// Output:
	// 1 out REDUCER_ABS_MAX 100
	// {"output_abs_max": 3.5}
}
