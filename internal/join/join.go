// Package join runs hash joins over Arrow record batches: INNER, LEFT,
// RIGHT and FULL OUTER joins on equality keys, with an optional residual
// condition, and cross joins (no keys).
//
// The right input is the build side: its rows are collected, then hashed by
// their keys (aggregate.KeyTable, the hashing of GROUP BY keys). The left
// input is the probe side and is streamed. The build side is held in memory
// within the budget in the context (internal/spill); beyond it the join is a
// grace hash join (grace.go). As in Flink, a row whose key has a NULL matches
// no row.
//
// join imports types, aggregate and spill.
package join

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/spill"
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
	// Semi keeps the left rows that match (IN, EXISTS), each once; Anti
	// those that do not (NOT EXISTS). AntiNull is NOT IN: when the right
	// side has rows, a NULL key on either side makes the condition NULL,
	// so a left row with a NULL key is dropped, and every row is when the
	// right side has a NULL key. These output only the left columns.
	Semi
	Anti
	AntiNull
)

func (k Kind) String() string {
	return [...]string{"INNER", "LEFT", "RIGHT", "FULL", "SEMI", "ANTI", "ANTI NULL-AWARE"}[k]
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
	// RightSchema is the right input's, for the joins that output only
	// the left columns (Semi, Anti, AntiNull).
	RightSchema types.Schema
	// SingleRow fails the join when the right input has more than one row
	// (a scalar subquery).
	SingleRow bool
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
	if budget := spill.FromContext(ctx); budget != nil && len(o.RightKeys) > 0 && !o.SingleRow {
		return o.runBounded(ctx, mem, budget, left, right, out, 0)
	}
	return o.runInMemory(ctx, mem, left, right, out, false)
}

// runInMemory joins with the whole build side (right) in memory.
// partOfMany says the right input is one partition of a larger build side
// that has rows and no NULL key (grace.go).
func (o *Op) runInMemory(ctx context.Context, mem memory.Allocator, left, right <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch, partOfMany bool) error {
	defer drain(left)
	b, err := o.build(ctx, mem, right)
	if err != nil {
		drain(right)
		return err
	}
	defer b.release()
	em := &emitter{o: o, mem: mem, ctx: ctx, out: out, b: b, nLeft: o.LeftWidth, partOfMany: partOfMany}
	if o.Kind >= Semi {
		return em.semi(left)
	}
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
	rightSchema := o.Schema[o.LeftWidth:]
	if o.Kind >= Semi {
		rightSchema = o.RightSchema
	}
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
	if o.SingleRow && b.n > 1 {
		b.release()
		return nil, fmt.Errorf("a subquery used as a value gave %d rows; it may give at most one", b.n)
	}
	return b, nil
}

func anyNulls(keys []arrow.Array) bool {
	for _, k := range keys {
		if k.NullN() > 0 {
			return true
		}
	}
	return false
}

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
	// partOfMany: b is one partition of a build side that has rows and no
	// NULL key, which the null-aware anti join must know.
	partOfMany bool
}

