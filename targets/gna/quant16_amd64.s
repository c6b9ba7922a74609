//go:build amd64 && !noasm

#include "textflag.h"

// func toInt16AVX2(dst *int16, src *float32, n int, scale, lo, hi float64)
// toInt16s for n a multiple of 8: x/scale in float64 (VDIVPD: the
// scalar division's bits), rounded half to even (VROUNDPD, mode 0),
// NaN to 0, clamped to [lo, hi] (which lie in int16's range), then
// narrowed (exact: the values are integers in range).
TEXT ·toInt16AVX2(SB), NOSPLIT, $0-48
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSD scale+24(FP), Y13
	VBROADCASTSD lo+32(FP), Y14
	VBROADCASTSD hi+40(FP), Y15
	XORQ         AX, AX

loop:
	CMPQ       AX, CX
	JGE        done
	VCVTPS2PD  (SI)(AX*4), Y0
	VCVTPS2PD  16(SI)(AX*4), Y1
	VDIVPD     Y13, Y0, Y0
	VDIVPD     Y13, Y1, Y1
	VROUNDPD   $0, Y0, Y0
	VROUNDPD   $0, Y1, Y1
	VCMPPD     $3, Y0, Y0, Y2 // unordered: NaN
	VCMPPD     $3, Y1, Y1, Y3
	VANDNPD    Y0, Y2, Y0     // NaN to +0
	VANDNPD    Y1, Y3, Y1
	VMAXPD     Y14, Y0, Y0
	VMAXPD     Y14, Y1, Y1
	VMINPD     Y15, Y0, Y0
	VMINPD     Y15, Y1, Y1
	VCVTPD2DQY Y0, X0
	VCVTPD2DQY Y1, X1
	VPACKSSDW  X1, X0, X0
	VMOVDQU    X0, (DI)(AX*2)
	ADDQ       $8, AX
	JMP        loop

done:
	VZEROUPPER
	RET

// The int32 range, as int64, for the clamps of accToFloatAVX2.
DATA accLim<>+0(SB)/8, $-2147483648
DATA accLim<>+8(SB)/8, $2147483647
GLOBL accLim<>(SB), RODATA|NOPTR, $16

// func accToFloatAVX2(dst *float32, acc *int64, n int, bias int64, scale float64)
// accToFloats for n a multiple of 4: bias+acc (int64, wrapping), clamped
// to int32's range (VPCMPGTQ and blends), narrowed to int32, converted to
// float64 (exact), times scale, rounded to float32 (VCVTPD2PS: Go's
// conversion).
TEXT ·accToFloatAVX2(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         acc+8(FP), SI
	MOVQ         n+16(FP), CX
	VPBROADCASTQ bias+24(FP), Y13
	VBROADCASTSD scale+32(FP), Y12
	VPBROADCASTQ accLim<>+0(SB), Y14
	VPBROADCASTQ accLim<>+8(SB), Y15
	XORQ         AX, AX

accloop:
	CMPQ         AX, CX
	JGE          accdone
	VMOVDQU      (SI)(AX*8), Y0
	VPADDQ       Y13, Y0, Y0
	VPCMPGTQ     Y14, Y0, Y1     // v > lo
	VBLENDVPD    Y1, Y0, Y14, Y0 // v > lo ? v : lo
	VPCMPGTQ     Y0, Y15, Y1     // hi > v
	VBLENDVPD    Y1, Y0, Y15, Y0 // hi > v ? v : hi
	VPSHUFD      $0x08, Y0, Y0 // each lane: its two int32s (the low dwords) first
	VPERMQ       $0x08, Y0, Y0 // both lanes' first qwords together
	VCVTDQ2PD    X0, Y0
	VMULPD       Y12, Y0, Y0
	VCVTPD2PSY   Y0, X0
	VMOVUPS      X0, (DI)(AX*4)
	ADDQ         $4, AX
	JMP          accloop

accdone:
	VZEROUPPER
	RET
