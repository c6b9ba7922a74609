package kernels

// Winograd's F(4×4, 3×3): each 4×4 tile of outputs is computed from
// the 6×6 patch of input around it, 36 products per input and output
// channel instead of 144. The transforms use the points 0, ±1, ±2 and
// ∞ (Lavin and Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016):
//
//	Bᵀ = [4  0 -5  0 1 0]   G = [ 1/4     0    0]   Aᵀ = [1 1  1 1  1 0]
//	     [0 -4 -4  1 1 0]       [-1/6 -1/6 -1/6]        [0 1 -1 2 -2 0]
//	     [0  4 -4 -1 1 0]       [-1/6  1/6 -1/6]        [0 1  1 4  4 0]
//	     [0 -2 -1  2 1 0]       [1/24 1/12  1/6]        [0 1 -1 8 -8 1]
//	     [0  2 -1 -2 1 0]       [1/24 -1/12 1/6]
//	     [0  4  0 -5 0 1]       [   0    0    1]
//
// Every multiplication in the transforms is by a power of two (exact)
// except those by 5, so the kernels' results depend only on where they
// round: the input kernel rounds every product on its own (VMULPS, then
// the addition), the output kernel fuses its products by 2, 4 and 8
// into their additions (VFMADD231PS, which differs from rounding the
// product alone only where that product overflows). The Go twins below
// say so explicitly, so that the Go compiler, which may fuse x*y+z,
// cannot change their bits.

// transformWeights4 sets t to G·g·Gᵀ for the 3×3 kernel g (row-major),
// value 6i+j at t[6i+j], computed in float64 and rounded once.
func transformWeights4(t *[36]float32, g []float32) {
	var gg [6][3]float64 // G·g
	for j := 0; j < 3; j++ {
		g0, g1, g2 := float64(g[j]), float64(g[3+j]), float64(g[6+j])
		gg[0][j] = g0 / 4
		gg[1][j] = -(g0 + g1 + g2) / 6
		gg[2][j] = -(g0 - g1 + g2) / 6
		gg[3][j] = g0/24 + g1/12 + g2/6
		gg[4][j] = g0/24 - g1/12 + g2/6
		gg[5][j] = g2
	}
	for i := 0; i < 6; i++ {
		r0, r1, r2 := gg[i][0], gg[i][1], gg[i][2]
		t[6*i] = float32(r0 / 4)
		t[6*i+1] = float32(-(r0 + r1 + r2) / 6)
		t[6*i+2] = float32(-(r0 - r1 + r2) / 6)
		t[6*i+3] = float32(r0/24 + r1/12 + r2/6)
		t[6*i+4] = float32(r0/24 - r1/12 + r2/6)
		t[6*i+5] = float32(r2)
	}
}

// wg4In is Bᵀ·d for six values d (a row or a column of a patch), in
// the kernels' order of operations.
func wg4In(d *[6]float32) [6]float32 {
	d0, d1, d2, d3, d4, d5 := d[0], d[1], d[2], d[3], d[4], d[5]
	// float32(k*x) rounds the product on its own (a conversion is never
	// fused).
	a := d4 - float32(4*d2)
	b := d3 - float32(4*d1)
	c := d4 - d2
	e := d3 - d1
	return [6]float32{
		(float32(4*d0) + d4) - float32(5*d2),
		a + b,
		a - b,
		c + float32(2*e),
		c - float32(2*e),
		(float32(4*d1) + d5) - float32(5*d3),
	}
}

// wg4Out is Aᵀ·m for six values m (a row or a column of a tile's
// products), in the kernels' order of operations.
func wg4Out(m *[6]float32) [4]float32 {
	s := m[1] + m[2]
	d := m[1] - m[2]
	s2 := m[3] + m[4]
	d2 := m[3] - m[4]
	return [4]float32{
		(m[0] + s) + s2,
		fusedPow2(d, 2, d2),
		fusedPow2(s, 4, s2),
		fusedPow2(d, 8, d2) + m[5],
	}
}

// fusedPow2 is x + k·y rounded once, k a power of two, as a fused
// multiply-add gives it: in float64 k·y is exact and the sum, rounded
// to 53 bits and then to 24, is rounded as if once (53 ≥ 2·24+2).
func fusedPow2(x, k, y float32) float32 {
	return float32(float64(x) + float64(k)*float64(y))
}

// wg4Reach is how far from column -1 the F(4×4) input kernel may read a
// row of n tiles: columns -1 to wg4Reach(n)-1, past the last group's
// patches (4·t0-1 to 4·t0+32 for its first tile t0).
func wg4Reach(n int) int { return 4*((n-1)&^7) + 36 }

