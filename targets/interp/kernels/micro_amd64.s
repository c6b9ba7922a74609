//go:build amd64 && !noasm

#include "textflag.h"
#include "micro_amd64.h"

// Micro-kernels for AVX2 + FMA. See microKernel in micro.go for the
// contract. Registers: Y4..Y15 hold the tile (two per row), Y0/Y1 the
// current row of B, Y2/Y3 broadcast elements of A.

// func kernel6x16(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)
TEXT ·kernel6x16(SB), NOSPLIT, $0-72
	MOVQ   k+0(FP), CX
	MOVQ   a+8(FP), SI
	MOVQ   b+16(FP), DI
	MOVQ   offs+24(FP), R10
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15
	CMPQ   CX, $4
	JLT    k6tail

k6loop4:
	STEP6
	STEP6
	STEP6
	STEP6
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  k6loop4

k6tail:
	TESTQ CX, CX
	JE    k6epi

k6loop1:
	STEP6
	DECQ CX
	JNZ  k6loop1

k6epi:
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8
	MOVQ mr+48(FP), BX
	MOVQ bias+56(FP), AX
	MOVQ flags+64(FP), R9

	TESTQ $1, R9
	JE    k6noacc
	MOVQ  BX, R12
	ACCROW(Y4, Y5)
	DECQ  R12
	JE    k6accdone
	ACCROW(Y6, Y7)
	DECQ  R12
	JE    k6accdone
	ACCROW(Y8, Y9)
	DECQ  R12
	JE    k6accdone
	ACCROW(Y10, Y11)
	DECQ  R12
	JE    k6accdone
	ACCROW(Y12, Y13)
	DECQ  R12
	JE    k6accdone
	ACCROW(Y14, Y15)

k6accdone:
	MOVQ c+32(FP), DX

k6noacc:
	TESTQ $2, R9
	JE    k6nobias
	BIASROW(0, Y4, Y5)
	CMPQ  BX, $1
	JE    k6nobias
	BIASROW(4, Y6, Y7)
	CMPQ  BX, $2
	JE    k6nobias
	BIASROW(8, Y8, Y9)
	CMPQ  BX, $3
	JE    k6nobias
	BIASROW(12, Y10, Y11)
	CMPQ  BX, $4
	JE    k6nobias
	BIASROW(16, Y12, Y13)
	CMPQ  BX, $5
	JE    k6nobias
	BIASROW(20, Y14, Y15)

k6nobias:
	TESTQ  $4, R9
	JE     k6store
	VXORPS Y2, Y2, Y2
	RELUROW(Y4, Y5)
	RELUROW(Y6, Y7)
	RELUROW(Y8, Y9)
	RELUROW(Y10, Y11)
	RELUROW(Y12, Y13)
	RELUROW(Y14, Y15)

k6store:
	STOREROW(Y4, Y5)
	DECQ BX
	JE   k6done
	STOREROW(Y6, Y7)
	DECQ BX
	JE   k6done
	STOREROW(Y8, Y9)
	DECQ BX
	JE   k6done
	STOREROW(Y10, Y11)
	DECQ BX
	JE   k6done
	STOREROW(Y12, Y13)
	DECQ BX
	JE   k6done
	STOREROW(Y14, Y15)

k6done:
	VZEROUPPER
	RET

// func kernel4x16(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)
TEXT ·kernel4x16(SB), NOSPLIT, $0-72
	MOVQ   k+0(FP), CX
	MOVQ   a+8(FP), SI
	MOVQ   b+16(FP), DI
	MOVQ   offs+24(FP), R10
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	CMPQ   CX, $4
	JLT    k4tail

k4loop4:
	STEP4
	STEP4
	STEP4
	STEP4
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  k4loop4

k4tail:
	TESTQ CX, CX
	JE    k4epi

k4loop1:
	STEP4
	DECQ CX
	JNZ  k4loop1

k4epi:
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8
	MOVQ mr+48(FP), BX
	MOVQ bias+56(FP), AX
	MOVQ flags+64(FP), R9

	TESTQ $1, R9
	JE    k4noacc
	MOVQ  BX, R12
	ACCROW(Y4, Y5)
	DECQ  R12
	JE    k4accdone
	ACCROW(Y6, Y7)
	DECQ  R12
	JE    k4accdone
	ACCROW(Y8, Y9)
	DECQ  R12
	JE    k4accdone
	ACCROW(Y10, Y11)

k4accdone:
	MOVQ c+32(FP), DX

k4noacc:
	TESTQ $2, R9
	JE    k4nobias
	BIASROW(0, Y4, Y5)
	CMPQ  BX, $1
	JE    k4nobias
	BIASROW(4, Y6, Y7)
	CMPQ  BX, $2
	JE    k4nobias
	BIASROW(8, Y8, Y9)
	CMPQ  BX, $3
	JE    k4nobias
	BIASROW(12, Y10, Y11)

k4nobias:
	TESTQ  $4, R9
	JE     k4store
	VXORPS Y2, Y2, Y2
	RELUROW(Y4, Y5)
	RELUROW(Y6, Y7)
	RELUROW(Y8, Y9)
	RELUROW(Y10, Y11)

