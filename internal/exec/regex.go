package exec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Flink's regular expressions are Java's (java.util.regex); weir runs them
// on Go's RE2 engine. JavaRegex translates the common syntax the two share
// or that maps one to one (Java's POSIX classes such as \p{Alpha}, \s with
// its vertical tab, \uXXXX, \e) and refuses, with an error that says what
// to do, what RE2 cannot do: backreferences, lookahead and lookbehind,
// atomic groups, possessive quantifiers, nested classes and class
// intersections, and flags RE2 lacks or reads differently.
//
// Known remaining differences: Java's $ also matches before a final line
// terminator and its . excludes \r, \u0085, \u2028 and \u2029 besides \n;
// RE2's do not.

// JavaRegex returns the RE2 syntax of the Java regular expression pattern.
func JavaRegex(pattern string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\\':
			if i+1 >= len(pattern) {
				return "", fmt.Errorf("the regular expression %q ends with a lone backslash", pattern)
			}
			n, err := javaEscape(&b, pattern, i, inClass)
			if err != nil {
				return "", err
			}
			i += n
			continue
		case inClass:
			switch {
			case c == '[':
				return "", refuse(pattern, "a class inside a character class ([a[b]])", "list the characters in one class")
			case c == '&' && i+1 < len(pattern) && pattern[i+1] == '&':
				return "", refuse(pattern, "a character class intersection (&&)", "list the characters in one class")
			case c == ']':
				inClass = false
			}
		case c == '[':
			inClass = true
			b.WriteByte(c)
			i++
			if i < len(pattern) && pattern[i] == '^' {
				b.WriteByte('^')
				i++
			}
			if i < len(pattern) && pattern[i] == ']' {
				// A ] first in a class is a literal in Java and in RE2.
				b.WriteString(`\]`)
				i++
			}
			continue
		case c == '(' && strings.HasPrefix(pattern[i:], "(?"):
			n, err := javaGroup(&b, pattern, i)
			if err != nil {
				return "", err
			}
			i += n
			continue
		case c == '*' || c == '+' || c == '?' || c == '}':
			if i+1 < len(pattern) && pattern[i+1] == '+' {
				return "", refuse(pattern, "a possessive quantifier ("+pattern[i:i+2]+")", "use a greedy quantifier ("+pattern[i:i+1]+")")
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), nil
}

func refuse(pattern, what, todo string) error {
	return fmt.Errorf("the regular expression %q uses %s, which weir's regular expression engine (RE2) does not support; %s", pattern, what, todo)
}

// javaPosix are Java's \p{...} classes RE2 names differently (ASCII, as in
// Java by default).
var javaPosix = map[string]string{
	"Lower": `a-z`, "Upper": `A-Z`, "ASCII": `\x00-\x7F`, "Alpha": `a-zA-Z`, "Digit": `0-9`,
	"Alnum": `a-zA-Z0-9`, "Punct": `!-/:-@\[-` + "`" + `{-~`, "Graph": `!-~`, "Print": ` -~`,
	"Blank": ` \t`, "Cntrl": `\x00-\x1F\x7F`, "XDigit": `0-9a-fA-F`, "Space": ` \t\n\x0B\f\r`,
	"javaLowerCase": `\p{Ll}`, "javaUpperCase": `\p{Lu}`, "IsAlphabetic": `\p{L}\p{Nl}`,
	"IsLetter": `\p{L}`, "IsDigit": `\p{Nd}`,
}

