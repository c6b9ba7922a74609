//go:build amd64 && !noasm

#include "textflag.h"

// func copyRowsAVX(dst *float32, dstStride int, src *float32, srcStride int, rows int, n int)
// Copies rows rows of n floats; strides are in floats.
TEXT ·copyRowsAVX(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R9
	MOVQ rows+32(FP), CX
	MOVQ n+40(FP), DX
	SHLQ $2, R8
	SHLQ $2, R9
	TESTQ CX, CX
	JLE  done

row:
	XORQ AX, AX // element index
	MOVQ DX, BX
	SUBQ $8, BX // last index where 8 more fit

vec:
	CMPQ    AX, BX
	JGT     tail
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     vec

tail:
	CMPQ  AX, DX
	JGE   next
	MOVSS (SI)(AX*4), X0
	MOVSS X0, (DI)(AX*4)
	INCQ  AX
	JMP   tail

next:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ CX
	JNZ  row

done:
	VZEROUPPER
	RET
