package plan

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/over"
	"github.com/weir-dev/weir/internal/sortop"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// topNOver is a ranking window of a subquery whose outer query keeps only
// the rows ranked up to limit (the Top-N pattern, see pushTopN): its
// operator may drop the others early.
type topNOver struct {
	*sql.Over
	limit int64
}

// hasOver reports whether x has a window function call.
func hasOver(x sql.Expr) bool {
	found := false
	walkAST(x, func(e sql.Expr) {
		switch e.(type) {
		case *sql.Over, *topNOver:
			found = true
		}
	})
	return found
}

// planWindows plans the window functions of q's select list (over the rows
// of scope in, after WHERE or, in an aggregating query, HAVING): a Go calc
// computing their partition keys, order keys and arguments, then one
// operator per distinct PARTITION BY / ORDER BY. It returns q rewritten to
// read their results, without its WHERE, and the scope it reads.
func planWindows(cat *catalog, q *sql.Select, in scope, p *pipeline) (*sql.Select, scope, error) {
	// COLLECT outside GROUP BY reaches here as a plain call (groupingsets.go).
	if err := refuseCollect(q); err != nil {
		return nil, nil, err
	}
	any := false
	for _, it := range q.Items {
		any = any || hasOver(it.Expr)
	}
	for _, x := range []sql.Expr{q.Where, q.Having} {
		if hasOver(x) {
			return nil, nil, errAt(x.Pos(), "window functions (OVER) are not allowed in WHERE or HAVING; compute them in a subquery in FROM and filter its rows outside")
		}
	}
	for _, o := range q.OrderBy {
		if hasOver(o.X) {
			return nil, nil, errAt(o.X.Pos(), "window functions (OVER) are not supported in ORDER BY by weir; select the window value with an alias and order by the alias")
		}
	}
	if !any {
		if len(q.Windows) > 0 {
			return nil, nil, errAt(q.Windows[0].At, "window %s is not used: a WINDOW clause names windows for OVER in the select list", q.Windows[0].Name)
		}
		return q, in, nil
	}
	if cat.streaming {
		return nil, nil, errAt(q.At, "OVER windows run in batch mode only in weir (SET 'execution.runtime-mode' = 'batch'); streaming OVER windows are not supported yet")
	}
	named, err := namedWindows(q.Windows)
	if err != nil {
		return nil, nil, err
	}
	w := &windowPlan{b: &binder{cat: cat, scope: in}, named: named, ops: map[string]*over.Op{}}
	for i := range in {
		w.pre = append(w.pre, &expr.Column{Index: i, Name: p.schema[i].Name, T: p.schema[i].Type})
		w.names = append(w.names, p.schema[i].Name)
	}
	var filter expr.Expr
	if q.Where != nil {
		if filter, err = w.b.bind(q.Where); err != nil {
			return nil, nil, err
		}
		if err := wantBool(q.Where.Pos(), "WHERE", filter); err != nil {
			return nil, nil, err
		}
	}
	out := *q
	out.Where = nil
	out.Windows = nil
	out.Items = nil
	for _, it := range q.Items {
		if it.Star {
			// A star stands for the input's columns, not the windows'.
			for _, c := range in {
				if strings.HasPrefix(c.name, scalarPrefix) || it.StarQualifier != "" && !strings.EqualFold(it.StarQualifier, c.qual) {
					continue
				}
				id := &sql.Ident{At: it.At, Parts: []string{c.name}}
				if c.qual != "" {
					id.Parts = []string{c.qual, c.name}
				}
				out.Items = append(out.Items, sql.SelectItem{At: it.At, Expr: id, Alias: c.name})
			}
			continue
		}
		x := rewriteAST(it.Expr, func(e sql.Expr) sql.Expr {
			if err != nil {
				return e
			}
			var o *sql.Over
			limit := int64(0)
			switch e := e.(type) {
			case *sql.Over:
				o = e
			case *topNOver:
				o, limit = e.Over, e.limit
			default:
				return nil
			}
			var name string
			name, err = w.add(o, limit)
			return &sql.Ident{At: e.Pos(), Parts: []string{name}}
		})
		if err != nil {
			return nil, nil, err
		}
		alias := it.Alias
		if id, ok := it.Expr.(*sql.Ident); ok && alias == "" {
			alias = id.Parts[len(id.Parts)-1]
		}
		out.Items = append(out.Items, sql.SelectItem{At: it.At, Expr: x, Alias: alias})
	}
	if err := p.finish(w.pre, w.names, filter); err != nil {
		return nil, nil, err
	}
	sc := append(scope(nil), in...)
	for i := len(in); i < len(w.pre); i++ {
		sc = append(sc, column{name: w.names[i], t: w.pre[i].Type()})
	}
	// A Top-N operator drops rows, so it runs after the windows that must
	// see them all.
	order := make([]string, 0, len(w.order))
	for _, top := range []bool{false, true} {
		for _, key := range w.order {
			if (w.ops[key].Limit > 0) == top {
				order = append(order, key)
			}
		}
	}
	for _, key := range order {
		op := w.ops[key]
		op.Schema = p.schema
		if op.HasPython() {
			p.overPython(op, w.pyFns[op]) // over_python.go
		} else {
			p.steps = append(p.steps, Step{Op: op})
			p.schema = op.OutSchema()
		}
		for i := range op.Calls {
			f := p.schema[len(op.Schema)+i]
			p.schema[len(op.Schema)+i].Name = w.results[op][i]
			sc = append(sc, column{name: w.results[op][i], t: f.Type})
		}
	}
	return &out, sc, nil
}

