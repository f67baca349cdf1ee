package coder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/weir-dev/weir/internal/types"
)

// Encoder writes rows of selected Arrow columns.
//
// An Encoder is built once per column list and reused for every batch; it is
// not safe for concurrent use.
type Encoder struct {
	ts    []types.T
	encs  []encoder
	cols  []topCol
	zeros []byte // length-prefix reserve plus an empty header
	hdr   int
	fixed int // the size of a row with no nulls when every column is fixed-width, else -1
	// columnar holds the column encoders when every column is fixed-width;
	// a row without nulls is then tmpl (length prefix and empty header) and
	// the values.
	columnar []columnEncoder
	tmpl     []byte
	err      error
}

// topCol is the per-batch null state of a top-level column.
type topCol struct {
	nulls   nullMask
	byteIdx int
	mask    byte
}

// NewEncoder returns an encoder of rows of the given column types. A type the
// coder cannot handle makes every Encode fail.
func NewEncoder(ts []types.T) *Encoder {
	e := &Encoder{ts: slices.Clone(ts), hdr: headerLen(len(ts)), fixed: headerLen(len(ts))}
	e.zeros = make([]byte, binary.MaxVarintLen64+e.hdr)
	for c, t := range ts {
		if err := checkType(t); err != nil {
			e.err = fmt.Errorf("coder: column %d (%s): %w", c, t, err)
			return e
		}
		e.encs = append(e.encs, newEncoder(t))
		b, m := nullBit(c)
		e.cols = append(e.cols, topCol{byteIdx: b, mask: m})
		if w := fixedWidth(t); w >= 0 && e.fixed >= 0 {
			e.fixed += w
		} else {
			e.fixed = -1
		}
	}
	if e.fixed >= 0 && len(ts) > 0 {
		e.tmpl = binary.AppendUvarint(nil, uint64(e.fixed))
		e.tmpl = append(e.tmpl, e.zeros[:e.hdr]...)
		e.columnar = make([]columnEncoder, len(ts))
		for c, enc := range e.encs {
			ce, ok := enc.(columnEncoder)
			if !ok {
				e.columnar = nil
				break
			}
			e.columnar[c] = ce
		}
	}
	return e
}

// fixedWidth returns the wire size of a non-null value of t, or -1 when it
// varies.
func fixedWidth(t types.T) int {
	switch t.Kind {
	case types.TinyInt, types.Boolean:
		return 1
	case types.SmallInt:
		return 2
	case types.Int, types.Float, types.Date, types.Time:
		return 4
	case types.BigInt, types.Double:
		return 8
	case types.Timestamp, types.TimestampLTZ:
		if t.Precision <= 3 {
			return 8
		}
		return 12
	case types.Null:
		return 0
	}
	return -1
}

// Encode appends rows [from, to) of cols (len(cols) == len(ts), arrays of the
// types' Arrow types) to dst, each row length-prefixed; returns the extended
// dst. On error it returns dst as it was.
func (e *Encoder) Encode(dst []byte, cols []arrow.Array, from, to int) ([]byte, error) {
	if e.err != nil {
		return dst, e.err
	}
	if len(cols) != len(e.ts) {
		return dst, fmt.Errorf("coder: %d columns for %d types", len(cols), len(e.ts))
	}
	for c, a := range cols {
		t := e.ts[c]
		if a == nil {
			return dst, fmt.Errorf("coder: column %d (%s): nil array", c, t)
		}
		if from < 0 || to < from || to > a.Len() {
			return dst, fmt.Errorf("coder: column %d (%s): rows [%d, %d) out of range of %d", c, t, from, to, a.Len())
		}
		if err := e.encs[c].bind(a); err != nil {
			return dst, fmt.Errorf("coder: column %d (%s): %w", c, t, err)
		}
		nulls := bindNulls(a)
		if nulls.bits != nil && !nullable(t) {
			for i := from; i < to; i++ {
				if nulls.isNull(i) {
					return dst, fmt.Errorf("coder: row %d, column %d (%s): null in NOT NULL column", i, c, t)
				}
			}
			nulls = nullMask{}
		}
		e.cols[c].nulls = nulls
	}
	start0 := len(dst)
	if e.fixed >= 0 {
		if e.columnar != nil && !e.hasNulls() {
			return e.encodeColumnar(dst, from, to)
		}
		dst = slices.Grow(dst, (to-from)*(uvarintLen(uint64(e.fixed))+e.fixed))
	}
	reserved := 1
	var err error
	for i := from; i < to; i++ {
		start := len(dst)
		dst = append(dst, e.zeros[:reserved+e.hdr]...)
		body := start + reserved
		for c, enc := range e.encs {
			if cs := &e.cols[c]; cs.nulls.bits != nil && cs.nulls.isNull(i) {
				dst[body+cs.byteIdx] |= cs.mask
				continue
			}
			dst, err = enc.put(dst, i)
			if err != nil {
				return dst[:start0], fmt.Errorf("coder: row %d, column %d (%s): %w", i, c, e.ts[c], err)
			}
		}
		dst, reserved = putLength(dst, start, reserved)
	}
	return dst, nil
}

