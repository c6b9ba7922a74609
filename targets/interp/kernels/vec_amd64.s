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

// func prefetchAVX(p *float32, n int)
// Prefetches n floats from p into L2, one request per 64-byte line.
TEXT ·prefetchAVX(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	SHLQ $2, CX
	ADDQ SI, CX

pfloop:
	CMPQ       SI, CX
	JGE        pfdone
	PREFETCHT1 (SI)
	ADDQ       $64, SI
	JMP        pfloop

pfdone:
	RET
