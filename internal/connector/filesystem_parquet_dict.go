package connector

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// Dictionary encoding, per column and file. arrow-go dictionary-encodes
// every column until the dictionary reaches 1 MiB; a column of many
// distinct values (keys, measurements) pays a hash lookup per value for a
// dictionary that then goes unused, or a larger file. parquet-mr (Flink's
// writer) tries the dictionary on a column's first page and keeps it only
// when dictionary and indices are smaller than the plain values. A part
// file's encoder does the same on its first parquetDictSampleRows rows:
// it holds them, counts each column's distinct values and turns the
// dictionary off for a column where it would not make the sample smaller.
// The file's column chunks are then PLAIN, which every reader (Flink,
// DuckDB) reads.

// parquetDictSampleRows is how many rows an encoder holds before it
// decides (parquet-mr's first page of 1 MiB holds 131,072 DOUBLE values).
const parquetDictSampleRows = 1 << 16

// parquetDictSampleBytes decides early when rows are wide.
const parquetDictSampleBytes = 16 << 20

// dictionaryPays reports whether dictionary encoding (the distinct values
// once, then a bit-packed index per value) makes the values of column col
// of sample smaller than PLAIN encoding. t is the column's type.
func dictionaryPays(sample []arrow.RecordBatch, col int, t types.T) bool {
	switch t.Kind {
	case types.Decimal:
		return false // Flink's reader fails on dictionary-encoded decimals.
	case types.Boolean:
		return false // arrow-go never dictionary-encodes BOOLEAN
	}
	arrs := make([]arrow.Array, len(sample))
	for i, b := range sample {
		arrs[i] = b.Column(col)
	}
	var n, d, plain, dict int64
	if _, ok := arrs[0].(interface{ ValueOffsets() []int32 }); ok {
		n, d, plain, dict = distinctBinary(arrs)
	} else {
		width := int64(parquetPhysicalWidth(t))
		var ok bool
		if n, d, ok = distinctFixed(arrs); !ok {
			return true // a type this does not count: arrow-go's default
		}
		plain, dict = n*width, d*width
	}
	if n == 0 {
		return true
	}
	index := n * int64(bits.Len64(uint64(max(d-1, 1)))) / 8
	return dict+index < plain
}

// parquetPhysicalWidth is the size of a value of t in a Parquet file
// (filesystem_parquet.go's mapping).
func parquetPhysicalWidth(t types.T) int {
	switch t.Kind {
	case types.TinyInt, types.SmallInt, types.Int, types.Float, types.Date, types.Time:
		return 4
	case types.Timestamp, types.TimestampLTZ:
		return 12 // INT96
	default:
		return 8
	}
}

// distinctFixed counts the non-null values (n) of fixed-width arrays of at
// most 8 bytes a value and how many of them differ (d), by their bits.
func distinctFixed(arrs []arrow.Array) (n, d int64, ok bool) {
	fw, ok := arrs[0].DataType().(arrow.FixedWidthDataType)
	if !ok || fw.BitWidth()%8 != 0 || fw.BitWidth() > 64 || fw.BitWidth() == 0 {
		return 0, 0, false
	}
	width := fw.BitWidth() / 8
	seen := make(map[uint64]struct{})
	var key [8]byte
	for _, a := range arrs {
		data := a.Data()
		if len(data.Buffers()) < 2 || data.Buffers()[1] == nil {
			continue
		}
		buf := data.Buffers()[1].Bytes()[data.Offset()*width:]
		for i := 0; i < a.Len(); i++ {
			if a.IsNull(i) {
				continue
			}
			n++
			copy(key[:], buf[i*width:(i+1)*width])
			seen[binary.LittleEndian.Uint64(key[:])] = struct{}{}
		}
	}
	return n, int64(len(seen)), true
}

// distinctBinary counts the non-null values (n) of string or binary arrays
// and how many differ (d), and the PLAIN size of all and of the distinct
// ones (a 4-byte length and the bytes each).
func distinctBinary(arrs []arrow.Array) (n, d, plain, dict int64) {
	seen := make(map[uint64]struct{}) // by a 64-bit hash: a collision only makes d smaller
	seed := maphash.MakeSeed()
	for _, a := range arrs {
		o, ok := a.(interface{ ValueOffsets() []int32 })
		if !ok {
			continue
		}
		var data []byte
		if b := a.Data().Buffers()[2]; b != nil {
			data = b.Bytes()
		}
		offs := o.ValueOffsets()
		for i := 0; i < a.Len(); i++ {
			if a.IsNull(i) {
				continue
			}
			v := data[offs[i]:offs[i+1]]
			n++
			plain += 4 + int64(len(v))
			h := maphash.Bytes(seed, v)
			if _, ok := seen[h]; !ok {
				seen[h] = struct{}{}
				dict += 4 + int64(len(v))
			}
		}
	}
	return n, int64(len(seen)), plain, dict
}

// batchBytes is the size of a batch's buffers (top level).
func batchBytes(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		for _, b := range c.Data().Buffers() {
			if b != nil {
				n += int64(b.Len())
			}
		}
	}
	return n
}

// copyBatch copies rec into memory.DefaultAllocator's buffers.
func copyBatch(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for j, c := range rec.Columns() {
		a, err := array.Concatenate([]arrow.Array{c}, memory.DefaultAllocator)
		if err != nil {
			return nil, fmt.Errorf("parquet writer: %w", err)
		}
		cols[j] = a
	}
	return array.NewRecordBatch(rec.Schema(), cols, rec.NumRows()), nil
}
