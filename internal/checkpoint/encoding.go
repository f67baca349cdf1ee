package checkpoint

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Encoder writes operator state in weir's state encoding: unsigned and
// signed varints, length-prefixed bytes, and tagged values (the Go values
// of weir's rows: integers, floats, booleans, strings, bytes, DECIMAL,
// DATE, TIME, TIMESTAMP, NULL, and ARRAY/ROW ([]any) and MAP ([][2]any) of
// them). It gathers what it encodes and writes it to its writer in large
// pieces; Err writes what is left. Errors stick: the first one is returned
// by Err.
type Encoder struct {
	w   io.Writer
	buf []byte
	err error
}

// encoderBuffer is how much an Encoder gathers before writing.
const encoderBuffer = 64 << 10

// NewEncoder returns an encoder writing to w.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: w, buf: make([]byte, 0, encoderBuffer+1024)}
}

// Err writes what the encoder holds and returns the first error: call it
// once everything is encoded.
func (e *Encoder) Err() error {
	e.flush()
	return e.err
}

func (e *Encoder) flush() {
	if e.err == nil && len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
}

// more writes the buffer out once it is full.
func (e *Encoder) more() {
	if len(e.buf) >= encoderBuffer {
		e.flush()
	}
}

func (e *Encoder) write(p []byte) {
	if len(p) >= encoderBuffer {
		e.flush()
		if e.err == nil {
			_, e.err = e.w.Write(p)
		}
		return
	}
	e.buf = append(e.buf, p...)
	e.more()
}

func (e *Encoder) tag(t byte) { e.buf = append(e.buf, t) }

// Uvarint writes x.
func (e *Encoder) Uvarint(x uint64) { e.buf = binary.AppendUvarint(e.buf, x); e.more() }

// Varint writes x.
func (e *Encoder) Varint(x int64) { e.buf = binary.AppendVarint(e.buf, x); e.more() }

// Bytes writes p with its length.
func (e *Encoder) Bytes(p []byte) { e.Uvarint(uint64(len(p))); e.write(p) }

// String writes s with its length.
func (e *Encoder) String(s string) {
	e.Uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
	e.more()
}

// Bool writes b.
func (e *Encoder) Bool(b bool) {
	if b {
		e.Uvarint(1)
	} else {
		e.Uvarint(0)
	}
}

// Float64 writes x's bits.
func (e *Encoder) Float64(x float64) {
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(x))
	e.more()
}

// Value tags of the encoding (part of the format: never renumber).
const (
	tagNull byte = iota
	tagInt8
	tagInt16
	tagInt32
	tagInt64
	tagFloat32
	tagFloat64
	tagFalse
	tagTrue
	tagString
	tagBytes
	tagDecimal
	tagDate32
	tagTime32
	tagTimestamp
	tagList
	tagMap
	tagTime64
	tagDate64
)

// Value writes v, one of the Go values of weir's rows.
func (e *Encoder) Value(v any) {
	tag := e.tag
	switch v := v.(type) {
	case nil:
		tag(tagNull)
	case int8:
		tag(tagInt8)
		e.Varint(int64(v))
	case int16:
		tag(tagInt16)
		e.Varint(int64(v))
	case int32:
		tag(tagInt32)
		e.Varint(int64(v))
	case int64:
		tag(tagInt64)
		e.Varint(v)
	case float32:
		tag(tagFloat32)
		e.Float64(float64(v))
	case float64:
		tag(tagFloat64)
		e.Float64(v)
	case bool:
		if v {
			tag(tagTrue)
		} else {
			tag(tagFalse)
		}
	case string:
		tag(tagString)
		e.String(v)
	case []byte:
		tag(tagBytes)
		e.Bytes(v)
	case decimal128.Num:
		tag(tagDecimal)
		e.Varint(v.HighBits())
		e.Uvarint(v.LowBits())
	case arrow.Date32:
		tag(tagDate32)
		e.Varint(int64(v))
	case arrow.Date64:
		tag(tagDate64)
		e.Varint(int64(v))
	case arrow.Time32:
		tag(tagTime32)
		e.Varint(int64(v))
	case arrow.Time64:
		tag(tagTime64)
		e.Varint(int64(v))
	case arrow.Timestamp:
		tag(tagTimestamp)
		e.Varint(int64(v))
	case []any:
		tag(tagList)
		e.Uvarint(uint64(len(v)))
		for _, x := range v {
			e.Value(x)
		}
	case [][2]any:
		tag(tagMap)
		e.Uvarint(uint64(len(v)))
		for _, kv := range v {
			e.Value(kv[0])
			e.Value(kv[1])
		}
	default:
		if e.err == nil {
			e.err = fmt.Errorf("checkpoint: cannot encode a value of type %T", v)
		}
	}
}

// Decoder reads what an Encoder wrote. Errors stick: the first one is
// returned by Err, and reads after it return zero values.
type Decoder struct {
	r   *bufio.Reader
	err error
}

// NewDecoder returns a decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	return &Decoder{r: br}
}

// Err is the first read error; a truncated input is io.ErrUnexpectedEOF.
func (d *Decoder) Err() error { return d.err }

func (d *Decoder) fail(err error) {
	if d.err == nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
	}
}

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, err := binary.ReadUvarint(d.r)
	if err != nil {
		d.fail(err)
	}
	return x
}

// Varint reads a signed varint.
func (d *Decoder) Varint() int64 {
	if d.err != nil {
		return 0
	}
	x, err := binary.ReadVarint(d.r)
	if err != nil {
		d.fail(err)
	}
	return x
}

