package pipeline

import (
	"context"
	"math"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
)

func TestTopIndices(t *testing.T) {
	tests := []struct {
		name string
		row  []float32
		k    int
		want []int64
	}{
		{"largest first", []float32{0.1, 0.7, 0.2}, 2, []int64{1, 2}},
		{"all", []float32{0.1, 0.7, 0.2}, 3, []int64{1, 2, 0}},
		{"ties: the first index wins", []float32{1, 3, 3, 0}, 3, []int64{1, 2, 0}},
		{"k past the row", []float32{5, 4}, 5, []int64{0, 1}},
		{"negative values", []float32{-3, -1, -2}, 1, []int64{1}},
		{"k 0", []float32{1, 2}, 0, []int64{}},
		{"empty row", nil, 3, []int64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := topIndices(tc.row, tc.k); !slices.Equal(got, tc.want) {
				t.Errorf("topIndices(%v, %d) = %v, want %v", tc.row, tc.k, got, tc.want)
			}
		})
	}
}

func TestDistanceOf(t *testing.T) {
	tests := []struct {
		kind      string
		ref, got  []float32
		want      float64
		wantError string
	}{
		{"cosine", []float32{1, 2, 3}, []float32{2, 4, 6}, 0, ""},
		{"cosine", []float32{1, 0}, []float32{0, 1}, 1, ""},
		{"cosine", []float32{1, 2}, []float32{-1, -2}, 2, ""},
		{"cosine", []float32{0, 0}, []float32{0, 0}, 0, ""},
		{"cosine", []float32{0, 0}, []float32{1, 0}, 1, ""},
		{"mse", []float32{1, 2, 3}, []float32{1, 2, 5}, 4.0 / 3, ""},
		{"mse", []float32{1, 2, 3}, []float32{1, 2, 3}, 0, ""},
		{"nmse", []float32{1, 2, 3}, []float32{1, 2, 5}, 4.0 / 14, ""},
		{"nmse", []float32{0, 0}, []float32{1, 2}, 5, ""}, // a zero reference: the squared error
		{"mse", []float32{1, 2}, []float32{1, 2, 3}, 0, "outputs differ in size: 2 and 3"},
		{"l1", []float32{1}, []float32{1}, 0, `unknown distance "l1" (cosine, mse, nmse)`},
	}
	for _, tc := range tests {
		got, err := distanceOf(tc.kind, tc.ref, tc.got)
		switch {
		case tc.wantError != "":
			if err == nil || err.Error() != tc.wantError {
				t.Errorf("distanceOf(%s, %v, %v) = %g, %v; want error %q", tc.kind, tc.ref, tc.got, got, err, tc.wantError)
			}
		case err != nil || math.Abs(got-tc.want) > 1e-12:
			t.Errorf("distanceOf(%s, %v, %v) = %g, %v; want %g", tc.kind, tc.ref, tc.got, got, err, tc.want)
		}
	}
}

func TestSoftmaxMax(t *testing.T) {
	tests := []struct {
		logits []float32
		want   float64
	}{
		{nil, 0},
		{[]float32{0, 0}, 0.5},
		{[]float32{7, 7, 7, 7}, 0.25},
		{[]float32{float32(math.Log(3)), 0}, 0.75},
		{[]float32{1000, 0}, 1},        // no overflow: the maximum is subtracted first
		{[]float32{-1000, -1000}, 0.5}, // nor underflow
		{[]float32{0, 2, 1}, 1 / (1 + math.Exp(-2) + math.Exp(-1))},
	}
	for _, tc := range tests {
		if got := softmaxMax(tc.logits); math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("softmaxMax(%v) = %g, want %g", tc.logits, got, tc.want)
		}
	}
}

// Six samples of four classes. The float model predicts 0 1 2 3 0 1, the
// last two with little confidence; the quantized one (any plan) turns
// sample 3 into class 0. The labels make the float model right on 5
// samples and the quantized one on 4.
var (
	floatOut = [][]float32{{4, 0, 0, 0}, {0, 4, 0, 0}, {0, 0, 4, 0}, {0, 0, 0, 4}, {1, 0.9, 0.8, 0.7}, {0.9, 1, 0.8, 0.7}}
	quantOut = [][]float32{{4, 0, 0, 0}, {0, 4, 0, 0}, {0, 0, 4, 0}, {4, 0, 0, 3.5}, {1, 0.9, 0.8, 0.7}, {0.9, 1, 0.8, 0.7}}
	labels   = []int{0, 1, 2, 3, 0, 2}
)

