package plan

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// Python table aggregate functions (udtaf) in batch mode (streaming mode:
// udtaf_streaming.go).
//
// Flink has no SQL syntax for table aggregates; its Table API's
// flat_aggregate calls them. weir's Table API (python/weir/table) writes
// flat_aggregate as a grouped SELECT whose one non-key item is a marker call
// around the function's call:
//
//	SELECT k1, k2, `$flat_aggregate`(f(a, b)) FROM src GROUP BY k1, k2
//	SELECT k1, `$flat_aggregate_row`(f(a, b, c)) FROM src GROUP BY k1
//
// where the _row form passes the function one Row of the named columns (as
// PyFlink's flat_aggregate(f) passes every column). The rewrite below turns
// it into a collection of each group's arguments, as for an aggregate
// function (udaf.go), joined with a table function that runs the aggregate
// over each group and yields its rows:
//
//	SELECT $g.$k0 AS k1, $g.$k1 AS k2, $f.x, $f.y
//	FROM (SELECT k1 AS $k0, k2 AS $k1, $COLLECT(a) AS $c0, $COLLECT(b) AS $c1
//	      FROM src GROUP BY k1, k2) AS $g,
//	     LATERAL TABLE($udtaf$f(2, 'null', $g.$c0, $g.$c1, $g.$k0, $g.$k1)) AS $f(x, y)
//
// The function's columns are the fields of its ROW result type (one column
// f0 for another type). The evaluator (weir._table_aggregate) gets the
// argument count, the row's field names as JSON (null for plain arguments),
// the lists and the group's keys, which only errors use.

const (
	udtafPrefix      = "$udtaf$"
	flatAggregate    = "$flat_aggregate"
	flatAggregateRow = "$flat_aggregate_row"
)

// registerUDTAF makes fn, described as a table aggregate function, callable
// by the rewrite: its evaluator is a table function of the same Python
// object, whose columns are the fields of fn's result type.
func registerUDTAF(cat *catalog, name string, fn *expr.PyFunc, minArgs, maxArgs int) {
	ev := *fn
	ev.FuncType = ""
	ev.InputTypes = nil
	ev.Table = true
	ev.ResultTypes = nil
	for _, f := range udtafFields(fn) {
		ev.ResultTypes = append(ev.ResultTypes, f.Type)
	}
	cat.functions[udtafPrefix+name] = &ev
	cat.arity[fn] = [2]int{minArgs, maxArgs}
}

// udtafFields are the columns a table aggregate function yields.
func udtafFields(fn *expr.PyFunc) []types.Field {
	if len(fn.ResultTypes) != 1 {
		return nil
	}
	t := fn.ResultTypes[0]
	if t.Kind == types.Row {
		return t.Fields
	}
	return []types.Field{{Name: "f0", Type: t}}
}

// udtafOf returns the table aggregate function named name, or nil.
func udtafOf(cat *catalog, name string) *expr.PyFunc {
	if cat.functions[udtafPrefix+strings.ToLower(name)] == nil {
		return nil
	}
	return cat.functions[strings.ToLower(name)]
}

