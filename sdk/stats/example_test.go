package stats_test

import (
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/stats"
)

// A target reduces each sample's tensor, then aggregates over samples:
// here the mean over two samples of each sample's per-channel maximum.
func ExampleAccumulator() {
	acc, err := stats.NewAccumulator(potv1.Aggregator_AGGREGATOR_MEAN, 0, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	var scratch []float32
	for _, sample := range [][]float32{{1, 5, -2, 3}, {3, 1, 0, 7}} {
		// Sample shape [2, 2]: channel axis 0.
		v, err := stats.Reduce(potv1.Reducer_REDUCER_MAX, 0, sample, []int{2, 2}, true, 0, &scratch)
		if err != nil {
			fmt.Println(err)
			return
		}
		acc.Add(v)
	}
	v, dims, err := acc.Result()
	fmt.Println(v, dims, err, acc.Samples())
	// Output:
	// [4 5] [2] <nil> 2
}
