//go:build !amd64 || noasm

package kernels

func maxPairsVec([]uint8, []uint8, bool) int { return 0 }

func maxRowsVec([]uint8, []uint8, []uint8, int, int, int, int, bool) int { return 0 }
