package exec

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// randomDecimal returns a random value of DECIMAL(p, s): any number of its
// p digits, either sign, with the largest values more often than chance.
func randomDecimal(r *rand.Rand, p int) decimal128.Num {
	var digits []byte
	if r.IntN(8) == 0 {
		digits = []byte(strings.Repeat("9", p))
	} else {
		digits = make([]byte, r.IntN(p+1))
		for i := range digits {
			digits[i] = byte('0' + r.IntN(10))
		}
	}
	u, _ := new(big.Int).SetString("0"+string(digits), 10)
	if r.IntN(2) == 0 {
		u.Neg(u)
	}
	return decimal128.FromBigInt(u)
}

// randomDecimalType returns DECIMAL(p, s) with p in 1..38, or (one time in
// five) an integer type.
func randomDecimalType(r *rand.Rand) types.T {
	if r.IntN(5) == 0 {
		return []types.T{types.TINYINT, types.SMALLINT, types.INT, types.BIGINT}[r.IntN(4)]
	}
	p := 1 + r.IntN(38)
	if r.IntN(3) == 0 {
		p = []int{1, 18, 19, 20, 37, 38}[r.IntN(6)]
	}
	return types.DECIMAL(p, r.IntN(p+1))
}

func randomOf(r *rand.Rand, t types.T, noZero bool) any {
	if t.Kind != types.Decimal {
		return randomValue(r, t, noZero)
	}
	d := randomDecimal(r, t.Precision)
	if noZero && d.Sign() == 0 {
		d = decimal128.FromI64(1)
	}
	return d
}

// TestDecimalFastPathMatchesGeneric evaluates DECIMAL arithmetic between
// random DECIMAL and integer columns and constants, with Flink's result
// types, through the 128-bit typed path and the exact value-at-a-time path,
// and requires the same results and errors.
func TestDecimalFastPathMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	fast := evaluator{mem: mem}
	slow := evaluator{mem: mem, generic: true}
	checks, errs := 0, 0
	for iter := 0; iter < 400; iter++ {
		ta, tb := randomDecimalType(r), randomDecimalType(r)
		if ta.Kind != types.Decimal && tb.Kind != types.Decimal {
			ta = types.DECIMAL(10, 2)
		}
		n := r.IntN(70)
		nullRate := []float64{0, 0, 0.1, 0.5, 1}[r.IntN(5)]
		noZero := r.IntN(2) == 0
		colOf := func(t types.T, noZero bool) []any {
			vals := make([]any, n+3)
			for i := range vals {
				if r.Float64() >= nullRate {
					vals[i] = randomOf(r, t, noZero)
				}
			}
			return vals
		}
		schema := types.Schema{{Name: "a", Type: ta}, {Name: "b", Type: tb}}
		full := newBatch(t, mem, schema, colOf(ta, false), colOf(tb, noZero))
		off := int64(r.IntN(3))
		b := full.NewSlice(off, off+int64(n))
		full.Release()
		a, bb := col(0, "a", ta), col(1, "b", tb)
		sa, sb := lit(randomOf(r, ta, false), ta), lit(randomOf(r, tb, true), tb)
		var es []expr.Expr
		for _, op := range []string{"+", "-", "*", "/", "%"} {
			p1, s1 := ta.DecimalShape()
			p2, s2 := tb.DecimalShape()
			rt := types.DecimalArith(op, p1, s1, p2, s2).WithNullable(r.IntN(2) == 0)
			es = append(es, call(op, rt, a, bb), call(op, rt, a, sb), call(op, rt, sa, bb))
		}
		for k := 0; k < 3; k++ {
			to := randomDecimalType(r)
			if to.Kind != types.Decimal {
				to = types.DECIMAL(38, 0)
			}
			es = append(es, &expr.Cast{X: a, T: to.WithNullable(r.IntN(2) == 0)}, &expr.Cast{X: a, T: to.WithNullable(false), Try: true})
		}
		for _, e := range es {
			want, werr := slow.eval(e, batchOf(b))
			got, gerr := fast.eval(e, batchOf(b))
			checks++
			switch {
			case werr != nil || gerr != nil:
				errs++
				if fmt.Sprint(werr) != fmt.Sprint(gerr) {
					t.Errorf("%s over %s, %s: fast error %v, generic error %v", e, ta, tb, gerr, werr)
				}
			default:
				if msg := diffArrays(got, want); msg != "" {
					t.Errorf("%s over %s, %s: %s", e, ta, tb, msg)
				}
			}
			release(got, want)
		}
		b.Release()
	}
	t.Logf("%d expression evaluations compared, %d of them errors", checks, errs)
}

