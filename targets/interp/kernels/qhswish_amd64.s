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

// func qHSwishAVX512(acc *int32, rows int, p *float32, alpha, beta float32, dst *uint8, ldd int)
// qHSwishAVX2 on 512-bit registers: the 16 channels of a row in one
// register, their parameters held in registers across the rows, two
// rows per step.
TEXT ·qHSwishAVX512(SB), NOSPLIT, $0-48
	MOVQ         acc+0(FP), SI
	MOVQ         rows+8(FP), CX
	MOVQ         p+16(FP), R8
	VBROADCASTSS alpha+24(FP), Z12
	VBROADCASTSS beta+28(FP), Z13
	MOVQ         dst+32(FP), DI
	MOVQ         ldd+40(FP), DX
	VPXORD       Z14, Z14, Z14
	MOVL         $0x3f800000, BX
	VPBROADCASTD BX, Z15
	VMOVDQU32    0(R8), Z4
	VMOVUPS      64(R8), Z5
	VMOVUPS      128(R8), Z6
	VMOVUPS      192(R8), Z7
	VMOVUPS      256(R8), Z8
	VMOVDQU32    320(R8), Z9
	TESTQ        CX, CX
	JLE          zdone

zpair:
	CMPQ         CX, $2
	JLT          zone
	VPADDD       0(SI), Z4, Z0
	VPADDD       64(SI), Z4, Z2
	VCVTDQ2PS    Z0, Z0
	VCVTDQ2PS    Z2, Z2
	VMULPS       Z5, Z0, Z0
	VMULPS       Z5, Z2, Z2
	VMULPS       Z12, Z0, Z1
	VMULPS       Z12, Z2, Z3
	VADDPS       Z13, Z1, Z1
	VADDPS       Z13, Z3, Z3
	VMAXPS       Z14, Z1, Z1
	VMAXPS       Z14, Z3, Z3
	VMINPS       Z15, Z1, Z1
	VMINPS       Z15, Z3, Z3
	VMULPS       Z1, Z0, Z1
	VMULPS       Z3, Z2, Z3
	VDIVPS       Z6, Z1, Z1
	VDIVPS       Z6, Z3, Z3
	VMAXPS       Z7, Z1, Z1
	VMAXPS       Z7, Z3, Z3
	VMINPS       Z8, Z1, Z1
	VMINPS       Z8, Z3, Z3
	VCVTPS2DQ    Z1, Z1
	VCVTPS2DQ    Z3, Z3
	VPADDD       Z9, Z1, Z1
	VPADDD       Z9, Z3, Z3
	VPMOVUSDB    Z1, X1
	VPMOVUSDB    Z3, X3
	VMOVDQU      X1, (DI)
	VMOVDQU      X3, (DI)(DX*1)
	ADDQ         $128, SI
	LEAQ         (DI)(DX*2), DI
	SUBQ         $2, CX
	JMP          zpair

zone:
	TESTQ        CX, CX
	JZ           zdone
	VPADDD       0(SI), Z4, Z0
	VCVTDQ2PS    Z0, Z0
	VMULPS       Z5, Z0, Z0
	VMULPS       Z12, Z0, Z1
	VADDPS       Z13, Z1, Z1
	VMAXPS       Z14, Z1, Z1
	VMINPS       Z15, Z1, Z1
	VMULPS       Z1, Z0, Z1
	VDIVPS       Z6, Z1, Z1
	VMAXPS       Z7, Z1, Z1
	VMINPS       Z8, Z1, Z1
	VCVTPS2DQ    Z1, Z1
	VPADDD       Z9, Z1, Z1
	VPMOVUSDB    Z1, X1
	VMOVDQU      X1, (DI)

zdone:
	VZEROUPPER
	RET
