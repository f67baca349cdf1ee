package aggregate

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/spill"
	"github.com/weir-dev/weir/internal/types"
)

// collectAcc is Collect: each group's values, NULLs included, in input
// order, as one ARRAY. It keeps the input columns and, per column, the group
// of each of its rows, and reorders the values into groups once, at the end
// (a stable counting sort by group). Values of 1, 2, 4 or 8 bytes are moved
// straight to their place (scatter); other types are concatenated and taken
// (gather, the slow path, which the tests compare with the fast one).
type collectAcc struct {
	out    types.T
	elem   arrow.DataType // of the values
	tag    byte           // CollectPacked over a packable type: packTag, else 0
	chunks []arrow.Array
	ids    [][]int32 // ids[c][r]: the group of row r of chunks[c]
	rows   int
	held   int64 // bytes of the kept columns and ids
	err    error
}

// collectGather makes every $COLLECT take the slow path (tests compare it
// with the fast one).
var collectGather = false

func (a *collectAcc) update(col arrow.Array, ids []int32, n int) {
	col.Retain()
	a.chunks = append(a.chunks, col)
	// ids is the caller's buffer, reused for the next batch.
	a.ids = append(a.ids, append(make([]int32, 0, len(ids)), ids...))
	a.rows += len(ids)
	// The buffers of col, whole even when col is a slice of them.
	a.held += spill.DataBytes(col.Data()) + int64(len(ids))*4
}

// bytes counts against the memory budget what the accumulator holds and,
// as much again, the array it builds from it at the end.
func (a *collectAcc) bytes() int64 { return 2 * a.held }

func (a *collectAcc) build(mem memory.Allocator, n int) arrow.Array {
	arr, err := a.collect(mem, n)
	if err != nil {
		// build has no error result: the aggregation reports it (finish).
		a.err = err
		return array.MakeArrayOfNull(mem, a.out.Arrow(), n)
	}
	return arr
}

func (a *collectAcc) release() {
	for _, c := range a.chunks {
		c.Release()
	}
	a.chunks, a.ids, a.rows, a.held = nil, nil, 0, 0
}

func (a *collectAcc) collect(mem memory.Allocator, n int) (arrow.Array, error) {
	defer a.release()
	if a.rows > int(^uint32(0)>>1) {
		return nil, fmt.Errorf("aggregate: COLLECT of %d rows is over the limit of 2^31-1", a.rows)
	}
	offsets := make([]int32, n+1)
	for _, ids := range a.ids {
		for _, g := range ids {
			offsets[g+1]++
		}
	}
	for g := 0; g < n; g++ {
		offsets[g+1] += offsets[g]
	}
	elem := a.elem
	var values arrow.Array
	var err error
	switch {
	case len(a.chunks) == 0:
		values = array.MakeArrayOfNull(mem, elem, 0)
	case !collectGather && scatterWidth(elem, a.chunks) > 0:
		values = a.scatter(mem, elem, offsets[:n])
	default:
		values, err = a.gather(mem, offsets[:n])
	}
	if err != nil {
		return nil, err
	}
	defer values.Release()
	if a.tag != 0 {
		return pack(mem, a.tag, values, offsets)
	}
	offBuf := memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offsets))
	data := array.NewData(a.out.Arrow(), n, []*memory.Buffer{nil, offBuf}, []arrow.ArrayData{values.Data()}, 0, 0)
	defer data.Release()
	return array.NewListData(data), nil
}

// scatterWidth is the byte width of the values of elem when every chunk
// holds them as plain fixed-width values of 1, 2, 4 or 8 bytes, else 0.
func scatterWidth(elem arrow.DataType, chunks []arrow.Array) int {
	fw, ok := elem.(arrow.FixedWidthDataType)
	if !ok || elem.ID() == arrow.BOOL || elem.ID() == arrow.DICTIONARY {
		return 0
	}
	w := fw.BitWidth() / 8
	if fw.BitWidth()%8 != 0 || (w != 1 && w != 2 && w != 4 && w != 8) {
		return 0
	}
	for _, c := range chunks {
		if !arrow.TypeEqual(c.DataType(), elem) || len(c.Data().Buffers()) != 2 || len(c.Data().Children()) != 0 {
			return 0
		}
	}
	return w
}

