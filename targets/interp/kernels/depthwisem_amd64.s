//go:build amd64 && !noasm

#include "textflag.h"

// func depthwiseMaskedZ(w *float32, b *float32, offs *int, taps int, c *float32, n int, bias *float32, masks *uint32, col int, chans int, inStride int, outStride int)
// For each of chans channels (weights taps apart, inputs inStride and
// outputs outStride floats apart, biases from bias, or zero when bias is
// nil): c[j] = bias + sum over t < taps of w[t]*B_t[j] for j < n (n > 0),
// one FMA per tap in tap order as depthwiseAVX does, where B_t[j] is
// b[col+offs[t]+j] when bit j%32 of masks[(j/32)*taps+t] is set and +0
// otherwise (zeroing loads: the columns left out are not read). Columns
// go 64 at a time (four chains of FMAs), then 32 at a time with the
// stores masked to j < n.
TEXT ·depthwiseMaskedZ(SB), NOSPLIT, $0-96
	MOVQ         w+0(FP), R8
	MOVQ         b+8(FP), SI
	MOVQ         offs+16(FP), R9
	MOVQ         taps+24(FP), R10
	MOVQ         c+32(FP), DI
	MOVQ         n+40(FP), DX
	MOVQ         masks+56(FP), R11
	MOVQ         col+64(FP), AX
	LEAQ         (SI)(AX*4), SI
	MOVQ         R10, R12
	SHLQ         $2, R12 // bytes of one block's masks

dmchan:
	VPXORD       Z15, Z15, Z15
	MOVQ         bias+48(FP), AX
	TESTQ        AX, AX
	JE           dmnobias
	VBROADCASTSS (AX), Z15
	ADDQ         $4, AX
	MOVQ         AX, bias+48(FP)

dmnobias:
	XORQ         BX, BX  // column

dm64:
	LEAQ      64(BX), AX
	CMPQ      AX, DX
	JGT       dm32
	VMOVAPS   Z15, Z0
	VMOVAPS   Z15, Z1
	VMOVAPS   Z15, Z2
	VMOVAPS   Z15, Z3
	MOVQ      BX, R13
	SHRQ      $5, R13
	IMULQ     R12, R13
	ADDQ      R11, R13 // masks of the first block's taps
	XORQ      CX, CX

dmtap64:
	MOVQ         (R9)(CX*8), AX
	ADDQ         BX, AX
	VBROADCASTSS (R8)(CX*4), Z4
	KMOVD        (R13), K1
	KSHIFTRD     $16, K1, K2
	KMOVD        (R13)(R12*1), K3
	KSHIFTRD     $16, K3, K4
	VMOVUPS.Z    (SI)(AX*4), K1, Z5
	VMOVUPS.Z    64(SI)(AX*4), K2, Z6
	VMOVUPS.Z    128(SI)(AX*4), K3, Z7
	VMOVUPS.Z    192(SI)(AX*4), K4, Z8
	VFMADD231PS  Z5, Z4, Z0
	VFMADD231PS  Z6, Z4, Z1
	VFMADD231PS  Z7, Z4, Z2
	VFMADD231PS  Z8, Z4, Z3
	ADDQ         $4, R13
	INCQ         CX
	CMPQ         CX, R10
	JLT          dmtap64
	VMOVUPS      Z0, (DI)(BX*4)
	VMOVUPS      Z1, 64(DI)(BX*4)
	VMOVUPS      Z2, 128(DI)(BX*4)
	VMOVUPS      Z3, 192(DI)(BX*4)
	ADDQ         $64, BX
	JMP          dm64

dm32:
	CMPQ BX, DX
	JGE  dmdone
	MOVQ DX, CX
	SUBQ BX, CX // columns left
	MOVL $-1, AX
	CMPQ CX, $32
	JGE  dmkeep
	MOVL $1, AX
	SHLL CX, AX
	DECL AX

dmkeep:
	KMOVD     AX, K5 // the columns to store
	KSHIFTRD  $16, K5, K6
	VMOVAPS   Z15, Z0
	VMOVAPS   Z15, Z1
	MOVQ      BX, R13
	SHRQ      $5, R13
	IMULQ     R12, R13
	ADDQ      R11, R13
	XORQ      CX, CX

dmtap32:
	MOVQ         (R9)(CX*8), AX
	ADDQ         BX, AX
	VBROADCASTSS (R8)(CX*4), Z4
	KMOVD        (R13), K1
	KSHIFTRD     $16, K1, K2
	VMOVUPS.Z    (SI)(AX*4), K1, Z5
	VMOVUPS.Z    64(SI)(AX*4), K2, Z6
	VFMADD231PS  Z5, Z4, Z0
	VFMADD231PS  Z6, Z4, Z1
	ADDQ         $4, R13
	INCQ         CX
	CMPQ         CX, R10
	JLT          dmtap32
	VMOVUPS      Z0, K5, (DI)(BX*4)
	VMOVUPS      Z1, K6, 64(DI)(BX*4)
	ADDQ         $32, BX
	JMP          dm32

dmdone:
	// The next channel.
	MOVQ chans+72(FP), AX
	DECQ AX
	JE   dmend
	MOVQ AX, chans+72(FP)
	MOVQ inStride+80(FP), AX
	LEAQ (SI)(AX*4), SI
	MOVQ outStride+88(FP), AX
	LEAQ (DI)(AX*4), DI
	LEAQ (R8)(R10*4), R8
	JMP  dmchan

dmend:
	VZEROUPPER
	RET
