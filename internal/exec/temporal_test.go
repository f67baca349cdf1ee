package exec

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/types"
)

// The calendar arithmetic against Go's time package, the slow reference.
func TestCivilMatchesTimePackage(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for k := 0; k < 20000; k++ {
		// From year 0001 to 9999, and the edges.
		days := r.Int63n(3652059) - 719162
		switch k {
		case 0:
			days = -719162 // 0001-01-01
		case 1:
			days = 2932896 // 9999-12-31
		case 2:
			days = -1
		}
		y, m, d := civilFromDays(days)
		want := time.Unix(days*86400, 0).UTC()
		if y != want.Year() || m != int(want.Month()) || d != want.Day() {
			t.Fatalf("civilFromDays(%d) = %d-%d-%d, want %s", days, y, m, d, want.Format("2006-01-02"))
		}
		if back := daysFromCivil(y, m, d); back != days {
			t.Fatalf("daysFromCivil(%d, %d, %d) = %d, want %d", y, m, d, back, days)
		}
		c := dateTime{year: y, month: m, day: d}
		if got := isoDayOfWeek(c); got != (int(want.Weekday())+6)%7+1 {
			t.Fatalf("%s: isoDayOfWeek %d, want weekday %s", want.Format("2006-01-02"), got, want.Weekday())
		}
		wy, ww := want.ISOWeek()
		if gy, gw := isoWeek(c); gy != wy || gw != ww {
			t.Fatalf("%s: isoWeek %d-%d, want %d-%d", want.Format("2006-01-02"), gy, gw, wy, ww)
		}
		if got := dayOfYear(c); got != want.YearDay() {
			t.Fatalf("%s: dayOfYear %d, want %d", want.Format("2006-01-02"), got, want.YearDay())
		}
	}
}

func TestAddMonthsClampsToMonthEnd(t *testing.T) {
	for _, c := range []struct {
		from string
		k    int64
		want string
	}{
		{"2020-01-31", 1, "2020-02-29"}, {"2019-01-31", 1, "2019-02-28"}, {"2020-02-29", 12, "2021-02-28"},
		{"2020-03-31", -1, "2020-02-29"}, {"1970-01-01", -1, "1969-12-01"}, {"2020-05-17", -25, "2018-04-17"},
	} {
		from, _ := time.Parse("2006-01-02", c.from)
		got := addMonths(from.Unix()/86400, c.k)
		if s := time.Unix(got*86400, 0).UTC().Format("2006-01-02"); s != c.want {
			t.Errorf("addMonths(%s, %d) = %s, want %s", c.from, c.k, s, c.want)
		}
	}
}

// monthsBetween's fast count against adding months one at a time.
func TestMonthsBetweenMatchesStepping(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for k := 0; k < 3000; k++ {
		d1, d0 := r.Int63n(40000)-20000, r.Int63n(40000)-20000
		ms1, ms0 := r.Int63n(millisPerDay), r.Int63n(millisPerDay)
		if k%3 == 0 {
			ms0 = ms1
		}
		got := monthsBetween(d0, ms0, d1, ms1)
		// Slow: the largest m with d1 + m months (at ms1) not after d0 at ms0.
		before := func(m int64) bool {
			d := addMonths(d1, m)
			return d < d0 || (d == d0 && ms1 <= ms0)
		}
		if d0 < d1 || (d0 == d1 && ms0 < ms1) {
			// Backwards it is the negated count forwards.
			if back := monthsBetween(d1, ms1, d0, ms0); got != -back {
				t.Fatalf("monthsBetween(%d %d, %d %d) = %d, want -%d", d0, ms0, d1, ms1, got, back)
			}
			continue
		}
		var want int64
		for before(want + 1) {
			want++
		}
		if got != want {
			t.Fatalf("monthsBetween(%d %d, %d %d) = %d, want %d", d0, ms0, d1, ms1, got, want)
		}
	}
}

