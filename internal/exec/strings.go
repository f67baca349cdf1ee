package exec

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// stringFunc evaluates UPPER, LOWER, CONCAT, SUBSTRING, CHAR_LENGTH and TRIM
// value by value. Every function returns NULL when an argument is NULL.
//
//   - SUBSTRING(s, start[, length]) counts characters from 1 like Flink: a
//     negative start counts from the end, 0 is treated as 1, a negative length
//     gives NULL.
//   - TRIM(s) removes leading and trailing spaces; TRIM(mode, chars, s), with
//     mode 'BOTH', 'LEADING' or 'TRAILING', removes any of chars.
func (ev *evaluator) stringFunc(c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	for i, o := range ops {
		isNum := c.Name == "SUBSTRING" && i > 0
		switch {
		case o.t.Kind == types.Null:
		case isNum && !o.t.IsInteger():
			return nil, fmt.Errorf("exec: %s: argument %d must be an integer, not %s", c, i+1, plain(o.t))
		case !isNum && c.Name != "CONCAT" && !o.t.IsString():
			return nil, fmt.Errorf("exec: %s: argument %d must be a string, not %s", c, i+1, plain(o.t))
		}
	}
	for _, o := range ops {
		if o.isNull() {
			return ev.nullResult(c.T, n), nil
		}
	}
	if c.Name == "CHAR_LENGTH" && !c.T.IsInteger() || c.Name != "CHAR_LENGTH" && !c.T.IsString() {
		return nil, fmt.Errorf("exec: %s cannot produce %s", c, plain(c.T))
	}
	ap := newAppender(ev.mem, c.T, n)
	args := make([]any, len(ops))
	for i := 0; i < n; i++ {
		null := false
		for k, o := range ops {
			args[k] = o.value(i)
			null = null || args[k] == nil
		}
		var r any
		if !null {
			var err error
			if r, err = stringValue(c, ops, args); err != nil {
				ap.discard()
				return nil, fmt.Errorf("exec: %s: %w", c, err)
			}
		}
		if r != nil && c.T.IsString() {
			r = fitString(r.(string), c.T)
		}
		if err := ap.append(r); err != nil {
			ap.discard()
			return nil, err
		}
	}
	return ap.finish(), nil
}

func stringValue(c *expr.Call, ops []operand, args []any) (any, error) {
	switch c.Name {
	case "UPPER":
		return javaUpper(args[0].(string)), nil // strings_more.go
	case "LOWER":
		return strings.ToLower(args[0].(string)), nil
	case "CHAR_LENGTH":
		return CastValue(int32(utf8.RuneCountInString(args[0].(string))), types.INT, c.T)
	case "CONCAT":
		var b strings.Builder
		for k, a := range args {
			s, err := CastValue(a, ops[k].t, types.STRING)
			if err != nil {
				return nil, err
			}
			b.WriteString(s.(string))
		}
		return b.String(), nil
	case "SUBSTRING":
		length := int64(math.MaxInt32)
		if len(args) == 3 {
			length = ToInt64(args[2])
		}
		return substring(args[0].(string), ToInt64(args[1]), length), nil
	case "TRIM":
		if len(args) == 1 {
			return strings.Trim(args[0].(string), " "), nil
		}
		if len(args) != 3 {
			return nil, fmt.Errorf("TRIM takes 1 or 3 arguments")
		}
		chars, s := args[1].(string), args[2].(string)
		switch strings.ToUpper(args[0].(string)) {
		case "BOTH":
			return strings.Trim(s, chars), nil
		case "LEADING":
			return strings.TrimLeft(s, chars), nil
		case "TRAILING":
			return strings.TrimRight(s, chars), nil
		}
		return nil, fmt.Errorf("TRIM mode must be 'BOTH', 'LEADING' or 'TRAILING', not '%s'", args[0])
	}
	return nil, fmt.Errorf("unknown string function %s", c.Name)
}

// substring implements Flink's SUBSTRING over characters (code points).
func substring(s string, pos, length int64) any {
	if length < 0 {
		return nil
	}
	if s == "" {
		return ""
	}
	chars := int64(utf8.RuneCountInString(s))
	var start int64
	switch {
	case pos > 0:
		start = pos - 1
		if start >= chars {
			return ""
		}
	case pos < 0:
		start = chars + pos
		if start < 0 {
			return ""
		}
	}
	end := chars
	if chars-start >= length {
		end = start + length
	}
	if chars == int64(len(s)) {
		return s[start:end]
	}
	rs := []rune(s)
	return string(rs[start:end])
}
