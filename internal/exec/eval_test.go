package exec

import (
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

func col(i int, name string, t types.T) *expr.Column { return &expr.Column{Index: i, Name: name, T: t} }
func lit(v any, t types.T) *expr.Literal             { return &expr.Literal{Value: v, T: t} }
func call(name string, t types.T, args ...expr.Expr) *expr.Call {
	return &expr.Call{Name: name, Args: args, T: t}
}
func cast(x expr.Expr, t types.T) *expr.Cast { return &expr.Cast{X: x, T: t} }
func dec(unscaled int64) decimal128.Num      { return decimal128.FromI64(unscaled) }

// newBatch builds a record batch from Literal-style column values.
func newBatch(t testing.TB, mem memory.Allocator, schema types.Schema, cols ...[]any) arrow.RecordBatch {
	t.Helper()
	arrs := make([]arrow.Array, len(cols))
	for i, vals := range cols {
		a, err := BuildArray(mem, schema[i].Type, vals)
		if err != nil {
			t.Fatalf("column %d: %v", i, err)
		}
		arrs[i] = a
	}
	n := int64(0)
	if len(cols) > 0 {
		n = int64(len(cols[0]))
	}
	b := array.NewRecordBatch(schema.Arrow(), arrs, n)
	release(arrs...)
	return b
}

// checkArray compares an array with the expected type and values.
func checkArray(t *testing.T, got arrow.Array, typ types.T, want []any) {
	t.Helper()
	if !arrow.TypeEqual(got.DataType(), typ.Arrow()) {
		t.Errorf("type = %s, want %s", got.DataType(), typ.Arrow())
	}
	if got.Len() != len(want) {
		t.Fatalf("len = %d, want %d", got.Len(), len(want))
	}
	for i, w := range want {
		g := valueAt(got, i)
		if !sameValue(g, w) {
			t.Errorf("row %d = %#v, want %#v", i, g, w)
		}
	}
}

func sameValue(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || x != x && y != y)
	case float32:
		y, ok := b.(float32)
		return ok && (x == y || x != x && y != y)
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	}
	return a == b
}

var (
	tsType  = types.TIMESTAMP(3)
	decType = types.DECIMAL(10, 2)
)

// testSchema and testCols are the input of the Eval table tests.
var testSchema = types.Schema{
	{Name: "i32", Type: types.INT},
	{Name: "i32b", Type: types.INT},
	{Name: "i64", Type: types.BIGINT},
	{Name: "f64", Type: types.DOUBLE},
	{Name: "s", Type: types.STRING},
	{Name: "b", Type: types.BOOLEAN},
	{Name: "b2", Type: types.BOOLEAN},
	{Name: "d", Type: types.DATE},
	{Name: "ts", Type: tsType},
	{Name: "dec", Type: decType},
	{Name: "i8", Type: types.TINYINT},
	{Name: "f32", Type: types.FLOAT},
	{Name: "sn", Type: types.STRING},
}

var testCols = [][]any{
	{int32(1), int32(-2), nil, int32(7), int32(math.MaxInt32)},
	{int32(2), int32(0), int32(3), nil, int32(1)},
	{int64(10), int64(-20), int64(30), nil, int64(math.MaxInt64)},
	{1.5, -0.5, nil, 2.0, math.NaN()},
	{"abc", "Héllo", nil, "  pad  ", ""},
	{true, false, nil, true, false},
	{nil, nil, nil, false, true},
	{arrow.Date32(18262), arrow.Date32(0), nil, arrow.Date32(-1), arrow.Date32(19000)},
	{arrow.Timestamp(1577880000000), arrow.Timestamp(0), nil, arrow.Timestamp(-1), arrow.Timestamp(1577880000001)},
	{dec(150), dec(-25), nil, dec(10000), dec(1)},
	{int8(127), int8(-128), nil, int8(1), int8(0)},
	{float32(1.5), float32(0.1), nil, float32(-2), float32(3e38)},
	{"12", " -3 ", "1.9", nil, "2147483647"},
}

var (
	cI32  = col(0, "i32", types.INT)
	cI32b = col(1, "i32b", types.INT)
	cI64  = col(2, "i64", types.BIGINT)
	cF64  = col(3, "f64", types.DOUBLE)
	cS    = col(4, "s", types.STRING)
	cB    = col(5, "b", types.BOOLEAN)
	cB2   = col(6, "b2", types.BOOLEAN)
	cD    = col(7, "d", types.DATE)
	cTS   = col(8, "ts", tsType)
	cDec  = col(9, "dec", decType)
	cI8   = col(10, "i8", types.TINYINT)
	cF32  = col(11, "f32", types.FLOAT)
	cSN   = col(12, "sn", types.STRING)
)

type evalCase struct {
	name string
	e    expr.Expr
	want []any
	err  string // substring of the expected error
}

