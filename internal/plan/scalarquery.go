package plan

import (
	"fmt"

	"github.com/weir-dev/weir/internal/join"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// scalarPrefix names the hidden columns that hold the values of scalar
// subqueries; SELECT * skips them.
const scalarPrefix = "$scalar"

// planScalarQueries plans each (query) used as a value in q's select list
// and WHERE as a left join, without keys, of the FROM rows with the query's
// one row (NULL when it has none; more than one fails the job, as in Flink),
// and rewrites q to read the joined column. The queries must not refer to
// the outer query's columns.
func planScalarQueries(cat *catalog, q *sql.Select, sc scope, p *pipeline) (*sql.Select, scope, error) {
	var err error
	n := 0
	rw := func(x sql.Expr) sql.Expr {
		return rewriteAST(x, func(e sql.Expr) sql.Expr {
			s, ok := e.(*sql.ScalarQuery)
			if !ok || err != nil {
				return nil
			}
			if isAggregateQuery(q) {
				err = errAt(s.At, "weir supports a (SELECT ...) value only in queries that do not aggregate; compute it in a subquery in FROM")
				return nil
			}
			name := fmt.Sprintf("%s%d", scalarPrefix, len(sc))
			if err = planScalarQuery(cat, s, name, p); err != nil {
				return nil
			}
			sc = append(sc, column{name: name, t: p.schema[len(p.schema)-1].Type})
			n++
			return &sql.Ident{At: s.At, Parts: []string{name}}
		})
	}
	out := *q
	out.Items = append([]sql.SelectItem(nil), q.Items...)
	for i := range out.Items {
		if out.Items[i].Expr != nil {
			out.Items[i].Expr = rw(out.Items[i].Expr)
		}
	}
	out.Where = rw(q.Where)
	if err != nil {
		return nil, nil, err
	}
	if n == 0 {
		return q, sc, nil
	}
	return &out, sc, nil
}

func planScalarQuery(cat *catalog, s *sql.ScalarQuery, name string, p *pipeline) error {
	build := &Job{}
	q := &pipeline{params: p.params, pyCols: p.pyCols, inCols: p.inCols}
	rsc, err := planSubquery(cat, &sql.Subquery{At: s.At, Query: s.Query}, build, q)
	if err != nil {
		return err
	}
	materializeSides(p, q) // streaming.go
	p.pyCols, p.inCols = q.pyCols, q.inCols
	if len(rsc) != 1 {
		return errAt(s.At, "a (SELECT ...) used as a value must give one column; this one gives %d", len(rsc))
	}
	if t := build.Source.Table; !bounded(t) || !joinBounded(build.Steps) {
		return errAt(s.At, "this subquery reads %s, which never ends; weir runs subqueries on bounded input only", t.Name)
	}
	build.Steps = q.steps
	schema := append(types.Schema(nil), p.schema...)
	schema = append(schema, types.Field{Name: name, Type: q.schema[0].Type.WithNullable(true)})
	op := &join.Op{Kind: join.Left, Schema: schema, LeftWidth: len(p.schema), SingleRow: true, Text: "scalar subquery"}
	p.steps = append(p.steps, Step{Op: &JoinOp{Op: op, Build: build}})
	p.schema = schema
	return nil
}
