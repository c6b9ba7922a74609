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
func kernel4x16(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)

func kernel6Asm(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	var bp *float32
	if flags&flagBias != 0 {
		bp = &bias[0]
	}
	if k <= 0 {
		kernelGo(6, 0, nil, nil, nil, c, ldc, mr, bias, flags)
		return
	}
	kernel6x16(k, &a[0], &b[0], &offs[0], &c[0], ldc, mr, bp, flags)
}

func kernel4AsmZ(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	var bp *float32
	if flags&flagBias != 0 {
		bp = &bias[0]
	}
	if k <= 0 {
		kernelGo(4, 0, nil, nil, nil, c, ldc, mr, bias, flags)
		return
	}
	kernel4x16Z(k, &a[0], &b[0], &offs[0], &c[0], ldc, mr, bp, flags)
}

func kernel6AsmZ(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	var bp *float32
	if flags&flagBias != 0 {
		bp = &bias[0]
	}
	if k <= 0 {
		kernelGo(6, 0, nil, nil, nil, c, ldc, mr, bias, flags)
		return
	}
	kernel6x16Z(k, &a[0], &b[0], &offs[0], &c[0], ldc, mr, bp, flags)
}

func kernel4Asm(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	var bp *float32
	if flags&flagBias != 0 {
		bp = &bias[0]
	}
	if k <= 0 {
		kernelGo(4, 0, nil, nil, nil, c, ldc, mr, bias, flags)
		return
	}
	kernel4x16(k, &a[0], &b[0], &offs[0], &c[0], ldc, mr, bp, flags)
}

func init() { UseAssembly(true) }
