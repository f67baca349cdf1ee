// Package checkpoint holds weir's checkpoints: consistent snapshots of a
// streaming job's source positions, operator state and sink commits, taken
// every execution.checkpointing.interval and written to a directory, from
// which the same job started again resumes (docs/CHECKPOINTS.md).
//
// Consistency comes from aligned barriers, as in Flink: the job asks each
// source goroutine to send a Barrier after its current batch (recording the
// source's Position); the barrier flows through the channels between the
// operators in order with the batches; an operator that receives it (on
// every input, for two) saves its state with Barrier.Save and passes it on;
// a Python stage first finishes its open bundles and sends their results;
// the sink, on the barrier, pre-commits, and the checkpoint is written
// (Store) and then committed. Barriers never reach user code or a sink's
// output.
//
// checkpoint imports only arrow-go.
package checkpoint

import (
	"context"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Source is a source whose reading position a checkpoint keeps. Both
// methods are called from the goroutine that calls Next, never during it.
type Source interface {
	// Position is the position after the last batch Next returned, in the
	// source's own encoding (a source reads back only what it wrote). The
	// job calls it once before the first Next: from then on Next must not
	// block for long while no rows come (it returns a batch of no rows),
	// so that barriers are not held up by an idle source.
	Position() ([]byte, error)
	// Seek moves the source to a position Position returned, before the
	// first Next of a job resumed from a checkpoint; Next then returns the
	// rows after that position (none, io.EOF, if the source had ended).
	Seek(pos []byte) error
}

// Operator is a Go operator that takes part in checkpoints. Every operator
// of a checkpointed job passes each Barrier it receives on, once it has
// come on all its inputs (an input that ended counts as having brought
// it), after the output of the batches before it and before the output of
// those after it. An operator with state saves it first, in its Run
// goroutine, with Barrier.Save.
type Operator interface {
	// Restore loads the state the operator saved at the checkpoint the
	// job resumes from; it is called before Run, and only for an operator
	// that saved state.
	Restore(r io.Reader) error
}

// Snapshotter is a stage that does not see barriers itself (a Python
// stage: the job ends its run at each barrier and starts a new one after
// it) but keeps state across runs: the job calls Snapshot, with the stage
// idle, after the run before the barrier ended. Such a stage implements
// Operator too (Restore).
type Snapshotter interface {
	Operator
	Snapshot(w io.Writer) error
}

// Sink is a sink that commits its output with checkpoints (two-phase). A
// sink without these methods is at-least-once: after a restart it sees
// again the rows after the last checkpoint. All methods are called from the
// goroutine that calls Write.
type Sink interface {
	// PreCommit, on checkpoint id's barrier, flushes everything written
	// before it and returns what must be stored with the checkpoint to
	// finish or verify its commit (nil for nothing).
	PreCommit(ctx context.Context, id int64) ([]byte, error)
	// CommitCheckpoint makes checkpoint id's output visible; it is called
	// once the checkpoint is durably written.
	CommitCheckpoint(ctx context.Context, id int64) error
	// Recover is called when a job resumes, before any Write, with the
	// newest complete checkpoint id and what PreCommit returned for it:
	// it finishes that commit if it can be redone (files) and reports
	// whether the checkpoint's output is committed. When it is not (a
	// Kafka transaction the crash aborted), the job resumes from the
	// checkpoint before, calling Recover again for that one, which must
	// then report it committed.
	Recover(ctx context.Context, id int64, data []byte) (committed bool, err error)
}

// Barrier is checkpoint ID's barrier as it flows through the job's
// channels. It is a RecordBatch of no rows and no columns, so that it
// travels in the channels of batches; code that handles batches must test
// for it (IsBarrier) before looking at a batch's columns.
type Barrier struct {
	arrow.RecordBatch
	ID int64
	// save stores an operator's state; set by the coordinator.
	save func(op any, write func(w io.Writer) error) error
}

// emptySchema is the barrier's schema.
var emptySchema = arrow.NewSchema(nil, nil)

// NewBarrier returns checkpoint id's barrier, whose Save calls save (the
// coordinator's).
func NewBarrier(id int64, save func(op any, write func(w io.Writer) error) error) *Barrier {
	return &Barrier{RecordBatch: array.NewRecordBatch(emptySchema, nil, 0), ID: id, save: save}
}

// IsBarrier returns b as a barrier, or nil when it is a batch of rows.
func IsBarrier(b arrow.RecordBatch) *Barrier {
	br, _ := b.(*Barrier)
	return br
}

// Save stores the state of op (the operator itself, which the job knows
// by its place in the plan) for this checkpoint: write writes it, in the
// operator's own versioned encoding that its Restore reads. Called at most
// once per operator and checkpoint, from the operator's Run goroutine.
func (b *Barrier) Save(op any, write func(w io.Writer) error) error {
	if b.save == nil {
		return nil
	}
	return b.save(op, write)
}

// Retain and Release do nothing: one barrier passes through every
// operator, and its empty batch holds no memory.
func (b *Barrier) Retain()  {}
func (b *Barrier) Release() {}