func TestPatternFormat(t *testing.T) {
	c := dateTime{year: 2020, month: 3, day: 4, hour: 5, minute: 6, second: 7, nano: 123456789}
	for _, tc := range []struct{ pattern, want string }{
		// Recorded from Flink 2.3's DATE_FORMAT.
		{"yyyy-MM-dd HH:mm:ss.SSS EEE MMM a hh D w u Q", "2020-03-04 05:06:07.123 Wed Mar AM 05 64 10 2020 1"},
		{"yyyy/MM/dd HH:mm", "2020/03/04 05:06"},
		{"yyyy-MM-dd'T'HH:mm:ss", "2020-03-04T05:06:07"},
		{"'at' HH 'o''clock'", "at 05 o'clock"},
		{"EEEE MMMM d, y", "Wednesday March 4, 2020"},
		{"yy M d H m s S SS SSSSSSSSS", "20 3 4 5 6 7 1 12 123456789"},
		{"h K k a", "5 5 5 AM"},
		{"''", "'"},
	} {
		p, err := CompilePattern(tc.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		if got := string(p.Format(nil, c)); got != tc.want {
			t.Errorf("Format(%q) = %q, want %q", tc.pattern, got, tc.want)
		}
	}
}

func TestPatternErrors(t *testing.T) {
	for _, tc := range []struct{ pattern, want string }{
		{"yyyy-MM-dd bbb", "unknown pattern letter 'b'"},
		{"yyyy 'open", "is not closed"},
		{"HH:mm z", "time zones"},
		{"yyyy[MM]", "optional sections"},
		{"ddd", "too many pattern letters 'd'"},
	} {
		_, err := CompilePattern(tc.pattern)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CompilePattern(%q) = %v, want an error with %q", tc.pattern, err, tc.want)
		}
	}
}

// Formatting and then parsing with a numeric pattern gives the value back.
func TestPatternRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, pattern := range []string{"yyyy-MM-dd HH:mm:ss.SSS", "yyyyMMddHHmmss", "dd.MM.yyyy hh:mm:ss a", "yyyy-MM-dd'T'HH:mm", "MMM d yyyy H:m:s"} {
		p, err := CompilePattern(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 500; k++ {
			c := civilOf(r.Int63n(2932896+719162)-719162, r.Int63n(nanosPerDay)/1e6*1e6)
			if !strings.Contains(pattern, "SSS") {
				c.nano = 0
			}
			if !strings.Contains(pattern, "ss") && !strings.Contains(pattern, ":s") {
				c.second = 0
			}
			s := string(p.Format(nil, c))
			back, ok := p.Parse(s)
			if !ok || back != c {
				t.Fatalf("%q: %+v formats as %q, which parses as %+v (ok %v)", pattern, c, s, back, ok)
			}
		}
	}
}

func TestParseRejects(t *testing.T) {
	p, _ := CompilePattern("yyyy-MM-dd HH:mm:ss")
	for _, s := range []string{"", "2020-01-01", "2020-13-01 00:00:00", "2020-02-32 00:00:00", "2020-01-01 24:00:00", "2020-01-01 00:00:00x", "2020-1-01 00:00:00"} {
		if c, ok := p.Parse(s); ok {
			t.Errorf("Parse(%q) = %+v, want a failure", s, c)
		}
	}
	// java.time's smart resolution clamps a day past the month's end.
	if c, ok := p.Parse("2021-02-30 00:00:00"); !ok || c.day != 28 {
		t.Errorf("Parse(2021-02-30) = %+v, %v; want February 28", c, ok)
	}
	// SimpleDateFormat, leniently: numbers of any width, days rolled over.
	sp, err := CompileSimplePattern("yyyy-MM-dd HH:mm:ss")
	if err != nil {
		t.Fatal(err)
	}
	c, ok := sp.ParseLenient("2020-4-31 0:0:0")
	if want := daysFromCivil(2020, 5, 1) * 86400; !ok || c.normalized() != want {
		t.Errorf("ParseLenient(2020-4-31 0:0:0) = %+v (%d), %v; want May 1st (%d)", c, c.normalized(), ok, want)
	}
}

