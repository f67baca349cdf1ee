package exec

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// number is the Go storage of the primitive numeric SQL types.
type number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~float32 | ~float64
}

// integer is the Go storage of the SQL integer types.
type integer interface {
	~int8 | ~int16 | ~int32 | ~int64
}

// float is the Go storage of FLOAT and DOUBLE.
type float interface {
	~float32 | ~float64
}

// AllocValues allocates an uninitialised buffer of n values of T.
func AllocValues[T arrow.FixedWidthType](mem memory.Allocator, n int) (*memory.Buffer, []T) {
	var zero T
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(n * int(unsafe.Sizeof(zero)))
	return buf, arrow.GetData[T](buf.Bytes())[:n:n]
}

// AllocBitmap allocates a bitmap of n bits, all clear.
func AllocBitmap(mem memory.Allocator, n int) (*memory.Buffer, []byte) {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	b := buf.Bytes()
	clear(b)
	return buf, b
}

// MakeArray wraps buffers into an array of type dt and length n, taking over
// the caller's references to the buffers (nil buffers are allowed).
func MakeArray(dt arrow.DataType, n int, bufs []*memory.Buffer, nulls int) arrow.Array {
	d := array.NewData(dt, n, bufs, nil, nulls, 0)
	a := array.MakeFromData(d)
	d.Release()
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	return a
}

// values returns the typed values of a fixed-width array, offset applied.
func values[T arrow.FixedWidthType](a arrow.Array) []T {
	if a.Len() == 0 {
		return nil
	}
	return arrow.GetValues[T](a.Data(), 1)
}

// validity returns the validity bitmap of a and its bit offset, or nil when
// a has no nulls. A NULL-typed array must be handled by the caller.
func validity(a arrow.Array) ([]byte, int) {
	if a.NullN() == 0 {
		return nil, 0
	}
	return a.NullBitmapBytes(), a.Data().Offset()
}

// copyValidity returns a copy of a's validity bitmap (offset 0) and its null
// count; the buffer is nil when a has no nulls.
func copyValidity(mem memory.Allocator, a arrow.Array) (*memory.Buffer, int) {
	bits, off := validity(a)
	if bits == nil {
		return nil, 0
	}
	n := a.Len()
	buf, out := AllocBitmap(mem, n)
	bitutil.CopyBitmap(bits, off, n, out, 0)
	return buf, a.NullN()
}

// andValidity returns the validity of rows valid in every array of as (nil
// entries are ignored) and its null count.
func andValidity(mem memory.Allocator, n int, as ...arrow.Array) (*memory.Buffer, int) {
	var buf *memory.Buffer
	var out []byte
	for _, a := range as {
		if a == nil {
			continue
		}
		bits, off := validity(a)
		if bits == nil {
			continue
		}
		if buf == nil {
			buf, out = AllocBitmap(mem, n)
			bitutil.CopyBitmap(bits, off, n, out, 0)
			continue
		}
		bitutil.BitmapAnd(out, bits, 0, int64(off), out, 0, int64(n))
	}
	if buf == nil {
		return nil, 0
	}
	nulls := n - bitutil.CountSetBits(out, 0, n)
	if nulls == 0 {
		buf.Release()
		return nil, 0
	}
	return buf, nulls
}

// bufBytes returns the bytes of b, nil for a nil buffer.
func bufBytes(b *memory.Buffer) []byte {
	if b == nil {
		return nil
	}
	return b.Bytes()
}

// isNullTyped reports whether a is an array of the NULL type.
func isNullTyped(a arrow.Array) bool { return a != nil && a.DataType().ID() == arrow.NULL }

// release releases every non-nil array of as.
func release(as ...arrow.Array) {
	for _, a := range as {
		if a != nil {
			a.Release()
		}
	}
}

// boolBits returns the value and validity bits of a boolean array with bit
// offset 0; valid is nil when the array has no nulls. The slices may alias
// the array's buffers and must not be modified.
func boolBits(a arrow.Array) (vals, valid []byte) {
	n := a.Len()
	if n == 0 {
		return nil, nil
	}
	if isNullTyped(a) {
		z := make([]byte, bitutil.BytesForBits(int64(n)))
		return z, z
	}
	off := a.Data().Offset()
	raw := bufBytes(a.Data().Buffers()[1])
	if off%8 == 0 {
		vals = raw[off/8:]
	} else {
		vals = make([]byte, bitutil.BytesForBits(int64(n)))
		bitutil.CopyBitmap(raw, off, n, vals, 0)
	}
	if a.NullN() > 0 {
		bits := a.NullBitmapBytes()
		if off%8 == 0 {
			valid = bits[off/8:]
		} else {
			valid = make([]byte, bitutil.BytesForBits(int64(n)))
			bitutil.CopyBitmap(bits, off, n, valid, 0)
		}
	}
	return vals, valid
}