// windowPlan collects the window calls of a query.
type windowPlan struct {
	b     *binder
	named map[string]*sql.Window
	// pre are the columns computed before the windows: the input's, then
	// keys and arguments, named names.
	pre   []expr.Expr
	names []string
	// ops are the operators by window (partition and order columns), in
	// order of first use; results names each operator's result columns.
	ops     map[string]*over.Op
	order   []string
	results map[*over.Op][]string
	n       int
	// pyFns are the functions of the Python calls of each operator, by
	// call index; pyFn is the one pythonCall planned last.
	pyFns map[*over.Op]map[int]*expr.PyFunc
	pyFn  *expr.PyFunc
}

// column returns the index of x among the computed columns, adding it.
func (w *windowPlan) column(x expr.Expr) int {
	k := exprKey(x)
	for i, y := range w.pre {
		if exprKey(y) == k && y.Type().Equal(x.Type()) {
			return i
		}
	}
	w.pre = append(w.pre, x)
	w.names = append(w.names, fmt.Sprintf("$w%d", len(w.pre)))
	return len(w.pre) - 1
}

// bindCol binds x over the input and returns its computed column.
func (w *windowPlan) bindCol(x sql.Expr) (int, expr.Expr, error) {
	e, err := w.b.bind(x)
	if err != nil {
		return 0, nil, err
	}
	if err := checkGoNested(x.Pos(), e); err != nil {
		return 0, nil, err
	}
	if e.Type().Kind == types.Null {
		e = coerce(e, types.INT)
	}
	return w.column(e), e, nil
}

