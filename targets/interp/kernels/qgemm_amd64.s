//go:build amd64 && !noasm

#include "textflag.h"

// Integer kernels (AVX2). Each call runs tiles of 4 rows (output pixels)
// by 16 output channels: row r of a tile starts at a + offs[r] and is
// segs segments of segLen bytes, segStride apart; the reduction goes in
// groups of 4 steps, whose 4 activation bytes are broadcast to all lanes
// and multiplied with 16 channels' weights. With params the accumulators
// are requantized in registers and npix rows of 16 levels are stored ldd
// bytes apart; without, every tile row's 16 int32 are stored (ldd = 64).

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

DATA qOne64<>+0(SB)/8, $1
DATA qOne64<>+8(SB)/8, $1
DATA qOne64<>+16(SB)/8, $1
DATA qOne64<>+24(SB)/8, $1
GLOBL qOne64<>(SB), RODATA|NOPTR, $32

// SATROW: saturating model, one row: VPMADDUBSW sums the products of
// adjacent pairs into int16 with saturation; VPMADDWD by ones (Y15)
// widens and adds the group's two pairs into int32.
#define SATROW(ptr, acc0, acc1) \
	VPBROADCASTD (ptr)(AX*1), Y10; \
	VPMADDUBSW   Y8, Y10, Y11; \
	VPMADDUBSW   Y9, Y10, Y12; \
	VPMADDWD     Y15, Y11, Y11; \
	VPMADDWD     Y15, Y12, Y12; \
	VPADDD       Y11, acc0, acc0; \
	VPADDD       Y12, acc1, acc1

// ZROW: exact model on AVX-512 VNNI, one row: VPDPBUSD adds each of the
// 16 channels' four u8·s8 products (Z16, one 64-byte weight group)
// exactly into the row's int32 accumulators.
#define ZROW(ptr, acc) \
	VPBROADCASTD (ptr)(AX*1), Z17; \
	VPDPBUSD     Z16, Z17, acc

// Row pointers of the VPDPBUSD kernels: rows 0-3 in R10-R13, rows 4-7
// in DX, R9, R15, SI, from the offset table at R8 and the activations at
// BX; ZNEXTSEG moves them to the next segment (segStride from the frame).
#define ZROWS03 \
	MOVLQSX 0(R8), R10; \
	ADDQ    BX, R10; \
	MOVLQSX 4(R8), R11; \
	ADDQ    BX, R11; \
	MOVLQSX 8(R8), R12; \
	ADDQ    BX, R12; \
	MOVLQSX 12(R8), R13; \
	ADDQ    BX, R13

#define ZROWS47 \
	MOVLQSX 16(R8), DX; \
	ADDQ    BX, DX; \
	MOVLQSX 20(R8), R9; \
	ADDQ    BX, R9; \
	MOVLQSX 24(R8), R15; \
	ADDQ    BX, R15; \
	MOVLQSX 28(R8), SI; \
	ADDQ    BX, SI

#define ZNEXTSEG4 \
	MOVQ segStride+40(FP), AX; \
	ADDQ AX, R10; \
	ADDQ AX, R11; \
	ADDQ AX, R12; \
	ADDQ AX, R13

#define ZNEXTSEG8 \
	ZNEXTSEG4; \
	ADDQ AX, DX; \
	ADDQ AX, R9; \
	ADDQ AX, R15; \
	ADDQ AX, SI

// EXACTROW: exact model, one row: the group's 4 activation bytes are
// zero-extended into int16 pairs (a0,a1), (a2,a3) and multiplied with the
// int16 weights by VPMADDWD, which adds each pair exactly into int32.
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

// TILESTART: the tile's 4 row pointers from the offset table, zero
// accumulators, weights and segment count reloaded.
#define TILESTART \
	MOVLQSX 0(R8), R10; \
	ADDQ    SI, R10; \
	MOVLQSX 4(R8), R11; \
	ADDQ    SI, R11; \
	MOVLQSX 8(R8), R12; \
	ADDQ    SI, R12; \
	MOVLQSX 12(R8), R13; \
	ADDQ    SI, R13; \
	MOVQ    w+48(FP), BX; \
	MOVQ    segs+24(FP), DI; \
	VPXOR   Y0, Y0, Y0; \
	VPXOR   Y1, Y1, Y1; \
	VPXOR   Y2, Y2, Y2; \
	VPXOR   Y3, Y3, Y3; \
	VPXOR   Y4, Y4, Y4; \
	VPXOR   Y5, Y5, Y5; \
	VPXOR   Y6, Y6, Y6; \
	VPXOR   Y7, Y7, Y7

// NEXTSEG: advance the row pointers to the next segment.
#define NEXTSEG \
	ADDQ R9, R10; \
	ADDQ R9, R11; \
	ADDQ R9, R12; \
	ADDQ R9, R13

// REQ8: requantize 8 channels (group at byte G of the parameters in BX)
// of accumulator vector acc into res as int32 levels. acc + bias, then
// the products with the multipliers on even lanes and on odd lanes
// (shifted down), each rounded half to even by
// (p + 2^62 + 2^(n-1) - 1 + bit n of p) >> n on non-negative values with
// logical shifts, plus zp - 2^(62-n); recombined, clamped to [lo, hi].
#define REQ8(acc, G, res) \
	VPADDD   G+0(BX), acc, Y8; \
	VPMULDQ  G+32(BX), Y8, Y9; \
	VPSRLQ   $32, Y8, Y8; \
	VPMULDQ  G+64(BX), Y8, Y8; \
	VPSRLVQ  G+96(BX), Y9, Y10; \
	VPAND    qOne64<>(SB), Y10, Y10; \
	VPADDQ   G+160(BX), Y9, Y9; \
	VPADDQ   Y10, Y9, Y9; \
	VPSRLVQ  G+96(BX), Y9, Y9; \
	VPADDQ   G+224(BX), Y9, Y9; \
	VPSRLVQ  G+128(BX), Y8, Y10; \
	VPAND    qOne64<>(SB), Y10, Y10; \
	VPADDQ   G+192(BX), Y8, Y8; \
	VPADDQ   Y10, Y8, Y8; \
	VPSRLVQ  G+128(BX), Y8, Y8; \
	VPADDQ   G+256(BX), Y8, Y8; \
	VPSLLQ   $32, Y8, Y8; \
	VPBLENDD $0xaa, Y8, Y9, res; \
	VPMAXSD  G+288(BX), res, res; \
	VPMINSD  G+320(BX), res, res

