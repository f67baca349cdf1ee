package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// durationUnits are the unit labels of Flink's TimeUtils.parseDuration
// (checked against Flink 2.3): "mins", "us" and "msec" are not among them.
var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "nano": time.Nanosecond, "nanos": time.Nanosecond,
	"nanosecond": time.Nanosecond, "nanoseconds": time.Nanosecond,
	"µs": time.Microsecond, "micro": time.Microsecond, "micros": time.Microsecond,
	"microsecond": time.Microsecond, "microseconds": time.Microsecond,
	"": time.Millisecond, "ms": time.Millisecond, "milli": time.Millisecond, "millis": time.Millisecond,
	"millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
}

// DurationFormat describes the accepted durations, for error messages.
const DurationFormat = "a whole number with an optional unit (ms, s, min, h, d; a bare number is milliseconds), e.g. '500 ms', '5 min', '300 s', or ISO-8601 such as 'PT5M'"

// ParseDuration reads a duration as Flink does: a whole number followed,
// with or without spaces, by a unit (case-insensitive); no unit means
// milliseconds. ISO-8601 durations ('PT5M', 'P1DT2H', 'PT0.5S') are
// accepted too. Negative durations are not.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(t, "p") {
		if d, ok := parseISODuration(t); ok {
			return d, nil
		}
		return 0, fmt.Errorf("'%s' is not a duration: want %s", s, DurationFormat)
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("'%s' is not a duration: want %s", s, DurationFormat)
	}
	unit, ok := durationUnits[strings.TrimSpace(t[i:])]
	if !ok {
		return 0, fmt.Errorf("'%s' is not a duration: unknown unit '%s'; want %s", s, strings.TrimSpace(t[i:]), DurationFormat)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > math.MaxInt64/int64(unit) {
		return 0, fmt.Errorf("'%s' is too long a duration (at most about 292 years)", s)
	}
	return time.Duration(n) * unit, nil
}

// parseISODuration reads t (lower-cased) as P[nD][T[nH][nM][n[.f]S]].
func parseISODuration(t string) (time.Duration, bool) {
	rest := strings.TrimPrefix(t, "p")
	var total float64
	seen, inTime := false, false
	for rest != "" {
		if rest[0] == 't' {
			if inTime || len(rest) == 1 {
				return 0, false
			}
			inTime = true
			rest = rest[1:]
			continue
		}
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 || i == len(rest) {
			return 0, false
		}
		num, unit := rest[:i], rest[i]
		rest = rest[i+1:]
		if strings.Contains(num, ".") && unit != 's' {
			return 0, false
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, false
		}
		switch {
		case unit == 'd' && !inTime:
			total += v * float64(24*time.Hour)
		case unit == 'h' && inTime:
			total += v * float64(time.Hour)
		case unit == 'm' && inTime:
			total += v * float64(time.Minute)
		case unit == 's' && inTime:
			total += v * float64(time.Second)
		default:
			return 0, false
		}
		seen = true
	}
	if !seen || total >= math.MaxInt64 {
		return 0, false
	}
	return time.Duration(total), true
}

// FormatDuration spells d in the largest unit that divides it, as the
// option table shows defaults ('5 min', '60 s', '500 ms').
func FormatDuration(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "min"}, {time.Second, "s"}, {time.Millisecond, "ms"}, {time.Microsecond, "µs"}} {
		if d != 0 && d%u.d == 0 {
			return fmt.Sprintf("%d %s", d/u.d, u.name)
		}
	}
	return fmt.Sprintf("%d ns", d)
}

var memoryUnits = map[string]int64{
	"": 1, "b": 1, "bytes": 1,
	"k": 1 << 10, "kb": 1 << 10, "kibibytes": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mebibytes": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gibibytes": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tebibytes": 1 << 40,
}

// MemoryFormat describes the accepted memory sizes, for error messages.
const MemoryFormat = "a whole number with an optional unit (b, kb, mb, gb, tb, powers of 1024; a bare number is bytes), e.g. '64 mb'"

// ParseMemorySize reads a memory size as Flink's MemorySize.parse: a whole
// number followed, with or without spaces, by a unit (case-insensitive);
// no unit means bytes.
func ParseMemorySize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("'%s' is not a memory size: want %s", s, MemoryFormat)
	}
	unit, ok := memoryUnits[strings.TrimSpace(t[i:])]
	if !ok {
		return 0, fmt.Errorf("'%s' is not a memory size: unknown unit '%s'; want %s", s, strings.TrimSpace(t[i:]), MemoryFormat)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > math.MaxInt64/unit {
		return 0, fmt.Errorf("'%s' is too large a memory size (at most 8 EiB)", s)
	}
	return n * unit, nil
}

// ParseInt reads a decimal integer (an optional sign, no fraction).
func ParseInt(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("'%s' is not an integer", s)
	}
	return n, nil
}

// ParseBool reads 'true' or 'false' in any case, as Flink does (not 'yes'
// or '1').
func ParseBool(s string) (bool, error) {
	switch t := strings.TrimSpace(s); {
	case strings.EqualFold(t, "true"):
		return true, nil
	case strings.EqualFold(t, "false"):
		return false, nil
	}
	return false, fmt.Errorf("'%s' is not a boolean: want 'true' or 'false'", s)
}

// ParseList splits a comma-separated list, trimming each item and dropping
// empty ones.
func ParseList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ParseMap reads Flink's map syntax 'k1:v1,k2:v2'; keys and values are
// trimmed.
func ParseMap(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("'%s' is not a map: item '%s' has no key; want 'k1:v1,k2:v2'", s, strings.TrimSpace(kv))
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// parseEnum returns the value of values that s names, in any case.
func parseEnum(s string, values []string) (string, error) {
	for _, v := range values {
		if strings.EqualFold(strings.TrimSpace(s), v) {
			return v, nil
		}
	}
	return "", fmt.Errorf("'%s' is not one of '%s'", s, strings.Join(values, "', '"))
}
