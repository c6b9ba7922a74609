package ops

import "github.com/potgo/pot/targets/interp/tensor"

// The integer products of ConvInteger, QLinearConv, MatMulInteger and
// QLinearMatMul run on the float32 GEMM, exactly.
//
// Their operands are 8-bit integers less their zero points, so each
// factor lies in [-255, 255] and each product in [-65025, 65025]. A sum of
// at most intGemmChunk = 256 products is then an integer below
// 256·65025 = 16,646,400 < 2^24 in magnitude, as is every partial sum on
// the way, in whatever order and with or without fused multiply-adds:
// float32 holds each exactly. So the GEMM of a chunk of 256 terms of k is
// exact, and its int32 conversions, added in int32 (wrapping, as the
// reference loops do), give the reference's int32 results bit for bit.

// useIntGemm sends the integer products through intGemm; tests switch it
// off to run the reference loops (convInt32, matmulInt32) instead.
var useIntGemm = true

// intGemmChunk is the most terms of k one float32 GEMM sums.
const intGemmChunk = 256

// intGemm adds to acc (m×n, row-major) the product of a (m×k, row stride
// lda) and b (k×n, row stride ldb), float32 holding integers in [-255,
// 255], in int32. tmp holds at least m·n values.
func intGemm(ctx *Context, m, n, k int, a []float32, lda int, b []float32, ldb int, acc []int32, tmp []float32) error {
	tmp = tmp[:m*n]
	for k0 := 0; k0 < k; k0 += intGemmChunk {
		kc := min(intGemmChunk, k-k0)
		if err := parallelSgemm(ctx, false, false, m, n, kc, 1, a[k0:], lda, b[k0*ldb:], ldb, 0, tmp, n); err != nil {
			return err
		}
		addInt32(ctx, acc, tmp)
	}
	return nil
}

// addInt32 adds to acc the exact integers of sums (see above).
func addInt32(ctx *Context, acc []int32, sums []float32) {
	forRange(ctx, len(sums), 1<<14, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			acc[i] += int32(sums[i])
		}
	})
}

// intOperand returns v less its zero point as float32: zp[0] for all, or
// zp[i/per%len(zp)] for values in runs of per sharing one (per-row or
// per-channel zero points).
func intOperand(v []int32, zp []int32, per int) []float32 {
	out := make([]float32, len(v))
	if len(zp) == 1 {
		z := zp[0]
		for i, x := range v {
			out[i] = float32(x - z)
		}
		return out
	}
	for i, x := range v {
		out[i] = float32(x - zp[i/per%len(zp)])
	}
	return out
}

// matmulInt32Fast is matmulInt32 on the float32 GEMM (see above).
func matmulInt32Fast(ctx *Context, s *matmulShape, a, b, azp, bzp []int32) ([]int32, error) {
	nb := tensor.NumElements(s.batch)
	m, n, k := s.m, s.n, s.k
	af := intOperand(a, azp, k) // a zero point per row of A
	bf := make([]float32, len(b))
	if len(bzp) == 1 {
		bf = intOperand(b, bzp, 1)
	} else {
		for i, x := range b {
			bf[i] = float32(x - bzp[i%n]) // one per column of B
		}
	}
	y := make([]int32, nb*m*n)
	tmp := make([]float32, m*n)
	for i := 0; i < nb; i++ {
		ai, bi := s.offsets(i)
		if err := intGemm(ctx, m, n, k, af[ai*m*k:], k, bf[bi*k*n:], n, y[i*m*n:(i+1)*m*n], tmp); err != nil {
			return nil, err
		}
	}
	return y, nil
}

