package plan

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/sortop"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// Operator is a Go operator that may hold rows back until its input ends:
// a hash aggregation or a sort. Run consumes and releases every batch of in.
type Operator interface {
	Run(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error
	String() string
}

// isAggregateQuery reports whether q groups its rows: GROUP BY, HAVING,
// SELECT DISTINCT or an aggregate call in the select list, HAVING or ORDER
// BY.
func isAggregateQuery(q *sql.Select) bool {
	if q.GroupBy != nil || q.Having != nil || q.Distinct {
		return true
	}
	found := false
	check := func(x sql.Expr) {
		walkAST(x, func(e sql.Expr) {
			if isAggCall(e) {
				found = true
			}
		})
	}
	for _, it := range q.Items {
		check(it.Expr)
	}
	for _, o := range q.OrderBy {
		check(o.X)
	}
	return found
}

func isAggCall(e sql.Expr) bool {
	c, ok := e.(*sql.FuncCall)
	if !ok {
		return false
	}
	_, agg := aggregate.Lookup(c.Name)
	return agg
}

// planAggregate plans the grouping of q over the input scope in: a Go calc
// (WHERE, then the keys and the aggregates' arguments), then the hash
// aggregation. It returns q rewritten over the aggregation's output (its
// HAVING as the WHERE; aggregate calls and grouped expressions replaced by
// the output's columns) and the scope of that output.
func planAggregate(cat *catalog, q *sql.Select, in scope, p *pipeline, job *Job) (*sql.Select, scope, error) {
	b := &binder{cat: cat, scope: in}
	var filter expr.Expr
	if q.Where != nil {
		var err error
		if filter, err = b.bind(q.Where); err != nil {
			return nil, nil, err
		}
		if err := wantBool(q.Where.Pos(), "WHERE", filter); err != nil {
			return nil, nil, err
		}
	}
	groupBy := q.GroupBy
	distinctAfter := q.Distinct && groupBy != nil
	if q.Distinct && !distinctAfter {
		// SELECT DISTINCT groups by every item; a star stands for its
		// columns.
		var items []sql.SelectItem
		for _, it := range q.Items {
			if !it.Star {
				items = append(items, it)
				continue
			}
			for _, c := range in {
				if it.StarQualifier != "" && !strings.EqualFold(it.StarQualifier, c.qual) {
					continue
				}
				id := &sql.Ident{At: it.At, Parts: []string{c.name}}
				if c.qual != "" {
					id.Parts = []string{c.qual, c.name}
				}
				items = append(items, sql.SelectItem{At: it.At, Expr: id})
			}
		}
		for _, it := range items {
			if err := noAggregates(it.Expr, "SELECT DISTINCT"); err != nil {
				return nil, nil, err
			}
			groupBy = append(groupBy, it.Expr)
		}
		q2 := *q
		q2.Items = items
		q = &q2
	}
	g := &grouping{b: b}
	var pre []expr.Expr // the calc before the aggregation
	var preNames []string
	var post scope
	for i, x := range groupBy {
		if err := noAggregates(x, "GROUP BY"); err != nil {
			return nil, nil, err
		}
		k, err := b.bind(x)
		if err != nil {
			return nil, nil, err
		}
		if err := checkGoNested(x.Pos(), k); err != nil {
			return nil, nil, err
		}
		if t := k.Type(); !groupable(t) {
			return nil, nil, errAt(x.Pos(), "GROUP BY on %s is not supported by weir yet", t)
		}
		col := column{name: fmt.Sprintf("$key%d", i), t: k.Type()}
		if c, ok := k.(*expr.Column); ok {
			col.qual, col.name = in[c.Index].qual, in[c.Index].name
		}
		g.keys = append(g.keys, exprKey(k))
		// Qualified, as both sides of a join may have a column of that name.
		ref := []string{col.name}
		if col.qual != "" {
			ref = []string{col.qual, col.name}
		}
		g.keyNames = append(g.keyNames, ref)
		pre = append(pre, k)
		preNames = append(preNames, col.name)
		post = append(post, col)
	}
	// GROUPING SETS, ROLLUP, CUBE and GROUPING() (groupingsets.go).
	sets, q, post, err := groupingSets(cat, q, g, post)
	if err != nil {
		return nil, nil, err
	}
	global := len(groupBy) == 0
	// With GROUP BY, DISTINCT applies to the projected groups: the
	// rewritten query keeps it and a second aggregation removes duplicates.
	out := &sql.Select{At: q.At, Distinct: distinctAfter, Limit: q.Limit, Offset: q.Offset, LimitAt: q.LimitAt}
	for i, it := range q.Items {
		if it.Star {
			return nil, nil, errAt(it.At, "* cannot be selected in an aggregating query; list the grouped columns")
		}
		x, err := g.rewrite(it.Expr)
		if err != nil {
			return nil, nil, err
		}
		alias := it.Alias
		if alias == "" {
			// Name the output as Flink does: a column keeps its name,
			// anything else is EXPR$<position>.
			alias = fmt.Sprintf("EXPR$%d", i)
			if id, ok := it.Expr.(*sql.Ident); ok {
				alias = id.Parts[len(id.Parts)-1]
			}
		}
		out.Items = append(out.Items, sql.SelectItem{At: it.At, Expr: x, Alias: alias})
	}
	if q.Having != nil {
		x, err := g.rewrite(q.Having)
		if err != nil {
			return nil, nil, err
		}
		out.Where = x
	}
	for _, o := range q.OrderBy {
		x := o.X
		if !isOrdinalOrAlias(x, q) {
			var err error
			if x, err = g.rewrite(o.X); err != nil {
				return nil, nil, err
			}
		}
		out.OrderBy = append(out.OrderBy, sql.OrderItem{X: x, Desc: o.Desc, Nulls: o.Nulls})
	}
	// The aggregates' arguments follow the keys in the calc.
	op := &aggregate.Op{}
	for i := range groupBy {
		op.Keys = append(op.Keys, i)
		op.Schema = append(op.Schema, types.Field{Name: preNames[i], Type: pre[i].Type()})
	}
	for i, a := range g.aggs {
		spec := aggregate.Spec{Func: a.fn, Distinct: a.distinct, Label: a.label, In: types.BIGINT, Separator: a.sep}
		if a.arg != nil {
			// Aggregates of the same argument (SUM(k), AVG(k)) share its
			// column, unless it calls Python (which may not be
			// deterministic).
			spec.In = a.arg.Type()
			spec.Arg = -1
			for j := len(groupBy); j < len(pre) && !expr.HasPyCall(a.arg); j++ {
				if strings.HasPrefix(preNames[j], "$arg") && exprKey(pre[j]) == exprKey(a.arg) && pre[j].Type().Equal(spec.In) {
					spec.Arg = j
					break
				}
			}
			if spec.Arg < 0 {
				spec.Arg = len(pre)
				pre = append(pre, a.arg)
				preNames = append(preNames, fmt.Sprintf("$arg%d", i))
			}
		}
		if a.filter != nil {
			spec.Filter, spec.HasFilter = len(pre), true
			pre = append(pre, a.filter)
			preNames = append(preNames, fmt.Sprintf("$filter%d", i))
		}
		t, err := aggregate.ResultType(a.fn, spec.In, global)
		if err != nil {
			return nil, nil, errAt(a.at, "%s: %v", a.label, err)
		}
		if a.filter != nil && a.fn != aggregate.Count && a.fn != aggregate.CountStar {
			// FILTER may leave a group no rows: NULL, as Flink types it.
			t = t.WithNullable(true)
		}
		spec.Out = t
		op.Aggs = append(op.Aggs, spec)
		name := fmt.Sprintf("$agg%d", i)
		op.Schema = append(op.Schema, types.Field{Name: name, Type: t})
		post = append(post, column{name: name, t: t})
	}
	if err := p.finish(pre, preNames, filter); err != nil {
		return nil, nil, err
	}
	if sets != nil {
		p.addExpand(op, sets, len(groupBy)) // groupingsets.go
	}
	// In streaming mode a grouping by window_start and window_end over a
	// window table function is a window aggregation (window.go).
	windowed, err := p.addWindowAgg(cat, op, sets != nil, q.At)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case !windowed && cat.streaming && hasCollect(op) && callsStreamingUDTAF(out):
		// A Python table aggregate function's keyed stage (udtaf_streaming.go).
		if out, post, err = p.addStreamingUDTAF(cat, op, out, post, sets != nil, q.At); err != nil {
			return nil, nil, err
		}
	case !windowed && cat.streaming && hasCollect(op) && callsUDAF(out):
		// Python aggregate functions with state in the engine (udaf_streaming.go).
		if out, post, err = p.addStreamingUDAFs(cat, op, out, post, sets != nil, q.At); err != nil {
			return nil, nil, err
		}
	case !windowed:
		if err := p.addGroupAgg(cat, op, q.At, job); err != nil { // streaming.go
			return nil, nil, err
		}
	}
	// The input's columns are kept only to explain why one cannot be used.
	g.hidden = in
	if err := g.checkGrouped(out, post); err != nil {
		return nil, nil, err
	}
	return out, post, nil
}