// rewriteUDTAFs returns q with its flat_aggregate marker rewritten (see
// above), or q itself when it has none. A table aggregate function called
// anywhere else is refused.
func rewriteUDTAFs(cat *catalog, q *sql.Select) (*sql.Select, error) {
	marker := -1
	for i, it := range q.Items {
		if c, ok := it.Expr.(*sql.FuncCall); ok && (c.Name == flatAggregate || c.Name == flatAggregateRow) {
			if marker >= 0 {
				return nil, errAt(c.At, "one flat_aggregate per query")
			}
			marker = i
		}
	}
	var stray error
	check := func(x sql.Expr, inMarker bool) {
		walkAST(x, func(e sql.Expr) {
			c, ok := e.(*sql.FuncCall)
			if !ok || stray != nil {
				return
			}
			if !inMarker && (c.Name == flatAggregate || c.Name == flatAggregateRow) {
				stray = errAt(c.At, "flat_aggregate's result is a table, not a value")
			}
			if fn := udtafOf(cat, c.Name); fn != nil && !inMarker {
				stray = errAt(c.At, "%s is a table aggregate function: Flink SQL has no syntax for table aggregates; call it with the Table API's flat_aggregate, e.g. table.group_by(col('k')).flat_aggregate(%s).select(col('*'))", fn.Name, fn.Name)
			}
		})
	}
	for i, it := range q.Items {
		check(it.Expr, i == marker)
	}
	for _, x := range []sql.Expr{q.Where, q.Having} {
		check(x, false)
	}
	for _, k := range q.GroupBy {
		check(k, false)
	}
	if stray != nil {
		return nil, stray
	}
	if marker < 0 {
		return q, nil
	}
	m := q.Items[marker].Expr.(*sql.FuncCall)
	switch {
	case len(m.Args) != 1:
		return nil, errAt(m.At, "internal error: %s takes one call", m.Name)
	case q.Having != nil:
		return nil, errAt(q.Having.Pos(), "HAVING with flat_aggregate is not supported; filter its result with where(...)")
	case q.GroupingSets != nil:
		return nil, errAt(q.At, "GROUPING SETS with flat_aggregate are not supported")
	case q.Distinct:
		return nil, errAt(q.At, "DISTINCT with flat_aggregate is not supported; call distinct() on its result")
	}
	call, ok := m.Args[0].(*sql.FuncCall)
	var fn *expr.PyFunc
	if ok {
		fn = udtafOf(cat, call.Name)
	}
	if fn == nil {
		return nil, errAt(m.Args[0].Pos(), "flat_aggregate takes a table aggregate function (made with udtaf)")
	}
	row := m.Name == flatAggregateRow
	var names []string
	if row {
		// The Row's field names are the columns' names.
		for _, a := range call.Args {
			id, ok := a.(*sql.Ident)
			if !ok {
				return nil, errAt(a.Pos(), "internal error: %s takes columns", m.Name)
			}
			names = append(names, id.Parts[len(id.Parts)-1])
		}
	} else if err := checkUDTAFArgs(cat, fn, call); err != nil {
		return nil, err
	}
	fields := udtafFields(fn)
	if len(fields) == 0 {
		return nil, errAt(call.At, "table aggregate function %s declares no result type", fn.Name)
	}
	if cat.streaming {
		// A keyed stage keeps the groups' accumulators (udtaf_streaming.go).
		return rewriteStreamingUDTAF(q, marker, fn, call, names, fields, row)
	}

	// The grouped subquery: keys, then the collected arguments.
	inner := &sql.Select{At: q.At, From: q.From, Where: q.Where, GroupBy: q.GroupBy, Limit: -1}
	var keyIdents []sql.Expr
	out := &sql.Select{At: q.At, OrderBy: q.OrderBy, Limit: q.Limit, Offset: q.Offset, LimitAt: q.LimitAt, Windows: nil}
	for i, it := range q.Items {
		if i == marker {
			continue
		}
		if it.Star {
			return nil, errAt(it.At, "* beside flat_aggregate is not supported; name the group keys")
		}
		k := "$k" + strconv.Itoa(len(keyIdents))
		inner.Items = append(inner.Items, sql.SelectItem{At: it.At, Expr: it.Expr, Alias: k})
		ref := &sql.Ident{At: it.At, Parts: []string{"$g", k}}
		keyIdents = append(keyIdents, ref)
		name := it.Alias
		if name == "" {
			if id, ok := it.Expr.(*sql.Ident); ok {
				name = id.Parts[len(id.Parts)-1]
			} else {
				name = "EXPR$" + strconv.Itoa(i)
			}
		}
		out.Items = append(out.Items, sql.SelectItem{At: it.At, Expr: ref, Alias: name})
	}
	evArgs := []sql.Expr{
		&sql.Literal{At: call.At, Kind: sql.LitInteger, Text: strconv.Itoa(len(call.Args))},
		&sql.Literal{At: call.At, Kind: sql.LitString, Text: jsonNames(names)},
	}
	for j, a := range call.Args {
		if !row && fn.InputTypes != nil {
			a = &sql.Cast{At: a.Pos(), X: a, Type: fn.InputTypes[j], TypeAt: a.Pos()}
		}
		c := "$c" + strconv.Itoa(j)
		inner.Items = append(inner.Items, sql.SelectItem{At: a.Pos(), Alias: c,
			Expr: &sql.FuncCall{At: a.Pos(), Name: "$COLLECT", Args: []sql.Expr{a}}})
		evArgs = append(evArgs, &sql.Ident{At: a.Pos(), Parts: []string{"$g", c}})
	}
	evArgs = append(evArgs, keyIdents...)
	lat := &sql.Lateral{
		At:    call.At,
		Left:  &sql.Subquery{At: q.At, Query: inner, Alias: "$g"},
		Call:  &sql.FuncCall{At: call.At, Name: udtafPrefix + strings.ToLower(fn.Name), Args: evArgs},
		Alias: "$f",
	}
	for _, f := range fields {
		lat.Columns = append(lat.Columns, f.Name)
		out.Items = append(out.Items, sql.SelectItem{At: call.At, Alias: f.Name,
			Expr: &sql.Ident{At: call.At, Parts: []string{"$f", f.Name}}})
	}
	out.From = lat
	seen := map[string]bool{}
	for _, it := range out.Items {
		if seen[strings.ToLower(it.Alias)] {
			return nil, errAt(call.At, "flat_aggregate's result would have two columns named %s (a group key and a column of %s); rename the key with alias(...) first", it.Alias, fn.Name)
		}
		seen[strings.ToLower(it.Alias)] = true
	}
	return out, nil
}

