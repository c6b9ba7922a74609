//go:build amd64 && !noasm

package kernels

//go:noescape
func wgInputAVX2(r0, r1, r2, r3 *float32, cs0, cs1, cs2, cs3, chans, w, n int, dst *float32, ds, ps int)

//go:noescape
func wg4InputAVX2(r0, r1, r2, r3, r4, r5 *float32, cs0, cs1, cs2, cs3, cs4, cs5, chans, w, n int, dst *float32, ds, ps int)

//go:noescape
func wgOutputAVX2(src *float32, ps, n, w int, y0, y1, bias, a0, a1 *float32, flags, chans, ss, ys int)

// wgInputAsm is wgInputGo on wgInputAVX2: dst must hold n rounded up to
// a multiple of 8 tiles (the kernel stores whole groups), and the
// memory around each row from column -1 to column wgReach(n) must be
// readable (the kernel reads it, and masks what lies outside [0, w)).
func wgInputAsm(rows *[4][]float32, cs *[4]int, chans, w, n int, dst []float32, ds, ps int) {
	if n <= 0 || chans <= 0 {
		return
	}
	_ = dst[(chans-1)*ds+15*ps+(n+7)/8*8-1]
	for k := range rows {
		_ = rows[k][(chans-1)*cs[k]+w-1]
	}
	wgInputAVX2(&rows[0][0], &rows[1][0], &rows[2][0], &rows[3][0], 4*cs[0], 4*cs[1], 4*cs[2], 4*cs[3], chans, w, n, &dst[0], 4*ds, ps)
}

// wgOutputAsm is wgOutputGo on wgOutputAVX2 (src must hold n rounded up
// to a multiple of 8 tiles: the kernel reads whole groups). The kernel
// reads the addend rows up to the end of the last group (column
// 2·t0+15); when that would leave their memory (the last rows of the
// addend), the last channel's last group goes to the Go twin.
func wgOutputAsm(src []float32, ps, n, w int, y0, y1, bias, a0, a1 []float32, relu bool, chans, ss, ys int) {
	if n <= 0 || chans <= 0 {
		return
	}
	last := (chans - 1) * ys
	_ = src[(chans-1)*ss+15*ps+(n+7)/8*8-1]
	_ = y0[last+w-1]
	flags := 0
	var p1, pb, pa0, pa1 *float32
	if y1 != nil {
		_ = y1[last+w-1]
		flags, p1 = 1, &y1[0]
	}
	if bias != nil {
		_ = bias[chans-1]
		flags, pb = flags|8, &bias[0]
	}
	if relu {
		flags |= 4
	}
	if a0 == nil {
		wgOutputAVX2(&src[0], ps, n, w, &y0[0], p1, pb, nil, nil, flags, chans, 4*ss, 4*ys)
		return
	}
	_ = a0[last+w-1]
	flags, pa0 = flags|2, &a0[0]
	reach := last + 2*((n-1)&^7) + 16
	safe := cap(a0) >= reach
	if y1 != nil {
		_ = a1[last+w-1]
		pa1 = &a1[0]
		safe = safe && cap(a1) >= reach
	}
	if safe {
		wgOutputAVX2(&src[0], ps, n, w, &y0[0], p1, pb, pa0, pa1, flags, chans, 4*ss, 4*ys)
		return
	}
	// All channels but the last, then the last one's whole groups, then
	// its last group in Go.
	if chans > 1 {
		wgOutputAVX2(&src[0], ps, n, w, &y0[0], p1, pb, pa0, pa1, flags, chans-1, 4*ss, 4*ys)
	}
	i := chans - 1
	var b []float32
	if bias != nil {
		b = bias[i : i+1]
	}
	full := (n - 1) &^ 7
	if full > 0 {
		var q1, q1a *float32
		if y1 != nil {
			q1, q1a = &y1[last], &a1[last]
		}
		var qb *float32
		if b != nil {
			qb = &b[0]
		}
		wgOutputAVX2(&src[i*ss], ps, full, w, &y0[last], q1, qb, &a0[last], q1a, flags, 1, 4*ss, 4*ys)
	}
	c := 2 * full
	wgOutputGo(src[i*ss+full:], ps, n-full, w-c, y0[last+c:last+w], rowAt(y1, last+c, w-c), b, a0[last+c:last+w], rowAt(a1, last+c, w-c), relu, 1, 0, 0)
}

// wg4Kernels reports whether the F(4×4) kernels exist (not yet).
const wg4Kernels = false

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

// wg4OutputAsm: the F(4×4) output kernel is not written yet (wg4Asm is
// false).
func wg4OutputAsm(src []float32, ps, n, w int, y, add *[4][]float32, bias []float32, relu bool, chans, ss, ys int) {
	panic("kernels: no F(4×4) output kernel")
}
