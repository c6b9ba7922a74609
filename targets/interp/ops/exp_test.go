package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

// TestExpFunctionsMatchMath checks Exp, Sigmoid, Softmax and LogSoftmax
// on float32 bit for bit against their float64 expressions through
// math.Exp (kernels.ExpF64 computes the exponentials in blocks of
// expBlock), at lengths around a block, along the last axis and along a
// strided one, with arguments beyond the kernel's range and NaN.
func TestExpFunctionsMatchMath(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{1, 5, expBlock - 1, expBlock, expBlock + 1, 2*expBlock + 3} {
		x := tensor.New(tensor.Float, 3, n)
		for i := range x.F32() {
			x.F32()[i] = float32(r.NormFloat64() * 6)
		}
		x.F32()[n/2] = 800                 // exp overflows in float32
		x.F32()[n+n/2] = -800              // far below the kernel's range
		x.F32()[2*n] = float32(math.NaN()) // a NaN row
		xs := x.F32()
		check := func(op string, got *tensor.Tensor, want func(i int) float32) {
			t.Helper()
			for i, v := range got.F32() {
				w := want(i)
				if math.Float32bits(v) != math.Float32bits(w) && !(v != v && w != w) {
					t.Fatalf("%s, n=%d: element %d of %v: %v, want %v", op, n, i, xs[i], v, w)
				}
			}
		}
		check("Exp", runNode(t, "Exp", nil, []*tensor.Tensor{x}, []bool{false}, 1), func(i int) float32 {
			return float32(math.Exp(float64(xs[i])))
		})
		check("Sigmoid", runNode(t, "Sigmoid", nil, []*tensor.Tensor{x}, []bool{false}, 1), func(i int) float32 {
			return float32(1 / (1 + math.Exp(-float64(xs[i]))))
		})
		for _, tc := range []struct {
			op   string
			axis int64
		}{{"Softmax", 1}, {"LogSoftmax", 1}, {"Softmax", 0}} {
			attrs := []*potv1.Attribute{{Name: "axis", Type: potv1.Attribute_TYPE_INT, I: tc.axis}}
			got := runNode(t, tc.op, attrs, []*tensor.Tensor{x}, []bool{false}, 2)
			check(tc.op, got, func(i int) float32 {
				return softmaxRef(xs, 3, n, i, tc.axis, tc.op == "LogSoftmax")
			})
		}
	}
}

// softmaxRef is element i of (Log)Softmax of the rows×cols x along axis,
// as softmaxSlice computes it: terms exp(x - max) in float64, summed in
// order.
func softmaxRef(x []float32, rows, cols, i int, axis int64, logOf bool) float32 {
	at := func(k int) float64 { return float64(x[i/cols*cols+k]) }
	n := cols
	if axis == 0 {
		at = func(k int) float64 { return float64(x[k*cols+i%cols]) }
		n = rows
	}
	best := float32(at(0))
	for k := 1; k < n; k++ {
		if v := float32(at(k)); v > best || best != best {
			best = v
		}
	}
	m := float64(best)
	sum := 0.0
	for k := 0; k < n; k++ {
		sum += math.Exp(at(k) - m)
	}
	if logOf {
		return float32(float64(x[i]) - m - math.Log(sum))
	}
	return float32(float64(float32(math.Exp(float64(x[i])-m))) / sum)
}
