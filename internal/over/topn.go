package over

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/sortop"
)

// topNMax is the largest Limit the Top-N path keeps per partition; beyond
// it the input is sorted whole.
const topNMax = 1000

// topN reports whether the Top-N path runs: the rows kept are the first
// Limit ROW_NUMBERs, every call numbers rows only, and the ORDER BY keys
// have types the path can encode.
func (o *Op) topN() bool {
	if o.Limit <= 0 || o.Limit > topNMax {
		return false
	}
	for _, c := range o.Calls {
		if c.Func != RowNumber {
			return false
		}
	}
	for _, k := range o.Order {
		if !encodable(o.Schema[k.Col].Type.Arrow()) {
			return false
		}
	}
	return true
}

// candidate is a row kept by the Top-N path: its encoded ORDER BY key, its
// arrival (ties keep the earlier row, as the stable sort does) and where it
// is (batch of the pool, row).
type candidate[K topKey] struct {
	key   K
	seq   int64
	batch int32
	row   int32
}

// topKey is an encoded ORDER BY key: a byte string, or a uint64 for one
// NOT NULL fixed-width key (the fast path).
type topKey interface{ ~string | ~uint64 }

// less orders candidates as the window does.
func (c *candidate[K]) less(d *candidate[K]) bool {
	if c.key != d.key {
		return c.key < d.key
	}
	return c.seq < d.seq
}

// runTopN keeps, per partition, the best Limit rows seen so far in a sorted
// slice, and numbers the rows kept at the end by their places there. Batches are held while a row of theirs is
// kept; when the held rows outgrow twice the kept ones, the kept rows are
// copied into one batch and the rest released.
func (o *Op) runTopN(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	if o.fixedKey() {
		return runTopN(o, ctx, mem, in, out, encodeFixed)
	}
	return runTopN(o, ctx, mem, in, out, encodeOrder)
}

func runTopN[K topKey](o *Op, ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch, encode func(arrow.RecordBatch, []sortop.Key) []K) error {
	var partTypes []arrow.DataType
	for _, c := range o.Partition {
		partTypes = append(partTypes, o.Schema[c].Type.Arrow())
	}
	parts := aggregate.NewKeyTable(partTypes)
	n := int(o.Limit)
	var cands []candidate[K] // partition p's are cands[p*n : p*n+count[p]], best first
	var count []int32
	var pool []arrow.RecordBatch
	live := []int{} // kept rows per pool batch
	held, kept := int64(0), int64(0)
	defer func() {
		for _, b := range pool {
			if b != nil {
				b.Release()
			}
		}
	}()
	seq := int64(0)
	var ids []int32
	for b := range in {
		if ctx.Err() != nil {
			b.Release()
			return nil
		}
		rows := int(b.NumRows())
		if rows == 0 {
			b.Release()
			continue
		}
		ids = slices.Grow(ids[:0], rows)[:rows]
		var keyCols []arrow.Array
		for _, c := range o.Partition {
			keyCols = append(keyCols, b.Column(c))
		}
		if len(keyCols) == 0 {
			clear(ids)
			if parts.Len() == 0 {
				count = append(count, 0)
				cands = append(cands, make([]candidate[K], n)...)
			}
		} else if err := parts.Add(keyCols, ids); err != nil {
			b.Release()
			return fmt.Errorf("over: %w", err)
		}
		for len(count) < parts.Len() {
			count = append(count, 0)
			cands = append(cands, make([]candidate[K], n)...)
		}
		keys := encode(b, o.Order)
		bi := int32(len(pool))
		pool = append(pool, b)
		live = append(live, 0)
		held += int64(rows)
		for r := 0; r < rows; r++ {
			p := int(ids[r])
			c := candidate[K]{key: keys[r], seq: seq + int64(r), batch: bi, row: int32(r)}
			slot := cands[p*n : p*n+int(count[p])]
			if len(slot) == n && !c.less(&slot[n-1]) {
				continue
			}
			// Insert in order, dropping the worst when full.
			at := len(slot)
			for at > 0 && c.less(&slot[at-1]) {
				at--
			}
			if len(slot) == n {
				worst := slot[n-1]
				live[worst.batch]--
				kept--
				slot = slot[:n-1]
			}
			slot = cands[p*n : p*n+len(slot)+1]
			copy(slot[at+1:], slot[at:len(slot)-1])
			slot[at] = c
			count[p] = int32(len(slot))
			live[bi]++
			kept++
		}
		seq += int64(rows)
		// Batches none of whose rows are kept go at once.
		for i, l := range live {
			if l == 0 && pool[i] != nil {
				held -= pool[i].NumRows()
				pool[i].Release()
				pool[i] = nil
			}
		}
		slack := int64(outRows)
		if o.compactSlack > 0 {
			slack = o.compactSlack
		}
		if held > 2*kept+slack {
			rec, err := gather(o, ctx, mem, pool, cands, count, n)
			if err != nil {
				return err
			}
			for i, b := range pool {
				if b != nil {
					b.Release()
				}
				pool[i] = nil
			}
			pool, live, held = []arrow.RecordBatch{rec}, []int{int(kept)}, kept
		}
	}
	if ctx.Err() != nil || kept == 0 {
		return nil
	}
	rec, err := gather(o, ctx, mem, pool, cands, count, n)
	if err != nil {
		return err
	}
	defer rec.Release()
	return o.emitRanked(ctx, mem, rec, count, out)
}

