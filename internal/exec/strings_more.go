package exec

import (
	"encoding/base64"
	"fmt"
	"strings"
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
	if from < 1 {
		return 0
	}
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
// after character from (default 1); 0 when absent or when from < 1.
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
// characters from pos replaced by r; len defaults to r's length.
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
		if len(ops) == 3 {
			l = int64(utf8.RuneCountInString(r))
		}
		head := substring(s, 1, p-1)
		tail := substring(s, p+l, 1<<31)
		if head == nil || tail == nil {
			return "", false, nil
		}
		return head.(string) + r + tail.(string), true, nil
	})
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
// len characters, with pad repeated on the left (right). A negative len or
// an empty pad gives NULL.
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
	var b strings.Builder
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
		return padString(&b, v, int(l), p, left), true, nil
	})
}

func padString(b *strings.Builder, s string, length int, pad string, left bool) string {
	chars := utf8.RuneCountInString(s)
	if chars >= length {
		return substring(s, 1, int64(length)).(string)
	}
	b.Reset()
	if !left {
		b.WriteString(s)
	}
	need := length - chars
	for need > 0 {
		for _, r := range pad {
			if need == 0 {
				break
			}
			b.WriteRune(r)
			need--
		}
	}
	if left {
		b.WriteString(s)
	}
	return b.String()
}

// replaceKernel is REPLACE(s, search, replacement): every occurrence of
// search replaced; an empty search leaves s as it is.
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
			return s, true, nil
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
		if !ok1 || !ok2 || !ok3 || k < 0 {
			return "", false, nil
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

// asciiKernel is ASCII(s): the code of s's first character, 0 for the
// empty string.
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
		r, _ := utf8.DecodeRuneInString(v)
		return int32(r), true, nil
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
