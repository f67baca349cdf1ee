package plan

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/weir-dev/weir/internal/config"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// This file types the temporal forms of Flink SQL and plans them as the
// engine's temporal calls (see exec/temporal.go): INTERVAL literals and
// arithmetic, EXTRACT and the field functions, FLOOR/CEIL TO, TIMESTAMPADD,
// TIMESTAMPDIFF, DATE_FORMAT and the conversions, the current time (in
// batch mode one value per statement, as Flink evaluates it once per query;
// in streaming mode read as rows go by), and TIMESTAMP_LTZ under the session
// time zone (table.local-time-zone).

// zoneName is the session time zone in force: table.local-time-zone, or
// the system's zone for 'default' (as Flink).
func (c *catalog) zoneName(at sql.Pos) (string, error) {
	name := ""
	if c.opts != nil {
		name = c.opts.Map()[config.LocalTimeZone]
	}
	if name == "" || name == "default" {
		name = systemZone()
	}
	if _, err := exec.Zone(name); err != nil {
		return "", errAt(at, "option '%s': %v", config.LocalTimeZone, err)
	}
	return name, nil
}

// systemZone is the TZDB name of the machine's zone: $TZ, else the target
// of /etc/localtime, else UTC.
func systemZone() string {
	if tz := strings.TrimPrefix(os.Getenv("TZ"), ":"); tz != "" {
		return tz
	}
	if target, err := filepath.EvalSymlinks("/etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(target, "zoneinfo/"); ok {
			return name
		}
	}
	return "UTC"
}

func (b *binder) zone(at sql.Pos) (expr.Expr, error) {
	name, err := b.cat.zoneName(at)
	if err != nil {
		return nil, err
	}
	return strLit(name), nil
}

func strLit(s string) *expr.Literal {
	return &expr.Literal{Value: s, T: types.STRING.NotNull()}
}

// statementTime is the current time of the statement being planned.
func (c *catalog) statementTime() time.Time {
	if c.now.IsZero() {
		c.now = time.Now()
	}
	return c.now
}

func isDatetime(t types.T) bool {
	switch t.Kind {
	case types.Date, types.Time, types.Timestamp, types.TimestampLTZ:
		return true
	}
	return false
}

func isInterval(t types.T) bool {
	return t.Kind == types.IntervalDayTime || t.Kind == types.IntervalYearMonth
}

// ---- INTERVAL literals ----

