package format

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// The json format: one JSON object per record, a member per column, named
// as the column (case-sensitive; other members are ignored). As Flink's:
// numbers for the numeric types (DECIMAL written plain, NaN and infinities
// as the strings "NaN", "Infinity", "-Infinity"), true/false, strings for
// the text, temporal (text.go) and binary (base64) types, null for NULL.
// Reading also takes numbers and booleans given as strings, and for a
// string column any JSON value (its JSON text).
//
// Options (Flink's):
//   - json.fail-on-missing-field (false): a missing member fails the record
//     instead of reading as NULL.
//   - json.ignore-parse-errors (false): a record that does not decode is
//     skipped instead of failing the job.
//   - json.timestamp-format.standard ('SQL'): 'SQL' or 'ISO-8601'.
//   - json.encode.ignore-null-fields (false): NULLs are left out of written
//     objects.
//   - json.encode.decimal-as-plain-number (false): DECIMAL is always written
//     plain by weir; the option is accepted.
//   - json.map-null-key.mode, json.map-null-key.literal: accepted and
//     checked; they matter only for MAP columns, which weir's formats lack.
//
// A null record (a Kafka tombstone) is skipped, as in Flink.

var jsonOptions = []string{
	"json.fail-on-missing-field", "json.ignore-parse-errors", "json.timestamp-format.standard",
	"json.encode.ignore-null-fields", "json.encode.decimal-as-plain-number",
	"json.map-null-key.mode", "json.map-null-key.literal",
}

type jsonConfig struct {
	schema          types.Schema
	failOnMissing   bool
	ignoreErrors    bool
	ignoreNullField bool
	std             timestampStandard
	names           [][]byte // the quoted member names, with their colon
	index           map[string]int
}

func openJSON(f *Format, get Getter) error {
	c := &jsonConfig{schema: f.schema}
	var err error
	if c.failOnMissing, err = boolOption(get, "json.fail-on-missing-field", false); err != nil {
		return err
	}
	if c.ignoreErrors, err = boolOption(get, "json.ignore-parse-errors", false); err != nil {
		return err
	}
	if c.failOnMissing && c.ignoreErrors {
		return &OptionError{Key: "json.ignore-parse-errors", Value: "true", Msg: "cannot be set together with 'json.fail-on-missing-field' = 'true' (as in Flink); set one of them"}
	}
	if c.ignoreNullField, err = boolOption(get, "json.encode.ignore-null-fields", false); err != nil {
		return err
	}
	if _, err = boolOption(get, "json.encode.decimal-as-plain-number", false); err != nil {
		return err
	}
	if v, ok := get("json.timestamp-format.standard"); ok {
		switch strings.ToUpper(v) {
		case "SQL":
		case "ISO-8601":
			c.std = standardISO
		default:
			return &OptionError{Key: "json.timestamp-format.standard", Value: v, Msg: "must be 'SQL' or 'ISO-8601'"}
		}
	}
	if v, ok := get("json.map-null-key.mode"); ok {
		switch strings.ToUpper(v) {
		case "FAIL", "DROP", "LITERAL":
		default:
			return &OptionError{Key: "json.map-null-key.mode", Value: v, Msg: "must be 'FAIL', 'DROP' or 'LITERAL'"}
		}
	}
	get("json.map-null-key.literal")
	c.index = map[string]int{}
	for i, fl := range f.schema {
		c.index[fl.Name] = i
		name := appendJSONString(nil, fl.Name)
		if i > 0 {
			name = append([]byte{','}, name...)
		}
		c.names = append(c.names, append(name, ':'))
	}
	f.newEnc = func() Encoder { return &jsonEncoder{c: c} }
	f.newDec = func() Decoder {
		return &jsonDecoder{c: c, fast: true, row: make([]any, len(c.schema)), raw: make([]json.RawMessage, len(c.schema))}
	}
	return nil
}

type jsonEncoder struct{ c *jsonConfig }

func (e *jsonEncoder) Append(dst []byte, cols []arrow.Array, i int) ([]byte, error) {
	if dst == nil {
		dst = []byte{}
	}
	dst = append(dst, '{')
	first := true
	for j, col := range cols {
		v := exec.ValueAt(col, i)
		if v == nil && e.c.ignoreNullField {
			continue
		}
		name := e.c.names[j]
		if first && name[0] == ',' {
			name = name[1:]
		} else if !first && name[0] != ',' {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, name...)
		dst = appendJSONValue(dst, v, e.c.schema[j].Type, e.c.std)
	}
	return append(dst, '}'), nil
}

