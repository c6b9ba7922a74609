//go:build !amd64 || noasm

package stats

// useAVX2 is false: this build has no assembly.
var useAVX2 = false

func extremumVec([]float32, bool) (float32, bool) { return 0, false }

func absMaxVec([]float32) (uint32, int) { return 0, 0 }
