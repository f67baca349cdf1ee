// Package aggregate is weir's hash aggregation over Arrow batches: GROUP BY
// keys hashed to dense group ids batch by batch, and the built-in aggregate
// functions (COUNT(*), COUNT, SUM, AVG, MIN, MAX, FIRST_VALUE, LAST_VALUE,
// LISTAGG, VAR_POP, VAR_SAMP, STDDEV_POP, STDDEV_SAMP, each optionally
// DISTINCT and with a FILTER) kept as typed per-group columns, with Flink's
// result types and NULL rules.
//
// It runs in batch fashion: the result is emitted when the input ends. The
// groups stay within the memory budget in the context (internal/spill);
// beyond it the rows of new keys spill to disk, partitioned by key, and are
// aggregated partition by partition at the end (spill.go).
//
// aggregate imports types and spill.
package aggregate

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/spill"
	"github.com/weir-dev/weir/internal/types"
)

// Func is an aggregate function.
type Func int

// The aggregate functions.
const (
	CountStar Func = iota + 1
	Count
	Sum
	Avg
	Min
	Max
	// FirstValue and LastValue are the first and last non-NULL values in
	// input order.
	FirstValue
	LastValue
	// ListAgg concatenates the non-NULL strings in input order, separated
	// by Spec.Separator.
	ListAgg
	// VarPop, VarSamp, StddevPop and StddevSamp are the population and
	// sample variance and standard deviation.
	VarPop
	VarSamp
	StddevPop
	StddevSamp
	// Collect gives each group's values, NULLs included, in input order,
	// as one ARRAY: the input of a Python aggregate function. Its SQL name
	// "$COLLECT" cannot be written in SQL; the planner makes the calls.
	Collect
	// CollectPacked is Collect for the Python aggregate functions of batch
	// mode: over an integer, FLOAT or DOUBLE argument each group's values
	// come packed in one BYTES value (see PackCollected), which the worker
	// reads without a Python list; over other types it is Collect. Its SQL
	// name is "$COLLECT_PACKED".
	CollectPacked
)

var funcNames = map[string]Func{"COUNT": Count, "SUM": Sum, "AVG": Avg, "MIN": Min, "MAX": Max,
	"FIRST_VALUE": FirstValue, "LAST_VALUE": LastValue, "LISTAGG": ListAgg,
	"VAR_POP": VarPop, "VAR_SAMP": VarSamp, "VARIANCE": VarSamp,
	"STDDEV_POP": StddevPop, "STDDEV_SAMP": StddevSamp, "STDDEV": StddevSamp,
	"$COLLECT": Collect, "$COLLECT_PACKED": CollectPacked}

// Lookup returns the aggregate function of a SQL name (any case).
func Lookup(name string) (Func, bool) {
	f, ok := funcNames[strings.ToUpper(name)]
	return f, ok
}

// String returns the SQL name.
func (f Func) String() string {
	if f == CountStar {
		return "COUNT"
	}
	for _, n := range []string{"COUNT", "SUM", "AVG", "MIN", "MAX", "FIRST_VALUE", "LAST_VALUE", "LISTAGG",
		"VAR_POP", "VAR_SAMP", "STDDEV_POP", "STDDEV_SAMP", "$COLLECT", "$COLLECT_PACKED"} {
		if funcNames[n] == f {
			return n
		}
	}
	return "?"
}

