// Package sortop is weir's ORDER BY / LIMIT / OFFSET over Arrow batches, in
// batch fashion: a full sort gathers the input and emits it sorted when the
// input ends; with a small LIMIT it keeps only the best OFFSET+LIMIT rows
// seen so far (Top-N), so memory stays bounded by the limit; without keys it
// passes the rows between OFFSET and OFFSET+LIMIT through as they come.
//
// Comparators are built once per gathered batch, typed per column; NaN sorts
// above every number and -0.0 below 0.0, as Java's Double.compare orders
// them in Flink.
//
// A full sort keeps its input within the memory budget in its context
// (internal/spill): beyond it, it writes sorted runs to disk and merges them
// at the end (external.go).
//
// sortop imports types and spill.
package sortop

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/spill"
	"github.com/weir-dev/weir/internal/types"
)

// Key is one ORDER BY key: a column, its direction and where NULLs go.
type Key struct {
	Col        int
	Desc       bool
	NullsFirst bool
}

// Op sorts its input by Keys (none: keep the input order), then skips Offset
// rows and emits at most Limit rows (all when Limit < 0).
type Op struct {
	Keys   []Key
	Limit  int64
	Offset int64
	Schema types.Schema
	// compactSlack overrides slack() in tests.
	compactSlack int64
}

// topNMax is the largest OFFSET+LIMIT kept by the Top-N path; beyond it the
// input is gathered and sorted whole.
const topNMax = 100_000

// outRows bounds the rows of each output batch.
const outRows = 65536

// String describes the operator for EXPLAIN.
func (o *Op) String() string {
	var keys []string
	for _, k := range o.Keys {
		s := o.Schema[k.Col].Name
		if k.Desc {
			s += " DESC"
		} else {
			s += " ASC"
		}
		if k.NullsFirst {
			s += " NULLS FIRST"
		} else {
			s += " NULLS LAST"
		}
		keys = append(keys, s)
	}
	kind := "Sort"
	switch {
	case len(o.Keys) == 0:
		kind = "Limit"
	case o.topN():
		kind = "SortLimit"
	}
	s := fmt.Sprintf("%s: orderBy=[%s]", kind, strings.Join(keys, ", "))
	if o.Offset > 0 {
		s += fmt.Sprintf(" offset=%d", o.Offset)
	}
	if o.Limit >= 0 {
		s += fmt.Sprintf(" fetch=%d", o.Limit)
	}
	return s
}

// slack is how many rows beyond twice the kept ones gather before Top-N
// compacts them.
func (o *Op) slack() int64 {
	if o.compactSlack > 0 {
		return o.compactSlack
	}
	return outRows
}

func (o *Op) topN() bool { return o.Limit >= 0 && o.Offset+o.Limit <= topNMax }

