//go:build amd64 && !noasm

#include "textflag.h"

// The GEMM kernel of the fast GnaConv (see convfast.go): 4 channels by
// 32 pixels over np tap pairs. Per pair j, a holds 4 channels' (high,
// low) pair words (32 bytes, each broadcast) and b at word offs[j] the 32
// pixels' pair words (two ZMM). Accumulator Z(4r+2hl+v) holds channel r,
// part hl, pixels 16v..16v+15; at the end each channel's 256·high + low
// is added to acc (int64, channel-major).

// One channel part: broadcast the word at off(SI), multiply-add both
// pixel halves into the accumulators za, zb.
#define PART_BW(off, za, zb) \
	VPBROADCASTD off(SI), Z18; \
	VPMADDWD     Z16, Z18, Z20; \
	VPMADDWD     Z17, Z18, Z21; \
	VPADDD       Z20, za, za; \
	VPADDD       Z21, zb, zb

#define PART_VNNI(off, za, zb) \
	VPBROADCASTD off(SI), Z18; \
	VPDPWSSD     Z16, Z18, za; \
	VPDPWSSD     Z17, Z18, zb

#define ZERO_ACC \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15

// ACC adds 256·H + L of one channel's 16 pixels (H, L int32 in ZMM hz,
// lz, their lower halves hy, ly) to the 16 int64 at off(DX).
#define ACC(hz, hy, lz, ly, off) \
	VPMOVSXDQ     hy, Z20; \
	VPMOVSXDQ     ly, Z21; \
	VPSLLQ        $8, Z20, Z20; \
	VPADDQ        Z21, Z20, Z20; \
	VPADDQ        off(DX), Z20, Z20; \
	VMOVDQU64     Z20, off(DX); \
	VEXTRACTI64X4 $1, hz, Y22; \
	VEXTRACTI64X4 $1, lz, Y23; \
	VPMOVSXDQ     Y22, Z22; \
	VPMOVSXDQ     Y23, Z23; \
	VPSLLQ        $8, Z22, Z22; \
	VPADDQ        Z23, Z22, Z22; \
	VPADDQ        off+64(DX), Z22, Z22; \
	VMOVDQU64     Z22, off+64(DX)

// STORE_ACC adds the sums to acc: channel r's pixels 16v.. at byte
// 256r + 128v, high part Z(4r+v), low part Z(4r+2+v).
#define STORE_ACC \
	ACC(Z0, Y0, Z2, Y2, 0); \
	ACC(Z1, Y1, Z3, Y3, 128); \
	ACC(Z4, Y4, Z6, Y6, 256); \
	ACC(Z5, Y5, Z7, Y7, 384); \
	ACC(Z8, Y8, Z10, Y10, 512); \
	ACC(Z9, Y9, Z11, Y11, 640); \
	ACC(Z12, Y12, Z14, Y14, 768); \
	ACC(Z13, Y13, Z15, Y15, 896)

