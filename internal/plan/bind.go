package plan

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// column is a column visible to expressions, with the alias of its table.
type column struct {
	qual, name string
	t          types.T
}

// scope is the columns an expression may name.
type scope []column

func (s scope) resolve(id *sql.Ident) (int, error) {
	var qual, name string
	switch len(id.Parts) {
	case 1:
		name = id.Parts[0]
	case 2:
		qual, name = id.Parts[0], id.Parts[1]
	default:
		return 0, errAt(id.At, "column reference %s has too many parts", strings.Join(id.Parts, "."))
	}
	found := -1
	for i, c := range s {
		if !strings.EqualFold(c.name, name) || (qual != "" && !strings.EqualFold(c.qual, qual)) {
			continue
		}
		if found >= 0 {
			return 0, errAt(id.At, "column %s is ambiguous; qualify it with its table's alias", name)
		}
		found = i
	}
	if found < 0 {
		names := make([]string, len(s))
		for i, c := range s {
			names[i] = c.name
		}
		return 0, errAt(id.At, "unknown column %s; the input has columns: %s", strings.Join(id.Parts, "."), strings.Join(names, ", "))
	}
	return found, nil
}

// fieldAccess binds id as fields of a ROW column, as Flink reads r.f.g: the
// column named by id's first part, or by its first two (the table's alias
// and the column), then one field per remaining part. ok is false when no
// ROW column starts id (the caller reports the column as unknown).
func (b *binder) fieldAccess(id *sql.Ident) (x expr.Expr, ok bool, err error) {
	for k := min(2, len(id.Parts)-1); k >= 1; k-- {
		i, rerr := b.scope.resolve(&sql.Ident{At: id.At, Parts: id.Parts[:k]})
		if rerr != nil || b.scope[i].t.Kind != types.Row {
			continue
		}
		c := b.scope[i]
		x = &expr.Column{Index: i, Name: c.name, T: c.t}
		nullable := c.t.Nullable
		for _, name := range id.Parts[k:] {
			t := x.Type()
			if t.Kind != types.Row {
				return nil, false, errAt(id.At, "%s is not a ROW (it is %s): it has no field %s", x, t, name)
			}
			f := -1
			for j, fld := range t.Fields {
				if strings.EqualFold(fld.Name, name) {
					f = j
					break
				}
			}
			if f < 0 {
				names := make([]string, len(t.Fields))
				for j, fld := range t.Fields {
					names[j] = fld.Name
				}
				return nil, false, errAt(id.At, "%s has no field %s; its fields are: %s", x, name, strings.Join(names, ", "))
			}
			ft := t.Fields[f].Type
			nullable = nullable || ft.Nullable
			ft.Nullable = nullable // a field of a NULL row is NULL
			x = &expr.Call{Name: "FIELD", Args: []expr.Expr{x, &expr.Literal{Value: int32(f), T: types.INT.NotNull()}}, T: ft}
		}
		return x, true, nil
	}
	return nil, false, nil
}

type binder struct {
	cat   *catalog
	scope scope
}

