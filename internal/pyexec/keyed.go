package pyexec

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"

	"github.com/weir-dev/weir/internal/coder"
	"github.com/weir-dev/weir/internal/fnapi"
	"github.com/weir-dev/weir/internal/state"
	"github.com/weir-dev/weir/internal/types"
)

// A keyed stage runs Python aggregate functions in streaming mode, with
// their accumulators kept by the engine (python/weir/_state_aggregate.py is
// the worker's side).
//
// Rows are hash-partitioned by group key into one partition per worker.
// The bundles of a partition run one after another: a bundle starts only
// once the previous bundle of its partition has completed and its state
// writes are applied, so it sees the state they left. Partitions run in
// parallel; their keys are disjoint.
//
// An input row of the worker is (row kind TINYINT, group key BYTES,
// arguments...), the key being the row-format encoding of the key columns
// (with its length prefix, so that keys concatenated form a batch). At the
// bundle's end the worker asks for the accumulators of all the bundle's keys
// in one state request, applies its rows, writes the changed accumulators
// back in one request and answers with the changelog rows of the groups
// whose value changed: (key BYTES, row kind TINYINT, results...).
//
// State requests use StateKey.runner, whose key is weir's own request:
//
//	get:    'G' then per key uvarint(len) key  -> per key uvarint(0) (none) or uvarint(len+1) value
//	append: 'P', data per write uvarint(len) key then uvarint(0) (delete) or uvarint(len+1) value
//	get:    'V' -> uvarint(len) own version, then the parent version (may be empty)
//
// Versions let a worker keep live accumulators between the bundles of a
// partition, as Beam's cache tokens do: each attempt of a bundle has its
// own version, never reused; its parent is the version of the attempt whose
// writes the partition's state last received, or empty when that is not
// known (the first bundle of a run, a replay). A worker may use what it
// kept after its attempt V only for a bundle whose parent is V: then the
// state is exactly what that attempt left. A failed or replayed attempt's
// version never becomes a parent, and a worker that restarts keeps nothing.
//
// Each attempt of a bundle has its own handler: reads come from the store
// as committed, writes are staged in the attempt and applied to the store,
// atomically, only when the bundle has completed. A worker that dies
// mid-bundle loses nothing: the replay reads the state as of the bundle's
// start, since no later bundle of the partition has started.

// KeyedAggregateURN is the worker's transform of keyed stages.
const KeyedAggregateURN = "weir:transform:keyed_aggregate:v1"

// Keyed describes the input of a keyed stage. Stage.InputTypes are
// TINYINT NOT NULL (the row kind), BYTES NOT NULL (the key), then the types
// of Args; Stage.Output is the key columns, Stage.Results, then the
// row-kind column.
type Keyed struct {
	// Keys are the group-key columns of incoming batches.
	Keys []int
	// KeyTypes are their types.
	KeyTypes []types.T
	// Args are the columns of the functions' arguments.
	Args []int
	// RowKind is the incoming row-kind column, or -1 for insert-only input.
	RowKind int
	// Backend is the state store's backend (state.backend.type).
	Backend string
}

// keyedState is the committed state of a keyed stage's run.
type keyedState struct {
	mu    sync.Mutex // Get's value is valid until the next call: one at a time
	store state.Store
}

// getAll appends the values of keys to dst in the keys' order, each as
// uvarint(0) (none) or uvarint(len+1) and the value, read in one pass
// (state.GetMany: the on-disk store reads them in key order).
func (k *keyedState) getAll(keys [][]byte, dst []byte) ([]byte, error) {
	// Where each key's value starts and ends in vals; start -1: none.
	type span struct{ start, end int }
	spans := make([]span, len(keys))
	var vals []byte
	k.mu.Lock()
	err := state.GetMany(k.store, keys, func(i int, v []byte, ok bool) error {
		if !ok {
			spans[i] = span{-1, -1}
			return nil
		}
		spans[i] = span{len(vals), len(vals) + len(v)}
		vals = append(vals, v...)
		return nil
	})
	k.mu.Unlock()
	if err != nil {
		return dst, err
	}
	// Values, and a length of at most 3 bytes each (values under 2 MiB).
	dst = slices.Grow(dst, len(vals)+3*len(spans))
	for _, sp := range spans {
		if sp.start < 0 {
			dst = binary.AppendUvarint(dst, 0)
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(sp.end-sp.start)+1)
		dst = append(dst, vals[sp.start:sp.end]...)
	}
	return dst, nil
}

