package exec

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

var errDivByZero = errors.New("division by zero")

// isPrimitiveNumeric reports whether t is an integer type, FLOAT or DOUBLE.
func isPrimitiveNumeric(t types.T) bool {
	return t.IsInteger() || t.Kind == types.Float || t.Kind == types.Double
}

// promote converts an operand to type t (t is primitive numeric here).
func (ev *evaluator) promote(o operand, t types.T, e expr.Expr) (operand, error) {
	if o.isScalar() {
		v, err := CastValue(o.scalar, o.t, t)
		if err != nil {
			return operand{}, fmt.Errorf("exec: %s: %w", e, err)
		}
		return operand{scalar: v, t: t}, nil
	}
	a, err := ev.castArray(o.arr, o.t, t, e)
	if err != nil {
		return operand{}, err
	}
	return operand{arr: a, t: t}, nil
}

// arith evaluates + - * / % with the result type c.T: the operands are
// converted to c.T first (DECIMAL results are computed exactly and rounded
// half up to the result scale; NULL when they overflow the precision, as in
// Flink). Integers wrap on overflow as in Java and divide truncating toward
// zero; integer and DECIMAL division by zero is an error; FLOAT and DOUBLE
// follow IEEE 754.
func (ev *evaluator) arith(c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	rt := c.T
	for _, o := range ops {
		if !o.t.IsNumeric() && o.t.Kind != types.Null {
			return nil, fmt.Errorf("exec: %s: %s needs numeric operands, not %s", c, c.Name, plain(o.t))
		}
	}
	if !rt.IsNumeric() {
		return nil, fmt.Errorf("exec: %s: %s cannot produce %s", c, c.Name, plain(rt))
	}
	if ops[0].isNull() || ops[1].isNull() {
		return ev.nullResult(rt, n), nil
	}
	if !ev.generic && rt.Kind == types.Decimal {
		if out, ok := ev.arithDecimal(c, ops, n); ok {
			return out, nil
		}
	}
	if ev.generic || !isPrimitiveNumeric(rt) {
		return ev.arithGeneric(c, ops, n)
	}
	a, err := ev.promote(ops[0], rt, c)
	if err != nil {
		return nil, err
	}
	defer releaseOps([]operand{a})
	b, err := ev.promote(ops[1], rt, c)
	if err != nil {
		return nil, err
	}
	defer releaseOps([]operand{b})
	var out arrow.Array
	switch physical(rt).(type) {
	case int8:
		out, err = arithInt[int8](ev.mem, c.Name, a, b, n, rt)
	case int16:
		out, err = arithInt[int16](ev.mem, c.Name, a, b, n, rt)
	case int32:
		out, err = arithInt[int32](ev.mem, c.Name, a, b, n, rt)
	case int64:
		out, err = arithInt[int64](ev.mem, c.Name, a, b, n, rt)
	case float32:
		out = arithFloat[float32](ev.mem, c.Name, a, b, n, rt)
	case float64:
		out = arithFloat[float64](ev.mem, c.Name, a, b, n, rt)
	}
	if err != nil {
		return nil, fmt.Errorf("exec: %w in %s", err, c)
	}
	return out, nil
}

