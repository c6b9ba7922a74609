package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
)

// Gather, GatherElements and GatherND.

func init() {
	register(DomainONNX, "Gather", 1, newGather)
	register(DomainONNX, "Gather", 11, newGather)
	register(DomainONNX, "GatherElements", 11, newGatherElements)
	register(DomainONNX, "GatherND", 11, newGatherND)
	register(DomainONNX, "GatherND", 12, newGatherND)
}

// checkIndex maps a possibly negative index into [0, dim).
func checkIndex(i int64, dim int) (int, error) {
	if i < 0 {
		i += int64(dim)
	}
	if i < 0 || i >= int64(dim) {
		return 0, fmt.Errorf("index %d out of range for dimension %d", i, dim)
	}
	return int(i), nil
}

func newGather(n *Node) (Kernel, error) {
	axis := n.Int("axis", 0)
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x := in[0]
		a, err := NormalizeAxis(axis, x.Rank())
		if err != nil {
			return err
		}
		idx, err := inputInts(in[1], "indices")
		if err != nil {
			return err
		}
		shape := append(append(append([]int{}, x.Shape[:a]...), in[1].Shape...), x.Shape[a+1:]...)
		return gather(out[0], x, a, idx, shape)
	}), nil
}

// gather writes the slices of x at indices idx along axis a into dst of
// the given shape.
func gather(dst, x *tensor.Tensor, a int, idx []int64, shape []int) error {
	dim := x.Shape[a]
	outer := tensor.NumElements(x.Shape[:a])
	inner := tensor.NumElements(x.Shape[a+1:])
	pos := make([]int, len(idx))
	for j, v := range idx {
		p, err := checkIndex(v, dim)
		if err != nil {
			return err
		}
		pos[j] = p
	}
	dst.Reset(x.DType, shape)
	if inner == 0 {
		return nil
	}
	runs := make([]run, 0, outer*len(pos))
	d := 0
	for o := range outer {
		for _, p := range pos {
			runs = append(runs, run{d, (o*dim + p) * inner, inner})
			d += inner
		}
	}
	moverOf(dst.Data).copyRuns(x.Data, runs)
	return nil
}

func newGatherElements(n *Node) (Kernel, error) {
	axis := n.Int("axis", 0)
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x, ind := in[0], in[1]
		offs, err := axisElementOffsets(x, ind, axis)
		if err != nil {
			return err
		}
		out[0].Reset(x.DType, ind.Shape)
		runs := make([]run, len(offs))
		for i, o := range offs {
			runs[i] = run{i, o, 1}
		}
		moverOf(out[0].Data).copyRuns(x.Data, runs)
		return nil
	}), nil
}

// axisElementOffsets is elementOffsets for data x, indices ind and a
// possibly negative axis.
func axisElementOffsets(x, ind *tensor.Tensor, axis int64) ([]int, error) {
	a, err := NormalizeAxis(axis, x.Rank())
	if err != nil {
		return nil, err
	}
	idx, err := inputInts(ind, "indices")
	if err != nil {
		return nil, err
	}
	return elementOffsets(x.Shape, ind.Shape, a, idx)
}

// elementOffsets returns, for each position of an indices tensor of shape
// ishape, the flat offset into a tensor of shape dshape whose coordinate
// along axis a is the index and whose other coordinates are the
// position's own (GatherElements and ScatterElements).
func elementOffsets(dshape, ishape []int, a int, idx []int64) ([]int, error) {
	r := len(dshape)
	if len(ishape) != r {
		return nil, fmt.Errorf("indices of rank %d for data of rank %d", len(ishape), r)
	}
	for k := range r {
		if k != a && ishape[k] > dshape[k] {
			return nil, fmt.Errorf("indices shape %v exceeds data shape %v", ishape, dshape)
		}
	}
	str := tensor.Strides(dshape)
	offs := make([]int, len(idx))
	if len(idx) == 0 {
		return offs, nil
	}
	pos := make([]int, r)
	base := 0 // offset of pos without the axis coordinate
	for i, v := range idx {
		p, err := checkIndex(v, dshape[a])
		if err != nil {
			return nil, err
		}
		offs[i] = base + p*str[a]
		for k := r - 1; k >= 0; k-- {
			pos[k]++
			if k != a {
				base += str[k]
			}
			if pos[k] < ishape[k] {
				break
			}
			if k != a {
				base -= str[k] * ishape[k]
			}
			pos[k] = 0
		}
	}
	return offs, nil
}

func newGatherND(n *Node) (Kernel, error) {
	batch := 0
	if n.Opset >= 12 {
		batch = int(n.Int("batch_dims", 0))
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x, ind := in[0], in[1]
		idx, err := inputInts(ind, "indices")
		if err != nil {
			return err
		}
		offs, block, err := ndOffsets(x.Shape, ind.Shape, batch, idx)
		if err != nil {
			return err
		}
		shape := append(append([]int{}, ind.Shape[:ind.Rank()-1]...), x.Shape[batch+ind.Shape[ind.Rank()-1]:]...)
		out[0].Reset(x.DType, shape)
		runs := make([]run, len(offs))
		for i, o := range offs {
			runs[i] = run{i * block, o, block}
		}
		if block > 0 {
			moverOf(out[0].Data).copyRuns(x.Data, runs)
		}
		return nil
	}), nil
}

// ndOffsets resolves GatherND/ScatterND indices: for each index tuple (the
// last dimension of the indices), the flat offset of the slice it selects
// in data, and the slice's size. The first batch dimensions of data and
// indices are matched one to one.
func ndOffsets(dshape, ishape []int, batch int, idx []int64) ([]int, int, error) {
	q := len(ishape)
	if q < 1 || batch < 0 || batch >= q || batch > len(dshape) {
		return nil, 0, fmt.Errorf("indices shape %v with batch_dims %d for data %v", ishape, batch, dshape)
	}
	k := ishape[q-1]
	if batch+k > len(dshape) {
		return nil, 0, fmt.Errorf("index tuples of length %d for data %v with batch_dims %d", k, dshape, batch)
	}
	for i := range batch {
		if ishape[i] != dshape[i] {
			return nil, 0, fmt.Errorf("batch dimensions of indices %v and data %v differ", ishape, dshape)
		}
	}
	str := tensor.Strides(dshape)
	block := tensor.NumElements(dshape[batch+k:])
	batches := tensor.NumElements(dshape[:batch])
	tuples := tensor.NumElements(ishape[:q-1])
	perBatch := 0
	if batches > 0 {
		perBatch = tuples / batches
	}
	batchStride := tensor.NumElements(dshape[batch:])
	offs := make([]int, tuples)
	for t := range tuples {
		off := 0
		if perBatch > 0 {
			off = (t / perBatch) * batchStride
		}
		for j := range k {
			p, err := checkIndex(idx[t*k+j], dshape[batch+j])
			if err != nil {
				return nil, 0, err
			}
			off += p * str[batch+j]
		}
		offs[t] = off
	}
	return offs, block, nil
}
