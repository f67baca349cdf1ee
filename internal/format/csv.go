package format

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// The csv format: a record is one CSV line (no line break at the end) of
// the row's fields, as weir's filesystem CSV writes them: fields quoted when
// they hold the delimiter, a quote, a line break or edge spaces, and empty
// strings quoted (""); NULL is an empty unquoted field (or
// 'csv.null-literal'); BINARY/BYTES are base64; DECIMAL as Flink writes it
// (1E-8, 1E+2: Java's notation without trailing zeros); the temporal types
// as in text.go. Reading takes an empty unquoted field as NULL, and an
// empty quoted one too for types other than strings and binaries (Flink
// writes both NULL and '' as an empty field, and reads an empty field as ''
// for strings: weir keeps the two apart).
//
// Options (Flink's): csv.field-delimiter (','), csv.quote-character ('"'),
// csv.disable-quote-character (false), csv.null-literal (none),
// csv.ignore-parse-errors (false: a field that does not parse fails the
// record; true: it reads as NULL, and a record with the wrong number of
// fields or broken quoting is skipped), csv.allow-comments (false: true
// skips records starting with '#'), csv.escape-character (none; a character
// that makes the next one literal inside a field).
// 'csv.array-element-delimiter' and
// 'csv.write-bigdecimal-in-scientific-notation' are accepted (weir writes
// DECIMAL plain and has no array columns in formats).

var csvOptions = []string{
	"csv.field-delimiter", "csv.quote-character", "csv.disable-quote-character", "csv.null-literal",
	"csv.ignore-parse-errors", "csv.allow-comments", "csv.escape-character",
	"csv.array-element-delimiter", "csv.write-bigdecimal-in-scientific-notation",
}

type csvConfig struct {
	schema       types.Schema
	delim        byte
	quote        byte // 0: no quoting
	escape       byte // 0: none
	null         string
	hasNull      bool
	ignoreErrors bool
	comments     bool
}

func singleChar(get Getter, key string, def byte) (byte, error) {
	v, ok := get(key)
	if !ok {
		return def, nil
	}
	v = strings.ReplaceAll(v, `\t`, "\t")
	if len(v) != 1 || v[0] == '\n' || v[0] == '\r' {
		return 0, &OptionError{Key: key, Value: v, Msg: "must be a single character other than a line break"}
	}
	return v[0], nil
}

func openCSV(f *Format, get Getter) error {
	c := &csvConfig{schema: f.schema}
	var err error
	if c.delim, err = singleChar(get, "csv.field-delimiter", ','); err != nil {
		return err
	}
	if c.quote, err = singleChar(get, "csv.quote-character", '"'); err != nil {
		return err
	}
	disable, err := boolOption(get, "csv.disable-quote-character", false)
	if err != nil {
		return err
	}
	if disable {
		c.quote = 0
	}
	if c.escape, err = singleChar(get, "csv.escape-character", 0); err != nil {
		return err
	}
	if c.quote != 0 && c.quote == c.delim {
		return &OptionError{Key: "csv.quote-character", Value: string(c.quote), Msg: "must differ from 'csv.field-delimiter'"}
	}
	c.null, c.hasNull = get("csv.null-literal")
	if c.ignoreErrors, err = boolOption(get, "csv.ignore-parse-errors", false); err != nil {
		return err
	}
	if c.comments, err = boolOption(get, "csv.allow-comments", false); err != nil {
		return err
	}
	get("csv.array-element-delimiter")
	if _, err := boolOption(get, "csv.write-bigdecimal-in-scientific-notation", true); err != nil {
		return err
	}
	f.newEnc = func() Encoder { return &csvEncoder{c: c} }
	f.newDec = func() Decoder { return &csvDecoder{c: c, row: make([]any, len(c.schema))} }
	return nil
}

type csvEncoder struct {
	c     *csvConfig
	field []byte
}

func (e *csvEncoder) Append(dst []byte, cols []arrow.Array, i int) ([]byte, error) {
	if dst == nil {
		dst = []byte{}
	}
	for j, col := range cols {
		if j > 0 {
			dst = append(dst, e.c.delim)
		}
		v := exec.ValueAt(col, i)
		if v == nil {
			if e.c.hasNull {
				dst = append(dst, e.c.null...)
			}
			continue
		}
		if b, ok := v.([]byte); ok {
			e.field = base64.StdEncoding.AppendEncode(e.field[:0], b)
		} else if d, ok := v.(decimal128.Num); ok {
			e.field = appendJavaDecimal(e.field[:0], d, e.c.schema[j].Type.Scale, false)
		} else {
			e.field = appendText(e.field[:0], v, e.c.schema[j].Type, standardSQL)
		}
		dst = e.c.appendField(dst, e.field)
	}
	return dst, nil
}

