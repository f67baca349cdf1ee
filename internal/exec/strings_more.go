package exec

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/expr"
)

// String functions of Flink's catalog beyond those of strings.go. Positions
// and lengths count characters (Unicode code points) as Flink's string
// type does; a NULL argument gives NULL unless the function says otherwise.

func init() {
	register("POSITION", 2, 2, positionKernel)
	register("LOCATE", 2, 3, locateKernel)
	register("INSTR", 2, 2, instrKernel)
	register("OVERLAY", 3, 4, overlayKernel)
	register("LTRIM", 1, 2, trimSideKernel)
	register("RTRIM", 1, 2, trimSideKernel)
	register("LPAD", 3, 3, padKernel)
	register("RPAD", 3, 3, padKernel)
	register("REPLACE", 3, 3, replaceKernel)
	register("REPEAT", 2, 2, repeatKernel)
	register("REVERSE", 1, 1, reverseKernel)
	register("INITCAP", 1, 1, initcapKernel)
	register("LEFT", 2, 2, leftRightKernel)
	register("RIGHT", 2, 2, leftRightKernel)
	register("CONCAT_WS", 1, -1, concatWSKernel)
	register("SPLIT_INDEX", 3, 3, splitIndexKernel)
	register("ASCII", 1, 1, asciiKernel)
	register("CHR", 1, 1, chrKernel)
	register("TO_BASE64", 1, 1, toBase64Kernel)
	register("FROM_BASE64", 1, 1, fromBase64Kernel)
}

// runeIndex is the 1-based character position of the first sub in s at or
// after character from (1-based), 0 when there is none.
func runeIndex(s, sub string, from int64) int64 {
	if sub == "" {
		return 1 // as in Flink, wherever the search starts
	}
	from = max(from, 1)
	skip := int(from - 1)
	off := 0
	for k := 0; k < skip; k++ {
		if off >= len(s) {
			if sub == "" && off == len(s) && k == skip {
				break
			}
			return 0
		}
		_, w := utf8.DecodeRuneInString(s[off:])
		off += w
	}
	i := strings.Index(s[off:], sub)
	if i < 0 {
		return 0
	}
	return from + int64(utf8.RuneCountInString(s[off:off+i]))
}

// positionKernel is POSITION(sub IN s): the 1-based character position of
// sub's first occurrence, 0 when absent, 1 for the empty string.
func positionKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops, 0)
	if err != nil {
		return nil, err
	}
	return ev.mapInt32(c, n, func(i int) (int32, bool, error) {
		sub, ok1 := as[0].at(i)
		s, ok2 := as[1].at(i)
		if !ok1 || !ok2 {
			return 0, false, nil
		}
		return int32(runeIndex(s, sub, 1)), true, nil
	})
}

// instrKernel is INSTR(s, sub): POSITION(sub IN s).
func instrKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	return positionKernel(ev, c, []operand{ops[1], ops[0]}, n)
}

// locateKernel is LOCATE(sub, s [, from]): the position of sub in s at or
// after character from (default 1; less than 1 counts as 1); 0 when absent.
func locateKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops[:2], 0)
	if err != nil {
		return nil, err
	}
	from := intArg{const_: true, val: 1}
	if len(ops) == 3 {
		if from, err = intArgOf(ops[2], "the start position"); err != nil {
			return nil, fmt.Errorf("exec: %s: %w", c, err)
		}
	}
	return ev.mapInt32(c, n, func(i int) (int32, bool, error) {
		sub, ok1 := as[0].at(i)
		s, ok2 := as[1].at(i)
		f, ok3 := from.at(i)
		if !ok1 || !ok2 || !ok3 {
			return 0, false, nil
		}
		return int32(runeIndex(s, sub, f)), true, nil
	})
}

// overlayKernel is OVERLAY(s PLACING r FROM pos [FOR len]): s with len
// characters from pos replaced by r; len defaults to r's length. As in
// Flink, characters are UTF-16 units (an emoji is two), a pos past the end
// leaves s as it is and len 0 replaces up to the end.
func overlayKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops[:2], 0)
	if err != nil {
		return nil, err
	}
	pos, err := intArgOf(ops[2], "the position")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	length := intArg{const_: true, val: -1}
	if len(ops) == 4 {
		if length, err = intArgOf(ops[3], "the length"); err != nil {
			return nil, fmt.Errorf("exec: %s: %w", c, err)
		}
	}
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		s, ok1 := as[0].at(i)
		r, ok2 := as[1].at(i)
		p, ok3 := pos.at(i)
		l, ok4 := length.at(i)
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return "", false, nil
		}
		return overlay(s, r, p, l, len(ops) == 3), true, nil
	})
}

