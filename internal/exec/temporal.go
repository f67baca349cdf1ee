package exec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// This file evaluates the temporal functions with Flink's semantics. The
// planner gives units, patterns' positions and the session time zone as
// arguments:
//
//	EXTRACT(unit, x)                 BIGINT field of a DATE, TIME, TIMESTAMP or interval
//	TIME_FLOOR(x, unit [, zone])     FLOOR(x TO unit) (zone for TIMESTAMP_LTZ)
//	TIME_CEIL(x, unit [, zone])      CEIL(x TO unit)
//	TIMESTAMPADD(unit, n, x)         x plus n units
//	TIMESTAMPDIFF(unit, a, b)        whole units from a to b, INT
//	DATETIME_PLUS(x, i), DATETIME_MINUS(x, i)   x +/- an interval (x a datetime or an interval)
//	INTERVAL_TIMES(i, n)             an interval times an integer
//	INTERVAL_OF(unit, a, b)          (a - b) unit
//	TO_LOCAL(x, zone)                TIMESTAMP_LTZ -> TIMESTAMP in zone
//	FROM_LOCAL(x, zone)              TIMESTAMP in zone -> TIMESTAMP_LTZ
//	DATE_FORMAT(x, pattern)          x a TIMESTAMP or a STRING
//	TO_TIMESTAMP(s [, pattern]), TO_DATE(s [, pattern])
//	UNIX_TIMESTAMP(s, pattern, zone), FROM_UNIXTIME(n, pattern, zone)
//	TO_TIMESTAMP_LTZ(n, precision), TO_TIMESTAMP_LTZ_STRING(s, pattern, zone)
//	CONVERT_TZ(s, from, to)
//	CURRENT_TIME_OF(name, zone)      CURRENT_TIMESTAMP and friends read per batch (streaming mode)

type temporalFn func(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error)

var temporalCalls = map[string]temporalFn{
	"EXTRACT":                 evalExtract,
	"TIME_FLOOR":              evalFloorCeil,
	"TIME_CEIL":               evalFloorCeil,
	"TIMESTAMPADD":            evalTimestampAdd,
	"TIMESTAMPDIFF":           evalTimestampDiff,
	"DATETIME_PLUS":           evalDatetimePlus,
	"DATETIME_MINUS":          evalDatetimePlus,
	"INTERVAL_TIMES":          evalIntervalTimes,
	"INTERVAL_OF":             evalIntervalOf,
	"TO_LOCAL":                evalZoneShift,
	"FROM_LOCAL":              evalZoneShift,
	"DATE_FORMAT":             evalDateFormat,
	"TO_TIMESTAMP":            evalToTimestamp,
	"TO_DATE":                 evalToTimestamp,
	"UNIX_TIMESTAMP":          evalUnixTimestamp,
	"FROM_UNIXTIME":           evalFromUnixtime,
	"TO_TIMESTAMP_LTZ":        evalToTimestampLTZ,
	"TO_TIMESTAMP_LTZ_STRING": evalToTimestampLTZString,
	"CONVERT_TZ":              evalConvertTZ,
	"CURRENT_TIME_OF":         evalCurrentTime,
}

// IsTemporalCall reports whether name is one of the temporal calls above.
func IsTemporalCall(name string) bool { _, ok := temporalCalls[name]; return ok }

// temporal evaluates a temporal call's arguments and the call.
func (ev *evaluator) temporal(c *expr.Call, fn temporalFn, in *batch) (arrow.Array, error) {
	ops, err := ev.operands(c.Args, in)
	if err != nil {
		return nil, err
	}
	defer releaseOps(ops)
	out, err := fn(ev, c, ops, in.n)
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	return out, nil
}

// ---- reading and writing values ----

// intReader reads an operand's rows as int64: integers, DATE (days), TIME
// (milliseconds), TIMESTAMP (units of its precision), the intervals; ok is
// false for NULL.
func intReader(o operand) func(i int) (int64, bool) {
	if o.isScalar() {
		if o.scalar == nil {
			return func(int) (int64, bool) { return 0, false }
		}
		v := scalarInt(o.scalar)
		return func(int) (int64, bool) { return v, true }
	}
	a := o.arr
	if isNullTyped(a) {
		return func(int) (int64, bool) { return 0, false }
	}
	valid, off := validity(a)
	ok := func(i int) bool { return valid == nil || bitutil.BitIsSet(valid, off+i) }
	switch a.DataType().ID() {
	case arrow.INT8:
		v := values[int8](a)
		return func(i int) (int64, bool) { return int64(v[i]), ok(i) }
	case arrow.INT16:
		v := values[int16](a)
		return func(i int) (int64, bool) { return int64(v[i]), ok(i) }
	case arrow.INT32, arrow.DATE32, arrow.TIME32:
		v := values[int32](a)
		return func(i int) (int64, bool) { return int64(v[i]), ok(i) }
	case arrow.INT64, arrow.TIMESTAMP:
		v := values[int64](a)
		return func(i int) (int64, bool) { return v[i], ok(i) }
	}
	return func(i int) (int64, bool) {
		x := valueAt(a, i)
		if x == nil {
			return 0, false
		}
		return scalarInt(x), true
	}
}

