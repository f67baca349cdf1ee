package aggregate

import (
	"context"
	"fmt"
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
	elem := a.out.Elem.Arrow()
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
