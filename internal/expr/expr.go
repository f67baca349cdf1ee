// Package expr is weir's typed expression tree: what the planner produces from
// SQL and what the engine evaluates over Arrow batches. Python function calls
// appear here only until the planner moves them into a Python stage; the
// engine never evaluates a PyCall.
//
// expr imports only types and arrow-go.
package expr

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/weir-dev/weir/internal/types"
)

// Expr is a typed expression over the columns of one input batch.
type Expr interface {
	// Type is the SQL type of the expression's value.
	Type() types.T
	// String renders the expression for plans and error messages.
	String() string
}

// Column refers to the column at Index of the input.
type Column struct {
	Index int
	Name  string
	T     types.T
}

// Literal is a constant. Value holds the value in the Go type of the Arrow
// storage of T: int8, int16, int32, int64, bool, float32, float64,
// decimal128.Num, string, []byte, arrow.Date32, arrow.Time32 (milliseconds),
// arrow.Timestamp (in the unit of types.TimestampUnit(T.Precision)); nil is NULL.
type Literal struct {
	Value any
	T     types.T
}

// Call is a call of a built-in function or operator evaluated by the engine.
// Name is the upper-case SQL name: "+", "-", "*", "/", "%", "NEG", "=", "<>",
// "<", "<=", ">", ">=", "AND", "OR", "NOT", "IS NULL", "IS NOT NULL",
// "UPPER", "LOWER", "CONCAT", "SUBSTRING", "CHAR_LENGTH", "TRIM", "ABS",
// "ROUND", "FLOOR", "CEIL", "TRUNCATE", "SIGN", "POWER", "SQRT", "LN",
// "LOG10", "EXP", "PI", "GREATEST", "LEAST", "COALESCE" (IF, NULLIF and MOD
// are planned as CASE and %).
type Call struct {
	Name string
	Args []Expr
	T    types.T
}

// Cast converts X to T. A Cast with Try set is TRY_CAST: a value that cannot
// be converted becomes NULL instead of failing the job.
type Cast struct {
	X   Expr
	T   types.T
	Try bool
}

// When is one WHEN cond THEN result branch of a Case.
type When struct {
	Cond, Result Expr
}

// Case is CASE WHEN ... THEN ... [ELSE ...] END; a missing ELSE is NULL.
type Case struct {
	Whens []When
	Else  Expr // nil means NULL
	T     types.T
}

// PyFunc is a Python user-defined function known to the planner.
type PyFunc struct {
	// Name is the SQL name the function was registered under.
	Name string
	// Module and Attr locate the function: `import Module; Module.Attr`.
	Module, Attr string
	// Table is true for a table function (udtf).
	Table bool
	// Deterministic is false when the function asked not to be deduplicated.
	Deterministic bool
	// FuncType is how a scalar function is called: "general" (or empty)
	// once per row, "pandas" or "arrow" once per batch (vectorized).
	FuncType string
	// InputTypes are the declared argument types; nil when not declared.
	InputTypes []types.T
	// ResultTypes has one type for a scalar function and the row's columns
	// for a table function.
	ResultTypes []types.T
}

// PyCall is a call of a Python function; the planner replaces it by a column
// of a Python stage.
type PyCall struct {
	Func *PyFunc
	Args []Expr
	T    types.T
}

func (e *Column) Type() types.T  { return e.T }
func (e *Literal) Type() types.T { return e.T }
func (e *Call) Type() types.T    { return e.T }
func (e *Cast) Type() types.T    { return e.T }
func (e *Case) Type() types.T    { return e.T }
func (e *PyCall) Type() types.T  { return e.T }

func (e *Column) String() string {
	if e.Name != "" {
		return e.Name
	}
	return fmt.Sprintf("$%d", e.Index)
}

func (e *Literal) String() string {
	if e.Value == nil {
		return fmt.Sprintf("CAST(NULL AS %s)", e.T)
	}
	return literalString(e.Value, e.T)
}

