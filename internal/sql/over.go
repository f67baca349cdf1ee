package sql

import "fmt"

// Over is a window function call: Call OVER (window) or Call OVER name. Pos
// is the position of the function name.
type Over struct {
	At     Pos
	Call   *FuncCall
	Window *Window
}

// Window is the window of an OVER: [name] [PARTITION BY exprs] [ORDER BY
// items] [frame]. Ref names a window of the query's WINDOW clause, which the
// others refine (or stand for alone in OVER name); it is "" for a window
// written in full.
type Window struct {
	At          Pos
	Ref         string
	PartitionBy []Expr
	OrderBy     []OrderItem
	// Frame is nil when not written: the whole partition without ORDER BY,
	// RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW with it.
	Frame *Frame
}

// NamedWindow is one name AS (window) of a WINDOW clause.
type NamedWindow struct {
	At     Pos
	Name   string
	Window *Window
}

// Frame is ROWS|RANGE BETWEEN Start AND End; ROWS|RANGE x is read as
// BETWEEN x AND CURRENT ROW.
type Frame struct {
	At         Pos
	Rows       bool
	Start, End Bound
}

// BoundKind is the kind of a frame bound.
type BoundKind int

// The frame bound kinds, in the order a frame's start may not pass its end.
const (
	UnboundedPreceding BoundKind = iota
	Preceding
	CurrentRow
	Following
	UnboundedFollowing
)

// Bound is one end of a frame; Offset is the n of n PRECEDING or n
// FOLLOWING (nil for the other kinds).
type Bound struct {
	At     Pos
	Kind   BoundKind
	Offset Expr
}

// String spells a bound as in SQL.
func (b Bound) String() string {
	switch b.Kind {
	case UnboundedPreceding:
		return "UNBOUNDED PRECEDING"
	case CurrentRow:
		return "CURRENT ROW"
	case UnboundedFollowing:
		return "UNBOUNDED FOLLOWING"
	case Preceding:
		return fmt.Sprintf("%s PRECEDING", exprText(b.Offset))
	}
	return fmt.Sprintf("%s FOLLOWING", exprText(b.Offset))
}

func exprText(x Expr) string {
	if l, ok := x.(*Literal); ok {
		return l.Text
	}
	return "n"
}

// Pos returns the position of the function name.
func (x *Over) Pos() Pos { return x.At }

// isOverStart reports whether the tokens ahead are OVER ( or OVER name.
func (p *parser) isOverStart() bool {
	return p.isKw("OVER") && (isOp(p.peek(1), "(") || isName(p.peek(1)))
}

// parseOver parses OVER (window) or OVER name after call.
func (p *parser) parseOver(call *FuncCall) *Over {
	p.expectKw("OVER")
	o := &Over{At: call.At, Call: call}
	if !p.isOp("(") {
		name, at := p.parseName("a window name or '(' after OVER")
		o.Window = &Window{At: at, Ref: name}
		return o
	}
	o.Window = p.parseWindow()
	return o
}

// parseWindow parses ( [name] [PARTITION BY ...] [ORDER BY ...] [frame] ).
func (p *parser) parseWindow() *Window {
	w := &Window{At: p.expectOp("(").pos}
	if isName(p.tok) && !p.isAnyKw("PARTITION", "ROWS", "RANGE") {
		w.Ref, _ = p.parseName("a window name")
	}
	if p.acceptKw("PARTITION") {
		p.expectKw("BY")
		for {
			w.PartitionBy = append(w.PartitionBy, p.parseExpr())
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if p.acceptKw("ORDER") {
		p.expectKw("BY")
		for {
			w.OrderBy = append(w.OrderBy, p.parseOrderItem())
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if p.isAnyKw("ROWS", "RANGE") {
		w.Frame = p.parseFrame()
	}
	if !p.isOp(")") {
		p.failExpected("PARTITION BY, ORDER BY, ROWS, RANGE or ')' in the window")
	}
	p.next()
	return w
}

// parseFrame parses ROWS|RANGE BETWEEN bound AND bound, or ROWS|RANGE bound.
func (p *parser) parseFrame() *Frame {
	f := &Frame{At: p.tok.pos, Rows: p.isKw("ROWS")}
	p.next()
	if !p.acceptKw("BETWEEN") {
		f.Start = p.parseBound()
		f.End = Bound{At: f.Start.At, Kind: CurrentRow}
		return f
	}
	f.Start = p.parseBound()
	p.expectKw("AND")
	f.End = p.parseBound()
	return f
}

// parseBound parses UNBOUNDED PRECEDING|FOLLOWING, CURRENT ROW, or n
// PRECEDING|FOLLOWING.
func (p *parser) parseBound() Bound {
	b := Bound{At: p.tok.pos}
	switch {
	case p.acceptKw("UNBOUNDED"):
		switch {
		case p.acceptKw("PRECEDING"):
			b.Kind = UnboundedPreceding
		case p.acceptKw("FOLLOWING"):
			b.Kind = UnboundedFollowing
		default:
			p.failExpected("PRECEDING or FOLLOWING after UNBOUNDED")
		}
		return b
	case p.acceptKw("CURRENT"):
		p.expectKw("ROW")
		b.Kind = CurrentRow
		return b
	}
	b.Offset = p.parseAdditive()
	switch {
	case p.acceptKw("PRECEDING"):
		b.Kind = Preceding
	case p.acceptKw("FOLLOWING"):
		b.Kind = Following
	default:
		p.failExpected("PRECEDING or FOLLOWING after the frame offset")
	}
	return b
}

// parseWindowClause parses WINDOW name AS (window), ... after the WINDOW
// keyword.
func (p *parser) parseWindowClause() []NamedWindow {
	var ws []NamedWindow
	for {
		name, at := p.parseName("a window name")
		p.expectKw("AS")
		ws = append(ws, NamedWindow{At: at, Name: name, Window: p.parseWindow()})
		if !p.acceptOp(",") {
			return ws
		}
	}
}

// parseOrderItem parses expr [ASC|DESC] [NULLS FIRST|LAST].
func (p *parser) parseOrderItem() OrderItem {
	it := OrderItem{X: p.parseExpr()}
	if p.acceptKw("DESC") {
		it.Desc = true
	} else {
		p.acceptKw("ASC")
	}
	if p.acceptKw("NULLS") {
		switch {
		case p.acceptKw("FIRST"):
			it.Nulls = "FIRST"
		case p.acceptKw("LAST"):
			it.Nulls = "LAST"
		default:
			p.failExpected("FIRST or LAST after NULLS")
		}
	}
	return it
}
