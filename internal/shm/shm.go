// Package shm is a shared-memory arena: one file in memory (/dev/shm),
// mapped by the engine and opened by its Python workers, carved into
// regions that carry the Arrow batches of vectorized stages both ways.
//
// Through gRPC each byte of a batch costs the Python worker about a
// nanosecond a byte (the HTTP/2 frames, the slices, the Python objects
// around them), as much as a pandas function's own work. Through the arena
// the worker reads its input and writes its answer in place; the Fn API's
// messages carry only where (pyexec's shared-memory references,
// docs/WIRE_FORMAT.md).
//
// The engine owns the arena: it allocates the regions, frees them, and
// removes the file when it closes the arena (or, after a crash, the next
// engine does: the file's directory is made by tmpdir, which records its
// owner). The file's space is reserved when it is made, so that writing to
// it cannot fail later (a full tmpfs would kill the process with SIGBUS).
//
// shm imports only tmpdir.
package shm

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

// ErrUnsupported is returned by New where shared memory files are not
// available (no /dev/shm, or another OS than Linux).
var ErrUnsupported = errors.New("shm: shared-memory files are not available here")

// align is the alignment of regions: Arrow's buffers are 64-byte aligned.
const align = 64

// Region is a span of an arena: Len bytes at offset Off of its file.
type Region struct {
	Off, Len int
}

// End is the offset just past the region.
func (r Region) End() int { return r.Off + r.Len }

// Arena is a mapped file of a fixed size and the allocator of its regions.
// Its methods are safe for concurrent use.
type Arena struct {
	path string
	mem  []byte
	file *mapping // the OS side: the mapping and the file's directory

	mu     sync.Mutex
	free   []Region // free spans, by offset, none adjacent
	used   int      // bytes allocated
	closed bool
}

// New makes an arena of size bytes (rounded up to the alignment).
func New(size int) (*Arena, error) {
	if size <= 0 {
		return nil, fmt.Errorf("shm: arena size %d", size)
	}
	size = roundUp(size)
	m, err := create(size)
	if err != nil {
		return nil, err
	}
	return &Arena{path: m.path, mem: m.mem, file: m, free: []Region{{0, size}}}, nil
}

// Path is the file's path, which the workers open.
func (a *Arena) Path() string { return a.path }

// Size is the arena's size in bytes.
func (a *Arena) Size() int { return len(a.mem) }

// Used is the number of bytes allocated.
func (a *Arena) Used() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.used
}

// Alloc allocates a region of at least n bytes (its Len is n rounded up to
// 64) at the lowest offset where one fits. ok is false when none does: the
// caller then does without (sends its bytes inline).
func (a *Arena) Alloc(n int) (r Region, ok bool) {
	if n <= 0 {
		n = 1
	}
	n = roundUp(n)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return Region{}, false
	}
	for i, f := range a.free {
		if f.Len < n {
			continue
		}
		r = Region{f.Off, n}
		if f.Len == n {
			a.free = append(a.free[:i], a.free[i+1:]...)
		} else {
			a.free[i] = Region{f.Off + n, f.Len - n}
		}
		a.used += n
		return r, true
	}
	return Region{}, false
}

// Free gives a region back. Freeing the zero Region does nothing; freeing a
// region twice, or one not allocated, panics (it would hand the same bytes
// to two users).
func (a *Arena) Free(r Region) {
	if r.Len == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	i := sort.Search(len(a.free), func(i int) bool { return a.free[i].Off >= r.Off })
	if (i < len(a.free) && a.free[i].Off < r.End()) || (i > 0 && a.free[i-1].End() > r.Off) || r.End() > len(a.mem) || r.Off%align != 0 {
		panic(fmt.Sprintf("shm: free of region [%d, %d) that is not allocated", r.Off, r.End()))
	}
	a.used -= r.Len
	// Merge with the free neighbours.
	joinNext := i < len(a.free) && a.free[i].Off == r.End()
	joinPrev := i > 0 && a.free[i-1].End() == r.Off
	switch {
	case joinPrev && joinNext:
		a.free[i-1].Len += r.Len + a.free[i].Len
		a.free = append(a.free[:i], a.free[i+1:]...)
	case joinPrev:
		a.free[i-1].Len += r.Len
	case joinNext:
		a.free[i] = Region{r.Off, r.Len + a.free[i].Len}
	default:
		a.free = append(a.free, Region{})
		copy(a.free[i+1:], a.free[i:])
		a.free[i] = r
	}
}

// Bytes is the memory of region r (shared with the workers).
func (a *Arena) Bytes(r Region) []byte { return a.mem[r.Off:r.End():r.End()] }

// Within reports whether [off, off+n) lies inside r.
func (r Region) Within(off, n int) bool {
	return off >= r.Off && n >= 0 && off <= r.End() && n <= r.End()-off
}

// Close unmaps the arena and removes its file. Regions must not be used
// after; Alloc fails and Free does nothing.
func (a *Arena) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	a.mem = nil
	return a.file.close()
}

func roundUp(n int) int { return (n + align - 1) &^ (align - 1) }
