package ops

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	for _, v := range []int64{1, 8, 10, 11, 12} {
		register(DomainONNX, "MaxPool", v, func(n *Node) (Kernel, error) { return newPool(n, poolMax) })
	}
	for _, v := range []int64{1, 7, 10, 11, 19} {
		register(DomainONNX, "AveragePool", v, func(n *Node) (Kernel, error) { return newPool(n, poolAvg) })
	}
	for _, v := range []int64{1, 2, 11, 18} {
		register(DomainONNX, "LpPool", v, func(n *Node) (Kernel, error) { return newPool(n, poolLp) })
	}
	register(DomainONNX, "GlobalAveragePool", 1, func(n *Node) (Kernel, error) { return &globalPool{kind: poolAvg}, nil })
	register(DomainONNX, "GlobalMaxPool", 1, func(n *Node) (Kernel, error) { return &globalPool{kind: poolMax}, nil })
	register(DomainONNX, "GlobalLpPool", 1, newGlobalLpPool)
	register(DomainONNX, "GlobalLpPool", 2, newGlobalLpPool)
}

type poolKind int

const (
	poolMax poolKind = iota
	poolAvg
	poolLp
)

type poolKernel struct {
	kind         poolKind
	attrs        spatialAttrs
	includePad   bool
	p            float64
	storageOrder int
}

func newPool(n *Node, kind poolKind) (Kernel, error) {
	attrs, err := readSpatialAttrs(n)
	if err != nil {
		return nil, err
	}
	if attrs.kernel == nil {
		return nil, fmt.Errorf("kernel_shape is required")
	}
	if attrs.dilations != nil && kind == poolLp && n.Opset < 18 {
		return nil, fmt.Errorf("dilations are not an attribute of LpPool-%d", n.Opset)
	}
	k := &poolKernel{kind: kind, attrs: attrs, includePad: n.Int("count_include_pad", 0) != 0, storageOrder: int(n.Int("storage_order", 0))}
	if kind == poolLp {
		if n.Opset < 2 {
			k.p = float64(n.Float("p", 2))
		} else {
			k.p = float64(n.Int("p", 2))
		}
	}
	if k.storageOrder != 0 && k.storageOrder != 1 {
		return nil, fmt.Errorf("storage_order %d: want 0 or 1", k.storageOrder)
	}
	return k, nil
}

// poolRange is the window of one output position along one dimension:
// input positions start + i·dilation for i in [lo, hi) are inside the
// input, and the first total of them are inside the padded input.
type poolRange struct{ start, lo, hi, total int }

// poolGeom is a resolved pooling window with per-dimension ranges.
type poolGeom struct {
	win    window
	ranges [][]poolRange // [dim][output index]
	inSize int
	out    int
}

func newPoolGeom(win window) *poolGeom {
	g := &poolGeom{win: win, inSize: 1, out: 1, ranges: make([][]poolRange, len(win.in))}
	for d := range win.in {
		g.inSize *= win.in[d]
		g.out *= win.out[d]
		rs := make([]poolRange, win.out[d])
		dil, k := win.dilations[d], win.kernel[d]
		for o := range rs {
			s := o*win.strides[d] - win.padBegin[d]
			r := poolRange{start: s, hi: k, total: k}
			for r.lo < k && s+r.lo*dil < 0 {
				r.lo++
			}
			for r.hi > r.lo && s+(r.hi-1)*dil >= win.in[d] {
				r.hi--
			}
			for r.total > 0 && s+(r.total-1)*dil >= win.in[d]+win.padEnd[d] {
				r.total--
			}
			rs[o] = r
		}
		g.ranges[d] = rs
	}
	return g
}

// poolIter is the working memory of visit, reused across planes.
type poolIter struct {
	inStride, oIdx, kIdx, offs []int
	rs                         []poolRange
}

func (g *poolGeom) newIter() *poolIter {
	nd := len(g.win.in)
	return &poolIter{inStride: tensor.Strides(g.win.in), oIdx: make([]int, nd), kIdx: make([]int, nd), rs: make([]poolRange, nd)}
}

