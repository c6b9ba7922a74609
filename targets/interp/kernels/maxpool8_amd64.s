//go:build amd64 && !noasm

#include "textflag.h"

// Max pooling of 8-bit levels (see maxpool8.go). Each kernel is a macro
// of its maximum instruction, assembled in an unsigned (VPMAXUB) and a
// signed (VPMAXSB) form.

// MAXPAIRS(VPMAXOP), the body of maxPairs*(dst, src *uint8, n int):
// dst[i] = max(src[2i], src[2i+1]) for i < n, n a multiple of 16. The
// high byte of each word is shifted onto the low one and the maximum
// taken; the low bytes (the pairs' maxima, zero-extended by the mask to
// words of 0..255, which VPACKUSWB keeps as they are) are packed per
// 128-bit lane, and VPERMQ puts the two lanes' halves in order (Y15
// holds the mask, 0x00FF in every word).
#define MAXPAIRS(VPMAXOP) \
	MOVQ     dst+0(FP), DI \
	MOVQ     src+8(FP), SI \
	MOVQ     n+16(FP), CX \
	VPCMPEQW Y15, Y15, Y15 \
	VPSRLW   $8, Y15, Y15 \
	MOVQ     CX, BX \
	ANDQ     $-32, BX \
	XORQ     AX, AX \
ploop: \
	CMPQ      AX, BX \
	JGE       ptail \
	VMOVDQU   (SI)(AX*2), Y0 \
	VMOVDQU   32(SI)(AX*2), Y1 \
	VPSRLW    $8, Y0, Y2 \
	VPSRLW    $8, Y1, Y3 \
	VPMAXOP   Y2, Y0, Y0 \
	VPMAXOP   Y3, Y1, Y1 \
	VPAND     Y15, Y0, Y0 \
	VPAND     Y15, Y1, Y1 \
	VPACKUSWB Y1, Y0, Y0 \
	VPERMQ    $0xD8, Y0, Y0 \
	VMOVDQU   Y0, (DI)(AX*1) \
	ADDQ      $32, AX \
	JMP       ploop \
ptail: \
	CMPQ      AX, CX \
	JGE       pdone \
	VMOVDQU   (SI)(AX*2), Y0 \
	VPSRLW    $8, Y0, Y2 \
	VPMAXOP   Y2, Y0, Y0 \
	VPAND     Y15, Y0, Y0 \
	VPACKUSWB Y0, Y0, Y0 \
	VPERMQ    $0xD8, Y0, Y0 \
	VMOVDQU   X0, (DI)(AX*1) \
pdone: \
	VZEROUPPER \
	RET

// MAXROWS(VPMAXOP), the body of maxRows*(dst, a, b *uint8, l, n, lda, ldd int):
// dst[q*ldd+j] = max(a[q*lda+j], b[q*lda+j]) for q < n, j < l, any l:
// 32 levels at a time, then 16, 8, 4, 2 and 1 as the bits of l ask
// (rows of 32, 8 or 2 levels are what 2×2 pools of narrow images have).
#define MAXROWS(VPMAXOP) \
	MOVQ dst+0(FP), DI \
	MOVQ a+8(FP), SI \
	MOVQ b+16(FP), DX \
	MOVQ l+24(FP), CX \
	MOVQ n+32(FP), R8 \
	MOVQ lda+40(FP), R9 \
	MOVQ ldd+48(FP), R10 \
	SUBQ SI, DX \
	MOVQ CX, BX \
	ANDQ $-32, BX \
rrow: \
	TESTQ R8, R8 \
	JZ    rdone \
	LEAQ  (SI)(DX*1), R11 \
	XORQ  AX, AX \
r32: \
	CMPQ      AX, BX \
	JGE       r16 \
	VMOVDQU   (SI)(AX*1), Y0 \
	VPMAXOP   (R11)(AX*1), Y0, Y0 \
	VMOVDQU   Y0, (DI)(AX*1) \
	ADDQ      $32, AX \
	JMP       r32 \
r16: \
	TESTQ     $16, CX \
	JZ        r8 \
	VMOVDQU   (SI)(AX*1), X0 \
	VPMAXOP   (R11)(AX*1), X0, X0 \
	VMOVDQU   X0, (DI)(AX*1) \
	ADDQ      $16, AX \
r8: \
	TESTQ     $8, CX \
	JZ        r4 \
	VMOVQ     (SI)(AX*1), X0 \
	VMOVQ     (R11)(AX*1), X1 \
	VPMAXOP   X1, X0, X0 \
	VMOVQ     X0, (DI)(AX*1) \
	ADDQ      $8, AX \
r4: \
	TESTQ     $4, CX \
	JZ        r2 \
	VMOVD     (SI)(AX*1), X0 \
	VMOVD     (R11)(AX*1), X1 \
	VPMAXOP   X1, X0, X0 \
	VMOVD     X0, (DI)(AX*1) \
	ADDQ      $4, AX \
r2: \
	TESTQ     $2, CX \
	JZ        r1 \
	MOVWLZX   (SI)(AX*1), R12 \
	MOVWLZX   (R11)(AX*1), R13 \
	VMOVD     R12, X0 \
	VMOVD     R13, X1 \
	VPMAXOP   X1, X0, X0 \
	VMOVD     X0, R12 \
	MOVW      R12, (DI)(AX*1) \
	ADDQ      $2, AX \
r1: \
	TESTQ     $1, CX \
	JZ        rnext \
	MOVBLZX   (SI)(AX*1), R12 \
	MOVBLZX   (R11)(AX*1), R13 \
	VMOVD     R12, X0 \
	VMOVD     R13, X1 \
	VPMAXOP   X1, X0, X0 \
	VMOVD     X0, R12 \
	MOVB      R12, (DI)(AX*1) \
rnext: \
	ADDQ R9, SI \
	ADDQ R10, DI \
	DECQ R8 \
	JMP  rrow \
rdone: \
	VZEROUPPER \
	RET

// func maxPairsU8AVX2(dst, src *uint8, n int)
TEXT ·maxPairsU8AVX2(SB), NOSPLIT, $0-24
	MAXPAIRS(VPMAXUB)

// func maxPairsI8AVX2(dst, src *uint8, n int)
TEXT ·maxPairsI8AVX2(SB), NOSPLIT, $0-24
	MAXPAIRS(VPMAXSB)

// func maxRowsU8AVX2(dst, a, b *uint8, l, n, lda, ldd int)
TEXT ·maxRowsU8AVX2(SB), NOSPLIT, $0-56
	MAXROWS(VPMAXUB)

// func maxRowsI8AVX2(dst, a, b *uint8, l, n, lda, ldd int)
TEXT ·maxRowsI8AVX2(SB), NOSPLIT, $0-56
	MAXROWS(VPMAXSB)
