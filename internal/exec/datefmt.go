package exec

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// This file is the date-time pattern language Flink's DATE_FORMAT,
// TO_TIMESTAMP, TO_DATE, UNIX_TIMESTAMP and FROM_UNIXTIME take: Java's
// DateTimeFormatter patterns (yyyy-MM-dd HH:mm:ss.SSS, 'quoted text', ''
// for a quote) in the English locale, or for FROM_UNIXTIME, UNIX_TIMESTAMP
// and TO_DATE with a pattern java.text.SimpleDateFormat's (see
// DatePattern.simple). A pattern is compiled once into fields; letters weir
// does not implement are refused by name.

// dateField is one element of a compiled pattern: literal text, or a letter
// repeated count times.
type dateField struct {
	letter byte // 0 for literal text
	count  int
	text   string
	simple bool // of a SimpleDateFormat pattern
}

// DatePattern is a compiled date-time pattern.
type DatePattern struct {
	src    string
	fields []dateField
	// simple marks a java.text.SimpleDateFormat pattern (FROM_UNIXTIME,
	// UNIX_TIMESTAMP, TO_DATE with a pattern): u is the day of the week, F
	// the week of the month's day, S milliseconds, and any count is allowed.
	simple bool
}

// dateTime is a broken-down date and time, as patterns read and write it.
type dateTime struct {
	year, month, day     int
	hour, minute, second int
	nano                 int
}

// dateLetters are the pattern letters weir implements, with what they mean.
var dateLetters = map[byte]string{
	'G': "era", 'u': "year", 'y': "year of era", 'M': "month", 'L': "month", 'd': "day of month",
	'D': "day of year", 'Q': "quarter", 'q': "quarter", 'E': "day of week name", 'e': "day of week",
	'c': "day of week", 'a': "AM/PM", 'H': "hour (0-23)", 'k': "hour (1-24)", 'K': "hour (0-11)",
	'h': "hour (1-12)", 'm': "minute", 's': "second", 'S': "fraction of second", 'n': "nano of second",
	'w': "week of week-based year", 'Y': "week-based year", 'W': "week of month", 'F': "day of week in month",
}

// javaLetters are the letters Java's DateTimeFormatter knows that weir does
// not implement (time zones, mostly: a TIMESTAMP has none).
const javaLetters = "VvzOXxZAN"

var patternCache sync.Map // string -> *DatePattern or error

// CompilePattern compiles a Java DateTimeFormatter pattern. Unknown letters,
// letters weir does not implement and unterminated quotes are errors that
// say which and where.
func CompilePattern(src string) (*DatePattern, error) { return cachedPattern(src, false) }

// CompileSimplePattern compiles a java.text.SimpleDateFormat pattern, the
// language of Flink's FROM_UNIXTIME and UNIX_TIMESTAMP.
func CompileSimplePattern(src string) (*DatePattern, error) { return cachedPattern(src, true) }

func cachedPattern(src string, simple bool) (*DatePattern, error) {
	key := src
	if simple {
		key = "\x00" + src
	}
	if v, ok := patternCache.Load(key); ok {
		if err, bad := v.(error); bad {
			return nil, err
		}
		return v.(*DatePattern), nil
	}
	p, err := compilePattern(src, simple)
	if err != nil {
		patternCache.Store(key, err)
		return nil, err
	}
	patternCache.Store(key, p)
	return p, nil
}

// simpleLetters are the letters of SimpleDateFormat weir implements.
const simpleLetters = "GyYMLwWDdFEuaHkKhmsS"

