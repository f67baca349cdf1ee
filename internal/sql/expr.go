package sql

// Expressions are parsed by precedence climbing, one function per level,
// from lowest to highest: OR, AND, NOT, comparison (= <> < <= > >= IS
// BETWEEN IN LIKE), ||, + -, * / %, unary - +, primary. Binary operators
// are left-associative.

// parseExpr parses an expression.
func (p *parser) parseExpr() Expr {
	p.enter()
	defer p.leave()
	return p.parseOr()
}

func (p *parser) parseOr() Expr {
	l := p.parseAnd()
	for p.acceptKw("OR") {
		r := p.parseAnd()
		l = &Binary{At: l.Pos(), Op: "OR", L: l, R: r}
	}
	return l
}

func (p *parser) parseAnd() Expr {
	l := p.parseNot()
	for p.acceptKw("AND") {
		r := p.parseNot()
		l = &Binary{At: l.Pos(), Op: "AND", L: l, R: r}
	}
	return l
}

func (p *parser) parseNot() Expr {
	if !p.isKw("NOT") {
		return p.parseComparison()
	}
	p.enter()
	defer p.leave()
	at := p.tok.pos
	p.next()
	return &Unary{At: at, Op: "NOT", X: p.parseNot()}
}

// comparisonOps maps comparison operators to their normal form.
var comparisonOps = map[string]string{"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

func (p *parser) parseComparison() Expr {
	l := p.parseConcat()
	for {
		if op, ok := comparisonOps[p.tok.val]; ok && p.tok.kind == tOp {
			p.next()
			r := p.parseConcat()
			l = &Binary{At: l.Pos(), Op: op, L: l, R: r}
			continue
		}
		if p.isKw("IS") {
			l = p.parseIs(l)
			continue
		}
		not := false
		if p.isKw("NOT") && p.peek(1).kind == tWord {
			switch p.peek(1).val {
			case "BETWEEN", "IN", "LIKE", "SIMILAR":
				not = true
				p.next()
			}
		}
		switch {
		case p.acceptKw("BETWEEN"):
			if p.isKw("SYMMETRIC") {
				p.fail(p.tok.pos, "BETWEEN SYMMETRIC is not supported by weir; order the bounds and use BETWEEN")
			}
			p.acceptKw("ASYMMETRIC")
			lo := p.parseConcat()
			p.expectKw("AND")
			hi := p.parseConcat()
			l = &Between{At: l.Pos(), X: l, Lo: lo, Hi: hi, Not: not}
		case p.acceptKw("IN"):
			p.expectOp("(")
			if p.isAnyKw("SELECT", "WITH", "VALUES") {
				l = p.parseInQuery(l, not) // subquery.go
				continue
			}
			l = &InList{At: l.Pos(), X: l, List: p.parseExprList(")"), Not: not}
		case p.isKw("LIKE"), p.isKw("SIMILAR"):
			similar := p.acceptKw("SIMILAR")
			if similar {
				p.expectKw("TO")
			} else {
				p.next()
			}
			like := &Like{At: l.Pos(), X: l, Pattern: p.parseConcat(), Not: not, Similar: similar}
			if p.acceptKw("ESCAPE") {
				like.Escape = p.parseConcat()
			}
			l = like
		default:
			return l
		}
	}
}

// parseIs parses the rest of x IS [NOT] NULL|TRUE|FALSE|UNKNOWN.
func (p *parser) parseIs(x Expr) Expr {
	p.expectKw("IS")
	not := p.acceptKw("NOT")
	switch {
	case p.acceptKw("NULL"), p.acceptKw("UNKNOWN"):
		// UNKNOWN is the NULL of BOOLEAN, so IS UNKNOWN is IS NULL.
		return &IsNull{At: x.Pos(), X: x, Not: not}
	case p.acceptKw("TRUE"):
		return &IsBool{At: x.Pos(), X: x, Value: true, Not: not}
	case p.acceptKw("FALSE"):
		return &IsBool{At: x.Pos(), X: x, Value: false, Not: not}
	case p.acceptKw("DISTINCT"):
		p.expectKw("FROM")
		op := "IS DISTINCT FROM"
		if not {
			op = "IS NOT DISTINCT FROM"
		}
		return &Binary{At: x.Pos(), Op: op, L: x, R: p.parseConcat()}
	case p.isKw("JSON"):
		return p.parseIsJSON(x, not) // json.go
	}
	p.failExpected("NULL, TRUE or FALSE after IS")
	return nil
}

func (p *parser) parseConcat() Expr {
	l := p.parseAdditive()
	for p.acceptOp("||") {
		r := p.parseAdditive()
		l = &Binary{At: l.Pos(), Op: "||", L: l, R: r}
	}
	return l
}

func (p *parser) parseAdditive() Expr {
	l := p.parseMultiplicative()
	for p.isOp("+") || p.isOp("-") {
		op := p.tok.val
		p.next()
		r := p.parseMultiplicative()
		l = &Binary{At: l.Pos(), Op: op, L: l, R: r}
	}
	return l
}

func (p *parser) parseMultiplicative() Expr {
	l := p.parseUnary()
	for p.isOp("*") || p.isOp("/") || p.isOp("%") {
		op := p.tok.val
		p.next()
		r := p.parseUnary()
		l = &Binary{At: l.Pos(), Op: op, L: l, R: r}
	}
	return l
}

func (p *parser) parseUnary() Expr {
	if !p.isOp("-") && !p.isOp("+") {
		return p.parseItemAccess(p.parsePrimary()) // json.go
	}
	p.enter()
	defer p.leave()
	t := p.tok
	p.next()
	return &Unary{At: t.pos, Op: t.val, X: p.parseUnary()}
}

// typedLiterals are the words that, followed by a string, make a literal.
var typedLiterals = map[string]LitKind{
	"DATE": LitDate, "TIME": LitTime, "TIMESTAMP": LitTimestamp, "TIMESTAMP_LTZ": LitTimestampLTZ,
}

func (p *parser) parsePrimary() Expr {
	t := p.tok
	switch t.kind {
	case tNumber:
		p.next()
		return &Literal{At: t.pos, Kind: t.num, Text: t.text}
	case tString:
		p.next()
		return &Literal{At: t.pos, Kind: LitString, Text: t.val}
	case tBinary:
		p.next()
		return &Literal{At: t.pos, Kind: LitBinary, Text: t.val}
	case tQuoted:
		return p.parseIdentOrCall()
	case tOp:
		if t.val == "(" {
			if isKw(p.peek(1), "SELECT") || isKw(p.peek(1), "WITH") {
				p.next()
				q := &ScalarQuery{At: t.pos, Query: p.parseQuery()} // subquery.go
				p.expectOp(")")
				return q
			}
			p.next()
			x := p.parseExpr()
			p.expectOp(")")
			return p.parseIntervalOf(t.pos, x) // (a - b) DAY; temporal.go
		}
		if t.val == "*" {
			p.fail(t.pos, "'*' is allowed only as a select item (SELECT * or SELECT t.*) and in COUNT(*)")
		}
	case tWord:
		next := p.peek(1)
		switch t.val {
		case "TRUE", "FALSE":
			p.next()
			return &Literal{At: t.pos, Kind: LitBool, Text: t.val}
		case "NULL":
			p.next()
			return &Literal{At: t.pos, Kind: LitNull, Text: "NULL"}
		case "CASE":
			return p.parseCase()
		case "CAST":
			return p.parseCast(false)
		case "TRY_CAST":
			if isOp(next, "(") {
				return p.parseCast(true)
			}
		case "INTERVAL":
			return p.parseInterval() // temporal.go
		case "EXISTS":
			return p.parseExists() // subquery.go
		case "ARRAY", "MAP":
			if isOp(next, "[") {
				p.next()
				p.next()
				return &FuncCall{At: t.pos, Name: t.val, Args: p.parseExprList("]")}
			}
		case "LEFT", "RIGHT":
			// Reserved for joins, but also the functions LEFT(s, n) and RIGHT(s, n).
			if isOp(next, "(") {
				p.next()
				return p.parseCallArgs(t.pos, t.text, t.val)
			}
		}
		if kind, ok := typedLiterals[t.val]; ok && next.kind == tString {
			p.next()
			p.next()
			return &Literal{At: t.pos, Kind: kind, Text: next.val}
		}
		if !reserved[t.val] {
			return p.parseIdentOrCall()
		}
	}
	p.failExpected("an expression")
	return nil
}

// parseIdentOrCall parses a possibly qualified name, and the arguments of a
// call when a '(' follows it.
func (p *parser) parseIdentOrCall() Expr {
	at := p.tok.pos
	single := p.tok.kind == tWord && !isOp(p.peek(1), ".")
	upper := p.tok.val
	parts, _ := p.parseNameParts("a name")
	if !p.isOp("(") {
		return &Ident{At: at, Parts: parts}
	}
	name := parts[0]
	for _, part := range parts[1:] {
		name += "." + part
	}
	if !single {
		upper = ""
	}
	call := p.parseCallArgs(at, name, upper)
	if isKw(p.tok, "FILTER") && isOp(p.peek(1), "(") {
		// An aggregate's FILTER (WHERE cond).
		p.next()
		p.next()
		p.expectKw("WHERE")
		call.Filter = p.parseExpr()
		p.expectOp(")")
	}
	if p.isOverStart() {
		return p.parseOver(call) // over.go
	}
	return call
}

// parseCallArgs parses the parenthesised arguments of a call of name. upper
// is the upper-case name of an unqualified, unquoted function, used to
// recognise the SQL special forms.
func (p *parser) parseCallArgs(at Pos, name, upper string) *FuncCall {
	p.expectOp("(")
	call := &FuncCall{At: at, Name: name}
	if p.acceptOp(")") {
		return call
	}
	if p.isOp("*") && isOp(p.peek(1), ")") {
		// COUNT(*): the planner checks that the function takes it.
		p.next()
		p.next()
		call.Star = true
		return call
	}
	if p.acceptKw("DISTINCT") {
		call.Distinct = true
	} else {
		p.acceptKw("ALL")
	}
	switch upper {
	case "OVERLAY", "JSON_VALUE", "JSON_QUERY", "JSON_EXISTS", "JSON_OBJECT", "JSON_ARRAY":
		call.Args = p.parseSpecialArgs(upper) // json.go
		return call
	case "EXTRACT", "FLOOR", "CEIL", "CEILING", "TIMESTAMPADD", "TIMESTAMPDIFF":
		call.Args, _ = p.parseTemporalArgs(upper) // temporal.go
		return call
	case "TRIM":
		call.Args = p.parseTrimArgs()
		return call
	case "POSITION":
		// POSITION(a IN b): a is parsed above IN's precedence so that IN
		// is not read as a list membership test.
		a := p.parseConcat()
		p.expectKw("IN")
		b := p.parseExpr()
		p.expectOp(")")
		call.Args = []Expr{a, b}
		return call
	case "SUBSTRING":
		x := p.parseExpr()
		if p.acceptKw("FROM") {
			call.Args = []Expr{x, p.parseExpr()}
			if p.acceptKw("FOR") {
				call.Args = append(call.Args, p.parseExpr())
			}
			p.expectOp(")")
			return call
		}
		call.Args = []Expr{x}
		if p.acceptOp(",") {
			call.Args = append(call.Args, p.parseExprList(")")...)
		} else {
			p.expectOp(")")
		}
		return call
	}
	call.Args = p.parseExprList(")")
	return call
}

// parseTrimArgs parses the arguments of TRIM after '(': either x or
// [BOTH|LEADING|TRAILING] [chars] FROM x, into [x] or [mode, chars, x].
func (p *parser) parseTrimArgs() []Expr {
	modeTok := p.tok
	mode := ""
	if p.isAnyKw("BOTH", "LEADING", "TRAILING") {
		mode = p.tok.val
		p.next()
	}
	var chars Expr
	if !p.isKw("FROM") {
		chars = p.parseExpr()
		if mode == "" && p.acceptOp(")") {
			return []Expr{chars}
		}
	}
	fromAt := p.tok.pos
	p.expectKw("FROM")
	x := p.parseExpr()
	p.expectOp(")")
	if mode == "" {
		mode, modeTok.pos = "BOTH", fromAt
	}
	if chars == nil {
		chars = &Literal{At: fromAt, Kind: LitString, Text: " "}
	}
	return []Expr{&Literal{At: modeTok.pos, Kind: LitString, Text: mode}, chars, x}
}

// parseCast parses CAST(x AS type) or TRY_CAST(x AS type).
func (p *parser) parseCast(try bool) *Cast {
	c := &Cast{At: p.tok.pos, Try: try}
	p.next()
	p.expectOp("(")
	c.X = p.parseExpr()
	p.expectKw("AS")
	c.TypeAt = p.tok.pos
	c.Type = p.parseType()
	p.expectOp(")")
	return c
}

// parseCase parses CASE [operand] WHEN ... THEN ... [ELSE ...] END.
func (p *parser) parseCase() *Case {
	c := &Case{At: p.expectKw("CASE").pos}
	if p.isKw("END") {
		p.failExpected("WHEN")
	}
	if !p.isKw("WHEN") {
		c.Operand = p.parseExpr()
	}
	for p.acceptKw("WHEN") {
		var w When
		w.Cond = p.parseExpr()
		p.expectKw("THEN")
		w.Result = p.parseExpr()
		c.Whens = append(c.Whens, w)
	}
	if len(c.Whens) == 0 {
		p.failExpected("WHEN")
	}
	if p.acceptKw("ELSE") {
		c.Else = p.parseExpr()
	}
	if !p.isKw("END") {
		p.failExpected("WHEN, ELSE or END")
	}
	p.next()
	return c
}