// arithDecimal is the typed path of DECIMAL + - and * between DECIMALs and
// integers, over 128-bit unscaled values, for the result types where the
// exact result always fits its type: + and - at the operands' larger scale
// within 37 digits, * at the sum of their scales with at most 38 digits
// between the operands, each with a digit more than the operands need (as
// Flink's types have). ok is false for the other cases, which the generic
// path computes.
func (ev *evaluator) arithDecimal(c *expr.Call, ops []operand, n int) (out arrow.Array, ok bool) {
	rt := c.T
	for _, o := range ops {
		if o.t.Kind != types.Decimal && !o.t.IsInteger() {
			return nil, false
		}
	}
	p1, s1 := ops[0].t.DecimalShape()
	p2, s2 := ops[1].t.DecimalShape()
	switch c.Name {
	case "+", "-":
		if rt.Scale != max(s1, s2) || rt.Precision > 37 || rt.Precision < max(p1-s1, p2-s2)+rt.Scale+1 {
			return nil, false
		}
	case "*":
		if rt.Scale != s1+s2 || p1+p2 > 38 || rt.Precision < p1+p2+1 {
			return nil, false
		}
	default:
		return nil, false
	}
	up1, up2 := 0, 0
	if c.Name != "*" {
		up1, up2 = rt.Scale-s1, rt.Scale-s2
	}
	x, sx := decimalSide(ops[0], n, up1)
	y, sy := decimalSide(ops[1], n, up2)
	vbuf, nulls := andValidity(ev.mem, n, ops[0].arr, ops[1].arr)
	buf, res := AllocValues[decimal128.Num](ev.mem, n)
	for i := range res {
		a, b := sx, sy
		if x != nil {
			a = x[i]
		}
		if y != nil {
			b = y[i]
		}
		switch c.Name {
		case "+":
			res[i] = a.Add(b)
		case "-":
			res[i] = a.Sub(b)
		default:
			res[i] = a.Mul(b)
		}
	}
	return MakeArray(rt.Arrow(), n, []*memory.Buffer{vbuf, buf}, nulls), true
}

// decimalSide returns an operand's unscaled values raised by up decimal
// digits: a slice for an array, one value for a scalar.
func decimalSide(o operand, n, up int) ([]decimal128.Num, decimal128.Num) {
	conv := func(v any) decimal128.Num {
		var d decimal128.Num
		if x, ok := v.(decimal128.Num); ok {
			d = x
		} else {
			d = decimal128.FromI64(ToInt64(v))
		}
		return d.Mul(decimal128.GetScaleMultiplier(up))
	}
	if o.arr == nil {
		return nil, conv(o.scalar)
	}
	out := make([]decimal128.Num, n)
	switch physical(o.t).(type) {
	case int8:
		intsToDecimal(values[int8](o.arr)[:n], up, out)
	case int16:
		intsToDecimal(values[int16](o.arr)[:n], up, out)
	case int32:
		intsToDecimal(values[int32](o.arr)[:n], up, out)
	case int64:
		intsToDecimal(values[int64](o.arr)[:n], up, out)
	default:
		vals := values[decimal128.Num](o.arr)[:n]
		if up == 0 {
			return vals, decimal128.Num{}
		}
		mul := decimal128.GetScaleMultiplier(up)
		for i, v := range vals {
			out[i] = v.Mul(mul)
		}
	}
	return out, decimal128.Num{}
}

func intsToDecimal[T integer](vals []T, up int, out []decimal128.Num) {
	mul := decimal128.GetScaleMultiplier(up)
	for i, v := range vals {
		out[i] = decimal128.FromI64(int64(v)).Mul(mul)
	}
}

// sides returns the typed values of two operands: a slice for an array, a
// value for a scalar.
func sides[T number](a, b operand) (x, y []T, sx, sy T) {
	if a.arr != nil {
		x = values[T](a.arr)
	} else {
		sx = physValue[T](a.scalar)
	}
	if b.arr != nil {
		y = values[T](b.arr)
	} else {
		sy = physValue[T](b.scalar)
	}
	return
}

// physValue returns a scalar as its primitive storage type.
func physValue[T number](v any) T {
	switch x := v.(type) {
	case arrow.Date32:
		return T(x)
	case arrow.Time32:
		return T(x)
	case arrow.Timestamp:
		return T(x)
	}
	return v.(T)
}

