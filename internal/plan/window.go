package plan

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
	"github.com/weir-dev/weir/internal/window"
)

// This file plans event time: a table's WATERMARK, the window
// table-valued functions TUMBLE, HOP and CUMULATE, and in streaming mode
// their window aggregation, emitted once per window when the watermark
// passes its end.

// Watermark is a table's WATERMARK FOR column AS column [- INTERVAL ...]:
// Column is the event-time column's index, Delay the interval in
// milliseconds.
type Watermark struct {
	Column int
	Delay  int64
}

// addWatermark checks a table's WATERMARK definition and keeps it on t.
func addWatermark(t *Table, w *sql.Watermark) error {
	col := -1
	for i, f := range t.Schema {
		if strings.EqualFold(f.Name, w.Column) {
			col = i
		}
	}
	if col < 0 {
		return errAt(w.ColumnAt, "WATERMARK FOR %s: table %s has no column %s", w.Column, t.Name, w.Column)
	}
	if err := checkTimeColumn(w.ColumnAt, t.Schema[col]); err != nil {
		return err
	}
	refersTo := func(x sql.Expr) bool {
		id, ok := x.(*sql.Ident)
		return ok && len(id.Parts) == 1 && strings.EqualFold(id.Parts[0], w.Column)
	}
	var delay int64
	switch x := w.Expr.(type) {
	case *sql.Ident:
		if !refersTo(x) {
			return errAt(x.At, "weir supports a watermark of the event-time column itself, or less an interval: WATERMARK FOR %s AS %s - INTERVAL '5' SECOND", w.Column, w.Column)
		}
	case *sql.Binary:
		if x.Op != "-" || !refersTo(x.L) {
			return errAt(x.At, "weir supports a watermark of the event-time column less an interval: WATERMARK FOR %s AS %s - INTERVAL '5' SECOND", w.Column, w.Column)
		}
		ms, err := intervalMillis(x.R, "the watermark's delay")
		if err != nil {
			return err
		}
		if ms < 0 {
			return errAt(x.R.Pos(), "the watermark's delay must not be negative")
		}
		delay = ms
	default:
		return errAt(w.Expr.Pos(), "weir supports a watermark of the event-time column less an interval: WATERMARK FOR %s AS %s - INTERVAL '5' SECOND", w.Column, w.Column)
	}
	t.Watermark = &Watermark{Column: col, Delay: delay}
	return nil
}

// checkTimeColumn refuses event-time columns weir's windows cannot use.
func checkTimeColumn(at sql.Pos, f types.Field) error {
	switch {
	case f.Type.Kind == types.TimestampLTZ:
		return errAt(at, "event time %s is TIMESTAMP_LTZ, which weir's windows do not support yet; use TIMESTAMP(3)", f.Name)
	case f.Type.Kind != types.Timestamp:
		return errAt(at, "event time %s is %s; it must be TIMESTAMP(p) with p up to 3", f.Name, f.Type)
	case f.Type.Precision > 3:
		return errAt(at, "event time %s is %s; the precision of an event-time column is at most 3, as in Flink", f.Name, f.Type)
	}
	return nil
}

// intervalMillis reads a day-time INTERVAL literal in milliseconds.
func intervalMillis(x sql.Expr, what string) (int64, error) {
	lit, ok := x.(*sql.IntervalLit)
	if !ok {
		return 0, errAt(x.Pos(), "%s must be an interval literal, e.g. INTERVAL '10' MINUTE", what)
	}
	e, err := intervalLiteral(lit)
	if err != nil {
		return 0, err
	}
	l, ok := e.(*expr.Literal)
	if !ok || l.T.Kind != types.IntervalDayTime {
		return 0, errAt(x.Pos(), "%s must be a day-time interval (DAY, HOUR, MINUTE or SECOND); months and years are not supported by windows", what)
	}
	v, ok := l.Value.(int64)
	if !ok {
		return 0, errAt(x.Pos(), "%s: unexpected interval value %v", what, l.Value)
	}
	return v, nil
}

