package sql

import (
	"reflect"
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/types"
)

func TestIntervalLiterals(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want IntervalLit
	}{
		{"INTERVAL '5' MINUTE", IntervalLit{Text: "5", From: "MINUTE", Precision: -1}},
		{"INTERVAL '1-2' YEAR TO MONTH", IntervalLit{Text: "1-2", From: "YEAR", To: "MONTH", Precision: -1}},
		{"INTERVAL '100' DAY(3)", IntervalLit{Text: "100", From: "DAY", Precision: 3}},
		{"INTERVAL -'1 02:03:04.5' DAY TO SECOND(3)", IntervalLit{Text: "1 02:03:04.5", Neg: true, From: "DAY", To: "SECOND", Precision: -1}},
	} {
		x, err := ParseExpr(tt.src)
		if err != nil {
			t.Fatalf("ParseExpr(%q): %v", tt.src, err)
		}
		got, ok := x.(*IntervalLit)
		if !ok {
			t.Fatalf("ParseExpr(%q) = %T, want *IntervalLit", tt.src, x)
		}
		got.At = Pos{}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("ParseExpr(%q) = %+v, want %+v", tt.src, *got, tt.want)
		}
	}
}

func TestTemporalCallArgs(t *testing.T) {
	for _, tt := range []struct {
		src  string
		name string
		unit string // the TimeUnit argument's unit
		pos  int    // its position among the arguments
		n    int
	}{
		{"EXTRACT(YEAR FROM d)", "EXTRACT", "YEAR", 0, 2},
		{"FLOOR(ts TO HOUR)", "FLOOR", "HOUR", 1, 2},
		{"CEILING(ts TO WEEK)", "CEILING", "WEEK", 1, 2},
		{"TIMESTAMPADD(SQL_TSI_DAY, 1, ts)", "TIMESTAMPADD", "DAY", 0, 3},
		{"TIMESTAMPDIFF(MONTH, a, b)", "TIMESTAMPDIFF", "MONTH", 0, 3},
	} {
		x, err := ParseExpr(tt.src)
		if err != nil {
			t.Fatalf("ParseExpr(%q): %v", tt.src, err)
		}
		c, ok := x.(*FuncCall)
		if !ok || c.Name != tt.name || len(c.Args) != tt.n {
			t.Fatalf("ParseExpr(%q) = %#v, want a call of %s with %d arguments", tt.src, x, tt.name, tt.n)
		}
		if u, ok := c.Args[tt.pos].(*TimeUnit); !ok || u.Unit != tt.unit {
			t.Errorf("ParseExpr(%q): argument %d is %#v, want the unit %s", tt.src, tt.pos, c.Args[tt.pos], tt.unit)
		}
	}
	// FLOOR and CEIL of numbers are ordinary calls.
	x, err := ParseExpr("FLOOR(x)")
	if c, ok := x.(*FuncCall); err != nil || !ok || len(c.Args) != 1 {
		t.Errorf("FLOOR(x) = %#v, %v", x, err)
	}
}

func TestIntervalOf(t *testing.T) {
	x, err := ParseExpr("(a - b) DAY TO SECOND")
	if err != nil {
		t.Fatal(err)
	}
	e, ok := x.(*IntervalOf)
	if !ok || e.From != "DAY" || e.To != "SECOND" {
		t.Fatalf("got %#v, want an IntervalOf DAY TO SECOND", x)
	}
	// Not after other expressions: (a + b) day is an alias.
	stmts, err := Parse("SELECT (a + b) day FROM t")
	if err != nil || len(stmts) != 1 {
		t.Fatalf("Parse: %v", err)
	}
}

func TestIntervalType(t *testing.T) {
	for src, want := range map[string]types.T{
		"INTERVAL DAY":                 types.INTERVAL_MILLIS,
		"INTERVAL DAY(2) TO SECOND(3)": types.INTERVAL_MILLIS,
		"INTERVAL SECOND(3)":           types.INTERVAL_MILLIS,
		"INTERVAL YEAR TO MONTH":       types.INTERVAL_MONTHS,
		"INTERVAL MONTH NOT NULL":      types.INTERVAL_MONTHS.NotNull(),
	} {
		got, err := ParseType(src)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseType(%q) = %v, %v; want %v", src, got, err, want)
		}
		if back, err := ParseType(want.String()); err != nil || !back.Equal(want) {
			t.Errorf("ParseType(%q) = %v, %v", want.String(), back, err)
		}
	}
}

func TestTemporalErrors(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"SELECT INTERVAL 5 MINUTE", "the interval's value as a string"},
		{"SELECT INTERVAL '5' FORTNIGHT", "an interval unit"},
		{"SELECT EXTRACT(YEAR d)", "expected FROM"},
		{"SELECT EXTRACT('YEAR' FROM d)", "a time unit"},
		{"SELECT FLOOR(ts TO)", "a time unit"},
		{"SELECT TIMESTAMPADD(DAY 1, ts)", "expected ','"},
	} {
		_, err := Parse(tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", tt.src, err, tt.want)
		}
	}
}
