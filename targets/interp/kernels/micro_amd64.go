//go:build amd64 && !noasm

package kernels

import "golang.org/x/sys/cpu"

// hasAVX2FMA reports whether the assembly micro-kernels can run, and
// hasAVX512 whether their 512-bit versions can.
var (
	hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512  = hasAVX2FMA && cpu.X86.HasAVX512F
)

//go:noescape
func kernel6x16(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)

//go:noescape
func kernel6x16Z(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)

//go:noescape
func kernel4x16Z(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)

//go:noescape
func kernel6x32Z(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)

//go:noescape
func kernel4x32Z(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)

//go:noescape
func kernel6x32ZM(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int, masks *uint32, col int, add *float32)

//go:noescape
func kernel4x32ZM(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int, masks *uint32, col int, add *float32)

//go:noescape
func kernel6x16M(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int, masks *int32, col int, add *float32, blen int, blocks int, mstride int, pack *float32)

//go:noescape
func kernel4x16M(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int, masks *int32, col int, add *float32, blen int, blocks int, mstride int, pack *float32)

//go:noescape
func kernel6x8(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)

//go:noescape
func kernel4x8(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)

//go:noescape
func kernel6x4C(k int, a *float32, b *float32, offs *int, out *float32)

//go:noescape
func kernel4x4C(k int, a *float32, b *float32, offs *int, out *float32)

//go:noescape
func kernel6x1P4(k int, a *float32, pstride int, b *float32, offs *int, out *float32)

//go:noescape
func kernel6x16N(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int, blocks int)

//go:noescape
func kernel4x16N(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int, blocks int)

//go:noescape
func kernel4x16(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)

// microAsm is the signature of the assembly micro-kernels.
type microAsm func(k int, a, b *float32, offs *int, c *float32, ldc, mr int, bias *float32, flags int)

// asmKernel adapts the assembly micro-kernel f for panels of height h to
// a microKernel: slices become pointers, and a tile without products
// (k = 0) goes to the Go twin, which only applies the flags.
func asmKernel(h int, f microAsm) microKernel { return asmKernelTwin(h, f, kernelGo) }

// asmHalfKernel adapts an 8-column assembly micro-kernel as asmKernel
// does; a tile without products goes to the 8-column Go twin.
func asmHalfKernel(h int, f microAsm) microKernel { return asmKernelTwin(h, f, kernelHalfGo) }

// asmKernelTwin is asmKernel with twin, the Go kernel that applies the
// flags to a tile without products.
func asmKernelTwin(h int, f microAsm, twin func(h, k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int)) microKernel {
	return func(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
		if k <= 0 {
			twin(h, 0, nil, nil, nil, c, ldc, mr, bias, flags)
			return
		}
		var bp *float32
		if flags&flagBias != 0 {
			bp = &bias[0]
		}
		f(k, &a[0], &b[0], &offs[0], &c[0], ldc, mr, bp, flags)
	}
}

// asmColsKernel adapts a column kernel; k = 0 goes to the Go twin.
func asmColsKernel(h int, f func(k int, a, b *float32, offs *int, out *float32)) colsKernel {
	return func(k int, a, b []float32, offs []int, out *[4 * 8]float32) {
		if k <= 0 {
			kernelColsGo(h, k, a, b, offs, out)
			return
		}
		_ = a[h*k-1]
		_ = offs[k-1]
		f(k, &a[0], &b[0], &offs[0], &out[0])
	}
}

// kernel6AsmP4 adapts kernel6x1P4: a holds the four panels, 6k floats
// each; k = 0 goes to the Go twin.
func kernel6AsmP4(k int, a, b []float32, offs []int, out *[4 * 8]float32) {
	if k <= 0 {
		kernel6P4Go(k, a, b, offs, out)
		return
	}
	_ = a[4*6*k-1]
	_ = offs[k-1]
	kernel6x1P4(k, &a[0], 6*k*4, &b[0], &offs[0], &out[0])
}

// asmBlocksKernel adapts a blocks kernel as asmKernel does; a call
// without products or blocks goes to the Go twin.
func asmBlocksKernel(h int, f func(k int, a, b *float32, offs *int, c *float32, ldc, mr int, bias *float32, flags int, blocks int)) blocksKernel {
	return func(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags, blocks int) {
		if k <= 0 || blocks <= 0 {
			kernelBlocksGo(h, k, a, b, offs, c, ldc, mr, bias, flags, blocks)
			return
		}
		var bp *float32
		if flags&flagBias != 0 {
			bp = &bias[0]
		}
		f(k, &a[0], &b[0], &offs[0], &c[0], ldc, mr, bp, flags, blocks)
	}
}