func evalCases() []evalCase {
	INT, BIGINT, DOUBLE, BOOL, STR := types.INT, types.BIGINT, types.DOUBLE, types.BOOLEAN, types.STRING
	T, F := true, false
	return []evalCase{
		// Literals and columns.
		{name: "column", e: cI32, want: []any{int32(1), int32(-2), nil, int32(7), int32(math.MaxInt32)}},
		{name: "literal int", e: lit(int32(5), INT), want: []any{int32(5), int32(5), int32(5), int32(5), int32(5)}},
		{name: "literal string", e: lit("x", STR), want: []any{"x", "x", "x", "x", "x"}},
		{name: "literal null", e: lit(nil, INT), want: []any{nil, nil, nil, nil, nil}},
		{name: "literal bool", e: lit(true, BOOL), want: []any{T, T, T, T, T}},
		{name: "literal decimal", e: lit(dec(5), decType), want: []any{dec(5), dec(5), dec(5), dec(5), dec(5)}},
		{name: "literal bad go type", e: lit(5, INT), err: "literal 5: a value of INT must be a Go int32, not int (5)"},
		{name: "pycall", e: &expr.PyCall{Func: &expr.PyFunc{Name: "f"}, T: INT}, err: "cannot evaluate the Python function call f()"},
		{name: "column type mismatch", e: col(0, "i32", BIGINT), err: "column i32 is declared BIGINT (Arrow int64) but the batch holds int32"},

		// Arithmetic.
		{name: "int plus wraps", e: call("+", INT, cI32, cI32b), want: []any{int32(3), int32(-2), nil, nil, int32(math.MinInt32)}},
		{name: "int minus", e: call("-", INT, cI32, cI32b), want: []any{int32(-1), int32(-2), nil, nil, int32(math.MaxInt32 - 1)}},
		{name: "int times", e: call("*", INT, cI32, cI32b), want: []any{int32(2), int32(0), nil, nil, int32(math.MaxInt32)}},
		{name: "int divide truncates", e: call("/", INT, cI32, lit(int32(2), INT)), want: []any{int32(0), int32(-1), nil, int32(3), int32(1073741823)}},
		{name: "int remainder", e: call("%", INT, cI32, lit(int32(3), INT)), want: []any{int32(1), int32(-2), nil, int32(1), int32(1)}},
		{name: "int divide by zero", e: call("/", INT, cI32, cI32b), err: "division by zero (-2 / 0) in (i32 / i32b)"},
		{name: "int divide by zero literal", e: call("%", INT, cI32, lit(int32(0), INT)), err: "division by zero (1 % 0) in (i32 % 0)"},
		{name: "int divide by null", e: call("/", INT, cI32, lit(nil, INT)), want: []any{nil, nil, nil, nil, nil}},
		{name: "mixed widths", e: call("+", BIGINT, cI32, cI64), want: []any{int64(11), int64(-22), nil, nil, int64(-9223372034707292162)}},
		{name: "tinyint wraps", e: call("+", types.TINYINT, cI8, cI8), want: []any{int8(-2), int8(0), nil, int8(2), int8(0)}},
		{name: "double times int literal", e: call("*", DOUBLE, cF64, lit(int32(2), INT)), want: []any{3.0, -1.0, nil, 4.0, math.NaN()}},
		{name: "double divide by zero", e: call("/", DOUBLE, cF64, lit(0.0, DOUBLE)), want: []any{math.Inf(1), math.Inf(-1), nil, math.Inf(1), math.NaN()}},
		{name: "double remainder", e: call("%", DOUBLE, cF64, lit(1.0, DOUBLE)), want: []any{0.5, -0.5, nil, 0.0, math.NaN()}},
		{name: "float plus", e: call("+", types.FLOAT, cF32, lit(float32(1), types.FLOAT)), want: []any{float32(2.5), float32(1.1), nil, float32(-1), float32(3e38)}},
		{name: "neg", e: call("NEG", INT, cI32), want: []any{int32(-1), int32(2), nil, int32(-7), int32(-math.MaxInt32)}},
		{name: "neg wraps", e: call("NEG", types.TINYINT, cI8), want: []any{int8(-127), int8(-128), nil, int8(-1), int8(0)}},
		{name: "neg double", e: call("NEG", DOUBLE, cF64), want: []any{-1.5, 0.5, nil, -2.0, math.NaN()}},
		{name: "neg decimal", e: call("NEG", decType, cDec), want: []any{dec(-150), dec(25), nil, dec(-10000), dec(-1)}},
		{name: "abs", e: call("ABS", INT, cI32), want: []any{int32(1), int32(2), nil, int32(7), int32(math.MaxInt32)}},
		{name: "abs tinyint min", e: call("ABS", types.TINYINT, cI8), want: []any{int8(127), int8(-128), nil, int8(1), int8(0)}},
		{name: "abs double", e: call("ABS", DOUBLE, cF64), want: []any{1.5, 0.5, nil, 2.0, math.NaN()}},
		{name: "abs decimal", e: call("ABS", decType, cDec), want: []any{dec(150), dec(25), nil, dec(10000), dec(1)}},
		{name: "decimal plus", e: call("+", types.DECIMAL(11, 2), cDec, cDec), want: []any{dec(300), dec(-50), nil, dec(20000), dec(2)}},
		{name: "decimal times", e: call("*", types.DECIMAL(21, 4), cDec, cDec), want: []any{dec(22500), dec(625), nil, dec(100000000), dec(1)}},
		{name: "decimal divide", e: call("/", types.DECIMAL(16, 6), cDec, lit(int32(3), INT)), want: []any{dec(500000), dec(-83333), nil, dec(33333333), dec(3333)}},
		{name: "decimal divide rounds half up", e: call("/", types.DECIMAL(16, 3), cDec, lit(int32(8), INT)), want: []any{dec(188), dec(-31), nil, dec(12500), dec(1)}},
		{name: "decimal overflow is null", e: call("*", decType, cDec, lit(int64(100000000), BIGINT)), want: []any{nil, dec(-2500000000), nil, nil, dec(100000000)}},
		{name: "decimal remainder", e: call("%", decType, cDec, lit(dec(100), decType)), want: []any{dec(50), dec(-25), nil, dec(0), dec(1)}},
		{name: "decimal divide by zero", e: call("/", decType, cDec, lit(int32(0), INT)), err: "division by zero (1.50 / 0) in (dec / 0)"},
		{name: "decimal plus int", e: call("+", types.DECIMAL(12, 2), cDec, cI32), want: []any{dec(250), dec(-225), nil, dec(10700), dec(214748364701)}},
		{name: "arith on string", e: call("+", INT, cS, cI32), err: "+ needs numeric operands, not STRING"},

		// Comparisons.
		{name: "int lt", e: call("<", BOOL, cI32, cI32b), want: []any{T, T, nil, nil, F}},
		{name: "int eq bigint", e: call("=", BOOL, cI32, cI64), want: []any{F, F, nil, nil, F}},
		{name: "int ge literal", e: call(">=", BOOL, cI32, lit(int32(1), INT)), want: []any{T, F, nil, T, T}},
		{name: "literal lt int", e: call("<", BOOL, lit(int32(1), INT), cI32), want: []any{F, F, nil, T, T}},
		{name: "int gt bigint literal", e: call(">", BOOL, cI32, lit(int64(1), BIGINT)), want: []any{F, F, nil, T, T}},
		{name: "int le", e: call("<=", BOOL, cI32, cI32b), want: []any{T, T, nil, nil, F}},
		{name: "double ne nan", e: call("<>", BOOL, cF64, cF64), want: []any{F, F, nil, F, T}},
		{name: "double eq nan", e: call("=", BOOL, cF64, cF64), want: []any{T, T, nil, T, F}},
		{name: "double lt nan", e: call("<", BOOL, cF64, lit(3.0, DOUBLE)), want: []any{T, T, nil, T, F}},
		{name: "tinyint lt float", e: call("<", BOOL, cI8, cF32), want: []any{F, T, nil, F, T}},
		{name: "string lt", e: call("<", BOOL, cS, lit("b", STR)), want: []any{T, T, nil, T, T}},
		{name: "string eq", e: call("=", BOOL, cS, lit("abc", STR)), want: []any{T, F, nil, F, F}},
		{name: "string ne column", e: call("<>", BOOL, cS, cSN), want: []any{T, T, nil, nil, T}},
		{name: "bool eq", e: call("=", BOOL, cB, lit(true, BOOL)), want: []any{T, F, nil, T, F}},
		{name: "bool lt", e: call("<", BOOL, cB, cB2), want: []any{nil, nil, nil, F, T}},
		{name: "date lt", e: call("<", BOOL, cD, lit(arrow.Date32(0), types.DATE)), want: []any{F, F, nil, T, F}},
		{name: "timestamp gt", e: call(">", BOOL, cTS, lit(arrow.Timestamp(0), tsType)), want: []any{T, F, nil, F, T}},
		{name: "timestamp precisions", e: call("=", BOOL, cTS, lit(arrow.Timestamp(1577880000000000), types.TIMESTAMP(6))), want: []any{T, F, nil, F, F}},
		{name: "date eq timestamp", e: call("=", BOOL, cD, cTS), want: []any{F, T, nil, F, F}},
		{name: "decimal gt int", e: call(">", BOOL, cDec, cI32), want: []any{T, T, nil, T, F}},
		{name: "decimal eq double", e: call("=", BOOL, cDec, lit(1.5, DOUBLE)), want: []any{T, F, nil, F, F}},
		{name: "compare with null", e: call("=", BOOL, cI32, lit(nil, types.NULL)), want: []any{nil, nil, nil, nil, nil}},
		{name: "compare string with int", e: call("=", BOOL, cS, cI32), err: "cannot compare STRING with INT"},

		// Logic.
		{name: "and", e: call("AND", BOOL, cB, cB2), want: []any{nil, F, nil, F, F}},
		{name: "or", e: call("OR", BOOL, cB, cB2), want: []any{T, nil, nil, T, T}},
		{name: "and three", e: call("AND", BOOL, cB, cB2, lit(false, BOOL)), want: []any{F, F, F, F, F}},
		{name: "or null literal", e: call("OR", BOOL, cB, lit(nil, types.NULL)), want: []any{T, nil, nil, T, nil}},
		{name: "not", e: call("NOT", BOOL, cB), want: []any{F, T, nil, F, T}},
		{name: "is null", e: call("IS NULL", BOOL, cB), want: []any{F, F, T, F, F}},
		{name: "is not null", e: call("IS NOT NULL", BOOL, cS), want: []any{T, T, F, T, T}},
		{name: "is null literal", e: call("IS NULL", BOOL, lit(nil, types.NULL)), want: []any{T, T, T, T, T}},
		{name: "and skips division", e: call("AND", BOOL,
			call("<>", BOOL, cI32b, lit(int32(0), INT)),
			call(">", BOOL, call("/", INT, cI32, cI32b), lit(int32(0), INT))),
			want: []any{F, F, nil, nil, T}},
		{name: "or skips division", e: call("OR", BOOL,
			call("=", BOOL, cI32b, lit(int32(0), INT)),
			call(">", BOOL, call("/", INT, cI32, cI32b), lit(int32(0), INT))),
			want: []any{F, T, nil, nil, T}},

		// Strings.
		{name: "upper", e: call("UPPER", STR, cS), want: []any{"ABC", "HÉLLO", nil, "  PAD  ", ""}},
		{name: "lower", e: call("LOWER", STR, cS), want: []any{"abc", "héllo", nil, "  pad  ", ""}},
		{name: "concat", e: call("CONCAT", STR, cS, lit("-", STR), cS), want: []any{"abc-abc", "Héllo-Héllo", nil, "  pad  -  pad  ", "-"}},
		{name: "concat null", e: call("CONCAT", STR, cS, cSN), want: []any{"abc12", "Héllo -3 ", nil, nil, "2147483647"}},
		{name: "substring from", e: call("SUBSTRING", STR, cS, lit(int32(2), INT)), want: []any{"bc", "éllo", nil, " pad  ", ""}},
		{name: "substring for", e: call("SUBSTRING", STR, cS, lit(int32(2), INT), lit(int32(2), INT)), want: []any{"bc", "él", nil, " p", ""}},
		{name: "substring negative", e: call("SUBSTRING", STR, cS, lit(int32(-3), INT), lit(int32(2), INT)), want: []any{"ab", "ll", nil, "d ", ""}},
		{name: "substring zero", e: call("SUBSTRING", STR, cS, lit(int32(0), INT), lit(int32(2), INT)), want: []any{"ab", "Hé", nil, "  ", ""}},
		{name: "substring beyond", e: call("SUBSTRING", STR, cS, lit(int32(9), INT)), want: []any{"", "", nil, "", ""}},
		{name: "substring negative length", e: call("SUBSTRING", STR, cS, lit(int32(1), INT), lit(int32(-1), INT)), want: []any{nil, nil, nil, nil, nil}},
		{name: "substring column start", e: call("SUBSTRING", STR, cS, cI32b), want: []any{"bc", "Héllo", nil, nil, ""}},
		{name: "char_length", e: call("CHAR_LENGTH", INT, cS), want: []any{int32(3), int32(5), nil, int32(7), int32(0)}},
		{name: "trim", e: call("TRIM", STR, cS), want: []any{"abc", "Héllo", nil, "pad", ""}},
		{name: "trim leading", e: call("TRIM", STR, lit("LEADING", STR), lit(" a", STR), cS), want: []any{"bc", "Héllo", nil, "pad  ", ""}},
		{name: "upper of int", e: call("UPPER", STR, cI32), err: "argument 1 must be a string, not INT"},

		// COALESCE and CASE.
		{name: "coalesce", e: call("COALESCE", INT, cI32, cI32b, lit(int32(0), INT)), want: []any{int32(1), int32(-2), int32(3), int32(7), int32(math.MaxInt32)}},
		{name: "coalesce bool", e: call("COALESCE", BOOL, cB2, cB), want: []any{T, F, nil, F, T}},
		{name: "coalesce widens", e: call("COALESCE", BIGINT, cI64, cI32), want: []any{int64(10), int64(-20), int64(30), int64(7), int64(math.MaxInt64)}},
		{name: "coalesce string", e: call("COALESCE", STR, cS, lit("none", STR)), want: []any{"abc", "Héllo", "none", "  pad  ", ""}},
		{name: "coalesce skips division", e: call("COALESCE", INT, cI32b, call("/", INT, cI32, cI32b)), want: []any{int32(2), int32(0), int32(3), nil, int32(1)}},
		{name: "case", e: &expr.Case{T: STR, Whens: []expr.When{
			{Cond: call(">", BOOL, cI32, lit(int32(0), INT)), Result: lit("pos", STR)},
			{Cond: call("<", BOOL, cI32, lit(int32(0), INT)), Result: lit("neg", STR)},
		}}, want: []any{"pos", "neg", nil, "pos", "pos"}},
		{name: "case first true wins", e: &expr.Case{T: INT, Whens: []expr.When{
			{Cond: cB2, Result: lit(int32(1), INT)},
			{Cond: cB, Result: lit(int32(2), INT)},
		}, Else: lit(int32(3), INT)}, want: []any{int32(2), int32(3), int32(3), int32(2), int32(1)}},
		{name: "case guards division", e: &expr.Case{T: INT, Whens: []expr.When{
			{Cond: call("=", BOOL, cI32b, lit(int32(0), INT)), Result: lit(int32(-1), INT)},
		}, Else: call("/", INT, cI32, cI32b)}, want: []any{int32(0), int32(-1), nil, nil, int32(math.MaxInt32)}},
		{name: "case widens", e: &expr.Case{T: BIGINT, Whens: []expr.When{{Cond: cB, Result: cI32}}, Else: cI64},
			want: []any{int64(1), int64(-20), int64(30), int64(7), int64(math.MaxInt64)}},
		{name: "case null branch", e: &expr.Case{T: decType, Whens: []expr.When{{Cond: cB, Result: lit(nil, types.NULL)}}, Else: cDec},
			want: []any{nil, dec(-25), nil, nil, dec(1)}},

		// Casts.
		{name: "cast string to int", e: cast(cSN, INT), want: []any{int32(12), int32(-3), int32(1), nil, int32(math.MaxInt32)}},
		{name: "cast string to int fails", e: cast(cS, INT), err: "CAST(s AS INT): cannot cast 'abc' to INT"},
		{name: "cast string to tinyint out of range", e: cast(cSN, types.TINYINT), err: "cannot cast '2147483647' to TINYINT"},
		{name: "cast string to double", e: cast(cSN, DOUBLE), want: []any{12.0, -3.0, 1.9, nil, 2147483647.0}},
		{name: "cast string to decimal", e: cast(cSN, types.DECIMAL(5, 1)), want: []any{dec(120), dec(-30), dec(19), nil, nil}},
		{name: "cast double to int", e: cast(cF64, INT), want: []any{int32(1), int32(0), nil, int32(2), int32(0)}},
		{name: "cast float to int saturates", e: cast(cF32, INT), want: []any{int32(1), int32(0), nil, int32(-2), int32(math.MaxInt32)}},
		{name: "cast float to tinyint", e: cast(cF32, types.TINYINT), want: []any{int8(1), int8(0), nil, int8(-2), int8(-1)}},
		{name: "cast int to tinyint wraps", e: cast(cI32, types.TINYINT), want: []any{int8(1), int8(-2), nil, int8(7), int8(-1)}},
		{name: "cast bigint to int", e: cast(cI64, INT), want: []any{int32(10), int32(-20), int32(30), nil, int32(-1)}},
		{name: "cast int to double", e: cast(cI32, DOUBLE), want: []any{1.0, -2.0, nil, 7.0, 2147483647.0}},
		{name: "cast decimal to int", e: cast(cDec, INT), want: []any{int32(1), int32(0), nil, int32(100), int32(0)}},
		{name: "cast decimal to double", e: cast(cDec, DOUBLE), want: []any{1.5, -0.25, nil, 100.0, 0.01}},
		{name: "cast decimal rounds", e: cast(cDec, types.DECIMAL(3, 1)), want: []any{dec(15), dec(-3), nil, nil, dec(0)}},
		{name: "cast double to decimal", e: cast(cF64, types.DECIMAL(5, 2)), err: "CAST(f64 AS DECIMAL(5, 2)): cannot cast NaN to DECIMAL(5, 2)"},
		{name: "cast float to decimal", e: cast(cF32, types.DECIMAL(5, 2)), want: []any{dec(150), dec(10), nil, dec(-200), nil}},
		{name: "cast int to string", e: cast(cI32, STR), want: []any{"1", "-2", nil, "7", "2147483647"}},
		{name: "cast double to string", e: cast(cF64, STR), want: []any{"1.5", "-0.5", nil, "2.0", "NaN"}},
		{name: "cast float to string", e: cast(cF32, STR), want: []any{"1.5", "0.1", nil, "-2.0", "3.0E38"}},
		{name: "cast decimal to string", e: cast(cDec, STR), want: []any{"1.50", "-0.25", nil, "100.00", "0.01"}},
		{name: "cast bool to string", e: cast(cB, STR), want: []any{"TRUE", "FALSE", nil, "TRUE", "FALSE"}},
		{name: "cast bool to int", e: cast(cB, INT), want: []any{int32(1), int32(0), nil, int32(1), int32(0)}},
		{name: "cast int to bool", e: cast(cI32b, BOOL), want: []any{T, F, T, nil, T}},
		{name: "cast date to string", e: cast(cD, STR), want: []any{"2020-01-01", "1970-01-01", nil, "1969-12-31", "2022-01-08"}},
		{name: "cast timestamp to string", e: cast(cTS, STR), want: []any{"2020-01-01 12:00:00.000", "1970-01-01 00:00:00.000", nil, "1969-12-31 23:59:59.999", "2020-01-01 12:00:00.001"}},
		{name: "cast timestamp to date", e: cast(cTS, types.DATE), want: []any{arrow.Date32(18262), arrow.Date32(0), nil, arrow.Date32(-1), arrow.Date32(18262)}},
		{name: "cast timestamp to time", e: cast(cTS, types.TIME(0)), want: []any{arrow.Time32(43200000), arrow.Time32(0), nil, arrow.Time32(86399000), arrow.Time32(43200000)}},
		{name: "cast timestamp precision", e: cast(cTS, types.TIMESTAMP(6)), want: []any{arrow.Timestamp(1577880000000000), arrow.Timestamp(0), nil, arrow.Timestamp(-1000), arrow.Timestamp(1577880000001000)}},
		{name: "cast timestamp to seconds", e: cast(cTS, types.TIMESTAMP(0)), want: []any{arrow.Timestamp(1577880000000), arrow.Timestamp(0), nil, arrow.Timestamp(-1000), arrow.Timestamp(1577880000000)}},
		{name: "cast date to timestamp", e: cast(cD, tsType), want: []any{arrow.Timestamp(1577836800000), arrow.Timestamp(0), nil, arrow.Timestamp(-86400000), arrow.Timestamp(19000 * 86400000)}},
		{name: "cast string to char", e: cast(cS, types.CHAR(4)), want: []any{"abc ", "Héll", nil, "  pa", "    "}},
		{name: "cast string to varchar", e: cast(cS, types.VARCHAR(2)), want: []any{"ab", "Hé", nil, "  ", ""}},
		{name: "cast string to bytes", e: cast(cS, types.BYTES), want: []any{[]byte("abc"), []byte("Héllo"), nil, []byte("  pad  "), []byte("")}},
		{name: "cast null", e: cast(lit(nil, types.NULL), INT), want: []any{nil, nil, nil, nil, nil}},
		{name: "cast literal", e: cast(lit("42", STR), INT), want: []any{int32(42), int32(42), int32(42), int32(42), int32(42)}},
		{name: "cast literal fails", e: cast(lit("4x", STR), INT), err: "CAST('4x' AS INT): cannot cast '4x' to INT"},
		{name: "cast bool to date", e: cast(cB, types.DATE), err: "cannot cast BOOLEAN to DATE"},
	}
}

