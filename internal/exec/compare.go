package exec

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// compareType returns the type two operands are compared in: numbers in the
// wider integer type, in DOUBLE when a FLOAT or DOUBLE meets another type,
// exactly when a DECIMAL is involved; strings with strings, binaries with
// binaries, BOOLEAN, DATE, TIME; timestamps (and dates with timestamps) in
// the finer precision.
func compareType(a, b types.T) (types.T, error) {
	switch {
	case a.Kind == types.Null:
		return b, nil
	case b.Kind == types.Null:
		return a, nil
	case a.IsNumeric() && b.IsNumeric():
		switch {
		case a.Kind == types.Float && b.Kind == types.Float:
			return types.FLOAT, nil
		case a.Kind == types.Float || a.Kind == types.Double || b.Kind == types.Float || b.Kind == types.Double:
			return types.DOUBLE, nil
		case a.Kind == types.Decimal || b.Kind == types.Decimal:
			return types.DECIMAL(38, max(a.Scale, b.Scale)), nil
		case a.Kind >= b.Kind:
			return a.WithNullable(true), nil
		}
		return b.WithNullable(true), nil
	case a.IsString() && b.IsString():
		return types.STRING, nil
	case a.IsBinary() && b.IsBinary():
		return types.BYTES, nil
	case a.Kind == b.Kind && (a.Kind == types.Boolean || a.Kind == types.Date || a.Kind == types.IntervalDayTime || a.Kind == types.IntervalYearMonth):
		return a.WithNullable(true), nil
	case a.Kind == types.Time && b.Kind == types.Time:
		return types.TIME(max(a.Precision, b.Precision)), nil
	case isTemporal(a) && isTemporal(b) && (a.Kind != types.Date || b.Kind != types.Date):
		p := 0
		for _, t := range []types.T{a, b} {
			if t.Kind != types.Date {
				p = max(p, t.Precision)
			}
		}
		if a.Kind == types.TimestampLTZ && b.Kind == types.TimestampLTZ {
			return types.TIMESTAMP_LTZ(p), nil
		}
		return types.TIMESTAMP(p), nil
	}
	return types.T{}, fmt.Errorf("cannot compare %s with %s", plain(a), plain(b))
}

func isTemporal(t types.T) bool {
	return t.Kind == types.Date || t.Kind == types.Timestamp || t.Kind == types.TimestampLTZ
}

