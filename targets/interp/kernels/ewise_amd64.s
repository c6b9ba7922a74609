//go:build amd64 && !noasm

#include "textflag.h"

// HSIGSETUP: hard-sigmoid constants (alpha, beta, 0, 1 in Y4-Y7) and the
// pointers of a (dst, src, n, alpha, beta) call.
#define HSIGSETUP \
	MOVQ         dst+0(FP), DI; \
	MOVQ         src+8(FP), SI; \
	MOVQ         n+16(FP), CX; \
	VBROADCASTSS alpha+24(FP), Y4; \
	VBROADCASTSS beta+28(FP), Y5; \
	VXORPS       Y6, Y6, Y6; \
	MOVL         $0x3f800000, BX; \
	VMOVD        BX, X7; \
	VBROADCASTSS X7, Y7; \
	XORQ         AX, AX

// HSIG16: Y2, Y3 = min(1, max(0, alpha*x + beta)) of the 16 values
// loaded from (SI)(AX*4) into Y0, Y1. The clamped value is the second
// source of VMINPS and VMAXPS, which return it when it is NaN.
#define HSIG16 \
	VMOVUPS     (SI)(AX*4), Y0; \
	VMOVUPS     32(SI)(AX*4), Y1; \
	VMOVAPS     Y5, Y2; \
	VMOVAPS     Y5, Y3; \
	VFMADD231PS Y0, Y4, Y2; \
	VFMADD231PS Y1, Y4, Y3; \
	VMINPS      Y2, Y7, Y2; \
	VMINPS      Y3, Y7, Y3; \
	VMAXPS      Y2, Y6, Y2; \
	VMAXPS      Y3, Y6, Y3

// func addAVX(dst, a, b *float32, n int)
// dst[i] = a[i] + b[i] for i < n rounded down to a multiple of 16.
TEXT ·addAVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX

addloop:
	LEAQ    16(AX), BX
	CMPQ    BX, CX
	JGT     adddone
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VADDPS  (DX)(AX*4), Y0, Y0
	VADDPS  32(DX)(AX*4), Y1, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	MOVQ    BX, AX
	JMP     addloop

adddone:
	VZEROUPPER
	RET

// func mulAVX(dst, a, b *float32, n int)
// dst[i] = a[i] * b[i] for i < n rounded down to a multiple of 16.
TEXT ·mulAVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX

mulloop:
	LEAQ    16(AX), BX
	CMPQ    BX, CX
	JGT     muldone
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMULPS  (DX)(AX*4), Y0, Y0
	VMULPS  32(DX)(AX*4), Y1, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	MOVQ    BX, AX
	JMP     mulloop

muldone:
	VZEROUPPER
	RET

// func hardSigmoidAVX(dst, src *float32, n int, alpha, beta float32)
// dst[i] = min(1, max(0, alpha*src[i] + beta)) for i < n rounded down to
// a multiple of 16.
TEXT ·hardSigmoidAVX(SB), NOSPLIT, $0-32
	HSIGSETUP

hsloop:
	LEAQ    16(AX), BX
	CMPQ    BX, CX
	JGT     hsdone
	HSIG16
	VMOVUPS Y2, (DI)(AX*4)
	VMOVUPS Y3, 32(DI)(AX*4)
	MOVQ    BX, AX
	JMP     hsloop

hsdone:
	VZEROUPPER
	RET

// func hardSwishAVX(dst, src *float32, n int, alpha, beta float32)
// dst[i] = src[i] * min(1, max(0, alpha*src[i] + beta)) for i < n rounded
// down to a multiple of 16: hardSigmoidAVX's value, then one multiply, so
// that it equals HardSigmoid followed by Mul.
TEXT ·hardSwishAVX(SB), NOSPLIT, $0-32
	HSIGSETUP

