package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/over"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
	"github.com/weir-dev/weir/internal/weirpb"
)

// Python aggregate functions over OVER windows (batch mode).
//
// A window with calls of Python aggregate functions runs in three steps
// (internal/over/python.go): its over.Op sends the sorted rows in chunks
// with each call's arguments and frames, a scalar Python stage calls the
// function once per run of rows sharing a frame, and over.Unpack turns the
// chunks back into rows with the values. The stage's evaluator is the
// function's over-window evaluator, found by the worker as an attribute of
// weir._over_aggregate named after the function's module and attribute:
//
//	f(a, b) OVER w  ->  f'(2, args(a), args(b), runs, base, first, keys...)
//
// As in PyFlink 2.3, only vectorized (pandas) aggregate functions run over
// windows; general ones are refused with the way out.

// overEvaluatorModule is the worker's module of over-window evaluators.
const overEvaluatorModule = "weir._over_aggregate"

// overMaxArgBytes bounds the argument values one call of a Python aggregate
// over a window gets: pyexec refuses a row over 200 MiB encoded, and this
// leaves room for the rest of the chunk's row, so that the over operator
// refuses a too large frame naming the call and the partition.
const overMaxArgBytes = 190 << 20

// pythonCall plans a call of the Python aggregate function fn over win.
func (w *windowPlan) pythonCall(fn *expr.PyFunc, c *sql.FuncCall, win *sql.Window, orderTypes []types.T) (over.Call, error) {
	call := over.Call{Func: over.PythonAgg, Arg: -1, Default: -1}
	switch {
	case c.Star:
		return call, errAt(c.At, "%s(*) is not allowed; only COUNT takes *", fn.Name)
	case c.Distinct || c.Filter != nil:
		return call, errAt(c.At, "DISTINCT and FILTER are not supported in Python aggregate functions over windows (%s) by weir", fn.Name)
	case fn.FuncType != "pandas":
		return call, errAt(c.At, "Python aggregate function %s is a general aggregate function: over windows (OVER) run only vectorized ones, as in PyFlink 2.3; declare it with @udaf(result_type=..., func_type=\"pandas\") as a function of pandas.Series returning one scalar, or use %s in a GROUP BY or a window table function (TUMBLE, HOP, CUMULATE)", fn.Name, fn.Name)
	}
	if err := udafArity(w.b.cat, fn, c); err != nil {
		return call, err
	}
	var labels []string
	for i, a := range c.Args {
		if hasOver(a) {
			return call, errAt(a.Pos(), "window functions cannot be nested")
		}
		if containsUDAF(w.b.cat, a) || containsAgg(a) {
			return call, errAt(a.Pos(), "aggregate calls cannot be nested (here inside %s)", fn.Name)
		}
		if fn.InputTypes != nil {
			a = &sql.Cast{At: a.Pos(), X: a, Type: fn.InputTypes[i], TypeAt: a.Pos()}
		}
		col, x, err := w.bindCol(a)
		if err != nil {
			return call, err
		}
		call.Args = append(call.Args, col)
		labels = append(labels, fmt.Sprint(x))
	}
	f, err := frame(win, orderTypes)
	if err != nil {
		return call, err
	}
	call.Frame = f
	call.Out = fn.ResultTypes[0].WithNullable(true)
	call.Label = fn.Name + "(" + strings.Join(labels, ", ") + ")"
	w.pyFn = fn
	return call, nil
}

// udafArity checks the number of arguments of a call of fn.
func udafArity(cat *catalog, fn *expr.PyFunc, c *sql.FuncCall) error {
	if fn.InputTypes != nil {
		if len(c.Args) != len(fn.InputTypes) {
			return errAt(c.At, "function %s expects %d argument(s) but got %d", fn.Name, len(fn.InputTypes), len(c.Args))
		}
		return nil
	}
	ar, ok := cat.arity[fn]
	if !ok || len(c.Args) >= ar[0] && (ar[1] < 0 || len(c.Args) <= ar[1]) {
		return nil
	}
	want := strconv.Itoa(ar[0])
	switch {
	case ar[1] < 0:
		want = "at least " + want
	case ar[1] != ar[0]:
		want += " to " + strconv.Itoa(ar[1])
	}
	return errAt(c.At, "aggregate function %s takes %s argument(s) but got %d", fn.Name, want, len(c.Args))
}

// overPython adds the steps of op, a window with Python calls whose
// functions are fns (by call index): op, which sends packs, the Python
// stage and the Unpack back to op's result rows.
func (p *pipeline) overPython(op *over.Op, fns map[int]*expr.PyFunc) {
	layout, schema := op.PackLayout()
	op.MaxArgBytes = overMaxArgBytes
	p.steps = append(p.steps, Step{Op: op})
	p.schema = schema
	col := func(j int) expr.Expr { return &expr.Column{Index: j, Name: schema[j].Name, T: schema[j].Type} }
	b := newStageBuilder(weirpb.Stage_SCALAR, p.params)
	evs := map[*expr.PyFunc]*expr.PyFunc{}
	var results types.Schema
	var names []string
	k := 0
	for i, c := range op.Calls {
		if c.Func != over.PythonAgg {
			continue
		}
		fn := fns[i]
		ev := evs[fn]
		if ev == nil {
			ev = &expr.PyFunc{Name: fn.Name, Module: overEvaluatorModule, Attr: fn.Module + ":" + fn.Attr,
				Deterministic: fn.Deterministic, ResultTypes: []types.T{types.ARRAY(c.Out).NotNull()}}
			evs[fn] = ev
		}
		args := []expr.Expr{&expr.Literal{Value: int32(len(c.Args)), T: types.INT.NotNull()}}
		for _, a := range layout.Args[k] {
			args = append(args, col(a))
		}
		args = append(args, col(layout.Runs[k]), col(layout.Base[k]), col(layout.First))
		for _, key := range layout.Keys {
			args = append(args, col(key))
		}
		pc := &expr.PyCall{Func: ev, Args: args, T: types.ARRAY(c.Out).NotNull()}
		e, err := b.call(pc)
		if err != nil {
			// Only constants can fail to encode; the one here is an INT.
			panic(fmt.Sprintf("plan: over-window Python call: %v", err))
		}
		b.spec.Outputs = append(b.spec.Outputs, e)
		results = append(results, types.Field{Name: fmt.Sprintf("$py%d", p.pyCols), Type: pc.T})
		p.pyCols++
		names = append(names, c.Label)
		k++
	}
	b.spec.Name = "PythonOverAggregate[" + strings.Join(names, ", ") + "]"
	forward := make([]int, 0, layout.Rows+len(layout.Runs))
	for j := 0; j < layout.Rows; j++ {
		forward = append(forward, j)
	}
	forward = append(forward, layout.Runs...)
	p.stage(b, forward, results)
	p.steps = append(p.steps, Step{Op: &over.Unpack{Op: op}})
	p.schema = op.ResultSchema()
}
