package ops

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/potgo/pot/targets/interp/tensor"
)

// Unique: the distinct elements (or slices along an axis), sorted or in
// order of first occurrence, with first indices, inverse indices and
// counts.

func init() {
	register(DomainONNX, "Unique", 11, newUnique)
}

func newUnique(n *Node) (Kernel, error) {
	hasAxis := n.Has("axis")
	axis := n.Int("axis", 0)
	sorted := n.Int("sorted", 1) != 0
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x := in[0]
		if !hasAxis {
			x = &tensor.Tensor{DType: x.DType, Shape: []int{x.Len()}, Data: x.Data}
		}
		a, err := NormalizeAxis(axis, x.Rank())
		if err != nil {
			return err
		}
		outer := tensor.NumElements(x.Shape[:a])
		inner := tensor.NumElements(x.Shape[a+1:])
		dim := x.Shape[a]
		var u uniqueResult
		switch d := x.Data.(type) {
		case []float32:
			u = uniqueSlices(d, outer, dim, inner, sorted)
		case []float64:
			u = uniqueSlices(d, outer, dim, inner, sorted)
		case []int8:
			u = uniqueSlices(d, outer, dim, inner, sorted)
		case []int16:
			u = uniqueSlices(d, outer, dim, inner, sorted)
		case []int32:
			u = uniqueSlices(d, outer, dim, inner, sorted)
		case []int64:
			u = uniqueSlices(d, outer, dim, inner, sorted)
		case []uint8:
			u = uniqueSlices(d, outer, dim, inner, sorted)
		case []uint16:
			u = uniqueSlices(d, outer, dim, inner, sorted)
		case []uint32:
			u = uniqueSlices(d, outer, dim, inner, sorted)
		case []uint64:
			u = uniqueSlices(d, outer, dim, inner, sorted)
		case []string:
			u = uniqueSlices(d, outer, dim, inner, sorted)
		default:
			return &UnsupportedError{Node: n.Name(), OpType: n.OpType(), Reason: fmt.Sprintf("element type %v is", x.DType)}
		}
		shape := append([]int(nil), x.Shape...)
		shape[a] = len(u.first)
		if err := gather(out[0], x, a, u.first, shape); err != nil {
			return err
		}
		for i, v := range [][]int64{u.first, u.inverse, u.counts} {
			if i+1 < len(out) && out[i+1] != nil {
				out[i+1].Reset(tensor.Int64, []int{len(v)})
				copy(out[i+1].I64(), v)
			}
		}
		return nil
	}), nil
}

type uniqueResult struct {
	first, inverse, counts []int64
}

// uniqueSlices finds the distinct slices j in [0, dim) of data viewed as
// (outer, dim, inner).
func uniqueSlices[T cmp.Ordered](data []T, outer, dim, inner int, sorted bool) uniqueResult {
	compare := func(i, j int) int {
		for o := range outer {
			a := data[(o*dim+i)*inner : (o*dim+i+1)*inner]
			b := data[(o*dim+j)*inner : (o*dim+j+1)*inner]
			if c := slices.Compare(a, b); c != 0 {
				return c
			}
		}
		return 0
	}
	order := make([]int, dim)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, compare)
	// Groups of equal slices in sorted order; the first of each group is
	// its first occurrence, thanks to the stable sort.
	group := make([]int, dim)
	var firsts []int
	for k, j := range order {
		if k == 0 || compare(order[k-1], j) != 0 {
			firsts = append(firsts, j)
		}
		group[j] = len(firsts) - 1
	}
	// id maps a group to its output position.
	id := make([]int, len(firsts))
	for g := range id {
		id[g] = g
	}
	if !sorted {
		byFirst := make([]int, len(firsts))
		for g := range byFirst {
			byFirst[g] = g
		}
		slices.SortFunc(byFirst, func(g, h int) int { return firsts[g] - firsts[h] })
		for pos, g := range byFirst {
			id[g] = pos
		}
	}
	u := uniqueResult{
		first:   make([]int64, len(firsts)),
		inverse: make([]int64, dim),
		counts:  make([]int64, len(firsts)),
	}
	for g, f := range firsts {
		u.first[id[g]] = int64(f)
	}
	for j := range dim {
		u.inverse[j] = int64(id[group[j]])
		u.counts[id[group[j]]]++
	}
	return u
}