func (e *emitter) probe(lb arrow.RecordBatch) error {
	n := int(lb.NumRows())
	if n == 0 {
		return nil
	}
	keys, ids, err := e.findIDs(lb)
	if err != nil {
		return err
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
	nulls := anyNulls(keys) // decided once per batch: most keys have none
	for r := 0; r < n; r++ {
		id := ids[r]
		if id < 0 || (nulls && hasNull(keys, r)) {
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
	// take gathers rows of a column: a typed loop where it can (gather.go),
	// else compute.Take through the index array, made once per side.
	take := func(col arrow.Array, rows []int32, missing bool, idx *arrow.Array) (arrow.Array, error) {
		if !missing {
			if t, ok := takeFast(e.mem, col, rows); ok {
				return t, nil
			}
		}
		if *idx == nil {
			*idx = indexArray(e.mem, rows)
		}
		return compute.TakeArray(e.ctx, col, *idx)
	}
	var lidx, ridx arrow.Array
	defer func() {
		for _, a := range []arrow.Array{lidx, ridx} {
			if a != nil {
				a.Release()
			}
		}
	}()
	if lb != nil {
		missing := hasMissing(e.li)
		for c := 0; c < int(lb.NumCols()); c++ {
			t, err := take(lb.Column(c), e.li, missing, &lidx)
			if err != nil {
				return fail(err)
			}
			cols = append(cols, t)
		}
	} else {
		for c := 0; c < e.nLeft; c++ {
			cols = append(cols, array.MakeArrayOfNull(e.mem, e.o.Schema[c].Type.Arrow(), n))
		}
	}
	missing := hasMissing(e.ri)
	for _, col := range e.b.cols {
		t, err := take(col, e.ri, missing, &ridx)
		if err != nil {
			return fail(err)
		}
		cols = append(cols, t)
	}
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

// semi runs the semi and anti joins: each left row is kept or dropped whole.
func (e *emitter) semi(left <-chan arrow.RecordBatch) error {
	buildNull := false
	if e.o.Kind == AntiNull {
		keys := make([]arrow.Array, len(e.o.RightKeys))
		for i, k := range e.o.RightKeys {
			keys[i] = e.b.cols[k]
		}
		for r := 0; r < e.b.n && !buildNull; r++ {
			buildNull = hasNull(keys, r)
		}
	}
	for lb := range left {
		if e.ctx.Err() != nil {
			lb.Release()
			continue
		}
		n := int(lb.NumRows())
		keys, ids, err := e.findIDs(lb)
		if err != nil {
			lb.Release()
			return err
		}
		var sel []int32
		for r := 0; r < n; r++ {
			found := false
			if len(keys) == 0 {
				found = e.b.n > 0
			} else if id := ids[r]; id >= 0 && !hasNull(keys, r) {
				found = e.b.head[id] >= 0
			}
			keep := false
			switch e.o.Kind {
			case Semi:
				keep = found
			case Anti:
				keep = !found
			case AntiNull:
				keep = (e.b.n == 0 && !e.partOfMany) || (!found && !buildNull && !hasNull(keys, r))
			}
			if keep {
				sel = append(sel, int32(r))
			}
		}
		err = e.sendRows(lb, sel)
		lb.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// sendRows sends the rows sel of b (the left columns only).
func (e *emitter) sendRows(b arrow.RecordBatch, sel []int32) error {
	if len(sel) == 0 {
		return nil
	}
	schema := e.o.Schema.Arrow()
	if len(sel) == int(b.NumRows()) {
		return e.sendBatch(array.NewRecordBatch(schema, b.Columns(), b.NumRows()))
	}
	idx := indexArray(e.mem, sel)
	defer idx.Release()
	cols := make([]arrow.Array, 0, b.NumCols())
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for _, c := range b.Columns() {
		t, err := compute.TakeArray(e.ctx, c, idx)
		if err != nil {
			return fmt.Errorf("join: %w", err)
		}
		cols = append(cols, t)
	}
	return e.sendBatch(array.NewRecordBatch(schema, cols, int64(len(sel))))
}

// findIDs looks the key of each row of lb up in the build side's table; it
// returns the key columns and, per row, the id of its key or -1 (in a buffer
// reused across batches).
func (e *emitter) findIDs(lb arrow.RecordBatch) ([]arrow.Array, []int32, error) {
	n := int(lb.NumRows())
	keys := make([]arrow.Array, len(e.o.LeftKeys))
	for i, k := range e.o.LeftKeys {
		keys[i] = lb.Column(k)
	}
	if cap(e.ids) < n {
		e.ids = make([]int32, n)
	}
	ids := e.ids[:n]
	if err := e.b.table.Find(keys, ids); err != nil {
		return nil, nil, fmt.Errorf("join: probing: %w", err)
	}
	return keys, ids, nil
}