func (b *binder) bind(e sql.Expr) (expr.Expr, error) {
	switch e := e.(type) {
	case *sql.Ident:
		i, err := b.scope.resolve(e)
		if err != nil && len(e.Parts) == 1 && niladic[strings.ToUpper(e.Parts[0])] {
			x, _, err := b.currentTime(e.At, strings.ToUpper(e.Parts[0])) // temporal.go
			return x, err
		}
		if err != nil && len(e.Parts) > 1 {
			if x, ok, ferr := b.fieldAccess(e); ok || ferr != nil {
				return x, ferr
			}
		}
		if err != nil {
			return nil, err
		}
		return &expr.Column{Index: i, Name: b.scope[i].name, T: b.scope[i].t}, nil
	case *sql.Literal:
		return literal(e)
	case *sql.IntervalLit:
		return intervalLiteral(e) // temporal.go
	case *sql.IntervalOf:
		return b.intervalOf(e)
	case *sql.TimeUnit:
		return nil, errAt(e.At, "%s is a time unit, allowed only in EXTRACT, FLOOR/CEIL(... TO unit), TIMESTAMPADD and TIMESTAMPDIFF", e.Unit)
	case *sql.Unary:
		if lit, ok := e.X.(*sql.Literal); ok && e.Op == "-" && (lit.Kind == sql.LitInteger || lit.Kind == sql.LitDecimal) && !strings.HasPrefix(lit.Text, "-") {
			// As in Flink, a minus sign belongs to the number it precedes:
			// -9223372036854775808 is a BIGINT, -2147483648 an INT.
			neg := *lit
			neg.Text = "-" + strings.TrimLeft(lit.Text, "+")
			return literal(&neg)
		}
		x, err := b.bind(e.X)
		if err != nil {
			return nil, err
		}
		switch e.Op {
		case "+":
			if !x.Type().IsNumeric() {
				return nil, errAt(e.At, "unary + needs a number, got %s", x.Type())
			}
			return x, nil
		case "-":
			if isInterval(x.Type()) {
				return &expr.Call{Name: "INTERVAL_TIMES", Args: []expr.Expr{x, &expr.Literal{Value: int64(-1), T: types.BIGINT.NotNull()}}, T: x.Type()}, nil
			}
			if !x.Type().IsNumeric() {
				return nil, errAt(e.At, "unary - needs a number, got %s", x.Type())
			}
			return &expr.Call{Name: "NEG", Args: []expr.Expr{x}, T: x.Type()}, nil
		default:
			if err := wantBool(e.At, "NOT", x); err != nil {
				return nil, err
			}
			return &expr.Call{Name: "NOT", Args: []expr.Expr{x}, T: types.BOOLEAN.WithNullable(x.Type().Nullable)}, nil
		}
	case *sql.Binary:
		l, err := b.bind(e.L)
		if err != nil {
			return nil, err
		}
		r, err := b.bind(e.R)
		if err != nil {
			return nil, err
		}
		return binary(e.At, e.Op, l, r)
	case *sql.IsNull:
		x, err := b.bind(e.X)
		if err != nil {
			return nil, err
		}
		name := "IS NULL"
		if e.Not {
			name = "IS NOT NULL"
		}
		return &expr.Call{Name: name, Args: []expr.Expr{x}, T: types.BOOLEAN.NotNull()}, nil
	case *sql.IsBool:
		x, err := b.bind(e.X)
		if err != nil {
			return nil, err
		}
		if err := wantBool(e.At, "IS TRUE/FALSE", x); err != nil {
			return nil, err
		}
		cond := x
		if !e.Value {
			cond = &expr.Call{Name: "NOT", Args: []expr.Expr{x}, T: x.Type()}
		}
		t := types.BOOLEAN.NotNull()
		return &expr.Case{Whens: []expr.When{{Cond: cond, Result: &expr.Literal{Value: !e.Not, T: t}}}, Else: &expr.Literal{Value: e.Not, T: t}, T: t}, nil
	case *sql.Between:
		x, err := b.bind(e.X)
		if err != nil {
			return nil, err
		}
		lo, err := b.bind(e.Lo)
		if err != nil {
			return nil, err
		}
		hi, err := b.bind(e.Hi)
		if err != nil {
			return nil, err
		}
		ge, err := binary(e.At, ">=", x, lo)
		if err != nil {
			return nil, err
		}
		le, err := binary(e.At, "<=", x, hi)
		if err != nil {
			return nil, err
		}
		both, _ := binary(e.At, "AND", ge, le)
		if e.Not {
			return &expr.Call{Name: "NOT", Args: []expr.Expr{both}, T: both.Type()}, nil
		}
		return both, nil
	case *sql.InList:
		x, err := b.bind(e.X)
		if err != nil {
			return nil, err
		}
		var any expr.Expr
		for _, item := range e.List {
			v, err := b.bind(item)
			if err != nil {
				return nil, err
			}
			eq, err := binary(e.At, "=", x, v)
			if err != nil {
				return nil, err
			}
			if any == nil {
				any = eq
			} else {
				any, _ = binary(e.At, "OR", any, eq)
			}
		}
		if e.Not {
			return &expr.Call{Name: "NOT", Args: []expr.Expr{any}, T: any.Type()}, nil
		}
		return any, nil
	case *sql.Like:
		return b.like(e) // builtins_more.go
	case *sql.FuncCall:
		return b.call(e)
	case *sql.Over, *topNOver:
		return nil, errAt(e.Pos(), "window functions (OVER) are allowed only in the select list")
	case *sql.Cast:
		x, err := b.bind(e.X)
		if err != nil {
			return nil, err
		}
		if lit, ok := x.(*expr.Literal); ok && lit.Value == nil {
			return &expr.Literal{T: e.Type.WithNullable(true)}, nil
		}
		if z, ok, err := b.zoneCast(e.At, x, e.Type, e.Try); ok { // temporal.go
			return z, err
		}
		if !castable(x.Type(), e.Type) && !(isConstant(x) && (isNested(x.Type()) || isNested(e.Type)) && convertible(x.Type(), e.Type)) {
			return nil, errAt(e.At, "cannot cast %s to %s", x.Type(), e.Type)
		}
		// As in Flink, the cast of a NOT NULL value is NOT NULL (the
		// parsed target type is nullable unless written NOT NULL), even to
		// a DECIMAL too narrow for the value (the engine then fails, where
		// Flink would fail on the NULL in a NOT NULL column); TRY_CAST is
		// always nullable.
		t := e.Type.WithNullable(x.Type().Nullable || e.Try)
		return &expr.Cast{X: x, T: t, Try: e.Try}, nil
	case *sql.Case:
		return b.caseExpr(e)
	}
	return nil, errAt(e.Pos(), "this expression is not supported")
}

