//go:build amd64 && !noasm

#include "textflag.h"

// The constants of Go's math/exp_amd64.s (Shibata's method, from SLEEF),
// broadcast: log2(e), ln(2) in two parts, the Taylor coefficients, the
// exponent bias, and the argument range of the normal results.
DATA expconst<>+0(SB)/8, $1.4426950408889634073599246810018920   // LOG2E
DATA expconst<>+8(SB)/8, $0.69314718055966295651160180568695068359375 // LN2U
DATA expconst<>+16(SB)/8, $0.28235290563031577122588448175013436025525412068e-12 // LN2L
DATA expconst<>+24(SB)/8, $0.0625
DATA expconst<>+32(SB)/8, $2.4801587301587301587e-5
DATA expconst<>+40(SB)/8, $1.9841269841269841270e-4
DATA expconst<>+48(SB)/8, $1.3888888888888888889e-3
DATA expconst<>+56(SB)/8, $8.3333333333333333333e-3
DATA expconst<>+64(SB)/8, $4.1666666666666666667e-2
DATA expconst<>+72(SB)/8, $1.6666666666666666667e-1
DATA expconst<>+80(SB)/8, $0.5
DATA expconst<>+88(SB)/8, $1.0
DATA expconst<>+96(SB)/8, $2.0
DATA expconst<>+104(SB)/8, $1023
DATA expconst<>+112(SB)/8, $-708.0
DATA expconst<>+120(SB)/8, $709.0
GLOBL expconst<>(SB), RODATA|NOPTR, $128

// func expAVX2(dst, src *float64, n int) int
// dst[i] = exp(src[i]) four at a time, each lane the operations of
// math.Exp's FMA path in its order: n = round(x·log2e); r = x - n·LN2U
// - n·LN2L (fused); r /= 16; a Taylor polynomial by FMA; four squarings
// (r·(r+2)), the last with +1 fused; then the product by 2^n. It stops
// before the first group of four with an argument outside [-708, 709]
// (NaN included: there math.Exp's other branches apply) or the tail,
// and returns the count done.
TEXT ·expAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX
	VBROADCASTSD expconst<>+112(SB), Y14 // -708
	VBROADCASTSD expconst<>+120(SB), Y15 // 709

exploop:
	LEAQ    4(AX), BX
	CMPQ    BX, CX
	JGT     expdone
	VMOVUPD (SI)(AX*8), Y0
	// In range: -708 <= x && x <= 709 (false for NaN).
	VCMPPD    $0x1d, Y14, Y0, Y2 // x >= -708, ordered
	VCMPPD    $0x12, Y15, Y0, Y3 // x <= 709, ordered
	VANDPD    Y3, Y2, Y2
	VMOVMSKPD Y2, DX
	CMPQ      DX, $15
	JNE       expdone
	VBROADCASTSD expconst<>+0(SB), Y1
	VMULPD       Y1, Y0, Y1 // x·log2e
	VCVTPD2DQY   Y1, X4                   // n, rounded to nearest
	VCVTDQ2PD    X4, Y1                   // float64(n)
	VBROADCASTSD expconst<>+8(SB), Y2
	VFNMADD231PD Y2, Y1, Y0 // x -= n·LN2U
	VBROADCASTSD expconst<>+16(SB), Y2
	VFNMADD231PD Y2, Y1, Y0 // x -= n·LN2L
	VBROADCASTSD expconst<>+24(SB), Y2
	VMULPD       Y2, Y0, Y0 // /16
	VBROADCASTSD expconst<>+32(SB), Y1
	VBROADCASTSD expconst<>+40(SB), Y2
	VFMADD213PD  Y2, Y0, Y1
	VBROADCASTSD expconst<>+48(SB), Y2
	VFMADD213PD  Y2, Y0, Y1
	VBROADCASTSD expconst<>+56(SB), Y2
	VFMADD213PD  Y2, Y0, Y1
	VBROADCASTSD expconst<>+64(SB), Y2
	VFMADD213PD  Y2, Y0, Y1
	VBROADCASTSD expconst<>+72(SB), Y2
	VFMADD213PD  Y2, Y0, Y1
	VBROADCASTSD expconst<>+80(SB), Y2
	VFMADD213PD  Y2, Y0, Y1
	VBROADCASTSD expconst<>+88(SB), Y5 // 1
	VFMADD213PD  Y5, Y0, Y1
	VMULPD       Y1, Y0, Y0
	VBROADCASTSD expconst<>+96(SB), Y6 // 2
	VADDPD       Y6, Y0, Y1
	VMULPD       Y1, Y0, Y0
	VADDPD       Y6, Y0, Y1
	VMULPD       Y1, Y0, Y0
	VADDPD       Y6, Y0, Y1
	VMULPD       Y1, Y0, Y0
	VADDPD       Y6, Y0, Y1
	VFMADD213PD  Y5, Y1, Y0 // x·(x+2) + 1
	// · 2^n: (n + 1023) << 52 as the bits of a float64.
	VPMOVSXDQ    X4, Y4
	VPBROADCASTQ expconst<>+104(SB), Y2
	VPADDQ       Y2, Y4, Y4
	VPSLLQ       $52, Y4, Y4
	VMULPD       Y4, Y0, Y0
	VMOVUPD      Y0, (DI)(AX*8)
	MOVQ         BX, AX
	JMP          exploop

expdone:
	VZEROUPPER
	MOVQ AX, ret+24(FP)
	RET
