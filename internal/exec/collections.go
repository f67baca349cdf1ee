package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// Collection functions over ARRAY and MAP values, and the value
// constructors ARRAY[...], MAP[...] and ROW(...) of computed elements.
// They read nested values in the Go form of nested.go (row by row: the
// values are small and the functions rare in hot loops) and build their
// results with arrow-go's builders.
//
//   - ITEM(a, i) is a[i]: the i-th element (from 1) of an array, NULL past
//     the end; ITEM(m, k) is m[k], the value of key k, NULL when absent.
//   - CARDINALITY(x): the number of elements (entries).
//   - ELEMENT(a): the one element of a, NULL for an empty array; more
//     elements fail.
//   - ARRAY_CONTAINS(a, x): whether a holds x, NULL equal to NULL.

func init() {
	register("ITEM", 2, 2, itemKernel)
	register("CARDINALITY", 1, 1, cardinalityKernel)
	register("ELEMENT", 1, 1, elementKernel)
	register("ARRAY_CONTAINS", 2, 2, arrayContainsKernel)
	register("ARRAY", 1, -1, constructorKernel)
	register("MAP", 2, -1, constructorKernel)
	register("ROW", 1, -1, constructorKernel)
}

// nestedAt returns row i of a in the Go form of nested values (scalars as
// Literal-style values), nil for NULL.
func nestedAt(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Map:
		start, end := a.ValueOffsets(i)
		keys, items := a.Keys(), a.Items()
		out := make([][2]any, 0, end-start)
		for j := int(start); j < int(end); j++ {
			out = append(out, [2]any{nestedAt(keys, j), nestedAt(items, j)})
		}
		return out
	case *array.List:
		start, end := a.ValueOffsets(i)
		out := make([]any, 0, end-start)
		for j := int(start); j < int(end); j++ {
			out = append(out, nestedAt(a.ListValues(), j))
		}
		return out
	case *array.Struct:
		out := make([]any, a.NumField())
		for f := range out {
			out[f] = nestedAt(a.Field(f), i)
		}
		return out
	}
	return valueAt(a, i)
}

// nestedValue is row i of an operand in the Go form of nested values.
func (o operand) nestedValue(i int) any {
	if o.arr == nil {
		return o.scalar
	}
	return nestedAt(o.arr, i)
}

// buildValues builds an array of t from Go values of any type.
func (ev *evaluator) buildValues(t types.T, vals []any) (arrow.Array, error) {
	return BuildArray(ev.mem, t, vals)
}

// mapValues evaluates f for every row and builds the result of c.T.
func (ev *evaluator) mapValues(c *expr.Call, n int, f func(i int) (any, error)) (arrow.Array, error) {
	vals := make([]any, n)
	for i := range vals {
		v, err := f(i)
		if err != nil {
			return nil, fmt.Errorf("exec: %s: %w", c, err)
		}
		if v == nil && !c.T.Nullable {
			return nil, errNullInNotNull(c)
		}
		vals[i] = v
	}
	a, err := ev.buildValues(c.T, vals)
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	return a, nil
}

func itemKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	isMap := ops[0].t.Kind == types.Map
	if !isMap && ops[0].t.Kind != types.Array {
		return nil, fmt.Errorf("exec: %s: [] needs an ARRAY or a MAP, not %s", c, plain(ops[0].t))
	}
	var index intArg
	if !isMap {
		var err error
		if index, err = intArgOf(ops[1], "the index"); err != nil {
			return nil, fmt.Errorf("exec: %s: %w", c, err)
		}
	}
	return ev.mapValues(c, n, func(i int) (any, error) {
		v := ops[0].nestedValue(i)
		if v == nil {
			return nil, nil
		}
		if isMap {
			key := ops[1].value(i)
			if key == nil {
				return nil, nil
			}
			for _, kv := range v.([][2]any) {
				if sameKey(kv[0], key) {
					return kv[1], nil
				}
			}
			return nil, nil
		}
		k, ok := index.at(i)
		xs := v.([]any)
		if !ok || k < 1 || k > int64(len(xs)) {
			return nil, nil
		}
		return xs[k-1], nil
	})
}

// sameKey compares two scalar values of the same type.
func sameKey(a, b any) bool {
	if x, ok := a.([]byte); ok {
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	}
	return a == b
}

func cardinalityKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	return ev.mapInt32(c, n, func(i int) (int32, bool, error) {
		switch v := ops[0].nestedValue(i).(type) {
		case []any:
			return int32(len(v)), true, nil
		case [][2]any:
			return int32(len(v)), true, nil
		}
		return 0, false, nil
	})
}

func elementKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	return ev.mapValues(c, n, func(i int) (any, error) {
		xs, _ := ops[0].nestedValue(i).([]any)
		switch {
		case len(xs) > 1:
			return nil, fmt.Errorf("the array has %d elements; ELEMENT needs at most one", len(xs))
		case len(xs) == 1:
			return xs[0], nil
		}
		return nil, nil
	})
}

func arrayContainsKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	elem := ops[0].t
	if elem.Kind != types.Array {
		return nil, fmt.Errorf("exec: %s: needs an ARRAY, not %s", c, plain(elem))
	}
	return ev.mapBool(c, n, func(i int) (bool, bool, error) {
		v := ops[0].nestedValue(i)
		if v == nil {
			return false, false, nil
		}
		x := ops[1].nestedValue(i)
		if x != nil && !ops[1].t.EqualIgnoringNull(*elem.Elem) {
			var err error
			if x, err = CastValue(x, ops[1].t, *elem.Elem); err != nil {
				return false, false, err
			}
		}
		for _, e := range v.([]any) {
			if (e == nil) == (x == nil) && (e == nil || sameKey(e, x)) {
				return true, true, nil
			}
		}
		return false, true, nil
	})
}

// constructorKernel builds ARRAY[...], MAP[...] and ROW(...) of computed
// elements (the planner folds constant ones).
func constructorKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	return ev.mapValues(c, n, func(i int) (any, error) {
		switch c.Name {
		case "MAP":
			kvs := make([][2]any, 0, len(ops)/2)
			for k := 0; k+1 < len(ops); k += 2 {
				key := ops[k].nestedValue(i)
				if key == nil {
					return nil, fmt.Errorf("a MAP key is NULL")
				}
				v := ops[k+1].nestedValue(i)
				replaced := false
				for j := range kvs {
					if sameKey(kvs[j][0], key) {
						kvs[j][1], replaced = v, true // a later entry wins, as in Flink
					}
				}
				if !replaced {
					kvs = append(kvs, [2]any{key, v})
				}
			}
			return kvs, nil
		default:
			xs := make([]any, len(ops))
			for k, o := range ops {
				xs[k] = o.nestedValue(i)
			}
			return xs, nil
		}
	})
}