func (k *keyedState) apply(b *state.Batch) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.store.Apply(b)
}

// keyedAttempt answers the state requests of one attempt of a bundle and
// holds its writes until the bundle has completed.
type keyedAttempt struct {
	st      *keyedState
	version []byte // this attempt's state version (see the top)
	mu      sync.Mutex
	parent  []byte // the version it starts from, set before its input is sent
	writes  state.Batch
	reads   int // get requests answered
}

// keyedVersions numbers attempts; keyedRunID tells this engine process's
// versions from another's.
var (
	keyedVersions atomic.Uint64
	keyedRunID    = func() uint64 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return uint64(time.Now().UnixNano())
		}
		return binary.LittleEndian.Uint64(b[:])
	}()
)

// newVersion is a state version never handed out before.
func newVersion() []byte {
	v := binary.LittleEndian.AppendUint64(make([]byte, 0, 16), keyedRunID)
	return binary.LittleEndian.AppendUint64(v, keyedVersions.Add(1))
}

// setParent records the version attempt a starts from.
func (a *keyedAttempt) setParent(v []byte) {
	a.mu.Lock()
	a.parent = v
	a.mu.Unlock()
}

// HandleState implements fnapi.StateHandler.
func (a *keyedAttempt) HandleState(req *fnpb.StateRequest) *fnpb.StateResponse {
	key := req.GetStateKey().GetRunner().GetKey()
	if len(key) == 0 {
		return &fnpb.StateResponse{Error: "weir: a keyed stage's state requests use StateKey.runner"}
	}
	switch {
	case req.GetGet() != nil && key[0] == 'G':
		data, err := a.read(key[1:])
		if err != nil {
			return &fnpb.StateResponse{Error: "weir: " + err.Error()}
		}
		return &fnpb.StateResponse{Response: &fnpb.StateResponse_Get{Get: &fnpb.StateGetResponse{Data: data}}}
	case req.GetGet() != nil && key[0] == 'V' && len(key) == 1:
		a.mu.Lock()
		data := binary.AppendUvarint(nil, uint64(len(a.version)))
		data = append(append(data, a.version...), a.parent...)
		a.mu.Unlock()
		return &fnpb.StateResponse{Response: &fnpb.StateResponse_Get{Get: &fnpb.StateGetResponse{Data: data}}}
	case req.GetAppend() != nil && key[0] == 'P':
		if err := a.stage(req.GetAppend().GetData()); err != nil {
			return &fnpb.StateResponse{Error: "weir: " + err.Error()}
		}
		return &fnpb.StateResponse{Response: &fnpb.StateResponse_Append{Append: &fnpb.StateAppendResponse{}}}
	}
	return &fnpb.StateResponse{Error: fmt.Sprintf("weir: unknown state request %q of a keyed stage", key[:1])}
}

// read answers a get: the values of the keys in payload.
func (a *keyedAttempt) read(payload []byte) ([]byte, error) {
	n := 0
	for p := payload; len(p) > 0; n++ {
		l, k := binary.Uvarint(p)
		if k <= 0 || l > uint64(len(p)-k) {
			return nil, errors.New("malformed key list in a state get request")
		}
		p = p[k+int(l):]
	}
	keys := make([][]byte, 0, n)
	for len(payload) > 0 {
		l, k := binary.Uvarint(payload)
		keys = append(keys, payload[k:k+int(l)])
		payload = payload[k+int(l):]
	}
	out, err := a.st.getAll(keys, nil)
	if err != nil {
		return nil, fmt.Errorf("state store: %w", err)
	}
	a.mu.Lock()
	a.reads++
	a.mu.Unlock()
	return out, nil
}

