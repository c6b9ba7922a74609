package metrics_test

import (
	"fmt"

	"github.com/potgo/pot/host/metrics"
)

// Accumulate top-1 accuracy over two batches of logits.
func Example() {
	m, err := metrics.New(metrics.Default(true))
	if err != nil {
		panic(err)
	}
	_ = m.Add(metrics.Batch{N: 2, Outputs: []float32{0.9, 0.1, 0.3, 0.7}, Labels: []int{0, 0}})
	_ = m.Add(metrics.Batch{N: 1, Outputs: []float32{0.2, 0.8}, Labels: []int{1}})
	fmt.Printf("%s = %.3f per sample %v\n", m.Name(), m.Value(), m.PerSample())
	// Output: top1 = 0.667 per sample [1 0 1]
}

// Compare quantized outputs with the float model's.
func ExampleSQNR() {
	float := []float32{3, 4}
	quant := []float32{3, 3}
	fmt.Printf("%.2f dB\n", metrics.SQNR(float, quant))
	// Output: 13.98 dB
}
