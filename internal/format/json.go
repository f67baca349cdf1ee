package format

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// The json format: one JSON object per record, a member per column, named
// as the column (case-sensitive; other members are ignored). As Flink's:
// numbers for the numeric types (DECIMAL written plain, NaN and infinities
// as the strings "NaN", "Infinity", "-Infinity"), true/false, strings for
// the text, temporal (text.go) and binary (base64) types, null for NULL.
// Reading also takes, as Flink does, numbers and booleans given as strings,
// for a string column any JSON value (its JSON text), for an integer column
// a number with a fraction (truncated toward zero), and for a DECIMAL
// column a number it rounds half up to its scale (NULL when it does not fit
// the precision).
//
// Options (Flink's):
//   - json.fail-on-missing-field (false): a missing member fails the record
//     instead of reading as NULL.
//   - json.ignore-parse-errors (false): as in Flink, a record that is not
//     a JSON object is skipped and a member that does not convert reads as
//     NULL (the row is skipped if its column is NOT NULL), instead of
//     failing the job.
//   - json.timestamp-format.standard ('SQL'): 'SQL' or 'ISO-8601'.
//   - json.encode.ignore-null-fields (false): NULLs are left out of written
//     objects.
//   - json.encode.decimal-as-plain-number (false): DECIMAL is written as
//     Flink writes it, without trailing zeros and in Java's scientific
//     notation when its exponent calls for it (1E-8, 1E+2); with true,
//     plain (0.00000001, 100).
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
	plainDecimal    bool
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
	if c.plainDecimal, err = boolOption(get, "json.encode.decimal-as-plain-number", false); err != nil {
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
		if d, ok := v.(decimal128.Num); ok {
			dst = appendJavaDecimal(dst, d, e.c.schema[j].Type.Scale, e.c.plainDecimal)
			continue
		}
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
		if err != nil && d.c.ignoreErrors && fl.Type.Nullable && err != errNotNull {
			v, err = nil, nil // Flink reads a member that does not convert as NULL
		}
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
		if t.IsInteger() && strings.ContainsAny(text, ".eE") {
			return truncateNumber(text, t)
		}
		if t.Kind == types.Decimal && raw[0] != 't' && raw[0] != 'f' {
			v, err := exec.CastValue(text, types.STRING, t.WithNullable(true))
			if err != nil {
				return nil, fmt.Errorf("'%s' is not a valid %s", clip(text), plainType(t))
			}
			if v == nil && !t.Nullable {
				return nil, errNotNull
			}
			return v, nil // NULL when it does not fit, as in Flink
		}
	}
	return parseText(text, t, d.c.std)
}

// truncateNumber reads a JSON number with a fraction or an exponent for an
// integer column as Jackson's asInt/asLong do: truncated toward zero, an
// error when out of range.
func truncateNumber(text string, t types.T) (any, error) {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !isRangeErr(err) {
		return nil, fmt.Errorf("'%s' is not a valid %s", clip(text), plainType(t))
	}
	f = math.Trunc(f)
	limit := map[types.Kind]float64{types.TinyInt: math.MaxInt8, types.SmallInt: math.MaxInt16, types.Int: math.MaxInt32, types.BigInt: math.MaxInt64}[t.Kind]
	if math.IsInf(f, 0) || f > limit || f < -limit-1 || f >= 0x1p63 {
		return nil, fmt.Errorf("'%s' is out of the range of %s", clip(text), plainType(t))
	}
	return parseText(strconv.FormatInt(int64(f), 10), t, standardSQL)
}

// appendJavaDecimal appends a DECIMAL of the given scale as Flink's JSON
// writer does: trailing zeros stripped, then Java's BigDecimal.toString
// (scientific when the scale is negative or the exponent below -6), or
// toPlainString when plain.
func appendJavaDecimal(dst []byte, d decimal128.Num, scale int, plain bool) []byte {
	u := d.BigInt()
	s := scale
	ten := big.NewInt(10)
	if u.Sign() == 0 {
		return append(dst, '0')
	}
	var q, r big.Int
	for {
		q.QuoRem(u, ten, &r)
		if r.Sign() != 0 {
			break
		}
		u.Set(&q)
		s--
	}
	neg := u.Sign() < 0
	digits := new(big.Int).Abs(u).String()
	if neg {
		dst = append(dst, '-')
	}
	adjusted := len(digits) - 1 - s
	switch {
	case plain && s <= 0:
		dst = append(dst, digits...)
		return append(dst, strings.Repeat("0", -s)...)
	case s == 0:
		return append(dst, digits...)
	case plain || s > 0 && adjusted >= -6:
		if len(digits) <= s {
			dst = append(dst, "0."...)
			dst = append(dst, strings.Repeat("0", s-len(digits))...)
			return append(dst, digits...)
		}
		dst = append(dst, digits[:len(digits)-s]...)
		dst = append(dst, '.')
		return append(dst, digits[len(digits)-s:]...)
	}
	dst = append(dst, digits[0])
	if len(digits) > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'E')
	if adjusted >= 0 {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, int64(adjusted), 10)
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
