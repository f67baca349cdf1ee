package exec

import (
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// This file holds the plumbing of the built-in functions defined outside
// eval.go (strings_more.go, like.go, hash.go, json.go, collections.go): a
// table of functions by name, typed views of their arguments and result
// builders.
// A function reads its arguments through strArg, intArg and boolArg (an
// Arrow array or a constant, no per-row boxing) and writes its result
// through one of the map* helpers, which call it once per row.

// kernel evaluates a call whose arguments are evaluated into ops, for n rows.
type kernel func(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error)

// kernels are the functions of the files named above, by upper-case name;
// each file registers its own in init, with their argument counts in arity.
var kernels = map[string]kernel{}

func register(name string, minArgs, maxArgs int, k kernel) {
	kernels[name] = k
	arity[name] = [2]int{minArgs, maxArgs}
}

// strArg is a string argument: an Arrow string array or a constant.
type strArg struct {
	arr  *array.String
	val  string
	null bool // a constant NULL
}

func strArgOf(o operand, what string) (strArg, error) {
	if o.arr == nil {
		if o.scalar == nil {
			return strArg{null: true}, nil
		}
		s, ok := o.scalar.(string)
		if !ok {
			return strArg{}, fmt.Errorf("%s must be a string, not %s", what, plain(o.t))
		}
		return strArg{val: s}, nil
	}
	if isNullTyped(o.arr) {
		return strArg{null: true}, nil
	}
	a, ok := o.arr.(*array.String)
	if !ok {
		return strArg{}, fmt.Errorf("%s must be a string, not %s", what, plain(o.t))
	}
	return strArg{arr: a}, nil
}

// at returns row i's string; ok is false for NULL.
func (a strArg) at(i int) (string, bool) {
	if a.arr == nil {
		return a.val, !a.null
	}
	if a.arr.IsNull(i) {
		return "", false
	}
	return a.arr.Value(i), true
}

// intArg is an integer argument of any width, widened to int64.
type intArg struct {
	vals         []int64
	valid        []bool // nil: all valid
	val          int64
	const_, null bool
}

func intArgOf(o operand, what string) (intArg, error) {
	if o.arr == nil {
		if o.scalar == nil {
			return intArg{const_: true, null: true}, nil
		}
		if !o.t.IsInteger() {
			return intArg{}, fmt.Errorf("%s must be an integer, not %s", what, plain(o.t))
		}
		return intArg{const_: true, val: ToInt64(o.scalar)}, nil
	}
	if isNullTyped(o.arr) {
		return intArg{const_: true, null: true}, nil
	}
	n := o.arr.Len()
	out := intArg{vals: make([]int64, n)}
	switch a := o.arr.(type) {
	case *array.Int8:
		for i := range out.vals {
			out.vals[i] = int64(a.Value(i))
		}
	case *array.Int16:
		for i := range out.vals {
			out.vals[i] = int64(a.Value(i))
		}
	case *array.Int32:
		for i := range out.vals {
			out.vals[i] = int64(a.Value(i))
		}
	case *array.Int64:
		copy(out.vals, a.Int64Values())
	default:
		return intArg{}, fmt.Errorf("%s must be an integer, not %s", what, plain(o.t))
	}
	if o.arr.NullN() > 0 {
		out.valid = make([]bool, n)
		for i := range out.valid {
			out.valid[i] = o.arr.IsValid(i)
		}
	}
	return out, nil
}

func (a intArg) at(i int) (int64, bool) {
	if a.const_ {
		return a.val, !a.null
	}
	if a.valid != nil && !a.valid[i] {
		return 0, false
	}
	return a.vals[i], true
}

// strArgs views ops[from:] as strings.
func strArgs(c *expr.Call, ops []operand, from int) ([]strArg, error) {
	out := make([]strArg, 0, len(ops)-from)
	for k := from; k < len(ops); k++ {
		a, err := strArgOf(ops[k], fmt.Sprintf("argument %d", k+1))
		if err != nil {
			return nil, fmt.Errorf("exec: %s: %w", c, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// mapString builds a string array of c.T from f, called for rows 0..n-1;
// f's ok false is NULL. Values are fitted to a CHAR(n) or VARCHAR(n) type.
func (ev *evaluator) mapString(c *expr.Call, n int, f func(i int) (string, bool, error)) (arrow.Array, error) {
	if !c.T.IsString() {
		return nil, fmt.Errorf("exec: %s cannot produce %s", c, plain(c.T))
	}
	b := array.NewStringBuilder(ev.mem)
	defer b.Release()
	b.Reserve(n)
	fit := c.T.Length > 0 && c.T.Length < types.MaxLength
	for i := 0; i < n; i++ {
		s, ok, err := f(i)
		if err != nil {
			return nil, fmt.Errorf("exec: %s: %w", c, err)
		}
		switch {
		case !ok && !c.T.Nullable:
			return nil, errNullInNotNull(c)
		case !ok:
			b.AppendNull()
		case fit && (c.T.Kind == types.Char || utf8.RuneCountInString(s) > c.T.Length):
			b.Append(fitString(s, c.T))
		default:
			b.Append(s)
		}
	}
	return b.NewArray(), nil
}

// mapBytes builds a BYTES array from f.
func (ev *evaluator) mapBytes(c *expr.Call, n int, f func(i int) ([]byte, bool, error)) (arrow.Array, error) {
	if !c.T.IsBinary() {
		return nil, fmt.Errorf("exec: %s cannot produce %s", c, plain(c.T))
	}
	return mapRows(c, array.NewBinaryBuilder(ev.mem, arrow.BinaryTypes.Binary), n, f)
}

// mapInt32 builds an INT array from f.
func (ev *evaluator) mapInt32(c *expr.Call, n int, f func(i int) (int32, bool, error)) (arrow.Array, error) {
	if c.T.Kind != types.Int {
		return nil, fmt.Errorf("exec: %s cannot produce %s", c, plain(c.T))
	}
	return mapRows(c, array.NewInt32Builder(ev.mem), n, f)
}

// mapBool builds a BOOLEAN array from f.
func (ev *evaluator) mapBool(c *expr.Call, n int, f func(i int) (bool, bool, error)) (arrow.Array, error) {
	if c.T.Kind != types.Boolean {
		return nil, fmt.Errorf("exec: %s cannot produce %s", c, plain(c.T))
	}
	return mapRows(c, array.NewBooleanBuilder(ev.mem), n, f)
}

// valueAppender is an arrow-go builder of values of type V.
type valueAppender[V any] interface {
	array.Builder
	Append(V)
}

// mapRows appends f of rows 0..n-1 to b, which it releases: f's ok false is
// NULL, an error in a NOT NULL result type.
func mapRows[V any](c *expr.Call, b valueAppender[V], n int, f func(i int) (V, bool, error)) (arrow.Array, error) {
	defer b.Release()
	b.Reserve(n)
	for i := 0; i < n; i++ {
		v, ok, err := f(i)
		if err != nil {
			return nil, fmt.Errorf("exec: %s: %w", c, err)
		}
		if !ok && !c.T.Nullable {
			return nil, errNullInNotNull(c)
		}
		if !ok {
			b.AppendNull()
		} else {
			b.Append(v)
		}
	}
	return b.NewArray(), nil
}

// binArg is a binary string argument: an Arrow binary array or a constant.
type binArg struct {
	arr  *array.Binary
	val  []byte
	null bool
}

func binArgOf(o operand) (binArg, error) {
	if o.arr == nil {
		if o.scalar == nil {
			return binArg{null: true}, nil
		}
		b, ok := o.scalar.([]byte)
		if !ok {
			return binArg{}, fmt.Errorf("expected a binary string, not %s", plain(o.t))
		}
		return binArg{val: b}, nil
	}
	if isNullTyped(o.arr) {
		return binArg{null: true}, nil
	}
	a, ok := o.arr.(*array.Binary)
	if !ok {
		return binArg{}, fmt.Errorf("expected a binary string, not %s", plain(o.t))
	}
	return binArg{arr: a}, nil
}

func (a binArg) at(i int) ([]byte, bool) {
	if a.arr == nil {
		return a.val, !a.null
	}
	if a.arr.IsNull(i) {
		return nil, false
	}
	return a.arr.Value(i), true
}

// errNullInNotNull is the error of a function that gives NULL where its
// result type is NOT NULL (LPAD with a negative length, REGEXP_REPLACE with
// an invalid expression, ...): Flink's sink fails the job then too.
func errNullInNotNull(c *expr.Call) error {
	return fmt.Errorf("exec: %s gives NULL, but its type %s is NOT NULL (Flink fails such a job too); check its arguments", c, plain(c.T))
}