func overlay(s, r string, pos, length int64, noLength bool) string {
	u, ru := toUTF16(s), toUTF16(r)
	n := int64(len(u))
	if noLength {
		length = int64(len(ru))
	}
	if pos < 1 || pos > n {
		return s
	}
	end := pos - 1 + length
	if length == 0 || end > n {
		end = n
	}
	if end < pos-1 {
		end = pos - 1
	}
	out := append(append(append([]uint16{}, u[:pos-1]...), ru...), u[end:]...)
	return fromUTF16(out)
}

// trimSideKernel is LTRIM(s [, chars]) and RTRIM(s [, chars]): s without
// the leading (trailing) characters that are in chars (default a space).
func trimSideKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops, 0)
	if err != nil {
		return nil, err
	}
	left := c.Name == "LTRIM"
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		s, ok := as[0].at(i)
		chars := " "
		if len(as) == 2 {
			var ok2 bool
			chars, ok2 = as[1].at(i)
			ok = ok && ok2
		}
		if !ok {
			return "", false, nil
		}
		if left {
			return strings.TrimLeft(s, chars), true, nil
		}
		return strings.TrimRight(s, chars), true, nil
	})
}

// padKernel is LPAD(s, len, pad) and RPAD(s, len, pad): s cut or padded to
// len UTF-16 units (see padString), with pad repeated on the left (right).
// A negative len or an empty pad gives NULL.
func padKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	s, err := strArgOf(ops[0], "the string")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	length, err := intArgOf(ops[1], "the length")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	pad, err := strArgOf(ops[2], "the padding")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	left := c.Name == "LPAD"
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		v, ok1 := s.at(i)
		l, ok2 := length.at(i)
		p, ok3 := pad.at(i)
		if !ok1 || !ok2 || !ok3 || l < 0 || p == "" {
			return "", false, nil
		}
		if l > 1<<28 {
			return "", false, fmt.Errorf("the length %d is too large", l)
		}
		return padString(v, int(l), p, left), true, nil
	})
}

// padString pads or cuts s to length UTF-16 units, as Flink does (an emoji
// counts two and a cut may split it; the half becomes '?').
func padString(s string, length int, pad string, left bool) string {
	u, p := toUTF16(s), toUTF16(pad)
	if len(u) >= length {
		return fromUTF16(u[:length])
	}
	out := make([]uint16, 0, length)
	need := length - len(u)
	if !left {
		out = append(out, u...)
	}
	for k := 0; k < need; k++ {
		out = append(out, p[k%len(p)])
	}
	if left {
		out = append(out, u...)
	}
	return fromUTF16(out)
}

// toUTF16 is s as Java's UTF-16 code units.
func toUTF16(s string) []uint16 { return utf16.Encode([]rune(s)) }

// fromUTF16 is a Java string's UTF-8 as Flink writes it: a lone half of a
// surrogate pair becomes '?'.
func fromUTF16(u []uint16) string {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := rune(u[i])
		switch {
		case utf16.IsSurrogate(c) && c < 0xDC00 && i+1 < len(u) && u[i+1] >= 0xDC00 && u[i+1] < 0xE000:
			b.WriteRune(utf16.DecodeRune(c, rune(u[i+1])))
			i++
		case utf16.IsSurrogate(c):
			b.WriteByte('?')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// replaceKernel is REPLACE(s, search, replacement): every occurrence of
// search replaced; an empty search inserts the replacement around every
// UTF-16 unit, as Java does.
func replaceKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops, 0)
	if err != nil {
		return nil, err
	}
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		s, ok1 := as[0].at(i)
		old, ok2 := as[1].at(i)
		repl, ok3 := as[2].at(i)
		if !ok1 || !ok2 || !ok3 {
			return "", false, nil
		}
		if old == "" {
			// Java inserts the replacement around every UTF-16 unit.
			u, ru := toUTF16(s), toUTF16(repl)
			out := append([]uint16{}, ru...)
			for _, x := range u {
				out = append(append(out, x), ru...)
			}
			return fromUTF16(out), true, nil
		}
		return strings.ReplaceAll(s, old, repl), true, nil
	})
}

// repeatKernel is REPEAT(s, n): s n times, empty when n < 1.
func repeatKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	s, err := strArgOf(ops[0], "the string")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	times, err := intArgOf(ops[1], "the count")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		v, ok1 := s.at(i)
		k, ok2 := times.at(i)
		if !ok1 || !ok2 {
			return "", false, nil
		}
		if k < 1 || v == "" {
			return "", true, nil
		}
		if int64(len(v))*k > 1<<30 {
			return "", false, fmt.Errorf("REPEAT of %d bytes %d times is larger than 1 GiB", len(v), k)
		}
		return strings.Repeat(v, int(k)), true, nil
	})
}

