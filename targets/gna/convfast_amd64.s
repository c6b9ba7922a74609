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