func scalarInt(v any) int64 {
	switch x := v.(type) {
	case arrow.Date32:
		return int64(x)
	case arrow.Time32:
		return int64(x)
	case arrow.Timestamp:
		return int64(x)
	}
	return ToInt64(v)
}

// strReader reads an operand's rows as strings.
func strReader(o operand) func(i int) (string, bool) {
	if o.isScalar() {
		s, ok := o.scalar.(string)
		return func(int) (string, bool) { return s, ok }
	}
	if isNullTyped(o.arr) {
		return func(int) (string, bool) { return "", false }
	}
	a, isStr := o.arr.(*array.String)
	if !isStr {
		return func(i int) (string, bool) {
			s, ok := valueAt(o.arr, i).(string)
			return s, ok
		}
	}
	return func(i int) (string, bool) {
		if a.IsNull(i) {
			return "", false
		}
		return a.Value(i), true
	}
}

// intWriter builds an array of a type stored as int32 or int64.
type intWriter struct {
	t     types.T
	v32   []int32
	v64   []int64
	buf   *memory.Buffer
	vbuf  *memory.Buffer
	valid []byte
	n     int
	nulls int
}

func newIntWriter(mem memory.Allocator, t types.T, n int) *intWriter {
	w := &intWriter{t: t, n: n}
	if _, wide := physical(t).(int64); wide {
		w.buf, w.v64 = AllocValues[int64](mem, n)
	} else {
		w.buf, w.v32 = AllocValues[int32](mem, n)
	}
	w.vbuf, w.valid = AllocBitmap(mem, n)
	return w
}

func (w *intWriter) set(i int, v int64) {
	if w.v64 != nil {
		w.v64[i] = v
	} else {
		w.v32[i] = int32(v)
	}
	bitutil.SetBit(w.valid, i)
}

func (w *intWriter) setNull(i int) {
	if w.v64 != nil {
		w.v64[i] = 0
	} else if w.v32 != nil {
		w.v32[i] = 0
	}
	w.nulls++
}

func (w *intWriter) finish() arrow.Array {
	return MakeArray(w.t.Arrow(), w.n, []*memory.Buffer{w.vbuf, w.buf}, w.nulls)
}

// stringWriter builds a STRING array.
type stringWriter struct{ b *array.StringBuilder }

func newStringWriter(mem memory.Allocator, n int) stringWriter {
	b := array.NewStringBuilder(mem)
	b.Reserve(n)
	return stringWriter{b}
}

func (w stringWriter) finish() arrow.Array {
	a := w.b.NewArray()
	w.b.Release()
	return a
}

// literalString is the value of a constant string argument.
func literalString(o operand, what string) (string, error) {
	if !o.isScalar() {
		return "", fmt.Errorf("the %s must be a constant", what)
	}
	s, _ := o.scalar.(string)
	return s, nil
}

func zoneArg(o operand) (*time.Location, error) {
	name, err := literalString(o, "time zone")
	if err != nil {
		return nil, err
	}
	return Zone(name)
}

// ---- datetime values as days and nanoseconds ----

// splitter returns, for a DATE, TIME or TIMESTAMP operand of type t, the
// value's days since the epoch and nanoseconds of the day.
func splitter(t types.T) func(v int64) (days, nanos int64) {
	switch t.Kind {
	case types.Date:
		return func(v int64) (int64, int64) { return v, 0 }
	case types.Time:
		return func(v int64) (int64, int64) { return 0, v * 1e6 }
	}
	p := t.Precision
	return func(v int64) (int64, int64) { return tsSplit(v, p) }
}

// joiner is the inverse of splitter.
func joiner(t types.T) func(days, nanos int64) int64 {
	switch t.Kind {
	case types.Date:
		return func(d, _ int64) int64 { return d }
	case types.Time:
		return func(_, ns int64) int64 { return floorMod64(ns, nanosPerDay) / 1e6 }
	}
	p := t.Precision
	return func(d, ns int64) int64 { return tsJoin(d, ns, p) }
}

// fitter drops the digits of a result timestamp finer than its precision.
func fitter(t types.T) func(int64) int64 {
	if t.Kind != types.Timestamp && t.Kind != types.TimestampLTZ {
		return func(v int64) int64 { return v }
	}
	p := t.Precision
	return func(v int64) int64 { return floorToPrecision(v, p) }
}

// ---- EXTRACT ----

