package window

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/checkpoint"
)

// Processing-time windows (Assign.ProcTime, a window over a column AS
// PROCTIME() in streaming mode): the rows are held, as for event time, and
// the watermark is the wall clock, so a window fires once the clock passes
// its end, with or without rows arriving (the clock is looked at every
// procTick). No row is late: its time is when it was read. At the end of
// the input the windows still open fire.

// procTick is how often held windows are checked against the clock.
const procTick = 50 * time.Millisecond

// runProcTime is Run for processing-time windows.
func (a *Assign) runProcTime(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	now := a.Now
	if now == nil {
		now = func() int64 { return time.Now().UnixMilli() }
	}
	var pending []arrow.RecordBatch
	minEnd := int64(math.MaxInt64)
	if st := a.restored; st != nil {
		a.restored = nil
		pending = st.pending
		for _, p := range pending {
			for _, e := range p.Column(len(a.Schema) - 2).(*array.Timestamp).TimestampValues() {
				minEnd = min(minEnd, int64(e))
			}
		}
	}
	defer func() {
		for _, p := range pending {
			p.Release()
		}
	}()
	send := func(b arrow.RecordBatch) bool {
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
	// fire sends the held rows of the windows that end by wm.
	fire := func(wm int64) (bool, error) {
		if len(pending) == 0 || wm < minEnd-1 {
			return true, nil
		}
		all, err := concat(mem, pending)
		pending = nil
		if err != nil {
			return false, err
		}
		fired, kept, err := a.split(ctx, mem, all, wm)
		all.Release()
		if err != nil {
			return false, err
		}
		minEnd = math.MaxInt64
		for _, e := range kept.Column(len(a.Schema) - 2).(*array.Timestamp).TimestampValues() {
			minEnd = min(minEnd, int64(e))
		}
		pending = append(pending, kept)
		return send(fired), nil
	}
	tick := time.NewTicker(procTick)
	defer tick.Stop()
	for {
		var b arrow.RecordBatch
		var ok bool
		select {
		case b, ok = <-in:
		case <-tick.C:
			if cont, err := fire(now()); err != nil || !cont {
				drain(in)
				return err
			}
			continue
		case <-ctx.Done():
			drain(in)
			return nil
		}
		if !ok {
			break
		}
		if br := checkpoint.IsBarrier(b); br != nil {
			st := &assignState{wm: now(), maxSeen: math.MinInt64, pending: pending}
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
				b.Release()
				drain(in)
				return fmt.Errorf("the processing time %s of a row is NULL", a.Schema[a.Time].Name)
			}
			a.Spec.Windows(at(i), func(start, end int64) {
				rows = append(rows, int32(i))
				starts = append(starts, start)
				ends = append(ends, end)
				minEnd = min(minEnd, end)
			})
		}
		expanded, err := a.expand(ctx, mem, b, rows, starts, ends)
		b.Release()
		if err != nil {
			drain(in)
			return err
		}
		pending = append(pending, expanded)
		if cont, err := fire(now()); err != nil || !cont {
			drain(in)
			return err
		}
	}
	if ctx.Err() != nil || len(pending) == 0 {
		return nil
	}
	last, err := concat(mem, pending)
	pending = nil
	if err != nil {
		return err
	}
	send(last)
	return nil
}