// ResultType returns the type of f over an argument of type in, as Flink
// types it: COUNT is BIGINT NOT NULL; SUM keeps the argument's type (DECIMAL
// widens to precision 38); AVG keeps it too (AVG of INT is INT); MIN and
// MAX keep it; AVG of DECIMAL(p, s) is DECIMAL(38, max(s, 6)). Global (no GROUP BY) results other than COUNT are nullable,
// since an empty input gives NULL. It fails for argument types f does not
// take.
func ResultType(f Func, in types.T, global bool) (types.T, error) {
	if f == CountStar || f == Count {
		return types.BIGINT.NotNull(), nil
	}
	if f == CollectPacked && packTag(in) != 0 {
		return types.BYTES.NotNull(), nil
	}
	if f == Collect || f == CollectPacked {
		return types.ARRAY(in.WithNullable(true)).NotNull(), nil
	}
	out := in
	if global {
		out = out.WithNullable(true)
	}
	switch f {
	case Sum, Avg:
		switch {
		case in.IsInteger(), in.Kind == types.Float, in.Kind == types.Double:
			return out, nil
		case in.Kind == types.Decimal:
			// SUM widens to precision 38; AVG also to scale 6 at least.
			out.Precision = 38
			if f == Avg {
				out.Scale = max(out.Scale, 6)
			}
			return out, nil
		}
		return types.T{}, fmt.Errorf("%s needs a numeric argument, got %s", f, in)
	case FirstValue, LastValue:
		switch {
		case in.IsNumeric(), in.IsString(), in.IsBinary(), in.Kind == types.Boolean,
			in.Kind == types.Date, in.Kind == types.Time, in.Kind == types.Timestamp, in.Kind == types.TimestampLTZ:
			return in.WithNullable(true), nil
		}
		return types.T{}, fmt.Errorf("%s over %s is not supported", f, in)
	case VarPop, VarSamp, StddevPop, StddevSamp:
		// Nullable: a sample of one row has no sample variance.
		out = in.WithNullable(true)
		switch {
		case in.IsInteger(), in.Kind == types.Float, in.Kind == types.Double:
			return out, nil
		case in.Kind == types.Decimal:
			out.Precision, out.Scale = 38, max(out.Scale, 6)
			return out, nil
		}
		return types.T{}, fmt.Errorf("%s needs a numeric argument, got %s", f, in)
	case ListAgg:
		// Flink types LISTAGG as its argument.
		if in.IsString() {
			return in, nil
		}
		return types.T{}, fmt.Errorf("LISTAGG needs a string argument, got %s", in)
	case Min, Max:
		switch {
		// Flink has no MIN/MAX over BINARY and BYTES.
		case in.IsNumeric(), in.IsString(), in.Kind == types.Boolean,
			in.Kind == types.Date, in.Kind == types.Time, in.Kind == types.Timestamp, in.Kind == types.TimestampLTZ:
			return out, nil
		}
		return types.T{}, fmt.Errorf("%s over %s is not supported", f, in)
	}
	return types.T{}, fmt.Errorf("unknown aggregate %d", f)
}

// Spec is one aggregate call: Func over input column Arg (unused for
// COUNT(*)), of type In, giving Out.
type Spec struct {
	Func     Func
	Distinct bool
	Arg      int
	// Filter is the input column (BOOLEAN) of FILTER (WHERE ...), used when
	// HasFilter is set.
	Filter    int
	HasFilter bool
	In, Out   types.T
	// Separator joins the values of LISTAGG.
	Separator string
	// Label names the call in plans, e.g. SUM(v).
	Label string
}

// Op is a hash aggregation: its output has the Keys columns of the input
// (in order) and then one column per aggregate, one row per group. With no
// keys it has exactly one row, even for an empty input.
type Op struct {
	Keys   []int
	Aggs   []Spec
	Schema types.Schema
	// BatchRows bounds the rows of each output batch (default 65536).
	BatchRows int
}

// String describes the operator for EXPLAIN.
func (o *Op) String() string {
	var keys, aggs []string
	for i := range o.Keys {
		keys = append(keys, o.Schema[i].Name)
	}
	for _, a := range o.Aggs {
		aggs = append(aggs, a.Label)
	}
	return fmt.Sprintf("HashAggregate: groupBy=[%s] select=[%s]", strings.Join(keys, ", "), strings.Join(aggs, ", "))
}

