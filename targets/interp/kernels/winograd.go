package kernels

import "fmt"

// Winograd runs a 3×3 convolution of stride 1, dilation 1 and padding 1
// on every side (a "same" 3×3 convolution, one group) as Winograd's
// F(2×2, 3×3) or F(4×4, 3×3). In F(2×2, 3×3) each 2×2 block of outputs
// (a tile) is computed from the 4×4 patch of input around it with 16
// multiplications per input and output channel instead of 36; in
// F(4×4, 3×3) each 4×4 tile from its 6×6 patch with 36 instead of 144
// (see winograd4.go). The patch is transformed (Bᵀ·d·B), multiplied by
// the transformed weights (G·g·Gᵀ, once at compile time) in 16 (36)
// products of the output channels × input channels matrix by the input
// channels × tiles one (PackedA.MulOffsets), and the products of each
// tile are transformed back (Aᵀ·m·A).
//
// The sums are not those of the direct convolution: the transforms
// regroup them, so results differ from DirectConv's in the last bits
// (within 8 float32 roundings of the sum of the terms' magnitudes; see
// TestWinogradMatchesReference). Tiles are processed a chunk of tile
// rows at a time (of one image or several), the chunk sized to keep its
// transformed inputs and products in L2. The transforms are AVX2
// kernels, bit for bit their Go twins.
//
// A Winograd is immutable and safe for concurrent use; each goroutine
// passes its own scratch buffer (ScratchSize) to Run.
type Winograd struct {
	C, M   int // input and output channels
	H, W   int // image rows and columns
	e      int // tile size: 2 or 4 outputs a side
	th, tw int // tile rows and columns of an image
	// u holds the (e+2)² transformed weight matrices (M×C), packed.
	u []*PackedA
	// rows is how many tile rows a chunk holds; stride the row stride of
	// the transformed inputs and products of a chunk (columns of tiles).
	rows, stride int
	// inPS and outPS are how far apart the transformed inputs and the
	// products of one position are: a cache line more than their
	// channels take, so that the 16 streams of a transform do not fall
	// into one L1 set (a power of two apart they do, and it ran 3-4
	// times slower).
	inPS, outPS int
	offs        []int // rows of a transformed input: k·stride
	// zero is a row of zeros (the padding above and below the image)
	// from index 1, readable from column -1 to reach(tw).
	zero []float32
}

// wgReach is the last column of a row of n tiles that the input
// transform's kernel reads (from column -1): 2·t0+16 for the last group
// of 8 tiles, t0.
func wgReach(n int) int { return 2*((n-1)&^7) + 16 }

// winogradL2 bounds the transformed inputs and products of a chunk
// (16·(C+M) values a tile).
const winogradL2 = 256 << 10

// WinogradAvailable reports whether Winograd has vector kernels on this
// CPU (AVX2 and FMA): without them the transforms cost more than the
// multiplications they save.
func WinogradAvailable() bool { return hasAVX2FMA && !hasAVX512 }

// WinogradTile is the tile size Winograd convolutions take on this CPU
// and build: 4, F(4×4, 3×3), where its AVX2 kernels exist, else 2,
// F(2×2, 3×3). It does not change with UseAssembly: the Go twins give
// the kernels' bits.
func WinogradTile() int {
	if wg4Kernels && WinogradAvailable() {
		return 4
	}
	return 2
}

