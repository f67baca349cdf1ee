package plan

import (
	"strings"

	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/stream"
)

// planSubquery plans (SELECT ...) AS alias [(columns)] in FROM: the inner
// query becomes the first operators of the job, and the outer query reads its
// output columns, qualified by the alias and renamed by the column list.
func planSubquery(cat *catalog, f *sql.Subquery, job *Job, p *pipeline) (scope, error) {
	inner, err := planQuery(cat, &sql.Insert{At: f.Query.At, Query: f.Query}, nil, p.params)
	if err != nil {
		return nil, err
	}
	job.Source = inner.Source
	p.steps = append(p.steps, inner.Steps...)
	p.schema = inner.Sink.Schema
	// Keep the names of computed columns unique over the whole job.
	for _, st := range inner.Steps {
		switch {
		case st.Python != nil:
			p.pyCols += len(st.Python.Results)
		case st.Calc != nil:
			for _, c := range st.Calc.Schema {
				if strings.HasPrefix(c.Name, "$in") {
					p.inCols++
				}
			}
		}
	}
	if f.Columns != nil && len(f.Columns) != len(p.schema) {
		return nil, errAt(f.ColumnsAt, "%s(...) names %d columns but the subquery has %d; name each column once", f.Alias, len(f.Columns), len(p.schema))
	}
	sc := make(scope, len(p.schema))
	for i, c := range p.schema {
		sc[i] = column{qual: f.Alias, name: c.Name, t: c.Type}
		if f.Columns != nil {
			sc[i].name = f.Columns[i]
		}
	}
	// An updating subquery's rows keep their kinds (streaming.go).
	p.changes = p.changes || inner.Updating
	if inner.RowKinds {
		p.schema = stream.WithRowKind(p.schema)
	}
	return sc, nil
}
