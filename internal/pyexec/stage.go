package pyexec

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/coder"
	"github.com/weir-dev/weir/internal/fnapi"
	"github.com/weir-dev/weir/internal/types"
	"github.com/weir-dev/weir/internal/weirpb"
)

// Stage is a Python stage of a job.
type Stage struct {
	// Spec is what the workers compute.
	Spec *weirpb.Stage
	// Inputs are the columns of an incoming batch that go to Python, in the
	// order of Spec.InputTypes.
	Inputs []int
	// InputTypes are the types of Inputs.
	InputTypes []types.T
	// Forward are the columns of an incoming batch put in front of the
	// results in each output batch.
	Forward []int
	// Results are the result columns: one per output of a scalar stage, the
	// table function's columns for a table stage.
	Results types.Schema
	// Output is the schema of output batches: Forward's columns then Results.
	Output types.Schema
	// LeftJoin keeps, for a table stage, input rows without results, with
	// NULL results (LEFT JOIN LATERAL ... ON TRUE).
	LeftJoin bool

	id string
}

// Table reports whether s runs a table function.
func (s *Stage) Table() bool { return s.Spec.GetKind() == weirpb.Stage_TABLE }

// Register makes the stage's descriptor available to the workers.
func (p *Pool) Register(s *Stage) error {
	s.id = fmt.Sprintf("stage-%p", s)
	d, err := descriptor(s.id, p.srv.URL(), s.Spec)
	if err != nil {
		return err
	}
	p.srv.AddDescriptor(d)
	return nil
}

var emptySchema = arrow.NewSchema(nil, nil)

// maxBundleBytes closes a bundle early when its rows are wide: a bundle is
// held until its results are complete, so this bounds the engine's memory
// per bundle in flight whatever the row size.
const maxBundleBytes = 8 << 20

// bundle is the unit sent to one worker: some input batches, kept until
// their results are complete.
type bundle struct {
	seq      int
	batches  []arrow.RecordBatch
	arrived  []time.Time // when each batch reached the stage
	elements [][]byte    // encoded input elements, one per batch
	rows     int
	bytes    int // what the bundle holds: encoded input and forwarded columns
	t        token
	b        *fnapi.Bundle
	attempts int
	err      error
}

func (b *bundle) release() {
	for _, r := range b.batches {
		r.Release()
	}
	b.batches = nil
	b.elements = nil
}

// Run streams the batches of in through stage s and sends the output
// batches to out in input order. It returns when in is closed and every
// result has been sent, or at the first error. Batches received from in are
// released; batches sent on out are the receiver's to release.
func (p *Pool) Run(ctx context.Context, s *Stage, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	if s.id == "" {
		if err := p.Register(s); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	inflight := make(chan *bundle, p.cfg.Workers*p.cfg.InFlight)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(inflight)
		if err := p.dispatch(ctx, s, in, inflight); err != nil {
			cancel(err)
		}
	}()
	err := p.collect(ctx, s, mem, inflight, out)
	if err != nil {
		cancel(err)
	}
	wg.Wait()
	// Release what is still queued after a failure.
	for b := range inflight {
		b.release()
	}
	if err == nil {
		// dispatch may have failed, or the job been cancelled, while
		// collect ended cleanly.
		err = context.Cause(ctx)
	}
	return err
}

// dispatch groups incoming batches into bundles and starts each on a worker.
func (p *Pool) dispatch(ctx context.Context, s *Stage, in <-chan arrow.RecordBatch, inflight chan<- *bundle) error {
	enc := coder.NewEncoder(s.InputTypes)
	seq := 0
	var cur *bundle
	var deadline <-chan time.Time
	closeCur := func() error {
		if cur == nil {
			return nil
		}
		b := cur
		cur, deadline = nil, nil
		if err := b.b.Send(ctx, nil, true); err != nil {
			b.err = err
		}
		select {
		case inflight <- b:
			return nil
		case <-ctx.Done():
			b.release()
			return context.Cause(ctx)
		}
	}
	for {
		select {
		case rec, ok := <-in:
			if !ok {
				return closeCur()
			}
			arrived := time.Now()
			if rec.NumRows() == 0 {
				rec.Release()
				continue
			}
			el, err := encodeElement(enc, s.Inputs, rec)
			if err != nil {
				rec.Release()
				return err
			}
			if cur == nil {
				t, fb, err := p.begin(ctx, s)
				if err != nil {
					rec.Release()
					return err
				}
				seq++
				cur = &bundle{seq: seq, t: t, b: fb, attempts: 1}
				deadline = time.After(p.cfg.BundleTime)
			}
			if len(s.Forward) == 0 {
				// Nothing of the batch is joined with the results: keep only
				// its row count, which halves what a bundle holds.
				n := rec.NumRows()
				rec.Release()
				rec = array.NewRecordBatch(emptySchema, nil, n)
			}
			cur.batches = append(cur.batches, rec)
			cur.arrived = append(cur.arrived, arrived)
			cur.elements = append(cur.elements, el)
			cur.rows += int(rec.NumRows())
			cur.bytes += len(el)
			if len(s.Forward) > 0 {
				cur.bytes += recordBytes(rec)
			}
			if cur.err == nil {
				cur.err = cur.b.Send(ctx, el, false)
			}
			if cur.rows >= p.cfg.BundleRows || cur.bytes >= maxBundleBytes {
				if err := closeCur(); err != nil {
					return err
				}
			}
		case <-deadline:
			if err := closeCur(); err != nil {
				return err
			}
		case <-ctx.Done():
			if cur != nil {
				cur.release()
			}
			return context.Cause(ctx)
		}
	}
}

