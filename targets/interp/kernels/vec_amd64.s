//go:build amd64 && !noasm

#include "textflag.h"

// func copyRowsAVX(dst *float32, dstStride int, src *float32, srcStride int, rows int, n int)
// Copies rows rows of n floats; strides are in floats.
TEXT ·copyRowsAVX(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R9
	MOVQ rows+32(FP), CX
	MOVQ n+40(FP), DX
	SHLQ $2, R8
	SHLQ $2, R9
	TESTQ CX, CX
	JLE  done

row:
	XORQ AX, AX // element index
	MOVQ DX, BX
	SUBQ $8, BX // last index where 8 more fit

vec:
	CMPQ    AX, BX
	JGT     tail
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     vec

tail:
	CMPQ  AX, DX
	JGE   next
	VMOVSS (SI)(AX*4), X0
	VMOVSS X0, (DI)(AX*4)
	INCQ  AX
	JMP   tail

next:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ CX
	JNZ  row

done:
	VZEROUPPER
	RET

// func deinterleave2AVX(even *float32, odd *float32, src *float32, pairs int)
// even[i] = src[2i], odd[i] = src[2i+1] for i < pairs rounded down to a
// multiple of 8.
TEXT ·deinterleave2AVX(SB), NOSPLIT, $0-32
	MOVQ even+0(FP), DI
	MOVQ odd+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ pairs+24(FP), CX
	SHRQ $3, CX
	JZ   dedone

deloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS Y2, (DI)
	VMOVUPS Y3, (R8)
	ADDQ    $64, SI
	ADDQ    $32, DI
	ADDQ    $32, R8
	DECQ    CX
	JNZ     deloop

dedone:
	VZEROUPPER
	RET

// func deinterleave2RowsZ(dst *float32, odd int, dstStride int, src *float32, srcStride int, rows int, n int)
// For each of rows rows of n floats (srcStride apart), its even elements
// to dst and its odd ones to dst+odd (rows dstStride apart; distances in
// floats, odd possibly negative): VCOMPRESSPS keeps the even or the odd
// lanes of 16 floats, a store writes the 8 kept; a last partial group of
// the row is loaded and stored under masks.
TEXT ·deinterleave2RowsZ(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ odd+8(FP), R8
	SHLQ $2, R8
	MOVQ dstStride+16(FP), R9
	SHLQ $2, R9
	MOVQ src+24(FP), SI
	MOVQ srcStride+32(FP), R10
	SHLQ $2, R10
	MOVQ rows+40(FP), CX
	MOVQ n+48(FP), DX
	MOVL $0x5555, AX
	KMOVW AX, K1 // even lanes
	MOVL $0xAAAA, AX
	KMOVW AX, K2 // odd lanes
	MOVQ DX, R11
	ANDQ $15, R11 // the partial group's length r
	MOVQ DX, R13
	SUBQ R11, R13 // the full groups' length
	// K3: the r floats to load; K4, K5: the (r+1)/2 even and r/2 odd to store.
	MOVQ CX, R12
	MOVQ R11, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K3
	LEAQ 1(R11), CX
	SHRQ $1, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K4
	MOVQ R11, CX
	SHRQ $1, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K5
	MOVQ R12, CX
	TESTQ CX, CX
	JLE dr2done

dr2row:
	XORQ BX, BX
	MOVQ DI, R12

dr2group:
	CMPQ BX, R13
	JGE dr2rest
	VMOVUPS (SI)(BX*4), Z0
	VCOMPRESSPS Z0, K1, Z1
	VCOMPRESSPS Z0, K2, Z2
	VMOVUPS Y1, (R12)
	VMOVUPS Y2, (R12)(R8*1)
	ADDQ $32, R12
	ADDQ $16, BX
	JMP dr2group

dr2rest:
	TESTQ R11, R11
	JE dr2next
	VMOVUPS.Z (SI)(BX*4), K3, Z0
	VCOMPRESSPS Z0, K1, Z1
	VCOMPRESSPS Z0, K2, Z2
	VMOVUPS Z1, K4, (R12)
	VMOVUPS Z2, K5, (R12)(R8*1)

dr2next:
	ADDQ R10, SI
	ADDQ R9, DI
	DECQ CX
	JNZ dr2row

dr2done:
	VZEROUPPER
	RET

// func deinterleave2RowsAVX2(dst *float32, odd int, dstStride int, src *float32, srcStride int, rows int, n int)
// For r < rows and i < n/2, with n even and at least 8: dst[r*dstStride+i]
// = src[r*srcStride+2i] and dst[odd+r*dstStride+i] = src[r*srcStride+2i+1].
// Each row goes in chunks of 16 floats, then 8; its last chunk of 8 ends
// at the row's end, overlapping the one before (the same values written
// twice) rather than writing past the row.
TEXT ·deinterleave2RowsAVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ odd+8(FP), R8
	SHLQ $2, R8
	MOVQ dstStride+16(FP), R9
	SHLQ $2, R9
	MOVQ src+24(FP), SI
	MOVQ srcStride+32(FP), R10
	SHLQ $2, R10
	MOVQ rows+40(FP), CX
	MOVQ n+48(FP), DX

d2row:
	LEAQ (DI)(R8*1), R11 // the odd row
	XORQ BX, BX

d2c16:
	LEAQ    16(BX), AX
	CMPQ    AX, DX
	JGT     d2c8
	VMOVUPS (SI)(BX*4), Y0
	VMOVUPS 32(SI)(BX*4), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS Y2, (DI)(BX*2)
	VMOVUPS Y3, (R11)(BX*2)
	MOVQ    AX, BX
	JMP     d2c16

d2c8:
	LEAQ    8(BX), AX
	CMPQ    AX, DX
	JGT     d2tail
	VMOVUPS (SI)(BX*4), X0
	VMOVUPS 16(SI)(BX*4), X1
	VSHUFPS $0x88, X1, X0, X2
	VSHUFPS $0xDD, X1, X0, X3
	VMOVUPS X2, (DI)(BX*2)
	VMOVUPS X3, (R11)(BX*2)
	MOVQ    AX, BX

d2tail:
	CMPQ    BX, DX
	JGE     d2next
	MOVQ    DX, BX
	SUBQ    $8, BX
	VMOVUPS (SI)(BX*4), X0
	VMOVUPS 16(SI)(BX*4), X1
	VSHUFPS $0x88, X1, X0, X2
	VSHUFPS $0xDD, X1, X0, X3
	VMOVUPS X2, (DI)(BX*2)
	VMOVUPS X3, (R11)(BX*2)

d2next:
	ADDQ R9, DI
	ADDQ R10, SI
	DECQ CX
	JNZ  d2row
	VZEROUPPER
	RET
