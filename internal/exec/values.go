package exec

import (
	"fmt"
	"reflect"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// This file holds the generic, value-at-a-time representation of values: the
// Go types of expr.Literal.Value (int8, int16, int32, int64, bool, float32,
// float64, decimal128.Num, string, []byte, arrow.Date32, arrow.Time32,
// arrow.Timestamp; nil is NULL).

// isScalarKind reports whether values of kind k have a Literal-style Go
// representation.
func isScalarKind(k types.Kind) bool {
	switch k {
	case types.Array, types.Map, types.Row, types.Invalid:
		return false
	}
	return true
}

// goType returns the Go type of the values of t, or nil for NULL and the
// nested types.
func goType(t types.T) reflect.Type {
	switch t.Kind {
	case types.TinyInt:
		return reflect.TypeFor[int8]()
	case types.SmallInt:
		return reflect.TypeFor[int16]()
	case types.Int, types.IntervalYearMonth:
		return reflect.TypeFor[int32]()
	case types.BigInt, types.IntervalDayTime:
		return reflect.TypeFor[int64]()
	case types.Boolean:
		return reflect.TypeFor[bool]()
	case types.Float:
		return reflect.TypeFor[float32]()
	case types.Double:
		return reflect.TypeFor[float64]()
	case types.Decimal:
		return reflect.TypeFor[decimal128.Num]()
	case types.Char, types.Varchar:
		return reflect.TypeFor[string]()
	case types.Binary, types.Varbinary:
		return reflect.TypeFor[[]byte]()
	case types.Date:
		return reflect.TypeFor[arrow.Date32]()
	case types.Time:
		return reflect.TypeFor[arrow.Time32]()
	case types.Timestamp, types.TimestampLTZ:
		return reflect.TypeFor[arrow.Timestamp]()
	}
	return nil
}

// checkValue reports an error when v is not a valid Go value of type t.
func checkValue(v any, t types.T) error {
	if v == nil {
		return nil
	}
	want := goType(t)
	if want == nil {
		return fmt.Errorf("a value of %s cannot be given as a Go %T", t, v)
	}
	if reflect.TypeOf(v) != want {
		return fmt.Errorf("a value of %s must be a Go %s, not %T (%v)", t, want, v, v)
	}
	return nil
}

// valueAt returns row i of a as a Literal-style Go value, nil for NULL. It
// panics on nested types; callers check the type first.
func valueAt(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Int8:
		return a.Value(i)
	case *array.Int16:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Float32:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Decimal128:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.Binary:
		return a.Value(i)
	case *array.Date32:
		return a.Value(i)
	case *array.Time32:
		return a.Value(i)
	case *array.Timestamp:
		return a.Value(i)
	case *array.Null:
		return nil
	}
	panic(fmt.Sprintf("exec: no scalar value for arrays of %s", a.DataType()))
}

// appender builds an array of a scalar type value by value.
type appender struct {
	t types.T
	b array.Builder
}

func newAppender(mem memory.Allocator, t types.T, capacity int) *appender {
	b := array.NewBuilder(mem, t.Arrow())
	b.Reserve(capacity)
	return &appender{t: t, b: b}
}

// append appends v, which must be nil or of the Go type of the appender's type.
func (a *appender) append(v any) error {
	if v == nil {
		a.b.AppendNull()
		return nil
	}
	ok := true
	switch b := a.b.(type) {
	case *array.Int8Builder:
		var x int8
		if x, ok = v.(int8); ok {
			b.Append(x)
		}
	case *array.Int16Builder:
		var x int16
		if x, ok = v.(int16); ok {
			b.Append(x)
		}
	case *array.Int32Builder:
		var x int32
		if x, ok = v.(int32); ok {
			b.Append(x)
		}
	case *array.Int64Builder:
		var x int64
		if x, ok = v.(int64); ok {
			b.Append(x)
		}
	case *array.BooleanBuilder:
		var x bool
		if x, ok = v.(bool); ok {
			b.Append(x)
		}
	case *array.Float32Builder:
		var x float32
		if x, ok = v.(float32); ok {
			b.Append(x)
		}
	case *array.Float64Builder:
		var x float64
		if x, ok = v.(float64); ok {
			b.Append(x)
		}
	case *array.Decimal128Builder:
		var x decimal128.Num
		if x, ok = v.(decimal128.Num); ok {
			b.Append(x)
		}
	case *array.StringBuilder:
		var x string
		if x, ok = v.(string); ok {
			b.Append(x)
		}
	case *array.BinaryBuilder:
		var x []byte
		if x, ok = v.([]byte); ok {
			b.Append(x)
		}
	case *array.Date32Builder:
		var x arrow.Date32
		if x, ok = v.(arrow.Date32); ok {
			b.Append(x)
		}
	case *array.Time32Builder:
		var x arrow.Time32
		if x, ok = v.(arrow.Time32); ok {
			b.Append(x)
		}
	case *array.TimestampBuilder:
		var x arrow.Timestamp
		if x, ok = v.(arrow.Timestamp); ok {
			b.Append(x)
		}
	default:
		return fmt.Errorf("exec: cannot build values of %s", a.t)
	}
	if !ok {
		return checkValue(v, a.t)
	}
	return nil
}