// intervalLiteral types INTERVAL '...' unit [TO unit] as Flink: months for
// YEAR and MONTH, milliseconds for the rest; the leading field has at most
// two digits unless a precision is given.
func intervalLiteral(l *sql.IntervalLit) (expr.Expr, error) {
	bad := func(format string, args ...any) error {
		return errAt(l.At, "INTERVAL '%s' %s: %s", l.Text, qualifier(l.From, l.To), strings.TrimSpace(sprintf(format, args...)))
	}
	text := strings.TrimSpace(l.Text)
	neg := l.Neg
	if strings.HasPrefix(text, "-") {
		neg = !neg
		text = text[1:]
	} else {
		text = strings.TrimPrefix(text, "+")
	}
	// The fields the qualifier names, in order, and their separators.
	order := []string{"YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"}
	from := indexOf(order, l.From)
	to := from
	if l.To != "" {
		to = indexOf(order, l.To)
		if to <= from || (from <= 1) != (to <= 1) {
			return nil, errAt(l.At, "INTERVAL %s is not a valid interval qualifier; write YEAR TO MONTH, DAY TO HOUR/MINUTE/SECOND, HOUR TO MINUTE/SECOND or MINUTE TO SECOND", qualifier(l.From, l.To))
		}
	}
	var parts []string
	rest := text
	for k := from; k <= to; k++ {
		if k == to {
			parts = append(parts, rest)
			break
		}
		sep := ":"
		switch order[k] {
		case "YEAR":
			sep = "-"
		case "DAY":
			sep = " "
		}
		i := strings.Index(rest, sep)
		if i < 0 {
			return nil, bad("the value does not match the qualifier; write e.g. %s", example(from, to))
		}
		parts = append(parts, rest[:i])
		rest = strings.TrimLeft(rest[i+1:], " ")
	}
	leadMax := int64(99)
	if l.Precision > 3 || l.Precision == 0 {
		return nil, errAt(l.At, "interval precision %d of %s is not supported (as in Flink); use 1 to 3", l.Precision, l.From)
	}
	if l.Precision > 0 {
		leadMax = int64(math.Pow10(min(l.Precision, 18))) - 1
	}
	var months, millis int64
	for k, p := range parts {
		unit := order[from+k]
		frac := ""
		if unit == "SECOND" {
			p, frac, _ = strings.Cut(p, ".")
			if len(frac) > 9 {
				return nil, bad("at most 9 fractional digits of SECOND")
			}
		}
		if p == "" || strings.Trim(p, "0123456789") != "" || (frac != "" && strings.Trim(frac, "0123456789") != "") {
			return nil, bad("the value does not match the qualifier; write e.g. %s", example(from, to))
		}
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, bad("%s is out of range", p)
		}
		limit := map[string]int64{"MONTH": 11, "HOUR": 23, "MINUTE": 59, "SECOND": 59}[unit]
		if k == 0 {
			limit = leadMax
		}
		if v > limit {
			if k == 0 {
				return nil, errAt(l.At, "interval field value %d exceeds precision of %s(%d) field; write %s(%d)", v, unit, digits(leadMax), unit, len(p))
			}
			return nil, bad("illegal interval literal: %s field value %d is out of range (0 to %d)", unit, v, limit)
		}
		switch unit {
		case "YEAR":
			months += 12 * v
		case "MONTH":
			months += v
		case "DAY":
			millis += v * 86400000
		case "HOUR":
			millis += v * 3600000
		case "MINUTE":
			millis += v * 60000
		case "SECOND":
			millis += v * 1000
			if frac != "" {
				ms, _ := strconv.Atoi((frac + "000")[:3])
				millis += int64(ms)
			}
		}
	}
	if neg {
		months, millis = -months, -millis
	}
	if from <= 1 {
		return &expr.Literal{Value: int32(months), T: types.INTERVAL_MONTHS.NotNull()}, nil
	}
	return &expr.Literal{Value: millis, T: types.INTERVAL_MILLIS.NotNull()}, nil
}

func qualifier(from, to string) string {
	if to == "" {
		return from
	}
	return from + " TO " + to
}

func example(from, to int) string {
	ex := map[[2]int]string{
		{0, 0}: "INTERVAL '2' YEAR", {0, 1}: "INTERVAL '1-2' YEAR TO MONTH", {1, 1}: "INTERVAL '3' MONTH",
		{2, 2}: "INTERVAL '3' DAY", {2, 3}: "INTERVAL '1 02' DAY TO HOUR", {2, 4}: "INTERVAL '1 02:03' DAY TO MINUTE",
		{2, 5}: "INTERVAL '1 02:03:04.5' DAY TO SECOND", {3, 3}: "INTERVAL '5' HOUR", {3, 4}: "INTERVAL '2:03' HOUR TO MINUTE",
		{3, 5}: "INTERVAL '2:03:04' HOUR TO SECOND", {4, 4}: "INTERVAL '5' MINUTE", {4, 5}: "INTERVAL '3:04' MINUTE TO SECOND",
		{5, 5}: "INTERVAL '5.25' SECOND",
	}
	return ex[[2]int{from, to}]
}

func digits(max int64) int { return len(strconv.FormatInt(max, 10)) }

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}

// ---- arithmetic ----