// groupable reports whether the aggregation can hash keys of type t.
func groupable(t types.T) bool {
	switch t.Kind {
	case types.Array, types.Map, types.Row, types.Null:
		return false
	}
	return true
}

// grouping collects the aggregate calls of a query and rewrites its
// expressions over the aggregation's output.
type grouping struct {
	b        *binder
	keys     []string   // bound key expressions, as strings
	keyNames [][]string // how the rewritten query names each key
	aggs     []aggCall
	hidden   scope
}

type aggCall struct {
	at       sql.Pos
	fn       aggregate.Func
	distinct bool
	arg      expr.Expr // nil for COUNT(*)
	filter   expr.Expr // FILTER (WHERE ...), or nil
	sep      string    // LISTAGG's separator
	label    string
}

// rewrite replaces the aggregate calls and the grouped expressions of x with
// columns of the aggregation's output.
func (g *grouping) rewrite(x sql.Expr) (sql.Expr, error) {
	var err error
	out := rewriteAST(x, func(e sql.Expr) sql.Expr {
		if err != nil {
			return e
		}
		if isAggCall(e) {
			var name string
			name, err = g.addAgg(e.(*sql.FuncCall))
			return &sql.Ident{At: e.Pos(), Parts: []string{name}}
		}
		if containsAgg(e) {
			return nil // rewrite the children
		}
		if _, lit := e.(*sql.Literal); lit {
			return e
		}
		if k, bindErr := g.b.bind(e); bindErr == nil {
			s := exprKey(k)
			for i, key := range g.keys {
				if s == key {
					return &sql.Ident{At: e.Pos(), Parts: g.keyNames[i]}
				}
			}
		}
		return nil
	})
	return out, err
}