k4store:
	STOREROW(Y4, Y5)
	DECQ BX
	JE   k4done
	STOREROW(Y6, Y7)
	DECQ BX
	JE   k4done
	STOREROW(Y8, Y9)
	DECQ BX
	JE   k4done
	STOREROW(Y10, Y11)

k4done:
	VZEROUPPER
	RET

// AVX-512 micro-kernel for 6-row panels: one ZMM register per row of the
// tile, A's elements broadcast from memory into the FMAs. Two sets of
// accumulators, Z4..Z9 for even steps and Z10..Z15 for odd ones, keep
// twelve FMAs in flight; they are added before the epilogue.

// Two k steps: B rows at DI + 4*(R10) and DI + 4*8(R10), A at SI.
#define STEP6Z2 \
	MOVQ                 (R10), AX         \
	VMOVUPS              (DI)(AX*4), Z0    \
	MOVQ                 8(R10), AX        \
	VMOVUPS              (DI)(AX*4), Z1    \
	VFMADD231PS.BCST     (SI), Z0, Z4      \
	VFMADD231PS.BCST     4(SI), Z0, Z5     \
	VFMADD231PS.BCST     8(SI), Z0, Z6     \
	VFMADD231PS.BCST     12(SI), Z0, Z7    \
	VFMADD231PS.BCST     16(SI), Z0, Z8    \
	VFMADD231PS.BCST     20(SI), Z0, Z9    \
	VFMADD231PS.BCST     24(SI), Z1, Z10   \
	VFMADD231PS.BCST     28(SI), Z1, Z11   \
	VFMADD231PS.BCST     32(SI), Z1, Z12   \
	VFMADD231PS.BCST     36(SI), Z1, Z13   \
	VFMADD231PS.BCST     40(SI), Z1, Z14   \
	VFMADD231PS.BCST     44(SI), Z1, Z15   \
	ADDQ                 $48, SI           \
	ADDQ                 $16, R10

#define STEP6Z \
	MOVQ                 (R10), AX         \
	VMOVUPS              (DI)(AX*4), Z0    \
	VFMADD231PS.BCST     (SI), Z0, Z4      \
	VFMADD231PS.BCST     4(SI), Z0, Z5     \
	VFMADD231PS.BCST     8(SI), Z0, Z6     \
	VFMADD231PS.BCST     12(SI), Z0, Z7    \
	VFMADD231PS.BCST     16(SI), Z0, Z8    \
	VFMADD231PS.BCST     20(SI), Z0, Z9    \
	ADDQ                 $24, SI           \
	ADDQ                 $8, R10

#define ACCROWZ(z) \
	VADDPS (DX), z, z \
	ADDQ   R8, DX

#define BIASROWZ(off, z) \
	VBROADCASTSS off(AX), Z2 \
	VADDPS       Z2, z, z

#define STOREROWZ(z) \
	VMOVUPS z, (DX) \
	ADDQ    R8, DX

// func kernel6x16Z(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)
TEXT ·kernel6x16Z(SB), NOSPLIT, $0-72
	MOVQ   k+0(FP), CX
	MOVQ   a+8(FP), SI
	MOVQ   b+16(FP), DI
	MOVQ   offs+24(FP), R10
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	CMPQ   CX, $4
	JLT    z6tail

z6loop4:
	STEP6Z2
	STEP6Z2
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  z6loop4

z6tail:
	TESTQ CX, CX
	JE    z6sum

z6loop1:
	STEP6Z
	DECQ CX
	JNZ  z6loop1

z6sum:
	VADDPS Z10, Z4, Z4
	VADDPS Z11, Z5, Z5
	VADDPS Z12, Z6, Z6
	VADDPS Z13, Z7, Z7
	VADDPS Z14, Z8, Z8
	VADDPS Z15, Z9, Z9
	MOVQ   c+32(FP), DX
	MOVQ   ldc+40(FP), R8
	SHLQ   $2, R8
	MOVQ   mr+48(FP), BX
	MOVQ   bias+56(FP), AX
	MOVQ   flags+64(FP), R9

	TESTQ $1, R9
	JE    z6noacc
	MOVQ  BX, R12
	ACCROWZ(Z4)
	DECQ  R12
	JE    z6accdone
	ACCROWZ(Z5)
	DECQ  R12
	JE    z6accdone
	ACCROWZ(Z6)
	DECQ  R12
	JE    z6accdone
	ACCROWZ(Z7)
	DECQ  R12
	JE    z6accdone
	ACCROWZ(Z8)
	DECQ  R12
	JE    z6accdone
	ACCROWZ(Z9)

z6accdone:
	MOVQ c+32(FP), DX

z6noacc:
	TESTQ $2, R9
	JE    z6nobias
	BIASROWZ(0, Z4)
	CMPQ  BX, $1
	JE    z6nobias
	BIASROWZ(4, Z5)
	CMPQ  BX, $2
	JE    z6nobias
	BIASROWZ(8, Z6)
	CMPQ  BX, $3
	JE    z6nobias
	BIASROWZ(12, Z7)
	CMPQ  BX, $4
	JE    z6nobias
	BIASROWZ(16, Z8)
	CMPQ  BX, $5
	JE    z6nobias
	BIASROWZ(20, Z9)