// scatter moves every value to its place: group g's values start at
// starts[g], in input order.
func (a *collectAcc) scatter(mem memory.Allocator, elem arrow.DataType, starts []int32) arrow.Array {
	w := scatterWidth(elem, a.chunks)
	next := append([]int32(nil), starts...)
	valBuf := memory.NewResizableBuffer(mem)
	valBuf.Resize(a.rows * w)
	var valid *memory.Buffer
	nulls := 0
	for _, c := range a.chunks {
		nulls += c.NullN()
	}
	if nulls > 0 {
		valid = memory.NewResizableBuffer(mem)
		valid.Resize(int(bitutil.BytesForBits(int64(a.rows))))
		clear(valid.Bytes())
	}
	dst := valBuf.Bytes()
	for ci, c := range a.chunks {
		ids := a.ids[ci]
		d := c.Data()
		src := d.Buffers()[1].Bytes()[d.Offset()*w:]
		if c.NullN() > 0 || valid != nil {
			// Where the rows go, first: the validity bits follow them.
			vb := valid.Bytes()
			for r, g := range ids {
				if c.IsValid(r) {
					bitutil.SetBit(vb, int(next[g]))
				}
				next[g]++
			}
			// Back to the starts of this chunk's rows for the values.
			for r := len(ids) - 1; r >= 0; r-- {
				next[ids[r]]--
			}
		}
		switch w {
		case 1:
			scatterInto(dst, src, ids, next)
		case 2:
			scatterInto(castSlice[uint16](dst), castSlice[uint16](src), ids, next)
		case 4:
			scatterInto(castSlice[uint32](dst), castSlice[uint32](src), ids, next)
		case 8:
			scatterInto(castSlice[uint64](dst), castSlice[uint64](src), ids, next)
		}
		// Release each column once its values are placed.
		c.Release()
		a.chunks[ci] = nil
		a.ids[ci] = nil
	}
	a.chunks = nil
	bufs := []*memory.Buffer{valid, valBuf}
	data := array.NewData(elem, a.rows, bufs, nil, nulls, 0)
	valBuf.Release()
	if valid != nil {
		valid.Release()
	}
	defer data.Release()
	return array.MakeFromData(data)
}

func scatterInto[T any](dst, src []T, ids, next []int32) {
	src = src[:len(ids)]
	for r, g := range ids {
		dst[next[g]] = src[r]
		next[g]++
	}
}

func castSlice[T any](b []byte) []T {
	var z T
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/int(unsafe.Sizeof(z)))
}

// gather concatenates the kept columns and takes their rows in group order.
func (a *collectAcc) gather(mem memory.Allocator, starts []int32) (arrow.Array, error) {
	next := append([]int32(nil), starts...)
	idx := make([]int32, a.rows)
	row := int32(0)
	for _, ids := range a.ids {
		for _, g := range ids {
			idx[next[g]] = row
			next[g]++
			row++
		}
	}
	all, err := array.Concatenate(a.chunks, mem)
	if err != nil {
		return nil, fmt.Errorf("aggregate: COLLECT: %w", err)
	}
	defer all.Release()
	ib := array.NewInt32Builder(mem)
	ib.AppendValues(idx, nil)
	idxArr := ib.NewArray()
	ib.Release()
	defer idxArr.Release()
	values, err := compute.TakeArray(context.Background(), all, idxArr)
	if err != nil {
		return nil, fmt.Errorf("aggregate: COLLECT: %w", err)
	}
	return values, nil
}

