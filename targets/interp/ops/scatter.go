package ops

import (
	"fmt"
	"slices"

	"github.com/potgo/pot/targets/interp/tensor"
)

// ScatterElements (and its older name Scatter) and ScatterND, with the
// reductions of opsets 16 (add, mul) and 18 (max, min).

func init() {
	register(DomainONNX, "Scatter", 9, newScatterElements)
	register(DomainONNX, "ScatterElements", 11, newScatterElements)
	register(DomainONNX, "ScatterElements", 16, newScatterElements)
	register(DomainONNX, "ScatterElements", 18, newScatterElements)
	register(DomainONNX, "ScatterND", 11, newScatterND)
	register(DomainONNX, "ScatterND", 16, newScatterND)
	register(DomainONNX, "ScatterND", 18, newScatterND)
}

type reduction int

const (
	reduceNone reduction = iota
	reduceAdd
	reduceMul
	reduceMax
	reduceMin
)

// scatterReduction reads the reduction attribute allowed at n's opset.
func scatterReduction(n *Node) (reduction, error) {
	if n.Opset < 16 || n.OpType() == "Scatter" {
		return reduceNone, nil
	}
	r := n.String("reduction", "none")
	switch {
	case r == "none":
		return reduceNone, nil
	case r == "add":
		return reduceAdd, nil
	case r == "mul":
		return reduceMul, nil
	case r == "max" && n.Opset >= 18:
		return reduceMax, nil
	case r == "min" && n.Opset >= 18:
		return reduceMin, nil
	}
	return 0, Unsupported(n, "reduction %q at opset %d is", r, n.Opset)
}

func newScatterElements(n *Node) (Kernel, error) {
	axis := n.Int("axis", 0)
	red, err := scatterReduction(n)
	if err != nil {
		return nil, err
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x, ind, upd := in[0], in[1], in[2]
		if upd.DType != x.DType || !slices.Equal(upd.Shape, ind.Shape) {
			return fmt.Errorf("updates %v do not match indices %v and data %v", upd, ind.Shape, x)
		}
		offs, err := axisElementOffsets(x, ind, axis)
		if err != nil {
			return err
		}
		runs := make([]run, len(offs))
		for i, o := range offs {
			runs[i] = run{o, i, 1}
		}
		out[0].CopyFrom(x)
		return scatterRuns(out[0], upd, runs, red)
	}), nil
}

func newScatterND(n *Node) (Kernel, error) {
	red, err := scatterReduction(n)
	if err != nil {
		return nil, err
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x, ind, upd := in[0], in[1], in[2]
		idx, err := inputInts(ind, "indices")
		if err != nil {
			return err
		}
		offs, block, err := ndOffsets(x.Shape, ind.Shape, 0, idx)
		if err != nil {
			return err
		}
		k := ind.Shape[ind.Rank()-1]
		want := append(append([]int{}, ind.Shape[:ind.Rank()-1]...), x.Shape[k:]...)
		if upd.DType != x.DType || !slices.Equal(upd.Shape, want) {
			return fmt.Errorf("updates %v, want %v%v", upd, x.DType, want)
		}
		runs := make([]run, len(offs))
		for i, o := range offs {
			runs[i] = run{o, i * block, block}
		}
		out[0].CopyFrom(x)
		if block == 0 {
			return nil
		}
		return scatterRuns(out[0], upd, runs, red)
	}), nil
}

// scatterRuns combines each run of upd into dst, in order, with the
// reduction (plain assignment for none).
func scatterRuns(dst, upd *tensor.Tensor, runs []run, red reduction) error {
	if red == reduceNone {
		moverOf(dst.Data).copyRuns(upd.Data, runs)
		return nil
	}
	switch d := dst.Data.(type) {
	case []float32:
		reduceRuns(d, upd.Data.([]float32), runs, red)
	case []float64:
		reduceRuns(d, upd.Data.([]float64), runs, red)
	case []int8:
		reduceRuns(d, upd.Data.([]int8), runs, red)
	case []int16:
		reduceRuns(d, upd.Data.([]int16), runs, red)
	case []int32:
		reduceRuns(d, upd.Data.([]int32), runs, red)
	case []int64:
		reduceRuns(d, upd.Data.([]int64), runs, red)
	case []uint8:
		reduceRuns(d, upd.Data.([]uint8), runs, red)
	case []uint16:
		reduceRuns(d, upd.Data.([]uint16), runs, red)
	case []uint32:
		reduceRuns(d, upd.Data.([]uint32), runs, red)
	case []uint64:
		reduceRuns(d, upd.Data.([]uint64), runs, red)
	case []tensor.Float16Bits:
		reduceRunsVia(d, upd.Data.([]tensor.Float16Bits), runs, red, tensor.Float16Bits.Float32, tensor.ToFloat16)
	case []tensor.BFloat16Bits:
		reduceRunsVia(d, upd.Data.([]tensor.BFloat16Bits), runs, red, tensor.BFloat16Bits.Float32, tensor.ToBFloat16)
	default:
		return fmt.Errorf("reduction on %v elements is not supported", dst.DType)
	}
	return nil
}

func reduceRuns[T tensor.Number](dst, upd []T, runs []run, red reduction) {
	for _, r := range runs {
		d, u := dst[r.d:r.d+r.n], upd[r.s:r.s+r.n]
		for i, v := range u {
			d[i] = combine(d[i], v, red)
		}
	}
}

func combine[T tensor.Number](a, b T, red reduction) T {
	switch red {
	case reduceAdd:
		return a + b
	case reduceMul:
		return a * b
	case reduceMax:
		return max(a, b)
	case reduceMin:
		return min(a, b)
	}
	return b
}

func reduceRunsVia[T any](dst, upd []T, runs []run, red reduction, to func(T) float32, from func(float32) T) {
	for _, r := range runs {
		d, u := dst[r.d:r.d+r.n], upd[r.s:r.s+r.n]
		for i, v := range u {
			d[i] = from(combine(to(d[i]), to(v), red))
		}
	}
}