// TestDecimalArithmeticValues checks DECIMAL results against values worked
// out by hand with Java's BigDecimal rules: exact sums and products rounded
// half up to the result scale, quotients first rounded to 38 significant
// digits, NULL on overflow when the type is nullable and an error naming the
// operands when it is not.
func TestDecimalArithmeticValues(t *testing.T) {
	d := func(s string, p, sc int) *expr.Literal {
		n, err := decimal128.FromString(s, int32(p), int32(sc))
		if err != nil {
			t.Fatal(err)
		}
		return lit(n, types.DECIMAL(p, sc).NotNull())
	}
	max38 := strings.Repeat("9", 38)
	cases := []struct {
		e       expr.Expr
		want    string // "NULL", a value, or "error: <part of the message>"
		wantErr string
	}{
		{call("*", types.DECIMAL(5, 2).NotNull(), d("2.5", 2, 1), d("2.5", 2, 1)), "6.25", ""},
		{call("*", types.DECIMAL(13, 3).NotNull(), d("19.99", 10, 2), d("1.1", 2, 1)), "21.989", ""},
		{call("/", types.DECIMAL(14, 13).NotNull(), d("0.05", 3, 2), lit(int32(7), types.INT.NotNull())), "0.0071428571429", ""},
		{call("/", types.DECIMAL(38, 6).NotNull(), d("-5", 38, 0), lit(int32(10000000), types.INT.NotNull())), "-0.000001", ""},
		{call("%", types.DECIMAL(3, 1).NotNull(), d("-10.5", 3, 1), lit(int32(3), types.INT.NotNull())), "-1.5", ""},
		{call("+", types.DECIMAL(38, 0), d(max38, 38, 0), lit(int32(1), types.INT.NotNull())), "NULL", ""},
		{call("+", types.DECIMAL(38, 0).NotNull(), d(max38, 38, 0), lit(int32(1), types.INT.NotNull())), "", max38 + " + 1 does not fit DECIMAL(38, 0) NOT NULL"},
		{call("/", types.DECIMAL(8, 6).NotNull(), d("2.5", 2, 1), d("0.0", 2, 1)), "", "division by zero (2.5 / 0.0) in (2.5 / 0.0)"},
		{call("%", types.DECIMAL(38, 1).NotNull(), d(max38, 38, 0), d("0.1", 2, 1)), "", "division impossible"},
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, gen := range []bool{false, true} {
		ev := evaluator{mem: mem, generic: gen}
		for _, c := range cases {
			a, err := ev.eval(c.e, &batch{n: 1})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Errorf("%s: error %v, want one containing %q", c.e, err, c.wantErr)
				}
				if a != nil {
					a.Release()
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", c.e, err)
				continue
			}
			got := "NULL"
			if v := valueAt(a, 0); v != nil {
				got, _ = castToString(v, c.e.Type())
			}
			a.Release()
			if got != c.want {
				t.Errorf("%s = %s, want %s", c.e, got, c.want)
			}
		}
	}
}

// TestDecimalDivisionRoundsTwice: a quotient is first rounded to 38
// significant digits, then to its scale, as Java's BigDecimal with Flink's
// MathContext(38, HALF_UP) does, so that a value just under a half can round
// up twice.
func TestDecimalDivisionRoundsTwice(t *testing.T) {
	nines := strings.Repeat("9", 37)
	cases := []struct {
		x       string
		sx      int
		y       string
		s       int
		want    string
		comment string
	}{
		{"4" + nines + "5", 45, "1", 6, "1", "0.0000004999...95 -> 0.0000005 -> 0.000001"},
		{"4" + nines + "4", 45, "1", 6, "0", "0.0000004999...94 -> 0.0000004999...9 -> 0.000000"},
		{"-4" + nines + "5", 45, "1", 6, "-1", "negative, half away from zero"},
		{"1" + strings.Repeat("0", 40) + "5", 1, "1", 0, "1" + strings.Repeat("0", 40), "41 integer digits keep 38"},
		{"2", 0, "3", 6, "666667", "2/3"},
	}
	for _, c := range cases {
		x, _ := new(big.Int).SetString(c.x, 10)
		y, _ := new(big.Int).SetString(c.y, 10)
		got, err := decimalArith("/", x, c.sx, y, 0, c.s)
		if err != nil || got.String() != c.want {
			t.Errorf("%s: got %v (%v), want %s", c.comment, got, err, c.want)
		}
	}
}