hwloop:
	LEAQ    16(AX), BX
	CMPQ    BX, CX
	JGT     hwdone
	HSIG16
	VMULPS  Y2, Y0, Y2
	VMULPS  Y3, Y1, Y3
	VMOVUPS Y2, (DI)(AX*4)
	VMOVUPS Y3, 32(DI)(AX*4)
	MOVQ    BX, AX
	JMP     hwloop

hwdone:
	VZEROUPPER
	RET

// func minMaxAVX(dst, a, b *float32, n int, s float32, mode int)
// The vector part (n rounded down to a multiple of 8) of MaxF32, MinF32
// and their scalar forms. mode: bit 0 max, else min; bit 1 the second
// operand is the scalar s, not b; bit 2 (with bit 1) the scalar is the
// first operand and a the second. With x the first operand and y the
// second, VMAXPS (VMINPS) gives x if x > y (x < y), else y, which is y
// when either is NaN; a blend then puts x back where x is NaN.
TEXT ·minMaxAVX(SB), NOSPLIT, $0-48
	MOVQ         dst+0(FP), DI
	MOVQ         a+8(FP), SI
	MOVQ         b+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS s+32(FP), Y5
	MOVQ         mode+40(FP), R8
	ANDQ         $-8, CX
	XORQ         AX, AX

mmloop:
	CMPQ    AX, CX
	JGE     mmdone
	TESTQ   $2, R8
	JNZ     mmscalar
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS (DX)(AX*4), Y1
	JMP     mmop

mmscalar:
	TESTQ   $4, R8
	JNZ     mmfirst
	VMOVUPS (SI)(AX*4), Y0
	VMOVAPS Y5, Y1
	JMP     mmop

mmfirst:
	VMOVAPS Y5, Y0
	VMOVUPS (SI)(AX*4), Y1

mmop:
	TESTQ  $1, R8
	JZ     mmmin
	VMAXPS Y1, Y0, Y2
	JMP    mmfix

mmmin:
	VMINPS Y1, Y0, Y2

mmfix:
	VCMPPS    $3, Y0, Y0, Y3
	VBLENDVPS Y3, Y0, Y2, Y2
	VMOVUPS   Y2, (DI)(AX*4)
	ADDQ      $8, AX
	JMP       mmloop

mmdone:
	VZEROUPPER
	RET