// temporalBinary plans + and - with a datetime or an interval operand, and
// the comparison of intervals; ok is false when neither operand is one.
func temporalBinary(at sql.Pos, op string, l, r expr.Expr) (e expr.Expr, ok bool, err error) {
	lt, rt := l.Type(), r.Type()
	if !isDatetime(lt) && !isDatetime(rt) && !isInterval(lt) && !isInterval(rt) {
		return nil, false, nil
	}
	nullable := lt.Nullable || rt.Nullable
	switch op {
	case "+", "-":
		if op == "+" && isInterval(lt) && isDatetime(rt) {
			l, r, lt, rt = r, l, rt, lt // INTERVAL '1' DAY + DATE '...'
		}
		name := "DATETIME_PLUS"
		if op == "-" {
			name = "DATETIME_MINUS"
		}
		switch {
		case isDatetime(lt) && isInterval(rt):
			return &expr.Call{Name: name, Args: []expr.Expr{l, r}, T: lt.WithNullable(nullable)}, true, nil
		case isInterval(lt) && lt.Kind == rt.Kind:
			return &expr.Call{Name: name, Args: []expr.Expr{l, r}, T: lt.WithNullable(nullable)}, true, nil
		case isDatetime(lt) && rt.Kind == types.Null, lt.Kind == types.Null && isInterval(rt):
			return &expr.Literal{T: lt.WithNullable(true)}, true, nil
		}
		return nil, true, errAt(at, "cannot apply '%s' to %s and %s; add or subtract an INTERVAL to a DATE, TIME or TIMESTAMP, or use TIMESTAMPDIFF(unit, a, b) or (a - b) unit for a difference", op, lt, rt)
	case "*":
		iv, k := l, r
		if !isInterval(lt) {
			iv, k = r, l
		}
		if !isInterval(iv.Type()) || !k.Type().IsInteger() {
			return nil, true, errAt(at, "cannot apply '*' to %s and %s; an INTERVAL may be multiplied by an integer", lt, rt)
		}
		return &expr.Call{Name: "INTERVAL_TIMES", Args: []expr.Expr{iv, coerce(k, types.BIGINT)}, T: iv.Type().WithNullable(nullable)}, true, nil
	case "=", "<>", "<", "<=", ">", ">=":
		if isInterval(lt) || isInterval(rt) {
			if lt.Kind != rt.Kind && lt.Kind != types.Null && rt.Kind != types.Null {
				return nil, true, errAt(at, "cannot compare %s with %s", lt, rt)
			}
			return &expr.Call{Name: op, Args: []expr.Expr{l, r}, T: types.BOOLEAN.WithNullable(nullable)}, true, nil
		}
	}
	return nil, false, nil
}

// intervalOf plans (a - b) unit [TO unit].
func (b *binder) intervalOf(e *sql.IntervalOf) (expr.Expr, error) {
	sub := e.X.(*sql.Binary)
	l, err := b.bind(sub.L)
	if err != nil {
		return nil, err
	}
	r, err := b.bind(sub.R)
	if err != nil {
		return nil, err
	}
	lt, rt := l.Type(), r.Type()
	ok := func(t types.T) bool {
		return t.Kind == types.Date || t.Kind == types.Timestamp || t.Kind == types.TimestampLTZ
	}
	if !ok(lt) || !ok(rt) || (lt.Kind == types.Date) != (rt.Kind == types.Date) {
		return nil, errAt(e.At, "(a - b) %s needs two DATEs or two TIMESTAMPs, got %s and %s", qualifier(e.From, e.To), lt, rt)
	}
	t := types.INTERVAL_MILLIS
	if e.From == "YEAR" || e.From == "MONTH" {
		t = types.INTERVAL_MONTHS
	}
	return &expr.Call{Name: "INTERVAL_OF", Args: []expr.Expr{strLit(e.From), l, r}, T: t.WithNullable(lt.Nullable || rt.Nullable)}, nil
}

// ---- casts under the session time zone ----

