//go:build amd64 && !noasm

#include "textflag.h"

// func qTileT8AVX2(dst *uint8, ldd int, tile *uint8, blocks int)
// For each block b of 8 rows of 16 levels (tile + 128·b), writes level
// i of rows 0..7 as 8 bytes to dst + i·ldd + 8·b: an 8×16 byte
// transposition by unpacks (bytes of row pairs, then words of row
// quads, then dwords of all 8 rows), each channel's 8 bytes ending in
// one qword.
TEXT ·qTileT8AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), DX
	MOVQ tile+16(FP), SI
	MOVQ blocks+24(FP), CX

tloop:
	TESTQ CX, CX
	JZ    tdone
	VMOVDQU 0(SI), X0
	VMOVDQU 16(SI), X1
	VMOVDQU 32(SI), X2
	VMOVDQU 48(SI), X3
	VMOVDQU 64(SI), X4
	VMOVDQU 80(SI), X5
	VMOVDQU 96(SI), X6
	VMOVDQU 112(SI), X7
	VPUNPCKLBW X1, X0, X8
	VPUNPCKHBW X1, X0, X9
	VPUNPCKLBW X3, X2, X10
	VPUNPCKHBW X3, X2, X11
	VPUNPCKLBW X5, X4, X12
	VPUNPCKHBW X5, X4, X13
	VPUNPCKLBW X7, X6, X14
	VPUNPCKHBW X7, X6, X15
	VPUNPCKLWD X10, X8, X0
	VPUNPCKHWD X10, X8, X1
	VPUNPCKLWD X14, X12, X2
	VPUNPCKHWD X14, X12, X3
	VPUNPCKLWD X11, X9, X4
	VPUNPCKHWD X11, X9, X5
	VPUNPCKLWD X15, X13, X6
	VPUNPCKHWD X15, X13, X7
	VPUNPCKLDQ X2, X0, X8
	VPUNPCKHDQ X2, X0, X9
	VPUNPCKLDQ X3, X1, X10
	VPUNPCKHDQ X3, X1, X11
	VPUNPCKLDQ X6, X4, X12
	VPUNPCKHDQ X6, X4, X13
	VPUNPCKLDQ X7, X5, X14
	VPUNPCKHDQ X7, X5, X15
	MOVQ    DI, R9
	VMOVQ   X8, (R9)
	VMOVHPS X8, (R9)(DX*1)
	LEAQ    (R9)(DX*2), R9
	VMOVQ   X9, (R9)
	VMOVHPS X9, (R9)(DX*1)
	LEAQ    (R9)(DX*2), R9
	VMOVQ   X10, (R9)
	VMOVHPS X10, (R9)(DX*1)
	LEAQ    (R9)(DX*2), R9
	VMOVQ   X11, (R9)
	VMOVHPS X11, (R9)(DX*1)
	LEAQ    (R9)(DX*2), R9
	VMOVQ   X12, (R9)
	VMOVHPS X12, (R9)(DX*1)
	LEAQ    (R9)(DX*2), R9
	VMOVQ   X13, (R9)
	VMOVHPS X13, (R9)(DX*1)
	LEAQ    (R9)(DX*2), R9
	VMOVQ   X14, (R9)
	VMOVHPS X14, (R9)(DX*1)
	LEAQ    (R9)(DX*2), R9
	VMOVQ   X15, (R9)
	VMOVHPS X15, (R9)(DX*1)
	ADDQ    $128, SI
	ADDQ    $8, DI
	DECQ    CX
	JMP     tloop

tdone:
	VZEROUPPER
	RET