// func leakyReLUAVX(dst, src *float32, n int, alpha float32)
// dst[i] = alpha*src[i] where src[i] < 0, else src[i], for i < n rounded
// down to a multiple of 8: the product blended in under the mask of
// x < 0 (false for NaN and -0, which pass unchanged).
TEXT ·leakyReLUAVX(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS alpha+24(FP), Y5
	VXORPS       Y6, Y6, Y6
	ANDQ         $-8, CX
	XORQ         AX, AX

lrloop:
	CMPQ      AX, CX
	JGE       lrdone
	VMOVUPS   (SI)(AX*4), Y0
	VMULPS    Y5, Y0, Y1
	VCMPPS    $1, Y6, Y0, Y2
	VBLENDVPS Y2, Y1, Y0, Y0
	VMOVUPS   Y0, (DI)(AX*4)
	ADDQ      $8, AX
	JMP       lrloop

lrdone:
	VZEROUPPER
	RET

// SAX and SAS apply OP to register r and the scalar in Y5: r OP s, and
// s OP r (Go's operand order for VxxxPS is src2, src1, dst: the result
// is src1 OP src2).
#define SAX(OP, r) OP Y5, r, r
#define SAS(OP, r) OP r, Y5, r

// SALOOP: the loop of scalarArithAVX for one operation, FORM(OP, r)
// (SAX or SAS) on the 32 values at SI, 32 at a time, then to sadone.
#define SALOOP(label, FORM, OP) \
label: \
	LEAQ    32(AX), BX; \
	CMPQ    BX, CX; \
	JGT     sadone; \
	VMOVUPS (SI)(AX*4), Y0; \
	VMOVUPS 32(SI)(AX*4), Y1; \
	VMOVUPS 64(SI)(AX*4), Y2; \
	VMOVUPS 96(SI)(AX*4), Y3; \
	FORM(OP, Y0); \
	FORM(OP, Y1); \
	FORM(OP, Y2); \
	FORM(OP, Y3); \
	VMOVUPS Y0, (DI)(AX*4); \
	VMOVUPS Y1, 32(DI)(AX*4); \
	VMOVUPS Y2, 64(DI)(AX*4); \
	VMOVUPS Y3, 96(DI)(AX*4); \
	MOVQ    BX, AX; \
	JMP     label

// func scalarArithAVX(dst, src *float32, n int, s float32, op int)
// dst[i] = src[i] op s (or s op src[i]) for i < n rounded down to a
// multiple of 32; op is one of the sa* constants of ewise.go (0 add, 1
// sub, 2 reversed sub, 3 mul, 4 div, 5 reversed div). Each result is the
// one IEEE operation of the scalar loop, so it rounds alike. The op is
// chosen once: each has its own loop of 32 elements.
TEXT ·scalarArithAVX(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS s+24(FP), Y5
	MOVQ         op+32(FP), R8
	XORQ         AX, AX
	CMPQ         R8, $1
	JEQ          sasubloop
	CMPQ         R8, $2
	JEQ          sarsubloop
	CMPQ         R8, $3
	JEQ          samulloop
	CMPQ         R8, $4
	JEQ          sadivloop
	CMPQ         R8, $5
	JEQ          sardivloop

SALOOP(saaddloop, SAX, VADDPS)
SALOOP(sasubloop, SAX, VSUBPS)
SALOOP(sarsubloop, SAS, VSUBPS)
SALOOP(samulloop, SAX, VMULPS)
SALOOP(sadivloop, SAX, VDIVPS)
SALOOP(sardivloop, SAS, VDIVPS)

sadone:
	VZEROUPPER
	RET

// func clipAVX(dst, src *float32, n int, lo, hi float32)
// dst[i] = min(hi, max(lo, src[i])) for i < n rounded down to a multiple
// of 16, as the scalar rule: lo where x < lo, then hi where that is
// above hi. x is the second source of VMAXPS and the running value that
// of VMINPS, which return it when it is NaN (NaN passes) or when the two
// compare equal (-0 stays -0 at a bound of +0).
TEXT ·clipAVX(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS lo+24(FP), Y5
	VBROADCASTSS hi+28(FP), Y6
	XORQ         AX, AX

cliploop:
	LEAQ    16(AX), BX
	CMPQ    BX, CX
	JGT     clipdone
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMAXPS  Y0, Y5, Y0
	VMAXPS  Y1, Y5, Y1
	VMINPS  Y0, Y6, Y0
	VMINPS  Y1, Y6, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	MOVQ    BX, AX
	JMP     cliploop

clipdone:
	VZEROUPPER
	RET

// func affineAVX(dst, src *float32, n int, m, a float32)
// dst[i] = src[i]*m + a, the product rounded before the sum (no FMA), for
// i < n rounded down to a multiple of 32.
TEXT ·affineAVX(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS m+24(FP), Y5
	VBROADCASTSS a+28(FP), Y6
	XORQ         AX, AX

affloop:
	LEAQ    32(AX), BX
	CMPQ    BX, CX
	JGT     affdone
	VMULPS  (SI)(AX*4), Y5, Y0
	VMULPS  32(SI)(AX*4), Y5, Y1
	VMULPS  64(SI)(AX*4), Y5, Y2
	VMULPS  96(SI)(AX*4), Y5, Y3
	VADDPS  Y6, Y0, Y0
	VADDPS  Y6, Y1, Y1
	VADDPS  Y6, Y2, Y2
	VADDPS  Y6, Y3, Y3
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	MOVQ    BX, AX
	JMP     affloop

affdone:
	VZEROUPPER
	RET
