//go:build amd64 && !noasm

#include "textflag.h"

// The lane numbers, then 8, 2 and 10 in every lane: the column offsets
// of the four loads of a row of a group of 8 tiles (see wgInputAVX2).
DATA wgConst<>+0(SB)/4, $0
DATA wgConst<>+4(SB)/4, $1
DATA wgConst<>+8(SB)/4, $2
DATA wgConst<>+12(SB)/4, $3
DATA wgConst<>+16(SB)/4, $4
DATA wgConst<>+20(SB)/4, $5
DATA wgConst<>+24(SB)/4, $6
DATA wgConst<>+28(SB)/4, $7
DATA wgConst<>+32(SB)/4, $8
DATA wgConst<>+36(SB)/4, $8
DATA wgConst<>+40(SB)/4, $8
DATA wgConst<>+44(SB)/4, $8
DATA wgConst<>+48(SB)/4, $8
DATA wgConst<>+52(SB)/4, $8
DATA wgConst<>+56(SB)/4, $8
DATA wgConst<>+60(SB)/4, $8
DATA wgConst<>+64(SB)/4, $2
DATA wgConst<>+68(SB)/4, $2
DATA wgConst<>+72(SB)/4, $2
DATA wgConst<>+76(SB)/4, $2
DATA wgConst<>+80(SB)/4, $2
DATA wgConst<>+84(SB)/4, $2
DATA wgConst<>+88(SB)/4, $2
DATA wgConst<>+92(SB)/4, $2
DATA wgConst<>+96(SB)/4, $10
DATA wgConst<>+100(SB)/4, $10
DATA wgConst<>+104(SB)/4, $10
DATA wgConst<>+108(SB)/4, $10
DATA wgConst<>+112(SB)/4, $10
DATA wgConst<>+116(SB)/4, $10
DATA wgConst<>+120(SB)/4, $10
DATA wgConst<>+124(SB)/4, $10
GLOBL wgConst<>(SB), RODATA|NOPTR, $128

// wgMask sets dst to the lanes of the 8 columns from Y14 (a broadcast
// column plus the lane number) plus the offsets at add that lie in
// [0, w): Y15 holds w, Y13 minus one (all bits set). Clobbers Y0.
#define wgMask(add, dst) \
	VPADDD   add, Y14, dst; \
	VPCMPGTD Y13, dst, Y0; \
	VPCMPGTD dst, Y15, dst; \
	VPAND    Y0, dst, dst

// wgRowPair loads columns c to c+15 (Y1, Y2) and c+2 to c+17 (Y3, Y4)
// of rows ra and rb (c = 2·t0-1, AX is t0), zeroes the columns outside
// [0, w) with the masks Y12, Y11, Y10 and Y9, and leaves ra op rb in Y1
// to Y4 (op is VADDPS or VSUBPS).
#define wgRowPair(ra, rb, op) \
	VANDPS -4(ra)(AX*8), Y12, Y1; \
	VANDPS -4(rb)(AX*8), Y12, Y5; \
	op     Y5, Y1, Y1; \
	VANDPS 28(ra)(AX*8), Y11, Y2; \
	VANDPS 28(rb)(AX*8), Y11, Y5; \
	op     Y5, Y2, Y2; \
	VANDPS 4(ra)(AX*8), Y10, Y3; \
	VANDPS 4(rb)(AX*8), Y10, Y5; \
	op     Y5, Y3, Y3; \
	VANDPS 36(ra)(AX*8), Y9, Y4; \
	VANDPS 36(rb)(AX*8), Y9, Y5; \
	op     Y5, Y4, Y4

