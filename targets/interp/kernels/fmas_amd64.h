// FMAS6 and FMAS4: the FMAs of one k step of the 6×16 and 4×16 float
// micro-kernels (micro_amd64.s, micron_amd64.s, microv_amd64.s), shared
// so that the tiles' sums are the same instructions in every kernel: the
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
