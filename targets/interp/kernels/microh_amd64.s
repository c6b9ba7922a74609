//go:build amd64 && !noasm

#include "textflag.h"

// 8-column AVX2 micro-kernels for the last columns of a MulOffsets
// product (8 or fewer left, such as the 49th column of a 7×7 image,
// which a 16-column tile would compute with 15 wasted): one YMM
// accumulator per tile row, the steps in order, then C, the bias and the
// clamp, so that each element is computed exactly as by kernel6x16 and
// kernel4x16 (see microKernel, with 8 columns instead of 16). k must be
// positive (the Go adapter sends k = 0 to the Go twin).

// func kernel6x8(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)
TEXT ·kernel6x8(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ offs+24(FP), R10
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9

h6loop:
	MOVQ (R10), AX
	VMOVUPS (DI)(AX*4), Y0
	VBROADCASTSS 0(SI), Y2
	VFMADD231PS Y0, Y2, Y4
	VBROADCASTSS 4(SI), Y3
	VFMADD231PS Y0, Y3, Y5
	VBROADCASTSS 8(SI), Y2
	VFMADD231PS Y0, Y2, Y6
	VBROADCASTSS 12(SI), Y3
	VFMADD231PS Y0, Y3, Y7
	VBROADCASTSS 16(SI), Y2
	VFMADD231PS Y0, Y2, Y8
	VBROADCASTSS 20(SI), Y3
	VFMADD231PS Y0, Y3, Y9
	ADDQ $24, SI
	ADDQ $8, R10
	DECQ CX
	JNZ h6loop

	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8
	MOVQ mr+48(FP), BX
	MOVQ bias+56(FP), AX
	MOVQ flags+64(FP), R9

	TESTQ $1, R9
	JE h6noacc
	MOVQ BX, R12
	VADDPS (DX), Y4, Y4
	ADDQ R8, DX
	DECQ R12
	JE h6accdone
	VADDPS (DX), Y5, Y5
	ADDQ R8, DX
	DECQ R12
	JE h6accdone
	VADDPS (DX), Y6, Y6
	ADDQ R8, DX
	DECQ R12
	JE h6accdone
	VADDPS (DX), Y7, Y7
	ADDQ R8, DX
	DECQ R12
	JE h6accdone
	VADDPS (DX), Y8, Y8
	ADDQ R8, DX
	DECQ R12
	JE h6accdone
	VADDPS (DX), Y9, Y9
	ADDQ R8, DX

h6accdone:
	MOVQ c+32(FP), DX

h6noacc:
	TESTQ $2, R9
	JE h6nobias
	VBROADCASTSS 0(AX), Y2
	VADDPS Y2, Y4, Y4
	CMPQ BX, $1
	JE h6nobias
	VBROADCASTSS 4(AX), Y2
	VADDPS Y2, Y5, Y5
	CMPQ BX, $2
	JE h6nobias
	VBROADCASTSS 8(AX), Y2
	VADDPS Y2, Y6, Y6
	CMPQ BX, $3
	JE h6nobias
	VBROADCASTSS 12(AX), Y2
	VADDPS Y2, Y7, Y7
	CMPQ BX, $4
	JE h6nobias
	VBROADCASTSS 16(AX), Y2
	VADDPS Y2, Y8, Y8
	CMPQ BX, $5
	JE h6nobias
	VBROADCASTSS 20(AX), Y2
	VADDPS Y2, Y9, Y9

h6nobias:
	TESTQ $4, R9
	JE h6store
	VXORPS Y2, Y2, Y2
	VMAXPS Y4, Y2, Y4
	VMAXPS Y5, Y2, Y5
	VMAXPS Y6, Y2, Y6
	VMAXPS Y7, Y2, Y7
	VMAXPS Y8, Y2, Y8
	VMAXPS Y9, Y2, Y9

h6store:
	VMOVUPS Y4, (DX)
	ADDQ R8, DX
	DECQ BX
	JE h6done
	VMOVUPS Y5, (DX)
	ADDQ R8, DX
	DECQ BX
	JE h6done
	VMOVUPS Y6, (DX)
	ADDQ R8, DX
	DECQ BX
	JE h6done
	VMOVUPS Y7, (DX)
	ADDQ R8, DX
	DECQ BX
	JE h6done
	VMOVUPS Y8, (DX)
	ADDQ R8, DX
	DECQ BX
	JE h6done
	VMOVUPS Y9, (DX)
	ADDQ R8, DX

h6done:
	VZEROUPPER
	RET

// func kernel4x8(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)
TEXT ·kernel4x8(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ offs+24(FP), R10
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

h4loop:
	MOVQ (R10), AX
	VMOVUPS (DI)(AX*4), Y0
	VBROADCASTSS 0(SI), Y2
	VFMADD231PS Y0, Y2, Y4
	VBROADCASTSS 4(SI), Y3
	VFMADD231PS Y0, Y3, Y5
	VBROADCASTSS 8(SI), Y2
	VFMADD231PS Y0, Y2, Y6
	VBROADCASTSS 12(SI), Y3
	VFMADD231PS Y0, Y3, Y7
	ADDQ $16, SI
	ADDQ $8, R10
	DECQ CX
	JNZ h4loop

	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8
	MOVQ mr+48(FP), BX
	MOVQ bias+56(FP), AX
	MOVQ flags+64(FP), R9

	TESTQ $1, R9
	JE h4noacc
	MOVQ BX, R12
	VADDPS (DX), Y4, Y4
	ADDQ R8, DX
	DECQ R12
	JE h4accdone
	VADDPS (DX), Y5, Y5
	ADDQ R8, DX
	DECQ R12
	JE h4accdone
	VADDPS (DX), Y6, Y6
	ADDQ R8, DX
	DECQ R12
	JE h4accdone
	VADDPS (DX), Y7, Y7
	ADDQ R8, DX

h4accdone:
	MOVQ c+32(FP), DX

h4noacc:
	TESTQ $2, R9
	JE h4nobias
	VBROADCASTSS 0(AX), Y2
	VADDPS Y2, Y4, Y4
	CMPQ BX, $1
	JE h4nobias
	VBROADCASTSS 4(AX), Y2
	VADDPS Y2, Y5, Y5
	CMPQ BX, $2
	JE h4nobias
	VBROADCASTSS 8(AX), Y2
	VADDPS Y2, Y6, Y6
	CMPQ BX, $3
	JE h4nobias
	VBROADCASTSS 12(AX), Y2
	VADDPS Y2, Y7, Y7

h4nobias:
	TESTQ $4, R9
	JE h4store
	VXORPS Y2, Y2, Y2
	VMAXPS Y4, Y2, Y4
	VMAXPS Y5, Y2, Y5
	VMAXPS Y6, Y2, Y6
	VMAXPS Y7, Y2, Y7

h4store:
	VMOVUPS Y4, (DX)
	ADDQ R8, DX
	DECQ BX
	JE h4done
	VMOVUPS Y5, (DX)
	ADDQ R8, DX
	DECQ BX
	JE h4done
	VMOVUPS Y6, (DX)
	ADDQ R8, DX
	DECQ BX
	JE h4done
	VMOVUPS Y7, (DX)
	ADDQ R8, DX

h4done:
	VZEROUPPER
	RET
