package sql

import (
	"strings"

	"github.com/weir-dev/weir/internal/types"
)

// This file parses the temporal forms of Flink SQL: INTERVAL literals,
// EXTRACT(unit FROM x), FLOOR/CEIL(x TO unit), TIMESTAMPADD/TIMESTAMPDIFF
// with a unit keyword, and (a - b) unit.

// IntervalLit is an interval literal: INTERVAL '1-2' YEAR TO MONTH has Text
// "1-2", From "YEAR" and To "MONTH"; INTERVAL '5' MINUTE has To "". Neg is a
// minus sign before the string (INTERVAL -'5' MINUTE). Precision is the
// leading field's precision, as in DAY(3), or -1 when not written.
type IntervalLit struct {
	At        Pos
	Text      string
	Neg       bool
	From, To  string
	Precision int
}

// TimeUnit is a time unit keyword given as a function argument: the YEAR of
// EXTRACT(YEAR FROM x), FLOOR(x TO YEAR) or TIMESTAMPADD(YEAR, 1, x).
type TimeUnit struct {
	At   Pos
	Unit string
}

// IntervalOf is (a - b) unit [TO unit]: the difference of two datetimes as
// an interval of the given units.
type IntervalOf struct {
	At       Pos
	X        Expr
	From, To string
}

func (e *IntervalLit) Pos() Pos { return e.At }
func (e *TimeUnit) Pos() Pos    { return e.At }
func (e *IntervalOf) Pos() Pos  { return e.At }

// intervalUnits are the fields an interval literal's qualifier may name.
var intervalUnits = map[string]bool{"YEAR": true, "MONTH": true, "DAY": true, "HOUR": true, "MINUTE": true, "SECOND": true}

// timeUnitAliases are the SQL_TSI_ spellings TIMESTAMPADD and TIMESTAMPDIFF
// accept, and the plural-free synonyms Calcite takes.
var timeUnitAliases = map[string]string{
	"SQL_TSI_YEAR": "YEAR", "SQL_TSI_QUARTER": "QUARTER", "SQL_TSI_MONTH": "MONTH", "SQL_TSI_WEEK": "WEEK",
	"SQL_TSI_DAY": "DAY", "SQL_TSI_HOUR": "HOUR", "SQL_TSI_MINUTE": "MINUTE", "SQL_TSI_SECOND": "SECOND",
	"SQL_TSI_FRAC_SECOND": "MICROSECOND", "FRAC_SECOND": "MICROSECOND",
}

// parseInterval parses INTERVAL [+|-]'text' unit [(p)] [TO unit [(p)]].
func (p *parser) parseInterval() Expr {
	lit := &IntervalLit{At: p.expectKw("INTERVAL").pos, Precision: -1}
	if p.isOp("-") || p.isOp("+") {
		lit.Neg = p.tok.val == "-"
		p.next()
	}
	if p.tok.kind != tString {
		p.failExpected("the interval's value as a string, e.g. INTERVAL '5' MINUTE")
	}
	lit.Text = p.tok.val
	p.next()
	lit.From = p.parseIntervalUnit()
	lit.Precision = p.parseUnitPrecision()
	if p.acceptKw("TO") {
		lit.To = p.parseIntervalUnit()
		if lit.To == "SECOND" {
			p.parseUnitPrecision()
		}
	}
	return lit
}

// parseIntervalUnit parses one of YEAR, MONTH, DAY, HOUR, MINUTE, SECOND.
func (p *parser) parseIntervalUnit() string {
	if p.tok.kind == tWord && intervalUnits[strings.TrimSuffix(p.tok.val, "S")] && strings.HasSuffix(p.tok.val, "S") {
		// Flink (Calcite) takes the plural too: INTERVAL '10' MINUTES.
		u := strings.TrimSuffix(p.tok.val, "S")
		p.next()
		return u
	}
	if p.tok.kind != tWord || !intervalUnits[p.tok.val] {
		p.failExpected("an interval unit (YEAR, MONTH, DAY, HOUR, MINUTE or SECOND)")
	}
	u := p.tok.val
	p.next()
	return u
}

