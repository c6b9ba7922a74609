//go:build amd64 && !noasm

#include "textflag.h"

// The reductions of reduce.go on AVX2, 8 values at a time in two
// accumulators. absMax's maximum of bit patterns does not depend on the
// order, so it is exact. extremum's maximum (or minimum) is exact where
// its value alone decides its bits: the caller falls back to the Go
// loop when a value is NaN or infinite (flag bit 0) or when the result
// is zero and some value is -0 (flag bit 1), the cases where the Go
// loop's order matters.

// EXTREMUM(VOP): the body of extremum*AVX2(data *float32, n int) (m float32, flags int),
// n a multiple of 16 and at least 16, VOP VMAXPS or VMINPS: m the
// largest (smallest) value, flags bit 0 when a value is NaN or infinite,
// bit 1 when a value is -0. Y12 holds 0x7FFFFFFF (abs), Y13 0x7F7FFFFF
// (the largest finite bit pattern), Y14 0x80000000 (-0); Y10 and Y11
// gather the flags.
#define EXTREMUM(VOP) \
	MOVQ         data+0(FP), SI \
	MOVQ         n+8(FP), CX \
	VPCMPEQD     Y12, Y12, Y12 \
	VPSRLD       $1, Y12, Y12 \
	MOVL         $0x7F7FFFFF, AX \
	VMOVD        AX, X13 \
	VPBROADCASTD X13, Y13 \
	VPCMPEQD     Y14, Y14, Y14 \
	VPSLLD       $31, Y14, Y14 \
	VPXOR        Y10, Y10, Y10 \
	VPXOR        Y11, Y11, Y11 \
	VMOVUPS      (SI), Y0 \
	VMOVUPS      32(SI), Y1 \
	XORQ         AX, AX \
eloop: \
	CMPQ         AX, CX \
	JGE          edone \
	VMOVUPS      (SI)(AX*4), Y2 \
	VMOVUPS      32(SI)(AX*4), Y3 \
	VOP          Y2, Y0, Y0 \
	VOP          Y3, Y1, Y1 \
	VPAND        Y12, Y2, Y4 \
	VPAND        Y12, Y3, Y5 \
	VPCMPGTD     Y13, Y4, Y4 \
	VPCMPGTD     Y13, Y5, Y5 \
	VPOR         Y4, Y10, Y10 \
	VPOR         Y5, Y10, Y10 \
	VPCMPEQD     Y14, Y2, Y6 \
	VPCMPEQD     Y14, Y3, Y7 \
	VPOR         Y6, Y11, Y11 \
	VPOR         Y7, Y11, Y11 \
	ADDQ         $16, AX \
	JMP          eloop \
edone: \
	VOP          Y1, Y0, Y0 \
	VEXTRACTI128 $1, Y0, X1 \
	VOP          X1, X0, X0 \
	VPERMILPS    $0x4E, X0, X1 \
	VOP          X1, X0, X0 \
	VPERMILPS    $0xB1, X0, X1 \
	VOP          X1, X0, X0 \
	VMOVSS       X0, m+16(FP) \
	XORQ         BX, BX \
	VPTEST       Y10, Y10 \
	JZ           efinite \
	ORQ          $1, BX \
efinite: \
	VPTEST       Y11, Y11 \
	JZ           eflags \
	ORQ          $2, BX \
eflags: \
	MOVQ         BX, flags+24(FP) \
	VZEROUPPER \
	RET

// func absMaxAVX2(data *float32, n int) uint32
// The largest bit pattern without the sign of data[0:n], n a multiple
// of 16.
TEXT ·absMaxAVX2(SB), NOSPLIT, $0-20
	MOVQ         data+0(FP), SI
	MOVQ         n+8(FP), CX
	VPCMPEQD     Y15, Y15, Y15
	VPSRLD       $1, Y15, Y15 // 0x7FFFFFFF
	VPXOR        Y0, Y0, Y0
	VPXOR        Y1, Y1, Y1
	XORQ         AX, AX

aloop:
	CMPQ         AX, CX
	JGE          adone
	VPAND        (SI)(AX*4), Y15, Y2
	VPAND        32(SI)(AX*4), Y15, Y3
	VPMAXUD      Y2, Y0, Y0
	VPMAXUD      Y3, Y1, Y1
	ADDQ         $16, AX
	JMP          aloop

adone:
	VPMAXUD      Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPMAXUD      X1, X0, X0
	VPSHUFD      $0x4E, X0, X1
	VPMAXUD      X1, X0, X0
	VPSHUFD      $0xB1, X0, X1
	VPMAXUD      X1, X0, X0
	VMOVD        X0, AX
	MOVL         AX, ret+16(FP)
	VZEROUPPER
	RET

// func maxAVX2(data *float32, n int) (m float32, flags int)
TEXT ·maxAVX2(SB), NOSPLIT, $0-32
	EXTREMUM(VMAXPS)

// func minAVX2(data *float32, n int) (m float32, flags int)
TEXT ·minAVX2(SB), NOSPLIT, $0-32
	EXTREMUM(VMINPS)