func (e *Encoder) hasNulls() bool {
	for c := range e.cols {
		if e.cols[c].nulls.bits != nil {
			return true
		}
	}
	return false
}

// encodeColumnar writes rows of fixed-width columns without nulls: every row
// has the same length and layout, so each column is written in one loop.
func (e *Encoder) encodeColumnar(dst []byte, from, to int) ([]byte, error) {
	if from == to {
		return dst, nil
	}
	start0 := len(dst)
	stride := len(e.tmpl) - e.hdr + e.fixed
	dst = slices.Grow(dst, (to-from)*stride)[:start0+(to-from)*stride]
	out := dst[start0:]
	if len(e.tmpl) == 2 {
		for p := 0; p < len(out); p += stride {
			out[p], out[p+1] = e.tmpl[0], 0
		}
	} else {
		for p := 0; p < len(out); p += stride {
			copy(out[p:], e.tmpl)
		}
	}
	off := len(e.tmpl)
	for c, ce := range e.columnar {
		if ce != nil {
			if i, err := ce.putColumn(out[off:], stride, from, to); err != nil {
				return dst[:start0], fmt.Errorf("coder: row %d, column %d (%s): %w", i, c, e.ts[c], err)
			}
		}
		off += fixedWidth(e.ts[c])
	}
	return dst, nil
}

// columnEncoder is implemented by the encoders of fixed-width types: it
// writes values [from, to) of the bound array to dst, one every stride bytes,
// and on error returns the failing row.
type columnEncoder interface {
	putColumn(dst []byte, stride, from, to int) (int, error)
}

func (e *int8Enc) putColumn(dst []byte, stride, from, to int) (int, error) {
	for i, v := range e.vals[from:to] {
		dst[i*stride] = byte(v)
	}
	return 0, nil
}

func (e *int16Enc) putColumn(dst []byte, stride, from, to int) (int, error) {
	for i, v := range e.vals[from:to] {
		binary.BigEndian.PutUint16(dst[i*stride:], uint16(v))
	}
	return 0, nil
}

func (e *int32Enc) putColumn(dst []byte, stride, from, to int) (int, error) {
	for i, v := range e.vals[from:to] {
		binary.BigEndian.PutUint32(dst[i*stride:], uint32(v))
	}
	return 0, nil
}

func (e *timeEnc) putColumn(dst []byte, stride, from, to int) (int, error) {
	for i, v := range e.vals[from:to] {
		if v < 0 || v >= msPerDay {
			_, err := e.put(nil, from+i)
			return from + i, err
		}
		binary.BigEndian.PutUint32(dst[i*stride:], uint32(v))
	}
	return 0, nil
}

func (e *int64Enc) putColumn(dst []byte, stride, from, to int) (int, error) {
	for i, v := range e.vals[from:to] {
		binary.BigEndian.PutUint64(dst[i*stride:], uint64(v))
	}
	return 0, nil
}

func (e *float32Enc) putColumn(dst []byte, stride, from, to int) (int, error) {
	for i, v := range e.vals[from:to] {
		binary.BigEndian.PutUint32(dst[i*stride:], math.Float32bits(v))
	}
	return 0, nil
}

