package exec

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/weir-dev/weir/internal/types"
)

// FormatDouble formats f like Java's Double.toString (bitSize 64) or
// Float.toString (bitSize 32), which Flink uses to print and to cast FLOAT and
// DOUBLE to strings: the shortest decimal that reads back as f, in plain
// notation with at least one fractional digit when 1e-3 <= |f| < 1e7 (1.0,
// 0.001, 1234567.5), otherwise in computerized scientific notation (1.0E7,
// 1.5E-5); NaN, Infinity and -Infinity.
func FormatDouble(f float64, bitSize int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	lo, hi := 1e-3, 1e7
	if bitSize == 32 {
		lo, hi = float64(float32(1e-3)), float64(float32(1e7))
	}
	if a := math.Abs(f); a >= lo && a < hi {
		s := strconv.FormatFloat(f, 'f', -1, bitSize)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, bitSize)
	if !strings.Contains(s, ".") {
		// Java prints at least two significant digits, choosing the
		// closest: 4.9E-324 for the smallest subnormal, 1.0E10 otherwise.
		s = strconv.FormatFloat(f, 'e', 1, bitSize)
	}
	e := strings.IndexByte(s, 'e')
	mant, exp := s[:e], s[e+1:]
	x, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(x)
}

// civil returns the calendar date of a day number (days since 1970-01-01).
func civil(days int64) (y int, m time.Month, d int) {
	return time.Unix(days*86400, 0).UTC().Date()
}

// FormatDate formats a DATE like Java's LocalDate.toString: 2020-01-01
// (years beyond 9999 get a '+', years before 0 four digits after the '-').
func FormatDate(days arrow.Date32) string {
	var b []byte
	return string(appendDate(b, int64(days)))
}

func appendDate(b []byte, days int64) []byte {
	y, m, d := civil(days)
	switch {
	case y > 9999:
		b = append(b, '+')
		b = strconv.AppendInt(b, int64(y), 10)
	case y < 0:
		b = append(b, '-')
		b = AppendPadded(b, int64(-y), 4)
	default:
		b = AppendPadded(b, int64(y), 4)
	}
	b = append(b, '-')
	b = AppendPadded(b, int64(m), 2)
	b = append(b, '-')
	return AppendPadded(b, int64(d), 2)
}

// AppendPadded appends v in decimal, zero-padded to width digits.
func AppendPadded(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// splitTimestamp splits a timestamp of precision p into days since the epoch
// and nanoseconds of the day.
func splitTimestamp(v arrow.Timestamp, p int) (days, nanos int64) {
	var perDay, mul int64
	switch types.TimestampUnit(p) {
	case arrow.Millisecond:
		perDay, mul = 86400_000, 1_000_000
	case arrow.Microsecond:
		perDay, mul = 86400_000_000, 1000
	default:
		perDay, mul = 86400_000_000_000, 1
	}
	x := int64(v)
	days = x / perDay
	rem := x % perDay
	if rem < 0 {
		rem += perDay
		days--
	}
	return days, rem * mul
}

// appendClock appends HH:mm:ss and, when digits > 0, a fraction of exactly
// digits digits of the nanoseconds.
func appendClock(b []byte, nanos int64, digits int) []byte {
	secs := nanos / 1e9
	b = AppendPadded(b, secs/3600, 2)
	b = append(b, ':')
	b = AppendPadded(b, secs/60%60, 2)
	b = append(b, ':')
	b = AppendPadded(b, secs%60, 2)
	if digits > 0 {
		frac := nanos % 1e9
		b = append(b, '.')
		s := fmt.Sprintf("%09d", frac)
		b = append(b, s[:min(digits, 9)]...)
		for i := 9; i < digits; i++ {
			b = append(b, '0')
		}
	}
	return b
}

// castTimeString formats a TIME(p) value as CAST(... AS STRING) does:
// HH:mm:ss with p fractional digits.
func castTimeString(v arrow.Time32, p int) string {
	return string(appendClock(nil, int64(v)*1e6, p))
}

// castTimestampString formats a TIMESTAMP(p) value as CAST(... AS STRING)
// does: yyyy-MM-dd HH:mm:ss with p fractional digits.
func castTimestampString(v arrow.Timestamp, p int) string {
	days, nanos := splitTimestamp(v, p)
	b := appendDate(nil, days)
	b = append(b, ' ')
	return string(appendClock(b, nanos, p))
}

// pow10 returns 10^n as a big.Int; callers must not modify the result.
func pow10(n int) *big.Int {
	if n < len(pow10s) {
		return pow10s[n]
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

var pow10s = func() []*big.Int {
	ps := make([]*big.Int, 80)
	ps[0] = big.NewInt(1)
	for i := 1; i < len(ps); i++ {
		ps[i] = new(big.Int).Mul(ps[i-1], big.NewInt(10))
	}
	return ps
}()

// decimalRat returns the value of an unscaled decimal of scale s.
func decimalRat(n decimal128.Num, s int) *big.Rat {
	return new(big.Rat).SetFrac(n.BigInt(), pow10(s))
}

// roundRat rounds r to s fractional digits, half away from zero (Java's
// RoundingMode.HALF_UP), and returns the unscaled result.
func roundRat(r *big.Rat, s int) *big.Int {
	num := new(big.Int).Mul(r.Num(), pow10(s))
	den := r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if m.Sign() != 0 {
		m.Abs(m)
		m.Lsh(m, 1)
		if m.Cmp(den) >= 0 {
			if num.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	return q
}

// ratDecimal converts r to DECIMAL(p, s), rounding half up; ok is false when
// the result needs more than p digits (Flink then gives NULL).
func ratDecimal(r *big.Rat, p, s int) (decimal128.Num, bool) {
	q := roundRat(r, s)
	if q.CmpAbs(pow10(p)) >= 0 {
		return decimal128.Num{}, false
	}
	return decimal128.FromBigInt(q), true
}
