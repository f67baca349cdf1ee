package plan

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// This file holds the value constructors ARRAY[...], MAP[...] and ROW(...).
// They are typed as Flink types them and stay expr.Calls named "ARRAY",
// "MAP" and "ROW" (so plans show them as Flink's do, e.g. ARRAY(1, 2); the
// Go engine builds those of computed elements) until fold turns a constant
// one into a value in the coder's nested
// representation: an ARRAY is a []any of its elements, a MAP a [][2]any of
// its entries, a ROW a []any of its fields. Constant constructors can be
// arguments of Python functions (they travel as encoded constants) and, when
// the Go engine can build such values, VALUES rows.

// isConstructor reports whether e is a value constructor.
func isConstructor(e expr.Expr) bool {
	c, ok := e.(*expr.Call)
	return ok && (c.Name == "ARRAY" || c.Name == "MAP" || c.Name == "ROW")
}

// isNested reports whether t is ARRAY, MAP or ROW.
func isNested(t types.T) bool {
	return t.Kind == types.Array || t.Kind == types.Map || t.Kind == types.Row
}

// constructor binds ARRAY[...], MAP[...] or ROW(...).
func (b *binder) constructor(e *sql.FuncCall, name string, args []expr.Expr) (expr.Expr, error) {
	switch name {
	case "ARRAY":
		if len(args) == 0 {
			return nil, errAt(e.At, "ARRAY[] needs at least one element (write CAST(NULL AS ARRAY<...>) for a NULL array)")
		}
		t, err := commonType(e.At, args)
		if err != nil {
			return nil, errAt(e.At, "ARRAY[...]: elements have incompatible types: %v", msgOf(err))
		}
		if t.Kind == types.Null {
			return nil, errAt(e.At, "ARRAY[...] of only NULLs has no element type; CAST one element, e.g. ARRAY[CAST(NULL AS INT)]")
		}
		out := make([]expr.Expr, len(args))
		for i, a := range args {
			out[i] = coerce(a, t)
		}
		return &expr.Call{Name: "ARRAY", Args: out, T: types.ARRAY(t).NotNull()}, nil
	case "MAP":
		if len(args) == 0 || len(args)%2 != 0 {
			return nil, errAt(e.At, "MAP[...] needs keys and values in pairs, MAP[k1, v1, k2, v2, ...]; got %d argument(s)", len(args))
		}
		var keys, vals []expr.Expr
		for i := 0; i < len(args); i += 2 {
			if lit, ok := args[i].(*expr.Literal); ok && lit.Value == nil {
				return nil, errAt(e.Args[i].Pos(), "MAP[...]: a key may not be NULL")
			}
			keys = append(keys, args[i])
			vals = append(vals, args[i+1])
		}
		kt, err := commonType(e.At, keys)
		if err != nil {
			return nil, errAt(e.At, "MAP[...]: keys have incompatible types: %v", msgOf(err))
		}
		vt, err := commonType(e.At, vals)
		if err != nil {
			return nil, errAt(e.At, "MAP[...]: values have incompatible types: %v", msgOf(err))
		}
		if vt.Kind == types.Null {
			return nil, errAt(e.At, "MAP[...] of only NULL values has no value type; CAST one value, e.g. CAST(NULL AS INT)")
		}
		out := make([]expr.Expr, len(args))
		for i := range keys {
			out[2*i] = coerce(keys[i], kt)
			out[2*i+1] = coerce(vals[i], vt)
		}
		return &expr.Call{Name: "MAP", Args: out, T: types.MAP(kt, vt).NotNull()}, nil
	default: // ROW
		if len(args) == 0 {
			return nil, errAt(e.At, "ROW() needs at least one field")
		}
		fields := make([]types.Field, len(args))
		for i, a := range args {
			t := a.Type()
			if t.Kind == types.Null {
				return nil, errAt(e.Args[i].Pos(), "ROW(...): field %d is an untyped NULL; CAST it, e.g. CAST(NULL AS INT)", i+1)
			}
			fields[i] = types.Field{Name: fmt.Sprintf("EXPR$%d", i), Type: t}
		}
		return &expr.Call{Name: "ROW", Args: args, T: types.ROW(fields...).NotNull()}, nil
	}
}

