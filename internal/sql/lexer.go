package sql

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tWord           // unquoted identifier or keyword
	tQuoted         // `quoted identifier`
	tString         // 'string literal'
	tNumber         // 42, 1.5, 1e3
	tBinary         // X'0AFF'
	tOp             // operator or punctuation
	tError          // a lexical error; val holds the message
)

// token is one lexical token. The lexer never fails: malformed input becomes
// a tError token so that the parser reports it only if it gets that far,
// and so that raw-text statements (SET k = v) can read past it.
type token struct {
	kind tokKind
	// text is the token as written in the source.
	text string
	// val is the unescaped value of strings and quoted identifiers, the hex
	// digits of binary literals, the upper-cased text of words, the
	// operator of operators, and the message of errors.
	val string
	// num is the literal kind of a number token.
	num LitKind
	// fatal marks an error that raw text (an unquoted SET value) must not
	// swallow: unterminated quotes and comments, which ran to the end of
	// the input, and hints.
	fatal bool
	// pos is where the token starts, end is just after it.
	pos, end Pos
	// off and endOff are the byte offsets of the token in the source.
	off, endOff int
}

// lexer turns SQL source into tokens.
type lexer struct {
	src       string
	off       int
	line, col int
	toks      []token
}

// lex returns the tokens of src, always ending with one tEOF token. The EOF
// token is placed just after the last real token, not after trailing blank
// lines, so that "unexpected end of input" points where the user stopped.
func lex(src string) []token {
	l := &lexer{src: src, line: 1, col: 1}
	for l.next() {
	}
	eof := token{kind: tEOF, pos: Pos{1, 1}, end: Pos{1, 1}}
	if n := len(l.toks); n > 0 {
		last := l.toks[n-1]
		eof.pos, eof.end, eof.off, eof.endOff = last.end, last.end, last.endOff, last.endOff
	}
	return append(l.toks, eof)
}

func (l *lexer) pos() Pos { return Pos{l.line, l.col} }

// peekRune returns the rune k runes ahead of the current offset, or -1.
func (l *lexer) peekRune(k int) rune {
	off := l.off
	for ; k > 0 && off < len(l.src); k-- {
		_, n := utf8.DecodeRuneInString(l.src[off:])
		off += n
	}
	if off >= len(l.src) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(l.src[off:])
	return r
}

// advance consumes one rune, keeping line and column up to date.
func (l *lexer) advance() rune {
	r, n := utf8.DecodeRuneInString(l.src[l.off:])
	l.off += n
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	return r
}

func (l *lexer) emit(kind tokKind, start Pos, startOff int, val string) {
	l.toks = append(l.toks, token{
		kind: kind, text: l.src[startOff:l.off], val: val,
		pos: start, end: l.pos(), off: startOff, endOff: l.off,
	})
}

func (l *lexer) emitError(start Pos, startOff int, msg string) {
	l.emit(tError, start, startOff, msg)
}

func (l *lexer) emitFatal(start Pos, startOff int, msg string) {
	l.emit(tError, start, startOff, msg)
	l.toks[len(l.toks)-1].fatal = true
}

// next lexes one token (skipping blanks and comments) and reports whether
// there may be more input.
func (l *lexer) next() bool {
	if !l.skipBlanks() {
		return false
	}
	start, startOff := l.pos(), l.off
	r := l.peekRune(0)
	switch {
	case r == '\'':
		l.lexQuoted('\'', tString, start, startOff,
			"unterminated string literal (started here); close it with ' and write '' for a quote inside it")
	case r == '`':
		l.lexQuoted('`', tQuoted, start, startOff,
			"unterminated quoted identifier (started here); close it with ` and write `` for a backtick inside it")
	case (r == 'x' || r == 'X') && l.peekRune(1) == '\'':
		l.lexBinary(start, startOff)
	case isIdentStart(r):
		for isIdentPart(l.peekRune(0)) {
			l.advance()
		}
		l.emit(tWord, start, startOff, strings.ToUpper(l.src[startOff:l.off]))
	case isDigit(r) || (r == '.' && isDigit(l.peekRune(1))):
		l.lexNumber(start, startOff)
	default:
		l.lexOp(start, startOff)
	}
	return true
}

// skipBlanks skips white space and comments, and reports whether a token follows.
func (l *lexer) skipBlanks() bool {
	for l.off < len(l.src) {
		r := l.peekRune(0)
		switch {
		case unicode.IsSpace(r):
			l.advance()
		case r == '-' && l.peekRune(1) == '-':
			for l.off < len(l.src) && l.peekRune(0) != '\n' {
				l.advance()
			}
		case r == '/' && l.peekRune(1) == '*':
			start, startOff := l.pos(), l.off
			l.advance()
			l.advance()
			hint := l.peekRune(0) == '+'
			for {
				if l.off >= len(l.src) {
					l.emitFatal(start, startOff, "unterminated comment (started here); close it with */")
					return false
				}
				if l.peekRune(0) == '*' && l.peekRune(1) == '/' {
					l.advance()
					l.advance()
					break
				}
				l.advance()
			}
			// Flink reads /*+ ... */ as a hint that changes what a query
			// does (e.g. OPTIONS); ignoring it silently would be wrong.
			if hint {
				l.emitFatal(start, startOff, "SQL hints (/*+ ... */) are not supported by weir; remove the hint or write /* + ... */ for a comment")
			}
		default:
			return true
		}
	}
	return false
}

