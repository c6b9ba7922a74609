package interp

import (
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Nodes reading only constants, one of them large, run just before their
// first consumer instead of all first.
func TestDeferLargeConstNodes(t *testing.T) {
	large := tensor.New(tensor.Float, ops.LargeConstBytes/4)
	small := tensor.New(tensor.Float, 4)
	consts := map[string]*tensor.Tensor{"w1": large, "w2": large, "s": small, "w3": small}
	node := func(name string, in ...string) *potv1.Node {
		return &potv1.Node{Name: name, OpType: "Identity", Inputs: in, Outputs: []string{name}}
	}
	fq1, fq2 := node("fq1", "w1", "s"), node("fq2", "w2", "s")
	smallConst := node("c", "w3", "s")
	l1, l2 := node("l1", "x", "fq1"), node("l2", "l1", "fq2", "c")
	unused := node("fq3", "w1")
	order := []*potv1.Node{fq1, fq2, smallConst, unused, l1, l2}
	got := deferLargeConstNodes(order, func(name string) *tensor.Tensor { return consts[name] })
	var names []string
	for _, n := range got {
		names = append(names, n.GetName())
	}
	want := []string{"c", "fq1", "l1", "fq2", "l2", "fq3"}
	if len(names) != len(want) {
		t.Fatalf("order %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("order %v, want %v", names, want)
		}
	}
}