// zoneCast plans a CAST to or from TIMESTAMP_LTZ that depends on the
// session time zone through a TIMESTAMP in that zone; ok is false for the
// other casts.
func (b *binder) zoneCast(at sql.Pos, x expr.Expr, to types.T, try bool) (expr.Expr, bool, error) {
	from := x.Type()
	if (from.Kind == types.TimestampLTZ) == (to.Kind == types.TimestampLTZ) {
		return nil, false, nil
	}
	zone, err := b.zone(at)
	if err != nil {
		return nil, true, err
	}
	nullable := from.Nullable || try
	if from.Kind == types.TimestampLTZ {
		switch {
		case to.IsString(), to.Kind == types.Timestamp, to.Kind == types.Date, to.Kind == types.Time:
			local := &expr.Call{Name: "TO_LOCAL", Args: []expr.Expr{x, zone}, T: types.TIMESTAMP(from.Precision).WithNullable(from.Nullable)}
			return &expr.Cast{X: local, T: to.WithNullable(nullable), Try: try}, true, nil
		}
		return nil, false, nil
	}
	switch {
	case from.IsString(), from.Kind == types.Timestamp, from.Kind == types.Date:
		ts := types.TIMESTAMP(to.Precision).WithNullable(nullable)
		var local expr.Expr = &expr.Cast{X: x, T: ts, Try: try}
		if from.Kind == types.Timestamp && from.Precision == to.Precision {
			local = x
		}
		return &expr.Call{Name: "FROM_LOCAL", Args: []expr.Expr{local, zone}, T: to.WithNullable(nullable)}, true, nil
	}
	return nil, false, nil
}

// ---- the current time ----

// niladic are the functions called without parentheses.
var niladic = map[string]bool{"CURRENT_TIMESTAMP": true, "CURRENT_DATE": true, "CURRENT_TIME": true, "LOCALTIME": true, "LOCALTIMESTAMP": true}

// currentTime returns the value of a current-time function, or ok false.
func (b *binder) currentTime(at sql.Pos, name string) (expr.Expr, bool, error) {
	switch name {
	case "CURRENT_TIMESTAMP", "NOW", "CURRENT_ROW_TIMESTAMP", "LOCALTIMESTAMP", "CURRENT_DATE", "CURRENT_TIME", "LOCALTIME", "UNIX_TIMESTAMP":
	default:
		return nil, false, nil
	}
	zname, err := b.cat.zoneName(at)
	if err != nil {
		return nil, true, err
	}
	if b.cat.streaming {
		// As Flink's streaming mode: read as the rows go by (here once per
		// batch), not once per query.
		_, t := exec.CurrentTime(name, time.Now(), time.UTC)
		return &expr.Call{Name: "CURRENT_TIME_OF", Args: []expr.Expr{strLit(name), strLit(zname)}, T: t}, true, nil
	}
	loc, _ := exec.Zone(zname)
	v, t := exec.CurrentTime(name, b.cat.statementTime(), loc)
	return &expr.Literal{Value: v, T: t}, true, nil
}

// ---- functions ----

// temporalUnits are the units each unit-taking function accepts.
var temporalUnits = map[string]string{
	"EXTRACT":       "MILLENNIUM CENTURY DECADE YEAR QUARTER MONTH WEEK DAY DOY DOW ISODOW ISOYEAR HOUR MINUTE SECOND MILLISECOND MICROSECOND NANOSECOND EPOCH",
	"FLOOR":         "MILLENNIUM CENTURY DECADE YEAR QUARTER MONTH WEEK DAY HOUR MINUTE SECOND MILLISECOND MICROSECOND",
	"TIMESTAMPADD":  "YEAR QUARTER MONTH WEEK DAY HOUR MINUTE SECOND MILLISECOND MICROSECOND",
	"TIMESTAMPDIFF": "YEAR QUARTER MONTH WEEK DAY HOUR MINUTE SECOND MILLISECOND MICROSECOND",
}

// fieldFunctions are the functions that are EXTRACT of a unit.
var fieldFunctions = map[string]string{
	"YEAR": "YEAR", "QUARTER": "QUARTER", "MONTH": "MONTH", "WEEK": "WEEK", "DAYOFYEAR": "DOY",
	"DAYOFMONTH": "DAY", "DAYOFWEEK": "DOW", "HOUR": "HOUR", "MINUTE": "MINUTE", "SECOND": "SECOND",
}