z6nobias:
	TESTQ  $4, R9
	JE     z6store
	VPXORD Z2, Z2, Z2
	VMAXPS Z4, Z2, Z4
	VMAXPS Z5, Z2, Z5
	VMAXPS Z6, Z2, Z6
	VMAXPS Z7, Z2, Z7
	VMAXPS Z8, Z2, Z8
	VMAXPS Z9, Z2, Z9

z6store:
	STOREROWZ(Z4)
	DECQ BX
	JE   z6done
	STOREROWZ(Z5)
	DECQ BX
	JE   z6done
	STOREROWZ(Z6)
	DECQ BX
	JE   z6done
	STOREROWZ(Z7)
	DECQ BX
	JE   z6done
	STOREROWZ(Z8)
	DECQ BX
	JE   z6done
	STOREROWZ(Z9)

z6done:
	VZEROUPPER
	RET

// The same for 4-row panels: Z4..Z7 for even steps, Z8..Z11 for odd ones.
#define STEP4Z2 \
	MOVQ                 (R10), AX         \
	VMOVUPS              (DI)(AX*4), Z0    \
	MOVQ                 8(R10), AX        \
	VMOVUPS              (DI)(AX*4), Z1    \
	VFMADD231PS.BCST     (SI), Z0, Z4      \
	VFMADD231PS.BCST     4(SI), Z0, Z5     \
	VFMADD231PS.BCST     8(SI), Z0, Z6     \
	VFMADD231PS.BCST     12(SI), Z0, Z7    \
	VFMADD231PS.BCST     16(SI), Z1, Z8    \
	VFMADD231PS.BCST     20(SI), Z1, Z9    \
	VFMADD231PS.BCST     24(SI), Z1, Z10   \
	VFMADD231PS.BCST     28(SI), Z1, Z11   \
	ADDQ                 $32, SI           \
	ADDQ                 $16, R10

#define STEP4Z \
	MOVQ                 (R10), AX         \
	VMOVUPS              (DI)(AX*4), Z0    \
	VFMADD231PS.BCST     (SI), Z0, Z4      \
	VFMADD231PS.BCST     4(SI), Z0, Z5     \
	VFMADD231PS.BCST     8(SI), Z0, Z6     \
	VFMADD231PS.BCST     12(SI), Z0, Z7    \
	ADDQ                 $16, SI           \
	ADDQ                 $8, R10

// func kernel4x16Z(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int)
TEXT ·kernel4x16Z(SB), NOSPLIT, $0-72
	MOVQ   k+0(FP), CX
	MOVQ   a+8(FP), SI
	MOVQ   b+16(FP), DI
	MOVQ   offs+24(FP), R10
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	CMPQ   CX, $4
	JLT    z4tail

z4loop4:
	STEP4Z2
	STEP4Z2
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  z4loop4

z4tail:
	TESTQ CX, CX
	JE    z4sum

z4loop1:
	STEP4Z
	DECQ CX
	JNZ  z4loop1

z4sum:
	VADDPS Z8, Z4, Z4
	VADDPS Z9, Z5, Z5
	VADDPS Z10, Z6, Z6
	VADDPS Z11, Z7, Z7
	MOVQ   c+32(FP), DX
	MOVQ   ldc+40(FP), R8
	SHLQ   $2, R8
	MOVQ   mr+48(FP), BX
	MOVQ   bias+56(FP), AX
	MOVQ   flags+64(FP), R9

	TESTQ $1, R9
	JE    z4noacc
	MOVQ  BX, R12
	ACCROWZ(Z4)
	DECQ  R12
	JE    z4accdone
	ACCROWZ(Z5)
	DECQ  R12
	JE    z4accdone
	ACCROWZ(Z6)
	DECQ  R12
	JE    z4accdone
	ACCROWZ(Z7)

z4accdone:
	MOVQ c+32(FP), DX

z4noacc:
	TESTQ $2, R9
	JE    z4nobias
	BIASROWZ(0, Z4)
	CMPQ  BX, $1
	JE    z4nobias
	BIASROWZ(4, Z5)
	CMPQ  BX, $2
	JE    z4nobias
	BIASROWZ(8, Z6)
	CMPQ  BX, $3
	JE    z4nobias
	BIASROWZ(12, Z7)

z4nobias:
	TESTQ  $4, R9
	JE     z4store
	VPXORD Z2, Z2, Z2
	VMAXPS Z4, Z2, Z4
	VMAXPS Z5, Z2, Z5
	VMAXPS Z6, Z2, Z6
	VMAXPS Z7, Z2, Z7

z4store:
	STOREROWZ(Z4)
	DECQ BX
	JE   z4done
	STOREROWZ(Z5)
	DECQ BX
	JE   z4done
	STOREROWZ(Z6)
	DECQ BX
	JE   z4done
	STOREROWZ(Z7)

z4done:
	VZEROUPPER
	RET
