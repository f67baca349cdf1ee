package exec

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/expr"
)

// LIKE, SIMILAR TO and the REGEXP functions.
//
//   - LIKE(s, pattern [, escape]): % matches any characters, _ one
//     character but a line terminator; the escape character (one character; by default none)
//     makes the next %, _ or escape character literal.
//   - SIMILAR(s, pattern [, escape]) is s SIMILAR TO pattern: LIKE's
//     wildcards plus regular-expression alternation, grouping, classes and
//     quantifiers, matched against the whole string (. matches any
//     character, as in Flink).
//   - REGEXP(s, regex): whether regex matches somewhere in s.
//   - REGEXP_REPLACE(s, regex, replacement): every match replaced by the
//     replacement taken literally ($1 is not a group, as in Flink);
//     REGEXP_EXTRACT(s, regex [, group]): the group of the first match.
//
// As in Flink, an invalid regular expression gives NULL (a NOT NULL result
// then fails); one that is valid in Java but that RE2 cannot run fails with
// an error saying so.

func init() {
	register("LIKE", 2, 3, likeKernel)
	register("SIMILAR", 2, 3, likeKernel)
	register("REGEXP", 2, 2, regexpKernel)
	register("REGEXP_REPLACE", 3, 3, regexpReplaceKernel)
	register("REGEXP_EXTRACT", 2, 3, regexpExtractKernel)
}

// javaDot is what LIKE's and SIMILAR TO's _ match, as Java's . does in
// Flink: any character but a line terminator.
const javaDot = `[^\n\r\x{85}\x{2028}\x{2029}]`

// likeMatcher matches one LIKE pattern: by comparing its literal pieces when
// it has no _ (the common case), else with a regular expression.
type likeMatcher struct {
	re *regexp.Regexp
	// pieces are the literal texts between the %s; anchoredStart and
	// anchoredEnd say whether the pattern does not start (end) with %.
	pieces                     []string
	anchoredStart, anchoredEnd bool
}

func (m *likeMatcher) match(s string) bool {
	if m.re != nil {
		return m.re.MatchString(s)
	}
	p := m.pieces
	if len(p) == 1 && m.anchoredStart && m.anchoredEnd {
		return s == p[0]
	}
	if m.anchoredStart {
		if !strings.HasPrefix(s, p[0]) {
			return false
		}
		s, p = s[len(p[0]):], p[1:]
	}
	var last string
	if m.anchoredEnd {
		last, p = p[len(p)-1], p[:len(p)-1]
	}
	for _, piece := range p {
		i := strings.Index(s, piece)
		if i < 0 {
			return false
		}
		s = s[i+len(piece):]
	}
	return strings.HasSuffix(s, last)
}

