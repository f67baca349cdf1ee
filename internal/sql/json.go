package sql

import "github.com/weir-dev/weir/internal/types"

// The special forms of OVERLAY and the JSON functions, read into plain
// arguments of a FuncCall. A clause's choice is a LitString of its
// upper-case words; a RETURNING type is a CAST(NULL AS type).
//
//	OVERLAY(x PLACING r FROM p [FOR n])   Args [x, r, p] or [x, r, p, n]
//	JSON_VALUE(j, path [RETURNING t] [b ON EMPTY] [b ON ERROR]), b one of
//	NULL, ERROR, DEFAULT e
//	                      Args [j, path, CAST(NULL AS t) (default STRING),
//	                      empty "NULL"|"ERROR"|"DEFAULT", empty default (or
//	                      NULL), error "NULL"|"ERROR"|"DEFAULT", error default]
//	JSON_QUERY(j, path [RETURNING t] [WITH|WITHOUT [CONDITIONAL|UNCONDITIONAL] [ARRAY] WRAPPER]
//	[b ON EMPTY] [b ON ERROR]), b one of NULL, ERROR, EMPTY ARRAY, EMPTY OBJECT
//	                      Args [j, path, CAST(NULL AS t), wrapper "WITHOUT"|
//	                      "CONDITIONAL"|"UNCONDITIONAL", empty b, error b]
//	JSON_EXISTS(j, path [b ON ERROR]), b one of TRUE, FALSE, UNKNOWN, ERROR
//	                      Args [j, path, b (default "FALSE")]
//	JSON_OBJECT([KEY] k VALUE v, ... [NULL|ABSENT ON NULL])
//	                      Args ["NULL"|"ABSENT" (default NULL), k1, v1, ...]
//	JSON_ARRAY(v, ... [NULL|ABSENT ON NULL])
//	                      Args ["NULL"|"ABSENT" (default ABSENT), v1, ...]
//	x[i]                  FuncCall "ITEM", Args [x, i] (element access)
//	x IS [NOT] JSON [VALUE|SCALAR|ARRAY|OBJECT]
//	                      FuncCall "IS JSON", Args [x, kind (default
//	                      "VALUE")], under NOT for IS NOT JSON

