package pipeline

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx"
)

// lenet returns the graph of the example LeNet.
func lenet(t *testing.T) *potv1.Graph {
	t.Helper()
	g, err := onnx.ReadGraph(testenv.Example("models", "lenet_mnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// fakeTarget is a target in the test process. Evaluate answers from
// tables of outputs: float (no plan) and quantized (any plan), per data
// set id, in batches of two samples. It records the calls.
type fakeTarget struct {
	plugins.Target // nil: the calls not implemented here are not made

	float, quantized map[string][][]float32 // data id -> per-sample output
	unsupported      []string               // what LoadModel refuses

	mu     sync.Mutex
	calls  []string
	loaded int
	last   any // the last request
}

func (f *fakeTarget) record(call string, req any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	f.last = req
}

// count is the number of calls of one kind.
func (f *fakeTarget) count(call string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == call {
			n++
		}
	}
	return n
}

func (f *fakeTarget) LoadModel(_ context.Context, g *potv1.Graph) (*potv1.LoadModelResponse, error) {
	f.record("LoadModel", g)
	if len(f.unsupported) > 0 {
		return &potv1.LoadModelResponse{Unsupported: f.unsupported}, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loaded++
	return &potv1.LoadModelResponse{ModelId: fmt.Sprintf("model-%d", f.loaded)}, nil
}

func (f *fakeTarget) UnloadModel(_ context.Context, id string) error {
	f.record("UnloadModel", id)
	return nil
}

func (f *fakeTarget) UploadData(_ context.Context, d *plugins.Dataset) (string, error) {
	f.record("UploadData", d)
	return "data", nil
}

func (f *fakeTarget) Infer(_ context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	f.record("Infer", req)
	return &potv1.InferResponse{}, nil
}

func (f *fakeTarget) CollectStatistics(_ context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	f.record("CollectStatistics", req)
	return &potv1.StatisticsResponse{}, nil
}

func (f *fakeTarget) Evaluate(_ context.Context, req *potv1.EvaluateRequest, send func(*potv1.EvaluateResponse) error) error {
	f.record("Evaluate", req)
	table := f.float
	if req.GetPlan() != nil {
		table = f.quantized
	}
	rows, ok := table[req.GetSamples().GetDataId()]
	if !ok {
		return fmt.Errorf("no data %q", req.GetSamples().GetDataId())
	}
	idx := req.GetSamples().GetIndices()
	if len(idx) == 0 {
		for i := range rows {
			idx = append(idx, int64(i))
		}
	}
	const batch = 2
	for off := 0; off < len(idx); off += batch {
		part := idx[off:min(off+batch, len(idx))]
		var raw []byte
		for _, i := range part {
			if k := int(req.GetTopK()); k > 0 {
				for _, c := range topIndices(rows[i], k) {
					raw = binary.LittleEndian.AppendUint64(raw, uint64(c))
				}
			} else {
				for _, v := range rows[i] {
					raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
				}
			}
		}
		t := &potv1.Tensor{Name: "logits", Dtype: potv1.DataType_DATA_TYPE_FLOAT, Data: raw, Dims: []int64{int64(len(part)), int64(len(rows[0]))}}
		if k := req.GetTopK(); k > 0 {
			t.Dtype, t.Dims[1] = potv1.DataType_DATA_TYPE_INT64, int64(min(int(k), len(rows[0])))
		}
		if err := send(&potv1.EvaluateResponse{Offset: int64(off), Samples: int64(len(part)), Outputs: []*potv1.Tensor{t}}); err != nil {
			return err
		}
	}
	return nil
}

// progressLog records progress updates as "stage done/total".
type progressLog struct {
	mu      sync.Mutex
	updates []string
}

func (p *progressLog) Update(stage string, done, total int64, _ string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.updates = append(p.updates, fmt.Sprintf("%s %d/%d", stage, done, total))
}

func (p *progressLog) stage(stage string, done, total int64) { p.Update(stage, done, total, "") }
