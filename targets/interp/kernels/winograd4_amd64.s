//go:build amd64 && !noasm

#include "textflag.h"

// The columns of the lanes' first patch columns, from the first one's,
// for the three layouts of the lanes (see wg4InputAVX2): 8 tiles of a
// channel (4·q for lane q), 4 tiles of 2 channels (4·(q mod 4)) and 2
// tiles of 4 channels (4·(q mod 2)); then 4 and 5 (float32).
DATA wg4Const<>+0(SB)/4, $0
DATA wg4Const<>+4(SB)/4, $4
DATA wg4Const<>+8(SB)/4, $8
DATA wg4Const<>+12(SB)/4, $12
DATA wg4Const<>+16(SB)/4, $16
DATA wg4Const<>+20(SB)/4, $20
DATA wg4Const<>+24(SB)/4, $24
DATA wg4Const<>+28(SB)/4, $28
DATA wg4Const<>+32(SB)/4, $0
DATA wg4Const<>+36(SB)/4, $4
DATA wg4Const<>+40(SB)/4, $8
DATA wg4Const<>+44(SB)/4, $12
DATA wg4Const<>+48(SB)/4, $0
DATA wg4Const<>+52(SB)/4, $4
DATA wg4Const<>+56(SB)/4, $8
DATA wg4Const<>+60(SB)/4, $12
DATA wg4Const<>+64(SB)/4, $0
DATA wg4Const<>+68(SB)/4, $4
DATA wg4Const<>+72(SB)/4, $0
DATA wg4Const<>+76(SB)/4, $4
DATA wg4Const<>+80(SB)/4, $0
DATA wg4Const<>+84(SB)/4, $4
DATA wg4Const<>+88(SB)/4, $0
DATA wg4Const<>+92(SB)/4, $4
DATA wg4Const<>+96(SB)/4, $0x40800000
DATA wg4Const<>+100(SB)/4, $0x40a00000
GLOBL wg4Const<>(SB), RODATA|NOPTR, $104

// wg4Load loads a row of the patches of 8 tiles from p (column 4·t0-1
// of the row, for a group of 8 tiles t0 to t0+7 of a channel) and p+CX
// (its column 4·t0+15, CX = 64, or the next channel's column -1, CX
// the rows' stride, for 4 tiles of 2 channels) as chunks of 4 columns,
// chunk q being columns 4·q-1 to 4·q+2 from there, the first 4 columns
// of the patch of tile q: Y0 to Y4 hold chunks 0 to 4 from p in their
// low halves and from p+CX in their high halves, Y5 the second columns
// of Y4's chunks in their first lanes (the only ones used).
#define wg4Load(p) \
	VMOVUPS     (p), X0; \
	VINSERTF128 $1, (p)(CX*1), Y0, Y0; \
	VMOVUPS     16(p), X1; \
	VINSERTF128 $1, 16(p)(CX*1), Y1, Y1; \
	VMOVUPS     32(p), X2; \
	VINSERTF128 $1, 32(p)(CX*1), Y2, Y2; \
	VMOVUPS     48(p), X3; \
	VINSERTF128 $1, 48(p)(CX*1), Y3, Y3; \
	VMOVUPS     64(p), X4; \
	VINSERTF128 $1, 64(p)(CX*1), Y4, Y4; \
	VPERMILPS   $1, Y4, Y5

// wg4Transpose turns wg4Load's chunks into the columns j = 0 to 5 of the
// patches, 8 tiles a vector (in the order of the lanes of Y0 to Y3): a
// 4×4 transpose in each half of Y0 to Y3 gives columns 0 to 3 (d0 to
// d3: Y2, Y3, Y0, Y1), and columns 4 and 5 are columns 0 and 1 of the
// next tile, d0 and d1 moved down a lane with the first lanes of Y4 and
// Y5 above them (d4: Y4, d5: Y5). Clobbers Y6 and Y7.
#define wg4Transpose \
	VUNPCKLPS Y1, Y0, Y6; \
	VUNPCKHPS Y1, Y0, Y7; \
	VUNPCKLPS Y3, Y2, Y0; \
	VUNPCKHPS Y3, Y2, Y1; \
	VSHUFPS   $0x44, Y0, Y6, Y2; \
	VSHUFPS   $0xEE, Y0, Y6, Y3; \
	VSHUFPS   $0x44, Y1, Y7, Y0; \
	VSHUFPS   $0xEE, Y1, Y7, Y1; \
	VPALIGNR  $4, Y2, Y4, Y4; \
	VPALIGNR  $4, Y3, Y5, Y5