// lexQuoted lexes a string or quoted identifier, where a doubled quote
// stands for one quote character.
func (l *lexer) lexQuoted(q rune, kind tokKind, start Pos, startOff int, unterminated string) {
	l.advance()
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			l.emitFatal(start, startOff, unterminated)
			return
		}
		off := l.off
		if l.advance() == q {
			if l.peekRune(0) != q {
				break
			}
			l.advance()
			b.WriteRune(q)
			continue
		}
		// Copy bytes, not the decoded rune, so that invalid UTF-8 inside
		// quotes survives unchanged instead of becoming U+FFFD.
		b.WriteString(l.src[off:l.off])
	}
	if kind == tQuoted && b.Len() == 0 {
		l.emitError(start, startOff, "empty quoted identifier; write a name between the backticks")
		return
	}
	l.emit(kind, start, startOff, b.String())
}

// lexBinary lexes X'0AFF'.
func (l *lexer) lexBinary(start Pos, startOff int) {
	l.advance() // X
	l.lexQuoted('\'', tBinary, start, startOff,
		"unterminated binary literal (started here); close it with '")
	t := &l.toks[len(l.toks)-1]
	if t.kind != tBinary {
		return
	}
	for _, r := range t.val {
		if !isHexDigit(r) {
			t.kind, t.val = tError, "binary literal "+quoteText(t.text)+" may contain only hexadecimal digits 0-9 and A-F"
			return
		}
	}
	if len(t.val)%2 != 0 {
		t.kind, t.val = tError, "binary literal "+quoteText(t.text)+" has an odd number of hexadecimal digits; each byte takes two"
	}
}

// lexNumber lexes 42, 1.50, .5, 1e3 and 1.5E-2.
func (l *lexer) lexNumber(start Pos, startOff int) {
	kind := LitInteger
	digits := func() {
		for isDigit(l.peekRune(0)) {
			l.advance()
		}
	}
	digits()
	if l.peekRune(0) == '.' {
		kind = LitDecimal
		l.advance()
		digits()
	}
	if r := l.peekRune(0); r == 'e' || r == 'E' {
		r1 := l.peekRune(1)
		if isDigit(r1) || ((r1 == '+' || r1 == '-') && isDigit(l.peekRune(2))) {
			kind = LitFloat
			l.advance()
			if !isDigit(r1) {
				l.advance()
			}
			digits()
		}
	}
	// "12abc" is almost always a typo; reading it as 12 AS abc would hide it.
	if isIdentPart(l.peekRune(0)) || l.peekRune(0) == '.' {
		for isIdentPart(l.peekRune(0)) || l.peekRune(0) == '.' {
			l.advance()
		}
		l.emitError(start, startOff, "malformed number "+quoteText(l.src[startOff:l.off]))
		return
	}
	l.emit(tNumber, start, startOff, "")
	l.toks[len(l.toks)-1].num = kind
}

// ops are the operators and punctuation, longest first.
var ops = []string{"<>", "<=", ">=", "!=", "||", "+", "-", "*", "/", "%", "=", "<", ">", "(", ")", ",", ".", ";", "[", "]"}

func (l *lexer) lexOp(start Pos, startOff int) {
	rest := l.src[l.off:]
	for _, op := range ops {
		if strings.HasPrefix(rest, op) {
			for range op {
				l.advance()
			}
			l.emit(tOp, start, startOff, op)
			return
		}
	}
	if r, n := utf8.DecodeRuneInString(rest); r == utf8.RuneError && n == 1 {
		l.advance()
		l.emitError(start, startOff, fmt.Sprintf("invalid UTF-8 byte 0x%02X; SQL text must be UTF-8", rest[0]))
		return
	}
	r := l.advance()
	msg := "unexpected character " + quoteText(string(r))
	if !unicode.IsPrint(r) {
		msg = fmt.Sprintf("unexpected character %U", r)
	}
	switch r {
	case '"':
		msg += "; quote identifiers with backticks (`name`) and strings with single quotes ('text')"
	case '|':
		msg += "; did you mean '||' (string concatenation)?"
	case '!':
		msg += "; did you mean '!=' or NOT?"
	case '&':
		msg += "; did you mean AND?"
	}
	l.emitError(start, startOff, msg)
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isIdentPart(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func isHexDigit(r rune) bool {
	return isDigit(r) || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F')
}

// quoteText quotes source text for an error message, shortening long text.
func quoteText(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return "'" + s + "'"
}
