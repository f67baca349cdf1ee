// Package stream holds weir's streaming operators: they consume and produce
// changelogs (see internal/changelog) and emit results as rows arrive
// instead of when the input ends.
//
//   - GroupAgg is Flink's streaming GroupAggregate: GROUP BY (and SELECT
//     DISTINCT, a GroupAgg without aggregates) emitting +I for a new group
//     and -U/+U as its result changes, -D when all its rows were taken
//     back; it consumes updates (retracting COUNT, SUM, AVG; MIN and MAX
//     over a multiset of the values; distinct aggregates counting each
//     value's occurrences).
//   - Materialize applies a changelog and, at the end of its bounded input,
//     sends the rows left as insertions: how weir runs an operator that
//     needs its whole input (ORDER BY ... LIMIT, a join) over updates.
//   - Join is Flink's regular streaming join: an inner join on equal keys
//     (none for a cross join) keeping both inputs as state by key and
//     emitting each match when its later row arrives, so that neither input
//     needs to end.
//
// Results are emitted per input row, as Flink does without mini-batches;
// output rows are gathered into one batch per input batch.
//
// stream imports types, aggregate (the functions and their result types,
// the key table), exec (value-at-a-time access) and changelog.
package stream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/changelog"
	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// WithRowKind returns schema with the row-kind column appended.
func WithRowKind(schema types.Schema) types.Schema {
	out := append(types.Schema(nil), schema...)
	return append(out, types.Field{Name: changelog.RowKindColumn, Type: types.TINYINT.NotNull()})
}

// GroupAgg is a streaming group aggregation. Its input is the key columns
// Keys and the aggregates' argument and filter columns, optionally followed
// by the row-kind column; its output is Schema (the keys in order, then one
// column per aggregate) followed by the row-kind column.
type GroupAgg struct {
	Keys   []int
	Aggs   []aggregate.Spec
	Schema types.Schema
	// Retracting is set when the input has updates: MIN and MAX then keep
	// every value.
	Retracting bool
	// EmitEmpty makes a global aggregation (no keys) over an input that
	// turned out empty emit its one row at the end, as Flink does when its
	// planner proves the input empty (a filtered VALUES).
	EmitEmpty bool
	// Name is the operator's name in plans and errors (GroupAggregate or
	// the DISTINCT form).
	Name string

	restored *restoredGroups // by Restore, for Run (checkpoint.go)
}

// String describes the operator for EXPLAIN.
func (o *GroupAgg) String() string {
	var keys, aggs []string
	for i := range o.Keys {
		keys = append(keys, o.Schema[i].Name)
	}
	for _, a := range o.Aggs {
		aggs = append(aggs, a.Label)
	}
	return fmt.Sprintf("GroupAggregate: groupBy=[%s] select=[%s] changelog=[I,UB,UA,D]", strings.Join(keys, ", "), strings.Join(aggs, ", "))
}

// Check reports the first aggregate call the operator cannot run.
func (o *GroupAgg) Check() error {
	for _, s := range o.Aggs {
		if _, err := newAccFactory(s, o.Retracting); err != nil {
			return err
		}
	}
	return nil
}

// group is one group's state; accs is nil while the group holds no rows.
type group struct {
	keys  []any
	accs  []acc
	rows  int64 // rows accumulated minus rows taken back
	value []any // the result last emitted
}

