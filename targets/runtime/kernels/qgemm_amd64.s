//go:build amd64 && !noasm

#include "textflag.h"

// Integer micro-kernels (AVX2): a tile of 4 rows (pixels) by 16 output
// channels, reduction in groups of 4 steps. Row r's activations start at
// a + r*rowStep and are segs segments of segLen bytes, segStride apart;
// each group of 4 activation bytes of a row is broadcast to all lanes.

// Zero-extension of activation bytes 0,1 (and 2,3) of each dword into
// int16 pairs: the VPMOVZXBW of the exact model, per broadcast dword.
DATA qShuf01<>+0(SB)/8, $0x8001800080018000
DATA qShuf01<>+8(SB)/8, $0x8001800080018000
DATA qShuf01<>+16(SB)/8, $0x8001800080018000
DATA qShuf01<>+24(SB)/8, $0x8001800080018000
GLOBL qShuf01<>(SB), RODATA|NOPTR, $32

DATA qShuf23<>+0(SB)/8, $0x8003800280038002
DATA qShuf23<>+8(SB)/8, $0x8003800280038002
DATA qShuf23<>+16(SB)/8, $0x8003800280038002
DATA qShuf23<>+24(SB)/8, $0x8003800280038002
GLOBL qShuf23<>(SB), RODATA|NOPTR, $32

// SATROW: saturating model for one row: VPMADDUBSW sums the products of
// adjacent pairs into int16 with saturation, VPMADDWD by ones widens
// and adds the two pairs of a group into int32.
#define SATROW(ptr, acc0, acc1) \
	VPBROADCASTD (ptr)(AX*1), Y10; \
	VPMADDUBSW   Y8, Y10, Y11; \
	VPMADDUBSW   Y9, Y10, Y12; \
	VPMADDWD     Y15, Y11, Y11; \
	VPMADDWD     Y15, Y12, Y12; \
	VPADDD       Y11, acc0, acc0; \
	VPADDD       Y12, acc1, acc1

