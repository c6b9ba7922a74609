package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
)

// NonZero, OneHot, EyeLike, Trilu, Compress and ReverseSequence.

func init() {
	register(DomainONNX, "NonZero", 9, newNonZero)
	register(DomainONNX, "OneHot", 9, newOneHot)
	register(DomainONNX, "OneHot", 11, newOneHot)
	register(DomainONNX, "EyeLike", 9, newEyeLike)
	register(DomainONNX, "Trilu", 14, newTrilu)
	register(DomainONNX, "Compress", 9, newCompress)
	register(DomainONNX, "Compress", 11, newCompress)
	register(DomainONNX, "ReverseSequence", 10, newReverseSequence)
}

func newNonZero(n *Node) (Kernel, error) {
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x := in[0]
		nz, err := nonZeroMask(x)
		if err != nil {
			return err
		}
		shape := x.Shape
		if len(shape) == 0 {
			shape = []int{1}
		}
		count := 0
		for _, b := range nz {
			if b {
				count++
			}
		}
		r := len(shape)
		out[0].Reset(tensor.Int64, []int{r, count})
		d := out[0].I64()
		pos := make([]int, r)
		j := 0
		for _, b := range nz {
			if b {
				for k := range r {
					d[k*count+j] = int64(pos[k])
				}
				j++
			}
			for k := r - 1; k >= 0; k-- {
				pos[k]++
				if pos[k] < shape[k] {
					break
				}
				pos[k] = 0
			}
		}
		return nil
	}), nil
}

func newOneHot(n *Node) (Kernel, error) {
	axis := n.Int("axis", -1)
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		ind, values := in[0], in[2]
		depthVals, err := in[1].Float64s()
		if err != nil {
			return fmt.Errorf("depth: %w", err)
		}
		if len(depthVals) != 1 || depthVals[0] < 1 {
			return fmt.Errorf("depth %v must be one positive number", depthVals)
		}
		depth := int(depthVals[0])
		if values.Len() != 2 {
			return fmt.Errorf("values %v must hold [off, on]", values)
		}
		idx, err := inputInts(ind, "indices")
		if err != nil {
			return err
		}
		a, err := NormalizeAxis(axis, ind.Rank()+1)
		if err != nil {
			return err
		}
		shape := append(append(append([]int{}, ind.Shape[:a]...), depth), ind.Shape[a:]...)
		dst := out[0]
		dst.Reset(values.DType, shape)
		fillTensor(dst, values, 0)
		inner := tensor.NumElements(ind.Shape[a:])
		var runs []run
		for p, v := range idx {
			if v < 0 {
				v += int64(depth)
			}
			if v < 0 || v >= int64(depth) {
				continue
			}
			o, i := p/max(inner, 1), p%max(inner, 1)
			runs = append(runs, run{(o*depth+int(v))*inner + i, 1, 1})
		}
		moverOf(dst.Data).copyRuns(values.Data, runs)
		return nil
	}), nil
}

func newEyeLike(n *Node) (Kernel, error) {
	k := int(n.Int("k", 0))
	dt := tensor.DType(n.Int("dtype", 0))
	if dt != tensor.Undefined && (!dt.Supported() || dt == tensor.String) {
		return nil, Unsupported(n, "dtype %v is", dt)
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x := in[0]
		if x.Rank() != 2 {
			return fmt.Errorf("input %v must be 2-D", x)
		}
		t := dt
		if t == tensor.Undefined {
			t = x.DType
		}
		one, err := numberTensor(t, []int{}, []float64{1})
		if err != nil {
			return err
		}
		rows, cols := x.Shape[0], x.Shape[1]
		out[0].ResetZero(t, x.Shape)
		var runs []run
		for i := range rows {
			if j := i + k; j >= 0 && j < cols {
				runs = append(runs, run{i*cols + j, 0, 1})
			}
		}
		moverOf(out[0].Data).copyRuns(one.Data, runs)
		return nil
	}), nil
}

func newTrilu(n *Node) (Kernel, error) {
	upper := n.Int("upper", 1) != 0
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x := in[0]
		if x.Rank() < 2 {
			return fmt.Errorf("input %v must have rank 2 or more", x)
		}
		k := 0
		if len(in) > 1 && in[1] != nil {
			v, err := inputScalarInt(in[1], "k")
			if err != nil {
				return err
			}
			k = int(max(min(v, 1<<40), -(1 << 40)))
		}
		rows, cols := x.Shape[x.Rank()-2], x.Shape[x.Rank()-1]
		out[0].ResetZero(x.DType, x.Shape)
		mats := tensor.NumElements(x.Shape[:x.Rank()-2])
		var runs []run
		for m := range mats {
			for i := range rows {
				lo, hi := 0, cols // kept columns [lo, hi)
				if upper {
					lo = max(0, min(cols, i+k))
				} else {
					hi = max(0, min(cols, i+k+1))
				}
				if hi > lo {
					off := (m*rows+i)*cols + lo
					runs = append(runs, run{off, off, hi - lo})
				}
			}
		}
		moverOf(out[0].Data).copyRuns(x.Data, runs)
		return nil
	}), nil
}

func newCompress(n *Node) (Kernel, error) {
	hasAxis := n.Has("axis")
	axis := n.Int("axis", 0)
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x := in[0]
		cond, err := nonZeroMask(in[1])
		if err != nil {
			return fmt.Errorf("condition: %w", err)
		}
		if !hasAxis {
			x = &tensor.Tensor{DType: x.DType, Shape: []int{x.Len()}, Data: x.Data}
		}
		a, err := NormalizeAxis(axis, x.Rank())
		if err != nil {
			return err
		}
		if len(cond) > x.Shape[a] {
			return fmt.Errorf("condition has %d entries for dimension %d", len(cond), x.Shape[a])
		}
		var idx []int64
		for i, c := range cond {
			if c {
				idx = append(idx, int64(i))
			}
		}
		shape := append([]int(nil), x.Shape...)
		shape[a] = len(idx)
		return gather(out[0], x, a, idx, shape)
	}), nil
}

func newReverseSequence(n *Node) (Kernel, error) {
	timeAxis := n.Int("time_axis", 0)
	batchAxis := n.Int("batch_axis", 1)
	if !(timeAxis == 0 && batchAxis == 1) && !(timeAxis == 1 && batchAxis == 0) {
		return nil, fmt.Errorf("time_axis %d and batch_axis %d must be 0 and 1", timeAxis, batchAxis)
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x := in[0]
		if x.Rank() < 2 {
			return fmt.Errorf("input %v must have rank 2 or more", x)
		}
		lens, err := inputInts(in[1], "sequence_lens")
		if err != nil {
			return err
		}
		T, B := x.Shape[timeAxis], x.Shape[batchAxis]
		if len(lens) != B {
			return fmt.Errorf("sequence_lens has %d entries for batch %d", len(lens), B)
		}
		inner := tensor.NumElements(x.Shape[2:])
		off := func(t, b int) int {
			if timeAxis == 0 {
				return (t*B + b) * inner
			}
			return (b*T + t) * inner
		}
		runs := make([]run, 0, T*B)
		for b, l := range lens {
			if l < 0 || int(l) > T {
				return fmt.Errorf("sequence length %d out of range [0, %d]", l, T)
			}
			for t := range T {
				src := t
				if t < int(l) {
					src = int(l) - 1 - t
				}
				runs = append(runs, run{off(t, b), off(src, b), inner})
			}
		}
		out[0].Reset(x.DType, x.Shape)
		moverOf(out[0].Data).copyRuns(x.Data, runs)
		return nil
	}), nil
}