// literalString renders a Literal-style value in SQL notation.
func literalString(v any, t types.T) string {
	if v == nil {
		return "NULL"
	}
	switch v := v.(type) {
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case []byte:
		return fmt.Sprintf("X'%X'", v)
	case decimal128.Num:
		return v.ToString(int32(t.Scale))
	case arrow.Date32:
		return "DATE '" + v.FormattedString() + "'"
	case arrow.Time32:
		return "TIME '" + v.FormattedString(arrow.Millisecond) + "'"
	case arrow.Timestamp:
		unit := types.TimestampUnit(t.Precision)
		ts := v.ToTime(unit).UTC().Format("2006-01-02 15:04:05.999999999")
		if t.Kind == types.TimestampLTZ {
			return "TIMESTAMP_LTZ '" + ts + "'"
		}
		return "TIMESTAMP '" + ts + "'"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			switch {
			case t.Kind == types.Array:
				parts[i] = literalString(x, *t.Elem)
			case t.Kind == types.Row && i < len(t.Fields):
				parts[i] = literalString(x, t.Fields[i].Type)
			default:
				parts[i] = fmt.Sprint(x)
			}
		}
		if t.Kind == types.Row {
			return "ROW(" + strings.Join(parts, ", ") + ")"
		}
		return "ARRAY[" + strings.Join(parts, ", ") + "]"
	case [][2]any:
		parts := make([]string, 0, 2*len(v))
		for _, kv := range v {
			parts = append(parts, literalString(kv[0], *t.Key), literalString(kv[1], *t.Value))
		}
		return "MAP[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

func (e *Call) String() string {
	switch {
	case e.Name == "NEG":
		return "-" + e.Args[0].String()
	case e.Name == "NOT":
		return "NOT " + e.Args[0].String()
	case e.Name == "IS NULL" || e.Name == "IS NOT NULL":
		return e.Args[0].String() + " " + e.Name
	case len(e.Args) == 2 && isOperator(e.Name):
		return "(" + e.Args[0].String() + " " + e.Name + " " + e.Args[1].String() + ")"
	}
	return e.Name + "(" + join(e.Args) + ")"
}

func (e *Cast) String() string {
	name := "CAST("
	if e.Try {
		name = "TRY_CAST("
	}
	return name + e.X.String() + " AS " + e.T.String() + ")"
}

func (e *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, w := range e.Whens {
		b.WriteString(" WHEN " + w.Cond.String() + " THEN " + w.Result.String())
	}
	if e.Else != nil {
		b.WriteString(" ELSE " + e.Else.String())
	}
	b.WriteString(" END")
	return b.String()
}

func (e *PyCall) String() string { return e.Func.Name + "(" + join(e.Args) + ")" }

func isOperator(name string) bool {
	switch name {
	case "+", "-", "*", "/", "%", "=", "<>", "<", "<=", ">", ">=", "AND", "OR":
		return true
	}
	return false
}

func join(args []Expr) string {
	s := make([]string, len(args))
	for i, a := range args {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// Walk calls f on e and then on each sub-expression, depth first, as long as f
// returns true.
func Walk(e Expr, f func(Expr) bool) {
	if e == nil || !f(e) {
		return
	}
	for _, c := range Children(e) {
		Walk(c, f)
	}
}

// Children returns the direct sub-expressions of e.
func Children(e Expr) []Expr {
	switch e := e.(type) {
	case *Call:
		return e.Args
	case *PyCall:
		return e.Args
	case *Cast:
		return []Expr{e.X}
	case *Case:
		var cs []Expr
		for _, w := range e.Whens {
			cs = append(cs, w.Cond, w.Result)
		}
		if e.Else != nil {
			cs = append(cs, e.Else)
		}
		return cs
	}
	return nil
}

// HasPyCall reports whether e contains a Python call.
func HasPyCall(e Expr) bool {
	found := false
	Walk(e, func(x Expr) bool {
		if _, ok := x.(*PyCall); ok {
			found = true
		}
		return !found
	})
	return found
}