func TestEval(t *testing.T) {
	for _, generic := range []bool{false, true} {
		for _, tc := range evalCases() {
			name := tc.name
			if generic {
				name += "/generic"
			}
			t.Run(name, func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				b := newBatch(t, mem, testSchema, testCols...)
				defer b.Release()
				ev := evaluator{mem: mem, generic: generic}
				got, err := ev.eval(tc.e, batchOf(b))
				if tc.err != "" {
					if err == nil {
						got.Release()
						t.Fatalf("no error, want %q", tc.err)
					}
					if !strings.Contains(err.Error(), tc.err) {
						t.Fatalf("error %q, want it to contain %q", err, tc.err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				defer got.Release()
				checkArray(t, got, tc.e.Type(), tc.want)
			})
		}
	}
}

// TestEvalSliced evaluates over a batch whose arrays have non-zero offsets.
func TestEvalSliced(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	full := newBatch(t, mem, testSchema, testCols...)
	defer full.Release()
	b := full.NewSlice(1, 5)
	defer b.Release()
	for _, tc := range evalCases() {
		if tc.err != "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			got, err := Eval(mem, tc.e, b)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Release()
			checkArray(t, got, tc.e.Type(), tc.want[1:])
		})
	}
}

func TestCastValueErrors(t *testing.T) {
	for _, tc := range []struct {
		v        any
		from, to types.T
		want     string
	}{
		{"abc", types.STRING, types.INT, "cannot cast 'abc' to INT"},
		{"1e3", types.STRING, types.BIGINT, "cannot cast '1e3' to BIGINT"},
		{"128", types.STRING, types.TINYINT, "cannot cast '128' to TINYINT"},
		{"maybe", types.STRING, types.BOOLEAN, "cannot cast 'maybe' to BOOLEAN"},
		{"2020-02-30", types.STRING, types.DATE, "cannot cast '2020-02-30' to DATE"},
		{"2020-01-01 25:00", types.STRING, types.TIMESTAMP(3), "cannot cast '2020-01-01 25:00' to TIMESTAMP(3)"},
		{"1/2", types.STRING, types.DECIMAL(5, 2), "cannot cast '1/2' to DECIMAL(5, 2)"},
		{"x", types.STRING, types.DOUBLE, "cannot cast 'x' to DOUBLE"},
		{math.Inf(1), types.DOUBLE, types.DECIMAL(5, 2), "cannot cast Infinity to DECIMAL(5, 2)"},
		{int32(1), types.INT, types.DATE, "cannot cast INT to DATE"},
		{"1", types.STRING, types.INT.NotNull(), ""},
	} {
		_, err := CastValue(tc.v, tc.from, tc.to)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CastValue(%v, %s, %s): %v", tc.v, tc.from, tc.to, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("CastValue(%v, %s, %s) = %v, want %q", tc.v, tc.from, tc.to, err, tc.want)
		}
	}
}

