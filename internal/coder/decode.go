package coder

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/weir-dev/weir/internal/types"
)

// Decoder reads rows into Arrow arrays.
//
// The decoder trusts nothing in its input: every length and count is checked
// against the bytes left in its row, and nothing is allocated ahead on the
// word of the input. A failing Decode or DecodeTable leaves the decoder with
// the rows read before the failing one. A Decoder is not safe for concurrent
// use.
type Decoder struct {
	mem     memory.Allocator
	ts      []types.T
	row     rowDec
	n       int
	parents []int32
	err     error

	// bulk holds the columns when all are fixed-width: a row without nulls
	// is then tmpl (length prefix and empty header) plus the values, stride
	// bytes in all.
	bulk   []bulkColumn
	tmpl   []byte
	stride int
}

// bulkColumn is implemented by the columns of fixed-width types: it appends n
// values read one every stride bytes of data, or, when one is invalid,
// returns false (the caller truncates).
type bulkColumn interface {
	decodeBulk(data []byte, stride, n int) bool
}

// NewDecoder returns a decoder of rows of the given column types whose arrays
// are allocated from mem. A type the coder cannot handle makes every Decode
// fail.
func NewDecoder(mem memory.Allocator, ts []types.T) *Decoder {
	d := &Decoder{mem: mem, ts: slices.Clone(ts)}
	for c, t := range ts {
		if err := checkType(t); err != nil {
			d.err = fmt.Errorf("coder: column %d (%s): %w", c, t, err)
			return d
		}
	}
	fields := make([]types.Field, len(ts))
	for c, t := range ts {
		fields[c].Type = t
	}
	d.row = newRowDec(mem, fields)
	d.row.what = "column"
	// Rows of fixed-width columns without nulls all look alike; runs of
	// them are decoded a column at a time.
	fixed := 0
	for _, t := range ts {
		if w := fixedWidth(t); w > 0 && fixed >= 0 {
			fixed += w
		} else {
			fixed = -1
		}
	}
	if fixed >= 0 && len(ts) > 0 {
		d.bulk = make([]bulkColumn, len(ts))
		for c, col := range d.row.cols {
			bc, ok := col.(bulkColumn)
			if !ok {
				d.bulk = nil
				break
			}
			d.bulk[c] = bc
		}
		body := d.row.hdr + fixed
		d.tmpl = binary.AppendUvarint(nil, uint64(body))
		d.tmpl = append(d.tmpl, make([]byte, d.row.hdr)...)
		d.stride = len(d.tmpl) - d.row.hdr + body
	}
	return d
}

// Decode appends every length-prefixed row of data; returns the number of
// rows read. Errors count rows from 0 at the start of data.
func (d *Decoder) Decode(data []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	rows := 0
	slowUntil := 0
	for pos := 0; pos < len(data); rows++ {
		if d.bulk != nil && pos >= slowUntil {
			if n := d.uniformRows(data[pos:]); n > 1 {
				if d.decodeBulk(data[pos:], n) {
					d.n += n
					rows += n - 1
					pos += n * d.stride
					continue
				}
				// Some value is invalid: read the run a row at a time to
				// report it.
				slowUntil = pos + n*d.stride
			}
		}
		row, next, err := readRow(data, pos)
		if err != nil {
			return rows, fmt.Errorf("coder: row %d: %w", rows, err)
		}
		if err := d.decodeRow(row, rows); err != nil {
			return rows, err
		}
		pos = next
	}
	return rows, nil
}

// uniformRows returns the number of rows at the start of data that have the
// length of a row without nulls and a header of zeros (INSERT, no nulls).
func (d *Decoder) uniformRows(data []byte) int {
	n, stride := 0, d.stride
	if len(d.tmpl) == 2 {
		lb := d.tmpl[0]
		for p := 0; p+stride <= len(data) && data[p] == lb && data[p+1] == 0; p += stride {
			n++
		}
		return n
	}
	for p := 0; p+stride <= len(data) && bytes.Equal(data[p:p+len(d.tmpl)], d.tmpl); p += stride {
		n++
	}
	return n
}

// decodeBulk appends n uniform rows a column at a time; on an invalid value
// it appends nothing and returns false.
func (d *Decoder) decodeBulk(data []byte, n int) bool {
	off := len(d.tmpl)
	for c, bc := range d.bulk {
		if !bc.decodeBulk(data[off:], d.stride, n) {
			for _, col := range d.row.cols {
				col.truncate(d.n)
			}
			return false
		}
		off += fixedWidth(d.ts[c])
	}
	return true
}

