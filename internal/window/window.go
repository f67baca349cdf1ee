// Package window assigns rows to the windows of Flink's window table-valued
// functions (TUMBLE, HOP, CUMULATE) and, in streaming mode, holds each
// window's rows back until the event-time watermark passes its end.
package window

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/types"
)

// Kind is a window table-valued function.
type Kind int

// The window functions weir runs.
const (
	Tumble Kind = iota
	Hop
	Cumulate
	Session // session.go
)

func (k Kind) String() string {
	return [...]string{"TUMBLE", "HOP", "CUMULATE", "SESSION"}[k]
}

// Spec is a window function with its intervals in milliseconds: Size is
// TUMBLE's size, HOP's size and CUMULATE's max size; Step is HOP's slide and
// CUMULATE's step; Offset shifts the windows' starts (TUMBLE, HOP, CUMULATE).
// SESSION's gap is its Size.
type Spec struct {
	Kind               Kind
	Size, Step, Offset int64
}

// Check reports intervals that do not define windows, as Flink refuses them.
// A streaming window aggregation (sliced, as Flink's) needs HOP's size to be
// a multiple of its slide; batch mode takes any.
func (s Spec) Check(streaming bool) error {
	if s.Kind == Session {
		if s.Size <= 0 {
			return fmt.Errorf("SESSION needs a positive gap")
		}
		return nil
	}
	if s.Size <= 0 {
		return fmt.Errorf("%s needs a positive window size", s.Kind)
	}
	switch s.Kind {
	case Hop:
		if s.Step <= 0 {
			return fmt.Errorf("HOP needs a positive slide")
		}
		if streaming && s.Size%s.Step != 0 {
			return fmt.Errorf("in streaming mode HOP's size must be an integral multiple of its slide (size %d ms, slide %d ms)", s.Size, s.Step)
		}
	case Cumulate:
		if s.Step <= 0 {
			return fmt.Errorf("CUMULATE needs a positive step")
		}
		if s.Size%s.Step != 0 {
			return fmt.Errorf("CUMULATE's max size must be an integral multiple of its step (max size %d ms, step %d ms)", s.Size, s.Step)
		}
	}
	return nil
}

// floorMod is Java's Math.floorMod: the remainder with the divisor's sign.
func floorMod(a, b int64) int64 {
	m := a % b
	if m != 0 && (m < 0) != (b < 0) {
		m += b
	}
	return m
}

// Windows calls fn with the [start, end) of every window holding event
// time ts (milliseconds). Sessions depend on the other rows: none here.
func (s Spec) Windows(ts int64, fn func(start, end int64)) {
	switch s.Kind {
	case Tumble:
		start := ts - floorMod(ts-s.Offset, s.Size)
		fn(start, start+s.Size)
	case Hop:
		last := ts - floorMod(ts-s.Offset, s.Step)
		for start := last; start > ts-s.Size; start -= s.Step {
			fn(start, start+s.Size)
		}
	case Cumulate:
		start := ts - floorMod(ts-s.Offset, s.Size)
		for end := start + s.Step; end <= start+s.Size; end += s.Step {
			if ts < end {
				fn(start, end)
			}
		}
	}
}

// Columns are the names of the columns a window function appends.
var Columns = []string{"window_start", "window_end", "window_time"}

// ColumnType is the type of window_start, window_end and window_time.
var ColumnType = types.TIMESTAMP(3).WithNullable(false)

// Assign is the window table-valued function: each input row once per
// window holding its event time (column Time, a TIMESTAMP of precision up
// to 3), with window_start, window_end and window_time (the end less one
// millisecond) appended. Rows whose event time is NULL belong to no window
// (with Hold they fail the job, as in Flink).
//
// With Hold (a window aggregation in streaming mode) rows are held back
// until the watermark passes their window's end, and every window that the
// watermark passes leaves in one batch, whole: the operator after it may
// treat each batch as complete windows. The watermark is the largest event
// time seen minus Delay, advanced after each row as Flink's watermark
// assigner does; a row's window that the watermark has already passed
// (watermark >= end - 1, Flink's firing rule) is late and the row is dropped
// from it. At the end of the input the watermark goes to +inf and every
// window fires.
type Assign struct {
	Spec   Spec
	Time   int
	Schema types.Schema // the input's columns, then the three window columns
	Hold   bool
	Delay  int64
	// Late counts the (row, window) pairs dropped as late.
	Late int64
	// ProcTime makes held windows processing-time ones, fired by the wall
	// clock (proctime.go); Now is that clock in milliseconds (nil: time.Now).
	ProcTime bool
	Now      func() int64
	// Keys are SESSION's PARTITION BY columns (session.go).
	Keys []int
	// Filter, when set, gives the rows of an input batch that join
	// sessions (the query's WHERE over the input's columns, which Flink
	// applies before its session windows); the other rows still raise the
	// watermark, as the table's watermark is computed before the WHERE.
	Filter func(mem memory.Allocator, b arrow.RecordBatch) ([]bool, error)

	restored *assignState // by Restore, for Run (checkpoint.go)
}

