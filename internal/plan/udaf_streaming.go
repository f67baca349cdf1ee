package plan

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/changelog"
	"github.com/weir-dev/weir/internal/config"
	"github.com/weir-dev/weir/internal/pyexec"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
	"github.com/weir-dev/weir/internal/weirpb"
)

// Python aggregate functions in streaming mode.
//
// The rewrite of udaf.go has turned each call f(a, b) into
// $udaf$f(2, $COLLECT(a), $COLLECT(b), keys...), and planAggregate has
// planned the $COLLECTs as aggregates over the calc of keys and arguments.
// In streaming mode no collection happens: the aggregation becomes a keyed
// Python stage (pyexec.Keyed) whose workers keep each group's accumulators
// in the engine's state store, through the Fn API state service, and emit
// the groups' changelog as Flink's GroupAggFunction does. The $udaf$ calls
// of the rewritten query then read the stage's result columns.
//
// Built-in aggregates beside them in one GROUP BY, FILTER clauses and
// GROUPING SETS are refused in streaming mode, each with its way out.

// keyTypesParam carries the key columns' types to the workers, for error
// messages (python/weir/_state_aggregate.py drops it from the parameters
// the functions see).
const keyTypesParam = "weir.keyed.key-types"

// retractingParam is "false" when the stage's input holds insertions only.
const retractingParam = "weir.keyed.retracting"

// hasCollect reports whether op collects the arguments of Python aggregate
// functions.
func hasCollect(op *aggregate.Op) bool {
	for _, s := range op.Aggs {
		if s.Func == aggregate.Collect {
			return true
		}
	}
	return false
}

