package sql

// CreateView is CREATE [TEMPORARY] VIEW [IF NOT EXISTS] name [(columns)] AS
// query. Name is as written, its parts joined with '.'.
type CreateView struct {
	At          Pos
	Name        string
	Columns     []string
	Query       *Select
	IfNotExists bool
}

// Pos is where the statement starts.
func (s *CreateView) Pos() Pos { return s.At }

// parseCreateView parses the rest of CREATE [TEMPORARY] VIEW.
func (p *parser) parseCreateView(at Pos) *CreateView {
	p.expectKw("VIEW")
	v := &CreateView{At: at, IfNotExists: p.parseIfNotExists()}
	v.Name, _ = p.parseQualifiedName("a view name")
	v.Columns, _ = p.parseColumnAliases()
	p.expectKw("AS")
	v.Query = p.parseQuery()
	return v
}