func TestSimplePattern(t *testing.T) {
	p, err := CompileSimplePattern("u F S yyyy")
	if err != nil {
		t.Fatal(err)
	}
	// 1970-01-15 was a Thursday, in the third week of its days.
	got := string(p.Format(nil, dateTime{year: 1970, month: 1, day: 15, nano: 5e6}))
	if got != "4 3 5 1970" {
		t.Errorf("Format = %q, want %q", got, "4 3 5 1970")
	}
	for _, bad := range []string{"Q", "yyyy n", "e"} {
		if _, err := CompileSimplePattern(bad); err == nil || !strings.Contains(err.Error(), "illegal pattern character") {
			t.Errorf("CompileSimplePattern(%q) = %v, want an illegal pattern character", bad, err)
		}
	}
}

// Local times in a zone with daylight saving resolve as java.time does.
func TestLocalToInstant(t *testing.T) {
	ny, err := Zone("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	for _, tc := range []struct{ local, want string }{
		{"2020-03-08 02:30:00", "2020-03-08T07:30:00Z"}, // in the gap: moved forward
		{"2020-11-01 01:30:00", "2020-11-01T05:30:00Z"}, // twice: the earlier offset
		{"2020-07-01 00:00:00", "2020-07-01T04:00:00Z"},
		{"2020-01-01 00:00:00", "2020-01-01T05:00:00Z"},
	} {
		l, _ := time.Parse("2006-01-02 15:04:05", tc.local)
		got := time.Unix(localToInstant(ny, l.Unix()), 0).UTC().Format(time.RFC3339)
		if got != tc.want {
			t.Errorf("%s in New York = %s, want %s", tc.local, got, tc.want)
		}
	}
	for _, name := range []string{"GMT+05:30", "UTC+8", "+08:00", "UTC", "GMT-03:00"} {
		if _, err := Zone(name); err != nil {
			t.Errorf("Zone(%q): %v", name, err)
		}
	}
	for _, name := range []string{"Mars/Olympus_Mons", "", "GMT+25:00", "Local"} {
		if _, err := Zone(name); err == nil {
			t.Errorf("Zone(%q) succeeded, want an error", name)
		}
	}
}

func TestAppendInterval(t *testing.T) {
	for _, tc := range []struct {
		v      int64
		months bool
		want   string
	}{
		{300000, false, "PT5M"}, {94984500, false, "PT26H23M4.5S"}, {-300000, false, "PT-5M"}, {5123, false, "PT5.123S"},
		{0, false, "PT0S"}, {-500, false, "PT-0.5S"}, {14, true, "P14M"}, {-14, true, "P-14M"},
	} {
		ty := INTERVAL_MILLIS_T
		if tc.months {
			ty = INTERVAL_MONTHS_T
		}
		if got := string(AppendInterval(nil, tc.v, ty)); got != tc.want {
			t.Errorf("AppendInterval(%d) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// FuzzDatePattern compiles arbitrary patterns; whatever compiles formats
// any date without panicking, and parsing what it wrote never panics.
func FuzzDatePattern(f *testing.F) {
	for _, s := range []string{"yyyy-MM-dd HH:mm:ss.SSS", "EEE MMM d ''yy", "'unterminated", "yyyyMMdd", "hh a", "QQQQ w Y D", "[x]", "SSSSSSSSSSSS", "''''"} {
		f.Add(s, int64(18000), int64(3723004005006))
	}
	f.Fuzz(func(t *testing.T, pattern string, days, nanos int64) {
		compile := CompilePattern
		if days%2 == 0 {
			compile = CompileSimplePattern
		}
		p, err := compile(pattern)
		if err != nil {
			return
		}
		days = days%3000000 - 719162
		if days < -719162 {
			days = -719162
		}
		nanos = floorMod64(nanos, nanosPerDay)
		c := civilOf(days, nanos)
		s := p.Format(nil, c)
		if back, ok := p.Parse(string(s)); ok && (back.month < 1 || back.month > 12 || back.day < 1 || back.day > 31) {
			t.Fatalf("%q parsed %q into an invalid date %+v", pattern, s, back)
		}
		if back, ok := p.ParseLenient(string(s)); ok {
			fuzzSink = back.normalized()
		}
	})
}

var (
	INTERVAL_MILLIS_T = types.INTERVAL_MILLIS
	INTERVAL_MONTHS_T = types.INTERVAL_MONTHS
)

// fuzzSink keeps FuzzDatePattern's results.
var fuzzSink int64