func (e *float64Enc) putColumn(dst []byte, stride, from, to int) (int, error) {
	for i, v := range e.vals[from:to] {
		binary.BigEndian.PutUint64(dst[i*stride:], math.Float64bits(v))
	}
	return 0, nil
}

func (e *boolEnc) putColumn(dst []byte, stride, from, to int) (int, error) {
	for i := from; i < to; i++ {
		if e.arr.Value(i) {
			dst[(i-from)*stride] = 1
		}
	}
	return 0, nil
}

func (e *tsMilliEnc) putColumn(dst []byte, stride, from, to int) (int, error) {
	for i, v := range e.vals[from:to] {
		binary.BigEndian.PutUint64(dst[i*stride:], uint64(v))
	}
	return 0, nil
}

func (e *tsMicroEnc) putColumn(dst []byte, stride, from, to int) (int, error) {
	for i, v := range e.vals[from:to] {
		ms, us := floorDiv(v, 1000)
		binary.BigEndian.PutUint64(dst[i*stride:], uint64(ms))
		binary.BigEndian.PutUint32(dst[i*stride+8:], uint32(us*1000))
	}
	return 0, nil
}

func (e *tsNanoEnc) putColumn(dst []byte, stride, from, to int) (int, error) {
	for i, v := range e.vals[from:to] {
		ms, ns := floorDiv(v, 1000000)
		binary.BigEndian.PutUint64(dst[i*stride:], uint64(ms))
		binary.BigEndian.PutUint32(dst[i*stride+8:], uint32(ns))
	}
	return 0, nil
}

// uvarintLen returns the size of n as an unsigned LEB128 varint.
func uvarintLen(n uint64) int { return (bits.Len64(n|1) + 6) / 7 }

// putLength writes the length of the row that follows the reserved bytes at
// start, moving the row when the length needs another number of bytes; it
// returns dst and the length's size, a good guess for the next row.
func putLength(dst []byte, start, reserved int) ([]byte, int) {
	n := len(dst) - start - reserved
	if n < 0x80 && reserved == 1 {
		dst[start] = byte(n)
		return dst, 1
	}
	k := uvarintLen(uint64(n))
	if k != reserved {
		for len(dst) < start+k+n {
			dst = append(dst, 0)
		}
		copy(dst[start+k:], dst[start+reserved:start+reserved+n])
		dst = dst[:start+k+n]
	}
	binary.PutUvarint(dst[start:], uint64(n))
	return dst, k
}

// nullMask is the validity bitmap of a bound array; bits is nil when the array
// has no nulls.
type nullMask struct {
	bits []byte
	off  int
}

func (m nullMask) isNull(i int) bool {
	if m.bits == nil {
		return false
	}
	j := m.off + i
	return m.bits[j>>3]&(1<<(j&7)) == 0
}

func bindNulls(a arrow.Array) nullMask {
	if a.DataType().ID() == arrow.NULL {
		return nullMask{bits: make([]byte, (a.Len()+8)/8)}
	}
	if a.NullN() == 0 || len(a.NullBitmapBytes()) == 0 {
		return nullMask{}
	}
	return nullMask{a.NullBitmapBytes(), a.Data().Offset()}
}

// encoder writes the values of one bound array.
type encoder interface {
	// bind prepares the encoder for the values of a, checking its Arrow type.
	bind(a arrow.Array) error
	// put appends the value at index i of the bound array, which is not null.
	put(dst []byte, i int) ([]byte, error)
}

