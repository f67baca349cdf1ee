package sql

import (
	"fmt"
	"strconv"
	"strings"
)

// isQueryStart reports whether t can start a query.
func (p *parser) isQueryStart(t token) bool {
	return isKw(t, "SELECT") || isKw(t, "VALUES") || isOp(t, "(") || isKw(t, "WITH")
}

// parseQuery parses SELECT ..., VALUES ... or a parenthesised query. A
// VALUES query is read as SELECT * FROM (VALUES ...), so that every query
// is a *Select.
func (p *parser) parseQuery() *Select {
	if p.isKw("WITH") {
		return p.parseWith() // with.go
	}
	return p.parseSetQuery() // setop.go
}

// parseQueryTerm parses one operand of a set operation.
func (p *parser) parseQueryTerm() *Select {
	p.enter()
	defer p.leave()
	switch {
	case p.isKw("SELECT"):
		return p.parseSelect()
	case p.isKw("VALUES"):
		at := p.tok.pos
		v := p.parseValuesBody(at)
		p.failUnsupportedClause()
		return &Select{At: at, Items: []SelectItem{{At: at, Star: true}}, From: v, Limit: -1}
	case p.isOp("("):
		p.next()
		q := p.parseQuery()
		p.expectOp(")")
		p.failUnsupportedClause()
		return q
	}
	if p.isKw("WITH") {
		p.fail(p.tok.pos, "WITH must start a query (or a query in parentheses)")
	}
	p.failExpectedSuggest("a query (SELECT or VALUES)", []string{"SELECT", "VALUES"})
	return nil
}

// parseSelect parses SELECT items [FROM from] [WHERE cond].
func (p *parser) parseSelect() *Select {
	s := &Select{At: p.expectKw("SELECT").pos, Limit: -1}
	if !p.acceptKw("ALL") {
		s.Distinct = p.acceptKw("DISTINCT")
	}
	for {
		s.Items = append(s.Items, p.parseSelectItem())
		if !p.acceptOp(",") {
			break
		}
	}
	if p.acceptKw("FROM") {
		s.From = p.parseFrom()
	}
	if p.acceptKw("WHERE") {
		s.Where = p.parseExpr()
	}
	if p.acceptKw("GROUP") {
		p.expectKw("BY")
		p.parseGroupBy(s) // groupingsets.go
	}
	if p.acceptKw("HAVING") {
		s.Having = p.parseExpr()
	}
	if p.acceptKw("WINDOW") {
		s.Windows = p.parseWindowClause() // over.go
	}
	if p.acceptKw("ORDER") {
		p.expectKw("BY")
		for {
			s.OrderBy = append(s.OrderBy, p.parseOrderItem()) // over.go
			if !p.acceptOp(",") {
				break
			}
		}
	}
	p.parseLimit(s)
	p.failUnsupportedClause()
	return s
}

// parseLimit parses [LIMIT n] [OFFSET m [ROW|ROWS]] [FETCH FIRST|NEXT n
// ROW|ROWS ONLY], as Flink accepts them.
func (p *parser) parseLimit(s *Select) {
	count := func(what string) int64 {
		t := p.tok
		if t.kind != tNumber {
			p.failExpected("a row count after " + what)
		}
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil || t.num != LitInteger {
			p.fail(t.pos, fmt.Sprintf("%s needs a non-negative integer row count, got %s", what, t.text))
		}
		p.next()
		return n
	}
	if p.isKw("LIMIT") {
		s.LimitAt = p.tok.pos
		p.next()
		if p.acceptKw("ALL") {
			s.Limit = -1
		} else {
			s.Limit = count("LIMIT")
		}
	}
	if p.isKw("OFFSET") {
		if s.LimitAt == (Pos{}) {
			s.LimitAt = p.tok.pos
		}
		p.next()
		s.Offset = count("OFFSET")
		if !p.acceptKw("ROWS") {
			p.acceptKw("ROW")
		}
	}
	if p.isKw("FETCH") && s.Limit < 0 {
		if s.LimitAt == (Pos{}) {
			s.LimitAt = p.tok.pos
		}
		p.next()
		if !p.acceptKw("FIRST") {
			p.expectKw("NEXT")
		}
		s.Limit = count("FETCH FIRST")
		if !p.acceptKw("ROWS") {
			p.expectKw("ROW")
		}
		p.expectKw("ONLY")
	}
}