// NewWinograd returns the F(tile×tile, 3×3) form (tile 2 or 4) of the
// convolution of images of h×w with weights wt, laid out [m][c][3][3].
func NewWinograd(wt []float32, m, c, h, w, tile int) (*Winograd, error) {
	if m < 1 || c < 1 || h < 1 || w < 1 {
		return nil, fmt.Errorf("winograd: %d outputs, %d inputs, %d×%d image", m, c, h, w)
	}
	if len(wt) < m*c*9 {
		return nil, fmt.Errorf("winograd: %d weights for %d×%d×3×3", len(wt), m, c)
	}
	if tile != 2 && tile != 4 {
		return nil, fmt.Errorf("winograd: tiles of %d, not 2 or 4", tile)
	}
	g := &Winograd{C: c, M: m, H: h, W: w, e: tile, th: (h + tile - 1) / tile, tw: (w + tile - 1) / tile}
	np := (tile + 2) * (tile + 2)
	u := make([]float32, np*m*c)
	for o := 0; o < m; o++ {
		for i := 0; i < c; i++ {
			var t []float32
			if tile == 2 {
				var t2 [16]float32
				transformWeights(&t2, wt[(o*c+i)*9:])
				t = t2[:]
			} else {
				var t4 [36]float32
				transformWeights4(&t4, wt[(o*c+i)*9:])
				t = t4[:]
			}
			for p, v := range t {
				u[(p*m+o)*c+i] = v
			}
		}
	}
	g.u = make([]*PackedA, np)
	for p := range g.u {
		pa, err := PackA(m, c, u[p*m*c:], c, false, 1)
		if err != nil {
			return nil, err
		}
		g.u[p] = pa
	}
	tiles := min(max(winogradL2/(4*np*(c+m)), 32), 256)
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
	g.zero = make([]float32, g.reach(g.tw)+2)
	return g, nil
}

// transformWeights sets t to G·g·Gᵀ for the 3×3 kernel g (row-major),
// computed in float64 and rounded once.
func transformWeights(t *[16]float32, g []float32) {
	var gg [4][3]float64 // G·g
	for j := 0; j < 3; j++ {
		g0, g1, g2 := float64(g[j]), float64(g[3+j]), float64(g[6+j])
		gg[0][j] = g0
		gg[1][j] = (g0 + g1 + g2) / 2
		gg[2][j] = (g0 - g1 + g2) / 2
		gg[3][j] = g2
	}
	for i := 0; i < 4; i++ {
		r0, r1, r2 := gg[i][0], gg[i][1], gg[i][2]
		t[4*i] = float32(r0)
		t[4*i+1] = float32((r0 + r1 + r2) / 2)
		t[4*i+2] = float32((r0 - r1 + r2) / 2)
		t[4*i+3] = float32(r2)
	}
}

// ScratchSize is the length of the scratch buffer Run needs.
func (g *Winograd) ScratchSize() int {
	return len(g.u)*(g.inPS+g.outPS) + (g.e+2)*g.padLen()
}

// reach is wgReach or wg4Reach, by the tile size.
func (g *Winograd) reach(n int) int {
	if g.e == 4 {
		return wg4Reach(n)
	}
	return wgReach(n)
}