func (b *binder) caseExpr(e *sql.Case) (expr.Expr, error) {
	var operand expr.Expr
	if e.Operand != nil {
		var err error
		if operand, err = b.bind(e.Operand); err != nil {
			return nil, err
		}
	}
	out := &expr.Case{}
	var results []expr.Expr
	for _, w := range e.Whens {
		c, err := b.bind(w.Cond)
		if err != nil {
			return nil, err
		}
		if operand != nil {
			if c, err = binary(w.Cond.Pos(), "=", operand, c); err != nil {
				return nil, err
			}
		}
		if err := wantBool(w.Cond.Pos(), "WHEN", c); err != nil {
			return nil, err
		}
		r, err := b.bind(w.Result)
		if err != nil {
			return nil, err
		}
		out.Whens = append(out.Whens, expr.When{Cond: c, Result: r})
		results = append(results, r)
	}
	if e.Else != nil {
		el, err := b.bind(e.Else)
		if err != nil {
			return nil, err
		}
		out.Else = el
		results = append(results, el)
	}
	t, err := commonType(e.At, results)
	if err != nil {
		return nil, err
	}
	if e.Else == nil {
		t = t.WithNullable(true)
	}
	out.T = t
	for i := range out.Whens {
		out.Whens[i].Result = coerce(out.Whens[i].Result, t)
	}
	if out.Else != nil {
		out.Else = coerce(out.Else, t)
	}
	return out, nil
}

// commonType is the type all of xs convert to, for CASE, COALESCE, VALUES
// columns and the elements of value constructors.
func commonType(at sql.Pos, xs []expr.Expr) (types.T, error) {
	if len(xs) == 0 {
		return types.NULL, nil
	}
	t := xs[0].Type()
	for _, x := range xs[1:] {
		w, ok := widen(t, x.Type())
		if !ok {
			return types.T{}, errAt(at, "branches have incompatible types %s and %s", t, x.Type())
		}
		t = w
	}
	return t, nil
}

// coerce casts x to t when their types differ beyond nullability.
func coerce(x expr.Expr, t types.T) expr.Expr {
	if x.Type().EqualIgnoringNull(t) {
		return x
	}
	if lit, ok := x.(*expr.Literal); ok && lit.Value == nil {
		return &expr.Literal{T: t.WithNullable(true)}
	}
	if lit, ok := x.(*expr.Literal); ok && isNested(lit.T) && pythonTransparent(lit.T, t) {
		// The same value, with strings of a longer type inside.
		return &expr.Literal{Value: lit.Value, T: t.WithNullable(lit.T.Nullable)}
	}
	return &expr.Cast{X: x, T: t.WithNullable(x.Type().Nullable)}
}

func wantBool(at sql.Pos, what string, x expr.Expr) error {
	if k := x.Type().Kind; k != types.Boolean && k != types.Null {
		return errAt(at, "%s needs a BOOLEAN, got %s", what, x.Type())
	}
	return nil
}

var integerRank = map[types.Kind]int{types.TinyInt: 1, types.SmallInt: 2, types.Int: 3, types.BigInt: 4}

// arith is the numeric type both a and b widen to: DOUBLE with a DOUBLE,
// FLOAT with FLOAT only, DECIMAL(38, max scale) with a DECIMAL, else the wider
// integer. Operators type their results with arithType instead.
func arith(a, b types.T) types.T {
	nullable := a.Nullable || b.Nullable
	var t types.T
	switch {
	case a.Kind == types.Double || b.Kind == types.Double:
		t = types.DOUBLE
	case a.Kind == types.Float || b.Kind == types.Float:
		if a.Kind == types.Float && b.Kind == types.Float {
			t = types.FLOAT
		} else {
			t = types.DOUBLE
		}
	case a.Kind == types.Decimal || b.Kind == types.Decimal:
		s := max(a.Scale, b.Scale)
		t = types.DECIMAL(38, s)
	case integerRank[a.Kind] >= integerRank[b.Kind]:
		t = a
	default:
		t = b
	}
	return t.WithNullable(nullable)
}

// arithType is the result type of a op b for the operators + - * / %, by
// Flink's rules: DOUBLE when either side is DOUBLE, or FLOAT against a
// DECIMAL; FLOAT when either side is FLOAT; the wider integer between
// integers (integer division truncates); and between a DECIMAL and a DECIMAL
// or an integer (TINYINT, SMALLINT, INT, BIGINT count as DECIMAL(3, 0),
// DECIMAL(5, 0), DECIMAL(10, 0), DECIMAL(19, 0)) the DECIMAL that holds the
// exact result, reduced to 38 digits (see types.DecimalArith).
func arithType(op string, a, b types.T) types.T {
	nullable := a.Nullable || b.Nullable
	switch {
	case a.Kind == types.Double || b.Kind == types.Double:
		return types.DOUBLE.WithNullable(nullable)
	case (a.Kind == types.Float || b.Kind == types.Float) && (a.Kind == types.Decimal || b.Kind == types.Decimal):
		return types.DOUBLE.WithNullable(nullable)
	case a.Kind == types.Float || b.Kind == types.Float:
		return types.FLOAT.WithNullable(nullable)
	case a.Kind == types.Decimal || b.Kind == types.Decimal:
		p1, s1 := a.DecimalShape()
		p2, s2 := b.DecimalShape()
		return types.DecimalArith(op, p1, s1, p2, s2).WithNullable(nullable)
	case integerRank[a.Kind] >= integerRank[b.Kind]:
		return a.WithNullable(nullable)
	}
	return b.WithNullable(nullable)
}

