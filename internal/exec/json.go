package exec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// JSON functions over JSON text in strings: JSON_VALUE, JSON_QUERY,
// JSON_EXISTS and IS JSON (argument layout as internal/sql's json.go
// describes). Paths are SQL/JSON paths: an optional lax or strict mode,
// then $ and steps .name, ."name", ['name'], [n], .* and [*]. In lax mode a
// missing member or element gives nothing (ON EMPTY applies), in strict
// mode an error (ON ERROR applies).

func init() {
	register("JSON_VALUE", 7, 7, jsonValueKernel)
	register("JSON_QUERY", 6, 6, jsonQueryKernel)
	register("JSON_EXISTS", 3, 3, jsonExistsKernel)
	register("IS JSON", 2, 2, isJSONKernel)
}

// jsonNode is a parsed JSON value; objects keep their members' order.
type jsonNode struct {
	kind byte // 'n' null, 'b' boolean, '0' number, 's' string, 'a' array, 'o' object
	text string
	b    bool
	keys []string
	vals []*jsonNode
}

// parseJSON parses one JSON text (nothing may follow it).
func parseJSON(s string) (*jsonNode, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	n, err := decodeNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("text after the JSON value")
	}
	return n, nil
}

func decodeNode(dec *json.Decoder) (*jsonNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &jsonNode{kind: 'n'}, nil
	case bool:
		return &jsonNode{kind: 'b', b: t}, nil
	case json.Number:
		return &jsonNode{kind: '0', text: string(t)}, nil
	case string:
		return &jsonNode{kind: 's', text: t}, nil
	case json.Delim:
		n := &jsonNode{kind: 'a'}
		if t == '{' {
			n.kind = 'o'
		}
		for dec.More() {
			if n.kind == 'o' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
			}
			v, err := decodeNode(dec)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return n, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// write writes n as compact JSON.
func (n *jsonNode) write(b *bytes.Buffer) {
	switch n.kind {
	case 'n':
		b.WriteString("null")
	case 'b':
		b.WriteString(strconv.FormatBool(n.b))
	case '0':
		b.WriteString(n.text)
	case 's':
		writeJSONString(b, n.text)
	case 'a':
		b.WriteByte('[')
		for i, v := range n.vals {
			if i > 0 {
				b.WriteByte(',')
			}
			v.write(b)
		}
		b.WriteByte(']')
	case 'o':
		b.WriteByte('{')
		for i, v := range n.vals {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, n.keys[i])
			b.WriteByte(':')
			v.write(b)
		}
		b.WriteByte('}')
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	// encoding/json escapes <, > and & for HTML; JSON does not need it.
	enc = bytes.ReplaceAll(enc, []byte(`\u003c`), []byte("<"))
	enc = bytes.ReplaceAll(enc, []byte(`\u003e`), []byte(">"))
	enc = bytes.ReplaceAll(enc, []byte(`\u0026`), []byte("&"))
	b.Write(enc)
}

// jsonPath is a parsed SQL/JSON path.
type jsonPath struct {
	strict bool
	steps  []jsonStep
	// indefinite is set when a wildcard may select several values: the
	// result is then always an array of them, as in Flink.
	indefinite bool
}

// jsonStep is a member name (index < 0 and !wild), an array index, or a
// wildcard over members (member set) or elements.
type jsonStep struct {
	member string
	index  int
	wild   bool
	isElem bool
}

// ParseJSONPath parses a SQL/JSON path such as 'lax $.a[0].b'.
func ParseJSONPath(src string) (*jsonPath, error) {
	p := &jsonPath{}
	s := strings.TrimSpace(src)
	switch {
	case strings.HasPrefix(s, "strict ") || strings.HasPrefix(s, "strict$"):
		p.strict, s = true, strings.TrimSpace(s[len("strict"):])
	case strings.HasPrefix(s, "lax ") || strings.HasPrefix(s, "lax$"):
		s = strings.TrimSpace(s[len("lax"):])
	}
	switch {
	case strings.HasPrefix(s, "$"):
		s = s[1:]
	case s != "" && s[0] != '.' && s[0] != '[':
		s = "." + s // as in Flink, 'a.b' is '$.a.b'
	default:
		return nil, fmt.Errorf("the JSON path '%s' must start with $ (optionally after lax or strict)", src)
	}
	bad := func(why string) error { return fmt.Errorf("bad JSON path '%s': %s", src, why) }
	for len(s) > 0 {
		switch s[0] {
		case '.':
			s = s[1:]
			switch {
			case strings.HasPrefix(s, "*"):
				p.steps = append(p.steps, jsonStep{wild: true})
				s = s[1:]
			case strings.HasPrefix(s, `"`):
				end := strings.IndexByte(s[1:], '"')
				if end < 0 {
					return nil, bad("unclosed quoted member name")
				}
				p.steps = append(p.steps, jsonStep{member: s[1 : 1+end]})
				s = s[end+2:]
			default:
				end := 0
				for end < len(s) && (s[end] == '_' || s[end] == '$' || s[end] >= '0' && s[end] <= '9' || s[end] >= 'a' && s[end] <= 'z' || s[end] >= 'A' && s[end] <= 'Z' || s[end] >= 0x80) {
					end++
				}
				if end == 0 {
					return nil, bad("a member name must follow '.'")
				}
				p.steps = append(p.steps, jsonStep{member: s[:end]})
				s = s[end:]
			}
		case '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, bad("unclosed [")
			}
			in := strings.TrimSpace(s[1:end])
			s = s[end+1:]
			switch {
			case in == "*":
				p.steps = append(p.steps, jsonStep{wild: true, isElem: true})
			case len(in) >= 2 && (in[0] == '\'' && in[len(in)-1] == '\'' || in[0] == '"' && in[len(in)-1] == '"'):
				p.steps = append(p.steps, jsonStep{member: in[1 : len(in)-1]})
			default:
				k, err := strconv.Atoi(in)
				if err != nil || k < 0 {
					return nil, bad("an array index must be a number of 0 or more, or *")
				}
				p.steps = append(p.steps, jsonStep{index: k, isElem: true})
			}
		case ' ', '\t':
			s = s[1:]
		default:
			return nil, bad(fmt.Sprintf("unexpected '%c'", s[0]))
		}
	}
	for _, st := range p.steps {
		p.indefinite = p.indefinite || st.wild
	}
	return p, nil
}