// wg4Load4 loads a row of the patches of 2 tiles of 4 channels from p
// (the first channel's column -1; CX the rows' stride) as chunks of 4
// columns (columns -1 to 2, 3 to 6, 7 to 10: chunk q holds the first 4
// columns of tile q's patch and its next 2 columns are the first of
// chunk q+1's): Y0 to Y2 hold chunks 0 to 2 of the first channel in
// their low halves and of the third in their high halves, Y3 to Y5
// those of the second and fourth channels. It moves p on to the next 4
// channels.
#define wg4Load4(p) \
	VMOVUPS     (p), X0; \
	VINSERTF128 $1, (p)(CX*2), Y0, Y0; \
	VMOVUPS     16(p), X1; \
	VINSERTF128 $1, 16(p)(CX*2), Y1, Y1; \
	VMOVUPS     32(p), X2; \
	VINSERTF128 $1, 32(p)(CX*2), Y2, Y2; \
	ADDQ        CX, p; \
	VMOVUPS     (p), X3; \
	VINSERTF128 $1, (p)(CX*2), Y3, Y3; \
	VMOVUPS     16(p), X4; \
	VINSERTF128 $1, 16(p)(CX*2), Y4, Y4; \
	VMOVUPS     32(p), X5; \
	VINSERTF128 $1, 32(p)(CX*2), Y5, Y5; \
	LEAQ        (p)(CX*2), p; \
	ADDQ        CX, p

// wg4Transpose4 turns wg4Load4's chunks into the columns j = 0 to 5 of
// the patches, in each half tiles 0 and 1 of a channel then of the
// other: columns 0 to 3 (d0 to d3: Y2, Y3, Y0, Y1) transpose chunks 0
// and 1 of the two channels, and columns 4 and 5 (d4: Y4, d5: Y5) are
// the first 2 columns of chunks 1 and 2 transposed. Clobbers Y6 and
// Y7.
#define wg4Transpose4 \
	VUNPCKLPS Y2, Y1, Y6; \
	VUNPCKLPS Y5, Y4, Y7; \
	VSHUFPS   $0x44, Y7, Y6, Y2; \
	VSHUFPS   $0xEE, Y7, Y6, Y5; \
	VUNPCKLPS Y1, Y0, Y6; \
	VUNPCKHPS Y1, Y0, Y7; \
	VUNPCKLPS Y4, Y3, Y0; \
	VUNPCKHPS Y4, Y3, Y1; \
	VMOVAPS   Y2, Y4; \
	VSHUFPS   $0x44, Y0, Y6, Y2; \
	VSHUFPS   $0xEE, Y0, Y6, Y3; \
	VSHUFPS   $0x44, Y1, Y7, Y0; \
	VSHUFPS   $0xEE, Y1, Y7, Y1

// wg4Mask zeroes the columns of d0 to d5 (Y2, Y3, Y0, Y1, Y4, Y5) that
// lie outside [0, w), with the masks of columns j = 0 to 5 at AX+32·j.
#define wg4Mask \
	VANDPS (AX), Y2, Y2; \
	VANDPS 32(AX), Y3, Y3; \
	VANDPS 64(AX), Y0, Y0; \
	VANDPS 96(AX), Y1, Y1; \
	VANDPS 128(AX), Y4, Y4; \
	VANDPS 160(AX), Y5, Y5

#define wg4NoMask