// testEvaluator evaluates on a fakeTarget holding the outputs above for
// the data sets "eval" (labelled) and "calib" (not).
func testEvaluator(metric string) (*evaluator, *fakeTarget, *data, *data) {
	ft := &fakeTarget{float: map[string][][]float32{"eval": floatOut, "calib": floatOut},
		quantized: map[string][][]float32{"eval": quantOut, "calib": quantOut}}
	eval := &data{name: "evaluation", id: "eval", n: 6, labels: labels}
	calib := &data{name: "calibration", id: "calib", n: 6}
	return newEvaluator(ft, "m0", eval, metric, "", func(string, int64, int64) {}), ft, eval, calib
}

var somePlan = &potv1.QuantizationPlan{Preset: "performance"}

func TestEvaluatorMeasure(t *testing.T) {
	e, _, _, _ := testEvaluator("")
	ctx := context.Background()
	for _, tc := range []struct {
		plan *potv1.QuantizationPlan
		want float64
	}{{nil, 5.0 / 6}, {somePlan, 4.0 / 6}} {
		r, err := e.measure(ctx, tc.plan)
		if err != nil {
			t.Fatal(err)
		}
		if r.Metric != "top1" || r.Value != tc.want || r.Samples != 6 {
			t.Errorf("measure(%v) = %+v, want top1 %g on 6 samples", tc.plan, r, tc.want)
		}
	}
	if _, err := (&evaluator{}).measure(ctx, nil); err == nil || err.Error() != "no evaluation data" {
		t.Errorf("measure without evaluation data: %v", err)
	}
}

