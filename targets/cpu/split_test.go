package cpu

import (
	"context"
	"math"
	"testing"

	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// TestLoweredModelsSampleParallel lowers the example CNNs to integer
// operators (both instruction models) and runs them on 21 test images
// sample-parallel (only the output watched) and layer by layer (an
// intermediate value watched too), on two threads: the integer
// operators keep samples apart, so the outputs are the same bits.
func TestLoweredModelsSampleParallel(t *testing.T) {
	calib, _ := idx(t, "fmnist-calib.json", 100)
	x, _ := idx(t, "fmnist-test.json", 21)
	for _, name := range []string{"resnet_fmnist", "mobilenet_fmnist"} {
		g := model(t, name)
		plan := minMaxPlan(t, g, calib, "first_layer")
		for _, isa := range []string{ISAVNNI, ISAAVX2} {
			low, err := Lowering{ISA: isa}.Lower(g, plan)
			if err != nil {
				t.Fatal(err)
			}
			p, err := rt.Compile(low.Graph, rt.Options{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if !p.SampleParallel() {
				t.Fatalf("%s (%s): not run sample-parallel", name, isa)
			}
			in := map[string]*tensor.Tensor{p.InputNames()[0]: x}
			out := p.OutputNames()[0]
			inner := low.Graph.GetNodes()[1].GetOutputs()[0]
			split, err := p.Run(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			layered, err := p.Run(context.Background(), in, out, inner)
			if err != nil {
				t.Fatal(err)
			}
			a, b := split[out].F32(), layered[out].F32()
			if len(a) != len(b) || len(a) != 21*10 {
				t.Fatalf("%s (%s): %d and %d outputs", name, isa, len(a), len(b))
			}
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
					t.Fatalf("%s (%s): output %d is %v in chunks, %v layer by layer", name, isa, i, a[i], b[i])
				}
			}
		}
	}
}
