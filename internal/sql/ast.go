package sql

import "github.com/weir-dev/weir/internal/types"

// Statement is a top-level statement: *CreateTable, *CreateFunction, *Set,
// *Reset, *Insert or *SelectStmt.
type Statement interface{ Pos() Pos }

// CreateTable is CREATE [TEMPORARY] TABLE [IF NOT EXISTS] name (columns)
// [WITH (options)]. TEMPORARY and a table COMMENT are accepted and not
// recorded. Name is the table name as written, its parts joined with '.'
// when it is qualified (cat.db.t). Options is nil without WITH and empty for
// WITH ().
type CreateTable struct {
	At          Pos
	Name        string
	IfNotExists bool
	Columns     []ColumnDef
	Watermark   *Watermark // WATERMARK FOR ... (window.go), or nil
	// PartitionKeys are the columns of PARTITIONED BY (...), in order;
	// PartitionAt is where the clause starts.
	PartitionKeys []string
	PartitionAt   Pos
	Options       []Option
}

// ColumnDef is one column of a CREATE TABLE. A column COMMENT is accepted and
// dropped.
type ColumnDef struct {
	At   Pos
	Name string
	Type types.T
	// ProcTime marks name AS PROCTIME(), a processing-time attribute (Type
	// is then TIMESTAMP_LTZ(3) NOT NULL).
	ProcTime bool
}

// Option is one 'key' = 'value' pair of a WITH clause. At is the position of
// the key.
type Option struct {
	At         Pos
	Key, Value string
}

// CreateFunction is CREATE [TEMPORARY [SYSTEM]] FUNCTION [IF NOT EXISTS]
// name AS 'path' [LANGUAGE PYTHON|JAVA|SCALA]. Path is the string after AS,
// e.g. 'my_module.my_udf' for Python, and PathAt its position. Language is
// upper-case and "JAVA" when not given, as in Flink.
type CreateFunction struct {
	At          Pos
	Name        string
	Temporary   bool
	System      bool
	IfNotExists bool
	Path        string
	PathAt      Pos
	Language    string
}

// Set is SET 'key' = 'value'. Key and value may also be written unquoted, as
// in SET parallelism.default = 4; then they are the source text, trimmed. A
// bare SET, which lists the configuration, has an empty Key and Value.
type Set struct {
	At         Pos
	Key, Value string
}

// Reset is RESET ['key']; a bare RESET, which resets every key, has an empty
// Key.
type Reset struct {
	At  Pos
	Key string
}

// Insert is INSERT INTO|OVERWRITE table query. INSERT INTO t VALUES ... is
// read as INSERT INTO t SELECT * FROM (VALUES ...).
type Insert struct {
	At        Pos
	Table     string
	Overwrite bool
	// Partition is the static partition of INSERT ... PARTITION (k = v,
	// ...), or nil.
	Partition []PartitionValue
	Query     *Select
}

// PartitionValue is one 'column = literal' of INSERT ... PARTITION (...).
// Value is a literal (a negative number is a Unary "-" over one).
type PartitionValue struct {
	At    Pos
	Name  string
	Value Expr
}

// SelectStmt is a query on its own, outside an INSERT.
type SelectStmt struct {
	Query *Select
}

// Select is SELECT [DISTINCT] items [FROM from] [WHERE cond] [GROUP BY
// exprs] [HAVING cond] [ORDER BY items] [LIMIT n] [OFFSET m].
type Select struct {
	At       Pos
	Distinct bool
	Items    []SelectItem
	// From is nil for a SELECT without FROM, such as SELECT 1.
	From From
	// Where is nil when there is no WHERE clause.
	Where Expr
	// GroupBy is nil without GROUP BY; Having is nil without HAVING.
	// With GROUPING SETS, ROLLUP or CUBE, GroupBy lists every grouped
	// expression once and GroupingSets the sets, each as indexes into
	// GroupBy (groupingsets.go).
	GroupBy      []Expr
	GroupingSets [][]int
	Having       Expr
	// Windows are the named windows of a WINDOW clause (over.go).
	Windows []NamedWindow
	// OrderBy is nil without ORDER BY.
	OrderBy []OrderItem
	// Limit is the row count of LIMIT n or FETCH FIRST n ROWS ONLY, -1
	// when there is none; Offset is the row count of OFFSET m, 0 when there
	// is none. LimitAt is the position of the clause, for messages.
	Limit   int64
	Offset  int64
	LimitAt Pos
}

// OrderItem is one key of ORDER BY: an expression, an output column's alias
// or its 1-based position, ASC (the default) or DESC, and where NULLs go.
type OrderItem struct {
	X    Expr
	Desc bool
	// Nulls is "FIRST", "LAST", or "" when not written (Flink puts NULLs
	// first in ascending and last in descending order).
	Nulls string
}

// SelectItem is one item of a select list: an expression with an optional
// alias, * or qualifier.*. For a star, Expr is nil and StarQualifier is the
// qualifier as written (parts joined with '.'), or "" for a bare *.
type SelectItem struct {
	At            Pos
	Expr          Expr
	Alias         string
	Star          bool
	StarQualifier string
}