// reverseKernel is REVERSE(s): s's characters in reverse order.
func reverseKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	s, err := strArgOf(ops[0], "the string")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	var buf []byte
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		v, ok := s.at(i)
		if !ok {
			return "", false, nil
		}
		buf = buf[:0]
		for end := len(v); end > 0; {
			_, w := utf8.DecodeLastRuneInString(v[:end])
			buf = append(buf, v[end-w:end]...)
			end -= w
		}
		return string(buf), true, nil
	})
}

// initcapKernel is INITCAP(s): as Flink (after Calcite) does it, a word is a
// run of ASCII letters and digits; its first letter is upper-cased and the
// rest lower-cased. Other characters end words and are left as they are.
func initcapKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	s, err := strArgOf(ops[0], "the string")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	var buf []byte
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		v, ok := s.at(i)
		if !ok {
			return "", false, nil
		}
		buf = append(buf[:0], v...)
		start := true
		for k, ch := range buf {
			isDigit := ch >= '0' && ch <= '9'
			isUpper := ch >= 'A' && ch <= 'Z'
			isLower := ch >= 'a' && ch <= 'z'
			switch {
			case start && isLower:
				buf[k] = ch - 32
				start = false
			case start && (isDigit || isUpper):
				start = false
			case !start && isUpper:
				buf[k] = ch + 32
			case !start && !isDigit && !isLower:
				start = ch < utf8.RuneSelf || ch >= 0xC0 // a multi-byte character ends a word once
			}
		}
		return string(buf), true, nil
	})
}

// leftRightKernel is LEFT(s, n) and RIGHT(s, n): the first (last) n
// characters of s; empty when n < 1.
func leftRightKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	s, err := strArgOf(ops[0], "the string")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	count, err := intArgOf(ops[1], "the length")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	left := c.Name == "LEFT"
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		v, ok1 := s.at(i)
		k, ok2 := count.at(i)
		if !ok1 || !ok2 {
			return "", false, nil
		}
		if k < 1 {
			return "", true, nil
		}
		if left {
			return substring(v, 1, k).(string), true, nil
		}
		chars := int64(utf8.RuneCountInString(v))
		if k >= chars {
			return v, true, nil
		}
		return substring(v, chars-k+1, k).(string), true, nil
	})
}

// concatWSKernel is CONCAT_WS(sep, s1, s2, ...): the strings that are not
// NULL joined by sep; NULL only when sep is NULL.
func concatWSKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops, 0)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		sep, ok := as[0].at(i)
		if !ok {
			return "", false, nil
		}
		b.Reset()
		first := true
		for _, a := range as[1:] {
			v, ok := a.at(i)
			if !ok {
				continue
			}
			if !first {
				b.WriteString(sep)
			}
			b.WriteString(v)
			first = false
		}
		return b.String(), true, nil
	})
}

// splitIndexKernel is SPLIT_INDEX(s, sep, k): the k-th (from 0) piece of s
// split at sep; NULL when there is no such piece.
func splitIndexKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops[:2], 0)
	if err != nil {
		return nil, err
	}
	index, err := intArgOf(ops[2], "the index")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		s, ok1 := as[0].at(i)
		sep, ok2 := as[1].at(i)
		k, ok3 := index.at(i)
		if !ok1 || !ok2 || !ok3 || k < 0 || s == "" {
			return "", false, nil // ("" has no pieces, as in Flink)
		}
		return splitIndex(s, sep, k)
	})
}

func splitIndex(s, sep string, k int64) (string, bool, error) {
	if sep == "" {
		// Flink splits at whitespace then, dropping empty pieces.
		parts := strings.Fields(s)
		if k >= int64(len(parts)) {
			return "", false, nil
		}
		return parts[k], true, nil
	}
	for ; k > 0; k-- {
		j := strings.Index(s, sep)
		if j < 0 {
			return "", false, nil
		}
		s = s[j+len(sep):]
	}
	if j := strings.Index(s, sep); j >= 0 {
		s = s[:j]
	}
	return s, true, nil
}

// asciiKernel is ASCII(s): as in Flink, the first byte of s's UTF-8 as a
// signed byte (ASCII('é') is -61), 0 for the empty string.
func asciiKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	s, err := strArgOf(ops[0], "the string")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	return ev.mapInt32(c, n, func(i int) (int32, bool, error) {
		v, ok := s.at(i)
		if !ok {
			return 0, false, nil
		}
		if v == "" {
			return 0, true, nil
		}
		return int32(int8(v[0])), true, nil
	})
}

// chrKernel is CHR(n): the character with code n mod 256, "" when n < 0.
func chrKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	code, err := intArgOf(ops[0], "the code")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		k, ok := code.at(i)
		if !ok {
			return "", false, nil
		}
		if k < 0 {
			return "", true, nil
		}
		return string(rune(k & 0xFF)), true, nil
	})
}

