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
// sortop imports types only.
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

func (o *Op) topN() bool { return o.Limit >= 0 && o.Offset+o.Limit <= topNMax }

// Run sorts the batches of in and sends the result to out. It releases the
// input batches.
func (o *Op) Run(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	defer drain(in)
	if len(o.Keys) == 0 {
		return o.runLimit(ctx, in, out)
	}
	var pool []arrow.RecordBatch
	poolRows := int64(0)
	release := func() {
		for _, b := range pool {
			b.Release()
		}
		pool = nil
	}
	defer func() { release() }()
	keep := o.Offset + o.Limit
	for b := range in {
		if ctx.Err() != nil {
			b.Release()
			return nil
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		pool = append(pool, b)
		poolRows += b.NumRows()
		if o.topN() && poolRows > 2*keep+outRows {
			// Keep only the best rows so far.
			best, err := o.sorted(ctx, mem, pool, keep)
			if err != nil {
				return err
			}
			release()
			pool, poolRows = []arrow.RecordBatch{best}, best.NumRows()
		}
	}
	if ctx.Err() != nil || len(pool) == 0 {
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
	ncols := len(o.Schema)
	cols := make([]arrow.Array, ncols)
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for c := 0; c < ncols; c++ {
		parts := make([]arrow.Array, len(batches))
		for i, b := range batches {
			parts[i] = b.Column(c)
		}
		if len(parts) == 1 {
			parts[0].Retain()
			cols[c] = parts[0]
			continue
		}
		cat, err := array.Concatenate(parts, mem)
		if err != nil {
			return nil, fmt.Errorf("sort: %w", err)
		}
		cols[c] = cat
	}
	rows := cols[0].Len()
	idx := make([]int32, rows)
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
	cmpRows := func(i, j int32) int {
		for _, c := range less {
			if r := c(i, j); r != 0 {
				return r
			}
		}
		return cmp.Compare(i, j)
	}
	slices.SortFunc(idx, cmpRows)
	idx = idx[:min(int64(len(idx)), n)]
	ib := array.NewInt32Builder(mem)
	ib.AppendValues(idx, nil)
	ia := ib.NewArray()
	ib.Release()
	defer ia.Release()
	out := make([]arrow.Array, ncols)
	for c := range cols {
		t, err := compute.TakeArray(ctx, cols[c], ia)
		if err != nil {
			for _, x := range out[:c] {
				x.Release()
			}
			return nil, fmt.Errorf("sort: %w", err)
		}
		out[c] = t
	}
	rec := array.NewRecordBatch(o.Schema.Arrow(), out, int64(len(idx)))
	for _, x := range out {
		x.Release()
	}
	return rec, nil
}

// comparator returns a comparison of rows of a by key, NULLs placed as the
// key says and the direction applied.
func comparator(a arrow.Array, key Key) (func(i, j int32) int, error) {
	var c func(i, j int32) int
	switch a := a.(type) {
	case *array.Int8:
		c = values(a.Int8Values())
	case *array.Int16:
		c = values(a.Int16Values())
	case *array.Int32:
		c = values(a.Int32Values())
	case *array.Int64:
		c = values(a.Int64Values())
	case *array.Date32:
		c = values(a.Date32Values())
	case *array.Time32:
		c = values(a.Time32Values())
	case *array.Timestamp:
		c = values(a.TimestampValues())
	case *array.Float32:
		v := a.Float32Values()
		c = func(i, j int32) int { return javaCompare(float64(v[i]), float64(v[j])) }
	case *array.Float64:
		v := a.Float64Values()
		c = func(i, j int32) int { return javaCompare(v[i], v[j]) }
	case *array.Boolean:
		c = func(i, j int32) int { return cmp.Compare(b2i(a.Value(int(i))), b2i(a.Value(int(j)))) }
	case *array.Decimal128:
		v := a.Values()
		c = func(i, j int32) int { return v[i].Cmp(v[j]) }
	case *array.String:
		c = func(i, j int32) int { return strings.Compare(a.Value(int(i)), a.Value(int(j))) }
	case *array.Binary:
		c = func(i, j int32) int { return bytes.Compare(a.Value(int(i)), a.Value(int(j))) }
	default:
		return nil, fmt.Errorf("ORDER BY on %s is not supported", a.DataType())
	}
	if key.Desc {
		asc := c
		c = func(i, j int32) int { return asc(j, i) }
	}
	if a.NullN() == 0 {
		return c, nil
	}
	nullFirst := -1
	if !key.NullsFirst {
		nullFirst = 1
	}
	vals := c
	return func(i, j int32) int {
		ni, nj := a.IsNull(int(i)), a.IsNull(int(j))
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

func values[T int8 | int16 | int32 | int64 | arrow.Date32 | arrow.Time32 | arrow.Timestamp](v []T) func(i, j int32) int {
	return func(i, j int32) int { return cmp.Compare(v[i], v[j]) }
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
