package pyexec

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/coder"
	"github.com/weir-dev/weir/internal/types"
	"github.com/weir-dev/weir/internal/weirpb"
)

// A vectorized stage (weirpb.Stage_VECTORIZED) runs pandas and Arrow
// functions over whole batches. Its elements are Arrow IPC streams instead of
// row-format batches: an input element is a schema (fields f0, f1, ... of
// the stage's input types) and record batches of the input columns, each of
// at most python.fn-execution.arrow.batch.size rows and each one call of the
// functions; the answer is a stream of as many result batches with one
// column per output and as many rows, or several such streams, each but the
// last prefixed with the continuation byte (docs/WIRE_FORMAT.md). Bundles,
// replays, byte bounds and progress are the same as for the other stages.
//
// An element carries several batches because the worker's cost per element
// (the Fn API's gRPC message, the harness's queues and threads, the
// windowed-value coders) is far above the cost of a few thousand numbers:
// the stage's input batches are merged (coalesce) while the stage is busy,
// up to a bundle or maxElementBytes, and each element is cut into batches of
// the batch size again.

// Vectorized reports whether s runs vectorized (pandas or Arrow) functions.
func (s *Stage) Vectorized() bool { return s.Spec.GetKind() == weirpb.Stage_VECTORIZED }

// bundleRows is the number of rows after which a new bundle of s closes.
// A vectorized function sees each element as one call, so its first
// bundles are not started small (as those of per-row functions are, until
// the size of their results is known): a function of the whole batch (a
// mean, a rank) sees batches of python.fn-execution.arrow.batch.size rows
// from the start, as in PyFlink. Its results leave the worker in parts of
// at most a few MiB whatever their size.
func (s *Stage) bundleRows(est *outputEstimate, limit int) int {
	if s.Vectorized() {
		est.mu.Lock()
		known := est.known
		est.mu.Unlock()
		if !known {
			return limit
		}
	}
	return est.bundleRows(limit)
}

// encodeInput encodes rows [from, to) of q as one input element in the
// stage's format, or as many of the first of them as fit maxElementBytes
// (at least one); it returns the element and the number of rows in it. A
// stage of per-row functions is given one batch at a time.
func (s *Stage) encodeInput(enc *coder.Encoder, q columnSeq, from, to int) (encoded, int, error) {
	if !s.Vectorized() {
		buf, m, err := encodeRows(enc, q.parts[0], from, to)
		return encoded{buf}, m, err
	}
	return encodeArrowRows(arrowSchema(s.InputTypes), q, from, to, s.batchRows)
}

// arrowSchema is the schema of an Arrow element carrying values of ts.
func arrowSchema(ts []types.T) *arrow.Schema {
	fs := make([]arrow.Field, len(ts))
	for i, t := range ts {
		fs[i] = arrow.Field{Name: fmt.Sprintf("f%d", i), Type: t.Arrow(), Nullable: true}
	}
	return arrow.NewSchema(fs, nil)
}

// columnSeq is the columns of consecutive batches taken as one set of
// columns: the batches coalesce grouped while the stage was busy, or one.
type columnSeq struct {
	parts [][]arrow.Array // each batch's columns
	ends  []int           // ends[i] is the number of rows in parts[:i+1]
}

// oneBatch is the columns of one batch of n rows.
func oneBatch(cols []arrow.Array, n int) columnSeq {
	return columnSeq{parts: [][]arrow.Array{cols}, ends: []int{n}}
}

func (q *columnSeq) add(cols []arrow.Array, n int) {
	q.parts = append(q.parts, cols)
	q.ends = append(q.ends, q.rows()+n)
}

func (q columnSeq) rows() int {
	if len(q.ends) == 0 {
		return 0
	}
	return q.ends[len(q.ends)-1]
}

// start is the first row of batch i.
func (q columnSeq) start(i int) int {
	if i == 0 {
		return 0
	}
	return q.ends[i-1]
}

// batchOf is the batch that holds row r.
func (q columnSeq) batchOf(r int) int {
	i := 0
	for q.ends[i] <= r {
		i++
	}
	return i
}

// spanned is the batches that hold rows [from, to) (to > from).
func (q columnSeq) spanned(from, to int) (first, last int) {
	return q.batchOf(from), q.batchOf(to - 1)
}

