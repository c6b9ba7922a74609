//go:build amd64 && !noasm

#include "textflag.h"

// func qdwPixelAVX2(acc *int32, x *uint8, xoff, woff *int32, ntaps int, w, zp *int32, n int)
// One output pixel of a depthwise convolution on channels-last levels:
// acc[c] = Σ_k (int32(x[xoff[k]+c]) - zp[c]) * w[woff[k]+c] for c < n, a
// multiple of 8, over the ntaps taps inside the image; the sum stays in
// a register across the taps.
TEXT ·qdwPixelAVX2(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ xoff+16(FP), R8
	MOVQ woff+24(FP), R9
	MOVQ ntaps+32(FP), R10
	MOVQ w+40(FP), R11
	MOVQ zp+48(FP), R12
	MOVQ n+56(FP), CX
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
	VMOVDQU Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     pchan

pdone:
	VZEROUPPER
	RET
