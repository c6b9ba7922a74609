package target

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/potgo/pot/proto/potv1"
)

// evalResp is a response of n samples from offset off whose one output,
// "y", holds n rows of per float32 values (4 bytes each, the byte i of
// the response's data being off*per*4+i mod 251).
func evalResp(off, n, per int64) *potv1.EvaluateResponse {
	data := make([]byte, n*per*4)
	for i := range data {
		data[i] = byte((off*per*4 + int64(i)) % 251)
	}
	return &potv1.EvaluateResponse{Offset: off, Samples: n, Outputs: []*potv1.Tensor{
		{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: []int64{n, per}, Data: data},
	}}
}

func TestMergeable(t *testing.T) {
	edit := func(f func(r *potv1.EvaluateResponse)) *potv1.EvaluateResponse {
		r := evalResp(2, 3, 5)
		f(r)
		return r
	}
	for _, tc := range []struct {
		name string
		b    *potv1.EvaluateResponse
		max  int
		want bool
		a    func(r *potv1.EvaluateResponse) // edits the first response
	}{
		{"next rows", evalResp(2, 3, 5), 1 << 20, true, nil},
		{"exactly the byte limit", evalResp(2, 3, 5), 5 * 5 * 4, true, nil},
		{"over the byte limit", evalResp(2, 3, 5), 5*5*4 - 1, false, nil},
		{"a gap", evalResp(3, 3, 5), 1 << 20, false, nil},
		{"an overlap", evalResp(1, 3, 5), 1 << 20, false, nil},
		{"other rows", evalResp(2, 3, 6), 1 << 20, false, nil},
		{"another name", edit(func(r *potv1.EvaluateResponse) { r.Outputs[0].Name = "z" }), 1 << 20, false, nil},
		{"another type", edit(func(r *potv1.EvaluateResponse) { r.Outputs[0].Dtype = potv1.DataType_DATA_TYPE_INT32 }), 1 << 20, false, nil},
		{"a second output", edit(func(r *potv1.EvaluateResponse) { r.Outputs = append(r.Outputs, r.Outputs[0]) }), 1 << 20, false, nil},
		{"not batch-major", edit(func(r *potv1.EvaluateResponse) { r.Samples = 1; r.Outputs[0].Dims = []int64{3, 5} }), 1 << 20, false, nil},
		{"a scalar", edit(func(r *potv1.EvaluateResponse) { r.Outputs[0].Dims = nil }), 1 << 20, false, nil},
		{"strings", edit(func(r *potv1.EvaluateResponse) { r.Outputs[0].StringData = [][]byte{[]byte("a")} }), 1 << 20, false, nil},
		{"4-bit values", edit(func(r *potv1.EvaluateResponse) { r.Outputs[0].Dtype = potv1.DataType_DATA_TYPE_INT4 }), 1 << 20, false,
			func(r *potv1.EvaluateResponse) { r.Outputs[0].Dtype = potv1.DataType_DATA_TYPE_INT4 }},
		{"after one not batch-major", evalResp(1, 3, 5), 1 << 20, false, func(r *potv1.EvaluateResponse) { r.Samples = 1 }},
		{"chunked data", edit(func(r *potv1.EvaluateResponse) { r.Outputs[0].DataSize = 60 }), 1 << 20, false, nil},
	} {
		a := evalResp(0, 2, 5)
		if tc.a != nil {
			tc.a(a)
		}
		if got := mergeable(a, tc.b, tc.max); got != tc.want {
			t.Errorf("%s: mergeable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestCoalescer feeds 25 batches of 4 samples, 10 ms apart on a fake
// clock, through a coalescer of 100 ms: the first goes out alone, the
// others in responses of the batches of each 100 ms and the rest at the
// flush, whose rows and bytes are the batches' in order.
func TestCoalescer(t *testing.T) {
	var clock time.Time
	var sent []*potv1.EvaluateResponse
	c := newCoalescer(func(r *potv1.EvaluateResponse) error { sent = append(sent, r); return nil }, 100*time.Millisecond, 1<<20)
	c.now = func() time.Time { return clock }
	clock = time.Unix(1000, 0)
	var want []byte
	for i := int64(0); i < 25; i++ {
		r := evalResp(4*i, 4, 3)
		want = append(want, r.GetOutputs()[0].GetData()...)
		if err := c.add(r, true); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(10 * time.Millisecond)
	}
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	var samples []int64
	var got []byte
	next := int64(0)
	for _, r := range sent {
		if r.GetOffset() != next {
			t.Fatalf("response at sample %d, want %d", r.GetOffset(), next)
		}
		next += r.GetSamples()
		samples = append(samples, r.GetSamples())
		if d := r.GetOutputs()[0].GetDims(); d[0] != r.GetSamples() || d[1] != 3 {
			t.Errorf("response of %d samples has dims %v", r.GetSamples(), d)
		}
		got = append(got, r.GetOutputs()[0].GetData()...)
	}
	if want := []int64{4, 40, 40, 16}; !slices.Equal(samples, want) {
		t.Errorf("responses of %v samples, want %v", samples, want)
	}
	if !bytes.Equal(got, want) {
		t.Error("the merged responses' data is not the batches' in order")
	}
}

// TestCoalescerLimits: responses that may not merge (samples fed whole)
// or would pass the byte limit go out on their own, in order, and a
// failed send is the error of add or flush.
func TestCoalescerLimits(t *testing.T) {
	var sent, sizes []int64
	fail := errors.New("stream broken")
	var err error
	c := newCoalescer(func(r *potv1.EvaluateResponse) error {
		sent, sizes = append(sent, r.GetOffset()), append(sizes, r.GetSamples())
		return err
	}, time.Hour, 3*3*4)
	for i := int64(0); i < 6; i++ {
		if e := c.add(evalResp(i, 1, 3), i >= 2); e != nil {
			t.Fatal(e)
		}
	}
	// 0 goes out at once; 1 and 2 may not merge (1 is fed whole); 2 to 4
	// merge up to the limit of 3 rows of 3 values; 5 waits.
	if want, wantSizes := []int64{0, 1, 2}, []int64{1, 1, 3}; !slices.Equal(sent, want) || !slices.Equal(sizes, wantSizes) {
		t.Fatalf("sent responses at %v of %v samples, want at %v of %v", sent, sizes, want, wantSizes)
	}
	err = fail
	if e := c.flush(); !errors.Is(e, fail) {
		t.Errorf("flush: %v, want %v", e, fail)
	}
	if e := c.flush(); e != nil {
		t.Errorf("flush with nothing pending: %v", e)
	}
	if e := c.add(evalResp(6, 1, 3), true); e != nil {
		t.Fatalf("add to an empty coalescer sent: %v", e)
	}
	c.interval = 0
	if e := c.add(evalResp(7, 1, 3), true); !errors.Is(e, fail) {
		t.Errorf("add: %v, want %v", e, fail)
	}
}
