package exec

import (
	"fmt"
	"math"
	"math/big"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// mathFunc evaluates the numeric functions FLOOR, CEIL, TRUNCATE, SIGN (of
// the argument's type, DECIMAL scales as the planner derives them) and
// POWER, SQRT, LN, LOG10, EXP, PI (DOUBLE, with Java's Math semantics: NaN
// for a negative SQRT, -Infinity for LN(0)), value by value; a NULL argument
// gives NULL.
func (ev *evaluator) mathFunc(c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	for i, o := range ops {
		if !o.t.IsNumeric() && o.t.Kind != types.Null {
			return nil, fmt.Errorf("exec: %s: argument %d must be a number, not %s", c, i+1, plain(o.t))
		}
		if o.isNull() {
			return ev.nullResult(c.T, n), nil
		}
	}
	if !c.T.IsNumeric() {
		return nil, fmt.Errorf("exec: %s cannot produce %s", c, plain(c.T))
	}
	d := 0
	if c.Name == "TRUNCATE" && len(ops) == 2 {
		if !ops[1].isScalar() || !ops[1].t.IsInteger() {
			return nil, fmt.Errorf("exec: %s: the number of digits must be an integer constant", c)
		}
		d = int(ToInt64(ops[1].scalar))
	}
	ap := newAppender(ev.mem, c.T, n)
	args := make([]any, len(ops))
	for i := 0; i < n; i++ {
		null := false
		for k, o := range ops {
			args[k] = o.value(i)
			null = null || args[k] == nil
		}
		var r any
		if !null {
			var err error
			if r, err = mathValue(c.Name, args, ops, d, c.T); err != nil {
				ap.discard()
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

func mathValue(name string, args []any, ops []operand, d int, rt types.T) (any, error) {
	switch name {
	case "PI":
		return math.Pi, nil
	case "POWER", "SQRT", "LN", "LOG10", "EXP":
		x := make([]float64, len(args))
		for i, a := range args {
			v, err := CastValue(a, ops[i].t, types.DOUBLE)
			if err != nil {
				return nil, err
			}
			x[i] = v.(float64)
		}
		switch name {
		case "POWER":
			return math.Pow(x[0], x[1]), nil
		case "SQRT":
			return math.Sqrt(x[0]), nil
		case "LN":
			return math.Log(x[0]), nil
		case "LOG10":
			return math.Log10(x[0]), nil
		}
		return math.Exp(x[0]), nil
	}
	v, t := args[0], ops[0].t
	switch t.Kind {
	case types.Float, types.Double:
		f := ToFloat64(v)
		switch name {
		case "FLOOR":
			f = math.Floor(f)
		case "CEIL":
			f = math.Ceil(f)
		case "SIGN":
			if f > 0 {
				f = 1
			} else if f < 0 {
				f = -1
			}
		case "TRUNCATE":
			if !math.IsNaN(f) && !math.IsInf(f, 0) {
				p := math.Pow(10, float64(d))
				f = math.Trunc(f*p) / p
			}
		}
		if rt.Kind == types.Float {
			return float32(f), nil
		}
		return f, nil
	case types.Decimal:
		u := v.(decimal128.Num).BigInt()
		var r *big.Int // at scale rt.Scale
		switch name {
		case "SIGN":
			r = new(big.Int).Mul(big.NewInt(int64(u.Sign())), pow10(rt.Scale))
		case "TRUNCATE":
			r = new(big.Int).Quo(u, pow10(max(t.Scale-d, 0)))
			r = rescale(r, min(d, t.Scale), rt.Scale)
		default: // FLOOR, CEIL
			q, m := new(big.Int).QuoRem(u, pow10(t.Scale), new(big.Int))
			if m.Sign() != 0 && (m.Sign() > 0) == (name == "CEIL") {
				q.Add(q, big.NewInt(int64(m.Sign())))
			}
			r = rescale(q, 0, rt.Scale)
		}
		if r.CmpAbs(pow10(rt.Precision)) >= 0 {
			if rt.Nullable {
				return nil, nil
			}
			return nil, errOverflow
		}
		return decimal128.FromBigInt(r), nil
	}
	x := ToInt64(v)
	switch name {
	case "SIGN":
		switch {
		case x > 0:
			x = 1
		case x < 0:
			x = -1
		}
	case "TRUNCATE":
		if d < 0 {
			if d < -18 {
				x = 0
			} else {
				p := int64(math.Pow10(-d))
				x = x / p * p
			}
		}
	}
	return NarrowInt(x, rt.Kind), nil
}

// greatest evaluates GREATEST and LEAST: the largest (smallest) argument,
// NULL when any argument is NULL, as in Flink; the result has type c.T.
func (ev *evaluator) greatest(c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	for _, o := range ops {
		if o.isNull() {
			return ev.nullResult(c.T, n), nil
		}
	}
	ap := newAppender(ev.mem, c.T, n)
	for i := 0; i < n; i++ {
		var best any
		var bt types.T
		for k, o := range ops {
			v := o.value(i)
			if v == nil {
				best = nil
				break
			}
			if k == 0 {
				best, bt = v, o.t
				continue
			}
			ct, err := compareType(bt, o.t)
			if err != nil {
				ap.discard()
				return nil, fmt.Errorf("exec: %s: %w", c, err)
			}
			cmp, unordered, err := compareValues(v, o.t, best, bt, ct)
			if err != nil {
				ap.discard()
				return nil, fmt.Errorf("exec: %s: %w", c, err)
			}
			if !unordered && (cmp > 0) == (c.Name == "GREATEST") && cmp != 0 {
				best, bt = v, o.t
			}
		}
		var r any
		if best != nil {
			var err error
			if r, err = castOne(best, bt, c.T, false); err != nil {
				ap.discard()
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