// REQROW: one row's 16 channels to 16 bytes at (R14).
#define REQROW(a0, a1) \
	REQ8(a0, 0, Y11); \
	REQ8(a1, 352, Y12); \
	VPACKUSDW    Y12, Y11, Y11; \
	VPERMQ       $0xd8, Y11, Y11; \
	VEXTRACTI128 $1, Y11, X12; \
	VPACKUSWB    X12, X11, X11; \
	VMOVDQU      X11, (R14)

// REQF8: requantize 8 channels (half H, 0 or 32, of a block) of acc into
// res with the AVX2 layout of the 512-bit parameters at BX (see
// QRequant.vec16a), as ZREQ16 does on AVX-512: v = acc + bias becomes a
// float64 exactly without a lane-crossing conversion — v + 2^31 (the
// sign bit flipped) as the low dword under the high dword 0x43300000
// (Y13) is the float64 2^52 + 2^31 + v, from which VSUBPD takes 2^52 +
// 2^31 (Y12) exactly; the in-lane unpacks put channels 0, 1, 4, 5 in one
// vector and 2, 3, 6, 7 in the other, the order of vec16a's
// multipliers. v·m + 1.5·2^52 (Y14) by one FMA leaves RoundHalfEven(v·m)
// in the low dword (see ZREQ16), and VSHUFPS gathers the low dwords back
// in channel order; then + zp and the clamp. 13 instructions, none
// crossing the 128-bit lanes (VCVTDQ2PD and VPERMQ there cost several
// cycles each on Zen 3).
#define REQF8(acc, H, res) \
	VPADDD      H+0(BX), acc, Y8; \
	VPXOR       qSign32<>(SB), Y8, Y8; \
	VPUNPCKLDQ  Y13, Y8, Y9; \
	VPUNPCKHDQ  Y13, Y8, Y8; \
	VSUBPD      Y12, Y9, Y9; \
	VSUBPD      Y12, Y8, Y8; \
	VFMADD132PD 2*H+64(BX), Y14, Y9; \
	VFMADD132PD 2*H+96(BX), Y14, Y8; \
	VSHUFPS     $0x88, Y8, Y9, res; \
	VPADDD      H+192(BX), res, res; \
	VPMAXSD     H+256(BX), res, res; \
	VPMINSD     H+320(BX), res, res

// REQFCONST: Y12-Y14 for REQF8.
#define REQFCONST \
	VBROADCASTSD qTwo52p31<>(SB), Y12; \
	VPBROADCASTD qMagicHi<>(SB), Y13; \
	VBROADCASTSD qRound52<>(SB), Y14

DATA qSign32<>+0(SB)/8, $0x8000000080000000
DATA qSign32<>+8(SB)/8, $0x8000000080000000
DATA qSign32<>+16(SB)/8, $0x8000000080000000
DATA qSign32<>+24(SB)/8, $0x8000000080000000
GLOBL qSign32<>(SB), RODATA|NOPTR, $32

// qMagicHi is the high dword of the float64 2^52; qTwo52p31 is 2^52 +
// 2^31.
DATA qMagicHi<>+0(SB)/4, $0x43300000
GLOBL qMagicHi<>(SB), RODATA|NOPTR, $4

DATA qTwo52p31<>+0(SB)/8, $0x4330000080000000
GLOBL qTwo52p31<>(SB), RODATA|NOPTR, $8

// HS8: 8 channels (half H, 0 or 32, of a block) of acc through the
// hard-swish output stage into res as int32 levels, as HSWISH8 computes
// them (the same operations in the same order), with the block's
// QHardSwish.vec parameters at BX and alpha, beta, 0, 1 in Y12-Y15.
#define HS8(acc, H, res) \
	VPADDD    H+0(BX), acc, Y8; \
	VCVTDQ2PS Y8, Y8; \
	VMULPS    H+64(BX), Y8, Y8; \
	VMULPS    Y12, Y8, Y9; \
	VADDPS    Y13, Y9, Y9; \
	VMAXPS    Y14, Y9, Y9; \
	VMINPS    Y15, Y9, Y9; \
	VMULPS    Y9, Y8, Y9; \
	VDIVPS    H+128(BX), Y9, Y9; \
	VMAXPS    H+192(BX), Y9, Y9; \
	VMINPS    H+256(BX), Y9, Y9; \
	VCVTPS2DQ Y9, Y9; \
	VPADDD    H+320(BX), Y9, res

// PACK16: the 16 int32 levels of Y10 (channels 0-7) and Y11 (8-15) to
// 16 bytes at (R14).
#define PACK16 \
	VPACKUSDW    Y11, Y10, Y10; \
	VPERMQ       $0xd8, Y10, Y10; \
	VEXTRACTI128 $1, Y10, X11; \
	VPACKUSWB    X11, X10, X10; \
	VMOVDQU      X10, (R14)

#define REQFROW(a0, a1) \
	REQF8(a0, 0, Y10); \
	REQF8(a1, 32, Y11); \
	PACK16

#define HSROW(a0, a1) \
	HS8(a0, 0, Y10); \
	HS8(a1, 32, Y11); \
	PACK16