// convInt32Fast is convInt32 for two spatial dimensions on the float32
// GEMM: per image and group, the columns of the input less its zero point
// (padding reads 0, the zero point's own value) times the weights less
// theirs.
func convInt32Fast(ctx *Context, x []int32, xs []int, w []int32, ws []int, group int, win window, xzp int32, wzp []int32) ([]int32, error) {
	n, c, m := xs[0], xs[1], ws[0]
	cg, mg := c/group, m/group
	ih, iw, kh, kw := win.in[0], win.in[1], win.kernel[0], win.kernel[1]
	oh, ow := win.out[0], win.out[1]
	taps, outSize, kk := kh*kw, oh*ow, cg*kh*kw
	xf := intOperand(x, []int32{xzp}, 1)
	wf := intOperand(w, wzp, kk) // a zero point per output channel
	acc := make([]int32, n*m*outSize)
	cols := make([]float32, kk*outSize)
	tmp := make([]float32, mg*outSize)
	for b := 0; b < n; b++ {
		for g := 0; g < group; g++ {
			ctx.Parallel(kk, max(1, parallelMin/max(outSize, 1)), func(lo, hi int) {
				for r := lo; r < hi; r++ {
					ci, t := r/taps, r%taps
					ky, kx := t/kw, t%kw
					plane := xf[((b*c)+g*cg+ci)*ih*iw:][:ih*iw]
					row := cols[r*outSize : (r+1)*outSize]
					for oy := 0; oy < oh; oy++ {
						iy := oy*win.strides[0] - win.padBegin[0] + ky*win.dilations[0]
						dst := row[oy*ow : (oy+1)*ow]
						if iy < 0 || iy >= ih {
							clear(dst)
							continue
						}
						src := plane[iy*iw : (iy+1)*iw]
						for ox := range dst {
							ix := ox*win.strides[1] - win.padBegin[1] + kx*win.dilations[1]
							if ix < 0 || ix >= iw {
								dst[ox] = 0
							} else {
								dst[ox] = src[ix]
							}
						}
					}
				}
			})
			out := acc[(b*m+g*mg)*outSize : (b*m+(g+1)*mg)*outSize]
			if err := intGemm(ctx, mg, outSize, kk, wf[g*mg*kk:], kk, cols, outSize, out, tmp); err != nil {
				return nil, err
			}
		}
	}
	return acc, nil
}

// convInt32Direct is convInt32 for one group on the float32 convolution
// fk (its direct path: fk has no constant weights, so no Winograd, whose
// transforms are not exact): per image and run of input channels whose
// taps number at most intGemmChunk, a float32 convolution of the input
// less its zero point (padding reads 0) by the weights less theirs, each
// output an exact sum (see above) added in int32. No columns are built.
func convInt32Direct(ctx *Context, fk *convKernel, x []int32, xs []int, w []int32, ws []int, win window, xzp int32, wzp []int32) ([]int32, error) {
	n, c, m := xs[0], xs[1], ws[0]
	plane, taps, outSize := xs[2]*xs[3], ws[2]*ws[3], win.out[0]*win.out[1]
	per := max(1, intGemmChunk/taps)
	xf := intOperand(x, []int32{xzp}, 1)
	wf := intOperand(w, wzp, c*taps) // a zero point per output channel
	acc := make([]int32, n*m*outSize)
	y := &tensor.Tensor{}
	for c0 := 0; c0 < c; c0 += per {
		cc := min(per, c-c0)
		wc := make([]float32, m*cc*taps)
		for oc := range m {
			copy(wc[oc*cc*taps:(oc+1)*cc*taps], wf[(oc*c+c0)*taps:(oc*c+c0+cc)*taps])
		}
		wt := tensor.From([]int{m, cc, ws[2], ws[3]}, wc)
		for b := range n {
			xt := tensor.From([]int{1, cc, xs[2], xs[3]}, xf[(b*c+c0)*plane:(b*c+c0+cc)*plane])
			if err := fk.runAct(ctx, []*tensor.Tensor{xt, wt}, []*tensor.Tensor{y}, Activation{}); err != nil {
				return nil, err
			}
			addInt32(ctx, acc[b*m*outSize:(b+1)*m*outSize], y.F32())
		}
	}
	return acc, nil
}
