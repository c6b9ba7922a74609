package interp_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// TestSessionReuse runs resnet_fmnist through a session, releases it and
// acquires it again: the program hands back the same session, which
// gives the same logits bit for bit on a batch of another size, and
// watches nothing until told.
func TestSessionReuse(t *testing.T) {
	g, err := onnx.ReadGraph(filepath.Join("..", "..", "examples", "models", "resnet_fmnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	x := readIDXImages(t, filepath.Join("..", "..", "examples", "data", "fmnist-test.json"), 24)
	for _, threads := range []int{1, 2} {
		p, err := interp.Compile(g, interp.Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		run := func(s *interp.Session, n int) []float32 {
			t.Helper()
			in := tensor.From([]int{n, 1, 28, 28}, x.F32()[:n*28*28])
			if err := s.Run(context.Background(), []*tensor.Tensor{in}); err != nil {
				t.Fatal(err)
			}
			return slices.Clone(s.Value(p.OutputNames()[0]).F32())
		}
		fresh := p.NewSession()
		want16, want24 := run(fresh, 16), run(fresh, 24)

		first := g.GetNodes()[0].GetOutputs()[0] // the first Conv's output
		s := p.AcquireSession()
		if err := s.Watch([]string{first}, nil); err != nil {
			t.Fatal(err)
		}
		if got := run(s, 24); !slices.Equal(got, want24) {
			t.Fatalf("t%d: first session's logits differ", threads)
		}
		s.Release()
		again := p.AcquireSession()
		if again != s {
			t.Fatalf("t%d: AcquireSession did not return the released session", threads)
		}
		if other := p.AcquireSession(); other == s {
			t.Fatalf("t%d: a session in use was handed out twice", threads)
		}
		if got := run(again, 16); !slices.Equal(got, want16) {
			t.Fatalf("t%d: reused session's logits differ on a smaller batch", threads)
		}
		if v := again.Value(first); v != nil {
			t.Fatalf("t%d: a released session still watches %s", threads, first)
		}
		p.Close()
	}
}

// TestObserve checks that Observe calls fn with each value as Watch does
// and keeps no copy: Value has no intermediate value after the run.
func TestObserve(t *testing.T) {
	g, err := onnx.ReadGraph(filepath.Join("..", "..", "examples", "models", "resnet_fmnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	x := readIDXImages(t, filepath.Join("..", "..", "examples", "data", "fmnist-test.json"), 8)
	p, err := interp.Compile(g, interp.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	name := g.GetNodes()[0].GetOutputs()[0] // the first Conv's output
	seen := map[string][]float32{}
	record := func(mode string) func(string, *tensor.Tensor) error {
		return func(n string, v *tensor.Tensor) error {
			if n == name {
				seen[mode] = slices.Clone(v.F32())
			}
			return nil
		}
	}
	s := p.NewSession()
	if err := s.Watch([]string{name}, record("watch")); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), []*tensor.Tensor{x}); err != nil {
		t.Fatal(err)
	}
	if v := s.Value(name); v == nil || !slices.Equal(v.F32(), seen["watch"]) {
		t.Fatal("Watch: Value differs from what fn saw")
	}
	if err := s.Observe([]string{name}, record("observe")); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), []*tensor.Tensor{x}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen["watch"], seen["observe"]) || len(seen["observe"]) == 0 {
		t.Fatal("Observe: fn saw other values than with Watch")
	}
	if v := s.Value(name); v != nil {
		t.Fatal("Observe kept a copy of the value")
	}
	if err := s.Observe([]string{"no such tensor"}, nil); err == nil {
		t.Fatal("Observe accepted a tensor the graph does not have")
	}
}

// TestObserveSamples runs resnet_fmnist (a sample-parallel program) with
// a value observed per sample: on two threads the batch runs in chunks,
// fn sees each chunk's rows with its first sample, and the rows put
// together are the value Observe sees for the whole batch, bit for bit.
func TestObserveSamples(t *testing.T) {
	g, err := onnx.ReadGraph(filepath.Join("..", "..", "examples", "models", "resnet_fmnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	x := readIDXImages(t, filepath.Join("..", "..", "examples", "data", "fmnist-test.json"), n)
	name := g.GetNodes()[0].GetOutputs()[0]
	for _, threads := range []int{1, 2} {
		p, err := interp.Compile(g, interp.Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		if !p.SampleParallel() {
			t.Fatal("resnet_fmnist is not sample-parallel")
		}
		s := p.NewSession()
		var whole []float32
		if err := s.Observe([]string{name}, func(_ string, v *tensor.Tensor) error {
			whole = slices.Clone(v.F32())
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Run(context.Background(), []*tensor.Tensor{x}); err != nil {
			t.Fatal(err)
		}
		per := len(whole) / n
		got := make([]float32, len(whole))
		var mu sync.Mutex
		calls, firsts := 0, map[int]bool{}
		if err := s.ObserveSamples([]string{name}, func(_ string, first, rows int, v *tensor.Tensor) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			firsts[first] = true
			if rows == 0 || v.Shape[0] != rows {
				t.Errorf("t%d: chunk at %d of %d rows holds %v", threads, first, rows, v.Shape)
			}
			copy(got[first*per:], v.F32())
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Run(context.Background(), []*tensor.Tensor{x}); err != nil {
			t.Fatal(err)
		}
		if calls < 2 || !firsts[0] || len(firsts) != calls {
			t.Fatalf("t%d: %d calls with first samples %v, want one per chunk", threads, calls, firsts)
		}
		if !slices.Equal(got, whole) {
			t.Fatalf("t%d: the chunks' rows differ from the whole batch's value", threads)
		}
		// Observe again: the chunks' sessions stop watching, the batch
		// runs whole.
		calls = 0
		if err := s.Observe([]string{name}, func(string, *tensor.Tensor) error { calls++; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := s.Run(context.Background(), []*tensor.Tensor{x}); err != nil {
			t.Fatal(err)
		}
		if calls != 1 {
			t.Fatalf("t%d: Observe after ObserveSamples: %d calls, want 1", threads, calls)
		}
		p.Close()
	}
}