// wgColumns splits a row of Bᵀ·d (wgRowPair's Y1 to Y4) into each
// tile's columns 0 and 1 (E, O) and 2 and 3 (E', O'), in tile order,
// stores the row of Bᵀ·d·B (E-E', O+E', E'-O, O-O') at R13, R13+ps,
// R13+2ps and R13+3ps (DX: ps, R12: 3ps, in bytes) and moves R13 on by
// 4ps (R14).
#define wgColumns \
	VSHUFPS $0x88, Y2, Y1, Y5; \
	VSHUFPS $0xDD, Y2, Y1, Y6; \
	VSHUFPS $0x88, Y4, Y3, Y7; \
	VSHUFPS $0xDD, Y4, Y3, Y8; \
	VPERMPD $0xD8, Y5, Y5; \
	VPERMPD $0xD8, Y6, Y6; \
	VPERMPD $0xD8, Y7, Y7; \
	VPERMPD $0xD8, Y8, Y8; \
	VSUBPS  Y7, Y5, Y1; \
	VADDPS  Y7, Y6, Y2; \
	VSUBPS  Y6, Y7, Y3; \
	VSUBPS  Y8, Y6, Y4; \
	VMOVUPS Y1, (R13); \
	VMOVUPS Y2, (R13)(DX*1); \
	VMOVUPS Y3, (R13)(DX*2); \
	VMOVUPS Y4, (R13)(R12*1); \
	ADDQ    R14, R13

// func wgInputAVX2(r0, r1, r2, r3 *float32, cs0, cs1, cs2, cs3, chans, w, n int, dst *float32, ds, ps int)
// wgInputGo, 8 tiles at a time, for chans channels: channel i's rows
// are r0+i·cs0 to r3+i·cs3 (strides in bytes; 0 repeats a zero row)
// and its values go from dst+i·ds (bytes): the 16 values of tile t at
// dst[p·ps+t] for t < n rounded up to a multiple of 8. The rows are
// read with plain loads from column -1 to column wgReach(n), which the
// caller must keep in memory, and the columns outside [0, w) masked to
// zero. (VMASKMOVPS, which would not need that, took 4 times as long
// on Zen 3.)
TEXT ·wgInputAVX2(SB), NOSPLIT, $8-112
	MOVQ         r0+0(FP), R8
	MOVQ         r1+8(FP), R9
	MOVQ         r2+16(FP), R10
	MOVQ         r3+24(FP), R11
	MOVQ         chans+64(FP), BX
	MOVQ         BX, left-8(SP)
	MOVQ         w+72(FP), BX
	MOVQ         n+80(FP), CX
	MOVQ         dst+88(FP), DI
	MOVQ         ps+104(FP), DX
	SHLQ         $2, DX
	LEAQ         (DX)(DX*2), R12
	LEAQ         (DX*4), R14
	VMOVQ        BX, X15 // VMOVQ: a MOVQ (SSE) here took 8 times as long
	VPBROADCASTD X15, Y15
	VPCMPEQD     Y13, Y13, Y13

inchan:
	XORQ         AX, AX

inloop:
	CMPQ         AX, CX
	JGE          innext
	LEAQ         -1(AX)(AX*1), BX
	VMOVQ        BX, X14
	VPBROADCASTD X14, Y14
	VPADDD       wgConst<>+0(SB), Y14, Y14
	VPXOR        Y4, Y4, Y4
	wgMask(Y4, Y12)
	wgMask(wgConst<>+32(SB), Y11)
	wgMask(wgConst<>+64(SB), Y10)
	wgMask(wgConst<>+96(SB), Y9)
	LEAQ         (DI)(AX*4), R13

	// The rows of Bᵀ·d: d0-d2, d1+d2, d2-d1, d1-d3.
	wgRowPair(R8, R10, VSUBPS)
	wgColumns
	wgRowPair(R9, R10, VADDPS)
	wgColumns
	wgRowPair(R10, R9, VSUBPS)
	wgColumns
	wgRowPair(R9, R11, VSUBPS)
	wgColumns
	ADDQ         $8, AX
	JMP          inloop

innext:
	ADDQ         cs0+32(FP), R8
	ADDQ         cs1+40(FP), R9
	ADDQ         cs2+48(FP), R10
	ADDQ         cs3+56(FP), R11
	ADDQ         ds+96(FP), DI
	DECQ         left-8(SP)
	JNZ          inchan
	VZEROUPPER
	RET