func TestCastValueParses(t *testing.T) {
	for _, tc := range []struct {
		s    string
		to   types.T
		want any
	}{
		{" 42 ", types.INT, int32(42)},
		{"+7", types.BIGINT, int64(7)},
		{"-9223372036854775808", types.BIGINT, int64(math.MinInt64)},
		{"1.5e3", types.DOUBLE, 1500.0},
		{"-Infinity", types.DOUBLE, math.Inf(-1)},
		{"NaN", types.FLOAT, float32(math.NaN())},
		{"1.005", types.DECIMAL(5, 2), dec(101)},
		{"-1.005", types.DECIMAL(5, 2), dec(-101)},
		{"1E2", types.DECIMAL(5, 0), dec(100)},
		{"Yes", types.BOOLEAN, true},
		{"f", types.BOOLEAN, false},
		{"2020-1-2", types.DATE, arrow.Date32(18263)},
		{"2020-01-01 12:00:00.123456", types.TIMESTAMP(3), arrow.Timestamp(1577880000123)},
		{"2020-01-01 12:00", types.TIMESTAMP(6), arrow.Timestamp(1577880000000000)},
		{"2020-02-30 12:00", types.TIMESTAMP(0), arrow.Timestamp(1582977600000)},
		{"2020-01-01 24:00:00", types.TIMESTAMP(0), arrow.Timestamp(1577923200000)},
		{"1.5d", types.DOUBLE, 1.5},
		{".5", types.INT, int32(0)},
		{"2020-01-01", types.TIMESTAMP_LTZ(0), arrow.Timestamp(1577836800000)},
		{"12:34:56.789", types.TIME(3), arrow.Time32(45296789)},
		{"12:34:56.789", types.TIME(0), arrow.Time32(45296000)},
		{"12:34", types.TIME(0), arrow.Time32(45240000)},
		{"héllo", types.BINARY(7), []byte("héllo\x00")},
	} {
		got, err := CastValue(tc.s, types.STRING, tc.to)
		if err != nil {
			t.Errorf("CAST('%s' AS %s): %v", tc.s, tc.to, err)
			continue
		}
		if !sameValue(got, tc.want) {
			t.Errorf("CAST('%s' AS %s) = %#v, want %#v", tc.s, tc.to, got, tc.want)
		}
	}
}