func newEncoder(t types.T) encoder {
	switch t.Kind {
	case types.TinyInt:
		return &int8Enc{}
	case types.SmallInt:
		return &int16Enc{}
	case types.Int:
		return &int32Enc{id: arrow.INT32}
	case types.Date:
		return &int32Enc{id: arrow.DATE32}
	case types.Time:
		return &timeEnc{}
	case types.BigInt:
		return &int64Enc{}
	case types.Float:
		return &float32Enc{}
	case types.Double:
		return &float64Enc{}
	case types.Boolean:
		return &boolEnc{}
	case types.Decimal:
		return &decimalEnc{prec: t.Precision, scale: t.Scale}
	case types.Char, types.Varchar:
		return &bytesEnc{id: arrow.STRING, utf8: true}
	case types.Binary, types.Varbinary:
		return &bytesEnc{id: arrow.BINARY}
	case types.Timestamp, types.TimestampLTZ:
		switch types.TimestampUnit(t.Precision) {
		case arrow.Millisecond:
			return &tsMilliEnc{}
		case arrow.Microsecond:
			return &tsMicroEnc{}
		default:
			return &tsNanoEnc{}
		}
	case types.Array:
		return &listEnc{elem: newEncoder(*t.Elem), elemNotNull: !nullable(*t.Elem)}
	case types.Map:
		return &mapEnc{key: newEncoder(*t.Key), value: newEncoder(*t.Value), valueNotNull: !nullable(*t.Value)}
	case types.Row:
		r := &rowEnc{hdr: headerLen(len(t.Fields)), fields: make([]encoder, len(t.Fields)),
			nulls: make([]nullMask, len(t.Fields)), notNull: make([]bool, len(t.Fields)), names: make([]string, len(t.Fields))}
		for f, fld := range t.Fields {
			r.fields[f] = newEncoder(fld.Type)
			r.notNull[f] = !nullable(fld.Type)
			r.names[f] = fld.Name
		}
		return r
	case types.Null:
		return nullEnc{}
	}
	panic("coder: unchecked type " + t.String())
}

func wrongType(a arrow.Array, want string) error {
	return fmt.Errorf("got Arrow type %s, want %s", a.DataType(), want)
}

func checkID(a arrow.Array, id arrow.Type) error {
	if a.DataType().ID() != id {
		return wrongType(a, strings.ToLower(id.String()))
	}
	return nil
}

type int8Enc struct{ vals []int8 }

func (e *int8Enc) bind(a arrow.Array) error {
	if err := checkID(a, arrow.INT8); err != nil {
		return err
	}
	e.vals = arrow.GetValues[int8](a.Data(), 1)
	return nil
}

func (e *int8Enc) put(dst []byte, i int) ([]byte, error) { return append(dst, byte(e.vals[i])), nil }

type int16Enc struct{ vals []int16 }

func (e *int16Enc) bind(a arrow.Array) error {
	if err := checkID(a, arrow.INT16); err != nil {
		return err
	}
	e.vals = arrow.GetValues[int16](a.Data(), 1)
	return nil
}

func (e *int16Enc) put(dst []byte, i int) ([]byte, error) {
	return binary.BigEndian.AppendUint16(dst, uint16(e.vals[i])), nil
}

// int32Enc writes INT and DATE.
type int32Enc struct {
	id   arrow.Type
	vals []int32
}

func (e *int32Enc) bind(a arrow.Array) error {
	if err := checkID(a, e.id); err != nil {
		return err
	}
	e.vals = arrow.GetValues[int32](a.Data(), 1)
	return nil
}

func (e *int32Enc) put(dst []byte, i int) ([]byte, error) {
	return binary.BigEndian.AppendUint32(dst, uint32(e.vals[i])), nil
}

type timeEnc struct{ vals []int32 }

func (e *timeEnc) bind(a arrow.Array) error {
	if tt, ok := a.DataType().(*arrow.Time32Type); !ok || tt.Unit != arrow.Millisecond {
		return wrongType(a, "time32[ms]")
	}
	e.vals = arrow.GetValues[int32](a.Data(), 1)
	return nil
}

func (e *timeEnc) put(dst []byte, i int) ([]byte, error) {
	v := e.vals[i]
	if v < 0 || v >= msPerDay {
		return dst, fmt.Errorf("TIME value %d ms is outside 00:00:00.000..23:59:59.999", v)
	}
	return binary.BigEndian.AppendUint32(dst, uint32(v)), nil
}

type int64Enc struct{ vals []int64 }

func (e *int64Enc) bind(a arrow.Array) error {
	if err := checkID(a, arrow.INT64); err != nil {
		return err
	}
	e.vals = arrow.GetValues[int64](a.Data(), 1)
	return nil
}

