package window

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
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
	h := &held{endCol: len(a.Schema) - 2, minEnd: math.MaxInt64}
	if st := a.restored; st != nil {
		a.restored = nil
		h.add(st.pending...)
	}
	defer h.release()
	// fire sends the held rows of the windows that end by wm.
	fire := func(wm int64) (bool, error) {
		fired, err := h.fire(ctx, mem, a, wm)
		if err != nil || fired == nil {
			return err == nil, err
		}
		return sendBatch(ctx, out, fired), nil
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
			st := &assignState{wm: now(), maxSeen: math.MinInt64, pending: h.batches}
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
			})
		}
		expanded, err := a.expand(ctx, mem, b, rows, starts, ends)
		b.Release()
		if err != nil {
			drain(in)
			return err
		}
		h.add(expanded)
		if cont, err := fire(now()); err != nil || !cont {
			drain(in)
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	last, err := h.rest(mem)
	if err != nil || last == nil {
		return err
	}
	sendBatch(ctx, out, last)
	return nil
}
