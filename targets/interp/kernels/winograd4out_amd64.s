//go:build amd64 && !noasm

#include "funcdata.h"
#include "textflag.h"

// The output kernel of Winograd's F(4×4, 3×3) (see winograd4.go). Its
// lanes are 8 tiles (a group): 8 consecutive tiles of a channel, or,
// when a row has 4 tiles or fewer, tiles 0 to 3 of two channels (a
// pair: channel i in the low half, the next one in the high half). Both
// transforms are lane by lane: the columns' (vertical) ones from the
// products, their rows 1 to 3 kept in a scratch, then each row's
// (horizontal) one, whose 4 values of the 8 tiles (4 vectors, one per
// column phase) are transposed into 4 vectors of 8 contiguous output
// columns: columns 0-7, 8-15, 16-23 and 24-31 of the group (a pair:
// 0-7 and 8-15 of its first channel, then of its second).
//
// Registers:
//	Y0-Y10	work
//	Y11	zero (the clamp)
//	Y12	the channel's bias in every lane (a pair: each half its own)
//	Y13-Y15	2, 4 and 8 in every lane (wg4Out's multipliers)
//	AX	the group's first output column, in bytes (16·t0)
//	CX	16·n: AX's end
//	DX	4·ps: products j and j+1 of a tile are DX apart
//	R9, R11, R13	6·DX, 18·DX and 30·DX: products 6i+j, i = 1 to 5,
//		are R9, 2·R9, R11, 4·R9 and R13 from product j
//	R8	the group's products: src + i·ss + 4·t0
//	R10	flags
//	SI	product j's column of the group (the vertical transforms),
//		then the addend row (the epilogue)
//	R12	a pair's second channel's column (the vertical transforms),
//		then the output row (the epilogue)
//	DI	rows 1 to 3 of the vertical transforms' results (scratch)
//	BX	the output row being computed (0 to rows-1)
//	R14	the bytes of the row before w, from the group or a half; the
//		offset of a row's last vector
//
// Frame (hardware SP): 0-599, the scratch (576 bytes from the first
// 32-byte boundary, sbase); 600, the four output row pointers of the
// channel (moved on by ys a channel); 632, the four addend row
// pointers; 664, the channel's products; 672, the channels left; 680,
// the channel's bias; 688, sbase; 696, 4·w; 704, where a group's
// second half goes (64, or ys for a pair); 712, its bytes' offset from
// the group's (64, or 0 for a pair: 0 marks a pair); 720, the window's
// permutation (wg4Window; wg4Half reads 16 bytes past it); 752,
// 4·w-128, the last whole group's AX; 760, how far the next channel's
// (or pair's) products are (ss or 2·ss).

// wg4Out computes wg4Out (Aᵀ·m) of the six vectors m0 to m5 (registers
// or memory operands), in its order of operations: o0 = (m0+s)+s2,
// Y4 = d+2·d2, Y2 = s+4·s2, Y1 = (d+8·d2)+m5 (s = m1+m2, d = m1-m2,
// s2 = m3+m4, d2 = m3-m4). The multiplications by 2, 4 and 8 are exact:
// fused or not, the sums round alike. Clobbers Y1 to Y4.
#define wg4Out(m0, m1, m2, m3, m4, m5, o0) \
	VMOVUPS     m1, Y1; \
	VMOVUPS     m3, Y3; \
	VADDPS      m2, Y1, Y2; \
	VSUBPS      m2, Y1, Y1; \
	VADDPS      m4, Y3, Y4; \
	VSUBPS      m4, Y3, Y3; \
	VADDPS      m0, Y2, o0; \
	VADDPS      Y4, o0, o0; \
	VFMADD231PS Y14, Y4, Y2; \
	VMOVAPS     Y1, Y4; \
	VFMADD231PS Y13, Y3, Y4; \
	VFMADD231PS Y15, Y3, Y1; \
	VADDPS      m5, Y1, Y1

