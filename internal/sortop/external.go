package sortop

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/spill"
)

// An external sort: when the gathered input passes the operator's memory
// budget, it is sorted and written as a run (a spill file of sorted
// batches); at the end the runs are merged, at most mergeFanIn at a time,
// comparing rows by their keys encoded as bytes that order as the rows do.
// Equal rows keep their input order: runs are in input order, each run
// sorted stably, and the merge takes ties from the earlier run first.

// mergeFanIn is the most runs merged at once; more are merged in passes
// (a variable for tests).
var mergeFanIn = 64

// external holds the runs of a sort that spilled.
type external struct {
	o      *Op
	budget *spill.Budget
	runs   []*spill.File
	// chunk is the rows of a run's batches, small enough that mergeFanIn
	// of them fit the budget.
	chunk int
}

func (o *Op) newExternal(budget *spill.Budget) *external {
	return &external{o: o, budget: budget}
}

// remove deletes the runs not yet merged.
func (x *external) remove() { spill.RemoveAll(x.runs) }

// addRun sorts pool into a new run and releases it.
func (x *external) addRun(ctx context.Context, mem memory.Allocator, pool []arrow.RecordBatch, poolBytes int64) error {
	rows := int64(0)
	for _, b := range pool {
		rows += b.NumRows()
	}
	if rows == 0 {
		return nil
	}
	if x.chunk == 0 {
		perRow := max(poolBytes/rows, 1)
		x.chunk = int(min(max(x.budget.Bytes()/int64(4*mergeFanIn)/perRow, 256), outRows))
	}
	cols, err := x.o.concat(mem, pool)
	for _, b := range pool {
		b.Release()
	}
	if err != nil {
		return err
	}
	rec := array.NewRecordBatch(x.o.Schema.Arrow(), cols, rows)
	for _, c := range cols {
		c.Release()
	}
	defer rec.Release()
	idx, err := x.o.order(rec.Columns(), int(rows))
	if err != nil {
		return err
	}
	w, err := x.budget.Create("sort-run", x.o.Schema.Arrow())
	if err != nil {
		return err
	}
	for lo := 0; lo < len(idx); lo += x.chunk {
		part, err := take(ctx, mem, rec, idx[lo:min(len(idx), lo+x.chunk)], x.o.Schema)
		if err == nil {
			err = w.Write(part)
			part.Release()
		}
		if err != nil {
			w.Abort()
			return err
		}
	}
	f, err := w.Finish()
	if err != nil {
		return err
	}
	x.runs = append(x.runs, f)
	return nil
}

// finish sorts the rest of the input (pool) as a last run, merges every run
// and sends rows Offset..Offset+Limit of the result.
func (x *external) finish(ctx context.Context, mem memory.Allocator, pool []arrow.RecordBatch, poolBytes int64, out chan<- arrow.RecordBatch) error {
	if err := x.addRun(ctx, mem, pool, poolBytes); err != nil {
		return err
	}
	for len(x.runs) > mergeFanIn {
		// Merge the first runs into one, keeping the runs in input order.
		w, err := x.budget.Create("sort-run", x.o.Schema.Arrow())
		if err != nil {
			return err
		}
		err = x.merge(ctx, mem, x.runs[:mergeFanIn], 0, -1, func(b arrow.RecordBatch) error {
			defer b.Release()
			return w.Write(b)
		})
		if err != nil {
			w.Abort()
			return err
		}
		f, err := w.Finish()
		if err != nil {
			return err
		}
		x.runs = append([]*spill.File{f}, x.runs[mergeFanIn:]...)
	}
	runs := x.runs
	x.runs = nil
	defer spill.RemoveAll(runs)
	return x.merge(ctx, mem, runs, x.o.Offset, x.o.Limit, func(b arrow.RecordBatch) error {
		select {
		case out <- b:
			return nil
		case <-ctx.Done():
			b.Release()
			return context.Cause(ctx)
		}
	})
}

// cursor reads one run during a merge.
type cursor struct {
	run  int
	r    *spill.Reader
	b    arrow.RecordBatch
	keys [][]byte
	row  int
}