func arithInt[T integer](mem memory.Allocator, op string, a, b operand, n int, rt types.T) (arrow.Array, error) {
	vbuf, nulls := andValidity(mem, n, a.arr, b.arr)
	buf, out := AllocValues[T](mem, n)
	x, y, sx, sy := sides[T](a, b)
	xa, ya := a.arr != nil, b.arr != nil
	if xa {
		x = x[:n]
	}
	if ya {
		y = y[:n]
	}
	switch op {
	case "+":
		switch {
		case xa && ya:
			for i := range out {
				out[i] = x[i] + y[i]
			}
		case xa:
			for i := range out {
				out[i] = x[i] + sy
			}
		case ya:
			for i := range out {
				out[i] = sx + y[i]
			}
		default:
			v := sx + sy
			for i := range out {
				out[i] = v
			}
		}
	case "-":
		switch {
		case xa && ya:
			for i := range out {
				out[i] = x[i] - y[i]
			}
		case xa:
			for i := range out {
				out[i] = x[i] - sy
			}
		case ya:
			for i := range out {
				out[i] = sx - y[i]
			}
		default:
			v := sx - sy
			for i := range out {
				out[i] = v
			}
		}
	case "*":
		switch {
		case xa && ya:
			for i := range out {
				out[i] = x[i] * y[i]
			}
		case xa:
			for i := range out {
				out[i] = x[i] * sy
			}
		case ya:
			for i := range out {
				out[i] = sx * y[i]
			}
		default:
			v := sx * sy
			for i := range out {
				out[i] = v
			}
		}
	case "/", "%":
		var valid []byte
		if vbuf != nil {
			valid = vbuf.Bytes()
		}
		rem := op == "%"
		for i := range out {
			xv, yv := sx, sy
			if xa {
				xv = x[i]
			}
			if ya {
				yv = y[i]
			}
			if yv == 0 {
				if valid == nil || bit(valid, i) {
					buf.Release()
					if vbuf != nil {
						vbuf.Release()
					}
					return nil, fmt.Errorf("%w (%d %s %d)", errDivByZero, xv, op, yv)
				}
				out[i] = 0
				continue
			}
			if rem {
				out[i] = xv % yv
			} else {
				out[i] = xv / yv
			}
		}
	}
	return MakeArray(rt.Arrow(), n, []*memory.Buffer{vbuf, buf}, nulls), nil
}

func arithFloat[T float](mem memory.Allocator, op string, a, b operand, n int, rt types.T) arrow.Array {
	vbuf, nulls := andValidity(mem, n, a.arr, b.arr)
	buf, out := AllocValues[T](mem, n)
	x, y, sx, sy := sides[T](a, b)
	xa, ya := a.arr != nil, b.arr != nil
	if xa {
		x = x[:n]
	}
	if ya {
		y = y[:n]
	}
	switch op {
	case "+":
		switch {
		case xa && ya:
			for i := range out {
				out[i] = x[i] + y[i]
			}
		case xa:
			for i := range out {
				out[i] = x[i] + sy
			}
		case ya:
			for i := range out {
				out[i] = sx + y[i]
			}
		default:
			v := sx + sy
			for i := range out {
				out[i] = v
			}
		}
	case "-":
		switch {
		case xa && ya:
			for i := range out {
				out[i] = x[i] - y[i]
			}
		case xa:
			for i := range out {
				out[i] = x[i] - sy
			}
		case ya:
			for i := range out {
				out[i] = sx - y[i]
			}
		default:
			v := sx - sy
			for i := range out {
				out[i] = v
			}
		}
	case "*":
		switch {
		case xa && ya:
			for i := range out {
				out[i] = x[i] * y[i]
			}
		case xa:
			for i := range out {
				out[i] = x[i] * sy
			}
		case ya:
			for i := range out {
				out[i] = sx * y[i]
			}
		default:
			v := sx * sy
			for i := range out {
				out[i] = v
			}
		}
	case "/":
		switch {
		case xa && ya:
			for i := range out {
				out[i] = x[i] / y[i]
			}
		case xa:
			for i := range out {
				out[i] = x[i] / sy
			}
		case ya:
			for i := range out {
				out[i] = sx / y[i]
			}
		default:
			v := sx / sy
			for i := range out {
				out[i] = v
			}
		}
	case "%":
		for i := range out {
			xv, yv := sx, sy
			if xa {
				xv = x[i]
			}
			if ya {
				yv = y[i]
			}
			out[i] = T(math.Mod(float64(xv), float64(yv)))
		}
	}
	return MakeArray(rt.Arrow(), n, []*memory.Buffer{vbuf, buf}, nulls)
}