func (a *Assign) String() string {
	s := fmt.Sprintf("WindowTableFunction: %s(time=[%s], size=[%d ms]", a.Spec.Kind, a.Schema[a.Time].Name, a.Spec.Size)
	if a.Spec.Kind == Session {
		var keys []string
		for _, k := range a.Keys {
			keys = append(keys, a.Schema[k].Name)
		}
		s = fmt.Sprintf("WindowTableFunction: SESSION(time=[%s], gap=[%d ms], partition=[%s]", a.Schema[a.Time].Name, a.Spec.Size, strings.Join(keys, ", "))
	} else if a.Spec.Kind != Tumble {
		s += fmt.Sprintf(", step=[%d ms]", a.Spec.Step)
	}
	if a.Spec.Offset != 0 {
		s += fmt.Sprintf(", offset=[%d ms]", a.Spec.Offset)
	}
	s += ")"
	switch {
	case a.Hold && a.ProcTime:
		s += " emit=[processing time]"
	case a.Hold:
		s += fmt.Sprintf(" emit=[watermark, delay %d ms]", a.Delay)
	}
	return s
}

// millis returns the event times of column c in milliseconds and whether
// each is valid.
func millis(c arrow.Array) (func(i int) int64, error) {
	ts, ok := c.(*array.Timestamp)
	if !ok {
		return nil, fmt.Errorf("window: time column is %s, not a timestamp", c.DataType())
	}
	vals := ts.TimestampValues()
	div := int64(1)
	switch ts.DataType().(*arrow.TimestampType).Unit {
	case arrow.Second:
		return func(i int) int64 { return int64(vals[i]) * 1000 }, nil
	case arrow.Microsecond:
		div = 1000
	case arrow.Nanosecond:
		div = 1000000
	}
	return func(i int) int64 { return floorDiv(int64(vals[i]), div) }, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Run assigns the rows of in to their windows.
func (a *Assign) Run(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	if a.Spec.Kind == Session {
		return a.runSession(ctx, mem, in, out)
	}
	if a.ProcTime && a.Hold {
		return a.runProcTime(ctx, mem, in, out)
	}
	wm := int64(math.MinInt64)
	maxSeen := int64(math.MinInt64)
	h := &held{endCol: len(a.Schema) - 2, minEnd: math.MaxInt64}
	if st := a.restored; st != nil {
		a.restored = nil
		wm, maxSeen, a.Late = st.wm, st.maxSeen, st.late
		h.add(st.pending...)
	}
	defer h.release()
	send := func(b arrow.RecordBatch) bool { return sendBatch(ctx, out, b) }
	for b := range in {
		if ctx.Err() != nil {
			b.Release()
			continue
		}
		if br := checkpoint.IsBarrier(b); br != nil {
			st := &assignState{wm: wm, maxSeen: maxSeen, pending: h.batches, late: a.Late}
			if err := br.Save(a, func(w io.Writer) error { return a.save(st, w) }); err != nil {
				drain(in)
				return err
			}
			select {
			case out <- br:
			case <-ctx.Done():
			}
			continue
		}
		at, err := millis(b.Column(a.Time))
		if err != nil {
			b.Release()
			drain(in)
			return err
		}
		col := b.Column(a.Time)
		var rows []int32
		var starts, ends []int64
		for i := 0; i < int(b.NumRows()); i++ {
			if col.IsNull(i) {
				if a.Hold {
					// Flink's window aggregation fails on it too.
					b.Release()
					drain(in)
					return fmt.Errorf("the event time %s of a row is NULL; a window aggregation in streaming mode needs every row's event time, as in Flink (RowTime field should not be null)", a.Schema[a.Time].Name)
				}
				continue
			}
			ts := at(i)
			a.Spec.Windows(ts, func(start, end int64) {
				if a.Hold && wm >= end-1 {
					a.Late++
					return
				}
				rows = append(rows, int32(i))
				starts = append(starts, start)
				ends = append(ends, end)
			})
			if ts > maxSeen {
				maxSeen = ts
				if a.Hold && maxSeen-a.Delay > wm {
					wm = maxSeen - a.Delay
				}
			}
		}
		expanded, err := a.expand(ctx, mem, b, rows, starts, ends)
		b.Release()
		if err != nil {
			drain(in)
			return err
		}
		if !a.Hold {
			if !send(expanded) {
				return nil
			}
			continue
		}
		h.add(expanded)
		fired, err := h.fire(ctx, mem, a, wm)
		if err != nil {
			drain(in)
			return err
		}
		if fired != nil && !send(fired) {
			return nil
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	// End of input: the watermark goes to +inf.
	last, err := h.rest(mem)
	if err != nil || last == nil {
		return err
	}
	send(last)
	return nil
}

// held are the rows a window aggregation in streaming mode keeps until their
// windows fire (window columns included), and the earliest end among them:
// until the watermark reaches it nothing fires and batches are only kept.
type held struct {
	endCol  int // the window_end column
	batches []arrow.RecordBatch
	minEnd  int64
}

// add holds bs.
func (h *held) add(bs ...arrow.RecordBatch) {
	for _, b := range bs {
		h.batches = append(h.batches, b)
		for _, e := range b.Column(h.endCol).(*array.Timestamp).TimestampValues() {
			h.minEnd = min(h.minEnd, int64(e))
		}
	}
}

// fire returns the held rows of the windows that end by the watermark wm,
// keeping the others; nil when none ends yet.
func (h *held) fire(ctx context.Context, mem memory.Allocator, a *Assign, wm int64) (arrow.RecordBatch, error) {
	if len(h.batches) == 0 || wm < h.minEnd-1 {
		return nil, nil
	}
	all, err := concat(mem, h.batches)
	h.batches = nil
	if err != nil {
		return nil, err
	}
	fired, kept, err := a.split(ctx, mem, all, wm)
	all.Release()
	if err != nil {
		return nil, err
	}
	h.minEnd = math.MaxInt64
	h.add(kept)
	return fired, nil
}

// rest returns every held row (the end of the input fires all windows), nil
// when none is held.
func (h *held) rest(mem memory.Allocator) (arrow.RecordBatch, error) {
	if len(h.batches) == 0 {
		return nil, nil
	}
	all, err := concat(mem, h.batches)
	h.batches = nil
	return all, err
}

func (h *held) release() {
	for _, b := range h.batches {
		b.Release()
	}
	h.batches = nil
}

// sendBatch sends b to out unless it is empty (then released) or ctx ends
// first (then released, and false).
func sendBatch(ctx context.Context, out chan<- arrow.RecordBatch, b arrow.RecordBatch) bool {
	if b.NumRows() == 0 {
		b.Release()
		return true
	}
	select {
	case out <- b:
		return true
	case <-ctx.Done():
		b.Release()
		return false
	}
}

// expand takes rows of b (one per window) and appends the window columns.
func (a *Assign) expand(ctx context.Context, mem memory.Allocator, b arrow.RecordBatch, rows []int32, starts, ends []int64) (arrow.RecordBatch, error) {
	idx := array.NewInt32Builder(mem)
	idx.AppendValues(rows, nil)
	ia := idx.NewArray()
	idx.Release()
	defer ia.Release()
	cols := make([]arrow.Array, 0, b.NumCols()+3)
	release := func() {
		for _, c := range cols {
			c.Release()
		}
	}
	// Each row once, in order (TUMBLE without NULL times): the input's
	// columns as they are.
	same := len(rows) == int(b.NumRows())
	for i := 0; same && i < len(rows); i++ {
		same = rows[i] == int32(i)
	}
	for c := 0; c < int(b.NumCols()); c++ {
		if same {
			col := b.Column(c)
			col.Retain()
			cols = append(cols, col)
			continue
		}
		t, err := compute.TakeArray(compute.WithAllocator(ctx, mem), b.Column(c), ia)
		if err != nil {
			release()
			return nil, fmt.Errorf("window: %w", err)
		}
		cols = append(cols, t)
	}
	dt := ColumnType.Arrow()
	for k := 0; k < 3; k++ {
		tb := array.NewTimestampBuilder(mem, dt.(*arrow.TimestampType))
		tb.Reserve(len(rows))
		for i := range rows {
			v := starts[i]
			switch k {
			case 1:
				v = ends[i]
			case 2:
				v = ends[i] - 1
			}
			tb.UnsafeAppend(arrow.Timestamp(v))
		}
		cols = append(cols, tb.NewArray())
		tb.Release()
	}
	rec := array.NewRecordBatch(a.Schema.Arrow(), cols, int64(len(rows)))
	release()
	return rec, nil
}

// split divides held rows into those of windows the watermark passed and
// the rest.
func (a *Assign) split(ctx context.Context, mem memory.Allocator, b arrow.RecordBatch, wm int64) (fired, kept arrow.RecordBatch, err error) {
	ends := b.Column(len(a.Schema) - 2).(*array.Timestamp).TimestampValues()
	var f, k []int32
	for i, e := range ends {
		if wm >= int64(e)-1 {
			f = append(f, int32(i))
		} else {
			k = append(k, int32(i))
		}
	}
	if fired, err = takeRows(ctx, mem, b, f); err != nil {
		return nil, nil, err
	}
	if kept, err = takeRows(ctx, mem, b, k); err != nil {
		fired.Release()
		return nil, nil, err
	}
	return fired, kept, nil
}

func takeRows(ctx context.Context, mem memory.Allocator, b arrow.RecordBatch, rows []int32) (arrow.RecordBatch, error) {
	idx := array.NewInt32Builder(mem)
	idx.AppendValues(rows, nil)
	ia := idx.NewArray()
	idx.Release()
	defer ia.Release()
	cols := make([]arrow.Array, b.NumCols())
	for c := range cols {
		t, err := compute.TakeArray(compute.WithAllocator(ctx, mem), b.Column(c), ia)
		if err != nil {
			for _, x := range cols[:c] {
				x.Release()
			}
			return nil, fmt.Errorf("window: %w", err)
		}
		cols[c] = t
	}
	rec := array.NewRecordBatch(b.Schema(), cols, int64(len(rows)))
	for _, c := range cols {
		c.Release()
	}
	return rec, nil
}

// concat joins batches of one schema into one and releases them.
func concat(mem memory.Allocator, bs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	defer func() {
		for _, b := range bs {
			b.Release()
		}
	}()
	if len(bs) == 1 {
		bs[0].Retain()
		return bs[0], nil
	}
	cols := make([]arrow.Array, bs[0].NumCols())
	var rows int64
	for _, b := range bs {
		rows += b.NumRows()
	}
	for c := range cols {
		parts := make([]arrow.Array, len(bs))
		for i, b := range bs {
			parts[i] = b.Column(c)
		}
		j, err := array.Concatenate(parts, mem)
		if err != nil {
			for _, p := range cols[:c] {
				p.Release()
			}
			return nil, fmt.Errorf("window: %w", err)
		}
		cols[c] = j
	}
	rec := array.NewRecordBatch(bs[0].Schema(), cols, rows)
	for _, c := range cols {
		c.Release()
	}
	return rec, nil
}

func drain(in <-chan arrow.RecordBatch) {
	for b := range in {
		b.Release()
	}
}

// Aggregate is the window aggregation of streaming mode: it runs Agg (whose
// keys include window_start and window_end) over each input batch alone.
// Its input comes from an Assign with Hold, whose batches each hold whole
// windows that no later row joins, so each result is final: the output is
// insertions only, emitted as the watermark passes the windows' ends.
type Aggregate struct {
	Agg *aggregate.Op
}

func (w *Aggregate) String() string {
	return "WindowAggregate: " + w.Agg.String()
}

// Run aggregates each batch of in on its own.
func (w *Aggregate) Run(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	for b := range in {
		if br := checkpoint.IsBarrier(b); br != nil {
			// Each batch is aggregated whole: no state between batches.
			select {
			case out <- br:
			case <-ctx.Done():
			}
			continue
		}
		if ctx.Err() != nil || b.NumRows() == 0 {
			b.Release()
			continue
		}
		one := make(chan arrow.RecordBatch, 1)
		one <- b
		close(one)
		res := make(chan arrow.RecordBatch)
		errc := make(chan error, 1)
		go func() {
			defer close(res)
			errc <- w.Agg.Run(ctx, mem, one, res)
		}()
		for r := range res {
			select {
			case out <- r:
			case <-ctx.Done():
				r.Release()
			}
		}
		if err := <-errc; err != nil {
			drain(in)
			return err
		}
	}
	return nil
}
