package plan

import (
	"strconv"
	"strings"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/sql"
)

// Python aggregate functions (udaf) in batch mode.
//
// A call f(a, b) of an aggregate function is planned as two parts: the hash
// aggregation collects each group's arguments, NULLs included and in input
// order, into one ARRAY per argument ($COLLECT, beside the built-in
// aggregates of the same GROUP BY), and a Python stage after it calls the
// function once per group with those arrays, the number of them and the
// group's keys:
//
//	f(a, b)  ->  $udaf$f(2, $COLLECT_PACKED(a), $COLLECT_PACKED(b), key1, key2, ...)
//
// $COLLECT_PACKED is $COLLECT but for integer, FLOAT and DOUBLE arguments,
// whose values come packed in one BYTES value per group (cheaper to encode
// and to read than an ARRAY). Streaming mode plans $COLLECT.
//
// The worker's evaluator (weir._aggregate) runs create_accumulator,
// accumulate per row and get_value, or, for a pandas function, one call with
// a pandas.Series per argument. Since one input row of that stage is a whole
// group, a bundle replayed after a worker died recomputes its groups from
// scratch, so the results are exact without accumulator state in the engine.

// udafPrefix prefixes the catalog name of the group evaluator of an
// aggregate function; SQL cannot name it (identifiers do not start with $).
const udafPrefix = "$udaf$"

// registerUDAF makes fn, described as an aggregate function, callable by the
// rewrite: the evaluator is a per-row ("general") call of the same Python
// object, which the worker recognises as an aggregate.
func registerUDAF(cat *catalog, name string, fn *expr.PyFunc, minArgs, maxArgs int) {
	ev := *fn
	ev.FuncType = ""
	ev.InputTypes = nil
	cat.functions[udafPrefix+name] = &ev
	cat.arity[fn] = [2]int{minArgs, maxArgs}
}

// udafOf returns the aggregate function named name, or nil.
func udafOf(cat *catalog, name string) *expr.PyFunc {
	if cat.functions[udafPrefix+strings.ToLower(name)] == nil {
		return nil
	}
	return cat.functions[strings.ToLower(name)]
}

// rewriteUDAFs returns q with each call of a Python aggregate function
// replaced by the call of its evaluator over collected arguments (see
// above), or q itself when it calls none.
func rewriteUDAFs(cat *catalog, q *sql.Select) (*sql.Select, error) {
	var err error
	found := false
	rw := func(x sql.Expr) sql.Expr {
		return rewriteAST(x, func(e sql.Expr) sql.Expr {
			c, ok := e.(*sql.FuncCall)
			if !ok || err != nil {
				return nil
			}
			fn := udafOf(cat, c.Name)
			if fn == nil {
				return nil
			}
			found = true
			var r sql.Expr
			r, err = udafCall(cat, fn, c, q.GroupBy)
			return r
		})
	}
	out := *q
	out.Items = make([]sql.SelectItem, len(q.Items))
	for i, it := range q.Items {
		out.Items[i] = it
		out.Items[i].Expr = rw(it.Expr)
	}
	out.Having = rw(q.Having)
	// A nil ORDER BY stays nil: streaming mode refuses any non-nil one.
	if q.OrderBy != nil {
		out.OrderBy = make([]sql.OrderItem, len(q.OrderBy))
	}
	for i, o := range q.OrderBy {
		out.OrderBy[i] = o
		out.OrderBy[i].X = rw(o.X)
	}
	if q.Where != nil && containsUDAF(cat, q.Where) {
		return nil, errAt(q.Where.Pos(), "aggregate functions are not allowed in WHERE; filter groups with HAVING")
	}
	for _, k := range q.GroupBy {
		if containsUDAF(cat, k) {
			return nil, errAt(k.Pos(), "aggregate functions are not allowed in GROUP BY")
		}
	}
	if err != nil {
		return nil, err
	}
	if !found {
		return q, nil
	}
	return &out, nil
}

func containsUDAF(cat *catalog, x sql.Expr) bool {
	found := false
	walkAST(x, func(e sql.Expr) {
		if c, ok := e.(*sql.FuncCall); ok && udafOf(cat, c.Name) != nil {
			found = true
		}
	})
	return found
}

func udafCall(cat *catalog, fn *expr.PyFunc, c *sql.FuncCall, groupBy []sql.Expr) (sql.Expr, error) {
	switch {
	case c.Star:
		return nil, errAt(c.At, "%s(*) is not allowed; only COUNT takes *", fn.Name)
	case c.Distinct:
		return nil, errAt(c.At, "DISTINCT in a Python aggregate function (%s) is not supported by weir yet", fn.Name)
	}
	if fn.InputTypes != nil && len(c.Args) != len(fn.InputTypes) {
		return nil, errAt(c.At, "function %s expects %d argument(s) but got %d", fn.Name, len(fn.InputTypes), len(c.Args))
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
			return nil, errAt(c.At, "aggregate function %s takes %s argument(s) but got %d", fn.Name, want, len(c.Args))
		}
	}
	args := []sql.Expr{&sql.Literal{At: c.At, Kind: sql.LitInteger, Text: strconv.Itoa(len(c.Args))}}
	for i, a := range c.Args {
		if containsUDAF(cat, a) || containsAgg(a) {
			return nil, errAt(a.Pos(), "aggregate calls cannot be nested (here inside %s)", fn.Name)
		}
		if fn.InputTypes != nil {
			a = &sql.Cast{At: a.Pos(), X: a, Type: fn.InputTypes[i], TypeAt: a.Pos()}
		}
		// In batch mode numbers come packed (aggregate.CollectPacked): the
		// worker reads them without a Python list per group. Streaming mode's
		// keyed stages take $COLLECT's arguments themselves.
		collect := "$COLLECT_PACKED"
		if cat.streaming {
			collect = "$COLLECT"
		}
		args = append(args, &sql.FuncCall{At: a.Pos(), Name: collect, Args: []sql.Expr{a}, Filter: c.Filter})
	}
	// The group's keys, for errors that name the group.
	args = append(args, groupBy...)
	return &sql.FuncCall{At: c.At, Name: udafPrefix + fn.Name, Args: args}, nil
}