func (e *int64Enc) put(dst []byte, i int) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, uint64(e.vals[i])), nil
}

type float32Enc struct{ vals []float32 }

func (e *float32Enc) bind(a arrow.Array) error {
	if err := checkID(a, arrow.FLOAT32); err != nil {
		return err
	}
	e.vals = arrow.GetValues[float32](a.Data(), 1)
	return nil
}

func (e *float32Enc) put(dst []byte, i int) ([]byte, error) {
	return binary.BigEndian.AppendUint32(dst, math.Float32bits(e.vals[i])), nil
}

type float64Enc struct{ vals []float64 }

func (e *float64Enc) bind(a arrow.Array) error {
	if err := checkID(a, arrow.FLOAT64); err != nil {
		return err
	}
	e.vals = arrow.GetValues[float64](a.Data(), 1)
	return nil
}

func (e *float64Enc) put(dst []byte, i int) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(e.vals[i])), nil
}

type boolEnc struct{ arr *array.Boolean }

func (e *boolEnc) bind(a arrow.Array) error {
	b, ok := a.(*array.Boolean)
	if !ok {
		return wrongType(a, "bool")
	}
	e.arr = b
	return nil
}

func (e *boolEnc) put(dst []byte, i int) ([]byte, error) {
	if e.arr.Value(i) {
		return append(dst, 1), nil
	}
	return append(dst, 0), nil
}

type decimalEnc struct {
	prec, scale int
	vals        []decimal128.Num
}

func (e *decimalEnc) bind(a arrow.Array) error {
	dt, ok := a.DataType().(*arrow.Decimal128Type)
	if !ok || int(dt.Scale) != e.scale {
		return wrongType(a, fmt.Sprintf("decimal128 of scale %d", e.scale))
	}
	e.vals = arrow.GetValues[decimal128.Num](a.Data(), 1)
	return nil
}

func (e *decimalEnc) put(dst []byte, i int) ([]byte, error) {
	return appendDecimal(dst, e.vals[i], e.prec, e.scale)
}

// bytesEnc writes strings (checking UTF-8) and binaries.
type bytesEnc struct {
	id   arrow.Type
	utf8 bool
	offs []int32
	data []byte
}

func (e *bytesEnc) bind(a arrow.Array) error {
	if err := checkID(a, e.id); err != nil {
		return err
	}
	d := a.Data()
	e.offs, e.data = nil, nil
	if d.Len() > 0 {
		e.offs = arrow.GetOffsets[int32](d, 1)
		if b := d.Buffers()[2]; b != nil {
			e.data = b.Bytes()
		}
	}
	return nil
}

func (e *bytesEnc) put(dst []byte, i int) ([]byte, error) {
	v := e.data[e.offs[i]:e.offs[i+1]]
	if e.utf8 && !utf8.Valid(v) {
		return dst, fmt.Errorf("invalid UTF-8 in string %s", quote(v))
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(v)))
	return append(dst, v...), nil
}

// appendTimestamp appends v, a timestamp in unit, as epoch milliseconds and,
// when wide, nanoseconds within the millisecond.
func appendTimestamp(dst []byte, v int64, unit arrow.TimeUnit) []byte {
	switch unit {
	case arrow.Millisecond:
		return binary.BigEndian.AppendUint64(dst, uint64(v))
	case arrow.Microsecond:
		ms, us := floorDiv(v, 1000)
		dst = binary.BigEndian.AppendUint64(dst, uint64(ms))
		return binary.BigEndian.AppendUint32(dst, uint32(us*1000))
	default:
		ms, ns := floorDiv(v, 1000000)
		dst = binary.BigEndian.AppendUint64(dst, uint64(ms))
		return binary.BigEndian.AppendUint32(dst, uint32(ns))
	}
}

type tsVals struct{ vals []int64 }

func (e *tsVals) bindUnit(a arrow.Array, unit arrow.TimeUnit) error {
	if tt, ok := a.DataType().(*arrow.TimestampType); !ok || tt.Unit != unit {
		return wrongType(a, "timestamp["+unit.String()+"]")
	}
	e.vals = arrow.GetValues[int64](a.Data(), 1)
	return nil
}

