package sql

import "fmt"

// maxGroupingSets bounds the grouping sets a GROUP BY expands to, so that a
// CUBE of many columns cannot exhaust memory.
const maxGroupingSets = 4096

// parseGroupBy parses the items of GROUP BY: expressions, (), GROUPING SETS
// (...), ROLLUP (...) and CUBE (...). Plain expressions alone leave
// s.GroupingSets nil. Otherwise the grouping sets are the cross product of
// the items' sets (an expression is the one set of itself), in Flink's
// order: ROLLUP (a, b) is (a, b), (a), (); CUBE (a, b) is (a, b), (a), (b),
// ().
func (p *parser) parseGroupBy(s *Select) {
	sets := [][]int{{}}
	grouping := false
	for {
		var item [][]int
		switch {
		case p.isKw("GROUPING") && isKw(p.peek(1), "SETS"):
			p.next()
			p.next()
			grouping = true
			item = p.parseGroupingSets(s)
		case p.isAnyKw("ROLLUP", "CUBE") && isOp(p.peek(1), "("):
			grouping = true
			item = p.parseRollupCube(s)
		case p.isOp("(") && isOp(p.peek(1), ")"):
			p.next()
			p.next()
			grouping = true
			item = [][]int{{}}
		default:
			item = [][]int{{addGroupExpr(s, p.parseExpr())}}
		}
		if len(sets)*len(item) > maxGroupingSets {
			p.fail(p.prev.pos, fmt.Sprintf("this GROUP BY expands to more than %d grouping sets; group by fewer combinations", maxGroupingSets))
		}
		var product [][]int
		for _, a := range sets {
			for _, b := range item {
				product = append(product, append(append([]int(nil), a...), b...))
			}
		}
		sets = product
		if !p.acceptOp(",") {
			break
		}
	}
	if grouping {
		s.GroupingSets = sets
	}
}

// addGroupExpr appends x to s.GroupBy and returns its index.
func addGroupExpr(s *Select, x Expr) int {
	s.GroupBy = append(s.GroupBy, x)
	return len(s.GroupBy) - 1
}

// parseGroupingSets parses ( set, ... ) after GROUPING SETS: each set is
// (exprs), (), an expression, or a nested ROLLUP, CUBE or GROUPING SETS.
func (p *parser) parseGroupingSets(s *Select) [][]int {
	p.expectOp("(")
	var sets [][]int
	for {
		switch {
		case p.isKw("GROUPING") && isKw(p.peek(1), "SETS"):
			p.next()
			p.next()
			sets = append(sets, p.parseGroupingSets(s)...)
		case p.isAnyKw("ROLLUP", "CUBE") && isOp(p.peek(1), "("):
			sets = append(sets, p.parseRollupCube(s)...)
		default:
			sets = append(sets, p.parseGroupElement(s))
		}
		if len(sets) > maxGroupingSets {
			p.fail(p.prev.pos, fmt.Sprintf("GROUPING SETS has more than %d sets", maxGroupingSets))
		}
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return sets
}

// parseGroupElement parses (exprs), () or one expression into a set.
func (p *parser) parseGroupElement(s *Select) []int {
	if !p.isOp("(") || isKw(p.peek(1), "SELECT") || isKw(p.peek(1), "WITH") {
		return []int{addGroupExpr(s, p.parseExpr())}
	}
	// A parenthesised list: ( ) or (a, b); a lone (a) is the set of a.
	p.next()
	set := []int{}
	if p.acceptOp(")") {
		return set
	}
	for {
		set = append(set, addGroupExpr(s, p.parseExpr()))
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return set
}

// parseRollupCube parses ROLLUP (elements) or CUBE (elements), each element
// an expression or a parenthesised list taken as one unit.
func (p *parser) parseRollupCube(s *Select) [][]int {
	cube := p.isKw("CUBE")
	p.next()
	p.expectOp("(")
	var elems [][]int
	for {
		elems = append(elems, p.parseGroupElement(s))
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	var sets [][]int
	if !cube {
		for n := len(elems); n >= 0; n-- {
			var set []int
			for _, e := range elems[:n] {
				set = append(set, e...)
			}
			sets = append(sets, append([]int{}, set...))
		}
		return sets
	}
	// CUBE: every subset, from all elements down to none, each subset's
	// elements in their written order; bit i of mask drops element i.
	n := len(elems)
	if n > 12 {
		p.fail(p.prev.pos, fmt.Sprintf("CUBE of %d elements expands to 2^%d grouping sets, more than the %d weir allows; group by fewer combinations", n, n, maxGroupingSets))
	}
	for mask := 0; mask < 1<<n; mask++ {
		var set []int
		for i, e := range elems {
			if mask&(1<<(n-1-i)) == 0 {
				set = append(set, e...)
			}
		}
		sets = append(sets, append([]int{}, set...))
	}
	return sets
}
