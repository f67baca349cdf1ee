//go:build amd64 && !purego

#include "textflag.h"

// func splitmixBounded32(out *int32, n int, states *[8]uint64, lo int64, span uint64)
//
// Eight SplitMix64 generators in the lanes of Z0, each advanced by 8*gamma
// per step: lane k of step j holds the state of value 8j+k. Each value is
// mixed as splitmix does, scaled into [0, span) by the high half of its
// product with span (from the 32-bit halves: VPMULUDQ multiplies the low
// 32 bits of each lane), offset by lo and stored as int32.
TEXT ·splitmixBounded32(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ states+16(FP), SI
	MOVQ lo+24(FP), AX
	MOVQ span+32(FP), BX
	VMOVDQU64 (SI), Z0
	VPBROADCASTQ AX, Z10
	VPBROADCASTQ BX, Z11
	MOVQ $-7046029254386353131, R8 // gamma, 0x9E3779B97F4A7C15
	SHLQ $3, R8
	VPBROADCASTQ R8, Z12
	MOVQ $-4658895280553007687, R8 // 0xBF58476D1CE4E5B9
	VPBROADCASTQ R8, Z13
	MOVQ $-7723592293110705685, R8 // 0x94D049BB133111EB
	VPBROADCASTQ R8, Z14

loop:
	CMPQ CX, $8
	JLT  done
	// z = splitmix(state)
	VPSRLQ  $30, Z0, Z1
	VPXORQ  Z0, Z1, Z1
	VPMULLQ Z13, Z1, Z1
	VPSRLQ  $27, Z1, Z2
	VPXORQ  Z1, Z2, Z1
	VPMULLQ Z14, Z1, Z1
	VPSRLQ  $31, Z1, Z2
	VPXORQ  Z1, Z2, Z1
	// hi = (hi32(z)*span + (lo32(z)*span)>>32) >> 32
	VPMULUDQ Z11, Z1, Z2
	VPSRLQ   $32, Z2, Z2
	VPSRLQ   $32, Z1, Z3
	VPMULUDQ Z11, Z3, Z3
	VPADDQ   Z2, Z3, Z3
	VPSRLQ   $32, Z3, Z3
	// lo + hi, as int32
	VPADDQ  Z10, Z3, Z3
	VPMOVQD Z3, Y4
	VMOVDQU Y4, (DI)
	VPADDQ  Z12, Z0, Z0
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     loop

done:
	VZEROUPPER
	RET