// arithGeneric evaluates arithmetic value by value.
func (ev *evaluator) arithGeneric(c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	ap := newAppender(ev.mem, c.T, n)
	for i := 0; i < n; i++ {
		x, y := ops[0].value(i), ops[1].value(i)
		var r any
		if x != nil && y != nil {
			var err error
			r, err = arithValue(c.Name, x, ops[0].t, y, ops[1].t, c.T)
			if err != nil {
				ap.discard()
				return nil, arithError(c, err, x, ops[0].t, y, ops[1].t)
			}
		}
		if err := ap.append(r); err != nil {
			ap.discard()
			return nil, err
		}
	}
	return ap.finish(), nil
}

// errOverflow is a DECIMAL result with more digits than its type's
// precision; Flink gives NULL.
var errOverflow = errors.New("DECIMAL overflow")

// errImpossible is a DECIMAL remainder whose integer quotient has more than
// 38 digits, which Java's BigDecimal (and so Flink) cannot compute.
var errImpossible = errors.New("division impossible: the quotient of the remainder needs more than 38 digits")

// arithError describes a failed operation of c on the values x and y.
func arithError(c *expr.Call, err error, x any, xt types.T, y any, yt types.T) error {
	switch {
	case errors.Is(err, errOverflow):
		return fmt.Errorf("exec: %s: the result of %s %s %s does not fit %s; Flink gives NULL, which the NOT NULL type cannot hold: cast the operands to DECIMAL types with fewer digits, or make an operand nullable (e.g. TRY_CAST(x AS DECIMAL(p, s))) to get NULL", c, quoteValue(x, xt), c.Name, quoteValue(y, yt), c.T)
	case errors.Is(err, errDivByZero), errors.Is(err, errImpossible):
		return fmt.Errorf("exec: %w (%s %s %s) in %s", err, quoteValue(x, xt), c.Name, quoteValue(y, yt), c)
	}
	return fmt.Errorf("exec: %s: %w", c, err)
}

// arithValue computes x op y with result type rt. A DECIMAL result is
// computed exactly (a quotient first to 38 significant digits, as Flink's
// BigDecimal division does), rounded half up to the result scale, and NULL
// when it then has too many digits (errOverflow when rt is NOT NULL).
func arithValue(op string, x any, xt types.T, y any, yt types.T, rt types.T) (any, error) {
	if rt.Kind == types.Decimal {
		ux, sx, ok1 := unscaled(x, xt)
		uy, sy, ok2 := unscaled(y, yt)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("DECIMAL arithmetic on %s and %s", plain(xt), plain(yt))
		}
		u, err := decimalArith(op, ux, sx, uy, sy, rt.Scale)
		if err != nil {
			return nil, err
		}
		if u.CmpAbs(pow10(rt.Precision)) >= 0 {
			if !rt.Nullable {
				return nil, errOverflow
			}
			return nil, nil
		}
		return decimal128.FromBigInt(u), nil
	}
	cx, err := CastValue(x, xt, rt)
	if err != nil {
		return nil, err
	}
	cy, err := CastValue(y, yt, rt)
	if err != nil {
		return nil, err
	}
	if cx == nil || cy == nil {
		return nil, nil
	}
	if rt.Kind == types.Float || rt.Kind == types.Double {
		a, b := ToFloat64(cx), ToFloat64(cy)
		var r float64
		switch op {
		case "+":
			r = a + b
		case "-":
			r = a - b
		case "*":
			r = a * b
		case "/":
			r = a / b
		case "%":
			r = math.Mod(a, b)
		}
		if rt.Kind == types.Float {
			return float32(r), nil
		}
		return r, nil
	}
	a, b := ToInt64(cx), ToInt64(cy)
	var r int64
	switch op {
	case "+":
		r = a + b
	case "-":
		r = a - b
	case "*":
		r = a * b
	case "/", "%":
		if b == 0 {
			return nil, errDivByZero
		}
		if op == "/" {
			r = a / b
		} else {
			r = a % b
		}
	}
	return NarrowInt(r, rt.Kind), nil
}