func binary(at sql.Pos, op string, l, r expr.Expr) (expr.Expr, error) {
	if x, ok, err := temporalBinary(at, op, l, r); ok { // temporal.go
		return x, err
	}
	lt, rt := l.Type(), r.Type()
	nullable := lt.Nullable || rt.Nullable
	switch op {
	case "+", "-", "*", "/", "%":
		if !(lt.IsNumeric() || lt.Kind == types.Null) || !(rt.IsNumeric() || rt.Kind == types.Null) {
			return nil, errAt(at, "operator %s needs numbers, got %s and %s", op, lt, rt)
		}
		if lt.Kind == types.Null {
			lt = rt
		}
		if rt.Kind == types.Null {
			rt = lt
		}
		t := arithType(op, lt, rt)
		if t.Kind == types.Decimal {
			// The engine computes DECIMAL results exactly from operands of
			// any scale; converting them to the result type first would
			// round them (or overflow) too early.
			return &expr.Call{Name: op, Args: []expr.Expr{l, r}, T: t.WithNullable(nullable)}, nil
		}
		return &expr.Call{Name: op, Args: []expr.Expr{coerce(l, t), coerce(r, t)}, T: t.WithNullable(nullable)}, nil
	case "||":
		for _, x := range []expr.Expr{l, r} {
			if k := x.Type().Kind; !x.Type().IsString() && k != types.Null {
				return nil, errAt(at, "operator || needs strings, got %s", x.Type())
			}
		}
		return &expr.Call{Name: "CONCAT", Args: []expr.Expr{l, r}, T: concatType(lt, rt).WithNullable(nullable)}, nil
	case "=", "<>", "<", "<=", ">", ">=":
		if !comparable(lt, rt) {
			return nil, errAt(at, "cannot compare %s with %s", lt, rt)
		}
		exact := (lt.Kind == types.Decimal || rt.Kind == types.Decimal) && (lt.Kind == types.Decimal || lt.IsInteger()) && (rt.Kind == types.Decimal || rt.IsInteger())
		if lt.IsNumeric() && rt.IsNumeric() && !lt.EqualIgnoringNull(rt) && !exact {
			// (The engine compares DECIMALs with DECIMALs and integers
			// exactly, whatever their scales.)
			t, _ := widen(lt, rt)
			l, r = coerce(l, t), coerce(r, t)
		}
		return &expr.Call{Name: op, Args: []expr.Expr{l, r}, T: types.BOOLEAN.WithNullable(nullable)}, nil
	case "AND", "OR":
		if err := wantBool(at, op, l); err != nil {
			return nil, err
		}
		if err := wantBool(at, op, r); err != nil {
			return nil, err
		}
		return &expr.Call{Name: op, Args: []expr.Expr{l, r}, T: types.BOOLEAN.WithNullable(nullable)}, nil
	case "IS DISTINCT FROM", "IS NOT DISTINCT FROM":
		return distinctFrom(at, op == "IS NOT DISTINCT FROM", l, r) // builtins_more.go
	}
	return nil, errAt(at, "operator %s is not supported", op)
}

func comparable(a, b types.T) bool {
	switch {
	case a.Kind == types.Null || b.Kind == types.Null:
		return true
	case a.IsNumeric() && b.IsNumeric():
		return true
	case a.IsString() && b.IsString(), a.IsBinary() && b.IsBinary():
		return true
	}
	return a.Kind == b.Kind && a.Kind != types.Array && a.Kind != types.Map && a.Kind != types.Row
}

func castable(from, to types.T) bool {
	switch {
	case from.Kind == types.Null:
		return true
	case from.Kind == types.Array || from.Kind == types.Map || from.Kind == types.Row,
		to.Kind == types.Array || to.Kind == types.Map || to.Kind == types.Row:
		return from.EqualIgnoringNull(to)
	}
	return exec.CanCast(from, to)
}

// builtins are the Go functions: name -> result type from argument types.
var builtins = map[string]func(at sql.Pos, args []expr.Expr) (types.T, error){
	"UPPER":       sameStringFn,
	"LOWER":       sameStringFn,
	"TRIM":        trimFn,
	"CONCAT":      stringFn(1, -1),
	"SUBSTRING":   substringFn,
	"CHAR_LENGTH": charLengthFn,
	"ABS": func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if len(args) != 1 || !args[0].Type().IsNumeric() {
			return types.T{}, errAt(at, "ABS takes one number")
		}
		return args[0].Type(), nil
	},
	"ROUND":    roundFn,
	"TRUNCATE": roundFn,
	"FLOOR":    floorFn,
	"CEIL":     floorFn,
	"SIGN": func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if len(args) != 1 || !args[0].Type().IsNumeric() {
			return types.T{}, errAt(at, "SIGN takes one number")
		}
		return args[0].Type(), nil
	},
	"POWER": doubleFn(2),
	"SQRT":  doubleFn(1),
	"LN":    doubleFn(1),
	"LOG10": doubleFn(1),
	"EXP":   doubleFn(1),
	"PI":    doubleFn(0),
	"GREATEST": func(at sql.Pos, args []expr.Expr) (types.T, error) {
		return extremeFn(at, args)
	},
	"LEAST": func(at sql.Pos, args []expr.Expr) (types.T, error) {
		return extremeFn(at, args)
	},
	"COALESCE": func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if len(args) == 0 {
			return types.T{}, errAt(at, "COALESCE needs arguments")
		}
		t, err := commonType(at, args)
		if err != nil {
			return types.T{}, err
		}
		nullable := true
		for _, a := range args {
			if !a.Type().Nullable {
				nullable = false
			}
		}
		return t.WithNullable(nullable), nil
	},
}