func evalExtract(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	unit, err := literalString(ops[0], "unit")
	if err != nil {
		return nil, err
	}
	t := ops[1].t
	read := intReader(ops[1])
	w := newIntWriter(ev.mem, c.T, n)
	var field func(v int64) int64
	switch t.Kind {
	case types.IntervalDayTime:
		field = func(ms int64) int64 { return intervalField(unit, ms, 0) }
	case types.IntervalYearMonth:
		field = func(m int64) int64 { return intervalField(unit, 0, m) }
	case types.Date:
		field = func(d int64) int64 { return extractField(unit, d, 0, 0) }
	case types.Time:
		field = func(ms int64) int64 { return extractField(unit, 0, ms, 0) }
	default:
		p := t.Precision
		field = func(v int64) int64 {
			// As Flink: the day is the milliseconds divided toward zero,
			// the time of day their signed remainder, so that before 1970
			// EXTRACT(SECOND FROM TIMESTAMP '1969-12-31 23:59:58.5') is -1
			// and its DAY is 1.
			ms, nanoOfMs := tsMillis(v, p)
			return extractField(unit, ms/millisPerDay, ms%millisPerDay, nanoOfMs)
		}
	}
	if !ops[1].isScalar() && !isNullTyped(ops[1].arr) {
		mapInts(ops[1].arr, w, field)
		return w.finish(), nil
	}
	for i := 0; i < n; i++ {
		v, ok := read(i)
		if !ok {
			w.setNull(i)
			continue
		}
		w.set(i, field(v))
	}
	return w.finish(), nil
}

// mapInts writes f of each value of a (stored as int32 or int64) to w,
// NULL where a is: the typed loop of the unary temporal functions.
func mapInts(a arrow.Array, w *intWriter, f func(int64) int64) {
	valid, off := validity(a)
	if _, wide := physicalOfArrow(a).(int64); wide {
		for i, v := range values[int64](a) {
			if valid != nil && !bitutil.BitIsSet(valid, off+i) {
				w.setNull(i)
				continue
			}
			w.set(i, f(v))
		}
		return
	}
	for i, v := range values[int32](a) {
		if valid != nil && !bitutil.BitIsSet(valid, off+i) {
			w.setNull(i)
			continue
		}
		w.set(i, f(int64(v)))
	}
}

func physicalOfArrow(a arrow.Array) any {
	switch a.DataType().ID() {
	case arrow.INT64, arrow.TIMESTAMP:
		return int64(0)
	}
	return int32(0)
}

// extractField is EXTRACT(unit FROM x) of a date-time given as days since
// the epoch, milliseconds of the day (negative before 1970, see evalExtract)
// and nanoseconds within the millisecond.
func extractField(unit string, days, ms, nanoOfMs int64) int64 {
	switch unit {
	case "HOUR":
		return ms / 3600000
	case "MINUTE":
		return ms % 3600000 / 60000
	case "SECOND":
		return ms % 60000 / 1000
	case "MILLISECOND":
		return ms % 1000
	case "MICROSECOND":
		return ms%1000*1000 + nanoOfMs/1000
	case "NANOSECOND":
		return ms%1000*1e6 + nanoOfMs
	case "EPOCH":
		return (days*millisPerDay + ms) / 1000
	}
	c := civilOf(days, 0)
	switch unit {
	case "YEAR":
		return int64(c.year)
	case "QUARTER":
		return int64((c.month-1)/3 + 1)
	case "MONTH":
		return int64(c.month)
	case "WEEK":
		_, w := isoWeek(c)
		return int64(w)
	case "DAY":
		return int64(c.day)
	case "DOY":
		return int64(dayOfYear(c))
	case "DOW":
		return int64(dayOfWeekSun(c))
	case "ISODOW":
		return int64(isoDayOfWeek(c))
	case "ISOYEAR":
		y, _ := isoWeek(c)
		return int64(y)
	case "DECADE":
		return floorDiv64(int64(c.year), 10)
	case "CENTURY":
		if c.year > 0 {
			return int64((c.year + 99) / 100)
		}
		return int64(-((99 - c.year) / 100))
	case "MILLENNIUM":
		if c.year > 0 {
			return int64((c.year + 999) / 1000)
		}
		return int64(-((999 - c.year) / 1000))
	}
	return 0
}

// intervalField is EXTRACT(unit FROM interval) of ms milliseconds or m
// months; fields keep the interval's sign.
func intervalField(unit string, ms, m int64) int64 {
	switch unit {
	case "YEAR":
		return m / 12
	case "MONTH":
		return m % 12
	case "QUARTER":
		return m % 12 / 3
	case "DAY":
		return ms / millisPerDay
	case "HOUR":
		return ms / 3600000 % 24
	case "MINUTE":
		return ms / 60000 % 60
	case "SECOND":
		return ms / 1000 % 60
	case "MILLISECOND":
		return ms % 60000
	case "MICROSECOND":
		return ms % 60000 * 1000
	case "EPOCH":
		return ms/1000 + m*30*86400
	}
	return 0
}

