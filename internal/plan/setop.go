package plan

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/join"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// SetOpStep is a set operation: the rows of its pipeline (the left query)
// with those of Right, a pipeline of its own.
type SetOpStep struct {
	Op    *join.SetOp
	Right *Job
}

// Second is the right query.
func (s *SetOpStep) Second() *Job { return s.Right }

// RunTwo runs the set operation of in (left) and second (right).
func (s *SetOpStep) RunTwo(ctx context.Context, mem memory.Allocator, in, second <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	return s.Op.Run(ctx, mem, in, second, out)
}

// Run is not how a set operation runs: it needs its right input.
func (s *SetOpStep) Run(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	return errors.New("plan: a set operation needs its right input; run it with RunTwo")
}

func (s *SetOpStep) String() string {
	src := "VALUES"
	if t := s.Right.Source.Table; t != nil {
		src = t.Name
	}
	return fmt.Sprintf("%s right=[%s, %d step(s)]", s.Op, src, len(s.Right.Steps))
}

// planSetOp plans UNION, INTERSECT and EXCEPT: the left query continues the
// job's pipeline, the right one is the set operation's second pipeline; both
// are cast to the columns' common types (Flink's widening), and the names
// are the left query's.
func planSetOp(cat *catalog, f *sql.SetOp, job *Job, p *pipeline) (scope, error) {
	left, err := planSubquery(cat, &sql.Subquery{At: f.Left.At, Query: f.Left}, job, p)
	if err != nil {
		return nil, err
	}
	right := &Job{}
	q := &pipeline{params: p.params, pyCols: p.pyCols, inCols: p.inCols}
	rsc, err := planSubquery(cat, &sql.Subquery{At: f.Right.At, Query: f.Right}, right, q)
	if err != nil {
		return nil, err
	}
	materializeSides(p, q) // streaming.go
	p.pyCols, p.inCols = q.pyCols, q.inCols
	if len(left) != len(rsc) {
		return nil, errAt(f.At, "the queries of %s have %d and %d columns; each side must have as many columns, of compatible types", f.Op, len(left), len(rsc))
	}
	for _, side := range []*Job{job, right} {
		if t := side.Source.Table; !bounded(t) || !joinBounded(side.Steps) {
			return nil, errAt(f.At, "this %s reads %s, which never ends; weir runs set operations on bounded input only, as Flink's batch mode does (datagen with 'number-of-rows', filesystem, VALUES)", f.Op, t.Name)
		}
	}
	schema := make(types.Schema, len(left))
	for i := range left {
		t, ok := widen(left[i].t, rsc[i].t)
		if !ok || !hashable(t) && f.Op != "UNION" {
			return nil, errAt(f.At, "column %d of %s is %s on the left and %s on the right, which have no common type", i+1, f.Op, left[i].t, rsc[i].t)
		}
		if t.Kind == types.Null {
			t = types.STRING.WithNullable(true)
		}
		schema[i] = types.Field{Name: p.schema[i].Name, Type: t}
	}
	cast := func(pl *pipeline) {
		outs := make([]expr.Expr, len(schema))
		for i, c := range pl.schema {
			outs[i] = coerce(&expr.Column{Index: i, Name: c.Name, T: c.Type}, schema[i].Type)
		}
		pl.addCalc(nil, outs, schema)
	}
	cast(p)
	cast(q)
	right.Steps = q.steps
	op := &join.SetOp{Schema: schema, All: f.All}
	switch f.Op {
	case "UNION":
		op.Kind = join.UnionAll
	case "INTERSECT":
		op.Kind = join.Intersect
	case "EXCEPT":
		op.Kind = join.Except
	}
	p.steps = append(p.steps, Step{Op: &SetOpStep{Op: op, Right: right}})
	p.schema = schema
	if !f.All && f.Op != "INTERSECT" {
		// UNION and EXCEPT give each row once: group by all columns.
		g := &aggregate.Op{Schema: schema}
		for i := range schema {
			g.Keys = append(g.Keys, i)
		}
		p.steps = append(p.steps, Step{Op: g})
	}
	sc := make(scope, len(schema))
	for i, c := range schema {
		sc[i] = column{name: c.Name, t: c.Type}
	}
	return sc, nil
}