var builtinAliases = map[string]string{"CHARACTER_LENGTH": "CHAR_LENGTH", "SUBSTR": "SUBSTRING", "CEILING": "CEIL"}

// floorFn types FLOOR and CEIL as Flink (Calcite) does: DECIMAL(p, s)
// becomes DECIMAL(p, 0), other numbers keep their type.
func floorFn(at sql.Pos, args []expr.Expr) (types.T, error) {
	if len(args) != 1 || !args[0].Type().IsNumeric() {
		return types.T{}, errAt(at, "takes one number")
	}
	t := args[0].Type()
	if t.Kind == types.Decimal {
		return types.DECIMAL(t.Precision, 0).WithNullable(t.Nullable), nil
	}
	return t, nil
}

// doubleFn types a function of n numbers that gives a DOUBLE, NULL when
// an argument is.
func doubleFn(n int) func(sql.Pos, []expr.Expr) (types.T, error) {
	return func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if len(args) != n {
			return types.T{}, errAt(at, "takes %d number(s), got %d argument(s)", n, len(args))
		}
		nullable := false
		for _, a := range args {
			if !a.Type().IsNumeric() && a.Type().Kind != types.Null {
				return types.T{}, errAt(at, "needs numbers, got %s", a.Type())
			}
			nullable = nullable || a.Type().Nullable
		}
		return types.DOUBLE.WithNullable(nullable), nil
	}
}

// extremeFn types GREATEST and LEAST: the common type of the arguments,
// NULL when any of them is.
func extremeFn(at sql.Pos, args []expr.Expr) (types.T, error) {
	if len(args) == 0 {
		return types.T{}, errAt(at, "needs arguments")
	}
	t, err := commonType(at, args)
	if err != nil {
		return types.T{}, err
	}
	nullable := false
	for _, a := range args {
		nullable = nullable || a.Type().Nullable
		if !comparable(a.Type(), t) || isNested(a.Type()) {
			return types.T{}, errAt(at, "cannot compare %s", a.Type())
		}
	}
	return t.WithNullable(nullable), nil
}

func stringFn(min, max int) func(sql.Pos, []expr.Expr) (types.T, error) {
	return func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if len(args) < min || (max >= 0 && len(args) > max) {
			return types.T{}, errAt(at, "wrong number of arguments: got %d", len(args))
		}
		nullable := false
		for _, a := range args {
			if !a.Type().IsString() && a.Type().Kind != types.Null {
				return types.T{}, errAt(at, "needs strings, got %s", a.Type())
			}
			nullable = nullable || a.Type().Nullable
		}
		return types.STRING.WithNullable(nullable), nil
	}
}

// roundFn types ROUND(x [, d]) as Flink does: integers, FLOAT and DOUBLE
// keep their type; DECIMAL(p, s) becomes DECIMAL(p, s) when d >= s,
// DECIMAL(1 + p - s + d, d) when 0 <= d < s (rounding may add a digit) and
// DECIMAL(1 + p - s, 0) when d < 0. d must be an integer constant.
func roundFn(at sql.Pos, args []expr.Expr) (types.T, error) {
	if len(args) < 1 || len(args) > 2 || !args[0].Type().IsNumeric() {
		return types.T{}, errAt(at, "ROUND takes (number [, digits])")
	}
	d := 0
	nullable := args[0].Type().Nullable
	if len(args) == 2 {
		lit, ok := args[1].(*expr.Literal)
		if !ok || !lit.T.IsInteger() || lit.Value == nil {
			return types.T{}, errAt(at, "the number of digits must be an integer constant, got %s", args[1])
		}
		d = int(exec.ToInt64(lit.Value))
	}
	t := args[0].Type()
	if t.Kind != types.Decimal {
		return t, nil
	}
	p, s := t.Precision, t.Scale
	switch {
	case d >= s:
	case d < 0:
		p, s = min(38, 1+p-s), 0
	default:
		p, s = 1+p-s+d, d
	}
	return types.DECIMAL(p, s).WithNullable(nullable), nil
}

