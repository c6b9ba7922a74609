package pipeline

import (
	"fmt"
	"sync"
	"testing"

	"github.com/potgo/pot/proto/potv1"
)

// TestEvalKey: every part of an evaluation changes its key; equal plans
// built apart give one key.
func TestEvalKey(t *testing.T) {
	plan := func(low float32) *potv1.QuantizationPlan {
		return &potv1.QuantizationPlan{Preset: "performance", Quantizers: []*potv1.Quantizer{{Id: "q0", Location: &potv1.Location{Tensor: "input", Node: "/c1/Conv"},
			Bits: 8, Levels: 256, InputLow: []float32{low}, InputHigh: []float32{1}, OutputLow: []float32{low}, OutputHigh: []float32{1}}}}
	}
	base := evalKey("m0", plan(0), "eval", "", "top1", 0)
	if again := evalKey("m0", plan(0), "eval", "", "top1", 0); again != base {
		t.Error("equal evaluations have different keys")
	}
	if evalKey("m0", nil, "eval", "", "top1", 0) != evalKey("m0", nil, "eval", "", "top1", 0) {
		t.Error("the float model's evaluations have different keys")
	}
	others := map[string]string{
		"model":     evalKey("m1", plan(0), "eval", "", "top1", 0),
		"plan":      evalKey("m0", plan(-1), "eval", "", "top1", 0),
		"no plan":   evalKey("m0", nil, "eval", "", "top1", 0),
		"data":      evalKey("m0", plan(0), "calib", "", "top1", 0),
		"distance":  evalKey("m0", plan(0), "eval", "mse", "top1", 0),
		"metric":    evalKey("m0", plan(0), "eval", "", "agreement", 0),
		"threshold": evalKey("m0", plan(0), "eval", "", "top1", 0.5),
		// The separators keep fields apart: "m0" + "eval" is not "m0e" + "val".
		"boundary": evalKey("m0e", plan(0), "val", "", "top1", 0),
	}
	seen := map[string]string{base: "base"}
	for name, k := range others {
		if prev, ok := seen[k]; ok {
			t.Errorf("another %s gives the key of %s", name, prev)
		}
		seen[k] = name
	}
}

func response(v float64) *potv1.HostEvaluateResponse {
	return &potv1.HostEvaluateResponse{Metric: "top1", Value: v, Samples: 2, PerSample: []float64{v, v}}
}

func TestEvalCache(t *testing.T) {
	c := newEvalCache(3)
	if _, ok := c.get("a"); ok {
		t.Fatal("hit in an empty cache")
	}
	r := response(0.5)
	c.put("a", r)
	r.Value = 0 // the cache keeps a copy
	got, ok := c.get("a")
	if !ok || got.GetValue() != 0.5 {
		t.Fatalf("get(a) = %v, %v; want 0.5", got, ok)
	}
	got.PerSample[0] = 9 // and gives copies
	if again, _ := c.get("a"); again.GetPerSample()[0] != 0.5 {
		t.Errorf("an answer changed by its receiver changed the cache: %v", again)
	}
	c.put("a", response(0.7)) // a key kept already stays as it was
	if got, _ := c.get("a"); got.GetValue() != 0.5 {
		t.Errorf("get(a) = %v after a second put, want the first value 0.5", got.GetValue())
	}
	// Three more: the oldest, a, leaves.
	for i, k := range []string{"b", "c", "d"} {
		c.put(k, response(float64(i)))
	}
	if _, ok := c.get("a"); ok {
		t.Error("the oldest evaluation is still kept past the size")
	}
	for i, k := range []string{"b", "c", "d"} {
		if got, ok := c.get(k); !ok || got.GetValue() != float64(i) {
			t.Errorf("get(%s) = %v, %v; want %d", k, got, ok, i)
		}
	}
}

// TestEvalCacheConcurrent is for go test -race: workers of a parallel
// search share the session's cache.
func TestEvalCacheConcurrent(t *testing.T) {
	c := newEvalCache(evalCacheSize)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				n := (g + i) % 12
				k := fmt.Sprint("key", n)
				if r, ok := c.get(k); ok && r.GetValue() != float64(n) {
					errs <- fmt.Errorf("get(%s) = %v, want %d", k, r.GetValue(), n)
					return
				}
				c.put(k, response(float64(n)))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) > evalCacheSize {
		t.Errorf("%d evaluations kept, at most %d wanted", len(c.entries), evalCacheSize)
	}
}

func TestFloatRefsConcurrent(t *testing.T) {
	r := newFloatRefs()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				id := fmt.Sprint("data", i%3)
				if ref, ok := r.get(id); ok && ref.top1[0] != i%3 {
					t.Errorf("get(%s) = %v", id, ref.top1)
				}
				r.put(id, &floatRef{top1: []int{i % 3}, conf: []float64{1}})
			}
		}()
	}
	wg.Wait()
	if _, ok := r.get("data3"); ok {
		t.Error("a data set never put is found")
	}
}
