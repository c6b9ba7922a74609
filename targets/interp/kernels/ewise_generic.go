//go:build !amd64 || noasm

package kernels

func addVec(dst, a, b []float32) int                             { return 0 }
func mulVec(dst, a, b []float32) int                             { return 0 }
func hardSigmoidVec(dst, src []float32, alpha, beta float32) int { return 0 }

func hardSwishVec(dst, src []float32, alpha, beta float32) int { return 0 }

func minMaxVec(dst, a, b []float32, s float32, isMax, scalarFirst bool) int { return 0 }
func leakyReLUVec(dst, src []float32, alpha float32) int                    { return 0 }

func scalarArithVec(dst, src []float32, s float32, op scalarOp) int { return 0 }
func clipVec(dst, src []float32, lo, hi float32) int                { return 0 }

func affineVec(dst, src []float32, m, a float32) int { return 0 }