// compileLike compiles a LIKE pattern with escape ("" for none).
func compileLike(pattern, escape string) (*likeMatcher, error) {
	esc, err := escapeRune(escape)
	if err != nil {
		return nil, err
	}
	var pieces []string
	var cur, re strings.Builder
	re.WriteString(`^(?:`)
	simple := true
	for i := 0; i < len(pattern); {
		r, w := utf8.DecodeRuneInString(pattern[i:])
		i += w
		switch {
		case esc >= 0 && r == esc:
			if i >= len(pattern) {
				return nil, fmt.Errorf("the LIKE pattern '%s' ends with the escape character '%s'", pattern, escape)
			}
			next, w := utf8.DecodeRuneInString(pattern[i:])
			if next != '%' && next != '_' && next != esc {
				return nil, fmt.Errorf("the LIKE pattern '%s' has an invalid escape sequence at character %d: the escape character '%s' may precede only %%, _ or itself", pattern, utf8.RuneCountInString(pattern[:i]), escape)
			}
			i += w
			cur.WriteRune(next)
			re.WriteString(regexp.QuoteMeta(string(next)))
		case r == '%':
			pieces = append(pieces, cur.String())
			cur.Reset()
			re.WriteString(`(?s:.*)`)
		case r == '_':
			simple = false
			re.WriteString(javaDot)
		default:
			cur.WriteRune(r)
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	pieces = append(pieces, cur.String())
	re.WriteString(`)$`)
	if !simple {
		compiled, err := regexp.Compile(re.String())
		if err != nil {
			return nil, fmt.Errorf("the LIKE pattern '%s': %w", pattern, err)
		}
		return &likeMatcher{re: compiled}, nil
	}
	m := &likeMatcher{anchoredStart: true, anchoredEnd: true}
	if pieces[0] == "" && len(pieces) > 1 {
		m.anchoredStart = false
		pieces = pieces[1:]
	}
	if pieces[len(pieces)-1] == "" && len(pieces) > 1 {
		m.anchoredEnd = false
		pieces = pieces[:len(pieces)-1]
	}
	m.pieces = pieces
	if len(pieces) == 1 && !m.anchoredStart && !m.anchoredEnd {
		// A single piece between %s: found anywhere.
		m.anchoredEnd = false
	}
	return m, nil
}

// escapeRune is the escape character of LIKE or SIMILAR TO: -1 for none.
func escapeRune(escape string) (rune, error) {
	if escape == "" {
		return -1, nil
	}
	if utf8.RuneCountInString(escape) != 1 {
		return 0, fmt.Errorf("the escape '%s' must be a single character", escape)
	}
	r, _ := utf8.DecodeRuneInString(escape)
	return r, nil
}

// compileSimilar compiles a SIMILAR TO pattern to a regular expression
// that must match the whole string.
func compileSimilar(pattern, escape string) (*likeMatcher, error) {
	esc, err := escapeRune(escape)
	if err != nil {
		return nil, err
	}
	var re strings.Builder
	re.WriteString(`^(?:`)
	inClass := false
	for i := 0; i < len(pattern); {
		r, w := utf8.DecodeRuneInString(pattern[i:])
		i += w
		switch {
		case esc >= 0 && r == esc:
			if i >= len(pattern) {
				return nil, fmt.Errorf("the SIMILAR TO pattern '%s' ends with the escape character '%s'", pattern, escape)
			}
			next, w := utf8.DecodeRuneInString(pattern[i:])
			i += w
			re.WriteString(regexp.QuoteMeta(string(next)))
		case inClass:
			if r == ']' {
				inClass = false
			}
			if r == '\\' {
				re.WriteString(`\\`)
			} else {
				re.WriteRune(r)
			}
		case r == '%':
			re.WriteString(`(?s:.*)`)
		case r == '_':
			re.WriteString(javaDot)
		case r == '[':
			inClass = true
			re.WriteRune(r)
		case r == '$' || r == '\\':
			re.WriteString(regexp.QuoteMeta(string(r)))
		default:
			re.WriteRune(r)
		}
	}
	re.WriteString(`)$`)
	compiled, err := regexp.Compile(re.String())
	if err != nil {
		return nil, fmt.Errorf("bad SIMILAR TO pattern '%s': %w", pattern, err)
	}
	return &likeMatcher{re: compiled}, nil
}

// likeKernel evaluates LIKE and SIMILAR; a constant pattern is compiled once.
func likeKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops, 0)
	if err != nil {
		return nil, err
	}
	compile := compileLike
	if c.Name == "SIMILAR" {
		compile = compileSimilar
	}
	cache := map[[2]string]*likeMatcher{}
	return ev.mapBool(c, n, func(i int) (bool, bool, error) {
		s, ok1 := as[0].at(i)
		p, ok2 := as[1].at(i)
		esc, ok3 := "", true
		if len(as) == 3 {
			esc, ok3 = as[2].at(i)
		}
		if !ok1 || !ok2 || !ok3 {
			return false, false, nil
		}
		key := [2]string{p, esc}
		m := cache[key]
		if m == nil {
			var err error
			if m, err = compile(p, esc); err != nil {
				return false, false, err
			}
			if len(cache) > 1000 {
				clear(cache)
			}
			cache[key] = m
		}
		return m.match(s), true, nil
	})
}

// regexpKernel is REGEXP(s, regex).
func regexpKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops, 0)
	if err != nil {
		return nil, err
	}
	rc := regexCache{}
	return ev.mapBool(c, n, func(i int) (bool, bool, error) {
		s, ok1 := as[0].at(i)
		p, ok2 := as[1].at(i)
		if !ok1 || !ok2 {
			return false, false, nil
		}
		if p == "" {
			return false, true, nil // as in Flink
		}
		re, err := rc.compileJava(p)
		if err != nil {
			return false, false, err
		}
		if re == nil {
			return false, false, nil
		}
		return re.MatchString(s), true, nil
	})
}

// regexpReplaceKernel is REGEXP_REPLACE(s, regex, replacement).
func regexpReplaceKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops, 0)
	if err != nil {
		return nil, err
	}
	rc := regexCache{}
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		s, ok1 := as[0].at(i)
		p, ok2 := as[1].at(i)
		r, ok3 := as[2].at(i)
		if !ok1 || !ok2 || !ok3 {
			return "", false, nil
		}
		re, err := rc.compileJava(p)
		if err != nil || re == nil {
			return "", false, err
		}
		return javaReplaceLiteral(re, s, r), true, nil
	})
}

// regexpExtractKernel is REGEXP_EXTRACT(s, regex [, group]): the group
// (default 0, the whole match) of the first match; NULL when nothing matches
// or the group does not exist.
func regexpExtractKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops[:2], 0)
	if err != nil {
		return nil, err
	}
	group := intArg{const_: true}
	if len(ops) == 3 {
		if group, err = intArgOf(ops[2], "the group"); err != nil {
			return nil, fmt.Errorf("exec: %s: %w", c, err)
		}
	}
	rc := regexCache{}
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		s, ok1 := as[0].at(i)
		p, ok2 := as[1].at(i)
		g, ok3 := group.at(i)
		if !ok1 || !ok2 || !ok3 {
			return "", false, nil
		}
		re, err := rc.compileJava(p)
		if err != nil || re == nil {
			return "", false, err
		}
		if g < 0 || g > int64(re.NumSubexp()) {
			return "", false, nil
		}
		m := re.FindStringSubmatchIndex(s)
		if m == nil || m[2*g] < 0 {
			return "", false, nil
		}
		return s[m[2*g]:m[2*g+1]], true, nil
	})
}
