//go:build amd64 && !noasm

#include "textflag.h"

// func qAddAVX2(p *[12]float32, dst, a, b *uint8, n int)
// 8 elements per step: levels to float32, (q - z)·s, sum, activation
// clamp, /sy, pre-clamp, round half to even (VCVTPS2DQ, default MXCSR),
// + zy, clamp to the levels, pack to bytes.
TEXT ·qAddAVX2(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), R8
	MOVQ dst+8(FP), DI
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DX
	MOVQ n+32(FP), CX
	VBROADCASTSS 0(R8), Y4
	VBROADCASTSS 4(R8), Y5
	VBROADCASTSS 8(R8), Y6
	VBROADCASTSS 12(R8), Y7
	VBROADCASTSS 16(R8), Y8
	VBROADCASTSS 20(R8), Y9
	VBROADCASTSS 24(R8), Y10
	VBROADCASTSS 28(R8), Y11
	VBROADCASTSS 32(R8), Y12
	VBROADCASTSS 36(R8), Y13
	VCVTPS2DQ    Y13, Y13
	VBROADCASTSS 40(R8), Y14
	VCVTPS2DQ    Y14, Y14
	VBROADCASTSS 44(R8), Y15
	VCVTPS2DQ    Y15, Y15
	XORQ AX, AX

	// Two independent steps of 8 per iteration while 16 remain.
	MOVQ CX, BX
	SUBQ $16, BX
	JLT  loop

loop2:
	VPMOVZXBD (SI)(AX*1), Y0
	VPMOVZXBD (DX)(AX*1), Y1
	VPMOVZXBD 8(SI)(AX*1), Y2
	VPMOVZXBD 8(DX)(AX*1), Y3
	VCVTDQ2PS Y0, Y0
	VCVTDQ2PS Y1, Y1
	VCVTDQ2PS Y2, Y2
	VCVTDQ2PS Y3, Y3
	VSUBPS    Y4, Y0, Y0
	VSUBPS    Y4, Y2, Y2
	VMULPS    Y5, Y0, Y0
	VMULPS    Y5, Y2, Y2
	VSUBPS    Y6, Y1, Y1
	VSUBPS    Y6, Y3, Y3
	VMULPS    Y7, Y1, Y1
	VMULPS    Y7, Y3, Y3
	VADDPS    Y1, Y0, Y0
	VADDPS    Y3, Y2, Y2
	VMAXPS    Y8, Y0, Y0
	VMAXPS    Y8, Y2, Y2
	VMINPS    Y9, Y0, Y0
	VMINPS    Y9, Y2, Y2
	VDIVPS    Y10, Y0, Y0
	VDIVPS    Y10, Y2, Y2
	VMAXPS    Y11, Y0, Y0
	VMAXPS    Y11, Y2, Y2
	VMINPS    Y12, Y0, Y0
	VMINPS    Y12, Y2, Y2
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y2, Y2
	VPADDD    Y13, Y0, Y0
	VPADDD    Y13, Y2, Y2
	VPMAXSD   Y14, Y0, Y0
	VPMAXSD   Y14, Y2, Y2
	VPMINSD   Y15, Y0, Y0
	VPMINSD   Y15, Y2, Y2
	VPACKUSDW Y2, Y0, Y0
	VPERMQ    $0xd8, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPACKUSWB X1, X0, X0
	VMOVDQU   X0, (DI)(AX*1)
	ADDQ      $16, AX
	CMPQ      AX, BX
	JLE       loop2
	CMPQ      AX, CX
	JGE       done