// errJSONStrict is a strict path's step that found nothing.
var errJSONStrict = errors.New("the strict JSON path found nothing")

// eval returns the values the path selects in n.
func (p *jsonPath) eval(n *jsonNode) ([]*jsonNode, error) {
	cur := []*jsonNode{n}
	for _, st := range p.steps {
		var next []*jsonNode
		for _, v := range cur {
			switch {
			case st.isElem && v.kind == 'a':
				if st.wild {
					next = append(next, v.vals...)
				} else if st.index < len(v.vals) {
					next = append(next, v.vals[st.index])
				} else if p.strict {
					return nil, errJSONStrict
				}
			case st.isElem:
				// Not an array: nothing (lax, as in Flink) or an error (strict).
				if p.strict {
					return nil, errJSONStrict
				}
			case v.kind == 'o':
				found := false
				for k, key := range v.keys {
					if st.wild || key == st.member {
						next = append(next, v.vals[k])
						found = true
					}
				}
				if !found && p.strict && !st.wild {
					return nil, errJSONStrict
				}
			case v.kind == 'a' && !p.strict:
				// lax: member access applies to each element.
				for _, e := range v.vals {
					if e.kind != 'o' {
						continue
					}
					for k, key := range e.keys {
						if st.wild || key == st.member {
							next = append(next, e.vals[k])
						}
					}
				}
			default:
				if p.strict {
					return nil, errJSONStrict
				}
			}
		}
		cur = next
	}
	return cur, nil
}

// jsonPaths caches parsed paths per evaluation.
type jsonPaths map[string]*jsonPath