// newBool builds a boolean array from value bits and optional validity bits
// (both offset 0), copying them.
func newBool(mem memory.Allocator, n int, vals, valid []byte) arrow.Array {
	vb, out := AllocBitmap(mem, n)
	copy(out, vals)
	var nb *memory.Buffer
	nulls := 0
	if valid != nil {
		nulls = n - bitutil.CountSetBits(valid, 0, n)
		if nulls > 0 {
			var o []byte
			nb, o = AllocBitmap(mem, n)
			copy(o, valid)
		}
	}
	return MakeArray(arrow.FixedWidthTypes.Boolean, n, []*memory.Buffer{nb, vb}, nulls)
}

// trueRows returns the rows of a boolean array that are TRUE (not FALSE, not NULL).
func trueRows(a arrow.Array) []int32 {
	n := a.Len()
	if isNullTyped(a) {
		return nil
	}
	vals, valid := boolBits(a)
	idx := make([]int32, 0, n)
	for j := 0; j*8 < n; j++ {
		b := vals[j]
		if valid != nil {
			b &= valid[j]
		}
		for b != 0 {
			k := bitsTrailingZeros8(b)
			i := j*8 + k
			if i >= n {
				break
			}
			idx = append(idx, int32(i))
			b &= b - 1
		}
	}
	return idx
}

func bitsTrailingZeros8(b byte) int {
	n := 0
	for b&1 == 0 {
		b >>= 1
		n++
	}
	return n
}

// gather builds an array of type dt of len(pos) rows whose row i is row
// pos[i] of parts[src[i]], or NULL when src[i] < 0. A nil src means part 0
// for every row. Parts must have type dt (a nil part is never selected).
func gather(mem memory.Allocator, dt arrow.DataType, parts []arrow.Array, src, pos []int32) (arrow.Array, error) {
	n := len(pos)
	part := func(i int) int {
		if src == nil {
			return 0
		}
		return int(src[i])
	}
	for _, p := range parts {
		if p != nil && !arrow.TypeEqual(p.DataType(), dt) {
			return nil, fmt.Errorf("exec: internal error: gathering %s from an array of %s", dt, p.DataType())
		}
	}
	// Validity.
	vbuf, vbits := AllocBitmap(mem, n)
	valid := 0
	pbits := make([][]byte, len(parts))
	poff := make([]int, len(parts))
	for k, p := range parts {
		if p != nil {
			pbits[k], poff[k] = validity(p)
		}
	}
	nullTyped := dt.ID() == arrow.NULL
	for i := 0; i < n; i++ {
		k := part(i)
		if k < 0 || nullTyped {
			continue
		}
		if b := pbits[k]; b != nil && !bitutil.BitIsSet(b, poff[k]+int(pos[i])) {
			continue
		}
		bitutil.SetBit(vbits, i)
		valid++
	}
	nulls := n - valid
	if nullTyped {
		vbuf.Release()
		return array.NewNull(n), nil
	}
	if nulls == 0 {
		vbuf.Release()
		vbuf = nil
	}
	fail := func(err error) (arrow.Array, error) {
		if vbuf != nil {
			vbuf.Release()
		}
		return nil, err
	}
	switch dt.ID() {
	case arrow.BOOL:
		buf, out := AllocBitmap(mem, n)
		pv := make([][]byte, len(parts))
		pvo := make([]int, len(parts))
		for k, p := range parts {
			if p != nil {
				pv[k], pvo[k] = bufBytes(p.Data().Buffers()[1]), p.Data().Offset()
			}
		}
		for i := 0; i < n; i++ {
			if k := part(i); k >= 0 && bitutil.BitIsSet(pv[k], pvo[k]+int(pos[i])) {
				bitutil.SetBit(out, i)
			}
		}
		return MakeArray(dt, n, []*memory.Buffer{vbuf, buf}, nulls), nil
	case arrow.STRING, arrow.BINARY:
		offs := make([][]int32, len(parts))
		datas := make([][]byte, len(parts))
		for k, p := range parts {
			if p == nil || p.Len() == 0 {
				continue
			}
			switch p := p.(type) {
			case *array.String:
				offs[k], datas[k] = p.ValueOffsets(), bufBytes(p.Data().Buffers()[2])
			case *array.Binary:
				offs[k], datas[k] = p.ValueOffsets(), bufBytes(p.Data().Buffers()[2])
			}
		}
		total := 0
		for i := 0; i < n; i++ {
			if k := part(i); k >= 0 {
				o := offs[k]
				total += int(o[pos[i]+1] - o[pos[i]])
			}
		}
		if total > 1<<31-1 {
			return fail(fmt.Errorf("exec: string data of %d bytes exceeds 2 GiB in one batch", total))
		}
		obuf, out := AllocValues[int32](mem, n+1)
		dbuf := memory.NewResizableBuffer(mem)
		dbuf.Resize(total)
		data := dbuf.Bytes()
		at := int32(0)
		for i := 0; i < n; i++ {
			out[i] = at
			if k := part(i); k >= 0 {
				o := offs[k]
				at += int32(copy(data[at:], datas[k][o[pos[i]]:o[pos[i]+1]]))
			}
		}
		out[n] = at
		return MakeArray(dt, n, []*memory.Buffer{vbuf, obuf, dbuf}, nulls), nil
	}
	if fw, ok := dt.(arrow.FixedWidthDataType); ok {
		switch fw.BitWidth() {
		case 8:
			return gatherFixed[uint8](mem, dt, parts, src, pos, vbuf, nulls), nil
		case 16:
			return gatherFixed[uint16](mem, dt, parts, src, pos, vbuf, nulls), nil
		case 32:
			return gatherFixed[uint32](mem, dt, parts, src, pos, vbuf, nulls), nil
		case 64:
			return gatherFixed[uint64](mem, dt, parts, src, pos, vbuf, nulls), nil
		case 128:
			return gatherFixed[decimal128.Num](mem, dt, parts, src, pos, vbuf, nulls), nil
		}
	}
	if vbuf != nil {
		vbuf.Release()
	}
	return gatherRuns(mem, dt, parts, src, pos)
}