// parseSelectItem parses *, qualifier.* or expr [[AS] alias].
func (p *parser) parseSelectItem() SelectItem {
	it := SelectItem{At: p.tok.pos}
	if p.acceptOp("*") {
		it.Star = true
		return it
	}
	if n := p.qualifiedStarLen(); n > 0 {
		// name . name . * : take the names, skipping the dots.
		parts := make([]string, 0, n)
		for range n {
			parts = append(parts, nameOf(p.tok))
			p.next()
			p.next()
		}
		p.next() // *
		it.StarQualifier = strings.Join(parts, ".")
		it.Star = true
		return it
	}
	it.Expr = p.parseExpr()
	it.Alias = p.parseAlias()
	return it
}

// qualifiedStarLen returns n if the tokens ahead are n names, each
// followed by '.', and then '*', and 0 otherwise.
func (p *parser) qualifiedStarLen() int {
	if !isName(p.tok) {
		return 0
	}
	for n := 1; ; n++ {
		if !isOp(p.peek(2*n-1), ".") {
			return 0
		}
		t := p.peek(2 * n)
		if isOp(t, "*") {
			return n
		}
		if t.kind != tWord && t.kind != tQuoted {
			return 0
		}
	}
}

// parseAlias parses an optional [AS] alias and returns "" when there is none.
func (p *parser) parseAlias() string {
	if p.acceptKw("AS") {
		name, _ := p.parseName("an alias after AS")
		return name
	}
	if isName(p.tok) {
		p.aliasAt = p.i
		name := nameOf(p.tok)
		p.next()
		return name
	}
	return ""
}

