//go:build !amd64 || noasm

package kernels

// Without assembly the integer kernels are their pure-Go twins.

func qTileSat(a []uint8, rows QRows, w []int8, tile *QTile)    { qTileSatGo(a, rows, w, tile) }
func qTileExact(a []uint8, rows QRows, w []int16, tile *QTile) { qTileExactGo(a, rows, w, tile) }

func qRequantTile(q *QRequant, tile *QTile, rows, c0 int, dst []uint8, off, rowStride int) bool {
	qRequantTileGo(q, tile, rows, c0, dst, off, rowStride)
	return true
}

// QAccelerated reports whether the integer kernels run in assembly.
func QAccelerated() bool { return false }

// UseQAssembly is a no-op without assembly; it returns false.
func UseQAssembly(bool) bool { return false }
