package format

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// This file holds the text forms of values shared by the json and csv
// formats: dates as yyyy-MM-dd, times as HH:mm:ss[.fff], timestamps as
// yyyy-MM-dd HH:mm:ss[.fffffffff] (SQL) or with a 'T' (ISO-8601), a 'Z'
// after those of TIMESTAMP_LTZ, fractions without trailing zeros, as Flink's
// formats write them.

// timestampStandard is 'json.timestamp-format.standard' (csv uses SQL).
type timestampStandard uint8

const (
	standardSQL timestampStandard = iota
	standardISO
)

// splitTimestamp returns the days since 1970-01-01 and the nanoseconds of
// the day of a TIMESTAMP(p) value.
func splitTimestamp(v arrow.Timestamp, p int) (days, nanos int64) {
	var perDay, toNanos int64
	switch types.TimestampUnit(p) {
	case arrow.Millisecond:
		perDay, toNanos = 86400_000, 1e6
	case arrow.Microsecond:
		perDay, toNanos = 86400_000_000, 1e3
	default:
		perDay, toNanos = 86400_000_000_000, 1
	}
	days = int64(v) / perDay
	rest := int64(v) % perDay
	if rest < 0 {
		days--
		rest += perDay
	}
	return days, rest * toNanos
}

// makeTimestamp builds a TIMESTAMP(p) value, dropping digits beyond p.
func makeTimestamp(days, nanos int64, p int) arrow.Timestamp {
	if p < 9 {
		unit := int64(math.Pow10(9 - p))
		nanos -= nanos % unit
	}
	switch types.TimestampUnit(p) {
	case arrow.Millisecond:
		return arrow.Timestamp(days*86400_000 + nanos/1e6)
	case arrow.Microsecond:
		return arrow.Timestamp(days*86400_000_000 + nanos/1e3)
	}
	return arrow.Timestamp(days*86400_000_000_000 + nanos)
}

var epoch = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// appendDate appends yyyy-MM-dd.
func appendDate(dst []byte, days int64) []byte {
	return epoch.AddDate(0, 0, int(days)).AppendFormat(dst, "2006-01-02")
}

// appendClock appends HH:mm:ss and a fraction without trailing zeros.
func appendClock(dst []byte, nanos int64) []byte {
	s := nanos / 1e9
	dst = append(dst, byte('0'+s/36000), byte('0'+s/3600%10), ':', byte('0'+s/600%6), byte('0'+s/60%10), ':', byte('0'+s%60/10), byte('0'+s%10))
	if f := nanos % 1e9; f != 0 {
		digits := strconv.AppendInt(nil, f+1e9, 10)[1:]
		for digits[len(digits)-1] == '0' {
			digits = digits[:len(digits)-1]
		}
		dst = append(dst, '.')
		dst = append(dst, digits...)
	}
	return dst
}

// appendTimestamp appends a TIMESTAMP(p) or TIMESTAMP_LTZ(p) value.
func appendTimestamp(dst []byte, v arrow.Timestamp, t types.T, std timestampStandard) []byte {
	days, nanos := splitTimestamp(v, t.Precision)
	dst = appendDate(dst, days)
	if std == standardISO {
		dst = append(dst, 'T')
	} else {
		dst = append(dst, ' ')
	}
	dst = appendClock(dst, nanos)
	if t.Kind == types.TimestampLTZ {
		dst = append(dst, 'Z')
	}
	return dst
}

// appendText appends the text form of a non-NULL scalar value of type t:
// what CAST(v AS STRING) gives, except for the temporal types (above),
// BOOLEAN (true, false) and binaries (base64, by the caller).
func appendText(dst []byte, v any, t types.T, std timestampStandard) []byte {
	switch x := v.(type) {
	case bool:
		return strconv.AppendBool(dst, x)
	case int8:
		return strconv.AppendInt(dst, int64(x), 10)
	case int16:
		return strconv.AppendInt(dst, int64(x), 10)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case string:
		return append(dst, x...)
	case arrow.Date32:
		return appendDate(dst, int64(x))
	case arrow.Time32:
		return appendClock(dst, int64(x)*1e6)
	case arrow.Timestamp:
		return appendTimestamp(dst, x, t, std)
	}
	s, err := exec.CastValue(v, t, types.STRING)
	if err != nil || s == nil {
		return fmt.Append(dst, v)
	}
	return append(dst, s.(string)...)
}