// add plans one window call and returns the name of its result column.
func (w *windowPlan) add(o *sql.Over, limit int64) (string, error) {
	win, err := w.resolve(o.Window)
	if err != nil {
		return "", err
	}
	op := &over.Op{}
	var keyParts []string
	for _, x := range win.PartitionBy {
		if hasOver(x) {
			return "", errAt(x.Pos(), "window functions cannot be nested")
		}
		c, e, err := w.bindCol(x)
		if err != nil {
			return "", err
		}
		if !groupable(e.Type()) {
			return "", errAt(x.Pos(), "PARTITION BY on %s is not supported by weir yet", e.Type())
		}
		op.Partition = append(op.Partition, c)
		keyParts = append(keyParts, strconv.Itoa(c))
	}
	keyParts = append(keyParts, "|")
	var orderTypes []types.T
	for _, it := range win.OrderBy {
		c, e, err := w.bindCol(it.X)
		if err != nil {
			return "", err
		}
		if !groupable(e.Type()) {
			return "", errAt(it.X.Pos(), "ORDER BY on %s is not supported by weir yet", e.Type())
		}
		k := sortop.Key{Col: c, Desc: it.Desc, NullsFirst: !it.Desc}
		switch it.Nulls {
		case "FIRST":
			k.NullsFirst = true
		case "LAST":
			k.NullsFirst = false
		}
		op.Order = append(op.Order, k)
		orderTypes = append(orderTypes, e.Type())
		keyParts = append(keyParts, fmt.Sprintf("%d/%v/%v", c, k.Desc, k.NullsFirst))
	}
	call, err := w.call(o, win, orderTypes)
	if err != nil {
		return "", err
	}
	key := strings.Join(keyParts, ",")
	if limit > 0 {
		key += fmt.Sprintf("|top%d", len(w.order))
	}
	existing := w.ops[key]
	if existing == nil {
		existing = op
		w.ops[key] = op
		w.order = append(w.order, key)
		if w.results == nil {
			w.results = map[*over.Op][]string{}
		}
	}
	if limit > 0 {
		existing.Limit, existing.TopCall = limit, len(existing.Calls)
	}
	existing.Calls = append(existing.Calls, call)
	if call.Func == over.PythonAgg {
		if w.pyFns == nil {
			w.pyFns = map[*over.Op]map[int]*expr.PyFunc{}
		}
		if w.pyFns[existing] == nil {
			w.pyFns[existing] = map[int]*expr.PyFunc{}
		}
		w.pyFns[existing][len(existing.Calls)-1] = w.pyFn
	}
	name := fmt.Sprintf("$over%d", w.n)
	w.n++
	w.results[existing] = append(w.results[existing], name)
	return name, nil
}

// resolve returns the window of an OVER with named windows filled in.
func (w *windowPlan) resolve(win *sql.Window) (*sql.Window, error) {
	if win.Ref == "" {
		return win, nil
	}
	base, ok := w.named[strings.ToLower(win.Ref)]
	if !ok {
		return nil, errAt(win.At, "unknown window %s; name it in the query's WINDOW clause (WINDOW %s AS (...))", win.Ref, win.Ref)
	}
	out := *base
	if win.PartitionBy != nil {
		return nil, errAt(win.At, "a window that refines window %s cannot add PARTITION BY", win.Ref)
	}
	if win.OrderBy != nil {
		if base.OrderBy != nil {
			return nil, errAt(win.At, "window %s already has an ORDER BY", win.Ref)
		}
		out.OrderBy = win.OrderBy
	}
	if win.Frame != nil {
		out.Frame = win.Frame
	}
	return &out, nil
}

// namedWindows resolves the windows of a WINDOW clause (a window may refine
// one named before it).
func namedWindows(ws []sql.NamedWindow) (map[string]*sql.Window, error) {
	named := map[string]*sql.Window{}
	for _, nw := range ws {
		key := strings.ToLower(nw.Name)
		if _, dup := named[key]; dup {
			return nil, errAt(nw.At, "window %s is defined twice", nw.Name)
		}
		win := nw.Window
		if win.Ref != "" {
			r := &windowPlan{named: named}
			var err error
			if win, err = r.resolve(win); err != nil {
				return nil, err
			}
		}
		named[key] = win
	}
	return named, nil
}

