package aggregate

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// groups assigns a dense group id to each distinct key. One integer-like key
// column takes an open-addressing table of int64 (intTable); any other key is encoded column by column
// into bytes (a null flag, then the value) and looked up as a string.
type groups struct {
	n int32 // number of groups
	// ints is the single-integer-key table; nullID the group of the NULL
	// key (-1 until seen).
	ints   *intTable
	nullID int32
	// strs is the single-string-key table (keys copied out of the batch).
	strs map[string]int32
	// bytes is the general table; enc holds each row's encoded key.
	bytes map[string]int32
	enc   [][]byte
	// vals is scratch for the single-integer path.
	vals []int64
	// keyOut keeps each group's key values, appended when a group is new.
	keyOut []array.Builder
}

func newGroups(keyTypes []arrow.DataType, mem memory.Allocator) *groups {
	g := &groups{nullID: -1}
	switch {
	case len(keyTypes) == 1 && intLike(keyTypes[0]):
		g.ints = newIntTable()
	case len(keyTypes) == 1 && (keyTypes[0].ID() == arrow.STRING || keyTypes[0].ID() == arrow.BINARY):
		g.strs = map[string]int32{}
	default:
		g.bytes = map[string]int32{}
	}
	for _, t := range keyTypes {
		g.keyOut = append(g.keyOut, array.NewBuilder(mem, t))
	}
	return g
}

// intLike reports whether values of t fit an int64 exactly and compare equal
// exactly when their int64s do.
func intLike(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.DATE32, arrow.TIME32, arrow.TIMESTAMP, arrow.BOOL:
		return true
	}
	return false
}

// assign fills ids (len = rows of the batch) with the group of each row,
// adding new groups for new keys.
func (g *groups) assign(keys []arrow.Array, ids []int32) error {
	if len(keys) == 0 {
		// One group for everything (aggregation without GROUP BY).
		g.n = 1
		for i := range ids {
			ids[i] = 0
		}
		return nil
	}
	if g.ints != nil {
		return g.assignInts(keys[0], ids)
	}
	if g.strs != nil {
		g.assignStrings(keys[0], ids)
		return nil
	}
	return g.assignBytes(keys, ids)
}

func (g *groups) newGroup(keys []arrow.Array, row int) int32 {
	id := g.n
	g.n++
	if g.keyOut == nil {
		return id // a KeyTable keeps no key values
	}
	for c, k := range keys {
		appendValue(g.keyOut[c], k, row)
	}
	return id
}

// int64Values widens an integer-like key column into a buffer reused
// across batches.
func (g *groups) int64Values(col arrow.Array) ([]int64, error) {
	n := col.Len()
	if cap(g.vals) < n {
		g.vals = make([]int64, n)
	}
	vals := g.vals[:n]
	return vals, toInt64(col, vals)
}

func (g *groups) assignInts(col arrow.Array, ids []int32) error {
	vals, err := g.int64Values(col)
	if err != nil {
		return err
	}
	keys := []arrow.Array{col}
	if col.NullN() == 0 {
		for i, v := range vals {
			id := g.ints.find(v)
			if id < 0 {
				id = g.newGroup(keys, i)
				g.ints.add(v, id)
			}
			ids[i] = id
		}
		return nil
	}
	for i, v := range vals {
		if col.IsNull(i) {
			if g.nullID < 0 {
				g.nullID = g.newGroup(keys, i)
			}
			ids[i] = g.nullID
			continue
		}
		id := g.ints.find(v)
		if id < 0 {
			id = g.newGroup(keys, i)
			g.ints.add(v, id)
		}
		ids[i] = id
	}
	return nil
}

// assignStrings looks each value up as it is in the batch; only a new key
// is copied.
func (g *groups) assignStrings(col arrow.Array, ids []int32) {
	keys := []arrow.Array{col}
	nulls := col.NullN() > 0
	lookup := func(i int, v string) {
		if nulls && col.IsNull(i) {
			if g.nullID < 0 {
				g.nullID = g.newGroup(keys, i)
			}
			ids[i] = g.nullID
			return
		}
		id, ok := g.strs[v]
		if !ok {
			id = g.newGroup(keys, i)
			g.strs[strings.Clone(v)] = id
		}
		ids[i] = id
	}
	eachString(col, lookup)
}

// eachString calls f with each value of a STRING or BINARY column, viewed
// as a string without copying.
func eachString(col arrow.Array, f func(i int, v string)) {
	switch a := col.(type) {
	case *array.String:
		for i := 0; i < a.Len(); i++ {
			f(i, a.Value(i))
		}
	case *array.Binary:
		for i := 0; i < a.Len(); i++ {
			f(i, unsafeString(a.Value(i)))
		}
	}
}

// unsafeString views b as a string without copying, for a map lookup.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// encodeKeys encodes the key of each of n rows as bytes, column by column,
// into buffers reused across batches.
func (g *groups) encodeKeys(keys []arrow.Array, n int) ([][]byte, error) {
	for len(g.enc) < n {
		g.enc = append(g.enc, nil)
	}
	enc := g.enc[:n]
	for i := range enc {
		enc[i] = enc[i][:0]
	}
	for _, k := range keys {
		if err := encodeColumn(k, enc); err != nil {
			return nil, err
		}
	}
	return enc, nil
}

