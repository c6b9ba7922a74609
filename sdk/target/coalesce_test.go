package target

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

// rows is an output of n samples from offset off: n rows of per float32
// values, value j of sample s being s·per+j.
func rows(off, n, per int) *tensor.Tensor {
	v := make([]float32, n*per)
	for i := range v {
		v[i] = float32(off*per + i)
	}
	return tensor.From([]int{n, per}, v)
}

// sink collects what a coalescer sends, decoded.
type sink struct {
	offsets, samples []int
	outs             [][]*tensor.Tensor
	err              error // returned by send
}

func (s *sink) send(r *potv1.EvaluateResponse) error {
	s.offsets, s.samples = append(s.offsets, int(r.GetOffset())), append(s.samples, int(r.GetSamples()))
	var outs []*tensor.Tensor
	for _, p := range r.GetOutputs() {
		t, err := tensor.FromProto(p)
		if err != nil {
			return err
		}
		outs = append(outs, t)
	}
	s.outs = append(s.outs, outs)
	return s.err
}

// TestCoalescerMerges sends a first batch (out at once), then batches a
// and b, which wait (the interval is an hour) and go out at the flush:
// in one response when b continues a, else in two.
func TestCoalescerMerges(t *testing.T) {
	type batch struct {
		off, n int
		outs   []*tensor.Tensor
		merge  bool
	}
	b := func(off, n int, merge bool, outs ...*tensor.Tensor) batch { return batch{off, n, outs, merge} }
	f32 := func(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float, shape...) }
	for _, tc := range []struct {
		name  string
		a, b  batch
		max   int
		merge bool
	}{
		{"next rows", b(2, 3, true, rows(2, 3, 5)), b(5, 2, true, rows(5, 2, 5)), 1 << 20, true},
		{"exactly the byte limit", b(2, 3, true, rows(2, 3, 5)), b(5, 2, true, rows(5, 2, 5)), 5 * 5 * 4, true},
		{"over the byte limit", b(2, 3, true, rows(2, 3, 5)), b(5, 2, true, rows(5, 2, 5)), 5*5*4 - 1, false},
		{"a gap", b(2, 3, true, rows(2, 3, 5)), b(6, 2, true, rows(6, 2, 5)), 1 << 20, false},
		{"an overlap", b(2, 3, true, rows(2, 3, 5)), b(4, 2, true, rows(4, 2, 5)), 1 << 20, false},
		{"other rows", b(2, 3, true, rows(2, 3, 5)), b(5, 2, true, rows(5, 2, 6)), 1 << 20, false},
		{"another type", b(2, 3, true, f32(3, 5)), b(5, 2, true, tensor.New(tensor.Int32, 2, 5)), 1 << 20, false},
		{"another rank", b(2, 3, true, f32(3, 5)), b(5, 2, true, f32(2, 5, 1)), 1 << 20, false},
		{"rows not its samples", b(2, 3, true, f32(3, 5)), b(5, 2, true, f32(3, 5)), 1 << 20, false},
		{"after rows not its samples", b(2, 3, true, f32(2, 5)), b(5, 2, true, f32(2, 5)), 1 << 20, false},
		{"scalars", b(2, 1, true, tensor.Scalar[float32](1)), b(3, 1, true, tensor.Scalar[float32](2)), 1 << 20, false},
		{"fed whole", b(2, 1, true, f32(1, 5)), b(3, 1, false, f32(1, 5)), 1 << 20, false},
		{"after one fed whole", b(2, 1, false, f32(1, 5)), b(3, 1, true, f32(1, 5)), 1 << 20, false},
		{"strings", b(2, 1, true, tensor.From([]int{1}, []string{"ab"})), b(3, 2, true, tensor.From([]int{2}, []string{"c", "d"})), 4, true},
		{"strings over the byte limit", b(2, 1, true, tensor.From([]int{1}, []string{"ab"})), b(3, 2, true, tensor.From([]int{2}, []string{"c", "d"})), 3, false},
		// 4-bit values are packed two to a byte only when sent: rows of
		// 3 merge into 6 values, 3 bytes.
		{"4-bit values", b(2, 1, true, tensor.From([]int{1, 3}, []tensor.Int4Value{-8, 7, 1})), b(3, 1, true, tensor.From([]int{1, 3}, []tensor.Int4Value{2, -1, 0})), 1 << 20, true},
	} {
		var s sink
		c := newCoalescer(s.send, []string{"y", "z"}[:len(tc.a.outs)], time.Hour, tc.max)
		if err := c.add(0, 2, tc.a.outs, true); err != nil { // the first batch of the run goes out at once
			t.Fatal(err)
		}
		if len(s.samples) != 1 {
			t.Fatalf("%s: the first batch waits", tc.name)
		}
		for _, x := range []batch{tc.a, tc.b} {
			if err := c.add(x.off, x.n, x.outs, x.merge); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
		}
		if err := c.flush(); err != nil {
			t.Fatal(err)
		}
		want := []int{0, tc.a.off, tc.b.off}
		if tc.merge {
			want = want[:2]
		}
		if !slices.Equal(s.offsets, want) {
			t.Errorf("%s: responses at samples %v, want %v", tc.name, s.offsets, want)
			continue
		}
		// What was sent is the batches' outputs, merged or not.
		var got, wantData []*tensor.Tensor
		for _, o := range s.outs[1:] {
			got = append(got, o[0])
		}
		a := tc.a.outs[0].Clone()
		if tc.merge {
			if err := a.AppendRows(tc.b.outs[0]); err != nil {
				t.Fatal(err)
			}
			wantData = []*tensor.Tensor{a}
		} else {
			wantData = []*tensor.Tensor{a, tc.b.outs[0]}
		}
		for i := range wantData {
			if !sameTensor(got[i], wantData[i]) {
				t.Errorf("%s: response %d holds %v %v, want %v %v", tc.name, i+1, got[i].Shape, got[i].Data, wantData[i].Shape, wantData[i].Data)
			}
		}
	}
}