// TestCastValueRejects checks strings that Flink's CAST does not accept.
func TestCastValueRejects(t *testing.T) {
	for _, tc := range []struct {
		s  string
		to types.T
	}{
		{"2020-01-01T12:00", types.TIMESTAMP(3)}, {" 2020-01-01", types.TIMESTAMP(3)},
		{"2020-01-01 25:00:00", types.TIMESTAMP(3)}, {"2020-02-32", types.TIMESTAMP(3)},
		{"2020-02-30", types.DATE}, {"2020-01-01T10", types.DATE}, {"+2020-01-01", types.DATE}, {"10000-01-01", types.DATE},
		{" true", types.BOOLEAN}, {"on", types.BOOLEAN}, {"", types.BOOLEAN},
		{"inf", types.DOUBLE}, {"1_000", types.DOUBLE}, {"0x10", types.DOUBLE}, {"", types.DOUBLE},
		{"1e3", types.INT}, {".", types.INT}, {"--1", types.INT}, {"2147483648", types.INT},
		{"1,5", types.DECIMAL(5, 2)}, {"NaN", types.DECIMAL(5, 2)},
	} {
		if got, err := CastValue(tc.s, types.STRING, tc.to); err == nil {
			t.Errorf("CAST('%s' AS %s) = %#v, want an error", tc.s, tc.to, got)
		}
	}
}