// concatType is the type of a || b as Flink derives it: CHAR(m + n) from two
// CHARs, VARCHAR(m + n) from CHARs and VARCHARs, STRING beyond.
func concatType(a, b types.T) types.T {
	if !a.IsString() || !b.IsString() || a.Length >= types.MaxLength || b.Length >= types.MaxLength {
		return types.STRING
	}
	n := min(a.Length+b.Length, types.MaxLength)
	if a.Kind == types.Char && b.Kind == types.Char {
		return types.CHAR(n)
	}
	return types.VARCHAR(n)
}

// sameStringFn types UPPER and LOWER: the type of their argument, as in
// Flink (the result keeps the length: UPPER('straße') is 'STRASS').
func sameStringFn(at sql.Pos, args []expr.Expr) (types.T, error) {
	t, err := stringFn(1, 1)(at, args)
	if err != nil || args[0].Type().Kind == types.Null {
		return t, err
	}
	return args[0].Type(), nil
}

// trimFn types TRIM: VARCHAR of the trimmed string's length (STRING stays
// STRING).
func trimFn(at sql.Pos, args []expr.Expr) (types.T, error) {
	t, err := stringFn(1, 3)(at, args)
	if err != nil {
		return t, err
	}
	x := args[len(args)-1].Type()
	if x.IsString() && x.Length < types.MaxLength {
		return types.VARCHAR(x.Length).WithNullable(t.Nullable), nil
	}
	return t, nil
}

func substringFn(at sql.Pos, args []expr.Expr) (types.T, error) {
	if len(args) < 2 || len(args) > 3 || !args[0].Type().IsString() {
		return types.T{}, errAt(at, "SUBSTRING takes (string, start [, length])")
	}
	nullable := false
	for i, a := range args {
		if i > 0 && !a.Type().IsInteger() {
			return types.T{}, errAt(at, "SUBSTRING positions must be integers, got %s", a.Type())
		}
		nullable = nullable || a.Type().Nullable
	}
	// As in Flink: VARCHAR of the string's length, and nullable.
	if x := args[0].Type(); x.Length < types.MaxLength {
		return types.VARCHAR(x.Length), nil
	}
	return types.STRING, nil
}

func charLengthFn(at sql.Pos, args []expr.Expr) (types.T, error) {
	if len(args) != 1 || !args[0].Type().IsString() {
		return types.T{}, errAt(at, "CHAR_LENGTH takes one string")
	}
	return types.INT.WithNullable(args[0].Type().Nullable), nil
}

func (b *binder) call(e *sql.FuncCall) (expr.Expr, error) {
	if b.cat.functions[strings.ToLower(e.Name)] == nil {
		if x, ok, err := b.temporalCall(e); ok { // temporal.go
			return x, err
		}
	}
	args := make([]expr.Expr, len(e.Args))
	for i, a := range e.Args {
		x, err := b.bind(a)
		if err != nil {
			return nil, err
		}
		args[i] = x
	}
	if fn := b.cat.functions[strings.ToLower(e.Name)]; fn != nil {
		if fn.Table {
			return nil, errAt(e.At, "%s is a table function; call it in FROM with LATERAL TABLE(%s(...))", fn.Name, fn.Name)
		}
		if udafOf(b.cat, e.Name) != nil {
			return nil, errAt(e.At, "%s is an aggregate function; call it in a SELECT list, HAVING or ORDER BY", fn.Name)
		}
		args, err := b.checkArgs(e, fn, args)
		if err != nil {
			return nil, err
		}
		return &expr.PyCall{Func: fn, Args: args, T: fn.ResultTypes[0]}, nil
	}
	name := strings.ToUpper(e.Name)
	if name == "ARRAY" || name == "MAP" || name == "ROW" {
		return b.constructor(e, name, args)
	}
	if a, ok := builtinAliases[name]; ok {
		name = a
	}
	switch name {
	case "MOD":
		if len(args) != 2 {
			return nil, errAt(e.At, "MOD takes two numbers")
		}
		return binary(e.At, "%", args[0], args[1])
	case "IF":
		// IF(c, a, b) is CASE WHEN c THEN a ELSE b END.
		if len(args) != 3 {
			return nil, errAt(e.At, "IF takes a condition and two values")
		}
		if err := wantBool(e.Args[0].Pos(), "IF", args[0]); err != nil {
			return nil, err
		}
		t, err := commonType(e.At, args[1:])
		if err != nil {
			return nil, err
		}
		// As in Flink, a nullable condition makes the result nullable.
		t = t.WithNullable(t.Nullable || args[0].Type().Nullable)
		return &expr.Case{Whens: []expr.When{{Cond: args[0], Result: coerce(args[1], t)}}, Else: coerce(args[2], t), T: t}, nil
	case "NULLIF":
		// NULLIF(a, b) is CASE WHEN a = b THEN NULL ELSE a END.
		if len(args) != 2 {
			return nil, errAt(e.At, "NULLIF takes two arguments")
		}
		eq, err := binary(e.At, "=", args[0], args[1])
		if err != nil {
			return nil, err
		}
		t := args[0].Type().WithNullable(true)
		return &expr.Case{Whens: []expr.When{{Cond: eq, Result: &expr.Literal{T: t}}}, Else: args[0], T: t}, nil
	}
	if (name == "ROUND" || name == "TRUNCATE") && len(args) == 2 {
		// The digits are a constant, -2 included (a NEG call here).
		if isConstant(args[1]) && args[1].Type().IsInteger() {
			v, err := fold(args[1])
			if err != nil {
				return nil, errAt(e.At, "ROUND: %v", err)
			}
			args[1] = &expr.Literal{Value: v, T: args[1].Type()}
		}
	}
	typeOf, ok := builtins[name]
	if !ok && isGroupWindowFunc(name) { // window.go
		return nil, errAt(e.At, "%s: group window functions (GROUP BY TUMBLE/HOP/SESSION(time, ...), TUMBLE_START, ...) are not supported by weir; use the window table functions, e.g. FROM TABLE(SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), INTERVAL '10' MINUTE)) GROUP BY k, window_start, window_end", e.Name)
	}
	if !ok {
		return nil, errAt(e.At, "unknown function %s; declare a Python function with CREATE TEMPORARY FUNCTION %s AS 'module.%s' LANGUAGE PYTHON", e.Name, e.Name, e.Name)
	}
	t, err := typeOf(e.At, args)
	if err != nil {
		if se, ok := err.(*sql.Error); ok {
			se.Msg = name + ": " + se.Msg
		}
		return nil, err
	}
	return &expr.Call{Name: name, Args: args, T: t}, nil
}