// addStreamingUDAFs appends the keyed stage computing the Python aggregate
// calls of out (the query rewritten over op's output, whose scope is post)
// and returns out and post over the stage's output instead.
func (p *pipeline) addStreamingUDAFs(cat *catalog, op *aggregate.Op, out *sql.Select, post scope, sets bool, at sql.Pos) (*sql.Select, scope, error) {
	if sets {
		return nil, nil, errAt(at, "GROUPING SETS, ROLLUP or CUBE with Python aggregate functions are not supported in weir's streaming mode yet; run the query in batch mode (SET 'execution.runtime-mode' = 'batch')")
	}
	nk := len(op.Keys)
	k := &udafStage{cat: cat, op: op, p: p, spec: &weirpb.Stage{}, argIndex: map[int]int{}, callIndex: map[string]int{}}
	for i, s := range op.Aggs {
		if s.HasFilter {
			return nil, nil, errAt(at, "FILTER (WHERE ...) beside Python aggregate functions is not supported in weir's streaming mode yet; filter the rows in WHERE, or run the query in batch mode (SET 'execution.runtime-mode' = 'batch')")
		}
		if s.Func != aggregate.Collect {
			// Built-in aggregates run in the same stage, as PyFlink runs
			// them in Python beside Python aggregate functions.
			if err := k.builtin(i, s, at); err != nil {
				return nil, nil, err
			}
		}
	}
	var err error
	rw := func(x sql.Expr) sql.Expr {
		if x == nil {
			return nil
		}
		return rewriteAST(x, func(e sql.Expr) sql.Expr {
			c, ok := e.(*sql.FuncCall)
			if !ok || err != nil || !strings.HasPrefix(c.Name, udafPrefix) {
				return nil
			}
			var name string
			name, err = k.call(c)
			return &sql.Ident{At: c.At, Parts: []string{name}}
		})
	}
	res := *out
	res.Items = make([]sql.SelectItem, len(out.Items))
	for i, it := range out.Items {
		res.Items[i] = it
		res.Items[i].Expr = rw(it.Expr)
	}
	res.Where = rw(out.Where)
	if out.OrderBy != nil {
		res.OrderBy = make([]sql.OrderItem, len(out.OrderBy))
		for i, o := range out.OrderBy {
			res.OrderBy[i] = o
			res.OrderBy[i].X = rw(o.X)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if len(k.spec.GetOutputs()) == 0 {
		return nil, nil, errAt(at, "internal error: a streaming aggregation of Python aggregate functions without their calls")
	}
	keyed, inputTypes, keyParams := p.keyedInput(cat, op.Keys, k.args)
	params := map[string]string{}
	for key, v := range p.params {
		params[key] = v
	}
	for key, v := range keyParams {
		params[key] = v
	}
	k.spec.JobParameters = params
	k.spec.Kind = weirpb.Stage_SCALAR
	for _, t := range inputTypes {
		k.spec.InputTypes = append(k.spec.InputTypes, t.String())
	}
	k.spec.Name = "PythonGroupAggregate[" + strings.Join(k.labels, ", ") + "]"
	st := &pyexec.Stage{Spec: k.spec, InputTypes: inputTypes, Results: k.results, Keyed: keyed}
	st.Output = append(st.Output, op.Schema[:nk]...)
	st.Output = append(st.Output, k.results...)
	st.Output = append(st.Output, types.Field{Name: changelog.RowKindColumn, Type: types.TINYINT.NotNull()})
	p.steps = append(p.steps, Step{Python: st})
	p.schema = st.Output
	p.changes = true
	newPost := append(scope(nil), post[:nk]...)
	for _, f := range k.results {
		newPost = append(newPost, column{name: f.Name, t: f.Type})
	}
	return &res, newPost, nil
}

// udafStage gathers the Python aggregate calls of a query into the spec of
// one keyed stage.
type udafStage struct {
	cat       *catalog
	op        *aggregate.Op
	p         *pipeline
	spec      *weirpb.Stage
	funcs     map[string]int32
	args      []int       // input columns of the arguments, in stage order
	argIndex  map[int]int // input column -> position in args
	callIndex map[string]int
	results   types.Schema
	labels    []string
}

// call adds the call c, $udaf$f(n, $aggI..., keys...), and returns the name
// of its result column.
func (k *udafStage) call(c *sql.FuncCall) (string, error) {
	ev := k.cat.functions[c.Name]
	if ev == nil {
		ev = k.cat.functions[strings.ToLower(c.Name)]
	}
	lit, ok := c.Args[0].(*sql.Literal)
	if ev == nil || !ok {
		return "", errAt(c.At, "internal error: bad Python aggregate call %s", c.Name)
	}
	name := strings.TrimPrefix(c.Name, udafPrefix)
	if f := k.cat.functions[strings.ToLower(name)]; f != nil && f.FuncType == "pandas" {
		return "", errAt(c.At, "pandas aggregate function %s runs in batch mode only in weir, as in Flink (its streaming GroupAggregate takes general Python aggregate functions); SET 'execution.runtime-mode' = 'batch'", name)
	}
	n, _ := strconv.Atoi(lit.Text)
	var cols []int
	for _, a := range c.Args[1 : 1+n] {
		id, ok := a.(*sql.Ident)
		var i int
		if ok {
			_, err := fmt.Sscanf(id.Parts[len(id.Parts)-1], "$agg%d", &i)
			ok = err == nil && i >= 0 && i < len(k.op.Aggs)
		}
		if !ok {
			return "", errAt(a.Pos(), "internal error: argument of %s is not a collected column", name)
		}
		cols = append(cols, k.op.Aggs[i].Arg)
	}
	sig := fmt.Sprint(c.Name, cols)
	if i, ok := k.callIndex[sig]; ok {
		return k.results[i].Name, nil
	}
	if k.funcs == nil {
		k.funcs = map[string]int32{}
	}
	fi, ok := k.funcs[c.Name]
	if !ok {
		fi = int32(len(k.spec.Functions))
		k.funcs[c.Name] = fi
		fn := &weirpb.Function{Name: name, Module: ev.Module, Attr: ev.Attr, Deterministic: ev.Deterministic}
		for _, t := range ev.ResultTypes {
			fn.ResultTypes = append(fn.ResultTypes, t.String())
		}
		k.spec.Functions = append(k.spec.Functions, fn)
	}
	if len(ev.ResultTypes) != 1 {
		return "", errAt(c.At, "aggregate function %s must have one result type", name)
	}
	call := &weirpb.Call{Function: fi}
	var argText []string
	for _, col := range cols {
		j, ok := k.argIndex[col]
		if !ok {
			j = len(k.args)
			k.argIndex[col] = j
			k.args = append(k.args, col)
		}
		call.Args = append(call.Args, &weirpb.Expr{Kind: &weirpb.Expr_Column{Column: int32(2 + j)}, Type: k.p.schema[col].Type.String()})
		argText = append(argText, k.p.schema[col].Name)
	}
	t := ev.ResultTypes[0]
	k.spec.Outputs = append(k.spec.Outputs, &weirpb.Expr{Kind: &weirpb.Expr_Call{Call: call}, Type: t.String()})
	res := fmt.Sprintf("$udaf%d", k.p.pyCols)
	k.p.pyCols++
	k.callIndex[sig] = len(k.results)
	k.results = append(k.results, types.Field{Name: res, Type: t})
	k.labels = append(k.labels, name+"("+strings.Join(argText, ", ")+")")
	return res, nil
}

// builtinAggs are the built-in aggregates a keyed stage computes, by the
// attribute of their implementation in weir._state_aggregate.
var builtinAggs = map[aggregate.Func]string{
	aggregate.CountStar: "builtin_count", aggregate.Count: "builtin_count", aggregate.Sum: "builtin_sum",
	aggregate.Avg: "builtin_avg", aggregate.Min: "builtin_min", aggregate.Max: "builtin_max",
}

// builtin adds the built-in aggregate op.Aggs[i] to the stage; its result
// column keeps the aggregation's name, $agg<i>, which the query reads.
func (k *udafStage) builtin(i int, s aggregate.Spec, at sql.Pos) error {
	attr, ok := builtinAggs[s.Func]
	switch {
	case !ok || s.Distinct:
		return errAt(at, "the built-in aggregate %s beside Python aggregate functions in one GROUP BY is not supported in weir's streaming mode yet (COUNT, SUM, AVG, MIN and MAX are); compute it in a query of its own and join the two on the keys, or run the query in batch mode (SET 'execution.runtime-mode' = 'batch')", s.Label)
	case s.Func == aggregate.Avg && s.In.Kind == types.Decimal:
		return errAt(at, "AVG of a DECIMAL beside Python aggregate functions is not supported in weir's streaming mode yet; CAST the argument to DOUBLE, or run the query in batch mode (SET 'execution.runtime-mode' = 'batch')")
	case s.Func == aggregate.Avg && s.In.Kind != types.Float && s.In.Kind != types.Double:
		attr = "builtin_avg_integral"
	}
	key := "builtin:" + attr
	fi, ok := k.funcs[key]
	if !ok {
		if k.funcs == nil {
			k.funcs = map[string]int32{}
		}
		fi = int32(len(k.spec.Functions))
		k.funcs[key] = fi
		k.spec.Functions = append(k.spec.Functions, &weirpb.Function{Name: s.Label, Module: "weir._state_aggregate", Attr: attr, Deterministic: true, ResultTypes: []string{s.Out.String()}})
	}
	call := &weirpb.Call{Function: fi}
	label := s.Label
	if s.Func != aggregate.CountStar {
		j, ok := k.argIndex[s.Arg]
		if !ok {
			j = len(k.args)
			k.argIndex[s.Arg] = j
			k.args = append(k.args, s.Arg)
		}
		call.Args = append(call.Args, &weirpb.Expr{Kind: &weirpb.Expr_Column{Column: int32(2 + j)}, Type: k.p.schema[s.Arg].Type.String()})
	}
	k.spec.Outputs = append(k.spec.Outputs, &weirpb.Expr{Kind: &weirpb.Expr_Call{Call: call}, Type: s.Out.String()})
	k.results = append(k.results, types.Field{Name: fmt.Sprintf("$agg%d", i), Type: s.Out})
	k.labels = append(k.labels, label)
	return nil
}

// keyedInput describes the input of a keyed stage over the group keys and
// the argument columns args of p: the row kind, the key bytes, then the
// arguments. params are the job parameters the workers read of it.
func (p *pipeline) keyedInput(cat *catalog, keys, args []int) (keyed *pyexec.Keyed, inputTypes []types.T, params map[string]string) {
	keyed = &pyexec.Keyed{Keys: keys, RowKind: -1, Args: args}
	keyTypes := []string{}
	for _, c := range keys {
		keyed.KeyTypes = append(keyed.KeyTypes, p.schema[c].Type)
		keyTypes = append(keyTypes, p.schema[c].Type.String())
	}
	if p.hasRowKind() {
		keyed.RowKind = len(p.schema) - 1
	}
	if c, _, err := config.Resolve(cat.opts.Map()); err == nil {
		keyed.Backend = c.String(config.StateBackend)
	}
	kt, _ := json.Marshal(keyTypes)
	params = map[string]string{keyTypesParam: string(kt)}
	if keyed.RowKind < 0 {
		// Insert-only input: the workers skip the row-kind checks.
		params[retractingParam] = "false"
	}
	inputTypes = []types.T{types.TINYINT.NotNull(), types.BYTES.NotNull()}
	for _, c := range args {
		inputTypes = append(inputTypes, p.schema[c].Type)
	}
	return keyed, inputTypes, params
}