// encodeElement encodes the input columns of rec as one data element.
func encodeElement(enc *coder.Encoder, inputs []int, rec arrow.RecordBatch) ([]byte, error) {
	cols := make([]arrow.Array, len(inputs))
	for i, c := range inputs {
		cols[i] = rec.Column(c)
	}
	buf := make([]byte, elementReserve, elementReserve+encodedSizeHint(cols, int(rec.NumRows())))
	buf, err := enc.Encode(buf, cols, 0, int(rec.NumRows()))
	if err != nil {
		return nil, fmt.Errorf("pyexec: encode input rows: %w", err)
	}
	return wrapElement(buf), nil
}

// collect waits for bundles in order, replays those whose worker died, and
// emits their joined results.
func (p *Pool) collect(ctx context.Context, s *Stage, mem memory.Allocator, inflight <-chan *bundle, out chan<- arrow.RecordBatch) error {
	dec := coder.NewDecoder(mem, s.Results.Types())
	defer dec.Release()
	for b := range inflight {
		data, err := p.await(ctx, s, b)
		if err != nil {
			b.release()
			return err
		}
		err = p.emit(ctx, s, mem, dec, b, data, out)
		b.release()
		if err != nil {
			return err
		}
	}
	return nil
}

// emit decodes the results of b and sends one joined batch per input batch.
func (p *Pool) emit(ctx context.Context, s *Stage, mem memory.Allocator, dec *coder.Decoder, b *bundle, data [][]byte, out chan<- arrow.RecordBatch) error {
	values, err := splitChunks(data)
	if err != nil {
		return err
	}
	if len(values) != len(b.batches) {
		return fmt.Errorf("pyexec: %s answered %d elements for %d", s.Spec.GetName(), len(values), len(b.batches))
	}
	for i, rec := range b.batches {
		joined, err := p.join(s, mem, dec, rec, values[i])
		if err != nil {
			return fmt.Errorf("pyexec: results of %s: %w", s.Spec.GetName(), err)
		}
		if joined == nil {
			continue
		}
		p.latency.add(time.Since(b.arrived[i]))
		select {
		case out <- joined:
		case <-ctx.Done():
			joined.Release()
			return context.Cause(ctx)
		}
	}
	return nil
}

// join builds the output batch of one input batch: forwarded columns, then
// the decoded results.
func (p *Pool) join(s *Stage, mem memory.Allocator, dec *coder.Decoder, rec arrow.RecordBatch, value []byte) (arrow.RecordBatch, error) {
	if s.Table() {
		return p.joinTable(s, mem, dec, rec, value)
	}
	n, err := dec.Decode(value)
	if err != nil {
		return nil, err
	}
	if n != int(rec.NumRows()) {
		return nil, fmt.Errorf("got %d result rows for %d input rows", n, rec.NumRows())
	}
	results := dec.NewArrays()
	cols := make([]arrow.Array, 0, len(s.Forward)+len(results))
	for _, c := range s.Forward {
		cols = append(cols, rec.Column(c))
	}
	cols = append(cols, results...)
	joined := array.NewRecordBatch(s.Output.Arrow(), cols, rec.NumRows())
	for _, a := range results {
		a.Release()
	}
	return joined, nil
}

// recordBytes estimates the memory of a batch's buffers (top level only).
func recordBytes(rec arrow.RecordBatch) int {
	n := 0
	for _, c := range rec.Columns() {
		for _, b := range c.Data().Buffers() {
			if b != nil {
				n += b.Len()
			}
		}
	}
	return n
}

// encodedSizeHint estimates the encoded size of rows of cols, so that the
// element's buffer is allocated once: per row a length and a header, per
// value its fixed width or, for strings and bytes, a length and the data.
func encodedSizeHint(cols []arrow.Array, rows int) int {
	n := rows * (2 + (len(cols)+2+7)/8)
	for _, c := range cols {
		switch a := c.(type) {
		case *array.String:
			n += 4*rows + len(a.ValueBytes())
		case *array.Binary:
			n += 4*rows + len(a.ValueBytes())
		default:
			if fw, ok := c.DataType().(arrow.FixedWidthDataType); ok {
				n += rows * max(fw.BitWidth()/8, 1)
			} else {
				n += 16 * rows
			}
		}
	}
	return n
}