// wgSums loads column j of the products of 8 tiles (a, b, c, d:
// products j, 4+j, 8+j and 12+j) and sets s0 = m0+m1+m2 and
// s1 = m1-m2-m3 (column j of the rows of Aᵀ·m). Clobbers Y0 to Y2.
#define wgSums(a, b, c, d, s0, s1) \
	VMOVUPS a, Y0; \
	VMOVUPS b, Y1; \
	VMOVUPS c, Y2; \
	VMOVUPS d, s1; \
	VADDPS  Y1, Y0, s0; \
	VADDPS  Y2, s0, s0; \
	VSUBPS  Y2, Y1, Y1; \
	VSUBPS  s1, Y1, s1

// wgCols sets lo = a0+a1+a2 and hi = a1-a2-a3 (a row of Aᵀ·m·A), adds
// the bias (Y12) and interleaves them into the row's 16 outputs, o0
// and o1. Clobbers Y0 and Y1.
#define wgCols(a0, a1, a2, a3, o0, o1) \
	VADDPS     a1, a0, Y0; \
	VADDPS     a2, Y0, Y0; \
	VSUBPS     a2, a1, Y1; \
	VSUBPS     a3, Y1, Y1; \
	VADDPS     Y12, Y0, Y0; \
	VADDPS     Y12, Y1, Y1; \
	VUNPCKLPS  Y1, Y0, o0; \
	VUNPCKHPS  Y1, Y0, o1; \
	VPERM2F128 $0x20, o1, o0, Y0; \
	VPERM2F128 $0x31, o1, o0, o1; \
	VMOVAPS    Y0, o0

// func wgOutputAVX2(src *float32, ps, n, w int, y0, y1, bias, a0, a1 *float32, flags, chans, ss, ys int)
// wgOutputGo, 8 tiles (16 output columns) at a time, for chans
// channels: channel i's products from src+i·ss, its rows y0+i·ys and
// y1+i·ys, addend rows a0+i·ys and a1+i·ys (strides in bytes) and bias
// bias[i]. flags: 1, row y1 is computed; 2, the addend is added; 4,
// the results are clamped at zero; 8, bias is not nil. A last group
// with columns past w reads its 16 columns of the addend rows (the
// caller keeps them in memory) and stores only the columns before w.
TEXT ·wgOutputAVX2(SB), NOSPLIT, $32-104
	MOVQ         src+0(FP), R8
	MOVQ         ps+8(FP), DX
	SHLQ         $2, DX
	LEAQ         (DX)(DX*2), R12
	MOVQ         n+16(FP), CX
	MOVQ         y0+32(FP), DI
	MOVQ         y1+40(FP), SI
	MOVQ         bias+48(FP), BX
	MOVQ         BX, biasp-16(SP)
	MOVQ         a0+56(FP), R14
	MOVQ         a1+64(FP), R13
	MOVQ         chans+80(FP), BX
	MOVQ         BX, left-8(SP)
	VXORPS       Y13, Y13, Y13

	// rewind: from the end of a channel's groups to the next channel's
	// products.
	LEAQ         7(CX), BX
	SHRQ         $3, BX
	SHLQ         $5, BX
	NEGQ         BX
	ADDQ         ss+88(FP), BX
	MOVQ         BX, rewind-24(SP)

outchan:
	VXORPS       Y12, Y12, Y12
	TESTQ        $8, flags+72(FP)
	JZ           outbias
	MOVQ         biasp-16(SP), BX
	VBROADCASTSS (BX), Y12
	ADDQ         $4, BX
	MOVQ         BX, biasp-16(SP)

outbias:
	XORQ         AX, AX

