//go:build amd64 && !noasm

#include "textflag.h"
#include "dw3_amd64.h"

// func dws1AVX2(w *float32, b *float32, c *float32, bias *float32, chans int, inStride int, ld int, rows *int, oh int, ow int, blocks int, masks *int32, zero *float32, padL int, store *int32, osize int)
//
// Depthwise3x3's stride-1 kernel over chans channels (planes inStride
// floats apart in b, 0 for one input plane for all, outputs ld apart
// in c, 9 weights and one bias each): for each block of 8 outputs of a
// row, from the last block to the first, four output rows at a time,
// the six input rows they read go in order (rows holds the offset of
// each input row from the first output row's top one, -1 for padding,
// which reads zero); each kernel column's 8 inputs of a row, one load,
// are added with one FMA to each of the up to three output rows that
// read that row there, whose sums start at the bias. An output's taps
// arrive in tap order (by input row, then by kernel column), so each
// sum is Depthwise's over ConvLayout's buffer, bit for bit; a load
// serves three FMAs instead of one. In blocks with inputs outside the
// image (masks: three column masks and a flag, 32 int32 a block) each
// load is ANDed with its column mask. A block's store may run past its
// row into the next one, which is written later (the blocks go from
// last to first, the rows in order); a store that would run past the
// plane (osize outputs) is masked with store instead.
//
// Registers: SI the channel's plane, DI its outputs, R14 its weights,
// R13 its bias, R15 the channels left, DX the block's first output (8
// times the block), R12 its masks, BX its byte offset in a row
// (4·(8·block-padL)), CX the first row of the group, R11 the group's
// entries of rows, R9 the zero row; Y7-Y15 the weights (tap t in
// Y(7+t)), Y2-Y5 the sums of four rows, Y6 the bias.

TEXT ·dws1AVX2(SB), NOSPLIT, $0-128
	MOVQ    w+0(FP), R14
	MOVQ    b+8(FP), SI
	MOVQ    c+16(FP), DI
	MOVQ    bias+24(FP), R13
	MOVQ    chans+32(FP), R15
	MOVQ    zero+96(FP), R9

channel:
	VBROADCASTSS (R13), Y6
	VBROADCASTSS 0(R14), Y7
	VBROADCASTSS 4(R14), Y8
	VBROADCASTSS 8(R14), Y9
	VBROADCASTSS 12(R14), Y10
	VBROADCASTSS 16(R14), Y11
	VBROADCASTSS 20(R14), Y12
	VBROADCASTSS 24(R14), Y13
	VBROADCASTSS 28(R14), Y14
	VBROADCASTSS 32(R14), Y15
	MOVQ         blocks+80(FP), DX
	SHLQ         $3, DX

block:
	SUBQ  $8, DX
	MOVQ  DX, R12
	SHLQ  $4, R12
	ADDQ  masks+88(FP), R12 // masks + 128·block
	MOVQ  DX, BX
	SUBQ  padL+104(FP), BX
	SHLQ  $2, BX
	MOVQ  rows+56(FP), R11
	XORQ  CX, CX

group:
	VMOVAPS Y6, Y2
	VMOVAPS Y6, Y3
	VMOVAPS Y6, Y4
	VMOVAPS Y6, Y5
	CMPL 96(R12), $0
	JNE  masked
	ROW(0)
	VMOVUPS 0(R8)(BX*1), Y0
	VFMADD231PS Y7, Y0, Y2
	VMOVUPS 4(R8)(BX*1), Y1
	VFMADD231PS Y8, Y1, Y2
	VMOVUPS 8(R8)(BX*1), Y0
	VFMADD231PS Y9, Y0, Y2
	ROW(8)
	VMOVUPS 0(R8)(BX*1), Y0
	VFMADD231PS Y7, Y0, Y3
	VFMADD231PS Y10, Y0, Y2
	VMOVUPS 4(R8)(BX*1), Y1
	VFMADD231PS Y8, Y1, Y3
	VFMADD231PS Y11, Y1, Y2
	VMOVUPS 8(R8)(BX*1), Y0
	VFMADD231PS Y9, Y0, Y3
	VFMADD231PS Y12, Y0, Y2
	ROW(16)
	VMOVUPS 0(R8)(BX*1), Y0
	VFMADD231PS Y7, Y0, Y4
	VFMADD231PS Y10, Y0, Y3
	VFMADD231PS Y13, Y0, Y2
	VMOVUPS 4(R8)(BX*1), Y1
	VFMADD231PS Y8, Y1, Y4
	VFMADD231PS Y11, Y1, Y3
	VFMADD231PS Y14, Y1, Y2
	VMOVUPS 8(R8)(BX*1), Y0
	VFMADD231PS Y9, Y0, Y4
	VFMADD231PS Y12, Y0, Y3
	VFMADD231PS Y15, Y0, Y2
	ROW(24)
	VMOVUPS 0(R8)(BX*1), Y0
	VFMADD231PS Y7, Y0, Y5
	VFMADD231PS Y10, Y0, Y4
	VFMADD231PS Y13, Y0, Y3
	VMOVUPS 4(R8)(BX*1), Y1
	VFMADD231PS Y8, Y1, Y5
	VFMADD231PS Y11, Y1, Y4
	VFMADD231PS Y14, Y1, Y3
	VMOVUPS 8(R8)(BX*1), Y0
	VFMADD231PS Y9, Y0, Y5
	VFMADD231PS Y12, Y0, Y4
	VFMADD231PS Y15, Y0, Y3
	ROW(32)
	VMOVUPS 0(R8)(BX*1), Y0
	VFMADD231PS Y10, Y0, Y5
	VFMADD231PS Y13, Y0, Y4
	VMOVUPS 4(R8)(BX*1), Y1
	VFMADD231PS Y11, Y1, Y5
	VFMADD231PS Y14, Y1, Y4
	VMOVUPS 8(R8)(BX*1), Y0
	VFMADD231PS Y12, Y0, Y5
	VFMADD231PS Y15, Y0, Y4
	ROW(40)
	VMOVUPS 0(R8)(BX*1), Y0
	VFMADD231PS Y13, Y0, Y5
	VMOVUPS 4(R8)(BX*1), Y1
	VFMADD231PS Y14, Y1, Y5
	VMOVUPS 8(R8)(BX*1), Y0
	VFMADD231PS Y15, Y0, Y5
	JMP stores

