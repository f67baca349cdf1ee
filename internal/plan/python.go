package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/coder"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/pyexec"
	"github.com/weir-dev/weir/internal/types"
	"github.com/weir-dev/weir/internal/weirpb"
	"github.com/weir-dev/weir/internal/window"
)

// pipeline is a job's operators so far and the schema they produce.
type pipeline struct {
	steps  []Step
	schema types.Schema
	params map[string]string
	// pyCols and inCols number the result columns of Python stages ($py0,
	// $py1, ...) and the computed inputs of Python stages ($in0, ...) over
	// the whole job, so that the names in a plan are unique.
	pyCols, inCols int
	// changes is set when the rows may be updates, not only insertions
	// (streaming mode; see streaming.go).
	changes bool
	// window is the query's window table function (window.go), or nil.
	window *window.Assign
}

// finish appends the last steps computing outs (filtered by filter) over the
// current schema: Python stages for the Python calls, then one Go Calc.
// Consecutive Python calls are fused into one stage; a Python call whose
// argument needs a Go calculation over another Python call's result starts
// a new stage after that calculation.
func (p *pipeline) finish(outs []expr.Expr, names []string, filter expr.Expr) error {
	outs, names = p.keepRowKind(outs, names)
	// A filter without Python calls runs first, before any row reaches Python.
	if filter != nil && !expr.HasPyCall(filter) {
		if expr.HasPyCall(exprsAsCall(outs)) {
			p.addCalc(filter, identity(p.schema), p.schema)
			filter = nil
		}
	}
	if filter != nil && expr.HasPyCall(filter) && hasVectorized(outs) {
		// As Flink does, the WHERE's Python calls run first and the rows
		// that fail it are dropped before the SELECT's: a vectorized
		// function sees only the rows that pass (a batch mean over the
		// rows the filter keeps).
		for {
			all := append(append([]expr.Expr(nil), outs...), filter)
			trees := sameCallKind(readyTrees([]expr.Expr{filter}))
			if len(trees) == 0 {
				break
			}
			rewritten, err := p.addStage(trees, all)
			if err != nil {
				return err
			}
			outs, filter = rewritten[:len(outs)], rewritten[len(outs)]
		}
		p.addCalc(filter, identity(p.schema), p.schema)
		filter = nil
	}
	for {
		all := append(append([]expr.Expr(nil), outs...), filter)
		if filter == nil {
			all = all[:len(outs)]
		}
		trees := sameCallKind(readyTrees(all))
		if len(trees) == 0 {
			break
		}
		rewritten, err := p.addStage(trees, all)
		if err != nil {
			return err
		}
		outs = rewritten[:len(outs)]
		if filter != nil {
			filter = rewritten[len(outs)]
		}
	}
	schema := make(types.Schema, len(outs))
	for i, o := range outs {
		schema[i] = types.Field{Name: names[i], Type: o.Type()}
	}
	p.addCalc(filter, outs, schema)
	return nil
}

func exprsAsCall(xs []expr.Expr) expr.Expr { return &expr.Call{Name: "LIST", Args: xs} }

func identity(s types.Schema) []expr.Expr {
	out := make([]expr.Expr, len(s))
	for i, f := range s {
		out[i] = &expr.Column{Index: i, Name: f.Name, T: f.Type}
	}
	return out
}

// addCalc appends a Go calculation, unless it would change nothing.
func (p *pipeline) addCalc(filter expr.Expr, outs []expr.Expr, schema types.Schema) {
	if filter == nil && len(outs) == len(p.schema) {
		same := true
		for i, o := range outs {
			c, ok := o.(*expr.Column)
			if !ok || c.Index != i || !c.T.Equal(p.schema[i].Type) || schema[i].Name != p.schema[i].Name {
				same = false
				break
			}
		}
		if same {
			return
		}
	}
	p.steps = append(p.steps, Step{Calc: &exec.Calc{Filter: filter, Projections: outs, Schema: schema}})
	p.schema = schema
}

// readyTrees finds the maximal Python call trees whose arguments need no
// other Python result first: every argument is a Python call (fused into the
// same stage) or an expression without Python calls.
func readyTrees(xs []expr.Expr) []*expr.PyCall {
	var out []*expr.PyCall
	seen := map[string]bool{}
	var visit func(e expr.Expr)
	visit = func(e expr.Expr) {
		if pc, ok := e.(*expr.PyCall); ok && ready(pc) {
			if k := key(pc); !seen[k] || !deterministic(pc) {
				seen[k] = true
				out = append(out, pc)
			}
			return
		}
		for _, c := range expr.Children(e) {
			visit(c)
		}
	}
	for _, x := range xs {
		visit(x)
	}
	return out
}

