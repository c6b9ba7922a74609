//go:build amd64 && !noasm

#include "textflag.h"
#include "micro_amd64.h"

// The 16-column AVX2 micro-kernels of micro_amd64.s reading B under
// masks (DirectConv without AVX-512): B starts col floats after b (of
// blen floats); step p reads its offset o and the index t of its tap
// from steps[p] = o<<16 | 64t; the tap's column mask is the 16 int32 at
// masks[16t:] (all bits set: column kept, zero: column left out), two
// YMM registers loaded for each step. The left-out columns read as +0,
// so that B needs no zero padding: plain loads ANDed with the mask
// (which keeps a kept column's bits as they are) where the row lies
// inside b, else VMASKMOVPS, which does not fault on the left-out
// columns (only the kept ones must be in range) but is slow when it
// leaves some out (on Zen 3, the 7×7 product ran twice as long with it
// on every row). With flagFaultMasks (DirectConv.Mul sets it for the
// blocks near the ends of b) each step checks its row's range and
// picks; without it every row is inside b.
// Everything else, the reduction order included (one accumulator per
// tile element, the steps in order, then the bias), is as in kernel6x16
// and kernel4x16: bit for bit their results on the padded B. flagAdd
// adds an addend laid out as C after the bias, before the clamp (a
// residual Add, with its Relu, fused into the store). flagAccumulate and
// flagCompact are not supported: tiles are always 16 columns wide
// (DirectConv.Mul stores a partial one through a scratch tile).
//
// With flagStorePacked, the masked rows of B each step reads are also
// stored at pack, one after another (the packed panels of
// packMaskedVGo, block after block); with flagPacked, B is such panels,
// read with plain loads and no masks. DirectConv.Mul runs a block's first
// row panel storing, and the others reading, its packed rows: the masks
// are applied once per block instead of once per panel, and the stores
// hide under the first panel's FMAs.
//
// A call computes blocks consecutive 16-column blocks: block i with B,
// C and the addend advanced by 16i floats (a packed B by 16ki) and the
// masks by mstride bytes (the same sums, stores and flags as a call of its own, without
// the Go call, slicing and loop per block); with flagFaultMasks, blocks
// must be 1.

#define flagFaultMasks 32
#define flagPacked 64
#define flagStorePacked 128

// One k step: B row at DI + 4*(steps[0]>>16), the tap's masks at R13 +
// (steps[0]&0xFFFF), A at SI; plain loads ANDed with the masks.
#define ASTEP6 \
	MOVQ (R10), AX \
	MOVWQZX AX, R11 \
	SARQ $16, AX \
	VMOVUPS (R13)(R11*1), Y0 \
	VMOVUPS 32(R13)(R11*1), Y1 \
	VANDPS (DI)(AX*4), Y0, Y0 \
	VANDPS 32(DI)(AX*4), Y1, Y1 \
	FMAS6 \
	ADDQ $8, R10

#define ASTEP4 \
	MOVQ (R10), AX \
	MOVWQZX AX, R11 \
	SARQ $16, AX \
	VMOVUPS (R13)(R11*1), Y0 \
	VMOVUPS 32(R13)(R11*1), Y1 \
	VANDPS (DI)(AX*4), Y0, Y0 \
	VANDPS 32(DI)(AX*4), Y1, Y1 \
	FMAS4 \
	ADDQ $8, R10

// ASTEP6 and ASTEP4 that also store the masked rows at R8
// (flagStorePacked).
#define SSTEP6 \
	ASTEP6 \
	VMOVUPS Y0, (R8) \
	VMOVUPS Y1, 32(R8) \
	ADDQ $64, R8

#define SSTEP4 \
	ASTEP4 \
	VMOVUPS Y0, (R8) \
	VMOVUPS Y1, 32(R8) \
	ADDQ $64, R8

// One k step of a packed panel (flagPacked): B's masked row is the 16
// floats at DI, the next step's right after.
#define PSTEP6 \
	VMOVUPS (DI), Y0 \
	VMOVUPS 32(DI), Y1 \
	FMAS6 \
	ADDQ $64, DI