// Run sorts the batches of in and sends the result to out. It releases the
// input batches.
func (o *Op) Run(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	defer drain(in)
	if len(o.Keys) == 0 {
		return o.runLimit(ctx, in, out)
	}
	var pool []arrow.RecordBatch
	poolRows, poolBytes := int64(0), int64(0)
	// A full sort beyond its memory budget spills sorted runs (external.go).
	budget := spill.FromContext(ctx)
	var ext *external
	defer func() {
		if ext != nil {
			ext.remove()
		}
	}()
	release := func() {
		for _, b := range pool {
			b.Release()
		}
		pool = nil
	}
	defer func() { release() }()
	keep := o.Offset + o.Limit
	// threshold is the worst of the best keep rows so far (Top-N only).
	var threshold arrow.RecordBatch
	defer func() {
		if threshold != nil {
			threshold.Release()
		}
	}()
	for b := range in {
		if ctx.Err() != nil {
			b.Release()
			return nil
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		if threshold != nil {
			// Top-N: only rows better than the worst row kept can enter.
			var err error
			if b, err = o.better(ctx, mem, b, threshold); err != nil {
				return err
			}
			if b == nil {
				continue
			}
		}
		pool = append(pool, b)
		poolRows += b.NumRows()
		if !o.topN() && budget != nil {
			// Half the budget: a run is sorted from a copy of the pool.
			if poolBytes += spill.BatchBytes(b); poolBytes > budget.Bytes()/2 {
				if ext == nil {
					ext = o.newExternal(budget)
				}
				err := ext.addRun(ctx, mem, pool, poolBytes)
				pool, poolRows, poolBytes = nil, 0, 0
				if err != nil {
					return err
				}
			}
		}
		if o.topN() && poolRows > 2*keep+o.slack() {
			// Keep only the best rows so far.
			best, err := o.sorted(ctx, mem, pool, keep)
			if err != nil {
				return err
			}
			release()
			pool, poolRows = []arrow.RecordBatch{best}, best.NumRows()
			if threshold != nil {
				threshold.Release()
				threshold = nil
			}
			if best.NumRows() == keep && keep > 0 {
				threshold = best.NewSlice(keep-1, keep)
			}
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if ext != nil {
		p := pool
		pool = nil
		return ext.finish(ctx, mem, p, poolBytes, out)
	}
	if len(pool) == 0 {
		return nil
	}
	limit := poolRows
	if o.Limit >= 0 {
		limit = min(limit, o.Offset+o.Limit)
	}
	res, err := o.sorted(ctx, mem, pool, limit)
	if err != nil {
		return err
	}
	defer res.Release()
	for lo := o.Offset; lo < res.NumRows(); lo += outRows {
		part := res.NewSlice(lo, min(res.NumRows(), lo+outRows))
		select {
		case out <- part:
		case <-ctx.Done():
			part.Release()
			return nil
		}
	}
	return nil
}

// better returns the rows of b that sort strictly before the one row of
// threshold, or nil when there are none; it releases b.
func (o *Op) better(ctx context.Context, mem memory.Allocator, b, threshold arrow.RecordBatch) (arrow.RecordBatch, error) {
	defer b.Release()
	cmps := make([]func(i, j int32) int, len(o.Keys))
	for k, key := range o.Keys {
		c, err := comparator2(b.Column(key.Col), threshold.Column(key.Col), key)
		if err != nil {
			return nil, err
		}
		cmps[k] = c
	}
	var sel []int32
	for i := int32(0); i < int32(b.NumRows()); i++ {
		for _, c := range cmps {
			if r := c(i, 0); r != 0 {
				if r < 0 {
					sel = append(sel, i)
				}
				break
			}
		}
	}
	if len(sel) == 0 {
		return nil, nil
	}
	if len(sel) == int(b.NumRows()) {
		b.Retain()
		return b, nil
	}
	return take(ctx, mem, b, sel, o.Schema)
}

// take returns the rows idx of b.
func take(ctx context.Context, mem memory.Allocator, b arrow.RecordBatch, idx []int32, schema types.Schema) (arrow.RecordBatch, error) {
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
			return nil, fmt.Errorf("sort: %w", err)
		}
		cols[c] = t
	}
	rec := array.NewRecordBatch(schema.Arrow(), cols, int64(len(idx)))
	for _, x := range cols {
		x.Release()
	}
	return rec, nil
}

// runLimit passes rows Offset..Offset+Limit of the input through.
func (o *Op) runLimit(ctx context.Context, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	skip, left := o.Offset, o.Limit
	for b := range in {
		n := b.NumRows()
		if ctx.Err() != nil || left == 0 || skip >= n {
			skip -= min(skip, n)
			b.Release()
			continue
		}
		hi := n
		if left >= 0 {
			hi = min(n, skip+left)
			left -= hi - skip
		}
		part := b.NewSlice(skip, hi)
		skip = 0
		b.Release()
		select {
		case out <- part:
		case <-ctx.Done():
			part.Release()
		}
	}
	return nil
}

func drain(in <-chan arrow.RecordBatch) {
	for b := range in {
		b.Release()
	}
}

// sorted concatenates batches and returns its first n rows in order.
func (o *Op) sorted(ctx context.Context, mem memory.Allocator, batches []arrow.RecordBatch, n int64) (arrow.RecordBatch, error) {
	cols, err := ConcatColumns(mem, len(o.Schema), batches)
	defer releaseAll(cols)
	if err != nil {
		return nil, fmt.Errorf("sort: %w", err)
	}
	rows := cols[0].Len()
	idx, err := o.order(cols, rows)
	if err != nil {
		return nil, err
	}
	idx = idx[:min(int64(len(idx)), n)]
	rec := array.NewRecordBatch(o.Schema.Arrow(), cols, int64(rows))
	defer rec.Release()
	return take(ctx, mem, rec, idx, o.Schema)
}

// order returns the row numbers 0..rows-1 of cols in sorted order, equal
// rows in input order. One integer-like or floating-point key without NULLs
// sorts (key, row) pairs whose key is a uint64 that orders as the value
// does; anything else compares through typed comparators.
func (o *Op) order(cols []arrow.Array, rows int) ([]int32, error) {
	idx := make([]int32, rows)
	if len(o.Keys) == 1 && cols[o.Keys[0].Col].NullN() == 0 {
		if keys, ok := sortKeys(cols[o.Keys[0].Col], o.Keys[0].Desc); ok {
			return radixOrder(keys), nil
		}
	}
	for i := range idx {
		idx[i] = int32(i)
	}
	less := make([]func(i, j int32) int, len(o.Keys))
	for k, key := range o.Keys {
		c, err := comparator(cols[key.Col], key)
		if err != nil {
			return nil, err
		}
		less[k] = c
	}
	slices.SortFunc(idx, func(i, j int32) int {
		for _, c := range less {
			if r := c(i, j); r != 0 {
				return r
			}
		}
		return cmp.Compare(i, j)
	})
	return idx, nil
}

// radixOrder returns the row numbers sorted by keys, equal keys in row
// order: a least-significant-digit radix sort, 16 bits a pass, skipping the
// digits in which all keys agree.
func radixOrder(keys []uint64) []int32 {
	n := len(keys)
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	tmp := make([]int32, n)
	var counts [1 << 16]int
	for shift := uint(0); shift < 64; shift += 16 {
		counts = [1 << 16]int{}
		for _, k := range keys {
			counts[(k>>shift)&0xFFFF]++
		}
		if n == 0 || counts[(keys[0]>>shift)&0xFFFF] == n {
			continue // every key has this digit
		}
		pos := 0
		for d, c := range counts {
			counts[d] = pos
			pos += c
		}
		for _, i := range idx {
			d := (keys[i] >> shift) & 0xFFFF
			tmp[counts[d]] = i
			counts[d]++
		}
		idx, tmp = tmp, idx
	}
	return idx
}

// sortKeys maps each value of a to a uint64 that sorts as the value does in
// the key's direction (floats as Java's Double.compare orders them), or
// reports false for other types.
func sortKeys(a arrow.Array, desc bool) ([]uint64, bool) {
	out := make([]uint64, a.Len())
	signed := func(v int64) uint64 { return uint64(v) ^ (1 << 63) }
	switch a := a.(type) {
	case *array.Int8:
		for i, v := range a.Int8Values() {
			out[i] = signed(int64(v))
		}
	case *array.Int16:
		for i, v := range a.Int16Values() {
			out[i] = signed(int64(v))
		}
	case *array.Int32:
		for i, v := range a.Int32Values() {
			out[i] = signed(int64(v))
		}
	case *array.Int64:
		for i, v := range a.Int64Values() {
			out[i] = signed(v)
		}
	case *array.Date32:
		for i, v := range a.Date32Values() {
			out[i] = signed(int64(v))
		}
	case *array.Timestamp:
		for i, v := range a.TimestampValues() {
			out[i] = signed(int64(v))
		}
	case *array.Float64:
		for i, v := range a.Float64Values() {
			out[i] = floatKey(v)
		}
	case *array.Float32:
		for i, v := range a.Float32Values() {
			out[i] = floatKey(float64(v))
		}
	default:
		return nil, false
	}
	if desc {
		for i := range out {
			out[i] = ^out[i]
		}
	}
	return out, true
}

// floatKey orders -Inf < ... < -0.0 < 0.0 < ... < +Inf < NaN.
func floatKey(f float64) uint64 {
	if f != f {
		f = math.NaN()
	}
	b := math.Float64bits(f)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// comparator returns a comparison of rows of a by key, NULLs placed as the
// key says and the direction applied.
func comparator(a arrow.Array, key Key) (func(i, j int32) int, error) {
	return comparator2(a, a, key)
}

// comparator2 compares row i of a with row j of b (arrays of one type).
func comparator2(a, b arrow.Array, key Key) (func(i, j int32) int, error) {
	var c func(i, j int32) int
	switch a := a.(type) {
	case *array.Int8:
		c = values(a.Int8Values(), b.(*array.Int8).Int8Values())
	case *array.Int16:
		c = values(a.Int16Values(), b.(*array.Int16).Int16Values())
	case *array.Int32:
		c = values(a.Int32Values(), b.(*array.Int32).Int32Values())
	case *array.Int64:
		c = values(a.Int64Values(), b.(*array.Int64).Int64Values())
	case *array.Date32:
		c = values(a.Date32Values(), b.(*array.Date32).Date32Values())
	case *array.Time32:
		c = values(a.Time32Values(), b.(*array.Time32).Time32Values())
	case *array.Timestamp:
		c = values(a.TimestampValues(), b.(*array.Timestamp).TimestampValues())
	case *array.Float32:
		v, w := a.Float32Values(), b.(*array.Float32).Float32Values()
		c = func(i, j int32) int { return javaCompare(float64(v[i]), float64(w[j])) }
	case *array.Float64:
		v, w := a.Float64Values(), b.(*array.Float64).Float64Values()
		c = func(i, j int32) int { return javaCompare(v[i], w[j]) }
	case *array.Boolean:
		bb := b.(*array.Boolean)
		c = func(i, j int32) int { return cmp.Compare(b2i(a.Value(int(i))), b2i(bb.Value(int(j)))) }
	case *array.Decimal128:
		v, w := a.Values(), b.(*array.Decimal128).Values()
		c = func(i, j int32) int { return v[i].Cmp(w[j]) }
	case *array.String:
		bs := b.(*array.String)
		c = func(i, j int32) int { return strings.Compare(a.Value(int(i)), bs.Value(int(j))) }
	case *array.Binary:
		bs := b.(*array.Binary)
		c = func(i, j int32) int { return bytes.Compare(a.Value(int(i)), bs.Value(int(j))) }
	default:
		return nil, fmt.Errorf("ORDER BY on %s is not supported", a.DataType())
	}
	if key.Desc {
		asc := c
		c = func(i, j int32) int { return -asc(i, j) }
	}
	if a.NullN() == 0 && b.NullN() == 0 {
		return c, nil
	}
	nullFirst := -1
	if !key.NullsFirst {
		nullFirst = 1
	}
	vals := c
	return func(i, j int32) int {
		ni, nj := a.IsNull(int(i)), b.IsNull(int(j))
		switch {
		case ni && nj:
			return 0
		case ni:
			return nullFirst
		case nj:
			return -nullFirst
		}
		return vals(i, j)
	}, nil
}

func values[T int8 | int16 | int32 | int64 | arrow.Date32 | arrow.Time32 | arrow.Timestamp](v, w []T) func(i, j int32) int {
	return func(i, j int32) int { return cmp.Compare(v[i], w[j]) }
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// javaCompare orders like Java's Double.compare: -0.0 < 0.0, NaN above all.
func javaCompare(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	bx, by := int64(math.Float64bits(x)), int64(math.Float64bits(y))
	if x != x {
		bx = int64(math.Float64bits(math.NaN()))
	}
	if y != y {
		by = int64(math.Float64bits(math.NaN()))
	}
	return cmp.Compare(bx, by)
}