type tsMilliEnc struct{ tsVals }

func (e *tsMilliEnc) bind(a arrow.Array) error { return e.bindUnit(a, arrow.Millisecond) }

func (e *tsMilliEnc) put(dst []byte, i int) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, uint64(e.vals[i])), nil
}

type tsMicroEnc struct{ tsVals }

func (e *tsMicroEnc) bind(a arrow.Array) error { return e.bindUnit(a, arrow.Microsecond) }

func (e *tsMicroEnc) put(dst []byte, i int) ([]byte, error) {
	ms, us := floorDiv(e.vals[i], 1000)
	dst = binary.BigEndian.AppendUint64(dst, uint64(ms))
	return binary.BigEndian.AppendUint32(dst, uint32(us*1000)), nil
}

type tsNanoEnc struct{ tsVals }

func (e *tsNanoEnc) bind(a arrow.Array) error { return e.bindUnit(a, arrow.Nanosecond) }

func (e *tsNanoEnc) put(dst []byte, i int) ([]byte, error) {
	ms, ns := floorDiv(e.vals[i], 1000000)
	dst = binary.BigEndian.AppendUint64(dst, uint64(ms))
	return binary.BigEndian.AppendUint32(dst, uint32(ns)), nil
}

type listEnc struct {
	elem        encoder
	elemNotNull bool
	elemNulls   nullMask
	offs        []int32
}

func (e *listEnc) bind(a arrow.Array) error {
	l, ok := a.(*array.List)
	if !ok {
		return wrongType(a, "list")
	}
	e.offs = nil
	if l.Len() > 0 {
		e.offs = arrow.GetOffsets[int32](l.Data(), 1)
	}
	v := l.ListValues()
	e.elemNulls = bindNulls(v)
	if err := e.elem.bind(v); err != nil {
		return fmt.Errorf("element: %w", err)
	}
	return nil
}

func (e *listEnc) put(dst []byte, i int) ([]byte, error) {
	s, t := e.offs[i], e.offs[i+1]
	dst = binary.BigEndian.AppendUint32(dst, uint32(t-s))
	var err error
	for j := s; j < t; j++ {
		if e.elemNulls.isNull(int(j)) {
			if e.elemNotNull {
				return dst, fmt.Errorf("element %d: null in NOT NULL element", j-s)
			}
			dst = append(dst, 0)
			continue
		}
		dst = append(dst, 1)
		if dst, err = e.elem.put(dst, int(j)); err != nil {
			return dst, fmt.Errorf("element %d: %w", j-s, err)
		}
	}
	return dst, nil
}

type mapEnc struct {
	key, value   encoder
	valueNotNull bool
	keyNulls     nullMask
	valueNulls   nullMask
	offs         []int32
}

func (e *mapEnc) bind(a arrow.Array) error {
	m, ok := a.(*array.Map)
	if !ok {
		return wrongType(a, "map")
	}
	e.offs = nil
	if m.Len() > 0 {
		e.offs = arrow.GetOffsets[int32](m.Data(), 1)
	}
	entries, ok := m.ListValues().(*array.Struct)
	if !ok || entries.NumField() != 2 {
		return wrongType(a, "map")
	}
	k, v := entries.Field(0), entries.Field(1)
	e.keyNulls, e.valueNulls = bindNulls(k), bindNulls(v)
	if err := e.key.bind(k); err != nil {
		return fmt.Errorf("key: %w", err)
	}
	if err := e.value.bind(v); err != nil {
		return fmt.Errorf("value: %w", err)
	}
	return nil
}

func (e *mapEnc) put(dst []byte, i int) ([]byte, error) {
	s, t := e.offs[i], e.offs[i+1]
	dst = binary.BigEndian.AppendUint32(dst, uint32(t-s))
	var err error
	for j := s; j < t; j++ {
		if e.keyNulls.isNull(int(j)) {
			return dst, fmt.Errorf("entry %d: null key", j-s)
		}
		if dst, err = e.key.put(dst, int(j)); err != nil {
			return dst, fmt.Errorf("entry %d: key: %w", j-s, err)
		}
		if e.valueNulls.isNull(int(j)) {
			if e.valueNotNull {
				return dst, fmt.Errorf("entry %d: null in NOT NULL value", j-s)
			}
			dst = append(dst, 1)
			continue
		}
		dst = append(dst, 0)
		if dst, err = e.value.put(dst, int(j)); err != nil {
			return dst, fmt.Errorf("entry %d: value: %w", j-s, err)
		}
	}
	return dst, nil
}

