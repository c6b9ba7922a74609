//go:build amd64 && !noasm

#include "textflag.h"
#include "micro_amd64.h"

// kernel6x16 and kernel4x16 (micro_amd64.s) over blocks consecutive
// 16-column blocks of B and C (block i: b and c advanced by 16i floats),
// one call for a panel's row of blocks: the same sums, stores and flags
// for each block as a call of its own, without the Go call, slicing and
// loop per block, which cost a product of small depth (a pointwise
// convolution of 16 channels: 16 steps) as much as its steps. k and
// blocks must be positive.

// func kernel6x16N(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int, blocks int)
TEXT ·kernel6x16N(SB), NOSPLIT, $0-80
	MOVQ b+16(FP), R14
	MOVQ c+32(FP), R15
	MOVQ blocks+72(FP), R13

n6block:
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ R14, DI
	MOVQ offs+24(FP), R10
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
	CMPQ CX, $4
	JLT n6tail

n6loop4:
	STEP6
	STEP6
	STEP6
	STEP6
	SUBQ $4, CX
	CMPQ CX, $4
	JGE n6loop4

n6tail:
	TESTQ CX, CX
	JE n6epi

n6loop1:
	STEP6
	DECQ CX
	JNZ n6loop1

n6epi:
	MOVQ R15, DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8
	MOVQ mr+48(FP), BX
	MOVQ bias+56(FP), AX
	MOVQ flags+64(FP), R9

	TESTQ $1, R9
	JE n6noacc
	MOVQ BX, R12
	ACCROW(Y4, Y5)
	DECQ R12
	JE n6accdone
	ACCROW(Y6, Y7)
	DECQ R12
	JE n6accdone
	ACCROW(Y8, Y9)
	DECQ R12
	JE n6accdone
	ACCROW(Y10, Y11)
	DECQ R12
	JE n6accdone
	ACCROW(Y12, Y13)
	DECQ R12
	JE n6accdone
	ACCROW(Y14, Y15)

n6accdone:
	MOVQ R15, DX

n6noacc:
	TESTQ $2, R9
	JE n6nobias
	BIASROW(0, Y4, Y5)
	CMPQ BX, $1
	JE n6nobias
	BIASROW(4, Y6, Y7)
	CMPQ BX, $2
	JE n6nobias
	BIASROW(8, Y8, Y9)
	CMPQ BX, $3
	JE n6nobias
	BIASROW(12, Y10, Y11)
	CMPQ BX, $4
	JE n6nobias
	BIASROW(16, Y12, Y13)
	CMPQ BX, $5
	JE n6nobias
	BIASROW(20, Y14, Y15)

n6nobias:
	TESTQ $4, R9
	JE n6store
	VXORPS Y2, Y2, Y2
	RELUROW(Y4, Y5)
	RELUROW(Y6, Y7)
	RELUROW(Y8, Y9)
	RELUROW(Y10, Y11)
	RELUROW(Y12, Y13)
	RELUROW(Y14, Y15)

n6store:
	STOREROW(Y4, Y5)
	DECQ BX
	JE n6next
	STOREROW(Y6, Y7)
	DECQ BX
	JE n6next
	STOREROW(Y8, Y9)
	DECQ BX
	JE n6next
	STOREROW(Y10, Y11)
	DECQ BX
	JE n6next
	STOREROW(Y12, Y13)
	DECQ BX
	JE n6next
	STOREROW(Y14, Y15)

n6next:
	ADDQ $64, R14
	ADDQ $64, R15
	DECQ R13
	JNZ n6block
	VZEROUPPER
	RET

// func kernel4x16N(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int, blocks int)
TEXT ·kernel4x16N(SB), NOSPLIT, $0-80
	MOVQ b+16(FP), R14
	MOVQ c+32(FP), R15
	MOVQ blocks+72(FP), R13

n4block:
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ R14, DI
	MOVQ offs+24(FP), R10
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	CMPQ CX, $4
	JLT n4tail

n4loop4:
	STEP4
	STEP4
	STEP4
	STEP4
	SUBQ $4, CX
	CMPQ CX, $4
	JGE n4loop4

n4tail:
	TESTQ CX, CX
	JE n4epi

n4loop1:
	STEP4
	DECQ CX
	JNZ n4loop1

n4epi:
	MOVQ R15, DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8
	MOVQ mr+48(FP), BX
	MOVQ bias+56(FP), AX
	MOVQ flags+64(FP), R9

	TESTQ $1, R9
	JE n4noacc
	MOVQ BX, R12
	ACCROW(Y4, Y5)
	DECQ R12
	JE n4accdone
	ACCROW(Y6, Y7)
	DECQ R12
	JE n4accdone
	ACCROW(Y8, Y9)
	DECQ R12
	JE n4accdone
	ACCROW(Y10, Y11)

n4accdone:
	MOVQ R15, DX

n4noacc:
	TESTQ $2, R9
	JE n4nobias
	BIASROW(0, Y4, Y5)
	CMPQ BX, $1
	JE n4nobias
	BIASROW(4, Y6, Y7)
	CMPQ BX, $2
	JE n4nobias
	BIASROW(8, Y8, Y9)
	CMPQ BX, $3
	JE n4nobias
	BIASROW(12, Y10, Y11)

n4nobias:
	TESTQ $4, R9
	JE n4store
	VXORPS Y2, Y2, Y2
	RELUROW(Y4, Y5)
	RELUROW(Y6, Y7)
	RELUROW(Y8, Y9)
	RELUROW(Y10, Y11)

n4store:
	STOREROW(Y4, Y5)
	DECQ BX
	JE n4next
	STOREROW(Y6, Y7)
	DECQ BX
	JE n4next
	STOREROW(Y8, Y9)
	DECQ BX
	JE n4next
	STOREROW(Y10, Y11)

n4next:
	ADDQ $64, R14
	ADDQ $64, R15
	DECQ R13
	JNZ n4block
	VZEROUPPER
	RET
