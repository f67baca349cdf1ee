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
	parts  *collectParts // between partition and the last buildPart
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
	a.chunks, a.ids, a.rows, a.held, a.parts = nil, nil, 0, 0, nil
}

func (a *collectAcc) collect(mem memory.Allocator, n int) (arrow.Array, error) {
	defer a.release()
	offsets, err := a.offsetsOf(n)
	if err != nil {
		return nil, err
	}
	elem := a.elem
	var values arrow.Array
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
		scatterBytes(w, dst, src, ids, next)
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

// scatterBytes scatters values w bytes wide (1, 2, 4 or 8) as scatterInto.
func scatterBytes(w int, dst, src []byte, ids, next []int32) {
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
		return nil, packLimitErr(total)
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

func packLimitErr(total int64) error {
	return fmt.Errorf("aggregate: the collected values of a Python aggregate function, %d bytes in one batch of "+
		"groups, are over the limit of 2 GiB; a group that large cannot be passed to Python at once: give it fewer "+
		"rows (e.g. a finer GROUP BY)", total)
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

// collectPartRows is about how many values of a $COLLECT a part of the
// output holds when it is built a part at a time (see emitParts): the part's
// values fit in the CPU's cache while they are moved to their places, and
// the first parts go downstream (to a Python stage) while the next are
// built.
var collectPartRows int32 = 1 << 16 // a variable for tests

// lazy reports whether a builds its result a part at a time (partition,
// buildPart): fixed-width values of the fast path.
func (a *collectAcc) lazy() bool {
	return !collectGather && len(a.chunks) > 0 && scatterWidth(a.elem, a.chunks) > 0
}

// offsetsOf returns where each of the n groups' values start, and their end
// (n+1 offsets), in group order.
func (a *collectAcc) offsetsOf(n int) ([]int32, error) {
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
	return offsets, nil
}

// collectParts holds the values of a $COLLECT moved into parts of the
// groups (partition), each built into its groups' arrays when its turn
// comes (buildPart).
type collectParts struct {
	w       int
	offsets []int32  // of all groups, from offsetsOf
	vals    [][]byte // per part, its values in input order
	gids    [][]int32
	valid   [][]byte // per part, 1 for a value, 0 for NULL; nil without NULLs
}

// partition moves a's values into the parts whose first groups are bounds
// (the last bound is the number of groups), releasing each input column
// once moved: one pass in input order, whose writes go to few places at a
// time, instead of one write per value anywhere in the result.
func (a *collectAcc) partition(offsets []int32, bounds []int, partOf []int32) {
	w := scatterWidth(a.elem, a.chunks)
	np := len(bounds) - 1
	p := &collectParts{w: w, offsets: offsets, vals: make([][]byte, np), gids: make([][]int32, np)}
	nulls := 0
	for _, c := range a.chunks {
		nulls += c.NullN()
	}
	if nulls > 0 {
		p.valid = make([][]byte, np)
	}
	for i := range np {
		rows := offsets[bounds[i+1]] - offsets[bounds[i]]
		p.vals[i] = make([]byte, int(rows)*w)
		p.gids[i] = make([]int32, rows)
		if nulls > 0 {
			p.valid[i] = make([]byte, rows)
		}
	}
	pos := make([]int32, np)
	for ci, c := range a.chunks {
		ids := a.ids[ci]
		d := c.Data()
		src := d.Buffers()[1].Bytes()[d.Offset()*w:]
		if nulls > 0 {
			// The validity first, from the same positions as the values.
			for r, g := range ids {
				pt := partOf[g]
				if c.IsValid(r) {
					p.valid[pt][pos[pt]] = 1
				}
				pos[pt]++
			}
			for r := len(ids) - 1; r >= 0; r-- {
				pos[partOf[ids[r]]]--
			}
		}
		switch w {
		case 1:
			partitionInto(p.vals, src, ids, partOf, bounds, p.gids, pos)
		case 2:
			partitionInto(castParts[uint16](p.vals), castSlice[uint16](src), ids, partOf, bounds, p.gids, pos)
		case 4:
			partitionInto(castParts[uint32](p.vals), castSlice[uint32](src), ids, partOf, bounds, p.gids, pos)
		case 8:
			partitionInto(castParts[uint64](p.vals), castSlice[uint64](src), ids, partOf, bounds, p.gids, pos)
		}
		c.Release()
		a.chunks[ci] = nil
		a.ids[ci] = nil
	}
	a.chunks, a.ids = nil, nil
	a.parts = p
}

// partitionInto moves each value to the end of its group's part so far,
// with its group's number within the part.
func partitionInto[T any](dst [][]T, src []T, ids, partOf []int32, bounds []int, gids [][]int32, pos []int32) {
	src = src[:len(ids)]
	for r, g := range ids {
		pt := partOf[g]
		p := pos[pt]
		dst[pt][p] = src[r]
		gids[pt][p] = g - int32(bounds[pt])
		pos[pt] = p + 1
	}
}

func castParts[T any](parts [][]byte) [][]T {
	out := make([][]T, len(parts))
	for i, b := range parts {
		out[i] = castSlice[T](b)
	}
	return out
}

// buildPart returns the result of the groups lo to hi, part i of partition,
// and frees the part's values.
func (a *collectAcc) buildPart(mem memory.Allocator, i, lo, hi int) (arrow.Array, error) {
	p := a.parts
	base := p.offsets[lo]
	offsets := make([]int32, hi-lo+1)
	for g := lo; g <= hi; g++ {
		offsets[g-lo] = p.offsets[g] - base
	}
	rows := int(offsets[hi-lo])
	w := p.w
	gids := p.gids[i]
	nulls := 0
	if p.valid != nil {
		for _, v := range p.valid[i] {
			nulls += int(1 - v)
		}
	}
	if nulls == 0 && a.tag != 0 {
		arr, err := packPart(mem, a.tag, w, p.vals[i], gids, offsets)
		p.vals[i], p.gids[i] = nil, nil
		return arr, err
	}
	next := append([]int32(nil), offsets[:hi-lo]...)
	valBuf := memory.NewResizableBuffer(mem)
	valBuf.Resize(rows * w)
	dst := valBuf.Bytes()
	var valid *memory.Buffer
	if nulls > 0 {
		valid = memory.NewResizableBuffer(mem)
		valid.Resize(int(bitutil.BytesForBits(int64(rows))))
		clear(valid.Bytes())
		vb := valid.Bytes()
		for r, g := range gids {
			if p.valid[i][r] == 1 {
				bitutil.SetBit(vb, int(next[g]))
			}
			next[g]++
		}
		copy(next, offsets[:hi-lo])
	}
	src := p.vals[i]
	scatterBytes(w, dst, src, gids, next)
	p.vals[i], p.gids[i] = nil, nil
	if p.valid != nil {
		p.valid[i] = nil
	}
	data := array.NewData(a.elem, rows, []*memory.Buffer{valid, valBuf}, nil, nulls, 0)
	valBuf.Release()
	if valid != nil {
		valid.Release()
	}
	values := array.MakeFromData(data)
	data.Release()
	defer values.Release()
	if a.tag != 0 {
		return pack(mem, a.tag, values, offsets)
	}
	offBuf := memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offsets))
	ld := array.NewData(a.out.Arrow(), hi-lo, []*memory.Buffer{nil, offBuf}, []arrow.ArrayData{values.Data()}, 0, 0)
	defer ld.Release()
	return array.NewListData(ld), nil
}

// packPart is pack for a part without NULLs, straight from its values in
// input order (vals, w bytes each, of the groups gids) to their places in
// the packed groups: no array of the values in group order first.
func packPart(mem memory.Allocator, tag byte, w int, vals []byte, gids, offsets []int32) (arrow.Array, error) {
	n := len(offsets) - 1
	if total := int64(n) + int64(offsets[n])*int64(w); total > math.MaxInt32 {
		return nil, packLimitErr(total)
	}
	offBuf := memory.NewResizableBuffer(mem)
	offBuf.Resize((n + 1) * 4)
	offs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())
	dataBuf := memory.NewResizableBuffer(mem)
	dataBuf.Resize(n + int(offsets[n])*w)
	dst := dataBuf.Bytes()
	// next[g]: where group g's next value goes, in bytes.
	next := make([]int32, n)
	for g := range n {
		offs[g] = int32(g) + offsets[g]*int32(w)
		dst[offs[g]] = tag
		next[g] = offs[g] + 1
	}
	offs[n] = int32(len(dst))
	switch w {
	case 1:
		for r, g := range gids {
			dst[next[g]] = vals[r]
			next[g]++
		}
	case 2:
		src := castSlice[uint16](vals)[:len(gids)]
		for r, g := range gids {
			binary.LittleEndian.PutUint16(dst[next[g]:], src[r])
			next[g] += 2
		}
	case 4:
		src := castSlice[uint32](vals)[:len(gids)]
		for r, g := range gids {
			binary.LittleEndian.PutUint32(dst[next[g]:], src[r])
			next[g] += 4
		}
	case 8:
		src := castSlice[uint64](vals)[:len(gids)]
		for r, g := range gids {
			binary.LittleEndian.PutUint64(dst[next[g]:], src[r])
			next[g] += 8
		}
	}
	data := array.NewData(arrow.BinaryTypes.Binary, n, []*memory.Buffer{nil, offBuf, dataBuf}, nil, 0, 0)
	offBuf.Release()
	dataBuf.Release()
	defer data.Release()
	return array.NewBinaryData(data), nil
}
