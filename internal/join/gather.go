package join

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// takeFast gathers the rows idx (none negative) of a fixed-width column of
// 4 or 8 bytes a value without NULLs, the usual join key and payload, with
// one typed loop; ok false leaves the column to compute.Take, its slow
// twin (gather_test.go checks one against the other).
func takeFast(mem memory.Allocator, col arrow.Array, idx []int32) (arrow.Array, bool) {
	if col.NullN() > 0 {
		return nil, false
	}
	fw, ok := col.DataType().(arrow.FixedWidthDataType)
	if !ok || (fw.BitWidth() != 64 && fw.BitWidth() != 32) {
		return nil, false
	}
	width := fw.BitWidth() / 8
	data := col.Data()
	src := data.Buffers()[1].Bytes()[data.Offset()*width:]
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(len(idx) * width)
	dst := buf.Bytes()
	if width == 8 {
		gatherN(unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(src))), len(src)/8),
			unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(dst))), len(idx)), idx)
	} else {
		gatherN(unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(src))), len(src)/4),
			unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(dst))), len(idx)), idx)
	}
	d := array.NewData(col.DataType(), len(idx), []*memory.Buffer{nil, buf}, nil, 0, 0)
	buf.Release()
	defer d.Release()
	return array.MakeFromData(d), true
}

func gatherN[T uint32 | uint64](src, dst []T, idx []int32) {
	for i, j := range idx {
		dst[i] = src[j]
	}
}

// hasMissing reports whether idx has a -1 (a NULL row of an outer join).
func hasMissing(idx []int32) bool {
	for _, v := range idx {
		if v < 0 {
			return true
		}
	}
	return false
}
