package plugins

import (
	"context"
	"encoding/json"

	"github.com/potgo/pot/proto/potv1"
)

// Target is a device backend, as seen by the host and implemented by a
// target plugin.
type Target interface {
	// Describe returns the target's name, device, hardware config and
	// supported operators.
	Describe(ctx context.Context) (*potv1.TargetDescription, error)
	// LoadModel takes a graph and returns its id. Nodes the target cannot
	// run are listed in the response, and then no id is returned.
	LoadModel(ctx context.Context, g *potv1.Graph) (*potv1.LoadModelResponse, error)
	// Model returns a loaded graph.
	Model(ctx context.Context, modelID string) (*potv1.Graph, error)
	UnloadModel(ctx context.Context, modelID string) error
	// UploadData stores a data set and returns its id.
	UploadData(ctx context.Context, d *Dataset) (string, error)
	Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error)
	CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error)
	// Evaluate runs the samples and calls send with their results in
	// order: each response holds one batch or several consecutive ones.
	Evaluate(ctx context.Context, req *potv1.EvaluateRequest, send func(*potv1.EvaluateResponse) error) error
}

// Dataset is a set of samples: for each model input, one tensor holding
// all samples stacked along axis 0.
type Dataset struct {
	Name    string
	Inputs  []string
	Tensors []*potv1.Tensor
}

// Samples is the number of samples (the leading dimension).
func (d *Dataset) Samples() int64 {
	if len(d.Tensors) == 0 || len(d.Tensors[0].GetDims()) == 0 {
		return 0
	}
	return d.Tensors[0].GetDims()[0]
}

// Algorithm is a quantization algorithm, as seen by the host and
// implemented by an algorithm plugin.
type Algorithm interface {
	Describe(ctx context.Context) (*potv1.AlgorithmDescription, error)
	// Run computes a plan. It calls back into the host through h.
	Run(ctx context.Context, h Host, req *RunRequest) (*potv1.RunResponse, error)
}

// Prefetcher is an Algorithm that tells, before it runs, which
// statistics its Run will collect (the Algorithm service's Prefetch): a
// host running it after another algorithm in a chain gathers them in
// that algorithm's statistics pass, and answers Run's matching
// CollectStatistics calls from them. An algorithm plugin implements it
// optionally. Prefetch gets the request the algorithm ahead of it in the
// chain got (its plan, before that algorithm's changes); it may call the
// host as Run does, and should be cheap (no statistics pass of its own).
type Prefetcher interface {
	Prefetch(ctx context.Context, h Host, req *RunRequest) ([]*potv1.StatisticsRequest, error)
}

// RunRequest is the input of Algorithm.Run.
type RunRequest struct {
	ModelID string
	// Plan from earlier algorithms of the chain; never nil.
	Plan *potv1.QuantizationPlan
	// Params is a JSON object, validated against the algorithm's schema.
	Params json.RawMessage
	Target *potv1.TargetDescription
}

// Host is what an algorithm can ask of the host during Run.
type Host interface {
	// Graph returns the graph of a model id.
	Graph(ctx context.Context, modelID string) (*potv1.Graph, error)
	// LoadModel loads another graph (a sub-model, a transformed model) on
	// the target and returns its id.
	LoadModel(ctx context.Context, g *potv1.Graph) (string, error)
	UnloadModel(ctx context.Context, modelID string) error
	Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error)
	// CollectStatistics runs over the calibration data set.
	CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error)
	// Evaluate measures the run's metric on a data set.
	Evaluate(ctx context.Context, req *potv1.HostEvaluateRequest) (*potv1.HostEvaluateResponse, error)
	// RunAlgorithm runs another algorithm plugin (composition).
	RunAlgorithm(ctx context.Context, req *potv1.RunAlgorithmRequest) (*potv1.RunResponse, error)
	// Progress reports how far a long stage is.
	Progress(ctx context.Context, p *potv1.ProgressRequest) error
	// DataInfo describes the run's data sets.
	DataInfo(ctx context.Context) (*potv1.DataInfoResponse, error)
	// SaveState checkpoints an algorithm's state under a key; LoadState
	// returns it when the run resumes (found is false otherwise).
	SaveState(ctx context.Context, key string, state []byte) error
	LoadState(ctx context.Context, key string) (state []byte, found bool, err error)
}