// ratArith is decimalArith computed over rational numbers, the reference
// for TestDecimalArithMatchesRationals.
func ratArith(op string, ux *big.Int, sx int, uy *big.Int, sy int, s int) (*big.Int, error) {
	x := new(big.Rat).SetFrac(ux, pow10(sx))
	y := new(big.Rat).SetFrac(uy, pow10(sy))
	r := new(big.Rat)
	switch op {
	case "+":
		r.Add(x, y)
	case "-":
		r.Sub(x, y)
	case "*":
		r.Mul(x, y)
	case "/", "%":
		if y.Sign() == 0 {
			return nil, errDivByZero
		}
		r.Quo(x, y)
		if op == "%" {
			q := new(big.Int).Quo(r.Num(), r.Denom())
			if q.CmpAbs(pow10(38)) >= 0 {
				return nil, errImpossible
			}
			r.Sub(x, new(big.Rat).Mul(new(big.Rat).SetInt(q), y))
		} else if r.Sign() != 0 {
			// Round to 38 significant digits: find the integer digits k.
			p10 := func(e int) *big.Rat {
				if e >= 0 {
					return new(big.Rat).SetInt(pow10(e))
				}
				return new(big.Rat).SetFrac(big.NewInt(1), pow10(-e))
			}
			a := new(big.Rat).Abs(r)
			k := 0
			for a.Cmp(p10(k)) >= 0 {
				k++
			}
			for a.Cmp(p10(k-1)) < 0 {
				k--
			}
			r = roundAt(r, 38-k)
		}
	}
	return roundRat(r, s), nil
}

// TestDecimalArithMatchesRationals compares the integer DECIMAL kernel with
// the same operations over rational numbers, on random operands of up to 38
// digits and random scales.
func TestDecimalArithMatchesRationals(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 20000; i++ {
		p1, p2 := 1+r.IntN(38), 1+r.IntN(38)
		sx, sy := r.IntN(p1+1), r.IntN(p2+1)
		x, y := randomDecimal(r, p1).BigInt(), randomDecimal(r, p2).BigInt()
		op := []string{"+", "-", "*", "/", "%"}[r.IntN(5)]
		s := r.IntN(39)
		got, gerr := decimalArith(op, x, sx, y, sy, s)
		want, werr := ratArith(op, x, sx, y, sy, s)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || (gerr == nil && got.Cmp(want) != 0) {
			t.Fatalf("%se-%d %s %se-%d at scale %d: got %v (%v), want %v (%v)", x, sx, op, y, sy, s, got, gerr, want, werr)
		}
	}
}

// TestTryCast checks TRY_CAST against CAST over columns and constants: NULL
// where CAST fails, the same value elsewhere, and CAST's error naming the
// value and suggesting TRY_CAST.
func TestTryCast(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := types.Schema{{Name: "s", Type: types.STRING}}
	b := newBatch(t, mem, schema, []any{"42", " -7 ", "alice", nil, "1e3", "2147483648"})
	defer b.Release()
	s := col(0, "s", types.STRING)
	try := func(x expr.Expr, to types.T) *expr.Cast { return &expr.Cast{X: x, T: to.WithNullable(true), Try: true} }
	for _, gen := range []bool{false, true} {
		ev := evaluator{mem: mem, generic: gen}
		for _, to := range []types.T{types.INT, types.BIGINT, types.DOUBLE, types.DECIMAL(5, 1), types.BOOLEAN, types.DATE, types.TIMESTAMP(3)} {
			got, err := ev.eval(try(s, to), batchOf(b))
			if err != nil {
				t.Fatalf("TRY_CAST(s AS %s): %v", to, err)
			}
			for i := 0; i < int(b.NumRows()); i++ {
				one := b.NewSlice(int64(i), int64(i+1))
				want, cerr := ev.eval(cast(s, to), batchOf(one))
				one.Release()
				g := valueAt(got, i)
				switch {
				case cerr != nil:
					if g != nil {
						t.Errorf("TRY_CAST(%v AS %s) = %v, want NULL (CAST fails: %v)", valueAt(b.Column(0), i), to, g, cerr)
					}
					var f *castFailure
					if !errors.As(cerr, &f) || !strings.Contains(cerr.Error(), "TRY_CAST(s AS ") {
						t.Errorf("CAST(%v AS %s) fails with %v, want a failure naming the value and suggesting TRY_CAST", valueAt(b.Column(0), i), to, cerr)
					}
				default:
					if w := valueAt(want, 0); !sameValue(g, w) {
						t.Errorf("TRY_CAST(%v AS %s) = %v, CAST gives %v", valueAt(b.Column(0), i), to, g, w)
					}
					want.Release()
				}
			}
			got.Release()
		}
		// A constant that cannot be cast, and a DECIMAL too small.
		for _, e := range []expr.Expr{
			try(lit("alice", types.STRING.NotNull()), types.INT),
			try(lit(dec(12345678), types.DECIMAL(8, 3).NotNull()), types.DECIMAL(5, 2)),
		} {
			a, err := ev.eval(e, &batch{n: 2})
			if err != nil {
				t.Fatalf("%s: %v", e, err)
			}
			if a.NullN() != 2 {
				t.Errorf("%s gives %v, want NULL", e, a)
			}
			a.Release()
		}
	}
}