func unitOf(fn string, at sql.Pos, a sql.Expr) (string, error) {
	u, ok := a.(*sql.TimeUnit)
	if !ok {
		return "", errAt(a.Pos(), "%s needs a time unit here (YEAR, MONTH, DAY, HOUR, ...)", fn)
	}
	key := fn
	if key == "CEIL" || key == "CEILING" {
		key = "FLOOR"
	}
	if !strings.Contains(" "+temporalUnits[key]+" ", " "+u.Unit+" ") {
		return "", errAt(u.At, "%s does not take the unit %s; it takes %s", fn, u.Unit, strings.ReplaceAll(temporalUnits[key], " ", ", "))
	}
	return u.Unit, nil
}

// temporalCall plans the temporal functions; ok is false for other names.
func (b *binder) temporalCall(e *sql.FuncCall) (expr.Expr, bool, error) {
	name := strings.ToUpper(e.Name)
	if name == "CEILING" {
		name = "CEIL"
	}
	hasUnit := false
	for _, a := range e.Args {
		if _, ok := a.(*sql.TimeUnit); ok {
			hasUnit = true
		}
	}
	switch name {
	case "EXTRACT", "TIMESTAMPADD", "TIMESTAMPDIFF":
	case "FLOOR", "CEIL":
		if !hasUnit {
			return nil, false, nil
		}
	case "DATE_FORMAT", "TO_TIMESTAMP", "TO_DATE", "UNIX_TIMESTAMP", "FROM_UNIXTIME", "TO_TIMESTAMP_LTZ", "CONVERT_TZ",
		"NOW", "CURRENT_ROW_TIMESTAMP", "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME", "LOCALTIME", "LOCALTIMESTAMP":
	default:
		if _, ok := fieldFunctions[name]; !ok {
			if hasUnit {
				return nil, true, errAt(e.At, "%s does not take a time unit", e.Name)
			}
			return nil, false, nil
		}
	}
	if e.Distinct || e.Star {
		return nil, true, errAt(e.At, "%s takes neither DISTINCT nor *", name)
	}
	// Bind the arguments but the units.
	args := make([]expr.Expr, len(e.Args))
	for i, a := range e.Args {
		if _, ok := a.(*sql.TimeUnit); ok {
			continue
		}
		x, err := b.bind(a)
		if err != nil {
			return nil, true, err
		}
		args[i] = x
	}
	x, err := b.temporalFunc(e, name, args)
	return x, true, err
}

