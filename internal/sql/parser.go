package sql

import (
	"fmt"
	"strings"

	"github.com/weir-dev/weir/internal/types"
)

// maxDepth bounds the nesting of expressions, queries and types, so that a
// hostile input cannot exhaust the stack (which Go cannot recover from).
const maxDepth = 500

// parser is a recursive-descent parser over the tokens of one source text.
// Errors are raised with fail, which panics with a bailout that run turns
// back into an error; this keeps the grammar code free of error plumbing.
type parser struct {
	src   string
	toks  []token
	i     int   // index of tok in toks
	tok   token // the current token
	prev  token // the last consumed token, for "after 'x'" in messages
	depth int
	// aliasAt is the index of the last implicit alias (an alias written
	// without AS), so that "SELECT a FORM t" can suggest FROM.
	aliasAt int
	// ctes are the common table expressions in scope, innermost WITH last
	// (with.go).
	ctes []map[string]*cte
}

// bailout carries a syntax error up through the recursive descent.
type bailout struct{ err *Error }

func newParser(src string) *parser {
	toks := lex(src)
	return &parser{src: src, toks: toks, tok: toks[0], aliasAt: -1}
}

// run parses src with f and returns the first syntax error. A panic that is
// not a syntax error is a bug in the parser; it is reported as an error
// rather than crashing the engine on a user's query.
func run(src string, f func(p *parser)) (err error) {
	p := newParser(src)
	defer func() {
		if r := recover(); r != nil {
			if b, ok := r.(bailout); ok {
				err = b.err
				return
			}
			err = &Error{Pos: p.tok.pos, Msg: fmt.Sprintf("internal parser error (%v); please report this statement to the weir developers", r)}
		}
	}()
	f(p)
	return nil
}

// next consumes the current token.
func (p *parser) next() {
	p.prev = p.tok
	if p.i < len(p.toks)-1 {
		p.i++
	}
	p.tok = p.toks[p.i]
}

// peek returns the token n places after the current one (EOF past the end).
func (p *parser) peek(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

// enter and leave bracket a recursive production to bound nesting depth.
func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail(p.tok.pos, fmt.Sprintf("nested too deeply (more than %d levels); simplify the statement", maxDepth))
	}
}

func (p *parser) leave() { p.depth-- }

func isKw(t token, kw string) bool { return t.kind == tWord && t.val == kw }
func isOp(t token, op string) bool { return t.kind == tOp && t.val == op }

func (p *parser) isKw(kw string) bool { return isKw(p.tok, kw) }
func (p *parser) isOp(op string) bool { return isOp(p.tok, op) }

// isAnyKw reports whether the current token is one of kws.
func (p *parser) isAnyKw(kws ...string) bool {
	for _, kw := range kws {
		if p.isKw(kw) {
			return true
		}
	}
	return false
}

func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.next()
		return true
	}
	return false
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expectKw(kw string) token {
	if !p.isKw(kw) {
		p.failExpected(kw)
	}
	t := p.tok
	p.next()
	return t
}

func (p *parser) expectOp(op string) token {
	if !p.isOp(op) {
		p.failExpected("'" + op + "'")
	}
	t := p.tok
	p.next()
	return t
}

// expectEOF fails unless all input has been read.
func (p *parser) expectEOF(what string) {
	if p.tok.kind != tEOF {
		p.failExpected(what)
	}
}

// fail raises a syntax error at pos.
func (p *parser) fail(pos Pos, msg string) {
	panic(bailout{&Error{Pos: pos, Msg: msg}})
}

// describe names a token for an error message.
func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return "string " + quoteText(t.text)
	}
	return quoteText(t.text)
}