// parseText converts the text form of a value (trimmed of spaces for the
// non-string types) to a Literal-style value of t. Binaries are base64,
// decoded by the caller.
func parseText(s string, t types.T, std timestampStandard) (any, error) {
	if !t.IsString() {
		s = strings.TrimSpace(s)
	}
	bad := func() (any, error) {
		return nil, fmt.Errorf("'%s' is not a valid %s", clip(s), plainType(t))
	}
	switch t.Kind {
	case types.Char, types.Varchar:
		return s, nil
	case types.Boolean:
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return bad()
	case types.TinyInt, types.SmallInt, types.Int, types.BigInt:
		bits := map[types.Kind]int{types.TinyInt: 8, types.SmallInt: 16, types.Int: 32, types.BigInt: 64}[t.Kind]
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, fmt.Errorf("'%s' is out of the range of %s", clip(s), plainType(t))
			}
			return bad()
		}
		switch t.Kind {
		case types.TinyInt:
			return int8(n), nil
		case types.SmallInt:
			return int16(n), nil
		case types.Int:
			return int32(n), nil
		}
		return n, nil
	case types.Float, types.Double:
		bits := 64
		if t.Kind == types.Float {
			bits = 32
		}
		var f float64
		switch s {
		case "NaN":
			f = math.NaN()
		case "Infinity", "+Infinity":
			f = math.Inf(1)
		case "-Infinity":
			f = math.Inf(-1)
		default:
			// Only Java's names of the special values, not Go's (inf, nan, hex).
			if strings.ContainsAny(s, "xXpPnNiI_") {
				return bad()
			}
			var err error
			if f, err = strconv.ParseFloat(s, bits); err != nil && !isRangeErr(err) {
				return bad()
			}
		}
		if t.Kind == types.Float {
			return float32(f), nil
		}
		return f, nil
	case types.Decimal:
		if _, err := strconv.ParseFloat(s, 64); err != nil && !isRangeErr(err) || strings.ContainsAny(s, "xXpPnNiI_") {
			return bad()
		}
		v, err := exec.CastValue(s, types.STRING, t.WithNullable(true))
		if err != nil {
			return bad()
		}
		if v == nil {
			return nil, fmt.Errorf("'%s' does not fit %s", clip(s), plainType(t))
		}
		if _, ok := v.(decimal128.Num); !ok {
			return bad()
		}
		return v, nil
	case types.Date:
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			return bad()
		}
		// Unix seconds, not d.Sub(epoch): a Duration holds only ±292 years.
		return arrow.Date32(d.Unix() / 86400), nil
	case types.Time:
		c, err := time.Parse("15:04:05.999999999", s)
		if err != nil {
			return bad()
		}
		ms := int64(c.Hour())*3600_000 + int64(c.Minute())*60_000 + int64(c.Second())*1000 + int64(c.Nanosecond())/1e6
		return arrow.Time32(ms), nil
	case types.Timestamp, types.TimestampLTZ:
		layout := "2006-01-02 15:04:05.999999999"
		if std == standardISO {
			layout = "2006-01-02T15:04:05.999999999"
		}
		if t.Kind == types.TimestampLTZ {
			layout += "Z"
		}
		ts, err := time.Parse(layout, s)
		if err != nil {
			return bad()
		}
		sec := ts.Unix()
		days := sec / 86400
		rest := sec % 86400
		if rest < 0 {
			days--
			rest += 86400
		}
		return makeTimestamp(days, rest*1e9+int64(ts.Nanosecond()), t.Precision), nil
	}
	return nil, fmt.Errorf("type %s is not supported", t)
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// plainType is t without NOT NULL, for messages about values.
func plainType(t types.T) string { return t.WithNullable(true).String() }
