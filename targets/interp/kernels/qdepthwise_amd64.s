//go:build amd64 && !noasm

#include "textflag.h"

// func qdwPixelAVX2(acc *int32, bstride int, x *uint8, xoff, woff *int32, ntaps int, w, zp *int32, n int)
// One output pixel of a depthwise convolution on channels-last levels:
// Σ_k (int32(x[xoff[k]+c]) - zp[c]) * w[woff[k]+c] for c < n, a multiple
// of 16, over the ntaps taps inside the image, to acc in blocks of 16
// channels bstride bytes apart (channel c at byte (c/16)*bstride +
// (c%16)*4); the sum stays in a register across the taps, 8 channels at
// a time.
TEXT ·qdwPixelAVX2(SB), NOSPLIT, $0-72
	MOVQ acc+0(FP), DI
	MOVQ bstride+8(FP), R13
	MOVQ x+16(FP), SI
	MOVQ xoff+24(FP), R8
	MOVQ woff+32(FP), R9
	MOVQ ntaps+40(FP), R10
	MOVQ w+48(FP), R11
	MOVQ zp+56(FP), R12
	MOVQ n+64(FP), CX
	XORQ AX, AX

pchan:
	CMPQ    AX, CX
	JGE     pdone
	VPXOR   Y0, Y0, Y0
	VMOVDQU (R12)(AX*4), Y3
	XORQ    BX, BX

ptap:
	CMPQ      BX, R10
	JGE       pstore
	MOVLQSX   (R8)(BX*4), DX
	ADDQ      AX, DX
	VPMOVZXBD (SI)(DX*1), Y1
	VPSUBD    Y3, Y1, Y1
	MOVLQSX   (R9)(BX*4), DX
	ADDQ      AX, DX
	VPMULLD   (R11)(DX*4), Y1, Y1
	VPADDD    Y1, Y0, Y0
	INCQ      BX
	JMP       ptap

pstore:
	// The first half of a block goes to DI, the second 32 bytes on;
	// then DI moves to the next block.
	TESTQ   $8, AX
	JNZ     phigh
	VMOVDQU Y0, (DI)
	ADDQ    $8, AX
	JMP     pchan

phigh:
	VMOVDQU Y0, 32(DI)
	ADDQ    R13, DI
	ADDQ    $8, AX
	JMP     pchan

pdone:
	VZEROUPPER
	RET

// func qdwPixelAVX512(acc *int32, bstride int, x *uint8, xoff, woff *int32, ntaps int, w, zp *int32, n int)
// qdwPixelAVX2 on 512-bit registers: 16 channels, one block, at a time.
TEXT ·qdwPixelAVX512(SB), NOSPLIT, $0-72
	MOVQ acc+0(FP), DI
	MOVQ bstride+8(FP), R13
	MOVQ x+16(FP), SI
	MOVQ xoff+24(FP), R8
	MOVQ woff+32(FP), R9
	MOVQ ntaps+40(FP), R10
	MOVQ w+48(FP), R11
	MOVQ zp+56(FP), R12
	MOVQ n+64(FP), CX
	XORQ AX, AX

zchan:
	CMPQ      AX, CX
	JGE       zdone
	VPXORD    Z0, Z0, Z0
	VMOVDQU32 (R12)(AX*4), Z3
	XORQ      BX, BX

ztap:
	CMPQ      BX, R10
	JGE       zstore
	MOVLQSX   (R8)(BX*4), DX
	ADDQ      AX, DX
	VPMOVZXBD (SI)(DX*1), Z1
	VPSUBD    Z3, Z1, Z1
	MOVLQSX   (R9)(BX*4), DX
	ADDQ      AX, DX
	VPMULLD   (R11)(DX*4), Z1, Z1
	VPADDD    Z1, Z0, Z0
	INCQ      BX
	JMP       ztap

zstore:
	VMOVDQU32 Z0, (DI)
	ADDQ      R13, DI
	ADDQ      $16, AX
	JMP       zchan

zdone:
	VZEROUPPER
	RET

