package plan

import (
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// pushProjection narrows the source of a job that reads a filesystem table
// in a format that finds columns by name (parquet, json) to the columns
// its first step uses, so that a Parquet reader decodes only those: the
// connector opens the source with Source.Schema. Only a first step that
// names its input columns by index is rewritten (a Go calc, or a Python
// stage over plain columns); other jobs keep the whole table.
func pushProjection(job *Job) {
	for _, s := range job.Steps {
		if j, ok := s.Op.(*JoinOp); ok && j.Build != nil {
			pushProjection(j.Build)
		}
	}
	t := job.Source.Table
	if t == nil || t.Connector() != "filesystem" || t.Watermark != nil || len(job.Steps) == 0 {
		return
	}
	if f := t.Options["format"]; f != "parquet" && f != "json" {
		return
	}
	schema := job.Source.Schema
	used := make([]bool, len(schema))
	first := job.Steps[0]
	switch {
	case first.Calc != nil:
		mark := func(e expr.Expr) {
			expr.Walk(e, func(x expr.Expr) bool {
				if c, ok := x.(*expr.Column); ok && c.Index < len(used) {
					used[c.Index] = true
				}
				return true
			})
		}
		for _, p := range first.Calc.Projections {
			mark(p)
		}
		if first.Calc.Filter != nil {
			mark(first.Calc.Filter)
		}
	case first.Python != nil && first.Python.Keyed == nil:
		for _, i := range append(append([]int(nil), first.Python.Inputs...), first.Python.Forward...) {
			used[i] = true
		}
	default:
		return
	}
	newIndex := make([]int, len(schema))
	var narrow types.Schema
	for i, u := range used {
		newIndex[i] = -1
		if u {
			newIndex[i] = len(narrow)
			narrow = append(narrow, schema[i])
		}
	}
	if len(narrow) == len(schema) || len(narrow) == 0 && t.Options["format"] != "parquet" {
		return
	}
	switch {
	case first.Calc != nil:
		remap := func(e expr.Expr) expr.Expr {
			return rewrite(e, func(x expr.Expr) expr.Expr {
				if c, ok := x.(*expr.Column); ok {
					return &expr.Column{Index: newIndex[c.Index], Name: c.Name, T: c.T}
				}
				return nil
			})
		}
		c := *first.Calc
		c.Projections = make([]expr.Expr, len(first.Calc.Projections))
		for i, p := range first.Calc.Projections {
			c.Projections[i] = remap(p)
		}
		if c.Filter != nil {
			c.Filter = remap(c.Filter)
		}
		job.Steps[0] = Step{Calc: &c}
	default:
		st := *first.Python
		st.Inputs = make([]int, len(first.Python.Inputs))
		for k, i := range first.Python.Inputs {
			st.Inputs[k] = newIndex[i]
		}
		st.Forward = make([]int, len(first.Python.Forward))
		for k, i := range first.Python.Forward {
			st.Forward[k] = newIndex[i]
		}
		job.Steps[0] = Step{Python: &st}
	}
	job.Source.Schema = narrow
}
