package gna

import (
	"github.com/potgo/pot/targets/interp/ops"
)

// The fast GnaConv: im2col into int16 pair columns and an int16 GEMM on
// VPMADDWD, computing exactly what (*conv).runTwin, the scalar loop that
// stays the reference, computes.
//
// # Why it is exact
//
// The twin starts the int64 accumulator at the bias (an int32), adds the
// in-bounds products in order, saturates to int32 after every
// AccumulatorBlock of them and once more at the end.
//
//   - When a channel has at most AccumulatorBlock taps (cg·kh·kw), the
//     count of in-bounds products reaches AccumulatorBlock at most once,
//     on the very last product, and saturating twice in a row is
//     saturating once. So the twin's output is sat32(bias + Σ products),
//     the exact sum of every in-bounds product.
//   - With more taps, the fast path is taken only when every channel has
//     |bias| + Σ|w|·max|x| < 2^31 (max|x| from the input grid's clamp
//     range, at most 32768): then no partial sum of the twin ever leaves
//     int32, every saturation is the identity, and the output is again
//     sat32(bias + Σ products). Other layers run the twin.
//
// The fast path computes that exact sum. Padding taps are zeros in the
// columns: they add 0 to the sum (the twin skips them, which does not
// matter once the sum is all that counts). The sum is exact in int32
// lanes because each weight is split into w = 256·wh + wl with wl =
// int8(w) ∈ [-128, 127] and wh ∈ [-128, 128]: VPMADDWD of an int16 pair
// of x (|x| ≤ 32768) with a pair of wh (or wl) is at most 2·128·32768 =
// 2^23 in magnitude, so up to convChunkPairs = 255 pairs add up below
// 2^31 with no overflow (VPMADDWD's one overflowing case, two products
// of -32768·-32768, cannot occur either). Chunks of at most 255 pairs are
// combined in int64 as 256·H + L.

// Tile geometry of the GEMM kernel: convTileM output channels by
// convTileN output pixels, over pairs of taps.
const (
	convTileM = 4
	convTileN = 32
	// convTileOut is the kernel's output: per channel, the high-part
	// sums of the 32 pixels, then the low-part sums.
	convTileOut = convTileM * 2 * convTileN
	// convChunkPairs is the most tap pairs one kernel call adds in
	// int32 lanes (see above).
	convChunkPairs = 255
)

// useFastConv turns the fast path on: where the GEMM kernel runs in
// assembly (convfast_amd64.go). Tests switch it (and convTile) to run
// the twin, or the fast path on the kernel's Go twin; nothing else
// changes them.
var useFastConv = hasConvAsm

// convPack is the weights of a conv packed for the fast path.
type convPack struct {
	pairs  int     // tap pairs: ceil(cg·kh·kw / 2)
	blocks int     // channel blocks of convTileM per group
	a      []int32 // [group][block][pair][channel][high, low] pair words
}

// pairWord packs two int16 into the int32 that VPMADDWD multiplies
// pairwise: lo in the low half (first in memory), hi in the high half.
func pairWord(lo, hi int16) int32 { return int32(uint32(uint16(lo)) | uint32(uint16(hi))<<16) }

// splitWeight returns wh, wl with w = 256·wh + wl, wl ∈ [-128, 127].
func splitWeight(w int16) (wh, wl int16) {
	wl = int16(int8(w))
	return int16((int32(w) - int32(wl)) >> 8), wl
}

// fastBound reports whether the fast path is exact for k (see above).
func (k *conv) fastBound() bool {
	per := k.cg * k.kh * k.kw
	if per <= AccumulatorBlock {
		return true
	}
	maxX := min(32768, max(-k.xLo, k.xHi, 0))
	for m := 0; m < k.m; m++ {
		s := max(k.bias[m], -k.bias[m])
		for _, w := range k.w[m*per : (m+1)*per] {
			s += max(int64(w), -int64(w)) * maxX
		}
		if s >= 1<<31 {
			return false
		}
	}
	return true
}

// packFast packs k's weights for the fast path, or leaves k.pack nil
// when the fast path would not be exact.
func (k *conv) packFast() {
	if !k.fastBound() {
		return
	}
	per := k.cg * k.kh * k.kw
	mg := k.m / k.group
	p := &convPack{pairs: (per + 1) / 2, blocks: (mg + convTileM - 1) / convTileM}
	p.a = make([]int32, k.group*p.blocks*p.pairs*convTileM*2)
	for g := 0; g < k.group; g++ {
		for blk := 0; blk < p.blocks; blk++ {
			base := (g*p.blocks + blk) * p.pairs * convTileM * 2
			for r := 0; r < convTileM; r++ {
				m := blk*convTileM + r
				if m >= mg {
					break
				}
				wm := k.w[(g*mg+m)*per : (g*mg+m+1)*per]
				for j := 0; j < p.pairs; j++ {
					var w0, w1 int16
					w0 = wm[2*j]
					if 2*j+1 < per {
						w1 = wm[2*j+1]
					}
					h0, l0 := splitWeight(w0)
					h1, l1 := splitWeight(w1)
					o := base + (j*convTileM+r)*2
					p.a[o], p.a[o+1] = pairWord(h0, h1), pairWord(l0, l1)
				}
			}
		}
	}
	k.pack = p
}

// convGeom is one run's geometry.
type convGeom struct {
	batch, c, h, wd, ph, pw, oh, ow int
}