// visit calls fn for every output position of one plane with the
// window's ranges; off receives the flat input offsets of the window's
// valid positions, total the number of positions in the padded input.
func (g *poolGeom) visit(it *poolIter, fn func(o int, offs []int, total int)) {
	nd := len(g.win.in)
	inStride, oIdx, kIdx, rs, offs := it.inStride, it.oIdx, it.kIdx, it.rs, it.offs
	clear(oIdx)
	defer func() { it.offs = offs }()
	for o := 0; o < g.out; o++ {
		total := 1
		empty := false
		for d := 0; d < nd; d++ {
			rs[d] = g.ranges[d][oIdx[d]]
			total *= rs[d].total
			if rs[d].lo >= rs[d].hi {
				empty = true
			}
		}
		offs = offs[:0]
		if !empty {
			for d := range kIdx {
				kIdx[d] = rs[d].lo
			}
			for {
				off := 0
				for d := 0; d < nd; d++ {
					off += (rs[d].start + kIdx[d]*g.win.dilations[d]) * inStride[d]
				}
				offs = append(offs, off)
				d := nd - 1
				for ; d >= 0; d-- {
					if kIdx[d]++; kIdx[d] < rs[d].hi {
						break
					}
					kIdx[d] = rs[d].lo
				}
				if d < 0 {
					break
				}
			}
		}
		fn(o, offs, total)
		for d := nd - 1; d >= 0; d-- {
			if oIdx[d]++; oIdx[d] < g.win.out[d] {
				break
			}
			oIdx[d] = 0
		}
	}
}

func (k *poolKernel) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 1); err != nil {
		return err
	}
	x := in[0]
	if x.Rank() < 3 {
		return fmt.Errorf("input of shape %v: want rank 3 or more", x.Shape)
	}
	win, err := k.attrs.resolve(x.Shape[2:], k.attrs.kernel)
	if err != nil {
		return err
	}
	g := newPoolGeom(win)
	shape := append([]int{x.Shape[0], x.Shape[1]}, win.out...)
	planes := x.Shape[0] * x.Shape[1]
	var idx []int64
	if len(out) > 1 && out[1] != nil {
		if k.kind != poolMax {
			return fmt.Errorf("only MaxPool has an Indices output")
		}
		out[1].Reset(tensor.Int64, shape)
		idx = out[1].I64()
	}
	y := out[0]
	if isHalf(x.DType) {
		var s halfScratch
		defer s.free()
		xf, _ := s.values(x)
		yf := s.zeros(tensor.NumElements(shape))
		k.runPlanes(ctx, g, planes, xf, yf, idx)
		storeHalf(y, x.DType, shape, yf)
		return nil
	}
	y.Reset(x.DType, shape)
	switch xd := x.Data.(type) {
	case []float32:
		k.runPlanes(ctx, g, planes, xd, y.F32(), idx)
	case []float64:
		runPlanesT(ctx, k, g, planes, xd, y.Data.([]float64), idx)
	case []int8:
		return k.maxOnly(ctx, g, planes, xd, y.Data.([]int8), idx)
	case []uint8:
		return k.maxOnly(ctx, g, planes, xd, y.Data.([]uint8), idx)
	default:
		return errType("pooling", x.DType)
	}
	return nil
}

func (k *poolKernel) runPlanes(ctx *Context, g *poolGeom, planes int, x, y []float32, idx []int64) {
	if len(g.win.in) == 2 && g.win.dilations[0] == 1 && g.win.dilations[1] == 1 && k.kind == poolMax && idx == nil {
		ctx.Parallel(planes, 1, func(lo, hi int) {
			col := make([]float32, g.win.out[1])
			for p := lo; p < hi; p++ {
				maxPool2DF32(k, g, x[p*g.inSize:(p+1)*g.inSize], y[p*g.out:(p+1)*g.out], col)
			}
		})
		return
	}
	runPlanesT(ctx, k, g, planes, x, y, idx)
}

// maxPool2DF32 is pool2D for max pooling of float32: the output columns
// whose windows lie inside the row (no padding) are computed a row at a
// time with the vector kernels.MaxF32, window element after window
// element in pool2D's order, so each output takes the same maxima in the
// same order (the rule of maxOf, NaN winning); the columns at the edges
// go through pool2DCols. col is scratch of an output row's length.
func maxPool2DF32(k *poolKernel, g *poolGeom, x, y, col []float32) {
	w, ow := g.win.in[1], g.win.out[1]
	kx, sx := g.win.kernel[1], g.win.strides[1]
	rx := g.ranges[1]
	c0, c1 := innerColumns(g)
	n := c1 - c0
	if n < 8 { // too short for the vector kernel to pay
		pool2DCols(k, g, x, y, 0, ow)
		return
	}
	pool2DCols(k, g, x, y, 0, c0)
	pool2DCols(k, g, x, y, c1, ow)
	for oy, ry := range g.ranges[0] {
		out := y[oy*ow+c0 : oy*ow+c1]
		if ry.lo >= ry.hi {
			for i := range out {
				out[i] = lowest[float32]() // the windows hold padding only
			}
			continue
		}
		first := true
		for yy := ry.start + ry.lo; yy < ry.start+ry.hi; yy++ {
			for dx := range kx {
				base := yy*w + rx[c0].start + dx
				v := col[:n]
				if sx == 1 {
					v = x[base : base+n]
				} else {
					for i := range v {
						v[i] = x[base+i*sx]
					}
				}
				if first {
					copy(out, v)
					first = false
					continue
				}
				kernels.MaxF32(out, v, out)
			}
		}
	}
}

