package sql

import (
	"fmt"
	"strings"
)

// SetOp is a set operation of two queries: UNION, INTERSECT or EXCEPT, ALL
// or not. A query with set operations is parsed as SELECT * FROM (SetOp)
// whose ORDER BY, LIMIT and OFFSET are those written after the last
// operand (they apply to the whole result, as in Flink).
type SetOp struct {
	At          Pos
	Op          string // "UNION", "INTERSECT" or "EXCEPT"
	All         bool
	Left, Right *Select
}

// Pos is where the left operand starts.
func (s *SetOp) Pos() Pos { return s.Left.At }

// parseSetQuery parses operands joined by UNION and EXCEPT, of operands
// joined by INTERSECT (which binds tighter), left to right.
func (p *parser) parseSetQuery() *Select {
	q, _ := p.parseSetLevel([]string{"UNION", "EXCEPT"}, p.parseIntersect)
	return q
}

func (p *parser) parseIntersect() (*Select, bool) {
	return p.parseSetLevel([]string{"INTERSECT"}, p.parseOperand)
}

// parseOperand parses a query term and says whether it was parenthesised
// (its own ORDER BY and LIMIT then stay with it).
func (p *parser) parseOperand() (*Select, bool) {
	paren := p.isOp("(")
	return p.parseQueryTerm(), paren
}

func (p *parser) parseSetLevel(ops []string, operand func() (*Select, bool)) (*Select, bool) {
	left, paren := operand()
	for p.isAnyKw(ops...) {
		at := p.tok.pos
		op := strings.ToUpper(p.tok.val)
		if !paren && (left.OrderBy != nil || left.Limit >= 0 || left.Offset > 0) {
			p.fail(at, fmt.Sprintf("ORDER BY, LIMIT and OFFSET cannot come before %s; put the query in parentheses", op))
		}
		p.next()
		all := p.acceptKw("ALL")
		if !all {
			p.acceptKw("DISTINCT")
		}
		right, rparen := operand()
		s := &SetOp{At: at, Op: op, All: all, Left: left, Right: right}
		w := &Select{At: left.At, Items: []SelectItem{{At: at, Star: true}}, From: s, Limit: -1}
		if !rparen {
			// ORDER BY and LIMIT after the last operand are the whole query's.
			w.OrderBy, w.Limit, w.Offset, w.LimitAt = right.OrderBy, right.Limit, right.Offset, right.LimitAt
			right.OrderBy, right.Limit, right.Offset = nil, -1, 0
		}
		left, paren = w, false
	}
	return left, paren
}