loop:
	VPMOVZXBD (SI)(AX*1), Y0
	VPMOVZXBD (DX)(AX*1), Y1
	VCVTDQ2PS Y0, Y0
	VCVTDQ2PS Y1, Y1
	VSUBPS    Y4, Y0, Y0
	VMULPS    Y5, Y0, Y0
	VSUBPS    Y6, Y1, Y1
	VMULPS    Y7, Y1, Y1
	VADDPS    Y1, Y0, Y0
	VMAXPS    Y8, Y0, Y0
	VMINPS    Y9, Y0, Y0
	VDIVPS    Y10, Y0, Y0
	VMAXPS    Y11, Y0, Y0
	VMINPS    Y12, Y0, Y0
	VCVTPS2DQ Y0, Y0
	VPADDD    Y13, Y0, Y0
	VPMAXSD   Y14, Y0, Y0
	VPMINSD   Y15, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPACKUSDW X1, X0, X0
	VPACKUSWB X0, X0, X0
	VMOVQ     X0, (DI)(AX*1)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JLT       loop
done:
	VZEROUPPER
	RET

// func qAddAVX512(z *[8]float32, dst, a, b *uint8, n int)
// QAdd on 16 elements per vector, n a multiple of 16 (two vectors per
// iteration while 32 remain, then one), with the clamps folded (see
// QAdd.z): (q - z)·s of both, the sum divided by sy, clamped to [L, H]
// (the activation's bounds divided by sy, within the levels less zy),
// rounded half to even (VCVTPS2DQ, default MXCSR), + zy: a level within
// [lo, hi], inside [0, 255] (qAddVec checks), stored by VPMOVDB's
// truncation.
TEXT ·qAddAVX512(SB), NOSPLIT, $0-40
	MOVQ         z+0(FP), R8
	MOVQ         dst+8(FP), DI
	MOVQ         a+16(FP), SI
	MOVQ         b+24(FP), DX
	MOVQ         n+32(FP), CX
	VBROADCASTSS 0(R8), Z4
	VBROADCASTSS 4(R8), Z5
	VBROADCASTSS 8(R8), Z6
	VBROADCASTSS 12(R8), Z7
	VBROADCASTSS 16(R8), Z8
	VBROADCASTSS 20(R8), Z9
	VBROADCASTSS 24(R8), Z10
	VBROADCASTSS 28(R8), Z11
	VCVTPS2DQ    Z11, Z11
	XORQ         AX, AX
	MOVQ         CX, BX
	SUBQ         $32, BX
	JLT          zloop

zloop2:
	VPMOVZXBD (SI)(AX*1), Z0
	VPMOVZXBD (DX)(AX*1), Z1
	VPMOVZXBD 16(SI)(AX*1), Z2
	VPMOVZXBD 16(DX)(AX*1), Z3
	VCVTDQ2PS Z0, Z0
	VCVTDQ2PS Z1, Z1
	VSUBPS    Z4, Z0, Z0
	VMULPS    Z5, Z0, Z0
	VSUBPS    Z6, Z1, Z1
	VMULPS    Z7, Z1, Z1
	VADDPS    Z1, Z0, Z0
	VDIVPS    Z8, Z0, Z0
	VMAXPS    Z9, Z0, Z0
	VMINPS    Z10, Z0, Z0
	VCVTPS2DQ Z0, Z0
	VPADDD    Z11, Z0, Z0
	VCVTDQ2PS Z2, Z2
	VCVTDQ2PS Z3, Z3
	VSUBPS    Z4, Z2, Z2
	VMULPS    Z5, Z2, Z2
	VSUBPS    Z6, Z3, Z3
	VMULPS    Z7, Z3, Z3
	VADDPS    Z3, Z2, Z2
	VDIVPS    Z8, Z2, Z2
	VMAXPS    Z9, Z2, Z2
	VMINPS    Z10, Z2, Z2
	VCVTPS2DQ Z2, Z2
	VPADDD    Z11, Z2, Z2
	VPMOVDB   Z0, (DI)(AX*1)
	VPMOVDB   Z2, 16(DI)(AX*1)
	ADDQ      $32, AX
	CMPQ      AX, BX
	JLE       zloop2
	CMPQ      AX, CX
	JGE       zdone