func (g *grouping) addAgg(c *sql.FuncCall) (string, error) {
	fn, _ := aggregate.Lookup(c.Name)
	up := strings.ToUpper(c.Name)
	a := aggCall{at: c.At, fn: fn, distinct: c.Distinct}
	switch {
	case c.Star && fn == aggregate.Count:
		a.fn = aggregate.CountStar
		a.label = "COUNT(*)"
	case c.Star:
		return "", errAt(c.At, "%s(*) is not allowed; only COUNT takes *", up)
	case fn == aggregate.ListAgg && (len(c.Args) < 1 || len(c.Args) > 2):
		return "", errAt(c.At, "LISTAGG takes a string and an optional separator, got %d arguments", len(c.Args))
	case fn != aggregate.ListAgg && len(c.Args) != 1:
		return "", errAt(c.At, "%s takes one argument, got %d", up, len(c.Args))
	default:
		a.sep = ","
		if len(c.Args) == 2 {
			lit, ok := c.Args[1].(*sql.Literal)
			if !ok || lit.Kind != sql.LitString {
				return "", errAt(c.Args[1].Pos(), "LISTAGG's separator must be a string literal, such as '|'")
			}
			a.sep = lit.Text
		}
		for _, arg := range c.Args {
			if containsAgg(arg) {
				return "", errAt(arg.Pos(), "aggregate calls cannot be nested (here inside %s)", up)
			}
		}
		x, err := g.b.bind(c.Args[0])
		if err != nil {
			return "", err
		}
		if err := checkGoNested(c.Args[0].Pos(), x); err != nil {
			return "", err
		}
		if x.Type().Kind == types.Null {
			x = coerce(x, types.STRING)
		}
		a.arg = x
		d := ""
		if c.Distinct {
			d = "DISTINCT "
		}
		a.label = up + "(" + d + x.String() + ")"
		if len(c.Args) == 2 {
			a.label = up + "(" + d + x.String() + ", '" + strings.ReplaceAll(a.sep, "'", "''") + "')"
		}
	}
	if c.Filter != nil {
		if err := noAggregates(c.Filter, "FILTER"); err != nil {
			return "", err
		}
		f, err := g.b.bind(c.Filter)
		if err != nil {
			return "", err
		}
		if err := wantBool(c.Filter.Pos(), "FILTER", f); err != nil {
			return "", err
		}
		if err := checkGoNested(c.Filter.Pos(), f); err != nil {
			return "", err
		}
		a.filter = f
		a.label += " FILTER (WHERE " + f.String() + ")"
	}
	for i, prev := range g.aggs {
		if prev.label == a.label && sameInputs(prev, a) {
			return fmt.Sprintf("$agg%d", i), nil
		}
	}
	g.aggs = append(g.aggs, a)
	return fmt.Sprintf("$agg%d", len(g.aggs)-1), nil
}

