package sql

import "fmt"

// Watermark is WATERMARK FOR column AS expression in CREATE TABLE: the
// column is the table's event time (its rowtime attribute), the expression
// (column, or column - INTERVAL ...) the watermark each row gives.
type Watermark struct {
	At       Pos
	Column   string
	ColumnAt Pos
	Expr     Expr
}

// WindowTVF is a window table-valued function in FROM:
// TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), size [, offset])),
// TABLE(HOP(TABLE t, DESCRIPTOR(ts), slide, size [, offset])) or
// TABLE(CUMULATE(TABLE t, DESCRIPTOR(ts), step, max size [, offset])) or
// TABLE(SESSION(TABLE t [PARTITION BY k, ...], DESCRIPTOR(ts), gap)).
// At is the position of the first TABLE, FuncAt of the function's name.
type WindowTVF struct {
	At, FuncAt Pos
	Func       string
	Input      *TableRef
	// PartitionBy are SESSION's PARTITION BY columns, with their positions.
	PartitionBy   []string
	PartitionByAt []Pos
	TimeCol       string
	TimeColAt     Pos
	Args          []Expr
	Alias         string
}

func (w *WindowTVF) Pos() Pos { return w.At }

// parseWatermark parses WATERMARK FOR column AS expression.
func (p *parser) parseWatermark() *Watermark {
	w := &Watermark{At: p.expectKw("WATERMARK").pos}
	p.expectKw("FOR")
	w.Column, w.ColumnAt = p.parseName("the event-time column after WATERMARK FOR")
	p.expectKw("AS")
	w.Expr = p.parseExpr()
	return w
}

// parseWindowTVF parses TABLE(fn(TABLE t, DESCRIPTOR(col), interval, ...)).
func (p *parser) parseWindowTVF() *WindowTVF {
	w := &WindowTVF{At: p.expectKw("TABLE").pos}
	p.expectOp("(")
	if p.tok.kind != tWord {
		p.failExpected("a window function (TUMBLE, HOP, CUMULATE or SESSION) after TABLE(")
	}
	w.Func, w.FuncAt = p.tok.val, p.tok.pos
	switch w.Func {
	case "TUMBLE", "HOP", "CUMULATE", "SESSION":
	default:
		p.fail(w.FuncAt, fmt.Sprintf("%s in FROM is not supported by weir; TABLE(...) takes the window functions TUMBLE, HOP, CUMULATE or SESSION (other table functions: LATERAL TABLE(...) after a table)", p.tok.text))
	}
	p.next()
	p.expectOp("(")
	if isOp(p.peek(1), "=>") || isOp(p.peek(1), "=") && isOp(p.peek(2), ">") {
		p.fail(p.tok.pos, "named arguments of window functions are not supported by weir; pass them in order: TABLE t, DESCRIPTOR(col), interval, ...")
	}
	if !p.isKw("TABLE") {
		p.failExpected(fmt.Sprintf("TABLE name as the first argument of %s", w.Func))
	}
	p.next()
	t := &TableRef{}
	t.Name, t.At = p.parseQualifiedName("a table name")
	w.Input = t
	if p.isKw("PARTITION") {
		if w.Func != "SESSION" {
			p.fail(p.tok.pos, fmt.Sprintf("%s takes no PARTITION BY; only SESSION does", w.Func))
		}
		p.next()
		p.expectKw("BY")
		paren := p.acceptOp("(")
		// Several columns go in parentheses: without them a comma ends
		// the table argument, as in Flink.
		for {
			n, at := p.parseName("a column after PARTITION BY")
			w.PartitionBy = append(w.PartitionBy, n)
			w.PartitionByAt = append(w.PartitionByAt, at)
			if !paren || !p.acceptOp(",") {
				break
			}
		}
		if paren {
			p.expectOp(")")
		}
	}
	p.expectOp(",")
	if !p.isKw("DESCRIPTOR") {
		p.failExpected(fmt.Sprintf("DESCRIPTOR(time column) as the second argument of %s", w.Func))
	}
	p.next()
	p.expectOp("(")
	w.TimeCol, w.TimeColAt = p.parseName("the time column in DESCRIPTOR(...)")
	p.expectOp(")")
	for p.acceptOp(",") {
		w.Args = append(w.Args, p.parseExpr())
	}
	p.expectOp(")")
	p.expectOp(")")
	w.Alias = p.parseAlias()
	return w
}