// ---- FLOOR and CEIL to a unit ----

func evalFloorCeil(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	unit, err := literalString(ops[1], "unit")
	if err != nil {
		return nil, err
	}
	ceil := c.Name == "TIME_CEIL"
	t := ops[0].t
	var loc *time.Location
	if t.Kind == types.TimestampLTZ {
		if loc, err = zoneArg(ops[2]); err != nil {
			return nil, err
		}
	}
	split, join := splitter(t), joiner(t)
	read := intReader(ops[0])
	w := newIntWriter(ev.mem, c.T, n)
	for i := 0; i < n; i++ {
		v, ok := read(i)
		if !ok {
			w.setNull(i)
			continue
		}
		var off int64
		if loc != nil {
			// As Flink: the floor of the local time, back with the offset
			// of the value itself.
			ms, _ := tsMillis(v, t.Precision)
			off = offsetAt(loc, floorDiv(ms, 1000))
			v += off * unitsPerSecond(t.Precision)
		}
		days, nanos := split(v)
		d, ns := floorTo(unit, days, nanos)
		if ceil && (d != days || ns != nanos) {
			d, ns = addUnit(unit, d, ns, 1)
		}
		r := join(d, ns)
		if loc != nil {
			r -= off * unitsPerSecond(t.Precision)
		}
		w.set(i, r)
	}
	return w.finish(), nil
}

// unitNanos is the length of the units up to DAY.
var unitNanos = map[string]int64{
	"DAY": nanosPerDay, "HOUR": 3600e9, "MINUTE": 60e9, "SECOND": 1e9, "MILLISECOND": 1e6, "MICROSECOND": 1e3, "NANOSECOND": 1,
}

// floorTo truncates a date-time to the start of its unit.
func floorTo(unit string, days, nanos int64) (int64, int64) {
	if u, ok := unitNanos[unit]; ok {
		if unit == "DAY" {
			return days, 0
		}
		return days, nanos - nanos%u
	}
	y, m, _ := civilFromDays(days)
	switch unit {
	case "YEAR":
		return daysFromCivil(y, 1, 1), 0
	case "QUARTER":
		return daysFromCivil(y, (m-1)/3*3+1, 1), 0
	case "MONTH":
		return daysFromCivil(y, m, 1), 0
	case "WEEK":
		// Weeks start on Sunday.
		return days - int64(isoDow(days)%7), 0
	case "DECADE":
		return daysFromCivil(int(floorDiv64(int64(y), 10)*10), 1, 1), 0
	case "CENTURY":
		return daysFromCivil((y-1)/100*100+1, 1, 1), 0
	case "MILLENNIUM":
		return daysFromCivil((y-1)/1000*1000+1, 1, 1), 0
	}
	return days, nanos
}

// addUnit adds k units to a date-time (months clamp to the month's end).
func addUnit(unit string, days, nanos, k int64) (int64, int64) {
	if u, ok := unitNanos[unit]; ok {
		total := nanos + k*u
		return days + floorDiv(total, nanosPerDay), floorMod64(total, nanosPerDay)
	}
	switch unit {
	case "WEEK":
		return days + 7*k, nanos
	case "YEAR":
		return addMonths(days, 12*k), nanos
	case "QUARTER":
		return addMonths(days, 3*k), nanos
	case "MONTH":
		return addMonths(days, k), nanos
	case "DECADE":
		return addMonths(days, 120*k), nanos
	case "CENTURY":
		return addMonths(days, 1200*k), nanos
	case "MILLENNIUM":
		return addMonths(days, 12000*k), nanos
	}
	return days, nanos
}

// addMonths adds k months to a date, keeping the day unless the new month
// is shorter.
func addMonths(days, k int64) int64 {
	y, m, d := civilFromDays(days)
	total := int64(y)*12 + int64(m-1) + k
	ny, nm := int(floorDiv(total, 12)), int(floorMod64(total, 12))+1
	return daysFromCivil(ny, nm, min(d, daysIn(ny, nm)))
}

// ---- TIMESTAMPADD and TIMESTAMPDIFF ----

func evalTimestampAdd(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	unit, err := literalString(ops[0], "unit")
	if err != nil {
		return nil, err
	}
	split, join, fit := splitter(ops[2].t), joiner(c.T), fitter(c.T)
	return mapIntPairs(ev, c.T, ops[1], ops[2], n, func(k, v int64) int64 {
		days, nanos := split(v)
		return fit(join(addUnit(unit, days, nanos, k)))
	}), nil
}