// appendField appends a field, quoted when it must be.
func (c *csvConfig) appendField(dst, s []byte) []byte {
	needs := len(s) == 0 || s[0] == ' ' || s[len(s)-1] == ' ' || (c.hasNull && string(s) == c.null) || c.comments && s[0] == '#'
	for _, b := range s {
		if b == c.delim || b == '\n' || b == '\r' || c.quote != 0 && b == c.quote || c.escape != 0 && b == c.escape {
			needs = true
			break
		}
	}
	if !needs {
		return append(dst, s...)
	}
	if c.quote == 0 {
		// Without quoting, special characters are escaped, or (with no
		// escape character either) written as they are, as Flink does.
		for _, b := range s {
			if c.escape != 0 && (b == c.delim || b == c.escape) {
				dst = append(dst, c.escape)
			}
			dst = append(dst, b)
		}
		return dst
	}
	dst = append(dst, c.quote)
	for _, b := range s {
		if b == c.quote {
			dst = append(dst, c.quote)
		} else if c.escape != 0 && b == c.escape {
			dst = append(dst, c.escape)
		}
		dst = append(dst, b)
	}
	return append(dst, c.quote)
}

type csvDecoder struct {
	c      *csvConfig
	fields []csvField
	row    []any
}

type csvField struct {
	text   string
	quoted bool
}

func (d *csvDecoder) Decode(rec []byte, b *Builder) error {
	if rec == nil {
		return nil // a tombstone
	}
	s := string(rec)
	s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
	if d.c.comments && strings.HasPrefix(s, "#") {
		return nil
	}
	var fields []csvField
	var err error
	if !utf8.ValidString(s) {
		err = recordErr("the record is not UTF-8 text")
	} else {
		fields, err = d.split(s)
	}
	if err == nil && len(fields) != len(d.c.schema) {
		err = recordErr("the record has %d fields, the table has %d columns", len(fields), len(d.c.schema))
	}
	if err != nil {
		if d.c.ignoreErrors {
			return nil
		}
		return err
	}
	for j, fl := range d.c.schema {
		v, err := d.value(fields[j], fl.Type)
		if err == errNotNull {
			if d.c.ignoreErrors {
				return nil
			}
			return &RecordError{Field: fl.Name, Err: err}
		}
		if err != nil {
			if !d.c.ignoreErrors {
				return &RecordError{Field: fl.Name, Err: err}
			}
			if !fl.Type.Nullable {
				return nil
			}
			v = nil
		}
		d.row[j] = v
	}
	b.appendRow(d.row)
	return nil
}

func (d *csvDecoder) value(f csvField, t types.T) (any, error) {
	if f.text == "" && (!f.quoted || !t.IsString() && !t.IsBinary()) || !f.quoted && d.c.hasNull && f.text == d.c.null {
		if !t.Nullable {
			return nil, errNotNull
		}
		return nil, nil
	}
	if t.IsBinary() {
		b, err := base64.StdEncoding.DecodeString(f.text)
		if err != nil {
			return nil, fmt.Errorf("'%s' is not base64", clip(f.text))
		}
		return b, nil
	}
	return parseText(f.text, t, standardSQL)
}

// split splits a record into fields.
func (d *csvDecoder) split(s string) ([]csvField, error) {
	c := d.c
	fields := d.fields[:0]
	var b strings.Builder
	i := 0
	for {
		b.Reset()
		quoted := false
		if c.quote != 0 && i < len(s) && s[i] == c.quote {
			quoted = true
			i++
			closed := false
			for i < len(s) {
				ch := s[i]
				switch {
				case c.escape != 0 && ch == c.escape && i+1 < len(s):
					b.WriteByte(s[i+1])
					i += 2
					continue
				case ch == c.quote && i+1 < len(s) && s[i+1] == c.quote:
					b.WriteByte(ch)
					i += 2
					continue
				case ch == c.quote:
					closed = true
					i++
				default:
					b.WriteByte(ch)
					i++
					continue
				}
				break
			}
			if !closed {
				return nil, &RecordError{Err: fmt.Errorf("field %d: quoted field is not closed", len(fields)+1)}
			}
			if i < len(s) && s[i] != c.delim {
				return nil, &RecordError{Err: fmt.Errorf("field %d: unexpected %q after a quoted field", len(fields)+1, s[i])}
			}
		} else {
			for i < len(s) && s[i] != c.delim {
				if c.escape != 0 && s[i] == c.escape && i+1 < len(s) {
					i++
				} else if c.quote != 0 && s[i] == c.quote {
					return nil, &RecordError{Err: fmt.Errorf("field %d: quote in an unquoted field", len(fields)+1)}
				}
				b.WriteByte(s[i])
				i++
			}
		}
		fields = append(fields, csvField{text: b.String(), quoted: quoted})
		if i >= len(s) {
			break
		}
		i++ // the delimiter
	}
	d.fields = fields
	return fields, nil
}
