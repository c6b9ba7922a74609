//go:build amd64 && !noasm

#include "textflag.h"

// func reluAVX(dst *float32, src *float32, n int)
// dst[i] = max(src[i], 0) for i < n rounded down to a multiple of 32;
// NaN stays NaN.
TEXT ·reluAVX(SB), NOSPLIT, $0-24
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   n+16(FP), DX
	VXORPS Y4, Y4, Y4
	XORQ   AX, AX

loop:
	LEAQ    32(AX), BX
	CMPQ    BX, DX
	JGT     done
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMOVUPS 64(SI)(AX*4), Y2
	VMOVUPS 96(SI)(AX*4), Y3
	VMAXPS  Y0, Y4, Y0
	VMAXPS  Y1, Y4, Y1
	VMAXPS  Y2, Y4, Y2
	VMAXPS  Y3, Y4, Y3
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	MOVQ    BX, AX
	JMP     loop

done:
	VZEROUPPER
	RET
