//go:build amd64 && !noasm

package stats

import (
	"math"

	"golang.org/x/sys/cpu"
)

// useAVX2 runs the reductions' assembly (reduce_amd64.s); tests switch
// it off to compare with the Go loops.
var useAVX2 = cpu.X86.HasAVX2

//go:noescape
func absMaxAVX2(data *float32, n int) uint32

//go:noescape
func maxAVX2(data *float32, n int) (m float32, flags int)

//go:noescape
func minAVX2(data *float32, n int) (m float32, flags int)

// extremumVec is extremum in assembly, or ok false when the Go loop is to
// decide: without AVX2, for fewer than 16 values, or where the result
// depends on the loop's order (a NaN or infinity among the values, or a
// zero result with a -0 among them).
func extremumVec(data []float32, largest bool) (m float32, ok bool) {
	n := len(data) &^ 15
	if !useAVX2 || n == 0 {
		return 0, false
	}
	var flags int
	if largest {
		m, flags = maxAVX2(&data[0], n)
	} else {
		m, flags = minAVX2(&data[0], n)
	}
	for _, v := range data[n:] {
		switch {
		case v != v || v > maxFinite || v < -maxFinite:
			flags |= 1
		case v == 0 && math.Signbit(float64(v)):
			flags |= 2
		case largest && v > m, !largest && v < m:
			m = v
		}
	}
	if flags&1 != 0 || m == 0 && flags&2 != 0 {
		return 0, false
	}
	return m, true
}

// absMaxVec is the largest bit pattern without the sign of data's first
// len(data)&^15 values in assembly, and how many values it covered (0
// without AVX2).
func absMaxVec(data []float32) (uint32, int) {
	n := len(data) &^ 15
	if !useAVX2 || n == 0 {
		return 0, 0
	}
	return absMaxAVX2(&data[0], n), n
}
