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
//
// # The direct path
//
// For stride 1 (any dilation) and at least two input channels per group,
// runFast skips im2col: taps pair the same (ky, kx) of channels 2c and
// 2c+1, and the input is stored once as pair words of those channels,
// zero-padded, on rows of the padded width wp. Output pixel (oy, ox) is
// then the virtual position q = oy·wp + ox, and the 32 pair words a tap
// needs for positions q0..q0+31 are 32 consecutive words at the tap's
// offset from q0: the kernel loads them in place. Positions with ox ≥ ow
// (and beyond the last row) read whatever follows and are not written
// out. The sum over the taps is the same exact sum in another order.

// Tile geometry of the GEMM kernel: convTileM output channels by
// convTileN output pixels, over pairs of taps.
const (
	convTileM = 4
	convTileN = 32
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
	pairs  int     // tap pairs per channel
	blocks int     // channel blocks of convTileM per group
	a      []int32 // [group][block][pair][channel][high, low] pair words
}

// useDirectConv lets runFast take the direct path where it applies;
// tests switch it off to run im2col on the same layers.
var useDirectConv = true

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
// when the fast path would not be exact. Pairs of im2col are taps 2j and
// 2j+1 of the channel's cg·kh·kw; where the direct path applies, k.packD
// holds them paired as channels 2c, 2c+1 at the same (ky, kx).
func (k *conv) packFast() {
	if !k.fastBound() {
		return
	}
	per := k.cg * k.kh * k.kw
	k.pack = k.packWeights((per+1)/2, func(j, h int) int {
		if t := 2*j + h; t < per {
			return t
		}
		return -1
	})
	if k.strides != [2]int{1, 1} || k.cg < 2 {
		return
	}
	khw := k.kh * k.kw
	k.packD = k.packWeights((k.cg+1)/2*khw, func(j, h int) int {
		if ci := 2*(j/khw) + h; ci < k.cg {
			return ci*khw + j%khw
		}
		return -1
	})
}

// packWeights packs pairs tap pairs per channel: tap(j, h) is the index
// in the channel's weights of half h of pair j, -1 for a zero.
func (k *conv) packWeights(pairs int, tap func(j, h int) int) *convPack {
	per := k.cg * k.kh * k.kw
	mg := k.m / k.group
	p := &convPack{pairs: pairs, blocks: (mg + convTileM - 1) / convTileM}
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
					var w [2]int16
					for h := range w {
						if t := tap(j, h); t >= 0 {
							w[h] = wm[t]
						}
					}
					h0, l0 := splitWeight(w[0])
					h1, l1 := splitWeight(w[1])
					o := base + (j*convTileM+r)*2
					p.a[o], p.a[o+1] = pairWord(h0, h1), pairWord(l0, l1)
				}
			}
		}
	}
	return p
}

// convGeom is one run's geometry.
type convGeom struct {
	batch, c, h, wd, ph, pw, oh, ow int
}

// runFast computes y from the int16 input xi with the packed weights:
// on the direct path when k.direct(g), with im2col otherwise.
func (k *conv) runFast(ctx *ops.Context, xi []int16, y []float32, g convGeom) {
	if k.direct(g) {
		k.runDirect(ctx, xi, y, g)
		return
	}
	k.runIm2col(ctx, xi, y, g)
}

// padded returns the height and width of the zero-padded input planes:
// large enough for every tap of every output pixel.
func (k *conv) padded(g convGeom) (hp, wp int) {
	hp = max(g.ph+g.h, (g.oh-1)*k.strides[0]+(k.kh-1)*k.dils[0]+1)
	wp = max(g.pw+g.wd, (g.ow-1)*k.strides[1]+(k.kw-1)*k.dils[1]+1)
	return hp, wp
}

// direct reports whether runFast takes the direct path for g: where it
// applies, unless its positions past each row's end (wp - ow of every
// wp) make it half again as many pixel blocks as im2col.
func (k *conv) direct(g convGeom) bool {
	if !useDirectConv || k.packD == nil {
		return false
	}
	_, wp := k.padded(g)
	return 2*convBlocks(g.oh*wp) <= 3*convBlocks(g.oh*g.ow)
}

// convBlocks is the blocks of convTileN pixels n pixels take.
func convBlocks(n int) int { return (n + convTileN - 1) / convTileN }