func compilePattern(src string, simple bool) (*DatePattern, error) {
	p := &DatePattern{src: src, simple: simple}
	lit := func(s string) {
		if n := len(p.fields); n > 0 && p.fields[n-1].letter == 0 {
			p.fields[n-1].text += s
			return
		}
		p.fields = append(p.fields, dateField{text: s})
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\'':
			if i+1 < len(src) && src[i+1] == '\'' {
				lit("'")
				i += 2
				continue
			}
			end := -1
			var b strings.Builder
			for j := i + 1; j < len(src); j++ {
				if src[j] == '\'' {
					if j+1 < len(src) && src[j+1] == '\'' {
						b.WriteByte('\'')
						j++
						continue
					}
					end = j
					break
				}
				b.WriteByte(src[j])
			}
			if end < 0 {
				return nil, fmt.Errorf("date pattern %q: the quote at position %d is not closed; write '' for a quote", src, i+1)
			}
			lit(b.String())
			i = end + 1
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			j := i
			for j < len(src) && src[j] == c {
				j++
			}
			count := j - i
			if simple && strings.IndexByte(simpleLetters, c) < 0 {
				if strings.IndexByte("zZX", c) >= 0 {
					return nil, fmt.Errorf("date pattern %q: the letter '%c' (time zones and offsets) is not supported by weir", src, c)
				}
				return nil, fmt.Errorf("date pattern %q: illegal pattern character '%c' at position %d (FROM_UNIXTIME, UNIX_TIMESTAMP and TO_DATE with a pattern take java.text.SimpleDateFormat letters); quote literal text", src, c, i+1)
			}
			if _, ok := dateLetters[c]; !ok {
				if strings.IndexByte(javaLetters, c) >= 0 {
					return nil, fmt.Errorf("date pattern %q: the letter '%c' (time zones and offsets) is not supported by weir", src, c)
				}
				return nil, fmt.Errorf("date pattern %q: unknown pattern letter '%c' at position %d; quote literal text, as in 'T'", src, c, i+1)
			}
			if max := maxCount(c); (count > max && !simple) || count > 64 {
				return nil, fmt.Errorf("date pattern %q: too many pattern letters '%c' (at most %d)", src, c, max)
			}
			p.fields = append(p.fields, dateField{letter: c, count: count, simple: simple})
			i = j
		case c == '[' || c == ']' || c == '{' || c == '}' || c == '#':
			return nil, fmt.Errorf("date pattern %q: '%c' at position %d is not supported by weir (optional sections and reserved characters); quote it to print it", src, c, i+1)
		default:
			lit(string(c))
			i++
		}
	}
	return p, nil
}

// maxCount is how many times a letter may repeat, as in Java.
func maxCount(c byte) int {
	switch c {
	case 'S', 'n', 'y', 'u', 'Y':
		return 19
	case 'G', 'M', 'L', 'Q', 'q', 'E', 'e', 'c':
		return 5
	case 'D':
		return 3
	case 'a', 'W', 'F':
		return 1
	}
	return 2
}

var (
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	dayNames   = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
)

// Format writes c as the pattern says.
func (p *DatePattern) Format(buf []byte, c dateTime) []byte {
	for _, f := range p.fields {
		buf = f.format(buf, c)
	}
	return buf
}

func pad(buf []byte, v int64, width int) []byte {
	if v < 0 {
		buf = append(buf, '-')
		v = -v
	}
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	for k := len(tmp) - i; k < width; k++ {
		buf = append(buf, '0')
	}
	return append(buf, tmp[i:]...)
}