// HSCONST: alpha, beta, 0 and 1 into Y12-Y15 for HS8.
#define HSCONST \
	VBROADCASTSS alpha+88(FP), Y12; \
	VBROADCASTSS beta+92(FP), Y13; \
	VXORPS       Y14, Y14, Y14; \
	MOVL         $0x3f800000, DI; \
	VMOVD        DI, X15; \
	VBROADCASTSS X15, Y15

// LR8: 8 channels (half H, 0 or 32, of a block) of acc through the
// LeakyRelu output stage into res as int32 levels, as leakyLevel
// computes them, with the block's QLeakyReLU.vec parameters at BX (the
// layout of QHardSwish.vec) and alpha in Y12. The product y·alpha is
// blended in under the sign of y: y < 0 but for -0, which a converted
// int32 never is.
#define LR8(acc, H, res) \
	VPADDD    H+0(BX), acc, Y8; \
	VCVTDQ2PS Y8, Y8; \
	VMULPS    H+64(BX), Y8, Y8; \
	VMULPS    Y12, Y8, Y9; \
	VBLENDVPS Y8, Y9, Y8, Y9; \
	VDIVPS    H+128(BX), Y9, Y9; \
	VMAXPS    H+192(BX), Y9, Y9; \
	VMINPS    H+256(BX), Y9, Y9; \
	VCVTPS2DQ Y9, Y9; \
	VPADDD    H+320(BX), Y9, res

#define LRROW(a0, a1) \
	LR8(a0, 0, Y10); \
	LR8(a1, 32, Y11); \
	PACK16

// Output stages of the AVX2 kernels (mode): 0 the raw int32 accumulators
// (ldd = 64); 1 requantized by REQ8 with QRequant.vec's parameters; 2
// requantized by REQF8 with QRequant.vec16's; 3 hard-swish (HS8) with
// QHardSwish.vec's, alpha and beta from the frame; 4 LeakyRelu (LR8)
// with QLeakyReLU.vec's, alpha from the frame.

// STORETILE(TILE): the end of the AVX2 integer kernels' tile loop (the
// kernel's frame: params, ldd, mode, alpha, beta): store the tile's
// valid rows (CX counts the rows left) in the output stage of mode, then
// go on with the next tile at label TILE, or return after the last.
#define STORETILE(TILE) \
	MOVQ  params+56(FP), BX \
	MOVQ  mode+80(FP), DI \
	TESTQ DI, DI \
	JZ    straw \
	CMPQ  DI, $2 \
	JEQ   streqf \
	JGT   sths \
	REQROW(Y0, Y1) \
	ADDQ  ldd+72(FP), R14 \
	DECQ  CX \
	JZ    stdone \
	REQROW(Y2, Y3) \
	ADDQ  ldd+72(FP), R14 \
	DECQ  CX \
	JZ    stdone \
	REQROW(Y4, Y5) \
	ADDQ  ldd+72(FP), R14 \
	DECQ  CX \
	JZ    stdone \
	REQROW(Y6, Y7) \
	ADDQ  ldd+72(FP), R14 \
	DECQ  CX \
	JZ    stdone \
	ADDQ  $16, R8 \
	JMP   TILE \
streqf: \
	REQFCONST \
	REQFROW(Y0, Y1) \
	ADDQ  ldd+72(FP), R14 \
	DECQ  CX \
	JZ    stdone \
	REQFROW(Y2, Y3) \
	ADDQ  ldd+72(FP), R14 \
	DECQ  CX \
	JZ    stdone \
	REQFROW(Y4, Y5) \
	ADDQ  ldd+72(FP), R14 \
	DECQ  CX \
	JZ    stdone \
	REQFROW(Y6, Y7) \
	ADDQ  ldd+72(FP), R14 \
	DECQ  CX \
	JZ    stdone \
	ADDQ  $16, R8 \
	JMP   TILE \
sths: \
	CMPQ DI, $4 \
	JEQ  stlr \
	HSCONST \
	HSROW(Y0, Y1) \
	ADDQ  ldd+72(FP), R14 \
	DECQ  CX \
	JZ    stdone \
	HSROW(Y2, Y3) \
	ADDQ  ldd+72(FP), R14 \
	DECQ  CX \
	JZ    stdone \
	HSROW(Y4, Y5) \
	ADDQ  ldd+72(FP), R14 \
	DECQ  CX \
	JZ    stdone \
	HSROW(Y6, Y7) \
	ADDQ  ldd+72(FP), R14 \
	DECQ  CX \
	JZ    stdone \
	ADDQ  $16, R8 \
	JMP   TILE \
stlr: \
	VBROADCASTSS alpha+88(FP), Y12 \
	LRROW(Y0, Y1) \
	ADDQ         ldd+72(FP), R14 \
	DECQ         CX \
	JZ           stdone \
	LRROW(Y2, Y3) \
	ADDQ         ldd+72(FP), R14 \
	DECQ         CX \
	JZ           stdone \
	LRROW(Y4, Y5) \
	ADDQ         ldd+72(FP), R14 \
	DECQ         CX \
	JZ           stdone \
	LRROW(Y6, Y7) \
	ADDQ         ldd+72(FP), R14 \
	DECQ         CX \
	JZ           stdone \
	ADDQ         $16, R8 \
	JMP          TILE \
straw: \
	VMOVDQU Y0, (R14) \
	VMOVDQU Y1, 32(R14) \
	VMOVDQU Y2, 64(R14) \
	VMOVDQU Y3, 96(R14) \
	VMOVDQU Y4, 128(R14) \
	VMOVDQU Y5, 160(R14) \
	VMOVDQU Y6, 192(R14) \
	VMOVDQU Y7, 224(R14) \
	ADDQ    $256, R14 \
	ADDQ    $16, R8 \
	SUBQ    $4, CX \
	JG      TILE \
