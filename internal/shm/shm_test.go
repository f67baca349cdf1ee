package shm

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func newArena(t *testing.T, size int) *Arena {
	t.Helper()
	a, err := New(size)
	if errors.Is(err, ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestAllocFreeAgainstModel allocates and frees regions at random and
// checks the allocator against a model that owns each 64-byte block: no two
// live regions overlap, every region lies in the arena, what is free can be
// allocated again whole, and Used counts the live bytes.
func TestAllocFreeAgainstModel(t *testing.T) {
	const size = 1 << 16
	a := newArena(t, size)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	owner := make([]int, size/align) // block -> 1 + index in live, or 0
	var live []Region
	used := 0
	for step := 0; step < 20000; step++ {
		if len(live) > 0 && rng.IntN(2) == 0 {
			i := rng.IntN(len(live))
			r := live[i]
			a.Free(r)
			for b := r.Off / align; b < r.End()/align; b++ {
				owner[b] = 0
			}
			used -= r.Len
			live[i] = live[len(live)-1]
			live = live[:len(live)-1]
			continue
		}
		n := 1 + rng.IntN(size/8)
		r, ok := a.Alloc(n)
		if !ok {
			// Only when no run of free blocks is long enough.
			run, longest := 0, 0
			for _, o := range owner {
				if o == 0 {
					run++
					longest = max(longest, run)
				} else {
					run = 0
				}
			}
			if longest*align >= n {
				t.Fatalf("step %d: Alloc(%d) failed with %d free bytes in a row", step, n, longest*align)
			}
			continue
		}
		if r.Len < n || r.Len%align != 0 || r.Off%align != 0 || r.End() > size {
			t.Fatalf("step %d: Alloc(%d) = %+v", step, n, r)
		}
		for b := r.Off / align; b < r.End()/align; b++ {
			if owner[b] != 0 {
				t.Fatalf("step %d: region %+v overlaps a live one at block %d", step, r, b)
			}
			owner[b] = 1
		}
		used += r.Len
		live = append(live, r)
		if a.Used() != used {
			t.Fatalf("step %d: Used %d, want %d", step, a.Used(), used)
		}
	}
	for _, r := range live {
		a.Free(r)
	}
	if r, ok := a.Alloc(size); !ok || r.Off != 0 {
		t.Fatalf("after freeing everything, Alloc(whole) = %+v, %v", r, ok)
	}
}

func TestFreeOfUnallocatedPanics(t *testing.T) {
	a := newArena(t, 4096)
	r, _ := a.Alloc(100)
	a.Free(r)
	defer func() {
		if recover() == nil {
			t.Fatal("a second Free of the same region did not panic")
		}
	}()
	a.Free(r)
}

// TestFileSharesTheMemory: what is written to a region is in the file at
// its offset (what a worker reads), and Close removes the file.
func TestFileSharesTheMemory(t *testing.T) {
	a := newArena(t, 1<<20)
	_, ok := a.Alloc(1000)
	r2, ok2 := a.Alloc(5000)
	if !ok || !ok2 {
		t.Fatal("Alloc failed")
	}
	want := bytes.Repeat([]byte("weir"), 1250)
	copy(a.Bytes(r2), want)
	f, err := os.Open(a.Path())
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if _, err := f.ReadAt(got, int64(r2.Off)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if !bytes.Equal(got, want) {
		t.Fatal("the file does not hold what was written to the region")
	}
	dir := filepath.Dir(a.Path())
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the arena's directory is still there after Close: %v", err)
	}
	if _, ok := a.Alloc(10); ok {
		t.Fatal("Alloc after Close succeeded")
	}
}

func TestWithin(t *testing.T) {
	r := Region{Off: 128, Len: 64}
	for _, c := range []struct {
		off, n int
		want   bool
	}{{128, 64, true}, {128, 0, true}, {150, 42, true}, {150, 43, false}, {127, 1, false}, {192, 0, true}, {193, 0, false}, {130, -1, false}} {
		if got := r.Within(c.off, c.n); got != c.want {
			t.Errorf("Within(%d, %d) = %v, want %v", c.off, c.n, got, c.want)
		}
	}
}