// func convTile512BW(a, b, offs *int32, np int, out *[convTileM * convTileN]int64)
TEXT ·convTile512BW(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ offs+16(FP), R8
	MOVQ np+24(FP), CX
	MOVQ out+32(FP), DX
	ZERO_ACC

loopBW:
	MOVLQSX   (R8), R9
	VMOVDQU32 0(DI)(R9*4), Z16
	VMOVDQU32 64(DI)(R9*4), Z17
	PART_BW(0, Z0, Z1)
	PART_BW(4, Z2, Z3)
	PART_BW(8, Z4, Z5)
	PART_BW(12, Z6, Z7)
	PART_BW(16, Z8, Z9)
	PART_BW(20, Z10, Z11)
	PART_BW(24, Z12, Z13)
	PART_BW(28, Z14, Z15)
	ADDQ $32, SI
	ADDQ $4, R8
	DECQ CX
	JNZ  loopBW

	STORE_ACC
	VZEROUPPER
	RET

// func convTile512VNNI(a, b, offs *int32, np int, out *[convTileM * convTileN]int64)
TEXT ·convTile512VNNI(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ offs+16(FP), R8
	MOVQ np+24(FP), CX
	MOVQ out+32(FP), DX
	ZERO_ACC

loopVNNI:
	MOVLQSX   (R8), R9
	VMOVDQU32 0(DI)(R9*4), Z16
	VMOVDQU32 64(DI)(R9*4), Z17
	PART_VNNI(0, Z0, Z1)
	PART_VNNI(4, Z2, Z3)
	PART_VNNI(8, Z4, Z5)
	PART_VNNI(12, Z6, Z7)
	PART_VNNI(16, Z8, Z9)
	PART_VNNI(20, Z10, Z11)
	PART_VNNI(24, Z12, Z13)
	PART_VNNI(28, Z14, Z15)
	ADDQ $32, SI
	ADDQ $4, R8
	DECQ CX
	JNZ  loopVNNI

	STORE_ACC
	VZEROUPPER
	RET

// The AVX2 kernel: one pass of 2 channels by 16 pixels (the Go wrapper
// runs four). Per pair, a holds the 4 channels' (high, low) words; SI
// points at this pass's two channels (16 bytes: high, low, high, low),
// DI at its 16 pixels' pair words (two YMM from each offset).
// Accumulator Y(4c+2hl+v) holds channel c, part hl, pixels 8v..8v+7.
#define PART_Y(off, ya, yb) \
	VPBROADCASTD off(SI), Y10; \
	VPMADDWD     Y8, Y10, Y11; \
	VPMADDWD     Y9, Y10, Y12; \
	VPADDD       Y11, ya, ya; \
	VPADDD       Y12, yb, yb

// ACC_Y adds 256·H + L of 8 pixels (H, L int32 in YMM hy, ly, their
// lower halves hx, lx) to the 8 int64 at off(DX).
#define ACC_Y(hy, hx, ly, lx, off) \
	VPMOVSXDQ    hx, Y11; \
	VPMOVSXDQ    lx, Y12; \
	VPSLLQ       $8, Y11, Y11; \
	VPADDQ       Y12, Y11, Y11; \
	VPADDQ       off(DX), Y11, Y11; \
	VMOVDQU      Y11, off(DX); \
	VEXTRACTI128 $1, hy, X13; \
	VEXTRACTI128 $1, ly, X14; \
	VPMOVSXDQ    X13, Y13; \
	VPMOVSXDQ    X14, Y14; \
	VPSLLQ       $8, Y13, Y13; \
	VPADDQ       Y14, Y13, Y13; \
	VPADDQ       off+32(DX), Y13, Y13; \
	VMOVDQU      Y13, off+32(DX)

// func convTile256(a, b, offs *int32, np int, out *int64)
TEXT ·convTile256(SB), NOSPLIT, $0-40
	MOVQ   a+0(FP), SI
	MOVQ   b+8(FP), DI
	MOVQ   offs+16(FP), R8
	MOVQ   np+24(FP), CX
	MOVQ   out+32(FP), DX
	VPXOR  Y0, Y0, Y0
	VPXOR  Y1, Y1, Y1
	VPXOR  Y2, Y2, Y2
	VPXOR  Y3, Y3, Y3
	VPXOR  Y4, Y4, Y4
	VPXOR  Y5, Y5, Y5
	VPXOR  Y6, Y6, Y6
	VPXOR  Y7, Y7, Y7

loopY:
	MOVLQSX (R8), R9
	VMOVDQU 0(DI)(R9*4), Y8
	VMOVDQU 32(DI)(R9*4), Y9
	PART_Y(0, Y0, Y1)
	PART_Y(4, Y2, Y3)
	PART_Y(8, Y4, Y5)
	PART_Y(12, Y6, Y7)
	ADDQ    $32, SI
	ADDQ    $4, R8
	DECQ    CX
	JNZ     loopY

	// Channel 2cp: high Y0/Y1, low Y2/Y3, at out[0..16); channel
	// 2cp+1: high Y4/Y5, low Y6/Y7, at out[32..48).
	ACC_Y(Y0, X0, Y2, X2, 0)
	ACC_Y(Y1, X1, Y3, X3, 64)
	ACC_Y(Y4, X4, Y6, X6, 256)
	ACC_Y(Y5, X5, Y7, X7, 320)
	VZEROUPPER
	RET