func (k *poolKernel) maxOnly(ctx *Context, g *poolGeom, planes int, x, y any, idx []int64) error {
	if k.kind != poolMax {
		return fmt.Errorf("average and Lp pooling need float inputs")
	}
	switch xd := x.(type) {
	case []int8:
		runPlanesInt(ctx, k, g, planes, xd, y.([]int8), idx)
	case []uint8:
		runPlanesInt(ctx, k, g, planes, xd, y.([]uint8), idx)
	}
	return nil
}

// runPlanesInt is runPlanesT for max pooling of 8-bit levels: windows
// of column pairs by maxPoolPairs, other 2-D windows inside the rows by
// maxPool2DInt.
func runPlanesInt[T int8 | uint8](ctx *Context, k *poolKernel, g *poolGeom, planes int, x, y []T, idx []int64) {
	if len(g.win.in) != 2 || g.win.dilations[0] != 1 || g.win.dilations[1] != 1 || idx != nil {
		runPlanesT(ctx, k, g, planes, x, y, idx)
		return
	}
	if maxPoolPairs(ctx, g, planes, x, y) {
		return
	}
	ctx.Parallel(planes, 1, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			maxPool2DInt(k, g, x[p*g.inSize:(p+1)*g.inSize], y[p*g.out:(p+1)*g.out])
		}
	})
}

// maxPairsChunk is the number of levels of row-pair maxima that
// maxPoolPairs keeps between its two passes: they stay in L1.
const maxPairsChunk = 8192

// maxPoolPairs is max pooling of 8-bit levels (2-D, no dilation) for
// windows of column pairs: kernel width 2 = stride width 2 over rows of
// even width without horizontal padding (each output column the maximum
// of input columns 2i and 2i+1), and kernel height 1 = stride 1 (rows
// one to one) or 2 = stride 2 (row pairs, the last row of an odd height
// left out as the floor mode does), without vertical padding. Integers
// have no NaN, so these are pool2D's maxima exactly. The rows of a
// plane, and of consecutive planes, lie end to end, so the column pairs
// of a whole range of planes are one run of kernels.MaxPairs8; row pairs
// go first through kernels.MaxRowPairs8 (in chunks that stay in L1), a
// range of planes at once when the height is even. It reports false,
// having done nothing, for other windows.
func maxPoolPairs[T int8 | uint8](ctx *Context, g *poolGeom, planes int, x, y []T) bool {
	win := g.win
	h, w, oh, ow := win.in[0], win.in[1], win.out[0], win.out[1]
	if win.kernel[1] != 2 || win.strides[1] != 2 || win.padBegin[1] != 0 || win.padEnd[1] != 0 ||
		w%2 != 0 || ow != w/2 || win.padBegin[0] != 0 || win.padEnd[0] != 0 {
		return false
	}
	switch ky, sy := win.kernel[0], win.strides[0]; {
	case ky == 1 && sy == 1 && oh == h:
		ctx.Parallel(planes, 1, func(lo, hi int) {
			kernels.MaxPairs8(y[lo*g.out:hi*g.out], x[lo*g.inSize:hi*g.inSize])
		})
	case ky == 2 && sy == 2 && oh == h/2 && oh > 0:
		ctx.Parallel(planes, 1, func(lo, hi int) {
			rows := max(1, maxPairsChunk/w) // output rows per chunk
			tmp := make([]T, rows*w)
			// pairs pools the oh·n output rows of xs (n planes, or one
			// plane's first 2·oh rows) into ys.
			pairs := func(xs, ys []T, n int) {
				for r := 0; r < n; r += rows {
					e := min(r+rows, n)
					t := tmp[:(e-r)*w]
					kernels.MaxRowPairs8(t, xs[2*r*w:2*e*w], w)
					kernels.MaxPairs8(ys[r*ow:e*ow], t)
				}
			}
			if h%2 == 0 {
				pairs(x[lo*g.inSize:hi*g.inSize], y[lo*g.out:hi*g.out], (hi-lo)*oh)
				return
			}
			for p := lo; p < hi; p++ {
				pairs(x[p*g.inSize:(p+1)*g.inSize], y[p*g.out:(p+1)*g.out], oh)
			}
		})
	default:
		return false
	}
	return true
}

