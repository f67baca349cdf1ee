// Package over computes OVER windows over Arrow batches, in batch fashion:
// the operator gathers its input, sorts it by the partition keys and then
// the window's ORDER BY keys (with sortop), and appends one column per window
// function, computed partition by partition over the sorted rows: rankings
// (ROW_NUMBER, RANK, DENSE_RANK, PERCENT_RANK, CUME_DIST, NTILE), offsets
// (LAG, LEAD, FIRST_VALUE, LAST_VALUE) and aggregates (COUNT, SUM, AVG, MIN,
// MAX, LISTAGG) over ROWS or RANGE frames.
//
// The Top-N pattern (ROW_NUMBER() ... WHERE rn <= n) runs without the full
// sort: a sorted slice per partition keeps the best n rows seen (topn.go).
//
// over imports types, aggregate (partition ids) and sortop only.
package over

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/sortop"
	"github.com/weir-dev/weir/internal/types"
)

// Func is a window function.
type Func int

// The window functions.
const (
	RowNumber Func = iota
	Rank
	DenseRank
	PercentRank
	CumeDist
	Ntile
	Lag
	Lead
	FirstValue
	LastValue
	Count
	CountStar
	Sum
	Avg
	Min
	Max
	ListAgg
	// PythonAgg is a Python aggregate function over the frame (python.go).
	PythonAgg
)

var funcNames = [...]string{
	RowNumber: "ROW_NUMBER", Rank: "RANK", DenseRank: "DENSE_RANK", PercentRank: "PERCENT_RANK",
	CumeDist: "CUME_DIST", Ntile: "NTILE", Lag: "LAG", Lead: "LEAD", FirstValue: "FIRST_VALUE",
	LastValue: "LAST_VALUE", Count: "COUNT", CountStar: "COUNT", Sum: "SUM", Avg: "AVG", Min: "MIN", Max: "MAX",
	ListAgg: "LISTAGG", PythonAgg: "$PYTHON",
}

// String returns the SQL name of f.
func (f Func) String() string { return funcNames[f] }

// Lookup returns the window function called name (any case); COUNT is
// Count (the planner turns COUNT(*) into CountStar).
func Lookup(name string) (Func, bool) {
	up := strings.ToUpper(name)
	for f, n := range funcNames {
		if n == up {
			return Func(f), true
		}
	}
	return 0, false
}

// Ranking reports whether f numbers rows by the order alone (it takes no
// argument and no frame).
func (f Func) Ranking() bool { return f <= Ntile }

// BoundKind is the kind of a frame bound.
type BoundKind int

// The bound kinds, in the order a frame's start may not pass its end.
const (
	UnboundedPreceding BoundKind = iota
	Preceding
	CurrentRow
	Following
	UnboundedFollowing
)

// Bound is one end of a frame. For ROWS, Rows is the n of n PRECEDING or n
// FOLLOWING; for RANGE, the offset is Int (when IsInt) or Float, in the
// units of the ORDER BY key (decimal keys in their unscaled units).
type Bound struct {
	Kind  BoundKind
	Rows  int64
	Int   int64
	Float float64
	IsInt bool
}

// Frame is the frame of an aggregate or value function.
type Frame struct {
	Rows       bool
	Start, End Bound
}

// Call is one window function of an Op.
type Call struct {
	Func Func
	// Arg is the input column of the argument, -1 for none; Default is the
	// column of LAG/LEAD's default (of Out's type, like Arg), -1 for none.
	Arg, Default int
	// N is LAG/LEAD's offset or NTILE's bucket count; Sep is LISTAGG's
	// separator.
	N   int64
	Sep string
	// Args are the argument columns of a Python aggregate function.
	Args  []int
	Frame Frame
	Out   types.T
	// Label describes the call for EXPLAIN.
	Label string
}

// Op appends the values of Calls, all over the window PARTITION BY
// Partition ORDER BY Order, to each input row. Its output is the input's
// columns and then one column per call, sorted by the window.
type Op struct {
	Schema    types.Schema
	Partition []int
	Order     []sortop.Key
	Calls     []Call
	// Limit > 0 keeps only the rows for which call TopCall (a ROW_NUMBER,
	// RANK or DENSE_RANK) is at most Limit: the Top-N pattern.
	Limit   int64
	TopCall int
	// MaxArgBytes > 0 bounds the argument values of one Python call that
	// one chunk may carry (python.go): a frame over more is refused with
	// the call and the partition named, before the Python stage would
	// refuse the row it makes.
	MaxArgBytes int64
	// compactSlack overrides the Top-N path's slack (outRows) in tests.
	compactSlack int64
}

// outRows bounds the rows of each output batch.
const outRows = 65536

// OutSchema is the schema of the output: the input's and the calls', or,
// with Python calls, the packs' (python.go).
func (o *Op) OutSchema() types.Schema {
	if o.HasPython() {
		_, s := o.PackLayout()
		return s
	}
	return o.ResultSchema()
}