func (a *appender) finish() arrow.Array {
	arr := a.b.NewArray()
	a.b.Release()
	return arr
}

func (a *appender) discard() { a.b.Release() }

// BuildArray builds an array of type t from Literal-style Go values (see
// expr.Literal; nil is NULL). Only NULLs can be given for ARRAY, MAP and ROW.
func BuildArray(mem memory.Allocator, t types.T, vals []any) (arrow.Array, error) {
	if t.Kind == types.Array || t.Kind == types.Map || t.Kind == types.Row {
		return buildNested(mem, t, vals)
	}
	if !isScalarKind(t.Kind) || t.Kind == types.Null {
		for _, v := range vals {
			if v != nil {
				return nil, fmt.Errorf("exec: cannot build a value of %s from Go %T", t, v)
			}
		}
		return array.MakeArrayOfNull(mem, t.Arrow(), len(vals)), nil
	}
	ap := newAppender(mem, t, len(vals))
	for _, v := range vals {
		if err := ap.append(v); err != nil {
			ap.discard()
			return nil, err
		}
	}
	return ap.finish(), nil
}

// broadcast returns an array of n copies of the Literal-style value v of type t.
func broadcast(mem memory.Allocator, v any, t types.T, n int) (arrow.Array, error) {
	if v != nil && (t.Kind == types.Array || t.Kind == types.Map || t.Kind == types.Row) {
		vals := make([]any, n)
		for i := range vals {
			vals[i] = v
		}
		return buildNested(mem, t, vals)
	}
	if err := checkValue(v, t); err != nil {
		return nil, err
	}
	dt := t.Arrow()
	if v == nil {
		return array.MakeArrayOfNull(mem, dt, n), nil
	}
	switch x := v.(type) {
	case int8:
		return fill(mem, dt, x, n), nil
	case int16:
		return fill(mem, dt, x, n), nil
	case int32:
		return fill(mem, dt, x, n), nil
	case int64:
		return fill(mem, dt, x, n), nil
	case float32:
		return fill(mem, dt, x, n), nil
	case float64:
		return fill(mem, dt, x, n), nil
	case decimal128.Num:
		return fill(mem, dt, x, n), nil
	case arrow.Date32:
		return fill(mem, dt, x, n), nil
	case arrow.Time32:
		return fill(mem, dt, x, n), nil
	case arrow.Timestamp:
		return fill(mem, dt, x, n), nil
	case bool:
		buf, out := AllocBitmap(mem, n)
		if x {
			bitutil.SetBitsTo(out, 0, int64(n), true)
		}
		return MakeArray(dt, n, []*memory.Buffer{nil, buf}, 0), nil
	case string:
		return fillBytes(mem, dt, []byte(x), n), nil
	case []byte:
		return fillBytes(mem, dt, x, n), nil
	}
	return nil, fmt.Errorf("exec: cannot broadcast a Go %T", v)
}

func fill[T arrow.FixedWidthType](mem memory.Allocator, dt arrow.DataType, v T, n int) arrow.Array {
	buf, out := AllocValues[T](mem, n)
	for i := range out {
		out[i] = v
	}
	return MakeArray(dt, n, []*memory.Buffer{nil, buf}, 0)
}

func fillBytes(mem memory.Allocator, dt arrow.DataType, v []byte, n int) arrow.Array {
	obuf, offs := AllocValues[int32](mem, n+1)
	dbuf := memory.NewResizableBuffer(mem)
	dbuf.Resize(len(v) * n)
	data := dbuf.Bytes()
	for i := 0; i < n; i++ {
		offs[i] = int32(i * len(v))
		copy(data[i*len(v):], v)
	}
	offs[n] = int32(n * len(v))
	return MakeArray(dt, n, []*memory.Buffer{nil, obuf, dbuf}, 0)
}

// ValueAt returns row i of an array as a Literal-style Go value (nil for
// NULL); ARRAY, MAP and ROW values in the Go form of nested.go.
func ValueAt(a arrow.Array, i int) any { return nestedAt(a, i) }