func TestFormatDouble(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		bits int
		want string
	}{
		{1, 64, "1.0"}, {1.5e10, 64, "1.5E10"}, {-0.001, 64, "-0.001"}, {1e-4, 64, "1.0E-4"},
		{1234567.5, 64, "1234567.5"}, {1e7, 64, "1.0E7"}, {0.1, 64, "0.1"}, {math.NaN(), 64, "NaN"},
		{math.Inf(1), 64, "Infinity"}, {math.Inf(-1), 64, "-Infinity"}, {0, 64, "0.0"}, {math.Copysign(0, -1), 64, "-0.0"},
		{float64(float32(0.1)), 32, "0.1"}, {float64(float32(3e38)), 32, "3.0E38"}, {100, 64, "100.0"},
		{math.MaxFloat64, 64, "1.7976931348623157E308"}, {5e-324, 64, "4.9E-324"},
	} {
		if got := FormatDouble(tc.f, tc.bits); got != tc.want {
			t.Errorf("FormatDouble(%v, %d) = %q, want %q", tc.f, tc.bits, got, tc.want)
		}
	}
}

func TestCalc(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := newBatch(t, mem, testSchema, testCols...)
	defer b.Release()

	c := &Calc{
		Filter:      call(">", types.BOOLEAN, cI32, lit(int32(0), types.INT)),
		Projections: []expr.Expr{call("+", types.INT, cI32, lit(int32(1), types.INT)), call("UPPER", types.STRING, cS), cI64},
		Schema:      types.Schema{{Name: "x", Type: types.INT}, {Name: "u", Type: types.STRING}, {Name: "i64", Type: types.BIGINT}},
	}
	out, err := c.Apply(mem, b)
	if err != nil {
		t.Fatal(err)
	}
	if out.NumRows() != 3 || out.NumCols() != 3 || out.Schema().Field(1).Name != "u" {
		t.Fatalf("got %d rows, %d columns, schema %s", out.NumRows(), out.NumCols(), out.Schema())
	}
	checkArray(t, out.Column(0), types.INT, []any{int32(2), int32(8), int32(math.MinInt32)})
	checkArray(t, out.Column(1), types.STRING, []any{"ABC", "  PAD  ", ""})
	checkArray(t, out.Column(2), types.BIGINT, []any{int64(10), nil, int64(math.MaxInt64)})
	out.Release()

	// The filter guards the projection: no division by zero.
	c = &Calc{
		Filter:      call("<>", types.BOOLEAN, cI32b, lit(int32(0), types.INT)),
		Projections: []expr.Expr{call("/", types.INT, cI32, cI32b)},
		Schema:      types.Schema{{Name: "q", Type: types.INT}},
	}
	out, err = c.Apply(mem, b)
	if err != nil {
		t.Fatal(err)
	}
	checkArray(t, out.Column(0), types.INT, []any{int32(0), nil, int32(math.MaxInt32)})
	out.Release()

	// No row passes: nil batch.
	c.Filter = lit(false, types.BOOLEAN)
	if out, err = c.Apply(mem, b); err != nil || out != nil {
		t.Fatalf("got %v, %v; want nil batch", out, err)
	}

	// No filter: every row; the output column is widened to the schema type.
	c = &Calc{Projections: []expr.Expr{cI32}, Schema: types.Schema{{Name: "w", Type: types.BIGINT}}}
	out, err = c.Apply(mem, b)
	if err != nil {
		t.Fatal(err)
	}
	checkArray(t, out.Column(0), types.BIGINT, []any{int64(1), int64(-2), nil, int64(7), int64(math.MaxInt32)})
	out.Release()

	// Errors.
	c = &Calc{Projections: []expr.Expr{cI32}, Schema: nil}
	if _, err = c.Apply(mem, b); err == nil || err.Error() != "exec: calc has 1 projections but an output schema of 0 columns" {
		t.Errorf("error %v", err)
	}
	c = &Calc{Filter: cI32, Projections: []expr.Expr{cI32}, Schema: types.Schema{{Name: "w", Type: types.INT}}}
	if _, err = c.Apply(mem, b); err == nil || err.Error() != "exec: i32 is INT, not BOOLEAN" {
		t.Errorf("error %v", err)
	}
}

