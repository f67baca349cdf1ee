package sql

import (
	"errors"
	"github.com/weir-dev/weir/internal/suggest"
	"reflect"
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/types"
)

// statementTests are statements with their rendering by show.
var statementTests = []struct{ src, want string }{
	// CREATE TABLE
	{"CREATE TABLE t (a INT)", "CREATE TABLE t (a INT)"},
	{"create table if not exists cat.db.`my table` (a int not null, `b c` string) with ('connector' = 'datagen', 'rows-per-second' = '5')",
		"CREATE TABLE IF NOT EXISTS cat.db.my table (a INT NOT NULL, b c STRING) WITH ('connector' = 'datagen', 'rows-per-second' = '5')"},
	{"CREATE TEMPORARY TABLE t (a INT COMMENT 'the a', b DECIMAL(5, 2) NULL) COMMENT 'tbl' WITH ()",
		"CREATE TABLE t (a INT, b DECIMAL(5, 2)) WITH ()"},
	{"CREATE TABLE t (constraint INT, watermark STRING, primary BIGINT)", "CREATE TABLE t (constraint INT, watermark STRING, primary BIGINT)"},
	{"CREATE TABLE t (`select` ROW<x INT, y ARRAY<STRING NOT NULL>>) WITH ('k' = 'it''s')",
		"CREATE TABLE t (select ROW<`x` INT, `y` ARRAY<STRING NOT NULL>>) WITH ('k' = 'it''s')"},
	// CREATE FUNCTION
	{"CREATE FUNCTION f AS 'com.example.F'", "CREATE FUNCTION f AS 'com.example.F' LANGUAGE JAVA"},
	{"CREATE TEMPORARY FUNCTION IF NOT EXISTS db.f AS 'udfs.upper' LANGUAGE python",
		"CREATE TEMPORARY FUNCTION IF NOT EXISTS db.f AS 'udfs.upper' LANGUAGE PYTHON"},
	{"create temporary system function split as 'm.split' language Scala",
		"CREATE TEMPORARY SYSTEM FUNCTION split AS 'm.split' LANGUAGE SCALA"},
	// SET and RESET
	{"SET 'parallelism.default' = '4'", "SET 'parallelism.default' = '4'"},
	{"SET table.exec.mini-batch.enabled = true", "SET 'table.exec.mini-batch.enabled' = 'true'"},
	{"SET pipeline.name = my job ", "SET 'pipeline.name' = 'my job'"},
	{"SET a.b = 10 s", "SET 'a.b' = '10 s'"},
	{"SET 'a' = 5s", "SET 'a' = '5s'"},
	{"SET k = 'quoted'", "SET 'k' = 'quoted'"},
	{"SET", "SET '' = ''"},
	{"RESET", "RESET ''"},
	{"RESET 'a.b'", "RESET 'a.b'"},
	{"reset execution.runtime-mode", "RESET 'execution.runtime-mode'"},
	// INSERT
	{"INSERT INTO sink SELECT * FROM src", "INSERT INTO sink SELECT * FROM src"},
	{"INSERT OVERWRITE c.d.sink SELECT a FROM src WHERE b", "INSERT OVERWRITE c.d.sink SELECT a FROM src WHERE b"},
	{"INSERT INTO sink (SELECT a FROM src)", "INSERT INTO sink SELECT a FROM src"},
	{"INSERT INTO sink VALUES (1, 'a'), (2, NULL)", "INSERT INTO sink SELECT * FROM (VALUES (1, 'a'), (2, NULL))"},
	// SELECT
	{"SELECT 1", "SELECT 1"},
	{"SELECT ALL a, t.b AS bb, c cc, `d e` AS `f g`, * FROM t", "SELECT a, t.b AS bb, c AS cc, d e AS f g, * FROM t"},
	{"SELECT t.*, cat.db.t.* FROM cat.db.t AS t", "SELECT t.*, cat.db.t.* FROM cat.db.t AS t"},
	{"SELECT x FROM t u WHERE u.x > 0", "SELECT x FROM t AS u WHERE (u.x > 0)"},
	{"VALUES (1), (2)", "SELECT * FROM (VALUES (1), (2))"},
	{"(SELECT 1)", "SELECT 1"},
	{"SELECT * FROM (VALUES (1, 'a'), (2, NULL)) AS t(a, b)", "SELECT * FROM (VALUES (1, 'a'), (2, NULL)) AS t(a, b)"},
	{"SELECT * FROM (VALUES (1)) v", "SELECT * FROM (VALUES (1)) AS v"},
	{"SELECT a FROM (SELECT a FROM t WHERE a > 1) AS s", "SELECT a FROM (SELECT a FROM t WHERE (a > 1)) AS s"},
	{"SELECT a FROM (SELECT a FROM t) s", "SELECT a FROM (SELECT a FROM t) AS s"},
	// LATERAL TABLE
	{"SELECT s, w FROM t, LATERAL TABLE(split(s)) AS T(w)", "SELECT s, w FROM t CROSS JOIN LATERAL TABLE(split(s)) AS T(w)"},
	{"SELECT * FROM t, LATERAL TABLE(f(x)) T(a, b)", "SELECT * FROM t CROSS JOIN LATERAL TABLE(f(x)) AS T(a, b)"},
	{"SELECT * FROM t, LATERAL TABLE(f(x))", "SELECT * FROM t CROSS JOIN LATERAL TABLE(f(x))"},
	{"SELECT * FROM t CROSS JOIN LATERAL TABLE(f(x)) AS T(a)", "SELECT * FROM t CROSS JOIN LATERAL TABLE(f(x)) AS T(a)"},
	{"SELECT * FROM t JOIN LATERAL TABLE(f(x)) AS T(a) ON TRUE", "SELECT * FROM t CROSS JOIN LATERAL TABLE(f(x)) AS T(a) ON TRUE"},
	{"SELECT * FROM t INNER JOIN LATERAL TABLE(f(x)) AS T(a) ON TRUE", "SELECT * FROM t CROSS JOIN LATERAL TABLE(f(x)) AS T(a) ON TRUE"},
	{"SELECT * FROM t LEFT JOIN LATERAL TABLE(f(x)) AS T(a) ON TRUE", "SELECT * FROM t LEFT JOIN LATERAL TABLE(f(x)) AS T(a) ON TRUE"},
	{"SELECT * FROM t LEFT OUTER JOIN LATERAL TABLE(f(x)) AS T(a) ON a > 1", "SELECT * FROM t LEFT JOIN LATERAL TABLE(f(x)) AS T(a) ON (a > 1)"},
	{"SELECT * FROM t, LATERAL TABLE(f(x)) AS A(a) LEFT JOIN LATERAL TABLE(g(a)) AS B(b) ON TRUE, LATERAL TABLE(h(b)) C",
		"SELECT * FROM t CROSS JOIN LATERAL TABLE(f(x)) AS A(a) LEFT JOIN LATERAL TABLE(g(a)) AS B(b) ON TRUE CROSS JOIN LATERAL TABLE(h(b)) AS C"},
	{"SELECT * FROM t, LATERAL TABLE(udfs.explode(x, 1))", "SELECT * FROM t CROSS JOIN LATERAL TABLE(udfs.explode(x, 1))"},
	{"SELECT a, COUNT(*), COUNT(DISTINCT b), SUM(ALL c) FROM t WHERE a > 1 GROUP BY a, b + 1 HAVING COUNT(*) > 2",
		"SELECT a, COUNT(*), COUNT(DISTINCT b), SUM(c) FROM t WHERE (a > 1) GROUP BY a, (b + 1) HAVING (COUNT(*) > 2)"},
	{"SELECT DISTINCT a FROM t ORDER BY a DESC, b ASC NULLS LAST, 1 NULLS FIRST LIMIT 10 OFFSET 5 ROWS",
		"SELECT DISTINCT a FROM t ORDER BY a DESC, b NULLS LAST, 1 NULLS FIRST LIMIT 10 OFFSET 5"},
	{"SELECT ALL a FROM t ORDER BY a OFFSET 2 ROW FETCH NEXT 3 ROWS ONLY", "SELECT a FROM t ORDER BY a LIMIT 3 OFFSET 2"},
	{"SELECT a FROM t LIMIT ALL", "SELECT a FROM t"},
	{"SELECT a FROM t FETCH FIRST 1 ROW ONLY", "SELECT a FROM t LIMIT 1"},
	{"SELECT x FROM (SELECT a FROM t) AS q(x)", "SELECT x FROM (SELECT a FROM t) AS q(x)"},
	{"SELECT COUNT(*) FILTER (WHERE a > 1), SUM(b) filter FROM t", "SELECT COUNT(*) FILTER (WHERE (a > 1)), SUM(b) AS filter FROM t"},
}