func evalTimestampDiff(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	unit, err := literalString(ops[0], "unit")
	if err != nil {
		return nil, err
	}
	splitA, splitB := splitter(ops[1].t), splitter(ops[2].t)
	return mapIntPairs(ev, c.T, ops[1], ops[2], n, func(a, b int64) int64 {
		da, na := splitA(a)
		db, nb := splitB(b)
		return int64(int32(diffUnits(unit, da, na, db, nb)))
	}), nil
}

// mapIntPairs returns a column of type t holding f of the rows of two
// integer operands, NULL where either is NULL: the loop of the binary
// temporal functions.
func mapIntPairs(ev *evaluator, t types.T, a, b operand, n int, f func(a, b int64) int64) arrow.Array {
	readA, readB := intReader(a), intReader(b)
	w := newIntWriter(ev.mem, t, n)
	for i := 0; i < n; i++ {
		x, ok1 := readA(i)
		y, ok2 := readB(i)
		if !ok1 || !ok2 {
			w.setNull(i)
			continue
		}
		w.set(i, f(x, y))
	}
	return w.finish()
}

// diffUnits is how many whole units lie from a to b (negative when b is
// before a), as Flink's TIMESTAMPDIFF counts: months by calendar, the rest
// from the difference in milliseconds, truncated toward zero.
func diffUnits(unit string, da, na, db, nb int64) int64 {
	switch unit {
	case "YEAR", "QUARTER", "MONTH":
		m := monthsBetween(db, nb/1e6, da, na/1e6)
		switch unit {
		case "YEAR":
			return m / 12
		case "QUARTER":
			return m / 3
		}
		return m
	}
	ms := (db-da)*millisPerDay + (nb/1e6 - na/1e6)
	switch unit {
	case "WEEK":
		return ms / (7 * millisPerDay)
	case "DAY":
		return ms / millisPerDay
	case "HOUR":
		return ms / 3600000
	case "MINUTE":
		return ms / 60000
	case "SECOND":
		return ms / 1000
	case "MILLISECOND":
		return ms
	case "MICROSECOND":
		return (db-da)*86400e6 + (nb-na)/1e3
	case "NANOSECOND":
		return (db-da)*nanosPerDay + (nb - na)
	}
	return 0
}

// monthsBetween is the number of whole months from (d1, ms1) to (d0, ms0)
// as Calcite counts them: the largest m with d1 plus m months not after d0,
// less one when that lands on d0 at an earlier time of day.
func monthsBetween(d0, ms0, d1, ms1 int64) int64 {
	if d0 < d1 || (d0 == d1 && ms0 < ms1) {
		return -monthsBetween(d1, ms1, d0, ms0)
	}
	y0, m0, _ := civilFromDays(d0)
	y1, m1, _ := civilFromDays(d1)
	m := int64(y0-y1)*12 + int64(m0-m1)
	for m > 0 && addMonths(d1, m) > d0 {
		m--
	}
	if addMonths(d1, m) == d0 && ms0 < ms1 {
		m--
	}
	return m
}

// ---- interval arithmetic ----

func evalDatetimePlus(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	sign := int64(1)
	if c.Name == "DATETIME_MINUS" {
		sign = -1
	}
	xt, it := ops[0].t, ops[1].t
	fit := fitter(c.T)
	var f func(x, iv int64) int64
	switch {
	case xt.Kind == types.IntervalDayTime || xt.Kind == types.IntervalYearMonth:
		f = func(x, iv int64) int64 { return x + sign*iv }
	case xt.Kind == types.Date && it.Kind == types.IntervalDayTime:
		f = func(x, iv int64) int64 { return x + sign*(iv/millisPerDay) }
	case xt.Kind == types.Time && it.Kind == types.IntervalDayTime:
		f = func(x, iv int64) int64 { return floorMod64(x+sign*(iv%millisPerDay), millisPerDay) }
	case xt.Kind == types.Time:
		f = func(x, _ int64) int64 { return x }
	case it.Kind == types.IntervalDayTime:
		ups := unitsPerSecond(xt.Precision)
		f = func(x, iv int64) int64 { return x + sign*iv*(ups/1000) }
	default: // months to a DATE or a timestamp
		split, join := splitter(xt), joiner(c.T)
		f = func(x, iv int64) int64 {
			d, ns := split(x)
			return join(addMonths(d, sign*iv), ns)
		}
	}
	return mapIntPairs(ev, c.T, ops[0], ops[1], n, func(x, iv int64) int64 { return fit(f(x, iv)) }), nil
}

func evalIntervalTimes(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	return mapIntPairs(ev, c.T, ops[0], ops[1], n, func(iv, k int64) int64 { return iv * k }), nil
}