// DecodeTable reads a table-function answer: for each input row, zero or
// more result rows then an end marker (varint 1, byte 0). It appends the
// result rows and, per result row, the index of its input row (counted from
// firstInput) to d's parents; it returns the number of input rows answered.
//
// Result rows after the last end marker belong to input firstInput+n, which
// is not counted as answered: a caller receiving an answer in several pieces
// passes firstInput+n for the next piece. A table of no columns cannot be
// told from end markers and is refused.
func (d *Decoder) DecodeTable(data []byte, firstInput int) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if len(d.ts) == 0 {
		return 0, errors.New("coder: a table function answer needs at least one column")
	}
	if firstInput < 0 || firstInput > math.MaxInt32 {
		return 0, fmt.Errorf("coder: first input %d out of range", firstInput)
	}
	answered := 0
	for pos, rows := 0, 0; pos < len(data); rows++ {
		row, next, err := readRow(data, pos)
		if err != nil {
			return answered, fmt.Errorf("coder: row %d: %w", rows, err)
		}
		pos = next
		if len(row) == 1 && row[0] == 0 {
			answered++
			continue
		}
		parent := firstInput + answered
		if parent > math.MaxInt32 {
			return answered, fmt.Errorf("coder: row %d: input index %d out of range", rows, parent)
		}
		if err := d.decodeRow(row, rows); err != nil {
			return answered, err
		}
		d.parents = append(d.parents, int32(parent))
	}
	return answered, nil
}

// readRow returns the row that starts with a length prefix at data[pos] and
// the position after it.
func readRow(data []byte, pos int) ([]byte, int, error) {
	var n uint64
	k := 1
	if c := data[pos]; c < 0x80 {
		n = uint64(c)
	} else {
		n, k = binary.Uvarint(data[pos:])
		if k == 0 {
			return nil, 0, fmt.Errorf("truncated length prefix: %d bytes left", len(data)-pos)
		}
		if k < 0 {
			return nil, 0, errors.New("length prefix overflows 64 bits")
		}
	}
	pos += k
	if n > uint64(len(data)-pos) {
		return nil, 0, fmt.Errorf("length prefix %d exceeds the %d bytes left", n, len(data)-pos)
	}
	end := pos + int(n)
	return data[pos:end], end, nil
}

// decodeRow appends one row, or nothing and an error naming row number r.
func (d *Decoder) decodeRow(row []byte, r int) error {
	pos, f, err := d.row.decode(row, 0)
	if err == nil && pos != len(row) {
		if len(d.ts) == 0 {
			err = fmt.Errorf("coder: row %d: %d bytes left over after the header", r, len(row)-pos)
		} else {
			f = len(d.ts) - 1
			err = fmt.Errorf("coder: row %d, column %d (%s): %d bytes left over after the last column", r, f, d.ts[f], len(row)-pos)
		}
	} else if err != nil {
		if f < 0 {
			err = fmt.Errorf("coder: row %d: %w", r, err)
		} else {
			err = fmt.Errorf("coder: row %d, column %d (%s): %w", r, f, d.ts[f], err)
		}
	}
	if err != nil {
		for _, c := range d.row.cols {
			c.truncate(d.n)
		}
		return err
	}
	d.n++
	return nil
}

// Parents returns the input index of each row decoded by DecodeTable since
// the last NewArrays. NewArrays does not reuse the returned slice.
func (d *Decoder) Parents() []int32 { return d.parents }

// Len returns the number of rows decoded since the last NewArrays.
func (d *Decoder) Len() int { return d.n }

// NewArrays returns one array per type holding the rows decoded since the
// last NewArrays, and resets the decoder for reuse. The caller releases the
// arrays.
func (d *Decoder) NewArrays() []arrow.Array {
	out := make([]arrow.Array, len(d.row.cols))
	for c, col := range d.row.cols {
		data := col.finish()
		out[c] = array.MakeFromData(data)
		data.Release()
	}
	d.n = 0
	d.parents = nil
	return out
}

// Release frees the memory of the rows decoded since the last NewArrays.
func (d *Decoder) Release() {
	for _, c := range d.row.cols {
		c.release()
	}
	d.n = 0
	d.parents = nil
}

// column accumulates the values of one column or nested field.
type column interface {
	// decode reads a non-null value at b[pos:] and appends it; it returns the
	// position after the value. On error the column may hold a partial value
	// until truncate.
	decode(b []byte, pos int) (int, error)
	appendNull()
	// appendEmpty appends a zero value: a NOT NULL field of a null row.
	appendEmpty()
	len() int
	// truncate drops the values from n on.
	truncate(n int)
	// finish hands the values over as array data and empties the column.
	finish() arrow.ArrayData
	release()
}

func truncated(need, left int) error {
	return fmt.Errorf("truncated: need %d bytes, %d left", need, left)
}

