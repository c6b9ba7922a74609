package dataset

import (
	"context"
	"fmt"
	"runtime"
	"sync"
)

// ReadBatch reads the samples at indices into dst, one after another (dst
// holds len(indices) samples), using up to GOMAXPROCS goroutines. It returns
// the labels (-1 each when the data set is unlabelled). It stops at the
// first error or when ctx is cancelled.
func ReadBatch(ctx context.Context, ds Dataset, indices []int, dst []float32) ([]int, error) {
	size := sampleSize(ds.SampleShape())
	if len(dst) != len(indices)*size {
		return nil, fmt.Errorf("dataset: batch buffer holds %d values, %d samples of %d need %d", len(dst), len(indices), size, len(indices)*size)
	}
	labels := make([]int, len(indices))
	workers := min(runtime.GOMAXPROCS(0), len(indices))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan int)
	)
	for range workers {
		wg.Go(func() {
			for j := range next {
				l, err := ds.Read(indices[j], dst[j*size:(j+1)*size])
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					continue
				}
				labels[j] = l
			}
		})
	}
feed:
	for j := range indices {
		select {
		case next <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return labels, nil
}