// parseSpecialArgs parses the arguments of OVERLAY or a JSON function after
// its '(' up to and including the ')'.
func (p *parser) parseSpecialArgs(upper string) []Expr {
	word := func(w string) Expr { return &Literal{At: p.tok.pos, Kind: LitString, Text: w} }
	var args []Expr
	switch upper {
	case "OVERLAY":
		args = []Expr{p.parseExpr()}
		p.expectKw("PLACING")
		args = append(args, p.parseExpr())
		p.expectKw("FROM")
		args = append(args, p.parseExpr())
		if p.acceptKw("FOR") {
			args = append(args, p.parseExpr())
		}
	case "JSON_VALUE", "JSON_QUERY", "JSON_EXISTS":
		args = []Expr{p.parseExpr()}
		p.expectOp(",")
		args = append(args, p.parseExpr())
		if upper == "JSON_EXISTS" {
			b := word("FALSE")
			if p.isAnyKw("TRUE", "FALSE", "UNKNOWN", "ERROR") {
				b = word(p.tok.val)
				p.next()
				p.expectKw("ON")
				p.expectKw("ERROR")
			}
			args = append(args, b)
			break
		}
		ret := &Cast{At: p.tok.pos, X: &Literal{At: p.tok.pos, Kind: LitNull, Text: "NULL"}, Type: types.STRING}
		if p.acceptKw("RETURNING") {
			ret.TypeAt = p.tok.pos
			ret.Type = p.parseType()
		}
		args = append(args, ret)
		if upper == "JSON_QUERY" {
			wrapper := word("WITHOUT")
			if p.isAnyKw("WITH", "WITHOUT") {
				with := p.tok.val == "WITH"
				p.next()
				kind := "UNCONDITIONAL"
				if with && p.acceptKw("CONDITIONAL") {
					kind = "CONDITIONAL"
				} else {
					p.acceptKw("UNCONDITIONAL")
				}
				p.acceptKw("ARRAY")
				p.expectKw("WRAPPER")
				if with {
					wrapper = word(kind)
				}
			}
			args = append(args, wrapper)
		}
		empty, emptyDefault := word("NULL"), Expr(&Literal{At: p.tok.pos, Kind: LitNull, Text: "NULL"})
		failure, failureDefault := word("NULL"), Expr(&Literal{At: p.tok.pos, Kind: LitNull, Text: "NULL"})
		for p.isAnyKw("NULL", "ERROR", "DEFAULT", "EMPTY") {
			b := word(p.tok.val)
			var def Expr = &Literal{At: p.tok.pos, Kind: LitNull, Text: "NULL"}
			switch {
			case upper == "JSON_VALUE" && p.acceptKw("DEFAULT"):
				def = p.parseConcat()
			case upper == "JSON_QUERY" && p.acceptKw("EMPTY"):
				if p.isAnyKw("ARRAY", "OBJECT") {
					b = word("EMPTY " + p.tok.val)
					p.next()
				} else {
					p.failExpected("ARRAY or OBJECT after EMPTY")
				}
			case p.isAnyKw("NULL", "ERROR"):
				p.next()
			default:
				p.failExpected("NULL or ERROR")
			}
			p.expectKw("ON")
			switch {
			case p.acceptKw("EMPTY"):
				empty, emptyDefault = b, def
			case p.acceptKw("ERROR"):
				failure, failureDefault = b, def
			default:
				p.failExpected("EMPTY or ERROR after ON")
			}
		}
		if upper == "JSON_VALUE" {
			args = append(args, empty, emptyDefault, failure, failureDefault)
		} else {
			args = append(args, empty, failure)
		}
	case "JSON_OBJECT", "JSON_ARRAY":
		mode := "NULL"
		if upper == "JSON_ARRAY" {
			mode = "ABSENT"
		}
		var items []Expr
		for !p.isOp(")") {
			if p.isAnyKw("NULL", "ABSENT") && isKw(p.peek(1), "ON") {
				mode = p.tok.val
				p.next()
				p.next()
				p.expectKw("NULL")
				break
			}
			if len(items) > 0 {
				p.expectOp(",")
			}
			if upper == "JSON_OBJECT" {
				if isKw(p.tok, "KEY") && p.peek(1).kind == tString {
					p.next()
				}
				items = append(items, p.parseConcat())
				p.expectKw("VALUE")
			}
			items = append(items, p.parseConcat())
		}
		args = append([]Expr{word(mode)}, items...)
	}
	p.expectOp(")")
	return args
}

// parseIsJSON parses the rest of x IS [NOT] JSON [VALUE|SCALAR|ARRAY|OBJECT]
// from JSON on.
func (p *parser) parseIsJSON(x Expr, not bool) Expr {
	at := p.expectKw("JSON").pos
	kind := &Literal{At: at, Kind: LitString, Text: "VALUE"}
	if p.isAnyKw("VALUE", "SCALAR", "ARRAY", "OBJECT") {
		kind.Text = p.tok.val
		p.next()
	}
	var e Expr = &FuncCall{At: x.Pos(), Name: "IS JSON", Args: []Expr{x, kind}}
	if not {
		e = &Unary{At: x.Pos(), Op: "NOT", X: e}
	}
	return e
}

// parseItemAccess parses the element accesses x[i][j]... after x.
func (p *parser) parseItemAccess(x Expr) Expr {
	for p.isOp("[") {
		at := p.tok.pos
		p.next()
		i := p.parseExpr()
		p.expectOp("]")
		x = &FuncCall{At: at, Name: "ITEM", Args: []Expr{x, i}}
	}
	return x
}