#define PSTEP4 \
	VMOVUPS (DI), Y0 \
	VMOVUPS 32(DI), Y1 \
	FMAS4 \
	ADDQ $64, DI

// MADDROW adds a row of the addend, whose rows R13 walks (stride R8
// bytes); the other row operations of the epilogue are micro_amd64.h's
// (AX at the bias, DX walking the rows of C).
#define MADDROW(ya, yb) \
	VADDPS (R13), ya, ya   \
	VADDPS 32(R13), yb, yb \
	ADDQ   R8, R13

// func kernel6x16M(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int, masks *int32, col int, add *float32, blen int, blocks int, mstride int, pack *float32)
TEXT ·kernel6x16M(SB), NOSPLIT, $0-128
	MOVQ b+16(FP), DI
	MOVQ col+80(FP), AX
	LEAQ (DI)(AX*4), DI // B of the block
	MOVQ masks+72(FP), R12 // its masks
	MOVQ c+32(FP), R14 // its C
	MOVQ add+88(FP), R15 // its addend
	MOVQ flags+64(FP), R9

v6block:
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ offs+24(FP), R10
	MOVQ R12, R13
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
	MOVQ pack+120(FP), R8 // where flagStorePacked stores (kept there between blocks)
	TESTQ $flagPacked, R9
	JNE v6packed
	TESTQ $flagFaultMasks, R9
	JNE v6masked
	TESTQ $flagStorePacked, R9
	JNE v6keep
	CMPQ CX, $4
	JLT v6tail

v6loop4:
	ASTEP6
	ASTEP6
	ASTEP6
	ASTEP6
	SUBQ $4, CX
	CMPQ CX, $4
	JGE v6loop4

v6tail:
	TESTQ CX, CX
	JE v6epi

v6loop1:
	ASTEP6
	DECQ CX
	JNZ v6loop1
	JMP v6epi

v6keep:
	CMPQ CX, $4
	JLT v6stail

v6sloop4:
	SSTEP6
	SSTEP6
	SSTEP6
	SSTEP6
	SUBQ $4, CX
	CMPQ CX, $4
	JGE v6sloop4

v6stail:
	TESTQ CX, CX
	JE v6epi

v6sloop1:
	SSTEP6
	DECQ CX
	JNZ v6sloop1
	JMP v6epi

v6packed:
	CMPQ CX, $4
	JLT v6ptail

v6ploop4:
	PSTEP6
	PSTEP6
	PSTEP6
	PSTEP6
	SUBQ $4, CX
	CMPQ CX, $4
	JGE v6ploop4

v6ptail:
	TESTQ CX, CX
	JE v6epi

v6ploop1:
	PSTEP6
	DECQ CX
	JNZ v6ploop1
	JMP v6epi

v6masked:
	MOVQ col+80(FP), BX
	NEGQ BX // the least offset inside b
	MOVQ blen+96(FP), DX
	ADDQ BX, DX
	SUBQ $16, DX // the greatest

v6checked:
	MOVQ (R10), AX
	MOVWQZX AX, R11
	SARQ $16, AX
	VMOVUPS (R13)(R11*1), Y0
	VMOVUPS 32(R13)(R11*1), Y1
	CMPQ AX, BX
	JLT v6fault
	CMPQ AX, DX
	JGT v6fault
	VANDPS (DI)(AX*4), Y0, Y0
	VANDPS 32(DI)(AX*4), Y1, Y1
	JMP v6fma

v6fault:
	VMASKMOVPS (DI)(AX*4), Y0, Y0
	VMASKMOVPS 32(DI)(AX*4), Y1, Y1

v6fma:
	TESTQ $flagStorePacked, R9
	JE v6nostore
	VMOVUPS Y0, (R8)
	VMOVUPS Y1, 32(R8)
	ADDQ $64, R8

v6nostore:
	FMAS6
	ADDQ $8, R10
	DECQ CX
	JNZ v6checked

