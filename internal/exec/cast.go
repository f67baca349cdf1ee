package exec

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// cast evaluates CAST(x AS t) and TRY_CAST(x AS t).
func (ev *evaluator) cast(c *expr.Cast, in *batch) (arrow.Array, error) {
	o, err := ev.operand(c.X, in)
	if err != nil {
		return nil, err
	}
	if o.isScalar() {
		v, err := castOne(o.scalar, o.t, c.T, c.Try)
		if err != nil {
			return nil, castError(c, err)
		}
		return broadcast(ev.mem, v, c.T, in.n)
	}
	defer o.arr.Release()
	return ev.castArrayTry(o.arr, o.t, c.T, c, c.Try)
}

// castArray converts a (of type from) to type to; e names the expression in
// errors.
func (ev *evaluator) castArray(a arrow.Array, from, to types.T, e expr.Expr) (arrow.Array, error) {
	return ev.castArrayTry(a, from, to, e, false)
}

// castArrayTry is castArray, with the values that cannot be converted NULL
// when try is set (TRY_CAST).
func (ev *evaluator) castArrayTry(a arrow.Array, from, to types.T, e expr.Expr, try bool) (arrow.Array, error) {
	n := a.Len()
	if from.Kind == types.Null || isNullTyped(a) {
		return ev.nullResult(to, n), nil
	}
	if arrow.TypeEqual(a.DataType(), to.Arrow()) && !castNeedsWork(from, to) {
		a.Retain()
		return a, nil
	}
	if !isScalarKind(from.Kind) || !isScalarKind(to.Kind) {
		if try {
			return ev.nullResult(to, n), nil
		}
		return nil, fmt.Errorf("exec: %s: cannot cast %s to %s", e, from, plain(to))
	}
	if !ev.generic && physical(from) != nil && physical(to) != nil && from.IsNumeric() && to.IsNumeric() {
		return castNumArray(ev.mem, a, from, to), nil
	}
	if !ev.generic && to.Kind == types.Decimal && (from.IsInteger() || (from.Kind == types.Decimal && from.Scale <= to.Scale)) {
		if out, ok := ev.castToDecimal(a, from, to, try); ok {
			return out, nil
		}
	}
	ap := newAppender(ev.mem, to, n)
	for i := 0; i < n; i++ {
		v, err := castOne(valueAt(a, i), from, to, try)
		if err != nil {
			ap.discard()
			return nil, castError(e, err)
		}
		if err := ap.append(v); err != nil {
			ap.discard()
			return nil, fmt.Errorf("exec: %s: %w", e, err)
		}
	}
	return ap.finish(), nil
}

// castToDecimal is the typed path of casts from integers and DECIMALs to a
// DECIMAL of at least their scale, which need no rounding: the unscaled
// values are multiplied in 128 bits. ok is false when a value does not fit
// and the cast must fail (the generic path then says which).
func (ev *evaluator) castToDecimal(a arrow.Array, from, to types.T, try bool) (out arrow.Array, ok bool) {
	n := a.Len()
	var x []decimal128.Num
	up := to.Scale
	if from.Kind == types.Decimal {
		up -= from.Scale
		x = values[decimal128.Num](a)
	} else {
		x = make([]decimal128.Num, n)
		switch physical(from).(type) {
		case int8:
			intsToDecimal(values[int8](a), 0, x)
		case int16:
			intsToDecimal(values[int16](a), 0, x)
		case int32:
			intsToDecimal(values[int32](a), 0, x)
		default:
			intsToDecimal(values[int64](a), 0, x)
		}
	}
	if up >= to.Precision {
		return nil, false // only zero fits: the generic path knows
	}
	mul := decimal128.GetScaleMultiplier(up)
	valid, off := validity(a)
	buf, res := AllocValues[decimal128.Num](ev.mem, n)
	var nullBits []byte
	var vbuf *memory.Buffer
	for i := 0; i < n; i++ {
		if valid != nil && !bit(valid, off+i) {
			continue
		}
		// |x| < 10^(p - up) is the value fitting DECIMAL(p, s); it also
		// keeps the product within 128 bits.
		if !x[i].FitsInPrecision(int32(to.Precision - up)) {
			if !to.Nullable && !try {
				buf.Release()
				if vbuf != nil {
					vbuf.Release()
				}
				return nil, false
			}
			if vbuf == nil {
				if vbuf, _ = copyValidity(ev.mem, a); vbuf == nil {
					var bits []byte
					vbuf, bits = AllocBitmap(ev.mem, n)
					bitutil.SetBitsTo(bits, 0, int64(n), true)
				}
				nullBits = bufBytes(vbuf)
			}
			bitutil.ClearBit(nullBits, i)
			continue
		}
		res[i] = x[i].Mul(mul)
	}
	if vbuf == nil {
		vbuf, _ = copyValidity(ev.mem, a)
	}
	nulls := 0
	if vbuf != nil {
		nulls = n - bitutil.CountSetBits(bufBytes(vbuf), 0, n)
	}
	return MakeArray(to.Arrow(), n, []*memory.Buffer{vbuf, buf}, nulls), true
}