func (b *binder) temporalFunc(e *sql.FuncCall, name string, args []expr.Expr) (expr.Expr, error) {
	nargs := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			want := strconv.Itoa(lo)
			if hi != lo {
				want += " to " + strconv.Itoa(hi)
			}
			return errAt(e.At, "%s takes %s argument(s), got %d", name, want, len(args))
		}
		return nil
	}
	want := func(i int, what string, ok func(types.T) bool) error {
		if t := args[i].Type(); !ok(t) && t.Kind != types.Null {
			return errAt(e.Args[i].Pos(), "%s: argument %d must be %s, got %s", name, i+1, what, t)
		}
		return nil
	}
	anyNullable := func(xs ...expr.Expr) bool {
		for _, x := range xs {
			if x.Type().Nullable {
				return true
			}
		}
		return false
	}
	isStr := func(t types.T) bool { return t.IsString() }
	call := func(fn string, t types.T, xs ...expr.Expr) expr.Expr { return &expr.Call{Name: fn, Args: xs, T: t} }
	switch name {
	case "NOW", "CURRENT_ROW_TIMESTAMP", "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME", "LOCALTIME", "LOCALTIMESTAMP":
		if err := nargs(0, 0); err != nil {
			return nil, err
		}
		x, _, err := b.currentTime(e.At, name)
		return x, err
	case "EXTRACT":
		unit, err := unitOf(name, e.At, e.Args[0])
		if err != nil {
			return nil, err
		}
		return b.extract(e, unit, args[1])
	case "FLOOR", "CEIL":
		if len(args) != 2 {
			return nil, errAt(e.At, "%s(x TO unit) takes one value", name)
		}
		unit, err := unitOf(name, e.At, e.Args[1])
		if err != nil {
			return nil, err
		}
		x := args[0]
		t := x.Type()
		if !isDatetime(t) {
			return nil, errAt(e.Args[0].Pos(), "%s(x TO %s) needs a DATE, TIME or TIMESTAMP, got %s", name, unit, t)
		}
		if t.Kind == types.Time && !unitNanosOK(unit) {
			return nil, errAt(e.At, "%s of a TIME to %s is not supported; use HOUR, MINUTE or SECOND", name, unit)
		}
		fn := "TIME_FLOOR"
		if name == "CEIL" {
			fn = "TIME_CEIL"
		}
		xs := []expr.Expr{x, strLit(unit)}
		if t.Kind == types.TimestampLTZ {
			z, err := b.zone(e.At)
			if err != nil {
				return nil, err
			}
			xs = append(xs, z)
		}
		return call(fn, t, xs...), nil
	case "TIMESTAMPADD":
		if len(args) != 3 {
			return nil, errAt(e.At, "TIMESTAMPADD takes (unit, count, datetime)")
		}
		unit, err := unitOf(name, e.At, e.Args[0])
		if err != nil {
			return nil, err
		}
		if err := want(1, "an integer", types.T.IsInteger); err != nil {
			return nil, err
		}
		if err := want(2, "a DATE, TIME or TIMESTAMP", isDatetime); err != nil {
			return nil, err
		}
		t := args[2].Type()
		if t.Kind == types.Date && unitNanosOK(unit) {
			t = types.TIMESTAMP(6) // a DATE plus hours is a TIMESTAMP, as Flink types it
		}
		n := coerce(args[1], types.BIGINT)
		return call(name, t.WithNullable(anyNullable(args[1], args[2])), strLit(unit), n, args[2]), nil
	case "TIMESTAMPDIFF":
		if len(args) != 3 {
			return nil, errAt(e.At, "TIMESTAMPDIFF takes (unit, datetime, datetime)")
		}
		unit, err := unitOf(name, e.At, e.Args[0])
		if err != nil {
			return nil, err
		}
		okT := func(t types.T) bool {
			return t.Kind == types.Date || t.Kind == types.Timestamp || t.Kind == types.TimestampLTZ
		}
		for i := 1; i <= 2; i++ {
			if err := want(i, "a DATE or TIMESTAMP", okT); err != nil {
				return nil, err
			}
		}
		return call(name, types.INT.WithNullable(anyNullable(args[1], args[2])), strLit(unit), args[1], args[2]), nil
	case "DATE_FORMAT":
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		x := args[0]
		if t := x.Type(); !isStr(t) && t.Kind != types.Null {
			if t.Kind != types.Timestamp && t.Kind != types.TimestampLTZ {
				return nil, errAt(e.Args[0].Pos(), "DATE_FORMAT needs a TIMESTAMP or a STRING, got %s (as in Flink); CAST it to TIMESTAMP", t)
			}
			if x, err := b.toTimestamp(e.At, x); err == nil {
				args[0] = x
			} else {
				return nil, err
			}
		}
		if err := want(1, "a STRING pattern", isStr); err != nil {
			return nil, err
		}
		if err := checkPattern(e.Args[1].Pos(), args[1]); err != nil {
			return nil, err
		}
		return call(name, types.STRING, args...), nil
	case "TO_TIMESTAMP", "TO_DATE":
		if err := nargs(1, 2); err != nil {
			return nil, err
		}
		for i := range args {
			if err := want(i, "a STRING", isStr); err != nil {
				return nil, err
			}
		}
		if len(args) == 2 {
			if err := checkParsePattern(e.Args[1].Pos(), args[1], name == "TO_DATE"); err != nil {
				return nil, err
			}
		}
		t := types.TIMESTAMP(3)
		if name == "TO_DATE" {
			t = types.DATE
		}
		return call(name, t, args...), nil
	case "UNIX_TIMESTAMP":
		if err := nargs(0, 2); err != nil {
			return nil, err
		}
		if len(args) == 0 {
			x, _, err := b.currentTime(e.At, name)
			return x, err
		}
		for i := range args {
			if err := want(i, "a STRING", isStr); err != nil {
				return nil, err
			}
		}
		pat := expr.Expr(strLit("yyyy-MM-dd HH:mm:ss"))
		if len(args) == 2 {
			if err := checkParsePattern(e.Args[1].Pos(), args[1], true); err != nil {
				return nil, err
			}
			pat = args[1]
		}
		z, err := b.zone(e.At)
		if err != nil {
			return nil, err
		}
		return call(name, types.BIGINT.WithNullable(anyNullable(args...)), args[0], pat, z), nil
	case "FROM_UNIXTIME":
		if err := nargs(1, 2); err != nil {
			return nil, err
		}
		if err := want(0, "an integer", types.T.IsInteger); err != nil {
			return nil, err
		}
		pat := expr.Expr(strLit("yyyy-MM-dd HH:mm:ss"))
		if len(args) == 2 {
			if err := want(1, "a STRING pattern", isStr); err != nil {
				return nil, err
			}
			if err := checkPattern(e.Args[1].Pos(), args[1], true); err != nil {
				return nil, err
			}
			pat = args[1]
		}
		z, err := b.zone(e.At)
		if err != nil {
			return nil, err
		}
		return call(name, types.STRING, coerce(args[0], types.BIGINT), pat, z), nil
	case "TO_TIMESTAMP_LTZ":
		if err := nargs(1, 3); err != nil {
			return nil, err
		}
		t := types.TIMESTAMP_LTZ(3)
		if isStr(args[0].Type()) {
			pat := expr.Expr(&expr.Literal{T: types.NULL})
			if len(args) >= 2 {
				if err := want(1, "a STRING pattern", isStr); err != nil {
					return nil, err
				}
				if err := checkParsePattern(e.Args[1].Pos(), args[1], false); err != nil {
					return nil, err
				}
				pat = args[1]
			}
			// As Flink: the string is read in UTC unless a zone is given.
			zone := expr.Expr(strLit("UTC"))
			if len(args) == 3 {
				lit, ok := args[2].(*expr.Literal)
				if !ok || lit.Value == nil {
					return nil, errAt(e.Args[2].Pos(), "TO_TIMESTAMP_LTZ: the time zone must be a constant string")
				}
				if _, err := exec.Zone(lit.Value.(string)); err != nil {
					return nil, errAt(e.Args[2].Pos(), "TO_TIMESTAMP_LTZ: %v", err)
				}
				zone = strLit(lit.Value.(string))
			}
			return call("TO_TIMESTAMP_LTZ_STRING", t, args[0], pat, zone), nil
		}
		if len(args) > 2 {
			return nil, errAt(e.At, "TO_TIMESTAMP_LTZ takes (epoch, precision) or (string [, pattern [, zone]])")
		}
		if err := want(0, "a number or a STRING", types.T.IsNumeric); err != nil {
			return nil, err
		}
		prec := int32(3)
		if len(args) == 2 {
			lit, ok := args[1].(*expr.Literal)
			if !ok || !lit.T.IsInteger() || lit.Value == nil {
				return nil, errAt(e.Args[1].Pos(), "TO_TIMESTAMP_LTZ: the precision must be an integer constant, 0 (seconds) to 9 (nanoseconds)")
			}
			prec = int32(exec.ToInt64(lit.Value))
			if prec < 0 || prec > 9 {
				return nil, errAt(e.Args[1].Pos(), "TO_TIMESTAMP_LTZ: the precision must be from 0 (seconds) to 9 (nanoseconds), got %d", prec)
			}
		}
		t = types.TIMESTAMP_LTZ(max(3, int(prec)))
		x := args[0]
		if x.Type().IsInteger() {
			x = coerce(x, types.BIGINT)
		}
		return call(name, t, x, &expr.Literal{Value: prec, T: types.INT.NotNull()}), nil
	case "CONVERT_TZ":
		if err := nargs(3, 3); err != nil {
			return nil, err
		}
		for i := range args {
			if err := want(i, "a STRING", isStr); err != nil {
				return nil, err
			}
			if i > 0 {
				if lit, ok := args[i].(*expr.Literal); ok && lit.Value != nil {
					if _, err := exec.Zone(lit.Value.(string)); err != nil {
						return nil, errAt(e.Args[i].Pos(), "CONVERT_TZ: %v", err)
					}
				}
			}
		}
		return call(name, types.STRING, args...), nil
	}
	unit := fieldFunctions[name]
	if err := nargs(1, 1); err != nil {
		return nil, err
	}
	return b.extract(e, unit, args[0])
}