v6epi:
	MOVQ R8, pack+120(FP)
	MOVQ R14, DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8
	MOVQ mr+48(FP), BX
	MOVQ bias+56(FP), AX
	MOVQ R15, R13

	TESTQ $2, R9
	JE v6nobias
	BIASROW(0, Y4, Y5)
	CMPQ BX, $1
	JE v6nobias
	BIASROW(4, Y6, Y7)
	CMPQ BX, $2
	JE v6nobias
	BIASROW(8, Y8, Y9)
	CMPQ BX, $3
	JE v6nobias
	BIASROW(12, Y10, Y11)
	CMPQ BX, $4
	JE v6nobias
	BIASROW(16, Y12, Y13)
	CMPQ BX, $5
	JE v6nobias
	BIASROW(20, Y14, Y15)

v6nobias:
	TESTQ $16, R9
	JE v6noadd
	MADDROW(Y4, Y5)
	CMPQ BX, $1
	JE v6noadd
	MADDROW(Y6, Y7)
	CMPQ BX, $2
	JE v6noadd
	MADDROW(Y8, Y9)
	CMPQ BX, $3
	JE v6noadd
	MADDROW(Y10, Y11)
	CMPQ BX, $4
	JE v6noadd
	MADDROW(Y12, Y13)
	CMPQ BX, $5
	JE v6noadd
	MADDROW(Y14, Y15)

v6noadd:
	TESTQ $4, R9
	JE v6store
	VXORPS Y2, Y2, Y2
	RELUROW(Y4, Y5)
	RELUROW(Y6, Y7)
	RELUROW(Y8, Y9)
	RELUROW(Y10, Y11)
	RELUROW(Y12, Y13)
	RELUROW(Y14, Y15)

v6store:
	STOREROW(Y4, Y5)
	DECQ BX
	JE v6next
	STOREROW(Y6, Y7)
	DECQ BX
	JE v6next
	STOREROW(Y8, Y9)
	DECQ BX
	JE v6next
	STOREROW(Y10, Y11)
	DECQ BX
	JE v6next
	STOREROW(Y12, Y13)
	DECQ BX
	JE v6next
	STOREROW(Y14, Y15)

v6next:
	DECQ blocks+104(FP)
	JE v6done
	TESTQ $flagPacked, R9
	JNE v6nextc // DI is at the next block's panel
	ADDQ $64, DI

v6nextc:
	ADDQ mstride+112(FP), R12
	ADDQ $64, R14
	ADDQ $64, R15
	JMP v6block

v6done:
	VZEROUPPER
	RET

// func kernel4x16M(k int, a *float32, b *float32, offs *int, c *float32, ldc int, mr int, bias *float32, flags int, masks *int32, col int, add *float32, blen int, blocks int, mstride int, pack *float32)
TEXT ·kernel4x16M(SB), NOSPLIT, $0-128
	MOVQ b+16(FP), DI
	MOVQ col+80(FP), AX
	LEAQ (DI)(AX*4), DI // B of the block
	MOVQ masks+72(FP), R12 // its masks
	MOVQ c+32(FP), R14 // its C
	MOVQ add+88(FP), R15 // its addend
	MOVQ flags+64(FP), R9

v4block:
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ offs+24(FP), R10
	MOVQ R12, R13
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	MOVQ pack+120(FP), R8 // where flagStorePacked stores (kept there between blocks)
	TESTQ $flagPacked, R9
	JNE v4packed
	TESTQ $flagFaultMasks, R9
	JNE v4masked
	TESTQ $flagStorePacked, R9
	JNE v4keep
	CMPQ CX, $4
	JLT v4tail

v4loop4:
	ASTEP4
	ASTEP4
	ASTEP4
	ASTEP4
	SUBQ $4, CX
	CMPQ CX, $4
	JGE v4loop4

v4tail:
	TESTQ CX, CX
	JE v4epi

v4loop1:
	ASTEP4
	DECQ CX
	JNZ v4loop1
	JMP v4epi

