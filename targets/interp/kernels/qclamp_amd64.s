//go:build amd64 && !noasm

#include "textflag.h"

// func clampU8AVX2(dst, src *uint8, n int, lo, hi uint8)
// dst[i] = min(max(src[i], lo), hi) for i < n, n a multiple of 32.
TEXT ·clampU8AVX2(SB), NOSPLIT, $0-26
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VPBROADCASTB lo+24(FP), Y1
	VPBROADCASTB hi+25(FP), Y2
	XORQ         AX, AX

cloop:
	CMPQ    AX, CX
	JGE     cdone
	VMOVDQU (SI)(AX*1), Y0
	VPMAXUB Y1, Y0, Y0
	VPMINUB Y2, Y0, Y0
	VMOVDQU Y0, (DI)(AX*1)
	ADDQ    $32, AX
	JMP     cloop

cdone:
	VZEROUPPER
	RET