// deterministic reports whether equal calls like pc give equal results: its
// function and every Python call in its arguments are deterministic. (As in
// Flink, f(rand()) is non-deterministic even when f is deterministic.)
func deterministic(pc *expr.PyCall) bool {
	det := true
	expr.Walk(pc, func(x expr.Expr) bool {
		if c, ok := x.(*expr.PyCall); ok && !c.Func.Deterministic {
			det = false
		}
		return det
	})
	return det
}

// vectorized reports whether pc's function is called once per batch
// (func_type "pandas" or "arrow"). Vectorized and per-row calls run in
// separate stages: a stage is one or the other.
func vectorized(pc *expr.PyCall) bool {
	return pc.Func.FuncType == "pandas" || pc.Func.FuncType == "arrow"
}

// hasVectorized reports whether some Python call in xs is vectorized.
func hasVectorized(xs []expr.Expr) bool {
	found := false
	for _, x := range xs {
		expr.Walk(x, func(e expr.Expr) bool {
			if pc, ok := e.(*expr.PyCall); ok && vectorized(pc) {
				found = true
			}
			return !found
		})
	}
	return found
}

// sameCallKind keeps the trees that run the way the first one does,
// vectorized or per row; the others go to a later stage.
func sameCallKind(trees []*expr.PyCall) []*expr.PyCall {
	if len(trees) == 0 {
		return trees
	}
	out := trees[:0:0]
	for _, t := range trees {
		if vectorized(t) == vectorized(trees[0]) {
			out = append(out, t)
		}
	}
	return out
}

// ready reports whether pc can run in a stage now: its arguments need no
// Go calculation over a Python result, and its nested Python calls run the
// same way it does (vectorized or per row).
func ready(pc *expr.PyCall) bool {
	for _, a := range pc.Args {
		if inner, ok := a.(*expr.PyCall); ok {
			if vectorized(inner) != vectorized(pc) || !ready(inner) {
				return false
			}
		} else if expr.HasPyCall(a) {
			return false
		}
	}
	return true
}

// stageBuilder collects the inputs, functions and constants of one stage.
type stageBuilder struct {
	spec      *weirpb.Stage
	funcs     map[*expr.PyFunc]int32
	inputs    []expr.Expr // Go expressions whose values go to Python
	inputKeys map[string]int32
}

func newStageBuilder(kind weirpb.Stage_Kind, params map[string]string) *stageBuilder {
	return &stageBuilder{
		spec:      &weirpb.Stage{Kind: kind, JobParameters: params},
		funcs:     map[*expr.PyFunc]int32{},
		inputKeys: map[string]int32{},
	}
}

func (b *stageBuilder) function(f *expr.PyFunc) int32 {
	if i, ok := b.funcs[f]; ok {
		return i
	}
	i := int32(len(b.spec.Functions))
	b.funcs[f] = i
	fn := &weirpb.Function{Name: f.Name, Module: f.Module, Attr: f.Attr, Deterministic: f.Deterministic, FuncType: f.FuncType}
	for _, t := range f.ResultTypes {
		fn.ResultTypes = append(fn.ResultTypes, t.String())
	}
	b.spec.Functions = append(b.spec.Functions, fn)
	return i
}

// arg converts an argument: a nested Python call, a constant, or an input.
func (b *stageBuilder) arg(e expr.Expr) (*weirpb.Expr, error) {
	if pc, ok := e.(*expr.PyCall); ok {
		return b.call(pc)
	}
	if isConstant(e) {
		v, err := fold(e)
		if err != nil {
			return nil, err
		}
		enc, err := coder.EncodeValues(nil, []types.T{e.Type()}, []any{v})
		if err != nil {
			return nil, fmt.Errorf("plan: constant %s: %w", e, err)
		}
		return &weirpb.Expr{Kind: &weirpb.Expr_Constant{Constant: enc}, Type: constType(e.Type()).String()}, nil
	}
	k := key(e)
	i, ok := b.inputKeys[k]
	if !ok {
		i = int32(len(b.inputs))
		b.inputKeys[k] = i
		b.inputs = append(b.inputs, e)
		b.spec.InputTypes = append(b.spec.InputTypes, e.Type().String())
	}
	return &weirpb.Expr{Kind: &weirpb.Expr_Column{Column: i}, Type: e.Type().String()}, nil
}

// constType is the type a constant is sent as; an untyped NULL goes as a
// nullable STRING, which Python reads as None.
func constType(t types.T) types.T {
	if t.Kind == types.Null {
		return types.STRING
	}
	return t
}