// padLen is the length of a padded copy of an input row: columns -1 to
// reach(tw), the row from index 1.
func (g *Winograd) padLen() int { return g.reach(g.tw) + 2 }

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
	np := len(g.u)
	in, prod := buf[:np*g.inPS], buf[np*g.inPS:np*(g.inPS+g.outPS)]
	s := getScratch()
	defer putScratch(s)
	for k := k0; k < k1; k++ {
		r0, r1 := k*g.rows, min((k+1)*g.rows, n*g.th)
		g.input(x, r0, r1, in, buf[np*(g.inPS+g.outPS):g.ScratchSize()])
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
// reach(tw): a row of tiles whose rows lie too close to either end of
// x for that goes a channel at a time, those rows copied into pad
// first, between zeros.
func (g *Winograd) input(x []float32, r0, r1 int, in, pad []float32) {
	hw, reach, pl, nrows := g.H*g.W, g.reach(g.tw), g.padLen(), g.e+2
	for r := r0; r < r1; r++ {
		im, ty := r/g.th, r%g.th
		dst := in[(r-r0)*g.tw:]
		var rows [6][]float32
		var cs [6]int
		safe := true
		for k := range nrows {
			rows[k], cs[k] = g.zero[1:], 0
			if y := g.e*ty - 1 + k; y >= 0 && y < g.H {
				off := im*g.C*hw + y*g.W
				last := off + (g.C-1)*hw
				rows[k], cs[k] = x[off:last+g.W], hw
				safe = safe && off >= 1 && last+reach < len(x)
			}
		}
		if safe {
			g.inputRows(&rows, &cs, g.C, dst)
			continue
		}
		for i := 0; i < g.C; i++ {
			var one [6][]float32
			for k := range nrows {
				one[k] = g.zero[1:]
				if cs[k] == 0 {
					continue
				}
				off := im*g.C*hw + (g.e*ty-1+k)*g.W + i*hw
				p := pad[k*pl : (k+1)*pl]
				clear(p)
				copy(p[1:], x[off:off+g.W])
				one[k] = p[1 : 1+g.W]
			}
			g.inputRows(&one, &[6]int{}, 1, dst[i*g.stride:])
		}
	}
}

// inputRows runs the input kernel of the tile size on the first e+2
// rows.
func (g *Winograd) inputRows(rows *[6][]float32, cs *[6]int, chans int, dst []float32) {
	if g.e == 4 {
		wg4InputRows(rows, cs, chans, g.W, g.tw, dst, g.stride, g.inPS)
		return
	}
	wgInputRows((*[4][]float32)(rows[:4]), (*[4]int)(cs[:4]), chans, g.W, g.tw, dst, g.stride, g.inPS)
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
		for k := range g.e {
			if g.e*ty+k >= g.H {
				break
			}
			base := im*g.M*hw + (g.e*ty+k)*g.W
			ys[k] = y[base : base+span]
			if ep.Add != nil {
				as[k] = ep.Add[base : base+span]
			}
		}
		src := prod[(r-r0)*g.tw:]
		if g.e == 4 {
			wg4OutputRows(src, g.outPS, g.tw, g.W, &ys, &as, bias, ep.ReLU, g.M, g.stride, hw, (r-r0)%2 == 1)
			continue
		}
		wgOutputRows(src, g.outPS, g.tw, g.W, ys[0], ys[1], bias, as[0], as[1], ep.ReLU, g.M, g.stride, hw)
	}
}

// winogradAsm reports whether the AVX2 row transforms are to run
// (wgInputAsm, wgOutputAsm) rather than their Go twins.
func winogradAsm(on bool) bool { return on && hasAVX2FMA && !hasAVX512 }

// wgInputRows and wgOutputRows run the row transforms: the assembly
// kernels when the CPU has them (wgAsm), else the Go twins. The calls
// are direct, not through function values: the arrays rows and cs
// would escape to the heap through one (an allocation per call).
//
// An input kernel transforms the n tiles of a row of tiles of chans
// channels: channel i's four input rows are rows[k][i·cs[k]:] (cs[k]
// 0: one row for all, such as the zero row) and its values go to
// dst[i·ds:]. An output kernel transforms chans channels' products
// back: channel i's from src[i·ss:], into y0[i·ys:] and y1[i·ys:] (y1
// nil: one row), with bias[i] (bias nil: none) and the addend rows
// a0[i·ys:] and a1[i·ys:] (nil: none).
func wgInputRows(rows *[4][]float32, cs *[4]int, chans, w, n int, dst []float32, ds, ps int) {
	if wgAsm {
		wgInputAsm(rows, cs, chans, w, n, dst, ds, ps)
		return
	}
	wgInputGo(rows, cs, chans, w, n, dst, ds, ps)
}

func wgOutputRows(src []float32, ps, n, w int, y0, y1, bias, a0, a1 []float32, relu bool, chans, ss, ys int) {
	if wgAsm {
		wgOutputAsm(src, ps, n, w, y0, y1, bias, a0, a1, relu, chans, ss, ys)
		return
	}
	wgOutputGo(src, ps, n, w, y0, y1, bias, a0, a1, relu, chans, ss, ys)
}

