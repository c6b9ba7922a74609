package ops

import (
	"slices"
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

// TestQLutOperator maps levels through a table, in parallel chunks, and
// keeps the shape; a table of another size or a non-constant one is
// refused.
func TestQLutOperator(t *testing.T) {
	tab := make([]uint8, 256)
	for i := range tab {
		tab[i] = uint8(255 - i/2)
	}
	x := make([]uint8, 3*70000)
	for i := range x {
		x[i] = uint8(i * 7)
	}
	call := opCall{domain: DomainPot, op: "QLut", opset: 1, consts: []bool{false, true}}
	out := call.mustRun(t, tensor.From([]int{3, 70000}, x), tensor.From([]int{256}, tab))
	if !slices.Equal(out[0].Shape, []int{3, 70000}) {
		t.Fatalf("shape %v", out[0].Shape)
	}
	for i, v := range out[0].Data.([]uint8) {
		if v != tab[x[i]] {
			t.Fatalf("element %d: %d, want %d", i, v, tab[x[i]])
		}
	}
	// A clamp table: the clamp's kernel.
	for i := range tab {
		tab[i] = min(max(uint8(i), 118), 250)
	}
	out = call.mustRun(t, tensor.From([]int{3, 70000}, x), tensor.From([]int{256}, tab))
	for i, v := range out[0].Data.([]uint8) {
		if v != tab[x[i]] {
			t.Fatalf("clamp: element %d: %d, want %d", i, v, tab[x[i]])
		}
	}
	short := opCall{domain: DomainPot, op: "QLut", opset: 1, consts: []bool{false, true}}
	if _, err := short.run(tensor.From([]int{2}, []uint8{1, 2}), tensor.From([]int{255}, tab[:255])); err == nil {
		t.Error("a table of 255 levels accepted")
	}
	varying := opCall{domain: DomainPot, op: "QLut", opset: 1, consts: []bool{false, false}}
	if _, err := varying.run(tensor.From([]int{2}, []uint8{1, 2}), tensor.From([]int{256}, tab)); err == nil {
		t.Error("a non-constant table accepted")
	}
}