// castFailure is a value that CAST cannot convert: not a value of the target
// type, or a number too large for it.
type castFailure struct {
	value    string // as SQL would write it
	to       types.T
	overflow bool
}

func (f *castFailure) Error() string {
	if f.overflow {
		return fmt.Sprintf("%s does not fit %s", f.value, f.to)
	}
	return fmt.Sprintf("cannot cast %s to %s", f.value, plain(f.to))
}

// castOne converts one value as CAST (or, with try, TRY_CAST) does. A DECIMAL
// too narrow for the value gives NULL, as in Flink; where the type is NOT
// NULL, Flink then fails on the NULL in a NOT NULL column, and castOne fails
// right away.
func castOne(v any, from, to types.T, try bool) (any, error) {
	r, err := CastValue(v, from, to)
	switch {
	case try:
		return r, nil // NULL on failure
	case err != nil:
		return nil, err
	case r == nil && v != nil && !to.Nullable && to.Kind != types.Null:
		return nil, &castFailure{value: quoteValue(v, from), to: to, overflow: true}
	}
	return r, nil
}

// castError describes a failed conversion in the expression e, suggesting
// TRY_CAST where e is a CAST.
func castError(e expr.Expr, err error) error {
	var f *castFailure
	if c, ok := e.(*expr.Cast); ok && !c.Try && errors.As(err, &f) {
		// Shown as written: the type without the NOT NULL it inherits.
		cast := fmt.Sprintf("CAST(%s AS %s)", c.X, plain(c.T))
		if f.overflow {
			return fmt.Errorf("exec: %s: %w; use a DECIMAL with more digits, or TRY_%s to get NULL instead", cast, err, cast)
		}
		return fmt.Errorf("exec: %s: %w; use TRY_%s to get NULL for the values that cannot be cast", cast, err, cast)
	}
	return fmt.Errorf("exec: %s: %w", e, err)
}

// plain returns t's SQL spelling without NOT NULL.
func plain(t types.T) string { return t.WithNullable(true).String() }

// castNeedsWork reports whether casting between two types with the same Arrow
// type still changes values: truncating or padding strings and binaries,
// dropping fractional seconds.
func castNeedsWork(from, to types.T) bool {
	switch {
	case to.IsString() || to.IsBinary():
		if to.Kind == types.Char || to.Kind == types.Binary {
			return from.Kind != to.Kind || from.Length != to.Length
		}
		return to.Length < types.MaxLength && (from.Length == 0 || from.Length > to.Length)
	case to.Kind == types.Time || to.Kind == types.Timestamp || to.Kind == types.TimestampLTZ:
		return to.Precision < from.Precision && to.Precision < 9
	}
	return false
}

// castCanFail reports whether some value of from cannot be cast to to.
func castCanFail(from, to types.T) bool {
	switch {
	case to.Kind == types.Decimal && !to.Nullable && from.Kind != types.Boolean:
		return true // a value too large
	case from.IsString():
		return !to.IsString() && !to.IsBinary()
	case from.Kind == types.Float || from.Kind == types.Double:
		return to.Kind == types.Decimal
	}
	return false
}

