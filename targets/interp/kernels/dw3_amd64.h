// Macros shared by Depthwise3x3's kernels (dws1_amd64.s, dws2_amd64.s),
// whose registers they use: SI the channel's plane, DI its outputs, DX
// the block's first output, CX the first row of the group, R11 the
// group's entries of rows, R9 the zero row; AX, R8 and R10 are scratch.

// ROW sets R8 to the input row of the entry of rows at off(R11), or to
// the zero row.
#define ROW(off) \
	MOVQ    off(R11), AX \
	LEAQ    (SI)(AX*4), R8 \
	TESTQ   AX, AX \
	CMOVQLT R9, R8

// FULL jumps to partial unless rows CX to CX+last are all the plane's
// and the last one's store stays inside the plane; else it sets R10 to
// the block in row CX and AX to the rows' stride in bytes, for FSTORE.
#define FULL(last, partial) \
	LEAQ  last(CX), AX \
	CMPQ  AX, oh+64(FP) \
	JGE   partial \
	IMULQ ow+72(FP), AX \
	ADDQ  DX, AX \
	ADDQ  $8, AX \
	CMPQ  AX, osize+120(FP) \
	JGT   partial \
	MOVQ  CX, R10 \
	IMULQ ow+72(FP), R10 \
	ADDQ  DX, R10 \
	LEAQ  (DI)(R10*4), R10 \
	MOVQ  ow+72(FP), AX \
	SHLQ  $2, AX

// FSTORE stores the sums acc of the next row of a full group at R10.
#define FSTORE(acc) \
	VMOVUPS acc, (R10) \
	ADDQ    AX, R10

// STORE stores the sums acc of row CX+i of the group, if it is one of
// the plane's, masking the store that would run past the plane.
#define STORE(i, acc, masked, skip) \
	LEAQ       i(CX), AX \
	CMPQ       AX, oh+64(FP) \
	JGE        skip \
	IMULQ      ow+72(FP), AX \
	ADDQ       DX, AX \
	LEAQ       8(AX), R8 \
	CMPQ       R8, osize+120(FP) \
	JGT        masked \
	VMOVUPS    acc, (DI)(AX*4) \
	JMP        skip \
masked: \
	MOVQ       store+112(FP), R8 \
	VMOVUPS    (R8), Y0 \
	VMASKMOVPS acc, Y0, (DI)(AX*4) \
skip:

// NEXTGROUP goes on to the next group of rows rows (entries bytes of
// rows on), then the next block; NEXTCHANNEL to the next channel (R14
// its weights, R13 its bias, R15 the channels left).
#define NEXTGROUP(rows, entries, group, block) \
	ADDQ  $rows, CX \
	ADDQ  $entries, R11 \
	CMPQ  CX, oh+64(FP) \
	JLT   group \
	TESTQ DX, DX \
	JNE   block

#define NEXTCHANNEL(channel) \
	MOVQ inStride+40(FP), AX \
	LEAQ (SI)(AX*4), SI \
	MOVQ ld+48(FP), AX \
	LEAQ (DI)(AX*4), DI \
	ADDQ $36, R14 \
	ADDQ $4, R13 \
	DECQ R15 \
	JNE  channel