stdone: \
	VZEROUPPER \
	RET

// func qKernSatAVX2(a *uint8, offs *int32, npix, segs, segLen, segStride int, w *int8, params *int64, dst *uint8, ldd int, mode int, alpha, beta float32)
TEXT ·qKernSatAVX2(SB), NOSPLIT, $0-96
	MOVQ a+0(FP), SI
	MOVQ offs+8(FP), R8
	MOVQ npix+16(FP), CX
	MOVQ segLen+32(FP), DX
	MOVQ segStride+40(FP), R9
	MOVQ dst+64(FP), R14

sattile:
	TILESTART
	VPCMPEQW Y15, Y15, Y15
	VPSRLW   $15, Y15, Y15

satseg:
	XORQ AX, AX

satk:
	VMOVDQU (BX), Y8
	VMOVDQU 32(BX), Y9
	SATROW(R10, Y0, Y1)
	SATROW(R11, Y2, Y3)
	SATROW(R12, Y4, Y5)
	SATROW(R13, Y6, Y7)
	ADDQ    $64, BX
	ADDQ    $4, AX
	CMPQ    AX, DX
	JLT     satk
	NEXTSEG
	DECQ    DI
	JNZ     satseg
	STORETILE(sattile)

// ZREQ16: requantize the 16 accumulators of zmm with the 512-bit
// parameters of one block at byte G of BX (see qReqBlock) and store the
// 16 levels at D(R14). v = acc + bias (wrapping int32) is converted to
// float64 exactly, and VFMADD132PD computes v·m + 1.5·2^52 (Z14) with
// one rounding, half to even, of the exact value: m = mult·2^-shift is
// a float64 exactly and |v·m| < 2^30, so the sum's ulp is 1 and the low
// dword of its bits is RoundHalfEven(v·m) (1.5·2^52 being even, ties go
// to the even integer), which REQ8 computes in int64. VPERMT2D (index
// Z13) gathers the 16 low dwords; then + zp and the clamp. The levels
// are within [0, 255] (the parameters exist only for uint8 bounds), so
// VPMOVDB's truncation stores what REQROW's unsigned packs would.
#define ZREQ16(zmm, G, D) \
	VPADDD        G+0(BX), zmm, Z8; \
	VCVTDQ2PD     Y8, Z9; \
	VEXTRACTI64X4 $1, Z8, Y10; \
	VCVTDQ2PD     Y10, Z10; \
	VFMADD132PD   G+64(BX), Z14, Z9; \
	VFMADD132PD   G+128(BX), Z14, Z10; \
	VPERMT2D      Z10, Z13, Z9; \
	VPADDD        G+192(BX), Z9, Z9; \
	VPMAXSD       G+256(BX), Z9, Z9; \
	VPMINSD       G+320(BX), Z9, Z9; \
	VPMOVDB       Z9, D(R14)

// qRound52 is 1.5·2^52: added to a float64 of magnitude below 2^51, it
// leaves the nearest integer (ties to even) in the low bits.
DATA qRound52<>+0(SB)/8, $0x4338000000000000
GLOBL qRound52<>(SB), RODATA|NOPTR, $8

// qLowDwords is the VPERMT2D index of the low dwords of the 8 qwords of
// two registers.
DATA qLowDwords<>+0(SB)/4, $0
DATA qLowDwords<>+4(SB)/4, $2
DATA qLowDwords<>+8(SB)/4, $4
DATA qLowDwords<>+12(SB)/4, $6
DATA qLowDwords<>+16(SB)/4, $8
DATA qLowDwords<>+20(SB)/4, $10
DATA qLowDwords<>+24(SB)/4, $12
DATA qLowDwords<>+28(SB)/4, $14
DATA qLowDwords<>+32(SB)/4, $16
DATA qLowDwords<>+36(SB)/4, $18
DATA qLowDwords<>+40(SB)/4, $20
DATA qLowDwords<>+44(SB)/4, $22
DATA qLowDwords<>+48(SB)/4, $24
DATA qLowDwords<>+52(SB)/4, $26
DATA qLowDwords<>+56(SB)/4, $28
DATA qLowDwords<>+60(SB)/4, $30
GLOBL qLowDwords<>(SB), RODATA|NOPTR, $64

// ZREQSETUP: Z13 and Z14 for ZREQ16.
#define ZREQSETUP \
	VMOVDQU32    qLowDwords<>(SB), Z13; \
	VBROADCASTSD qRound52<>(SB), Z14

// func qKernQuadVNNI(a *uint8, offs *int32, npix, segs, segLen, segStride int, w *int8, params *int64, dst *uint8, ldd int)
//
// Tiles of 8 rows while more than 4 rows are left, then one of 4 (offs
// is padded to a multiple of 4). Row pointers: R10-R13, DX, R9, R15, SI;
// segLen and segStride are read from the frame. With params (the
// 512-bit parameters of the block, see qReqBlock) the rows are
// requantized by ZREQ16; without, the raw accumulators are stored.
TEXT ·qKernQuadVNNI(SB), NOSPLIT, $0-80
	ZREQSETUP
	MOVQ offs+8(FP), R8
	MOVQ npix+16(FP), CX
	MOVQ dst+64(FP), R14

quadtile:
	MOVQ    a+0(FP), BX
	ZROWS03
	MOVQ    segs+24(FP), DI
	VPXORD  Z0, Z0, Z0
	VPXORD  Z1, Z1, Z1
	VPXORD  Z2, Z2, Z2
	VPXORD  Z3, Z3, Z3
	CMPQ    CX, $4
	JLE     quad4
	ZROWS47
	MOVQ    w+48(FP), BX
	VPXORD  Z4, Z4, Z4
	VPXORD  Z5, Z5, Z5
	VPXORD  Z6, Z6, Z6
	VPXORD  Z7, Z7, Z7

