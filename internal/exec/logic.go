package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// evalBool evaluates a BOOLEAN (or NULL-typed) expression as a boolean array.
func (ev *evaluator) evalBool(e expr.Expr, in *batch) (arrow.Array, error) {
	if t := e.Type(); t.Kind != types.Boolean && t.Kind != types.Null {
		return nil, fmt.Errorf("exec: %s is %s, not BOOLEAN", e, plain(t))
	}
	a, err := ev.eval(e, in)
	if err != nil {
		return nil, err
	}
	return ev.coerce(a, e.Type(), types.BOOLEAN, e)
}

// andOr evaluates AND and OR (of two or more operands) with SQL's
// three-valued logic: FALSE AND NULL is FALSE, TRUE OR NULL is TRUE. An
// operand that can fail is evaluated only on the rows its left side leaves
// undecided, so that b <> 0 AND a / b > 1 never divides by zero.
func (ev *evaluator) andOr(c *expr.Call, in *batch) (arrow.Array, error) {
	if len(c.Args) < 2 {
		return nil, fmt.Errorf("exec: %s takes at least 2 arguments, got %d in %s", c.Name, len(c.Args), c)
	}
	isAnd := c.Name == "AND"
	n := in.n
	acc, err := ev.evalBool(c.Args[0], in)
	if err != nil {
		return nil, err
	}
	for _, arg := range c.Args[1:] {
		var right arrow.Array
		if canFail(arg) {
			vals, valid := boolBits(acc)
			var open []int32
			for i := 0; i < n; i++ {
				if (valid == nil || bit(valid, i)) && bit(vals, i) != isAnd {
					continue // decided: FALSE for AND, TRUE for OR
				}
				open = append(open, int32(i))
			}
			if len(open) == 0 {
				continue
			}
			r, err := ev.evalRows(arg, in, open, types.BOOLEAN)
			if err != nil {
				acc.Release()
				return nil, err
			}
			if len(open) == n {
				right = r
			} else {
				src := make([]int32, n)
				pos := make([]int32, n)
				for i := range src {
					src[i] = -1
				}
				for j, i := range open {
					src[i], pos[i] = 0, int32(j)
				}
				right, err = gather(ev.mem, arrow.FixedWidthTypes.Boolean, []arrow.Array{r}, src, pos)
				r.Release()
				if err != nil {
					acc.Release()
					return nil, err
				}
			}
		} else {
			if right, err = ev.evalBool(arg, in); err != nil {
				acc.Release()
				return nil, err
			}
		}
		next := ev.combine(isAnd, acc, right, n)
		acc.Release()
		right.Release()
		acc = next
	}
	return acc, nil
}

// combine computes a AND b or a OR b, eight rows at a time.
func (ev *evaluator) combine(isAnd bool, a, b arrow.Array, n int) arrow.Array {
	va, ma := boolBits(a)
	vb, mb := boolBits(b)
	nb := int(bitutil.BytesForBits(int64(n)))
	vals := make([]byte, nb)
	valid := make([]byte, nb)
	for j := 0; j < nb; j++ {
		xm, ym := byte(0xFF), byte(0xFF)
		if ma != nil {
			xm = ma[j]
		}
		if mb != nil {
			ym = mb[j]
		}
		xt, yt := va[j]&xm, vb[j]&ym // known TRUE
		if isAnd {
			xf, yf := xm&^va[j], ym&^vb[j] // known FALSE
			valid[j] = xf | yf | (xm & ym)
			vals[j] = xt & yt
		} else {
			valid[j] = xt | yt | (xm & ym)
			vals[j] = xt | yt
		}
	}
	return newBool(ev.mem, n, vals, valid)
}

// unaryLogic evaluates NOT, IS NULL and IS NOT NULL.
func (ev *evaluator) unaryLogic(c *expr.Call, o operand, n int) (arrow.Array, error) {
	nb := int(bitutil.BytesForBits(int64(n)))
	if c.Name == "NOT" {
		if o.t.Kind != types.Boolean && o.t.Kind != types.Null {
			return nil, fmt.Errorf("exec: %s: NOT needs a BOOLEAN operand, not %s", c, plain(o.t))
		}
		if o.isScalar() {
			v := o.scalar
			if v != nil {
				v = !v.(bool)
			}
			return broadcast(ev.mem, v, types.BOOLEAN, n)
		}
		if isNullTyped(o.arr) {
			return ev.nullResult(types.BOOLEAN, n), nil
		}
		vals, valid := boolBits(o.arr)
		out := make([]byte, nb)
		for j := range out {
			out[j] = ^vals[j]
		}
		return newBool(ev.mem, n, out, valid), nil
	}
	want := c.Name == "IS NULL"
	if o.isScalar() {
		return broadcast(ev.mem, (o.scalar == nil) == want, types.BOOLEAN, n)
	}
	out := make([]byte, nb)
	switch {
	case isNullTyped(o.arr):
		if want {
			bitutil.SetBitsTo(out, 0, int64(n), true)
		}
	case o.arr.NullN() == 0:
		if !want {
			bitutil.SetBitsTo(out, 0, int64(n), true)
		}
	default:
		bits, off := validity(o.arr)
		if want {
			bitutil.InvertBitmap(bits, off, n, out, 0)
		} else {
			bitutil.CopyBitmap(bits, off, n, out, 0)
		}
	}
	return newBool(ev.mem, n, out, nil), nil
}
