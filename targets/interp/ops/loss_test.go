package ops

import (
	"math"
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

func TestNegativeLogLikelihoodLoss(t *testing.T) {
	// N=2, C=3: log-probabilities; targets 2 and 0 (or ignored).
	x := f32s([]int{2, 3}, -1, -2, -3, -4, -5, -6)
	target := i64s([]int{2}, 2, 0)
	w := f32s([]int{3}, 1, 2, 0.5)
	cases := []struct {
		name  string
		call  opCall
		in    []*tensor.Tensor
		shape []int
		want  []float64
	}{
		{"none", onnxOp("NegativeLogLikelihoodLoss", 13, aString("reduction", "none")), []*tensor.Tensor{x, target}, []int{2}, floats(3, 4)},
		{"sum", onnxOp("NegativeLogLikelihoodLoss", 13, aString("reduction", "sum")), []*tensor.Tensor{x, target}, []int{}, floats(7)},
		{"mean", onnxOp("NegativeLogLikelihoodLoss", 13), []*tensor.Tensor{x, target}, []int{}, floats(3.5)},
		// Weighted mean divides by the sum of the targets' weights.
		{"weighted mean", onnxOp("NegativeLogLikelihoodLoss", 13), []*tensor.Tensor{x, target, w}, []int{}, floats(float64(float32(5.5 / 1.5)))},
		// An ignored target counts neither in the sum nor in the weights.
		{"ignore", onnxOp("NegativeLogLikelihoodLoss", 13, aInt("ignore_index", 0)), []*tensor.Tensor{x, target, w}, []int{}, floats(3)},
	}
	for _, c := range cases {
		out := c.call.mustRun(t, c.in...)
		checkTensor(t, c.name, out[0], c.shape, c.want)
	}
	if _, err := onnxOp("NegativeLogLikelihoodLoss", 13).run(x, i64s([]int{2}, 3, 0)); err == nil {
		t.Fatal("target 3 of 3 classes accepted")
	}
}

func TestSoftmaxCrossEntropyLoss(t *testing.T) {
	// Two classes with equal scores: every log-probability is -ln 2.
	x := f32s([]int{2, 2}, 5, 5, -1, -1)
	call := onnxOp("SoftmaxCrossEntropyLoss", 13)
	call.nout = 2
	out := call.mustRun(t, x, i64s([]int{2}, 0, 1))
	ln2 := float64(float32(math.Ln2))
	checkTensor(t, "loss", out[0], []int{}, floats(ln2))
	checkTensor(t, "log_prob", out[1], []int{2, 2}, floats(-ln2, -ln2, -ln2, -ln2))
}

func TestEinsum(t *testing.T) {
	a := f32s([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	b := f32s([]int{3, 2}, 1, 0, 0, 1, 1, 1)
	cases := []struct {
		eq    string
		in    []*tensor.Tensor
		shape []int
		want  []float64
	}{
		{"ij,jk->ik", []*tensor.Tensor{a, b}, []int{2, 2}, floats(4, 5, 10, 11)},
		{"ij,jk", []*tensor.Tensor{a, b}, []int{2, 2}, floats(4, 5, 10, 11)}, // implicit output: ik
		{"ij->ji", []*tensor.Tensor{a}, []int{3, 2}, floats(1, 4, 2, 5, 3, 6)},
		{"ij->", []*tensor.Tensor{a}, []int{}, floats(21)},
		{"ii->i", []*tensor.Tensor{f32s([]int{2, 2}, 1, 2, 3, 4)}, []int{2}, floats(1, 4)},
		{"...j,j->...", []*tensor.Tensor{a, f32s([]int{3}, 1, 1, 1)}, []int{2}, floats(6, 15)},
		{"bij,bjk->bik", []*tensor.Tensor{tensor.From([]int{1, 2, 3}, a.F32()), tensor.From([]int{1, 3, 2}, b.F32())}, []int{1, 2, 2}, floats(4, 5, 10, 11)},
	}
	for _, c := range cases {
		out := onnxOp("Einsum", 12, aString("equation", c.eq)).mustRun(t, c.in...)
		checkTensor(t, c.eq, out[0], c.shape, c.want)
	}
	if _, err := onnxOp("Einsum", 12, aString("equation", "ij,jk->ik")).run(a, a); err == nil {
		t.Fatal("Einsum with mismatched contraction sizes succeeded")
	}
}
