package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// Nested values use the Go representation of coder.EncodeValues: ARRAY is a
// []any of elements, MAP a [][2]any of key/value pairs, ROW a []any of its
// fields; scalars inside are Literal-style values, nil is NULL.

// buildNested builds an array of a nested type from such values with
// arrow-go's generic builders (constants are few, so speed matters little).
func buildNested(mem memory.Allocator, t types.T, vals []any) (arrow.Array, error) {
	b := array.NewBuilder(mem, t.Arrow())
	defer b.Release()
	for _, v := range vals {
		if err := appendNested(b, t, v); err != nil {
			return nil, err
		}
	}
	return b.NewArray(), nil
}

func appendNested(b array.Builder, t types.T, v any) error {
	if v == nil {
		if !t.Nullable {
			return fmt.Errorf("exec: NULL for %s", t)
		}
		b.AppendNull()
		return nil
	}
	switch t.Kind {
	case types.Array:
		xs, ok := v.([]any)
		if !ok {
			return fmt.Errorf("exec: a value of %s must be a Go []any, not %T", t, v)
		}
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		for _, x := range xs {
			if err := appendNested(lb.ValueBuilder(), *t.Elem, x); err != nil {
				return err
			}
		}
	case types.Map:
		kvs, ok := v.([][2]any)
		if !ok {
			return fmt.Errorf("exec: a value of %s must be a Go [][2]any, not %T", t, v)
		}
		mb := b.(*array.MapBuilder)
		mb.Append(true)
		for _, kv := range kvs {
			if kv[0] == nil {
				return fmt.Errorf("exec: NULL map key in %s", t)
			}
			if err := appendNested(mb.KeyBuilder(), *t.Key, kv[0]); err != nil {
				return err
			}
			if err := appendNested(mb.ItemBuilder(), *t.Value, kv[1]); err != nil {
				return err
			}
		}
	case types.Row:
		fs, ok := v.([]any)
		if !ok || len(fs) != len(t.Fields) {
			return fmt.Errorf("exec: a value of %s must be a Go []any of %d fields, not %T", t, len(t.Fields), v)
		}
		sb := b.(*array.StructBuilder)
		sb.Append(true)
		for i, f := range t.Fields {
			if err := appendNested(sb.FieldBuilder(i), f.Type, fs[i]); err != nil {
				return err
			}
		}
	default:
		if err := checkValue(v, t); err != nil {
			return fmt.Errorf("exec: %w", err)
		}
		return appendScalar(b, v)
	}
	return nil
}

func appendScalar(b array.Builder, v any) error {
	switch b := b.(type) {
	case *array.Int8Builder:
		b.Append(v.(int8))
	case *array.Int16Builder:
		b.Append(v.(int16))
	case *array.Int32Builder:
		b.Append(v.(int32))
	case *array.Int64Builder:
		b.Append(v.(int64))
	case *array.Float32Builder:
		b.Append(v.(float32))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.Decimal128Builder:
		b.Append(v.(decimal128.Num))
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.BinaryBuilder:
		b.Append(v.([]byte))
	case *array.Date32Builder:
		b.Append(v.(arrow.Date32))
	case *array.Time32Builder:
		b.Append(v.(arrow.Time32))
	case *array.TimestampBuilder:
		b.Append(v.(arrow.Timestamp))
	default:
		return fmt.Errorf("exec: cannot append a Go %T to %T", v, b)
	}
	return nil
}
