//go:build amd64 && !noasm

package kernels

import "golang.org/x/sys/cpu"

// expSameAsMath reports whether math.Exp takes the FMA path of
// exp_amd64.s (its useFMA), which expAVX2 evaluates: without AVX and
// FMA the kernel is not used.
var expSameAsMath = cpu.X86.HasAVX && cpu.X86.HasFMA && hasAVX2FMA

//go:noescape
func expAVX2(dst, src *float64, n int) int

// expVec computes the leading groups of four of dst whose arguments all
// lie in [-708, 709], and returns how many it computed.
func expVec(dst, src []float64) int {
	n := len(dst)
	if !expSameAsMath || n < 4 {
		return 0
	}
	return expAVX2(&dst[0], &src[0], n)
}