// Run aggregates the batches of in, sending after each one the changes it
// made to the groups' results. It releases the input batches.
func (o *GroupAgg) Run(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	factories := make([]accFactory, len(o.Aggs))
	for i, s := range o.Aggs {
		f, err := newAccFactory(s, o.Retracting)
		if err != nil {
			drain(in)
			return err
		}
		factories[i] = f
	}
	var keyTypes []arrow.DataType
	for i := range o.Keys {
		keyTypes = append(keyTypes, o.Schema[i].Type.Arrow())
	}
	st, err := o.start(mem, keyTypes)
	if err != nil {
		drain(in)
		return err
	}
	table, groups := st.table, st.groups
	var ids []int32
	em := newEmitter(WithRowKind(o.Schema))
	seen := st.seen
	for b := range in {
		if ctx.Err() != nil {
			b.Release()
			continue
		}
		if br := checkpoint.IsBarrier(b); br != nil {
			st.groups, st.seen = groups, seen
			if err := br.Save(o, func(w io.Writer) error { return o.save(st, w) }); err != nil {
				drain(in)
				return fmt.Errorf("%s: %w", o.Name, err)
			}
			select {
			case out <- br:
			case <-ctx.Done():
			}
			continue
		}
		n := int(b.NumRows())
		if n == 0 {
			b.Release()
			continue
		}
		seen = true
		ids = append(ids[:0], make([]int32, n)...)
		keys := make([]arrow.Array, len(o.Keys))
		for i, k := range o.Keys {
			keys[i] = b.Column(k)
		}
		if err := table.Add(keys, ids); err != nil {
			b.Release()
			drain(in)
			return fmt.Errorf("%s: %w", o.Name, err)
		}
		for len(groups) < table.Len() {
			groups = append(groups, nil)
		}
		kinds := changelog.Kinds(b)
		for r := 0; r < n; r++ {
			g := groups[ids[r]]
			if g == nil {
				g = &group{keys: make([]any, len(keys))}
				for i, k := range keys {
					g.keys[i] = keep(exec.ValueAt(k, r))
				}
				groups[ids[r]] = g
			}
			o.apply(g, b, r, changelog.At(kinds, r), factories, em)
		}
		b.Release()
		if err := em.flush(ctx, mem, out); err != nil {
			drain(in)
			return fmt.Errorf("%s: %w", o.Name, err)
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if !seen && len(o.Keys) == 0 && o.EmitEmpty {
		accs := make([]acc, len(factories))
		vals := make([]any, len(factories))
		for i, f := range factories {
			accs[i] = f()
			vals[i] = accs[i].value()
		}
		em.add(changelog.Insert, nil, vals)
		if err := em.flush(ctx, mem, out); err != nil {
			return fmt.Errorf("%s: %w", o.Name, err)
		}
	}
	return nil
}

// apply applies row r of b, of kind k, to its group g and emits the change
// of g's result, following Flink's GroupAggFunction: a new group emits +I; a
// changed result -U (the old) and +U (the new); an unchanged one nothing; a
// group whose rows were all taken back -D, and its state is dropped. A
// retraction reaching a group without state is ignored.
func (o *GroupAgg) apply(g *group, b arrow.RecordBatch, r int, k changelog.Kind, factories []accFactory, em *emitter) {
	accumulate := k.Accumulates()
	first := false
	if g.accs == nil {
		if !accumulate {
			return
		}
		g.accs = make([]acc, len(factories))
		for i, f := range factories {
			g.accs[i] = f()
		}
		first = true
	}
	for i, s := range o.Aggs {
		if s.HasFilter {
			f := b.Column(s.Filter).(*array.Boolean)
			if f.IsNull(r) || !f.Value(r) {
				continue
			}
		}
		var v any
		if s.Func != aggregate.CountStar {
			v = exec.ValueAt(b.Column(s.Arg), r)
		}
		g.accs[i].add(v, !accumulate)
	}
	if accumulate {
		g.rows++
	} else {
		g.rows--
	}
	if g.rows <= 0 {
		if !first {
			em.add(changelog.Delete, g.keys, g.value)
		}
		g.accs, g.value, g.rows = nil, nil, 0
		return
	}
	value := make([]any, len(g.accs))
	for i, a := range g.accs {
		value[i] = a.value()
	}
	if first {
		em.add(changelog.Insert, g.keys, value)
	} else {
		if sameValues(g.value, value) {
			return
		}
		em.add(changelog.UpdateBefore, g.keys, g.value)
		em.add(changelog.UpdateAfter, g.keys, value)
	}
	g.value = value
}

// sameValues compares two results as Flink's equaliser does, value by
// value in their binary form (NaN equals NaN, -0.0 differs from 0.0).
func sameValues(a, b []any) bool {
	for i := range a {
		if !sameValue(a[i], b[i]) {
			return false
		}
	}
	return true
}

func sameValue(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case float32:
		y, ok := b.(float32)
		return ok && math.Float32bits(x) == math.Float32bits(y)
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	}
	return a == b
}

// emitter gathers output rows, column by column, into the next batch; the
// row kinds go into the batch's last column when its schema has one (else
// every row must be an insertion).
type emitter struct {
	schema   types.Schema
	withKind bool
	cols     [][]any
	kinds    []int8
}

func newEmitter(schema types.Schema) *emitter {
	n := len(schema)
	withKind := n > 0 && schema[n-1].Name == changelog.RowKindColumn
	if withKind {
		n--
	}
	return &emitter{schema: schema, withKind: withKind, cols: make([][]any, n)}
}

func (e *emitter) add(k changelog.Kind, keys, values []any) {
	for i, v := range keys {
		e.cols[i] = append(e.cols[i], v)
	}
	for i, v := range values {
		e.cols[len(keys)+i] = append(e.cols[len(keys)+i], v)
	}
	e.kinds = append(e.kinds, int8(k))
}

// flush sends the rows gathered, if any, as one batch.
func (e *emitter) flush(ctx context.Context, mem memory.Allocator, out chan<- arrow.RecordBatch) error {
	n := len(e.kinds)
	if n == 0 {
		return nil
	}
	arrs := make([]arrow.Array, 0, len(e.schema))
	release := func() {
		for _, a := range arrs {
			a.Release()
		}
	}
	for i, vals := range e.cols {
		a, err := exec.BuildArray(mem, e.schema[i].Type, vals)
		if err != nil {
			release()
			return fmt.Errorf("stream: output column %s: %w", e.schema[i].Name, err)
		}
		arrs = append(arrs, a)
		e.cols[i] = vals[:0]
	}
	if e.withKind {
		kb := array.NewInt8Builder(mem)
		kb.AppendValues(e.kinds, nil)
		arrs = append(arrs, kb.NewArray())
		kb.Release()
	}
	e.kinds = e.kinds[:0]
	rec := array.NewRecordBatch(e.schema.Arrow(), arrs, int64(n))
	release()
	select {
	case out <- rec:
	case <-ctx.Done():
		rec.Release()
	}
	return nil
}

func drain(in <-chan arrow.RecordBatch) {
	for b := range in {
		b.Release()
	}
}
