//go:build amd64 && !noasm

#include "textflag.h"

// AVX2 3×3 depthwise row kernels: a run of output pixels of a 3×3
// depthwise convolution with one output channel per input channel whose
// windows lie inside the (padded) image, 8 channels at a time: the nine
// taps' int32 weights of those channels stay in Y7-Y15 and the
// correction -zp·Σw in Y6 for the whole run, each tap's 8 levels are
// zero-extended (VPMOVZXBD) and multiplied exactly (VPMULLD); int32
// additions wrap, so the sums are dw3RowGo's bits whatever their order.

// DW3LOADW: the 8 channels' weights of the 9 taps (wstride bytes apart
// in R12, from (R11)(AX*4)) into Y7-Y15 and their correction into Y6.
#define DW3LOADW \
	LEAQ    (R11)(AX*4), BX; \
	VMOVDQU (BX), Y7; \
	VMOVDQU (BX)(R12*1), Y8; \
	VMOVDQU (BX)(R12*2), Y9; \
	LEAQ    (BX)(R12*2), BX; \
	ADDQ    R12, BX; \
	VMOVDQU (BX), Y10; \
	VMOVDQU (BX)(R12*1), Y11; \
	VMOVDQU (BX)(R12*2), Y12; \
	LEAQ    (BX)(R12*2), BX; \
	ADDQ    R12, BX; \
	VMOVDQU (BX), Y13; \
	VMOVDQU (BX)(R12*1), Y14; \
	VMOVDQU (BX)(R12*2), Y15; \
	MOVQ    corr+72(FP), BX; \
	VMOVDQU (BX)(AX*4), Y6

// DW3PIX8: the sum of one pixel's window for 8 channels into Y0: window
// rows at BX, R9, DX, columns R10 bytes apart. Clobbers Y1-Y5.
#define DW3PIX8 \
	VPMOVZXBD (BX), Y0; \
	VPMOVZXBD (BX)(R10*1), Y1; \
	VPMOVZXBD (BX)(R10*2), Y2; \
	VPMULLD   Y7, Y0, Y0; \
	VPMULLD   Y8, Y1, Y1; \
	VPMULLD   Y9, Y2, Y2; \
	VPADDD    Y6, Y0, Y0; \
	VPADDD    Y2, Y1, Y1; \
	VPMOVZXBD (R9), Y2; \
	VPMOVZXBD (R9)(R10*1), Y3; \
	VPMOVZXBD (R9)(R10*2), Y4; \
	VPMULLD   Y10, Y2, Y2; \
	VPMULLD   Y11, Y3, Y3; \
	VPMULLD   Y12, Y4, Y4; \
	VPADDD    Y2, Y0, Y0; \
	VPADDD    Y4, Y3, Y3; \
	VPMOVZXBD (DX), Y2; \
	VPMOVZXBD (DX)(R10*1), Y4; \
	VPMOVZXBD (DX)(R10*2), Y5; \
	VPMULLD   Y13, Y2, Y2; \
	VPMULLD   Y14, Y4, Y4; \
	VPMULLD   Y15, Y5, Y5; \
	VPADDD    Y3, Y1, Y1; \
	VPADDD    Y2, Y0, Y0; \
	VPADDD    Y5, Y4, Y4; \
	VPADDD    Y1, Y0, Y0; \
	VPADDD    Y4, Y0, Y0

// DW3ROWS: the three window rows of the run's first pixel, channel AX:
// BX, R9, DX from x (SI) and rowB.
#define DW3ROWS \
	LEAQ (SI)(AX*1), BX; \
	MOVQ rowB+40(FP), DX; \
	LEAQ (BX)(DX*1), R9; \
	LEAQ (R9)(DX*1), DX

// func qdw3RowAVX2(acc *int32, bs int, x *uint8, xstep, npix, rowB, colB int, w *int32, wstride int, corr *int32, n int)
// qdw3RowAVX512 on AVX2 (the same arguments and results): block b of
// pixel p goes to b*bs + p*64 bytes into acc, channels 8-15 of a block
// 32 bytes after 0-7; n is a multiple of 16.
TEXT ·qdw3RowAVX2(SB), NOSPLIT, $0-88
	MOVQ acc+0(FP), R13
	MOVQ x+16(FP), SI
	MOVQ xstep+24(FP), R8
	MOVQ colB+48(FP), R10
	MOVQ w+56(FP), R11
	MOVQ wstride+64(FP), R12
	XORQ AX, AX