type rowEnc struct {
	hdr     int
	fields  []encoder
	nulls   []nullMask
	notNull []bool
	names   []string
}

func (e *rowEnc) bind(a arrow.Array) error {
	s, ok := a.(*array.Struct)
	if !ok || s.NumField() != len(e.fields) {
		return wrongType(a, fmt.Sprintf("struct of %d fields", len(e.fields)))
	}
	for f, enc := range e.fields {
		v := s.Field(f)
		e.nulls[f] = bindNulls(v)
		if err := enc.bind(v); err != nil {
			return fmt.Errorf("field %s: %w", e.names[f], err)
		}
	}
	return nil
}

func (e *rowEnc) put(dst []byte, i int) ([]byte, error) {
	at := len(dst)
	for range e.hdr {
		dst = append(dst, 0)
	}
	var err error
	for f, enc := range e.fields {
		if e.nulls[f].isNull(i) {
			if e.notNull[f] {
				return dst, fmt.Errorf("field %s: null in NOT NULL field", e.names[f])
			}
			b, m := nullBit(f)
			dst[at+b] |= m
			continue
		}
		if dst, err = enc.put(dst, i); err != nil {
			return dst, fmt.Errorf("field %s: %w", e.names[f], err)
		}
	}
	return dst, nil
}

// nullEnc stands for NULL, whose values are all null.
type nullEnc struct{}

func (nullEnc) bind(a arrow.Array) error { return checkID(a, arrow.NULL) }

func (nullEnc) put(dst []byte, i int) ([]byte, error) {
	return dst, errors.New("non-null value of type NULL")
}

// EncodeValues appends one length-prefixed row of Go values in
// expr.Literal's representation (nil = NULL); used for constants.
//
// Beyond expr.Literal's scalars, an ARRAY value is a []any of its elements, a
// MAP value a [][2]any of its entries (key, value) and a ROW value a []any of
// its fields.
func EncodeValues(dst []byte, ts []types.T, values []any) ([]byte, error) {
	if len(values) != len(ts) {
		return dst, fmt.Errorf("coder: %d values for %d types", len(values), len(ts))
	}
	start := len(dst)
	dst = append(dst, 0)
	var err error
	if dst, err = appendRow(dst, ts, nil, values); err != nil {
		return dst[:start], err
	}
	dst, _ = putLength(dst, start, 1)
	return dst, nil
}

// appendRow appends a row's header and fields. A top-level row (fields ==
// nil, types in ts) names the column in errors, a nested one the field.
func appendRow(dst []byte, ts []types.T, fields []types.Field, values []any) ([]byte, error) {
	at := len(dst)
	for range headerLen(len(values)) {
		dst = append(dst, 0)
	}
	var err error
	for c, v := range values {
		where, what := "", "field"
		var ty types.T
		if fields == nil {
			ty = ts[c]
			where, what = fmt.Sprintf("coder: column %d (%s)", c, ty), "column"
			if err := checkType(ty); err != nil {
				return dst, fmt.Errorf("%s: %w", where, err)
			}
		} else {
			ty = fields[c].Type
			where = "field " + fields[c].Name
		}
		if v == nil {
			if !nullable(ty) {
				return dst, fmt.Errorf("%s: null in NOT NULL %s", where, what)
			}
			b, m := nullBit(c)
			dst[at+b] |= m
			continue
		}
		if dst, err = appendValue(dst, ty, v); err != nil {
			return dst, fmt.Errorf("%s: %w", where, err)
		}
	}
	return dst, nil
}