quad8seg:
	XORQ AX, AX

quad8k:
	VMOVDQU32 (BX), Z16
	ZROW(R10, Z0)
	ZROW(R11, Z1)
	ZROW(R12, Z2)
	ZROW(R13, Z3)
	ZROW(DX, Z4)
	ZROW(R9, Z5)
	ZROW(R15, Z6)
	ZROW(SI, Z7)
	ADDQ      $64, BX
	ADDQ      $4, AX
	CMPQ      AX, segLen+32(FP)
	JLT       quad8k
	ZNEXTSEG8
	DECQ      DI
	JNZ       quad8seg
	// Requantize and store the tile's valid rows (CX counts the rows
	// left), or store the raw accumulators; then the next tile.
	MOVQ  params+56(FP), BX
	TESTQ BX, BX
	JZ    quad8raw
	ZREQ16(Z0, 0, 0)
	ADDQ  ldd+72(FP), R14
	ZREQ16(Z1, 0, 0)
	ADDQ  ldd+72(FP), R14
	ZREQ16(Z2, 0, 0)
	ADDQ  ldd+72(FP), R14
	ZREQ16(Z3, 0, 0)
	ADDQ  ldd+72(FP), R14
	ZREQ16(Z4, 0, 0)
	ADDQ  ldd+72(FP), R14
	SUBQ  $5, CX
	JZ    quaddone
	ZREQ16(Z5, 0, 0)
	ADDQ  ldd+72(FP), R14
	DECQ  CX
	JZ    quaddone
	ZREQ16(Z6, 0, 0)
	ADDQ  ldd+72(FP), R14
	DECQ  CX
	JZ    quaddone
	ZREQ16(Z7, 0, 0)
	ADDQ  ldd+72(FP), R14
	DECQ  CX
	JZ    quaddone
	ADDQ  $32, R8
	JMP   quadtile

quad8raw:
	VMOVDQU32 Z0, (R14)
	VMOVDQU32 Z1, 64(R14)
	VMOVDQU32 Z2, 128(R14)
	VMOVDQU32 Z3, 192(R14)
	VMOVDQU32 Z4, 256(R14)
	VMOVDQU32 Z5, 320(R14)
	VMOVDQU32 Z6, 384(R14)
	VMOVDQU32 Z7, 448(R14)
	ADDQ      $512, R14
	ADDQ      $32, R8
	SUBQ      $8, CX
	JG        quadtile
	JMP       quaddone

	// The last 1 to 4 rows.
quad4:
	MOVQ w+48(FP), BX

quad4seg:
	XORQ AX, AX

quad4k:
	VMOVDQU32 (BX), Z16
	ZROW(R10, Z0)
	ZROW(R11, Z1)
	ZROW(R12, Z2)
	ZROW(R13, Z3)
	ADDQ      $64, BX
	ADDQ      $4, AX
	CMPQ      AX, segLen+32(FP)
	JLT       quad4k
	ZNEXTSEG4
	DECQ      DI
	JNZ       quad4seg
	MOVQ  params+56(FP), BX
	TESTQ BX, BX
	JZ    quad4raw
	ZREQ16(Z0, 0, 0)
	ADDQ  ldd+72(FP), R14
	DECQ  CX
	JZ    quaddone
	ZREQ16(Z1, 0, 0)
	ADDQ  ldd+72(FP), R14
	DECQ  CX
	JZ    quaddone
	ZREQ16(Z2, 0, 0)
	ADDQ  ldd+72(FP), R14
	DECQ  CX
	JZ    quaddone
	ZREQ16(Z3, 0, 0)
	JMP   quaddone

quad4raw:
	VMOVDQU32 Z0, (R14)
	VMOVDQU32 Z1, 64(R14)
	VMOVDQU32 Z2, 128(R14)
	VMOVDQU32 Z3, 192(R14)

quaddone:
	VZEROUPPER
	RET

// func qKernExactAVX2(a *uint8, offs *int32, npix, segs, segLen, segStride int, w *int16, params *int64, dst *uint8, ldd int, mode int, alpha, beta float32)
TEXT ·qKernExactAVX2(SB), NOSPLIT, $0-96
	MOVQ a+0(FP), SI
	MOVQ offs+8(FP), R8
	MOVQ npix+16(FP), CX
	MOVQ segLen+32(FP), DX
	MOVQ segStride+40(FP), R9
	MOVQ dst+64(FP), R14

extile:
	TILESTART

exseg:
	XORQ AX, AX

exk:
	VMOVDQU (BX), Y8
	VMOVDQU 32(BX), Y9
	VMOVDQU 64(BX), Y12
	VMOVDQU 96(BX), Y13
	EXACTROW(R10, Y0, Y1)
	EXACTROW(R11, Y2, Y3)
	EXACTROW(R12, Y4, Y5)
	EXACTROW(R13, Y6, Y7)
	ADDQ     $128, BX
	ADDQ     $4, AX
	CMPQ     AX, DX
	JLT      exk
	NEXTSEG
	DECQ     DI
	JNZ      exseg
	STORETILE(extile)

// WROW: qKernWideAVX2's EXACTROW: the group's activations (a0,a1) and
// (a2,a3), zero-extended to uint16 in memory, broadcast as dwords.
#define WROW(ptr, acc0, acc1) \
	VPBROADCASTD (ptr)(AX*2), Y10; \
	VPBROADCASTD 4(ptr)(AX*2), Y11; \
	VPMADDWD     Y8, Y10, Y14; \
	VPMADDWD     Y12, Y11, Y15; \
	VPADDD       Y14, acc0, acc0; \
	VPADDD       Y15, acc0, acc0; \
	VPMADDWD     Y9, Y10, Y14; \
	VPMADDWD     Y13, Y11, Y15; \
	VPADDD       Y14, acc1, acc1; \
	VPADDD       Y15, acc1, acc1