// From is an item of a FROM clause: *TableRef, *Values, *Subquery or *Lateral.
type From interface{ Pos() Pos }

// TableRef is a table name with an optional alias. Name is as written, its
// parts joined with '.' when it is qualified.
type TableRef struct {
	At    Pos
	Name  string
	Alias string
}

// Values is an inline table: (VALUES (1, 'a'), (2, NULL)) [AS] t(a, b).
// Every row has the same number of values, and Columns, when given, has
// that many names.
type Values struct {
	At      Pos
	Rows    [][]Expr
	Alias   string
	Columns []string
}

// Subquery is (SELECT ...) [AS] alias [(columns)] in a FROM clause.
// Columns, when given, rename the query's columns; ColumnsAt is where they
// start.
type Subquery struct {
	At        Pos
	Query     *Select
	Alias     string
	Columns   []string
	ColumnsAt Pos
}

// JoinKind is how a Lateral joins its left side with the rows of its table
// function.
type JoinKind int

// The join kinds of a Lateral.
const (
	// CrossJoin keeps only input rows for which the function returns rows:
	// FROM s, LATERAL TABLE(...), CROSS JOIN and [INNER] JOIN ... ON.
	CrossJoin JoinKind = iota
	// LeftJoin keeps every input row, padding with NULLs when the function
	// returns no rows: LEFT [OUTER] JOIN LATERAL TABLE(...) ON ...
	LeftJoin
)

// String returns "CROSS JOIN" or "LEFT JOIN".
func (k JoinKind) String() string {
	if k == LeftJoin {
		return "LEFT JOIN"
	}
	return "CROSS JOIN"
}

// Lateral joins Left with LATERAL TABLE(Call) [AS] Alias(Columns). At is the
// position of the LATERAL keyword. On is nil for a comma or CROSS JOIN, and
// set for [INNER] JOIN and LEFT JOIN, where Flink requires it. Several
// laterals in a row nest through Left, the first one innermost.
type Lateral struct {
	At      Pos
	Left    From
	Call    *FuncCall
	Alias   string
	Columns []string
	Kind    JoinKind
	On      Expr
}

// Expr is a scalar expression. For infix and postfix forms (Binary, IsNull,
// IsBool, Between, InList, Like) Pos is the start of the left operand, so
// that it covers the whole expression.
type Expr interface{ Pos() Pos }

// Ident is a possibly qualified name: a, t.a, `weird name`. Parts keep the
// case they were written in.
type Ident struct {
	At    Pos
	Parts []string
}

// LitKind is the kind of a Literal. The zero LitKind is not a valid kind.
type LitKind int

// The literal kinds.
const (
	// LitInteger is a number without a point or exponent, such as 42;
	// Text is the digits.
	LitInteger LitKind = iota + 1
	// LitDecimal is a number with a point, such as 1.50; Text is as written.
	LitDecimal
	// LitFloat is a number with an exponent, such as 1e3 or 1.5E-2; Text is
	// as written.
	LitFloat
	// LitString is a string such as 'it''s'; Text is the unescaped value.
	LitString
	// LitBool is TRUE or FALSE; Text is upper-case.
	LitBool
	// LitNull is NULL; Text is "NULL".
	LitNull
	// LitBinary is a binary string such as X'0AFF'; Text is the hex digits
	// as written, "0AFF".
	LitBinary
	// LitDate is DATE '2020-01-01'; Text is the string.
	LitDate
	// LitTime is TIME '12:00:00'; Text is the string.
	LitTime
	// LitTimestamp is TIMESTAMP '2020-01-01 12:00:00.123'; Text is the string.
	LitTimestamp
	// LitTimestampLTZ is TIMESTAMP_LTZ '2020-01-01 12:00:00'; Text is the
	// string.
	LitTimestampLTZ
)

var litKindNames = [...]string{
	LitInteger: "integer", LitDecimal: "decimal", LitFloat: "float", LitString: "string",
	LitBool: "boolean", LitNull: "NULL", LitBinary: "binary", LitDate: "DATE",
	LitTime: "TIME", LitTimestamp: "TIMESTAMP", LitTimestampLTZ: "TIMESTAMP_LTZ",
}

// String returns a short name of the kind, for messages.
func (k LitKind) String() string {
	if k > 0 && int(k) < len(litKindNames) {
		return litKindNames[k]
	}
	return "invalid"
}

// Literal is a constant. A negative number is a Unary "-" around a Literal.
type Literal struct {
	At   Pos
	Kind LitKind
	Text string
}

// Unary is a prefix operator: Op is "-", "+" or "NOT".
type Unary struct {
	At Pos
	Op string
	X  Expr
}

// Binary is an infix operator. Op is one of "+", "-", "*", "/", "%", "||",
// "=", "<>", "<", "<=", ">", ">=", "AND", "OR"; "!=" is normalised to "<>".
// At is the start of L.
type Binary struct {
	At   Pos
	Op   string
	L, R Expr
}

// IsNull is X IS [NOT] NULL.
type IsNull struct {
	At  Pos
	X   Expr
	Not bool
}

