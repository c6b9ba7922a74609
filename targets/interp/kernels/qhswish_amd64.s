//go:build amd64 && !noasm

#include "textflag.h"

// HSWISH8: 8 channels of a row: accumulators at A(SI), parameters of
// those channels at P bytes into each 64-byte field of (R8), levels to
// D(DI).
#define HSWISH8(A, P, D) \
	VMOVDQU      A(SI), Y0; \
	VPADDD       P+0(R8), Y0, Y0; \
	VCVTDQ2PS    Y0, Y0; \
	VMULPS       P+64(R8), Y0, Y0; \
	VMULPS       Y12, Y0, Y1; \
	VADDPS       Y13, Y1, Y1; \
	VMAXPS       Y14, Y1, Y1; \
	VMINPS       Y15, Y1, Y1; \
	VMULPS       Y1, Y0, Y1; \
	VDIVPS       P+128(R8), Y1, Y1; \
	VMAXPS       P+192(R8), Y1, Y1; \
	VMINPS       P+256(R8), Y1, Y1; \
	VCVTPS2DQ    Y1, Y1; \
	VPADDD       P+320(R8), Y1, Y1; \
	VEXTRACTI128 $1, Y1, X2; \
	VPACKUSDW    X2, X1, X1; \
	VPACKUSWB    X1, X1, X1; \
	VMOVQ        X1, D(DI)

// func qHSwishAVX2(acc *int32, rows int, p *float32, alpha, beta float32, dst *uint8, ldd int)
// Rows of 16 accumulators of one 16-channel block to levels through
// hard-swish, 8 channels per step, as hswishLevel computes one: p holds
// 16 bias (int32), scale, yscale, lo, hi, zp (int32) values, in that
// order. Rounding is VCVTPS2DQ's, half to even under the default MXCSR.
TEXT ·qHSwishAVX2(SB), NOSPLIT, $0-48
	MOVQ         acc+0(FP), SI
	MOVQ         rows+8(FP), CX
	MOVQ         p+16(FP), R8
	VBROADCASTSS alpha+24(FP), Y12
	VBROADCASTSS beta+28(FP), Y13
	MOVQ         dst+32(FP), DI
	MOVQ         ldd+40(FP), DX
	VXORPS       Y14, Y14, Y14
	MOVL         $0x3f800000, BX
	VMOVD        BX, X15
	VBROADCASTSS X15, Y15
	TESTQ        CX, CX
	JLE          done

row:
	HSWISH8(0, 0, 0)
	HSWISH8(32, 32, 8)
	ADDQ         $64, SI
	ADDQ         DX, DI
	DECQ         CX
	JNZ          row

done:
	VZEROUPPER
	RET