func TestParseStatements(t *testing.T) {
	for _, tt := range statementTests {
		stmts, err := Parse(tt.src)
		if err != nil {
			t.Errorf("Parse(%q) error: %v", tt.src, err)
			continue
		}
		if len(stmts) != 1 {
			t.Errorf("Parse(%q) = %d statements, want 1", tt.src, len(stmts))
			continue
		}
		if got := show(stmts[0]); got != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.src, got, tt.want)
		}
	}
}

func TestParseScript(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{"", nil},
		{" ;; -- nothing\n ; ", nil},
		{"SELECT 1; SELECT 2;", []string{"SELECT 1", "SELECT 2"}},
		{"SET a = b; SET 'c' = 'd'\n;\nRESET a;SELECT 3", []string{"SET 'a' = 'b'", "SET 'c' = 'd'", "RESET 'a'", "SELECT 3"}},
		{"SET a = x;;; SET b = y", []string{"SET 'a' = 'x'", "SET 'b' = 'y'"}},
		{"SET a = 'x;y'; SELECT 1", []string{"SET 'a' = 'x;y'", "SELECT 1"}},
		{"SET a = b -- a comment\n; RESET", []string{"SET 'a' = 'b'", "RESET ''"}},
	}
	for _, tt := range tests {
		stmts, err := Parse(tt.src)
		if err != nil {
			t.Errorf("Parse(%q) error: %v", tt.src, err)
			continue
		}
		var got []string
		for _, s := range stmts {
			got = append(got, show(s))
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

// TestParsePositions checks every position of a multi-line script with
// comments and non-ASCII text, whose columns count runes.
func TestParsePositions(t *testing.T) {
	src := "-- a job\n" + // line 1
		"CREATE TABLE `tä` (\n" + // line 2
		"  a INT, /* first */ b STRING\n" + // line 3
		") WITH ('connector' = 'x');\n" + // line 4
		"CREATE TEMPORARY FUNCTION f AS 'm.f' LANGUAGE PYTHON;\n" + // line 5
		"SET 'k' = 'v'; RESET;\n" + // line 6
		"INSERT INTO `tä`\n" + // line 7
		"SELECT 'é', a + b AS c, *\n" + // line 8
		"FROM s, LATERAL TABLE(f(a)) AS T(x)\n" + // line 9
		"WHERE NOT a IS NULL" // line 10
	want := []Statement{
		&CreateTable{At: Pos{2, 1}, Name: "tä",
			Columns: []ColumnDef{{At: Pos{3, 3}, Name: "a", Type: types.INT}, {At: Pos{3, 22}, Name: "b", Type: types.STRING}},
			Options: []Option{{At: Pos{4, 9}, Key: "connector", Value: "x"}}},
		&CreateFunction{At: Pos{5, 1}, Name: "f", Temporary: true, Path: "m.f", PathAt: Pos{5, 32}, Language: "PYTHON"},
		&Set{At: Pos{6, 1}, Key: "k", Value: "v"},
		&Reset{At: Pos{6, 16}},
		&Insert{At: Pos{7, 1}, Table: "tä", Query: &Select{
			At: Pos{8, 1}, Limit: -1,
			Items: []SelectItem{
				{At: Pos{8, 8}, Expr: &Literal{At: Pos{8, 8}, Kind: LitString, Text: "é"}},
				{At: Pos{8, 13}, Expr: &Binary{At: Pos{8, 13}, Op: "+",
					L: &Ident{At: Pos{8, 13}, Parts: []string{"a"}}, R: &Ident{At: Pos{8, 17}, Parts: []string{"b"}}}, Alias: "c"},
				{At: Pos{8, 25}, Star: true},
			},
			From: &Lateral{At: Pos{9, 9}, Left: &TableRef{At: Pos{9, 6}, Name: "s"},
				Call:  &FuncCall{At: Pos{9, 23}, Name: "f", Args: []Expr{&Ident{At: Pos{9, 25}, Parts: []string{"a"}}}},
				Alias: "T", Columns: []string{"x"}},
			Where: &Unary{At: Pos{10, 7}, Op: "NOT", X: &IsNull{At: Pos{10, 11}, X: &Ident{At: Pos{10, 11}, Parts: []string{"a"}}}},
		}},
	}
	got, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse error: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("Parse = %d statements, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("Parse statement %d = %#v, want %#v", i, got[i], want[i])
		}
	}
	if p := got[4].(*Insert).Query.Pos(); p != (Pos{8, 1}) {
		t.Errorf("Insert query Pos() = %v, want line 8, column 1", p)
	}
}

func TestExprPositions(t *testing.T) {
	tests := []struct {
		src  string
		want Pos
	}{
		{"a + b", Pos{1, 1}},
		{"  -a", Pos{1, 3}},
		{"(a) * b", Pos{1, 2}},
		{"x\n  IS NOT NULL", Pos{1, 1}},
		{"CAST(a AS INT)", Pos{1, 1}},
		{"\n\tf(x)", Pos{2, 2}},
		{"\r\n x BETWEEN 1 AND 2", Pos{2, 2}},
		{"'ü' || 'ö'", Pos{1, 1}},
	}
	for _, tt := range tests {
		x, err := ParseExpr(tt.src)
		if err != nil {
			t.Errorf("ParseExpr(%q) error: %v", tt.src, err)
			continue
		}
		if got := x.Pos(); got != tt.want {
			t.Errorf("ParseExpr(%q).Pos() = %v, want %v", tt.src, got, tt.want)
		}
	}
	c, _ := ParseExpr("CAST(a AS\n  DECIMAL(3, 1))")
	if got := c.(*Cast).TypeAt; got != (Pos{2, 3}) {
		t.Errorf("Cast.TypeAt = %v, want line 2, column 3", got)
	}
	x, _ := ParseExpr("'日本' || x")
	if got := x.(*Binary).R.Pos(); got != (Pos{1, 9}) {
		t.Errorf("position after non-ASCII string = %v, want line 1, column 9", got)
	}
}

// exprTests are expressions with their fully parenthesised rendering.
var exprTests = []struct{ src, want string }{
	// Precedence, lowest to highest.
	{"a OR b AND c", "(a OR (b AND c))"},
	{"a AND b OR c", "((a AND b) OR c)"},
	{"NOT a AND b", "((NOT a) AND b)"},
	{"NOT a = b", "(NOT (a = b))"},
	{"NOT NOT a", "(NOT (NOT a))"},
	{"a = b AND c <> d", "((a = b) AND (c <> d))"},
	{"a || b = c", "((a || b) = c)"},
	{"a + b || c", "((a + b) || c)"},
	{"a || b + c", "(a || (b + c))"},
	{"a + b * c", "(a + (b * c))"},
	{"a * b + c", "((a * b) + c)"},
	{"a - b - c", "((a - b) - c)"},
	{"a / b % c * d", "(((a / b) % c) * d)"},
	{"-a * b", "((-a) * b)"},
	{"- -a", "(-(-a))"},
	{"+a", "(+a)"},
	{"-(a + b)", "(-(a + b))"},
	{"(a + b) * c", "((a + b) * c)"},
	{"a = b = c", "((a = b) = c)"},
	{"a != b", "(a <> b)"},
	{"a < b OR a <= b OR a > b OR a >= b", "((((a < b) OR (a <= b)) OR (a > b)) OR (a >= b))"},
	{"a + 1 > b * 2 AND NOT c IS NULL", "(((a + 1) > (b * 2)) AND (NOT (c IS NULL)))"},
	// IS, BETWEEN, IN, LIKE.
	{"a IS NULL", "(a IS NULL)"},
	{"a IS NOT NULL", "(a IS NOT NULL)"},
	{"a IS UNKNOWN", "(a IS NULL)"},
	{"a = b IS TRUE", "((a = b) IS TRUE)"},
	{"a IS NOT FALSE", "(a IS NOT FALSE)"},
	{"a + 1 IS NULL", "((a + 1) IS NULL)"},
	{"a BETWEEN 1 AND 2 AND b", "((a BETWEEN 1 AND 2) AND b)"},
	{"a NOT BETWEEN b + 1 AND c * 2", "(a NOT BETWEEN (b + 1) AND (c * 2))"},
	{"a BETWEEN ASYMMETRIC 1 AND 2", "(a BETWEEN 1 AND 2)"},
	{"a IN (1, 2, 3)", "(a IN (1, 2, 3))"},
	{"a NOT IN ('x')", "(a NOT IN ('x'))"},
	{"a || 'x' LIKE 'a%'", "((a || 'x') LIKE 'a%')"},
	{"a NOT LIKE b OR c", "((a NOT LIKE b) OR c)"},
	{"a LIKE b ESCAPE '!' AND c", "((a LIKE b ESCAPE '!') AND c)"},
	{"a NOT SIMILAR TO 'x|y'", "(a NOT SIMILAR TO 'x|y')"},
	{"a IS NOT DISTINCT FROM b + 1", "(a IS NOT DISTINCT FROM (b + 1))"},
	{"-a[1][k + 1]", "(-ITEM(ITEM(a, 1), (k + 1)))"},
	{"j IS NOT JSON OBJECT", "(NOT IS JSON(j, 'OBJECT'))"},
	// Literals.
	{"42", "42"},
	{"1.50", "1.50"},
	{".5", ".5"},
	{"1e3 + 1.5E-2 + 2e+1", "((1e3 + 1.5E-2) + 2e+1)"},
	{"'it''s'", "'it''s'"},
	{"''", "''"},
	{"true OR False", "(TRUE OR FALSE)"},
	{"null", "NULL"},
	{"X'0AFF' || x''", "(X'0AFF' || X'')"},
	{"DATE '2020-01-01'", "DATE '2020-01-01'"},
	{"TIME '12:00:00'", "TIME '12:00:00'"},
	{"timestamp '2020-01-01 12:00:00.123'", "TIMESTAMP '2020-01-01 12:00:00.123'"},
	{"TIMESTAMP_LTZ '2020-01-01 00:00:00'", "TIMESTAMP_LTZ '2020-01-01 00:00:00'"},
	// Names.
	{"a", "a"},
	{"t.a", "t.a"},
	{"`weird name`.`x``y`", "weird name.x`y"},
	{"t.`from`", "t.from"},
	{"date + time", "(date + time)"},
	// Calls and special forms.
	{"f()", "f()"},
	{"UPPER(a) || lower(b)", "(UPPER(a) || lower(b))"},
	{"cat.db.f(a, b + 1)", "cat.db.f(a, (b + 1))"},
	{"`my f`(1)", "my f(1)"},
	{"SUBSTRING(s FROM 2 FOR 3)", "SUBSTRING(s, 2, 3)"},
	{"substring(s from 2)", "substring(s, 2)"},
	{"SUBSTRING(s, 2, 3)", "SUBSTRING(s, 2, 3)"},
	{"TRIM(s)", "TRIM(s)"},
	{"TRIM(BOTH 'x' FROM s)", "TRIM('BOTH', 'x', s)"},
	{"TRIM(LEADING FROM s)", "TRIM('LEADING', ' ', s)"},
	{"trim(trailing 'ab' from s)", "trim('TRAILING', 'ab', s)"},
	{"TRIM('x' FROM s)", "TRIM('BOTH', 'x', s)"},
	{"CHAR_LENGTH(s)", "CHAR_LENGTH(s)"},
	{"POSITION('a' IN s)", "POSITION('a', s)"},
	{"LEFT(s, 2) || RIGHT(s, 1)", "(LEFT(s, 2) || RIGHT(s, 1))"},
	{"ARRAY[1, 2]", "ARRAY(1, 2)"},
	{"MAP['k', 1]", "MAP('k', 1)"},
	{"ROW(a, 1)", "ROW(a, 1)"},
	{"CAST(a AS BIGINT)", "CAST(a AS BIGINT)"},
	{"CAST(a AS DECIMAL(5, 2) NOT NULL) + 1", "(CAST(a AS DECIMAL(5, 2) NOT NULL) + 1)"},
	{"TRY_CAST(a AS ARRAY<INT>)", "TRY_CAST(a AS ARRAY<INT>)"},
	{"try_cast + 1", "(try_cast + 1)"},
	{"CASE WHEN a > 1 THEN 'x' WHEN a < 0 THEN 'y' ELSE 'z' END", "CASE WHEN (a > 1) THEN 'x' WHEN (a < 0) THEN 'y' ELSE 'z' END"},
	{"CASE a WHEN 1 THEN 'one' END", "CASE a WHEN 1 THEN 'one' END"},
	{"CASE WHEN a THEN b END IS NULL", "(CASE WHEN a THEN b END IS NULL)"},
}

func TestParseExpr(t *testing.T) {
	for _, tt := range exprTests {
		x, err := ParseExpr(tt.src)
		if err != nil {
			t.Errorf("ParseExpr(%q) error: %v", tt.src, err)
			continue
		}
		if got := show(x); got != tt.want {
			t.Errorf("ParseExpr(%q) = %s, want %s", tt.src, got, tt.want)
		}
	}
}

func TestLiteralKinds(t *testing.T) {
	tests := []struct {
		src  string
		kind LitKind
		text string
	}{
		{"42", LitInteger, "42"},
		{"007", LitInteger, "007"},
		{"1.50", LitDecimal, "1.50"},
		{"1.", LitDecimal, "1."},
		{"1e3", LitFloat, "1e3"},
		{"1.5E-2", LitFloat, "1.5E-2"},
		{"'it''s'", LitString, "it's"},
		{"'two\nlines'", LitString, "two\nlines"},
		{"TRUE", LitBool, "TRUE"},
		{"false", LitBool, "FALSE"},
		{"NULL", LitNull, "NULL"},
		{"X'0AFF'", LitBinary, "0AFF"},
		{"x'ab'", LitBinary, "ab"},
		{"DATE '2020-01-01'", LitDate, "2020-01-01"},
		{"TIME '12:00:00'", LitTime, "12:00:00"},
		{"TIMESTAMP '2020-01-01 12:00:00.123'", LitTimestamp, "2020-01-01 12:00:00.123"},
		{"TIMESTAMP_LTZ '2020-01-01 12:00:00'", LitTimestampLTZ, "2020-01-01 12:00:00"},
	}
	for _, tt := range tests {
		x, err := ParseExpr(tt.src)
		if err != nil {
			t.Errorf("ParseExpr(%q) error: %v", tt.src, err)
			continue
		}
		lit, ok := x.(*Literal)
		if !ok || lit.Kind != tt.kind || lit.Text != tt.text {
			t.Errorf("ParseExpr(%q) = %#v, want Literal{Kind: %v, Text: %q}", tt.src, x, tt.kind, tt.text)
		}
	}
}

func TestComments(t *testing.T) {
	tests := []struct{ src, want string }{
		{"SELECT a -- the a\nFROM t", "SELECT a FROM t"},
		{"SELECT /* inline */ a FROM t", "SELECT a FROM t"},
		{"SELECT a /* multi\nline\ncomment */ FROM t -- trailing", "SELECT a FROM t"},
		{"SELECT a/**/FROM t", "SELECT a FROM t"},
		{"SELECT a--b\n FROM t", "SELECT a FROM t"},
		{"SELECT '--not a comment', '/* nor this */'", "SELECT '--not a comment', '/* nor this */'"},
		{"SELECT 1 /* a /* not nested */", "SELECT 1"},
		{"SELECT 4 - -1", "SELECT (4 - (-1))"},
		{"SELECT 4/ *a", "<parse error>"},
	}
	for _, tt := range tests {
		stmts, err := Parse(tt.src)
		got := "<parse error>"
		if err == nil && len(stmts) == 1 {
			got = show(stmts[0])
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %s (error %v), want %s", tt.src, got, err, tt.want)
		}
	}
}

func TestQuotedIdentifiers(t *testing.T) {
	tests := []struct {
		src   string
		parts []string
	}{
		{"`a`", []string{"a"}},
		{"`weird name`", []string{"weird name"}},
		{"`back``tick`", []string{"back`tick"}},
		{"`SELECT`", []string{"SELECT"}},
		{"`t`.`a.b`", []string{"t", "a.b"}},
		{"MixedCase.Col", []string{"MixedCase", "Col"}},
		{"`日本`", []string{"日本"}},
		{"naïve_col$1", []string{"naïve_col$1"}},
	}
	for _, tt := range tests {
		x, err := ParseExpr(tt.src)
		if err != nil {
			t.Errorf("ParseExpr(%q) error: %v", tt.src, err)
			continue
		}
		id, ok := x.(*Ident)
		if !ok || !reflect.DeepEqual(id.Parts, tt.parts) {
			t.Errorf("ParseExpr(%q) = %#v, want Ident with parts %q", tt.src, x, tt.parts)
		}
	}
}

// typeTests are type spellings with the types they denote.
var typeTests = []struct {
	src  string
	want types.T
}{
	{"TINYINT", types.TINYINT},
	{"SMALLINT", types.SMALLINT},
	{"INT", types.INT},
	{"integer", types.INT},
	{"BIGINT NOT NULL", types.BIGINT.NotNull()},
	{"BOOLEAN NULL", types.BOOLEAN},
	{"FLOAT", types.FLOAT},
	{"DOUBLE", types.DOUBLE},
	{"DOUBLE PRECISION NOT NULL", types.DOUBLE.NotNull()},
	{"DECIMAL", types.DECIMAL(10, 0)},
	{"DECIMAL(5)", types.DECIMAL(5, 0)},
	{"DEC(38, 38)", types.DECIMAL(38, 38)},
	{"NUMERIC(1, 0)", types.DECIMAL(1, 0)},
	{"CHAR", types.CHAR(1)},
	{"CHAR(10)", types.CHAR(10)},
	{"VARCHAR", types.VARCHAR(1)},
	{"VARCHAR(2147483647)", types.STRING},
	{"STRING", types.STRING},
	{"BINARY", types.BINARY(1)},
	{"BINARY(16)", types.BINARY(16)},
	{"VARBINARY", types.VARBINARY(1)},
	{"VARBINARY(100)", types.VARBINARY(100)},
	{"BYTES", types.BYTES},
	{"DATE", types.DATE},
	{"TIME", types.TIME(0)},
	{"TIME(3)", types.TIME(3)},
	{"TIME(9) WITHOUT TIME ZONE", types.TIME(9)},
	{"TIMESTAMP", types.TIMESTAMP(6)},
	{"TIMESTAMP(3)", types.TIMESTAMP(3)},
	{"TIMESTAMP(0) WITHOUT TIME ZONE NOT NULL", types.TIMESTAMP(0).NotNull()},
	{"TIMESTAMP WITH LOCAL TIME ZONE", types.TIMESTAMP_LTZ(6)},
	{"TIMESTAMP(3) WITH LOCAL TIME ZONE", types.TIMESTAMP_LTZ(3)},
	{"TIMESTAMP_LTZ", types.TIMESTAMP_LTZ(6)},
	{"timestamp_ltz(9) not null", types.TIMESTAMP_LTZ(9).NotNull()},
	{"ARRAY<INT>", types.ARRAY(types.INT)},
	{"ARRAY<INT NOT NULL> NOT NULL", types.ARRAY(types.INT.NotNull()).NotNull()},
	{"ARRAY<ARRAY<STRING>>", types.ARRAY(types.ARRAY(types.STRING))},
	{"MAP<STRING, BIGINT>", types.MAP(types.STRING, types.BIGINT)},
	{"MAP<STRING NOT NULL, ARRAY<DOUBLE NOT NULL>>", types.MAP(types.STRING.NotNull(), types.ARRAY(types.DOUBLE.NotNull()))},
	{"ROW<a INT>", types.ROW(types.Field{Name: "a", Type: types.INT})},
	{"ROW<`a` INT, b ARRAY<STRING NOT NULL>>", types.ROW(
		types.Field{Name: "a", Type: types.INT},
		types.Field{Name: "b", Type: types.ARRAY(types.STRING.NotNull())})},
	{"ROW(`a b` INT NOT NULL 'the a', `c``d` ROW<e BOOLEAN> 'nested') NOT NULL", types.ROW(
		types.Field{Name: "a b", Type: types.INT.NotNull()},
		types.Field{Name: "c`d", Type: types.ROW(types.Field{Name: "e", Type: types.BOOLEAN})}).NotNull()},
	{"ROW<Mixed INT, mixed INT>", types.ROW(types.Field{Name: "Mixed", Type: types.INT}, types.Field{Name: "mixed", Type: types.INT})},
	{"NULL", types.NULL},
}

func TestParseType(t *testing.T) {
	for _, tt := range typeTests {
		got, err := ParseType(tt.src)
		if err != nil {
			t.Errorf("ParseType(%q) error: %v", tt.src, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseType(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
}

// TestTypeRoundTrip checks that ParseType reads back what T.String writes,
// for every type and at every nesting level.
func TestTypeRoundTrip(t *testing.T) {
	var all []types.T
	for _, tt := range typeTests {
		all = append(all, tt.want)
		if tt.want.Kind != types.Null { // the NULL type is always nullable
			all = append(all, tt.want.NotNull())
		}
	}
	all = append(all,
		types.ARRAY(types.ROW(types.Field{Name: "x", Type: types.MAP(types.STRING.NotNull(), types.TIMESTAMP_LTZ(3).NotNull())})),
		types.ROW(
			types.Field{Name: "weird `name`", Type: types.ARRAY(types.ARRAY(types.DECIMAL(12, 4).NotNull()).NotNull())},
			types.Field{Name: "SELECT", Type: types.VARBINARY(7).NotNull()},
			types.Field{Name: "日本", Type: types.CHAR(3)}).NotNull(),
		types.MAP(types.ROW(types.Field{Name: "k", Type: types.TIME(2)}), types.NULL),
	)
	for _, want := range all {
		s := want.String()
		got, err := ParseType(s)
		if err != nil {
			t.Errorf("ParseType(%q) error: %v", s, err)
			continue
		}
		if !reflect.DeepEqual(got, want) || !got.Equal(want) {
			t.Errorf("ParseType(%q) = %v, want %v", s, got, want)
		}
	}
}

// errorTests are bad inputs with the exact position of their error and a
// part of its message.
var errorTests = []struct {
	src       string
	line, col int
	msg       string
}{
	{"SELECT a\nFROM t\nWHERE CAST(x AS INT FROM t", 3, 21, "expected ')' but found 'FROM'"},
	{"SELECT 1 +", 1, 11, "unexpected end of input: expected an expression after '+'"},
	{"SELECT 1 +\n\n  ", 1, 11, "unexpected end of input: expected an expression after '+'"},
	{"SELECT 'abc", 1, 8, "unterminated string literal (started here)"},
	{"SELECT a,\n  `abc FROM t", 2, 3, "unterminated quoted identifier (started here)"},
	{"SELECT 1 /* oops\n*", 1, 10, "unterminated comment (started here)"},
	{"CREATE TABLE t (\n  a INTT\n)", 2, 5, "unknown type 'INTT'; did you mean INT?"},
	{"CREATE TABLE t (a VARCHR(3))", 1, 19, "did you mean VARCHAR?"},
	{"CREATE TABLE t (a BOOL)", 1, 19, "unknown type 'BOOL'; did you mean BOOLEAN?"},
	{"CREATE TABLE t (a FOO)", 1, 19, "expected a type such as INT"},
	{"CREATE TABLE t (a DECIMAL(40, 2))", 1, 27, "DECIMAL precision must be between 1 and 38, got 40"},
	{"CREATE TABLE t (a DECIMAL(5, 6))", 1, 30, "DECIMAL scale must be between 0 and 5 (the precision 5), got 6"},
	{"CREATE TABLE t (a DECIMAL(0))", 1, 27, "between 1 and 38, got 0"},
	{"CREATE TABLE t (a VARCHAR(0))", 1, 27, "VARCHAR length must be between 1 and 2147483647, got 0"},
	{"CREATE TABLE t (a CHAR(99999999999999999999))", 1, 24, "CHAR length must be between 1 and 2147483647, got 99999999999999999999"},
	{"CREATE TABLE t (a TIMESTAMP(10))", 1, 29, "TIMESTAMP precision must be between 0 and 9, got 10"},
	{"CREATE TABLE t (a TIME(-1))", 1, 24, "TIME precision must be between 0 and 9, got -1"},
	{"CREATE TABLE t (a TIMESTAMP_LTZ(1.5))", 1, 33, "expected the TIMESTAMP_LTZ precision (an integer) but found '1.5'"},
	{"CREATE TABLE t (a TIMESTAMP WITH TIME ZONE)", 1, 29, "TIMESTAMP WITH TIME ZONE is not supported"},
	{"CREATE TABLE t (a STRING(10))", 1, 25, "STRING takes no parameters; use VARCHAR(n)"},
	{"CREATE TABLE t (a ROW<>)", 1, 22, "ROW needs at least one field"},
	{"CREATE TABLE t (a ROW<x INT, x STRING>)", 1, 30, "duplicate field name 'x'"},
	{"CREATE TABLE t (a ARRAY<INT)", 1, 28, "expected '>' but found ')'"},
	{"CREATE TABLE t (a INT NOT 1)", 1, 27, "expected NULL after NOT but found '1'"},
	{"CREATE TABLE t (from INT)", 1, 17, "reserved word 'from'; quote it with backticks (`from`)"},
	{"CREATE TABLE t (a INT,\n  PRIMARY KEY (a) NOT ENFORCED)", 2, 3, "PRIMARY KEY are not supported"},
	{"CREATE TABLE t (a INT, CONSTRAINT pk PRIMARY KEY (a) NOT ENFORCED)", 1, 24, "PRIMARY KEY are not supported"},
	{"CREATE TABLE t (a INT, WATERMARK FOR a AS a, WATERMARK FOR a AS a)", 1, 46, "at most one WATERMARK"},
	{"SELECT * FROM TABLE(TUMBLE(TABLE t PARTITION BY k, DESCRIPTOR(ts), INTERVAL '1' MINUTE))", 1, 36, "TUMBLE takes no PARTITION BY"},
	{"SELECT * FROM TABLE(TUMBLE(t, DESCRIPTOR(ts), INTERVAL '1' MINUTE))", 1, 28, "TABLE name as the first argument of TUMBLE"},
	{"CREATE TABLE t (a AS b + 1)", 1, 19, "computed columns"},
	{"CREATE TABLE t (a INT, pt AS PROCTIME(1))", 1, 39, "expected ')'"},
	{"CREATE TABLE t (a INT) WITH (connector = 'x')", 1, 30, "option keys must be quoted strings: write 'connector' = '...'"},
	{"CREATE TABLE t (a INT) WITH ('n' = 5)", 1, 36, "option values must be quoted strings: write 'n' = '5'"},
	{"CREATE TABLE t (a INT) WITH ('k' = 'a', 'k' = 'b')", 1, 41, "option 'k' is set twice (first at line 1, column 30)"},
	{"CREATE TABLE t (a INT) WITH ('k' = 'a' 'b' = 'c')", 1, 40, "expected ',' but found string ''b''"},
	{"CREATE TABLE t (a ROW<INT>)", 1, 23, "ROW field 'INT' has no type"},
	{"CREATE TABLE t (a INT", 1, 22, "unexpected end of input: expected ',' or ')' after 'INT'"},
	{"SELECT a\x00", 1, 9, "unexpected character U+0000"},
	{"SELECT \xff", 1, 8, "invalid UTF-8 byte 0xFF"},
	{"CREATE TABLE t ()", 1, 17, "expected a column name but found ')'"},
	{"CREATE VIEW v SELECT 1", 1, 15, "AS"},
	{"CREATE TABEL t (a INT)", 1, 8, "did you mean TABLE?"},
	{"CREATE SYSTEM FUNCTION f AS 'x'", 1, 8, "a SYSTEM function must be TEMPORARY"},
	{"CREATE TEMPORARY SYSTEM FUNCTION db.f AS 'x'", 1, 34, "cannot have a qualified name"},
	{"CREATE FUNCTION f AS m.f", 1, 22, "expected the function's implementation as a string"},
	{"CREATE FUNCTION f AS ''", 1, 22, "must not be empty"},
	{"CREATE FUNCTION f AS 'm.f' LANGUAGE PYTON", 1, 37, "did you mean PYTHON?"},
	{"SELEC 1", 1, 1, "expected a statement (CREATE, INSERT, SELECT, SET or RESET) but found 'SELEC'; did you mean SELECT?"},
	{"DROP TABLE t", 1, 1, "DROP statements are not supported"},
	{"SELECT a FORM t", 1, 10, "did you mean FROM? 'FORM' reads as an alias here"},
	{"SELECT a, FROM t", 1, 11, "expected an expression but found 'FROM'"},
	{"SELECT a FROM t ORDER BY a GROUP BY a", 1, 28, "GROUP BY cannot come here"},
	{"SELECT a FROM t\nLIMIT 1 ORDER BY a", 2, 9, "ORDER BY cannot come here"},
	{"SELECT a FROM t LIMIT 1.5", 1, 23, "LIMIT needs a non-negative integer row count, got 1.5"},
	{"SELECT a FROM t LIMIT -1", 1, 23, "expected a row count after LIMIT"},
	{"SELECT a FROM t ORDER BY a NULLS", 1, 33, "expected FIRST or LAST after NULLS"},
	{"SELECT a FROM t OFFSET 1 FETCH FIRST 2 ROWS", 1, 44, "expected ONLY"},
	{"SELECT a FROM t x y", 1, 19, "expected ';' or the end of the statement but found 'y'"},
	{"SELECT a FROM t, u ON TRUE", 1, 20, "takes no ON condition"},
	{"SELECT a FROM t JOIN u", 1, 23, "ON after INNER JOIN"},
	{"SELECT a FROM t FULL JOIN u USING (a)", 1, 29, "ON after FULL JOIN"},
	{"SELECT a FROM t NATURAL JOIN u", 1, 17, "NATURAL joins are not supported"},
	{"SELECT a FROM t LEFT JOIN LATERAL TABLE(f(a)) AS T(b)", 1, 54, "unexpected end of input: expected ON after JOIN LATERAL TABLE(...)"},
	{"SELECT a FROM t, LATERAL TABLE(f(a)) ON TRUE", 1, 38, "takes no ON condition"},
	{"SELECT a FROM t, LATERAL TABLE(a + 1)", 1, 32, "needs a table function call"},
	{"SELECT * FROM (VALUES (1, 2), (3)) AS t(a, b)", 1, 31, "this VALUES row has 1 values but the first row has 2"},
	{"SELECT * FROM (VALUES (1, 2)) AS t(a)", 1, 35, "t(...) names 1 columns but the VALUES rows have 2 values"},
	{"SELECT (SELECT 1", 1, 17, "')'"},
	{"SELECT EXISTS SELECT 1", 1, 15, "'('"},
	{"SELECT f(*, 1) FROM t", 1, 10, "'*' is allowed only as a select item"},
	{"SELECT a IS 1", 1, 13, "expected NULL, TRUE or FALSE after IS but found '1'"},
	{"SELECT CASE END", 1, 13, "expected WHEN but found 'END'"},
	{"SELECT CASE WHEN a THEN b", 1, 26, "unexpected end of input: expected WHEN, ELSE or END after 'b'"},
	{"SELECT a BETWEEN 1 OR 2", 1, 20, "expected AND but found 'OR'"},
	{"SELECT \"a\" FROM t", 1, 8, "unexpected character '\"'; quote identifiers with backticks"},
	{"SELECT a | b", 1, 10, "did you mean '||'"},
	{"SELECT 12abc", 1, 8, "malformed number '12abc'"},
	{"SELECT 1e", 1, 8, "malformed number '1e'"},
	{"SELECT X'ABC'", 1, 8, "odd number of hexadecimal digits"},
	{"SELECT X'XY'", 1, 8, "may contain only hexadecimal digits"},
	{"SELECT ``", 1, 8, "empty quoted identifier"},
	{"SELECT /*+ OPTIONS('a'='b') */ 1", 1, 8, "SQL hints"},
	{"SELECT INTERVAL '1' FORTNIGHT", 1, 21, "expected an interval unit"},
	{"SELECT a LIKE 'x' ESCAPE", 1, 25, "expected an expression"},
	{"SELECT a IS DISTINCT b", 1, 22, "expected FROM"},
	{"SELECT OVERLAY(a, b)", 1, 17, "expected PLACING"},
	{"SELECT JSON_VALUE(j, '$' RETURNING INT ERROR ON NOTHING)", 1, 49, "expected EMPTY or ERROR"},
	{"SELECT TRIM(LEADING x)", 1, 22, "expected FROM but found ')'"},
	{"SELECT POSITION(a, b)", 1, 18, "expected IN but found ','"},
	{"INSERT sink SELECT 1", 1, 8, "expected INTO or OVERWRITE after INSERT but found 'sink'"},
	{"INSERT INTO sink (a, b) SELECT 1, 2", 1, 18, "column lists in INSERT are not supported"},
	{"INSERT INTO sink", 1, 17, "unexpected end of input: expected a query (SELECT or VALUES) after 'sink'"},
	{"SET a b = c", 1, 7, "unquoted configuration keys cannot contain spaces or comments; quote the key: 'a b'"},
	{"SET a = ", 1, 8, "unexpected end of input: expected a value after '='"},
	{"SET a", 1, 6, "unexpected end of input: expected '=' after 'a'"},
	{"SET a = 'unterminated", 1, 9, "unterminated string literal"},
	{"SET = b", 1, 5, "expected a configuration key but found '='"},
	{"SELECT 1;\nSELECT 2\nSELECT 3", 3, 1, "expected ';' or the end of the statement but found 'SELECT'"},
	{"WITH x SELECT 1", 1, 8, "AS"},
	{"SELECT a FROM t WHERE", 1, 22, "unexpected end of input: expected an expression after 'WHERE'"},
	{"SELECT t.", 1, 10, "unexpected end of input: expected a name after '.'"},
}

func TestErrors(t *testing.T) {
	for _, tt := range errorTests {
		_, err := Parse(tt.src)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = error %v, want a *sql.Error", tt.src, err)
			continue
		}
		if e.Pos != (Pos{tt.line, tt.col}) || !strings.Contains(e.Msg, tt.msg) {
			t.Errorf("Parse(%q) = error %q,\n\twant at line %d, column %d: ...%s...", tt.src, err, tt.line, tt.col, tt.msg)
		}
	}
}

func TestTypeAndExprErrors(t *testing.T) {
	tests := []struct {
		name      string
		parse     func(string) error
		src       string
		line, col int
		msg       string
	}{
		{"ParseType", typeErr, "INTT", 1, 1, "unknown type 'INTT'; did you mean INT?"},
		{"ParseType", typeErr, "INT NOT NULL extra", 1, 14, "expected the end of the type but found 'extra'"},
		{"ParseType", typeErr, "ARRAY<INT", 1, 10, "unexpected end of input: expected '>' after 'INT'"},
		{"ParseType", typeErr, "", 1, 1, "unexpected end of input: expected a type"},
		{"ParseType", typeErr, "NULL NOT NULL", 1, 6, "the NULL type cannot be NOT NULL"},
		{"ParseType", typeErr, "MAP<INT>", 1, 8, "expected ',' but found '>'"},
		{"ParseType", typeErr, "ROW<a INT b INT>", 1, 11, "expected ',' or '>' but found 'b'"},
		{"ParseExpr", exprErr, "a +", 1, 4, "unexpected end of input: expected an expression after '+'"},
		{"ParseExpr", exprErr, "(a + b", 1, 7, "unexpected end of input: expected ')' after 'b'"},
		{"ParseExpr", exprErr, "a b", 1, 3, "expected the end of the expression but found 'b'"},
		{"ParseExpr", exprErr, "", 1, 1, "unexpected end of input: expected an expression"},
		{"ParseExpr", exprErr, "f(a,)", 1, 5, "expected an expression but found ')'"},
		{"ParseExpr", exprErr, strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000), 1, 501, "nested too deeply"},
	}
	for _, tt := range tests {
		err := tt.parse(tt.src)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s(%q) = error %v, want a *sql.Error", tt.name, tt.src, err)
			continue
		}
		if e.Pos != (Pos{tt.line, tt.col}) || !strings.Contains(e.Msg, tt.msg) {
			t.Errorf("%s(%q) = error %q,\n\twant at line %d, column %d: ...%s...", tt.name, tt.src, err, tt.line, tt.col, tt.msg)
		}
	}
}

func typeErr(s string) error { _, err := ParseType(s); return err }
func exprErr(s string) error { _, err := ParseExpr(s); return err }

func TestErrorString(t *testing.T) {
	err := error(&Error{Pos: Pos{3, 7}, Msg: "boom"})
	if got, want := err.Error(), "SQL error at line 3, column 7: boom"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := (Pos{2, 15}).String(), "line 2, column 15"; got != want {
		t.Errorf("Pos.String() = %q, want %q", got, want)
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"INT", "INT", 0}, {"INTT", "INT", 1}, {"FORM", "FROM", 1},
		{"varchr", "VARCHAR", 1}, {"abc", "", 3}, {"kitten", "sitting", 3},
	}
	for _, tt := range tests {
		if got := suggest.Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("suggest.Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestJoins checks the shape of joins between tables: kinds, nesting to the
// left, ON conditions, and laterals mixed in.
func TestJoins(t *testing.T) {
	cases := []struct {
		src  string
		want []JoinType // outermost first
	}{
		{"SELECT * FROM a, b", []JoinType{JoinCross}},
		{"SELECT * FROM a CROSS JOIN b", []JoinType{JoinCross}},
		{"SELECT * FROM a JOIN b ON a.x = b.x", []JoinType{JoinInner}},
		{"SELECT * FROM a INNER JOIN b ON a.x = b.x LEFT OUTER JOIN c ON c.y = b.y", []JoinType{JoinLeft, JoinInner}},
		{"SELECT * FROM a RIGHT JOIN (SELECT 1 AS x) s ON a.x = s.x FULL OUTER JOIN (VALUES (1)) v(x) ON v.x = a.x", []JoinType{JoinFull, JoinRight}},
	}
	for _, c := range cases {
		stmts, err := Parse(c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		from := stmts[0].(*SelectStmt).Query.From
		for i, want := range c.want {
			j, ok := from.(*Join)
			if !ok {
				t.Fatalf("%s: join %d is %T", c.src, i, from)
			}
			if j.Type != want || (j.On == nil) != (want == JoinCross) {
				t.Fatalf("%s: join %d is %s (on %v), want %s", c.src, i, j.Type, j.On, want)
			}
			from = j.Left
		}
		if _, ok := from.(*TableRef); !ok {
			t.Fatalf("%s: innermost left is %T", c.src, from)
		}
	}
	// A lateral table function still joins after a table join.
	stmts, err := Parse("SELECT * FROM a JOIN b ON a.x = b.x, LATERAL TABLE(f(a.s)) AS t(w)")
	if err != nil {
		t.Fatal(err)
	}
	l, ok := stmts[0].(*SelectStmt).Query.From.(*Lateral)
	if !ok {
		t.Fatalf("got %T, want a lateral over a join", stmts[0].(*SelectStmt).Query.From)
	}
	if _, ok := l.Left.(*Join); !ok {
		t.Fatalf("lateral's left is %T", l.Left)
	}
}
