//go:build amd64 && !noasm

#include "textflag.h"

// func depthwiseMaskedV(w *float32, b *float32, offs *int, taps int, c *float32, n int, bias *float32, masks *int32, col int, chans int, inStride int, outStride int, safeLo int, safeHi int, blen int)
//
// DirectConv.Depthwise on AVX2 (16-column plans): for channel i < chans
// and column j < n (a multiple of 16), c[i*outStride+j] = bias[i] (+0
// when bias is nil) then, tap after tap, one FMA with w[i*taps+t] times
// B_t[col+j], B_t = b[i*inStride+offs[t]:] with the columns its mask
// leaves out read as +0: the masks of block j/16 are the 16 int32 of
// each tap at masks[(j/16*taps+t)*16:]. These are the sums of
// depthwiseAVX over ConvLayout's zero padding, bit for bit. A block
// whose column col+j lies in [safeLo, safeHi] has every row inside b (for
// every channel): plain loads ANDed with the masks; in others each tap
// checks whether its row lies inside b (of blen floats) and loads with
// VMASKMOVPS where it does not, which does not fault on left-out columns
// (but is slow when it leaves some out).
TEXT ·depthwiseMaskedV(SB), NOSPLIT, $0-120
	MOVQ w+0(FP), R8
	MOVQ b+8(FP), SI
	MOVQ offs+16(FP), R9
	MOVQ c+32(FP), DI
	MOVQ bias+48(FP), R14
	MOVQ chans+72(FP), R15
	XORQ R10, R10           // the least offset from SI inside b
	MOVQ blen+112(FP), R11
	SUBQ $16, R11           // the greatest

chan:
	VXORPS Y15, Y15, Y15
	TESTQ  R14, R14
	JE     nobias
	VBROADCASTSS (R14), Y15
	ADDQ   $4, R14

nobias:
	MOVQ masks+56(FP), R13
	MOVQ col+64(FP), BX // absolute column of the block
	XORQ DX, DX         // column of the block from c

blk:
	CMPQ    DX, n+40(FP)
	JGE     chandone
	VMOVAPS Y15, Y0
	VMOVAPS Y15, Y1
	XORQ    CX, CX // tap
	MOVQ    R13, R12 // masks of the tap
	CMPQ    BX, safeLo+96(FP)
	JLT     masked
	CMPQ    BX, safeHi+104(FP)
	JGT     masked

tap:
	MOVQ         (R9)(CX*8), AX
	ADDQ         BX, AX
	VBROADCASTSS (R8)(CX*4), Y4
	VMOVUPS      (R12), Y2
	VMOVUPS      32(R12), Y3
	VANDPS       (SI)(AX*4), Y2, Y2
	VANDPS       32(SI)(AX*4), Y3, Y3
	VFMADD231PS  Y2, Y4, Y0
	VFMADD231PS  Y3, Y4, Y1
	ADDQ         $64, R12
	INCQ         CX
	CMPQ         CX, taps+24(FP)
	JLT          tap
	JMP          store

masked:
	MOVQ         (R9)(CX*8), AX
	ADDQ         BX, AX
	VBROADCASTSS (R8)(CX*4), Y4
	VMOVUPS      (R12), Y2
	VMOVUPS      32(R12), Y3
	CMPQ         AX, R10
	JLT          fault
	CMPQ         AX, R11
	JGT          fault
	VANDPS       (SI)(AX*4), Y2, Y2
	VANDPS       32(SI)(AX*4), Y3, Y3
	JMP          fma

fault:
	VMASKMOVPS (SI)(AX*4), Y2, Y2
	VMASKMOVPS 32(SI)(AX*4), Y3, Y3

fma:
	VFMADD231PS  Y2, Y4, Y0
	VFMADD231PS  Y3, Y4, Y1
	ADDQ         $64, R12
	INCQ         CX
	CMPQ         CX, taps+24(FP)
	JLT          masked

store:
	VMOVUPS Y0, (DI)(DX*4)
	VMOVUPS Y1, 32(DI)(DX*4)
	MOVQ    R12, R13 // the next block's masks
	ADDQ    $16, DX
	ADDQ    $16, BX
	JMP     blk