// TILESTARTW: TILESTART with the row pointers into uint16 activations.
#define TILESTARTW \
	MOVLQSX 0(R8), R10; \
	LEAQ    (SI)(R10*2), R10; \
	MOVLQSX 4(R8), R11; \
	LEAQ    (SI)(R11*2), R11; \
	MOVLQSX 8(R8), R12; \
	LEAQ    (SI)(R12*2), R12; \
	MOVLQSX 12(R8), R13; \
	LEAQ    (SI)(R13*2), R13; \
	MOVQ    w+48(FP), BX; \
	MOVQ    segs+24(FP), DI; \
	VPXOR   Y0, Y0, Y0; \
	VPXOR   Y1, Y1, Y1; \
	VPXOR   Y2, Y2, Y2; \
	VPXOR   Y3, Y3, Y3; \
	VPXOR   Y4, Y4, Y4; \
	VPXOR   Y5, Y5, Y5; \
	VPXOR   Y6, Y6, Y6; \
	VPXOR   Y7, Y7, Y7

// func qKernWideAVX2(a *uint16, offs *int32, npix, segs, segLen, segStride int, w *int16, params *int64, dst *uint8, ldd int, mode int, alpha, beta float32)
//
// qKernExactAVX2 on activations widened to uint16 once (widenAVX2):
// offs, segLen and segStride count activations as qKernExactAVX2's count
// bytes. Each row's pairs (a0,a1) and (a2,a3) of a group are then two
// broadcasts from memory (WROW) instead of a broadcast and two VPSHUFB,
// which leaves the VPMADDWD and their additions as the loop's only
// vector arithmetic.
TEXT ·qKernWideAVX2(SB), NOSPLIT, $0-96
	MOVQ a+0(FP), SI
	MOVQ offs+8(FP), R8
	MOVQ npix+16(FP), CX
	MOVQ segLen+32(FP), DX
	MOVQ segStride+40(FP), R9
	SHLQ $1, R9
	MOVQ dst+64(FP), R14

wdtile:
	TILESTARTW

wdseg:
	XORQ AX, AX

wdk:
	VMOVDQU (BX), Y8
	VMOVDQU 32(BX), Y9
	VMOVDQU 64(BX), Y12
	VMOVDQU 96(BX), Y13
	WROW(R10, Y0, Y1)
	WROW(R11, Y2, Y3)
	WROW(R12, Y4, Y5)
	WROW(R13, Y6, Y7)
	ADDQ     $128, BX
	ADDQ     $4, AX
	CMPQ     AX, DX
	JLT      wdk
	NEXTSEG
	DECQ     DI
	JNZ      wdseg
	STORETILE(wdtile)

// func widenAVX2(dst *uint16, src *uint8, n int)
// dst[i] = src[i] for i < n, a positive multiple of 16.
TEXT ·widenAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

widen:
	VPMOVZXBW (SI), Y0
	VMOVDQU   Y0, (DI)
	ADDQ      $16, SI
	ADDQ      $32, DI
	SUBQ      $16, CX
	JNZ       widen
	VZEROUPPER
	RET

// func qReqRowsAVX2(acc *int32, rows int, params *int64, dst *uint8, ldd int)
//
// Requantizes rows rows of 16 int32 accumulators (64 bytes apart) with
// the parameters of 16 channels and stores each row's 16 levels ldd
// bytes apart: the output stage of the GEMM kernels for accumulators
// computed elsewhere (depthwise convolutions).
TEXT ·qReqRowsAVX2(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), SI
	MOVQ rows+8(FP), CX
	MOVQ params+16(FP), BX
	MOVQ dst+24(FP), R14
	MOVQ ldd+32(FP), DX

reqrow:
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	REQROW(Y0, Y1)
	ADDQ    $64, SI
	ADDQ    DX, R14
	DECQ    CX
	JNZ     reqrow
	VZEROUPPER
	RET

// func qReqRowsFAVX2(acc *int32, rows int, params *int64, dst *uint8, ldd int)
//
// qReqRowsAVX2 with the AVX2 layout of the 512-bit parameters of one
// block (QRequant.vec16a), each row requantized by REQF8.
TEXT ·qReqRowsFAVX2(SB), NOSPLIT, $0-40
	MOVQ         acc+0(FP), SI
	MOVQ         rows+8(FP), CX
	MOVQ         params+16(FP), BX
	MOVQ         dst+24(FP), R14
	MOVQ         ldd+32(FP), DX
	REQFCONST

freqrow:
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	REQFROW(Y0, Y1)
	ADDQ    $64, SI
	ADDQ    DX, R14
	DECQ    CX
	JNZ     freqrow
	VZEROUPPER
	RET

// Two channel blocks at once (32 channels), for the fused output: each
// broadcast of 4 activation bytes feeds the weights of both blocks.
// Accumulators: block 0 rows 0-7 in Z16-Z23, block 1 in Z24-Z31; weights
// in Z0 and Z1 (the second block wstride bytes after the first, in CX).
#define ZROW2(ptr, acc0, acc1) \
	VPBROADCASTD (ptr)(AX*1), Z2; \
	VPDPBUSD     Z0, Z2, acc0; \
	VPDPBUSD     Z1, Z2, acc1

// ZREQ2: requantize and store one row of both blocks (16 levels each);
// block 1's parameters follow block 0's (384 bytes).
#define ZREQ2(acc0, acc1) \
	ZREQ16(acc0, 0, 0); \
	ZREQ16(acc1, 384, 16)