// wg4In is wg4In (Bᵀ·d, in its order of operations, each product
// rounded on its own) on d0 to d5 (Y2, Y3, Y0, Y1, Y4, Y5), 8 lanes at
// a time, into Y8 to Y13 (Y15 holds 4, Y14 5). Clobbers Y0 to Y7.
// (Fusing the products by 4 into the additions would give the same
// bits except where they overflow, and ran no faster on Zen 3.)
#define wg4In \
	VSUBPS Y0, Y4, Y6; /* c = d4 - d2 */ \
	VMULPS Y2, Y15, Y2; /* 4·d0 */ \
	VADDPS Y4, Y2, Y2; /* 4·d0 + d4 */ \
	VMULPS Y0, Y15, Y7; /* 4·d2 */ \
	VSUBPS Y7, Y4, Y4; /* a = d4 - 4·d2 */ \
	VMULPS Y0, Y14, Y0; /* 5·d2 */ \
	VSUBPS Y0, Y2, Y8; /* (4·d0 + d4) - 5·d2 */ \
	VSUBPS Y3, Y1, Y7; /* e = d3 - d1 */ \
	VMULPS Y1, Y14, Y0; /* 5·d3 */ \
	VMULPS Y3, Y15, Y3; /* 4·d1 */ \
	VADDPS Y5, Y3, Y5; /* 4·d1 + d5 */ \
	VSUBPS Y0, Y5, Y13; /* (4·d1 + d5) - 5·d3 */ \
	VSUBPS Y3, Y1, Y1; /* b = d3 - 4·d1 */ \
	VADDPS Y1, Y4, Y9; /* a + b */ \
	VSUBPS Y1, Y4, Y10; /* a - b */ \
	VADDPS Y7, Y7, Y7; /* 2·e */ \
	VADDPS Y7, Y6, Y11; /* c + 2·e */ \
	VSUBPS Y7, Y6, Y12 /* c - 2·e */

// wg4Rows points SI and R14 at where wg4Spill stores row 0 (DI and
// DI+3·DX).
#define wg4Rows \
	MOVQ DI, SI; \
	LEAQ (DI)(DX*2), R14; \
	ADDQ DX, R14

// wg4Spill stores row k of Bᵀ·d (Y8 to Y13) where the values 6k to
// 6k+5 of the first channel go, value 6k+j at SI+j·DX (R14: SI+3·DX; DX
// is ps in bytes), and moves SI and R14 on to row k+1 (BX: 6·DX): the
// columns read them back from there before they store their values
// over them. A vector holding several channels goes whole to the first
// one's values: the lanes of the others land on its tiles 2 (or 4) to
// 7, past n.
#define wg4Spill \
	VMOVUPS Y8, (SI); \
	VMOVUPS Y9, (SI)(DX*1); \
	VMOVUPS Y10, (SI)(DX*2); \
	VMOVUPS Y11, (R14); \
	VMOVUPS Y12, (SI)(DX*4); \
	VMOVUPS Y13, (R14)(DX*2); \
	ADDQ    BX, SI; \
	ADDQ    BX, R14

// wg4Col runs wg4In (as wg4In does) down column j of the rows of Bᵀ·d:
// h0 to h4 (Y5, Y1, Y2, Y3, Y4) and h5 (register h5, clobbered) into
// its values 6i+j, i = 0 to 5 (Y5, Y2, Y4, Y3, Y6, Y0). Clobbers Y1
// and Y7.
#define wg4Col(h5) \
	VSUBPS Y2, Y4, Y6; /* c = h4 - h2 */ \
	VMULPS Y5, Y15, Y5; /* 4·h0 */ \
	VADDPS Y4, Y5, Y5; /* 4·h0 + h4 */ \
	VMULPS Y2, Y14, Y0; /* 5·h2 */ \
	VSUBPS Y0, Y5, Y5; /* (4·h0 + h4) - 5·h2 */ \
	VMULPS Y2, Y15, Y2; /* 4·h2 */ \
	VSUBPS Y2, Y4, Y4; /* a = h4 - 4·h2 */ \
	VSUBPS Y1, Y3, Y7; /* e = h3 - h1 */ \
	VMULPS Y3, Y14, Y0; /* 5·h3 */ \
	VMULPS Y1, Y15, Y1; /* 4·h1 */ \
	VSUBPS Y1, Y3, Y3; /* b = h3 - 4·h1 */ \
	VADDPS Y3, Y4, Y2; /* a + b */ \
	VSUBPS Y3, Y4, Y4; /* a - b */ \
	VADDPS Y7, Y7, Y7; /* 2·e */ \
	VADDPS Y7, Y6, Y3; /* c + 2·e */ \
	VSUBPS Y7, Y6, Y6; /* c - 2·e */ \
	VADDPS Y1, h5, h5; /* 4·h1 + h5 */ \
	VSUBPS Y0, h5, Y0 /* (4·h1 + h5) - 5·h3 */

