package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/changelog"
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/pyexec"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
	"github.com/weir-dev/weir/internal/weirpb"
)

// Python table aggregate functions (udtaf) in streaming mode.
//
// PyFlink runs a table aggregate function over a stream with its
// accumulator per group in state and emits, per group whose rows a bundle
// brings, the rows emit_value gave before as -D, then the rows it gives now
// as +I (changed or not; none once a retracting input leaves the group
// empty). weir does the same in a keyed stage (pyexec.Keyed, as the
// aggregate functions of udaf_streaming.go) whose worker transform is
// weir._state_table_aggregate: the engine keeps each group's accumulator.
//
// In streaming mode the flat_aggregate marker (udtaf.go) is rewritten into
// the grouped query itself, one item per column of the function's rows:
//
//	SELECT k1, `$udtafcol$f`(0, 2, 'null', $COLLECT(a), $COLLECT(b)) AS x,
//	           `$udtafcol$f`(1, 2, 'null', $COLLECT(a), $COLLECT(b)) AS y
//	FROM src GROUP BY k1
//
// planAggregate plans the $COLLECTs as aggregates (only their argument
// columns are used), and addStreamingUDTAF puts the keyed stage in place of
// the aggregation: its output is the group keys, the function's columns and
// the row kind, and each $udtafcol$ item reads its column.

// udtafColumnPrefix names, in streaming mode, the column of a table
// aggregate function's rows that an item reads; its first argument is the
// column's position, then the argument count and the Row's field names as
// the batch evaluator gets them.
const udtafColumnPrefix = "$udtafcol$"

// rowFieldsParam carries, as JSON, the names of the fields of the Row a
// function given whole rows receives (flat_aggregate(f)); absent for a call
// with arguments.
const rowFieldsParam = "weir.keyed.row-fields"

// rewriteStreamingUDTAF returns q, whose item marker is flat_aggregate's
// marker around call (of fn, with the row's names when it takes whole
// rows), rewritten as above.
func rewriteStreamingUDTAF(q *sql.Select, marker int, fn *expr.PyFunc, call *sql.FuncCall, names []string, fields []types.Field, row bool) (*sql.Select, error) {
	out := *q
	out.Items = nil
	for i, it := range q.Items {
		if i != marker {
			if it.Star {
				return nil, errAt(it.At, "* beside flat_aggregate is not supported; name the group keys")
			}
			name := it.Alias
			if name == "" {
				if id, ok := it.Expr.(*sql.Ident); ok {
					name = id.Parts[len(id.Parts)-1]
				} else {
					name = "EXPR$" + strconv.Itoa(i)
				}
			}
			out.Items = append(out.Items, sql.SelectItem{At: it.At, Expr: it.Expr, Alias: name})
			continue
		}
		for j, f := range fields {
			args := []sql.Expr{
				&sql.Literal{At: call.At, Kind: sql.LitInteger, Text: strconv.Itoa(j)},
				&sql.Literal{At: call.At, Kind: sql.LitInteger, Text: strconv.Itoa(len(call.Args))},
				&sql.Literal{At: call.At, Kind: sql.LitString, Text: jsonNames(names)},
			}
			for k, a := range call.Args {
				if !row && fn.InputTypes != nil {
					a = &sql.Cast{At: a.Pos(), X: a, Type: fn.InputTypes[k], TypeAt: a.Pos()}
				}
				args = append(args, &sql.FuncCall{At: a.Pos(), Name: "$COLLECT", Args: []sql.Expr{a}})
			}
			out.Items = append(out.Items, sql.SelectItem{At: call.At, Alias: f.Name,
				Expr: &sql.FuncCall{At: call.At, Name: udtafColumnPrefix + strings.ToLower(fn.Name), Args: args}})
		}
	}
	seen := map[string]bool{}
	for _, it := range out.Items {
		if seen[strings.ToLower(it.Alias)] {
			return nil, errAt(call.At, "flat_aggregate's result would have two columns named %s (a group key and a column of %s); rename the key with alias(...) first", it.Alias, fn.Name)
		}
		seen[strings.ToLower(it.Alias)] = true
	}
	return &out, nil
}

// callsStreamingUDTAF reports whether q, rewritten over an aggregation,
// reads the columns of a table aggregate function in streaming mode.
func callsStreamingUDTAF(q *sql.Select) bool {
	found := false
	for _, it := range q.Items {
		walkAST(it.Expr, func(e sql.Expr) {
			if c, ok := e.(*sql.FuncCall); ok && strings.HasPrefix(c.Name, udtafColumnPrefix) {
				found = true
			}
		})
	}
	return found
}

