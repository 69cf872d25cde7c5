#include "textflag.h"

// func lines(p *byte, n int) int
TEXT ·lines(SB), NOSPLIT|NOFRAME, $0-24
	MOVD p+0(FP), R0
	MOVD n+8(FP), R1
	ADD R0, R1, R1
	SUB $1, R1, R1 // last byte
	AND $~63, R0, R0
	MOVD $0, R2
loop:
	PRFM (R0), PLDL1KEEP
	ADD $1, R2, R2
	ADD $64, R0, R0
	CMP R1, R0
	BLS loop
	MOVD R2, ret+16(FP)
	RET
