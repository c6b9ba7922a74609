package kernels

import "fmt"

// Winograd runs a 3×3 convolution of stride 1, dilation 1 and padding 1
// on every side (a "same" 3×3 convolution, one group) as Winograd's
// F(4×4, 3×3): each 4×4 block of outputs (a tile) is computed from the
// 6×6 patch of input around it with 36 multiplications per input and
// output channel instead of 144. The patch is transformed (Bᵀ·d·B, see
// winograd4.go), multiplied by the transformed weights (G·g·Gᵀ, once at
// compile time) in 36 products of the output channels × input channels
// matrix by the input channels × tiles one (PackedA.MulOffsets), and the
// 36 products of each tile are transformed back (Aᵀ·m·A).
//
// The sums are not those of the direct convolution: the transforms
// regroup and scale them (by up to 8), so results differ from
// DirectConv's in the last bits (within 64 float32 roundings of the sum
// of the terms' magnitudes, about 30 in the worst case measured; see
// TestWinogradMatchesReference). Tiles are processed a chunk of tile
// rows at a time (of one image or several), the chunk sized to keep its
// transformed inputs and products in L2. The transforms are AVX2
// kernels, bit for bit their Go twins.
//
// F(4×4) replaced F(2×2, 3×3) (16 products of 2×2 tiles from 4×4
// patches): on resnet_fmnist's layers (batch 64, one thread, AVX2 on
// Zen 3) it took 2.11, 1.78 and 1.62 ms where F(2×2) took 2.62, 2.32 and
// 2.35 (16 channels of 28×28, 32 of 14×14, 64 of 7×7, three runs each,
// alternated), its products doing 0.56, 0.73 and 0.56 times the
// multiplications.
//
// A Winograd is immutable and safe for concurrent use; each goroutine
// passes its own scratch buffer (ScratchSize) to Run.
type Winograd struct {
	C, M   int // input and output channels
	H, W   int // image rows and columns
	th, tw int // tile rows and columns of an image
	// u holds the 36 transformed weight matrices (M×C), packed.
	u [36]*PackedA
	// rows is how many tile rows a chunk holds; stride the row stride of
	// the transformed inputs and products of a chunk (columns of tiles).
	rows, stride int
	// inPS and outPS are how far apart the transformed inputs and the
	// products of one position are: a cache line more than their
	// channels take, so that the 36 streams of a transform do not fall
	// into one L1 set (a power of two apart they do, and F(2×2)'s ran
	// 3-4 times slower).
	inPS, outPS int
	offs        []int // rows of a transformed input: k·stride
	// zero is a row of zeros (the padding above and below the image)
	// from index 1, readable from column -1 to wg4Reach(tw).
	zero []float32
}

// winogradL2 bounds the transformed inputs and products of a chunk
// (36·(C+M) values a tile).
const winogradL2 = 256 << 10

// WinogradAvailable reports whether Winograd has vector kernels on this
// CPU (AVX2 and FMA, with or without AVX-512): without them the
// transforms cost more than the multiplications they save. With AVX-512
// the transforms stay AVX2 and the products take the 32-column kernels,
// whose sums are the 16-column ones': every such CPU computes the same
// bits. On AVX-512 (Zen 5), resnet_fmnist's float inference takes a
// fifth less time than with the direct convolutions.
func WinogradAvailable() bool { return hasAVX2FMA }

// NewWinograd returns the F(4×4, 3×3) form of the convolution of images
// of h×w with weights wt, laid out [m][c][3][3].
func NewWinograd(wt []float32, m, c, h, w int) (*Winograd, error) {
	if m < 1 || c < 1 || h < 1 || w < 1 {
		return nil, fmt.Errorf("winograd: %d outputs, %d inputs, %d×%d image", m, c, h, w)
	}
	if len(wt) < m*c*9 {
		return nil, fmt.Errorf("winograd: %d weights for %d×%d×3×3", len(wt), m, c)
	}
	g := &Winograd{C: c, M: m, H: h, W: w, th: (h + 3) / 4, tw: (w + 3) / 4}
	u := make([]float32, 36*m*c)
	for o := 0; o < m; o++ {
		for i := 0; i < c; i++ {
			var t [36]float32
			transformWeights4(&t, wt[(o*c+i)*9:])
			for p, v := range t {
				u[(p*m+o)*c+i] = v
			}
		}
	}
	for p := range g.u {
		pa, err := PackA(m, c, u[p*m*c:], c, false, 1)
		if err != nil {
			return nil, err
		}
		g.u[p] = pa
	}
	tiles := min(max(winogradL2/(144*(c+m)), 32), 256)
	g.rows = max(1, tiles/g.tw)
	n := g.rows * g.tw
	// The input transform stores 8 tiles at a time (up to 7 past a row
	// of tiles) and the products read blocks of 16 columns.
	g.stride = max((n+15)/16*16, (n+7+7)/8*8)
	g.inPS, g.outPS = c*g.stride+16, m*g.stride+16
	g.offs = make([]int, c)
	for k := range g.offs {
		g.offs[k] = k * g.stride
	}
	g.zero = make([]float32, wg4Reach(g.tw)+2)
	return g, nil
}

// ScratchSize is the length of the scratch buffer Run needs.
func (g *Winograd) ScratchSize() int { return 36*(g.inPS+g.outPS) + 6*g.padLen() }

// padLen is the length of a padded copy of an input row: columns -1 to
// wg4Reach(tw), the row from index 1.
func (g *Winograd) padLen() int { return wg4Reach(g.tw) + 2 }

// Chunks is how many chunks of tile rows n images split into: Run
// computes a range of them, so that threads can share the images.
func (g *Winograd) Chunks(n int) int { return (n*g.th + g.rows - 1) / g.rows }

