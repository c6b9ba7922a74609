//go:build !amd64 || noasm

package kernels

// qdw3RowVNNIVec has no assembly here: it does no channel.
func qdw3RowVNNIVec([]int32, int, []uint8, int, int, int, []int8, int, []int32) int { return 0 }

// qdw3VNNIOn reports whether qdw3RowVNNIVec runs in assembly: never.
func qdw3VNNIOn() bool { return false }

// qdw3RowHSVec has no assembly here: it does no channel.
func qdw3RowHSVec([]uint8, []uint8, int, int, int, []int8, int, []int32, *QHardSwish) int { return 0 }