func newColumn(mem memory.Allocator, t types.T) column {
	switch t.Kind {
	case types.TinyInt:
		return &int8Col{fixedCol[int8]{mem: mem, dtype: t.Arrow()}}
	case types.SmallInt:
		return &int16Col{fixedCol[int16]{mem: mem, dtype: t.Arrow()}}
	case types.Int, types.Date:
		return &int32Col{fixedCol[int32]{mem: mem, dtype: t.Arrow()}}
	case types.Time:
		return &timeCol{fixedCol[int32]{mem: mem, dtype: t.Arrow()}}
	case types.BigInt:
		return &int64Col{fixedCol[int64]{mem: mem, dtype: t.Arrow()}}
	case types.Float:
		return &float32Col{fixedCol[float32]{mem: mem, dtype: t.Arrow()}}
	case types.Double:
		return &float64Col{fixedCol[float64]{mem: mem, dtype: t.Arrow()}}
	case types.Decimal:
		return &decimalCol{fixedCol: fixedCol[decimal128.Num]{mem: mem, dtype: t.Arrow()}, prec: t.Precision, scale: t.Scale}
	case types.Timestamp, types.TimestampLTZ:
		fc := fixedCol[int64]{mem: mem, dtype: t.Arrow()}
		switch types.TimestampUnit(t.Precision) {
		case arrow.Millisecond:
			return &int64Col{fc}
		case arrow.Microsecond:
			return &tsCol{fixedCol: fc, per: 1000}
		default:
			return &tsCol{fixedCol: fc, per: 1}
		}
	case types.Boolean:
		return &boolCol{mem: mem}
	case types.Char, types.Varchar, types.Binary, types.Varbinary:
		return &bytesCol{mem: mem, dtype: t.Arrow(), utf8: t.IsString(), offs: offsets{mem: mem}}
	case types.Array:
		return &listCol{mem: mem, dtype: t.Arrow(), elem: newColumn(mem, *t.Elem), elemNotNull: !nullable(*t.Elem),
			offs: offsets{mem: mem}}
	case types.Map:
		mt := t.Arrow().(*arrow.MapType)
		return &mapCol{mem: mem, dtype: mt, key: newColumn(mem, *t.Key), value: newColumn(mem, *t.Value),
			valueNotNull: !nullable(*t.Value), offs: offsets{mem: mem}}
	case types.Row:
		return &structCol{mem: mem, dtype: t.Arrow(), row: newRowDec(mem, t.Fields)}
	case types.Null:
		return &nullCol{}
	}
	panic("coder: unchecked type " + t.String())
}

// validity is a validity bitmap allocated at the first null.
type validity struct {
	buf   *memory.Buffer
	bits  []byte
	nulls int
}

func (v *validity) grow(mem memory.Allocator, i int) {
	n := max(2*len(v.bits), i>>3+1, 8)
	if v.buf == nil {
		v.buf = memory.NewResizableBuffer(mem)
	}
	v.buf.Reserve(n)
	v.bits = v.buf.Buf()
}

// set marks value i, the next one, valid.
func (v *validity) set(mem memory.Allocator, i int) {
	if v.bits == nil {
		return
	}
	if i>>3 >= len(v.bits) {
		v.grow(mem, i)
	}
	v.bits[i>>3] |= 1 << (i & 7)
}

// clear marks value i, the next one, null.
func (v *validity) clear(mem memory.Allocator, i int) {
	if v.bits == nil {
		v.grow(mem, i)
		bitutil.SetBitsTo(v.bits, 0, int64(i), true)
	} else if i>>3 >= len(v.bits) {
		v.grow(mem, i)
	}
	v.bits[i>>3] &^= 1 << (i & 7)
	v.nulls++
}

// setRange marks the n values from i, the next ones, valid.
func (v *validity) setRange(mem memory.Allocator, i, n int) {
	if v.bits == nil || n == 0 {
		return
	}
	if (i+n-1)>>3 >= len(v.bits) {
		v.grow(mem, i+n-1)
	}
	bitutil.SetBitsTo(v.bits, int64(i), int64(n), true)
}

func (v *validity) truncate(n, old int) {
	if v.nulls > 0 && old > n {
		v.nulls -= (old - n) - bitutil.CountSetBits(v.bits, n, old-n)
	}
}

// take returns the bitmap of n values, nil when none is null, and empties v.
func (v *validity) take(n int) (*memory.Buffer, int) {
	buf, nulls := v.buf, v.nulls
	*v = validity{}
	if nulls == 0 {
		if buf != nil {
			buf.Release()
		}
		return nil, 0
	}
	buf.ResizeNoShrink((n + 7) / 8)
	return buf, nulls
}

func (v *validity) release() {
	if v.buf != nil {
		v.buf.Release()
	}
	*v = validity{}
}