// TestCoalescer feeds 25 batches of 4 samples, 10 ms apart on a fake
// clock, through a coalescer of 100 ms: the first goes out alone, the
// others in responses of the batches of each 100 ms and the rest at the
// flush, whose rows are the batches' in order. Each batch's outputs are
// written into the same tensor, as a session reuses its buffers.
func TestCoalescer(t *testing.T) {
	var clock time.Time
	var s sink
	c := newCoalescer(s.send, []string{"y"}, 100*time.Millisecond, 1<<20)
	c.now = func() time.Time { return clock }
	clock = time.Unix(1000, 0)
	out := tensor.New(tensor.Float, 4, 3)
	for i := 0; i < 25; i++ {
		out.CopyFrom(rows(4*i, 4, 3))
		if err := c.add(4*i, 4, []*tensor.Tensor{out}, true); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(10 * time.Millisecond)
	}
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	if want := []int{4, 40, 40, 16}; !slices.Equal(s.samples, want) {
		t.Errorf("responses of %v samples, want %v", s.samples, want)
	}
	next := 0
	for i, off := range s.offsets {
		if off != next {
			t.Fatalf("response at sample %d, want %d", off, next)
		}
		if got, want := s.outs[i][0], rows(off, s.samples[i], 3); !sameTensor(got, want) {
			t.Errorf("response of samples %d to %d: %v %v, want %v", off, off+s.samples[i]-1, got.Shape, got.Data, want.Data)
		}
		next += s.samples[i]
	}
}

// TestCoalescerLimits: batches that may not merge (samples fed whole)
// or would pass the byte limit go out on their own, in order, and a
// failed send is the error of add or flush.
func TestCoalescerLimits(t *testing.T) {
	fail := errors.New("stream broken")
	var s sink
	c := newCoalescer(s.send, []string{"y"}, time.Hour, 3*3*4)
	add := func(i int, merge bool) error { return c.add(i, 1, []*tensor.Tensor{rows(i, 1, 3)}, merge) }
	for i := 0; i < 6; i++ {
		if e := add(i, i >= 2); e != nil {
			t.Fatal(e)
		}
	}
	// 0 goes out at once; 1 and 2 may not merge (1 is fed whole); 2 to 4
	// merge up to the limit of 3 rows of 3 values; 5 waits.
	if want, wantSizes := []int{0, 1, 2}, []int{1, 1, 3}; !slices.Equal(s.offsets, want) || !slices.Equal(s.samples, wantSizes) {
		t.Fatalf("sent responses at %v of %v samples, want at %v of %v", s.offsets, s.samples, want, wantSizes)
	}
	s.err = fail
	if e := c.flush(); !errors.Is(e, fail) {
		t.Errorf("flush: %v, want %v", e, fail)
	}
	if e := c.flush(); e != nil {
		t.Errorf("flush with nothing pending: %v", e)
	}
	if e := add(6, true); e != nil {
		t.Fatalf("add to an empty coalescer sent: %v", e)
	}
	c.interval = 0
	if e := add(7, true); !errors.Is(e, fail) {
		t.Errorf("add: %v, want %v", e, fail)
	}
	if e := c.add(8, 1, []*tensor.Tensor{rows(8, 1, 3), rows(8, 1, 3)}, true); e == nil {
		t.Error("add took two outputs for one name")
	}
}

// sameTensor reports whether a and b have the same type, shape and
// values.
func sameTensor(a, b *tensor.Tensor) bool {
	return a.DType == b.DType && slices.Equal(a.Shape, b.Shape) && reflect.DeepEqual(a.Data, b.Data)
}
