//go:build amd64 && !noasm

#include "textflag.h"

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
	// Channels 0-7.
	VMOVDQU      (SI), Y0
	VPADDD       0(R8), Y0, Y0
	VCVTDQ2PS    Y0, Y0
	VMULPS       64(R8), Y0, Y0
	VMULPS       Y12, Y0, Y1
	VADDPS       Y13, Y1, Y1
	VMAXPS       Y14, Y1, Y1
	VMINPS       Y15, Y1, Y1
	VMULPS       Y1, Y0, Y1
	VDIVPS       128(R8), Y1, Y1
	VMAXPS       192(R8), Y1, Y1
	VMINPS       256(R8), Y1, Y1
	VCVTPS2DQ    Y1, Y1
	VPADDD       320(R8), Y1, Y1
	VEXTRACTI128 $1, Y1, X2
	VPACKUSDW    X2, X1, X1
	VPACKUSWB    X1, X1, X1
	VMOVQ        X1, (DI)

	// Channels 8-15.
	VMOVDQU      32(SI), Y0
	VPADDD       32(R8), Y0, Y0
	VCVTDQ2PS    Y0, Y0
	VMULPS       96(R8), Y0, Y0
	VMULPS       Y12, Y0, Y1
	VADDPS       Y13, Y1, Y1
	VMAXPS       Y14, Y1, Y1
	VMINPS       Y15, Y1, Y1
	VMULPS       Y1, Y0, Y1
	VDIVPS       160(R8), Y1, Y1
	VMAXPS       224(R8), Y1, Y1
	VMINPS       288(R8), Y1, Y1
	VCVTPS2DQ    Y1, Y1
	VPADDD       352(R8), Y1, Y1
	VEXTRACTI128 $1, Y1, X2
	VPACKUSDW    X2, X1, X1
	VPACKUSWB    X1, X1, X1
	VMOVQ        X1, 8(DI)

	ADDQ         $64, SI
	ADDQ         DX, DI
	DECQ         CX
	JNZ          row

done:
	VZEROUPPER
	RET