// wg4ColLoad loads h0 to h4 of column j for wg4Col from where wg4Spill
// stored them, value 6k+j at SI+k·BX (R14: SI+3·BX).
#define wg4ColLoad \
	VMOVUPS (SI), Y5; \
	VMOVUPS (SI)(BX*1), Y1; \
	VMOVUPS (SI)(BX*2), Y2; \
	VMOVUPS (R14), Y3; \
	VMOVUPS (R14)(BX*1), Y4

// wg4Col1 runs column j of a group of 8 tiles of a channel (h5 in
// register h5): its values 6i+j go to SI+i·BX (R14: SI+3·BX), over h0
// to h4; then SI and R14 move on to column j+1 (DX: ps in bytes).
#define wg4Col1(h5) \
	wg4ColLoad; \
	wg4Col(h5); \
	VMOVUPS Y5, (SI); \
	VMOVUPS Y2, (SI)(BX*1); \
	VMOVUPS Y4, (SI)(BX*2); \
	VMOVUPS Y3, (R14); \
	VMOVUPS Y6, (R14)(BX*1); \
	VMOVUPS Y0, (R14)(BX*2); \
	ADDQ    DX, SI; \
	ADDQ    DX, R14

// wg4St2 stores value y of 4 tiles of 2 channels: its low half (x) at
// lo, the first channel's, and its high half at hi, the second's.
#define wg4St2(y, x, lo, hi) \
	VMOVUPS      x, lo; \
	VEXTRACTF128 $1, y, hi

// wg4Col2 is wg4Col1 for 4 tiles of 2 channels, the second one's values
// going to DI+i·BX (CX: DI+3·BX), which move on by DX too.
#define wg4Col2(h5) \
	wg4ColLoad; \
	wg4Col(h5); \
	wg4St2(Y5, X5, (SI), (DI)); \
	wg4St2(Y2, X2, (SI)(BX*1), (DI)(BX*1)); \
	wg4St2(Y4, X4, (SI)(BX*2), (DI)(BX*2)); \
	wg4St2(Y3, X3, (R14), (CX)); \
	wg4St2(Y6, X6, (R14)(BX*1), (CX)(BX*1)); \
	wg4St2(Y0, X0, (R14)(BX*2), (CX)(BX*2)); \
	ADDQ DX, SI; \
	ADDQ DX, R14; \
	ADDQ DX, DI; \
	ADDQ DX, CX

// wg4St4 stores value y of 2 tiles of 4 channels at R14 (the first
// channel's), R14+CX, R14+2·CX and R14+DI (CX: ds, DI: 3·ds) and moves
// R14 on to the next value of the column (BX: 6·ps). Clobbers Y7.
#define wg4St4(y, x) \
	VMOVLPS      x, (R14); \
	VMOVHPS      x, (R14)(CX*1); \
	VEXTRACTF128 $1, y, X7; \
	VMOVLPS      X7, (R14)(CX*2); \
	VMOVHPS      X7, (R14)(DI*1); \
	ADDQ         BX, R14

// wg4Col4 is wg4Col1 for 2 tiles of 4 channels: R14 walks down the
// column from SI, which moves on by DX.
#define wg4Col4(h5) \
	LEAQ    (SI)(BX*2), R14; \
	ADDQ    BX, R14; \
	VMOVUPS (SI), Y5; \
	VMOVUPS (SI)(BX*1), Y1; \
	VMOVUPS (SI)(BX*2), Y2; \
	VMOVUPS (R14), Y3; \
	VMOVUPS (R14)(BX*1), Y4; \
	wg4Col(h5); \
	MOVQ    SI, R14; \
	wg4St4(Y5, X5); \
	wg4St4(Y2, X2); \
	wg4St4(Y4, X4); \
	wg4St4(Y3, X3); \
	wg4St4(Y6, X6); \
	wg4St4(Y0, X0); \
	ADDQ    DX, SI