// wg4Col transforms column j of the group's products (products j, 6+j,
// ..., 30+j, from SI): row 0 of the result into o0, rows 1 to 3 into
// the scratch at DI+off, DI+192+off and DI+384+off (off = 32·j); moves
// SI on to column j+1.
#define wg4Col(o0, off) \
	wg4Out((SI), (SI)(R9*1), (SI)(R9*2), (SI)(R11*1), (SI)(R9*4), (SI)(R13*1), o0); \
	VMOVAPS Y4, off(DI); \
	VMOVAPS Y2, 192+off(DI); \
	VMOVAPS Y1, 384+off(DI); \
	ADDQ    DX, SI

// wg4Pair loads a pair's product: tiles 0-3 of channel i from a into
// the low half of y (x its low half), of channel i+1 from b into the
// high half.
#define wg4Pair(a, b, x, y) \
	VMOVUPS     a, x; \
	VINSERTF128 $1, b, y, y

// wg4ColPair is wg4Col for a pair (channel i's column at SI, i+1's at
// R12; both move on): wg4Out's operations on registers, the products
// loaded first.
#define wg4ColPair(o0, off) \
	wg4Pair((SI)(R9*1), (R12)(R9*1), X1, Y1); \
	wg4Pair((SI)(R9*2), (R12)(R9*2), X2, Y2); \
	VADDPS      Y2, Y1, Y3; \
	VSUBPS      Y2, Y1, Y1; \
	wg4Pair((SI)(R11*1), (R12)(R11*1), X2, Y2); \
	wg4Pair((SI)(R9*4), (R12)(R9*4), X4, Y4); \
	VADDPS      Y4, Y2, Y0; \
	VSUBPS      Y4, Y2, Y2; \
	wg4Pair((SI), (R12), X4, Y4); \
	VADDPS      Y4, Y3, o0; \
	VADDPS      Y0, o0, o0; \
	VFMADD231PS Y14, Y0, Y3; \
	VMOVAPS     Y1, Y0; \
	VFMADD231PS Y13, Y2, Y0; \
	VFMADD231PS Y15, Y2, Y1; \
	wg4Pair((SI)(R13*1), (R12)(R13*1), X4, Y4); \
	VADDPS      Y4, Y1, Y1; \
	VMOVAPS     Y0, off(DI); \
	VMOVAPS     Y3, 192+off(DI); \
	VMOVAPS     Y1, 384+off(DI); \
	ADDQ        DX, SI; \
	ADDQ        DX, R12

// wg4Ep finishes a vector v of 8 columns (y or x form): adds the
// addend a (a memory operand) when flag 2 is set, clamps at zero when
// flag 4 is set (VMAXPS with v second: a NaN stays; z is Y11 or
// X11), and stores it at dst. l1 and l2 are labels of its own.
#define wg4Ep(v, z, a, dst, l1, l2) \
	TESTQ   $2, R10; \
	JZ      l1; \
	VADDPS  a, v, v; \
l1: \
	TESTQ   $4, R10; \
	JZ      l2; \
	VMAXPS  v, z, v; \
l2: \
	VMOVUPS v, dst

// wg4Half stores the 16 columns of ya (0-7) and yb (8-15) that lie
// before w: R14 bytes from R12 (none when R14 <= 0, all from 64), the
// addend read from SI at those columns only. Whole vectors go as they
// are; 9 to 15 columns as 8 and the 8 ending at w (the window, cut from
// ya and yb by the permutation at 720(SP): lane l takes lane l+k mod 8,
// of yb where its sign is set, k = w mod 8); 4 to 7 as 4 and the 4
// ending at w (lanes k-4 to k-1 of ya, by the permutation's lanes 4 to
// 7); 1 to 3 as 2 and 1. The columns written twice get the same value.
// Clobbers Y8 to Y10, R12, SI and R14; the L arguments are its labels.
#define wg4Half(ya, yb, xa, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14, Lwin, Lshort, Ltiny, Lone, Ldone) \
	CMPQ      R14, $32; \
	JLT       Lshort; \
	VMOVAPS   ya, Y8; \
	wg4Ep(Y8, Y11, (SI), (R12), L1, L2); \
	CMPQ      R14, $64; \
	JLT       Lwin; \
	wg4Ep(yb, Y11, 32(SI), 32(R12), L3, L4); \
	JMP       Ldone; \
