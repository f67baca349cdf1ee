package plan

import (
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/join"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// planSemiJoins plans the conditions x [NOT] IN (query) and [NOT] EXISTS
// (query) among the AND-ed conditions of q's WHERE as semi and anti joins
// over the rows of the FROM clause (the query is a pipeline of its own, as a
// join's build side), and returns q without them. The queries must not
// refer to the outer query's columns (weir has no correlated subqueries).
func planSemiJoins(cat *catalog, q *sql.Select, sc scope, p *pipeline) (*sql.Select, error) {
	if q.Where == nil {
		return q, nil
	}
	var rest []sql.Expr
	found := false
	for _, c := range sqlConjuncts(q.Where) {
		ok, err := planSemiJoin(cat, c, sc, p)
		if err != nil {
			return nil, err
		}
		if ok {
			found = true
			continue
		}
		rest = append(rest, c)
	}
	if !found {
		return q, nil
	}
	out := *q
	out.Where = nil
	for _, c := range rest {
		if out.Where == nil {
			out.Where = c
		} else {
			out.Where = &sql.Binary{At: out.Where.Pos(), Op: "AND", L: out.Where, R: c}
		}
	}
	return &out, nil
}

func sqlConjuncts(x sql.Expr) []sql.Expr {
	if b, ok := x.(*sql.Binary); ok && b.Op == "AND" {
		return append(sqlConjuncts(b.L), sqlConjuncts(b.R)...)
	}
	return []sql.Expr{x}
}

// planSemiJoin plans c when it is one of the subquery conditions.
func planSemiJoin(cat *catalog, c sql.Expr, sc scope, p *pipeline) (bool, error) {
	not := false
	if u, ok := c.(*sql.Unary); ok && u.Op == "NOT" {
		switch u.X.(type) {
		case *sql.Exists, *sql.InQuery:
			not, c = true, u.X
		}
	}
	var query *sql.Select
	var x sql.Expr
	switch c := c.(type) {
	case *sql.Exists:
		query = c.Query
	case *sql.InQuery:
		query, x = c.Query, c.X
		not = not != c.Not
	default:
		return false, nil
	}
	build := &Job{}
	q := &pipeline{params: p.params, pyCols: p.pyCols, inCols: p.inCols}
	rsc, err := planSubquery(cat, &sql.Subquery{At: query.At, Query: query}, build, q)
	if err != nil {
		return false, err
	}
	materializeSides(p, q) // streaming.go
	p.pyCols, p.inCols = q.pyCols, q.inCols
	if t := build.Source.Table; !bounded(t) || !joinBounded(build.Steps) {
		return false, errAt(c.Pos(), "this subquery reads %s, which never ends; weir runs subqueries on bounded input only", t.Name)
	}
	op := &join.Op{Kind: join.Semi, LeftWidth: len(p.schema)}
	if not {
		op.Kind = join.Anti
	}
	width := len(p.schema)
	if x != nil {
		if len(rsc) != 1 {
			return false, errAt(query.At, "the query of IN gives %d columns; it must give one", len(rsc))
		}
		b := &binder{cat: cat, scope: sc}
		lx, err := b.bind(x)
		if err != nil {
			return false, err
		}
		if expr.HasPyCall(lx) {
			return false, errAt(x.Pos(), "the left side of IN (query) calls a Python function; compute it in a subquery in FROM first")
		}
		rx := expr.Expr(&expr.Column{Index: 0, Name: rsc[0].name, T: rsc[0].t})
		if !comparable(lx.Type(), rx.Type()) {
			return false, errAt(x.Pos(), "cannot compare %s with the %s of the IN query", lx.Type(), rx.Type())
		}
		if !lx.Type().SameShape(rx.Type()) {
			t, ok := widen(lx.Type(), rx.Type())
			if !ok || !hashable(t) {
				return false, errAt(x.Pos(), "cannot compare %s with the %s of the IN query", lx.Type(), rx.Type())
			}
			lx, rx = coerce(lx, t), coerce(rx, t)
		}
		op.LeftKeys = keyColumns(p, []expr.Expr{lx}, "$inl")
		op.RightKeys = keyColumns(q, []expr.Expr{rx}, "$inr")
		if not {
			op.Kind = join.AntiNull
		}
	}
	build.Steps = q.steps
	op.Schema = p.schema
	op.RightSchema = q.schema
	op.Text = "in/exists"
	p.steps = append(p.steps, Step{Op: &JoinOp{Op: op, Build: build}})
	if len(p.schema) > width {
		p.addCalc(nil, identity(p.schema[:width]), append(types.Schema(nil), p.schema[:width]...))
	}
	return true, nil
}
