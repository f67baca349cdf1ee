package window

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/checkpoint"
)

// assignState is what a window assignment holding rows keeps between
// batches: the watermark, the largest event time seen, the rows held
// (window columns included) and the count of late rows.
type assignState struct {
	wm, maxSeen int64
	pending     []arrow.RecordBatch
	late        int64
}

const assignVersion = 1

// save writes the state: the watermark, the largest event time and the
// late count as varints, then the held rows as an Arrow IPC stream.
func (a *Assign) save(st *assignState, w io.Writer) error {
	e := checkpoint.NewEncoder(w)
	e.Header("WindowTableFunction", assignVersion)
	e.Varint(st.wm)
	e.Varint(st.maxSeen)
	e.Varint(st.late)
	e.Batches(a.Schema.Arrow(), st.pending)
	return e.Err()
}

// Restore reads the state a checkpoint saved; Run starts from it.
func (a *Assign) Restore(r io.Reader) error {
	d := checkpoint.NewDecoder(r)
	if err := d.Header("WindowTableFunction", assignVersion); err != nil {
		return err
	}
	st := &assignState{wm: d.Varint(), maxSeen: d.Varint(), late: d.Varint()}
	st.pending = d.Batches(memory.DefaultAllocator)
	if d.Err() != nil {
		return fmt.Errorf("window: state: %w", d.Err())
	}
	for _, b := range st.pending {
		if !b.Schema().Equal(a.Schema.Arrow()) {
			return fmt.Errorf("window: state: held rows of schema %s, the operator's is %s (was the job changed?)", b.Schema(), a.Schema.Arrow())
		}
	}
	a.restored = st
	return nil
}

// Restore of a window aggregation: it keeps no state between batches
// (each holds whole windows), so it never saved any.
func (w *Aggregate) Restore(io.Reader) error {
	return fmt.Errorf("window aggregation: no state to restore")
}

var (
	_ checkpoint.Operator = (*Assign)(nil)
	_ checkpoint.Operator = (*Aggregate)(nil)
)
