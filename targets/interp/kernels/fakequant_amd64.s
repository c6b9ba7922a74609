//go:build amd64 && !noasm

#include "textflag.h"

// FakeQuantF32's vector loop (see fakequant.go). Each clamp is written
// with the bound as the first source of VMAXPS/VMINPS: they return the
// second source (the value) unless the bound wins strictly, so NaN and
// ties pass the value through, as the scalar comparisons do.

// FQ8 computes 8 results from Y(x) in place, using Y(t) as scratch.
#define FQ8(x) \
	VDIVPS  Y8, x, x; \
	VMAXPS  x, Y10, x; \
	VMINPS  x, Y11, x; \
	VADDPS  Y15, x, x; \
	VSUBPS  Y15, x, x; \
	VADDPS  Y12, x, x; \
	VMAXPS  x, Y13, x; \
	VMINPS  x, Y14, x; \
	VSUBPS  Y12, x, x; \
	VMULPS  Y9, x, x

// func fakeQuantAVX(p *[8]float32, y, x *float32, n int)
// n is a positive multiple of 8; p holds s, os, vlo, vhi, zp, lo, hi.
TEXT ·fakeQuantAVX(SB), NOSPLIT, $0-32
	MOVQ         p+0(FP), R8
	MOVQ         y+8(FP), DI
	MOVQ         x+16(FP), SI
	MOVQ         n+24(FP), CX
	VBROADCASTSS 0(R8), Y8
	VBROADCASTSS 4(R8), Y9
	VBROADCASTSS 8(R8), Y10
	VBROADCASTSS 12(R8), Y11
	VBROADCASTSS 16(R8), Y12
	VBROADCASTSS 20(R8), Y13
	VBROADCASTSS 24(R8), Y14
	MOVL         $0x4b400000, AX // 1.5·2^23
	VMOVD        AX, X15
	VBROADCASTSS X15, Y15
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-32, DX

loop32:
	CMPQ    AX, DX
	JGE     tail8
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMOVUPS 64(SI)(AX*4), Y2
	VMOVUPS 96(SI)(AX*4), Y3
	FQ8(Y0)
	FQ8(Y1)
	FQ8(Y2)
	FQ8(Y3)
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	ADDQ    $32, AX
	JMP     loop32

tail8:
	CMPQ    AX, CX
	JGE     done
	VMOVUPS (SI)(AX*4), Y0
	FQ8(Y0)
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     tail8

done:
	VZEROUPPER
	RET
