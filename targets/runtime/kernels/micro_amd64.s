//go:build amd64 && !noasm

#include "textflag.h"

// Micro-kernels for AVX2 + FMA. See microKernel in micro.go for the
// contract. Registers: Y4..Y15 hold the tile (two per row), Y0/Y1 the
// current row of B, Y2/Y3 broadcast elements of A.

// One k step of the 6-row kernel: B row at DI + 4*(R10), A at SI.
#define STEP6 \
	MOVQ         (R10), AX      \
	VMOVUPS      (DI)(AX*4), Y0 \
	VMOVUPS      32(DI)(AX*4), Y1 \
	VBROADCASTSS (SI), Y2       \
	VBROADCASTSS 4(SI), Y3      \
	VFMADD231PS  Y0, Y2, Y4     \
	VFMADD231PS  Y1, Y2, Y5     \
	VFMADD231PS  Y0, Y3, Y6     \
	VFMADD231PS  Y1, Y3, Y7     \
	VBROADCASTSS 8(SI), Y2      \
	VBROADCASTSS 12(SI), Y3     \
	VFMADD231PS  Y0, Y2, Y8     \
	VFMADD231PS  Y1, Y2, Y9     \
	VFMADD231PS  Y0, Y3, Y10    \
	VFMADD231PS  Y1, Y3, Y11    \
	VBROADCASTSS 16(SI), Y2     \
	VBROADCASTSS 20(SI), Y3     \
	VFMADD231PS  Y0, Y2, Y12    \
	VFMADD231PS  Y1, Y2, Y13    \
	VFMADD231PS  Y0, Y3, Y14    \
	VFMADD231PS  Y1, Y3, Y15    \
	ADDQ         $24, SI        \
	ADDQ         $8, R10

#define STEP4 \
	MOVQ         (R10), AX      \
	VMOVUPS      (DI)(AX*4), Y0 \
	VMOVUPS      32(DI)(AX*4), Y1 \
	VBROADCASTSS (SI), Y2       \
	VBROADCASTSS 4(SI), Y3      \
	VFMADD231PS  Y0, Y2, Y4     \
	VFMADD231PS  Y1, Y2, Y5     \
	VFMADD231PS  Y0, Y3, Y6     \
	VFMADD231PS  Y1, Y3, Y7     \
	VBROADCASTSS 8(SI), Y2      \
	VBROADCASTSS 12(SI), Y3     \
	VFMADD231PS  Y0, Y2, Y8     \
	VFMADD231PS  Y1, Y2, Y9     \
	VFMADD231PS  Y0, Y3, Y10    \
	VFMADD231PS  Y1, Y3, Y11    \
	ADDQ         $16, SI        \
	ADDQ         $8, R10

// Row operations of the epilogue. DX walks the rows of C (stride R8
// bytes), R12 counts the rows left, AX points at the bias.
#define ACCROW(ya, yb) \
	VADDPS (DX), ya, ya   \
	VADDPS 32(DX), yb, yb \
	ADDQ   R8, DX

#define BIASROW(off, ya, yb) \
	VBROADCASTSS off(AX), Y2 \
	VADDPS       Y2, ya, ya  \
	VADDPS       Y2, yb, yb

#define RELUROW(ya, yb) \
	VMAXPS ya, Y2, ya \
	VMAXPS yb, Y2, yb

#define STOREROW(ya, yb) \
	VMOVUPS ya, (DX)   \
	VMOVUPS yb, 32(DX) \
	ADDQ    R8, DX

// func kernel6x16(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)
TEXT ·kernel6x16(SB), NOSPLIT, $0-72
	MOVQ   k+0(FP), CX
	MOVQ   a+8(FP), SI
	MOVQ   b+16(FP), DI
	MOVQ   offs+24(FP), R10
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15
	CMPQ   CX, $4
	JLT    k6tail

k6loop4:
	STEP6
	STEP6
	STEP6
	STEP6
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  k6loop4

k6tail:
	TESTQ CX, CX
	JE    k6epi

k6loop1:
	STEP6
	DECQ CX
	JNZ  k6loop1

