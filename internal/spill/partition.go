package spill

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// byteSeed hashes string and binary values; it is fixed for the process, so
// both sides of a join hash alike.
var byteSeed = maphash.MakeSeed()

// Hash sets h[i] to a hash of row i of cols under seed: rows whose values
// are equal (columns of the same types; NULLs equal, NaNs equal) get equal
// hashes. Another seed gives independent hashes, for splitting a
// partition again.
func Hash(cols []arrow.Array, seed uint64, h []uint64) error {
	for i := range h {
		h[i] = seed
	}
	for _, c := range cols {
		if err := hashColumn(c, h); err != nil {
			return err
		}
	}
	for i := range h {
		h[i] = mix(h[i])
	}
	return nil
}

func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

func add(h *uint64, v uint64) { *h = mix(*h^0x9E3779B97F4A7C15) + v }

func hashInts[T int8 | int16 | int32 | int64 | arrow.Date32 | arrow.Time32 | arrow.Timestamp](vals []T, h []uint64) {
	for i, v := range vals {
		add(&h[i], uint64(v))
	}
}

func hashColumn(col arrow.Array, h []uint64) error {
	switch a := col.(type) {
	case *array.Int8:
		hashInts(a.Int8Values(), h)
	case *array.Int16:
		hashInts(a.Int16Values(), h)
	case *array.Int32:
		hashInts(a.Int32Values(), h)
	case *array.Int64:
		hashInts(a.Int64Values(), h)
	case *array.Date32:
		hashInts(a.Date32Values(), h)
	case *array.Time32:
		hashInts(a.Time32Values(), h)
	case *array.Timestamp:
		hashInts(a.TimestampValues(), h)
	case *array.Boolean:
		for i := range h {
			v := uint64(0)
			if a.Value(i) {
				v = 1
			}
			add(&h[i], v)
		}
	case *array.Float32:
		for i, v := range a.Float32Values() {
			if v != v {
				v = float32(math.NaN())
			}
			add(&h[i], uint64(math.Float32bits(v)))
		}
	case *array.Float64:
		for i, v := range a.Float64Values() {
			if v != v {
				v = math.NaN()
			}
			add(&h[i], math.Float64bits(v))
		}
	case *array.Decimal128:
		for i, v := range a.Values() {
			add(&h[i], v.LowBits()^uint64(v.HighBits())*0x9E3779B97F4A7C15)
		}
	case *array.String:
		for i := range h {
			add(&h[i], maphash.String(byteSeed, a.Value(i)))
		}
	case *array.Binary:
		for i := range h {
			add(&h[i], maphash.Bytes(byteSeed, a.Value(i)))
		}
	default:
		return fmt.Errorf("spill: cannot partition by a %s key", col.DataType())
	}
	if col.NullN() > 0 {
		// Whatever the value slot holds, a NULL hashes as one value.
		for i := range h {
			if col.IsNull(i) {
				h[i] = 0x5A5A5A5A
			}
		}
	}
	return nil
}

// Partitions splits batches by the hash of their key columns into n spill
// files (n at most 256).
type Partitions struct {
	budget *Budget
	what   string
	schema *arrow.Schema
	keys   []int
	seed   uint64
	mem    memory.Allocator
	w      []*Writer
	hashes []uint64
	part   []uint8
	rows   [][]int32
}

// NewPartitions returns n empty partitions of batches of schema, split by
// the columns keys hashed under seed.
func (b *Budget) NewPartitions(what string, schema *arrow.Schema, keys []int, seed uint64, n int, mem memory.Allocator) *Partitions {
	return &Partitions{budget: b, what: what, schema: schema, keys: keys, seed: seed, mem: mem,
		w: make([]*Writer, n), rows: make([][]int32, n)}
}

// Of returns the partition of each row of b (in a buffer reused by the next
// call).
func (p *Partitions) Of(b arrow.RecordBatch) ([]uint8, error) {
	n := int(b.NumRows())
	if cap(p.hashes) < n {
		p.hashes = make([]uint64, n)
	}
	h := p.hashes[:n]
	cols := make([]arrow.Array, len(p.keys))
	for i, k := range p.keys {
		cols[i] = b.Column(k)
	}
	if err := Hash(cols, p.seed, h); err != nil {
		return nil, err
	}
	if cap(p.part) < n {
		p.part = make([]uint8, n)
	}
	out := p.part[:n]
	parts := uint64(len(p.w))
	for i, x := range h {
		out[i] = uint8((x >> 32) * parts >> 32)
	}
	return out, nil
}

// Add writes every row of b to its partition; b stays the caller's.
func (p *Partitions) Add(ctx context.Context, b arrow.RecordBatch) error {
	if b.NumRows() == 0 {
		return nil
	}
	part, err := p.Of(b)
	if err != nil {
		return err
	}
	return p.AddRows(ctx, b, part, nil)
}

// AddRows writes the rows of b chosen by sel (all when nil) to the
// partitions part gives them.
func (p *Partitions) AddRows(ctx context.Context, b arrow.RecordBatch, part []uint8, sel []int32) error {
	for i := range p.rows {
		p.rows[i] = p.rows[i][:0]
	}
	if sel == nil {
		for r, q := range part {
			p.rows[q] = append(p.rows[q], int32(r))
		}
	} else {
		for _, r := range sel {
			p.rows[part[r]] = append(p.rows[part[r]], r)
		}
	}
	for q, rows := range p.rows {
		if len(rows) == 0 {
			continue
		}
		if p.w[q] == nil {
			w, err := p.budget.Create(fmt.Sprintf("%s-p%d", p.what, q), p.schema)
			if err != nil {
				return err
			}
			p.w[q] = w
		}
		if len(rows) == int(b.NumRows()) {
			if err := p.w[q].Write(b); err != nil {
				return err
			}
			continue
		}
		part, err := Take(ctx, p.mem, b, rows)
		if err != nil {
			return err
		}
		err = p.w[q].Write(part)
		part.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// Finish closes the partitions and returns their files, nil for an empty
// one.
func (p *Partitions) Finish() ([]*File, error) {
	files := make([]*File, len(p.w))
	var first error
	for q, w := range p.w {
		if w == nil {
			continue
		}
		f, err := w.Finish()
		if err != nil && first == nil {
			first = err
		}
		files[q] = f
	}
	p.w = nil
	if first != nil {
		RemoveAll(files)
		return nil, first
	}
	return files, nil
}

// Abort removes the partitions' files.
func (p *Partitions) Abort() {
	for _, w := range p.w {
		if w != nil {
			w.Abort()
		}
	}
	p.w = nil
}

// RemoveAll removes the files (nil ones skipped).
func RemoveAll(files []*File) {
	for _, f := range files {
		if f != nil {
			f.Remove()
		}
	}
}

// Take returns the rows idx of b.
func Take(ctx context.Context, mem memory.Allocator, b arrow.RecordBatch, idx []int32) (arrow.RecordBatch, error) {
	ib := array.NewInt32Builder(mem)
	ib.AppendValues(idx, nil)
	ia := ib.NewArray()
	ib.Release()
	defer ia.Release()
	cols := make([]arrow.Array, b.NumCols())
	for c := range cols {
		t, err := compute.TakeArray(ctx, b.Column(c), ia)
		if err != nil {
			for _, x := range cols[:c] {
				x.Release()
			}
			return nil, fmt.Errorf("spill: %w", err)
		}
		cols[c] = t
	}
	rec := array.NewRecordBatch(b.Schema(), cols, int64(len(idx)))
	for _, x := range cols {
		x.Release()
	}
	return rec, nil
}
