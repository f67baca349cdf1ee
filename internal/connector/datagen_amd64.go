//go:build amd64 && !purego

package connector

import "golang.org/x/sys/cpu"

// fillBounded32 is intRand's fill of INT values in a span below 2^32 with
// AVX-512 (datagen_amd64.s), eight values at a time; it returns how many of
// out it filled (a multiple of 8; none without AVX-512). Value i is
// lo + the high 64 bits of splitmix(s + (i+1)*gamma) * span, as the scalar
// loop computes it: the 128-bit product's high half from 32-bit halves,
// (hi32*span + (lo32*span)>>32) >> 32, exact for span < 2^32.
func fillBounded32(out []int32, s uint64, lo int64, span uint64) int {
	n := len(out) &^ 7
	if !hasAVX512 || n == 0 || span >= 1<<32 {
		return 0
	}
	var states [8]uint64
	for i := range states {
		s += splitmixGamma
		states[i] = s
	}
	splitmixBounded32(&out[0], n, &states, lo, span)
	return n
}

var hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// splitmixBounded32 writes n (a multiple of 8) values to out, eight at a
// time from the eight generator states in states (datagen_amd64.s).
//
//go:noescape
func splitmixBounded32(out *int32, n int, states *[8]uint64, lo int64, span uint64)
