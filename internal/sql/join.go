package sql

import "fmt"

// JoinType is the kind of a join between two FROM items.
type JoinType int

// The kinds of Join.
const (
	JoinInner JoinType = iota // [INNER] JOIN ... ON
	JoinLeft                  // LEFT [OUTER] JOIN ... ON
	JoinRight                 // RIGHT [OUTER] JOIN ... ON
	JoinFull                  // FULL [OUTER] JOIN ... ON
	JoinCross                 // a comma or CROSS JOIN: no ON
)

// String returns the join as written in SQL, e.g. "LEFT JOIN".
func (t JoinType) String() string {
	return [...]string{"INNER JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "CROSS JOIN"}[t]
}

// Join joins two FROM items (tables, inline tables, subqueries or other
// joins). At is the position of the join's keyword (or comma); On is nil
// for JoinCross. Several joins in a row nest through Left, the first one
// innermost.
type Join struct {
	At    Pos
	Type  JoinType
	Left  From
	Right From
	On    Expr
}

// Pos is where the join's left side starts.
func (j *Join) Pos() Pos { return j.Left.Pos() }

// parseJoin parses the right side of a join (and its ON when the join needs
// one) after the join's keywords.
func (p *parser) parseJoin(at Pos, left From, t JoinType) *Join {
	j := &Join{At: at, Type: t, Left: left, Right: p.parseFromPrimary()}
	switch {
	case t == JoinCross && p.isKw("ON"):
		p.fail(p.tok.pos, "a comma or CROSS JOIN takes no ON condition; remove it, or write JOIN ... ON ...")
	case t != JoinCross && !p.isKw("ON"):
		p.failExpected(fmt.Sprintf("ON after %s (weir supports no USING; write ON a.x = b.x)", t))
	case t != JoinCross:
		p.next()
		j.On = p.parseExpr()
	}
	return j
}