// errNoCast is a cast between types that CAST does not convert at all.
var errNoCast = errors.New("cannot cast")

// CanCast reports whether CAST converts values of the scalar type from to
// the scalar type to (DATE to INT, for one, it does not; Flink neither).
func CanCast(from, to types.T) bool {
	if from.Kind == types.Null || to.Kind == types.Null {
		return true
	}
	if !isScalarKind(from.Kind) || !isScalarKind(to.Kind) {
		return false
	}
	var v any
	switch {
	case from.IsString():
		v = "0"
	case from.IsBinary():
		v = []byte{}
	case from.Kind == types.Boolean:
		v = false
	case from.Kind == types.Decimal:
		v = decimal128.Num{}
	default:
		v = reflect.Zero(goType(from)).Interface()
	}
	_, err := CastValue(v, from, to)
	return !errors.Is(err, errNoCast)
}

// CastValue converts a Literal-style Go value v of type from to type to with
// the semantics of Flink's CAST: integers narrow by wrapping, floating point
// to integer truncates and saturates as in Java, DECIMAL results are rounded
// half up and are NULL (nil) when they do not fit the precision, strings are
// parsed after trimming whitespace. A value that cannot be converted (e.g.
// 'abc' to INT) is an error naming the value and the target type.
func CastValue(v any, from, to types.T) (any, error) {
	if v == nil || to.Kind == types.Null {
		return nil, nil
	}
	fail := func() (any, error) {
		return nil, &castFailure{value: quoteValue(v, from), to: to}
	}
	unsupported := func() (any, error) {
		return nil, fmt.Errorf("%w %s to %s", errNoCast, plain(from), plain(to))
	}
	if r, ok := castInterval(v, from, to); ok { // temporal.go
		return r, nil
	}
	switch to.Kind {
	case types.TinyInt, types.SmallInt, types.Int, types.BigInt:
		var x int64
		switch {
		case from.IsInteger():
			x = ToInt64(v)
		case from.Kind == types.Float || from.Kind == types.Double:
			x = floatToInt(ToFloat64(v), to.Kind)
		case from.Kind == types.Decimal:
			x = decimalToInt(v.(decimal128.Num), from.Scale)
		case from.Kind == types.Boolean:
			if v.(bool) {
				x = 1
			}
		case from.IsString():
			var ok bool
			if x, ok = parseInteger(v.(string)); !ok || !fitsInt(x, to.Kind) {
				return fail()
			}
		default:
			return unsupported()
		}
		return NarrowInt(x, to.Kind), nil
	case types.Float, types.Double:
		var f float64
		switch {
		case from.IsInteger():
			f = float64(ToInt64(v))
			if to.Kind == types.Float {
				return float32(ToInt64(v)), nil
			}
		case from.Kind == types.Float || from.Kind == types.Double:
			f = ToFloat64(v)
		case from.Kind == types.Decimal:
			r := decimalRat(v.(decimal128.Num), from.Scale)
			if to.Kind == types.Float {
				x, _ := r.Float32()
				return x, nil
			}
			f, _ = r.Float64()
		case from.Kind == types.Boolean:
			if v.(bool) {
				f = 1
			}
		case from.IsString():
			bits := 64
			if to.Kind == types.Float {
				bits = 32
			}
			var ok bool
			if f, ok = parseJavaDouble(v.(string), bits); !ok {
				return fail()
			}
		default:
			return unsupported()
		}
		if to.Kind == types.Float {
			return float32(f), nil
		}
		return f, nil
	case types.Decimal:
		var r *big.Rat
		switch {
		case from.IsInteger():
			r = new(big.Rat).SetInt64(ToInt64(v))
		case from.Kind == types.Float || from.Kind == types.Double:
			f := ToFloat64(v)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return fail()
			}
			bits := 64
			if from.Kind == types.Float {
				bits = 32
			}
			r, _ = new(big.Rat).SetString(strconv.FormatFloat(f, 'e', -1, bits))
		case from.Kind == types.Decimal:
			if from.Scale == to.Scale {
				n := v.(decimal128.Num)
				if n.FitsInPrecision(int32(to.Precision)) {
					return n, nil
				}
				return nil, nil
			}
			r = decimalRat(v.(decimal128.Num), from.Scale)
		case from.Kind == types.Boolean:
			r = new(big.Rat)
			if v.(bool) {
				r.SetInt64(1)
			}
		case from.IsString():
			var ok bool
			if r, ok = parseDecimal(v.(string)); !ok {
				return fail()
			}
		default:
			return unsupported()
		}
		d, ok := ratDecimal(r, to.Precision, to.Scale)
		if !ok {
			return nil, nil
		}
		return d, nil
	case types.Boolean:
		switch {
		case from.Kind == types.Boolean:
			return v, nil
		case from.IsInteger():
			return ToInt64(v) != 0, nil
		case from.Kind == types.Float || from.Kind == types.Double:
			return ToFloat64(v) != 0, nil
		case from.Kind == types.Decimal:
			return v.(decimal128.Num).Sign() != 0, nil
		case from.IsString():
			// Flink does not trim here: ' true' is not a BOOLEAN.
			switch strings.ToLower(v.(string)) {
			case "true", "t", "yes", "y", "1":
				return true, nil
			case "false", "f", "no", "n", "0":
				return false, nil
			}
			return fail()
		}
		return unsupported()
	case types.Char, types.Varchar:
		s, ok := castToString(v, from)
		if !ok {
			return unsupported()
		}
		return fitString(s, to), nil
	case types.Binary, types.Varbinary:
		var b []byte
		switch {
		case from.IsBinary():
			b = v.([]byte)
		case from.IsString():
			b = []byte(v.(string))
		default:
			return unsupported()
		}
		return fitBytes(b, to), nil
	case types.Date:
		switch from.Kind {
		case types.Date:
			return v, nil
		case types.Timestamp, types.TimestampLTZ:
			days, _ := splitTimestamp(v.(arrow.Timestamp), from.Precision)
			return arrow.Date32(days), nil
		case types.Char, types.Varchar:
			d, ok := parseDate(javaTrim(v.(string)), false)
			if !ok {
				return fail()
			}
			return arrow.Date32(d), nil
		}
		return unsupported()
	case types.Time:
		var ms int64
		switch from.Kind {
		case types.Time:
			ms = int64(v.(arrow.Time32))
		case types.Timestamp, types.TimestampLTZ:
			_, nanos := splitTimestamp(v.(arrow.Timestamp), from.Precision)
			ms = nanos / 1e6
		case types.Char, types.Varchar:
			nanos, ok := parseTime(javaTrim(v.(string)))
			if !ok {
				return fail()
			}
			ms = nanos / 1e6
		default:
			return unsupported()
		}
		return arrow.Time32(truncateTo(ms, 3, to.Precision)), nil
	case types.Timestamp, types.TimestampLTZ:
		var days, nanos int64
		switch from.Kind {
		case types.Date:
			days = int64(v.(arrow.Date32))
		case types.Timestamp, types.TimestampLTZ:
			days, nanos = splitTimestamp(v.(arrow.Timestamp), from.Precision)
		case types.Char, types.Varchar:
			var ok bool
			if days, nanos, ok = parseTimestamp(v.(string)); !ok {
				return fail()
			}
		default:
			return unsupported()
		}
		return makeTimestamp(days, nanos, to.Precision), nil
	}
	return unsupported()
}