// TestEvaluatorCache: full-set evaluations are served from the cache,
// evaluations of a subset are not.
func TestEvaluatorCache(t *testing.T) {
	e, ft, eval, _ := testEvaluator("")
	ctx := context.Background()
	steps := []struct {
		name      string
		plan      *potv1.QuantizationPlan
		idx       []int64
		wantCalls int
	}{
		{"float", nil, nil, 1},
		{"quantized", somePlan, nil, 2},
		{"float again", nil, nil, 2},
		{"quantized again", &potv1.QuantizationPlan{Preset: "performance"}, nil, 2},
		{"another plan", &potv1.QuantizationPlan{Preset: "mixed"}, nil, 3},
		{"a subset", somePlan, []int64{3, 4}, 4},
		{"the subset again", somePlan, []int64{3, 4}, 5},
	}
	for _, st := range steps {
		r, err := e.evaluate(ctx, "m0", st.plan, eval, st.idx, "", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := ft.count("Evaluate"); got != st.wantCalls {
			t.Errorf("%s: %d target evaluations so far, want %d", st.name, got, st.wantCalls)
		}
		if st.idx != nil && !slices.Equal(r.GetPerSample(), []float64{0, 1}) {
			t.Errorf("%s: per sample %v, want [0 1]", st.name, r.GetPerSample())
		}
	}
}

// TestEvaluatorAgreement: without labels, the quantized model is compared
// with the float model's predictions (computed once per data set); below
// the confidence threshold samples are left out.
func TestEvaluatorAgreement(t *testing.T) {
	e, ft, _, calib := testEvaluator("")
	ctx := context.Background()
	tests := []struct {
		conf      float64
		want      float64
		samples   int64
		perSample []float64
	}{
		{0, 5.0 / 6, 6, []float64{1, 1, 1, 0, 1, 1}},
		// Samples 4 and 5 have a top softmax probability of about 0.29.
		{0.5, 3.0 / 4, 4, []float64{1, 1, 1, 0, math.NaN(), math.NaN()}},
	}
	for _, tc := range tests {
		r, err := e.evaluate(ctx, "m0", somePlan, calib, nil, "", "", tc.conf)
		if err != nil {
			t.Fatal(err)
		}
		if r.GetMetric() != "agreement" || r.GetValue() != tc.want || r.GetSamples() != tc.samples ||
			!slices.EqualFunc(r.GetPerSample(), tc.perSample, sameFloat) {
			t.Errorf("conf %g: %v, want agreement %g on %d samples, per sample %v", tc.conf, r, tc.want, tc.samples, tc.perSample)
		}
	}
	// The quantized model twice, the float reference once.
	if got := ft.count("Evaluate"); got != 3 {
		t.Errorf("%d target evaluations, want 3", got)
	}
}

func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// TestEvaluatorDistances: per-sample distances to the float model's
// outputs, with the top-1 metric and with another, on the whole set and
// on a subset; the float model runs once for all of them.
func TestEvaluatorDistances(t *testing.T) {
	e, ft, eval, _ := testEvaluator("")
	ctx := context.Background()
	// Sample 3: (0-4)² and (4-3.5)² over 4 values.
	want := []float64{0, 0, 0, (16 + 0.25) / 4, 0, 0}
	for _, metric := range []string{"top1", "top5"} {
		r, err := e.evaluate(ctx, "m0", somePlan, eval, nil, "mse", metric, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.GetDistances(), want) {
			t.Errorf("%s: distances %v, want %v", metric, r.GetDistances(), want)
		}
	}
	r, err := e.evaluate(ctx, "m0", somePlan, eval, []int64{5, 3}, "mse", "top5", 0)
	if err != nil {
		t.Fatal(err)
	}
	if sub := []float64{want[5], want[3]}; !slices.Equal(r.GetDistances(), sub) {
		t.Errorf("samples 5 and 3: distances %v, want %v", r.GetDistances(), sub)
	}
	// The float model against itself: its outputs once more from the
	// cache, every distance 0.
	r, err = e.evaluate(ctx, "m0", nil, eval, nil, "mse", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.GetDistances(), make([]float64, len(want))) {
		t.Errorf("float model: distances %v, want zeros", r.GetDistances())
	}
	// Its metric, without distances, from the same outputs: what an
	// evaluator that kept nothing measures.
	fresh, _, freshEval, _ := testEvaluator("")
	want1, err := fresh.evaluate(ctx, "m0", nil, freshEval, nil, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if r, err = e.evaluate(ctx, "m0", nil, eval, nil, "", "", 0); err != nil || !proto.Equal(r, want1) {
		t.Errorf("float model's top-1: %v, %v; want %v", r, err, want1)
	}
	// The plan three times (top1, top5, the subset), the float model once.
	if got := ft.count("Evaluate"); got != 4 {
		t.Errorf("%d target evaluations, want 4", got)
	}
	if _, err := e.evaluate(ctx, "m0", somePlan, eval, nil, "l1", "", 0); err == nil {
		t.Error("an unknown distance: no error")
	}
}

func TestEvaluatorNeedsLabels(t *testing.T) {
	e, _, _, calib := testEvaluator("top1")
	_, err := e.evaluate(context.Background(), "m0", somePlan, calib, nil, "", "", 0)
	if want := "metric top1 needs labels; the calibration data has none"; err == nil || err.Error() != want {
		t.Errorf("top1 without labels: %v, want %q", err, want)
	}
}

func TestMetricName(t *testing.T) {
	labelled := &data{labels: []int{1}}
	unlabelled := &data{}
	tests := []struct {
		spec string
		d    *data
		want string
	}{
		{"", labelled, "top1"},
		{"", unlabelled, "agreement"},
		{"", nil, "agreement"},
		{"sqnr", labelled, "sqnr"},
	}
	for _, tc := range tests {
		if got := metricName(tc.spec, tc.d); got != tc.want {
			t.Errorf("metricName(%q, %+v) = %q, want %q", tc.spec, tc.d, got, tc.want)
		}
	}
}

// TestSessionEvaluate: the Host's Evaluate picks the data set and the
// session's model for the evaluator.
func TestSessionEvaluate(t *testing.T) {
	e, _, eval, calib := testEvaluator("")
	h := newHostService("fake", nil, "", nil)
	h.modelID, h.calib, h.eval = "m0", calib, eval
	s := &Session{hostService: h, evals: e}
	ctx := context.Background()
	tests := []struct {
		set    potv1.DataSet
		metric string
		want   float64
	}{
		{potv1.DataSet_DATA_SET_EVALUATION, "top1", 4.0 / 6},
		{potv1.DataSet_DATA_SET_UNSPECIFIED, "top1", 4.0 / 6}, // the evaluation data
		{potv1.DataSet_DATA_SET_CALIBRATION, "agreement", 5.0 / 6},
	}
	for _, tc := range tests {
		r, err := s.Evaluate(ctx, &potv1.HostEvaluateRequest{DataSet: tc.set, Plan: somePlan})
		if err != nil || r.GetMetric() != tc.metric || r.GetValue() != tc.want {
			t.Errorf("Evaluate on %v = %v, %v; want %s %g", tc.set, r, err, tc.metric, tc.want)
		}
	}
	h.eval = nil
	if _, err := s.Evaluate(ctx, &potv1.HostEvaluateRequest{DataSet: potv1.DataSet_DATA_SET_EVALUATION}); err == nil ||
		err.Error() != "no DATA_SET_EVALUATION data to evaluate on" {
		t.Errorf("Evaluate without evaluation data: %v", err)
	}
}
