#include "textflag.h"

// func lines(p *byte, n int) int
TEXT ·lines(SB), NOSPLIT|NOFRAME, $0-24
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	LEAQ -1(AX)(CX*1), CX // last byte
	ANDQ $~63, AX
	XORQ DX, DX
loop:
	PREFETCHT0 (AX)
	INCQ DX
	ADDQ $64, AX
	CMPQ AX, CX
	JLS loop
	MOVQ DX, ret+16(FP)
	RET
