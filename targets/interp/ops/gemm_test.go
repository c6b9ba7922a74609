package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

// runNode builds op with constant inputs marked in consts and runs it.
func runNode(t *testing.T, op string, attrs []*potv1.Attribute, in []*tensor.Tensor, consts []bool, threads int) *tensor.Tensor {
	t.Helper()
	p := &potv1.Node{Name: "n", OpType: op, Outputs: []string{"y"}, Attributes: attrs}
	cs := make([]*tensor.Tensor, len(in))
	for i := range in {
		p.Inputs = append(p.Inputs, fmt.Sprintf("in%d", i))
		if consts[i] {
			cs[i] = in[i]
		}
	}
	f, ok := Lookup(DomainONNX, op, 13)
	if !ok {
		t.Fatalf("%s not registered", op)
	}
	k, err := f(NewNode(p, 13, cs))
	if err != nil {
		t.Fatal(err)
	}
	ctx := NewContext(threads)
	defer ctx.Close()
	y := &tensor.Tensor{}
	if err := k.Run(ctx, in, []*tensor.Tensor{y}); err != nil {
		t.Fatal(err)
	}
	return y
}

func sameValues(t *testing.T, got, want *tensor.Tensor) {
	t.Helper()
	if !slices.Equal(got.Shape, want.Shape) {
		t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
	}
	for i, v := range got.F32() {
		if math.Abs(float64(v-want.F32()[i])) > 1e-4 {
			t.Fatalf("y[%d] = %v, want %v", i, v, want.F32()[i])
		}
	}
}

// TestGemmConstantB checks the path with B packed at compile time
// against the path with B given at run time, on one and two threads.
func TestGemmConstantB(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		m, k, n        int
		transA, transB bool
	}{{64, 800, 128, false, true}, {3, 5, 7, true, false}, {200, 64, 10, false, true}} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			ash := []int{tc.m, tc.k}
			if tc.transA {
				ash = []int{tc.k, tc.m}
			}
			bsh := []int{tc.k, tc.n}
			if tc.transB {
				bsh = []int{tc.n, tc.k}
			}
			in := []*tensor.Tensor{randTensor(r, ash...), randTensor(r, bsh...), randTensor(r, tc.n)}
			attrs := []*potv1.Attribute{
				{Name: "transA", Type: potv1.Attribute_TYPE_INT, I: b2i(tc.transA)},
				{Name: "transB", Type: potv1.Attribute_TYPE_INT, I: b2i(tc.transB)},
				{Name: "alpha", Type: potv1.Attribute_TYPE_FLOAT, F: 0.5},
				{Name: "beta", Type: potv1.Attribute_TYPE_FLOAT, F: 2},
			}
			want := runNode(t, "Gemm", attrs, in, []bool{false, false, false}, 1)
			for _, threads := range []int{1, 2} {
				sameValues(t, runNode(t, "Gemm", attrs, in, []bool{false, true, true}, threads), want)
			}
		})
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func TestMatMulConstantB(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, ash := range [][]int{{2, 3, 40, 33}, {33}, {70, 33}} {
		in := []*tensor.Tensor{randTensor(r, ash...), randTensor(r, 33, 21)}
		want := runNode(t, "MatMul", nil, in, []bool{false, false}, 1)
		for _, threads := range []int{1, 2} {
			sameValues(t, runNode(t, "MatMul", nil, in, []bool{false, true}, threads), want)
		}
	}
}