k6epi:
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8
	MOVQ mr+48(FP), BX
	MOVQ bias+56(FP), AX
	MOVQ flags+64(FP), R9

	TESTQ $1, R9
	JE    k6noacc
	MOVQ  BX, R12
	ACCROW(Y4, Y5)
	DECQ  R12
	JE    k6accdone
	ACCROW(Y6, Y7)
	DECQ  R12
	JE    k6accdone
	ACCROW(Y8, Y9)
	DECQ  R12
	JE    k6accdone
	ACCROW(Y10, Y11)
	DECQ  R12
	JE    k6accdone
	ACCROW(Y12, Y13)
	DECQ  R12
	JE    k6accdone
	ACCROW(Y14, Y15)

k6accdone:
	MOVQ c+32(FP), DX

k6noacc:
	TESTQ $2, R9
	JE    k6nobias
	BIASROW(0, Y4, Y5)
	CMPQ  BX, $1
	JE    k6nobias
	BIASROW(4, Y6, Y7)
	CMPQ  BX, $2
	JE    k6nobias
	BIASROW(8, Y8, Y9)
	CMPQ  BX, $3
	JE    k6nobias
	BIASROW(12, Y10, Y11)
	CMPQ  BX, $4
	JE    k6nobias
	BIASROW(16, Y12, Y13)
	CMPQ  BX, $5
	JE    k6nobias
	BIASROW(20, Y14, Y15)

k6nobias:
	TESTQ  $4, R9
	JE     k6store
	VXORPS Y2, Y2, Y2
	RELUROW(Y4, Y5)
	RELUROW(Y6, Y7)
	RELUROW(Y8, Y9)
	RELUROW(Y10, Y11)
	RELUROW(Y12, Y13)
	RELUROW(Y14, Y15)

k6store:
	STOREROW(Y4, Y5)
	DECQ BX
	JE   k6done
	STOREROW(Y6, Y7)
	DECQ BX
	JE   k6done
	STOREROW(Y8, Y9)
	DECQ BX
	JE   k6done
	STOREROW(Y10, Y11)
	DECQ BX
	JE   k6done
	STOREROW(Y12, Y13)
	DECQ BX
	JE   k6done
	STOREROW(Y14, Y15)

k6done:
	VZEROUPPER
	RET

// func kernel4x16(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)
TEXT ·kernel4x16(SB), NOSPLIT, $0-72
	MOVQ   k+0(FP), CX
	MOVQ   a+8(FP), SI
	MOVQ   b+16(FP), DI
	MOVQ   offs+24(FP), R10
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	CMPQ   CX, $4
	JLT    k4tail

k4loop4:
	STEP4
	STEP4
	STEP4
	STEP4
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  k4loop4

k4tail:
	TESTQ CX, CX
	JE    k4epi

k4loop1:
	STEP4
	DECQ CX
	JNZ  k4loop1

k4epi:
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8
	MOVQ mr+48(FP), BX
	MOVQ bias+56(FP), AX
	MOVQ flags+64(FP), R9

	TESTQ $1, R9
	JE    k4noacc
	MOVQ  BX, R12
	ACCROW(Y4, Y5)
	DECQ  R12
	JE    k4accdone
	ACCROW(Y6, Y7)
	DECQ  R12
	JE    k4accdone
	ACCROW(Y8, Y9)
	DECQ  R12
	JE    k4accdone
	ACCROW(Y10, Y11)

k4accdone:
	MOVQ c+32(FP), DX

k4noacc:
	TESTQ $2, R9
	JE    k4nobias
	BIASROW(0, Y4, Y5)
	CMPQ  BX, $1
	JE    k4nobias
	BIASROW(4, Y6, Y7)
	CMPQ  BX, $2
	JE    k4nobias
	BIASROW(8, Y8, Y9)
	CMPQ  BX, $3
	JE    k4nobias
	BIASROW(12, Y10, Y11)

k4nobias:
	TESTQ  $4, R9
	JE     k4store
	VXORPS Y2, Y2, Y2
	RELUROW(Y4, Y5)
	RELUROW(Y6, Y7)
	RELUROW(Y8, Y9)
	RELUROW(Y10, Y11)

k4store:
	STOREROW(Y4, Y5)
	DECQ BX
	JE   k4done
	STOREROW(Y6, Y7)
	DECQ BX
	JE   k4done
	STOREROW(Y8, Y9)
	DECQ BX
	JE   k4done
	STOREROW(Y10, Y11)

k4done:
	VZEROUPPER
	RET