outloop:
	CMPQ    AX, CX
	JGE     outnextchan
	LEAQ    (R8)(DX*4), R9
	LEAQ    (R9)(DX*4), R10
	LEAQ    (R10)(DX*4), R11
	wgSums((R8), (R9), (R10), (R11), Y4, Y8)
	wgSums((R8)(DX*1), (R9)(DX*1), (R10)(DX*1), (R11)(DX*1), Y5, Y9)
	wgSums((R8)(DX*2), (R9)(DX*2), (R10)(DX*2), (R11)(DX*2), Y6, Y10)
	wgSums((R8)(R12*1), (R9)(R12*1), (R10)(R12*1), (R11)(R12*1), Y7, Y11)
	wgCols(Y4, Y5, Y6, Y7, Y2, Y3)
	wgCols(Y8, Y9, Y10, Y11, Y4, Y5)
	TESTQ   $2, flags+72(FP)
	JZ      outrelu
	VADDPS  (R14)(AX*8), Y2, Y2
	VADDPS  32(R14)(AX*8), Y3, Y3
	TESTQ   $1, flags+72(FP)
	JZ      outrelu
	VADDPS  (R13)(AX*8), Y4, Y4
	VADDPS  32(R13)(AX*8), Y5, Y5

outrelu:
	TESTQ   $4, flags+72(FP)
	JZ      outstore
	VMAXPS  Y2, Y13, Y2
	VMAXPS  Y3, Y13, Y3
	VMAXPS  Y4, Y13, Y4
	VMAXPS  Y5, Y13, Y5

outstore:
	LEAQ    16(AX)(AX*1), BX
	CMPQ    BX, w+24(FP)
	JGT     tailstore
	VMOVUPS Y2, (DI)(AX*8)
	VMOVUPS Y3, 32(DI)(AX*8)
	TESTQ   $1, flags+72(FP)
	JZ      outnext
	VMOVUPS Y4, (SI)(AX*8)
	VMOVUPS Y5, 32(SI)(AX*8)

outnext:
	ADDQ    $32, R8
	ADDQ    $8, AX
	JMP     outloop

outnextchan:
	ADDQ    rewind-24(SP), R8
	MOVQ    ys+96(FP), BX
	ADDQ    BX, DI
	ADDQ    BX, SI
	ADDQ    BX, R14
	ADDQ    BX, R13
	DECQ    left-8(SP)
	JNZ     outchan
	VZEROUPPER
	RET

	// The last group, with columns past w: its addend was read with
	// plain loads (the caller makes sure they stay in memory), and the
	// rows are stored 8, 4, 2 and 1 columns at a time (a masked store,
	// VMASKMOVPS, took 10 times as long on Zen 3).
tailstore:
	// The columns left (w - 2·t0, 1 to 15) in tailcols; R10 and R9
	// where rows y0 and y1 store them; R11 counts the rows stored.
	MOVQ         w+24(FP), BX
	SUBQ         AX, BX
	SUBQ         AX, BX
	MOVQ         BX, tailcols-32(SP)
	LEAQ         (DI)(AX*8), R10
	LEAQ         (SI)(AX*8), R9
	XORQ         R11, R11
	VMOVAPS      Y2, Y0
	VMOVAPS      Y3, Y1

tailrow:
	MOVQ         tailcols-32(SP), BX
	CMPQ         BX, $8
	JLT          tail4
	VMOVUPS      Y0, (R10)
	VMOVAPS      Y1, Y0
	ADDQ         $32, R10
	SUBQ         $8, BX

tail4:
	CMPQ         BX, $4
	JLT          tail2
	VMOVUPS      X0, (R10)
	VEXTRACTF128 $1, Y0, X0
	ADDQ         $16, R10
	SUBQ         $4, BX

tail2:
	CMPQ         BX, $2
	JLT          tail1
	VMOVQ        X0, (R10)
	VPSRLDQ      $8, X0, X0
	ADDQ         $8, R10
	SUBQ         $2, BX

tail1:
	CMPQ         BX, $1
	JLT          tailnext
	VMOVSS       X0, (R10)

	// The tail is the channel's last group: outnext ends its loop.
tailnext:
	INCQ         R11
	CMPQ         R11, $2
	JGE          outnext
	TESTQ        $1, flags+72(FP)
	JZ           outnext
	VMOVAPS      Y4, Y0
	VMOVAPS      Y5, Y1
	MOVQ         R9, R10
	JMP          tailrow