func (g *groups) assignBytes(keys []arrow.Array, ids []int32) error {
	enc, err := g.encodeKeys(keys, len(ids))
	if err != nil {
		return err
	}
	for i, e := range enc {
		id, ok := g.bytes[string(e)]
		if !ok {
			id = g.newGroup(keys, i)
			g.bytes[string(e)] = id
		}
		ids[i] = id
	}
	return nil
}

// toInt64 widens the values of an integer-like column into dst.
func toInt64(col arrow.Array, dst []int64) error {
	switch a := col.(type) {
	case *array.Int8:
		widen(a.Int8Values(), dst)
	case *array.Int16:
		widen(a.Int16Values(), dst)
	case *array.Int32:
		widen(a.Int32Values(), dst)
	case *array.Int64:
		copy(dst, a.Int64Values())
	case *array.Date32:
		widen(a.Date32Values(), dst)
	case *array.Time32:
		widen(a.Time32Values(), dst)
	case *array.Timestamp:
		widen(a.TimestampValues(), dst)
	case *array.Boolean:
		for i := range dst {
			dst[i] = 0
			if a.Value(i) {
				dst[i] = 1
			}
		}
	default:
		return fmt.Errorf("aggregate: %s is not an integer key", col.DataType())
	}
	return nil
}

func widen[T int8 | int16 | int32 | int64 | arrow.Date32 | arrow.Time32 | arrow.Timestamp](src []T, dst []int64) {
	for i, v := range src {
		dst[i] = int64(v)
	}
}

// encodeColumn appends the encoding of each row of col to enc[row]: 0 for a
// NULL, else 1 and the value (fixed width, or a length and the bytes), so
// that two rows' encodings are equal exactly when their keys are.
func encodeColumn(col arrow.Array, enc [][]byte) error {
	nulls := col.NullN() > 0
	put := func(i int, v uint64) {
		if nulls && col.IsNull(i) {
			enc[i] = append(enc[i], 0)
			return
		}
		enc[i] = binary.LittleEndian.AppendUint64(append(enc[i], 1), v)
	}
	switch a := col.(type) {
	case *array.String:
		for i := range enc {
			if nulls && a.IsNull(i) {
				enc[i] = append(enc[i], 0)
				continue
			}
			s := a.Value(i)
			enc[i] = append(binary.AppendUvarint(append(enc[i], 1), uint64(len(s))), s...)
		}
	case *array.Binary:
		for i := range enc {
			if nulls && a.IsNull(i) {
				enc[i] = append(enc[i], 0)
				continue
			}
			s := a.Value(i)
			enc[i] = append(binary.AppendUvarint(append(enc[i], 1), uint64(len(s))), s...)
		}
	case *array.Float32:
		for i, v := range a.Float32Values() {
			put(i, uint64(math.Float32bits(normFloat32(v))))
		}
	case *array.Float64:
		for i, v := range a.Float64Values() {
			put(i, math.Float64bits(normFloat64(v)))
		}
	case *array.Decimal128:
		for i, v := range a.Values() {
			put(i, v.LowBits())
			if !nulls || !a.IsNull(i) {
				enc[i] = binary.LittleEndian.AppendUint64(enc[i], uint64(v.HighBits()))
			}
		}
	default:
		if !intLike(col.DataType()) {
			return fmt.Errorf("aggregate: GROUP BY on %s is not supported yet", col.DataType())
		}
		vals := make([]int64, col.Len())
		if err := toInt64(col, vals); err != nil {
			return err
		}
		for i, v := range vals {
			put(i, uint64(v))
		}
	}
	return nil
}

// normFloat64 maps every NaN to one NaN, so that NaNs group together.
func normFloat64(v float64) float64 {
	if v != v {
		return math.NaN()
	}
	return v
}

func normFloat32(v float32) float32 {
	if v != v {
		return float32(math.NaN())
	}
	return v
}

// appendValue appends row i of a to b (same type); it runs once per new group
// or output row, not per input row.
func appendValue(b array.Builder, a arrow.Array, i int) {
	if a.IsNull(i) {
		b.AppendNull()
		return
	}
	switch a := a.(type) {
	case *array.Int8:
		b.(*array.Int8Builder).Append(a.Value(i))
	case *array.Int16:
		b.(*array.Int16Builder).Append(a.Value(i))
	case *array.Int32:
		b.(*array.Int32Builder).Append(a.Value(i))
	case *array.Int64:
		b.(*array.Int64Builder).Append(a.Value(i))
	case *array.Float32:
		b.(*array.Float32Builder).Append(a.Value(i))
	case *array.Float64:
		b.(*array.Float64Builder).Append(a.Value(i))
	case *array.Boolean:
		b.(*array.BooleanBuilder).Append(a.Value(i))
	case *array.String:
		b.(*array.StringBuilder).Append(a.Value(i))
	case *array.Binary:
		b.(*array.BinaryBuilder).Append(a.Value(i))
	case *array.Decimal128:
		b.(*array.Decimal128Builder).Append(a.Value(i))
	case *array.Date32:
		b.(*array.Date32Builder).Append(a.Value(i))
	case *array.Time32:
		b.(*array.Time32Builder).Append(a.Value(i))
	case *array.Timestamp:
		b.(*array.TimestampBuilder).Append(a.Value(i))
	default:
		panic(fmt.Sprintf("aggregate: no key builder for %s", a.DataType()))
	}
}