Lwin: \
	CMPQ      R14, $32; \
	JEQ       Ldone; \
	VMOVDQU   720(SP), Y9; \
	VPERMPS   ya, Y9, Y10; \
	VPERMPS   yb, Y9, Y8; \
	VBLENDVPS Y9, Y8, Y10, Y10; \
	wg4Ep(Y10, Y11, -32(SI)(R14*1), -32(R12)(R14*1), L5, L6); \
	JMP       Ldone; \
Lshort: \
	CMPQ      R14, $16; \
	JLT       Ltiny; \
	VMOVAPS   xa, X8; \
	wg4Ep(X8, X11, (SI), (R12), L7, L8); \
	CMPQ      R14, $16; \
	JEQ       Ldone; \
	VMOVDQU   736(SP), Y9; \
	VPERMPS   ya, Y9, Y10; \
	wg4Ep(X10, X11, -16(SI)(R14*1), -16(R12)(R14*1), L9, L10); \
	JMP       Ldone; \
Ltiny: \
	CMPQ      R14, $0; \
	JLE       Ldone; \
	VMOVAPS   xa, X8; \
	CMPQ      R14, $8; \
	JLT       Lone; \
	TESTQ     $2, R10; \
	JZ        L11; \
	VMOVQ     (SI), X9; \
	VADDPS    X9, X8, X8; \
L11: \
	TESTQ     $4, R10; \
	JZ        L12; \
	VMAXPS    X8, X11, X8; \
L12: \
	VMOVQ     X8, (R12); \
	VPSRLDQ   $8, xa, X8; \
	ADDQ      $8, SI; \
	ADDQ      $8, R12; \
	SUBQ      $8, R14; \
	JEQ       Ldone; \
Lone: \
	TESTQ     $2, R10; \
	JZ        L13; \
	VMOVSS    (SI), X9; \
	VADDPS    X9, X8, X8; \
L13: \
	TESTQ     $4, R10; \
	JZ        L14; \
	VMAXPS    X8, X11, X8; \
L14: \
	VMOVSS    X8, (R12); \
Ldone:

// wg4Shift replaces yb with the 8 columns of ya (a row's 8 columns
// from a multiple of 8) and yb (the next 8) that end at w, k = 1 to 8
// columns past ya's first: lane l takes lane l+k mod 8, from yb where
// the permutation at 720(SP) (wg4Window's for k) has its sign set.
// Clobbers Y8 and Y9.
#define wg4Shift(ya, yb) \
	VMOVDQU   720(SP), Y9; \
	VPERMPS   ya, Y9, Y8; \
	VPERMPS   yb, Y9, yb; \
	VBLENDVPS Y9, yb, Y8, yb

// wg4Pf prefetches column j of the next channel's (or pair's) group,
// from R12 (moved on to column j+1): its products are L2's, not L1's,
// and the loads of a group come too late for the out-of-order window
// to overlap them with the previous group's epilogue.
#define wg4Pf(o) \
	PREFETCHT0 o(R12); \
	PREFETCHT0 o(R12)(R9*1); \
	PREFETCHT0 o(R12)(R9*2); \
	PREFETCHT0 o(R12)(R11*1); \
	PREFETCHT0 o(R12)(R9*4); \
	PREFETCHT0 o(R12)(R13*1); \
	ADDQ DX, R12