// mirror returns the operator that gives the same result with the operands swapped.
func mirror(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

// compare evaluates = <> < <= > >=. Floating-point comparisons follow Java's
// primitive operators (NaN compares unequal to everything).
func (ev *evaluator) compare(c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	ct, err := compareType(ops[0].t, ops[1].t)
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	if ops[0].isNull() || ops[1].isNull() {
		return ev.nullResult(types.BOOLEAN, n), nil
	}
	if !ev.generic && physical(ct) != nil {
		a, err := ev.promote(ops[0], ct, c)
		if err != nil {
			return nil, err
		}
		defer releaseOps([]operand{a})
		b, err := ev.promote(ops[1], ct, c)
		if err != nil {
			return nil, err
		}
		defer releaseOps([]operand{b})
		switch physical(ct).(type) {
		case int8:
			return compareFast[int8](ev.mem, c.Name, a, b, n), nil
		case int16:
			return compareFast[int16](ev.mem, c.Name, a, b, n), nil
		case int32:
			return compareFast[int32](ev.mem, c.Name, a, b, n), nil
		case int64:
			return compareFast[int64](ev.mem, c.Name, a, b, n), nil
		case float32:
			return compareFast[float32](ev.mem, c.Name, a, b, n), nil
		case float64:
			return compareFast[float64](ev.mem, c.Name, a, b, n), nil
		}
	}
	ap := newAppender(ev.mem, types.BOOLEAN, n)
	for i := 0; i < n; i++ {
		x, y := ops[0].value(i), ops[1].value(i)
		var r any
		if x != nil && y != nil {
			cmp, unordered, err := compareValues(x, ops[0].t, y, ops[1].t, ct)
			if err != nil {
				ap.discard()
				return nil, fmt.Errorf("exec: %s: %w", c, err)
			}
			r = relation(c.Name, cmp, unordered)
		}
		if err := ap.append(r); err != nil {
			ap.discard()
			return nil, err
		}
	}
	return ap.finish(), nil
}

// relation turns a three-way comparison into the result of op; unordered
// (a NaN was compared) makes every operator but <> false.
func relation(op string, cmp int, unordered bool) bool {
	if unordered {
		return op == "<>"
	}
	switch op {
	case "=":
		return cmp == 0
	case "<>":
		return cmp != 0
	case "<":
		return cmp < 0
	case "<=":
		return cmp <= 0
	case ">":
		return cmp > 0
	}
	return cmp >= 0
}

// compareValues compares x (of type xt) with y (of type yt) in type ct.
func compareValues(x any, xt types.T, y any, yt types.T, ct types.T) (int, bool, error) {
	if ct.Kind == types.Decimal {
		rx, err := toRat(x, xt)
		if err != nil {
			return 0, false, err
		}
		ry, err := toRat(y, yt)
		if err != nil {
			return 0, false, err
		}
		return rx.Cmp(ry), false, nil
	}
	cx, err := CastValue(x, xt, ct)
	if err != nil {
		return 0, false, err
	}
	cy, err := CastValue(y, yt, ct)
	if err != nil {
		return 0, false, err
	}
	switch a := cx.(type) {
	case int8, int16, int32, int64:
		return cmp3(ToInt64(a), ToInt64(cy)), false, nil
	case float32, float64:
		f, g := ToFloat64(a), ToFloat64(cy)
		if f != f || g != g {
			return 0, true, nil
		}
		return cmp3(f, g), false, nil
	case bool:
		b := cy.(bool)
		switch {
		case a == b:
			return 0, false, nil
		case b:
			return -1, false, nil
		}
		return 1, false, nil
	case string:
		return strings.Compare(a, cy.(string)), false, nil
	case []byte:
		return bytes.Compare(a, cy.([]byte)), false, nil
	case arrow.Date32:
		return cmp3(a, cy.(arrow.Date32)), false, nil
	case arrow.Time32:
		return cmp3(a, cy.(arrow.Time32)), false, nil
	case arrow.Timestamp:
		return cmp3(a, cy.(arrow.Timestamp)), false, nil
	}
	return 0, false, fmt.Errorf("cannot compare values of %s", plain(ct))
}

func cmp3[T int64 | float64 | arrow.Date32 | arrow.Time32 | arrow.Timestamp](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func b2u(b bool) byte {
	var x byte
	if b {
		x = 1
	}
	return x
}

// compareFast compares two operands of the same primitive type over their
// typed value slices, writing the result bits eight at a time.
func compareFast[T number](mem memory.Allocator, op string, a, b operand, n int) arrow.Array {
	vbuf, nulls := andValidity(mem, n, a.arr, b.arr)
	buf, out := AllocBitmap(mem, n)
	if a.isScalar() && !b.isScalar() {
		a, b = b, a
		op = mirror(op)
	}
	x, y, sx, sy := sides[T](a, b)
	switch {
	case !a.isScalar() && !b.isScalar():
		x, y = x[:n], y[:n]
		switch op {
		case "=":
			eqVV(x, y, out)
		case "<>":
			eqVV(x, y, out)
			invertBits(out, n)
		case "<":
			ltVV(x, y, out)
		case "<=":
			leVV(x, y, out)
		case ">":
			ltVV(y, x, out)
		case ">=":
			leVV(y, x, out)
		}
	case !a.isScalar():
		x = x[:n]
		switch op {
		case "=":
			eqVS(x, sy, out)
		case "<>":
			eqVS(x, sy, out)
			invertBits(out, n)
		case "<":
			ltVS(x, sy, out)
		case "<=":
			leVS(x, sy, out)
		case ">":
			gtVS(x, sy, out)
		case ">=":
			geVS(x, sy, out)
		}
	default:
		var r bool
		switch op {
		case "=":
			r = sx == sy
		case "<>":
			r = sx != sy
		case "<":
			r = sx < sy
		case "<=":
			r = sx <= sy
		case ">":
			r = sx > sy
		case ">=":
			r = sx >= sy
		}
		if r {
			bitutil.SetBitsTo(out, 0, int64(n), true)
		}
	}
	return MakeArray(arrow.FixedWidthTypes.Boolean, n, []*memory.Buffer{vbuf, buf}, nulls)
}

// invertBits inverts the first n bits of b and clears the bits after them.
func invertBits(b []byte, n int) {
	full := n / 8
	for i := 0; i < full; i++ {
		b[i] = ^b[i]
	}
	if r := n % 8; r != 0 {
		b[full] = ^b[full] & (1<<r - 1)
	}
}

func eqVV[T number](x, y []T, out []byte) {
	n := len(x)
	y = y[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		xs, ys := x[i:i+8:i+8], y[i:i+8:i+8]
		out[i>>3] = b2u(xs[0] == ys[0]) | b2u(xs[1] == ys[1])<<1 | b2u(xs[2] == ys[2])<<2 | b2u(xs[3] == ys[3])<<3 |
			b2u(xs[4] == ys[4])<<4 | b2u(xs[5] == ys[5])<<5 | b2u(xs[6] == ys[6])<<6 | b2u(xs[7] == ys[7])<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(x[i] == y[i]) << (i & 7)
	}
}

func ltVV[T number](x, y []T, out []byte) {
	n := len(x)
	y = y[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		xs, ys := x[i:i+8:i+8], y[i:i+8:i+8]
		out[i>>3] = b2u(xs[0] < ys[0]) | b2u(xs[1] < ys[1])<<1 | b2u(xs[2] < ys[2])<<2 | b2u(xs[3] < ys[3])<<3 |
			b2u(xs[4] < ys[4])<<4 | b2u(xs[5] < ys[5])<<5 | b2u(xs[6] < ys[6])<<6 | b2u(xs[7] < ys[7])<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(x[i] < y[i]) << (i & 7)
	}
}

func leVV[T number](x, y []T, out []byte) {
	n := len(x)
	y = y[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		xs, ys := x[i:i+8:i+8], y[i:i+8:i+8]
		out[i>>3] = b2u(xs[0] <= ys[0]) | b2u(xs[1] <= ys[1])<<1 | b2u(xs[2] <= ys[2])<<2 | b2u(xs[3] <= ys[3])<<3 |
			b2u(xs[4] <= ys[4])<<4 | b2u(xs[5] <= ys[5])<<5 | b2u(xs[6] <= ys[6])<<6 | b2u(xs[7] <= ys[7])<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(x[i] <= y[i]) << (i & 7)
	}
}

func eqVS[T number](x []T, s T, out []byte) {
	n := len(x)
	i := 0
	for ; i+8 <= n; i += 8 {
		xs := x[i : i+8 : i+8]
		out[i>>3] = b2u(xs[0] == s) | b2u(xs[1] == s)<<1 | b2u(xs[2] == s)<<2 | b2u(xs[3] == s)<<3 |
			b2u(xs[4] == s)<<4 | b2u(xs[5] == s)<<5 | b2u(xs[6] == s)<<6 | b2u(xs[7] == s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(x[i] == s) << (i & 7)
	}
}

func ltVS[T number](x []T, s T, out []byte) {
	n := len(x)
	i := 0
	for ; i+8 <= n; i += 8 {
		xs := x[i : i+8 : i+8]
		out[i>>3] = b2u(xs[0] < s) | b2u(xs[1] < s)<<1 | b2u(xs[2] < s)<<2 | b2u(xs[3] < s)<<3 |
			b2u(xs[4] < s)<<4 | b2u(xs[5] < s)<<5 | b2u(xs[6] < s)<<6 | b2u(xs[7] < s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(x[i] < s) << (i & 7)
	}
}

func leVS[T number](x []T, s T, out []byte) {
	n := len(x)
	i := 0
	for ; i+8 <= n; i += 8 {
		xs := x[i : i+8 : i+8]
		out[i>>3] = b2u(xs[0] <= s) | b2u(xs[1] <= s)<<1 | b2u(xs[2] <= s)<<2 | b2u(xs[3] <= s)<<3 |
			b2u(xs[4] <= s)<<4 | b2u(xs[5] <= s)<<5 | b2u(xs[6] <= s)<<6 | b2u(xs[7] <= s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(x[i] <= s) << (i & 7)
	}
}

func gtVS[T number](x []T, s T, out []byte) {
	n := len(x)
	i := 0
	for ; i+8 <= n; i += 8 {
		xs := x[i : i+8 : i+8]
		out[i>>3] = b2u(xs[0] > s) | b2u(xs[1] > s)<<1 | b2u(xs[2] > s)<<2 | b2u(xs[3] > s)<<3 |
			b2u(xs[4] > s)<<4 | b2u(xs[5] > s)<<5 | b2u(xs[6] > s)<<6 | b2u(xs[7] > s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(x[i] > s) << (i & 7)
	}
}

func geVS[T number](x []T, s T, out []byte) {
	n := len(x)
	i := 0
	for ; i+8 <= n; i += 8 {
		xs := x[i : i+8 : i+8]
		out[i>>3] = b2u(xs[0] >= s) | b2u(xs[1] >= s)<<1 | b2u(xs[2] >= s)<<2 | b2u(xs[3] >= s)<<3 |
			b2u(xs[4] >= s)<<4 | b2u(xs[5] >= s)<<5 | b2u(xs[6] >= s)<<6 | b2u(xs[7] >= s)<<7
	}
	for ; i < n; i++ {
		out[i>>3] |= b2u(x[i] >= s) << (i & 7)
	}
}