func evalIntervalOf(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	unit, err := literalString(ops[0], "unit")
	if err != nil {
		return nil, err
	}
	splitA, splitB := splitter(ops[1].t), splitter(ops[2].t)
	return mapIntPairs(ev, c.T, ops[1], ops[2], n, func(a, b int64) int64 {
		da, na := splitA(a)
		db, nb := splitB(b)
		if c.T.Kind == types.IntervalYearMonth {
			m := monthsBetween(da, na/1e6, db, nb/1e6)
			if unit == "YEAR" {
				m = m / 12 * 12
			}
			return m
		}
		return (da-db)*millisPerDay + (na-nb)/1e6
	}), nil
}

// ---- time zones ----

func evalZoneShift(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	loc, err := zoneArg(ops[1])
	if err != nil {
		return nil, err
	}
	toLocal := c.Name == "TO_LOCAL"
	p := ops[0].t.Precision
	ups := unitsPerSecond(p)
	read := intReader(ops[0])
	w := newIntWriter(ev.mem, c.T, n)
	for i := 0; i < n; i++ {
		v, ok := read(i)
		if !ok {
			w.setNull(i)
			continue
		}
		sec := floorDiv(v, ups)
		if toLocal {
			w.set(i, v+offsetAt(loc, sec)*ups)
		} else {
			w.set(i, v+(localToInstant(loc, sec)-sec)*ups)
		}
	}
	return w.finish(), nil
}

// ---- formatting and parsing ----

// patternArg returns the compiled pattern of a constant pattern argument,
// or a function that compiles each row's pattern (nil pattern: NULL).
func patternArg(o operand, simple bool) (func(i int) (*DatePattern, bool, error), error) {
	compile := CompilePattern
	if simple {
		compile = CompileSimplePattern
	}
	if o.t.Kind == types.Null || (o.isScalar() && o.scalar == nil) {
		return func(int) (*DatePattern, bool, error) { return nil, false, nil }, nil
	}
	if o.isScalar() {
		p, err := compile(o.scalar.(string))
		if err != nil {
			return nil, err
		}
		return func(int) (*DatePattern, bool, error) { return p, true, nil }, nil
	}
	read := strReader(o)
	return func(i int) (*DatePattern, bool, error) {
		s, ok := read(i)
		if !ok {
			return nil, false, nil
		}
		p, err := compile(s)
		return p, err == nil, err
	}, nil
}

func evalDateFormat(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	pat, err := patternArg(ops[1], false)
	if err != nil {
		return nil, err
	}
	out := newStringWriter(ev.mem, n)
	var buf []byte
	var civilAt func(i int) (dateTime, bool)
	if ops[0].t.IsString() || ops[0].t.Kind == types.Null {
		read := strReader(ops[0])
		civilAt = func(i int) (dateTime, bool) {
			s, ok := read(i)
			if !ok {
				return dateTime{}, false
			}
			// As Flink: the string must be yyyy-MM-dd HH:mm:ss[.fff].
			days, nanos, ok := parseTimestamp(s)
			return civilOf(days, nanos), ok && strings.Count(s, ":") == 2
		}
	} else {
		read, split := intReader(ops[0]), splitter(ops[0].t)
		civilAt = func(i int) (dateTime, bool) {
			v, ok := read(i)
			if !ok {
				return dateTime{}, false
			}
			return civilOf(split(v)), true
		}
	}
	for i := 0; i < n; i++ {
		cv, ok := civilAt(i)
		p, okp, err := pat(i)
		if err != nil {
			out.b.Release()
			return nil, err
		}
		if !ok || !okp {
			out.b.AppendNull()
			continue
		}
		buf = p.Format(buf[:0], cv)
		out.b.BinaryBuilder.Append(buf)
	}
	return out.finish(), nil
}

// parseWith parses s with the pattern, or as Flink's default timestamp
// format when p is nil.
func parseWith(p *DatePattern, s string) (days, nanos int64, ok bool) {
	if p == nil {
		return parseTimestamp(s)
	}
	cv, ok := p.Parse(s)
	if !ok {
		return 0, 0, false
	}
	return cv.days(), cv.nanosOfDay(), true
}

func evalToTimestamp(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	read := strReader(ops[0])
	var pat func(i int) (*DatePattern, bool, error)
	if len(ops) > 1 {
		var err error
		if pat, err = patternArg(ops[1], c.T.Kind == types.Date); err != nil {
			return nil, err
		}
	}
	join := joiner(c.T)
	w := newIntWriter(ev.mem, c.T, n)
	for i := 0; i < n; i++ {
		s, ok := read(i)
		var p *DatePattern
		if ok && pat != nil {
			var err error
			if p, ok, err = pat(i); err != nil {
				return nil, err
			}
		}
		if !ok {
			w.setNull(i)
			continue
		}
		var days, nanos int64
		switch {
		case c.T.Kind == types.Date && p == nil:
			// TO_DATE's default format: the date part, not clamped.
			days, ok = parseDate(s, false)
		case c.T.Kind == types.Date:
			// With a pattern, as SimpleDateFormat: lenient, April 31 is
			// May 1st.
			var cv dateTime
			if cv, ok = p.ParseLenient(s); ok {
				days = floorDiv(cv.normalized(), 86400)
			}
		default:
			days, nanos, ok = parseWith(p, s)
			if !ok && p != nil {
				// As Flink: a string the pattern does not match is read
				// in the default format.
				days, nanos, ok = parseTimestamp(s)
			}
		}
		if !ok {
			w.setNull(i)
			continue
		}
		w.set(i, join(days, nanos))
	}
	return w.finish(), nil
}