// Run aggregates every batch of in and, when in is closed, sends the
// groups' results to out. It releases the input batches.
func (o *Op) Run(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	if budget := spill.FromContext(ctx); budget != nil && len(o.Keys) > 0 {
		return o.runBounded(ctx, mem, budget, in, out, 0)
	}
	st, err := o.newState(mem)
	if err != nil {
		drain(in)
		return err
	}
	for b := range in {
		if ctx.Err() != nil {
			b.Release()
			continue
		}
		err := st.add(b)
		b.Release()
		if err != nil {
			drain(in)
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return o.emit(ctx, st, out)
}

func drain(in <-chan arrow.RecordBatch) {
	for b := range in {
		b.Release()
	}
}

// state is an aggregation in progress.
type state struct {
	op     *Op
	mem    memory.Allocator
	groups *groups
	accs   []acc
	// distinct holds, per DISTINCT aggregate, the (group, value) pairs seen.
	distinct []map[string]struct{}
	ids      []int32
	keys     []arrow.Array
}

func (o *Op) newState(mem memory.Allocator) (*state, error) {
	st := &state{op: o, mem: mem}
	var keyTypes []arrow.DataType
	for i := range o.Keys {
		keyTypes = append(keyTypes, o.Schema[i].Type.Arrow())
	}
	st.groups = newGroups(keyTypes, mem)
	for _, s := range o.Aggs {
		a, err := newAcc(s)
		if err != nil {
			return nil, err
		}
		st.accs = append(st.accs, a)
		var seen map[string]struct{}
		if s.Distinct {
			seen = map[string]struct{}{}
		}
		st.distinct = append(st.distinct, seen)
	}
	return st, nil
}

// add aggregates one batch.
func (s *state) add(b arrow.RecordBatch) error {
	n := int(b.NumRows())
	if n == 0 {
		return nil
	}
	s.ids = grow(s.ids[:0], n)[:n]
	s.keys = s.keys[:0]
	for _, k := range s.op.Keys {
		s.keys = append(s.keys, b.Column(k))
	}
	if err := s.groups.assign(s.keys, s.ids); err != nil {
		return err
	}
	groups := int(s.groups.n)
	for i, a := range s.accs {
		spec := s.op.Aggs[i]
		var col arrow.Array
		if spec.Func != CountStar {
			col = b.Column(spec.Arg)
		}
		if !spec.Distinct && !spec.HasFilter {
			a.update(col, s.ids, groups)
			continue
		}
		var filter *array.Boolean
		if spec.HasFilter {
			filter = b.Column(spec.Filter).(*array.Boolean)
		}
		if err := s.updateSome(i, a, col, filter, groups); err != nil {
			return err
		}
	}
	return nil
}

// updateSome passes to a only some rows: those its FILTER (WHERE ...) keeps
// (NULL counts as false), and for a DISTINCT aggregate those whose (group,
// value) is new, NULLs skipped as DISTINCT aggregates ignore them.
func (s *state) updateSome(i int, a acc, col arrow.Array, filter *array.Boolean, groups int) error {
	n := len(s.ids)
	distinct := s.op.Aggs[i].Distinct
	var enc [][]byte
	if distinct {
		enc = make([][]byte, n)
		for r := range enc {
			enc[r] = binary.LittleEndian.AppendUint32(nil, uint32(s.ids[r]))
		}
		if err := encodeColumn(col, enc); err != nil {
			return err
		}
	}
	seen := s.distinct[i]
	var rows []int32
	var ids []int32
	for r := 0; r < n; r++ {
		if filter != nil && (filter.IsNull(r) || !filter.Value(r)) {
			continue
		}
		if distinct {
			if col.IsNull(r) {
				continue
			}
			if _, ok := seen[string(enc[r])]; ok {
				continue
			}
			seen[string(enc[r])] = struct{}{}
		}
		rows = append(rows, int32(r))
		ids = append(ids, s.ids[r])
	}
	if len(rows) == 0 {
		return nil
	}
	if col == nil {
		// COUNT(*) needs only the groups.
		a.update(nil, ids, groups)
		return nil
	}
	idx := array.NewInt32Builder(s.mem)
	idx.AppendValues(rows, nil)
	idxArr := idx.NewArray()
	idx.Release()
	defer idxArr.Release()
	taken, err := compute.TakeArray(context.Background(), col, idxArr)
	if err != nil {
		return fmt.Errorf("aggregate: %w", err)
	}
	defer taken.Release()
	a.update(taken, ids, groups)
	return nil
}

// finish returns one row per group.
func (s *state) finish() (arrow.RecordBatch, error) {
	n := int(s.groups.n)
	if len(s.op.Keys) == 0 {
		n = 1 // one row even for an empty input
	} else if n == 0 {
		for _, b := range s.groups.keyOut {
			b.Release()
		}
		cols := make([]arrow.Array, len(s.op.Schema))
		for i, f := range s.op.Schema {
			cols[i] = array.MakeArrayOfNull(s.mem, f.Type.Arrow(), 0)
		}
		return array.NewRecordBatch(s.op.Schema.Arrow(), cols, 0), nil
	}
	var cols []arrow.Array
	for _, b := range s.groups.keyOut {
		cols = append(cols, b.NewArray())
		b.Release()
	}
	for _, a := range s.accs {
		cols = append(cols, a.build(s.mem, n))
		if c, ok := a.(*collectAcc); ok && c.err != nil {
			for _, col := range cols {
				col.Release()
			}
			return nil, c.err
		}
	}
	rec := array.NewRecordBatch(s.op.Schema.Arrow(), cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec, nil
}

// emitParts sends the results of s's groups when its $COLLECTs build them a
// part at a time (collectAcc.lazy): parts of at most size groups and about
// collectPartRows values, each built and sent before the next is built. It
// reports false when there is no such $COLLECT (s is untouched then).
func (s *state) emitParts(ctx context.Context, size int, out chan<- arrow.RecordBatch) (bool, error) {
	n := int(s.groups.n)
	var lazy []*collectAcc
	for _, a := range s.accs {
		if c, ok := a.(*collectAcc); ok && c.lazy() {
			lazy = append(lazy, c)
		}
	}
	if len(lazy) == 0 || len(s.op.Keys) == 0 || n == 0 {
		return false, nil
	}
	offsets := make([][]int32, len(lazy))
	for i, c := range lazy {
		var err error
		if offsets[i], err = c.offsetsOf(n); err != nil {
			s.discard()
			return true, err
		}
	}
	// The parts: by the values of the first $COLLECT (the others' differ
	// only by their FILTERs).
	bounds := []int{0}
	partOf := make([]int32, n)
	for g := 0; g < n; g++ {
		lo := bounds[len(bounds)-1]
		if g > lo && (g-lo >= size || offsets[0][g+1]-offsets[0][lo] > collectPartRows) {
			bounds = append(bounds, g)
		}
		partOf[g] = int32(len(bounds) - 1)
	}
	bounds = append(bounds, n)
	for i, c := range lazy {
		c.partition(offsets[i], bounds, partOf)
	}
	// The keys and the other aggregates whole, then sliced.
	var whole []arrow.Array
	defer func() {
		for _, c := range whole {
			if c != nil {
				c.Release()
			}
		}
		for _, c := range lazy {
			c.release()
		}
	}()
	for _, b := range s.groups.keyOut {
		whole = append(whole, b.NewArray())
		b.Release()
	}
	s.groups.keyOut = nil
	for _, a := range s.accs {
		if c, ok := a.(*collectAcc); ok && c.parts != nil {
			whole = append(whole, nil)
			continue
		}
		whole = append(whole, a.build(s.mem, n))
		if c, ok := a.(*collectAcc); ok && c.err != nil {
			return true, c.err
		}
	}
	for i := 0; i+1 < len(bounds); i++ {
		lo, hi := bounds[i], bounds[i+1]
		cols := make([]arrow.Array, len(whole))
		var err error
		for j, c := range whole {
			if c != nil {
				cols[j] = array.NewSlice(c, int64(lo), int64(hi))
				continue
			}
			if cols[j], err = s.accs[j-len(s.op.Keys)].(*collectAcc).buildPart(s.mem, i, lo, hi); err != nil {
				break
			}
		}
		if err != nil {
			for _, c := range cols {
				if c != nil {
					c.Release()
				}
			}
			return true, err
		}
		rec := array.NewRecordBatch(s.op.Schema.Arrow(), cols, int64(hi-lo))
		for _, c := range cols {
			c.Release()
		}
		select {
		case out <- rec:
		case <-ctx.Done():
			rec.Release()
			return true, nil
		}
	}
	return true, nil
}