// maxPool2DInt is pool2D for max pooling of 8-bit levels: the output
// columns whose windows lie inside the row a row at a time, each window
// element of a whole run of outputs in turn, with max (branch-free;
// integers have no NaN, so any order gives the same maxima; with stride
// 1 the run is contiguous and kernels.Max8 takes it); the edges go
// through pool2DCols.
func maxPool2DInt[T int8 | uint8](k *poolKernel, g *poolGeom, x, y []T) {
	w, ow := g.win.in[1], g.win.out[1]
	kx, sx := g.win.kernel[1], g.win.strides[1]
	c0, c1 := innerColumns(g)
	if c1-c0 < 8 {
		pool2DCols(k, g, x, y, 0, ow)
		return
	}
	pool2DCols(k, g, x, y, 0, c0)
	pool2DCols(k, g, x, y, c1, ow)
	rx := g.ranges[1]
	low := lowest[T]() // also the value of windows of padding only
	for oy, ry := range g.ranges[0] {
		out := y[oy*ow+c0 : oy*ow+c1]
		for i := range out {
			out[i] = low
		}
		for yy := ry.start + ry.lo; yy < ry.start+ry.hi; yy++ {
			for dx := range kx {
				base := yy*w + rx[c0].start + dx
				if sx == 1 {
					kernels.Max8(out, out, x[base:base+len(out)])
					continue
				}
				for i := range out {
					out[i] = max(out[i], x[base+i*sx])
				}
			}
		}
	}
}

// innerColumns returns the run [c0, c1) of output columns of a 2-D pool
// whose windows lie wholly inside the input row.
func innerColumns(g *poolGeom) (c0, c1 int) {
	ow, kx, rx := g.win.out[1], g.win.kernel[1], g.ranges[1]
	for c0 < ow && (rx[c0].lo != 0 || rx[c0].hi != kx) {
		c0++
	}
	c1 = c0
	for c1 < ow && rx[c1].lo == 0 && rx[c1].hi == kx {
		c1++
	}
	return c0, c1
}

func runPlanesT[T tensor.Number](ctx *Context, k *poolKernel, g *poolGeom, planes int, x, y []T, idx []int64) {
	if len(g.win.in) == 2 && g.win.dilations[0] == 1 && g.win.dilations[1] == 1 && k.kind != poolLp && idx == nil {
		ctx.Parallel(planes, 1, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				pool2D(k, g, x[p*g.inSize:(p+1)*g.inSize], y[p*g.out:(p+1)*g.out])
			}
		})
		return
	}
	ctx.Parallel(planes, 1, func(lo, hi int) {
		it := g.newIter()
		for p := lo; p < hi; p++ {
			xp := x[p*g.inSize : (p+1)*g.inSize]
			yp := y[p*g.out : (p+1)*g.out]
			g.visit(it, func(o int, offs []int, total int) {
				switch k.kind {
				case poolMax:
					best, at := T(0), -1
					for _, off := range offs {
						if v := xp[off]; at < 0 || v > best || v != v {
							best, at = v, off
						}
					}
					if at < 0 {
						// The window holds padding only.
						best = lowest[T]()
						at = 0
					}
					yp[o] = best
					if idx != nil {
						idx[p*g.out+o] = int64(p*g.inSize + k.storageIndex(g, at))
					}
				case poolAvg:
					var sum float64
					for _, off := range offs {
						sum += float64(xp[off])
					}
					n := len(offs)
					if k.includePad {
						n = total
					}
					yp[o] = T(sum / float64(n))
				case poolLp:
					var sum float64
					for _, off := range offs {
						sum += math.Pow(math.Abs(float64(xp[off])), k.p)
					}
					yp[o] = T(math.Pow(sum, 1/k.p))
				}
			})
		}
	})
}

// pool2D is the max or average pooling of one plane for 2-D windows
// without dilation.
func pool2D[T tensor.Number](k *poolKernel, g *poolGeom, x, y []T) {
	pool2DCols(k, g, x, y, 0, g.win.out[1])
}