// tileSums leaves in acc the exact sums of channel block a (all its
// pairs) for the block's pixels, whose pair words for pair j are
// b[offs[j]:][:convTileN]: kernel calls of at most convChunkPairs pairs
// combined in int64.
func tileSums(a, b, offs []int32, acc *[convTileM * convTileN]int64) {
	*acc = [convTileM * convTileN]int64{}
	pairs := len(offs)
	chunks := (pairs + convChunkPairs - 1) / convChunkPairs
	step := (pairs + chunks - 1) / chunks
	for j0 := 0; j0 < pairs; j0 += step {
		np := min(step, pairs-j0)
		convTile(a[j0*convTileM*2:(j0+np)*convTileM*2], b, offs[j0:j0+np], acc)
	}
}

// tileRun is pixels i0..i1-1 of a block, output pixels d0.. .
type tileRun struct{ i0, i1, d0 int }

// tileRuns returns the runs of a block's pixels whose output pixel
// dst(i) ≥ 0 is the previous one's plus 1.
func tileRuns(runs []tileRun, dst func(i int) int) []tileRun {
	runs = runs[:0]
	for i := 0; i < convTileN; i++ {
		d := dst(i)
		if d < 0 {
			continue
		}
		if l := len(runs) - 1; l >= 0 && runs[l].i1 == i && runs[l].d0+i-runs[l].i0 == d {
			runs[l].i1++
			continue
		}
		runs = append(runs, tileRun{i, i + 1, d})
	}
	return runs
}

// storeTile writes the outputs of channel block blk of group grp, image
// b: the sums acc of the pixels of runs.
func (k *conv) storeTile(y []float32, acc *[convTileM * convTileN]int64, runs []tileRun, b, grp, blk, n int) {
	mg := k.m / k.group
	for r := 0; r < convTileM; r++ {
		mm := blk*convTileM + r
		if mm >= mg {
			break
		}
		m := grp*mg + mm
		bias, scale := k.bias[m], k.accScale[m]
		ym := y[(b*k.m+m)*n : (b*k.m+m+1)*n]
		for _, run := range runs {
			accToFloats(ym[run.d0:run.d0+run.i1-run.i0], acc[r*convTileN+run.i0:r*convTileN+run.i1], bias, scale)
		}
	}
}

// runIm2col is the fast path with im2col: each block of 32 output
// pixels gathers its pair words, then runs the kernel over them.
func (k *conv) runIm2col(ctx *ops.Context, xi []int16, y []float32, g convGeom) {
	p := k.pack
	n := g.oh * g.ow
	nblk := convBlocks(n)
	hp, wp := k.padded(g)
	// xp is xi with zero padding around each plane: im2col then needs
	// no bounds checks.
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
	// The kernel reads pair j's words at cols[32·j:].
	offs := make([]int32, p.pairs)
	for j := range offs {
		offs[j] = int32(j * convTileN)
	}
	ctx.Parallel(g.batch*k.group*nblk, 1, func(lo, hi int) {
		cols := make([]int32, p.pairs*convTileN)
		var acc [convTileM * convTileN]int64
		var base [convTileN]int
		runs := make([]tileRun, 0, convTileN)
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
			runs = append(runs[:0], tileRun{0, valid, n0})
			for j := 0; j < p.pairs; j++ {
				o0, o1 := toff[2*j], toff[2*j+1]
				col := cols[j*convTileN : (j+1)*convTileN]
				if o1 < 0 {
					for i, bi := range base {
						col[i] = pairWord(xp[bi+o0], 0)
					}
					continue
				}
				for i, bi := range base {
					col[i] = pairWord(xp[bi+o0], xp[bi+o1])
				}
			}
			for blk := 0; blk < p.blocks; blk++ {
				a := p.a[(grp*p.blocks+blk)*p.pairs*convTileM*2 : (grp*p.blocks+blk+1)*p.pairs*convTileM*2]
				tileSums(a, cols, offs, &acc)
				k.storeTile(y, &acc, runs, b, grp, blk, n)
			}
		}
	})
}