func (f dateField) format(buf []byte, c dateTime) []byte {
	n := f.count
	switch f.letter {
	case 0:
		return append(buf, f.text...)
	case 'G':
		era := "AD"
		if c.year <= 0 {
			era = "BC"
		}
		if n == 4 {
			era = map[string]string{"AD": "Anno Domini", "BC": "Before Christ"}[era]
		} else if n == 5 {
			era = era[:1]
		}
		return append(buf, era...)
	case 'u':
		if f.simple {
			return pad(buf, int64(isoDayOfWeek(c)), n)
		}
		return dateField{letter: 'y', count: n}.format(buf, c)
	case 'y', 'Y':
		y := c.year
		if f.letter == 'Y' {
			y = weekYear(c)
		}
		if f.letter == 'y' && y <= 0 {
			y = 1 - y
		}
		if n == 2 {
			return pad(buf, int64(floorMod(y, 100)), 2)
		}
		if n == 4 && y > 9999 {
			buf = append(buf, '+')
		}
		return pad(buf, int64(y), n)
	case 'M', 'L':
		switch n {
		case 1, 2:
			return pad(buf, int64(c.month), n)
		case 3:
			return append(buf, monthNames[c.month-1][:3]...)
		case 4:
			return append(buf, monthNames[c.month-1]...)
		}
		return append(buf, monthNames[c.month-1][:1]...)
	case 'd':
		return pad(buf, int64(c.day), n)
	case 'D':
		return pad(buf, int64(dayOfYear(c)), n)
	case 'Q', 'q':
		q := (c.month-1)/3 + 1
		switch n {
		case 1, 2:
			return pad(buf, int64(q), n)
		case 3:
			return append(buf, "Q"+strconv.Itoa(q)...)
		case 4:
			return append(buf, []string{"1st", "2nd", "3rd", "4th"}[q-1]+" quarter"...)
		}
		return strconv.AppendInt(buf, int64(q), 10)
	case 'E', 'e', 'c':
		dow := isoDayOfWeek(c) // 1 = Monday
		if f.letter != 'E' && n <= 2 {
			// Localized (US): Sunday is day 1.
			return pad(buf, int64(dow%7+1), n)
		}
		name := dayNames[dow-1]
		switch {
		case n <= 3:
			name = name[:3]
		case n == 5:
			name = name[:1]
		}
		return append(buf, name...)
	case 'a':
		if c.hour < 12 {
			return append(buf, "AM"...)
		}
		return append(buf, "PM"...)
	case 'H':
		return pad(buf, int64(c.hour), n)
	case 'k':
		h := c.hour
		if h == 0 {
			h = 24
		}
		return pad(buf, int64(h), n)
	case 'K':
		return pad(buf, int64(c.hour%12), n)
	case 'h':
		h := c.hour % 12
		if h == 0 {
			h = 12
		}
		return pad(buf, int64(h), n)
	case 'm':
		return pad(buf, int64(c.minute), n)
	case 's':
		return pad(buf, int64(c.second), n)
	case 'S':
		if f.simple {
			return pad(buf, int64(c.nano/1e6), n) // milliseconds
		}
		var digits [9]byte
		for k, v := 8, c.nano; k >= 0; k-- {
			digits[k] = byte('0' + v%10)
			v /= 10
		}
		if n <= 9 {
			return append(buf, digits[:n]...)
		}
		return append(append(buf, digits[:]...), strings.Repeat("0", n-9)...)
	case 'n':
		return pad(buf, int64(c.nano), n)
	case 'w':
		return pad(buf, int64(weekOfWeekYear(c)), n)
	case 'W':
		// Week of month, weeks starting on Sunday, the first week being the
		// one with the month's first day.
		first := dayOfWeekSun(dateTime{year: c.year, month: c.month, day: 1})
		return pad(buf, int64((c.day+first-2)/7+1), n)
	case 'F':
		if f.simple {
			return pad(buf, int64((c.day-1)/7+1), n)
		}
		// As java.time (and so Flink): the aligned day of the week in the
		// month, 1 to 7.
		return pad(buf, int64((c.day-1)%7+1), n)
	}
	return buf
}

// Parse reads s as the pattern says into a dateTime date-time; fields the
// pattern lacks are 1970-01-01 00:00:00, as Flink completes them. ok is
// false when s does not match.
func (p *DatePattern) Parse(s string) (c dateTime, ok bool) { return p.parse(s, false) }

// ParseLenient reads s as java.text.SimpleDateFormat does by default (Flink's
// UNIX_TIMESTAMP): numbers of any width where no number follows them, and
// fields out of their range left for the caller to roll over (February 30
// is March 1st; see dateTime.normalized).
func (p *DatePattern) ParseLenient(s string) (c dateTime, ok bool) { return p.parse(s, true) }