// TestTryCastEveryPair casts values of every scalar type to every scalar
// type: where CAST converts, TRY_CAST gives the same value; where CAST fails,
// TRY_CAST gives NULL; and casts that do not exist are refused by CanCast.
func TestTryCastEveryPair(t *testing.T) {
	scalars := []types.T{
		types.TINYINT, types.SMALLINT, types.INT, types.BIGINT, types.BOOLEAN, types.FLOAT, types.DOUBLE,
		types.DECIMAL(5, 2), types.DECIMAL(38, 0), types.CHAR(3), types.VARCHAR(4), types.STRING,
		types.BINARY(2), types.BYTES, types.DATE, types.TIME(0), types.TIME(3), types.TIMESTAMP(3),
		types.TIMESTAMP(9), types.TIMESTAMP_LTZ(6),
	}
	vals := map[types.Kind][]any{
		types.TinyInt: {int8(-128), int8(0), int8(127)}, types.SmallInt: {int16(-32768), int16(300)},
		types.Int: {int32(-2147483648), int32(1), int32(123456)}, types.BigInt: {int64(-1), int64(1) << 62},
		types.Boolean: {true, false}, types.Float: {float32(1.5), float32(math.Inf(1)), float32(-3e38)},
		types.Double: {1e300, math.NaN(), -0.125, 2.5}, types.Decimal: {dec(12345), dec(-1)},
		types.Char: {"12 ", "tru", "ab"}, types.Varchar: {"2020", "-1.5", "t"},
		types.Binary: {[]byte{1, 2}, []byte("ab")}, types.Varbinary: {[]byte("12"), []byte{0xff}},
		types.Date: {arrow.Date32(18262), arrow.Date32(-1)}, types.Time: {arrow.Time32(45296789), arrow.Time32(0)},
		types.Timestamp: {arrow.Timestamp(1577880000123), arrow.Timestamp(-1)}, types.TimestampLTZ: {arrow.Timestamp(1500)},
	}
	vals[types.Varchar] = append(vals[types.Varchar], "2020-01-01 12:00:00", "12:34:56", "1e3", "alice", "99999999999999999999999")
	pairs, fails := 0, 0
	for _, from := range scalars {
		for _, to := range scalars {
			if !CanCast(from, to) {
				if from.IsString() || (from.IsNumeric() && to.IsNumeric()) || from.EqualIgnoringNull(to) {
					t.Errorf("CanCast(%s, %s) is false", from, to)
				}
				continue
			}
			pairs++
			for _, v := range vals[from.Kind] {
				if from.Kind == types.Timestamp && from.Precision == 9 {
					v = arrow.Timestamp(int64(v.(arrow.Timestamp)) * 1e6)
				}
				if from.Kind == types.Decimal && from.Precision == 38 {
					v = dec(-7)
				}
				want, cerr := castOne(v, from, to.NotNull(), false)
				got, terr := castOne(v, from, to, true)
				switch {
				case terr != nil:
					t.Errorf("TRY_CAST(%v AS %s) from %s fails: %v", v, to, from, terr)
				case cerr != nil:
					fails++
					if got != nil {
						t.Errorf("TRY_CAST(%v AS %s) from %s = %v, want NULL (CAST fails: %v)", v, to, from, got, cerr)
					}
				case !sameValue(got, want):
					t.Errorf("TRY_CAST(%v AS %s) from %s = %#v, CAST gives %#v", v, to, from, got, want)
				}
			}
		}
	}
	t.Logf("%d type pairs, %d values CAST cannot convert", pairs, fails)
}
