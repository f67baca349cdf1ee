// Package sql parses weir's subset of Flink SQL into an AST with positions.
//
// sql imports only types and suggest ("did you mean ...?" for mistyped
// keywords and type names).
//
// The entry points are Parse for a script of statements, ParseType for a
// data type and ParseExpr for a single expression. Every error they return
// is an *Error that carries the line and column of the offending token.
package sql

import (
	"fmt"

	"github.com/weir-dev/weir/internal/types"
)

// Pos is a position in the SQL text. Line and Col are 1-based, and Col counts
// runes (not bytes), so it matches what an editor shows for non-ASCII text.
type Pos struct{ Line, Col int }

// String returns the position as "line 3, column 7".
func (p Pos) String() string { return fmt.Sprintf("line %d, column %d", p.Line, p.Col) }

// Error is a syntax error at a position in the SQL text.
type Error struct {
	Pos Pos
	Msg string
}

// Error returns the message prefixed with its position, e.g.
// "SQL error at line 3, column 7: expected ')' but found 'FROM'".
func (e *Error) Error() string { return fmt.Sprintf("SQL error at %s: %s", e.Pos, e.Msg) }

// Parse parses a script of statements separated by ';'. A trailing ';' is
// optional and empty statements are ignored, so "" gives no statements.
func Parse(src string) ([]Statement, error) {
	var stmts []Statement
	err := run(src, func(p *parser) {
		for {
			for p.acceptOp(";") {
			}
			if p.tok.kind == tEOF {
				return
			}
			stmts = append(stmts, p.parseStatement())
			if p.tok.kind != tEOF && !p.isOp(";") {
				p.failEndOfStatement()
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return stmts, nil
}

// ParseType parses a data type such as "INT NOT NULL" or
// "ROW<`a` INT, b ARRAY<STRING NOT NULL>>". It accepts every spelling that
// types.T.String produces, so ParseType(t.String()) gives back t.
func ParseType(src string) (types.T, error) {
	var t types.T
	err := run(src, func(p *parser) {
		t = p.parseType()
		p.expectEOF("the end of the type")
	})
	if err != nil {
		return types.T{}, err
	}
	return t, nil
}

// ParseExpr parses a single scalar expression such as "a + 1 > b".
func ParseExpr(src string) (Expr, error) {
	var x Expr
	err := run(src, func(p *parser) {
		x = p.parseExpr()
		p.expectEOF("the end of the expression")
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}