// runFast computes y from the int16 input xi with the packed weights.
func (k *conv) runFast(ctx *ops.Context, xi []int16, y []float32, g convGeom) {
	p := k.pack
	n := g.oh * g.ow
	nblk := (n + convTileN - 1) / convTileN
	mg := k.m / k.group
	// xp is xi with zero padding around each plane, wide enough for every
	// tap of every output pixel: im2col then needs no bounds checks.
	hp := max(g.ph+g.h, (g.oh-1)*k.strides[0]+(k.kh-1)*k.dils[0]+1)
	wp := max(g.pw+g.wd, (g.ow-1)*k.strides[1]+(k.kw-1)*k.dils[1]+1)
	xp := make([]int16, g.batch*g.c*hp*wp)
	for pl := 0; pl < g.batch*g.c; pl++ {
		for iy := 0; iy < g.h; iy++ {
			copy(xp[(pl*hp+g.ph+iy)*wp+g.pw:], xi[(pl*g.h+iy)*g.wd:(pl*g.h+iy+1)*g.wd])
		}
	}
	// toff is each tap's offset from its pixel's window corner in xp, two
	// per pair; -1 marks the missing tap of an odd count (a zero).
	per := k.cg * k.kh * k.kw
	toff := make([]int, 2*p.pairs)
	for ci := 0; ci < k.cg; ci++ {
		for ky := 0; ky < k.kh; ky++ {
			for kx := 0; kx < k.kw; kx++ {
				toff[(ci*k.kh+ky)*k.kw+kx] = ci*hp*wp + ky*k.dils[0]*wp + kx*k.dils[1]
			}
		}
	}
	if per%2 == 1 {
		toff[per] = -1
	}
	ctx.Parallel(g.batch*k.group*nblk, 1, func(lo, hi int) {
		cols := make([]int32, p.pairs*convTileN)
		var out [convTileOut]int32
		var acc [convTileM * convTileN]int64
		var base [convTileN]int
		for u := lo; u < hi; u++ {
			b, rest := u/(k.group*nblk), u%(k.group*nblk)
			grp, n0 := rest/nblk, rest%nblk*convTileN
			valid := min(convTileN, n-n0)
			// im2col of pixels n0 .. n0+31: cols[pair·32 + pixel] holds
			// the pixel's inputs at the pair's two taps. Pixels beyond
			// the last repeat the first: their lanes are not read.
			plane0 := (b*g.c + grp*k.cg) * hp * wp
			for i := range base {
				q := n0 + min(i, valid-1)
				base[i] = plane0 + q/g.ow*k.strides[0]*wp + q%g.ow*k.strides[1]
			}
			for j := 0; j < p.pairs; j++ {
				o0, o1 := toff[2*j], toff[2*j+1]
				dst := cols[j*convTileN : (j+1)*convTileN]
				if o1 < 0 {
					for i, bi := range base {
						dst[i] = pairWord(xp[bi+o0], 0)
					}
					continue
				}
				for i, bi := range base {
					dst[i] = pairWord(xp[bi+o0], xp[bi+o1])
				}
			}
			for blk := 0; blk < p.blocks; blk++ {
				a := p.a[(grp*p.blocks+blk)*p.pairs*convTileM*2 : (grp*p.blocks+blk+1)*p.pairs*convTileM*2]
				chunks := (p.pairs + convChunkPairs - 1) / convChunkPairs
				step := (p.pairs + chunks - 1) / chunks
				for j0 := 0; j0 < p.pairs; j0 += step {
					np := min(step, p.pairs-j0)
					convTile(a[j0*convTileM*2:(j0+np)*convTileM*2], cols[j0*convTileN:(j0+np)*convTileN], np, &out)
					for r := 0; r < convTileM; r++ {
						hs, ls := out[r*2*convTileN:(r*2+1)*convTileN], out[(r*2+1)*convTileN:(r*2+2)*convTileN]
						as := acc[r*convTileN : (r+1)*convTileN]
						if j0 == 0 {
							for i := range as {
								as[i] = 256*int64(hs[i]) + int64(ls[i])
							}
						} else {
							for i := range as {
								as[i] += 256*int64(hs[i]) + int64(ls[i])
							}
						}
					}
				}
				for r := 0; r < convTileM; r++ {
					mm := blk*convTileM + r
					if mm >= mg {
						break
					}
					m := grp*mg + mm
					bias, scale := k.bias[m], k.accScale[m]
					ym := y[(b*k.m+m)*n+n0 : (b*k.m+m)*n+n0+valid]
					as := acc[r*convTileN : r*convTileN+valid]
					for i, s := range as {
						ym[i] = float32(float64(sat32(bias+s)) * scale)
					}
				}
			}
		}
	})
}

// convTileGo is the Go twin of the GEMM kernel: for convTileM channels
// and convTileN pixels, the int32 sums over np pairs of a's high and low
// pair words times the pixels' pair words, into out.
func convTileGo(a, b []int32, np int, out *[convTileOut]int32) {
	*out = [convTileOut]int32{}
	for j := 0; j < np; j++ {
		aw := a[j*convTileM*2 : (j+1)*convTileM*2]
		bw := b[j*convTileN : (j+1)*convTileN]
		for r := 0; r < convTileM; r++ {
			for hl := 0; hl < 2; hl++ {
				w := aw[r*2+hl]
				w0, w1 := int32(int16(w)), int32(w>>16)
				o := out[(r*2+hl)*convTileN : (r*2+hl+1)*convTileN]
				for i, x := range bw {
					o[i] += w0*int32(int16(x)) + w1*(x>>16)
				}
			}
		}
	}
}
