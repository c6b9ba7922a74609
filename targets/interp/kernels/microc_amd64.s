//go:build amd64 && !noasm

#include "textflag.h"

// Column kernels for the last 4 or fewer columns of a MulOffsets
// product (the 49th column of a 7×7 image, the last 4 of a 14×14 one) on
// AVX2: the tile transposed, a panel's rows in the lanes of a register
// and one register per column, so that a step is one load of the
// panel's A (its rows are consecutive), one broadcast of B per column
// and one FMA per column (two for 6 rows: rows 0-3 and 4-5), instead of
// the 8-column kernel's broadcast and FMA per row over 8 columns of
// which 7 may be wasted. Each sum is still one accumulator from +0 with
// the steps in order and the same FMA (acc += a·b), so the raw sums are
// bit for bit kernel6x8's; the caller adds the bias and clamps as
// those kernels do (colsStore). out[8t+r] receives row r of column t
// (rows 6 and 7 of a 6-row panel's are not results). B is read at offs[p] + t for
// t < 4 whatever the number of columns wanted. k must be positive.

// func kernel6x4C(k int, a *float32, b *float32, offs *int, out *float32)
TEXT ·kernel6x4C(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ offs+24(FP), R10
	VXORPS X0, X0, X0
	VXORPS X1, X1, X1
	VXORPS X2, X2, X2
	VXORPS X3, X3, X3
	VXORPS X4, X4, X4
	VXORPS X5, X5, X5
	VXORPS X6, X6, X6
	VXORPS X7, X7, X7

c6loop:
	MOVQ (R10), AX
	VMOVUPS (SI), X8
	VMOVSD 16(SI), X9
	VBROADCASTSS (DI)(AX*4), X10
	VBROADCASTSS 4(DI)(AX*4), X11
	VFMADD231PS X10, X8, X0
	VFMADD231PS X10, X9, X4
	VFMADD231PS X11, X8, X1
	VFMADD231PS X11, X9, X5
	VBROADCASTSS 8(DI)(AX*4), X10
	VBROADCASTSS 12(DI)(AX*4), X11
	VFMADD231PS X10, X8, X2
	VFMADD231PS X10, X9, X6
	VFMADD231PS X11, X8, X3
	VFMADD231PS X11, X9, X7
	ADDQ $24, SI
	ADDQ $8, R10
	DECQ CX
	JNZ c6loop

	MOVQ out+32(FP), DX
	VMOVUPS X0, (DX)
	VMOVUPS X4, 16(DX)
	VMOVUPS X1, 32(DX)
	VMOVUPS X5, 48(DX)
	VMOVUPS X2, 64(DX)
	VMOVUPS X6, 80(DX)
	VMOVUPS X3, 96(DX)
	VMOVUPS X7, 112(DX)
	VZEROUPPER
	RET

// func kernel4x4C(k int, a *float32, b *float32, offs *int, out *float32)
TEXT ·kernel4x4C(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ offs+24(FP), R10
	VXORPS X0, X0, X0
	VXORPS X1, X1, X1
	VXORPS X2, X2, X2
	VXORPS X3, X3, X3

c4loop:
	MOVQ (R10), AX
	VMOVUPS (SI), X8
	VBROADCASTSS (DI)(AX*4), X10
	VBROADCASTSS 4(DI)(AX*4), X11
	VFMADD231PS X10, X8, X0
	VFMADD231PS X11, X8, X1
	VBROADCASTSS 8(DI)(AX*4), X10
	VBROADCASTSS 12(DI)(AX*4), X11
	VFMADD231PS X10, X8, X2
	VFMADD231PS X11, X8, X3
	ADDQ $16, SI
	ADDQ $8, R10
	DECQ CX
	JNZ c4loop

	MOVQ out+32(FP), DX
	VMOVUPS X0, (DX)
	VMOVUPS X1, 32(DX)
	VMOVUPS X2, 64(DX)
	VMOVUPS X3, 96(DX)
	VZEROUPPER
	RET

// One column of four 6-row panels (pstride bytes apart in A): eight
// independent FMA chains (rows 0-3 and 4-5 of each panel), where one
// panel's column would be two chains bound by the FMA latency. out[8i+r]
// receives row r of panel i (rows 6 and 7 are not results). The sums
// are kernel6x4C's (the same FMA per step, in order).

// func kernel6x1P4(k int, a *float32, pstride int, b *float32, offs *int, out *float32)
TEXT ·kernel6x1P4(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ pstride+16(FP), R11
	LEAQ (R11)(R11*1), R12
	LEAQ (R12)(R11*1), R13
	MOVQ b+24(FP), DI
	MOVQ offs+32(FP), R10
	VXORPS X0, X0, X0
	VXORPS X1, X1, X1
	VXORPS X2, X2, X2
	VXORPS X3, X3, X3
	VXORPS X4, X4, X4
	VXORPS X5, X5, X5
	VXORPS X6, X6, X6
	VXORPS X7, X7, X7

p4loop:
	MOVQ (R10), AX
	VBROADCASTSS (DI)(AX*4), X15
	VMOVUPS (SI), X8
	VMOVSD 16(SI), X9
	VMOVUPS (SI)(R11*1), X10
	VMOVSD 16(SI)(R11*1), X11
	VFMADD231PS X15, X8, X0
	VFMADD231PS X15, X9, X4
	VFMADD231PS X15, X10, X1
	VFMADD231PS X15, X11, X5
	VMOVUPS (SI)(R12*1), X12
	VMOVSD 16(SI)(R12*1), X13
	VMOVUPS (SI)(R13*1), X8
	VMOVSD 16(SI)(R13*1), X9
	VFMADD231PS X15, X12, X2
	VFMADD231PS X15, X13, X6
	VFMADD231PS X15, X8, X3
	VFMADD231PS X15, X9, X7
	ADDQ $24, SI
	ADDQ $8, R10
	DECQ CX
	JNZ p4loop

	MOVQ out+40(FP), DX
	VMOVUPS X0, (DX)
	VMOVUPS X4, 16(DX)
	VMOVUPS X1, 32(DX)
	VMOVUPS X5, 48(DX)
	VMOVUPS X2, 64(DX)
	VMOVUPS X6, 80(DX)
	VMOVUPS X3, 96(DX)
	VMOVUPS X7, 112(DX)
	VZEROUPPER
	RET