// call plans the function of o over its window (whose ORDER BY keys have
// types orderTypes).
func (w *windowPlan) call(o *sql.Over, win *sql.Window, orderTypes []types.T) (over.Call, error) {
	c := o.Call
	up := strings.ToUpper(c.Name)
	if py := udafOf(w.b.cat, c.Name); py != nil {
		return w.pythonCall(py, c, win, orderTypes) // over_python.go
	}
	fn, ok := over.Lookup(c.Name)
	if !ok {
		if _, agg := aggregate.Lookup(c.Name); agg {
			return over.Call{}, errAt(c.At, "%s is not supported as a window function by weir yet; the window aggregates are COUNT, SUM, AVG, MIN, MAX and LISTAGG", up)
		}
		return over.Call{}, errAt(c.At, "%s is not a window function; OVER applies to ROW_NUMBER, RANK, DENSE_RANK, PERCENT_RANK, CUME_DIST, NTILE, LAG, LEAD, FIRST_VALUE, LAST_VALUE, COUNT, SUM, AVG, MIN, MAX and LISTAGG", up)
	}
	if c.Distinct || c.Filter != nil {
		return over.Call{}, errAt(c.At, "DISTINCT and FILTER are not supported in window aggregates by weir yet")
	}
	call := over.Call{Func: fn, Arg: -1, Default: -1}
	for _, a := range c.Args {
		if hasOver(a) {
			return over.Call{}, errAt(a.Pos(), "window functions cannot be nested")
		}
	}
	nargs := func(lo, hi int) error {
		if len(c.Args) < lo || len(c.Args) > hi || c.Star && fn != over.Count {
			if lo == hi {
				return errAt(c.At, "%s takes %d argument(s), got %d", up, lo, len(c.Args))
			}
			return errAt(c.At, "%s takes %d to %d arguments, got %d", up, lo, hi, len(c.Args))
		}
		return nil
	}
	if fn.Ranking() {
		want := 0
		if fn == over.Ntile {
			want = 1
		}
		if err := nargs(want, want); err != nil {
			return call, err
		}
		if len(win.OrderBy) == 0 {
			return call, errAt(c.At, "%s needs ORDER BY in its window, as in Flink", up)
		}
		if win.Frame != nil {
			return call, errAt(win.Frame.At, "%s takes no ROWS or RANGE frame", up)
		}
		call.Out = types.BIGINT.NotNull()
		if fn == over.PercentRank || fn == over.CumeDist {
			call.Out = types.DOUBLE.NotNull()
		}
		if fn == over.Ntile {
			n, err := intLiteral(c.Args[0], "NTILE's bucket count")
			if err != nil {
				return call, err
			}
			if n <= 0 {
				return call, errAt(c.Args[0].Pos(), "NTILE needs a positive bucket count, got %d", n)
			}
			call.N = n
		}
		call.Label = up + "()"
		return call, nil
	}
	label := func() string {
		var args []string
		for _, a := range c.Args {
			x, _ := w.b.bind(a)
			args = append(args, fmt.Sprint(x))
		}
		return up + "(" + strings.Join(args, ", ") + ")"
	}
	switch fn {
	case over.Lag, over.Lead:
		if err := nargs(1, 3); err != nil {
			return call, err
		}
		if win.Frame != nil {
			return call, errAt(win.Frame.At, "%s takes no ROWS or RANGE frame", up)
		}
		arg, x, err := w.bindCol(c.Args[0])
		if err != nil {
			return call, err
		}
		call.Arg, call.N, call.Out = arg, 1, x.Type().WithNullable(true)
		if len(c.Args) > 1 {
			if call.N, err = intLiteral(c.Args[1], up+"'s offset"); err != nil {
				return call, err
			}
		}
		if len(c.Args) > 2 {
			d, err := w.b.bind(c.Args[2])
			if err != nil {
				return call, err
			}
			if !assignable(d.Type(), x.Type()) {
				return call, errAt(c.Args[2].Pos(), "%s's default is %s, which does not fit %s's argument of type %s", up, d.Type(), up, x.Type())
			}
			// Flink types LAG/LEAD with a default as NULL-able only when
			// the default is.
			call.Out = x.Type().WithNullable(d.Type().Nullable)
			call.Default = w.column(coerce(d, call.Out))
			if !x.Type().Equal(call.Out) {
				call.Arg = w.column(coerce(x, call.Out))
			}
		}
		call.Label = label()
		return call, nil
	}
	if fn == over.ListAgg {
		if err := nargs(1, 2); err != nil {
			return call, err
		}
		call.Sep = ","
		if len(c.Args) == 2 {
			lit, ok := c.Args[1].(*sql.Literal)
			if !ok || lit.Kind != sql.LitString {
				return call, errAt(c.Args[1].Pos(), "LISTAGG's separator must be a string literal, such as '|'")
			}
			call.Sep = lit.Text
		}
		c = &sql.FuncCall{At: c.At, Name: c.Name, Args: c.Args[:1]}
	}
	if c.Star {
		if fn != over.Count {
			return call, errAt(c.At, "%s(*) is not allowed; only COUNT takes *", up)
		}
		call.Func, call.Out, call.Label = over.CountStar, types.BIGINT.NotNull(), "COUNT(*)"
	} else {
		if err := nargs(1, 1); err != nil {
			return call, err
		}
		arg, _, err := w.bindCol(c.Args[0])
		if err != nil {
			return call, err
		}
		call.Arg = arg
		call.Label = label()
	}
	f, err := frame(win, orderTypes)
	if err != nil {
		return call, err
	}
	call.Frame = f
	if c.Star {
		return call, nil
	}
	// As Flink types them: NULL-able when the argument is, or when the
	// frame may hold no rows (a frame with an offset may, for all
	// Flink's typing knows).
	in := w.pre[call.Arg].Type()
	nullable := in.Nullable || !alwaysNonEmpty(f)
	switch fn {
	case over.FirstValue, over.LastValue:
		call.Out = in.WithNullable(nullable)
	case over.Count:
		call.Out = types.BIGINT.NotNull()
	default:
		aggFn, _ := aggregate.Lookup(c.Name)
		t, err := aggregate.ResultType(aggFn, in, false)
		if err != nil {
			return call, errAt(c.At, "%s: %v", up, err)
		}
		call.Out = t.WithNullable(nullable)
	}
	return call, nil
}