// next moves to the next row; false at the run's end.
func (c *cursor) next(x *external) (bool, error) {
	c.row++
	for c.b == nil || c.row >= int(c.b.NumRows()) {
		if c.b != nil {
			c.b.Release()
			c.b = nil
		}
		b, err := c.r.Next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		c.b, c.row = b, 0
		if c.keys, err = encodeKeys(b, x.o.Keys, c.keys); err != nil {
			return false, err
		}
	}
	return true, nil
}

type cursorHeap []*cursor

func (h cursorHeap) Len() int { return len(h) }
func (h cursorHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].keys[h[i].row], h[j].keys[h[j].row]); c != 0 {
		return c < 0
	}
	return h[i].run < h[j].run
}
func (h cursorHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(v any)   { *h = append(*h, v.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// merge merges runs (in input order), skips offset rows, and passes at most
// limit rows (all when limit < 0) to emit in batches of outRows.
func (x *external) merge(ctx context.Context, mem memory.Allocator, runs []*spill.File, offset, limit int64, emit func(arrow.RecordBatch) error) error {
	var h cursorHeap
	defer func() {
		for _, c := range h {
			if c.b != nil {
				c.b.Release()
			}
			c.r.Close()
		}
	}()
	for i, f := range runs {
		r, err := f.Open(mem)
		if err != nil {
			return err
		}
		c := &cursor{run: i, r: r, row: -1}
		ok, err := c.next(x)
		if err != nil {
			r.Close()
			return err
		}
		if !ok {
			r.Close()
			continue
		}
		h = append(h, c)
	}
	heap.Init(&h)
	schema := x.o.Schema.Arrow()
	rb := array.NewRecordBuilder(mem, schema)
	defer rb.Release()
	flush := func() error {
		if rb.Field(0).Len() == 0 && len(schema.Fields()) > 0 {
			return nil
		}
		return emit(rb.NewRecordBatch())
	}
	n := 0
	for len(h) > 0 && limit != 0 {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		c := h[0]
		if offset > 0 {
			offset--
		} else {
			for i, col := range c.b.Columns() {
				appendRow(rb.Field(i), col, c.row)
			}
			n++
			if limit > 0 {
				limit--
			}
			if n == outRows {
				if err := flush(); err != nil {
					return err
				}
				n = 0
			}
		}
		ok, err := c.next(x)
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
			continue
		}
		heap.Pop(&h)
		c.r.Close()
	}
	if n > 0 {
		return flush()
	}
	return nil
}

// concat joins the columns of batches.
func (o *Op) concat(mem memory.Allocator, batches []arrow.RecordBatch) ([]arrow.Array, error) {
	cols := make([]arrow.Array, len(o.Schema))
	for c := range cols {
		parts := make([]arrow.Array, len(batches))
		for i, b := range batches {
			parts[i] = b.Column(c)
		}
		if len(parts) == 1 {
			parts[0].Retain()
			cols[c] = parts[0]
			continue
		}
		cat, err := array.Concatenate(parts, mem)
		if err != nil {
			for _, x := range cols[:c] {
				x.Release()
			}
			return nil, fmt.Errorf("sort: %w", err)
		}
		cols[c] = cat
	}
	return cols, nil
}

// encodeKeys encodes each row's sort keys of b as bytes that compare (as
// bytes.Compare) as the rows do under keys: per key a NULL marker placed as
// the key says, then the value in an order-preserving form, inverted for a
// descending key. The buffers of enc are reused.
func encodeKeys(b arrow.RecordBatch, keys []Key, enc [][]byte) ([][]byte, error) {
	n := int(b.NumRows())
	for len(enc) < n {
		enc = append(enc, nil)
	}
	enc = enc[:n]
	for i := range enc {
		enc[i] = enc[i][:0]
	}
	for _, k := range keys {
		if err := encodeKey(b.Column(k.Col), k, enc); err != nil {
			return nil, err
		}
	}
	return enc, nil
}

func encodeKey(a arrow.Array, k Key, enc [][]byte) error {
	nullMark, valueMark := byte(2), byte(1)
	if k.NullsFirst {
		nullMark = 0
	}
	u64 := func(i int, v uint64) {
		enc[i] = binary.BigEndian.AppendUint64(append(enc[i], valueMark), v)
	}
	signed := func(v int64) uint64 { return uint64(v) ^ 1<<63 }
	start := make([]int, len(enc))
	for i := range enc {
		start[i] = len(enc[i])
	}
	switch a := a.(type) {
	case *array.Int8:
		for i, v := range a.Int8Values() {
			u64(i, signed(int64(v)))
		}
	case *array.Int16:
		for i, v := range a.Int16Values() {
			u64(i, signed(int64(v)))
		}
	case *array.Int32:
		for i, v := range a.Int32Values() {
			u64(i, signed(int64(v)))
		}
	case *array.Int64:
		for i, v := range a.Int64Values() {
			u64(i, signed(v))
		}
	case *array.Date32:
		for i, v := range a.Date32Values() {
			u64(i, signed(int64(v)))
		}
	case *array.Time32:
		for i, v := range a.Time32Values() {
			u64(i, signed(int64(v)))
		}
	case *array.Timestamp:
		for i, v := range a.TimestampValues() {
			u64(i, signed(int64(v)))
		}
	case *array.Float32:
		for i, v := range a.Float32Values() {
			u64(i, floatKey(float64(v)))
		}
	case *array.Float64:
		for i, v := range a.Float64Values() {
			u64(i, floatKey(v))
		}
	case *array.Boolean:
		for i := range enc {
			enc[i] = append(enc[i], valueMark, byte(b2i(a.Value(i))))
		}
	case *array.Decimal128:
		for i, v := range a.Values() {
			u64(i, signed(v.HighBits()))
			enc[i] = binary.BigEndian.AppendUint64(enc[i], v.LowBits())
		}
	case *array.String:
		for i := range enc {
			enc[i] = appendEscaped(append(enc[i], valueMark), a.Value(i))
		}
	case *array.Binary:
		for i := range enc {
			enc[i] = appendEscaped(append(enc[i], valueMark), string(a.Value(i)))
		}
	default:
		return fmt.Errorf("ORDER BY on %s is not supported", a.DataType())
	}
	nulls := a.NullN() > 0
	if !nulls && !k.Desc {
		return nil
	}
	for i := range enc {
		switch {
		case nulls && a.IsNull(i):
			enc[i] = append(enc[i][:start[i]], nullMark)
		case k.Desc:
			for j := start[i] + 1; j < len(enc[i]); j++ {
				enc[i][j] = ^enc[i][j]
			}
		}
	}
	return nil
}

// appendEscaped appends s so that byte order is kept and no encoding is a
// prefix of another: each 0x00 as 0x00 0xFF, then 0x00 0x00.
func appendEscaped(dst []byte, s string) []byte {
	for j := 0; j < len(s); j++ {
		dst = append(dst, s[j])
		if s[j] == 0 {
			dst = append(dst, 0xFF)
		}
	}
	return append(dst, 0, 0)
}

// appendRow appends row i of a to b (of a's type).
func appendRow(b array.Builder, a arrow.Array, i int) {
	if a.IsNull(i) {
		b.AppendNull()
		return
	}
	switch a := a.(type) {
	case *array.Int8:
		b.(*array.Int8Builder).Append(a.Value(i))
	case *array.Int16:
		b.(*array.Int16Builder).Append(a.Value(i))
	case *array.Int32:
		b.(*array.Int32Builder).Append(a.Value(i))
	case *array.Int64:
		b.(*array.Int64Builder).Append(a.Value(i))
	case *array.Float32:
		b.(*array.Float32Builder).Append(a.Value(i))
	case *array.Float64:
		b.(*array.Float64Builder).Append(a.Value(i))
	case *array.Boolean:
		b.(*array.BooleanBuilder).Append(a.Value(i))
	case *array.String:
		b.(*array.StringBuilder).Append(a.Value(i))
	case *array.Binary:
		b.(*array.BinaryBuilder).Append(a.Value(i))
	case *array.Decimal128:
		b.(*array.Decimal128Builder).Append(a.Value(i))
	case *array.Date32:
		b.(*array.Date32Builder).Append(a.Value(i))
	case *array.Time32:
		b.(*array.Time32Builder).Append(a.Value(i))
	case *array.Timestamp:
		b.(*array.TimestampBuilder).Append(a.Value(i))
	default:
		// Nested and rarer types, off the common path: through the
		// value's JSON form, which their builders parse back exactly.
		if err := b.AppendValueFromString(a.ValueStr(i)); err != nil {
			panic(fmt.Sprintf("sort: copying a %s value: %v", a.DataType(), err))
		}
	}
}