// func qdw3RowAVX512(acc *int32, bs int, x *uint8, xstep, npix, rowB, colB int, w *int32, wstride int, corr *int32, n int)
// A run of npix output pixels of a 3×3 depthwise convolution whose
// windows lie inside the image (see dw3RowGo): the window of pixel p
// starts p*xstep bytes into x, its taps are kh*rowB + kw*colB bytes on;
// the weights of tap t are wstride bytes apart from w, held in Z16-Z24
// for a block of 16 channels; the sum starts from corr (-zp·Σw), so no
// zero point is subtracted. Block b of pixel p goes to b*bs + p*64
// bytes into acc; n is a multiple of 16.
TEXT ·qdw3RowAVX512(SB), NOSPLIT, $0-88
	MOVQ acc+0(FP), R13
	MOVQ x+16(FP), SI
	MOVQ xstep+24(FP), R8
	MOVQ colB+48(FP), R10
	MOVQ w+56(FP), R11
	MOVQ wstride+64(FP), R12
	XORQ AX, AX

block:
	CMPQ      AX, n+80(FP)
	JGE       done
	// The weights of the block's 9 taps and its correction.
	LEAQ      (R11)(AX*4), BX
	VMOVDQU32 (BX), Z16
	VMOVDQU32 (BX)(R12*1), Z17
	VMOVDQU32 (BX)(R12*2), Z18
	LEAQ      (BX)(R12*2), BX
	ADDQ      R12, BX
	VMOVDQU32 (BX), Z19
	VMOVDQU32 (BX)(R12*1), Z20
	VMOVDQU32 (BX)(R12*2), Z21
	LEAQ      (BX)(R12*2), BX
	ADDQ      R12, BX
	VMOVDQU32 (BX), Z22
	VMOVDQU32 (BX)(R12*1), Z23
	VMOVDQU32 (BX)(R12*2), Z24
	MOVQ      corr+72(FP), BX
	VMOVDQU32 (BX)(AX*4), Z25
	// The three window rows of the first pixel.
	LEAQ      (SI)(AX*1), BX
	MOVQ      rowB+40(FP), DX
	LEAQ      (BX)(DX*1), R9
	LEAQ      (R9)(DX*1), DX
	MOVQ      R13, R14
	MOVQ      npix+32(FP), CX
	TESTQ     CX, CX
	JLE       next

pixel:
	VPMOVZXBD (BX), Z0
	VPMOVZXBD (BX)(R10*1), Z1
	VPMOVZXBD (BX)(R10*2), Z2
	VPMULLD   Z16, Z0, Z0
	VPMULLD   Z17, Z1, Z1
	VPMULLD   Z18, Z2, Z2
	VPADDD    Z25, Z0, Z0
	VPADDD    Z2, Z1, Z1
	VPMOVZXBD (R9), Z2
	VPMOVZXBD (R9)(R10*1), Z3
	VPMOVZXBD (R9)(R10*2), Z4
	VPMULLD   Z19, Z2, Z2
	VPMULLD   Z20, Z3, Z3
	VPMULLD   Z21, Z4, Z4
	VPADDD    Z2, Z0, Z0
	VPADDD    Z4, Z3, Z3
	VPMOVZXBD (DX), Z2
	VPMOVZXBD (DX)(R10*1), Z4
	VPMOVZXBD (DX)(R10*2), Z5
	VPMULLD   Z22, Z2, Z2
	VPMULLD   Z23, Z4, Z4
	VPMULLD   Z24, Z5, Z5
	VPADDD    Z3, Z1, Z1
	VPADDD    Z2, Z0, Z0
	VPADDD    Z5, Z4, Z4
	VPADDD    Z1, Z0, Z0
	VPADDD    Z4, Z0, Z0
	VMOVDQU32 Z0, (R14)
	ADDQ      $64, R14
	ADDQ      R8, BX
	ADDQ      R8, R9
	ADDQ      R8, DX
	DECQ      CX
	JNZ       pixel

next:
	ADDQ bs+8(FP), R13
	ADDQ $16, AX
	JMP  block