// failExpected raises "expected <what> but found <tok>" at the current
// token. A lexical error token is reported as itself, since it is the real
// problem.
func (p *parser) failExpected(what string) {
	switch p.tok.kind {
	case tError:
		p.fail(p.tok.pos, p.tok.val)
	case tEOF:
		msg := "unexpected end of input: expected " + what
		if p.i > 0 && !strings.Contains(what, " after ") {
			msg += " after " + describe(p.prev)
		}
		p.fail(p.tok.pos, msg)
	}
	msg := "expected " + what + " but found " + describe(p.tok)
	if p.aliasAt >= 0 && p.aliasAt == p.i-1 {
		// "SELECT a FORM t" reads FORM as an alias of a; the mistake shows
		// only at t, so point back at the likely typo.
		alias := p.toks[p.aliasAt]
		if kw := closest(alias.val, []string{"FROM", "WHERE"}); kw != "" {
			p.fail(alias.pos, fmt.Sprintf("did you mean %s? %s reads as an alias here, so %s after it is unexpected",
				kw, quoteText(alias.text), describe(p.tok)))
		}
	}
	p.fail(p.tok.pos, msg)
}

// failExpectedSuggest is failExpected with a "did you mean" for a
// misspelled word among candidates.
func (p *parser) failExpectedSuggest(what string, candidates []string) {
	if p.tok.kind == tWord {
		if kw := closest(p.tok.val, candidates); kw != "" {
			p.fail(p.tok.pos, "expected "+what+" but found "+describe(p.tok)+"; did you mean "+kw+"?")
		}
	}
	p.failExpected(what)
}

// unsupportedClauses are clauses of Flink SQL that weir does not run, with
// the words that name them in messages.
var unsupportedClauses = map[string]string{
	"MINUS": "MINUS", "WINDOW": "WINDOW", "QUALIFY": "QUALIFY",
	"MATCH_RECOGNIZE": "MATCH_RECOGNIZE",
}

// failUnsupportedClause fails if the current token starts a clause that
// weir does not support, so the user learns why rather than seeing a bare
// "expected ...".
func (p *parser) failUnsupportedClause() {
	if p.tok.kind == tWord {
		if name, ok := unsupportedClauses[p.tok.val]; ok {
			p.fail(p.tok.pos, name+" is not supported by weir")
		}
		if name, ok := misplacedClauses[p.tok.val]; ok {
			p.fail(p.tok.pos, name+" cannot come here: a SELECT's clauses go in the order WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, OFFSET")
		}
	}
}

// misplacedClauses are clauses weir runs, reported when they come out of
// order.
var misplacedClauses = map[string]string{
	"GROUP": "GROUP BY", "ORDER": "ORDER BY", "HAVING": "HAVING", "LIMIT": "LIMIT",
	"OFFSET": "OFFSET", "FETCH": "FETCH",
}

// failEndOfStatement reports a token left over after a complete statement.
func (p *parser) failEndOfStatement() {
	p.failUnsupportedClause()
	p.failExpected("';' or the end of the statement")
}

// reserved are the words that cannot be used as unquoted names because they
// would be ambiguous in weir's grammar; quote them with backticks instead.
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`ALL AND AS BETWEEN BY CASE CAST CREATE CROSS DISTINCT ELSE END
		ESCAPE EXCEPT EXISTS FALSE FETCH FOR FROM FULL GROUP HAVING IN INNER INSERT INTERSECT
		INTERVAL INTO IS JOIN LATERAL LEFT LIKE LIMIT MINUS NATURAL NOT NULL OFFSET ON OR ORDER
		OUTER RIGHT SELECT SIMILAR TABLE THEN TRUE UNION USING VALUES WHEN WHERE WINDOW WITH`) {
		reserved[w] = true
	}
}

// isName reports whether t can be a name: a quoted identifier or an
// unreserved word.
func isName(t token) bool {
	return t.kind == tQuoted || (t.kind == tWord && !reserved[t.val])
}

// nameOf returns the name a name token stands for: the unescaped text of a
// quoted identifier, or a word as written.
func nameOf(t token) string {
	if t.kind == tQuoted {
		return t.val
	}
	return t.text
}