zloop:
	VPMOVZXBD (SI)(AX*1), Z0
	VPMOVZXBD (DX)(AX*1), Z1
	VCVTDQ2PS Z0, Z0
	VCVTDQ2PS Z1, Z1
	VSUBPS    Z4, Z0, Z0
	VMULPS    Z5, Z0, Z0
	VSUBPS    Z6, Z1, Z1
	VMULPS    Z7, Z1, Z1
	VADDPS    Z1, Z0, Z0
	VDIVPS    Z8, Z0, Z0
	VMAXPS    Z9, Z0, Z0
	VMINPS    Z10, Z0, Z0
	VCVTPS2DQ Z0, Z0
	VPADDD    Z11, Z0, Z0
	VPMOVDB   Z0, (DI)(AX*1)
	ADDQ      $16, AX
	CMPQ      AX, CX
	JLT       zloop

zdone:
	VZEROUPPER
	RET

// func quantize8AVX2(p *[8]float32, dst *uint8, x *float32, n int, signed bool)
// dst[i] = clamp(RoundHalfEven(clamp(x[i]/s, vlo, vhi)) + zp, lo, hi),
// NaN giving level nan, for i < n, a multiple of 8; p holds s, vlo, vhi,
// zp, lo, hi, nan. Levels are packed with unsigned (uint8) or signed (int8)
// saturation, exact after the clamp.
TEXT ·quantize8AVX2(SB), NOSPLIT, $0-33
	MOVQ         p+0(FP), R8
	MOVQ         dst+8(FP), DI
	MOVQ         x+16(FP), SI
	MOVQ         n+24(FP), CX
	MOVBLZX      signed+32(FP), DX
	VBROADCASTSS 0(R8), Y8
	VBROADCASTSS 4(R8), Y9
	VBROADCASTSS 8(R8), Y10
	VBROADCASTSS 12(R8), Y11
	VCVTPS2DQ    Y11, Y11
	VBROADCASTSS 16(R8), Y12
	VCVTPS2DQ    Y12, Y12
	VBROADCASTSS 20(R8), Y13
	VCVTPS2DQ    Y13, Y13
	VBROADCASTSS 24(R8), Y14
	VCVTPS2DQ    Y14, Y14
	XORQ         AX, AX

qloop:
	CMPQ         AX, CX
	JGE          qdone
	VMOVUPS      (SI)(AX*4), Y0
	VDIVPS       Y8, Y0, Y0
	VCMPPS       $3, Y0, Y0, Y5
	VMAXPS       Y9, Y0, Y0
	VMINPS       Y10, Y0, Y0
	VCVTPS2DQ    Y0, Y0
	VPADDD       Y11, Y0, Y0
	VPMAXSD      Y12, Y0, Y0
	VPMINSD      Y13, Y0, Y0
	VBLENDVPS    Y5, Y14, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	TESTQ        DX, DX
	JNZ          qsigned
	VPACKUSDW    X1, X0, X0
	VPACKUSWB    X0, X0, X0
	JMP          qstore

qsigned:
	VPACKSSDW X1, X0, X0
	VPACKSSWB X0, X0, X0

qstore:
	VMOVQ X0, (DI)(AX*1)
	ADDQ  $8, AX
	JMP   qloop

qdone:
	VZEROUPPER
	RET

// func dequantize8AVX2(y *float32, x *uint8, n int, zp, s float32, signed bool)
// y[i] = (float32(x[i]) - zp) * s for i < n, a multiple of 8, x holding
// uint8 levels (or int8 ones when signed).
TEXT ·dequantize8AVX2(SB), NOSPLIT, $0-33
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS zp+24(FP), Y8
	VBROADCASTSS s+28(FP), Y9
	MOVBLZX      signed+32(FP), DX
	XORQ         AX, AX

dloop:
	CMPQ      AX, CX
	JGE       ddone
	TESTQ     DX, DX
	JNZ       dsigned
	VPMOVZXBD (SI)(AX*1), Y0
	JMP       dconv

dsigned:
	VPMOVSXBD (SI)(AX*1), Y0

dconv:
	VCVTDQ2PS Y0, Y0
	VSUBPS    Y8, Y0, Y0
	VMULPS    Y9, Y0, Y0
	VMOVUPS   Y0, (DI)(AX*4)
	ADDQ      $8, AX
	JMP       dloop

ddone:
	VZEROUPPER
	RET
