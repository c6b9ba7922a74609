package target

import (
	"fmt"
	"sort"

	"github.com/potgo/pot/targets/interp/tensor"
)

// gatherRows copies the rows idx of src (samples stacked along axis 0)
// into dst.
func gatherRows(dst, src *tensor.Tensor, idx []int) error {
	shape := append([]int{len(idx)}, src.Shape[1:]...)
	dst.Reset(src.DType, shape)
	per := tensor.NumElements(src.Shape[1:])
	switch s := src.Data.(type) {
	case []float32:
		gatherT(dst.Data.([]float32), s, idx, per)
	case []float64:
		gatherT(dst.Data.([]float64), s, idx, per)
	case []int64:
		gatherT(dst.Data.([]int64), s, idx, per)
	case []int32:
		gatherT(dst.Data.([]int32), s, idx, per)
	case []uint8:
		gatherT(dst.Data.([]uint8), s, idx, per)
	case []int8:
		gatherT(dst.Data.([]int8), s, idx, per)
	case []bool:
		gatherT(dst.Data.([]bool), s, idx, per)
	case []tensor.Float16Bits:
		gatherT(dst.Data.([]tensor.Float16Bits), s, idx, per)
	default:
		return fmt.Errorf("data of type %v cannot be batched", src.DType)
	}
	return nil
}

func gatherT[T any](dst, src []T, idx []int, per int) {
	for k, i := range idx {
		copy(dst[k*per:(k+1)*per], src[i*per:(i+1)*per])
	}
}

// headRows returns the first n rows of t when t holds rows rows of a
// padded batch (n < rows), else t itself. The result shares t's storage.
func headRows(t *tensor.Tensor, n, rows int) *tensor.Tensor {
	if n >= rows || len(t.Shape) == 0 || t.Shape[0] != rows {
		return t
	}
	h := &tensor.Tensor{}
	h.ViewRows(t, 0, n)
	return h
}

// appendRows appends src's rows (axis 0) to acc, which starts empty.
func appendRows(acc, src *tensor.Tensor) error {
	if acc.Data == nil {
		acc.CopyFrom(src)
		return nil
	}
	return acc.AppendRows(src)
}

// asFloat32 returns t's elements as float32, converting into buf when t
// is not float32.
func asFloat32(t *tensor.Tensor, buf *tensor.Tensor) ([]float32, error) {
	if d, ok := t.Data.([]float32); ok {
		return d, nil
	}
	f, err := t.Float64s()
	if err != nil {
		return nil, err
	}
	buf.Reset(tensor.Float, t.Shape)
	d := buf.F32()
	for i, v := range f {
		d[i] = float32(v)
	}
	return d, nil
}

// topK returns, per sample, the indices of the k largest values of its
// flattened output, largest first (ties: lower index first; NaN ranks
// below every number).
//
// A small k, the usual case, is selected in one pass that keeps the k
// best so far in order: O(n·k) against the O(n log² n) of a stable sort
// of the whole row, which on a detector's 320×320 probability map took a
// third of an evaluation's time.
func topK(data []float32, samples, k int) *tensor.Tensor {
	per := len(data) / max(samples, 1)
	k = min(k, per)
	out := tensor.New(tensor.Int64, samples, k)
	res := out.I64()
	var idx []int
	for s := 0; s < samples; s++ {
		row := data[s*per : (s+1)*per]
		best := res[s*k : (s+1)*k]
		if k > topKSelect {
			if idx == nil {
				idx = make([]int, per)
			}
			for i := range idx {
				idx[i] = i
			}
			sort.SliceStable(idx, func(a, b int) bool { return ranksAbove(row[idx[a]], row[idx[b]]) })
			for j := range best {
				best[j] = int64(idx[j])
			}
			continue
		}
		n := 0 // best[:n] holds the indices kept so far, best first
		for i, x := range row {
			if n == k && !ranksAbove(x, row[best[k-1]]) {
				continue
			}
			j := min(n, k-1)
			for j > 0 && ranksAbove(x, row[best[j-1]]) {
				best[j] = best[j-1]
				j--
			}
			best[j] = int64(i)
			n = min(n+1, k)
		}
	}
	return out
}

// topKSelect is the largest k that topK selects in one pass; a larger k
// sorts the row.
const topKSelect = 32

// ranksAbove orders topK's values: larger first, NaN below every number.
func ranksAbove(x, y float32) bool {
	return x > y || y != y && x == x
}
