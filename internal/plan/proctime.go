package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// Processing time, as Flink has it: a column 'name AS PROCTIME()' of
// CREATE TABLE is TIMESTAMP_LTZ(3) NOT NULL, the time a row is read. The
// source does not produce it: the first step of a job reading the table,
// ProcTime, puts the wall clock into it (once per batch: the rows of a
// batch are read together). A window table function over it, in streaming
// mode, fires each window when the clock passes its end (window.Assign's
// ProcTime).

// addProcTime checks a table's PROCTIME() columns and records the one.
func addProcTime(t *Table, st *sql.CreateTable) error {
	for _, c := range st.Columns {
		if !c.ProcTime {
			continue
		}
		if t.ProcTime != "" {
			return errAt(c.At, "table %s has two processing-time columns (%s and %s); declare one", st.Name, t.ProcTime, c.Name)
		}
		t.ProcTime = c.Name
	}
	if t.ProcTime != "" && t.Watermark != nil && t.Schema[t.Watermark.Column].Name == t.ProcTime {
		return errAt(st.At, "the watermark of table %s is on its processing-time column %s; a watermark needs an event-time column", st.Name, t.ProcTime)
	}
	return nil
}

// physical is a table's schema without its processing-time column (what
// its connector reads and writes), and that column's index (-1 for none).
func (t *Table) physical() (types.Schema, int) {
	if t.ProcTime == "" {
		return t.Schema, -1
	}
	i := t.Schema.Index(t.ProcTime)
	out := append(append(types.Schema(nil), t.Schema[:i]...), t.Schema[i+1:]...)
	return out, i
}

// ProcTime inserts the processing time, the wall clock of the batch, as
// column At of its output.
type ProcTime struct {
	At     int
	Schema types.Schema // the output's: the input's columns with the new one at At
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (o *ProcTime) String() string {
	return fmt.Sprintf("ProcTime: %s = PROCTIME()", o.Schema[o.At].Name)
}

// Restore: the operator keeps no state.
func (o *ProcTime) Restore(io.Reader) error {
	return errors.New("ProcTime keeps no state")
}

var _ checkpoint.Operator = (*ProcTime)(nil)

func (o *ProcTime) Run(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	arrowSchema := o.Schema.Arrow()
	for b := range in {
		var next arrow.RecordBatch = b
		if checkpoint.IsBarrier(b) == nil && ctx.Err() == nil {
			n := int(b.NumRows())
			tb := array.NewTimestampBuilder(mem, arrowSchema.Field(o.At).Type.(*arrow.TimestampType))
			tb.Reserve(n)
			ms := arrow.Timestamp(now().UnixMilli())
			for i := 0; i < n; i++ {
				tb.UnsafeAppend(ms)
			}
			col := tb.NewArray()
			tb.Release()
			cols := make([]arrow.Array, 0, b.NumCols()+1)
			cols = append(cols, b.Columns()[:o.At]...)
			cols = append(cols, col)
			cols = append(cols, b.Columns()[o.At:]...)
			next = array.NewRecordBatch(arrowSchema, cols, int64(n))
			col.Release()
			b.Release()
		}
		select {
		case out <- next:
		case <-ctx.Done():
			next.Release()
			for b := range in {
				b.Release()
			}
			return nil
		}
	}
	return nil
}

// isProcTime reports whether column tc of the pipeline so far is the
// processing-time column of the job's table, as its ProcTime step made it.
func isProcTime(job *Job, p *pipeline, tc int) bool {
	t := job.Source.Table
	if t == nil || t.ProcTime == "" || len(p.steps) != 1 {
		return false
	}
	op, ok := p.steps[0].Op.(*ProcTime)
	return ok && op.At == tc
}