// makeTimestamp builds a TIMESTAMP(p) value, dropping digits beyond p.
func makeTimestamp(days, nanos int64, p int) arrow.Timestamp {
	nanos = truncateTo(nanos, 9, p)
	switch types.TimestampUnit(p) {
	case arrow.Millisecond:
		return arrow.Timestamp(days*86400_000 + nanos/1e6)
	case arrow.Microsecond:
		return arrow.Timestamp(days*86400_000_000 + nanos/1e3)
	}
	return arrow.Timestamp(days*86400_000_000_000 + nanos)
}

// truncateTo drops the fractional digits beyond p of a non-negative value
// with have fractional digits.
func truncateTo(v int64, have, p int) int64 {
	if p >= have {
		return v
	}
	m := int64(math.Pow10(have - p))
	return v - v%m
}

// quoteValue renders a value for an error message: strings quoted as in SQL.
func quoteValue(v any, t types.T) string {
	if s, ok := v.(string); ok {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	if s, ok := castToString(v, t); ok {
		return s
	}
	return fmt.Sprint(v)
}

// castToString converts v of type t to its CAST(... AS STRING) text.
func castToString(v any, t types.T) (string, bool) {
	switch x := v.(type) {
	case int8, int16, int32, int64:
		return strconv.FormatInt(ToInt64(x), 10), true
	case float32:
		return FormatDouble(float64(x), 32), true
	case float64:
		return FormatDouble(x, 64), true
	case decimal128.Num:
		return x.ToString(int32(t.Scale)), true
	case bool:
		if x {
			return "TRUE", true
		}
		return "FALSE", true
	case string:
		return x, true
	case []byte:
		return strings.ToValidUTF8(string(x), "\uFFFD"), true
	case arrow.Date32:
		return FormatDate(x), true
	case arrow.Time32:
		return castTimeString(x, t.Precision), true
	case arrow.Timestamp:
		return castTimestampString(x, t.Precision), true
	}
	return "", false
}

// fitString truncates s to the length of a VARCHAR(n) or CHAR(n) and pads a
// CHAR(n) with spaces, counting characters.
func fitString(s string, t types.T) string {
	if t.Length <= 0 || t.Length >= types.MaxLength {
		return s
	}
	n := utf8.RuneCountInString(s)
	if n > t.Length {
		i, k := 0, 0
		for i = range s {
			if k == t.Length {
				break
			}
			k++
		}
		return s[:i]
	}
	if t.Kind == types.Char && n < t.Length {
		return s + strings.Repeat(" ", t.Length-n)
	}
	return s
}

// fitBytes truncates b to the length of a VARBINARY(n) or BINARY(n) and pads
// a BINARY(n) with zero bytes.
func fitBytes(b []byte, t types.T) []byte {
	if t.Length <= 0 || t.Length >= types.MaxLength {
		return b
	}
	if len(b) > t.Length {
		return b[:t.Length]
	}
	if t.Kind == types.Binary && len(b) < t.Length {
		return append(bytes.Clone(b), make([]byte, t.Length-len(b))...)
	}
	return b
}

// javaTrim removes leading and trailing characters <= ' ', as Java's String.trim.
func javaTrim(s string) string {
	i, j := 0, len(s)
	for i < j && s[i] <= ' ' {
		i++
	}
	for j > i && s[j-1] <= ' ' {
		j--
	}
	return s[i:j]
}

// parseInteger parses an integer as Flink does: an optional sign, digits, and
// an optional fraction that is dropped (CAST('1.9' AS INT) is 1, '.5' is 0).
func parseInteger(s string) (int64, bool) {
	s = javaTrim(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var x uint64
	digits := 0
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if x > (math.MaxUint64-d)/10 {
			return 0, false
		}
		x = x*10 + d
		digits++
	}
	if i < len(s) {
		if s[i] != '.' {
			return 0, false
		}
		for i++; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			digits++ // '.5' is 0, as in Flink
		}
	}
	if digits == 0 {
		return 0, false
	}
	if neg {
		if x > 1<<63 {
			return 0, false
		}
		return int64(-x), true
	}
	if x > math.MaxInt64 {
		return 0, false
	}
	return int64(x), true
}