v4keep:
	CMPQ CX, $4
	JLT v4stail

v4sloop4:
	SSTEP4
	SSTEP4
	SSTEP4
	SSTEP4
	SUBQ $4, CX
	CMPQ CX, $4
	JGE v4sloop4

v4stail:
	TESTQ CX, CX
	JE v4epi

v4sloop1:
	SSTEP4
	DECQ CX
	JNZ v4sloop1
	JMP v4epi

v4packed:
	CMPQ CX, $4
	JLT v4ptail

v4ploop4:
	PSTEP4
	PSTEP4
	PSTEP4
	PSTEP4
	SUBQ $4, CX
	CMPQ CX, $4
	JGE v4ploop4

v4ptail:
	TESTQ CX, CX
	JE v4epi

v4ploop1:
	PSTEP4
	DECQ CX
	JNZ v4ploop1
	JMP v4epi

v4masked:
	MOVQ col+80(FP), BX
	NEGQ BX // the least offset inside b
	MOVQ blen+96(FP), DX
	ADDQ BX, DX
	SUBQ $16, DX // the greatest

v4checked:
	MOVQ (R10), AX
	MOVWQZX AX, R11
	SARQ $16, AX
	VMOVUPS (R13)(R11*1), Y0
	VMOVUPS 32(R13)(R11*1), Y1
	CMPQ AX, BX
	JLT v4fault
	CMPQ AX, DX
	JGT v4fault
	VANDPS (DI)(AX*4), Y0, Y0
	VANDPS 32(DI)(AX*4), Y1, Y1
	JMP v4fma

v4fault:
	VMASKMOVPS (DI)(AX*4), Y0, Y0
	VMASKMOVPS 32(DI)(AX*4), Y1, Y1

v4fma:
	TESTQ $flagStorePacked, R9
	JE v4nostore
	VMOVUPS Y0, (R8)
	VMOVUPS Y1, 32(R8)
	ADDQ $64, R8

v4nostore:
	FMAS4
	ADDQ $8, R10
	DECQ CX
	JNZ v4checked

v4epi:
	MOVQ R8, pack+120(FP)
	MOVQ R14, DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8
	MOVQ mr+48(FP), BX
	MOVQ bias+56(FP), AX
	MOVQ R15, R13

	TESTQ $2, R9
	JE v4nobias
	BIASROW(0, Y4, Y5)
	CMPQ BX, $1
	JE v4nobias
	BIASROW(4, Y6, Y7)
	CMPQ BX, $2
	JE v4nobias
	BIASROW(8, Y8, Y9)
	CMPQ BX, $3
	JE v4nobias
	BIASROW(12, Y10, Y11)

v4nobias:
	TESTQ $16, R9
	JE v4noadd
	MADDROW(Y4, Y5)
	CMPQ BX, $1
	JE v4noadd
	MADDROW(Y6, Y7)
	CMPQ BX, $2
	JE v4noadd
	MADDROW(Y8, Y9)
	CMPQ BX, $3
	JE v4noadd
	MADDROW(Y10, Y11)

v4noadd:
	TESTQ $4, R9
	JE v4store
	VXORPS Y2, Y2, Y2
	RELUROW(Y4, Y5)
	RELUROW(Y6, Y7)
	RELUROW(Y8, Y9)
	RELUROW(Y10, Y11)

v4store:
	STOREROW(Y4, Y5)
	DECQ BX
	JE v4next
	STOREROW(Y6, Y7)
	DECQ BX
	JE v4next
	STOREROW(Y8, Y9)
	DECQ BX
	JE v4next
	STOREROW(Y10, Y11)

v4next:
	DECQ blocks+104(FP)
	JE v4done
	TESTQ $flagPacked, R9
	JNE v4nextc // DI is at the next block's panel
	ADDQ $64, DI

v4nextc:
	ADDQ mstride+112(FP), R12
	ADDQ $64, R14
	ADDQ $64, R15
	JMP v4block

v4done:
	VZEROUPPER
	RET