// IsBool is X IS [NOT] TRUE or X IS [NOT] FALSE.
type IsBool struct {
	At    Pos
	X     Expr
	Value bool
	Not   bool
}

// Between is X [NOT] BETWEEN Lo AND Hi.
type Between struct {
	At        Pos
	X, Lo, Hi Expr
	Not       bool
}

// InList is X [NOT] IN (List...).
type InList struct {
	At   Pos
	X    Expr
	List []Expr
	Not  bool
}

// Like is X [NOT] LIKE Pattern [ESCAPE Escape], or X [NOT] SIMILAR TO
// Pattern [ESCAPE Escape] when Similar is set; Escape is nil when absent.
type Like struct {
	At         Pos
	X, Pattern Expr
	Escape     Expr
	Not        bool
	Similar    bool
}

// FuncCall is a function call. Name is as written, its parts joined with '.'
// when it is qualified; compare it case-insensitively. The SQL special forms
// are read into plain arguments:
//
//	SUBSTRING(x FROM a [FOR b])  Args [x, a] or [x, a, b]
//	POSITION(a IN b)             Args [a, b]
//	TRIM(x)                      Args [x]
//	TRIM([BOTH|LEADING|TRAILING] [chars] FROM x)
//	                             Args [mode, chars, x], where mode is the
//	                             upper-case LitString "BOTH", "LEADING" or
//	                             "TRAILING" (default BOTH) and chars defaults
//	                             to the LitString " "
//	ARRAY[a, b], MAP[k, v]       Name "ARRAY" or "MAP", Args [a, b] or [k, v]
//
// Star is set for COUNT(*) (Args is then empty), Distinct for
// f(DISTINCT x, ...); f(ALL x) is f(x). Filter is the condition of an
// aggregate's FILTER (WHERE cond), or nil.
type FuncCall struct {
	At       Pos
	Name     string
	Args     []Expr
	Star     bool
	Distinct bool
	Filter   Expr
}

// Cast is CAST(X AS Type) or, when Try is set, TRY_CAST(X AS Type). TypeAt
// is the position of the type.
type Cast struct {
	At     Pos
	X      Expr
	Type   types.T
	TypeAt Pos
	Try    bool
}

// Case is CASE [Operand] WHEN ... THEN ... [ELSE Else] END. Operand is nil for
// a searched CASE (CASE WHEN cond THEN ...); Else is nil when not given.
type Case struct {
	At      Pos
	Operand Expr
	Whens   []When
	Else    Expr
}

// When is one WHEN Cond THEN Result branch of a Case. For a simple CASE, Cond
// is the value compared with the operand.
type When struct {
	Cond, Result Expr
}

// Pos returns the position of the CREATE keyword.
func (s *CreateTable) Pos() Pos { return s.At }

// Pos returns the position of the CREATE keyword.
func (s *CreateFunction) Pos() Pos { return s.At }

// Pos returns the position of the SET keyword.
func (s *Set) Pos() Pos { return s.At }

// Pos returns the position of the RESET keyword.
func (s *Reset) Pos() Pos { return s.At }

// Pos returns the position of the INSERT keyword.
func (s *Insert) Pos() Pos { return s.At }

// Pos returns the position of the query.
func (s *SelectStmt) Pos() Pos { return s.Query.At }

// Pos returns the position of the SELECT keyword (or of VALUES for a query
// written as VALUES ...).
func (s *Select) Pos() Pos { return s.At }

// Pos returns the position of the table name.
func (f *TableRef) Pos() Pos { return f.At }

// Pos returns the position of the opening parenthesis (or of VALUES when it
// has none).
func (f *Values) Pos() Pos { return f.At }

// Pos returns the position of the opening parenthesis.
func (f *Subquery) Pos() Pos { return f.At }

// Pos returns the position of the LATERAL keyword.
func (f *Lateral) Pos() Pos { return f.At }

// Pos returns the position of the first part.
func (x *Ident) Pos() Pos { return x.At }

// Pos returns the position of the literal.
func (x *Literal) Pos() Pos { return x.At }

// Pos returns the position of the operator.
func (x *Unary) Pos() Pos { return x.At }

// Pos returns the start of the left operand.
func (x *Binary) Pos() Pos { return x.At }

// Pos returns the start of the tested expression.
func (x *IsNull) Pos() Pos { return x.At }

// Pos returns the start of the tested expression.
func (x *IsBool) Pos() Pos { return x.At }

// Pos returns the start of the tested expression.
func (x *Between) Pos() Pos { return x.At }

// Pos returns the start of the tested expression.
func (x *InList) Pos() Pos { return x.At }

// Pos returns the start of the tested expression.
func (x *Like) Pos() Pos { return x.At }

// Pos returns the position of the function name.
func (x *FuncCall) Pos() Pos { return x.At }

// Pos returns the position of the CAST or TRY_CAST keyword.
func (x *Cast) Pos() Pos { return x.At }

// Pos returns the position of the CASE keyword.
func (x *Case) Pos() Pos { return x.At }
