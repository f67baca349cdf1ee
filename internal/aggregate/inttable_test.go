package aggregate

import (
	"math"
	"math/rand"
	"testing"
)

// TestIntTableAgainstMap checks the open-addressing table against a Go map
// on random keys, extremes included, across many resizes.
func TestIntTableAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	tab := newIntTable()
	ref := map[int64]int32{}
	for i := 0; i < 200_000; i++ {
		var k int64
		switch rng.Intn(4) {
		case 0:
			k = rng.Int63n(1000) - 500
		case 1:
			k = rng.Int63() - rng.Int63()
		case 2:
			k = int64(rng.Intn(3)) << 32 // same low bits
		default:
			k = []int64{math.MinInt64, math.MaxInt64, 0, -1}[rng.Intn(4)]
		}
		want, ok := ref[k]
		if !ok {
			want = -1
		}
		if got := tab.find(k); got != want {
			t.Fatalf("find(%d) = %d, want %d", k, got, want)
		}
		if !ok {
			ref[k] = int32(len(ref))
			tab.add(k, ref[k])
		}
	}
	if tab.count != len(ref) {
		t.Errorf("count = %d, want %d", tab.count, len(ref))
	}
}
