//go:build amd64 && !noasm

#include "textflag.h"

DATA halfC<>+0(SB)/4, $0x00007fff  // a half's magnitude bits
DATA halfC<>+4(SB)/4, $0x00007c00  // above it: NaN
DATA halfC<>+8(SB)/4, $0x7f800000  // float32 exponent of Inf and NaN
DATA halfC<>+12(SB)/4, $0x007fe000 // a half's fraction, shifted 13
DATA halfC<>+16(SB)/4, $0x80000000 // float32 sign
DATA halfC<>+20(SB)/4, $0x7fc00000 // float32 quiet NaN
GLOBL halfC<>(SB), RODATA|NOPTR, $24

// func halfToF32F16C(dst *float32, src *uint16, n int)
//
// VCVTPH2PS, then NaN lanes (magnitude above 0x7c00) take the scalar
// conversion's bits: sign<<31 | 0x7f800000 | fraction<<13.
TEXT ·halfToF32F16C(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	SHRQ         $3, CX
	JZ           h2fdone
	VPBROADCASTD halfC<>+0(SB), Y8
	VPBROADCASTD halfC<>+4(SB), Y9
	VPBROADCASTD halfC<>+8(SB), Y10
	VPBROADCASTD halfC<>+12(SB), Y11
	VPBROADCASTD halfC<>+16(SB), Y12

h2floop:
	VCVTPH2PS (SI), Y0
	VPMOVZXWD (SI), Y1
	VPAND     Y8, Y1, Y2
	VPCMPGTD  Y9, Y2, Y2    // NaN lanes
	VPSLLD    $16, Y1, Y3
	VPAND     Y12, Y3, Y3   // sign
	VPSLLD    $13, Y1, Y4
	VPAND     Y11, Y4, Y4   // fraction
	VPOR      Y10, Y3, Y3
	VPOR      Y4, Y3, Y3
	VPBLENDVB Y2, Y3, Y0, Y0
	VMOVUPS   Y0, (DI)
	ADDQ      $16, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       h2floop
	VZEROUPPER

h2fdone:
	RET

// func f32ToHalfF16C(dst *uint16, src *float32, n int)
//
// NaN lanes become the quiet NaN of their sign (0x7fc00000, which
// VCVTPS2PH turns into 0x7e00), then VCVTPS2PH rounds to nearest even
// (immediate 0, whatever MXCSR says).
TEXT ·f32ToHalfF16C(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	SHRQ         $3, CX
	JZ           f2hdone
	VPBROADCASTD halfC<>+16(SB), Y12
	VPBROADCASTD halfC<>+20(SB), Y13

f2hloop:
	VMOVUPS   (SI), Y0
	VCMPPS    $3, Y0, Y0, Y1 // unordered: NaN lanes
	VANDPS    Y12, Y0, Y2
	VORPS     Y13, Y2, Y2
	VBLENDVPS Y1, Y2, Y0, Y0
	VCVTPS2PH $0, Y0, (DI)
	ADDQ      $32, SI
	ADDQ      $16, DI
	DECQ      CX
	JNZ       f2hloop
	VZEROUPPER

f2hdone:
	RET
