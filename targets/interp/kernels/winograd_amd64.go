//go:build amd64 && !noasm

package kernels

//go:noescape
func wg4InputAVX2(r0, r1, r2, r3, r4, r5 *float32, cs0, cs1, cs2, cs3, cs4, cs5, chans, w, n int, dst *float32, ds, ps int)

//go:noescape
func wg4OutputAVX2(src *float32, ps, n, w int, y, add *[4]*float32, rows int, bias *float32, bs int, win *[8]int32, flags, chans, ss, ys int)

// wg4InputAsm is wg4InputGo on wg4InputAVX2: dst must hold n rounded
// up to a multiple of 8 tiles for each value and channel (the kernel
// stores whole groups, and keeps values there before it is done with
// them), and the memory around each row from column -1 to column
// wg4Reach(n)-1 must be readable (the kernel reads it, and masks what
// lies outside [0, w)). Values or channels closer than that go to the
// Go twin.
func wg4InputAsm(rows *[6][]float32, cs *[6]int, chans, w, n int, dst []float32, ds, ps int) {
	if n <= 0 || chans <= 0 {
		return
	}
	if g := (n + 7) / 8 * 8; ps < g || chans > 1 && ds < g {
		wg4InputGo(rows, cs, chans, w, n, dst, ds, ps)
		return
	}
	_ = dst[(chans-1)*ds+35*ps+(n+7)/8*8-1]
	for k := range rows {
		_ = rows[k][(chans-1)*cs[k]+w-1]
	}
	wg4InputAVX2(&rows[0][0], &rows[1][0], &rows[2][0], &rows[3][0], &rows[4][0], &rows[5][0],
		4*cs[0], 4*cs[1], 4*cs[2], 4*cs[3], 4*cs[4], 4*cs[5], chans, w, n, &dst[0], 4*ds, ps)
}

// wg4OutputAsm is wg4OutputGo on wg4OutputAVX2 (src must hold n rounded
// up to a multiple of 8 tiles: the kernel reads whole groups). The
// kernel stores the columns before min(w, 4·n) of the rows y[r] that
// are not nil (a prefix of y) and reads the addend rows at those
// columns only, so they may end where their memory does.
//
// With back set, the kernel goes through the channels backwards:
// Winograd.output calls it for consecutive rows of tiles, whose
// products share cache lines, and every other row starts from the
// channels whose lines the previous call has just brought into L1. The
// results are the same either way.
func wg4OutputAsm(src []float32, ps, n, w int, y, add *[4][]float32, bias []float32, relu bool, chans, ss, ys int, back bool) {
	if n <= 0 || w <= 0 || chans <= 0 || y[0] == nil {
		return
	}
	last := chans - 1
	_ = src[last*ss+35*ps+(n+7)/8*8-1]
	var py, pa [4]*float32
	rows := 0
	for rows < len(y) && y[rows] != nil {
		_ = y[rows][last*ys+w-1]
		rows++
	}
	flags := 0
	if add[0] != nil {
		flags = 2
		for r := 0; r < rows; r++ {
			_ = add[r][last*ys+w-1]
		}
	}
	if relu {
		flags |= 4
	}
	if bias != nil {
		_ = bias[last]
		flags |= 8
	}
	first, step := 0, 1
	if back {
		first, step = last, -1
	}
	for r := 0; r < rows; r++ {
		py[r] = &y[r][first*ys]
		if flags&2 != 0 {
			pa[r] = &add[r][first*ys]
		}
	}
	var pb *float32
	if bias != nil {
		pb = &bias[first]
	}
	w = min(w, 4*n)
	wg4OutputAVX2(&src[first*ss], ps, n, w, &py, &pa, rows, pb, 4*step, &wg4Window[(w-1)%8], flags, chans, 4*step*ss, 4*step*ys)
}

// wg4Window holds, for k = 1 to 8 (at k-1), the permutation with which
// wg4OutputAVX2 cuts the 8 columns ending at w from two vectors of a
// row, w k columns past the first's first (k = w mod 8, or 8): lane l
// takes lane l+k mod 8, of the second vector (its sign set) when
// l+k >= 8.
var wg4Window = func() (t [8][8]int32) {
	for i := range t {
		for l := range t[i] {
			k := i + 1
			t[i][l] = int32((l + k) & 7)
			if l+k >= 8 {
				t[i][l] |= -1 << 31
			}
		}
	}
	return t
}()