group:
	CMPQ  AX, n+80(FP)
	JGE   done
	DW3LOADW
	DW3ROWS
	// Channels 0-7 of a block at R13, 8-15 32 bytes on.
	MOVQ  R13, R14
	TESTQ $8, AX
	JZ    first
	ADDQ  $32, R14

first:
	MOVQ  npix+32(FP), CX
	TESTQ CX, CX
	JLE   next

pixel:
	DW3PIX8
	VMOVDQU Y0, (R14)
	ADDQ    $64, R14
	ADDQ    R8, BX
	ADDQ    R8, R9
	ADDQ    R8, DX
	DECQ    CX
	JNZ     pixel

next:
	// After channels 8-15 the next block.
	TESTQ $8, AX
	JZ    same
	ADDQ  bs+8(FP), R13

same:
	ADDQ $8, AX
	JMP  group

done:
	VZEROUPPER
	RET

// func qdw3RowHSAVX2(dst *uint8, ldd int, x *uint8, xstep, npix, rowB, colB int, w *int32, wstride int, corr *int32, n int, p *float32, alpha, beta float32)
// qdw3RowAVX2 with the hard-swish output stage fused (QHardSwish's, the
// bias already in corr): the levels of channel c of pixel p go to
// dst[p*ldd + c], computed from the sums in registers as qHSwishAVX2
// does (HSWISH8's operations in its order). p holds the blocks'
// QHardSwish.vec parameters (384 bytes per block; the bias field is not
// read). The frame holds alpha, beta, 0 and 1 as vectors.
TEXT ·qdw3RowHSAVX2(SB), NOSPLIT, $128-104
	MOVQ         dst+0(FP), R13
	MOVQ         x+16(FP), SI
	MOVQ         xstep+24(FP), R8
	MOVQ         colB+48(FP), R10
	MOVQ         w+56(FP), R11
	MOVQ         wstride+64(FP), R12
	VBROADCASTSS alpha+96(FP), Y0
	VMOVUPS      Y0, 0(SP)
	VBROADCASTSS beta+100(FP), Y0
	VMOVUPS      Y0, 32(SP)
	VXORPS       Y0, Y0, Y0
	VMOVUPS      Y0, 64(SP)
	MOVL         $0x3f800000, BX
	VMOVD        BX, X0
	VBROADCASTSS X0, Y0
	VMOVUPS      Y0, 96(SP)
	XORQ         AX, AX

hgroup:
	CMPQ AX, n+80(FP)
	JGE  hdone
	DW3LOADW
	DW3ROWS
	// The parameters of channels AX..AX+7: block AX/16, half AX&8 (32
	// bytes into each 64-byte field).
	MOVQ AX, DI
	SHRQ $4, DI
	IMUL3Q $384, DI, DI
	ADDQ p+88(FP), DI
	MOVQ AX, CX
	ANDQ $8, CX
	LEAQ (DI)(CX*4), DI
	LEAQ (R13)(AX*1), R14
	MOVQ npix+32(FP), CX
	TESTQ CX, CX
	JLE  hnext

hpixel:
	DW3PIX8
	VCVTDQ2PS    Y0, Y0
	VMULPS       64(DI), Y0, Y0
	VMULPS       0(SP), Y0, Y1
	VADDPS       32(SP), Y1, Y1
	VMAXPS       64(SP), Y1, Y1
	VMINPS       96(SP), Y1, Y1
	VMULPS       Y1, Y0, Y1
	VDIVPS       128(DI), Y1, Y1
	VMAXPS       192(DI), Y1, Y1
	VMINPS       256(DI), Y1, Y1
	VCVTPS2DQ    Y1, Y1
	VPADDD       320(DI), Y1, Y1
	VEXTRACTI128 $1, Y1, X2
	VPACKUSDW    X2, X1, X1
	VPACKUSWB    X1, X1, X1
	VMOVQ        X1, (R14)
	ADDQ         ldd+8(FP), R14
	ADDQ         R8, BX
	ADDQ         R8, R9
	ADDQ         R8, DX
	DECQ         CX
	JNZ          hpixel

hnext:
	ADDQ $8, AX
	JMP  hgroup

hdone:
	VZEROUPPER
	RET
