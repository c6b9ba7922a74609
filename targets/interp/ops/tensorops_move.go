package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
)

// This file holds the data-movement primitives that the shape and tensor
// manipulation operators are written with. Each primitive works on every
// element type: a mover wraps a typed slice, so one interface call moves
// a whole block and the inner loops run on concrete types.

// run is one contiguous copy: dst[d:d+n] = src[s:s+n].
type run struct{ d, s, n int }

// mover moves elements into the typed slice it wraps. src is the Data of
// a tensor of the same element type.
type mover interface {
	// copyStrided sets dst[dOff + Σ i_k·dStr_k] = src[sOff + Σ i_k·sStr_k]
	// for every index i of shape.
	copyStrided(src any, dOff, sOff int, shape, dStr, sStr []int)
	// copyRuns copies each run.
	copyRuns(src any, runs []run)
	// gatherAxes fills dst[dOff:], read in row-major order over the shape
	// (len(offs[0]), len(offs[1]), ...), with src[Σ offs[k][i_k]].
	gatherAxes(dOff int, src any, offs [][]int)
	// fill sets dst[lo:hi] to src[j].
	fill(lo, hi int, src any, j int)
}

type elems[T any] []T

func moverOf(data any) mover {
	switch d := data.(type) {
	case []float32:
		return elems[float32](d)
	case []float64:
		return elems[float64](d)
	case []int8:
		return elems[int8](d)
	case []int16:
		return elems[int16](d)
	case []int32:
		return elems[int32](d)
	case []int64:
		return elems[int64](d)
	case []uint8:
		return elems[uint8](d)
	case []uint16:
		return elems[uint16](d)
	case []uint32:
		return elems[uint32](d)
	case []uint64:
		return elems[uint64](d)
	case []bool:
		return elems[bool](d)
	case []string:
		return elems[string](d)
	case []tensor.Float16Bits:
		return elems[tensor.Float16Bits](d)
	case []tensor.BFloat16Bits:
		return elems[tensor.BFloat16Bits](d)
	case []tensor.Int4Value:
		return elems[tensor.Int4Value](d)
	case []tensor.Uint4Value:
		return elems[tensor.Uint4Value](d)
	}
	panic(fmt.Sprintf("ops: no element mover for %T", data))
}