func (c jsonPaths) get(src string) (*jsonPath, error) {
	if p, ok := c[src]; ok {
		return p, nil
	}
	p, err := ParseJSONPath(src)
	if err != nil {
		return nil, err
	}
	if len(c) > 1000 {
		clear(c)
	}
	c[src] = p
	return p, nil
}

// constWord is the text of a clause's LitString argument.
func constWord(o operand) string {
	s, _ := o.scalar.(string)
	return s
}

// jsonScalarText is the text JSON_VALUE gives for a scalar.
func jsonScalarText(n *jsonNode) string {
	switch n.kind {
	case 'b':
		return strconv.FormatBool(n.b)
	case '0':
		return javaDecimalText(n.text)
	case 's':
		return n.text
	}
	return ""
}

// javaDecimalText is a JSON number as Java's BigDecimal.toString prints it
// (Flink reads JSON numbers as BigDecimal): 1e2 is 1E+2, 1.5e1 is 15.
func javaDecimalText(num string) string {
	i := strings.IndexAny(num, "eE")
	if i < 0 {
		return num
	}
	mant, exp := num[:i], num[i+1:]
	e, err := strconv.Atoi(exp)
	if err != nil {
		return num
	}
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		digits = "0"
	}
	scale := len(frac) - e
	sign := ""
	if neg {
		sign = "-"
	}
	adjusted := -scale + len(digits) - 1
	switch {
	case scale == 0:
		return sign + digits
	case scale > 0 && adjusted >= -6:
		if len(digits) > scale {
			return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
		}
		return sign + "0." + strings.Repeat("0", scale-len(digits)) + digits
	}
	out := digits[:1]
	if len(digits) > 1 {
		out += "." + digits[1:]
	}
	if adjusted >= 0 {
		return sign + out + "E+" + strconv.Itoa(adjusted)
	}
	return sign + out + "E" + strconv.Itoa(adjusted)
}

// jsonValueKernel is JSON_VALUE(j, path, returning, onEmpty, emptyDefault,
// onError, errorDefault).
func jsonValueKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops[:2], 0)
	if err != nil {
		return nil, err
	}
	onError := constWord(ops[5])
	paths := jsonPaths{}
	ap := newAppender(ev.mem, c.T, n)
	fallback := func(i int, mode string, o operand, why error) error {
		switch mode {
		case "ERROR":
			return why
		case "DEFAULT":
			v := o.value(i)
			if v != nil {
				var err error
				if v, err = CastValue(v, o.t, c.T); err != nil {
					return err
				}
			}
			return ap.append(v)
		}
		return ap.append(nil)
	}
	for i := 0; i < n; i++ {
		j, ok1 := as[0].at(i)
		p, ok2 := as[1].at(i)
		if !ok1 || !ok2 {
			ap.append(nil)
			continue
		}
		path, err := paths.get(p)
		if err != nil {
			ap.discard()
			return nil, fmt.Errorf("exec: %s: %w", c, err)
		}
		var failure error
		var vals []*jsonNode
		if doc, err := parseJSON(j); err != nil {
			failure = fmt.Errorf("the input is not JSON (%v): %.100q", err, j)
		} else if vals, err = path.eval(doc); err != nil {
			failure = fmt.Errorf("%w: '%s'", err, p)
		} else if len(vals) > 1 || path.indefinite {
			failure = fmt.Errorf("the JSON path '%s' may select several values, JSON_VALUE needs one", p)
		} else if len(vals) == 1 && (vals[0].kind == 'a' || vals[0].kind == 'o') {
			failure = fmt.Errorf("the JSON path '%s' selects an array or object, JSON_VALUE needs a scalar (use JSON_QUERY)", p)
		}
		if failure != nil {
			err = fallback(i, onError, ops[6], failure)
		} else if len(vals) == 0 || vals[0].kind == 'n' {
			// As in Flink, a lax path that finds nothing gives NULL; ON
			// EMPTY does not apply.
			err = ap.append(nil)
		} else {
			var v any
			v, err = CastValue(jsonScalarText(vals[0]), types.STRING, c.T)
			if err == nil {
				err = ap.append(v)
			} else {
				err = fallback(i, onError, ops[6], err)
			}
		}
		if err != nil {
			ap.discard()
			return nil, fmt.Errorf("exec: %s: %w", c, err)
		}
	}
	return ap.finish(), nil
}