// msgOf is the message of a SQL error without its position.
func msgOf(err error) string {
	if se, ok := err.(*sql.Error); ok {
		return se.Msg
	}
	return err.Error()
}

// widen is the type both a and b convert to implicitly, recursively for the
// nested types (whose inner nullability widens), for CASE, VALUES and
// constructors; ok is false when there is none.
func widen(a, b types.T) (types.T, bool) {
	nullable := a.Nullable || b.Nullable
	switch {
	case a.EqualIgnoringNull(b):
		return a.WithNullable(nullable), true
	case a.Kind == types.Null:
		return b.WithNullable(true), true
	case b.Kind == types.Null:
		return a.WithNullable(true), true
	case (a.Kind == types.Decimal || b.Kind == types.Decimal) && (a.Kind == types.Decimal || a.IsInteger()) && (b.Kind == types.Decimal || b.IsInteger()):
		// Enough integer digits and scale for both, as Flink's least
		// restrictive type.
		pa, sa := decimalShape(a)
		pb, sb := decimalShape(b)
		s := max(sa, sb)
		return types.DECIMAL(min(38, max(pa-sa, pb-sb)+s), s).WithNullable(nullable), true
	case a.IsNumeric() && b.IsNumeric():
		return arith(a, b).WithNullable(nullable), true
	case a.IsString() && b.IsString():
		// As in Flink: VARCHAR of the longer length (CHARs of one length
		// stay CHAR, handled above), STRING with a STRING.
		if a.Length >= types.MaxLength || b.Length >= types.MaxLength {
			return types.STRING.WithNullable(nullable), true
		}
		return types.VARCHAR(max(a.Length, b.Length)).WithNullable(nullable), true
	case a.IsBinary() && b.IsBinary():
		if a.EqualIgnoringNull(b) {
			return a.WithNullable(nullable), true
		}
		return types.BYTES.WithNullable(nullable), true
	case a.Kind != b.Kind:
		return types.T{}, false
	}
	switch a.Kind {
	case types.Array:
		e, ok := widen(*a.Elem, *b.Elem)
		return types.ARRAY(e).WithNullable(nullable), ok
	case types.Map:
		k, ok1 := widen(*a.Key, *b.Key)
		v, ok2 := widen(*a.Value, *b.Value)
		return types.MAP(k, v).WithNullable(nullable), ok1 && ok2
	case types.Row:
		if len(a.Fields) != len(b.Fields) {
			return types.T{}, false
		}
		fs := make([]types.Field, len(a.Fields))
		for i := range a.Fields {
			t, ok := widen(a.Fields[i].Type, b.Fields[i].Type)
			if !ok {
				return types.T{}, false
			}
			fs[i] = types.Field{Name: a.Fields[i].Name, Type: t}
		}
		return types.ROW(fs...).WithNullable(nullable), true
	case types.Time, types.Timestamp, types.TimestampLTZ:
		p := max(a.Precision, b.Precision)
		t := a
		t.Precision = p
		return t.WithNullable(nullable), true
	}
	if a.EqualIgnoringNull(b) {
		return a.WithNullable(nullable), true
	}
	return types.T{}, false
}

// pythonTransparent reports whether a value of type from, decoded in Python,
// is the same Python value as the value converted to type to: integers to
// wider integers, FLOAT to DOUBLE, strings and binaries to types at least as
// long (CHAR padding is kept by such a cast), times and timestamps to at
// least their precision, any type to itself; nullability does not matter
// (a NULL is None either way), ROW field names may differ, and nested types
// follow these rules inside. An argument of a Python function that is
// transparent to the declared input type needs no cast.
func pythonTransparent(from, to types.T) bool {
	if from.Kind == types.Null {
		return true
	}
	switch {
	case from.IsInteger() && to.IsInteger():
		return integerRank[from.Kind] <= integerRank[to.Kind]
	case from.Kind == types.Float && to.Kind == types.Double:
		return true
	case from.IsString() && to.Kind == types.Varchar, from.IsBinary() && to.Kind == types.Varbinary:
		return to.Length >= from.Length
	case from.Kind != to.Kind:
		return false
	}
	switch from.Kind {
	case types.Time, types.Timestamp, types.TimestampLTZ:
		return to.Precision >= from.Precision
	case types.Array:
		return pythonTransparent(*from.Elem, *to.Elem)
	case types.Map:
		return pythonTransparent(*from.Key, *to.Key) && pythonTransparent(*from.Value, *to.Value)
	case types.Row:
		if len(from.Fields) != len(to.Fields) {
			return false
		}
		for i := range from.Fields {
			if !pythonTransparent(from.Fields[i].Type, to.Fields[i].Type) {
				return false
			}
		}
		return true
	}
	return from.WithNullable(true).Equal(to.WithNullable(true))
}