// checkArgs checks a Python call's arguments against the function's
// declaration and casts them to declared input types.
func (b *binder) checkArgs(e *sql.FuncCall, fn *expr.PyFunc, args []expr.Expr) ([]expr.Expr, error) {
	got := make([]string, len(args))
	for i, a := range args {
		got[i] = a.Type().String()
	}
	if fn.InputTypes != nil {
		want := make([]string, len(fn.InputTypes))
		for i, t := range fn.InputTypes {
			want[i] = t.String()
		}
		if len(args) != len(fn.InputTypes) {
			return nil, errAt(e.At, "function %s expects %d argument(s) (%s) but got %d (%s)", fn.Name, len(want), strings.Join(want, ", "), len(args), strings.Join(got, ", "))
		}
		out := make([]expr.Expr, len(args))
		for i, a := range args {
			wt := fn.InputTypes[i]
			at := a.Type()
			if pythonTransparent(at, wt) {
				// Python receives the same value with or without a cast, so
				// none is made (and a nested Python call stays fused).
				out[i] = a
				continue
			}
			ok := convertible(at, wt)
			if ok && isNested(at) && !isConstant(a) {
				// The Go engine cannot convert the elements of a computed
				// ARRAY, MAP or ROW.
				ok = false
			}
			if !ok {
				return nil, errAt(e.Args[i].Pos(), "function %s expects argument %d of type %s but got %s (arguments: %s)", fn.Name, i+1, wt, at, strings.Join(got, ", "))
			}
			out[i] = coerce(a, wt)
		}
		return out, nil
	}
	if ar, ok := b.cat.arity[fn]; ok {
		if len(args) < ar[0] || (ar[1] >= 0 && len(args) > ar[1]) {
			want := strconv.Itoa(ar[0])
			if ar[1] != ar[0] {
				if ar[1] < 0 {
					want = "at least " + want
				} else {
					want = want + " to " + strconv.Itoa(ar[1])
				}
			}
			return nil, errAt(e.At, "function %s takes %s argument(s) but got %d (%s)", fn.Name, want, len(args), strings.Join(got, ", "))
		}
	}
	return args, nil
}