done:
	VZEROUPPER
	RET

// DW3V(P, R): the 16 channels of the four pixels at P, P+M, P+2M, P+3M
// (R10 = M, R9 = 3M) into R, interleaved by Z31 (VPERMB): byte 4c+k is
// channel c of pixel k.
#define DW3V(P, R) \
	VMOVDQU32    (P), R; \
	VINSERTI32X4 $1, (P)(R10*1), R, R; \
	VINSERTI32X4 $2, (P)(R10*2), R, R; \
	VINSERTI32X4 $3, (P)(R9*1), R, R; \
	VPERMB       R, Z31, R

// DW3VT(P, R): DW3V by two two-source byte permutes of whole 64-byte
// loads (64 bytes from each pixel's block: reads 48 bytes past it) and a
// blend: Z28 picks channel c of pixels 0 and 1 into bytes 4c and 4c+1,
// Z29 those of pixels 2 and 3 into 4c+2 and 4c+3, K1 selects the latter.
// Z22 and Z23 are work registers.
#define DW3VT(P, R) \
	VMOVDQU8  (P), Z22; \
	VPERMT2B  (P)(R10*1), Z28, Z22; \
	VMOVDQU8  (P)(R10*2), Z23; \
	VPERMT2B  (P)(R9*1), Z29, Z23; \
	VPBLENDMB Z23, Z22, K1, R

// DW3V16(P, R): DW3V for M = 16, the four pixels one 64-byte load.
#define DW3V16(P, R) \
	VMOVDQU32 (P), R; \
	VPERMB    R, Z31, R

// func qdw3RowVNNI(acc *int32, bs int, x *uint8, npix, rowB int, w *int8, corr *int32, n, M, xstep int, idx *uint8)
// qdw3RowAVX512 for dilation 1 along the row (colB = M), with VPDPBUSD:
// each window row of four adjacent pixels q..q+3, interleaved by channel
// (DW3V), holds the three taps of the output pixel whose window starts
// at q with weights (w0, w1, w2, 0); for stride 1 (xstep = M), those of
// the next output pixel too, with (0, w0, w1, w2), so two pixels take
// three such loads and six VPDPBUSD. The products are exact and their
// int32 sums wrap as dw3RowGo's. w holds per block of 16 channels six
// 64-byte vectors: for each window row, the weights of the first pixel
// then those of the next, per channel four bytes. Each window reads one
// pixel past its end (times weight 0): x must hold 2·rowB +
// (npix-1)·xstep + 4·M bytes. bs is in bytes (as qdw3RowAVX512's); idx is
// the 64-byte VPERMB index.
TEXT ·qdw3RowVNNI(SB), NOSPLIT, $0-88
	MOVQ      acc+0(FP), R13
	MOVQ      x+16(FP), SI
	MOVQ      rowB+32(FP), DX
	MOVQ      w+40(FP), R11
	MOVQ      corr+48(FP), R12
	MOVQ      M+64(FP), R10
	LEAQ      (R10)(R10*2), R9
	MOVQ      idx+80(FP), AX
	VMOVDQU32 (AX), Z31
	XORQ      AX, AX

vblock:
	CMPQ      AX, n+56(FP)
	JGE       vdone
	VMOVDQU32 0(R11), Z16
	VMOVDQU32 64(R11), Z17
	VMOVDQU32 128(R11), Z18
	VMOVDQU32 192(R11), Z19
	VMOVDQU32 256(R11), Z20
	VMOVDQU32 320(R11), Z21
	VMOVDQU32 (R12)(AX*4), Z25
	LEAQ      (SI)(AX*1), BX
	LEAQ      (BX)(DX*1), R8
	LEAQ      (R8)(DX*1), DI
	MOVQ      R13, R14
	MOVQ      npix+24(FP), CX
	CMPQ      R10, xstep+72(FP)
	JNE       vsingle