// unscaled returns a DECIMAL or integer value as its unscaled integer and
// scale; ok is false for other values.
func unscaled(v any, t types.T) (u *big.Int, scale int, ok bool) {
	switch x := v.(type) {
	case decimal128.Num:
		return x.BigInt(), t.Scale, true
	case int8, int16, int32, int64:
		return big.NewInt(ToInt64(v)), 0, true
	}
	return nil, 0, false
}

// decimalArith computes x op y for x = ux / 10^sx and y = uy / 10^sy, as
// Java's BigDecimal does for Flink, and returns the result at scale s,
// rounded half up: + - * and % exactly, / first to 38 significant digits.
// It works on integers only (no fractions to reduce).
func decimalArith(op string, ux *big.Int, sx int, uy *big.Int, sy int, s int) (*big.Int, error) {
	switch op {
	case "+", "-":
		m := max(sx, sy)
		a, b := rescale(ux, sx, m), rescale(uy, sy, m)
		if op == "+" {
			a.Add(a, b)
		} else {
			a.Sub(a, b)
		}
		return rescale(a, m, s), nil
	case "*":
		return rescale(new(big.Int).Mul(ux, uy), sx+sy, s), nil
	case "%":
		if uy.Sign() == 0 {
			return nil, errDivByZero
		}
		m := max(sx, sy)
		q, r := new(big.Int).QuoRem(rescale(ux, sx, m), rescale(uy, sy, m), new(big.Int))
		if q.CmpAbs(pow10(38)) >= 0 {
			return nil, errImpossible
		}
		return rescale(r, m, s), nil
	}
	if uy.Sign() == 0 {
		return nil, errDivByZero
	}
	if ux.Sign() == 0 {
		return new(big.Int), nil
	}
	// The quotient is n / d.
	n := new(big.Int).Mul(ux, pow10(sy))
	d := new(big.Int).Mul(uy, pow10(sx))
	if d.Sign() < 0 {
		n.Neg(n)
		d.Neg(d)
	}
	// k is the number of its integer digits: 10^(k-1) <= |n|/d < 10^k.
	an := new(big.Int).Abs(n)
	k := numDigits(an) - numDigits(d)
	if cmpPow10(an, d, k) >= 0 {
		k++
	}
	f := 38 - k // the fractional digits of 38 significant ones
	var r *big.Int
	if f >= 0 {
		r = roundDiv(n.Mul(n, pow10(f)), d)
	} else {
		r = roundDiv(n, d.Mul(d, pow10(-f)))
	}
	return rescale(r, f, s), nil
}

// rescale returns the unscaled value u of scale from at scale to, rounded
// half up; scales may be negative.
func rescale(u *big.Int, from, to int) *big.Int {
	if to >= from {
		return new(big.Int).Mul(u, pow10(to-from))
	}
	return roundDiv(u, pow10(from-to))
}