// addStreamingUDTAF appends the keyed stage of the table aggregate function
// whose columns the items of out read (out is the query rewritten over op's
// output, whose scope is post) and returns out and post over the stage's
// output instead.
func (p *pipeline) addStreamingUDTAF(cat *catalog, op *aggregate.Op, out *sql.Select, post scope, sets bool, at sql.Pos) (*sql.Select, scope, error) {
	if sets {
		return nil, nil, errAt(at, "GROUPING SETS with flat_aggregate are not supported")
	}
	for _, s := range op.Aggs {
		if s.Func != aggregate.Collect || s.HasFilter {
			return nil, nil, errAt(at, "internal error: flat_aggregate's aggregation holds %s", s.Label)
		}
	}
	nk := len(op.Keys)
	var (
		spec    *weirpb.Stage
		fn      *expr.PyFunc
		fields  []types.Field
		results types.Schema
		args    []int // input columns of the arguments
		label   string
		err     error
	)
	build := func(c *sql.FuncCall) error {
		name := strings.TrimPrefix(c.Name, udtafColumnPrefix)
		fn = cat.functions[name]
		if fn == nil || len(c.Args) < 3 {
			return errAt(c.At, "internal error: bad table aggregate column %s", c.Name)
		}
		fields = udtafFields(fn)
		nargs, _ := strconv.Atoi(c.Args[1].(*sql.Literal).Text)
		rowNames := c.Args[2].(*sql.Literal).Text
		if len(c.Args) != 3+nargs {
			return errAt(c.At, "internal error: %s has %d arguments for %d", c.Name, len(c.Args)-3, nargs)
		}
		var argText []string
		for _, a := range c.Args[3:] {
			id, ok := a.(*sql.Ident)
			var i int
			if ok {
				_, err := fmt.Sscanf(id.Parts[len(id.Parts)-1], "$agg%d", &i)
				ok = err == nil && i >= 0 && i < len(op.Aggs)
			}
			if !ok {
				return errAt(a.Pos(), "internal error: argument of %s is not a collected column", fn.Name)
			}
			args = append(args, op.Aggs[i].Arg)
			argText = append(argText, strings.TrimSuffix(strings.TrimPrefix(op.Aggs[i].Label, "$COLLECT("), ")"))
		}
		label = fn.Name + "(" + strings.Join(argText, ", ") + ")"
		f := &weirpb.Function{Name: fn.Name, Module: fn.Module, Attr: fn.Attr, Deterministic: fn.Deterministic}
		for _, t := range fn.ResultTypes {
			f.ResultTypes = append(f.ResultTypes, t.String())
		}
		spec = &weirpb.Stage{Kind: weirpb.Stage_SCALAR, Functions: []*weirpb.Function{f}}
		for _, fld := range fields {
			call := &weirpb.Call{Function: 0}
			for j, col := range args {
				call.Args = append(call.Args, &weirpb.Expr{Kind: &weirpb.Expr_Column{Column: int32(2 + j)}, Type: p.schema[col].Type.String()})
			}
			spec.Outputs = append(spec.Outputs, &weirpb.Expr{Kind: &weirpb.Expr_Call{Call: call}, Type: fld.Type.String()})
			results = append(results, types.Field{Name: fmt.Sprintf("$udtaf%d", p.pyCols), Type: fld.Type})
			p.pyCols++
		}
		params := map[string]string{}
		for k, v := range p.params {
			params[k] = v
		}
		if rowNames != "null" {
			params[rowFieldsParam] = rowNames
		}
		spec.JobParameters = params
		return nil
	}
	items := make([]sql.SelectItem, len(out.Items))
	for i, it := range out.Items {
		items[i] = it
		items[i].Expr = rewriteAST(it.Expr, func(e sql.Expr) sql.Expr {
			c, ok := e.(*sql.FuncCall)
			if !ok || err != nil || !strings.HasPrefix(c.Name, udtafColumnPrefix) {
				return nil
			}
			if spec == nil {
				if err = build(c); err != nil {
					return nil
				}
			}
			j, _ := strconv.Atoi(c.Args[0].(*sql.Literal).Text)
			if j < 0 || j >= len(results) {
				err = errAt(c.At, "internal error: column %d of %s", j, c.Name)
				return nil
			}
			return &sql.Ident{At: c.At, Parts: []string{results[j].Name}}
		})
	}
	if err != nil {
		return nil, nil, err
	}
	if spec == nil {
		return nil, nil, errAt(at, "internal error: flat_aggregate without its function's columns")
	}
	res := *out
	res.Items = items

	keyed, inputTypes, keyParams := p.keyedInput(cat, op.Keys, args)
	for key, v := range keyParams {
		spec.JobParameters[key] = v
	}
	for _, t := range inputTypes {
		spec.InputTypes = append(spec.InputTypes, t.String())
	}
	spec.Name = "PythonGroupTableAggregate[" + label + "]"
	st := &pyexec.Stage{Spec: spec, InputTypes: inputTypes, Results: results, Keyed: keyed, TableAggregate: true}
	st.Output = append(st.Output, op.Schema[:nk]...)
	st.Output = append(st.Output, results...)
	st.Output = append(st.Output, types.Field{Name: changelog.RowKindColumn, Type: types.TINYINT.NotNull()})
	p.steps = append(p.steps, Step{Python: st})
	p.schema = st.Output
	p.changes = true
	newPost := append(scope(nil), post[:nk]...)
	for _, f := range results {
		newPost = append(newPost, column{name: f.Name, t: f.Type})
	}
	return &res, newPost, nil
}
