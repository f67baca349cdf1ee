package exec

import (
	"errors"
	"fmt"
	"math"
	"math/big"

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
					return nil, errDivByZero
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
				if errors.Is(err, errDivByZero) {
					return nil, fmt.Errorf("exec: %w in %s", err, c)
				}
				return nil, fmt.Errorf("exec: %s: %w", c, err)
			}
		}
		if err := ap.append(r); err != nil {
			ap.discard()
			return nil, err
		}
	}
	return ap.finish(), nil
}

// arithValue computes x op y with result type rt.
func arithValue(op string, x any, xt types.T, y any, yt types.T, rt types.T) (any, error) {
	if rt.Kind == types.Decimal {
		rx, err := toRat(x, xt)
		if err != nil {
			return nil, err
		}
		ry, err := toRat(y, yt)
		if err != nil {
			return nil, err
		}
		r := new(big.Rat)
		switch op {
		case "+":
			r.Add(rx, ry)
		case "-":
			r.Sub(rx, ry)
		case "*":
			r.Mul(rx, ry)
		case "/", "%":
			if ry.Sign() == 0 {
				return nil, errDivByZero
			}
			r.Quo(rx, ry)
			if op == "%" {
				q := new(big.Int).Quo(r.Num(), r.Denom())
				r.Sub(rx, new(big.Rat).Mul(new(big.Rat).SetInt(q), ry))
			}
		}
		d, ok := ratDecimal(r, rt.Precision, rt.Scale)
		if !ok {
			return nil, nil
		}
		return d, nil
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
	return narrowInt(r, rt.Kind), nil
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