// stage adds the writes of an append to the attempt's batch.
func (a *keyedAttempt) stage(data []byte) error {
	// A first pass checks the writes and counts them, so that the batch
	// grows once (appends of millions of writes grew it step by step).
	ops, size := 0, 0
	err := eachWrite(data, func(key, value []byte, del bool) {
		ops, size = ops+1, size+len(key)+len(value)
	})
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.writes.Grow(ops, size)
	return eachWrite(data, func(key, value []byte, del bool) {
		if del {
			a.writes.Delete(key)
		} else {
			a.writes.Put(key, value)
		}
	})
}

// eachWrite calls fn with each write of an append request's data: per write
// uvarint(len) key, then uvarint(0) (delete) or uvarint(len+1) value.
func eachWrite(data []byte, fn func(key, value []byte, del bool)) error {
	for len(data) > 0 {
		n, k := binary.Uvarint(data)
		if k <= 0 || n > uint64(len(data)-k) {
			return errors.New("malformed key in a state append request")
		}
		key := data[k : k+int(n)]
		data = data[k+int(n):]
		m, k := binary.Uvarint(data)
		if k <= 0 || (m > 0 && m-1 > uint64(len(data)-k)) {
			return errors.New("malformed value in a state append request")
		}
		if m == 0 {
			fn(key, nil, true)
			data = data[k:]
			continue
		}
		fn(key, data[k:k+int(m-1)], false)
		data = data[k+int(m-1):]
	}
	return nil
}

// newAttempt is the state handler of a new attempt of a bundle of s, or nil
// for a stage without state.
func (s *Stage) newAttempt() fnapi.StateHandler {
	if s.Keyed == nil || s.keyed == nil {
		return nil
	}
	return &keyedAttempt{st: s.keyed, version: newVersion()}
}

// keyedPart is one partition's rows waiting for a bundle.
type keyedPart struct {
	// pending are encoded input rows, back to back, in chunks of whole rows
	// (an input batch's rows, kept as encoded: no copy until a bundle
	// takes them).
	pending [][]byte
	bytes   int // in pending
	rows    int
	since   time.Time // when the first pending row arrived
	busy    bool      // a bundle of the partition is running
	version []byte    // of the attempt whose writes were applied last
}

// push adds a chunk of n encoded rows to the partition.
func (p *keyedPart) push(rows []byte, n int, now time.Time) {
	if p.rows == 0 {
		p.since = now
	}
	p.pending = append(p.pending, rows)
	p.bytes += len(rows)
	p.rows += n
}

// take removes the first pending rows that make one bundle: at most maxRows
// rows and rows up to maxBytes (at least one), copied into elements of rows
// up to maxElement bytes (at least one row each) after elementReserve
// bytes. counts are the elements' rows; bytes the rows' bytes taken.
func (p *keyedPart) take(maxRows, maxBytes, maxElement int) (elements [][]byte, counts []int, bytes int) {
	rows := 0
	elSize := min(p.bytes, maxBytes, maxElement)
	el := make([]byte, elementReserve, elementReserve+elSize)
	elBytes, elRows := 0, 0
	full := false
	for !full && rows < maxRows && len(p.pending) > 0 {
		c := p.pending[0]
		start, end := 0, 0
		for end < len(c) && rows < maxRows {
			l, w := binary.Uvarint(c[end:])
			size := w + int(l)
			if bytes+size > maxBytes && rows > 0 {
				full = true
				break
			}
			if elBytes+size > maxElement && elRows > 0 {
				// The element is full: the rows before this one close it.
				el = append(el, c[start:end]...)
				elements, counts = append(elements, el), append(counts, elRows)
				el = make([]byte, elementReserve, elementReserve+min(p.bytes-bytes, maxBytes-bytes, maxElement))
				elBytes, elRows, start = 0, 0, end
			}
			end += size
			rows, bytes, elBytes, elRows = rows+1, bytes+size, elBytes+size, elRows+1
		}
		el = append(el, c[start:end]...)
		if end == len(c) {
			p.pending[0] = nil
			p.pending = p.pending[1:]
		} else {
			// The rest stays in place (its chunk's memory with it).
			p.pending[0] = c[end:]
		}
	}
	if elRows > 0 {
		elements, counts = append(elements, el), append(counts, elRows)
	}
	if len(p.pending) == 0 {
		p.pending = nil
	}
	p.bytes -= bytes
	p.rows -= rows
	return elements, counts, bytes
}

