package plan

import (
	"strconv"
	"strings"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// groupingSets prepares GROUP BY GROUPING SETS, ROLLUP and CUBE (and
// GROUPING() under a plain GROUP BY, as one set of every key) once the keys
// of q are bound into g: it returns the sets as positions of the keys (a
// key written twice counts at its first place), q with GROUPING(x) and
// GROUPING_ID(x, ...) read from the grouping id, and post with the keys
// NULL-able and the columns $gid and $set added. sets is nil for a plain
// GROUP BY.
func groupingSets(cat *catalog, q *sql.Select, g *grouping, post scope) ([][]int, *sql.Select, scope, error) {
	if err := refuseCollect(q); err != nil {
		return nil, nil, nil, err
	}
	if q.GroupingSets == nil && !usesGrouping(q) {
		return nil, q, post, nil
	}
	if q.GroupBy == nil {
		return nil, nil, nil, errAt(q.At, "GROUPING and GROUPING_ID may only occur in a query with GROUP BY")
	}
	if cat.streaming {
		return nil, nil, nil, errAt(q.At, "GROUPING SETS, ROLLUP, CUBE and GROUPING run in batch mode only in weir (SET 'execution.runtime-mode' = 'batch')")
	}
	n := len(g.keys)
	first := make([]int, n)
	for i, k := range g.keys {
		first[i] = i
		for j := 0; j < i; j++ {
			if g.keys[j] == k {
				first[i] = j
				break
			}
		}
	}
	sets := q.GroupingSets
	if sets == nil {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		sets = [][]int{all}
	}
	out := make([][]int, len(sets))
	for s, set := range sets {
		seen := map[int]bool{}
		out[s] = []int{}
		for _, k := range set {
			if !seen[first[k]] {
				seen[first[k]] = true
				out[s] = append(out[s], first[k])
			}
		}
	}
	var err error
	rw := func(x sql.Expr) sql.Expr {
		return rewriteAST(x, func(e sql.Expr) sql.Expr {
			c, ok := e.(*sql.FuncCall)
			if !ok || err != nil {
				return nil
			}
			up := strings.ToUpper(c.Name)
			if up != "GROUPING" && up != "GROUPING_ID" {
				return nil
			}
			if len(c.Args) == 0 || c.Star {
				err = errAt(c.At, "%s needs one or more grouped expressions", up)
				return e
			}
			// GROUPING_ID(a, b) is GROUPING(a) * 2 + GROUPING(b).
			var sum sql.Expr
			for _, a := range c.Args {
				bound, bindErr := g.b.bind(a)
				pos := -1
				if bindErr == nil {
					for i, k := range g.keys {
						if k == exprKey(bound) {
							pos = first[i]
							break
						}
					}
				}
				if pos < 0 {
					err = errAt(a.Pos(), "the argument of %s must be a grouped expression (one of GROUP BY's)", up)
					return e
				}
				bit := &sql.Binary{At: c.At, Op: "%", L: &sql.Binary{At: c.At, Op: "/", L: &sql.Ident{At: c.At, Parts: []string{"$gid"}}, R: intLit(c.At, int64(1)<<(n-1-pos))}, R: intLit(c.At, 2)}
				if sum == nil {
					sum = bit
				} else {
					sum = &sql.Binary{At: c.At, Op: "+", L: &sql.Binary{At: c.At, Op: "*", L: sum, R: intLit(c.At, 2)}, R: bit}
				}
			}
			return sum
		})
	}
	q2 := *q
	q2.Items = append([]sql.SelectItem(nil), q.Items...)
	for i := range q2.Items {
		q2.Items[i].Expr = rw(q.Items[i].Expr)
	}
	q2.Having = rw(q.Having)
	q2.OrderBy = append([]sql.OrderItem(nil), q.OrderBy...)
	for i := range q2.OrderBy {
		q2.OrderBy[i].X = rw(q.OrderBy[i].X)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	post = append(scope(nil), post...)
	for i := range post {
		post[i].t = post[i].t.WithNullable(true)
		if first[i] != i {
			// A key written again is always NULL; the query reads the
			// first one.
			post[i] = column{name: "$dupkey" + strconv.Itoa(i), t: post[i].t}
		}
	}
	post = append(post, column{name: "$gid", t: types.BIGINT.NotNull()}, column{name: "$set", t: types.INT.NotNull()})
	return out, &q2, post, nil
}

func intLit(at sql.Pos, v int64) *sql.Literal {
	return &sql.Literal{At: at, Kind: sql.LitInteger, Text: strconv.FormatInt(v, 10)}
}

// usesGrouping reports whether q calls GROUPING or GROUPING_ID.
func usesGrouping(q *sql.Select) bool {
	found := false
	for _, x := range selectExprs(q) {
		walkAST(x, func(e sql.Expr) {
			if c, ok := e.(*sql.FuncCall); ok && (strings.EqualFold(c.Name, "GROUPING") || strings.EqualFold(c.Name, "GROUPING_ID")) {
				found = true
			}
		})
	}
	return found
}

// addExpand puts the Expand of sets before the aggregation op (whose first
// nk keys are the grouped columns, the first columns of the pipeline) and
// groups op also by $gid and $set.
func (p *pipeline) addExpand(op *aggregate.Op, sets [][]int, nk int) {
	e := &aggregate.Expand{Schema: p.schema, Sets: sets}
	for i := 0; i < nk; i++ {
		e.Keys = append(e.Keys, i)
	}
	p.steps = append(p.steps, Step{Op: e})
	p.schema = e.OutSchema()
	width := len(p.schema)
	op.Keys = append(op.Keys, width-2, width-1)
	schema := append(types.Schema(nil), op.Schema[:nk]...)
	for i := range schema {
		schema[i].Type = schema[i].Type.WithNullable(true)
	}
	schema = append(schema, p.schema[width-2], p.schema[width-1])
	op.Schema = append(schema, op.Schema[nk:]...)
}

// refuseCollect refuses COLLECT, whose MULTISET result weir's types cannot
// carry.
func refuseCollect(q *sql.Select) error {
	var err error
	for _, x := range selectExprs(q) {
		walkAST(x, func(e sql.Expr) {
			if c, ok := e.(*sql.FuncCall); ok && strings.EqualFold(c.Name, "COLLECT") && err == nil {
				err = errAt(c.At, "COLLECT returns a MULTISET, a type weir cannot carry yet; use LISTAGG for strings, or a Python aggregate function")
			}
		})
	}
	return err
}
