//go:build amd64 && !noasm

#include "textflag.h"
#include "dw3_amd64.h"

// func dws2AVX2(w *float32, b *float32, c *float32, bias *float32, chans int, inStride int, ld int, rows *int, oh int, ow int, blocks int, masks *int32, zero *float32, padL int, store *int32, osize int)
//
// Depthwise3x3's stride-2 kernel over chans channels (planes inStride
// floats apart in b, outputs ld apart in c, 9 weights and one bias each): for
// each block of 8 outputs of a row, from the last block to the first,
// eight output rows at a time (rows holds three input row offsets per
// output row, -1 for padding, which reads zero), each kernel row loads
// 16 floats from 2·(first output)-padL and 16 more two floats on: the
// even elements of the first are kernel column 0, its odd ones column 1,
// the even ones of the second column 2, each added with one FMA to the
// sums, which start at the bias. In blocks with inputs outside the image
// (masks: three column masks and a flag, 32 int32 a block) each is ANDed
// with its column mask first. The sums' lanes hold outputs 0, 1, 4, 5,
// 2, 3, 6, 7 (VSHUFPS works within 128-bit halves); VPERMPD puts them in
// order before the store. A block's store may run past its row into the
// next one, which is written later (the blocks go from last to first,
// the rows in order); a store that would run past the plane (osize
// outputs) is masked with store instead. Each output's sum is a chain
// of nine FMAs; the eight rows of a group are eight chains in flight.
//
// Registers: SI the channel's plane, DI its outputs, R14 its weights,
// R13 its bias, R15 the channels left, DX the block's first output (8
// times the block), R12 its masks, BX its byte offset in a row
// (4·(16·block-padL)), CX the first row of the group, R11 the group's
// entries of rows, R9 the zero row; Y12-Y14 a kernel row's weights,
// Y4-Y11 the sums of eight rows, Y15 the bias.

// ITEM adds one kernel row (its entry of rows at off(R11)) to the sums
// acc of one output row; MITEM masks its inputs.
#define ITEM(off, acc) \
	ROW(off) \
	VMOVUPS     (R8)(BX*1), Y0 \
	VMOVUPS     32(R8)(BX*1), Y1 \
	VSHUFPS     $0x88, Y1, Y0, Y2 \
	VSHUFPS     $0xDD, Y1, Y0, Y3 \
	VFMADD231PS Y12, Y2, acc \
	VFMADD231PS Y13, Y3, acc \
	VMOVUPS     8(R8)(BX*1), Y0 \
	VMOVUPS     40(R8)(BX*1), Y1 \
	VSHUFPS     $0x88, Y1, Y0, Y2 \
	VFMADD231PS Y14, Y2, acc

#define MITEM(off, acc) \
	ROW(off) \
	VMOVUPS     (R8)(BX*1), Y0 \
	VMOVUPS     32(R8)(BX*1), Y1 \
	VSHUFPS     $0x88, Y1, Y0, Y2 \
	VSHUFPS     $0xDD, Y1, Y0, Y3 \
	VANDPS      (R12), Y2, Y2 \
	VANDPS      32(R12), Y3, Y3 \
	VFMADD231PS Y12, Y2, acc \
	VFMADD231PS Y13, Y3, acc \
	VMOVUPS     8(R8)(BX*1), Y0 \
	VMOVUPS     40(R8)(BX*1), Y1 \
	VSHUFPS     $0x88, Y1, Y0, Y2 \
	VANDPS      64(R12), Y2, Y2 \
	VFMADD231PS Y14, Y2, acc

// WEIGHTS broadcasts kernel row ky's weights.
#define WEIGHTS(ky) \
	VBROADCASTSS (ky*12)(R14), Y12 \
	VBROADCASTSS (ky*12+4)(R14), Y13 \
	VBROADCASTSS (ky*12+8)(R14), Y14

TEXT ·dws2AVX2(SB), NOSPLIT, $0-128
	MOVQ    w+0(FP), R14
	MOVQ    b+8(FP), SI
	MOVQ    c+16(FP), DI
	MOVQ    bias+24(FP), R13
	MOVQ    chans+32(FP), R15
	MOVQ    zero+96(FP), R9