func evalUnixTimestamp(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	read := strReader(ops[0])
	pat, err := patternArg(ops[1], true)
	if err != nil {
		return nil, err
	}
	loc, err := zoneArg(ops[2])
	if err != nil {
		return nil, err
	}
	w := newIntWriter(ev.mem, c.T, n)
	for i := 0; i < n; i++ {
		s, ok := read(i)
		p, okp, err := pat(i)
		if err != nil {
			return nil, err
		}
		if !ok || !okp {
			w.setNull(i)
			continue
		}
		cv, ok := p.ParseLenient(s)
		if !ok {
			w.set(i, math.MinInt64) // as Flink: Long.MIN_VALUE for what does not parse
			continue
		}
		w.set(i, localToInstantStandard(loc, cv.normalized()))
	}
	return w.finish(), nil
}

func evalFromUnixtime(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	read := intReader(ops[0])
	pat, err := patternArg(ops[1], true)
	if err != nil {
		return nil, err
	}
	loc, err := zoneArg(ops[2])
	if err != nil {
		return nil, err
	}
	out := newStringWriter(ev.mem, n)
	var buf []byte
	for i := 0; i < n; i++ {
		sec, ok := read(i)
		p, okp, err := pat(i)
		if err != nil {
			out.b.Release()
			return nil, err
		}
		if !ok || !okp {
			out.b.AppendNull()
			continue
		}
		local := sec + offsetAt(loc, sec)
		days := floorDiv(local, 86400)
		buf = p.Format(buf[:0], civilOf(days, (local-days*86400)*1e9))
		out.b.BinaryBuilder.Append(buf)
	}
	return out.finish(), nil
}

func evalToTimestampLTZ(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	prec, ok := ops[1].scalar.(int32)
	if !ops[1].isScalar() || !ok || prec < 0 || prec > 9 {
		return nil, fmt.Errorf("the precision must be an integer constant from 0 to 9")
	}
	// The value counts units of 10^-prec seconds; the result's unit is
	// finer or the same.
	mul := int64(1)
	for k := int64(prec); k < int64(math.Log10(float64(unitsPerSecond(c.T.Precision)))); k++ {
		mul *= 10
	}
	w := newIntWriter(ev.mem, c.T, n)
	if ops[0].t.IsInteger() {
		read := intReader(ops[0])
		for i := 0; i < n; i++ {
			v, ok := read(i)
			if !ok {
				w.setNull(i)
				continue
			}
			w.set(i, v*mul)
		}
		return w.finish(), nil
	}
	for i := 0; i < n; i++ {
		v := ops[0].value(i)
		if v == nil {
			w.setNull(i)
			continue
		}
		// As Flink: the fraction of a DECIMAL or DOUBLE is dropped.
		x, err := CastValue(v, ops[0].t, types.BIGINT)
		if err != nil || x == nil {
			w.setNull(i)
			continue
		}
		w.set(i, x.(int64)*mul)
	}
	return w.finish(), nil
}

func evalToTimestampLTZString(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	read := strReader(ops[0])
	var pat func(i int) (*DatePattern, bool, error)
	if !(ops[1].isScalar() && ops[1].scalar == nil && ops[1].t.Kind == types.Null) {
		var err error
		if pat, err = patternArg(ops[1], false); err != nil {
			return nil, err
		}
	}
	loc, err := zoneArg(ops[2])
	if err != nil {
		return nil, err
	}
	w := newIntWriter(ev.mem, c.T, n)
	ups := unitsPerSecond(c.T.Precision)
	for i := 0; i < n; i++ {
		s, ok := read(i)
		var p *DatePattern
		if ok && pat != nil {
			if p, ok, err = pat(i); err != nil {
				return nil, err
			}
		}
		if !ok {
			w.setNull(i)
			continue
		}
		days, nanos, ok := parseWith(p, s)
		if !ok {
			w.setNull(i)
			continue
		}
		local := tsJoin(days, nanos, c.T.Precision)
		sec := floorDiv(local, ups)
		w.set(i, local+(localToInstant(loc, sec)-sec)*ups)
	}
	return w.finish(), nil
}