// func qKernQuad2VNNI(a *uint8, offs *int32, npix, segs, segLen, segStride int, w *int8, wstride int, params *int64, dst *uint8, ldd int)
//
// As qKernQuadVNNI, for blocks j and j+1, requantized with the 512-bit
// parameters of both (params is not nil). The rows left are counted in
// npix's argument slot.
TEXT ·qKernQuad2VNNI(SB), NOSPLIT, $0-88
	ZREQSETUP
	MOVQ offs+8(FP), R8
	MOVQ wstride+56(FP), CX
	MOVQ dst+72(FP), R14

q2tile:
	MOVQ    a+0(FP), BX
	ZROWS03
	MOVQ    segs+24(FP), DI
	VPXORD  Z16, Z16, Z16
	VPXORD  Z17, Z17, Z17
	VPXORD  Z18, Z18, Z18
	VPXORD  Z19, Z19, Z19
	VPXORD  Z24, Z24, Z24
	VPXORD  Z25, Z25, Z25
	VPXORD  Z26, Z26, Z26
	VPXORD  Z27, Z27, Z27
	CMPQ    npix+16(FP), $4
	JLE     q2four
	ZROWS47
	MOVQ    w+48(FP), BX
	VPXORD  Z20, Z20, Z20
	VPXORD  Z21, Z21, Z21
	VPXORD  Z22, Z22, Z22
	VPXORD  Z23, Z23, Z23
	VPXORD  Z28, Z28, Z28
	VPXORD  Z29, Z29, Z29
	VPXORD  Z30, Z30, Z30
	VPXORD  Z31, Z31, Z31

q2seg8:
	XORQ AX, AX

q2k8:
	VMOVDQU32 (BX), Z0
	VMOVDQU32 (BX)(CX*1), Z1
	ZROW2(R10, Z16, Z24)
	ZROW2(R11, Z17, Z25)
	ZROW2(R12, Z18, Z26)
	ZROW2(R13, Z19, Z27)
	ZROW2(DX, Z20, Z28)
	ZROW2(R9, Z21, Z29)
	ZROW2(R15, Z22, Z30)
	ZROW2(SI, Z23, Z31)
	ADDQ      $64, BX
	ADDQ      $4, AX
	CMPQ      AX, segLen+32(FP)
	JLT       q2k8
	ZNEXTSEG8
	DECQ      DI
	JNZ       q2seg8
	MOVQ  params+64(FP), BX
	ZREQ2(Z16, Z24)
	ADDQ  ldd+80(FP), R14
	ZREQ2(Z17, Z25)
	ADDQ  ldd+80(FP), R14
	ZREQ2(Z18, Z26)
	ADDQ  ldd+80(FP), R14
	ZREQ2(Z19, Z27)
	ADDQ  ldd+80(FP), R14
	ZREQ2(Z20, Z28)
	ADDQ  ldd+80(FP), R14
	SUBQ  $5, npix+16(FP)
	JZ    q2done
	ZREQ2(Z21, Z29)
	ADDQ  ldd+80(FP), R14
	DECQ  npix+16(FP)
	JZ    q2done
	ZREQ2(Z22, Z30)
	ADDQ  ldd+80(FP), R14
	DECQ  npix+16(FP)
	JZ    q2done
	ZREQ2(Z23, Z31)
	ADDQ  ldd+80(FP), R14
	DECQ  npix+16(FP)
	JZ    q2done
	ADDQ  $32, R8
	JMP   q2tile

	// The last 1 to 4 rows.
q2four:
	MOVQ w+48(FP), BX

q2seg4:
	XORQ AX, AX

q2k4:
	VMOVDQU32 (BX), Z0
	VMOVDQU32 (BX)(CX*1), Z1
	ZROW2(R10, Z16, Z24)
	ZROW2(R11, Z17, Z25)
	ZROW2(R12, Z18, Z26)
	ZROW2(R13, Z19, Z27)
	ADDQ      $64, BX
	ADDQ      $4, AX
	CMPQ      AX, segLen+32(FP)
	JLT       q2k4
	ZNEXTSEG4
	DECQ      DI
	JNZ       q2seg4
	MOVQ  params+64(FP), BX
	ZREQ2(Z16, Z24)
	ADDQ  ldd+80(FP), R14
	DECQ  npix+16(FP)
	JZ    q2done
	ZREQ2(Z17, Z25)
	ADDQ  ldd+80(FP), R14
	DECQ  npix+16(FP)
	JZ    q2done
	ZREQ2(Z18, Z26)
	ADDQ  ldd+80(FP), R14
	DECQ  npix+16(FP)
	JZ    q2done
	ZREQ2(Z19, Z27)

q2done:
	VZEROUPPER
	RET

// ZROWQ: one row of a pair of groups for one block, its 8 activation
// bytes broadcast as a qword: even lanes see the first group's 4 bytes,
// odd lanes the second's, against interleaved weights (QPackedB.b8i:
// lane 2c of Z0 channel c's weights of the first group, lane 2c+1 of the
// second; Z1 channels 8-15), so that one broadcast feeds two VPDPBUSD as
// in the two-block kernel.
#define ZROWQ(ptr, acc0, acc1) \
	VPBROADCASTQ (ptr)(AX*1), Z2; \
	VPDPBUSD     Z0, Z2, acc0; \
	VPDPBUSD     Z1, Z2, acc1

// ZPAIRSUM: the 16 channel sums of a row from ZROWQ's accumulators
// (acc0 channels 0-7, acc1 8-15, each channel's two groups in the two
// dwords of a qword) into acc0: the dwords of each qword added into its
// low one, then the low dwords of both gathered (VPERMT2D, index Z13).
// Clobbers Z8.
#define ZPAIRSUM(acc0, acc1) \
	VPSRLQ   $32, acc0, Z8; \
	VPADDD   Z8, acc0, acc0; \
	VPSRLQ   $32, acc1, Z8; \
	VPADDD   Z8, acc1, acc1; \
	VPERMT2D acc1, Z13, acc0

