//go:build !amd64 || purego

package connector

// fillBounded32 fills nothing: the scalar loop does it all.
func fillBounded32(out []int32, s uint64, lo int64, span uint64) int { return 0 }

var hasAVX512 = false