masked:
	ROW(0)
	VMOVUPS 0(R8)(BX*1), Y0
	VANDPS  0(R12), Y0, Y0
	VFMADD231PS Y7, Y0, Y2
	VMOVUPS 4(R8)(BX*1), Y1
	VANDPS  32(R12), Y1, Y1
	VFMADD231PS Y8, Y1, Y2
	VMOVUPS 8(R8)(BX*1), Y0
	VANDPS  64(R12), Y0, Y0
	VFMADD231PS Y9, Y0, Y2
	ROW(8)
	VMOVUPS 0(R8)(BX*1), Y0
	VANDPS  0(R12), Y0, Y0
	VFMADD231PS Y7, Y0, Y3
	VFMADD231PS Y10, Y0, Y2
	VMOVUPS 4(R8)(BX*1), Y1
	VANDPS  32(R12), Y1, Y1
	VFMADD231PS Y8, Y1, Y3
	VFMADD231PS Y11, Y1, Y2
	VMOVUPS 8(R8)(BX*1), Y0
	VANDPS  64(R12), Y0, Y0
	VFMADD231PS Y9, Y0, Y3
	VFMADD231PS Y12, Y0, Y2
	ROW(16)
	VMOVUPS 0(R8)(BX*1), Y0
	VANDPS  0(R12), Y0, Y0
	VFMADD231PS Y7, Y0, Y4
	VFMADD231PS Y10, Y0, Y3
	VFMADD231PS Y13, Y0, Y2
	VMOVUPS 4(R8)(BX*1), Y1
	VANDPS  32(R12), Y1, Y1
	VFMADD231PS Y8, Y1, Y4
	VFMADD231PS Y11, Y1, Y3
	VFMADD231PS Y14, Y1, Y2
	VMOVUPS 8(R8)(BX*1), Y0
	VANDPS  64(R12), Y0, Y0
	VFMADD231PS Y9, Y0, Y4
	VFMADD231PS Y12, Y0, Y3
	VFMADD231PS Y15, Y0, Y2
	ROW(24)
	VMOVUPS 0(R8)(BX*1), Y0
	VANDPS  0(R12), Y0, Y0
	VFMADD231PS Y7, Y0, Y5
	VFMADD231PS Y10, Y0, Y4
	VFMADD231PS Y13, Y0, Y3
	VMOVUPS 4(R8)(BX*1), Y1
	VANDPS  32(R12), Y1, Y1
	VFMADD231PS Y8, Y1, Y5
	VFMADD231PS Y11, Y1, Y4
	VFMADD231PS Y14, Y1, Y3
	VMOVUPS 8(R8)(BX*1), Y0
	VANDPS  64(R12), Y0, Y0
	VFMADD231PS Y9, Y0, Y5
	VFMADD231PS Y12, Y0, Y4
	VFMADD231PS Y15, Y0, Y3
	ROW(32)
	VMOVUPS 0(R8)(BX*1), Y0
	VANDPS  0(R12), Y0, Y0
	VFMADD231PS Y10, Y0, Y5
	VFMADD231PS Y13, Y0, Y4
	VMOVUPS 4(R8)(BX*1), Y1
	VANDPS  32(R12), Y1, Y1
	VFMADD231PS Y11, Y1, Y5
	VFMADD231PS Y14, Y1, Y4
	VMOVUPS 8(R8)(BX*1), Y0
	VANDPS  64(R12), Y0, Y0
	VFMADD231PS Y12, Y0, Y5
	VFMADD231PS Y15, Y0, Y4
	ROW(40)
	VMOVUPS 0(R8)(BX*1), Y0
	VANDPS  0(R12), Y0, Y0
	VFMADD231PS Y13, Y0, Y5
	VMOVUPS 4(R8)(BX*1), Y1
	VANDPS  32(R12), Y1, Y1
	VFMADD231PS Y14, Y1, Y5
	VMOVUPS 8(R8)(BX*1), Y0
	VANDPS  64(R12), Y0, Y0
	VFMADD231PS Y15, Y0, Y5

stores:
	// A full group whose last store stays inside the plane stores
	// without checks.
	FULL(3, partial)
	FSTORE(Y2)
	FSTORE(Y3)
	FSTORE(Y4)
	FSTORE(Y5)
	JMP next

partial:
	STORE(0, Y2, masked0, skip0)
	STORE(1, Y3, masked1, skip1)
	STORE(2, Y4, masked2, skip2)
	STORE(3, Y5, masked3, skip3)

next:
	NEXTGROUP(4, 32, group, block)
	NEXTCHANNEL(channel)
	VZEROUPPER
	RET