// func qKernQuad1VNNI(a *uint8, offs *int32, npix, segs, segLen, segStride int, w *int8, params *int64, dst *uint8, ldd int)
//
// As qKernQuadVNNI for one block, requantized with its 512-bit
// parameters (params is not nil), segLen a multiple of 8, w the block's
// interleaved weights (QPackedB.b8i): rows 0-7 accumulate channels 0-7
// in Z16-Z23 and channels 8-15 in Z24-Z31, each channel's pairs of
// groups in the two dwords of a qword (ZROWQ), summed by ZPAIRSUM before
// the requantization (int32 addition wraps, so the order does not change
// the sums).
TEXT ·qKernQuad1VNNI(SB), NOSPLIT, $0-80
	ZREQSETUP
	MOVQ offs+8(FP), R8
	MOVQ npix+16(FP), CX
	MOVQ dst+64(FP), R14

q1tile:
	MOVQ   a+0(FP), BX
	ZROWS03
	MOVQ   segs+24(FP), DI
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
	CMPQ   CX, $4
	JLE    q1four
	ZROWS47
	MOVQ   w+48(FP), BX
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z28, Z28, Z28
	VPXORD Z29, Z29, Z29
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31

q1seg8:
	XORQ AX, AX

q1k8:
	VMOVDQU32 (BX), Z0
	VMOVDQU32 64(BX), Z1
	ZROWQ(R10, Z16, Z24)
	ZROWQ(R11, Z17, Z25)
	ZROWQ(R12, Z18, Z26)
	ZROWQ(R13, Z19, Z27)
	ZROWQ(DX, Z20, Z28)
	ZROWQ(R9, Z21, Z29)
	ZROWQ(R15, Z22, Z30)
	ZROWQ(SI, Z23, Z31)
	ADDQ      $128, BX
	ADDQ      $8, AX
	CMPQ      AX, segLen+32(FP)
	JLT       q1k8
	ZNEXTSEG8
	DECQ      DI
	JNZ       q1seg8
	ZPAIRSUM(Z16, Z24)
	ZPAIRSUM(Z17, Z25)
	ZPAIRSUM(Z18, Z26)
	ZPAIRSUM(Z19, Z27)
	ZPAIRSUM(Z20, Z28)
	ZPAIRSUM(Z21, Z29)
	ZPAIRSUM(Z22, Z30)
	ZPAIRSUM(Z23, Z31)
	MOVQ      params+56(FP), BX
	ZREQ16(Z16, 0, 0)
	ADDQ      ldd+72(FP), R14
	ZREQ16(Z17, 0, 0)
	ADDQ      ldd+72(FP), R14
	ZREQ16(Z18, 0, 0)
	ADDQ      ldd+72(FP), R14
	ZREQ16(Z19, 0, 0)
	ADDQ      ldd+72(FP), R14
	ZREQ16(Z20, 0, 0)
	ADDQ      ldd+72(FP), R14
	SUBQ      $5, CX
	JZ        q1done
	ZREQ16(Z21, 0, 0)
	ADDQ      ldd+72(FP), R14
	DECQ      CX
	JZ        q1done
	ZREQ16(Z22, 0, 0)
	ADDQ      ldd+72(FP), R14
	DECQ      CX
	JZ        q1done
	ZREQ16(Z23, 0, 0)
	ADDQ      ldd+72(FP), R14
	DECQ      CX
	JZ        q1done
	ADDQ      $32, R8
	JMP       q1tile

	// The last 1 to 4 rows.
q1four:
	MOVQ w+48(FP), BX

q1seg4:
	XORQ AX, AX

q1k4:
	VMOVDQU32 (BX), Z0
	VMOVDQU32 64(BX), Z1
	ZROWQ(R10, Z16, Z24)
	ZROWQ(R11, Z17, Z25)
	ZROWQ(R12, Z18, Z26)
	ZROWQ(R13, Z19, Z27)
	ADDQ      $128, BX
	ADDQ      $8, AX
	CMPQ      AX, segLen+32(FP)
	JLT       q1k4
	ZNEXTSEG4
	DECQ      DI
	JNZ       q1seg4
	ZPAIRSUM(Z16, Z24)
	ZPAIRSUM(Z17, Z25)
	ZPAIRSUM(Z18, Z26)
	ZPAIRSUM(Z19, Z27)
	MOVQ      params+56(FP), BX
	ZREQ16(Z16, 0, 0)
	ADDQ      ldd+72(FP), R14
	DECQ      CX
	JZ        q1done
	ZREQ16(Z17, 0, 0)
	ADDQ      ldd+72(FP), R14
	DECQ      CX
	JZ        q1done
	ZREQ16(Z18, 0, 0)
	ADDQ      ldd+72(FP), R14
	DECQ      CX
	JZ        q1done
	ZREQ16(Z19, 0, 0)

q1done:
	VZEROUPPER
	RET

// func qReqRowsAVX512(acc *int32, rows int, params *int64, dst *uint8, ldd int)
//
// qReqRowsAVX2 with the 512-bit parameters of one block (see qReqBlock):
// each row's 16 accumulators requantized by ZREQ16.
TEXT ·qReqRowsAVX512(SB), NOSPLIT, $0-40
	ZREQSETUP
	MOVQ acc+0(FP), SI
	MOVQ rows+8(FP), CX
	MOVQ params+16(FP), BX
	MOVQ dst+24(FP), R14
	MOVQ ldd+32(FP), DX

zreqrow:
	VMOVDQU32 (SI), Z0
	ZREQ16(Z0, 0, 0)
	ADDQ      $64, SI
	ADDQ      DX, R14
	DECQ      CX
	JNZ       zreqrow
	VZEROUPPER
	RET
