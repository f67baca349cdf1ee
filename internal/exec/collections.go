package exec

import (
	"fmt"
	"strings"

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
//   - FIELD(r, i) is r.name: field i (from 0, a constant the planner puts
//     for the name) of a ROW value, NULL when the row is NULL.

func init() {
	register("ITEM", 2, 2, itemKernel)
	register("CARDINALITY", 1, 1, cardinalityKernel)
	register("ELEMENT", 1, 1, elementKernel)
	register("ARRAY_CONTAINS", 2, 2, arrayContainsKernel)
	register("FIELD", 2, 2, fieldKernel)
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

func fieldKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	if ops[0].t.Kind != types.Row {
		return nil, fmt.Errorf("exec: %s: field access needs a ROW, not %s", c, plain(ops[0].t))
	}
	index, err := intArgOf(ops[1], "the field index")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	if s, ok := ops[0].arr.(*array.Struct); ok && index.const_ && !index.null {
		// The field's own column: the other fields are not read.
		if index.val < 0 || index.val >= int64(s.NumField()) {
			return nil, fmt.Errorf("exec: %s: no field %d in a ROW of %d", c, index.val, s.NumField())
		}
		field := s.Field(int(index.val))
		return ev.mapValues(c, n, func(i int) (any, error) {
			if s.IsNull(i) {
				return nil, nil
			}
			return nestedAt(field, i), nil
		})
	}
	return ev.mapValues(c, n, func(i int) (any, error) {
		v := ops[0].nestedValue(i)
		k, ok := index.at(i)
		if v == nil || !ok {
			return nil, nil
		}
		fields := v.([]any)
		if k < 0 || k >= int64(len(fields)) {
			return nil, fmt.Errorf("exec: %s: no field %d in a ROW of %d", c, k, len(fields))
		}
		return fields[k], nil
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

func init() {
	for _, name := range []string{"ARRAY_DISTINCT", "ARRAY_REVERSE", "ARRAY_MAX", "ARRAY_MIN", "MAP_KEYS", "MAP_VALUES", "MAP_ENTRIES"} {
		register(name, 1, 1, arrayFuncKernel)
	}
	register("ARRAY_REMOVE", 2, 2, arrayFuncKernel)
	register("ARRAY_POSITION", 2, 2, arrayFuncKernel)
	register("ARRAY_APPEND", 2, 2, arrayFuncKernel)
	register("ARRAY_PREPEND", 2, 2, arrayFuncKernel)
	register("ARRAY_CONCAT", 1, -1, arrayFuncKernel)
	register("ARRAY_SLICE", 2, 3, arrayFuncKernel)
	register("ARRAY_JOIN", 2, 3, arrayFuncKernel)
}

// arrayFuncKernel evaluates the ARRAY_* and MAP_* functions of Flink's
// catalog; NULL in, NULL out (ARRAY_CONCAT is NULL when any array is).
func arrayFuncKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	in := ops[0].t
	var elem types.T
	if in.Kind == types.Array {
		elem = *in.Elem
	}
	// needle converts the second argument to the element type.
	needle := func(i int) (any, error) {
		x := ops[1].nestedValue(i)
		if x != nil && !ops[1].t.EqualIgnoringNull(elem) {
			return CastValue(x, ops[1].t, elem)
		}
		return x, nil
	}
	equal := func(a, b any) bool { return (a == nil) == (b == nil) && (a == nil || sameKey(a, b)) }
	return ev.mapValues(c, n, func(i int) (any, error) {
		v := ops[0].nestedValue(i)
		if v == nil {
			return nil, nil
		}
		if kvs, ok := v.([][2]any); ok {
			out := make([]any, len(kvs))
			for k, kv := range kvs {
				switch c.Name {
				case "MAP_KEYS":
					out[k] = kv[0]
				case "MAP_VALUES":
					out[k] = kv[1]
				default:
					out[k] = []any{kv[0], kv[1]}
				}
			}
			return out, nil
		}
		xs := v.([]any)
		switch c.Name {
		case "ARRAY_DISTINCT":
			var out []any
			for _, x := range xs {
				seen := false
				for _, y := range out {
					seen = seen || equal(x, y)
				}
				if !seen {
					out = append(out, x)
				}
			}
			return append([]any{}, out...), nil
		case "ARRAY_REVERSE":
			out := make([]any, len(xs))
			for k, x := range xs {
				out[len(xs)-1-k] = x
			}
			return out, nil
		case "ARRAY_REMOVE", "ARRAY_POSITION":
			x, err := needle(i)
			if err != nil {
				return nil, err
			}
			out := []any{}
			for k, y := range xs {
				if equal(x, y) {
					if c.Name == "ARRAY_POSITION" {
						return int32(k + 1), nil
					}
					continue
				}
				out = append(out, y)
			}
			if c.Name == "ARRAY_POSITION" {
				return int32(0), nil
			}
			return out, nil
		case "ARRAY_APPEND", "ARRAY_PREPEND":
			x, err := needle(i)
			if err != nil {
				return nil, err
			}
			if c.Name == "ARRAY_APPEND" {
				return append(append([]any{}, xs...), x), nil
			}
			return append([]any{x}, xs...), nil
		case "ARRAY_CONCAT":
			out := append([]any{}, xs...)
			for _, o := range ops[1:] {
				more := o.nestedValue(i)
				if more == nil {
					return nil, nil
				}
				out = append(out, more.([]any)...)
			}
			return out, nil
		case "ARRAY_SLICE":
			size := int64(len(xs))
			bound := func(o operand, def int64) (int64, bool) {
				x := o.value(i)
				if x == nil {
					return 0, false
				}
				k := ToInt64(x)
				switch {
				case k < 0:
					k += size + 1
				case k == 0:
					k = def
				}
				return k, true
			}
			start, ok1 := bound(ops[1], 1)
			end, ok2 := size, true
			if len(ops) == 3 {
				end, ok2 = bound(ops[2], 1)
			}
			if !ok1 || !ok2 {
				return nil, nil
			}
			start, end = max(start, 1), min(end, size)
			if start > end {
				return []any{}, nil
			}
			return append([]any{}, xs[start-1:end]...), nil
		case "ARRAY_JOIN":
			sep, repl := ops[1].value(i), any(nil)
			if len(ops) == 3 {
				if repl = ops[2].value(i); repl == nil {
					return nil, nil
				}
			}
			if sep == nil {
				return nil, nil
			}
			parts := make([]string, 0, len(xs))
			for _, x := range xs {
				switch {
				case x != nil:
					s, err := CastValue(x, elem, types.STRING)
					if err != nil {
						return nil, err
					}
					parts = append(parts, s.(string))
				case repl != nil:
					parts = append(parts, repl.(string))
				}
			}
			return strings.Join(parts, sep.(string)), nil
		case "ARRAY_MAX", "ARRAY_MIN":
			var best any
			for _, x := range xs {
				if x == nil {
					continue
				}
				if best == nil {
					best = x
					continue
				}
				cmp, _, err := compareValues(x, elem, best, elem, elem)
				if err != nil {
					return nil, err
				}
				if (c.Name == "ARRAY_MAX" && cmp > 0) || (c.Name == "ARRAY_MIN" && cmp < 0) {
					best = x
				}
			}
			return best, nil
		}
		return nil, fmt.Errorf("unknown array function %s", c.Name)
	})
}

func init() {
	register("STR_TO_MAP", 1, 3, strToMapKernel)
}

// strToMapKernel is STR_TO_MAP(s [, pairDelimiter [, keyValueDelimiter]]):
// s split into pairs at pairDelimiter (default ','), each split into key
// and value at the first keyValueDelimiter (default '='); both delimiters
// are Java regular expressions, as in Flink. A pair without the delimiter
// has a NULL value; a later key replaces an earlier one.
func strToMapKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops, 0)
	if err != nil {
		return nil, err
	}
	rc := regexCache{}
	delim := func(i, k int, def string) (string, bool) {
		if k >= len(as) {
			return def, true
		}
		return as[k].at(i)
	}
	return ev.mapValues(c, n, func(i int) (any, error) {
		s, ok1 := as[0].at(i)
		pd, ok2 := delim(i, 1, ",")
		kd, ok3 := delim(i, 2, "=")
		if !ok1 || !ok2 || !ok3 {
			return nil, nil
		}
		pre, err := rc.compileJava(pd)
		if err != nil {
			return nil, err
		}
		kre, err := rc.compileJava(kd)
		if err != nil {
			return nil, err
		}
		if pre == nil || kre == nil {
			return nil, fmt.Errorf("invalid delimiter '%s' or '%s'", pd, kd)
		}
		kvs := [][2]any{}
		if s == "" {
			return kvs, nil
		}
		for _, pair := range pre.Split(s, -1) {
			kv := kre.Split(pair, 2)
			var v any
			if len(kv) == 2 {
				v = kv[1]
			}
			replaced := false
			for j := range kvs {
				if kvs[j][0] == kv[0] {
					kvs[j][1], replaced = v, true
				}
			}
			if !replaced {
				kvs = append(kvs, [2]any{kv[0], v})
			}
		}
		return kvs, nil
	})
}