func unitNanosOK(unit string) bool {
	switch unit {
	case "HOUR", "MINUTE", "SECOND", "MILLISECOND", "MICROSECOND":
		return true
	}
	return false
}

// extract plans EXTRACT(unit FROM x) and the field functions.
func (b *binder) extract(e *sql.FuncCall, unit string, x expr.Expr) (expr.Expr, error) {
	t := x.Type()
	switch {
	case t.Kind == types.Null:
		return &expr.Literal{T: types.BIGINT}, nil
	case t.Kind == types.Time && !unitNanosOK(unit):
		return nil, errAt(e.At, "cannot extract %s from a TIME", unit)
	case t.Kind == types.IntervalYearMonth && unit != "YEAR" && unit != "MONTH" && unit != "QUARTER":
		return nil, errAt(e.At, "cannot extract %s from %s", unit, t)
	case t.Kind == types.IntervalDayTime && (unit == "YEAR" || unit == "MONTH" || unit == "QUARTER" || unit == "WEEK"):
		return nil, errAt(e.At, "cannot extract %s from %s", unit, t)
	case t.Kind == types.TimestampLTZ:
		var err error
		if x, err = b.toTimestamp(e.At, x); err != nil {
			return nil, err
		}
	case !isDatetime(t) && !isInterval(t):
		return nil, errAt(e.At, "cannot extract %s from %s; EXTRACT needs a DATE, TIME, TIMESTAMP or INTERVAL", unit, t)
	}
	return &expr.Call{Name: "EXTRACT", Args: []expr.Expr{strLit(unit), x}, T: types.BIGINT.WithNullable(t.Nullable)}, nil
}