vpair:
	CMPQ      CX, $2
	JLT       vsingle
	DW3V(BX, Z0)
	DW3V(R8, Z1)
	DW3V(DI, Z2)
	VMOVDQA32 Z25, Z3
	VMOVDQA32 Z25, Z4
	VPDPBUSD  Z16, Z0, Z3
	VPDPBUSD  Z17, Z0, Z4
	VPDPBUSD  Z18, Z1, Z3
	VPDPBUSD  Z19, Z1, Z4
	VPDPBUSD  Z20, Z2, Z3
	VPDPBUSD  Z21, Z2, Z4
	VMOVDQU32 Z3, (R14)
	VMOVDQU32 Z4, 64(R14)
	ADDQ      $128, R14
	LEAQ      (BX)(R10*2), BX
	LEAQ      (R8)(R10*2), R8
	LEAQ      (DI)(R10*2), DI
	SUBQ      $2, CX
	JMP       vpair

vsingle:
	TESTQ     CX, CX
	JZ        vnext
	DW3V(BX, Z0)
	DW3V(R8, Z1)
	DW3V(DI, Z2)
	VMOVDQA32 Z25, Z3
	VPDPBUSD  Z16, Z0, Z3
	VPDPBUSD  Z18, Z1, Z3
	VPDPBUSD  Z20, Z2, Z3
	VMOVDQU32 Z3, (R14)
	ADDQ      $64, R14
	ADDQ      xstep+72(FP), BX
	ADDQ      xstep+72(FP), R8
	ADDQ      xstep+72(FP), DI
	DECQ      CX
	JMP       vsingle

vnext:
	ADDQ bs+8(FP), R13
	ADDQ $384, R11
	ADDQ $16, AX
	JMP  vblock

vdone:
	VZEROUPPER
	RET

// DW3HS(A, H, Q, D): the int32 sums A (bias included) of 16 channels
// through hard-swish to levels at D, as qHSwishAVX512 computes them, with
// the block's scale, yscale, lo, hi and zero point in Z5-Z9 and alpha,
// beta, 0, 1 in Z12-Z15; H and Q are work registers.
#define DW3HS(A, H, Q, D) \
	VCVTDQ2PS A, H; \
	VMULPS    Z5, H, H; \
	VMULPS    Z12, H, Q; \
	VADDPS    Z13, Q, Q; \
	VMAXPS    Z14, Q, Q; \
	VMINPS    Z15, Q, Q; \
	VMULPS    Q, H, Q; \
	VDIVPS    Z6, Q, Q; \
	VMAXPS    Z7, Q, Q; \
	VMINPS    Z8, Q, Q; \
	VCVTPS2DQ Q, Q; \
	VPADDD    Z9, Q, Q; \
	VPMOVUSDB Q, D

// func qdw3RowVNNIHS(dst *uint8, x *uint8, npix, rowB int, w *int8, corr *int32, n, M, xstep int, idx *uint8, p *float32, alpha, beta float32)
// (idx: 64 bytes of VPERMB index, then the 128 bytes of Z28 and Z29 for
// DW3VT)
// qdw3RowVNNI with the hard-swish output stage fused (QHardSwish's, with
// the bias already in corr): the levels of pixel p, block b go to dst +
// p·M + 16·b, channels-last, without the int32 sums leaving registers.
// p holds the blocks' QHardSwish.vec parameters (384 bytes per block;
// the bias field is not read). With M = 16 at stride 1, the four pixels
// of a window row are one load (DW3V16).
TEXT ·qdw3RowVNNIHS(SB), NOSPLIT, $0-96
	MOVQ         dst+0(FP), R13
	MOVQ         x+8(FP), SI
	MOVQ         rowB+24(FP), DX
	MOVQ         w+32(FP), R11
	MOVQ         M+56(FP), R10
	LEAQ         (R10)(R10*2), R9
	MOVQ         idx+72(FP), AX
	VMOVDQU32    (AX), Z31
	VMOVDQU32    64(AX), Z28
	VMOVDQU32    128(AX), Z29
	MOVQ         $0xcccccccccccccccc, AX
	KMOVQ        AX, K1
	MOVQ         p+80(FP), R12
	VBROADCASTSS alpha+88(FP), Z12
	VBROADCASTSS beta+92(FP), Z13
	VPXORD       Z14, Z14, Z14
	MOVL         $0x3f800000, BX
	VPBROADCASTD BX, Z15
	XORQ         AX, AX

