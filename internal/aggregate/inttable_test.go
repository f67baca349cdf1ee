package aggregate

import (
	"math"
	"math/rand"
	"testing"
)

// TestIntTableAgainstMap checks the table against a Go map on random keys,
// extremes included, across many resizes, with dense small keys (looked up
// directly, their array growing over keys hashed before) or without.
func TestIntTableAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, dense := range []bool{false, true} {
		testIntTable(t, rng, dense)
	}
}

func testIntTable(t *testing.T, rng *rand.Rand, dense bool) {
	tab := newIntTable()
	ref := map[int64]int32{}
	for i := 0; i < 200_000; i++ {
		var k int64
		c := rng.Intn(4)
		if dense && rng.Intn(4) > 0 {
			c = 4
		}
		switch c {
		case 4:
			k = rng.Int63n(300_000)
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
	hashed := 0
	for _, id := range tab.ids {
		if id >= 0 {
			hashed++
		}
	}
	if hashed != tab.hashed || (dense && len(tab.direct) < 1<<18) || (!dense && tab.hashed < len(ref)/2) {
		t.Errorf("dense %v: %d keys, %d hashed (%d counted), %d direct slots", dense, len(ref), hashed, tab.hashed,
			len(tab.direct))
	}
}
