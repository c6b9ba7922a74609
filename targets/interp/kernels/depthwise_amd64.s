//go:build amd64 && !noasm

#include "textflag.h"

// func depthwiseAVX(w *float32, b *float32, offs *int, taps int, c *float32, n int, bias float32)
// c[j] = bias + sum over t < taps of w[t]*b[offs[t]+j], for j < n rounded
// down to a multiple of 8.
TEXT ·depthwiseAVX(SB), NOSPLIT, $0-52
	MOVQ         w+0(FP), R8
	MOVQ         b+8(FP), SI
	MOVQ         offs+16(FP), R9
	MOVQ         taps+24(FP), R10
	MOVQ         c+32(FP), DI
	MOVQ         n+40(FP), DX
	VBROADCASTSS bias+48(FP), Y15
	XORQ         BX, BX // column

blk32:
	LEAQ    32(BX), AX
	CMPQ    AX, DX
	JGT     blk8
	VMOVAPS Y15, Y0
	VMOVAPS Y15, Y1
	VMOVAPS Y15, Y2
	VMOVAPS Y15, Y3
	XORQ    CX, CX

tap32:
	MOVQ         (R9)(CX*8), AX
	ADDQ         BX, AX
	VBROADCASTSS (R8)(CX*4), Y4
	VFMADD231PS  (SI)(AX*4), Y4, Y0
	VFMADD231PS  32(SI)(AX*4), Y4, Y1
	VFMADD231PS  64(SI)(AX*4), Y4, Y2
	VFMADD231PS  96(SI)(AX*4), Y4, Y3
	INCQ         CX
	CMPQ         CX, R10
	JLT          tap32
	VMOVUPS      Y0, (DI)(BX*4)
	VMOVUPS      Y1, 32(DI)(BX*4)
	VMOVUPS      Y2, 64(DI)(BX*4)
	VMOVUPS      Y3, 96(DI)(BX*4)
	ADDQ         $32, BX
	JMP          blk32

blk8:
	LEAQ    8(BX), AX
	CMPQ    AX, DX
	JGT     done
	VMOVAPS Y15, Y0
	XORQ    CX, CX

tap8:
	MOVQ         (R9)(CX*8), AX
	ADDQ         BX, AX
	VBROADCASTSS (R8)(CX*4), Y4
	VFMADD231PS  (SI)(AX*4), Y4, Y0
	INCQ         CX
	CMPQ         CX, R10
	JLT          tap8
	VMOVUPS      Y0, (DI)(BX*4)
	ADDQ         $8, BX
	JMP          blk8

done:
	VZEROUPPER
	RET