// appendJSONValue appends a value of t as JSON.
func appendJSONValue(dst []byte, v any, t types.T, std timestampStandard) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool, int8, int16, int32, int64:
		return appendText(dst, v, t, std)
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return appendJSONString(dst, javaSpecial(float64(x)))
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return appendJSONString(dst, javaSpecial(x))
		}
	case []byte:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, '"')
	case string:
		return appendJSONString(dst, x)
	}
	if t.IsNumeric() {
		return appendText(dst, v, t, std)
	}
	start := len(dst)
	dst = appendText(dst, v, t, std)
	text := string(dst[start:])
	return appendJSONString(dst[:start], text)
}

func javaSpecial(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f > 0:
		return "Infinity"
	}
	return "-Infinity"
}

// appendJSONString appends s quoted as a JSON string: quotes, backslashes
// and control characters escaped, other characters as they are (invalid
// UTF-8 as U+FFFD).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

type jsonDecoder struct {
	c       *jsonConfig
	fast    bool // try scanFlat first (json_fast.go)
	members map[string]json.RawMessage
	raw     []json.RawMessage // the columns' members, nil when missing
	row     []any
}

func (d *jsonDecoder) Decode(rec []byte, b *Builder) error {
	if rec == nil {
		return nil
	}
	err := d.decode(rec)
	if err != nil {
		if d.c.ignoreErrors {
			return nil
		}
		return err
	}
	b.appendRow(d.row)
	return nil
}

func (d *jsonDecoder) decode(rec []byte) error {
	if d.fast && d.scanFlat(rec, d.raw) {
		return d.convert()
	}
	return d.decodeSlow(rec)
}

// decodeSlow reads the record with encoding/json.
func (d *jsonDecoder) decodeSlow(rec []byte) error {
	trimmed := bytes.TrimSpace(rec)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return recordErr("not JSON: %s", jsonSyntax(trimmed))
		}
		return recordErr("a JSON object was expected, not %s", clip(string(trimmed)))
	}
	clear(d.members)
	if d.members == nil {
		d.members = make(map[string]json.RawMessage, len(d.c.schema))
	}
	if err := json.Unmarshal(trimmed, &d.members); err != nil {
		return recordErr("not JSON: %s", jsonSyntax(trimmed))
	}
	for j, fl := range d.c.schema {
		d.raw[j] = d.members[fl.Name] // nil when missing
	}
	return d.convert()
}

// convert converts the members in d.raw to the row.
func (d *jsonDecoder) convert() error {
	for j, fl := range d.c.schema {
		raw := d.raw[j]
		if raw == nil && d.c.failOnMissing {
			return fieldErr(fl.Name, "missing from the record, and 'json.fail-on-missing-field' is 'true'")
		}
		v, err := d.value(raw, fl.Type)
		if err != nil {
			return &RecordError{Field: fl.Name, Err: err}
		}
		d.row[j] = v
	}
	return nil
}

// value converts a member (nil when missing) to a value of t.
func (d *jsonDecoder) value(raw json.RawMessage, t types.T) (any, error) {
	if len(raw) == 0 || raw[0] == 'n' {
		if !t.Nullable {
			return nil, errNotNull
		}
		return nil, nil
	}
	var text string
	switch raw[0] {
	case '"':
		var err error
		if text, err = jsonString(raw); err != nil {
			return nil, err
		}
		if t.IsBinary() {
			bs, err := base64.StdEncoding.DecodeString(text)
			if err != nil {
				return nil, fmt.Errorf("'%s' is not base64", clip(text))
			}
			return bs, nil
		}
	case '{', '[':
		if !t.IsString() {
			return nil, fmt.Errorf("a JSON %s cannot be read as %s", map[byte]string{'{': "object", '[': "array"}[raw[0]], plainType(t))
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, err
		}
		return buf.String(), nil
	default: // a number, true or false
		text = string(raw)
		if t.IsBinary() {
			return nil, fmt.Errorf("%s is not a base64 string for %s", clip(text), plainType(t))
		}
	}
	return parseText(text, t, d.c.std)
}

// jsonSyntax describes why data is not JSON.
func jsonSyntax(data []byte) string {
	var v any
	err := json.Unmarshal(data, &v)
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("%v (at byte %d of %s)", se, se.Offset, clip(string(data)))
	}
	if err == nil {
		return "trailing data"
	}
	return fmt.Sprintf("%v in %s", err, clip(string(data)))
}