// planWindowTVF plans TABLE(TUMBLE|HOP|CUMULATE(TABLE t, DESCRIPTOR(ts),
// ...)): the input table, then the window assignment adding window_start,
// window_end and window_time.
func planWindowTVF(cat *catalog, f *sql.WindowTVF, job *Job, p *pipeline) (scope, error) {
	in, err := planFrom(cat, f.Input, job, p)
	if err != nil {
		return nil, err
	}
	if p.window != nil {
		return nil, errAt(f.At, "weir supports one window table function per query")
	}
	tc, err := in.resolve(&sql.Ident{At: f.TimeColAt, Parts: []string{f.TimeCol}})
	if err != nil {
		return nil, err
	}
	procTime := isProcTime(job, p, tc) // proctime.go
	if err := checkTimeColumn(f.TimeColAt, p.schema[tc]); err != nil && !procTime {
		return nil, err
	}
	var wm *Watermark
	if t := job.Source.Table; t != nil && len(p.steps) == 0 && t.Watermark != nil && t.Watermark.Column == tc {
		wm = t.Watermark
	}
	if cat.streaming && wm == nil && !procTime {
		return nil, errAt(f.TimeColAt, "in streaming mode the window's time column must be a time attribute: declare WATERMARK FOR %s AS %s - INTERVAL ... in table %s, or use a column AS PROCTIME()", f.TimeCol, f.TimeCol, f.Input.Name)
	}
	if p.hasRowKind() {
		return nil, errAt(f.At, "a window table function over rows that are updated as they arrive is not supported, as in Flink")
	}
	var spec window.Spec
	if f.Func == "SESSION" {
		if spec, err = sessionSpec(cat, f); err != nil {
			return nil, err
		}
	} else if spec, err = alignedSpec(cat, f); err != nil {
		return nil, err
	}
	var keys []int
	for i, k := range f.PartitionBy {
		c, err := in.resolve(&sql.Ident{At: f.PartitionByAt[i], Parts: []string{k}})
		if err != nil {
			return nil, err
		}
		keys = append(keys, c)
	}
	schema := append(types.Schema(nil), p.schema...)
	qual := f.Alias
	if qual == "" {
		qual = f.Input.Name
	}
	out := make(scope, 0, len(in)+3)
	for _, c := range in {
		c.qual = qual
		out = append(out, c)
	}
	for _, n := range window.Columns {
		schema = append(schema, types.Field{Name: n, Type: window.ColumnType})
		out = append(out, column{qual: qual, name: n, t: window.ColumnType})
	}
	// A session's rows are held until it closes, with or without a window
	// aggregation after it, as in Flink.
	op := &window.Assign{Spec: spec, Time: tc, Schema: schema, ProcTime: procTime, Keys: keys, Hold: spec.Kind == window.Session}
	if wm != nil {
		op.Delay = wm.Delay
	}
	p.steps = append(p.steps, Step{Op: op})
	p.schema = schema
	p.window = op
	return out, nil
}

// addWindowAgg plans, in streaming mode, an aggregation grouped by
// window_start and window_end over a window table function: the windows'
// rows are held until the watermark passes their end and each window is
// aggregated once, an insertion. It reports false when the grouping is not
// by the window (Flink then runs a regular, updating aggregation) and in
// batch mode.
func (p *pipeline) addWindowAgg(cat *catalog, op *aggregate.Op, groupingSets bool, at sql.Pos) (bool, error) {
	if !cat.streaming || p.window == nil || p.hasRowKind() {
		return false, nil
	}
	var start, end bool
	for _, k := range op.Keys {
		switch op.Schema[k].Name {
		case "window_start":
			start = true
		case "window_end":
			end = true
		}
	}
	if !start || !end {
		return false, nil
	}
	if groupingSets {
		return false, errAt(at, "GROUPING SETS, ROLLUP and CUBE over a window table function are not supported by weir yet")
	}
	// Each batch from the held windows must reach the aggregation whole: a
	// Python stage may cut batches into bundles.
	after := false
	for _, s := range p.steps {
		if s.Op == p.window {
			after = true
		}
		if after && s.Python != nil {
			return false, errAt(at, "Python functions between a window table function and its window aggregation are not supported by weir yet in streaming mode; call them on the aggregation's results")
		}
	}
	p.window.Hold = true
	p.pushSessionFilter()
	p.steps = append(p.steps, Step{Op: &window.Aggregate{Agg: op}})
	p.schema = op.Schema
	return true, nil
}

// refuseWindowJoin refuses, in streaming mode, a join with a window table
// function on one side: Flink runs it as a window join, which drops late
// rows and emits each window once; weir has no window join yet.
func refuseWindowJoin(cat *catalog, j *sql.Join) error {
	if !cat.streaming {
		return nil
	}
	var find func(f sql.From) *sql.WindowTVF
	find = func(f sql.From) *sql.WindowTVF {
		switch f := f.(type) {
		case *sql.WindowTVF:
			return f
		case *sql.Join:
			if w := find(f.Left); w != nil {
				return w
			}
			return find(f.Right)
		case *sql.Subquery:
			if f.Query != nil {
				return find(f.Query.From)
			}
		}
		return nil
	}
	if w := find(j); w != nil {
		return errAt(w.At, "joins of window table functions (window joins) are not supported by weir yet in streaming mode; run the query in batch mode (SET 'execution.runtime-mode' = 'batch')")
	}
	return nil
}

