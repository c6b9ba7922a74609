package target

import (
	"context"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/internal/realmodels"
	"github.com/potgo/pot/proto/potv1"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// TestStatisticsInsideBranches collects statistics of hey_jarvis over its
// eight reference windows, four of which run the verifier branch: a
// tensor of the branch has statistics from those four only, a tensor of
// the main graph from all eight; a tensor of silero_vad's 8 kHz branch,
// which no 16 kHz sample runs, has none — and no error.
func TestStatisticsInsideBranches(t *testing.T) {
	ctx := context.Background()
	const repo = "../.."
	e := newEngine(t, Config{Name: "test", Threads: 1})
	g, err := realmodels.Graph(repo, "hey_jarvis_v0.1.onnx")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.LoadModel(ctx, g)
	if err != nil || resp.GetModelId() == "" {
		t.Fatalf("load: %v %v", err, resp.GetUnsupported())
	}
	var rows []*potv1.Tensor
	var data []byte
	for i := range 8 {
		s, err := realmodels.Sample(repo, "hey_jarvis/x.pb", i, "x.1")
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, s)
		data = append(data, s.GetData()...)
	}
	id, err := e.UploadData(ctx, &plugins.Dataset{Name: "windows", Inputs: []string{"x.1"},
		Tensors: []*potv1.Tensor{{Name: "x.1", Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: []int64{8, 1, 16, 96}, Data: data}}})
	if err != nil {
		t.Fatal(err)
	}
	probe := func(id, tensor string) *potv1.StatisticProbe {
		return &potv1.StatisticProbe{Id: id, Tensor: tensor, Reducer: potv1.Reducer_REDUCER_MAX, Aggregator: potv1.Aggregator_AGGREGATOR_MAX}
	}
	st, err := e.CollectStatistics(ctx, &potv1.StatisticsRequest{ModelId: resp.GetModelId(), Samples: &potv1.Samples{DataId: id},
		Probes: []*potv1.StatisticProbe{probe("branch", "input.27"), probe("main", "input.3")}})
	if err != nil {
		t.Fatal(err)
	}
	// The reference: the same maxima watched on the runtime.
	p, err := rt.Compile(g, rt.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s := p.NewSession()
	want := map[string]float32{"input.27": float32(math.Inf(-1)), "input.3": float32(math.Inf(-1))}
	runs := map[string]int{}
	if err := s.Watch([]string{"input.27", "input.3"}, func(name string, v *tensor.Tensor) error {
		runs[name]++
		for _, f := range v.F32() {
			want[name] = max(want[name], f)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		x, err := rt.FromProto(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Run(ctx, []*tensor.Tensor{x}); err != nil {
			t.Fatal(err)
		}
	}
	if st.GetSamples() != 8 {
		t.Errorf("statistics over %d samples, want 8", st.GetSamples())
	}
	for i, tc := range []struct {
		tensor  string
		samples int64
	}{{"input.27", 4}, {"input.3", 8}} {
		v := st.GetValues()[i]
		if v.GetSamples() != tc.samples || int64(runs[tc.tensor]) != tc.samples {
			t.Errorf("%s: statistics from %d samples (computed %d times), want %d", tc.tensor, v.GetSamples(), runs[tc.tensor], tc.samples)
		}
		if len(v.GetValues()) != 1 || v.GetValues()[0] != want[tc.tensor] {
			t.Errorf("%s: max %v, want %v", tc.tensor, v.GetValues(), want[tc.tensor])
		}
	}
	// A branch value is returned for samples that run the branch (the
	// first four windows), and refused, by name, for the others.
	for _, tc := range []struct {
		indices []int64
		ok      bool
	}{{[]int64{0, 1, 2, 3}, true}, {[]int64{2, 3, 4}, false}} {
		r, err := e.Infer(ctx, &potv1.InferRequest{ModelId: resp.GetModelId(), Samples: &potv1.Samples{DataId: id, Indices: tc.indices}, Outputs: []string{"input.27"}})
		switch {
		case tc.ok && (err != nil || len(r.GetOutputs()) != 1 || r.GetOutputs()[0].GetDims()[0] != 4):
			t.Errorf("samples %v: %v %v", tc.indices, err, r.GetOutputs())
		case !tc.ok && (err == nil || !strings.Contains(err.Error(), `"input.27" was not computed`)):
			t.Errorf("samples %v: error %v", tc.indices, err)
		}
	}

	vad, err := realmodels.Graph(repo, "silero_vad.onnx")
	if err != nil {
		t.Fatal(err)
	}
	vresp, err := e.LoadModel(ctx, vad)
	if err != nil {
		t.Fatal(err)
	}
	set := &plugins.Dataset{Name: "vad"}
	for _, name := range []string{"input", "h", "c"} {
		var data []byte
		var dims []int64
		for i := range 8 {
			s, err := realmodels.Sample(repo, "silero_vad/"+name+".pb", i, name)
			if err != nil {
				t.Fatal(err)
			}
			data, dims = append(data, s.GetData()...), s.GetDims()
		}
		set.Inputs = append(set.Inputs, name)
		set.Tensors = append(set.Tensors, &potv1.Tensor{Name: name, Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: append([]int64{8}, dims...), Data: data})
	}
	sr := make([]byte, 0, 64)
	for range 8 {
		sr = binary.LittleEndian.AppendUint64(sr, 16000)
	}
	set.Inputs = append(set.Inputs, "sr")
	set.Tensors = append(set.Tensors, &potv1.Tensor{Name: "sr", Dtype: potv1.DataType_DATA_TYPE_INT64, Dims: []int64{8}, Data: sr})
	vid, err := e.UploadData(ctx, set)
	if err != nil {
		t.Fatal(err)
	}
	// 846 is the first LSTM's Y in the 8 kHz branch, 356 in the 16 kHz one
	// (once per sample: one call of its subgraph each).
	st, err = e.CollectStatistics(ctx, &potv1.StatisticsRequest{ModelId: vresp.GetModelId(), Samples: &potv1.Samples{DataId: vid},
		Probes: []*potv1.StatisticProbe{probe("8k", "846"), probe("16k", "356")}})
	if err != nil {
		t.Fatal(err)
	}
	if v := st.GetValues()[0]; len(v.GetValues()) != 0 || v.GetSamples() != 0 {
		t.Errorf("8 kHz branch: values %v from %d samples, want none", v.GetValues(), v.GetSamples())
	}
	if v := st.GetValues()[1]; len(v.GetValues()) != 1 || v.GetSamples() != 8 {
		t.Errorf("16 kHz branch: values %v from %d samples, want one from 8", v.GetValues(), v.GetSamples())
	}
}
