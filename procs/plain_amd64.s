#include "textflag.h"

// func plainBlock16(b []byte) bool
// Each byte c must be 0x20 <= c <= 0x7e (signed: c > 0x1f and 0x7f > c, so
// bytes >= 0x80, negative, fail), or a tab, or a newline.
TEXT ·plainBlock16(SB), NOSPLIT, $0-25
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVL $0x1f1f1f1f, AX
	MOVL AX, X1
	PSHUFD $0, X1, X1
	MOVL $0x7f7f7f7f, AX
	MOVL AX, X2
	PSHUFD $0, X2, X2
	MOVL $0x09090909, AX
	MOVL AX, X3
	PSHUFD $0, X3, X3
	MOVL $0x0a0a0a0a, AX
	MOVL AX, X4
	PSHUFD $0, X4, X4

loop:
	CMPQ CX, $16
	JB   yes
	MOVOU (SI), X0
	MOVO X0, X5
	PCMPGTB X1, X5 // c > 0x1f
	MOVO X2, X6
	PCMPGTB X0, X6 // 0x7f > c
	PAND X6, X5
	MOVO X0, X7
	PCMPEQB X3, X7 // tab
	POR X7, X5
	PCMPEQB X4, X0 // newline
	POR X0, X5
	PMOVMSKB X5, AX
	CMPL AX, $0xffff
	JNE  no
	ADDQ $16, SI
	SUBQ $16, CX
	JMP  loop

yes:
	MOVB $1, ret+24(FP)
	RET

no:
	MOVB $0, ret+24(FP)
	RET