// toTimestamp turns a TIMESTAMP_LTZ into the TIMESTAMP it is in the session
// zone; other values stay.
func (b *binder) toTimestamp(at sql.Pos, x expr.Expr) (expr.Expr, error) {
	t := x.Type()
	if t.Kind != types.TimestampLTZ {
		return x, nil
	}
	z, err := b.zone(at)
	if err != nil {
		return nil, err
	}
	return &expr.Call{Name: "TO_LOCAL", Args: []expr.Expr{x, z}, T: types.TIMESTAMP(t.Precision).WithNullable(t.Nullable)}, nil
}

// checkParsePattern is checkPattern for the functions that parse strings
// with the pattern: it also refuses fields weir cannot read back.
func checkParsePattern(at sql.Pos, p expr.Expr, simple bool) error {
	if err := checkPattern(at, p, simple); err != nil {
		return err
	}
	lit, ok := p.(*expr.Literal)
	if !ok || lit.Value == nil {
		return nil
	}
	compile := exec.CompilePattern
	if simple {
		compile = exec.CompileSimplePattern
	}
	pat, _ := compile(lit.Value.(string))
	if err := pat.CheckParse(); err != nil {
		return errAt(at, "%v", err)
	}
	return nil
}

// checkPattern refuses a constant date pattern weir cannot read: a
// java.time one, or with simple a java.text.SimpleDateFormat one.
func checkPattern(at sql.Pos, p expr.Expr, simple ...bool) error {
	lit, ok := p.(*expr.Literal)
	if !ok || lit.Value == nil {
		return nil
	}
	s, _ := lit.Value.(string)
	compile := exec.CompilePattern
	if len(simple) > 0 && simple[0] {
		compile = exec.CompileSimplePattern
	}
	if _, err := compile(s); err != nil {
		return errAt(at, "%v", err)
	}
	return nil
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
