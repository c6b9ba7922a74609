//go:build amd64 && !noasm

#include "textflag.h"

// func roundHalfF16C(v *float32, n int)
// v[i] = float32(half(v[i])) for i < n, a multiple of 8: VCVTPS2PH with
// round-to-nearest-even (imm 0), then back with VCVTPH2PS.
TEXT ·roundHalfF16C(SB), NOSPLIT, $0-16
	MOVQ v+0(FP), DI
	MOVQ n+8(FP), CX
	XORQ AX, AX

loop:
	CMPQ      AX, CX
	JGE       done
	VMOVUPS   (DI)(AX*4), Y0
	VCVTPS2PH $0, Y0, X1
	VCVTPH2PS X1, Y0
	VMOVUPS   Y0, (DI)(AX*4)
	ADDQ      $8, AX
	JMP       loop

done:
	VZEROUPPER
	RET