// Len reads a length, refusing one beyond what state could hold.
func (d *Decoder) Len() int {
	n := d.Uvarint()
	if n > 1<<40 {
		d.fail(fmt.Errorf("checkpoint: corrupt state: length %d", n))
		return 0
	}
	return int(n)
}

// Bytes reads bytes written by Encoder.Bytes.
func (d *Decoder) Bytes() []byte {
	n := d.Len()
	if d.err != nil {
		return nil
	}
	p := make([]byte, 0, min(n, 1<<20))
	for len(p) < n && d.err == nil {
		k := min(n-len(p), 1<<20)
		start := len(p)
		p = append(p, make([]byte, k)...)
		if _, err := io.ReadFull(d.r, p[start:]); err != nil {
			d.fail(err)
		}
	}
	return p
}

// String reads a string written by Encoder.String.
func (d *Decoder) String() string { return string(d.Bytes()) }

// Bool reads a bool.
func (d *Decoder) Bool() bool { return d.Uvarint() != 0 }

// Float64 reads a float64.
func (d *Decoder) Float64() float64 {
	var b [8]byte
	if d.err != nil {
		return 0
	}
	if _, err := io.ReadFull(d.r, b[:]); err != nil {
		d.fail(err)
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b[:]))
}

// Value reads a value written by Encoder.Value.
func (d *Decoder) Value() any {
	if d.err != nil {
		return nil
	}
	t, err := d.r.ReadByte()
	if err != nil {
		d.fail(err)
		return nil
	}
	switch t {
	case tagNull:
		return nil
	case tagInt8:
		return int8(d.Varint())
	case tagInt16:
		return int16(d.Varint())
	case tagInt32:
		return int32(d.Varint())
	case tagInt64:
		return d.Varint()
	case tagFloat32:
		return float32(d.Float64())
	case tagFloat64:
		return d.Float64()
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagString:
		return d.String()
	case tagBytes:
		return d.Bytes()
	case tagDecimal:
		hi := d.Varint()
		return decimal128.New(hi, d.Uvarint())
	case tagDate32:
		return arrow.Date32(d.Varint())
	case tagDate64:
		return arrow.Date64(d.Varint())
	case tagTime32:
		return arrow.Time32(d.Varint())
	case tagTime64:
		return arrow.Time64(d.Varint())
	case tagTimestamp:
		return arrow.Timestamp(d.Varint())
	case tagList:
		n := d.Len()
		out := make([]any, 0, min(n, 1024))
		for i := 0; i < n && d.err == nil; i++ {
			out = append(out, d.Value())
		}
		return out
	case tagMap:
		n := d.Len()
		out := make([][2]any, 0, min(n, 1024))
		for i := 0; i < n && d.err == nil; i++ {
			k := d.Value()
			out = append(out, [2]any{k, d.Value()})
		}
		return out
	}
	d.fail(fmt.Errorf("checkpoint: corrupt state: value tag %d", t))
	return nil
}

// Header writes the state's kind and version: what Restore checks first.
func (e *Encoder) Header(kind string, version int) {
	e.String(kind)
	e.Uvarint(uint64(version))
}

// Header reads a state's kind and version and checks them against what
// the operator reads.
func (d *Decoder) Header(kind string, version int) error {
	k := d.String()
	v := d.Uvarint()
	if d.err != nil {
		return fmt.Errorf("checkpoint: state of %s: %w", kind, d.err)
	}
	if k != kind || v != uint64(version) {
		return fmt.Errorf("checkpoint: the state is %s version %d, the operator reads %s version %d (was the job changed?)", k, v, kind, version)
	}
	return nil
}

// Batches writes record batches of one schema as an Arrow IPC stream with
// a length prefix (none: an empty stream of schema).
func (e *Encoder) Batches(schema *arrow.Schema, bs []arrow.RecordBatch) {
	var buf bytesWriter
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	for _, b := range bs {
		if err := w.Write(b); err != nil && e.err == nil {
			e.err = fmt.Errorf("checkpoint: %w", err)
		}
	}
	if err := w.Close(); err != nil && e.err == nil {
		e.err = fmt.Errorf("checkpoint: %w", err)
	}
	e.Bytes(buf)
}

// Batches reads what Encoder.Batches wrote.
func (d *Decoder) Batches(mem memory.Allocator) []arrow.RecordBatch {
	data := d.Bytes()
	if d.err != nil {
		return nil
	}
	r, err := ipc.NewReader(bytesReader(data), ipc.WithAllocator(mem))
	if err != nil {
		d.fail(fmt.Errorf("checkpoint: %w", err))
		return nil
	}
	defer r.Release()
	var out []arrow.RecordBatch
	for r.Next() {
		b := r.RecordBatch()
		b.Retain()
		out = append(out, b)
	}
	if err := r.Err(); err != nil {
		for _, b := range out {
			b.Release()
		}
		d.fail(fmt.Errorf("checkpoint: %w", err))
		return nil
	}
	return out
}

type bytesWriter []byte

func (w *bytesWriter) Write(p []byte) (int, error) { *w = append(*w, p...); return len(p), nil }

func bytesReader(p []byte) io.Reader { return &sliceReader{p: p} }

type sliceReader struct{ p []byte }

func (r *sliceReader) Read(b []byte) (int, error) {
	if len(r.p) == 0 {
		return 0, io.EOF
	}
	n := copy(b, r.p)
	r.p = r.p[n:]
	return n, nil
}
