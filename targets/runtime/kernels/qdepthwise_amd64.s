//go:build amd64 && !noasm

#include "textflag.h"

// func qdwTapAVX2(acc, w *int32, x *uint8, zp *int32, n int)
// acc[i] += (int32(x[i]) - zp[i]) * w[i] for i < n, a multiple of 8: the
// products of uint8 levels and int8 weights fit int32 exactly.
TEXT ·qdwTapAVX2(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ x+16(FP), DX
	MOVQ zp+24(FP), R8
	MOVQ n+32(FP), CX
	XORQ AX, AX

	// Two independent steps of 8 per iteration while 16 remain.
	MOVQ CX, BX
	SUBQ $16, BX
	JLT  tail

loop2:
	VPMOVZXBD (DX)(AX*1), Y0
	VPMOVZXBD 8(DX)(AX*1), Y1
	VPSUBD    (R8)(AX*4), Y0, Y0
	VPSUBD    32(R8)(AX*4), Y1, Y1
	VPMULLD   (SI)(AX*4), Y0, Y0
	VPMULLD   32(SI)(AX*4), Y1, Y1
	VPADDD    (DI)(AX*4), Y0, Y0
	VPADDD    32(DI)(AX*4), Y1, Y1
	VMOVDQU   Y0, (DI)(AX*4)
	VMOVDQU   Y1, 32(DI)(AX*4)
	ADDQ      $16, AX
	CMPQ      AX, BX
	JLE       loop2

tail:
	CMPQ      AX, CX
	JGE       done
	VPMOVZXBD (DX)(AX*1), Y0
	VPSUBD    (R8)(AX*4), Y0, Y0
	VPMULLD   (SI)(AX*4), Y0, Y0
	VPADDD    (DI)(AX*4), Y0, Y0
	VMOVDQU   Y0, (DI)(AX*4)
	ADDQ      $8, AX
	JMP       tail

done:
	VZEROUPPER
	RET