func (b *stageBuilder) call(pc *expr.PyCall) (*weirpb.Expr, error) {
	c := &weirpb.Call{Function: b.function(pc.Func)}
	for _, a := range pc.Args {
		x, err := b.arg(a)
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, x)
	}
	return &weirpb.Expr{Kind: &weirpb.Expr_Call{Call: c}, Type: pc.T.String()}, nil
}

// stage turns the builder into a pyexec.Stage over the current schema,
// adding a Go calculation in front when some inputs are not plain columns.
// forward are the current columns kept beside the results.
func (p *pipeline) stage(b *stageBuilder, forward []int, results types.Schema) *pyexec.Stage {
	st := &pyexec.Stage{Spec: b.spec, Results: results}
	for _, f := range forward {
		st.Output = append(st.Output, p.schema[f])
	}
	plain := true
	for _, in := range b.inputs {
		if _, ok := in.(*expr.Column); !ok {
			plain = false
		}
	}
	if plain {
		for _, in := range b.inputs {
			c := in.(*expr.Column)
			st.Inputs = append(st.Inputs, c.Index)
			st.InputTypes = append(st.InputTypes, c.T)
		}
		st.Forward = forward
	} else {
		pre := make([]expr.Expr, 0, len(forward)+len(b.inputs))
		schema := make(types.Schema, 0, cap(pre))
		for i, f := range forward {
			pre = append(pre, &expr.Column{Index: f, Name: p.schema[f].Name, T: p.schema[f].Type})
			schema = append(schema, p.schema[f])
			st.Forward = append(st.Forward, i)
		}
		for i, in := range b.inputs {
			pre = append(pre, in)
			schema = append(schema, types.Field{Name: fmt.Sprintf("$in%d", p.inCols), Type: in.Type()})
			p.inCols++
			st.Inputs = append(st.Inputs, len(forward)+i)
			st.InputTypes = append(st.InputTypes, in.Type())
		}
		p.steps = append(p.steps, Step{Calc: &exec.Calc{Projections: pre, Schema: schema}})
		p.schema = schema
	}
	st.Output = append(st.Output, results...)
	p.steps = append(p.steps, Step{Python: st})
	p.schema = st.Output
	return st
}

// addStage adds one scalar Python stage computing trees and returns all with
// the trees replaced by the stage's result columns.
func (p *pipeline) addStage(trees []*expr.PyCall, all []expr.Expr) ([]expr.Expr, error) {
	kind := weirpb.Stage_SCALAR
	if vectorized(trees[0]) {
		kind = weirpb.Stage_VECTORIZED
	}
	b := newStageBuilder(kind, p.params)
	results := make(types.Schema, len(trees))
	names := make([]string, len(trees))
	treeIndex := map[*expr.PyCall]int{}
	for i, t := range trees {
		e, err := b.call(t)
		if err != nil {
			return nil, err
		}
		b.spec.Outputs = append(b.spec.Outputs, e)
		results[i] = types.Field{Name: fmt.Sprintf("$py%d", p.pyCols), Type: t.T}
		p.pyCols++
		names[i] = t.String()
		treeIndex[t] = i
	}
	b.spec.Name = stageName(names)
	if kind == weirpb.Stage_VECTORIZED {
		b.spec.Name = "Vectorized" + b.spec.Name
	}
	// Columns still needed beside the results.
	used := map[int]bool{}
	for _, x := range all {
		collectColumns(x, treeIndex, used)
	}
	forward := make([]int, 0, len(used))
	for c := range used {
		forward = append(forward, c)
	}
	sort.Ints(forward)
	before := p.schema
	p.stage(b, forward, results)
	// Rewrite: forwarded column f is now at its position in forward; tree i
	// at len(forward)+i.
	pos := map[int]int{}
	for i, f := range forward {
		pos[f] = i
	}
	byKey := map[string]int{}
	for i, t := range trees {
		if deterministic(t) {
			byKey[key(t)] = i
		}
	}
	out := make([]expr.Expr, len(all))
	for i, x := range all {
		out[i] = rewrite(x, func(e expr.Expr) expr.Expr {
			switch e := e.(type) {
			case *expr.PyCall:
				if k, ok := treeIndex[e]; ok {
					return &expr.Column{Index: len(forward) + k, Name: results[k].Name, T: e.T}
				}
				if k, ok := byKey[key(e)]; ok && deterministic(e) && ready(e) {
					return &expr.Column{Index: len(forward) + k, Name: results[k].Name, T: e.T}
				}
			case *expr.Column:
				return &expr.Column{Index: pos[e.Index], Name: before[e.Index].Name, T: e.T}
			}
			return nil
		})
	}
	return out, nil
}