// javaEscape writes the RE2 form of the escape at pattern[i] (a backslash)
// and returns how many bytes it used.
func javaEscape(b *strings.Builder, pattern string, i int, inClass bool) (int, error) {
	c := pattern[i+1]
	switch {
	case c >= '1' && c <= '9':
		return 0, refuse(pattern, `a backreference (\`+string(c)+`)`, "match the text without referring back to a group")
	case c == 'k':
		return 0, refuse(pattern, `a named backreference (\k<...>)`, "match the text without referring back to a group")
	case c == 'p' || c == 'P':
		name, n := "", 3
		if i+2 < len(pattern) && pattern[i+2] == '{' {
			end := strings.IndexByte(pattern[i:], '}')
			if end < 0 {
				return 0, fmt.Errorf("the regular expression %q has an unclosed \\%c{", pattern, c)
			}
			name, n = pattern[i+3:i+end], end+1
		} else if i+2 < len(pattern) {
			name = pattern[i+2 : i+3]
		}
		if name == "" {
			return 0, fmt.Errorf("the regular expression %q has an incomplete \\%c", pattern, c)
		}
		if set, ok := javaPosix[name]; ok {
			writeClass(b, set, c == 'P', inClass)
			return n, nil
		}
		name = strings.TrimPrefix(strings.TrimPrefix(name, "Is"), "general_category=")
		if set, ok := javaPosix[name]; ok {
			writeClass(b, set, c == 'P', inClass)
			return n, nil
		}
		if _, err := regexp.Compile(`\p{` + name + `}`); err != nil || name == "" {
			return 0, refuse(pattern, `the class \`+pattern[i+1:i+n], "use a Unicode category such as \\p{L} or list the characters")
		}
		fmt.Fprintf(b, `\%c{%s}`, c, name)
		return n, nil
	case c == 's' || c == 'S':
		if c == 'S' && inClass {
			return 0, refuse(pattern, `\S inside a character class`, "list the characters instead")
		}
		writeClass(b, javaPosix["Space"], c == 'S', inClass)
		return 2, nil
	case c == 'u':
		if i+6 > len(pattern) {
			return 0, fmt.Errorf("the regular expression %q has an incomplete \\u escape", pattern)
		}
		if _, err := strconv.ParseUint(pattern[i+2:i+6], 16, 16); err != nil {
			return 0, fmt.Errorf("the regular expression %q has a bad \\u escape %q", pattern, pattern[i:i+6])
		}
		b.WriteString(`\x{` + pattern[i+2:i+6] + `}`)
		return 6, nil
	case c == '0':
		j := i + 2
		for j < len(pattern) && j < i+5 && pattern[j] >= '0' && pattern[j] <= '7' {
			j++
		}
		v, err := strconv.ParseUint(pattern[i+2:j], 8, 16)
		if err != nil || j == i+2 {
			return 0, fmt.Errorf("the regular expression %q has a bad octal escape", pattern)
		}
		fmt.Fprintf(b, `\x{%x}`, v)
		return j - i, nil
	case c == 'e':
		b.WriteString(`\x1B`)
		return 2, nil
	case strings.IndexByte("hHvVRXGZc", c) >= 0:
		return 0, refuse(pattern, `the escape \`+string(c), "write the characters it stands for")
	}
	b.WriteString(pattern[i : i+2])
	return 2, nil
}

// writeClass writes the character set set (the inside of a class) as a
// class, or as part of the enclosing class.
func writeClass(b *strings.Builder, set string, negate, inClass bool) {
	if inClass {
		b.WriteString(set)
		return
	}
	if negate {
		b.WriteString("[^" + set + "]")
	} else {
		b.WriteString("[" + set + "]")
	}
}

// javaGroup writes the RE2 form of the group opening "(?..." at pattern[i]
// and returns how many bytes it used.
func javaGroup(b *strings.Builder, pattern string, i int) (int, error) {
	rest := pattern[i+2:]
	switch {
	case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"):
		return 0, refuse(pattern, "a lookahead ((?= or (?!)", "match the text itself or filter with a second condition")
	case strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
		return 0, refuse(pattern, "a lookbehind ((?<= or (?<!)", "match the text itself or filter with a second condition")
	case strings.HasPrefix(rest, ">"):
		return 0, refuse(pattern, "an atomic group ((?>)", "use a plain group")
	case strings.HasPrefix(rest, "<"):
		b.WriteString("(?P<")
		return 3, nil
	case strings.HasPrefix(rest, ":"):
		b.WriteString("(?:")
		return 3, nil
	}
	// Flags: (?imsx-imsx) or (?imsx-imsx:...).
	j := 0
	for j < len(rest) && rest[j] != ')' && rest[j] != ':' {
		f := rest[j]
		if strings.IndexByte("ims-", f) < 0 {
			return 0, refuse(pattern, "the flag "+string(f)+" in (?"+rest[:j+1], "use only the flags i, m and s")
		}
		j++
	}
	if j == len(rest) {
		return 0, fmt.Errorf("the regular expression %q has an unclosed group", pattern)
	}
	b.WriteString(pattern[i : i+2+j+1])
	return 2 + j + 1, nil
}

// regexCache compiles patterns once per evaluation.
type regexCache map[string]*regexp.Regexp

// compileJava compiles a Java regular expression for RE2: nil when it is
// invalid, an error when it is valid but RE2 cannot run it.
func (rc regexCache) compileJava(pattern string) (*regexp.Regexp, error) {
	if re, ok := rc[pattern]; ok {
		return re, nil
	}
	src, err := JavaRegex(pattern)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(src)
	if err != nil {
		re = nil // invalid in Java too: the functions give NULL
	}
	if len(rc) > 1000 {
		clear(rc)
	}
	rc[pattern] = re
	return re, nil
}

// javaMatches are the successive matches of re in s as Java's find() loop
// gives them: RE2 skips an empty match right after a match, Java does not.
func javaMatches(re *regexp.Regexp, s string) [][]int {
	ms := re.FindAllStringSubmatchIndex(s, -1)
	if len(ms) == 0 || !re.MatchString("") {
		return ms
	}
	// The pattern can match empty: look for the empty matches RE2 dropped
	// at the end of a non-empty match.
	var out [][]int
	for k, m := range ms {
		out = append(out, m)
		if m[1] > m[0] && (k+1 == len(ms) || ms[k+1][0] > m[1]) {
			if e := emptyMatchAt(re, s, m[1]); e != nil {
				out = append(out, e)
			}
		}
	}
	return out
}

// emptyMatchAt returns the submatch indexes of an empty match of re at
// byte offset at of s, or nil.
func emptyMatchAt(re *regexp.Regexp, s string, at int) []int {
	if hasLeftContext(re.String()) {
		return nil // (^, \A, \b or \B would see no character before at)
	}
	m := re.FindStringSubmatchIndex(s[at:])
	if m == nil || m[0] != 0 || m[1] != 0 {
		return nil
	}
	for j := range m {
		if m[j] >= 0 {
			m[j] += at
		}
	}
	return m
}

// hasLeftContext reports whether a pattern may look at the text before a
// match.
func hasLeftContext(src string) bool {
	return strings.ContainsAny(src, "^") || strings.Contains(src, `\A`) || strings.Contains(src, `\b`) || strings.Contains(src, `\B`)
}

// javaReplaceLiteral replaces every match of re in s by repl, taken
// literally, with Java's matches (javaMatches).
func javaReplaceLiteral(re *regexp.Regexp, s, repl string) string {
	var out strings.Builder
	last := 0
	for _, m := range javaMatches(re, s) {
		out.WriteString(s[last:m[0]])
		out.WriteString(repl)
		last = m[1]
	}
	out.WriteString(s[last:])
	return out.String()
}