// wg4Masks stores at AX the masks of the columns j = 0 to 5 of the
// patches in the lanes, lane q's first column being BX plus lane q of
// lanes: the lanes whose column lies in [0, w). Clobbers BX and Y0 to
// Y4.
#define wg4Masks(lanes) \
	VMOVQ        BX, X0; \
	VPBROADCASTD X0, Y0; \
	VPADDD       lanes, Y0, Y0; \
	MOVQ         w+104(FP), BX; \
	VMOVQ        BX, X1; \
	VPBROADCASTD X1, Y1; \
	VPCMPEQD     Y2, Y2, Y2; \
	wg4MaskCol(0); \
	wg4MaskCol(32); \
	wg4MaskCol(64); \
	wg4MaskCol(96); \
	wg4MaskCol(128); \
	wg4MaskCol(160)

// wg4MaskCol stores at o(AX) the mask of the columns in Y0 that lie in
// [0, w) (Y1: w, Y2: minus one), and moves Y0 on by one column.
// Clobbers Y3 and Y4.
#define wg4MaskCol(o) \
	VPCMPGTD Y2, Y0, Y3; \
	VPCMPGTD Y0, Y1, Y4; \
	VPAND    Y3, Y4, Y4; \
	VMOVDQU  Y4, o(AX); \
	VPSUBD   Y2, Y0, Y0

// wg4Group1 transforms a group of 8 tiles of a channel: rows R8 to R13
// (CX = 64), values to DI, masked with mask (wg4Mask or wg4NoMask).
#define wg4Group1(mask) \
	wg4Rows; \
	wg4Row1(R8, mask); \
	wg4Spill; \
	wg4Row1(R9, mask); \
	wg4Spill; \
	wg4Row1(R10, mask); \
	wg4Spill; \
	wg4Row1(R11, mask); \
	wg4Spill; \
	wg4Row1(R12, mask); \
	wg4Spill; \
	wg4Row1(R13, mask); \
	MOVQ DI, SI; \
	LEAQ (DI)(BX*2), R14; \
	ADDQ BX, R14; \
	wg4Col1(Y8); \
	wg4Col1(Y9); \
	wg4Col1(Y10); \
	wg4Col1(Y11); \
	wg4Col1(Y12); \
	wg4Col1(Y13)

// wg4Row1 transforms row p of a group of 8 tiles of a channel (CX =
// 64), masked with mask.
#define wg4Row1(p, mask) \
	wg4Load(p); \
	wg4Transpose; \
	mask; \
	wg4In

// wg4Next1 moves the rows (R8 to R13) and DI on to the next channel and
// counts it down (left).
#define wg4Next1 \
	ADDQ cs0+48(FP), R8; \
	ADDQ cs1+56(FP), R9; \
	ADDQ cs2+64(FP), R10; \
	ADDQ cs3+72(FP), R11; \
	ADDQ cs4+80(FP), R12; \
	ADDQ cs5+88(FP), R13; \
	ADDQ ds+128(FP), DI; \
	DECQ left-8(SP)

// wg4Row2 transforms row p of 4 tiles of 2 channels (CX: the rows'
// stride) and moves p on to the next 2 channels.
#define wg4Row2(p) \
	wg4Load(p); \
	LEAQ (p)(CX*2), p; \
	wg4Transpose; \
	wg4Mask; \
	wg4In

// wg4Row4 transforms row p of 2 tiles of 4 channels (CX: the rows'
// stride) and moves p on to the next 4 channels.
#define wg4Row4(p) \
	wg4Load4(p); \
	wg4Transpose4; \
	wg4Mask; \
	wg4In

