package plan

import (
	"strings"

	"github.com/weir-dev/weir/internal/sql"
)

// createView records a view; its query is planned where the view is read,
// as a subquery (Flink expands views the same way).
func createView(cat *catalog, st *sql.CreateView) error {
	name := strings.ToLower(st.Name)
	if cat.view(name) != nil || cat.table(name) != nil {
		if st.IfNotExists {
			return nil
		}
		return errAt(st.At, "%s is already defined; give the view another name", st.Name)
	}
	if cat.views == nil {
		cat.views = map[string]*sql.CreateView{}
	}
	cat.views[name] = st
	return nil
}

// view returns the view of that name, or nil.
func (c *catalog) view(name string) *sql.CreateView {
	return c.views[strings.ToLower(name)]
}

// planView plans a reference to a view as (its query) AS alias.
func planView(cat *catalog, v *sql.CreateView, ref *sql.TableRef, job *Job, p *pipeline) (scope, error) {
	alias := ref.Alias
	if alias == "" {
		alias = v.Name
	}
	return planSubquery(cat, &sql.Subquery{At: ref.At, Query: v.Query, Alias: alias, Columns: v.Columns, ColumnsAt: v.At}, job, p)
}