// runDirect is the fast path without im2col (see "The direct path"):
// the kernel reads the pair words of 32 consecutive positions of the
// channel-pair planes at each tap's offset.
func (k *conv) runDirect(ctx *ops.Context, xi []int16, y []float32, g convGeom) {
	p := k.packD
	n := g.oh * g.ow
	hp, wp := k.padded(g)
	nv := g.oh * wp // virtual positions, ow valid of every wp
	nblk := convBlocks(nv)
	cp := (k.cg + 1) / 2 // channel pairs per group
	plane := hp * wp
	khw := k.kh * k.kw
	// offs is each pair's offset from its block's first position.
	offs := make([]int32, p.pairs)
	for c := 0; c < cp; c++ {
		for ky := 0; ky < k.kh; ky++ {
			for kx := 0; kx < k.kw; kx++ {
				offs[c*khw+ky*k.kw+kx] = int32(c*plane + ky*k.dils[0]*wp + kx*k.dils[1])
			}
		}
	}
	// xp holds the pair words of channels 2c, 2c+1 of each group, zero
	// channel 2c+1 when cg is odd, zero-padded, plus room for the last
	// block's reads past the last plane.
	slack := nblk*convTileN + (k.kh-1)*k.dils[0]*wp + (k.kw-1)*k.dils[1]
	xp := make([]int32, g.batch*k.group*cp*plane+slack)
	for b := 0; b < g.batch; b++ {
		for grp := 0; grp < k.group; grp++ {
			for c := 0; c < cp; c++ {
				ci := grp*k.cg + 2*c
				pl := xp[((b*k.group+grp)*cp+c)*plane : ((b*k.group+grp)*cp+c+1)*plane]
				x0 := xi[(b*g.c+ci)*g.h*g.wd : (b*g.c+ci+1)*g.h*g.wd]
				var x1 []int16
				if 2*c+1 < k.cg {
					x1 = xi[(b*g.c+ci+1)*g.h*g.wd : (b*g.c+ci+2)*g.h*g.wd]
				}
				for iy := 0; iy < g.h; iy++ {
					row := pl[(g.ph+iy)*wp+g.pw : (g.ph+iy)*wp+g.pw+g.wd]
					r0 := x0[iy*g.wd : (iy+1)*g.wd]
					if x1 == nil {
						for ix, v := range r0 {
							row[ix] = pairWord(v, 0)
						}
						continue
					}
					r1 := x1[iy*g.wd : (iy+1)*g.wd]
					for ix, v := range r0 {
						row[ix] = pairWord(v, r1[ix])
					}
				}
			}
		}
	}
	ctx.Parallel(g.batch*k.group*nblk, 1, func(lo, hi int) {
		var acc [convTileM * convTileN]int64
		runs := make([]tileRun, 0, convTileN)
		for u := lo; u < hi; u++ {
			b, rest := u/(k.group*nblk), u%(k.group*nblk)
			grp, q0 := rest/nblk, rest%nblk*convTileN
			runs = tileRuns(runs, func(i int) int {
				if q := q0 + i; q < nv && q%wp < g.ow {
					return q/wp*g.ow + q%wp
				}
				return -1
			})
			xb := xp[(b*k.group+grp)*cp*plane+q0:]
			for blk := 0; blk < p.blocks; blk++ {
				a := p.a[(grp*p.blocks+blk)*p.pairs*convTileM*2 : (grp*p.blocks+blk+1)*p.pairs*convTileM*2]
				tileSums(a, xb, offs, &acc)
				k.storeTile(y, &acc, runs, b, grp, blk, n)
			}
		}
	})
}

// convTileGo is the Go twin of the GEMM kernel: for convTileM channels
// and convTileN pixels, the int32 sums H and L over the len(offs) pairs
// of a's high and low pair words times the pixels' pair words (pair j's
// at b[offs[j]:], offs ascending), and 256·H + L added to acc.
func convTileGo(a, b, offs []int32, acc *[convTileM * convTileN]int64) {
	var out [convTileM * 2 * convTileN]int32
	for j, off := range offs {
		if off < 0 || j > 0 && off < offs[j-1] {
			panic("gna: kernel offsets do not ascend")
		}
		aw := a[j*convTileM*2 : (j+1)*convTileM*2]
		bw := b[off : off+convTileN]
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
	for r := 0; r < convTileM; r++ {
		for i := 0; i < convTileN; i++ {
			acc[r*convTileN+i] += 256*int64(out[r*2*convTileN+i]) + int64(out[(r*2+1)*convTileN+i])
		}
	}
}