// func wg4OutputAVX2(src *float32, ps, n, w int, y, add *[4]*float32, rows int, bias *float32, bs int, win *[8]int32, flags, chans, ss, ys int)
// wg4OutputGo, 8 tiles (32 output columns of 4 rows) at a time, for
// chans channels: channel i's products from src+i·ss (product p of tile
// t at src[p·ps+t]), its rows y[r]+i·ys for r < rows, addend rows
// add[r]+i·ys and bias at bias+i·bs (strides in bytes, negative to go
// backwards). win is wg4Window's
// permutation for w (see wg4Shift). flags: 2, the addend is added; 4,
// the results are clamped at zero; 8, bias is not nil (else 0 is
// added, as wg4OutputGo does). Only the columns before w are stored,
// and only they are read from the addend; the caller keeps w at most
// 4·n. The products are read in whole groups (a pair: tiles 0-3 of
// each channel).
// Its frame is too large to leave NOSPLIT (the limit is about 800
// bytes for a whole chain of NOSPLIT calls): it checks the stack.
TEXT ·wg4OutputAVX2(SB), 0, $768-112
	NO_LOCAL_POINTERS
	MOVQ          src+0(FP), BX
	MOVQ          BX, 664(SP)
	MOVQ          ps+8(FP), DX
	SHLQ          $2, DX
	LEAQ          (DX)(DX*2), R9
	SHLQ          $1, R9
	LEAQ          (R9)(R9*2), R11
	LEAQ          (R9)(R9*4), R13
	MOVQ          n+16(FP), CX
	SHLQ          $4, CX
	MOVQ          w+24(FP), BX
	SHLQ          $2, BX
	MOVQ          BX, 696(SP)
	SUBQ          $128, BX
	MOVQ          BX, 752(SP)
	MOVQ          y+32(FP), BX
	VMOVDQU       (BX), Y0
	VMOVDQU       Y0, 600(SP)
	MOVQ          add+40(FP), BX
	VMOVDQU       (BX), Y0
	VMOVDQU       Y0, 632(SP)
	MOVQ          bias+56(FP), BX
	MOVQ          BX, 680(SP)
	MOVQ          win+72(FP), BX
	VMOVDQU       (BX), Y0
	VMOVDQU       Y0, 720(SP)
	MOVQ          flags+80(FP), R10
	MOVQ          chans+88(FP), BX
	MOVQ          BX, 672(SP)
	LEAQ          31(SP), BX
	ANDQ          $-32, BX
	MOVQ          BX, 688(SP)
	MOVL          $0x40000000, BX // 2
	VMOVD         BX, X13
	VBROADCASTSS  X13, Y13
	MOVL          $0x40800000, BX // 4
	VMOVD         BX, X14
	VBROADCASTSS  X14, Y14
	MOVL          $0x41000000, BX // 8
	VMOVD         BX, X15
	VBROADCASTSS  X15, Y15
	VXORPS        Y11, Y11, Y11

	// A channel, or a pair when its rows have 4 tiles or fewer and 2
	// channels or more are left.
chan:
	VXORPS        Y12, Y12, Y12
	MOVQ          680(SP), BX
	CMPQ          CX, $64
	JGT           single
	CMPQ          672(SP), $2
	JLT           single
	MOVQ          ys+104(FP), R12
	MOVQ          R12, 704(SP)
	MOVQ          $0, 712(SP)
	MOVQ          ss+96(FP), R12
	ADDQ          R12, R12
	MOVQ          R12, 760(SP)
	TESTQ         $8, R10
	JZ            unit
	VBROADCASTSS  (BX), X12
	MOVQ          bs+64(FP), R12
	VBROADCASTSS  (BX)(R12*1), X8
	VINSERTF128   $1, X8, Y12, Y12
	JMP           unit

single:
	MOVQ          $64, 704(SP)
	MOVQ          $64, 712(SP)
	MOVQ          ss+96(FP), R12
	MOVQ          R12, 760(SP)
	TESTQ         $8, R10
	JZ            unit
	VBROADCASTSS  (BX), Y12

unit:
	MOVQ          664(SP), R8
	XORQ          AX, AX

group:
	CMPQ          AX, CX
	JGE           unitnext

	// The columns' transforms: row 0 of the results in Y5 to Y10, rows
	// 1 to 3 in the scratch.
	MOVQ          R8, SI
	MOVQ          688(SP), DI
	CMPQ          712(SP), $0
	JEQ           pairs
	wg4Col(Y5, 0)
	wg4Col(Y6, 32)
	wg4Col(Y7, 64)
	wg4Col(Y8, 96)
	wg4Col(Y9, 128)
	wg4Col(Y10, 160)
	JMP           rows

pairs:
	MOVQ          R8, R12
	ADDQ          ss+96(FP), R12
	wg4ColPair(Y5, 0)
	wg4ColPair(Y6, 32)
	wg4ColPair(Y7, 64)
	wg4ColPair(Y8, 96)
	wg4ColPair(Y9, 128)
	wg4ColPair(Y10, 160)

	// The rows' transforms: row 0 from registers, rows 1 to 3 from the
	// scratch (DI moving on by a row each), each into Y0, Y4, Y2 and Y1
	// (its column phases 0 to 3 of the 8 tiles), then the epilogue. The
	// next group's products are prefetched first.