func evalConvertTZ(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	read, readFrom, readTo := strReader(ops[0]), strReader(ops[1]), strReader(ops[2])
	out := newStringWriter(ev.mem, n)
	pat, _ := CompilePattern("yyyy-MM-dd HH:mm:ss")
	var buf []byte
	for i := 0; i < n; i++ {
		s, ok1 := read(i)
		from, ok2 := readFrom(i)
		to, ok3 := readTo(i)
		if !ok1 || !ok2 || !ok3 {
			out.b.AppendNull()
			continue
		}
		fz, err := Zone(from)
		if err != nil {
			out.b.Release()
			return nil, err
		}
		tz, err := Zone(to)
		if err != nil {
			out.b.Release()
			return nil, err
		}
		days, nanos, ok := parseTimestamp(s)
		if !ok {
			out.b.AppendNull()
			continue
		}
		sec := localToInstant(fz, days*86400+nanos/1e9)
		local := sec + offsetAt(tz, sec)
		d := floorDiv(local, 86400)
		buf = pat.Format(buf[:0], civilOf(d, (local-d*86400)*1e9))
		out.b.BinaryBuilder.Append(buf)
	}
	return out.finish(), nil
}

// ---- intervals as text ----

// AppendInterval appends an interval value as Java shows it: a Period
// (P1Y2M... as Flink gives months: P14M) for months, a Duration (PT26H3M4.5S)
// for milliseconds.
func AppendInterval(b []byte, v int64, t types.T) []byte {
	if t.Kind == types.IntervalYearMonth {
		if v == 0 {
			return append(b, "P0D"...)
		}
		return append(strconv.AppendInt(append(b, 'P'), v, 10), 'M')
	}
	if v == 0 {
		return append(b, "PT0S"...)
	}
	b = append(b, "PT"...)
	h := v / 3600000
	m := v / 60000 % 60
	s := v / 1000 % 60
	ms := v % 1000
	if h != 0 {
		b = append(strconv.AppendInt(b, h, 10), 'H')
	}
	if m != 0 {
		b = append(strconv.AppendInt(b, m, 10), 'M')
	}
	if s == 0 && ms == 0 {
		return b
	}
	if s == 0 && ms < 0 {
		b = append(b, '-')
	}
	b = strconv.AppendInt(b, s, 10)
	if ms != 0 {
		if ms < 0 {
			ms = -ms
		}
		frac := strings.TrimRight(fmt.Sprintf("%03d", ms), "0")
		b = append(append(b, '.'), frac...)
	}
	return append(b, 'S')
}

// castInterval casts an interval to its own type or to a string, as Flink
// writes intervals: +1 00:00:00.000 (days and time), +1-02 (years and
// months). ok is false for the other casts.
func castInterval(v any, from, to types.T) (any, bool) {
	if from.Kind != types.IntervalDayTime && from.Kind != types.IntervalYearMonth {
		return nil, false
	}
	switch {
	case to.Kind == from.Kind:
		return v, true
	case !to.IsString():
		return nil, false
	}
	x := ToInt64(v)
	sign := "+"
	if x < 0 {
		sign, x = "-", -x
	}
	if from.Kind == types.IntervalYearMonth {
		return fmt.Sprintf("%s%d-%02d", sign, x/12, x%12), true
	}
	return fmt.Sprintf("%s%d %02d:%02d:%02d.%03d", sign, x/millisPerDay, x/3600000%24, x/60000%60, x/1000%60, x%1000), true
}

// CurrentTime is the value and type of CURRENT_TIMESTAMP, NOW,
// CURRENT_ROW_TIMESTAMP, LOCALTIMESTAMP, CURRENT_DATE, CURRENT_TIME,
// LOCALTIME or UNIX_TIMESTAMP() at now in the session zone loc, as Flink
// types them.
func CurrentTime(name string, now time.Time, loc *time.Location) (any, types.T) {
	ms := now.UnixMilli()
	switch name {
	case "CURRENT_TIMESTAMP", "NOW", "CURRENT_ROW_TIMESTAMP":
		return arrow.Timestamp(ms), types.TIMESTAMP_LTZ(3).NotNull()
	case "UNIX_TIMESTAMP":
		return now.Unix(), types.BIGINT.NotNull()
	}
	_, off := now.In(loc).Zone()
	local := ms + int64(off)*1000
	days := floorDiv(local, millisPerDay)
	switch name {
	case "LOCALTIMESTAMP":
		return arrow.Timestamp(local), types.TIMESTAMP(3).NotNull()
	case "CURRENT_DATE":
		return arrow.Date32(days), types.DATE.NotNull()
	}
	return arrow.Time32(local - days*millisPerDay), types.TIME(0).NotNull()
}

func evalCurrentTime(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	name, err := literalString(ops[0], "function")
	if err != nil {
		return nil, err
	}
	loc, err := zoneArg(ops[1])
	if err != nil {
		return nil, err
	}
	v, t := CurrentTime(name, time.Now(), loc)
	return broadcast(ev.mem, v, t, n)
}
