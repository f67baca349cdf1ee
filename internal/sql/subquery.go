package sql

// InQuery is X [NOT] IN (query); the query has one column.
type InQuery struct {
	At    Pos
	X     Expr
	Query *Select
	Not   bool
}

// Exists is EXISTS (query).
type Exists struct {
	At    Pos
	Query *Select
}

// Pos is where the left operand starts.
func (x *InQuery) Pos() Pos { return x.At }

// Pos is where EXISTS is.
func (x *Exists) Pos() Pos { return x.At }

// parseInQuery parses the query of x [NOT] IN (query) after its '('.
func (p *parser) parseInQuery(x Expr, not bool) *InQuery {
	q := &InQuery{At: x.Pos(), X: x, Query: p.parseQuery(), Not: not}
	p.expectOp(")")
	return q
}

// parseExists parses EXISTS (query).
func (p *parser) parseExists() *Exists {
	e := &Exists{At: p.expectKw("EXISTS").pos}
	p.expectOp("(")
	e.Query = p.parseQuery()
	p.expectOp(")")
	return e
}

// ScalarQuery is (query) as a value: the query gives one column and at most
// one row (NULL when none).
type ScalarQuery struct {
	At    Pos
	Query *Select
}

// Pos is where the '(' is.
func (x *ScalarQuery) Pos() Pos { return x.At }
