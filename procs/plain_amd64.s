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

// func plainLinesAVX2(b []byte, nl []uint64) bool
// The same rule on b (a multiple of 64 bytes long), 64 bytes a turn: c+1 >
// 0x20 (signed) holds exactly for 0x20 <= c <= 0x7e (0x7f+1 and every byte
// >= 0x80 plus one are negative, 0xff+1 is 0), or c is a tab or a newline.
// It also stores in nl[i] a bit for each of bytes 64i to 64i+63 that is a newline
// (bit k for byte 64i+k). Where b is not plain, nl is left part written.
TEXT ·plainLinesAVX2(SB), NOSPLIT, $0-49
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ nl_base+24(FP), DI
	MOVQ $0x2020202020202020, AX
	MOVQ AX, X1
	VPBROADCASTQ X1, Y1
	MOVQ $0x0101010101010101, AX
	MOVQ AX, X2
	VPBROADCASTQ X2, Y2
	MOVQ $0x0909090909090909, AX
	MOVQ AX, X3
	VPBROADCASTQ X3, Y3
	MOVQ $0x0a0a0a0a0a0a0a0a, AX
	MOVQ AX, X4
	VPBROADCASTQ X4, Y4

lines64:
	CMPQ CX, $64
	JB   linesyes
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y5
	VPCMPEQB Y4, Y0, Y9
	VPCMPEQB Y4, Y5, Y10
	VPADDB Y2, Y0, Y6
	VPCMPGTB Y1, Y6, Y6
	VPCMPEQB Y3, Y0, Y7
	VPOR Y7, Y6, Y6
	VPOR Y9, Y6, Y6
	VPADDB Y2, Y5, Y8
	VPCMPGTB Y1, Y8, Y8
	VPCMPEQB Y3, Y5, Y7
	VPOR Y7, Y8, Y8
	VPOR Y10, Y8, Y8
	VPAND Y8, Y6, Y6
	VPMOVMSKB Y6, AX
	CMPL AX, $0xffffffff
	JNE  linesno
	VPMOVMSKB Y9, AX
	VPMOVMSKB Y10, BX
	SHLQ $32, BX
	ORQ  BX, AX
	MOVQ AX, (DI)
	ADDQ $8, DI
	ADDQ $64, SI
	SUBQ $64, CX
	JMP  lines64

linesyes:
	VZEROUPPER
	MOVB $1, ret+48(FP)
	RET

linesno:
	VZEROUPPER
	MOVB $0, ret+48(FP)
	RET