hblock:
	CMPQ      AX, n+48(FP)
	JGE       hdone
	VMOVDQU32 0(R11), Z16
	VMOVDQU32 64(R11), Z17
	VMOVDQU32 128(R11), Z18
	VMOVDQU32 192(R11), Z19
	VMOVDQU32 256(R11), Z20
	VMOVDQU32 320(R11), Z21
	MOVQ      corr+40(FP), BX
	VMOVDQU32 (BX)(AX*4), Z25
	VMOVUPS   64(R12), Z5
	VMOVUPS   128(R12), Z6
	VMOVUPS   192(R12), Z7
	VMOVUPS   256(R12), Z8
	VMOVDQU32 320(R12), Z9
	LEAQ      (SI)(AX*1), BX
	LEAQ      (BX)(DX*1), R8
	LEAQ      (R8)(DX*1), DI
	LEAQ      (R13)(AX*1), R14
	MOVQ      npix+16(FP), CX
	CMPQ      R10, xstep+64(FP)
	JNE       hsingle
	CMPQ      R10, $16
	JNE       hpair

hpair16:
	CMPQ      CX, $2
	JLT       hsingle
	DW3V16(BX, Z0)
	DW3V16(R8, Z1)
	DW3V16(DI, Z2)
	VMOVDQA32 Z25, Z3
	VMOVDQA32 Z25, Z4
	VPDPBUSD  Z16, Z0, Z3
	VPDPBUSD  Z17, Z0, Z4
	VPDPBUSD  Z18, Z1, Z3
	VPDPBUSD  Z19, Z1, Z4
	VPDPBUSD  Z20, Z2, Z3
	VPDPBUSD  Z21, Z2, Z4
	DW3HS(Z3, Z10, Z11, (R14))
	DW3HS(Z4, Z26, Z27, 16(R14))
	ADDQ      $32, R14
	ADDQ      $32, BX
	ADDQ      $32, R8
	ADDQ      $32, DI
	SUBQ      $2, CX
	JMP       hpair16

hpair:
	CMPQ      CX, $2
	JLT       hsingle
	DW3VT(BX, Z0)
	DW3VT(R8, Z1)
	DW3VT(DI, Z2)
	VMOVDQA32 Z25, Z3
	VMOVDQA32 Z25, Z4
	VPDPBUSD  Z16, Z0, Z3
	VPDPBUSD  Z17, Z0, Z4
	VPDPBUSD  Z18, Z1, Z3
	VPDPBUSD  Z19, Z1, Z4
	VPDPBUSD  Z20, Z2, Z3
	VPDPBUSD  Z21, Z2, Z4
	DW3HS(Z3, Z10, Z11, (R14))
	DW3HS(Z4, Z26, Z27, (R14)(R10*1))
	LEAQ      (R14)(R10*2), R14
	LEAQ      (BX)(R10*2), BX
	LEAQ      (R8)(R10*2), R8
	LEAQ      (DI)(R10*2), DI
	SUBQ      $2, CX
	JMP       hpair

hsingle:
	TESTQ     CX, CX
	JZ        hnext
	DW3VT(BX, Z0)
	DW3VT(R8, Z1)
	DW3VT(DI, Z2)
	VMOVDQA32 Z25, Z3
	VPDPBUSD  Z16, Z0, Z3
	VPDPBUSD  Z18, Z1, Z3
	VPDPBUSD  Z20, Z2, Z3
	DW3HS(Z3, Z10, Z11, (R14))
	ADDQ      R10, R14
	ADDQ      xstep+64(FP), BX
	ADDQ      xstep+64(FP), R8
	ADDQ      xstep+64(FP), DI
	DECQ      CX
	JMP       hsingle

hnext:
	ADDQ $384, R11
	ADDQ $384, R12
	ADDQ $16, AX
	JMP  hblock

hdone:
	VZEROUPPER
	RET