// jsonQueryKernel is JSON_QUERY(j, path, returning, wrapper, onEmpty,
// onError): the selected array or object as JSON text.
func jsonQueryKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops[:2], 0)
	if err != nil {
		return nil, err
	}
	wrapper, onError := constWord(ops[3]), constWord(ops[5])
	paths := jsonPaths{}
	var buf bytes.Buffer
	behave := func(mode string, why error) (string, bool, error) {
		switch mode {
		case "ERROR":
			return "", false, why
		case "EMPTY ARRAY":
			return "[]", true, nil
		case "EMPTY OBJECT":
			return "{}", true, nil
		}
		return "", false, nil
	}
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		j, ok1 := as[0].at(i)
		p, ok2 := as[1].at(i)
		if !ok1 || !ok2 {
			return "", false, nil
		}
		path, err := paths.get(p)
		if err != nil {
			return "", false, err
		}
		doc, err := parseJSON(j)
		if err != nil {
			return behave(onError, fmt.Errorf("the input is not JSON (%v): %.100q", err, j))
		}
		vals, err := path.eval(doc)
		if err != nil {
			return behave(onError, fmt.Errorf("%w: '%s'", err, p))
		}
		if path.indefinite {
			vals = []*jsonNode{{kind: 'a', vals: vals}}
		}
		var out *jsonNode
		switch {
		case len(vals) == 0:
			return "", false, nil // as in Flink, ON EMPTY does not apply to a lax path
		case wrapper == "UNCONDITIONAL" || wrapper == "CONDITIONAL" && !(len(vals) == 1 && vals[0].kind == 'a'):
			// (A conditional wrapper leaves only an array unwrapped, as in Flink.)
			out = &jsonNode{kind: 'a', vals: vals}
		case len(vals) > 1:
			return behave(onError, fmt.Errorf("the JSON path '%s' selects %d values; add WITH WRAPPER", p, len(vals)))
		case vals[0].kind != 'a' && vals[0].kind != 'o':
			return behave(onError, fmt.Errorf("the JSON path '%s' selects a scalar, JSON_QUERY needs an array or object (use JSON_VALUE or WITH WRAPPER)", p))
		default:
			out = vals[0]
		}
		buf.Reset()
		out.write(&buf)
		return buf.String(), true, nil
	})
}

// jsonExistsKernel is JSON_EXISTS(j, path, onError).
func jsonExistsKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	as, err := strArgs(c, ops[:2], 0)
	if err != nil {
		return nil, err
	}
	onError := constWord(ops[2])
	paths := jsonPaths{}
	return ev.mapBool(c, n, func(i int) (bool, bool, error) {
		j, ok1 := as[0].at(i)
		p, ok2 := as[1].at(i)
		if !ok1 || !ok2 {
			return false, false, nil
		}
		path, err := paths.get(p)
		if err != nil {
			return false, false, err
		}
		var vals []*jsonNode
		doc, err := parseJSON(j)
		if err == nil {
			vals, err = path.eval(doc)
		}
		if err != nil {
			switch onError {
			case "TRUE":
				return true, true, nil
			case "UNKNOWN":
				return false, false, nil
			case "ERROR":
				return false, false, fmt.Errorf("JSON_EXISTS: %w", err)
			}
			return false, true, nil
		}
		for _, v := range vals {
			if v.kind != 'n' {
				return true, true, nil // (a JSON null counts as absent, as in Flink)
			}
		}
		return false, true, nil
	})
}

// isJSONKernel is x IS JSON [VALUE|SCALAR|ARRAY|OBJECT].
func isJSONKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	s, err := strArgOf(ops[0], "the input")
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", c, err)
	}
	kind := constWord(ops[1])
	return ev.mapBool(c, n, func(i int) (bool, bool, error) {
		v, ok := s.at(i)
		if !ok {
			return false, true, nil // NULL IS JSON is FALSE, as in Flink
		}
		doc, err := parseJSON(v)
		if err != nil {
			return false, true, nil
		}
		switch kind {
		case "SCALAR":
			return doc.kind != 'a' && doc.kind != 'o', true, nil
		case "ARRAY":
			return doc.kind == 'a', true, nil
		case "OBJECT":
			return doc.kind == 'o', true, nil
		}
		return true, true, nil
	})
}