// parseJavaDouble parses a FLOAT (bits 32) or DOUBLE as Java's
// Double.parseDouble, which Flink uses: surrounding whitespace, a sign, NaN,
// Infinity, decimal digits with an exponent and an optional d or f suffix,
// or a hexadecimal float with its p exponent; values beyond the range are
// infinite.
func parseJavaDouble(s string, bits int) (float64, bool) {
	s = javaTrim(s)
	body := s
	if body != "" && (body[0] == '+' || body[0] == '-') {
		body = body[1:]
	}
	switch {
	case body == "NaN" || body == "Infinity":
	case strings.HasPrefix(body, "0x") || strings.HasPrefix(body, "0X"):
		if strings.Contains(body, "_") {
			return 0, false
		}
	default:
		if n := len(s); n > 1 && strings.IndexByte("fFdD", s[n-1]) >= 0 {
			s = s[:n-1]
		}
		for _, c := range []byte(s) {
			if (c < '0' || c > '9') && strings.IndexByte(".eE+-", c) < 0 {
				return 0, false
			}
		}
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

// parseDecimal parses a decimal number, with an optional exponent.
func parseDecimal(s string) (*big.Rat, bool) {
	s = javaTrim(s)
	if s == "" || strings.ContainsAny(s, "/xXpP_") {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// parseDate parses yyyy-[m]m-[d]d, optionally followed by a time after a
// space, into days since the epoch, as Flink does: a year of at most four
// digits, without sign. A day past the end of its month (2020-02-30) is
// invalid, or with clamp the month's last day, as Flink's TIMESTAMP parsing
// (java.time's smart resolution) makes it.
func parseDate(s string, clamp bool) (int64, bool) {
	if i := strings.IndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return 0, false
	}
	var f [3]int
	for i, p := range parts {
		if p == "" || len(p) > 4 || (i > 0 && len(p) > 2) {
			return 0, false
		}
		for _, c := range []byte(p) {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
		f[i], _ = strconv.Atoi(p)
	}
	y, m, d := f[0], f[1], f[2]
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, false
	}
	if last := time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day(); clamp && d > last {
		d = last
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return 0, false
	}
	return floorDiv(t.Unix(), 86400), true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// parseTime parses HH:mm[:ss[.fffffffff]] into nanoseconds of the day.
func parseTime(s string) (int64, bool) {
	var frac string
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s, frac = s[:i], s[i+1:]
		if frac == "" || len(frac) > 9 {
			return 0, false
		}
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 || (frac != "" && len(parts) != 3) {
		return 0, false
	}
	var f [3]int64
	for i, p := range parts {
		if len(p) < 1 || len(p) > 2 {
			return 0, false
		}
		for _, c := range []byte(p) {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
		x, _ := strconv.Atoi(p)
		f[i] = int64(x)
	}
	if f[0] > 23 || f[1] > 59 || f[2] > 59 {
		return 0, false
	}
	nanos := (f[0]*3600 + f[1]*60 + f[2]) * 1e9
	if frac != "" {
		for _, c := range []byte(frac) {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
		x, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		nanos += x
	}
	return nanos, true
}

// parseTimestamp parses yyyy-[M]M-[d]d[ [H]H:[m]m[:[s]s[.fffffffff]]] as
// Flink does: no surrounding spaces, a space (not a T) before the time, a
// day past the end of its month clamped to the month's last day, and 24:00
// as midnight of the next day.
func parseTimestamp(s string) (days, nanos int64, ok bool) {
	date, clock := s, ""
	if i := strings.IndexByte(s, ' '); i > 0 {
		date, clock = s[:i], s[i+1:]
	}
	if days, ok = parseDate(date, true); !ok {
		return 0, 0, false
	}
	if clock == "" {
		return days, 0, true
	}
	if nanos, ok = parseTime(clock); ok {
		return days, nanos, true
	}
	if rest, ok := strings.CutPrefix(clock, "24:"); ok {
		if n, ok := parseTime("00:" + rest); ok && n == 0 {
			return days + 1, 0, true
		}
	}
	return 0, 0, false
}

// ToInt64 widens a Literal-style integer value to int64.
func ToInt64(v any) int64 {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	}
	panic(fmt.Sprintf("exec: %T is not an integer", v))
}

// ToFloat64 converts a Literal-style number to float64.
func ToFloat64(v any) float64 {
	switch x := v.(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	}
	return float64(ToInt64(v))
}

// NarrowInt converts x to the Go type of integer kind k, wrapping as Java's
// narrowing conversions do.
func NarrowInt(x int64, k types.Kind) any {
	switch k {
	case types.TinyInt:
		return int8(x)
	case types.SmallInt:
		return int16(x)
	case types.Int:
		return int32(x)
	}
	return x
}

func fitsInt(x int64, k types.Kind) bool {
	switch k {
	case types.TinyInt:
		return x >= math.MinInt8 && x <= math.MaxInt8
	case types.SmallInt:
		return x >= math.MinInt16 && x <= math.MaxInt16
	case types.Int:
		return x >= math.MinInt32 && x <= math.MaxInt32
	}
	return true
}

// floatToInt converts f to the integer kind k as Java's (long) or (int) casts
// do: NaN is 0, out-of-range values saturate (to the int range for the kinds
// narrower than BIGINT, which then wrap).
func floatToInt(f float64, k types.Kind) int64 {
	if k == types.BigInt {
		return javaF2L(f)
	}
	return int64(javaF2I(f))
}

func javaF2L(f float64) int64 {
	switch {
	case f != f:
		return 0
	case f >= 9.223372036854775807e18:
		return math.MaxInt64
	case f <= -9.223372036854775808e18:
		return math.MinInt64
	}
	return int64(f)
}

func javaF2I(f float64) int32 {
	switch {
	case f != f:
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int32(f)
}

// decimalToInt truncates a decimal toward zero and keeps the low 64 bits, as
// Java's BigDecimal.longValue.
func decimalToInt(n decimal128.Num, scale int) int64 {
	q := new(big.Int).Quo(n.BigInt(), pow10(scale))
	if q.IsInt64() {
		return q.Int64()
	}
	m := new(big.Int).And(q, new(big.Int).SetUint64(math.MaxUint64))
	return int64(m.Uint64())
}

// physical returns a zero value of the Go storage of t when t is carried as
// a primitive number (the integers, FLOAT, DOUBLE, DATE, TIME, TIMESTAMP),
// or nil.
func physical(t types.T) any {
	switch t.Kind {
	case types.TinyInt:
		return int8(0)
	case types.SmallInt:
		return int16(0)
	case types.Int, types.Date, types.Time, types.IntervalYearMonth:
		return int32(0)
	case types.BigInt, types.Timestamp, types.TimestampLTZ, types.IntervalDayTime:
		return int64(0)
	case types.Float:
		return float32(0)
	case types.Double:
		return float64(0)
	}
	return nil
}

// castNumArray converts between the primitive numeric types with Java's
// semantics (see CastValue), over the typed value slices.
func castNumArray(mem memory.Allocator, a arrow.Array, from, to types.T) arrow.Array {
	switch physical(from).(type) {
	case int8:
		return castNumFrom[int8](mem, a, to)
	case int16:
		return castNumFrom[int16](mem, a, to)
	case int32:
		return castNumFrom[int32](mem, a, to)
	case int64:
		return castNumFrom[int64](mem, a, to)
	case float32:
		return castNumFrom[float32](mem, a, to)
	default:
		return castNumFrom[float64](mem, a, to)
	}
}

func castNumFrom[S number](mem memory.Allocator, a arrow.Array, to types.T) arrow.Array {
	dt := to.Arrow()
	switch physical(to).(type) {
	case int8:
		return convertNum[S, int8](mem, a, dt)
	case int16:
		return convertNum[S, int16](mem, a, dt)
	case int32:
		return convertNum[S, int32](mem, a, dt)
	case int64:
		return convertNum[S, int64](mem, a, dt)
	case float32:
		return convertNum[S, float32](mem, a, dt)
	default:
		return convertNum[S, float64](mem, a, dt)
	}
}

func isFloat[T number]() bool {
	var x T = 1
	x /= 2
	return x != 0
}

func convertNum[S, D number](mem memory.Allocator, a arrow.Array, dt arrow.DataType) arrow.Array {
	n := a.Len()
	src := values[S](a)
	buf, dst := AllocValues[D](mem, n)
	switch {
	case isFloat[S]() && !isFloat[D]():
		var d D
		wide := false
		switch any(d).(type) {
		case int64:
			wide = true
		}
		for i, v := range src[:n] {
			if wide {
				dst[i] = D(javaF2L(float64(v)))
			} else {
				dst[i] = D(javaF2I(float64(v)))
			}
		}
	default:
		for i, v := range src[:n] {
			dst[i] = D(v)
		}
	}
	vbuf, nulls := copyValidity(mem, a)
	return MakeArray(dt, n, []*memory.Buffer{vbuf, buf}, nulls)
}