// convertible reports whether values of from convert implicitly to to, as
// arguments of Python functions with declared input types: numbers to
// numbers, strings to strings, binaries to binaries, same kinds otherwise,
// recursively for the nested types.
func convertible(from, to types.T) bool {
	switch {
	case from.Kind == types.Null:
		return true
	case from.IsNumeric() && to.IsNumeric(), from.IsString() && to.IsString(), from.IsBinary() && to.IsBinary():
		return true
	case from.Kind != to.Kind:
		return false
	}
	switch from.Kind {
	case types.Array:
		return convertible(*from.Elem, *to.Elem)
	case types.Map:
		return convertible(*from.Key, *to.Key) && convertible(*from.Value, *to.Value)
	case types.Row:
		if len(from.Fields) != len(to.Fields) {
			return false
		}
		for i := range from.Fields {
			if !convertible(from.Fields[i].Type, to.Fields[i].Type) {
				return false
			}
		}
	}
	return true
}

// castConst converts the folded value v of type from to type to, recursively
// for the nested types; scalars convert with the engine's CAST.
func castConst(v any, from, to types.T) (any, error) {
	if v == nil {
		return nil, nil
	}
	if !isNested(to) && !isNested(from) {
		return exec.CastValue(v, from, to)
	}
	if from.Kind != to.Kind {
		return nil, fmt.Errorf("cannot cast %s to %s", from, to)
	}
	notNull := func(x any, t types.T, where string) error {
		if x == nil && !t.Nullable {
			return fmt.Errorf("%s: NULL in NOT NULL %s", where, t)
		}
		return nil
	}
	switch to.Kind {
	case types.Array:
		in, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("plan: internal error: ARRAY value of Go type %T", v)
		}
		out := make([]any, len(in))
		for i, x := range in {
			y, err := castConst(x, *from.Elem, *to.Elem)
			if err == nil {
				err = notNull(y, *to.Elem, fmt.Sprintf("element %d", i+1))
			}
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	case types.Map:
		in, ok := v.([][2]any)
		if !ok {
			return nil, fmt.Errorf("plan: internal error: MAP value of Go type %T", v)
		}
		out := make([][2]any, len(in))
		for i, kv := range in {
			k, err := castConst(kv[0], *from.Key, *to.Key)
			if err != nil {
				return nil, err
			}
			if k == nil {
				return nil, fmt.Errorf("entry %d: NULL key", i+1)
			}
			x, err := castConst(kv[1], *from.Value, *to.Value)
			if err == nil {
				err = notNull(x, *to.Value, fmt.Sprintf("entry %d", i+1))
			}
			if err != nil {
				return nil, err
			}
			out[i] = [2]any{k, x}
		}
		return out, nil
	default: // ROW
		in, ok := v.([]any)
		if !ok || len(in) != len(from.Fields) || len(in) != len(to.Fields) {
			return nil, fmt.Errorf("cannot cast %s to %s", from, to)
		}
		out := make([]any, len(in))
		for i, x := range in {
			y, err := castConst(x, from.Fields[i].Type, to.Fields[i].Type)
			if err == nil {
				err = notNull(y, to.Fields[i].Type, "field "+to.Fields[i].Name)
			}
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	}
}

// foldNested evaluates a constant expression that builds or converts a
// nested value; ok is false for the expressions the engine evaluates.
func foldNested(e expr.Expr) (v any, ok bool, err error) {
	switch e := e.(type) {
	case *expr.Call:
		if !isConstructor(e) {
			return nil, false, nil
		}
		vals := make([]any, len(e.Args))
		for i, a := range e.Args {
			if vals[i], err = fold(a); err != nil {
				return nil, true, err
			}
		}
		switch e.Name {
		case "MAP":
			entries := make([][2]any, len(vals)/2)
			for i := range entries {
				if vals[2*i] == nil {
					return nil, true, fmt.Errorf("MAP entry %d has a NULL key", i+1)
				}
				entries[i] = [2]any{vals[2*i], vals[2*i+1]}
			}
			return entries, true, nil
		}
		return vals, true, nil
	case *expr.Cast:
		if !isNested(e.T) && !isNested(e.X.Type()) {
			return nil, false, nil
		}
		x, err := fold(e.X)
		if err != nil {
			return nil, true, err
		}
		y, err := castConst(x, e.X.Type(), e.T)
		if err != nil && e.Try {
			return nil, true, nil
		}
		if err != nil {
			return nil, true, fmt.Errorf("%s: %w", e, err)
		}
		return y, true, nil
	case *expr.Literal:
		return e.Value, true, nil
	}
	return nil, false, nil
}

// goCanBuild reports (as an error) whether the engine's Go side can build
// arrays of type t holding the folded values vals: it cannot build ARRAY,
// MAP or ROW values (exec.BuildArray takes only NULLs for them).
func goCanBuild(t types.T, vals []any) error {
	if !isNested(t) {
		return nil
	}
	a, err := exec.BuildArray(memory.DefaultAllocator, t, vals)
	if err != nil {
		return err
	}
	a.Release()
	return nil
}

// checkGoNested reports an error when e, which runs in a Go calculation,
// holds a value constructor: the Go engine cannot evaluate those. A
// constant argument of a Python call is fine: it travels to Python as an
// encoded constant.
func checkGoNested(at sql.Pos, e expr.Expr) error {
	var bad expr.Expr
	var visit func(x expr.Expr)
	visit = func(x expr.Expr) {
		if bad != nil {
			return
		}
		if pc, ok := x.(*expr.PyCall); ok {
			for _, a := range pc.Args {
				if !isConstant(a) {
					visit(a)
				}
			}
			return
		}
		if isConstructor(x) && !isConstant(x) {
			// Built by the Go engine from its elements (collections.go).
			for _, c := range expr.Children(x) {
				visit(c)
			}
			return
		}
		if isConstructor(x) || (isNested(x.Type()) && isConstant(x)) {
			if lit, ok := x.(*expr.Literal); ok && lit.Value == nil {
				return
			}
			if c, ok := x.(*expr.Cast); ok {
				if lit, ok := c.X.(*expr.Literal); ok && lit.Value == nil {
					return
				}
			}
			if v, err := fold(x); err == nil && goCanBuild(x.Type(), []any{v}) == nil {
				return
			}
			bad = x
			return
		}
		for _, c := range expr.Children(x) {
			visit(c)
		}
	}
	visit(e)
	if bad != nil {
		return errAt(at, "%s: the Go engine cannot compute %s values yet; ARRAY[...], MAP[...] and ROW(...) may be used as constant arguments of Python functions (or build the value in a Python function)", bad, strings.SplitN(bad.Type().String(), "<", 2)[0])
	}
	return nil
}

// decimalShape is the precision and scale of a DECIMAL, or of the DECIMAL
// that holds every value of an integer type.
func decimalShape(t types.T) (int, int) {
	switch t.Kind {
	case types.TinyInt:
		return 3, 0
	case types.SmallInt:
		return 5, 0
	case types.Int:
		return 10, 0
	case types.BigInt:
		return 19, 0
	}
	return t.Precision, t.Scale
}

// foldNestedConstants replaces the constant ARRAY, MAP and ROW expressions
// of e by literals, which the Go engine builds directly.
func foldNestedConstants(e expr.Expr) (expr.Expr, error) {
	var firstErr error
	out := rewrite(e, func(x expr.Expr) expr.Expr {
		if _, lit := x.(*expr.Literal); lit || !isNested(x.Type()) || !isConstant(x) {
			return nil
		}
		v, err := fold(x)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return nil
		}
		return &expr.Literal{Value: v, T: x.Type()}
	})
	return out, firstErr
}