// parseName parses one name; what describes it for messages ("a column name").
func (p *parser) parseName(what string) (string, Pos) {
	if !isName(p.tok) {
		if p.tok.kind == tWord {
			p.fail(p.tok.pos, fmt.Sprintf("expected %s but found the reserved word %s; quote it with backticks (`%s`) to use it as a name",
				what, quoteText(p.tok.text), p.tok.text))
		}
		p.failExpected(what)
	}
	t := p.tok
	p.next()
	return nameOf(t), t.pos
}

// parseQualifiedName parses name[.name...] and returns the parts joined
// with '.'.
func (p *parser) parseQualifiedName(what string) (string, Pos) {
	parts, at := p.parseNameParts(what)
	return strings.Join(parts, "."), at
}

func (p *parser) parseNameParts(what string) ([]string, Pos) {
	name, at := p.parseName(what)
	parts := []string{name}
	for p.isOp(".") {
		p.next()
		if p.tok.kind != tWord && p.tok.kind != tQuoted {
			p.failExpected("a name after '.'")
		}
		parts = append(parts, nameOf(p.tok))
		p.next()
	}
	return parts, at
}

// atEndOfStatement reports whether the current token ends a statement.
func (p *parser) atEndOfStatement() bool { return p.tok.kind == tEOF || p.isOp(";") }

// statementKeywords are the words that can start a statement, for
// suggestions.
var statementKeywords = []string{"CREATE", "INSERT", "SELECT", "SET", "RESET", "VALUES"}

// unsupportedStatements explains the Flink statements that weir does not run.
var unsupportedStatements = map[string]string{
	"EXECUTE": "statement sets are not supported by weir; write each INSERT as a statement of its own",
	"BEGIN":   "statement sets are not supported by weir; write each INSERT as a statement of its own",
}

func (p *parser) parseStatement() Statement {
	switch {
	case p.isKw("SELECT"), p.isKw("VALUES"), p.isOp("("), p.isKw("WITH"):
		return &SelectStmt{Query: p.parseQuery()}
	case p.isKw("CREATE"):
		return p.parseCreate()
	case p.isKw("INSERT"):
		return p.parseInsert()
	case p.isKw("SET"):
		return p.parseSet()
	case p.isKw("RESET"):
		return p.parseReset()
	}
	if p.tok.kind == tWord {
		if msg, ok := unsupportedStatements[p.tok.val]; ok {
			p.fail(p.tok.pos, msg)
		}
		switch p.tok.val {
		case "DROP", "ALTER", "SHOW", "USE", "DESCRIBE", "DESC", "EXPLAIN", "LOAD", "UNLOAD",
			"DELETE", "UPDATE", "TRUNCATE", "ANALYZE", "ADD", "REMOVE", "CALL", "END":
			p.fail(p.tok.pos, fmt.Sprintf("%s statements are not supported by weir; it runs CREATE TABLE, CREATE FUNCTION, SET, RESET, INSERT and SELECT", p.tok.val))
		}
	}
	p.failExpectedSuggest("a statement (CREATE, INSERT, SELECT, SET or RESET)", statementKeywords)
	return nil
}

// parseIfNotExists parses an optional IF NOT EXISTS.
func (p *parser) parseIfNotExists() bool {
	if !p.acceptKw("IF") {
		return false
	}
	p.expectKw("NOT")
	p.expectKw("EXISTS")
	return true
}