// checkUDTAFArgs checks the argument count of a call of fn.
func checkUDTAFArgs(cat *catalog, fn *expr.PyFunc, c *sql.FuncCall) error {
	switch {
	case c.Star:
		return errAt(c.At, "%s(*) is not allowed; pass the function itself to flat_aggregate to give it whole rows", fn.Name)
	case c.Distinct:
		return errAt(c.At, "DISTINCT in a table aggregate function (%s) is not supported", fn.Name)
	case len(c.Args) == 0:
		return errAt(c.At, "%s() in flat_aggregate needs an argument; pass the function itself to give it whole rows", fn.Name)
	}
	if fn.InputTypes != nil && len(c.Args) != len(fn.InputTypes) {
		return errAt(c.At, "function %s expects %d argument(s) but got %d", fn.Name, len(fn.InputTypes), len(c.Args))
	}
	if ar, ok := cat.arity[fn]; ok && fn.InputTypes == nil {
		if len(c.Args) < ar[0] || (ar[1] >= 0 && len(c.Args) > ar[1]) {
			want := strconv.Itoa(ar[0])
			if ar[1] != ar[0] {
				if ar[1] < 0 {
					want = "at least " + want
				} else {
					want += " to " + strconv.Itoa(ar[1])
				}
			}
			return errAt(c.At, "table aggregate function %s takes %s argument(s) but got %d", fn.Name, want, len(c.Args))
		}
	}
	for _, a := range c.Args {
		if containsAgg(a) || containsUDAF(cat, a) {
			return errAt(a.Pos(), "aggregate calls cannot be nested (here inside %s)", fn.Name)
		}
	}
	return nil
}

func jsonNames(names []string) string {
	if names == nil {
		return "null" // not '': the constant would be a CHAR(0)
	}
	b, _ := json.Marshal(names)
	return string(b)
}

// callsUDAF reports whether q, rewritten over an aggregation, calls the
// evaluator of a Python aggregate function.
func callsUDAF(q *sql.Select) bool {
	found := false
	visit := func(x sql.Expr) {
		walkAST(x, func(e sql.Expr) {
			if c, ok := e.(*sql.FuncCall); ok && strings.HasPrefix(c.Name, udafPrefix) {
				found = true
			}
		})
	}
	for _, it := range q.Items {
		visit(it.Expr)
	}
	visit(q.Where)
	visit(q.Having)
	for _, o := range q.OrderBy {
		visit(o.X)
	}
	return found
}