// newData builds array data and drops the caller's references to buffers and
// children.
func newData(dtype arrow.DataType, n int, bufs []*memory.Buffer, children []arrow.ArrayData, nulls int) arrow.ArrayData {
	d := array.NewData(dtype, n, bufs, children, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	for _, c := range children {
		c.Release()
	}
	return d
}

// fixedCol holds fixed-width values in allocator memory.
type fixedCol[T arrow.FixedWidthType] struct {
	mem   memory.Allocator
	dtype arrow.DataType
	buf   *memory.Buffer
	vals  []T
	valid validity
}

func (c *fixedCol[T]) grow() { c.growTo(len(c.vals) + 1) }

// growTo makes room for at least n values.
func (c *fixedCol[T]) growTo(n int) {
	var zero [1]T
	size := len(arrow.GetBytes(zero[:]))
	if c.buf == nil {
		c.buf = memory.NewResizableBuffer(c.mem)
	}
	l := len(c.vals)
	c.buf.Reserve(max(2*cap(c.vals), n, 16) * size)
	c.vals = arrow.GetData[T](c.buf.Buf())[:l]
}

// push appends a valid value. The decoders of fixed-width types repeat its
// fast path inline (a generic method is not inlined):
//
//	if n := len(c.vals); n < cap(c.vals) && c.valid.bits == nil {
//		c.vals = c.vals[:n+1]
//		c.vals[n] = v
//	} else {
//		c.push(v)
//	}
func (c *fixedCol[T]) push(v T) {
	if len(c.vals) == cap(c.vals) {
		c.grow()
	}
	c.valid.set(c.mem, len(c.vals))
	c.vals = append(c.vals, v)
}

// extend appends n valid values and returns them for the caller to fill.
func (c *fixedCol[T]) extend(n int) []T {
	old := len(c.vals)
	if old+n > cap(c.vals) {
		c.growTo(old + n)
	}
	c.vals = c.vals[:old+n]
	if c.valid.bits != nil {
		c.valid.setRange(c.mem, old, n)
	}
	return c.vals[old:]
}

func (c *fixedCol[T]) appendNull() {
	if len(c.vals) == cap(c.vals) {
		c.grow()
	}
	c.valid.clear(c.mem, len(c.vals))
	var zero T
	c.vals = append(c.vals, zero)
}

func (c *fixedCol[T]) appendEmpty() {
	var zero T
	c.push(zero)
}

func (c *fixedCol[T]) len() int { return len(c.vals) }

func (c *fixedCol[T]) truncate(n int) {
	if n < len(c.vals) {
		c.valid.truncate(n, len(c.vals))
		c.vals = c.vals[:n]
	}
}

func (c *fixedCol[T]) finish() arrow.ArrayData {
	n := len(c.vals)
	if c.buf == nil {
		c.buf = memory.NewResizableBuffer(c.mem)
	}
	c.buf.ResizeNoShrink(len(arrow.GetBytes(c.vals)))
	vb, nulls := c.valid.take(n)
	d := newData(c.dtype, n, []*memory.Buffer{vb, c.buf}, nil, nulls)
	c.buf, c.vals = nil, nil
	return d
}

func (c *fixedCol[T]) release() {
	if c.buf != nil {
		c.buf.Release()
	}
	c.buf, c.vals = nil, nil
	c.valid.release()
}

type int8Col struct{ fixedCol[int8] }

func (c *int8Col) decode(b []byte, pos int) (int, error) {
	if pos >= len(b) {
		return pos, truncated(1, 0)
	}
	v := int8(b[pos])
	if n := len(c.vals); n < cap(c.vals) && c.valid.bits == nil {
		c.vals = c.vals[:n+1]
		c.vals[n] = v
	} else {
		c.push(v)
	}
	return pos + 1, nil
}

type int16Col struct{ fixedCol[int16] }

func (c *int16Col) decode(b []byte, pos int) (int, error) {
	if len(b)-pos < 2 {
		return pos, truncated(2, len(b)-pos)
	}
	v := int16(binary.BigEndian.Uint16(b[pos:]))
	if n := len(c.vals); n < cap(c.vals) && c.valid.bits == nil {
		c.vals = c.vals[:n+1]
		c.vals[n] = v
	} else {
		c.push(v)
	}
	return pos + 2, nil
}

type int32Col struct{ fixedCol[int32] }

func (c *int32Col) decode(b []byte, pos int) (int, error) {
	if len(b)-pos < 4 {
		return pos, truncated(4, len(b)-pos)
	}
	v := int32(binary.BigEndian.Uint32(b[pos:]))
	if n := len(c.vals); n < cap(c.vals) && c.valid.bits == nil {
		c.vals = c.vals[:n+1]
		c.vals[n] = v
	} else {
		c.push(v)
	}
	return pos + 4, nil
}

type timeCol struct{ fixedCol[int32] }

func (c *timeCol) decode(b []byte, pos int) (int, error) {
	if len(b)-pos < 4 {
		return pos, truncated(4, len(b)-pos)
	}
	v := int32(binary.BigEndian.Uint32(b[pos:]))
	if v < 0 || v >= msPerDay {
		return pos, fmt.Errorf("TIME value %d ms is outside 00:00:00.000..23:59:59.999", v)
	}
	c.push(v)
	return pos + 4, nil
}

type int64Col struct{ fixedCol[int64] }

func (c *int64Col) decode(b []byte, pos int) (int, error) {
	if len(b)-pos < 8 {
		return pos, truncated(8, len(b)-pos)
	}
	v := int64(binary.BigEndian.Uint64(b[pos:]))
	if n := len(c.vals); n < cap(c.vals) && c.valid.bits == nil {
		c.vals = c.vals[:n+1]
		c.vals[n] = v
	} else {
		c.push(v)
	}
	return pos + 8, nil
}

type float32Col struct{ fixedCol[float32] }

func (c *float32Col) decode(b []byte, pos int) (int, error) {
	if len(b)-pos < 4 {
		return pos, truncated(4, len(b)-pos)
	}
	v := math.Float32frombits(binary.BigEndian.Uint32(b[pos:]))
	if n := len(c.vals); n < cap(c.vals) && c.valid.bits == nil {
		c.vals = c.vals[:n+1]
		c.vals[n] = v
	} else {
		c.push(v)
	}
	return pos + 4, nil
}

type float64Col struct{ fixedCol[float64] }

func (c *float64Col) decode(b []byte, pos int) (int, error) {
	if len(b)-pos < 8 {
		return pos, truncated(8, len(b)-pos)
	}
	v := math.Float64frombits(binary.BigEndian.Uint64(b[pos:]))
	if n := len(c.vals); n < cap(c.vals) && c.valid.bits == nil {
		c.vals = c.vals[:n+1]
		c.vals[n] = v
	} else {
		c.push(v)
	}
	return pos + 8, nil
}

func (c *int8Col) decodeBulk(data []byte, stride, n int) bool {
	out := c.extend(n)
	for i := range out {
		out[i] = int8(data[i*stride])
	}
	return true
}

func (c *int16Col) decodeBulk(data []byte, stride, n int) bool {
	out := c.extend(n)
	for i := range out {
		out[i] = int16(binary.BigEndian.Uint16(data[i*stride:]))
	}
	return true
}

func (c *int32Col) decodeBulk(data []byte, stride, n int) bool {
	out := c.extend(n)
	for i := range out {
		out[i] = int32(binary.BigEndian.Uint32(data[i*stride:]))
	}
	return true
}

func (c *timeCol) decodeBulk(data []byte, stride, n int) bool {
	out := c.extend(n)
	for i := range out {
		v := int32(binary.BigEndian.Uint32(data[i*stride:]))
		if v < 0 || v >= msPerDay {
			return false
		}
		out[i] = v
	}
	return true
}

func (c *int64Col) decodeBulk(data []byte, stride, n int) bool {
	out := c.extend(n)
	for i := range out {
		out[i] = int64(binary.BigEndian.Uint64(data[i*stride:]))
	}
	return true
}

func (c *float32Col) decodeBulk(data []byte, stride, n int) bool {
	out := c.extend(n)
	for i := range out {
		out[i] = math.Float32frombits(binary.BigEndian.Uint32(data[i*stride:]))
	}
	return true
}

func (c *float64Col) decodeBulk(data []byte, stride, n int) bool {
	out := c.extend(n)
	for i := range out {
		out[i] = math.Float64frombits(binary.BigEndian.Uint64(data[i*stride:]))
	}
	return true
}

func (c *tsCol) decodeBulk(data []byte, stride, n int) bool {
	out := c.extend(n)
	perMs := 1000000 / c.per
	for i := range out {
		ms := int64(binary.BigEndian.Uint64(data[i*stride:]))
		ns := int32(binary.BigEndian.Uint32(data[i*stride+8:]))
		v, ok := fromMillis(ms, int64(ns)/c.per, perMs)
		if ns < 0 || ns > 999999 || !ok {
			return false
		}
		out[i] = v
	}
	return true
}

func (c *boolCol) decodeBulk(data []byte, stride, n int) bool {
	for i := range n {
		b := data[i*stride]
		if b > 1 {
			return false
		}
		c.push(b == 1, true)
	}
	return true
}

// tsCol reads a wide timestamp (milliseconds and nanoseconds) into
// microseconds (per = 1000) or nanoseconds (per = 1). Nanoseconds finer than
// the unit are dropped.
type tsCol struct {
	fixedCol[int64]
	per int64
}

func (c *tsCol) decode(b []byte, pos int) (int, error) {
	if len(b)-pos < 12 {
		return pos, truncated(12, len(b)-pos)
	}
	ms := int64(binary.BigEndian.Uint64(b[pos:]))
	ns := int32(binary.BigEndian.Uint32(b[pos+8:]))
	if ns < 0 || ns > 999999 {
		return pos, fmt.Errorf("nanoseconds %d outside 0..999999", ns)
	}
	v, ok := fromMillis(ms, int64(ns)/c.per, 1000000/c.per)
	if !ok {
		return pos, fmt.Errorf("timestamp of %d ms out of range", ms)
	}
	c.push(v)
	return pos + 12, nil
}

// fromMillis returns ms*perMs + add for 0 <= add < perMs, or false when that
// overflows int64.
func fromMillis(ms, add, perMs int64) (int64, bool) {
	if ms >= 0 {
		if ms > (math.MaxInt64-add)/perMs {
			return 0, false
		}
		return ms*perMs + add, true
	}
	// (ms+1)*perMs - (perMs-add), so that the floor at the low end fits.
	m1 := ms + 1
	if m1 < math.MinInt64/perMs {
		return 0, false
	}
	v, d := m1*perMs, perMs-add
	if v < math.MinInt64+d {
		return 0, false
	}
	return v - d, true
}

type decimalCol struct {
	fixedCol[decimal128.Num]
	prec, scale int
}

func (c *decimalCol) decode(b []byte, pos int) (int, error) {
	v, next, err := readBytes(b, pos)
	if err != nil {
		return pos, err
	}
	n, err := parseDecimal(v, c.prec, c.scale)
	if err != nil {
		return pos, err
	}
	c.push(n)
	return next, nil
}

// readBytes reads an int32 length and that many bytes.
func readBytes(b []byte, pos int) ([]byte, int, error) {
	if len(b)-pos < 4 {
		return nil, pos, truncated(4, len(b)-pos)
	}
	l := int32(binary.BigEndian.Uint32(b[pos:]))
	pos += 4
	if l < 0 {
		return nil, pos, fmt.Errorf("negative length %d", l)
	}
	if int(l) > len(b)-pos {
		return nil, pos, fmt.Errorf("truncated: length %d exceeds the %d bytes left", l, len(b)-pos)
	}
	return b[pos : pos+int(l)], pos + int(l), nil
}

type boolCol struct {
	mem   memory.Allocator
	buf   *memory.Buffer
	bits  []byte
	n     int
	valid validity
}

func (c *boolCol) push(v, valid bool) {
	if c.n>>3 >= len(c.bits) {
		if c.buf == nil {
			c.buf = memory.NewResizableBuffer(c.mem)
		}
		c.buf.Reserve(max(2*len(c.bits), 8))
		c.bits = c.buf.Buf()
	}
	if valid {
		c.valid.set(c.mem, c.n)
	} else {
		c.valid.clear(c.mem, c.n)
	}
	bitutil.SetBitTo(c.bits, c.n, v)
	c.n++
}

func (c *boolCol) decode(b []byte, pos int) (int, error) {
	if pos >= len(b) {
		return pos, truncated(1, 0)
	}
	if b[pos] > 1 {
		return pos, fmt.Errorf("invalid BOOLEAN byte %d", b[pos])
	}
	c.push(b[pos] == 1, true)
	return pos + 1, nil
}

func (c *boolCol) appendNull()  { c.push(false, false) }
func (c *boolCol) appendEmpty() { c.push(false, true) }
func (c *boolCol) len() int     { return c.n }

func (c *boolCol) truncate(n int) {
	if n < c.n {
		c.valid.truncate(n, c.n)
		c.n = n
	}
}

func (c *boolCol) finish() arrow.ArrayData {
	if c.buf == nil {
		c.buf = memory.NewResizableBuffer(c.mem)
	}
	c.buf.ResizeNoShrink((c.n + 7) / 8)
	vb, nulls := c.valid.take(c.n)
	d := newData(arrow.FixedWidthTypes.Boolean, c.n, []*memory.Buffer{vb, c.buf}, nil, nulls)
	c.buf, c.bits, c.n = nil, nil, 0
	return d
}

func (c *boolCol) release() {
	if c.buf != nil {
		c.buf.Release()
	}
	c.buf, c.bits, c.n = nil, nil, 0
	c.valid.release()
}

// offsets is an int32 offsets buffer in allocator memory, allocated at the
// first push; empty, it stands for the single leading 0.
type offsets struct {
	mem  memory.Allocator
	buf  *memory.Buffer
	offs []int32
}

// n returns the number of values, one less than the number of offsets.
func (o *offsets) n() int { return max(len(o.offs)-1, 0) }

func (o *offsets) last() int32 {
	if len(o.offs) == 0 {
		return 0
	}
	return o.offs[len(o.offs)-1]
}

func (o *offsets) push(v int32) {
	if len(o.offs) == cap(o.offs) {
		n := len(o.offs)
		if o.buf == nil {
			o.buf = memory.NewResizableBuffer(o.mem)
		}
		o.buf.Reserve(max(2*4*cap(o.offs), 64))
		o.offs = arrow.GetData[int32](o.buf.Buf())[:n]
		if n == 0 {
			o.offs = append(o.offs, 0)
		}
	}
	o.offs = append(o.offs, v)
}

func (o *offsets) truncate(n int) {
	if n < o.n() {
		o.offs = o.offs[:n+1]
	}
}

// take returns the buffer of the offsets and empties o.
func (o *offsets) take() *memory.Buffer {
	if o.buf == nil {
		o.buf = memory.NewResizableBuffer(o.mem)
		o.buf.Resize(4)
		copy(o.buf.Bytes(), []byte{0, 0, 0, 0})
	} else {
		o.buf.ResizeNoShrink(4 * len(o.offs))
	}
	b := o.buf
	o.buf, o.offs = nil, nil
	return b
}

func (o *offsets) release() {
	if o.buf != nil {
		o.buf.Release()
	}
	o.buf, o.offs = nil, nil
}

// bytesCol holds strings or binaries.
type bytesCol struct {
	mem     memory.Allocator
	dtype   arrow.DataType
	utf8    bool
	offs    offsets
	dataBuf *memory.Buffer
	data    []byte
	valid   validity
}

func (c *bytesCol) decode(b []byte, pos int) (int, error) {
	v, next, err := readBytes(b, pos)
	if err != nil {
		return pos, err
	}
	if c.utf8 && !utf8.Valid(v) {
		return pos, fmt.Errorf("invalid UTF-8 in string %s", quote(v))
	}
	if len(v) > math.MaxInt32-len(c.data) {
		return pos, errors.New("more than 2 GiB of values in one batch")
	}
	if len(c.data)+len(v) > cap(c.data) {
		n := len(c.data)
		if c.dataBuf == nil {
			c.dataBuf = memory.NewResizableBuffer(c.mem)
		}
		c.dataBuf.Reserve(max(2*cap(c.data), n+len(v), 64))
		c.data = c.dataBuf.Buf()[:n]
	}
	c.data = append(c.data, v...)
	c.valid.set(c.mem, c.offs.n())
	c.offs.push(int32(len(c.data)))
	return next, nil
}

func (c *bytesCol) appendNull() {
	c.valid.clear(c.mem, c.offs.n())
	c.offs.push(c.offs.last())
}

func (c *bytesCol) appendEmpty() {
	c.valid.set(c.mem, c.offs.n())
	c.offs.push(c.offs.last())
}

func (c *bytesCol) len() int { return c.offs.n() }

func (c *bytesCol) truncate(n int) {
	if old := c.len(); n < old {
		c.valid.truncate(n, old)
		c.offs.truncate(n)
		c.data = c.data[:c.offs.last()]
	}
}

func (c *bytesCol) finish() arrow.ArrayData {
	n := c.len()
	if c.dataBuf == nil {
		c.dataBuf = memory.NewResizableBuffer(c.mem)
	}
	c.dataBuf.ResizeNoShrink(len(c.data))
	vb, nulls := c.valid.take(n)
	d := newData(c.dtype, n, []*memory.Buffer{vb, c.offs.take(), c.dataBuf}, nil, nulls)
	c.dataBuf, c.data = nil, nil
	return d
}

func (c *bytesCol) release() {
	c.offs.release()
	if c.dataBuf != nil {
		c.dataBuf.Release()
	}
	c.dataBuf, c.data = nil, nil
	c.valid.release()
}

type listCol struct {
	mem         memory.Allocator
	dtype       arrow.DataType
	elem        column
	elemNotNull bool
	offs        offsets
	valid       validity
}

// readCount reads an int32 count of items of at least one byte each.
func readCount(b []byte, pos int) (int, int, error) {
	if len(b)-pos < 4 {
		return 0, pos, truncated(4, len(b)-pos)
	}
	n := int32(binary.BigEndian.Uint32(b[pos:]))
	pos += 4
	if n < 0 {
		return 0, pos, fmt.Errorf("negative count %d", n)
	}
	if int(n) > len(b)-pos {
		return 0, pos, fmt.Errorf("truncated: count %d exceeds the %d bytes left", n, len(b)-pos)
	}
	return int(n), pos, nil
}

func (c *listCol) decode(b []byte, pos int) (int, error) {
	n, pos, err := readCount(b, pos)
	if err != nil {
		return pos, err
	}
	for j := range n {
		if pos >= len(b) {
			return pos, fmt.Errorf("element %d: %w", j, truncated(1, 0))
		}
		switch b[pos] {
		case 1:
			if pos, err = c.elem.decode(b, pos+1); err != nil {
				return pos, fmt.Errorf("element %d: %w", j, err)
			}
		case 0:
			if c.elemNotNull {
				return pos, fmt.Errorf("element %d: null in NOT NULL element", j)
			}
			c.elem.appendNull()
			pos++
		default:
			return pos, fmt.Errorf("element %d: invalid presence byte %d", j, b[pos])
		}
	}
	if c.elem.len() > math.MaxInt32 {
		return pos, errors.New("more than 2^31 elements in one batch")
	}
	c.valid.set(c.mem, c.len())
	c.offs.push(int32(c.elem.len()))
	return pos, nil
}

func (c *listCol) appendNull() {
	c.valid.clear(c.mem, c.len())
	c.offs.push(c.offs.last())
}

func (c *listCol) appendEmpty() {
	c.valid.set(c.mem, c.len())
	c.offs.push(c.offs.last())
}

func (c *listCol) len() int { return c.offs.n() }

func (c *listCol) truncate(n int) {
	if old := c.len(); n < old {
		c.valid.truncate(n, old)
		c.offs.truncate(n)
	}
	c.elem.truncate(int(c.offs.last()))
}

func (c *listCol) finish() arrow.ArrayData {
	n := c.len()
	vb, nulls := c.valid.take(n)
	d := newData(c.dtype, n, []*memory.Buffer{vb, c.offs.take()}, []arrow.ArrayData{c.elem.finish()}, nulls)
	return d
}

func (c *listCol) release() {
	c.offs.release()
	c.valid.release()
	c.elem.release()
}

type mapCol struct {
	mem          memory.Allocator
	dtype        *arrow.MapType
	key, value   column
	valueNotNull bool
	offs         offsets
	valid        validity
}

func (c *mapCol) decode(b []byte, pos int) (int, error) {
	n, pos, err := readCount(b, pos)
	if err != nil {
		return pos, err
	}
	for j := range n {
		if pos, err = c.key.decode(b, pos); err != nil {
			return pos, fmt.Errorf("entry %d: key: %w", j, err)
		}
		if pos >= len(b) {
			return pos, fmt.Errorf("entry %d: %w", j, truncated(1, 0))
		}
		switch b[pos] {
		case 0:
			if pos, err = c.value.decode(b, pos+1); err != nil {
				return pos, fmt.Errorf("entry %d: value: %w", j, err)
			}
		case 1:
			if c.valueNotNull {
				return pos, fmt.Errorf("entry %d: null in NOT NULL value", j)
			}
			c.value.appendNull()
			pos++
		default:
			return pos, fmt.Errorf("entry %d: invalid null byte %d", j, b[pos])
		}
	}
	if c.key.len() > math.MaxInt32 {
		return pos, errors.New("more than 2^31 entries in one batch")
	}
	c.valid.set(c.mem, c.len())
	c.offs.push(int32(c.key.len()))
	return pos, nil
}

func (c *mapCol) appendNull() {
	c.valid.clear(c.mem, c.len())
	c.offs.push(c.offs.last())
}

func (c *mapCol) appendEmpty() {
	c.valid.set(c.mem, c.len())
	c.offs.push(c.offs.last())
}

func (c *mapCol) len() int { return c.offs.n() }

func (c *mapCol) truncate(n int) {
	if old := c.len(); n < old {
		c.valid.truncate(n, old)
		c.offs.truncate(n)
	}
	m := int(c.offs.last())
	c.key.truncate(m)
	c.value.truncate(m)
}

func (c *mapCol) finish() arrow.ArrayData {
	n := c.len()
	m := int(c.offs.last())
	vb, nulls := c.valid.take(n)
	entries := newData(c.dtype.Elem(), m, []*memory.Buffer{nil}, []arrow.ArrayData{c.key.finish(), c.value.finish()}, 0)
	d := newData(c.dtype, n, []*memory.Buffer{vb, c.offs.take()}, []arrow.ArrayData{entries}, nulls)
	return d
}

func (c *mapCol) release() {
	c.offs.release()
	c.valid.release()
	c.key.release()
	c.value.release()
}

// rowDec reads a row's header and fields; it serves the top level and
// nested rows.
type rowDec struct {
	cols    []column
	notNull []bool
	names   []string
	hdr     int
	pad     byte
	what    string // "column" or "field", for errors
}

func newRowDec(mem memory.Allocator, fields []types.Field) rowDec {
	r := rowDec{hdr: headerLen(len(fields)), pad: padMask(len(fields)), what: "field"}
	for _, f := range fields {
		r.cols = append(r.cols, newColumn(mem, f.Type))
		r.notNull = append(r.notNull, !nullable(f.Type))
		r.names = append(r.names, f.Name)
	}
	return r
}

// decode reads a row at b[pos:]; on error it returns the index of the failing
// field, or -1 for the header.
func (r *rowDec) decode(b []byte, pos int) (int, int, error) {
	if len(b)-pos < r.hdr {
		return pos, -1, fmt.Errorf("truncated: need %d header bytes, %d left", r.hdr, len(b)-pos)
	}
	h := b[pos : pos+r.hdr]
	if h[r.hdr-1]&r.pad != 0 {
		return pos, -1, fmt.Errorf("header byte %#02x has padding bits set", h[r.hdr-1])
	}
	pos += r.hdr
	var err error
	for f, c := range r.cols {
		k := f + 2
		if h[k>>3]&(0x80>>(k&7)) != 0 {
			if r.notNull[f] {
				return pos, f, fmt.Errorf("null in NOT NULL %s", r.what)
			}
			c.appendNull()
			continue
		}
		if pos, err = c.decode(b, pos); err != nil {
			return pos, f, err
		}
	}
	return pos, -1, nil
}

// structCol holds nested rows.
type structCol struct {
	mem   memory.Allocator
	dtype arrow.DataType
	row   rowDec
	n     int
	valid validity
}

func (c *structCol) decode(b []byte, pos int) (int, error) {
	pos, f, err := c.row.decode(b, pos)
	if err != nil {
		if f < 0 {
			return pos, fmt.Errorf("nested row: %w", err)
		}
		return pos, fmt.Errorf("field %s: %w", c.row.names[f], err)
	}
	c.valid.set(c.mem, c.n)
	c.n++
	return pos, nil
}

func (c *structCol) appendNull() {
	c.valid.clear(c.mem, c.n)
	c.n++
	for f, col := range c.row.cols {
		if c.row.notNull[f] {
			col.appendEmpty()
		} else {
			col.appendNull()
		}
	}
}

func (c *structCol) appendEmpty() {
	c.valid.set(c.mem, c.n)
	c.n++
	for _, col := range c.row.cols {
		col.appendEmpty()
	}
}

func (c *structCol) len() int { return c.n }

func (c *structCol) truncate(n int) {
	if n < c.n {
		c.valid.truncate(n, c.n)
		c.n = n
	}
	for _, col := range c.row.cols {
		col.truncate(n)
	}
}

func (c *structCol) finish() arrow.ArrayData {
	children := make([]arrow.ArrayData, len(c.row.cols))
	for f, col := range c.row.cols {
		children[f] = col.finish()
	}
	vb, nulls := c.valid.take(c.n)
	d := newData(c.dtype, c.n, []*memory.Buffer{vb}, children, nulls)
	c.n = 0
	return d
}

func (c *structCol) release() {
	for _, col := range c.row.cols {
		col.release()
	}
	c.valid.release()
	c.n = 0
}

// nullCol holds values of type NULL, all null.
type nullCol struct{ n int }

func (c *nullCol) decode(b []byte, pos int) (int, error) {
	return pos, errors.New("non-null value of type NULL")
}
func (c *nullCol) appendNull()  { c.n++ }
func (c *nullCol) appendEmpty() { c.n++ }
func (c *nullCol) len() int     { return c.n }
func (c *nullCol) truncate(n int) {
	if n < c.n {
		c.n = n
	}
}
func (c *nullCol) finish() arrow.ArrayData {
	d := array.NewData(arrow.Null, c.n, []*memory.Buffer{nil}, nil, c.n, 0)
	c.n = 0
	return d
}
func (c *nullCol) release() { c.n = 0 }