// alwaysNonEmpty reports whether a frame surely holds its current row.
func alwaysNonEmpty(f over.Frame) bool {
	return (f.Start.Kind == over.UnboundedPreceding || f.Start.Kind == over.CurrentRow) &&
		(f.End.Kind == over.CurrentRow || f.End.Kind == over.UnboundedFollowing)
}

// frame returns the frame of an aggregate or value function: the one
// written, else the whole partition without ORDER BY and RANGE BETWEEN
// UNBOUNDED PRECEDING AND CURRENT ROW with it, as in Flink.
func frame(win *sql.Window, orderTypes []types.T) (over.Frame, error) {
	if win.Frame == nil {
		if len(win.OrderBy) == 0 {
			return over.Frame{Rows: true, Start: over.Bound{Kind: over.UnboundedPreceding}, End: over.Bound{Kind: over.UnboundedFollowing}}, nil
		}
		return over.Frame{Start: over.Bound{Kind: over.UnboundedPreceding}, End: over.Bound{Kind: over.CurrentRow}}, nil
	}
	f := win.Frame
	if f.Start.Kind == sql.UnboundedFollowing {
		return over.Frame{}, errAt(f.Start.At, "a frame cannot start at UNBOUNDED FOLLOWING")
	}
	if f.End.Kind == sql.UnboundedPreceding {
		return over.Frame{}, errAt(f.End.At, "a frame cannot end at UNBOUNDED PRECEDING")
	}
	if f.Start.Kind > f.End.Kind {
		return over.Frame{}, errAt(f.At, "the frame starts at %s, after its end %s", f.Start, f.End)
	}
	out := over.Frame{Rows: f.Rows}
	var err error
	if out.Start, err = bound(f.Start, f.Rows, orderTypes); err != nil {
		return out, err
	}
	if out.End, err = bound(f.End, f.Rows, orderTypes); err != nil {
		return out, err
	}
	return out, nil
}

