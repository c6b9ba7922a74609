package cpu

import (
	"math"
	"testing"

	"github.com/potgo/pot/targets/interp/kernels"
)

// TestModelsAssemblyMatchGo runs the lowered example models in both
// instruction models with the integer kernels in assembly and in their
// Go twins and wants the same output bits for every image: the
// kernels' fused output stages, widened activations and row kernels
// change how the integers are computed, never which.
func TestModelsAssemblyMatchGo(t *testing.T) {
	if !kernels.QAccelerated() {
		t.Skip("no integer assembly on this machine")
	}
	if testing.Short() {
		t.Skip("runs three models twice")
	}
	for _, tc := range []struct{ model, data string }{
		{"resnet_fmnist", "fmnist"}, {"mobilenet_fmnist", "fmnist"}, {"lenet_mnist", "mnist"},
	} {
		g := model(t, tc.model)
		calib, _ := idx(t, tc.data+"-calib.json", 100)
		x, _ := idx(t, tc.data+"-test.json", 100)
		p := minMaxPlan(t, g, calib, "first_layer")
		for _, isa := range []string{ISAAVX2, ISAVNNI} {
			low, err := Lowering{ISA: isa}.Lower(g, p)
			if err != nil {
				t.Fatal(err)
			}
			asm := runBatches(t, low.Graph, x)[g.Outputs[0].GetName()]
			was := kernels.UseQAssembly(false)
			twin := runBatches(t, low.Graph, x)[g.Outputs[0].GetName()]
			kernels.UseQAssembly(was)
			for i := range twin {
				if math.Float32bits(asm[i]) != math.Float32bits(twin[i]) {
					t.Fatalf("%s %s: output %d: assembly %g, Go %g", tc.model, isa, i, asm[i], twin[i])
				}
			}
		}
	}
}