// gather copies the kept rows into one batch, partition by partition and
// best first, and points the candidates at their new places (batch 0).
func gather[K topKey](o *Op, ctx context.Context, mem memory.Allocator, pool []arrow.RecordBatch, cands []candidate[K], count []int32, n int) (arrow.RecordBatch, error) {
	// Count the rows taken from each batch, so that each row's place in
	// the concatenation of the batches' takes is known up front.
	perBatch := make([]int32, len(pool))
	total := 0
	for p, k := range count {
		for i := 0; i < int(k); i++ {
			perBatch[cands[p*n+i].batch]++
			total++
		}
	}
	start := make([]int32, len(pool)+1)
	for b, k := range perBatch {
		start[b+1] = start[b] + k
	}
	rows := make([][]int32, len(pool))
	next := append([]int32(nil), start[:len(pool)]...)
	idx := make([]int32, 0, total) // candidate order -> place in the concatenation
	for p, k := range count {
		for i := 0; i < int(k); i++ {
			c := &cands[p*n+i]
			rows[c.batch] = append(rows[c.batch], c.row)
			idx = append(idx, next[c.batch])
			next[c.batch]++
			c.batch, c.row = 0, int32(len(idx)-1)
		}
	}
	if sc, ok := any(cands).([]candidate[string]); ok {
		packKeys(sc, count, n)
	}
	var parts []arrow.RecordBatch
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	for b, r := range rows {
		if len(r) == 0 {
			continue
		}
		t, err := sortop.Take(ctx, mem, pool[b], r, o.Schema)
		if err != nil {
			return nil, fmt.Errorf("over: %w", err)
		}
		parts = append(parts, t)
	}
	all, err := concat(mem, o.Schema, parts)
	if err != nil {
		return nil, err
	}
	defer all.Release()
	return sortop.Take(ctx, mem, all, idx, o.Schema)
}

// emitRanked sends the gathered rows (partition by partition, best first)
// with their row numbers: the Top-N path needs no sort at the end.
func (o *Op) emitRanked(ctx context.Context, mem memory.Allocator, rec arrow.RecordBatch, count []int32, out chan<- arrow.RecordBatch) error {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.Reserve(int(rec.NumRows()))
	for _, k := range count {
		for i := int64(1); i <= int64(k); i++ {
			b.UnsafeAppend(i)
		}
	}
	rn := b.NewArray()
	defer rn.Release()
	cols := append([]arrow.Array(nil), rec.Columns()...)
	for range o.Calls {
		cols = append(cols, rn)
	}
	res := array.NewRecordBatch(o.OutSchema().Arrow(), cols, rec.NumRows())
	defer res.Release()
	sendSlices(ctx, res, out)
	return nil
}

// packKeys moves the kept keys into one new string, so that the key
// strings of released batches can go.
func packKeys(cands []candidate[string], count []int32, n int) {
	var keys []byte
	for p, k := range count {
		for i := 0; i < int(k); i++ {
			keys = append(keys, cands[p*n+i].key...)
		}
	}
	packed, off := string(keys), 0
	for p, k := range count {
		for i := 0; i < int(k); i++ {
			c := &cands[p*n+i]
			c.key, off = packed[off:off+len(c.key)], off+len(c.key)
		}
	}
}

