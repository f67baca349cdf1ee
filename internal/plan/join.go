package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/join"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// JoinOp is a step that joins the rows of its pipeline (the join's left,
// probe side) with the rows of another pipeline, Build (the right side: a
// job without a sink), which the job runner starts alongside and passes to
// Op.Run.
type JoinOp struct {
	Op    *join.Op
	Build *Job
}

// TwoInput is a step with a second input, a pipeline of its own (a join's
// build side, a set operation's right query), which the job runner starts
// alongside and passes to RunTwo.
type TwoInput interface {
	Operator
	Second() *Job
	RunTwo(ctx context.Context, mem memory.Allocator, in, second <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error
}

// Second is the build side.
func (j *JoinOp) Second() *Job { return j.Build }

// RunTwo runs the join of in (probe) and second (build).
func (j *JoinOp) RunTwo(ctx context.Context, mem memory.Allocator, in, second <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	return j.Op.Run(ctx, mem, in, second, out)
}

// Run is not how a join runs: it needs its build side (job runs Op.Run).
func (j *JoinOp) Run(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	return errors.New("plan: a join needs its build side; run it with its Op.Run")
}

func (j *JoinOp) String() string {
	src := "VALUES"
	if t := j.Build.Source.Table; t != nil {
		src = t.Name
	}
	return fmt.Sprintf("%s build=[%s, %d step(s)]", j.Op, src, len(j.Build.Steps))
}

// joinKinds maps SQL's joins to the operator's; a cross join is an inner
// join without keys.
var joinKinds = map[sql.JoinType]join.Kind{
	sql.JoinInner: join.Inner, sql.JoinCross: join.Inner,
	sql.JoinLeft: join.Left, sql.JoinRight: join.Right, sql.JoinFull: join.Full,
}

// planJoin plans a join of two FROM items: the left one continues the
// job's pipeline (the probe side), the right one becomes the join's build
// pipeline. The equalities of ON between a left and a right expression are
// the hash keys; the rest of ON is evaluated on each candidate pair (or, for
// an inner join with Python calls in it, as a filter after the join).
func planJoin(cat *catalog, f *sql.Join, job *Job, p *pipeline) (scope, error) {
	left, err := planFrom(cat, f.Left, job, p)
	if err != nil {
		return nil, err
	}
	build := &Job{}
	q := &pipeline{params: p.params, pyCols: p.pyCols, inCols: p.inCols}
	right, err := planFrom(cat, f.Right, build, q)
	if err != nil {
		return nil, err
	}
	// streaming.go: over unbounded input in streaming mode, a regular
	// streaming join; else updating inputs are materialized first.
	streamJoin, err := streamingJoin(cat, f, job, build, p, q)
	if err != nil {
		return nil, err
	}
	if !streamJoin {
		materializeSides(p, q)
	}
	// In streaming mode Flink's outer joins retract their NULL-padded rows.
	p.changes = p.changes || cat.streaming && f.Type != sql.JoinInner && f.Type != sql.JoinCross
	p.pyCols, p.inCols = q.pyCols, q.inCols
	build.Steps = q.steps
	build.Source.Schema = sourceSchema(build)
	for _, side := range []*Job{job, build} {
		if t := side.Source.Table; !streamJoin && (!bounded(t) || !joinBounded(side.Steps)) {
			name := "a joined table"
			if t != nil {
				name = t.Name
			}
			return nil, errAt(f.At, "this %s reads %s, which never ends; weir runs joins on bounded input only, as Flink's batch mode does (datagen with 'number-of-rows', filesystem, VALUES)", f.Type, name)
		}
	}
	nl := len(left)
	all := append(append(scope(nil), left...), right...)
	var conds []expr.Expr
	if f.On != nil {
		b := &binder{cat: cat, scope: all}
		on, err := b.bind(f.On)
		if err != nil {
			return nil, err
		}
		if err := wantBool(f.On.Pos(), "ON", on); err != nil {
			return nil, err
		}
		if err := checkGoNested(f.On.Pos(), on); err != nil {
			return nil, err
		}
		conds = conjuncts(on)
	}
	// Equalities between a left and a right expression are keys.
	var lkeys, rkeys, residual []expr.Expr
	for _, c := range conds {
		l, r, ok := equiKey(c, nl)
		if !ok {
			residual = append(residual, c)
			continue
		}
		lkeys = append(lkeys, l)
		rkeys = append(rkeys, shift(r, -nl))
	}
	// Keys that are not plain columns (or must be cast to a common type)
	// are computed into hidden columns at the end of their side.
	lcols := keyColumns(p, lkeys, "$jl")
	rcols := keyColumns(q, rkeys, "$jr")
	build.Steps = q.steps
	lw := len(p.schema)
	kind := joinKinds[f.Type]
	var schema types.Schema
	for _, c := range p.schema {
		schema = append(schema, types.Field{Name: c.Name, Type: c.Type.WithNullable(c.Type.Nullable || kind == join.Right || kind == join.Full)})
	}
	for _, c := range q.schema {
		schema = append(schema, types.Field{Name: c.Name, Type: c.Type.WithNullable(c.Type.Nullable || kind == join.Left || kind == join.Full)})
	}
	// Over the join's output, a right column's index moves by the hidden
	// columns of the left side.
	onOutput := func(x expr.Expr) expr.Expr {
		return rewrite(x, func(e expr.Expr) expr.Expr {
			if c, ok := e.(*expr.Column); ok && c.Index >= nl {
				return &expr.Column{Index: c.Index - nl + lw, Name: c.Name, T: schema[c.Index-nl+lw].Type}
			}
			return nil
		})
	}
	op := &join.Op{Kind: kind, LeftKeys: lcols, RightKeys: rcols, Schema: schema, LeftWidth: lw}
	var after expr.Expr // a residual with Python calls, run after an inner join
	if len(residual) > 0 {
		res := onOutput(and(residual))
		switch {
		case !expr.HasPyCall(res):
			op.Residual = residualFunc(res)
		case kind == join.Inner:
			after = res
		default:
			return nil, errAt(f.On.Pos(), "the ON of a %s calls a Python function outside its equalities (%s); weir evaluates such a condition only for inner joins: compute it in a subquery on one side", f.Type, res)
		}
		if streamJoin && op.Residual != nil {
			// An inner join: the rest of ON filters the joined rows.
			op.Residual, after = nil, res
		}
	}
	op.Text = joinText(f.Type, lkeys, rkeys, residual)
	p.steps = append(p.steps, Step{Op: joinStep(op, build, streamJoin)}) // streaming.go
	p.schema = schema
	sc := append(scope(nil), left...)
	for i := range sc {
		sc[i].t = schema[i].Type
	}
	for i, c := range right {
		c.t = schema[lw+i].Type
		sc = append(sc, c)
	}
	visible := make([]expr.Expr, 0, len(sc))
	var names types.Schema
	for i := 0; i < nl; i++ {
		visible = append(visible, &expr.Column{Index: i, Name: schema[i].Name, T: schema[i].Type})
		names = append(names, schema[i])
	}
	for i := range right {
		visible = append(visible, &expr.Column{Index: lw + i, Name: schema[lw+i].Name, T: schema[lw+i].Type})
		names = append(names, schema[lw+i])
	}
	if after != nil {
		cols := make([]string, len(names))
		for i, n := range names {
			cols[i] = n.Name
		}
		if err := p.finish(visible, cols, after); err != nil {
			return nil, err
		}
		return sc, nil
	}
	p.addCalc(nil, visible, names)
	return sc, nil
}

// joinBounded reports whether every join among steps reads bounded input.
func joinBounded(steps []Step) bool {
	for _, st := range steps {
		if j, ok := st.Op.(TwoInput); ok && (!bounded(j.Second().Source.Table) || !joinBounded(j.Second().Steps)) {
			return false
		}
	}
	return true
}

// sourceSchema is the schema of a job's source as planFrom set it.
func sourceSchema(j *Job) types.Schema {
	if j.Source.Schema != nil {
		return j.Source.Schema
	}
	if j.Source.Table != nil {
		return j.Source.Table.Schema
	}
	return types.Schema{}
}

// conjuncts splits x at its top-level ANDs.
func conjuncts(x expr.Expr) []expr.Expr {
	if c, ok := x.(*expr.Call); ok && c.Name == "AND" {
		return append(conjuncts(c.Args[0]), conjuncts(c.Args[1])...)
	}
	return []expr.Expr{x}
}

func and(xs []expr.Expr) expr.Expr {
	x := xs[0]
	for _, y := range xs[1:] {
		x = &expr.Call{Name: "AND", Args: []expr.Expr{x, y}, T: types.BOOLEAN.WithNullable(x.Type().Nullable || y.Type().Nullable)}
	}
	return x
}

// equiKey splits c when it is l = r with l over the left side's columns
// only (index < nl) and r over the right's (or the reverse), without Python
// calls, and of types the hash table can compare.
func equiKey(c expr.Expr, nl int) (l, r expr.Expr, ok bool) {
	call, isCall := c.(*expr.Call)
	if !isCall || call.Name != "=" || expr.HasPyCall(c) {
		return nil, nil, false
	}
	a, b := call.Args[0], call.Args[1]
	sa, sb := sideOf(a, nl), sideOf(b, nl)
	switch {
	case sa == 1 && sb == 2:
	case sa == 2 && sb == 1:
		a, b = b, a
	default:
		return nil, nil, false
	}
	if !a.Type().SameShape(b.Type()) {
		t, ok := widen(a.Type(), b.Type())
		if !ok || t.Kind == types.Null {
			return nil, nil, false
		}
		a, b = coerce(a, t), coerce(b, t)
		if !a.Type().SameShape(b.Type()) {
			return nil, nil, false
		}
	}
	if !hashable(a.Type()) {
		return nil, nil, false
	}
	return a, b, true
}

// hashable reports whether equal values of t always have equal Arrow
// values (so the hash table can match them).
func hashable(t types.T) bool {
	switch t.Kind {
	case types.Array, types.Map, types.Row, types.Null:
		return false
	}
	return true
}

// sideOf is 1 when x reads only left columns, 2 when only right ones, 0
// otherwise (both, or none).
func sideOf(x expr.Expr, nl int) int {
	side := 0
	expr.Walk(x, func(e expr.Expr) bool {
		if c, ok := e.(*expr.Column); ok {
			s := 1
			if c.Index >= nl {
				s = 2
			}
			if side != 0 && side != s {
				side = -1
			} else if side == 0 {
				side = s
			}
		}
		return true
	})
	if side < 0 {
		return 0
	}
	return side
}

// shift moves the column indexes of x by d.
func shift(x expr.Expr, d int) expr.Expr {
	return rewrite(x, func(e expr.Expr) expr.Expr {
		if c, ok := e.(*expr.Column); ok {
			return &expr.Column{Index: c.Index + d, Name: c.Name, T: c.T}
		}
		return nil
	})
}

// keyColumns returns the column of each key in p's schema, computing the
// keys that are not plain columns into hidden columns named prefix0, ...
func keyColumns(p *pipeline, keys []expr.Expr, prefix string) []int {
	cols := make([]int, len(keys))
	outs := identity(p.schema)
	schema := append(types.Schema(nil), p.schema...)
	for i, k := range keys {
		if c, ok := k.(*expr.Column); ok {
			cols[i] = c.Index
			continue
		}
		cols[i] = len(outs)
		outs = append(outs, k)
		schema = append(schema, types.Field{Name: fmt.Sprintf("%s%d", prefix, i), Type: k.Type()})
	}
	p.addCalc(nil, outs, schema)
	return cols
}

// residualFunc evaluates cond over candidate pairs; NULL is no match.
func residualFunc(cond expr.Expr) join.Residual {
	return func(mem memory.Allocator, pairs arrow.RecordBatch) ([]bool, error) {
		a, err := exec.Eval(mem, cond, pairs)
		if err != nil {
			return nil, fmt.Errorf("join condition %s: %w", cond, err)
		}
		defer a.Release()
		keep := make([]bool, pairs.NumRows())
		switch v := a.(type) {
		case *array.Boolean:
			for i := range keep {
				keep[i] = v.IsValid(i) && v.Value(i)
			}
		case *array.Null:
		default:
			return nil, fmt.Errorf("join condition %s gave %s, not BOOLEAN", cond, a.DataType())
		}
		return keep, nil
	}
}

func joinText(t sql.JoinType, lkeys, rkeys, residual []expr.Expr) string {
	var parts []string
	for i := range lkeys {
		parts = append(parts, fmt.Sprintf("%s = %s", lkeys[i], rkeys[i]))
	}
	s := "on=[" + strings.Join(parts, ", ") + "]"
	if len(residual) > 0 {
		s += " where=[" + and(residual).String() + "]"
	}
	if t == sql.JoinCross {
		s = "cross"
	}
	return s
}

// exprKey renders x with its columns' positions, so that two expressions
// have the same key only when they compute the same value: the columns of
// the two sides of a join may have the same name (a.k and b.k).
func exprKey(x expr.Expr) string {
	return rewrite(x, func(e expr.Expr) expr.Expr {
		if c, ok := e.(*expr.Column); ok {
			return &expr.Column{Index: c.Index, Name: fmt.Sprintf("%s#%d", c.Name, c.Index), T: c.T}
		}
		return nil
	}).String()
}

// sameInputs reports whether two aggregate calls of the same label read
// the same columns (a label names columns, and two joined columns may have
// one name).
func sameInputs(a, b aggCall) bool {
	key := func(x expr.Expr) string {
		if x == nil {
			return ""
		}
		return exprKey(x)
	}
	return key(a.arg) == key(b.arg) && key(a.filter) == key(b.filter)
}
