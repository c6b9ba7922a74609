// Macros shared by the 6×16 and 4×16 float micro-kernels (micro_amd64.s,
// micron_amd64.s, microv_amd64.s), so that the tiles' sums and stores
// are the same instructions in every kernel. Registers: Y4..Y15 hold the
// tile (two per row), Y0/Y1 the current row of B, Y2/Y3 broadcast
// elements of A.

// FMAS6 and FMAS4: the FMAs of one k step of a 6- or 4-row tile: the
// two registers of B in Y0 and Y1, the panel's 6 (or 4) values of A at SI
// broadcast, one accumulator per tile element (Y4-Y15, or Y4-Y11), SI
// moved to the next step's.

// FMAROWS4 is the first four rows' FMAs, without moving SI.
#define FMAROWS4 \
	VBROADCASTSS (SI), Y2 \
	VBROADCASTSS 4(SI), Y3 \
	VFMADD231PS Y0, Y2, Y4 \
	VFMADD231PS Y1, Y2, Y5 \
	VFMADD231PS Y0, Y3, Y6 \
	VFMADD231PS Y1, Y3, Y7 \
	VBROADCASTSS 8(SI), Y2 \
	VBROADCASTSS 12(SI), Y3 \
	VFMADD231PS Y0, Y2, Y8 \
	VFMADD231PS Y1, Y2, Y9 \
	VFMADD231PS Y0, Y3, Y10 \
	VFMADD231PS Y1, Y3, Y11

#define FMAS6 \
	FMAROWS4 \
	VBROADCASTSS 16(SI), Y2 \
	VBROADCASTSS 20(SI), Y3 \
	VFMADD231PS Y0, Y2, Y12 \
	VFMADD231PS Y1, Y2, Y13 \
	VFMADD231PS Y0, Y3, Y14 \
	VFMADD231PS Y1, Y3, Y15 \
	ADDQ $24, SI

#define FMAS4 \
	FMAROWS4 \
	ADDQ $16, SI

// One k step of the 6-row kernel: B row at DI + 4*(R10), A at SI.
#define STEP6 \
	MOVQ         (R10), AX      \
	VMOVUPS      (DI)(AX*4), Y0 \
	VMOVUPS      32(DI)(AX*4), Y1 \
	FMAS6 \
	ADDQ         $8, R10

#define STEP4 \
	MOVQ         (R10), AX      \
	VMOVUPS      (DI)(AX*4), Y0 \
	VMOVUPS      32(DI)(AX*4), Y1 \
	FMAS4 \
	ADDQ         $8, R10

// Row operations of the epilogue. DX walks the rows of C (stride R8
// bytes), R12 counts the rows left, AX points at the bias.
#define ACCROW(ya, yb) \
	VADDPS (DX), ya, ya   \
	VADDPS 32(DX), yb, yb \
	ADDQ   R8, DX

#define BIASROW(off, ya, yb) \
	VBROADCASTSS off(AX), Y2 \
	VADDPS       Y2, ya, ya  \
	VADDPS       Y2, yb, yb

#define RELUROW(ya, yb) \
	VMAXPS ya, Y2, ya \
	VMAXPS yb, Y2, yb

#define STOREROW(ya, yb) \
	VMOVUPS ya, (DX)   \
	VMOVUPS yb, 32(DX) \
	ADDQ    R8, DX
