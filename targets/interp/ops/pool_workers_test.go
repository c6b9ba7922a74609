package ops

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPoolRun runs every part exactly once: nested Runs inside tasks
// (all workers busy in outer tasks, so the callers must run queued tasks
// themselves), concurrent Runs from several goroutines, and more parts
// than the queue holds, with workers that went to sleep between calls.
func TestPoolRun(t *testing.T) {
	for _, n := range []int{1, 2, 4} {
		p := NewPool(n)
		var count atomic.Int64
		nested := func() {
			p.Run(7, func(int) {
				p.Run(5, func(int) {
					p.Run(3, func(int) { count.Add(1) })
				})
			})
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			nested()
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("n=%d: nested Run deadlocked", n)
		}
		if got := count.Load(); got != 7*5*3 {
			t.Fatalf("n=%d: %d innermost calls, want %d", n, got, 7*5*3)
		}
		count.Store(0)
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.Run(16, func(int) { count.Add(1) })
			}()
		}
		wg.Wait()
		if got := count.Load(); got != 6*16 {
			t.Fatalf("n=%d: %d calls from concurrent Runs, want %d", n, got, 6*16)
		}
		time.Sleep(2 * workerSpin) // workers block on the queue
		seen := make([]atomic.Int32, 9)
		p.Run(9, func(i int) { seen[i].Add(1) })
		for i := range seen {
			if seen[i].Load() != 1 {
				t.Fatalf("n=%d: part %d ran %d times", n, i, seen[i].Load())
			}
		}
		p.Close()
	}
}