chandone:
	MOVQ taps+24(FP), AX
	LEAQ (R8)(AX*4), R8
	MOVQ inStride+80(FP), AX
	LEAQ (SI)(AX*4), SI
	SUBQ AX, R10
	SUBQ AX, R11
	MOVQ outStride+88(FP), AX
	LEAQ (DI)(AX*4), DI
	DECQ R15
	JNZ  chan
	VZEROUPPER
	RET

// func depthwise4V(w *float32, b *float32, offs *int, taps int, c *float32, n int, bias *float32, masks *int32, col int, inStride int, outStride int)
//
// depthwiseMaskedV for 4 channels whose blocks are all in its [safeLo,
// safeHi] (every row inside b): each tap's masks, loaded once, serve the
// 4 channels (8 FMAs, 4 chains of 2), the same sums in the same order
// per channel. n is a positive multiple of 16.
TEXT ·depthwise4V(SB), NOSPLIT, $0-88
	MOVQ w+0(FP), R8
	MOVQ b+8(FP), SI
	MOVQ offs+16(FP), R9
	MOVQ c+32(FP), DI
	MOVQ masks+56(FP), R13
	MOVQ col+64(FP), BX
	MOVQ inStride+72(FP), R10
	SHLQ $2, R10             // inStride in bytes
	LEAQ (R10)(R10*2), R11   // 3 inStride in bytes
	MOVQ taps+24(FP), R14
	SHLQ $2, R14             // a channel's weights in bytes
	LEAQ (R14)(R14*2), R15   // 3 channels' weights
	XORQ DX, DX

q4blk:
	MOVQ bias+48(FP), AX
	TESTQ AX, AX
	JE   q4zero
	VBROADCASTSS (AX), Y0
	VBROADCASTSS 4(AX), Y2
	VBROADCASTSS 8(AX), Y4
	VBROADCASTSS 12(AX), Y6
	JMP  q4init

q4zero:
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6

q4init:
	VMOVAPS Y0, Y1
	VMOVAPS Y2, Y3
	VMOVAPS Y4, Y5
	VMOVAPS Y6, Y7
	XORQ CX, CX

q4tap:
	MOVQ         (R9)(CX*8), AX
	ADDQ         BX, AX
	LEAQ         (SI)(AX*4), AX
	LEAQ         (R8)(CX*4), R12
	VMOVUPS      (R13), Y8
	VMOVUPS      32(R13), Y9
	VBROADCASTSS (R12), Y12
	VANDPS       (AX), Y8, Y10
	VANDPS       32(AX), Y9, Y11
	VFMADD231PS  Y10, Y12, Y0
	VFMADD231PS  Y11, Y12, Y1
	VBROADCASTSS (R12)(R14*1), Y13
	VANDPS       (AX)(R10*1), Y8, Y10
	VANDPS       32(AX)(R10*1), Y9, Y11
	VFMADD231PS  Y10, Y13, Y2
	VFMADD231PS  Y11, Y13, Y3
	VBROADCASTSS (R12)(R14*2), Y14
	VANDPS       (AX)(R10*2), Y8, Y10
	VANDPS       32(AX)(R10*2), Y9, Y11
	VFMADD231PS  Y10, Y14, Y4
	VFMADD231PS  Y11, Y14, Y5
	VBROADCASTSS (R12)(R15*1), Y15
	VANDPS       (AX)(R11*1), Y8, Y10
	VANDPS       32(AX)(R11*1), Y9, Y11
	VFMADD231PS  Y10, Y15, Y6
	VFMADD231PS  Y11, Y15, Y7
	ADDQ         $64, R13
	INCQ         CX
	CMPQ         CX, taps+24(FP)
	JLT          q4tap

	LEAQ    (DI)(DX*4), AX
	MOVQ    outStride+80(FP), R12
	SHLQ    $2, R12
	VMOVUPS Y0, (AX)
	VMOVUPS Y1, 32(AX)
	ADDQ    R12, AX
	VMOVUPS Y2, (AX)
	VMOVUPS Y3, 32(AX)
	ADDQ    R12, AX
	VMOVUPS Y4, (AX)
	VMOVUPS Y5, 32(AX)
	ADDQ    R12, AX
	VMOVUPS Y6, (AX)
	VMOVUPS Y7, 32(AX)
	ADDQ    $16, DX
	ADDQ    $16, BX
	CMPQ    DX, n+40(FP)
	JLT     q4blk
	VZEROUPPER
	RET
