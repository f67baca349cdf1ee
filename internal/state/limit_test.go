package state

import (
	"runtime/debug"
	"testing"
)

// TestMemoryLimitRaised: with RaiseMemoryLimit, an open on-disk store adds
// its cache and memtables to the soft memory limit and Close takes them
// back; the memory backend leaves it alone.
func TestMemoryLimitRaised(t *testing.T) {
	old := debug.SetMemoryLimit(96 << 20)
	limit.Lock()
	wasRaise := limit.raise
	limit.Unlock()
	t.Cleanup(func() {
		debug.SetMemoryLimit(old)
		limit.Lock()
		limit.raise = wasRaise
		limit.Unlock()
	})
	RaiseMemoryLimit()
	m, err := Open(Options{Backend: HashMap})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if got := debug.SetMemoryLimit(-1); got != 96<<20 {
		t.Fatalf("memory backend: limit %d, want %d", got, 96<<20)
	}
	s, err := Open(Options{Backend: Pebble, CacheBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	want := int64(96<<20 + 8<<20 + memTableReserve)
	if got := debug.SetMemoryLimit(-1); got != want {
		s.Close()
		t.Fatalf("on-disk store open: limit %d, want %d", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close() // a second Close changes nothing
	if got := debug.SetMemoryLimit(-1); got != 96<<20 {
		t.Fatalf("on-disk store closed: limit %d, want %d", got, 96<<20)
	}
}