// wgInputGo is the Go twin of the input kernel: tile t's patch is
// columns 2t-1 to 2t+2 of the four input rows (zero outside [0, w)),
// and its 16 transformed values go to dst[p·ps+t]. The assembly twin
// stores whole groups of 8 tiles, up to 7 past n.
func wgInputGo(rows *[4][]float32, cs *[4]int, chans, w, n int, dst []float32, ds, ps int) {
	for i := 0; i < chans; i++ {
		var one [4][]float32
		for k := range one {
			one[k] = rows[k][i*cs[k] : i*cs[k]+w]
		}
		wgInputOne(&one, w, n, dst[i*ds:], ps)
	}
}

func wgInputOne(rows *[4][]float32, w, n int, dst []float32, ps int) {
	at := func(r []float32, x int) float32 {
		if x < 0 || x >= w {
			return 0
		}
		return r[x]
	}
	for t := 0; t < n; t++ {
		var d [4][4]float32
		for i := 0; i < 4; i++ {
			for j := 0; j < 4; j++ {
				d[i][j] = at(rows[i], 2*t-1+j)
			}
		}
		// Bᵀ·d (rows), then ·B (columns).
		var e [4][4]float32
		for j := 0; j < 4; j++ {
			e[0][j] = d[0][j] - d[2][j]
			e[1][j] = d[1][j] + d[2][j]
			e[2][j] = d[2][j] - d[1][j]
			e[3][j] = d[1][j] - d[3][j]
		}
		for i := 0; i < 4; i++ {
			dst[(4*i)*ps+t] = e[i][0] - e[i][2]
			dst[(4*i+1)*ps+t] = e[i][1] + e[i][2]
			dst[(4*i+2)*ps+t] = e[i][2] - e[i][1]
			dst[(4*i+3)*ps+t] = e[i][1] - e[i][3]
		}
	}
}

// wgOutputGo is the Go twin of the output kernel: the products of the n
// tiles of one channel (product p of tile t at src[p·ps+t]) become
// output rows y0 and y1 (nil past the image's last row), columns past w
// dropped: bias added, then the addend rows when not nil, then clamped
// at zero when relu (max(v, 0), NaN kept).
func wgOutputGo(src []float32, ps, n, w int, y0, y1, bias, a0, a1 []float32, relu bool, chans, ss, ys int) {
	for i := 0; i < chans; i++ {
		var b float32
		if bias != nil {
			b = bias[i]
		}
		wgOutputOne(src[i*ss:], ps, n, w, y0[i*ys:i*ys+w], rowAt(y1, i*ys, w), b, rowAt(a0, i*ys, w), rowAt(a1, i*ys, w), relu)
	}
}

// rowAt is s[at:at+w], or nil for nil.
func rowAt(s []float32, at, w int) []float32 {
	if s == nil {
		return nil
	}
	return s[at : at+w]
}

func wgOutputOne(src []float32, ps, n, w int, y0, y1 []float32, bias float32, a0, a1 []float32, relu bool) {
	for t := 0; t < n; t++ {
		var m [4][4]float32
		for i := 0; i < 4; i++ {
			for j := 0; j < 4; j++ {
				m[i][j] = src[(4*i+j)*ps+t]
			}
		}
		// Aᵀ·m (rows), then ·A (columns).
		var s [2][4]float32
		for j := 0; j < 4; j++ {
			s[0][j] = m[0][j] + m[1][j] + m[2][j]
			s[1][j] = m[1][j] - m[2][j] - m[3][j]
		}
		for r, yr := range [2][]float32{y0, y1} {
			if yr == nil {
				continue
			}
			v := [2]float32{s[r][0] + s[r][1] + s[r][2], s[r][1] - s[r][2] - s[r][3]}
			ar := a0
			if r == 1 {
				ar = a1
			}
			for c := 0; c < 2 && 2*t+c < w; c++ {
				x := v[c] + bias
				if ar != nil {
					x += ar[2*t+c]
				}
				if relu && x < 0 {
					x = 0
				}
				yr[2*t+c] = x
			}
		}
	}
}