channel:
	VBROADCASTSS (R13), Y15
	MOVQ         blocks+80(FP), DX
	SHLQ         $3, DX

block:
	SUBQ  $8, DX
	MOVQ  DX, R12
	SHLQ  $4, R12
	ADDQ  masks+88(FP), R12 // masks + 128·block
	LEAQ  (DX)(DX*1), BX
	SUBQ  padL+104(FP), BX
	SHLQ  $2, BX
	MOVQ  rows+56(FP), R11
	XORQ  CX, CX

group:
	VMOVAPS Y15, Y4
	VMOVAPS Y15, Y5
	VMOVAPS Y15, Y6
	VMOVAPS Y15, Y7
	VMOVAPS Y15, Y8
	VMOVAPS Y15, Y9
	VMOVAPS Y15, Y10
	VMOVAPS Y15, Y11
	CMPL 96(R12), $0
	JNE  masked
	WEIGHTS(0)
	ITEM(0, Y4)
	ITEM(24, Y5)
	ITEM(48, Y6)
	ITEM(72, Y7)
	ITEM(96, Y8)
	ITEM(120, Y9)
	ITEM(144, Y10)
	ITEM(168, Y11)
	WEIGHTS(1)
	ITEM(8, Y4)
	ITEM(32, Y5)
	ITEM(56, Y6)
	ITEM(80, Y7)
	ITEM(104, Y8)
	ITEM(128, Y9)
	ITEM(152, Y10)
	ITEM(176, Y11)
	WEIGHTS(2)
	ITEM(16, Y4)
	ITEM(40, Y5)
	ITEM(64, Y6)
	ITEM(88, Y7)
	ITEM(112, Y8)
	ITEM(136, Y9)
	ITEM(160, Y10)
	ITEM(184, Y11)
	JMP stores

masked:
	WEIGHTS(0)
	MITEM(0, Y4)
	MITEM(24, Y5)
	MITEM(48, Y6)
	MITEM(72, Y7)
	MITEM(96, Y8)
	MITEM(120, Y9)
	MITEM(144, Y10)
	MITEM(168, Y11)
	WEIGHTS(1)
	MITEM(8, Y4)
	MITEM(32, Y5)
	MITEM(56, Y6)
	MITEM(80, Y7)
	MITEM(104, Y8)
	MITEM(128, Y9)
	MITEM(152, Y10)
	MITEM(176, Y11)
	WEIGHTS(2)
	MITEM(16, Y4)
	MITEM(40, Y5)
	MITEM(64, Y6)
	MITEM(88, Y7)
	MITEM(112, Y8)
	MITEM(136, Y9)
	MITEM(160, Y10)
	MITEM(184, Y11)

stores:
	VPERMPD $0xD8, Y4, Y4
	VPERMPD $0xD8, Y5, Y5
	VPERMPD $0xD8, Y6, Y6
	VPERMPD $0xD8, Y7, Y7
	VPERMPD $0xD8, Y8, Y8
	VPERMPD $0xD8, Y9, Y9
	VPERMPD $0xD8, Y10, Y10
	VPERMPD $0xD8, Y11, Y11
	// A full group whose last store stays inside the plane stores
	// without checks.
	FULL(7, partial)
	FSTORE(Y4)
	FSTORE(Y5)
	FSTORE(Y6)
	FSTORE(Y7)
	FSTORE(Y8)
	FSTORE(Y9)
	FSTORE(Y10)
	FSTORE(Y11)
	JMP next

partial:
	STORE(0, Y4, masked0, skip0)
	STORE(1, Y5, masked1, skip1)
	STORE(2, Y6, masked2, skip2)
	STORE(3, Y7, masked3, skip3)
	STORE(4, Y8, masked4, skip4)
	STORE(5, Y9, masked5, skip5)
	STORE(6, Y10, masked6, skip6)
	STORE(7, Y11, masked7, skip7)

next:
	NEXTGROUP(8, 192, group, block)
	NEXTCHANNEL(channel)
	VZEROUPPER
	RET