// appendValue appends the non-nil value v of type t.
func appendValue(dst []byte, t types.T, v any) ([]byte, error) {
	bad := func() ([]byte, error) {
		return dst, fmt.Errorf("value %v of Go type %T does not represent %s", v, v, t)
	}
	switch t.Kind {
	case types.TinyInt:
		if x, ok := v.(int8); ok {
			return append(dst, byte(x)), nil
		}
	case types.SmallInt:
		if x, ok := v.(int16); ok {
			return binary.BigEndian.AppendUint16(dst, uint16(x)), nil
		}
	case types.Int:
		if x, ok := v.(int32); ok {
			return binary.BigEndian.AppendUint32(dst, uint32(x)), nil
		}
	case types.BigInt:
		if x, ok := v.(int64); ok {
			return binary.BigEndian.AppendUint64(dst, uint64(x)), nil
		}
	case types.Boolean:
		if x, ok := v.(bool); ok {
			if x {
				return append(dst, 1), nil
			}
			return append(dst, 0), nil
		}
	case types.Float:
		if x, ok := v.(float32); ok {
			return binary.BigEndian.AppendUint32(dst, math.Float32bits(x)), nil
		}
	case types.Double:
		if x, ok := v.(float64); ok {
			return binary.BigEndian.AppendUint64(dst, math.Float64bits(x)), nil
		}
	case types.Decimal:
		if x, ok := v.(decimal128.Num); ok {
			return appendDecimal(dst, x, t.Precision, t.Scale)
		}
	case types.Char, types.Varchar:
		if x, ok := v.(string); ok {
			if !utf8.ValidString(x) {
				return dst, fmt.Errorf("invalid UTF-8 in string %s", quote([]byte(x)))
			}
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(x)))
			return append(dst, x...), nil
		}
	case types.Binary, types.Varbinary:
		if x, ok := v.([]byte); ok {
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(x)))
			return append(dst, x...), nil
		}
	case types.Date:
		if x, ok := v.(arrow.Date32); ok {
			return binary.BigEndian.AppendUint32(dst, uint32(x)), nil
		}
	case types.Time:
		if x, ok := v.(arrow.Time32); ok {
			if x < 0 || x >= msPerDay {
				return dst, fmt.Errorf("TIME value %d ms is outside 00:00:00.000..23:59:59.999", x)
			}
			return binary.BigEndian.AppendUint32(dst, uint32(x)), nil
		}
	case types.Timestamp, types.TimestampLTZ:
		if x, ok := v.(arrow.Timestamp); ok {
			return appendTimestamp(dst, int64(x), types.TimestampUnit(t.Precision)), nil
		}
	case types.Array:
		if x, ok := v.([]any); ok {
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(x)))
			var err error
			for j, el := range x {
				if el == nil {
					if !nullable(*t.Elem) {
						return dst, fmt.Errorf("element %d: null in NOT NULL element", j)
					}
					dst = append(dst, 0)
					continue
				}
				dst = append(dst, 1)
				if dst, err = appendValue(dst, *t.Elem, el); err != nil {
					return dst, fmt.Errorf("element %d: %w", j, err)
				}
			}
			return dst, nil
		}
	case types.Map:
		if x, ok := v.([][2]any); ok {
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(x)))
			var err error
			for j, kv := range x {
				if kv[0] == nil {
					return dst, fmt.Errorf("entry %d: null key", j)
				}
				if dst, err = appendValue(dst, *t.Key, kv[0]); err != nil {
					return dst, fmt.Errorf("entry %d: key: %w", j, err)
				}
				if kv[1] == nil {
					if !nullable(*t.Value) {
						return dst, fmt.Errorf("entry %d: null in NOT NULL value", j)
					}
					dst = append(dst, 1)
					continue
				}
				dst = append(dst, 0)
				if dst, err = appendValue(dst, *t.Value, kv[1]); err != nil {
					return dst, fmt.Errorf("entry %d: value: %w", j, err)
				}
			}
			return dst, nil
		}
	case types.Row:
		if x, ok := v.([]any); ok {
			if len(x) != len(t.Fields) {
				return dst, fmt.Errorf("%d values for a ROW of %d fields", len(x), len(t.Fields))
			}
			return appendRow(dst, nil, t.Fields, x)
		}
	}
	return bad()
}
