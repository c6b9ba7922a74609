package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
)

// testHost is the host service of the example LeNet loaded as m0 on a
// fakeTarget, with calibration (10 samples) and evaluation data.
func testHost(t *testing.T, metric string, evalLabels []int) (*hostService, *fakeTarget, *progressLog) {
	ft := &fakeTarget{}
	prog := &progressLog{}
	h := newHostService("fake", lenet(t), metric, prog)
	h.target, h.modelID = ft, "m0"
	h.calib = &data{name: "calibration", id: "calib", n: 10}
	h.eval = &data{name: "evaluation", id: "eval", n: 4, labels: evalLabels}
	return h, ft, prog
}

func TestHostModels(t *testing.T) {
	h, ft, _ := testHost(t, "", nil)
	ctx := context.Background()
	for _, id := range []string{"m0", ""} {
		if g, err := h.Graph(ctx, id); err != nil || g != h.graph {
			t.Errorf("Graph(%q) = %v, %v; want the session's graph", id, g, err)
		}
	}
	// A sub-model an algorithm loads: the graph goes to the target, and
	// its id names it until it is unloaded.
	sub := &potv1.Graph{Name: "sub", Nodes: h.graph.GetNodes()[:2]}
	id, err := h.LoadModel(ctx, sub)
	if err != nil || id != "model-1" {
		t.Fatalf("LoadModel = %q, %v", id, err)
	}
	if g, err := h.Graph(ctx, id); err != nil || g != sub {
		t.Errorf("Graph(%q) = %v, %v; want the sub-model", id, g, err)
	}
	if err := h.UnloadModel(ctx, id); err != nil || ft.last != id {
		t.Errorf("UnloadModel(%q) = %v; the target got %v", id, err, ft.last)
	}
	if _, err := h.Graph(ctx, id); err == nil || err.Error() != `no model "model-1"` {
		t.Errorf("Graph of an unloaded model: %v", err)
	}
	if err := h.UnloadModel(ctx, "m0"); err == nil || ft.count("UnloadModel") != 1 {
		t.Errorf("UnloadModel of the session's model: %v (target calls: %d)", err, ft.count("UnloadModel"))
	}
	// A graph the target cannot run is refused with what it cannot run.
	ft.unsupported = []string{"/c1/Conv (Conv)"}
	_, err = h.LoadModel(ctx, sub)
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.Target != "fake" || !slices.Equal(ue.Nodes, ft.unsupported) {
		t.Errorf("LoadModel of an unsupported graph: %v", err)
	}
}

// TestHostModelsConcurrent is for go test -race: algorithms load and
// unload sub-models from several goroutines.
func TestHostModelsConcurrent(t *testing.T) {
	h, _, _ := testHost(t, "", nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				sub := &potv1.Graph{Name: fmt.Sprint("sub", g, i)}
				id, err := h.LoadModel(ctx, sub)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := h.Graph(ctx, id); err != nil || got != sub {
					t.Errorf("Graph(%s) = %v, %v", id, got, err)
				}
				if err := h.UnloadModel(ctx, id); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if len(h.models) != 0 {
		t.Errorf("%d models left after unloading all", len(h.models))
	}
}

// TestHostData: sample selections refer to the calibration data, whatever
// data id the algorithm sent.
func TestHostData(t *testing.T) {
	h, ft, prog := testHost(t, "", nil)
	ctx := context.Background()
	if _, err := h.Infer(ctx, &potv1.InferRequest{ModelId: "m0", Samples: &potv1.Samples{DataId: "other", Indices: []int64{1}}}); err != nil {
		t.Fatal(err)
	}
	if got := ft.last.(*potv1.InferRequest).GetSamples().GetDataId(); got != "calib" {
		t.Errorf("Infer on data %q, want calib", got)
	}
	feeds := &potv1.InferRequest{ModelId: "m0", Inputs: []*potv1.Tensor{{Name: "input"}}}
	if _, err := h.Infer(ctx, feeds); err != nil || !proto.Equal(ft.last.(*potv1.InferRequest), feeds) || feeds.GetSamples() != nil {
		t.Errorf("Infer on given inputs: %v; the target got %v", err, ft.last)
	}
	tests := []struct {
		req  *potv1.StatisticsRequest
		want string // model, data and samples the target got
		n    int64
	}{
		{&potv1.StatisticsRequest{}, "m0 calib 0", 10},
		{&potv1.StatisticsRequest{ModelId: "model-7", Samples: &potv1.Samples{Indices: []int64{0, 5, 9}}}, "model-7 calib 3", 3},
	}
	for _, tc := range tests {
		prog.updates = nil
		if _, err := h.CollectStatistics(ctx, tc.req); err != nil {
			t.Fatal(err)
		}
		got := ft.last.(*potv1.StatisticsRequest)
		if s := fmt.Sprint(got.GetModelId(), " ", got.GetSamples().GetDataId(), " ", len(got.GetSamples().GetIndices())); s != tc.want {
			t.Errorf("CollectStatistics(%v): the target got %s, want %s", tc.req, s, tc.want)
		}
		if want := []string{fmt.Sprintf("statistics 0/%d", tc.n), fmt.Sprintf("statistics %d/%d", tc.n, tc.n)}; !slices.Equal(prog.updates, want) {
			t.Errorf("progress %q, want %q", prog.updates, want)
		}
	}
	h.calib = nil
	if _, err := h.Infer(ctx, &potv1.InferRequest{Samples: &potv1.Samples{}}); err == nil || err.Error() != "no calibration data" {
		t.Errorf("Infer of samples without calibration data: %v", err)
	}
	if _, err := h.CollectStatistics(ctx, &potv1.StatisticsRequest{}); err == nil {
		t.Error("CollectStatistics without calibration data: no error")
	}
}

func TestHostDataInfo(t *testing.T) {
	tests := []struct {
		name     string
		metric   string
		labels   []int
		want     string
		labelled bool
	}{
		{"labelled evaluation data", "", []int{1, 2, 3, 4}, "top1", true},
		{"unlabelled", "", nil, "agreement", false},
		{"a metric given", "sqnr", []int{1, 2, 3, 4}, "sqnr", true},
	}
	for _, tc := range tests {
		h, _, _ := testHost(t, tc.metric, tc.labels)
		r, err := h.DataInfo(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(r.GetInputs()) != 1 || r.GetInputs()[0].GetName() != "input" || r.GetCalibrationSamples() != 10 ||
			r.GetEvaluationSamples() != 4 || r.GetLabelled() != tc.labelled || r.GetMetric() != tc.want {
			t.Errorf("%s: DataInfo = %v", tc.name, r)
		}
	}
}

func TestHostKnownTensor(t *testing.T) {
	h, _, _ := testHost(t, "", nil)
	if got := h.KnownTensor("c1.weight"); len(got) != 16*1*5*5*4 {
		t.Errorf("KnownTensor(c1.weight) has %d bytes, want 1600", len(got))
	}
	if got := h.KnownTensor("nosuch"); got != nil {
		t.Errorf("KnownTensor(nosuch) = %d bytes", len(got))
	}
}

func TestHostProgress(t *testing.T) {
	h, _, prog := testHost(t, "", nil)
	if err := h.Progress(context.Background(), &potv1.ProgressRequest{Stage: "search", Done: 2, Total: 5}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(prog.updates, []string{"search 2/5"}) {
		t.Errorf("progress %q", prog.updates)
	}
	h.prog = nil
	if err := h.Progress(context.Background(), &potv1.ProgressRequest{Stage: "search"}); err != nil {
		t.Errorf("Progress without a receiver: %v", err)
	}
}