// func qTileSatAVX2(a *uint8, rowStep, segs, segLen, segStride int, w *int8, tile *QTile)
TEXT ·qTileSatAVX2(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ rowStep+8(FP), R8
	MOVQ segs+16(FP), CX
	MOVQ segLen+24(FP), DX
	MOVQ segStride+32(FP), R9
	MOVQ w+40(FP), BX
	MOVQ tile+48(FP), DI
	LEAQ (SI)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	LEAQ (R11)(R8*1), R12
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	VPCMPEQW Y15, Y15, Y15
	VPSRLW   $15, Y15, Y15

satseg:
	XORQ AX, AX

satk:
	VMOVDQU (BX), Y8
	VMOVDQU 32(BX), Y9
	SATROW(SI, Y0, Y1)
	SATROW(R10, Y2, Y3)
	SATROW(R11, Y4, Y5)
	SATROW(R12, Y6, Y7)
	ADDQ    $64, BX
	ADDQ    $4, AX
	CMPQ    AX, DX
	JLT     satk
	ADDQ    R9, SI
	ADDQ    R9, R10
	ADDQ    R9, R11
	ADDQ    R9, R12
	DECQ    CX
	JNZ     satseg

	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	VMOVDQU Y4, 128(DI)
	VMOVDQU Y5, 160(DI)
	VMOVDQU Y6, 192(DI)
	VMOVDQU Y7, 224(DI)
	VZEROUPPER
	RET

// EXACTROW: exact model for one row: the group's 4 activation bytes are
// zero-extended into int16 pairs (a0,a1) and (a2,a3) and multiplied with
// the int16 weights by VPMADDWD, which adds each pair into int32.
#define EXACTROW(ptr, acc0, acc1) \
	VPBROADCASTD (ptr)(AX*1), Y10; \
	VPSHUFB      qShuf01<>(SB), Y10, Y11; \
	VPSHUFB      qShuf23<>(SB), Y10, Y10; \
	VPMADDWD     Y8, Y11, Y14; \
	VPMADDWD     Y12, Y10, Y15; \
	VPADDD       Y14, acc0, acc0; \
	VPADDD       Y15, acc0, acc0; \
	VPMADDWD     Y9, Y11, Y14; \
	VPMADDWD     Y13, Y10, Y15; \
	VPADDD       Y14, acc1, acc1; \
	VPADDD       Y15, acc1, acc1

// func qTileExactAVX2(a *uint8, rowStep, segs, segLen, segStride int, w *int16, tile *QTile)
TEXT ·qTileExactAVX2(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ rowStep+8(FP), R8
	MOVQ segs+16(FP), CX
	MOVQ segLen+24(FP), DX
	MOVQ segStride+32(FP), R9
	MOVQ w+40(FP), BX
	MOVQ tile+48(FP), DI
	LEAQ (SI)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	LEAQ (R11)(R8*1), R12
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7

exseg:
	XORQ AX, AX

exk:
	VMOVDQU (BX), Y8
	VMOVDQU 32(BX), Y9
	VMOVDQU 64(BX), Y12
	VMOVDQU 96(BX), Y13
	EXACTROW(SI, Y0, Y1)
	EXACTROW(R10, Y2, Y3)
	EXACTROW(R11, Y4, Y5)
	EXACTROW(R12, Y6, Y7)
	ADDQ     $128, BX
	ADDQ     $4, AX
	CMPQ     AX, DX
	JLT      exk
	ADDQ     R9, SI
	ADDQ     R9, R10
	ADDQ     R9, R11
	ADDQ     R9, R12
	DECQ     CX
	JNZ      exseg

	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	VMOVDQU Y4, 128(DI)
	VMOVDQU Y5, 160(DI)
	VMOVDQU Y6, 192(DI)
	VMOVDQU Y7, 224(DI)
	VZEROUPPER
	RET

// HALF: requantize the 4 int64 products in p (even or odd channels of a
// group) with the parameter vectors at off(P): shift counts n at +0,
// 2^62+2^(n-1)-1 at +64, zp-2^(62-n) at +128, lo at +192, hi at +256
// (even and odd vectors interleave every 32 bytes). Round half to even:
// (p + 2^(n-1) - 1 + bit n of p) >> n, computed on p + 2^62 >= 0 with
// logical shifts. Y15 holds int64 ones; Y7..Y9 are scratch.
#define HALF(P, off, p) \
	VPSRLVQ   off(P), p, Y7; \
	VPAND     Y15, Y7, Y7; \
	VPADDQ    off+64(P), p, p; \
	VPADDQ    Y7, p, p; \
	VPSRLVQ   off(P), p, p; \
	VPADDQ    off+128(P), p, p; \
	VMOVDQU   off+192(P), Y8; \
	VPCMPGTQ  p, Y8, Y9; \
	VPBLENDVB Y9, Y8, p, p; \
	VPCMPGTQ  off+256(P), p, Y9; \
	VPBLENDVB Y9, off+256(P), p, p

// REQ8: the 8 channels of one group: acc + bias, products with the
// multipliers (even lanes, then odd lanes shifted down), HALF on each,
// recombined into 8 int32 in res.
#define REQ8(T, P, res) \
	VMOVDQU T, Y4; \
	VPADDD  0(P), Y4, Y4; \
	VPMULDQ 32(P), Y4, Y5; \
	VPSRLQ  $32, Y4, Y6; \
	VPMULDQ 64(P), Y6, Y6; \
	HALF(P, 96, Y5); \
	HALF(P, 128, Y6); \
	VPSLLQ  $32, Y6, Y6; \
	VPBLENDD $0xaa, Y6, Y5, res

// func qRequantAVX2(tile *QTile, rows int, params *int64, dst *uint8, ld int)
TEXT ·qRequantAVX2(SB), NOSPLIT, $0-40
	MOVQ tile+0(FP), SI
	MOVQ rows+8(FP), CX
	MOVQ params+16(FP), BX
	MOVQ dst+24(FP), DI
	MOVQ ld+32(FP), DX
	LEAQ 416(BX), R8
	VPCMPEQQ Y15, Y15, Y15
	VPSRLQ   $63, Y15, Y15

reqrow:
	REQ8((SI), BX, Y0)
	REQ8(32(SI), R8, Y1)
	VPACKUSDW    Y1, Y0, Y2
	VPERMQ       $0xd8, Y2, Y2
	VEXTRACTI128 $1, Y2, X3
	VPACKUSWB    X3, X2, X2
	VMOVDQU      X2, (DI)
	ADDQ         $64, SI
	ADDQ         DX, DI
	DECQ         CX
	JNZ          reqrow
	VZEROUPPER
	RET
