// Package join runs hash joins over Arrow record batches: INNER, LEFT,
// RIGHT and FULL OUTER joins on equality keys, with an optional residual
// condition, and cross joins (no keys).
//
// The right input is the build side: its rows are collected, then hashed by
// their keys (aggregate.KeyTable, the hashing of GROUP BY keys). The left
// input is the probe side and is streamed. The build side is held in memory
// (no spilling yet). As in Flink, a row whose key has a NULL matches no row.
//
// join imports types and aggregate.
package join

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/types"
)

// Kind is the kind of join.
type Kind int

// The kinds of join.
const (
	Inner Kind = iota
	Left
	Right
	Full
)

func (k Kind) String() string {
	return [...]string{"INNER", "LEFT", "RIGHT", "FULL"}[k]
}

// Residual evaluates a join condition beyond the equality keys over candidate
// pairs (a batch of the left columns then the right columns) and returns
// which pairs match.
type Residual func(mem memory.Allocator, pairs arrow.RecordBatch) ([]bool, error)

// Op is a hash join. Its output rows are the left columns then the right
// columns; the outer side's missing columns are NULL.
type Op struct {
	Kind                Kind
	LeftKeys, RightKeys []int // equality keys, pairwise of the same Arrow type
	Residual            Residual
	// Schema is the output's: the left input's LeftWidth columns then the
	// right input's.
	Schema    types.Schema
	LeftWidth int
	// Text describes the join in plans, e.g. "on=[a = b]".
	Text string
}

func (o *Op) String() string {
	return fmt.Sprintf("HashJoin[%s]: %s", o.Kind, o.Text)
}

// outRows is the number of pairs gathered before a batch is emitted.
const outRows = 1 << 15