// slice is rows [from, to) (to > from) as one set of columns, which the
// caller releases: slices of one batch's columns (no copy), or, across
// batches, the slices concatenated (a copy, in memory of the garbage
// collector, so that what refers to it keeps it).
func (q columnSeq) slice(from, to int) ([]arrow.Array, error) {
	first, last := q.spanned(from, to)
	out := make([]arrow.Array, len(q.parts[first]))
	if first == last {
		lo, hi := from-q.start(first), to-q.start(first)
		for j, c := range q.parts[first] {
			if lo == 0 && hi == c.Len() {
				c.Retain()
				out[j] = c
			} else {
				out[j] = array.NewSlice(c, int64(lo), int64(hi))
			}
		}
		return out, nil
	}
	pieces := make([]arrow.Array, last-first+1)
	for j := range out {
		for i := first; i <= last; i++ {
			lo, hi := max(from, q.start(i))-q.start(i), min(to, q.ends[i])-q.start(i)
			pieces[i-first] = array.NewSlice(q.parts[i][j], int64(lo), int64(hi))
		}
		c := concatValues(pieces)
		var err error
		if c == nil {
			c, err = array.Concatenate(pieces, ipcAlloc)
		}
		release(pieces)
		if err != nil {
			release(out[:j])
			return nil, err
		}
		out[j] = c
	}
	return out, nil
}

// sizeHint estimates the size of rows of cols in one of the stage's
// elements.
func (s *Stage) sizeHint(cols []arrow.Array, rows int) int {
	if s.Vectorized() {
		return arrowSizeHint(cols, rows)
	}
	return encodedSizeHint(cols, rows)
}

// arrowSizeHint estimates the size of rows of cols in an Arrow IPC stream
// (a vectorized stage's element), as encodedSizeHint does for the row
// coder: their buffers. (The row coder's estimate, 7 bytes for an INT where
// Arrow takes 4, cut elements to about half the rows that fit.)
func arrowSizeHint(cols []arrow.Array, rows int) int {
	n := 0
	for _, c := range cols {
		if c.NullN() > 0 {
			n += (rows + 7) / 8 // the validity bitmap
		}
		n += valuesSize(c, rows) // stage.go
	}
	return n
}

// encodeArrowRows writes rows [from, to) of q as one Arrow IPC stream of
// record batches of at most batchRows rows (all in one when batchRows <= 0),
// wrapped as a data element. The element refers to the columns' buffers
// (ipcParts): a batch of the stream within one of q's batches is written
// from where its values are; only one across two of them is copied (joined).
// Rows that encode to more than maxElementBytes are halved until they fit
// or one is left.
func encodeArrowRows(schema *arrow.Schema, q columnSeq, from, to, batchRows int) (encoded, int, error) {
	for {
		rows := to - from
		w := newIPCParts()
		if err := writeIPC(w, schema, q, from, to, batchRows); err != nil {
			return nil, 0, fmt.Errorf("encode input rows as Arrow: %w", err)
		}
		size := w.size
		if size > maxElementBytes && rows > 1 {
			to = from + rows/2
			continue
		}
		if size > maxRowBytes {
			return nil, 0, &LimitError{Message: fmt.Sprintf(
				"input row %d of a batch is %d bytes as Arrow, over weir's limit of %d bytes (%d MiB) for one row sent to a Python worker (gRPC messages are limited to 256 MiB).\n"+
					"This fails the same way on every try, so the job stops here. Send smaller values to the function: split a large value over several rows, or store it elsewhere and pass a reference to it.",
				from+1, size, maxRowBytes, maxRowBytes>>20)}
		}
		return w.element(), rows, nil
	}
}

// ipcParts is an io.Writer that keeps what an IPC writer writes as parts of
// an element, referring to large writes instead of copying them: those are
// the columns' buffers and the buffers the writer allocates for a message
// (from ipcAlloc, whose memory is the garbage collector's, so a released
// buffer stays valid while referred to). Small writes (message prefixes,
// padding) may come from memory the writer reuses, and are copied. The
// first part starts with elementReserve free bytes for the element's header.
type ipcParts struct {
	parts [][]byte
	own   bool // the last part is a copy, which small writes extend
	size  int  // bytes written
}

// ipcReference is the size from which a write is referred to.
const ipcReference = 256

// ipcAlloc allocates the IPC writer's own buffers (see ipcParts).
var ipcAlloc = memory.NewGoAllocator()

func newIPCParts() *ipcParts {
	return &ipcParts{parts: [][]byte{make([]byte, elementReserve, elementReserve+2*ipcReference)}, own: true}
}