// roundDiv returns n / d (d > 0) rounded half away from zero.
func roundDiv(n, d *big.Int) *big.Int {
	q, m := new(big.Int).QuoRem(n, d, new(big.Int))
	if m.Sign() != 0 {
		m.Abs(m)
		m.Lsh(m, 1)
		if m.Cmp(d) >= 0 {
			if n.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	return q
}

// numDigits returns the number of decimal digits of x > 0.
func numDigits(x *big.Int) int {
	n := int(float64(x.BitLen())*math.Log10(2)) + 1
	if x.Cmp(pow10(n-1)) < 0 {
		n--
	}
	return n
}

// cmpPow10 compares num/den (both positive) with 10^k.
func cmpPow10(num, den *big.Int, k int) int {
	if k >= 0 {
		return num.Cmp(new(big.Int).Mul(den, pow10(k)))
	}
	return new(big.Int).Mul(num, pow10(-k)).Cmp(den)
}

// roundAt rounds r half up to s fractional digits; a negative s rounds to
// tens, hundreds, ...
func roundAt(r *big.Rat, s int) *big.Rat {
	if s >= 0 {
		return new(big.Rat).SetFrac(roundRat(r, s), pow10(s))
	}
	q := roundRat(new(big.Rat).Quo(r, new(big.Rat).SetInt(pow10(-s))), 0)
	return new(big.Rat).SetInt(q.Mul(q, pow10(-s)))
}

// round evaluates ROUND(x [, d]): x rounded half up to d (default 0)
// fractional digits, or to tens, hundreds, ... for a negative d, with the
// result type c.T; d is a constant. FLOAT and DOUBLE round their shortest
// decimal form (ROUND(2.345E0, 2) is 2.35), as Flink's BigDecimal.valueOf
// does; NaN and infinities stay as they are.
func (ev *evaluator) round(c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	d := 0
	if len(ops) == 2 {
		if !ops[1].isScalar() || !ops[1].t.IsInteger() {
			return nil, fmt.Errorf("exec: %s: the number of digits must be an integer constant", c)
		}
		if ops[1].scalar == nil {
			return ev.nullResult(c.T, n), nil
		}
		d = int(ToInt64(ops[1].scalar))
	}
	x := ops[0]
	if !x.t.IsNumeric() && x.t.Kind != types.Null {
		return nil, fmt.Errorf("exec: %s: ROUND needs a number, not %s", c, plain(x.t))
	}
	if x.isNull() {
		return ev.nullResult(c.T, n), nil
	}
	ap := newAppender(ev.mem, c.T, n)
	for i := 0; i < n; i++ {
		var r any
		if v := x.value(i); v != nil {
			var err error
			if r, err = roundValue(v, x.t, d, c.T); err != nil {
				ap.discard()
				return nil, fmt.Errorf("exec: %s: ROUND(%s, %d): %w", c, quoteValue(v, x.t), d, err)
			}
		}
		if err := ap.append(r); err != nil {
			ap.discard()
			return nil, err
		}
	}
	return ap.finish(), nil
}

// roundValue rounds v of type t half up to d fractional digits, as type rt.
func roundValue(v any, t types.T, d int, rt types.T) (any, error) {
	switch t.Kind {
	case types.Decimal:
		r := roundAt(decimalRat(v.(decimal128.Num), t.Scale), d)
		out, ok := ratDecimal(r, rt.Precision, rt.Scale)
		if !ok {
			if rt.Nullable {
				return nil, nil
			}
			return nil, errOverflow
		}
		return out, nil
	case types.Float, types.Double:
		f := ToFloat64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return v, nil
		}
		bits := 64
		if t.Kind == types.Float {
			bits = 32
		}
		r, _ := new(big.Rat).SetString(strconv.FormatFloat(f, 'e', -1, bits))
		out, _ := roundAt(r, d).Float64()
		if rt.Kind == types.Float {
			return float32(out), nil
		}
		return out, nil
	}
	if d >= 0 {
		return v, nil
	}
	r := roundAt(new(big.Rat).SetInt64(ToInt64(v)), d)
	return NarrowInt(r.Num().Int64(), t.Kind), nil
}

// toRat returns the exact value of a numeric value.
func toRat(v any, t types.T) (*big.Rat, error) {
	switch x := v.(type) {
	case decimal128.Num:
		return decimalRat(x, t.Scale), nil
	case float32, float64:
		f := ToFloat64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%s is not a DECIMAL", FormatDouble(f, 64))
		}
		return new(big.Rat).SetFloat64(f), nil
	}
	return new(big.Rat).SetInt64(ToInt64(v)), nil
}

