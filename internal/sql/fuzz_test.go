package sql

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkErr fails unless err is nil or a *Error whose position lies within
// the lines of src (a column may be one past the end of its line, where
// input ended).
func checkErr(t *testing.T, what, src string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s(%q) = error %v of type %T, want *sql.Error", what, src, err, err)
	}
	if strings.Contains(e.Msg, "internal parser error") {
		t.Fatalf("%s(%q) = %v", what, src, err)
	}
	checkPos(t, what, src, e.Pos)
}

func checkPos(t *testing.T, what, src string, p Pos) {
	t.Helper()
	lines := strings.Split(src, "\n")
	if p.Line < 1 || p.Line > len(lines) || p.Col < 1 || p.Col > utf8.RuneCountInString(lines[p.Line-1])+1 {
		t.Fatalf("%s(%q): position %v is outside the input", what, src, p)
	}
}

func FuzzParse(f *testing.F) {
	for _, tt := range statementTests {
		f.Add(tt.src)
	}
	for _, tt := range errorTests {
		f.Add(tt.src)
	}
	for _, tt := range exprTests {
		f.Add("SELECT " + tt.src + " FROM t")
	}
	f.Add("-- c\nSET a.b-c = 5s; RESET;\n/* x */ INSERT INTO t SELECT * FROM s, LATERAL TABLE(f(x)) AS T(a) WHERE a IS NOT NULL;")
	f.Fuzz(func(t *testing.T, src string) {
		stmts, err := Parse(src)
		checkErr(t, "Parse", src, err)
		for _, s := range stmts {
			checkPos(t, "Parse", src, s.Pos())
		}
		x, err := ParseExpr(src)
		checkErr(t, "ParseExpr", src, err)
		if err == nil {
			checkPos(t, "ParseExpr", src, x.Pos())
		}
	})
}

func FuzzParseType(f *testing.F) {
	for _, tt := range typeTests {
		f.Add(tt.src)
		f.Add(tt.want.String())
	}
	f.Add("ROW<`a``b` MAP<INT NOT NULL, ARRAY<ROW(x TIMESTAMP(3) WITH LOCAL TIME ZONE 'd')>> NOT NULL>")
	f.Fuzz(func(t *testing.T, src string) {
		typ, err := ParseType(src)
		checkErr(t, "ParseType", src, err)
		if err != nil {
			return
		}
		s := typ.String()
		back, err := ParseType(s)
		if err != nil {
			t.Fatalf("ParseType(%q) = %v, but ParseType(%q) = error %v", src, typ, s, err)
		}
		if !reflect.DeepEqual(back, typ) {
			t.Fatalf("ParseType(%q) = %v, but ParseType(%q) = %v", src, typ, s, back)
		}
	})
}