// packTag is the tag of the packed values of t (see pack): the format
// character of Python's struct module for its C type, or 0 when t's values
// are not packed.
func packTag(t types.T) byte {
	switch t.Kind {
	case types.TinyInt:
		return 'b'
	case types.SmallInt:
		return 'h'
	case types.Int:
		return 'i'
	case types.BigInt:
		return 'q'
	case types.Float:
		return 'f'
	case types.Double:
		return 'd'
	}
	return 0
}

// pack makes the BYTES value of each group of CollectPacked: values holds
// the groups' values back to back, group g's from offsets[g] to
// offsets[g+1]. A group's value is its tag (packTag) and its n values,
// little-endian; when some of them are NULL, the tag is upper case and n
// bytes follow the values, 1 for a value and 0 for a NULL (whose value
// bytes are 0). The worker reads it (weir._aggregate._unpack) without the
// Python list per group of an ARRAY.
func pack(mem memory.Allocator, tag byte, values arrow.Array, offsets []int32) (arrow.Array, error) {
	n := len(offsets) - 1
	w := values.DataType().(arrow.FixedWidthDataType).BitWidth() / 8
	hasNulls := values.NullN() > 0
	total := int64(n) + int64(values.Len())*int64(w)
	if hasNulls {
		total += int64(values.Len())
	}
	if total > math.MaxInt32 {
		return nil, fmt.Errorf("aggregate: the collected values of a Python aggregate function, %d bytes, are over "+
			"the limit of 2 GiB in one aggregation; give it more memory partitions (fewer rows in memory at once) "+
			"or fewer rows per group", total)
	}
	var src []byte
	if d := values.Data(); values.Len() > 0 {
		src = d.Buffers()[1].Bytes()[d.Offset()*w : (d.Offset()+values.Len())*w]
	}
	offBuf := memory.NewResizableBuffer(mem)
	offBuf.Resize((n + 1) * 4)
	offs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())
	dataBuf := memory.NewResizableBuffer(mem)
	dataBuf.Resize(int(total))
	dst := dataBuf.Bytes()
	pos := 0
	for g := 0; g < n; g++ {
		offs[g] = int32(pos)
		s, e := int(offsets[g]), int(offsets[g+1])
		nulls := hasNulls && groupHasNull(values, s, e)
		dst[pos] = tag
		if nulls {
			dst[pos] = tag - 'a' + 'A'
		}
		pos++
		vals := dst[pos : pos+(e-s)*w]
		pos += copy(vals, src[s*w:e*w])
		if nulls {
			for r := s; r < e; r++ {
				if values.IsValid(r) {
					dst[pos] = 1
				} else {
					// The value bytes of a NULL are not defined in Arrow.
					clear(vals[(r-s)*w : (r-s+1)*w])
					dst[pos] = 0
				}
				pos++
			}
		}
	}
	offs[n] = int32(pos)
	dataBuf.Resize(pos)
	if !littleEndian {
		swapValues(dst, offs, w)
	}
	data := array.NewData(arrow.BinaryTypes.Binary, n, []*memory.Buffer{nil, offBuf, dataBuf}, nil, 0, 0)
	offBuf.Release()
	dataBuf.Release()
	defer data.Release()
	return array.NewBinaryData(data), nil
}

func groupHasNull(values arrow.Array, s, e int) bool {
	for r := s; r < e; r++ {
		if values.IsNull(r) {
			return true
		}
	}
	return false
}

// littleEndian: Arrow's buffers hold values in the machine's byte order,
// packed values are little-endian.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// swapValues reverses the bytes of each w-byte value of the packed groups
// in dst (on a big-endian machine).
func swapValues(dst []byte, offs []int32, w int) {
	for g := 0; g+1 < len(offs); g++ {
		b := dst[offs[g]:offs[g+1]]
		cnt := (len(b) - 1) / w
		if b[0] < 'a' {
			cnt = (len(b) - 1) / (w + 1)
		}
		for i := 0; i < cnt; i++ {
			v := b[1+i*w : 1+(i+1)*w]
			for l, r := 0, w-1; l < r; l, r = l+1, r-1 {
				v[l], v[r] = v[r], v[l]
			}
		}
	}
}
