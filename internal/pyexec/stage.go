package pyexec

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/coder"
	"github.com/weir-dev/weir/internal/fnapi"
	"github.com/weir-dev/weir/internal/shm"
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
	// Keyed, when set, makes the stage a keyed stage of Python aggregate
	// functions with state in the engine (keyed.go).
	Keyed *Keyed
	// TableAggregate makes a keyed stage run a Python table aggregate
	// function (KeyedTableAggregateURN) instead of aggregate functions.
	TableAggregate bool

	id        string
	keyed     *keyedState     // the state of a keyed stage, kept across runs (keyed.go)
	ownStore  bool            // keyed's store was opened by Restore, not yet by a pool
	batchRows int             // rows per call of a vectorized stage's functions (arrowstage.go)
	output    *arrow.Schema   // Output as Arrow, made once per run (joinRows)
	est       *outputEstimate // kept across runs (KeepEstimates), else nil
}

// KeepEstimates makes the stage's later runs go on from what its runs so
// far learned of its results' size, instead of starting bundles at one row
// again: a job taking checkpoints runs a stage once per checkpoint
// (internal/job), and a ramp-up after each would cost time each second.
func (s *Stage) KeepEstimates() {
	if s.est == nil {
		s.est = &outputEstimate{}
	}
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
	switch {
	case s.Keyed != nil && s.TableAggregate:
		d.Transforms[stageID].Spec.Urn = KeyedTableAggregateURN
	case s.Keyed != nil:
		d.Transforms[stageID].Spec.Urn = KeyedAggregateURN
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
	arrived  []time.Time   // when each batch reached the stage
	elements [][]byte      // encoded input elements, one per batch (keyed stages)
	parts    []encoded     // or the elements as parts (other stages; see input)
	keep     []arrow.Array // the input columns the parts refer to (vectorized stages)
	// The regions of the pool's arena that the parts refer to (vectorized
	// stages; shmstage.go): all of them, and the answer's of each element
	// (zero for an element sent inline).
	arena    *shm.Arena
	regions  []shm.Region
	outs     []shm.Region
	rows     int
	bytes    int // what the bundle holds: encoded input and forwarded columns
	t        token
	b        *fnapi.Bundle
	attempts int
	err      error
}

// input is the bundle's input elements, one per batch.
func (b *bundle) input() []encoded {
	if b.parts != nil {
		return b.parts
	}
	out := make([]encoded, len(b.elements))
	for i, el := range b.elements {
		out[i] = encoded{el}
	}
	return out
}

func (b *bundle) release() {
	for _, r := range b.batches {
		r.Release()
	}
	b.batches = nil
	b.elements = nil
	b.parts = nil
	release(b.keep)
	b.keep = nil
	b.freeRegions()
}

// Run streams the batches of in through stage s and sends the output
// batches to out in input order. It returns when in is closed and every
// result has been sent, or at the first error. Batches received from in are
// released; batches sent on out are the receiver's to release.
func (p *Pool) Run(ctx context.Context, s *Stage, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	if s.Keyed != nil {
		return p.runKeyed(ctx, s, mem, in, out) // keyed.go
	}
	if s.id == "" {
		if err := p.Register(s); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.output = s.Output.Arrow()
	var groups <-chan []arrow.RecordBatch
	if s.Vectorized() {
		// Larger elements while the stage is busy (arrowstage.go).
		s.batchRows = p.cfg.BatchRows
		groups = coalesce(ctx, in, p.cfg.BundleRows, maxElementBytes)
		in = nil
	}
	inflight := make(chan *bundle, p.cfg.Workers*p.cfg.InFlight)
	est := s.est
	if est == nil {
		est = &outputEstimate{}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(inflight)
		if err := p.dispatch(ctx, s, mem, est, in, groups, inflight); err != nil {
			cancel(err)
		}
	}()
	err := p.collect(ctx, s, est, mem, inflight, out)
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

// maxElementBytes bounds the encoded rows of one input element, as
// python.fn-execution.arrow.batch.size bounds its rows: a batch of wide rows
// is sent in several elements. A row larger than this goes alone.
const maxElementBytes = 4 << 20

// maxRowBytes is the largest encoded row carried between the engine and a
// worker, either way. The Fn API server's gRPC messages are limited to 256
// MiB (internal/fnapi), and the harness may add up to 20 MB of other
// output to a message; python/weir/_limits.py has the same limit.
const maxRowBytes = 200 << 20

// outputEstimate learns how many bytes of results a stage returns per input
// row, so that a bundle's results, which are held until it is complete,
// stay near maxBundleBytes however large the function's results are. Until
// results are known, bundles start at one row and at most double with each
// completed bundle, so that the first bundles are small whatever the
// function returns. While bundles ramp up, one is in flight at a time:
// rows then reach the functions in input order, as when they were in one
// bundle (a worker runs its bundles in parallel threads).
type outputEstimate struct {
	mu       sync.Mutex
	known    bool
	perRow   float64
	largest  int           // rows of the largest completed bundle
	observed int           // bundles completed
	changed  chan struct{} // closed (and replaced) when a bundle completes
}

// observe records that a bundle of rows input rows gave bytes of results.
// A rise counts at once; a fall is believed gradually.
func (e *outputEstimate) observe(bytes, rows int) {
	if rows <= 0 {
		return
	}
	r := float64(bytes) / float64(rows)
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.known || r > e.perRow {
		e.perRow = r
	} else {
		e.perRow = (3*e.perRow + r) / 4
	}
	e.known = true
	e.largest = max(e.largest, rows)
	e.observed++
	if e.changed != nil {
		close(e.changed)
		e.changed = nil
	}
}

// awaitRamp waits, while bundles ramp up below limit rows, until the first
// n bundles have completed.
func (e *outputEstimate) awaitRamp(ctx context.Context, n, limit int) error {
	for {
		if !e.ramping(limit) {
			return nil
		}
		e.mu.Lock()
		if e.observed >= n {
			e.mu.Unlock()
			return nil
		}
		if e.changed == nil {
			e.changed = make(chan struct{})
		}
		ch := e.changed
		e.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// ramping reports whether bundles are still limited by the doubling from
// one row, below limit rows and below what their results' size allows.
func (e *outputEstimate) ramping(limit int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.known && e.perRow > 0 && int(maxBundleBytes/e.perRow) <= 2*e.largest {
		return false
	}
	return 2*e.largest < limit
}

// bundleRows is the number of rows after which a new bundle closes.
func (e *outputEstimate) bundleRows(limit int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if 2*e.largest < limit {
		limit = max(1, 2*e.largest)
	}
	if e.known && e.perRow > 0 {
		limit = min(limit, max(1, int(maxBundleBytes/e.perRow)))
	}
	return limit
}

// dispatch groups incoming batches into bundles and starts each on a worker.
// A bundle closes at BundleRows rows, at maxBundleBytes of input, at the
// rows whose results are expected to reach maxBundleBytes, or BundleTime
// after its first row. Each input element is one batch, or a slice of one;
// for a vectorized stage, the batches come in groups (from coalesce), and
// an element holds rows of one group, across its batches.
func (p *Pool) dispatch(ctx context.Context, s *Stage, mem memory.Allocator, est *outputEstimate, in <-chan arrow.RecordBatch, groups <-chan []arrow.RecordBatch, inflight chan<- *bundle) error {
	enc := coder.NewEncoder(s.InputTypes)
	var arena *shm.Arena
	if s.Vectorized() {
		arena = p.arenaFor()
	}
	seq := 0
	var cur *bundle
	limit := 0 // rows at which cur closes
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
	// add sends the rows of recs (one batch, or a group of consecutive
	// batches) in one or more elements, closing bundles as they fill.
	add := func(recs []arrow.RecordBatch, arrived time.Time) error {
		defer func() {
			for _, r := range recs {
				r.Release()
			}
		}()
		var q columnSeq
		hint, fwdBytes := 0, 0
		for _, rec := range recs {
			cols := make([]arrow.Array, len(s.Inputs))
			for i, c := range s.Inputs {
				cols[i] = rec.Column(c)
			}
			q.add(cols, int(rec.NumRows()))
			hint += s.sizeHint(cols, int(rec.NumRows())) // arrowstage.go
			if len(s.Forward) > 0 {
				fwdBytes += recordBytes(rec)
			}
		}
		n := q.rows()
		perRow := max(1, hint/n)
		for off := 0; off < n; {
			if cur == nil {
				if !s.Vectorized() {
					if err := est.awaitRamp(ctx, seq, p.cfg.BundleRows); err != nil {
						return err
					}
				}
				t, fb, err := p.begin(ctx, s)
				if err != nil {
					return err
				}
				seq++
				cur = &bundle{seq: seq, t: t, b: fb, attempts: 1}
				limit = s.bundleRows(est, p.cfg.BundleRows) // arrowstage.go
				deadline = time.After(p.cfg.BundleTime)
			}
			k := min(n-off, max(1, limit-cur.rows), max(1, maxElementBytes/perRow))
			el, m, err := s.encodeInput(enc, q, off, off+k)
			if err != nil {
				return fmt.Errorf("pyexec: %s: %w", s.Spec.GetName(), err)
			}
			size := el.size()
			if m < k {
				// The rows were wider than their estimate: believe what they were.
				perRow = max(perRow, (size+m-1)/m, maxElementBytes/k+1)
			}
			part, err := forwardRows(s, mem, recs, q, off, off+m)
			if err != nil {
				return fmt.Errorf("pyexec: %s: %w", s.Spec.GetName(), err)
			}
			placed := false
			if arena != nil {
				// The batches go through shared memory (shmstage.go).
				var in, answer shm.Region
				var ref encoded
				if ref, in, answer, placed = placeInArena(arena, el, answerRoom(est, m, size)); placed {
					el = ref
					cur.arena = arena
					cur.regions = append(cur.regions, in, answer)
				}
				cur.outs = append(cur.outs, answer)
			}
			if s.Vectorized() && !placed {
				// The element refers to the input columns' buffers: they
				// are kept until the bundle's results are complete, so
				// that a replay sends them again unchanged.
				first, last := q.spanned(off, off+m)
				for _, cols := range q.parts[first : last+1] {
					for _, c := range cols {
						c.Retain()
						cur.keep = append(cur.keep, c)
					}
				}
			}
			off += m
			cur.batches = append(cur.batches, part)
			cur.arrived = append(cur.arrived, arrived)
			cur.parts = append(cur.parts, el)
			cur.rows += m
			cur.bytes += size + fwdBytes*m/n
			if cur.err == nil {
				cur.err = cur.b.SendParts(ctx, el, false)
			}
			if cur.rows >= limit || cur.bytes >= maxBundleBytes {
				if err := closeCur(); err != nil {
					return err
				}
			}
		}
		return nil
	}
	fail := func(err error) error {
		if cur != nil {
			cur.release()
		}
		return err
	}
	for {
		select {
		case rec, ok := <-in:
			if !ok {
				return closeCur()
			}
			if rec.NumRows() == 0 {
				rec.Release()
				continue
			}
			if err := add([]arrow.RecordBatch{rec}, time.Now()); err != nil {
				return fail(err)
			}
		case recs, ok := <-groups:
			if !ok {
				return closeCur()
			}
			if err := add(recs, time.Now()); err != nil {
				return fail(err)
			}
		case <-deadline:
			if err := closeCur(); err != nil {
				return err
			}
		case <-ctx.Done():
			return fail(context.Cause(ctx))
		}
	}
}

// forwardRows is what bundle.batches keeps of rows [from, to) of recs (whose
// input columns are q) to join with their results: the rows, when the stage
// forwards columns, else only their number.
func forwardRows(s *Stage, mem memory.Allocator, recs []arrow.RecordBatch, q columnSeq, from, to int) (arrow.RecordBatch, error) {
	if len(s.Forward) == 0 {
		// Nothing of the batch is joined with the results: keep only its
		// row count, which halves what a bundle holds.
		return array.NewRecordBatch(emptySchema, nil, int64(to-from)), nil
	}
	first, last := q.spanned(from, to)
	if first == last {
		rec, lo, hi := recs[first], from-q.start(first), to-q.start(first)
		if lo == 0 && hi == int(rec.NumRows()) {
			rec.Retain()
			return rec, nil
		}
		return rec.NewSlice(int64(lo), int64(hi)), nil
	}
	// Rows across batches of a group: joined into one batch.
	slices := make([]arrow.RecordBatch, 0, last-first+1)
	defer func() {
		for _, r := range slices {
			r.Release()
		}
	}()
	for i := first; i <= last; i++ {
		lo, hi := max(from, q.start(i))-q.start(i), min(to, q.ends[i])-q.start(i)
		slices = append(slices, recs[i].NewSlice(int64(lo), int64(hi)))
	}
	return concatBatches(mem, slices)
}

// encodeRows encodes rows [from, to) of cols as one data element, or, when
// they are over maxElementBytes, as many of the first of them as fit (at
// least one); it returns the element and the number of rows in it.
func encodeRows(enc *coder.Encoder, cols []arrow.Array, from, to int) ([]byte, int, error) {
	rows := to - from
	hint := encodedSizeHint(cols, rows)
	if n := cols0Len(cols); n > rows && n > 0 {
		// The hint counts whole columns; take this range's share.
		hint = hint / n * rows
	}
	buf := make([]byte, elementReserve, elementReserve+hint)
	buf, err := enc.Encode(buf, cols, from, to)
	if err != nil {
		return nil, 0, fmt.Errorf("encode input rows: %w", err)
	}
	if len(buf)-elementReserve > maxElementBytes && rows > 1 {
		end, m := rowsWithin(buf[elementReserve:], maxElementBytes)
		// Copy the rows kept, so the rest's memory is not held.
		buf = append(make([]byte, 0, elementReserve+end), buf[:elementReserve+end]...)
		rows = m
	}
	if size := len(buf) - elementReserve; size > maxRowBytes {
		return nil, 0, &LimitError{Message: fmt.Sprintf(
			"input row %d of a batch is %d bytes encoded, over weir's limit of %d bytes (%d MiB) for one row sent to a Python worker (gRPC messages are limited to 256 MiB).\n"+
				"This fails the same way on every try, so the job stops here. Send smaller values to the function: split a large value over several rows, or store it elsewhere and pass a reference to it.",
			from+1, size, maxRowBytes, maxRowBytes>>20)}
	}
	return wrapElement(buf), rows, nil
}

func cols0Len(cols []arrow.Array) int {
	if len(cols) == 0 {
		return 0
	}
	return cols[0].Len()
}

// rowsWithin returns the byte length and number of the first rows of a
// batch that fit in max bytes; at least one row.
func rowsWithin(batch []byte, max int) (end, rows int) {
	for end < len(batch) {
		n, k := binary.Uvarint(batch[end:])
		if k <= 0 || n > uint64(len(batch)-end-k) {
			break // the encoder wrote it: cannot happen
		}
		next := end + k + int(n)
		if next > max && rows > 0 {
			break
		}
		end, rows = next, rows+1
	}
	return end, rows
}

// LimitError is a value too large for the Fn API: it fails the same way on
// every try, so it is reported at once, not retried.
type LimitError struct{ Message string }

func (e *LimitError) Error() string { return e.Message }

// collect waits for bundles in order, replays those whose worker died, and
// emits their joined results.
func (p *Pool) collect(ctx context.Context, s *Stage, est *outputEstimate, mem memory.Allocator, inflight <-chan *bundle, out chan<- arrow.RecordBatch) error {
	dec := coder.NewDecoder(mem, s.Results.Types())
	defer dec.Release()
	o := &output{ch: out, holding: true, est: est, full: p.cfg.BundleRows, maxWait: p.cfg.BundleTime}
	defer o.discard()
	for b := range inflight {
		data, err := p.await(ctx, s, b)
		if err != nil {
			b.release()
			return err
		}
		err = p.emit(ctx, s, mem, dec, est, b, data, o)
		if b.arena != nil && inputsKept(b.b.Response()) > 0 {
			p.leaveKeptInputs(s, b)
		}
		b.release()
		if err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		// dispatch failed: what is held belongs to a failed job.
		return context.Cause(ctx)
	}
	return o.flush(ctx)
}

// output sends a stage's joined batches on. While the first bundles are
// small (outputEstimate starts them at one row), it holds their results
// back, up to maxBundleBytes and BundleTime: so a job that fails in its
// first rows shows no partial output, as when they were in one bundle.
type output struct {
	ch      chan<- arrow.RecordBatch
	held    []arrow.RecordBatch
	bytes   int
	since   time.Time
	holding bool
	est     *outputEstimate
	full    int // BundleRows
	maxWait time.Duration
}

func (o *output) send(ctx context.Context, rec arrow.RecordBatch) error {
	if !o.holding {
		return o.put(ctx, rec)
	}
	if len(o.held) == 0 {
		o.since = time.Now()
	}
	o.held = append(o.held, rec)
	o.bytes += recordBytes(rec)
	if o.bytes < maxBundleBytes && time.Since(o.since) < o.maxWait && o.est.ramping(o.full) {
		return nil
	}
	o.holding = false
	return o.flush(ctx)
}

// flush sends what is held.
func (o *output) flush(ctx context.Context) error {
	for len(o.held) > 0 {
		rec := o.held[0]
		o.held = o.held[1:]
		if err := o.put(ctx, rec); err != nil {
			return err
		}
	}
	o.held, o.bytes = nil, 0
	return nil
}

func (o *output) put(ctx context.Context, rec arrow.RecordBatch) error {
	select {
	case o.ch <- rec:
		return nil
	case <-ctx.Done():
		rec.Release()
		return context.Cause(ctx)
	}
}

// discard releases what is still held (after a failure).
func (o *output) discard() {
	for _, r := range o.held {
		r.Release()
	}
	o.held = nil
}

// emit decodes the results of b and sends one joined batch per input
// element, or per part of its results when the worker sent them in parts.
// The size of the results goes to est first.
func (p *Pool) emit(ctx context.Context, s *Stage, mem memory.Allocator, dec *coder.Decoder, est *outputEstimate, b *bundle, data [][]byte, o *output) error {
	values, err := splitChunks(data)
	if err != nil {
		return err
	}
	groups, err := groupParts(values)
	if err != nil {
		return err
	}
	if len(groups) != len(b.batches) {
		return fmt.Errorf("pyexec: %s answered %d elements for %d", s.Spec.GetName(), len(groups), len(b.batches))
	}
	if b.arena != nil {
		if err := resolveAnswers(b, groups); err != nil { // shmstage.go
			return fmt.Errorf("pyexec: results of %s: %w", s.Spec.GetName(), err)
		}
	}
	size := 0
	for _, g := range groups {
		for _, part := range g {
			size += len(part)
		}
	}
	est.observe(size, b.rows)
	send := func(joined arrow.RecordBatch) error { return o.send(ctx, joined) }
	for i, rec := range b.batches {
		var err error
		switch s.Spec.GetKind() {
		case weirpb.Stage_TABLE:
			err = p.joinTable(s, mem, dec, rec, groups[i], send)
		case weirpb.Stage_VECTORIZED:
			err = p.joinArrow(s, mem, rec, groups[i], send) // arrowstage.go
		default:
			err = p.joinScalar(s, dec, rec, groups[i], send)
		}
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return fmt.Errorf("pyexec: results of %s: %w", s.Spec.GetName(), err)
		}
		p.latency.add(time.Since(b.arrived[i]))
	}
	return nil
}

// joinScalar sends the output of one input batch: its forwarded columns,
// then the decoded results, one batch per part of the results.
func (p *Pool) joinScalar(s *Stage, dec *coder.Decoder, rec arrow.RecordBatch, parts [][]byte, send func(arrow.RecordBatch) error) error {
	rows := int(rec.NumRows())
	done := 0
	for _, part := range parts {
		n, err := dec.Decode(part)
		if err != nil {
			return err
		}
		if done+n > rows {
			dec.Release()
			return fmt.Errorf("got %d or more result rows for %d input rows", done+n, rows)
		}
		joined := s.joinRows(rec, done, n, dec.NewArrays())
		done += n
		if n == 0 {
			joined.Release()
			continue
		}
		if err := send(joined); err != nil {
			return err
		}
	}
	if done != rows {
		return fmt.Errorf("got %d result rows for %d input rows", done, rows)
	}
	return nil
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
// value its valuesSize.
func encodedSizeHint(cols []arrow.Array, rows int) int {
	n := rows * (2 + (len(cols)+2+7)/8)
	for _, c := range cols {
		n += valuesSize(c, rows)
	}
	return n
}

// valuesSize estimates the bytes of rows values of c in the row coder's or
// Arrow's format alike: for strings and bytes a length (an offset) and the
// data, else the fixed width, or 16 bytes for nested values.
func valuesSize(c arrow.Array, rows int) int {
	switch a := c.(type) {
	case *array.String:
		return 4*rows + len(a.ValueBytes())
	case *array.Binary:
		return 4*rows + len(a.ValueBytes())
	}
	if fw, ok := c.DataType().(arrow.FixedWidthDataType); ok {
		return rows * max(fw.BitWidth()/8, 1)
	}
	return 16 * rows
}

// joinRows builds the output batch of rows [from, from+n) of rec: its
// forwarded columns, then results (n rows), which it releases.
func (s *Stage) joinRows(rec arrow.RecordBatch, from, n int, results []arrow.Array) arrow.RecordBatch {
	src := rec
	if n != int(rec.NumRows()) {
		src = rec.NewSlice(int64(from), int64(from+n))
		defer src.Release()
	}
	cols := make([]arrow.Array, 0, len(s.Forward)+len(results))
	for _, c := range s.Forward {
		cols = append(cols, src.Column(c))
	}
	cols = append(cols, results...)
	schema := s.output
	if schema == nil {
		schema = s.Output.Arrow()
	}
	joined := array.NewRecordBatch(schema, cols, int64(n))
	release(results)
	return joined
}