func (w *ipcParts) Write(p []byte) (int, error) {
	w.size += len(p)
	switch {
	case len(p) >= ipcReference:
		w.parts = append(w.parts, p)
		w.own = false
	case w.own:
		w.parts[len(w.parts)-1] = append(w.parts[len(w.parts)-1], p...)
	default:
		w.parts = append(w.parts, append(make([]byte, 0, 2*ipcReference), p...))
		w.own = true
	}
	return len(p), nil
}

// element is what was written as one element: the header, then the parts.
func (w *ipcParts) element() encoded {
	w.parts[0] = elementHead(w.parts[0], w.size)
	return encoded(w.parts)
}

// writeIPC writes rows [from, to) of q to buf as an IPC stream of batches
// of at most batchRows rows (one batch when batchRows <= 0).
func writeIPC(buf io.Writer, schema *arrow.Schema, q columnSeq, from, to, batchRows int) error {
	w := ipc.NewWriter(buf, ipc.WithSchema(schema), ipc.WithAllocator(ipcAlloc))
	step := to - from
	if batchRows > 0 {
		step = min(step, batchRows)
	}
	for lo := from; ; {
		hi := min(lo+step, to)
		if err := writeBatch(w, schema, q, lo, hi); err != nil {
			w.Close()
			return err
		}
		if lo = hi; lo >= to {
			break
		}
	}
	return w.Close()
}

func writeBatch(w *ipc.Writer, schema *arrow.Schema, q columnSeq, from, to int) error {
	var cols []arrow.Array
	if to > from {
		var err error
		if cols, err = q.slice(from, to); err != nil {
			return err
		}
	} else {
		// No rows (an empty input): empty columns.
		cols = make([]arrow.Array, schema.NumFields())
		for i, c := range q.parts[0] {
			cols[i] = array.NewSlice(c, 0, 0)
		}
	}
	rec := array.NewRecordBatch(schema, cols, int64(to-from))
	release(cols)
	defer rec.Release()
	return w.Write(rec)
}