// alignedSpec reads the intervals of TUMBLE, HOP and CUMULATE.
func alignedSpec(cat *catalog, f *sql.WindowTVF) (window.Spec, error) {
	spec := window.Spec{}
	var err error
	var names []string
	switch f.Func {
	case "TUMBLE":
		spec.Kind, names = window.Tumble, []string{"the window size"}
	case "HOP":
		spec.Kind, names = window.Hop, []string{"the slide", "the window size"}
	case "CUMULATE":
		spec.Kind, names = window.Cumulate, []string{"the step", "the max window size"}
	}
	if len(f.Args) != len(names) && len(f.Args) != len(names)+1 {
		return spec, errAt(f.FuncAt, "%s takes TABLE t, DESCRIPTOR(time column), %s [, offset]: %d interval arguments given", f.Func, strings.Join(names, ", "), len(f.Args))
	}
	ms := make([]int64, len(f.Args))
	for i, a := range f.Args {
		what := "the offset"
		if i < len(names) {
			what = f.Func + "'s " + strings.TrimPrefix(names[i], "the ")
		}
		if ms[i], err = intervalMillis(a, what); err != nil {
			return spec, err
		}
	}
	switch spec.Kind {
	case window.Tumble:
		spec.Size = ms[0]
	default:
		spec.Step, spec.Size = ms[0], ms[1]
	}
	if len(ms) > len(names) {
		spec.Offset = ms[len(names)]
	}
	if err := spec.Check(cat.streaming); err != nil {
		return spec, errAt(f.FuncAt, "%v", err)
	}
	return spec, nil
}

// sessionSpec reads SESSION's gap. Flink 2.3 runs session windows in
// streaming mode only, and so does weir.
func sessionSpec(cat *catalog, f *sql.WindowTVF) (window.Spec, error) {
	spec := window.Spec{Kind: window.Session}
	if !cat.streaming {
		return spec, errAt(f.FuncAt, "SESSION windows are not supported in batch mode, as in Flink 2.3 (unaligned windows like session are not supported in batch mode yet); run the query in streaming mode (SET 'execution.runtime-mode' = 'streaming')")
	}
	if len(f.Args) != 1 {
		return spec, errAt(f.FuncAt, "SESSION takes TABLE t [PARTITION BY k], DESCRIPTOR(time column), gap: %d interval arguments given", len(f.Args))
	}
	gap, err := intervalMillis(f.Args[0], "SESSION's gap")
	if err != nil {
		return spec, err
	}
	spec.Size = gap
	if err := spec.Check(true); err != nil {
		return spec, errAt(f.Args[0].Pos(), "%v", err)
	}
	return spec, nil
}

// pushSessionFilter gives a SESSION window aggregation's window the WHERE
// of the calculation right after it, when that filter reads only the
// input's columns and calls no Python function: Flink's window aggregation
// filters its input before it assigns sessions (a filtered row bridges no
// sessions), while the watermark still comes from every row. (Without a
// window aggregation Flink filters the window function's output, as weir
// does.) The calculation keeps the filter, a no-op then.
func (p *pipeline) pushSessionFilter() {
	w := p.window
	if w == nil || w.Spec.Kind != window.Session {
		return
	}
	for i, s := range p.steps {
		if s.Op != w {
			continue
		}
		if i+1 == len(p.steps) || p.steps[i+1].Calc == nil || p.steps[i+1].Calc.Filter == nil {
			return
		}
		f := p.steps[i+1].Calc.Filter
		nIn := len(w.Schema) - len(window.Columns)
		ok := !expr.HasPyCall(f)
		expr.Walk(f, func(x expr.Expr) bool {
			if c, isCol := x.(*expr.Column); isCol && c.Index >= nIn {
				ok = false
			}
			return ok
		})
		if !ok {
			return
		}
		calc := &exec.Calc{Projections: []expr.Expr{f}, Schema: types.Schema{{Name: "$where", Type: f.Type()}}}
		w.Filter = func(mem memory.Allocator, b arrow.RecordBatch) ([]bool, error) {
			out, err := calc.Apply(mem, b)
			if err != nil {
				return nil, err
			}
			defer out.Release()
			col, isBool := out.Column(0).(*array.Boolean)
			if !isBool {
				return nil, fmt.Errorf("WHERE gave %s, not BOOLEAN", out.Column(0).DataType())
			}
			pass := make([]bool, col.Len())
			for r := range pass {
				pass[r] = col.IsValid(r) && col.Value(r)
			}
			return pass, nil
		}
		return
	}
}

// isGroupWindowFunc reports whether name is one of Flink's group window
// functions (GROUP BY TUMBLE(ts, size), SESSION_START(...), ...), which weir
// does not run: it runs the window table functions.
func isGroupWindowFunc(name string) bool {
	for _, w := range []string{"TUMBLE", "HOP", "SESSION", "CUMULATE"} {
		switch name {
		case w, w + "_START", w + "_END", w + "_ROWTIME", w + "_PROCTIME":
			return true
		}
	}
	return false
}