// func wg4InputAVX2(r0, r1, r2, r3, r4, r5 *float32, cs0, cs1, cs2, cs3, cs4, cs5, chans, w, n int, dst *float32, ds, ps int)
// wg4InputGo for chans channels: channel i's rows are r0+i·cs0 to
// r5+i·cs5 (strides in bytes; 0 repeats a row, such as the zero row)
// and its values go from dst+i·ds (bytes): the 36 values of tile t at
// dst[p·ps+t] for t < n rounded up to a multiple of 8, which no other
// channel's or value's overlap. The rows are read with plain loads from
// column -1 to column wg4Reach(n)-1, which the caller must keep in
// memory, and the columns outside [0, w) masked to zero (VMASKMOVPS
// took 4 times as long on Zen 3).
//
// The 8 lanes of the vectors hold 8 tiles of a channel (a group, tiles
// t0 to t0+7), or, for short rows, 4 tiles of 2 channels (n ≤ 4, one
// channel in each half) or 2 tiles of 4 channels (n ≤ 2, 2 in each
// half), the channels left over going by the next layout. Each row of
// the patches is loaded, transposed into its 6 columns (a vector each)
// and transformed (wg4In); rows 0 to 4 of the result are stored where
// the values go (a NOSPLIT function's frame cannot hold them), row 5
// stays in Y8 to Y13, and wg4In down each of the 6 columns gives the 36
// values, stored over them. The groups of 8 tiles are the outer loop
// and the channels the inner one, so that a group's masks are made
// once: only the groups with columns outside [0, w) are masked.
//
// On Zen 3 a group of a channel takes about 120 cycles, bound by the FP
// pipes (the shuffles of the transposes and the additions share two
// pipes each: a row's loads, transposes and wg4In take about 13 cycles,
// the columns about 45): masking, the spills, fusing the products into
// FMAs, VBROADCASTF128 and VBLENDPS for VINSERTF128, or interleaving
// the columns of a channel with the rows of the next each made a few
// percent of difference at most.
//
// Registers: R8 to R13, the rows (at column 4·t0-1); DI, dst plus the
// channel's offset and 4·t0; DX, ps in bytes; BX, 6·ps; SI and R14,
// where the rows of Bᵀ·d and the values go; CX, the offset of the high
// halves of the loads; AX, the masks (32-byte aligned in the frame);
// Y15 and Y14, 4 and 5.
TEXT ·wg4InputAVX2(SB), NOSPLIT, $320-144
	LEAQ         masks-320(SP), AX
	ADDQ         $31, AX
	ANDQ         $~31, AX
	MOVQ         ps+136(FP), DX
	SHLQ         $2, DX
	VBROADCASTSS wg4Const<>+96(SB), Y15
	VBROADCASTSS wg4Const<>+100(SB), Y14
	MOVQ         r0+0(FP), R8
	MOVQ         r1+8(FP), R9
	MOVQ         r2+16(FP), R10
	MOVQ         r3+24(FP), R11
	MOVQ         r4+32(FP), R12
	MOVQ         r5+40(FP), R13
	SUBQ         $4, R8
	SUBQ         $4, R9
	SUBQ         $4, R10
	SUBQ         $4, R11
	SUBQ         $4, R12
	SUBQ         $4, R13
	MOVQ         dst+120(FP), DI
	MOVQ         chans+96(FP), CX
	MOVQ         CX, rest-32(SP)

	// 2 tiles of 4 channels, columns -1 to 10 of the rows.
	CMPQ n+112(FP), $2
	JGT  pairs
	SHRQ $2, CX
	JZ   pairs
	MOVQ CX, left-8(SP)
	ANDQ $3, rest-32(SP)
	MOVQ $-1, BX
	wg4Masks(wg4Const<>+64(SB))
	LEAQ (DX)(DX*2), BX
	SHLQ $1, BX

quads:
	wg4Rows
	MOVQ cs0+48(FP), CX
	wg4Row4(R8)
	wg4Spill
	MOVQ cs1+56(FP), CX
	wg4Row4(R9)
	wg4Spill
	MOVQ cs2+64(FP), CX
	wg4Row4(R10)
	wg4Spill
	MOVQ cs3+72(FP), CX
	wg4Row4(R11)
	wg4Spill
	MOVQ cs4+80(FP), CX
	wg4Row4(R12)
	wg4Spill
	MOVQ cs5+88(FP), CX
	wg4Row4(R13)
	MOVQ DI, dsave-24(SP)
	MOVQ DI, SI
	MOVQ ds+128(FP), CX
	LEAQ (CX)(CX*2), DI
	wg4Col4(Y8)
	wg4Col4(Y9)
	wg4Col4(Y10)
	wg4Col4(Y11)
	wg4Col4(Y12)
	wg4Col4(Y13)
	MOVQ dsave-24(SP), DI
	LEAQ (DI)(CX*4), DI
	DECQ left-8(SP)
	JNZ  quads

