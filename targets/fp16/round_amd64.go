//go:build amd64 && !noasm

package fp16

import "golang.org/x/sys/cpu"

var hasF16C = cpu.X86.HasAVX && cpu.X86.HasF16C

//go:noescape
func roundHalfF16C(v *float32, n int)

// roundVec rounds the first len(v)&^7 elements with the CPU's half
// conversion instructions and returns how many it did.
func roundVec(v []float32) int {
	n := len(v) &^ 7
	if !hasF16C || n == 0 {
		return 0
	}
	roundHalfF16C(&v[0], n)
	return n
}
