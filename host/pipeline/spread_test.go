package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/stats"
)

// lostErr is what a remote target's lost connection looks like to the
// pool.
type lostErr struct{}

func (lostErr) Error() string        { return "connection lost" }
func (lostErr) LostConnection() bool { return true }

func poolOf(ws ...*worker) *workerPool {
	p := &workerPool{free: make(chan *worker, len(ws)), alive: len(ws), none: make(chan struct{}), log: hclog.NewNullLogger()}
	for _, w := range ws {
		p.free <- w
	}
	return p
}

// TestSpreadCutsAtBatches: the ranges cover the samples once, each
// starts at a multiple of the batch, and a range a lost remote took runs
// again on another worker.
func TestSpreadCutsAtBatches(t *testing.T) {
	for _, tc := range []struct{ n, batch, workers int }{{1000, 64, 3}, {100, 64, 3}, {64, 64, 2}, {1000, 1, 4}, {5, 0, 3}} {
		t.Run(fmt.Sprintf("n%d_b%d_w%d", tc.n, tc.batch, tc.workers), func(t *testing.T) {
			var ws []*worker
			for i := range tc.workers {
				ws = append(ws, &worker{name: fmt.Sprint("w", i), remote: i == 1})
			}
			p := poolOf(ws...)
			var mu sync.Mutex
			var ranges [][2]int
			failed := false
			err := p.spread(context.Background(), tc.n, tc.batch, func(w *worker, lo, hi int) error {
				mu.Lock()
				defer mu.Unlock()
				if w.remote && !failed && tc.workers > 1 {
					failed = true
					return fmt.Errorf("remote: %w", lostErr{})
				}
				ranges = append(ranges, [2]int{lo, hi})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			sort.Slice(ranges, func(i, j int) bool { return ranges[i][0] < ranges[j][0] })
			next := 0
			for _, r := range ranges {
				if r[0] != next || r[1] <= r[0] || (tc.batch > 0 && r[0]%tc.batch != 0) {
					t.Fatalf("ranges %v: want consecutive ranges from 0 starting at multiples of %d", ranges, tc.batch)
				}
				next = r[1]
			}
			if next != tc.n {
				t.Fatalf("ranges %v end at %d, want %d", ranges, next, tc.n)
			}
		})
	}
}

// TestPoolWithEveryWorkerLost: the error names every lost worker.
func TestPoolWithEveryWorkerLost(t *testing.T) {
	p := poolOf(&worker{name: "a", remote: true}, &worker{name: "b", remote: true})
	err := p.with(context.Background(), func(w *worker) error { return fmt.Errorf("remote target %s: %w", w.name, lostErr{}) })
	var le *LostError
	if !errors.As(err, &le) || len(le.Lost) != 2 || !strings.Contains(err.Error(), "remote target a") || !strings.Contains(err.Error(), "remote target b") {
		t.Fatalf("error %v: want both workers named", err)
	}
	// A local worker's failure is the call's, not a loss.
	p = poolOf(&worker{name: "local"})
	if err := p.with(context.Background(), func(*worker) error { return lostErr{} }); !errors.Is(err, lostErr{}) {
		t.Fatalf("local worker: %v", err)
	}
}

// TestAggregateMatchesOneTarget: per-sample values from ranges, combined
// in sample order, give what one accumulator over all samples gives, for
// every aggregator.
func TestAggregateMatchesOneTarget(t *testing.T) {
	rows := make([][]float32, 10)
	for i := range rows {
		rows[i] = []float32{float32(i)*0.37 - 1.1, float32(i*i)*0.013 + 0.2, -float32(i) * 1e-3}
	}
	for agg := range potv1.Aggregator_name {
		a := potv1.Aggregator(agg)
		if a == potv1.Aggregator_AGGREGATOR_UNSPECIFIED {
			continue
		}
		t.Run(a.String(), func(t *testing.T) {
			probe := &potv1.StatisticProbe{Id: "p", Aggregator: a}
			one, _ := stats.NewAccumulator(a, 0, 0)
			for _, r := range rows {
				one.Add(r)
			}
			want, wantDims, _ := one.Result()
			parts := map[int]*potv1.StatisticsResponse{}
			for _, cut := range [][2]int{{0, 4}, {4, 8}, {8, 10}} {
				var vals []float32
				for _, r := range rows[cut[0]:cut[1]] {
					vals = append(vals, r...)
				}
				n := int64(cut[1] - cut[0])
				parts[cut[0]] = &potv1.StatisticsResponse{Samples: n, Values: []*potv1.StatisticValue{{ProbeId: "p", Values: vals, Dims: []int64{n, 3}, Samples: n}}}
			}
			got, err := aggregate([]*potv1.StatisticProbe{probe}, []int{0, 4, 8}, parts)
			if err != nil {
				t.Fatal(err)
			}
			v := got.GetValues()[0]
			if !slices.Equal(v.GetValues(), want) || !slices.Equal(v.GetDims(), wantDims) || v.GetSamples() != 10 || got.GetSamples() != 10 {
				t.Errorf("spread %v %v (%d samples), one target %v %v", v.GetValues(), v.GetDims(), v.GetSamples(), want, wantDims)
			}
		})
	}
}

// TestRangeAlignment: ranges start at multiples of the target's batch
// and of a model input's fixed batch.
func TestRangeAlignment(t *testing.T) {
	in := func(name string, first *potv1.Dim) *potv1.ValueInfo {
		return &potv1.ValueInfo{Name: name, Shape: []*potv1.Dim{first, {Value: &potv1.Dim_Size{Size: 3}}}}
	}
	size := func(n int64) *potv1.Dim { return &potv1.Dim{Value: &potv1.Dim_Size{Size: n}} }
	sym := &potv1.Dim{Value: &potv1.Dim_Param{Param: "N"}}
	for _, tc := range []struct {
		name   string
		inputs []*potv1.ValueInfo
		inits  []*potv1.Tensor
		batch  int
		want   int
	}{
		{"dynamic batch", []*potv1.ValueInfo{in("x", sym)}, nil, 64, 64},
		{"batch of 1", []*potv1.ValueInfo{in("x", size(1))}, nil, 64, 64},
		{"fixed batch 10", []*potv1.ValueInfo{in("x", size(10))}, nil, 64, 320},
		{"fixed batch 16", []*potv1.ValueInfo{in("x", size(16))}, nil, 64, 64},
		{"fixed batch of an initializer", []*potv1.ValueInfo{in("x", sym), in("w", size(10))}, []*potv1.Tensor{{Name: "w"}}, 64, 64},
		{"target says no batch", []*potv1.ValueInfo{in("x", size(10))}, nil, 0, 0},
	} {
		g := &potv1.Graph{Inputs: tc.inputs, Initializers: tc.inits}
		if got := rangeAlignment(g, tc.batch); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