func init() {
	register("JSON_OBJECT", 0, -1, jsonConstructKernel)
	register("JSON_ARRAY", 0, -1, jsonConstructKernel)
	register("JSON_STRING", 1, 1, jsonConstructKernel)
}

// jsonConstructKernel is JSON_OBJECT(onNull, k1, v1, ...), JSON_ARRAY(onNull,
// v1, ...) and JSON_STRING(v): compact JSON text. A JSON_OBJECT or
// JSON_ARRAY inside is written as JSON, not as a string; onNull "ABSENT"
// leaves NULL values out. JSON_STRING of NULL is NULL.
func jsonConstructKernel(ev *evaluator, c *expr.Call, ops []operand, n int) (arrow.Array, error) {
	first, step := 1, 1
	switch c.Name {
	case "JSON_OBJECT":
		first, step = 2, 2
	case "JSON_STRING":
		first = 0
	}
	absent := c.Name != "JSON_STRING" && len(ops) > 0 && constWord(ops[0]) == "ABSENT"
	raw := make([]bool, len(ops))
	for k := range ops {
		if x, ok := c.Args[k].(*expr.Call); ok && (x.Name == "JSON_OBJECT" || x.Name == "JSON_ARRAY") {
			raw[k] = true
		}
	}
	// The value arguments in the order they are written: JSON_OBJECT's by
	// key (constant keys), as Flink writes them.
	var order []int
	for k := first; k < len(ops); k += step {
		order = append(order, k)
	}
	if c.Name == "JSON_OBJECT" {
		sort.SliceStable(order, func(a, b int) bool {
			ka, _ := ops[order[a]-1].scalar.(string)
			kb, _ := ops[order[b]-1].scalar.(string)
			return ka < kb
		})
	}
	var buf bytes.Buffer
	return ev.mapString(c, n, func(i int) (string, bool, error) {
		buf.Reset()
		if c.Name == "JSON_STRING" {
			v := ops[0].value(i)
			if v == nil {
				return "", false, nil
			}
			if err := writeJSONValue(&buf, v, ops[0].t, raw[0]); err != nil {
				return "", false, err
			}
			return buf.String(), true, nil
		}
		open, close := byte('['), byte(']')
		if c.Name == "JSON_OBJECT" {
			open, close = '{', '}'
		}
		buf.WriteByte(open)
		wrote := false
		for _, k := range order {
			v := ops[k].value(i)
			if v == nil && absent {
				continue
			}
			if wrote {
				buf.WriteByte(',')
			}
			wrote = true
			if c.Name == "JSON_OBJECT" {
				key := ops[k-1].value(i)
				if key == nil {
					return "", false, fmt.Errorf("a JSON_OBJECT key is NULL")
				}
				writeJSONString(&buf, key.(string))
				buf.WriteByte(':')
			}
			if err := writeJSONValue(&buf, v, ops[k].t, raw[k]); err != nil {
				return "", false, err
			}
		}
		buf.WriteByte(close)
		return buf.String(), true, nil
	})
}

// writeJSONValue writes a Literal-style value of type t as JSON; raw
// strings are JSON text already.
func writeJSONValue(b *bytes.Buffer, v any, t types.T, raw bool) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		if raw {
			b.WriteString(x)
		} else {
			writeJSONString(b, x)
		}
	default:
		s, err := CastValue(v, t, types.STRING)
		if err != nil {
			return err
		}
		text := s.(string)
		if (t.Kind == types.Double || t.Kind == types.Float) && strings.Contains(text, "E") && !strings.Contains(text, "E-") {
			text = strings.Replace(text, "E", "E+", 1) // 1.0E+20, as Flink writes it
		}
		b.WriteString(text)
	}
	return nil
}