// fixedKey reports whether the window orders by one NOT NULL key of a
// fixed-width numeric or temporal type, which encodeFixed encodes.
func (o *Op) fixedKey() bool {
	if len(o.Order) != 1 || o.Schema[o.Order[0].Col].Type.Nullable {
		return false
	}
	switch o.Schema[o.Order[0].Col].Type.Arrow().ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.DATE32, arrow.TIME32, arrow.TIMESTAMP, arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return false
}

// encodeFixed encodes one NOT NULL fixed-width key per row as a uint64 that
// orders as the window does: appendValue's 8 bytes, read big-endian.
func encodeFixed(b arrow.RecordBatch, keys []sortop.Key) []uint64 {
	col := b.Column(keys[0].Col)
	out := make([]uint64, b.NumRows())
	var buf []byte
	for r := range out {
		buf = appendValue(buf[:0], col, r)
		out[r] = binary.BigEndian.Uint64(buf)
		if keys[0].Desc {
			out[r] = ^out[r]
		}
	}
	return out
}

// encodable reports whether encodeOrder can encode keys of type t.
func encodable(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.DATE32, arrow.TIME32, arrow.TIMESTAMP,
		arrow.FLOAT32, arrow.FLOAT64, arrow.BOOL, arrow.DECIMAL128, arrow.STRING, arrow.BINARY:
		return true
	}
	return false
}

// encodeOrder encodes each row's ORDER BY keys into a string whose byte
// order is the window's order: per key a NULL marker placed as the key says,
// then the value's bytes (inverted for DESC); strings are escaped and
// terminated so that no encoding is a prefix of another.
func encodeOrder(b arrow.RecordBatch, keys []sortop.Key) []string {
	rows := int(b.NumRows())
	// Row by row into one buffer; the keys are substrings of one string,
	// one allocation a batch.
	var buf []byte
	ends := make([]int, rows)
	cols := make([]arrow.Array, len(keys))
	for i, k := range keys {
		cols[i] = b.Column(k.Col)
	}
	for r := 0; r < rows; r++ {
		for i, k := range keys {
			col := cols[i]
			if col.IsNull(r) {
				if k.NullsFirst {
					buf = append(buf, 0)
				} else {
					buf = append(buf, 2)
				}
				continue
			}
			buf = append(buf, 1)
			start := len(buf)
			buf = appendValue(buf, col, r)
			if k.Desc {
				for j := start; j < len(buf); j++ {
					buf[j] = ^buf[j]
				}
			}
		}
		ends[r] = len(buf)
	}
	all := string(buf)
	out := make([]string, rows)
	lo := 0
	for r, hi := range ends {
		out[r] = all[lo:hi]
		lo = hi
	}
	return out
}

// appendValue appends the order-preserving bytes of row r of col.
func appendValue(buf []byte, col arrow.Array, r int) []byte {
	signed := func(v int64) []byte { return binary.BigEndian.AppendUint64(buf, uint64(v)^(1<<63)) }
	float := func(f float64) []byte {
		if f != f {
			f = math.NaN()
		}
		bits := math.Float64bits(f)
		if bits>>63 != 0 {
			bits = ^bits
		} else {
			bits |= 1 << 63
		}
		return binary.BigEndian.AppendUint64(buf, bits)
	}
	bytesKey := func(s []byte) []byte {
		for _, c := range s {
			if c == 0 {
				buf = append(buf, 0, 0xFF)
				continue
			}
			buf = append(buf, c)
		}
		return append(buf, 0, 0)
	}
	switch a := col.(type) {
	case *array.Int8:
		return signed(int64(a.Value(r)))
	case *array.Int16:
		return signed(int64(a.Value(r)))
	case *array.Int32:
		return signed(int64(a.Value(r)))
	case *array.Int64:
		return signed(a.Value(r))
	case *array.Date32:
		return signed(int64(a.Value(r)))
	case *array.Time32:
		return signed(int64(a.Value(r)))
	case *array.Timestamp:
		return signed(int64(a.Value(r)))
	case *array.Float32:
		return float(float64(a.Value(r)))
	case *array.Float64:
		return float(a.Value(r))
	case *array.Boolean:
		if a.Value(r) {
			return append(buf, 1)
		}
		return append(buf, 0)
	case *array.Decimal128:
		v := a.Value(r)
		buf = binary.BigEndian.AppendUint64(buf, uint64(v.HighBits())^(1<<63))
		return binary.BigEndian.AppendUint64(buf, v.LowBits())
	case *array.String:
		return bytesKey([]byte(a.Value(r)))
	case *array.Binary:
		return bytesKey(a.Value(r))
	}
	return buf
}