// literal types a SQL literal the way Flink does.
func literal(l *sql.Literal) (expr.Expr, error) {
	switch l.Kind {
	case sql.LitInteger:
		return integerLiteral(l, strings.TrimLeft(l.Text, "+"))
	case sql.LitDecimal:
		return decimalLiteral(l)
	case sql.LitFloat:
		v, err := strconv.ParseFloat(l.Text, 64)
		if err != nil {
			return nil, errAt(l.At, "bad number %s", l.Text)
		}
		return &expr.Literal{Value: v, T: types.DOUBLE.NotNull()}, nil
	case sql.LitString:
		// As in Flink, 'abc' is a CHAR(3); the length counts UTF-16 units,
		// so '🙂' is a CHAR(2) (builtins_more.go).
		return &expr.Literal{Value: l.Text, T: types.CHAR(utf16Len(l.Text)).NotNull()}, nil
	case sql.LitBool:
		return &expr.Literal{Value: strings.EqualFold(l.Text, "TRUE"), T: types.BOOLEAN.NotNull()}, nil
	case sql.LitNull:
		return &expr.Literal{T: types.NULL}, nil
	case sql.LitBinary:
		v, err := hex.DecodeString(l.Text)
		if err != nil {
			return nil, errAt(l.At, "bad binary literal X'%s': %v", l.Text, err)
		}
		return &expr.Literal{Value: v, T: types.BYTES.NotNull()}, nil
	case sql.LitDate:
		d, err := time.Parse("2006-01-02", l.Text)
		if err != nil {
			return nil, errAt(l.At, "bad DATE '%s': write DATE 'YYYY-MM-DD'", l.Text)
		}
		return &expr.Literal{Value: arrow.Date32FromTime(d), T: types.DATE.NotNull()}, nil
	case sql.LitTime:
		for _, layout := range []string{"15:04:05.999999999", "15:04:05", "15:04"} {
			if t, err := time.Parse(layout, l.Text); err == nil {
				// TIME values are milliseconds of the day; the type keeps the
				// literal's fractional digits, as Flink's does.
				ms := (t.Hour()*3600+t.Minute()*60+t.Second())*1000 + t.Nanosecond()/1e6
				return &expr.Literal{Value: arrow.Time32(ms), T: types.TIME(fractionDigits(l.Text)).NotNull()}, nil
			}
		}
		return nil, errAt(l.At, "bad TIME '%s': write TIME 'HH:MM:SS[.fff]'", l.Text)
	case sql.LitTimestamp, sql.LitTimestampLTZ:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04", "2006-01-02"} {
			if t, err := time.Parse(layout, l.Text); err == nil {
				// The precision is the number of fractional digits written
				// (TIMESTAMP '2020-01-01 00:00:00.123456789' is TIMESTAMP(9)).
				p := fractionDigits(l.Text)
				ty := types.TIMESTAMP(p).NotNull()
				if l.Kind == sql.LitTimestampLTZ {
					ty = types.TIMESTAMP_LTZ(p).NotNull()
				}
				var v int64
				switch types.TimestampUnit(p) {
				case arrow.Millisecond:
					v = t.UnixMilli()
				case arrow.Microsecond:
					v = t.UnixMicro()
				default:
					// Nanoseconds since the epoch fit in an int64 only
					// between 1677-09-21 and 2262-04-11.
					if !inNanoRange(t) {
						return nil, errAt(l.At, "TIMESTAMP '%s' is outside the range of a timestamp with nanoseconds (1677-09-21 00:12:43.145224192 to 2262-04-11 23:47:16.854775807)", l.Text)
					}
					v = t.UnixNano()
				}
				return &expr.Literal{Value: arrow.Timestamp(v), T: ty}, nil
			}
		}
		return nil, errAt(l.At, "bad TIMESTAMP '%s': write TIMESTAMP 'YYYY-MM-DD HH:MM:SS[.fff]'", l.Text)
	}
	return nil, errAt(l.At, "unsupported literal")
}

// fractionDigits is the number of digits after the seconds' decimal point
// of a TIME or TIMESTAMP literal's text (0 when there is none).
func fractionDigits(text string) int {
	i := strings.LastIndexByte(text, '.')
	if i < 0 || strings.LastIndexByte(text, ':') > i {
		return 0
	}
	return min(len(text)-i-1, 9)
}

// inNanoRange reports whether t's nanoseconds since the epoch fit an int64.
func inNanoRange(t time.Time) bool {
	lo, hi := time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)
	return !t.Before(lo) && !t.After(hi)
}

// decimalLiteral types a literal with a decimal point as Calcite does for
// Flink: DECIMAL(p, s) with s the digits after the point and p every digit
// written, leading zeros included (007.50 is DECIMAL(5, 2)); 5. is the
// integer 5. Like Flink, it rejects literals whose digits, without the
// point, do not fit a BIGINT: wider values are written as CAST('...' AS
// DECIMAL(p, s)).
func decimalLiteral(l *sql.Literal) (expr.Expr, error) {
	text := strings.TrimLeft(l.Text, "+")
	intPart, frac, _ := strings.Cut(text, ".")
	if frac == "" {
		return integerLiteral(l, intPart)
	}
	p, s := len(strings.TrimLeft(intPart, "-"))+len(frac), len(frac)
	if _, err := strconv.ParseInt(intPart+frac, 10, 64); err != nil || p > 38 {
		return nil, errAt(l.At, "numeric literal %s is out of range: a DECIMAL literal may have at most 18 significant digits, as in Flink; write CAST('%s' AS DECIMAL(%d, %d))", l.Text, text, min(max(p, 1), 38), min(s, 38))
	}
	n, err := decimal128.FromString(text, int32(p), int32(s))
	if err != nil {
		return nil, errAt(l.At, "bad number %s: %v", l.Text, err)
	}
	return &expr.Literal{Value: n, T: types.DECIMAL(p, s).NotNull()}, nil
}

// integerLiteral types an integer literal as Flink does: INT when it fits,
// else BIGINT; beyond BIGINT it is out of range.
func integerLiteral(l *sql.Literal, text string) (expr.Expr, error) {
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		p := len(strings.TrimLeft(text, "-0"))
		return nil, errAt(l.At, "numeric literal %s is out of the range of BIGINT, as in Flink; write CAST('%s' AS DECIMAL(%d, 0))", l.Text, text, min(max(p, 1), 38))
	}
	if v >= math.MinInt32 && v <= math.MaxInt32 {
		return &expr.Literal{Value: int32(v), T: types.INT.NotNull()}, nil
	}
	return &expr.Literal{Value: v, T: types.BIGINT.NotNull()}, nil
}
