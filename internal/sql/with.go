package sql

import "strings"

// cte is one common table expression of a WITH clause.
type cte struct {
	name    string
	columns []string
	query   *Select
}

// parseWith parses WITH name [(columns)] AS (query), ... query. A reference
// to a name in FROM reads as the subquery (query) AS name (columns), so
// that the planner sees subqueries only; later expressions of the clause and
// the query may use earlier ones, and an inner WITH hides an outer name.
func (p *parser) parseWith() *Select {
	p.expectKw("WITH")
	scope := map[string]*cte{}
	p.ctes = append(p.ctes, scope)
	defer func() { p.ctes = p.ctes[:len(p.ctes)-1] }()
	for {
		name, _ := p.parseName("a name for the WITH query")
		c := &cte{name: name}
		c.columns, _ = p.parseColumnAliases()
		p.expectKw("AS")
		p.expectOp("(")
		c.query = p.parseQuery()
		p.expectOp(")")
		// As in Flink, a later query of the same name hides an earlier one.
		scope[strings.ToLower(name)] = c
		if !p.acceptOp(",") {
			break
		}
	}
	return p.parseSetQuery()
}

// cte returns the common table expression a table name refers to, or nil.
func (p *parser) cte(name string) *cte {
	key := strings.ToLower(name)
	for i := len(p.ctes) - 1; i >= 0; i-- {
		if c, ok := p.ctes[i][key]; ok {
			return c
		}
	}
	return nil
}

// cteRef parses the alias after a reference to c and returns the reference
// as a subquery.
func (p *parser) cteRef(c *cte, at Pos) *Subquery {
	s := &Subquery{At: at, Query: c.query, Alias: c.name, Columns: c.columns}
	if alias := p.parseAlias(); alias != "" {
		s.Alias = alias
		if cols, colsAt := p.parseColumnAliases(); cols != nil {
			s.Columns, s.ColumnsAt = cols, colsAt
		}
	}
	return s
}