// checkGrouped fails when q, rewritten over the aggregation's output, still
// names an input column: one that is neither grouped nor aggregated.
func (g *grouping) checkGrouped(q *sql.Select, post scope) error {
	var err error
	check := func(x sql.Expr) {
		walkAST(x, func(e sql.Expr) {
			id, ok := e.(*sql.Ident)
			if !ok || err != nil {
				return
			}
			if _, e1 := post.resolve(id); e1 == nil {
				return
			}
			if _, e2 := g.hidden.resolve(id); e2 == nil {
				err = errAt(id.At, "column %s is neither grouped nor aggregated; add it to GROUP BY or use it in an aggregate such as MAX(%s)", strings.Join(id.Parts, "."), strings.Join(id.Parts, "."))
			}
		})
	}
	for _, it := range q.Items {
		check(it.Expr)
	}
	check(q.Where)
	for _, o := range q.OrderBy {
		check(o.X)
	}
	return err
}

// noAggregates fails if x has an aggregate call.
func noAggregates(x sql.Expr, where string) error {
	var err error
	walkAST(x, func(e sql.Expr) {
		if err == nil && isAggCall(e) {
			err = errAt(e.Pos(), "aggregate functions are not allowed in %s", where)
		}
	})
	return err
}

func containsAgg(x sql.Expr) bool {
	found := false
	walkAST(x, func(e sql.Expr) {
		if isAggCall(e) {
			found = true
		}
	})
	return found
}

// isOrdinalOrAlias reports whether an ORDER BY key names an output column by
// position or alias (resolved later, over the output).
func isOrdinalOrAlias(x sql.Expr, q *sql.Select) bool {
	if lit, ok := x.(*sql.Literal); ok && lit.Kind == sql.LitInteger {
		return true
	}
	id, ok := x.(*sql.Ident)
	if !ok || len(id.Parts) != 1 {
		return false
	}
	for _, it := range q.Items {
		if it.Alias != "" && strings.EqualFold(it.Alias, id.Parts[0]) {
			return true
		}
	}
	return false
}

// walkAST calls f on x and every expression inside it.
func walkAST(x sql.Expr, f func(sql.Expr)) {
	rewriteAST(x, func(e sql.Expr) sql.Expr {
		f(e)
		return nil
	})
}

// rewriteAST returns x with each node replaced by f's result, top-down: when
// f returns nil the node is kept and its children are rewritten.
func rewriteAST(x sql.Expr, f func(sql.Expr) sql.Expr) sql.Expr {
	if x == nil {
		return nil
	}
	if r := f(x); r != nil {
		return r
	}
	rw := func(e sql.Expr) sql.Expr { return rewriteAST(e, f) }
	switch e := x.(type) {
	case *sql.Unary:
		c := *e
		c.X = rw(e.X)
		return &c
	case *sql.Binary:
		c := *e
		c.L, c.R = rw(e.L), rw(e.R)
		return &c
	case *sql.IsNull:
		c := *e
		c.X = rw(e.X)
		return &c
	case *sql.IsBool:
		c := *e
		c.X = rw(e.X)
		return &c
	case *sql.Between:
		c := *e
		c.X, c.Lo, c.Hi = rw(e.X), rw(e.Lo), rw(e.Hi)
		return &c
	case *sql.InList:
		c := *e
		c.X = rw(e.X)
		c.List = make([]sql.Expr, len(e.List))
		for i, y := range e.List {
			c.List[i] = rw(y)
		}
		return &c
	case *sql.Like:
		c := *e
		c.X, c.Pattern = rw(e.X), rw(e.Pattern)
		if e.Escape != nil {
			c.Escape = rw(e.Escape)
		}
		return &c
	case *sql.FuncCall:
		c := *e
		c.Args = make([]sql.Expr, len(e.Args))
		for i, y := range e.Args {
			c.Args[i] = rw(y)
		}
		c.Filter = rw(e.Filter)
		return &c
	case *sql.Cast:
		c := *e
		c.X = rw(e.X)
		return &c
	case *sql.Over:
		return rewriteOver(e, rw) // over.go
	case *sql.Case:
		c := *e
		c.Operand = rw(e.Operand)
		c.Whens = make([]sql.When, len(e.Whens))
		for i, w := range e.Whens {
			c.Whens[i] = sql.When{Cond: rw(w.Cond), Result: rw(w.Result)}
		}
		c.Else = rw(e.Else)
		return &c
	}
	return x
}