// toBase64Kernel is TO_BASE64(s): the standard base64 of s's UTF-8 bytes.
func toBase64Kernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	s, err := strArgOf(ops[0], "the string")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		v, ok := s.at(i)
		if !ok {
			return "", false, nil
		}
		return base64.StdEncoding.EncodeToString([]byte(v)), true, nil
	})
}

// fromBase64Kernel is FROM_BASE64(s): the string whose UTF-8 bytes s
// encodes in base64.
func fromBase64Kernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	s, err := strArgOf(ops[0], "the string")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		v, ok := s.at(i)
		if !ok {
			return "", false, nil
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return "", false, fmt.Errorf("'%s' is not base64: %w", v, err)
		}
		return string(b), true, nil
	})
}

func init() {
	register("ENCODE", 2, 2, encodeKernel)
	register("DECODE", 2, 2, decodeKernel)
}

// charsetOf is the canonical name of a charset weir supports, as Java
// names them.
func charsetOf(name string) (string, error) {
	switch strings.ToUpper(strings.ReplaceAll(name, "_", "-")) {
	case "UTF-8", "UTF8":
		return "UTF-8", nil
	case "US-ASCII", "ASCII":
		return "US-ASCII", nil
	case "ISO-8859-1", "LATIN1":
		return "ISO-8859-1", nil
	case "UTF-16BE":
		return "UTF-16BE", nil
	case "UTF-16LE":
		return "UTF-16LE", nil
	}
	return "", fmt.Errorf("charset '%s' is not supported by weir; use UTF-8, US-ASCII, ISO-8859-1, UTF-16BE or UTF-16LE", name)
}

// encodeKernel is ENCODE(s, charset): s's bytes in charset; a character the
// charset lacks becomes '?', as in Java.
func encodeKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops, 0)
	if err != nil {
		return nil, err
	}
	return ev.mapBytes(c, n, func(i int) ([]byte, bool, error) {
		s, ok1 := as[0].at(i)
		name, ok2 := as[1].at(i)
		if !ok1 || !ok2 {
			return nil, false, nil
		}
		cs, err := charsetOf(name)
		if err != nil {
			return nil, false, err
		}
		var out []byte
		switch cs {
		case "UTF-8":
			return []byte(s), true, nil
		case "US-ASCII", "ISO-8859-1":
			limit := rune(0x7F)
			if cs == "ISO-8859-1" {
				limit = 0xFF
			}
			for _, r := range s {
				if r > limit {
					r = '?'
				}
				out = append(out, byte(r))
			}
		default:
			for _, u := range toUTF16(s) {
				if cs == "UTF-16BE" {
					out = append(out, byte(u>>8), byte(u))
				} else {
					out = append(out, byte(u), byte(u>>8))
				}
			}
		}
		return out, true, nil
	})
}

// decodeKernel is DECODE(b, charset): the string whose bytes in charset
// are b; bytes that are no character become U+FFFD, as in Java.
func decodeKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	b, err := binArgOf(ops[0])
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	charset, err := strArgOf(ops[1], "the charset")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		v, ok1 := b.at(i)
		name, ok2 := charset.at(i)
		if !ok1 || !ok2 {
			return "", false, nil
		}
		cs, err := charsetOf(name)
		if err != nil {
			return "", false, err
		}
		switch cs {
		case "UTF-8":
			return strings.ToValidUTF8(string(v), "\uFFFD"), true, nil
		case "US-ASCII", "ISO-8859-1":
			rs := make([]rune, len(v))
			for k, x := range v {
				rs[k] = rune(x)
				if cs == "US-ASCII" && x > 0x7F {
					rs[k] = utf8.RuneError
				}
			}
			return string(rs), true, nil
		}
		u := make([]uint16, len(v)/2)
		for k := range u {
			if cs == "UTF-16BE" {
				u[k] = uint16(v[2*k])<<8 | uint16(v[2*k+1])
			} else {
				u[k] = uint16(v[2*k+1])<<8 | uint16(v[2*k])
			}
		}
		return string(utf16.Decode(u)), true, nil
	})
}

// javaSpecialUpper are the characters whose upper case is longer, as Java's
// toUpperCase (and so Flink's UPPER) writes them and Go's does not.
var javaSpecialUpper = strings.NewReplacer("ß", "SS", "ﬀ", "FF", "ﬁ", "FI", "ﬂ", "FL", "ﬃ", "FFI", "ﬄ", "FFL", "ﬅ", "ST", "ﬆ", "ST", "ŉ", "ʼN")

// javaUpper is Java's String.toUpperCase in the root locale.
func javaUpper(s string) string {
	if strings.ContainsAny(s, "ßﬀﬁﬂﬃﬄﬅﬆŉ") {
		s = javaSpecialUpper.Replace(s)
	}
	return strings.ToUpper(s)
}