// Run computes chunks [k0, k1) of the convolution of the n images x
// (n×C×H×W) into y (n×M×H×W): each output is the biased sum, plus the
// addend ep.Add (laid out as y) when not nil, clamped at zero when
// ep.ReLU. buf is scratch of ScratchSize values.
func (g *Winograd) Run(x []float32, n, k0, k1 int, y []float32, ep Epilogue, buf []float32) error {
	img, out := g.C*g.H*g.W, g.M*g.H*g.W
	switch {
	case len(x) < n*img || len(y) < n*out:
		return fmt.Errorf("winograd: %d inputs and %d outputs for %d images of %d and %d", len(x), len(y), n, img, out)
	case ep.Add != nil && len(ep.Add) < n*out:
		return fmt.Errorf("winograd: addend of %d for %d outputs", len(ep.Add), n*out)
	case ep.Bias != nil && len(ep.Bias) < g.M:
		return fmt.Errorf("winograd: %d biases for %d outputs", len(ep.Bias), g.M)
	case len(buf) < g.ScratchSize():
		return fmt.Errorf("winograd: scratch of %d, need %d", len(buf), g.ScratchSize())
	case k0 < 0 || k1 > g.Chunks(n) || k0 > k1:
		return fmt.Errorf("winograd: chunks [%d, %d) of %d", k0, k1, g.Chunks(n))
	case ep.Accumulate || ep.Rows.Stride > 0:
		return fmt.Errorf("winograd: no accumulating or compacted stores")
	}
	in, prod := buf[:36*g.inPS], buf[36*g.inPS:36*(g.inPS+g.outPS)]
	s := getScratch()
	defer putScratch(s)
	for k := k0; k < k1; k++ {
		r0, r1 := k*g.rows, min((k+1)*g.rows, n*g.th)
		g.input(x, r0, r1, in, buf[36*(g.inPS+g.outPS):g.ScratchSize()])
		// Whole blocks of 16 columns: the ones past the chunk's tiles
		// (left from earlier chunks, or zero) cost less than a partial
		// block, which goes through a scratch tile.
		cols := ((r1-r0)*g.tw + 15) &^ 15
		for p, u := range g.u {
			// mulOffsets: MulOffsets without its checks (the offsets
			// are k·stride, k < C, and cols at most stride).
			mulOffsets(u.data, u.M, u.K, in[p*g.inPS:], g.offs, g.offs[g.C-1], cols, prod[p*g.outPS:], g.stride, nil, 0, ColumnRows{}, s)
		}
		g.output(prod, r0, r1, y, ep)
	}
	return nil
}

// input transforms the patches of tile rows [r0, r1) (of all the
// images) into in: value p of tile t of input channel i at
// in[p·inPS+i·stride+t]. The kernels read each row from column -1 to
// wg4Reach(tw): a row of tiles whose rows lie too close to either end of
// x for that goes a channel at a time, those rows copied into pad
// first, between zeros.
func (g *Winograd) input(x []float32, r0, r1 int, in, pad []float32) {
	hw, reach, pl := g.H*g.W, wg4Reach(g.tw), g.padLen()
	for r := r0; r < r1; r++ {
		im, ty := r/g.th, r%g.th
		dst := in[(r-r0)*g.tw:]
		var rows [6][]float32
		var cs [6]int
		safe := true
		for k := range rows {
			rows[k], cs[k] = g.zero[1:], 0
			if y := 4*ty - 1 + k; y >= 0 && y < g.H {
				off := im*g.C*hw + y*g.W
				last := off + (g.C-1)*hw
				rows[k], cs[k] = x[off:last+g.W], hw
				safe = safe && off >= 1 && last+reach < len(x)
			}
		}
		if safe {
			wg4InputRows(&rows, &cs, g.C, g.W, g.tw, dst, g.stride, g.inPS)
			continue
		}
		for i := 0; i < g.C; i++ {
			var one [6][]float32
			for k := range one {
				one[k] = g.zero[1:]
				if cs[k] == 0 {
					continue
				}
				off := im*g.C*hw + (4*ty-1+k)*g.W + i*hw
				p := pad[k*pl : (k+1)*pl]
				clear(p)
				copy(p[1:], x[off:off+g.W])
				one[k] = p[1 : 1+g.W]
			}
			wg4InputRows(&one, &[6]int{}, 1, g.W, g.tw, dst[i*g.stride:], g.stride, g.inPS)
		}
	}
}

// output transforms the products of tile rows [r0, r1) back into
// output rows of y, with the epilogue.
func (g *Winograd) output(prod []float32, r0, r1 int, y []float32, ep Epilogue) {
	hw, span := g.H*g.W, (g.M-1)*g.H*g.W+g.W
	var bias []float32
	if ep.Bias != nil {
		bias = ep.Bias[:g.M]
	}
	for r := r0; r < r1; r++ {
		im, ty := r/g.th, r%g.th
		var ys, as [4][]float32
		for k := range 4 {
			if 4*ty+k >= g.H {
				break
			}
			base := im*g.M*hw + (4*ty+k)*g.W
			ys[k] = y[base : base+span]
			if ep.Add != nil {
				as[k] = ep.Add[base : base+span]
			}
		}
		wg4OutputRows(prod[(r-r0)*g.tw:], g.outPS, g.tw, g.W, &ys, &as, bias, ep.ReLU, g.M, g.stride, hw, (r-r0)%2 == 1)
	}
}

// winogradAsm reports whether the AVX2 row transforms are to run
// (wg4InputAsm, wg4OutputAsm) rather than their Go twins.
func winogradAsm(on bool) bool { return on && WinogradAvailable() }

// rowAt is s[at:at+w], or nil for nil.
func rowAt(s []float32, at, w int) []float32 {
	if s == nil {
		return nil
	}
	return s[at : at+w]
}