func (p *parser) parseCreate() Statement {
	at := p.expectKw("CREATE").pos
	if p.isKw("OR") {
		p.fail(p.tok.pos, "CREATE OR REPLACE is not supported by weir; use CREATE")
	}
	temporary := p.acceptKw("TEMPORARY")
	systemAt := p.tok.pos
	system := p.acceptKw("SYSTEM")
	switch {
	case p.isKw("TABLE"):
		if system {
			p.fail(systemAt, "SYSTEM applies only to functions; write CREATE TABLE")
		}
		return p.parseCreateTable(at)
	case p.isKw("FUNCTION"):
		if system && !temporary {
			p.fail(systemAt, "a SYSTEM function must be TEMPORARY; write CREATE TEMPORARY SYSTEM FUNCTION")
		}
		return p.parseCreateFunction(at, temporary, system)
	case p.isKw("VIEW") && !system:
		return p.parseCreateView(at) // view.go
	case p.isAnyKw("CATALOG", "DATABASE", "MODEL"):
		p.fail(p.tok.pos, fmt.Sprintf("CREATE %s is not supported by weir; it supports CREATE TABLE and CREATE FUNCTION", p.tok.val))
	}
	p.failExpectedSuggest("TABLE or FUNCTION after CREATE", []string{"TABLE", "FUNCTION", "TEMPORARY"})
	return nil
}

