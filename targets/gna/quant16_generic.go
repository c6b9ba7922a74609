//go:build !amd64 || noasm

package gna

// hasToInt16AVX2 is false without assembly.
const hasToInt16AVX2 = false

// toInt16Vec does nothing without assembly: toInt16s runs its Go loop.
func toInt16Vec(dst []int16, src []float32, scale float64, lo, hi int64) int { return 0 }

// accToFloatVec does nothing without assembly: accToFloats runs its Go
// loop.
func accToFloatVec(dst []float32, acc []int64, bias int64, scale float64) int { return 0 }