// orderKeys resolves the ORDER BY keys of q over the output columns outs
// (named labels) and the scope b binds in: an output's alias or 1-based
// position, an expression equal to an output, or else a new hidden column,
// returned in extra.
func orderKeys(q *sql.Select, b *binder, outs []expr.Expr, labels []string) (keys []sortop.Key, extra []expr.Expr, err error) {
	for _, o := range q.OrderBy {
		col := -1
		switch x := o.X.(type) {
		case *sql.Literal:
			if x.Kind == sql.LitInteger {
				n, _ := strconv.Atoi(x.Text)
				if n < 1 || n > len(outs) {
					return nil, nil, errAt(x.At, "ORDER BY position %s is not in the select list (1 to %d)", x.Text, len(outs))
				}
				col = n - 1
			}
		case *sql.Ident:
			if len(x.Parts) == 1 {
				for i, l := range labels {
					if strings.EqualFold(l, x.Parts[0]) {
						col = i
						break
					}
				}
			}
		}
		if col < 0 {
			e, err := b.bind(o.X)
			if err != nil {
				return nil, nil, err
			}
			if err := checkGoNested(o.X.Pos(), e); err != nil {
				return nil, nil, err
			}
			s := exprKey(e)
			for i, out := range outs {
				if exprKey(out) == s {
					col = i
					break
				}
			}
			if col < 0 {
				col = len(outs) + len(extra)
				extra = append(extra, e)
			}
		}
		t := types.T{}
		if col < len(outs) {
			t = outs[col].Type()
		} else {
			t = extra[col-len(outs)].Type()
		}
		if !groupable(t) {
			return nil, nil, errAt(o.X.Pos(), "ORDER BY on %s is not supported by weir yet", t.Kind)
		}
		k := sortop.Key{Col: col, Desc: o.Desc}
		// Flink's default: NULLs first ascending, last descending (NULL
		// is the smallest value).
		switch o.Nulls {
		case "FIRST":
			k.NullsFirst = true
		case "LAST":
			k.NullsFirst = false
		default:
			k.NullsFirst = !o.Desc
		}
		keys = append(keys, k)
	}
	return keys, extra, nil
}

// bounded reports whether a source table is bounded as Flink sees it: a
// datagen table only with 'number-of-rows' (a sequence field alone ends the
// data but leaves the source unbounded); filesystem tables always; kafka
// tables with a 'scan.bounded.mode'.
func bounded(t *Table) bool {
	if t == nil {
		return true
	}
	switch t.Connector() {
	case "datagen":
		_, ok := t.Options["number-of-rows"]
		return ok
	case "filesystem", MemoryConnector:
		return true
	case "kafka":
		return !endless(t)
	}
	return false
}

// noStrayFilter fails if x has FILTER (WHERE ...) on a function that is not
// an aggregate.
func noStrayFilter(x sql.Expr) error {
	var err error
	walkAST(x, func(e sql.Expr) {
		if c, ok := e.(*sql.FuncCall); ok && c.Filter != nil && !isAggCall(e) && err == nil {
			err = errAt(c.At, "FILTER (WHERE ...) applies only to aggregate functions, not to %s", c.Name)
		}
	})
	return err
}

// selectExprs lists the expressions of q's clauses.
func selectExprs(q *sql.Select) []sql.Expr {
	xs := []sql.Expr{q.Where, q.Having}
	for _, it := range q.Items {
		xs = append(xs, it.Expr)
	}
	xs = append(xs, q.GroupBy...)
	for _, o := range q.OrderBy {
		xs = append(xs, o.X)
	}
	return xs
}