func (p *DatePattern) parse(s string, lenient bool) (c dateTime, ok bool) {
	c = dateTime{year: 1970, month: 1, day: 1}
	pm, hasAmPm, hour12 := false, false, -1
	pos := 0
	for k, f := range p.fields {
		if f.letter == 0 {
			if !strings.HasPrefix(s[pos:], f.text) {
				return c, false
			}
			pos += len(f.text)
			continue
		}
		switch f.letter {
		case 'M', 'L':
			if f.count >= 3 {
				m := -1
				for i, name := range monthNames {
					cand := name
					if f.count == 3 {
						cand = name[:3]
					}
					if len(s)-pos >= len(cand) && strings.EqualFold(s[pos:pos+len(cand)], cand) {
						m, pos = i+1, pos+len(cand)
						break
					}
				}
				if m < 0 {
					return c, false
				}
				c.month = m
				continue
			}
		case 'a':
			switch {
			case len(s)-pos >= 2 && strings.EqualFold(s[pos:pos+2], "AM"):
			case len(s)-pos >= 2 && strings.EqualFold(s[pos:pos+2], "PM"):
				pm = true
			default:
				return c, false
			}
			hasAmPm = true
			pos += 2
			continue
		case 'E', 'G', 'Q', 'q', 'e', 'c', 'w', 'W', 'F', 'D', 'Y', 'u':
			return c, false // not parsed by weir; Flink's answer would differ
		}
		width, fixed := f.count, f.count > 1
		if f.letter == 'y' || f.letter == 'u' {
			fixed = f.count == 2
		}
		if f.letter == 'S' {
			fixed = true
		}
		if lenient {
			fixed = false
		}
		if !fixed {
			// A variable-width number leaves the digits of the fixed-width
			// numbers right after it to them ("yyyyMMdd").
			reserve := 0
			for _, g := range p.fields[k+1:] {
				if g.letter == 0 || g.letter == 'a' || (g.letter == 'M' && g.count >= 3) {
					break
				}
				reserve += g.count
			}
			end := pos
			for end < len(s) && s[end] >= '0' && s[end] <= '9' {
				end++
			}
			width = end - reserve - pos
			if (width < max(1, min(f.count, 4)) && !lenient) || width < 1 || width > 19 {
				return c, false
			}
		}
		if len(s)-pos < width {
			return c, false
		}
		v := 0
		for _, d := range []byte(s[pos : pos+width]) {
			if d < '0' || d > '9' {
				return c, false
			}
			v = v*10 + int(d-'0')
			if v > 1e9 {
				return c, false
			}
		}
		pos += width
		switch f.letter {
		case 'y', 'u':
			if f.count == 2 {
				v += 2000 // Java's base year for yy
			}
			c.year = v
		case 'M', 'L':
			c.month = v
		case 'd':
			c.day = v
		case 'H', 'k':
			if f.letter == 'k' && v == 24 {
				v = 0
			}
			c.hour = v
		case 'h', 'K':
			hour12 = v
		case 'm':
			c.minute = v
		case 's':
			c.second = v
		case 'S':
			if f.simple {
				c.nano = v * 1e6 // milliseconds
				break
			}
			for i := width; i < 9; i++ {
				v *= 10
			}
			if width > 9 {
				return c, false
			}
			c.nano = v
		case 'n':
			c.nano = v
		}
	}
	if pos != len(s) {
		return c, false
	}
	if hour12 >= 0 {
		if hour12 > 12 || !hasAmPm {
			return c, false
		}
		c.hour = hour12 % 12
		if pm {
			c.hour += 12
		}
	}
	if lenient {
		return c, true
	}
	if c.day > daysIn(c.year, c.month) && c.day <= 31 && c.month >= 1 && c.month <= 12 {
		// java.time's smart resolution: February 30 is February's last day.
		c.day = daysIn(c.year, c.month)
	}
	if c.month < 1 || c.month > 12 || c.day < 1 || c.day > daysIn(c.year, c.month) ||
		c.hour > 23 || c.minute > 59 || c.second > 59 || c.nano > 999999999 {
		return c, false
	}
	return c, true
}

func floorMod(a, b int) int {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// normalized rolls fields out of their range over into the next ones, as
// a lenient calendar does, and returns seconds since the epoch (as if UTC).
func (c dateTime) normalized() int64 {
	months := int64(c.year)*12 + int64(c.month-1)
	y, m := floorDiv(months, 12), floorMod64(months, 12)+1
	days := daysFromCivil(int(y), int(m), 1) + int64(c.day-1)
	return days*86400 + int64(c.hour)*3600 + int64(c.minute)*60 + int64(c.second)
}

// CheckParse reports an error when the pattern has a field weir formats but
// cannot read back (names of days, eras, quarters, week fields), so that
// parsing functions refuse it instead of answering NULL.
func (p *DatePattern) CheckParse() error {
	for _, f := range p.fields {
		switch f.letter {
		case 'E', 'G', 'Q', 'q', 'e', 'c', 'w', 'W', 'F', 'D', 'Y', 'u':
			return fmt.Errorf("date pattern %q: weir cannot parse the field '%c' (%s); it only formats it", p.src, f.letter, dateLetters[f.letter])
		}
	}
	return nil
}