// bound converts a frame bound; a RANGE offset is in the units of the one
// numeric ORDER BY key (a DECIMAL key's unscaled units).
func bound(b sql.Bound, rows bool, orderTypes []types.T) (over.Bound, error) {
	out := over.Bound{Kind: over.BoundKind(b.Kind)}
	if b.Offset == nil {
		return out, nil
	}
	if iv, ok := b.Offset.(*sql.IntervalLit); ok {
		return intervalBound(out, iv, rows, orderTypes)
	}
	lit, ok := b.Offset.(*sql.Literal)
	if !ok || (lit.Kind != sql.LitInteger && lit.Kind != sql.LitDecimal) {
		return out, errAt(b.Offset.Pos(), "a frame offset must be a non-negative number literal, or an INTERVAL literal for a RANGE over a TIMESTAMP or DATE")
	}
	if rows {
		n, err := strconv.ParseInt(lit.Text, 10, 64)
		if err != nil || lit.Kind != sql.LitInteger {
			return out, errAt(lit.At, "a ROWS frame offset must be a non-negative integer, got %s", lit.Text)
		}
		out.Rows = n
		return out, nil
	}
	if len(orderTypes) != 1 || !orderTypes[0].IsNumeric() {
		return out, errAt(lit.At, "a RANGE frame with an offset needs exactly one numeric ORDER BY key")
	}
	t := orderTypes[0]
	v, err := strconv.ParseFloat(lit.Text, 64)
	if err != nil {
		return out, errAt(lit.At, "bad frame offset %s", lit.Text)
	}
	if t.Kind == types.Decimal {
		v *= math.Pow10(t.Scale)
	}
	out.Float = v
	if n, err := strconv.ParseInt(lit.Text, 10, 64); err == nil && t.IsInteger() {
		out.Int, out.IsInt = n, true
	}
	return out, nil
}

// intLiteral reads a non-negative integer literal argument.
func intLiteral(x sql.Expr, what string) (int64, error) {
	lit, ok := x.(*sql.Literal)
	if !ok || lit.Kind != sql.LitInteger {
		return 0, errAt(x.Pos(), "%s must be an integer literal", what)
	}
	n, err := strconv.ParseInt(lit.Text, 10, 64)
	if err != nil {
		return 0, errAt(x.Pos(), "%s %s is out of range", what, lit.Text)
	}
	return n, nil
}

// pushTopN finds the Top-N pattern: a query over a subquery in FROM that
// ranks its rows with ROW_NUMBER, RANK or DENSE_RANK, filtered outside on
// that rank with rank <= n, rank < n or rank = n (and other AND-ed
// conditions). It returns q with the ranking marked so that its operator
// keeps only the rows ranked up to n (the filter still applies). A subquery
// that limits, offsets or deduplicates its rows keeps all of them.
func pushTopN(q *sql.Select) *sql.Select {
	f, ok := q.From.(*sql.Subquery)
	if !ok || q.Where == nil {
		return q
	}
	inner := f.Query
	if inner.Limit >= 0 || inner.Offset > 0 || inner.Distinct || inner.Windows != nil || isAggregateQuery(inner) {
		return q
	}
	for _, cond := range sqlConjuncts(q.Where) {
		name, n, ok := rankBound(cond)
		if !ok {
			continue
		}
		for i, it := range inner.Items {
			col := it.Alias
			if f.Columns != nil && i < len(f.Columns) {
				col = f.Columns[i]
			}
			o, isOver := it.Expr.(*sql.Over)
			if !isOver || !strings.EqualFold(col, name) || o.Window.Ref != "" || len(o.Call.Args) > 0 || n <= 0 {
				continue
			}
			switch strings.ToUpper(o.Call.Name) {
			case "ROW_NUMBER", "RANK", "DENSE_RANK":
			default:
				continue
			}
			in2 := *inner
			in2.Items = append([]sql.SelectItem(nil), inner.Items...)
			in2.Items[i].Expr = &topNOver{Over: o, limit: n}
			f2 := *f
			f2.Query = &in2
			q2 := *q
			q2.From = &f2
			return &q2
		}
	}
	return q
}

