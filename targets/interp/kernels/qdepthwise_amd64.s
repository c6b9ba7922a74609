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