// readArrowBatches reads one part of a vectorized stage's results: an Arrow
// IPC stream of record batches whose columns must have the Arrow types of
// results. It calls fn with the columns and rows of each batch in turn; fn
// owns the columns (it releases them).
func readArrowBatches(mem memory.Allocator, results types.Schema, part []byte, fn func(cols []arrow.Array, n int) error) error {
	r, err := ipc.NewReaderFromMessageReader(&sliceMessages{data: part}, ipc.WithAllocator(mem))
	if err != nil {
		return fmt.Errorf("read Arrow results: %w", err)
	}
	defer r.Release()
	batches := 0
	for r.Next() {
		rec := r.RecordBatch()
		if int(rec.NumCols()) != len(results) {
			return fmt.Errorf("got %d result columns, want %d", rec.NumCols(), len(results))
		}
		cols := make([]arrow.Array, len(results))
		for i, f := range results {
			c := rec.Column(i)
			if want := f.Type.Arrow(); !arrow.TypeEqual(c.DataType(), want) {
				return fmt.Errorf("result column %d has Arrow type %s, want %s (for %s)", i, c.DataType(), want, f.Type)
			}
			cols[i] = c
		}
		for _, c := range cols {
			c.Retain()
		}
		batches++
		if err := fn(cols, int(rec.NumRows())); err != nil {
			return err
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("read Arrow results: %w", err)
	}
	if batches == 0 {
		return errors.New("read Arrow results: the stream holds no record batch")
	}
	return nil
}

// decodeArrowResults reads one part of a vectorized stage's results (see
// readArrowBatches) as one set of columns, its batches concatenated. The
// caller releases the columns.
func decodeArrowResults(mem memory.Allocator, results types.Schema, part []byte) ([]arrow.Array, int, error) {
	var batches [][]arrow.Array
	rows := 0
	defer func() {
		for _, b := range batches {
			release(b)
		}
	}()
	err := readArrowBatches(mem, results, part, func(cols []arrow.Array, n int) error {
		batches = append(batches, cols)
		rows += n
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if len(batches) == 1 {
		cols := batches[0]
		batches = nil
		return cols, rows, nil
	}
	cols := make([]arrow.Array, len(results))
	for i := range results {
		parts := make([]arrow.Array, len(batches))
		for k, b := range batches {
			parts[k] = b[i]
		}
		c, err := array.Concatenate(parts, mem)
		if err != nil {
			release(cols[:i])
			return nil, 0, fmt.Errorf("read Arrow results: %w", err)
		}
		cols[i] = c
	}
	return cols, rows, nil
}

// joinArrow sends the output of one input batch of a vectorized stage: its
// forwarded columns, then the result columns, one batch per result batch
// (the worker answers each batch of an element with one, and may send them
// in several parts).
func (p *Pool) joinArrow(s *Stage, mem memory.Allocator, rec arrow.RecordBatch, parts [][]byte, send func(arrow.RecordBatch) error) error {
	rows := int(rec.NumRows())
	done := 0
	for _, part := range parts {
		err := readArrowBatches(mem, s.Results, part, func(results []arrow.Array, n int) error {
			if done+n > rows {
				release(results)
				return fmt.Errorf("got %d or more result rows for %d input rows", done+n, rows)
			}
			if n == 0 {
				release(results)
				return nil
			}
			joined := s.joinRows(rec, done, n, results)
			done += n
			return send(joined)
		})
		if err != nil {
			return err
		}
	}
	if done != rows {
		return fmt.Errorf("got %d result rows for %d input rows", done, rows)
	}
	return nil
}

// encodeRange encodes rows [from, to) of cols as one input element in the
// stage's format, whatever their size (for the crash search's probes).
func (s *Stage) encodeRange(enc *coder.Encoder, cols []arrow.Array, from, to int) (encoded, error) {
	if !s.Vectorized() {
		buf, err := enc.Encode(make([]byte, elementReserve), cols, from, to)
		if err != nil {
			return nil, err
		}
		return encoded{wrapElement(buf)}, nil
	}
	w := newIPCParts()
	if err := writeIPC(w, arrowSchema(s.InputTypes), oneBatch(cols, cols0Len(cols)), from, to, s.batchRows); err != nil {
		return nil, err
	}
	return w.element(), nil
}

// decodeInput decodes an input element's value (for the crash search's
// report), in the stage's format.
func (s *Stage) decodeInput(mem memory.Allocator, value []byte) ([]arrow.Array, int, error) {
	if !s.Vectorized() {
		dec := coder.NewDecoder(mem, s.InputTypes)
		defer dec.Release()
		n, err := dec.Decode(value)
		if err != nil {
			return nil, 0, err
		}
		return dec.NewArrays(), n, nil
	}
	return decodeArrowResults(mem, arrowFields(s.InputTypes), value)
}

func arrowFields(ts []types.T) types.Schema {
	out := make(types.Schema, len(ts))
	for i, t := range ts {
		out[i] = types.Field{Name: fmt.Sprintf("f%d", i), Type: t}
	}
	return out
}

// coalesce groups the batches of in while the stage is busy: each batch is
// passed on at once (a group of one) when the stage is ready for it, and
// those that arrive while it is not are grouped, up to maxRows rows and
// maxBytes bytes, and sent together when it is ready again. dispatch sends a
// group's rows as elements of consecutive rows: so a stage that keeps up
// sees the batches as they come (no added latency), and one that does not
// gets large elements, whose fixed costs are shared by more rows, without
// the batches being copied into one. The groups' batches are the receiver's
// to release; the returned channel is closed when in is, or when ctx ends.
func coalesce(ctx context.Context, in <-chan arrow.RecordBatch, maxRows, maxBytes int) <-chan []arrow.RecordBatch {
	out := make(chan []arrow.RecordBatch)
	go func() {
		defer close(out)
		var ready, pending []arrow.RecordBatch // ready is offered to out
		rows, size := 0, 0                     // of pending
		defer func() {
			for _, r := range append(ready, pending...) {
				r.Release()
			}
		}()
		src := in
		for {
			if ready == nil && len(pending) > 0 {
				ready, pending, rows, size = pending, nil, 0, 0
			}
			if ready == nil && src == nil {
				return
			}
			var send chan<- []arrow.RecordBatch
			if ready != nil {
				send = out
			}
			recv := src
			if rows >= maxRows || size >= maxBytes {
				recv = nil // full: wait until the stage takes ready
			}
			select {
			case send <- ready:
				ready = nil
			case rec, ok := <-recv:
				if !ok {
					src = nil
					continue
				}
				if rec.NumRows() == 0 {
					rec.Release()
					continue
				}
				pending = append(pending, rec)
				rows += int(rec.NumRows())
				size += recordBytes(rec)
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// concatBatches is the batches (of one schema) as one batch.
func concatBatches(mem memory.Allocator, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	if len(recs) == 1 {
		recs[0].Retain()
		return recs[0], nil
	}
	n := int64(0)
	for _, r := range recs {
		n += r.NumRows()
	}
	schema := recs[0].Schema()
	cols := make([]arrow.Array, schema.NumFields())
	parts := make([]arrow.Array, len(recs))
	for i := range cols {
		for k, r := range recs {
			parts[k] = r.Column(i)
		}
		if c := concatValues(parts); c != nil {
			cols[i] = c
			continue
		}
		c, err := array.Concatenate(parts, mem)
		if err != nil {
			release(cols[:i])
			return nil, err
		}
		cols[i] = c
	}
	rec := array.NewRecordBatch(schema, cols, n)
	release(cols)
	return rec, nil
}

// concatValues concatenates arrays of a fixed-width type of whole bytes
// without NULLs (the common case of numbers from a source) in one copy of
// their values, into memory that is not cleared first, as the allocator's
// would be; nil for other arrays, which array.Concatenate joins.
func concatValues(parts []arrow.Array) arrow.Array {
	dt, ok := parts[0].DataType().(arrow.FixedWidthDataType)
	if !ok || !plainValues[dt.ID()] || dt.BitWidth()%8 != 0 {
		return nil
	}
	width := dt.BitWidth() / 8
	vals := make([][]byte, len(parts))
	n := 0
	for k, a := range parts {
		d := a.Data()
		if a.NullN() != 0 || len(d.Buffers()) != 2 || len(d.Children()) != 0 {
			return nil
		}
		if a.Len() > 0 {
			vals[k] = d.Buffers()[1].Bytes()[d.Offset()*width : (d.Offset()+a.Len())*width]
		}
		n += a.Len()
	}
	buf := memory.NewBufferBytes(bytes.Join(vals, nil))
	d := array.NewData(dt, n, []*memory.Buffer{nil, buf}, nil, 0, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

// plainValues are the types whose arrays are a validity bitmap and a buffer
// of values of a fixed number of bytes, and nothing else (no dictionary).
var plainValues = map[arrow.Type]bool{
	arrow.INT8: true, arrow.INT16: true, arrow.INT32: true, arrow.INT64: true,
	arrow.UINT8: true, arrow.UINT16: true, arrow.UINT32: true, arrow.UINT64: true,
	arrow.FLOAT16: true, arrow.FLOAT32: true, arrow.FLOAT64: true,
	arrow.DATE32: true, arrow.DATE64: true, arrow.TIME32: true, arrow.TIME64: true,
	arrow.TIMESTAMP: true, arrow.DURATION: true, arrow.DECIMAL128: true, arrow.DECIMAL256: true,
	arrow.INTERVAL_MONTHS: true, arrow.INTERVAL_DAY_TIME: true, arrow.INTERVAL_MONTH_DAY_NANO: true,
	arrow.FIXED_SIZE_BINARY: true,
}

// sliceMessages reads the IPC messages of a stream held in memory, its
// bodies without copying: the arrays read from them are views of data (the
// results of a bundle as they came from gRPC, which the garbage collector
// keeps while a view is alive).
type sliceMessages struct {
	data []byte
	msg  *ipc.Message
}

func (r *sliceMessages) Message() (msg *ipc.Message, err error) {
	defer func() {
		if p := recover(); p != nil {
			msg, err = nil, fmt.Errorf("arrow/ipc: invalid message metadata: %v", p)
		}
	}()
	if r.msg != nil {
		r.msg.Release()
		r.msg = nil
	}
	d := r.data
	if len(d) == 0 {
		return nil, io.EOF
	}
	if len(d) < 8 || binary.LittleEndian.Uint32(d) != 0xFFFFFFFF {
		return nil, errors.New("arrow/ipc: not an IPC stream message (no continuation marker)")
	}
	n := int64(binary.LittleEndian.Uint32(d[4:]))
	if n == 0 {
		return nil, io.EOF // the end-of-stream marker
	}
	if n < 4 || n > int64(len(d)-8) {
		return nil, fmt.Errorf("arrow/ipc: message metadata of %d bytes in %d", n, len(d)-8)
	}
	meta := memory.NewBufferBytes(d[8 : 8+n])
	head := ipc.NewMessage(meta, memory.NewBufferBytes(nil))
	body := head.BodyLen()
	head.Release()
	if body < 0 || body > int64(len(d))-8-n {
		return nil, fmt.Errorf("arrow/ipc: message body of %d bytes in %d", body, int64(len(d))-8-n)
	}
	r.msg = ipc.NewMessage(meta, memory.NewBufferBytes(d[8+n:8+n+body]))
	r.data = d[8+n+body:]
	return r.msg, nil
}

func (r *sliceMessages) Retain() {}

func (r *sliceMessages) Release() {
	if r.msg != nil {
		r.msg.Release()
		r.msg = nil
	}
}