// rankBound reads name <= n, name < n, name = n (or the same written the
// other way round) as the largest rank it keeps.
func rankBound(x sql.Expr) (string, int64, bool) {
	b, ok := x.(*sql.Binary)
	if !ok {
		return "", 0, false
	}
	id, idOK := b.L.(*sql.Ident)
	lit, litOK := b.R.(*sql.Literal)
	op := b.Op
	if !idOK || !litOK {
		id, idOK = b.R.(*sql.Ident)
		lit, litOK = b.L.(*sql.Literal)
		op = map[string]string{"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "="}[op]
	}
	if !idOK || !litOK || lit.Kind != sql.LitInteger || len(id.Parts) != 1 {
		return "", 0, false
	}
	n, err := strconv.ParseInt(lit.Text, 10, 64)
	if err != nil {
		return "", 0, false
	}
	switch op {
	case "<=", "=":
		return id.Parts[0], n, true
	case "<":
		return id.Parts[0], n - 1, true
	}
	return "", 0, false
}

// rewriteOver rewrites the arguments, partition keys and order keys of a
// window call with rw; the call itself is not an aggregate of the query.
func rewriteOver(o *sql.Over, rw func(sql.Expr) sql.Expr) sql.Expr {
	call := *o.Call
	call.Args = make([]sql.Expr, len(o.Call.Args))
	for i, a := range o.Call.Args {
		call.Args[i] = rw(a)
	}
	win := *o.Window
	win.PartitionBy = make([]sql.Expr, len(o.Window.PartitionBy))
	for i, x := range o.Window.PartitionBy {
		win.PartitionBy[i] = rw(x)
	}
	win.OrderBy = make([]sql.OrderItem, len(o.Window.OrderBy))
	for i, it := range o.Window.OrderBy {
		win.OrderBy[i] = sql.OrderItem{X: rw(it.X), Desc: it.Desc, Nulls: it.Nulls}
	}
	if o.Window.PartitionBy == nil {
		win.PartitionBy = nil
	}
	if o.Window.OrderBy == nil {
		win.OrderBy = nil
	}
	return &sql.Over{At: o.At, Call: &call, Window: &win}
}

// intervalBound converts a RANGE offset INTERVAL '...' unit over a
// TIMESTAMP (in its Arrow unit) or DATE (whole days) ORDER BY key.
func intervalBound(out over.Bound, iv *sql.IntervalLit, rows bool, orderTypes []types.T) (over.Bound, error) {
	if rows {
		return out, errAt(iv.At, "a ROWS frame offset must be a non-negative integer, not an INTERVAL")
	}
	if len(orderTypes) != 1 {
		return out, errAt(iv.At, "a RANGE frame with an offset needs exactly one ORDER BY key")
	}
	e, err := intervalLiteral(iv)
	if err != nil {
		return out, err
	}
	l, ok := e.(*expr.Literal)
	ms, isInt := l.Value.(int64)
	if !ok || !isInt || l.T.Kind != types.IntervalDayTime {
		return out, errAt(iv.At, "a RANGE frame offset must be a day-time interval (DAY, HOUR, MINUTE or SECOND)")
	}
	if ms < 0 {
		return out, errAt(iv.At, "a frame offset must not be negative")
	}
	t := orderTypes[0]
	switch t.Kind {
	case types.Timestamp, types.TimestampLTZ:
		switch types.TimestampUnit(t.Precision) {
		case arrow.Microsecond:
			ms *= 1000
		case arrow.Nanosecond:
			ms *= 1_000_000
		}
	case types.Date:
		if ms%86_400_000 != 0 {
			return out, errAt(iv.At, "a RANGE offset over a DATE must be whole days")
		}
		ms /= 86_400_000
	default:
		return out, errAt(iv.At, "an INTERVAL frame offset needs a TIMESTAMP or DATE ORDER BY key, not %s", t)
	}
	out.Int, out.IsInt, out.Float = ms, true, float64(ms)
	return out, nil
}