// parseColumnAliases parses an optional (a, b, ...) after an alias.
func (p *parser) parseColumnAliases() ([]string, Pos) {
	at := p.tok.pos
	if !p.acceptOp("(") {
		return nil, at
	}
	var cols []string
	for {
		name, _ := p.parseName("a column name")
		cols = append(cols, name)
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return cols, at
}

// parseFrom parses a FROM clause: one table, inline table or subquery,
// followed by any number of joins with other ones or with lateral table
// functions.
func (p *parser) parseFrom() From {
	left := p.parseFromPrimary()
	for {
		at := p.tok.pos
		switch {
		case p.acceptOp(","):
			if !p.isKw("LATERAL") {
				left = p.parseJoin(at, left, JoinCross)
				continue
			}
			left = p.parseLateral(left, CrossJoin, false)
		case p.acceptKw("CROSS"):
			p.expectKw("JOIN")
			if !p.isKw("LATERAL") {
				left = p.parseJoin(at, left, JoinCross)
				continue
			}
			left = p.parseLateral(left, CrossJoin, false)
		case p.isKw("JOIN") || p.isKw("INNER"):
			if p.acceptKw("INNER") {
				p.expectKw("JOIN")
			} else {
				p.next()
			}
			if !p.isKw("LATERAL") {
				left = p.parseJoin(at, left, JoinInner)
				continue
			}
			left = p.parseLateral(left, CrossJoin, true)
		case p.acceptKw("LEFT"):
			p.acceptKw("OUTER")
			p.expectKw("JOIN")
			if !p.isKw("LATERAL") {
				left = p.parseJoin(at, left, JoinLeft)
				continue
			}
			left = p.parseLateral(left, LeftJoin, true)
		case p.isAnyKw("RIGHT", "FULL"):
			t := JoinRight
			if p.isKw("FULL") {
				t = JoinFull
			}
			p.next()
			p.acceptKw("OUTER")
			p.expectKw("JOIN")
			if p.isKw("LATERAL") {
				p.fail(p.tok.pos, fmt.Sprintf("%s LATERAL TABLE(...) is not supported (nor by Flink); use LEFT JOIN LATERAL", t))
			}
			left = p.parseJoin(at, left, t)
		case p.isKw("NATURAL"):
			p.fail(p.tok.pos, "NATURAL joins are not supported by weir; write JOIN ... ON with the columns to compare")
		default:
			return left
		}
	}
}

// parseLateral parses LATERAL TABLE(call) [[AS] alias [(columns)]] [ON cond]
// joined to left.
func (p *parser) parseLateral(left From, kind JoinKind, needOn bool) *Lateral {
	l := &Lateral{At: p.expectKw("LATERAL").pos, Left: left, Kind: kind}
	p.expectKw("TABLE")
	p.expectOp("(")
	x := p.parseExpr()
	call, ok := x.(*FuncCall)
	if !ok {
		p.fail(x.Pos(), "LATERAL TABLE(...) needs a table function call, e.g. LATERAL TABLE(split(s))")
	}
	l.Call = call
	p.expectOp(")")
	l.Alias = p.parseAlias()
	if l.Alias != "" {
		l.Columns, _ = p.parseColumnAliases()
	}
	switch {
	case needOn && !p.isKw("ON"):
		p.failExpected("ON after JOIN LATERAL TABLE(...) (write ON TRUE to join each row with every row of the function)")
	case needOn:
		p.next()
		l.On = p.parseExpr()
	case p.isKw("ON"):
		p.fail(p.tok.pos, "a comma or CROSS JOIN takes no ON condition; remove it, or write [LEFT] JOIN LATERAL TABLE(...) ON ...")
	}
	return l
}

// parseFromPrimary parses a table name, (VALUES ...) or (SELECT ...), each
// with an optional alias.
func (p *parser) parseFromPrimary() From {
	switch {
	case p.isOp("("):
		at := p.tok.pos
		p.next()
		if p.isKw("VALUES") {
			v := p.parseValuesBody(at)
			p.expectOp(")")
			v.Alias = p.parseAlias()
			if v.Alias != "" {
				var colsAt Pos
				v.Columns, colsAt = p.parseColumnAliases()
				if v.Columns != nil && len(v.Columns) != len(v.Rows[0]) {
					p.fail(colsAt, fmt.Sprintf("%s(...) names %d columns but the VALUES rows have %d values; name each value once",
						v.Alias, len(v.Columns), len(v.Rows[0])))
				}
			}
			return v
		}
		if !p.isQueryStart(p.tok) {
			p.failExpected("SELECT or VALUES after '('")
		}
		s := &Subquery{At: at, Query: p.parseQuery()}
		p.expectOp(")")
		s.Alias = p.parseAlias()
		if s.Alias != "" {
			s.Columns, s.ColumnsAt = p.parseColumnAliases()
		}
		return s
	case p.isKw("LATERAL"):
		p.fail(p.tok.pos, "LATERAL TABLE(...) must follow a table it is joined with, e.g. FROM t, LATERAL TABLE(f(t.x))")
	case p.isKw("VALUES"):
		p.fail(p.tok.pos, "put VALUES in parentheses in FROM: FROM (VALUES (1, 'a')) AS t(a, b)")
	case p.isKw("TABLE") && isOp(p.peek(1), "("):
		return p.parseWindowTVF() // window.go
	case p.isKw("TABLE") || p.isKw("UNNEST"):
		p.fail(p.tok.pos, fmt.Sprintf("%s in FROM is not supported by weir; use LATERAL TABLE(...) after a table", p.tok.val))
	}
	t := &TableRef{}
	t.Name, t.At = p.parseQualifiedName("a table name")
	if c := p.cte(t.Name); c != nil {
		return p.cteRef(c, t.At) // with.go
	}
	if p.isKw("FOR") {
		p.fail(p.tok.pos, "FOR SYSTEM_TIME AS OF (temporal joins) is not supported by weir")
	}
	t.Alias = p.parseAlias()
	if t.Alias != "" && p.isOp("(") {
		p.fail(p.tok.pos, "column aliases on a table are not supported by weir; alias the columns in the select list instead")
	}
	return t
}

// parseValuesBody parses VALUES (row), (row), ... with rows of equal width.
func (p *parser) parseValuesBody(at Pos) *Values {
	p.expectKw("VALUES")
	v := &Values{At: at}
	for {
		rowAt := p.tok.pos
		p.expectOp("(")
		row := p.parseExprList(")")
		if len(v.Rows) > 0 && len(row) != len(v.Rows[0]) {
			p.fail(rowAt, fmt.Sprintf("this VALUES row has %d values but the first row has %d; every row needs the same number",
				len(row), len(v.Rows[0])))
		}
		v.Rows = append(v.Rows, row)
		if !p.acceptOp(",") {
			return v
		}
	}
}

// parseExprList parses expr, expr, ... close (at least one expression) and
// consumes close.
func (p *parser) parseExprList(close string) []Expr {
	var xs []Expr
	for {
		xs = append(xs, p.parseExpr())
		if !p.acceptOp(",") {
			break
		}
	}
	if !p.isOp(close) {
		p.failExpected("',' or '" + close + "'")
	}
	p.next()
	return xs
}