func gatherFixed[T arrow.FixedWidthType](mem memory.Allocator, dt arrow.DataType, parts []arrow.Array, src, pos []int32, vbuf *memory.Buffer, nulls int) arrow.Array {
	n := len(pos)
	vals := make([][]T, len(parts))
	for k, p := range parts {
		if p != nil {
			vals[k] = values[T](p)
		}
	}
	buf, out := AllocValues[T](mem, n)
	if src == nil {
		v := vals[0]
		for i, p := range pos {
			out[i] = v[p]
		}
	} else {
		var zero T
		for i, p := range pos {
			if k := src[i]; k >= 0 {
				out[i] = vals[k][p]
			} else {
				out[i] = zero
			}
		}
	}
	return MakeArray(dt, n, []*memory.Buffer{vbuf, buf}, nulls)
}

// gatherRuns gathers any type by concatenating slices of runs of consecutive
// rows; it serves the nested types.
func gatherRuns(mem memory.Allocator, dt arrow.DataType, parts []arrow.Array, src, pos []int32) (arrow.Array, error) {
	n := len(pos)
	if n == 0 {
		return array.MakeArrayOfNull(mem, dt, 0), nil
	}
	var pieces []arrow.Array
	defer func() { release(pieces...) }()
	part := func(i int) int32 {
		if src == nil {
			return 0
		}
		return src[i]
	}
	for i := 0; i < n; {
		k := part(i)
		j := i + 1
		for j < n && part(j) == k && (k < 0 || pos[j] == pos[j-1]+1) {
			j++
		}
		if k < 0 {
			pieces = append(pieces, array.MakeArrayOfNull(mem, dt, j-i))
		} else {
			pieces = append(pieces, array.NewSlice(parts[k], int64(pos[i]), int64(pos[i])+int64(j-i)))
		}
		i = j
	}
	if len(pieces) == 1 {
		pieces[0].Retain()
		return pieces[0], nil
	}
	return array.Concatenate(pieces, mem)
}

// take returns the rows idx of a.
func take(mem memory.Allocator, a arrow.Array, idx []int32) (arrow.Array, error) {
	if len(idx) == a.Len() {
		a.Retain()
		return a, nil
	}
	return gather(mem, a.DataType(), []arrow.Array{a}, nil, idx)
}
