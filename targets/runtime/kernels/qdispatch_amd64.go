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

func qTileSat(a []uint8, rows QRows, w []int8, tile *QTile) {
	if !useQAsm {
		qTileSatGo(a, rows, w, tile)
		return
	}
	qTileSatGo(a, rows, w, tile)
}

func qTileExact(a []uint8, rows QRows, w []int16, tile *QTile) {
	if !useQAsm {
		qTileExactGo(a, rows, w, tile)
		return
	}
	qTileExactGo(a, rows, w, tile)
}

func qRequantTile(q *QRequant, tile *QTile, rows, c0 int, dst []uint8, off, rowStride int) bool {
	qRequantTileGo(q, tile, rows, c0, dst, off, rowStride)
	return true
}