type keyedDone struct {
	part int
	b    *bundle
	data [][]byte
	err  error
}

// runKeyed runs keyed stage s over in: see the comment at the top.
func (p *Pool) runKeyed(ctx context.Context, s *Stage, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	// The store outlives a run: a job that takes checkpoints runs the stage
	// once per checkpoint (internal/job); the pool closes it.
	if err := p.openKeyed(s); err != nil {
		drainBatches(in)
		return err
	}
	if s.id == "" {
		if err := p.Register(s); err != nil {
			drainBatches(in)
			return err
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	k := &keyedRun{p: p, s: s, mem: mem, out: out,
		parts:  make([]keyedPart, p.cfg.Workers),
		done:   make(chan keyedDone, p.cfg.Workers),
		keyEnc: coder.NewEncoder(s.Keyed.KeyTypes),
		rowEnc: coder.NewEncoder(s.InputTypes),
		outDec: coder.NewDecoder(mem, append([]types.T{types.BYTES.NotNull(), types.TINYINT.NotNull()}, s.Results.Types()...)),
		keyDec: coder.NewDecoder(mem, s.Keyed.KeyTypes),
	}
	defer k.outDec.Release()
	defer k.keyDec.Release()
	err := k.loop(ctx, in)
	if err != nil {
		cancel(err)
	}
	// Wait for the bundles still running (they end with ctx).
	for k.running > 0 {
		d := <-k.done
		d.b.release()
		k.running--
	}
	drainBatches(in)
	if err == nil {
		err = context.Cause(ctx)
	}
	return err
}

func drainBatches(in <-chan arrow.RecordBatch) {
	for b := range in {
		b.Release()
	}
}

type keyedRun struct {
	p       *Pool
	s       *Stage
	mem     memory.Allocator
	out     chan<- arrow.RecordBatch
	parts   []keyedPart
	done    chan keyedDone
	running int
	seq     int
	pending int // bytes pending over all partitions
	keyEnc  *coder.Encoder
	keyBuf  []byte  // the last batch's keys encoded
	keyOffs []int32 // and their offsets
	rowEnc  *coder.Encoder
	// rowBytes is the last batch's encoded bytes per row.
	rowBytes int
	outDec   *coder.Decoder
	keyDec   *coder.Decoder
}

// maxKeyedPending bounds the input rows a keyed stage holds per partition
// while its bundles run: beyond it, the stage stops reading its input.
const maxKeyedPending = 2 * maxBundleBytes

func (k *keyedRun) loop(ctx context.Context, in <-chan arrow.RecordBatch) error {
	tick := time.NewTicker(max(k.p.cfg.BundleTime/4, 5*time.Millisecond))
	defer tick.Stop()
	ended := false
	for {
		if err := k.startReady(ctx, ended); err != nil {
			return err
		}
		if ended && k.running == 0 {
			return nil
		}
		src := in
		if ended || k.pending >= maxKeyedPending*len(k.parts) {
			src = nil
		}
		select {
		case rec, ok := <-src:
			if !ok {
				ended = true
				continue
			}
			err := k.add(rec)
			rec.Release()
			if err != nil {
				return err
			}
		case d := <-k.done:
			k.running--
			if err := k.finish(ctx, d); err != nil {
				return err
			}
		case <-tick.C:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// add encodes the rows of rec and appends each to its key's partition.
func (k *keyedRun) add(rec arrow.RecordBatch) error {
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	kc := k.s.Keyed
	keyCols := make([]arrow.Array, len(kc.Keys))
	for i, c := range kc.Keys {
		keyCols[i] = rec.Column(c)
	}
	// The keys' encoding is copied into the key column: its buffer serves
	// every batch.
	keyBuf, err := k.keyEnc.Encode(k.keyBuf[:0], keyCols, 0, n)
	k.keyBuf = keyBuf
	if err != nil {
		return fmt.Errorf("pyexec: %s: encode group keys: %w", k.s.Spec.GetName(), err)
	}
	if len(keyBuf) > math.MaxInt32 {
		return &LimitError{Message: fmt.Sprintf("pyexec: %s: a batch's group keys are %d bytes encoded, over 2 GiB", k.s.Spec.GetName(), len(keyBuf))}
	}
	// The key column is the keys' encoding itself (each key with its
	// length prefix), cut at the rows' offsets: no copy.
	if cap(k.keyOffs) < n+1 {
		k.keyOffs = make([]int32, n+1)
	}
	offs := k.keyOffs[:n+1]
	// One partition (one worker) needs no hashes.
	var hashes []uint64
	if len(k.parts) > 1 {
		hashes = make([]uint64, n)
	}
	pos := 0
	for r := 0; r < n; r++ {
		l, w := binary.Uvarint(keyBuf[pos:])
		end := pos + w + int(l)
		if w <= 0 || end > len(keyBuf) {
			return fmt.Errorf("pyexec: %s: group key of row %d: malformed encoding", k.s.Spec.GetName(), r)
		}
		offs[r] = int32(pos)
		if hashes != nil {
			hashes[r] = fnv64(keyBuf[pos:end])
		}
		pos = end
	}
	offs[n] = int32(pos)
	keyData := array.NewData(arrow.BinaryTypes.Binary, n, []*memory.Buffer{nil,
		memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs)), memory.NewBufferBytes(keyBuf[:pos])}, nil, 0, 0)
	keys := array.NewBinaryData(keyData)
	keyData.Release()
	defer keys.Release()
	kinds := array.NewInt8Builder(k.mem)
	defer kinds.Release()
	if kc.RowKind >= 0 {
		kinds.AppendValues(rec.Column(kc.RowKind).(*array.Int8).Int8Values(), nil)
	} else {
		kinds.AppendValues(make([]int8, n), nil)
	}
	kindArr := kinds.NewArray()
	defer kindArr.Release()
	cols := []arrow.Array{kindArr, keys}
	for _, c := range kc.Args {
		cols = append(cols, rec.Column(c))
	}
	// Sized for the rows from the last batch's bytes per row, so that the
	// encoder seldom grows it (a copy of all it holds each time).
	buf, err := k.rowEnc.Encode(make([]byte, 0, n*k.rowBytes+n/8+64), cols, 0, n)
	if err != nil {
		return fmt.Errorf("pyexec: %s: encode input rows: %w", k.s.Spec.GetName(), err)
	}
	k.rowBytes = (len(buf) + n - 1) / n
	now := time.Now()
	k.pending += len(buf)
	if hashes == nil && len(buf) <= maxRowBytes {
		// One partition, and no row can be over the limit: the batch's rows
		// join it as they are.
		k.parts[0].push(buf, n, now)
		return nil
	}
	// Each partition's rows of the batch, in one chunk per partition.
	chunks := make([][]byte, len(k.parts))
	counts := make([]int, len(k.parts))
	guess := len(buf)/len(k.parts) + len(buf)/(4*len(k.parts)) + 64
	for r, pos := 0, 0; r < n; r++ {
		l, w := binary.Uvarint(buf[pos:])
		end := pos + w + int(l)
		if end-pos > maxRowBytes {
			return &LimitError{Message: fmt.Sprintf("pyexec: %s: an input row is %d bytes encoded, over weir's limit of %d MiB for one row sent to a Python worker", k.s.Spec.GetName(), end-pos, maxRowBytes>>20)}
		}
		i := 0
		if hashes != nil {
			i = int(hashes[r] % uint64(len(k.parts)))
		}
		if chunks[i] == nil && hashes != nil {
			chunks[i] = make([]byte, 0, guess)
		}
		if hashes == nil {
			chunks[i] = buf[:end] // one partition: rows in place
		} else {
			chunks[i] = append(chunks[i], buf[pos:end]...)
		}
		counts[i]++
		pos = end
	}
	for i, c := range chunks {
		if counts[i] > 0 {
			k.parts[i].push(c, counts[i], now)
		}
	}
	return nil
}

// fnv64 is FNV-1a over b: the partition of a key.
func fnv64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// startReady starts a bundle for each idle partition whose rows are due:
// enough rows or bytes, rows older than the bundle time, or the input ended.
func (k *keyedRun) startReady(ctx context.Context, ended bool) error {
	for i := range k.parts {
		part := &k.parts[i]
		if part.busy || part.rows == 0 {
			continue
		}
		if !ended && part.rows < k.p.cfg.BundleRows && part.bytes < maxBundleBytes && time.Since(part.since) < k.p.cfg.BundleTime {
			continue
		}
		if err := k.start(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

// start sends the pending rows of partition i as one bundle (in elements of
// at most maxElementBytes) and runs it to its end in a goroutine.
func (k *keyedRun) start(ctx context.Context, i int) error {
	part := &k.parts[i]
	k.seq++
	b := &bundle{seq: k.seq, attempts: 1}
	// At most BundleRows rows and about maxBundleBytes; the rest waits for
	// the next bundle of the partition.
	elements, counts, taken := part.take(k.p.cfg.BundleRows, maxBundleBytes, maxElementBytes)
	for j, el := range elements {
		b.elements = append(b.elements, wrapElement(el))
		b.batches = append(b.batches, array.NewRecordBatch(emptySchema, nil, int64(counts[j])))
		b.bytes += len(el) - elementReserve
		b.rows += counts[j]
	}
	k.pending -= taken
	part.busy = true
	k.running++
	parent := part.version
	go func() {
		data, err := k.p.runBundle(ctx, k.s, b, parent)
		k.done <- keyedDone{part: i, b: b, data: data, err: err}
	}()
	return nil
}

// runBundle starts b on a worker, sends its elements and waits for its
// output, replaying it when its worker dies (await). The first attempt
// starts from state version parent; a replay's parent is unknown.
func (p *Pool) runBundle(ctx context.Context, s *Stage, b *bundle, parent []byte) ([][]byte, error) {
	t, fb, err := p.begin(ctx, s)
	if err != nil {
		return nil, err
	}
	if a, ok := fb.State().(*keyedAttempt); ok {
		a.setParent(parent)
	}
	b.t, b.b = t, fb
	for _, el := range b.elements {
		if b.err = fb.Send(ctx, el, false); b.err != nil {
			break
		}
	}
	if b.err == nil {
		b.err = fb.Send(ctx, nil, true)
	}
	return p.await(ctx, s, b)
}

// finish applies the state writes of a completed bundle and sends its
// changelog rows on; the partition may then start its next bundle.
func (k *keyedRun) finish(ctx context.Context, d keyedDone) error {
	defer d.b.release()
	if d.err != nil {
		return d.err
	}
	a, _ := d.b.b.State().(*keyedAttempt)
	if a == nil {
		return fmt.Errorf("pyexec: %s: a bundle completed without its state", k.s.Spec.GetName())
	}
	a.mu.Lock()
	err := k.s.keyed.apply(&a.writes)
	a.mu.Unlock()
	if err != nil {
		return fmt.Errorf("pyexec: %s: apply the state of a bundle: %w", k.s.Spec.GetName(), err)
	}
	k.parts[d.part].busy = false
	k.parts[d.part].version = a.version
	rec, err := k.decode(d.data)
	if err != nil {
		return fmt.Errorf("pyexec: results of %s: %w", k.s.Spec.GetName(), err)
	}
	if rec == nil {
		return nil
	}
	select {
	case k.out <- rec:
		return nil
	case <-ctx.Done():
		rec.Release()
		return context.Cause(ctx)
	}
}

// decode turns a bundle's output into one batch of the stage's output
// schema: the keys decoded from their bytes, the results, the row kinds.
func (k *keyedRun) decode(data [][]byte) (arrow.RecordBatch, error) {
	values, err := splitChunks(data)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, v := range values {
		m, err := k.outDec.Decode(v)
		if err != nil {
			k.outDec.Release()
			return nil, err
		}
		n += m
	}
	if n == 0 {
		return nil, nil
	}
	arrs := k.outDec.NewArrays()
	defer release(arrs)
	keyBytes := arrs[0].(*array.Binary)
	if _, err := k.keyDec.Decode(keyBytes.ValueBytes()); err != nil {
		k.keyDec.Release()
		return nil, fmt.Errorf("group keys: %w", err)
	}
	keys := k.keyDec.NewArrays()
	defer release(keys)
	cols := make([]arrow.Array, 0, len(k.s.Output))
	cols = append(cols, keys...)
	cols = append(cols, arrs[2:]...)
	cols = append(cols, arrs[1])
	return array.NewRecordBatch(k.s.Output.Arrow(), cols, int64(n)), nil
}

// openKeyed opens the state store of keyed stage s, once; the pool closes
// it when it closes.
func (p *Pool) openKeyed(s *Stage) error {
	if s.keyed != nil {
		if s.ownStore {
			// Opened by Restore: from now on the pool's to close.
			s.ownStore = false
			p.mu.Lock()
			p.stores = append(p.stores, s.keyed.store)
			p.mu.Unlock()
		}
		return nil
	}
	store, err := state.Open(state.Options{Backend: s.Keyed.Backend})
	if err != nil {
		return fmt.Errorf("pyexec: %s: %w", s.Spec.GetName(), err)
	}
	s.keyed = &keyedState{store: store}
	p.mu.Lock()
	p.stores = append(p.stores, store)
	p.mu.Unlock()
	return nil
}

// Snapshot writes the state of a keyed stage between two of its runs
// (checkpoint.Snapshotter): each key and value as uvarint length and bytes.
func (s *Stage) Snapshot(w io.Writer) error {
	if s.Keyed == nil || s.keyed == nil {
		return nil // nothing kept yet
	}
	bw := bufio.NewWriter(w)
	var n [binary.MaxVarintLen64]byte
	put := func(b []byte) error {
		if _, err := bw.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))]); err != nil {
			return err
		}
		_, err := bw.Write(b)
		return err
	}
	s.keyed.mu.Lock()
	err := s.keyed.store.Scan(func(k, v []byte) error {
		if err := put(k); err != nil {
			return err
		}
		return put(v)
	})
	s.keyed.mu.Unlock()
	if err != nil {
		return fmt.Errorf("pyexec: snapshot of %s: %w", s.Spec.GetName(), err)
	}
	return bw.Flush()
}

// Restore loads a Snapshot into the keyed stage's store before its first
// run (checkpoint.Operator); the pool that runs the stage closes the store.
func (s *Stage) Restore(r io.Reader) error {
	if s.Keyed == nil {
		return fmt.Errorf("pyexec: %s keeps no state to restore", s.Spec.GetName())
	}
	if s.keyed == nil {
		store, err := state.Open(state.Options{Backend: s.Keyed.Backend})
		if err != nil {
			return fmt.Errorf("pyexec: %s: %w", s.Spec.GetName(), err)
		}
		s.keyed = &keyedState{store: store}
		s.ownStore = true
	}
	br := bufio.NewReader(r)
	read := func() ([]byte, error) {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, err
		}
		b := make([]byte, n)
		_, err = io.ReadFull(br, b)
		return b, err
	}
	var b state.Batch
	for {
		k, err := read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("pyexec: restore %s: %w", s.Spec.GetName(), err)
		}
		v, err := read()
		if err != nil {
			return fmt.Errorf("pyexec: restore %s: truncated snapshot: %w", s.Spec.GetName(), err)
		}
		b.Put(k, v)
		if b.Len() >= 4096 {
			if err := s.keyed.apply(&b); err != nil {
				return err
			}
			b.Reset()
		}
	}
	return s.keyed.apply(&b)
}