// unaryNumeric evaluates NEG and ABS with result type c.T.
func (ev *evaluator) unaryNumeric(c *expr.Call, o operand, n int) (arrow.Array, error) {
	rt := c.T
	if !o.t.IsNumeric() && o.t.Kind != types.Null {
		return nil, fmt.Errorf("exec: %s: %s needs a numeric operand, not %s", c, c.Name, plain(o.t))
	}
	if !rt.IsNumeric() {
		return nil, fmt.Errorf("exec: %s: %s cannot produce %s", c, c.Name, plain(rt))
	}
	if o.isNull() {
		return ev.nullResult(rt, n), nil
	}
	neg := c.Name == "NEG"
	if !ev.generic && isPrimitiveNumeric(rt) && !o.isScalar() {
		a, err := ev.promote(o, rt, c)
		if err != nil {
			return nil, err
		}
		defer releaseOps([]operand{a})
		switch physical(rt).(type) {
		case int8:
			return unaryInt[int8](ev.mem, neg, a.arr, rt), nil
		case int16:
			return unaryInt[int16](ev.mem, neg, a.arr, rt), nil
		case int32:
			return unaryInt[int32](ev.mem, neg, a.arr, rt), nil
		case int64:
			return unaryInt[int64](ev.mem, neg, a.arr, rt), nil
		case float32:
			return unaryFloat[float32](ev.mem, neg, a.arr, rt), nil
		case float64:
			return unaryFloat[float64](ev.mem, neg, a.arr, rt), nil
		}
	}
	ap := newAppender(ev.mem, rt, n)
	for i := 0; i < n; i++ {
		v := o.value(i)
		var r any
		if v != nil {
			var err error
			if r, err = CastValue(v, o.t, rt); err != nil {
				ap.discard()
				return nil, fmt.Errorf("exec: %s: %w", c, err)
			}
			r = negAbs(r, neg)
		}
		if err := ap.append(r); err != nil {
			ap.discard()
			return nil, err
		}
	}
	return ap.finish(), nil
}

func negAbs(v any, neg bool) any {
	switch x := v.(type) {
	case int8:
		if neg || x < 0 {
			return -x
		}
	case int16:
		if neg || x < 0 {
			return -x
		}
	case int32:
		if neg || x < 0 {
			return -x
		}
	case int64:
		if neg || x < 0 {
			return -x
		}
	case float32:
		if neg {
			return -x
		}
		return float32(math.Abs(float64(x)))
	case float64:
		if neg {
			return -x
		}
		return math.Abs(x)
	case decimal128.Num:
		if neg {
			return x.Negate()
		}
		return x.Abs()
	}
	return v
}

func unaryInt[T integer](mem memory.Allocator, neg bool, a arrow.Array, rt types.T) arrow.Array {
	n := a.Len()
	x := values[T](a)
	buf, out := AllocValues[T](mem, n)
	if neg {
		for i, v := range x[:n] {
			out[i] = -v
		}
	} else {
		for i, v := range x[:n] {
			if v < 0 {
				v = -v
			}
			out[i] = v
		}
	}
	vbuf, nulls := copyValidity(mem, a)
	return MakeArray(rt.Arrow(), n, []*memory.Buffer{vbuf, buf}, nulls)
}

func unaryFloat[T float](mem memory.Allocator, neg bool, a arrow.Array, rt types.T) arrow.Array {
	n := a.Len()
	x := values[T](a)
	buf, out := AllocValues[T](mem, n)
	if neg {
		for i, v := range x[:n] {
			out[i] = -v
		}
	} else {
		for i, v := range x[:n] {
			out[i] = T(math.Abs(float64(v)))
		}
	}
	vbuf, nulls := copyValidity(mem, a)
	return MakeArray(rt.Arrow(), n, []*memory.Buffer{vbuf, buf}, nulls)
}
