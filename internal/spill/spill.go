// Package spill gives weir's operators a memory budget and the files they
// spill to beyond it.
//
// A job has one Budget, the managed memory of taskmanager.memory.managed.size,
// shared out equally among its memory-using operators (aggregations, joins,
// sorts), and one private spill directory (internal/tmpdir) made at the
// first spill and removed when the job ends, whether it succeeds or fails.
// Operators find their share in their context (FromContext); without one
// they run unbounded, as they did before there was a budget.
//
// Spill files are Arrow IPC streams, written and read a batch at a time;
// an operator removes its files when it finishes.
//
// spill imports tmpdir.
package spill

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/tmpdir"
)

// Budget is the memory an operator may hold before it spills, and the
// directory it spills to.
type Budget struct {
	bytes int64
	dir   *dir
}

// dir is a job's spill directory, made on first use.
type dir struct {
	mu     sync.Mutex
	path   string
	closed bool
	seq    int
}

// New returns a job's budget of bytes in all, with no directory yet.
func New(bytes int64) *Budget { return &Budget{bytes: bytes, dir: &dir{}} }

// Bytes is the memory the budget allows.
func (b *Budget) Bytes() int64 { return b.bytes }

// Share returns one of n equal shares of b (at least MinShare bytes each),
// spilling to b's directory.
func (b *Budget) Share(n int) *Budget {
	per := b.bytes
	if n > 1 {
		per /= int64(n)
	}
	return &Budget{bytes: max(per, MinShare), dir: b.dir}
}

// MinShare is the least an operator gets: enough for a few batches, so
// that a tiny budget spills often rather than row by row.
const MinShare = 64 << 10

// WithBytes returns a budget of bytes sharing b's directory (tests use it to
// force spilling).
func (b *Budget) WithBytes(bytes int64) *Budget { return &Budget{bytes: bytes, dir: b.dir} }

// Files is the number of spill files created under b's directory so far
// (tests check that an operator did spill).
func (b *Budget) Files() int {
	b.dir.mu.Lock()
	defer b.dir.mu.Unlock()
	return b.dir.seq
}

// Close removes the spill directory and everything in it; files created
// after Close fail.
func (b *Budget) Close() error {
	d := b.dir
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.path == "" {
		return nil
	}
	if err := os.RemoveAll(d.path); err != nil {
		return fmt.Errorf("spill: removing %s: %w", d.path, err)
	}
	return nil
}

// path makes the directory on first use and returns a new file name in it.
func (d *dir) newPath(what string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return "", fmt.Errorf("spill: the job's spill directory is already removed")
	}
	if d.path == "" {
		p, err := tmpdir.Make("weir-spill-")
		if err != nil {
			return "", fmt.Errorf("spill: %w", err)
		}
		d.path = p
	}
	d.seq++
	return fmt.Sprintf("%s/%s-%d.arrows", d.path, what, d.seq), nil
}

type ctxKey struct{}

// WithBudget returns ctx carrying b, for the operators run under it.
func WithBudget(ctx context.Context, b *Budget) context.Context {
	return context.WithValue(ctx, ctxKey{}, b)
}

// FromContext returns the budget in ctx, or nil: no limit.
func FromContext(ctx context.Context) *Budget {
	b, _ := ctx.Value(ctxKey{}).(*Budget)
	return b
}

// Limit returns the bytes b allows, or the largest int64 for a nil budget.
func (b *Budget) Limit() int64 {
	if b == nil {
		return 1<<63 - 1
	}
	return b.bytes
}

// BatchBytes is the memory a batch's buffers take (buffers shared by
// slices are counted whole, once per column).
func BatchBytes(b arrow.RecordBatch) int64 {
	var n int64
	for _, c := range b.Columns() {
		n += DataBytes(c.Data())
	}
	return n
}

// DataBytes is the size of an array's buffers, its children's included.
func DataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, buf := range d.Buffers() {
		if buf != nil {
			n += int64(buf.Len())
		}
	}
	for _, c := range d.Children() {
		n += DataBytes(c)
	}
	if d.DataType().ID() == arrow.DICTIONARY {
		n += DataBytes(d.Dictionary())
	}
	return n
}

// allocator is the allocator spill files read into, when none is given.
var allocator memory.Allocator = memory.DefaultAllocator