rows:
	MOVQ          R8, R12
	ADDQ          760(SP), R12
	wg4Pf(0)
	wg4Pf(0)
	wg4Pf(0)
	wg4Pf(0)
	wg4Pf(0)
	wg4Pf(0)
	wg4Out(Y5, Y6, Y7, Y8, Y9, Y10, Y0)
	XORQ          BX, BX
	JMP           epilogue

row:
	wg4Out(0(DI), 32(DI), 64(DI), 96(DI), 128(DI), 160(DI), Y0)
	ADDQ          $192, DI

epilogue:
	VADDPS        Y12, Y0, Y0
	VADDPS        Y12, Y4, Y4
	VADDPS        Y12, Y2, Y2
	VADDPS        Y12, Y1, Y1

	// Transposed: Y5 to Y8 pair the phases (0 1 0 1, 0 1 0 1 and 2 3 2
	// 3, 2 3 2 3 of lanes 0 1, 2 3 | 4 5, 6 7), Y0 to Y3 hold the 4
	// columns of lanes (k, k+4) in their halves, Y4 to Y7 the row's 32
	// columns (lanes 0 1, 2 3, 4 5, 6 7; VINSERTF128 and VPERM2F128
	// move the halves).
	VUNPCKLPS     Y4, Y0, Y5
	VUNPCKHPS     Y4, Y0, Y6
	VUNPCKLPS     Y1, Y2, Y7
	VUNPCKHPS     Y1, Y2, Y8
	VUNPCKLPD     Y7, Y5, Y0
	VUNPCKHPD     Y7, Y5, Y1
	VUNPCKLPD     Y8, Y6, Y2
	VUNPCKHPD     Y8, Y6, Y3
	VINSERTF128   $1, X1, Y0, Y4
	VINSERTF128   $1, X3, Y2, Y5
	VPERM2F128    $0x31, Y1, Y0, Y6
	VPERM2F128    $0x31, Y3, Y2, Y7

	// R12 and SI: output row BX and its addend (channel i's); the
	// group's columns are AX bytes on.
	MOVQ          600(SP)(BX*8), R12
	MOVQ          632(SP)(BX*8), SI
	CMPQ          AX, 752(SP)
	JGT           part

	// A whole group: 4 vectors of 8 columns.
	TESTQ         $2, R10
	JZ            wholerelu
	VADDPS        (SI)(AX*1), Y4, Y4
	VADDPS        32(SI)(AX*1), Y5, Y5
	VADDPS        64(SI)(AX*1), Y6, Y6
	VADDPS        96(SI)(AX*1), Y7, Y7

wholerelu:
	TESTQ         $4, R10
	JZ            wholestore
	VMAXPS        Y4, Y11, Y4
	VMAXPS        Y5, Y11, Y5
	VMAXPS        Y6, Y11, Y6
	VMAXPS        Y7, Y11, Y7

wholestore:
	VMOVUPS       Y4, (R12)(AX*1)
	VMOVUPS       Y5, 32(R12)(AX*1)
	VMOVUPS       Y6, 64(R12)(AX*1)
	VMOVUPS       Y7, 96(R12)(AX*1)
	JMP           rownext

	// R14: the bytes of the row left before w.
part:
	MOVQ          696(SP), R14
	SUBQ          AX, R14
	CMPQ          712(SP), $0
	JEQ           pairrow
	CMPQ          R14, $96
	JLE           halves

	// A channel's last group with 25 to 31 columns before w: its last
	// vector is the 8 columns ending at w (R14 = 4·w-32).
	wg4Shift(Y6, Y7)
	MOVQ          696(SP), R14
	SUBQ          $32, R14
	TESTQ         $2, R10
	JZ            lastrelu
	VADDPS        (SI)(AX*1), Y4, Y4
	VADDPS        32(SI)(AX*1), Y5, Y5
	VADDPS        64(SI)(AX*1), Y6, Y6
	VADDPS        (SI)(R14*1), Y7, Y7

