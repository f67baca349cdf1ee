package exec

import (
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// This file converts between the engine's temporal values and calendar
// fields (proleptic Gregorian, as java.time), and resolves time zones the
// way Flink's table.local-time-zone names them.

const (
	millisPerDay = 86400000
	nanosPerDay  = 86400 * 1e9
)

// daysFromCivil returns the days since 1970-01-01 of y-m-d.
func daysFromCivil(y, m, d int) int64 {
	yy := int64(y)
	if m <= 2 {
		yy--
	}
	era := yy / 400
	if yy < 0 && yy%400 != 0 {
		era--
	}
	yoe := yy - era*400
	mp := (int64(m) + 9) % 12
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays returns the year, month and day of days since 1970-01-01.
func civilFromDays(days int64) (y, m, d int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// daysIn is the number of days of month m of year y.
func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// civilOf breaks days since the epoch and nanoseconds of the day down.
func civilOf(days, nanos int64) dateTime {
	y, m, d := civilFromDays(days)
	s := nanos / 1e9
	return dateTime{year: y, month: m, day: d, hour: int(s / 3600), minute: int(s / 60 % 60), second: int(s % 60), nano: int(nanos % 1e9)}
}

func (c dateTime) days() int64 { return daysFromCivil(c.year, c.month, c.day) }

func (c dateTime) nanosOfDay() int64 {
	return int64(c.hour*3600+c.minute*60+c.second)*1e9 + int64(c.nano)
}

func dayOfYear(c dateTime) int { return int(c.days()-daysFromCivil(c.year, 1, 1)) + 1 }

// isoDayOfWeek is 1 for Monday to 7 for Sunday.
func isoDayOfWeek(c dateTime) int { return isoDow(c.days()) }

func isoDow(days int64) int { return int(floorMod64(days+3, 7)) + 1 } // 1970-01-01 was a Thursday

// dayOfWeekSun is 1 for Sunday to 7 for Saturday, as SQL's DOW.
func dayOfWeekSun(c dateTime) int { return isoDayOfWeek(c)%7 + 1 }

// isoWeek returns the ISO-8601 week-based year and week of c.
func isoWeek(c dateTime) (year, week int) {
	days := c.days()
	thursday := days - int64(isoDow(days)) + 4
	y, _, _ := civilFromDays(thursday)
	return y, int((thursday-daysFromCivil(y, 1, 1))/7) + 1
}

// weekOfWeekYear is Java's week of week-based year in the US locale: weeks
// start on Sunday, and week 1 is the one with January 1st.
func weekOfWeekYear(c dateTime) int {
	y := weekYear(c)
	start := usWeekStart(y)
	return int((c.days()-start)/7) + 1
}

// weekYear is the US week-based year of c: the days of the week of January
// 1st belong to the new year.
func weekYear(c dateTime) int {
	if c.days() >= usWeekStart(c.year+1) {
		return c.year + 1
	}
	return c.year
}

// usWeekStart is the Sunday on or before January 1st of y.
func usWeekStart(y int) int64 {
	jan1 := daysFromCivil(y, 1, 1)
	return jan1 - int64(isoDow(jan1)%7)
}

func floorMod64(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

func floorDiv64(a, b int64) int64 { return floorDiv(a, b) }

// unitsPerSecond is how many units of a timestamp of precision p make a second.
func unitsPerSecond(p int) int64 {
	switch {
	case p <= 3:
		return 1e3
	case p <= 6:
		return 1e6
	}
	return 1e9
}

// tsSplit splits a timestamp value of precision p into days since the epoch
// and nanoseconds of the day.
func tsSplit(v int64, p int) (days, nanos int64) {
	ups := unitsPerSecond(p)
	perDay := ups * 86400
	days = floorDiv(v, perDay)
	nanos = (v - days*perDay) * (1e9 / ups)
	return days, nanos
}

// tsJoin is the inverse of tsSplit, truncating nanoseconds finer than p.
func tsJoin(days, nanos int64, p int) int64 {
	ups := unitsPerSecond(p)
	return days*86400*ups + nanos/(1e9/ups)
}

// tsMillis converts a timestamp value of precision p to milliseconds since
// the epoch and the nanoseconds within the millisecond.
func tsMillis(v int64, p int) (ms, nanoOfMs int64) {
	switch ups := unitsPerSecond(p); ups {
	case 1e3:
		return v, 0
	default:
		per := ups / 1e3
		ms = floorDiv(v, per)
		return ms, (v - ms*per) * (1e9 / ups)
	}
}

// zones caches resolved time zones by name.
var zones sync.Map

var offsetZone = regexp.MustCompile(`^(?:GMT|UTC|UT)?([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$`)

// Zone resolves a time zone name as Flink's table.local-time-zone takes it:
// a TZDB name (America/Los_Angeles), UTC, or a fixed offset written
// GMT+03:00 (also UTC+3, +03:00).
func Zone(name string) (*time.Location, error) {
	if z, ok := zones.Load(name); ok {
		return z.(*time.Location), nil
	}
	var loc *time.Location
	switch {
	case name == "UTC" || name == "GMT" || name == "Z" || name == "UT":
		loc = time.UTC
	case offsetZone.MatchString(name):
		m := offsetZone.FindStringSubmatch(name)
		h, _ := strconv.Atoi(m[2])
		mi, _ := strconv.Atoi(m[3])
		s, _ := strconv.Atoi(m[4])
		if h > 18 || mi > 59 || s > 59 {
			return nil, badZone(name)
		}
		off := h*3600 + mi*60 + s
		if m[1] == "-" {
			off = -off
		}
		loc = time.FixedZone(name, off)
	case name == "" || name == "Local" || name[0] == '/' || name[0] == '.':
		return nil, badZone(name)
	default:
		var err error
		if loc, err = time.LoadLocation(name); err != nil {
			return nil, badZone(name)
		}
	}
	zones.Store(name, loc)
	return loc, nil
}

func badZone(name string) error {
	return fmt.Errorf("invalid time zone '%s': write a TZDB name such as 'America/Los_Angeles', a fixed offset such as 'GMT-03:00', or 'UTC'", name)
}

// offsetAt is the zone's offset from UTC, in seconds, at the instant sec.
func offsetAt(loc *time.Location, sec int64) int64 {
	if loc == time.UTC {
		return 0
	}
	_, off := time.Unix(sec, 0).In(loc).Zone()
	return int64(off)
}

// localToInstant converts a local date-time (seconds since the epoch as if
// in UTC) in loc to seconds since the epoch as java.time does: in a gap the
// time moves forward by the gap's length, in an overlap the earlier offset
// wins.
func localToInstant(loc *time.Location, local int64) int64 {
	if loc == time.UTC {
		return local
	}
	before := offsetAt(loc, local-86400)
	after := offsetAt(loc, local+86400)
	if offsetAt(loc, local-before) == before {
		return local - before
	}
	if offsetAt(loc, local-after) == after {
		return local - after
	}
	return local - before
}

// localToInstantStandard is localToInstant as java.util's calendar resolves
// it (Flink's UNIX_TIMESTAMP): in an overlap the later (standard) offset wins.
func localToInstantStandard(loc *time.Location, local int64) int64 {
	if loc == time.UTC {
		return local
	}
	after := offsetAt(loc, local+86400)
	if offsetAt(loc, local-after) == after {
		return local - after
	}
	return localToInstant(loc, local)
}

// floorToPrecision drops the digits of a timestamp value (in the unit of
// precision p) finer than p, as Flink keeps only p fractional digits.
func floorToPrecision(v int64, p int) int64 {
	digits := map[int]int{0: 3, 1: 2, 2: 1, 4: 2, 5: 1, 7: 2, 8: 1}[p]
	if digits == 0 {
		return v
	}
	m := int64(1)
	for ; digits > 0; digits-- {
		m *= 10
	}
	return floorDiv(v, m) * m
}