// String describes the operator for EXPLAIN.
func (o *Op) String() string {
	var part, order, calls []string
	for _, c := range o.Partition {
		part = append(part, o.Schema[c].Name)
	}
	for _, k := range o.Order {
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
		order = append(order, s)
	}
	for _, c := range o.Calls {
		calls = append(calls, c.Label)
	}
	kind := "OverAggregate"
	if o.topN() {
		kind = "WindowTopN"
	}
	s := fmt.Sprintf("%s: partitionBy=[%s] orderBy=[%s] select=[%s]", kind, strings.Join(part, ", "), strings.Join(order, ", "), strings.Join(calls, ", "))
	if o.Limit > 0 {
		s += fmt.Sprintf(" rankEnd=%d", o.Limit)
	}
	return s
}

// Run computes the windows over the batches of in and sends the rows with
// the calls' values to out. It releases the input batches.
func (o *Op) Run(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	defer drain(in)
	if o.topN() {
		return o.runTopN(ctx, mem, in, out)
	}
	var pool []arrow.RecordBatch
	defer func() {
		for _, b := range pool {
			b.Release()
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
		pool = append(pool, b)
	}
	if ctx.Err() != nil || len(pool) == 0 {
		return nil
	}
	rec, err := concat(mem, o.Schema, pool)
	if err != nil {
		return err
	}
	defer rec.Release()
	return o.emit(ctx, mem, rec, out)
}

// emit sorts rec by the window, computes the calls and sends the result.
func (o *Op) emit(ctx context.Context, mem memory.Allocator, rec arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	res, err := o.compute(ctx, mem, rec)
	if err != nil {
		return err
	}
	defer res.Release()
	sendSlices(ctx, res, out)
	return nil
}

// sendSlices sends res to out in slices of at most outRows rows, until ctx
// is done.
func sendSlices(ctx context.Context, res arrow.RecordBatch, out chan<- arrow.RecordBatch) {
	for lo := int64(0); lo < res.NumRows(); lo += outRows {
		part := res.NewSlice(lo, min(res.NumRows(), lo+outRows))
		select {
		case out <- part:
		case <-ctx.Done():
			part.Release()
			return
		}
	}
}

// compute returns rec's rows sorted by the window, with the calls' columns.
func (o *Op) compute(ctx context.Context, mem memory.Allocator, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	cols := rec.Columns()
	keys := make([]sortop.Key, 0, len(o.Partition)+len(o.Order))
	for _, c := range o.Partition {
		keys = append(keys, sortop.Key{Col: c, NullsFirst: true})
	}
	keys = append(keys, o.Order...)
	idx, err := sortop.Order(cols, keys, n)
	if err != nil {
		return nil, fmt.Errorf("over: %w", err)
	}
	w, err := o.layout(cols, idx)
	if err != nil {
		return nil, err
	}
	results := make([]arrow.Array, len(o.Calls))
	defer func() {
		for _, r := range results {
			if r != nil {
				r.Release()
			}
		}
	}()
	for i, c := range o.Calls {
		if c.Func == PythonAgg {
			continue
		}
		if results[i], err = o.call(ctx, mem, w, cols, c); err != nil {
			return nil, err
		}
	}
	if o.HasPython() {
		sorted, err := sortop.Take(ctx, mem, rec, idx, o.Schema)
		if err != nil {
			return nil, fmt.Errorf("over: %w", err)
		}
		defer sorted.Release()
		return o.pack(ctx, mem, w, sorted.Columns(), results)
	}
	keep := idx
	var sel []int32 // positions kept, when Limit filters
	if o.Limit > 0 {
		rank := results[o.TopCall].(*array.Int64).Int64Values()
		keep = nil
		for p, r := range rank {
			if r <= o.Limit {
				sel = append(sel, int32(p))
				keep = append(keep, idx[p])
			}
		}
	}
	sorted, err := sortop.Take(ctx, mem, rec, keep, o.Schema)
	if err != nil {
		return nil, fmt.Errorf("over: %w", err)
	}
	defer sorted.Release()
	outCols := append([]arrow.Array(nil), sorted.Columns()...)
	for i, r := range results {
		if sel != nil {
			if r, err = takeArray(ctx, mem, r, sel); err != nil {
				return nil, err
			}
			results[i].Release()
			results[i] = r
		}
		outCols = append(outCols, r)
	}
	return array.NewRecordBatch(o.OutSchema().Arrow(), outCols, int64(len(keep))), nil
}

func drain(in <-chan arrow.RecordBatch) {
	for b := range in {
		b.Release()
	}
}

// concat joins batches of schema into one.
func concat(mem memory.Allocator, schema types.Schema, batches []arrow.RecordBatch) (arrow.RecordBatch, error) {
	rows := int64(0)
	for _, b := range batches {
		rows += b.NumRows()
	}
	cols, err := sortop.ConcatColumns(mem, len(schema), batches)
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("over: %w", err)
	}
	return array.NewRecordBatch(schema.Arrow(), cols, rows), nil
}