lastrelu:
	TESTQ         $4, R10
	JZ            laststore
	VMAXPS        Y4, Y11, Y4
	VMAXPS        Y5, Y11, Y5
	VMAXPS        Y6, Y11, Y6
	VMAXPS        Y7, Y11, Y7

laststore:
	VMOVUPS       Y4, (R12)(AX*1)
	VMOVUPS       Y5, 32(R12)(AX*1)
	VMOVUPS       Y6, 64(R12)(AX*1)
	VMOVUPS       Y7, (R12)(R14*1)
	JMP           rownext

	// A pair with 9 to 16 columns before w: each channel's first 8
	// and the 8 ending at w (R14 = 4·w-32), the second channel's ys
	// further on. AX is 0.
pairrow:
	CMPQ          R14, $32
	JLE           halves
	wg4Shift(Y4, Y5)
	wg4Shift(Y6, Y7)
	SUBQ          $32, R14
	TESTQ         $2, R10
	JZ            pairrelu
	VADDPS        (SI), Y4, Y4
	VADDPS        (SI)(R14*1), Y5, Y5
	ADDQ          704(SP), SI
	VADDPS        (SI), Y6, Y6
	VADDPS        (SI)(R14*1), Y7, Y7

pairrelu:
	TESTQ         $4, R10
	JZ            pairstore
	VMAXPS        Y4, Y11, Y4
	VMAXPS        Y5, Y11, Y5
	VMAXPS        Y6, Y11, Y6
	VMAXPS        Y7, Y11, Y7

pairstore:
	VMOVUPS       Y4, (R12)
	VMOVUPS       Y5, (R12)(R14*1)
	ADDQ          704(SP), R12
	VMOVUPS       Y6, (R12)
	VMOVUPS       Y7, (R12)(R14*1)

rownext:
	INCQ          BX
	CMPQ          BX, rows+48(FP)
	JLT           row
	ADDQ          $32, R8
	ADDQ          $128, AX
	JMP           group

	// Fewer columns (or none) before w: a channel's last group with 24
	// or fewer, a pair with 8 or fewer. The group's first half (Y4, Y5)
	// at R12, its second (Y6, Y7) 704(SP) further on, with 712(SP)
	// bytes fewer before w. (A masked store, VMASKMOVPS, took 10 times
	// as long on Zen 3.)
halves:
	ADDQ          AX, R12
	ADDQ          AX, SI
	wg4Half(Y4, Y5, X4, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, awin, ashort, atiny, aone, adone)
	MOVQ          600(SP)(BX*8), R12
	ADDQ          AX, R12
	ADDQ          704(SP), R12
	MOVQ          632(SP)(BX*8), SI
	ADDQ          AX, SI
	ADDQ          704(SP), SI
	MOVQ          696(SP), R14
	SUBQ          AX, R14
	SUBQ          712(SP), R14
	wg4Half(Y6, Y7, X6, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, bwin, bshort, btiny, bone, bdone)
	JMP           rownext

	// The next channel, or the next two after a pair: the products ss
	// on, the row pointers ys on.
unitnext:
	MOVQ          ys+104(FP), R12
	MOVQ          664(SP), BX
	ADDQ          ss+96(FP), BX
	MOVQ          bs+64(FP), R14
	ADDQ          R14, 680(SP)
	DECQ          672(SP)
	CMPQ          712(SP), $0
	JNE           unitdone
	ADDQ          ss+96(FP), BX
	MOVQ          bs+64(FP), R14
	ADDQ          R14, 680(SP)
	DECQ          672(SP)
	ADDQ          R12, R12

unitdone:
	MOVQ          BX, 664(SP)
	ADDQ          R12, 600(SP)
	ADDQ          R12, 608(SP)
	ADDQ          R12, 616(SP)
	ADDQ          R12, 624(SP)
	ADDQ          R12, 632(SP)
	ADDQ          R12, 640(SP)
	ADDQ          R12, 648(SP)
	ADDQ          R12, 656(SP)
	CMPQ          672(SP), $0
	JGT           chan
	VZEROUPPER
	RET