func stageName(calls []string) string {
	s := strings.Join(calls, ", ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return "PythonCalc[" + s + "]"
}

// collectColumns records the columns x uses outside the given trees.
func collectColumns(x expr.Expr, trees map[*expr.PyCall]int, used map[int]bool) {
	if pc, ok := x.(*expr.PyCall); ok {
		if _, isTree := trees[pc]; isTree {
			return
		}
		// An equal deterministic call is computed by the stage too.
		for t := range trees {
			if deterministic(t) && key(t) == key(pc) && ready(pc) {
				return
			}
		}
	}
	if c, ok := x.(*expr.Column); ok {
		used[c.Index] = true
		return
	}
	for _, ch := range expr.Children(x) {
		collectColumns(ch, trees, used)
	}
}

// rewrite rebuilds x top-down: f returns a replacement for a node, or nil
// to keep the node and rewrite its children.
func rewrite(x expr.Expr, f func(expr.Expr) expr.Expr) expr.Expr {
	if x == nil {
		return nil
	}
	if r := f(x); r != nil {
		return r
	}
	switch e := x.(type) {
	case *expr.Call:
		c := *e
		c.Args = rewriteAll(e.Args, f)
		return &c
	case *expr.PyCall:
		c := *e
		c.Args = rewriteAll(e.Args, f)
		return &c
	case *expr.Cast:
		c := *e
		c.X = rewrite(e.X, f)
		return &c
	case *expr.Case:
		c := &expr.Case{T: e.T, Else: rewrite(e.Else, f)}
		for _, w := range e.Whens {
			c.Whens = append(c.Whens, expr.When{Cond: rewrite(w.Cond, f), Result: rewrite(w.Result, f)})
		}
		return c
	}
	return x
}

func rewriteAll(xs []expr.Expr, f func(expr.Expr) expr.Expr) []expr.Expr {
	out := make([]expr.Expr, len(xs))
	for i, x := range xs {
		out[i] = rewrite(x, f)
	}
	return out
}

// key identifies an expression for deduplication: unlike String, it names
// columns by position (two columns may have the same name, e.g. t.x and
// T.x after a LATERAL TABLE join) and literals with their types.
func key(e expr.Expr) string {
	var b strings.Builder
	writeKey(&b, e)
	return b.String()
}

func writeKey(b *strings.Builder, e expr.Expr) {
	args := func(xs []expr.Expr) {
		b.WriteByte('(')
		for i, x := range xs {
			if i > 0 {
				b.WriteString(", ")
			}
			writeKey(b, x)
		}
		b.WriteByte(')')
	}
	switch e := e.(type) {
	case nil:
		b.WriteString("<nil>")
	case *expr.Column:
		fmt.Fprintf(b, "$%d", e.Index)
	case *expr.Literal:
		fmt.Fprintf(b, "%#v:%s", e.Value, e.T)
	case *expr.Call:
		b.WriteString(e.Name)
		args(e.Args)
		b.WriteString(":" + e.T.String())
	case *expr.PyCall:
		fmt.Fprintf(b, "py:%s", e.Func.Name)
		args(e.Args)
	case *expr.Cast:
		if e.Try {
			b.WriteString("TRY_")
		}
		b.WriteString("CAST(")
		writeKey(b, e.X)
		b.WriteString(" AS " + e.T.String() + ")")
	case *expr.Case:
		b.WriteString("CASE")
		for _, w := range e.Whens {
			b.WriteString(" WHEN ")
			writeKey(b, w.Cond)
			b.WriteString(" THEN ")
			writeKey(b, w.Result)
		}
		b.WriteString(" ELSE ")
		writeKey(b, e.Else)
		b.WriteString(" END:" + e.T.String())
	default:
		fmt.Fprintf(b, "%T:%s", e, e)
	}
}

// isConstant reports whether e depends on no column and no Python call.
func isConstant(e expr.Expr) bool {
	constant := true
	expr.Walk(e, func(x expr.Expr) bool {
		switch x.(type) {
		case *expr.Column, *expr.PyCall:
			constant = false
		}
		return constant
	})
	return constant
}

// fold evaluates a constant expression with the engine's own evaluator.
func fold(e expr.Expr) (any, error) {
	if v, ok, err := foldNested(e); ok {
		return v, err
	}
	mem := memory.DefaultAllocator
	rec := array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 1)
	defer rec.Release()
	arr, err := exec.Eval(mem, e, rec)
	if err != nil {
		return nil, fmt.Errorf("plan: evaluate constant %s: %w", e, err)
	}
	defer arr.Release()
	return exec.ValueAt(arr, 0), nil
}
