//go:build !amd64 || noasm

package kernels

// Without assembly the integer kernels are their pure-Go twins.

// QAccelerated reports whether the integer kernels run in assembly.
func QAccelerated() bool { return false }

// QKernels names the instructions of the integer kernels: "go".
func QKernels(bool) string { return "go" }

// UseQAssembly is a no-op without assembly; it returns false.
func UseQAssembly(bool) bool { return false }

const hasQVNNI, hasQ512 = false, false

func useQ512Kernels(bool) bool { return false }

var useQuad = false

func qRaw(b *QPackedB, a []uint8, _ []uint16, offs []int32, rows QRows, base int, acc []int32) {
	qRawGo(b, a, offs, rows, base, acc)
}

func qFused(*QPackedB, []uint8, []uint16, []int32, int, QRows, int, *QRequant, int, []uint8, int) bool {
	return false
}

func qFusedHS(*QPackedB, []uint8, []uint16, []int32, int, QRows, int, *QHardSwish, int, []uint8, int) bool {
	return false
}

func qFusedLeaky(*QPackedB, []uint8, []uint16, []int32, int, QRows, int, *QLeakyReLU, int, []uint8, int) bool {
	return false
}

func qWiden(*QPackedB, []uint8, *QScratch) []uint16 { return nil }

func qFusedPair(*QPackedB, []uint8, []int32, int, QRows, int, *QRequant, int, []uint8, int) bool {
	return false
}

func qReqRowsVec(*QRequant, []int32, int, int, []uint8, int) bool { return false }

func qAddVec(q *QAdd, dst, a, b []uint8) int { return 0 }

func qHSwishVec(*QHardSwish, []int32, int, int, []uint8, int) bool { return false }

func qdwPixelVec(acc []int32, bs int, x []uint8, xoff, woff []int32, w, zp []int32, C int) int {
	return 0
}

func quantize8Vec(p *[8]float32, dst []uint8, x []float32, signed bool) int { return 0 }

func dequantize8Vec(y []float32, x []uint8, signed bool, zp, s float32) int { return 0 }

func qdw3RowOn() bool { return false }

func qdw3RowVec([]int32, int, []uint8, int, int, int, int, []int32, int, []int32, int) int { return 0 }

func qdw3RowHS2On() bool { return false }

func qdw3RowHS2Vec([]uint8, int, []uint8, int, int, int, int, []int32, int, []int32, *QHardSwish, int) int {
	return 0
}

func dequantTOn() bool { return false }

func dequantTVec([]float32, int, []uint8, int, int, float32, float32) {}

func qDeqTVec([]int32, int, []int32, []float32, []float32, int) int { return 0 }

func qTileTVec([]uint8, int, []uint8, int) int { return 0 }

func clampU8Vec([]uint8, []uint8, uint8, uint8) int { return 0 }