// Run joins the batches of left with those of right (read to its end first)
// and sends the joined rows to out. It consumes and releases every batch.
func (o *Op) Run(ctx context.Context, mem memory.Allocator, left, right <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	defer drain(left)
	b, err := o.build(ctx, mem, right)
	if err != nil {
		drain(right)
		return err
	}
	defer b.release()
	em := &emitter{o: o, mem: mem, ctx: ctx, out: out, b: b, nLeft: o.LeftWidth}
	for lb := range left {
		err := em.probe(lb)
		lb.Release()
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	if o.Kind == Right || o.Kind == Full {
		if err := em.unmatchedBuild(); err != nil {
			return err
		}
	}
	return nil
}

func drain(ch <-chan arrow.RecordBatch) {
	for b := range ch {
		b.Release()
	}
}

// built is the hashed build side: all its rows as one set of columns, the
// rows of each key chained from head through next (in input order).
type built struct {
	cols    []arrow.Array
	n       int
	head    []int32 // per key id: first row, or -1
	next    []int32 // per row: next row of the same key, or -1
	table   *aggregate.KeyTable
	matched []bool // per row, for RIGHT and FULL joins
}

func (b *built) release() {
	for _, c := range b.cols {
		c.Release()
	}
}

func (o *Op) build(ctx context.Context, mem memory.Allocator, right <-chan arrow.RecordBatch) (*built, error) {
	nRight := -1
	var parts [][]arrow.Array
	for rb := range right {
		if ctx.Err() != nil {
			rb.Release()
			continue
		}
		nRight = int(rb.NumCols())
		parts = append(parts, rb.Columns())
		for _, c := range rb.Columns() {
			c.Retain()
		}
		rb.Release()
	}
	defer func() {
		for _, p := range parts {
			for _, c := range p {
				c.Release()
			}
		}
	}()
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	rightSchema := o.Schema[len(o.Schema)-o.rightWidth():]
	if nRight < 0 {
		nRight = len(rightSchema)
	}
	b := &built{cols: make([]arrow.Array, nRight)}
	for c := range b.cols {
		var col arrow.Array
		var err error
		switch len(parts) {
		case 0:
			bl := array.NewBuilder(mem, rightSchema[c].Type.Arrow())
			col = bl.NewArray()
			bl.Release()
		case 1:
			col = parts[0][c]
			col.Retain()
		default:
			pieces := make([]arrow.Array, len(parts))
			for i, p := range parts {
				pieces[i] = p[c]
			}
			if col, err = array.Concatenate(pieces, mem); err != nil {
				b.release()
				return nil, fmt.Errorf("join: collecting the build side: %w", err)
			}
		}
		b.cols[c] = col
	}
	if nRight > 0 {
		b.n = b.cols[0].Len()
	}
	keys := make([]arrow.Array, len(o.RightKeys))
	keyTypes := make([]arrow.DataType, len(o.RightKeys))
	for i, k := range o.RightKeys {
		keys[i], keyTypes[i] = b.cols[k], b.cols[k].DataType()
	}
	b.table = aggregate.NewKeyTable(keyTypes)
	ids := make([]int32, b.n)
	if err := b.table.Add(keys, ids); err != nil {
		b.release()
		return nil, fmt.Errorf("join: hashing the build side: %w", err)
	}
	if len(keys) == 0 && b.n > 0 {
		// A cross join: every row has the one key.
		for i := range ids {
			ids[i] = 0
		}
	}
	b.head = make([]int32, max(b.table.Len(), 1))
	for i := range b.head {
		b.head[i] = -1
	}
	b.next = make([]int32, b.n)
	for r := b.n - 1; r >= 0; r-- {
		if hasNull(keys, r) {
			b.next[r] = -1
			continue // a NULL key matches nothing
		}
		b.next[r] = b.head[ids[r]]
		b.head[ids[r]] = int32(r)
	}
	if o.Kind == Right || o.Kind == Full {
		b.matched = make([]bool, b.n)
	}
	return b, nil
}

func (o *Op) rightWidth() int { return len(o.Schema) - o.LeftWidth }

func hasNull(keys []arrow.Array, r int) bool {
	for _, k := range keys {
		if k.IsNull(r) {
			return true
		}
	}
	return false
}

// emitter gathers pairs of (left row, right row) and sends them as batches.
type emitter struct {
	o      *Op
	mem    memory.Allocator
	ctx    context.Context
	out    chan<- arrow.RecordBatch
	b      *built
	nLeft  int
	li, ri []int32 // pairs; -1 is a missing side
	ids    []int32
}

func (e *emitter) probe(lb arrow.RecordBatch) error {
	n := int(lb.NumRows())
	if n == 0 {
		return nil
	}
	keys := make([]arrow.Array, len(e.o.LeftKeys))
	for i, k := range e.o.LeftKeys {
		keys[i] = lb.Column(k)
	}
	if cap(e.ids) < n {
		e.ids = make([]int32, n)
	}
	ids := e.ids[:n]
	if err := e.b.table.Find(keys, ids); err != nil {
		return fmt.Errorf("join: probing: %w", err)
	}
	if len(keys) == 0 && e.b.n > 0 {
		for i := range ids {
			ids[i] = 0
		}
	}
	outer := e.o.Kind == Left || e.o.Kind == Full
	var matched []bool
	if outer {
		matched = make([]bool, n)
	}
	for r := 0; r < n; r++ {
		id := ids[r]
		if id < 0 || hasNull(keys, r) {
			continue
		}
		for br := e.b.head[id]; br >= 0; br = e.b.next[br] {
			e.li = append(e.li, int32(r))
			e.ri = append(e.ri, br)
			if len(e.li) >= outRows {
				if err := e.flush(lb, matched); err != nil {
					return err
				}
			}
		}
	}
	if err := e.flush(lb, matched); err != nil {
		return err
	}
	if outer {
		for r, m := range matched {
			if !m {
				e.li = append(e.li, int32(r))
				e.ri = append(e.ri, -1)
			}
		}
		return e.send(lb)
	}
	return nil
}

// flush filters the gathered pairs by the residual condition, records which
// rows matched, and sends them.
func (e *emitter) flush(lb arrow.RecordBatch, matched []bool) error {
	if len(e.li) == 0 {
		return nil
	}
	if e.o.Residual != nil {
		pairs, err := e.gather(lb)
		if err != nil {
			return err
		}
		keep, err := e.o.Residual(e.mem, pairs)
		if err != nil {
			pairs.Release()
			return err
		}
		pairs.Release()
		k := 0
		for i, ok := range keep {
			if ok {
				e.li[k], e.ri[k] = e.li[i], e.ri[i]
				k++
			}
		}
		e.li, e.ri = e.li[:k], e.ri[:k]
	}
	for i := range e.li {
		if matched != nil {
			matched[e.li[i]] = true
		}
		if e.b.matched != nil {
			e.b.matched[e.ri[i]] = true
		}
	}
	return e.send(lb)
}

func (e *emitter) send(lb arrow.RecordBatch) error {
	if len(e.li) == 0 {
		return nil
	}
	rec, err := e.gather(lb)
	if err != nil {
		return err
	}
	e.li, e.ri = e.li[:0], e.ri[:0]
	return e.sendBatch(rec)
}

func (e *emitter) sendBatch(rec arrow.RecordBatch) error {
	select {
	case e.out <- rec:
		return nil
	case <-e.ctx.Done():
		rec.Release()
		return nil
	}
}

// gather builds the batch of the current pairs.
func (e *emitter) gather(lb arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, 0, len(e.o.Schema))
	fail := func(err error) (arrow.RecordBatch, error) {
		for _, c := range cols {
			c.Release()
		}
		return nil, fmt.Errorf("join: %w", err)
	}
	n := len(e.li)
	if lb != nil {
		idx := indexArray(e.mem, e.li)
		for c := 0; c < int(lb.NumCols()); c++ {
			t, err := compute.TakeArray(e.ctx, lb.Column(c), idx)
			if err != nil {
				idx.Release()
				return fail(err)
			}
			cols = append(cols, t)
		}
		idx.Release()
	} else {
		for c := 0; c < e.nLeft; c++ {
			cols = append(cols, array.MakeArrayOfNull(e.mem, e.o.Schema[c].Type.Arrow(), n))
		}
	}
	idx := indexArray(e.mem, e.ri)
	for _, col := range e.b.cols {
		t, err := compute.TakeArray(e.ctx, col, idx)
		if err != nil {
			idx.Release()
			return fail(err)
		}
		cols = append(cols, t)
	}
	idx.Release()
	rec := array.NewRecordBatch(e.o.Schema.Arrow(), cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec, nil
}

// indexArray makes the indices of Take, a negative one being NULL.
func indexArray(mem memory.Allocator, idx []int32) arrow.Array {
	b := array.NewInt32Builder(mem)
	defer b.Release()
	b.Reserve(len(idx))
	for _, v := range idx {
		if v < 0 {
			b.AppendNull()
		} else {
			b.UnsafeAppend(v)
		}
	}
	return b.NewArray()
}

// unmatchedBuild sends the build rows no left row matched, padded with NULLs.
func (e *emitter) unmatchedBuild() error {
	for r, m := range e.b.matched {
		if !m {
			e.li = append(e.li, -1)
			e.ri = append(e.ri, int32(r))
			if len(e.li) >= outRows {
				if err := e.send(nil); err != nil {
					return err
				}
			}
		}
	}
	return e.send(nil)
}
