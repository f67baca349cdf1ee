package pyexec

import (
	"bytes"
	"errors"
	"fmt"

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
// the stage's input types) and one record batch of the input columns; the
// answer is a stream of one record batch with one column per output and as
// many rows, or several such streams, each but the last prefixed with the
// continuation byte (docs/WIRE_FORMAT.md). Bundles, replays, byte bounds and
// progress are the same as for the other stages.

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

// encodeInput encodes rows [from, to) of cols as one input element in the
// stage's format, or as many of the first of them as fit maxElementBytes
// (at least one); it returns the element and the number of rows in it.
func (s *Stage) encodeInput(enc *coder.Encoder, cols []arrow.Array, from, to int) ([]byte, int, error) {
	if !s.Vectorized() {
		return encodeRows(enc, cols, from, to)
	}
	return encodeArrowRows(arrowSchema(s.InputTypes), cols, from, to)
}

// arrowSchema is the schema of an Arrow element carrying values of ts.
func arrowSchema(ts []types.T) *arrow.Schema {
	fs := make([]arrow.Field, len(ts))
	for i, t := range ts {
		fs[i] = arrow.Field{Name: fmt.Sprintf("f%d", i), Type: t.Arrow(), Nullable: true}
	}
	return arrow.NewSchema(fs, nil)
}

// encodeArrowRows writes rows [from, to) of cols as one Arrow IPC stream,
// wrapped as a data element. The IPC writer reads the columns' buffers in
// place (a slice is written without first being copied); rows that encode
// to more than maxElementBytes are halved until they fit or one is left.
func encodeArrowRows(schema *arrow.Schema, cols []arrow.Array, from, to int) ([]byte, int, error) {
	for {
		rows := to - from
		buf := bytes.NewBuffer(make([]byte, elementReserve, elementReserve+arrowSizeHint(cols, rows)))
		if err := writeIPC(buf, schema, cols, from, to); err != nil {
			return nil, 0, fmt.Errorf("encode input rows as Arrow: %w", err)
		}
		size := buf.Len() - elementReserve
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
		return wrapElement(buf.Bytes()), rows, nil
	}
}

func writeIPC(buf *bytes.Buffer, schema *arrow.Schema, cols []arrow.Array, from, to int) error {
	slices := make([]arrow.Array, len(cols))
	for i, c := range cols {
		if from == 0 && to == c.Len() {
			c.Retain()
			slices[i] = c
		} else {
			slices[i] = array.NewSlice(c, int64(from), int64(to))
		}
	}
	rec := array.NewRecordBatch(schema, slices, int64(to-from))
	release(slices)
	defer rec.Release()
	w := ipc.NewWriter(buf, ipc.WithSchema(schema))
	if err := w.Write(rec); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// arrowSizeHint estimates the IPC size of rows of cols: their buffers'
// share plus room for the schema and batch metadata.
func arrowSizeHint(cols []arrow.Array, rows int) int {
	n := 1024
	for _, c := range cols {
		size := 0
		for _, b := range c.Data().Buffers() {
			if b != nil {
				size += b.Len()
			}
		}
		if l := c.Len(); l > 0 {
			n += size/l*rows + 64
		}
	}
	return n
}

// decodeArrowResults reads one part of a vectorized stage's results: an
// Arrow IPC stream of one record batch whose columns must have the Arrow
// types of results. It returns the columns, which the caller releases.
func decodeArrowResults(mem memory.Allocator, results types.Schema, part []byte) ([]arrow.Array, int, error) {
	r, err := ipc.NewReader(bytes.NewReader(part), ipc.WithAllocator(mem))
	if err != nil {
		return nil, 0, fmt.Errorf("read Arrow results: %w", err)
	}
	defer r.Release()
	if !r.Next() {
		if err := r.Err(); err != nil {
			return nil, 0, fmt.Errorf("read Arrow results: %w", err)
		}
		return nil, 0, errors.New("read Arrow results: the stream holds no record batch")
	}
	rec := r.RecordBatch()
	if int(rec.NumCols()) != len(results) {
		return nil, 0, fmt.Errorf("got %d result columns, want %d", rec.NumCols(), len(results))
	}
	cols := make([]arrow.Array, len(results))
	for i, f := range results {
		c := rec.Column(i)
		if want := f.Type.Arrow(); !arrow.TypeEqual(c.DataType(), want) {
			return nil, 0, fmt.Errorf("result column %d has Arrow type %s, want %s (for %s)", i, c.DataType(), want, f.Type)
		}
		c.Retain()
		cols[i] = c
	}
	n := int(rec.NumRows())
	if r.Next() {
		release(cols)
		return nil, 0, errors.New("read Arrow results: the stream holds more than one record batch")
	}
	return cols, n, nil
}

// joinArrow sends the output of one input batch of a vectorized stage: its
// forwarded columns, then the result columns, one batch per part of the
// results.
func (p *Pool) joinArrow(s *Stage, mem memory.Allocator, rec arrow.RecordBatch, parts [][]byte, send func(arrow.RecordBatch) error) error {
	rows := int(rec.NumRows())
	done := 0
	for _, part := range parts {
		results, n, err := decodeArrowResults(mem, s.Results, part)
		if err != nil {
			return err
		}
		if done+n > rows {
			release(results)
			return fmt.Errorf("got %d or more result rows for %d input rows", done+n, rows)
		}
		if n == 0 {
			release(results)
			continue
		}
		joined := s.joinRows(rec, done, n, results)
		done += n
		if err := send(joined); err != nil {
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
func (s *Stage) encodeRange(enc *coder.Encoder, cols []arrow.Array, from, to int) ([]byte, error) {
	if !s.Vectorized() {
		buf, err := enc.Encode(make([]byte, elementReserve), cols, from, to)
		if err != nil {
			return nil, err
		}
		return wrapElement(buf), nil
	}
	buf := bytes.NewBuffer(make([]byte, elementReserve, elementReserve+arrowSizeHint(cols, to-from)))
	if err := writeIPC(buf, arrowSchema(s.InputTypes), cols, from, to); err != nil {
		return nil, err
	}
	return wrapElement(buf.Bytes()), nil
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