// TestCalcNested passes nested columns through a filter.
func TestCalcNested(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	lt := types.ARRAY(types.INT)
	lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Int32)
	vb := lb.ValueBuilder().(*array.Int32Builder)
	lb.Append(true)
	vb.AppendValues([]int32{1, 2}, nil)
	lb.AppendNull()
	lb.Append(true)
	vb.Append(3)
	lb.Append(true)
	lists := lb.NewArray()
	lb.Release()
	ints, _ := BuildArray(mem, types.INT, []any{int32(1), int32(2), int32(3), int32(4)})
	schema := types.Schema{{Name: "l", Type: lt}, {Name: "i", Type: types.INT}}
	b := array.NewRecordBatch(schema.Arrow(), []arrow.Array{lists, ints}, 4)
	release(lists, ints)
	defer b.Release()

	c := &Calc{
		Filter:      call("<>", types.BOOLEAN, col(1, "i", types.INT), lit(int32(3), types.INT)),
		Projections: []expr.Expr{col(0, "l", lt), call("IS NULL", types.BOOLEAN, col(0, "l", lt))},
		Schema:      types.Schema{{Name: "l", Type: lt}, {Name: "n", Type: types.BOOLEAN}},
	}
	out, err := c.Apply(mem, b)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if got := out.Column(0).String(); got != "[[1 2] (null) []]" {
		t.Errorf("lists = %s", got)
	}
	checkArray(t, out.Column(1), types.BOOLEAN, []any{false, true, false})
}
