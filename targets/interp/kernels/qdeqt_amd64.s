//go:build amd64 && !noasm

#include "textflag.h"

// QDequant's channel-major store on AVX2 (the AVX-512 kernel is
// qDeqT16AVX512 in dequantt_amd64.s): blocks of 8 rows of 16 int32
// accumulators become float32(acc + bias)·scale, each half of 8
// channels transposed 8×8 in registers and stored as 8 consecutive rows
// of each channel.

// DEQ8(r, h) loads row r's channels 8h..8h+7 into Y(r) and dequantizes
// them: VPADDD wraps as Go's int32 addition does, VCVTDQ2PS rounds to
// nearest as float32(int32) does, and one VMULPS rounds the product.
#define DEQ8(r, yr, h) \
	VMOVDQU   (r*64+h*32)(SI), yr; \
	VPADDD    (h*32)(R9), yr, yr; \
	VCVTDQ2PS yr, yr; \
	VMULPS    (h*32)(R10), yr, yr

// HALF(h) does channels 8h..8h+7 of the block: rows into Y0..Y7, the
// transpose through Y8..Y15, channel c's 8 rows stored at R11 + c·R8.
#define HALF(h) \
	DEQ8(0, Y0, h); \
	DEQ8(1, Y1, h); \
	DEQ8(2, Y2, h); \
	DEQ8(3, Y3, h); \
	DEQ8(4, Y4, h); \
	DEQ8(5, Y5, h); \
	DEQ8(6, Y6, h); \
	DEQ8(7, Y7, h); \
	VUNPCKLPS  Y1, Y0, Y8; \
	VUNPCKHPS  Y1, Y0, Y9; \
	VUNPCKLPS  Y3, Y2, Y10; \
	VUNPCKHPS  Y3, Y2, Y11; \
	VUNPCKLPS  Y5, Y4, Y12; \
	VUNPCKHPS  Y5, Y4, Y13; \
	VUNPCKLPS  Y7, Y6, Y14; \
	VUNPCKHPS  Y7, Y6, Y15; \
	VSHUFPS    $0x44, Y10, Y8, Y0; \
	VSHUFPS    $0xEE, Y10, Y8, Y1; \
	VSHUFPS    $0x44, Y11, Y9, Y2; \
	VSHUFPS    $0xEE, Y11, Y9, Y3; \
	VSHUFPS    $0x44, Y14, Y12, Y4; \
	VSHUFPS    $0xEE, Y14, Y12, Y5; \
	VSHUFPS    $0x44, Y15, Y13, Y6; \
	VSHUFPS    $0xEE, Y15, Y13, Y7; \
	MOVQ       DI, R11; \
	ADDQ       R12, R11; \
	VPERM2F128 $0x20, Y4, Y0, Y8; \
	VMOVUPS    Y8, (R11); \
	ADDQ       R8, R11; \
	VPERM2F128 $0x20, Y5, Y1, Y8; \
	VMOVUPS    Y8, (R11); \
	ADDQ       R8, R11; \
	VPERM2F128 $0x20, Y6, Y2, Y8; \
	VMOVUPS    Y8, (R11); \
	ADDQ       R8, R11; \
	VPERM2F128 $0x20, Y7, Y3, Y8; \
	VMOVUPS    Y8, (R11); \
	ADDQ       R8, R11; \
	VPERM2F128 $0x31, Y4, Y0, Y8; \
	VMOVUPS    Y8, (R11); \
	ADDQ       R8, R11; \
	VPERM2F128 $0x31, Y5, Y1, Y8; \
	VMOVUPS    Y8, (R11); \
	ADDQ       R8, R11; \
	VPERM2F128 $0x31, Y6, Y2, Y8; \
	VMOVUPS    Y8, (R11); \
	ADDQ       R8, R11; \
	VPERM2F128 $0x31, Y7, Y3, Y8; \
	VMOVUPS    Y8, (R11)

// func qDeqT8AVX2(y *float32, ldy int, acc, bias *int32, scale *float32, blocks int)
// blocks blocks of 8 rows; row r of channel i goes to y[r + i*ldy].
TEXT ·qDeqT8AVX2(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ ldy+8(FP), R8
	SHLQ $2, R8
	MOVQ acc+16(FP), SI
	MOVQ bias+24(FP), R9
	MOVQ scale+32(FP), R10
	MOVQ blocks+40(FP), DX

dq8block:
	XORQ R12, R12
	HALF(0)
	MOVQ R8, R12
	SHLQ $3, R12 // channels 8..15 start 8 rows of y on
	HALF(1)
	ADDQ $512, SI
	ADDQ $32, DI
	DECQ DX
	JNZ  dq8block
	VZEROUPPER
	RET