func (p *parser) parseCreateTable(at Pos) *CreateTable {
	p.expectKw("TABLE")
	s := &CreateTable{At: at, IfNotExists: p.parseIfNotExists()}
	s.Name, _ = p.parseQualifiedName("a table name")
	if p.isKw("LIKE") || p.isKw("AS") {
		p.fail(p.tok.pos, fmt.Sprintf("CREATE TABLE ... %s is not supported by weir; list the columns: CREATE TABLE t (a INT, ...)", p.tok.val))
	}
	p.expectOp("(")
	for {
		p.failUnsupportedColumn()
		if p.isKw("WATERMARK") && isKw(p.peek(1), "FOR") {
			if s.Watermark != nil {
				p.fail(p.tok.pos, "a table has at most one WATERMARK; remove one")
			}
			s.Watermark = p.parseWatermark() // window.go
			if !p.acceptOp(",") {
				break
			}
			continue
		}
		var c ColumnDef
		c.Name, c.At = p.parseName("a column name")
		if p.isKw("AS") && isKw(p.peek(1), "PROCTIME") {
			// name AS PROCTIME(): the processing-time attribute.
			p.next()
			p.next()
			p.expectOp("(")
			p.expectOp(")")
			c.ProcTime = true
			c.Type = types.TIMESTAMP_LTZ(3).WithNullable(false)
			if p.acceptKw("COMMENT") {
				p.parseString("the comment as a string")
			}
			s.Columns = append(s.Columns, c)
			if !p.acceptOp(",") {
				break
			}
			continue
		}
		if p.isKw("AS") {
			p.fail(p.tok.pos, "computed columns (name AS expression) are not supported by weir; compute the value in the query instead")
		}
		c.Type = p.parseType()
		switch {
		case p.isKw("METADATA"):
			p.fail(p.tok.pos, "metadata columns are not supported by weir")
		case p.isKw("PRIMARY") || p.isKw("CONSTRAINT"):
			p.fail(p.tok.pos, "primary keys are not supported by weir; remove the constraint")
		}
		if p.acceptKw("COMMENT") {
			p.parseString("the comment as a string")
		}
		s.Columns = append(s.Columns, c)
		if !p.acceptOp(",") {
			break
		}
	}
	if !p.acceptOp(")") {
		p.failExpected("',' or ')'")
	}
	if p.acceptKw("COMMENT") {
		p.parseString("the comment as a string")
	}
	if p.isKw("PARTITIONED") {
		s.PartitionAt = p.tok.pos
		p.next()
		p.expectKw("BY")
		p.expectOp("(")
		for {
			name, _ := p.parseName("a partition column")
			s.PartitionKeys = append(s.PartitionKeys, name)
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
	}
	if p.isKw("DISTRIBUTED") {
		p.fail(p.tok.pos, "distributed tables are not supported by weir")
	}
	if p.acceptKw("WITH") {
		s.Options = p.parseOptions()
	}
	return s
}

// failUnsupportedColumn fails on the table constraints and watermarks that
// Flink allows among the columns of CREATE TABLE.
func (p *parser) failUnsupportedColumn() {
	next := p.peek(1)
	switch {
	case p.isKw("PRIMARY") && isKw(next, "KEY"), p.isKw("CONSTRAINT") && isName(next) && (isKw(p.peek(2), "PRIMARY") || isKw(p.peek(2), "UNIQUE")),
		p.isKw("UNIQUE") && isOp(next, "("):
		p.fail(p.tok.pos, "table constraints such as PRIMARY KEY are not supported by weir; remove the constraint")
	}
}

// parseString parses a string literal and returns its value.
func (p *parser) parseString(what string) (string, Pos) {
	if p.tok.kind != tString {
		p.failExpected(what)
	}
	t := p.tok
	p.next()
	return t.val, t.pos
}

// parseOptions parses ('k' = 'v', ...) of a WITH clause.
func (p *parser) parseOptions() []Option {
	p.expectOp("(")
	opts := []Option{} // WITH () is an empty list, not a missing one
	seen := map[string]Pos{}
	for !p.isOp(")") {
		if len(opts) > 0 {
			p.expectOp(",")
		}
		if p.tok.kind == tWord || p.tok.kind == tQuoted {
			p.fail(p.tok.pos, fmt.Sprintf("option keys must be quoted strings: write '%s' = '...'", nameOf(p.tok)))
		}
		var o Option
		o.Key, o.At = p.parseString("an option key as a string, e.g. 'connector'")
		if first, ok := seen[o.Key]; ok {
			p.fail(o.At, fmt.Sprintf("option '%s' is set twice (first at %s); remove one", o.Key, first))
		}
		seen[o.Key] = o.At
		p.expectOp("=")
		if p.tok.kind == tNumber || p.tok.kind == tWord {
			p.fail(p.tok.pos, fmt.Sprintf("option values must be quoted strings: write '%s' = '%s'", o.Key, p.tok.text))
		}
		o.Value, _ = p.parseString("an option value as a string")
		opts = append(opts, o)
	}
	p.next()
	return opts
}

func (p *parser) parseCreateFunction(at Pos, temporary, system bool) *CreateFunction {
	p.expectKw("FUNCTION")
	s := &CreateFunction{At: at, Temporary: temporary, System: system, IfNotExists: p.parseIfNotExists(), Language: "JAVA"}
	parts, nameAt := p.parseNameParts("a function name")
	if system && len(parts) > 1 {
		p.fail(nameAt, "a TEMPORARY SYSTEM function cannot have a qualified name; drop the catalog and database")
	}
	s.Name = strings.Join(parts, ".")
	p.expectKw("AS")
	s.Path, s.PathAt = p.parseString("the function's implementation as a string, e.g. 'my_module.my_function'")
	if strings.TrimSpace(s.Path) == "" {
		p.fail(s.PathAt, "the function's implementation must not be empty; write e.g. 'my_module.my_function'")
	}
	if p.acceptKw("LANGUAGE") {
		langs := []string{"PYTHON", "JAVA", "SCALA"}
		if p.tok.kind != tWord || !(p.isAnyKw(langs...)) {
			p.failExpectedSuggest("PYTHON, JAVA or SCALA after LANGUAGE", langs)
		}
		s.Language = p.tok.val
		p.next()
	}
	if p.isKw("USING") {
		p.fail(p.tok.pos, "USING JAR is not supported by weir")
	}
	return s
}

// parseSet parses SET, SET 'k' = 'v' and SET k.x = v.
func (p *parser) parseSet() *Set {
	s := &Set{At: p.expectKw("SET").pos}
	if p.atEndOfStatement() {
		return s
	}
	if p.tok.kind == tString {
		s.Key, _ = p.parseString("")
	} else {
		s.Key = p.parseRawKey("=")
	}
	p.expectOp("=")
	if p.tok.kind == tString && (isOp(p.peek(1), ";") || p.peek(1).kind == tEOF) {
		s.Value, _ = p.parseString("")
		return s
	}
	if p.atEndOfStatement() {
		p.failExpected("a value after '='")
	}
	start := p.tok
	end := p.skipRaw(func(t token) bool { return isOp(t, ";") })
	s.Value = strings.TrimSpace(p.src[start.off:end.endOff])
	return s
}

// parseReset parses RESET, RESET 'k' and RESET k.x.
func (p *parser) parseReset() *Reset {
	s := &Reset{At: p.expectKw("RESET").pos}
	switch {
	case p.atEndOfStatement():
	case p.tok.kind == tString:
		s.Key, _ = p.parseString("")
	default:
		s.Key = p.parseRawKey("")
	}
	return s
}

// parseRawKey reads an unquoted configuration key such as
// table.exec.mini-batch.enabled up to stopOp, ';' or the end. Such keys are
// not SQL tokens ("mini-batch" lexes as mini - batch), so the key is the
// source text of adjacent tokens.
func (p *parser) parseRawKey(stopOp string) string {
	stop := func(t token) bool { return isOp(t, ";") || (stopOp != "" && isOp(t, stopOp)) }
	if stop(p.tok) {
		p.failExpected("a configuration key")
	}
	first, start := p.i, p.tok
	end := p.skipRaw(stop)
	for i := first; i < p.i-1; i++ {
		if p.toks[i].endOff != p.toks[i+1].off {
			p.fail(p.toks[i+1].pos, fmt.Sprintf("unquoted configuration keys cannot contain spaces or comments; quote the key: '%s'",
				strings.TrimSpace(p.src[start.off:end.endOff])))
		}
	}
	return p.src[start.off:end.endOff]
}

// skipRaw consumes tokens until stop or EOF and returns the last one
// consumed. Lexical errors are part of raw text (5s is a fine value but a
// malformed number), except unterminated quotes and comments, which swallow
// the rest of the input.
func (p *parser) skipRaw(stop func(token) bool) token {
	last := p.tok
	for p.tok.kind != tEOF && !stop(p.tok) {
		if p.tok.kind == tError && p.tok.fatal {
			p.fail(p.tok.pos, p.tok.val)
		}
		last = p.tok
		p.next()
	}
	return last
}

// isPartitionLiteral reports whether x is a literal or a signed number.
func isPartitionLiteral(x Expr) bool {
	if u, ok := x.(*Unary); ok && (u.Op == "-" || u.Op == "+") {
		l, ok := u.X.(*Literal)
		return ok && (l.Kind == LitInteger || l.Kind == LitDecimal || l.Kind == LitFloat)
	}
	_, ok := x.(*Literal)
	return ok
}

// parseInsert parses INSERT INTO|OVERWRITE table [PARTITION (k = v, ...)]
// query.
func (p *parser) parseInsert() *Insert {
	s := &Insert{At: p.expectKw("INSERT").pos}
	switch {
	case p.acceptKw("INTO"):
	case p.acceptKw("OVERWRITE"):
		s.Overwrite = true
	default:
		p.failExpectedSuggest("INTO or OVERWRITE after INSERT", []string{"INTO", "OVERWRITE"})
	}
	s.Table, _ = p.parseQualifiedName("a table name")
	if p.acceptKw("PARTITION") {
		p.expectOp("(")
		for {
			var v PartitionValue
			v.Name, v.At = p.parseName("a partition column")
			p.expectOp("=")
			v.Value = p.parseUnary()
			if !isPartitionLiteral(v.Value) {
				p.fail(v.Value.Pos(), "a static partition value must be a literal, e.g. PARTITION (dt = '2024-01-01')")
			}
			s.Partition = append(s.Partition, v)
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
	}
	if p.isOp("(") && !p.isQueryStart(p.peek(1)) {
		p.fail(p.tok.pos, "column lists in INSERT are not supported by weir; select the columns in the order of the table instead")
	}
	s.Query = p.parseQuery()
	return s
}