// asmWideKernel adapts a 32-column assembly micro-kernel as asmKernel
// does; a tile without products goes to the Go twin.
func asmWideKernel(h int, f microAsm) microKernel {
	return func(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
		if k <= 0 {
			kernelWideGo(h, 0, nil, nil, nil, c, ldc, mr, bias, flags)
			return
		}
		var bp *float32
		if flags&flagBias != 0 {
			bp = &bias[0]
		}
		f(k, &a[0], &b[0], &offs[0], &c[0], ldc, mr, bp, flags)
	}
}

// asmMaskedKernel adapts a masked assembly micro-kernel as asmKernel
// does. b need not be in range at the steps' offsets, only at the
// columns their masks keep: the assembly gets &b[0] and col and forms
// the address of B itself.
func asmMaskedKernel(h int, f func(k int, a, b *float32, offs *int, c *float32, ldc, mr int, bias *float32, flags int, masks *uint32, col int, add *float32)) maskedKernel {
	return func(k int, a, b []float32, col int, steps []int, c []float32, ldc, mr int, bias []float32, flags int, masks []uint32, add []float32) {
		if k <= 0 {
			kernelMaskedGo(h, 0, nil, nil, 0, nil, c, ldc, mr, bias, flags, nil, add)
			return
		}
		var bp, ap *float32
		if flags&flagBias != 0 {
			bp = &bias[0]
		}
		if flags&flagAdd != 0 {
			ap = &add[0]
		}
		f(k, &a[0], &b[0], &steps[0], &c[0], ldc, mr, bp, flags, &masks[0], col, ap)
	}
}

// asmMaskedKernelV adapts a 16-column masked assembly micro-kernel as
// asmMaskedKernel does; the masks of each block are len(masks)/blocks
// int32.
func asmMaskedKernelV(h int, f func(k int, a, b *float32, offs *int, c *float32, ldc, mr int, bias *float32, flags int, masks *int32, col int, add *float32, blen, blocks, mstride int, pack *float32)) maskedKernelV {
	return func(k int, a, b []float32, col int, steps []int, c []float32, ldc, mr int, bias []float32, flags int, masks []int32, add []float32, blocks int, pack []float32) {
		if k <= 0 {
			kernelMaskedVGo(h, 0, nil, nil, 0, nil, c, ldc, mr, bias, flags&^flagStorePacked, masks, add, blocks, nil)
			return
		}
		var bp, ap, pp *float32
		if flags&flagBias != 0 {
			bp = &bias[0]
		}
		if flags&flagAdd != 0 {
			ap = &add[0]
		}
		if flags&flagStorePacked != 0 {
			_ = pack[blocks*k*nr-1]
			pp = &pack[0]
		}
		f(k, &a[0], &b[0], &steps[0], &c[0], ldc, mr, bp, flags, &masks[0], col, ap, len(b), blocks, len(masks)/blocks*4, pp)
	}
}

// The assembly micro-kernels as microKernels.
var (
	kernel6Asm  = asmKernel(6, kernel6x16)
	kernel4Asm  = asmKernel(4, kernel4x16)
	kernel6AsmZ = asmKernel(6, kernel6x16Z)
	kernel4AsmZ = asmKernel(4, kernel4x16Z)
	kernel6AsmW = asmWideKernel(6, kernel6x32Z)
	kernel4AsmW = asmWideKernel(4, kernel4x32Z)
	kernel6AsmM = asmMaskedKernel(6, kernel6x32ZM)
	kernel4AsmM = asmMaskedKernel(4, kernel4x32ZM)
	kernel6AsmC = asmColsKernel(6, kernel6x4C)
	kernel4AsmC = asmColsKernel(4, kernel4x4C)
	kernel6AsmN = asmBlocksKernel(6, kernel6x16N)
	kernel4AsmN = asmBlocksKernel(4, kernel4x16N)
	kernel6AsmH = asmHalfKernel(6, kernel6x8)
	kernel4AsmH = asmHalfKernel(4, kernel4x8)
	kernel6AsmV = asmMaskedKernelV(6, kernel6x16M)
	kernel4AsmV = asmMaskedKernelV(4, kernel4x16M)
)
