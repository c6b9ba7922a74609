//go:build amd64 && !noasm

package kernels

import "golang.org/x/sys/cpu"

// hasQAVX2 reports whether the AVX2 integer kernels can run.
var hasQAVX2 = cpu.X86.HasAVX2

// useQAsm selects the assembly integer kernels.
var useQAsm = hasQAVX2

// QAccelerated reports whether the integer kernels run in assembly.
func QAccelerated() bool { return useQAsm }

// UseQAssembly switches the integer kernels between assembly (when the
// CPU has AVX2) and their pure-Go twins, and returns the previous
// setting. It is for tests and benchmarks; it must not be called while
// kernels run.
func UseQAssembly(on bool) (was bool) {
	was = useQAsm
	useQAsm = on && hasQAVX2
	return was
}

//go:noescape
func qTileSatAVX2(a *uint8, rowStep, segs, segLen, segStride int, w *int8, tile *QTile)

//go:noescape
func qTileExactAVX2(a *uint8, rowStep, segs, segLen, segStride int, w *int16, tile *QTile)

//go:noescape
func qRequantAVX2(tile *QTile, rows int, params *int64, dst *uint8, ld int)

// The callers (QPackedB.Tile, QRequant.StoreTile) have checked the
// bounds of a and dst; w holds the whole block.

func qTileSat(a []uint8, rows QRows, w []int8, tile *QTile) {
	if !useQAsm {
		qTileSatGo(a, rows, w, tile)
		return
	}
	qTileSatAVX2(&a[0], rows.RowStep, rows.Segs, rows.SegLen, rows.SegStride, &w[0], tile)
}

func qTileExact(a []uint8, rows QRows, w []int16, tile *QTile) {
	if !useQAsm {
		qTileExactGo(a, rows, w, tile)
		return
	}
	qTileExactAVX2(&a[0], rows.RowStep, rows.Segs, rows.SegLen, rows.SegStride, &w[0], tile)
}

func qRequantTile(q *QRequant, tile *QTile, rows, c0 int, dst []uint8, off, rowStride int) bool {
	if rows <= 0 {
		return true
	}
	_ = dst[off+(rows-1)*rowStride+qNR-1]
	if !useQAsm {
		qRequantTileGo(q, tile, rows, c0, dst, off, rowStride)
		return true
	}
	qRequantAVX2(tile, rows, &q.vec[(c0/8)*qReqParams], &dst[off], rowStride)
	return true
}