pairs:
	// 4 tiles of 2 channels, columns -1 to 18 of the rows.
	MOVQ rest-32(SP), CX
	CMPQ n+112(FP), $4
	JGT  groups
	SHRQ $1, CX
	JZ   groups
	MOVQ CX, left-8(SP)
	ANDQ $1, rest-32(SP)
	MOVQ $-1, BX
	wg4Masks(wg4Const<>+32(SB))
	LEAQ (DX)(DX*2), BX
	SHLQ $1, BX

pairsloop:
	wg4Rows
	MOVQ cs0+48(FP), CX
	wg4Row2(R8)
	wg4Spill
	MOVQ cs1+56(FP), CX
	wg4Row2(R9)
	wg4Spill
	MOVQ cs2+64(FP), CX
	wg4Row2(R10)
	wg4Spill
	MOVQ cs3+72(FP), CX
	wg4Row2(R11)
	wg4Spill
	MOVQ cs4+80(FP), CX
	wg4Row2(R12)
	wg4Spill
	MOVQ cs5+88(FP), CX
	wg4Row2(R13)
	MOVQ DI, dsave-24(SP)
	MOVQ DI, SI
	LEAQ (DI)(BX*2), R14
	ADDQ BX, R14
	MOVQ ds+128(FP), CX
	ADDQ CX, DI
	ADDQ R14, CX
	wg4Col2(Y8)
	wg4Col2(Y9)
	wg4Col2(Y10)
	wg4Col2(Y11)
	wg4Col2(Y12)
	wg4Col2(Y13)
	MOVQ dsave-24(SP), DI
	MOVQ ds+128(FP), CX
	LEAQ (DI)(CX*2), DI
	DECQ left-8(SP)
	JNZ  pairsloop

groups:
	// The channels left (all of them for n > 4) by groups of 8 tiles:
	// base holds their first one's rows and dst.
	CMPQ rest-32(SP), $0
	JEQ  done
	LEAQ (DX)(DX*2), BX
	SHLQ $1, BX
	ADDQ $4, R8
	MOVQ R8, base0-48(SP)
	ADDQ $4, R9
	MOVQ R9, base1-56(SP)
	ADDQ $4, R10
	MOVQ R10, base2-64(SP)
	ADDQ $4, R11
	MOVQ R11, base3-72(SP)
	ADDQ $4, R12
	MOVQ R12, base4-80(SP)
	ADDQ $4, R13
	MOVQ R13, base5-88(SP)
	MOVQ DI, dbase-40(SP)
	MOVQ $0, t0-16(SP)

group:
	MOVQ t0-16(SP), SI
	CMPQ SI, n+112(FP)
	JGE  done

	// The rows at column 4·t0-1 and dst at tile t0, for the first
	// channel.
	MOVQ SI, R14
	SHLQ $4, R14
	SUBQ $4, R14
	MOVQ base0-48(SP), R8
	ADDQ R14, R8
	MOVQ base1-56(SP), R9
	ADDQ R14, R9
	MOVQ base2-64(SP), R10
	ADDQ R14, R10
	MOVQ base3-72(SP), R11
	ADDQ R14, R11
	MOVQ base4-80(SP), R12
	ADDQ R14, R12
	MOVQ base5-88(SP), R13
	ADDQ R14, R13
	MOVQ dbase-40(SP), DI
	LEAQ (DI)(SI*4), DI
	MOVQ rest-32(SP), R14
	MOVQ R14, left-8(SP)
	MOVQ $64, CX

	// Columns 4·t0-1 to 4·t0+32 all in [0, w): no masks.
	TESTQ SI, SI
	JZ    masked
	LEAQ  33(SI*4), R14
	CMPQ  R14, w+104(FP)
	JGT   masked

plain:
	wg4Group1(wg4NoMask)
	wg4Next1
	JNZ plain
	JMP nextgroup

masked:
	// The masks: lane q of column j is column 4·(t0+q)-1+j.
	LEAQ -1(SI*4), BX
	wg4Masks(wg4Const<>+0(SB))
	LEAQ (DX)(DX*2), BX
	SHLQ $1, BX

maskedchan:
	wg4Group1(wg4Mask)
	wg4Next1
	JNZ maskedchan

nextgroup:
	ADDQ $8, t0-16(SP)
	JMP  group

done:
	VZEROUPPER
	RET