func (d elems[T]) copyStrided(src any, dOff, sOff int, shape, dStr, sStr []int) {
	s := src.([]T)
	r := len(shape)
	if r == 0 {
		d[dOff] = s[sOff]
		return
	}
	for _, n := range shape {
		if n == 0 {
			return
		}
	}
	n, ds, ss := shape[r-1], dStr[r-1], sStr[r-1]
	var idx [maxRank]int
	for {
		switch {
		case ds == 1 && ss == 1:
			copy(d[dOff:dOff+n], s[sOff:sOff+n])
		case ss == 0:
			v := s[sOff]
			for j, o := 0, dOff; j < n; j, o = j+1, o+ds {
				d[o] = v
			}
		case ds == 1:
			row := d[dOff : dOff+n]
			for j, o := 0, sOff; j < len(row); j, o = j+1, o+ss {
				row[j] = s[o]
			}
		default:
			for j, o, p := 0, dOff, sOff; j < n; j, o, p = j+1, o+ds, p+ss {
				d[o] = s[p]
			}
		}
		k := r - 2
		for ; k >= 0; k-- {
			idx[k]++
			dOff += dStr[k]
			sOff += sStr[k]
			if idx[k] < shape[k] {
				break
			}
			dOff -= dStr[k] * shape[k]
			sOff -= sStr[k] * shape[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

func (d elems[T]) copyRuns(src any, runs []run) {
	s := src.([]T)
	for _, r := range runs {
		if r.n == 1 {
			d[r.d] = s[r.s]
			continue
		}
		copy(d[r.d:r.d+r.n], s[r.s:r.s+r.n])
	}
}

func (d elems[T]) gatherAxes(dOff int, src any, offs [][]int) {
	s := src.([]T)
	r := len(offs)
	if r == 0 {
		d[dOff] = s[0]
		return
	}
	base := 0
	for _, o := range offs {
		if len(o) == 0 {
			return
		}
		base += o[0]
	}
	last := offs[r-1]
	base -= last[0]
	var idx [maxRank]int
	for {
		row := d[dOff : dOff+len(last)]
		for j, o := range last {
			row[j] = s[base+o]
		}
		dOff += len(last)
		k := r - 2
		for ; k >= 0; k-- {
			base -= offs[k][idx[k]]
			idx[k]++
			if idx[k] < len(offs[k]) {
				base += offs[k][idx[k]]
				break
			}
			idx[k] = 0
			base += offs[k][0]
		}
		if k < 0 {
			return
		}
	}
}

func (d elems[T]) fill(lo, hi int, src any, j int) {
	v := src.([]T)[j]
	row := d[lo:hi]
	for i := range row {
		row[i] = v
	}
}

// maxRank is the greatest tensor rank the movement primitives handle.
const maxRank = 64

// parallelMin is the number of elements from which movement is split
// over threads.
const parallelMin = 1 << 16

// copyStrided copies between two tensors of the same element type (see
// mover.copyStrided), first dropping unit dimensions and merging
// dimensions that are contiguous in both, and splitting large copies over
// ctx's threads.
func copyStrided(ctx *Context, dst, src *tensor.Tensor, dOff, sOff int, shape, dStr, sStr []int) error {
	if len(shape) > maxRank {
		return fmt.Errorf("rank %d is above the supported %d", len(shape), maxRank)
	}
	var bs, bd, bsrc [maxRank]int
	sh, ds, ss := bs[:0], bd[:0], bsrc[:0]
	for k, n := range shape {
		if n == 0 {
			return nil
		}
		if n == 1 {
			continue
		}
		if m := len(sh) - 1; m >= 0 && ds[m] == dStr[k]*n && ss[m] == sStr[k]*n {
			sh[m] *= n
			ds[m], ss[m] = dStr[k], sStr[k]
			continue
		}
		sh, ds, ss = append(sh, n), append(ds, dStr[k]), append(ss, sStr[k])
	}
	m := moverOf(dst.Data)
	total := tensor.NumElements(sh)
	if ctx == nil || ctx.Threads <= 1 || total < parallelMin || len(sh) == 0 || sh[0] < 2 {
		m.copyStrided(src.Data, dOff, sOff, sh, ds, ss)
		return nil
	}
	grain := max(1, parallelMin/(total/sh[0]))
	ctx.Parallel(sh[0], grain, func(lo, hi int) {
		part := append([]int{hi - lo}, sh[1:]...)
		m.copyStrided(src.Data, dOff+lo*ds[0], sOff+lo*ss[0], part, ds, ss)
	})
	return nil
}

// gatherAxes fills dst, of shape (len(offs[0]), ...), with elements of
// src at the sum of per-axis offsets (see mover.gatherAxes), splitting
// large tensors over ctx's threads along the first axis.
func gatherAxes(ctx *Context, dst, src *tensor.Tensor, offs [][]int) error {
	if len(offs) > maxRank {
		return fmt.Errorf("rank %d is above the supported %d", len(offs), maxRank)
	}
	m := moverOf(dst.Data)
	total := dst.Len()
	if ctx == nil || ctx.Threads <= 1 || total < parallelMin || len(offs) == 0 || len(offs[0]) < 2 {
		m.gatherAxes(0, src.Data, offs)
		return nil
	}
	row := total / len(offs[0])
	grain := max(1, parallelMin/max(row, 1))
	ctx.Parallel(len(offs[0]), grain, func(lo, hi int) {
		part := append([][]int{offs[0][lo:hi]}, offs[1:]...)
		m.gatherAxes(lo*row, src.Data, part)
	})
	return nil
}

// copyAll makes dst hold src's elements with another shape of the same
// size (the output of Reshape and its kind, which never aliases its input).
func copyAll(dst, src *tensor.Tensor, shape []int) error {
	if n := tensor.NumElements(shape); n != src.Len() {
		return fmt.Errorf("cannot give %d elements the shape %v", src.Len(), shape)
	}
	dst.Reset(src.DType, shape)
	moverOf(dst.Data).copyRuns(src.Data, []run{{0, 0, src.Len()}})
	return nil
}

// fillTensor sets every element of dst to element j of src.
func fillTensor(dst, src *tensor.Tensor, j int) {
	moverOf(dst.Data).fill(0, dst.Len(), src.Data, j)
}