// parseUnitPrecision parses an optional (p) after an interval unit.
func (p *parser) parseUnitPrecision() int {
	if !p.acceptOp("(") {
		return -1
	}
	if p.tok.kind != tNumber || p.tok.num != LitInteger {
		p.failExpected("a precision")
	}
	n := 0
	for _, c := range p.tok.text {
		n = n*10 + int(c-'0')
		if n > 1000 {
			break
		}
	}
	p.next()
	if p.acceptOp(",") {
		if p.tok.kind != tNumber {
			p.failExpected("a precision")
		}
		p.next()
	}
	p.expectOp(")")
	return n
}

// parseTimeUnit parses a time unit keyword (YEAR, QUARTER, ..., EPOCH) as
// an argument; what names the context for messages.
func (p *parser) parseTimeUnit(what string) *TimeUnit {
	if p.tok.kind != tWord {
		p.failExpected("a time unit (YEAR, QUARTER, MONTH, WEEK, DAY, HOUR, MINUTE, SECOND, ...) " + what)
	}
	u := &TimeUnit{At: p.tok.pos, Unit: p.tok.val}
	if a, ok := timeUnitAliases[u.Unit]; ok {
		u.Unit = a
	}
	p.next()
	return u
}

// parseTemporalArgs parses the arguments of EXTRACT, FLOOR, CEIL,
// TIMESTAMPADD and TIMESTAMPDIFF after '(' when they take a unit keyword;
// ok is false when upper is none of them (or FLOOR and CEIL have no TO).
func (p *parser) parseTemporalArgs(upper string) (args []Expr, ok bool) {
	switch upper {
	case "EXTRACT":
		u := p.parseTimeUnit("before FROM")
		p.expectKw("FROM")
		x := p.parseExpr()
		p.expectOp(")")
		return []Expr{u, x}, true
	case "FLOOR", "CEIL", "CEILING":
		x := p.parseExpr()
		if !p.acceptKw("TO") {
			args = []Expr{x}
			if p.acceptOp(",") {
				args = append(args, p.parseExprList(")")...)
			} else {
				p.expectOp(")")
			}
			return args, true
		}
		u := p.parseTimeUnit("after TO")
		p.expectOp(")")
		return []Expr{x, u}, true
	case "TIMESTAMPADD", "TIMESTAMPDIFF":
		u := p.parseTimeUnit("as the first argument")
		p.expectOp(",")
		return append([]Expr{u}, p.parseExprList(")")...), true
	}
	return nil, false
}

// parseIntervalOf parses the unit [TO unit] after (x) when x is a
// subtraction and a unit follows, as in (a - b) DAY; otherwise it returns x.
func (p *parser) parseIntervalOf(at Pos, x Expr) Expr {
	if b, ok := x.(*Binary); !ok || b.Op != "-" || p.tok.kind != tWord || !intervalUnits[p.tok.val] {
		return x
	}
	e := &IntervalOf{At: at, X: x, From: p.parseIntervalUnit()}
	p.parseUnitPrecision()
	if p.acceptKw("TO") {
		e.To = p.parseIntervalUnit()
		p.parseUnitPrecision()
	}
	return e
}

// IsTimeUnit reports whether s (upper case) is a unit EXTRACT, FLOOR, CEIL,
// TIMESTAMPADD or TIMESTAMPDIFF may name.
func IsTimeUnit(s string) bool {
	switch strings.ToUpper(s) {
	case "MILLENNIUM", "CENTURY", "DECADE", "YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND",
		"MILLISECOND", "MICROSECOND", "NANOSECOND", "DOY", "DOW", "ISODOW", "ISOYEAR", "EPOCH":
		return true
	}
	return false
}

// parseIntervalType parses the rest of INTERVAL unit [(p)] [TO unit [(p)]]
// as a type: INTERVAL MONTH for YEAR and MONTH, else INTERVAL SECOND(3).
func (p *parser) parseIntervalType() types.T {
	from := p.parseIntervalUnit()
	p.parseUnitPrecision()
	if p.acceptKw("TO") {
		p.parseIntervalUnit()
		p.parseUnitPrecision()
	}
	if from == "YEAR" || from == "MONTH" {
		return types.INTERVAL_MONTHS
	}
	return types.INTERVAL_MILLIS
}