// pool2DCols is pool2D for the output columns [c0, c1) of every row.
func pool2DCols[T tensor.Number](k *poolKernel, g *poolGeom, x, y []T, c0, c1 int) {
	w := g.win.in[1]
	ow := g.win.out[1]
	for oy, ry := range g.ranges[0] {
		for ox := c0; ox < c1; ox++ {
			rx := g.ranges[1][ox]
			o := oy*ow + ox
			if k.kind == poolMax && (ry.lo >= ry.hi || rx.lo >= rx.hi) {
				y[o] = lowest[T]() // the window holds padding only
				continue
			}
			y0, y1 := ry.start+ry.lo, ry.start+ry.hi
			x0, x1 := rx.start+rx.lo, rx.start+rx.hi
			if k.kind == poolMax {
				best := x[y0*w+x0]
				for yy := y0; yy < y1; yy++ {
					for _, v := range x[yy*w+x0 : yy*w+x1] {
						if v > best || v != v {
							best = v
						}
					}
				}
				y[o] = best
				continue
			}
			var sum float64
			for yy := y0; yy < y1; yy++ {
				for _, v := range x[yy*w+x0 : yy*w+x1] {
					sum += float64(v)
				}
			}
			n := (y1 - y0) * (x1 - x0)
			if k.includePad {
				n = ry.total * rx.total
			}
			y[o] = T(sum / float64(n))
		}
	}
}

// storageIndex converts a row-major offset within a plane to the
// storage order of the Indices output.
func (k *poolKernel) storageIndex(g *poolGeom, off int) int {
	if k.storageOrder == 0 {
		return off
	}
	// Column major: the first spatial dimension varies fastest.
	in := g.win.in
	strides := tensor.Strides(in)
	res, mul := 0, 1
	for d := range in {
		res += (off / strides[d]) % in[d] * mul
		mul *= in[d]
	}
	return res
}

// globalPool reduces every spatial plane to one value.
type globalPool struct {
	kind poolKind
	p    float64
}

func newGlobalLpPool(n *Node) (Kernel, error) {
	p := float64(n.Int("p", 2))
	if n.Opset < 2 {
		p = float64(n.Float("p", 2))
	}
	return &globalPool{kind: poolLp, p: p}, nil
}

func (k *globalPool) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 1); err != nil {
		return err
	}
	x := in[0]
	if x.Rank() < 2 {
		return fmt.Errorf("input of shape %v: want rank 2 or more", x.Shape)
	}
	shape := []int{x.Shape[0], x.Shape[1]}
	for range x.Shape[2:] {
		shape = append(shape, 1)
	}
	planes := x.Shape[0] * x.Shape[1]
	size := tensor.NumElements(x.Shape[2:])
	y := out[0]
	switch xd := x.Data.(type) {
	case []float32:
		y.Reset(x.DType, shape)
		globalT(ctx, k, planes, size, xd, y.F32())
	case []float64:
		y.Reset(x.DType, shape)
		globalT(ctx, k, planes, size, xd, y.Data.([]float64))
	default:
		if !isHalf(x.DType) {
			return errType("global pooling", x.DType)
		}
		var s halfScratch
		defer s.free()
		xf, _ := s.values(x)
		yf := s.zeros(planes)
		globalT(ctx, k, planes, size, xf, yf)
		storeHalf(y, x.DType, shape, yf)
	}
	return nil
}

func globalT[T float32 | float64](ctx *Context, k *globalPool, planes, size int, x, y []T) {
	ctx.Parallel(planes, max(1, 4096/max(size, 1)), func(lo, hi int) {
		if k.kind == poolAvg {
			lo = globalAvg4(x, y, lo, hi, size)
		}
		for p := lo; p < hi; p++ {
			v := x[p*size : (p+1)*size]
			switch k.kind {
			case poolMax:
				best := T(math.Inf(-1))
				for _, e := range v {
					if e > best || e != e {
						best = e
					}
				}
				y[p] = best
			case poolAvg:
				var sum T
				for _, e := range v {
					sum += e
				}
				y[p] = sum / T(size)
			case poolLp:
				var sum float64
				for _, e := range v {
					sum += math.Pow(math.Abs(float64(e)), k.p)
				}
				y[p] = T(math.Pow(sum, 1/k.p))
			}
		}
	})
}

// globalAvg4 averages planes lo.. of size elements four at a time, each
// plane summed in its own order (element by element, as globalT's loop
// does), so that four chains of additions run in parallel instead of
// each waiting on the one before; it returns the first plane it left.
func globalAvg4[T float32 | float64](x, y []T, lo, hi, size int) int {
	for ; lo+4 <= hi; lo += 4 {
		v0, v1, v2, v3 := x[lo*size:(lo+1)*size], x[(lo+1)*size:(lo+2)*size], x[(lo+2)*size:(lo+3)*size], x[(lo+3)*size:(lo+4)*size]
		var s0, s1, s2, s3 T
		for i := range v0 {
			s0 += v0[i]
			s1 += v1[i]
			s2 += v2[i]
			s3 += v3[i]
		}
		n := T(size)
		y[lo], y[lo+1], y[lo+2], y[lo+3] = s0/n, s1/n, s2/n, s3/n
	}
	return lo
}