// wg4InputRows and wg4OutputRows run the F(4×4) row transforms: the
// assembly kernels when the CPU has them (wg4Asm), else the Go twins.
// An input kernel transforms the n tiles of a row of tiles of chans
// channels: channel i's six input rows are rows[k][i·cs[k]:] (cs[k]
// 0: one row for all, such as the zero row) and its 36 values go to
// dst[i·ds+p·ps+t]. An output kernel transforms chans channels'
// products back: channel i's from src[i·ss+p·ps+t], into the rows
// y[r][i·ys:] (y[r] nil past the image's last row), with bias[i]
// (bias nil: none) and the addend rows add[r][i·ys:] (nil: none); back
// lets the kernel go through the channels backwards (wg4OutputAsm).
func wg4InputRows(rows *[6][]float32, cs *[6]int, chans, w, n int, dst []float32, ds, ps int) {
	if wg4Asm {
		wg4InputAsm(rows, cs, chans, w, n, dst, ds, ps)
		return
	}
	wg4InputGo(rows, cs, chans, w, n, dst, ds, ps)
}

func wg4OutputRows(src []float32, ps, n, w int, y, add *[4][]float32, bias []float32, relu bool, chans, ss, ys int, back bool) {
	if wg4Asm {
		wg4OutputAsm(src, ps, n, w, y, add, bias, relu, chans, ss, ys, back)
		return
	}
	wg4OutputGo(src, ps, n, w, y, add, bias, relu, chans, ss, ys)
}

// wg4InputGo is the Go twin of the input kernel: tile t's patch is
// columns 4t-1 to 4t+4 of the six input rows (zero outside [0, w)); each
// of its rows goes through wg4In, then each column of the result, and
// value 6i+j (i of the columns' transform, j of the rows') goes to
// dst[(6i+j)·ps+t]. The assembly twin stores whole groups of 8 tiles,
// up to 7 past n.
func wg4InputGo(rows *[6][]float32, cs *[6]int, chans, w, n int, dst []float32, ds, ps int) {
	for i := 0; i < chans; i++ {
		var one [6][]float32
		for k := range one {
			one[k] = rows[k][i*cs[k] : i*cs[k]+w]
		}
		wg4InputOne(&one, w, n, dst[i*ds:], ps)
	}
}

func wg4InputOne(rows *[6][]float32, w, n int, dst []float32, ps int) {
	for t := 0; t < n; t++ {
		var h [6][6]float32 // rows transformed
		for i := 0; i < 6; i++ {
			var d [6]float32
			for j := range d {
				if x := 4*t - 1 + j; x >= 0 && x < w {
					d[j] = rows[i][x]
				}
			}
			h[i] = wg4In(&d)
		}
		for j := 0; j < 6; j++ {
			col := [6]float32{h[0][j], h[1][j], h[2][j], h[3][j], h[4][j], h[5][j]}
			v := wg4In(&col)
			for i, x := range v {
				dst[(6*i+j)*ps+t] = x
			}
		}
	}
}

// wg4OutputGo is the Go twin of the output kernel: the 36 products of
// tile t (product p at src[p·ps+t]) go through wg4Out by columns (6
// columns of 4), then each of the 4 rows of the result through wg4Out,
// into columns 4t to 4t+3 of the output rows, those past w dropped:
// bias added, then the addend when not nil, then clamped at zero when
// relu (max(v, 0), NaN kept).
func wg4OutputGo(src []float32, ps, n, w int, y, add *[4][]float32, bias []float32, relu bool, chans, ss, ys int) {
	for i := 0; i < chans; i++ {
		var b float32
		if bias != nil {
			b = bias[i]
		}
		var yy, aa [4][]float32
		for r := range yy {
			yy[r], aa[r] = rowAt(y[r], i*ys, w), rowAt(add[r], i*ys, w)
		}
		wg4OutputOne(src[i*ss:], ps, n, w, &yy, &aa, b, relu)
	}
}

func wg4OutputOne(src []float32, ps, n, w int, y, add *[4][]float32, bias float32, relu bool) {
	for t := 0; t < n; t++ {
		var s [4][6]float32 // columns transformed
		for j := 0; j < 6; j++ {
			var col [6]float32
			for i := range col {
				col[i] = src[(6*i+j)*ps+t]
			}
			v := wg4Out(&col)
			for r, x := range v {
				s[r][j] = x
			}
		}
		for r := 0; r < 4; r++ {
			if y[r] == nil {
				continue
			}
			v := wg4Out(&s[r])
			for c := 0; c < 4 && 4*t+c < w; c++ {
				x := v[c] + bias
				if add[r] != nil {
					x += add[r][4*t+c]
				}
				if relu && x < 0 {
					x = 0
				}
				y[r][4*t+c] = x
			}
		}
	}
}
