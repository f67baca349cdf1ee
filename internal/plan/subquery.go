package plan

import (
	"strings"

	"github.com/weir-dev/weir/internal/sql"
)

// planSubquery plans (SELECT ...) AS alias in FROM: the inner query becomes
// the first operators of the job, and the outer query reads its output
// columns, qualified by the alias.
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
	sc := make(scope, len(p.schema))
	for i, c := range p.schema {
		sc[i] = column{qual: f.Alias, name: c.Name, t: c.Type}
	}
	return sc, nil
}
