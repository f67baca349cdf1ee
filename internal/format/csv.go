package format

import (
	"encoding/base64"
	"fmt"
	"slices"
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
// as in text.go. Reading takes an empty unquoted field of a string or binary
// column as NULL (Flink writes both NULL and '' as an empty field, and
// reads an empty field as '' for strings: weir keeps the two apart); an
// empty field of another type fails the record, as in Flink. With a
// 'csv.null-literal' NULL is that text, quoted or not, and nothing else
// (as in Flink). CSVOptions holds the options for the filesystem connector
// too.
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

// CSVOptions are Flink's csv.* options, as both the csv format (Kafka and
// other message connectors) and the filesystem connector's csv files read
// them, so the two cannot differ in what an option means.
type CSVOptions struct {
	Delim        byte   // csv.field-delimiter
	Quote        byte   // csv.quote-character; 0: quoting disabled
	Escape       byte   // csv.escape-character; 0: none
	Null         string // csv.null-literal, when HasNull
	HasNull      bool
	IgnoreErrors bool // csv.ignore-parse-errors
	Comments     bool // csv.allow-comments: lines starting with '#' are skipped
}

// CSVOptionKeys are the csv format's option keys.
func CSVOptionKeys() []string { return slices.Clone(csvOptions) }

// ParseCSVOptions reads the csv.* options through get (unset ones take
// Flink's defaults) and checks them.
func ParseCSVOptions(get Getter) (CSVOptions, error) {
	var c CSVOptions
	var err error
	if c.Delim, err = singleChar(get, "csv.field-delimiter", ','); err != nil {
		return c, err
	}
	if c.Quote, err = singleChar(get, "csv.quote-character", '"'); err != nil {
		return c, err
	}
	disable, err := boolOption(get, "csv.disable-quote-character", false)
	if err != nil {
		return c, err
	}
	if disable {
		c.Quote = 0
	}
	if c.Escape, err = singleChar(get, "csv.escape-character", 0); err != nil {
		return c, err
	}
	if c.Quote != 0 && c.Quote == c.Delim {
		return c, &OptionError{Key: "csv.quote-character", Value: string(c.Quote), Msg: "must differ from 'csv.field-delimiter'"}
	}
	if c.Escape != 0 && (c.Escape == c.Delim || c.Escape == c.Quote) {
		return c, &OptionError{Key: "csv.escape-character", Value: string(c.Escape), Msg: "must differ from 'csv.field-delimiter' and 'csv.quote-character'"}
	}
	c.Null, c.HasNull = get("csv.null-literal")
	if c.IgnoreErrors, err = boolOption(get, "csv.ignore-parse-errors", false); err != nil {
		return c, err
	}
	if c.Comments, err = boolOption(get, "csv.allow-comments", false); err != nil {
		return c, err
	}
	get("csv.array-element-delimiter")
	if _, err := boolOption(get, "csv.write-bigdecimal-in-scientific-notation", true); err != nil {
		return c, err
	}
	return c, nil
}

// IsNull reports whether a field reads as NULL for a column of type t: a
// field equal to the null literal (quoted or not, as in Flink), and without
// a null literal an empty unquoted field of a string or binary column (weir
// writes an empty string as "", so the two stay apart; Flink reads both as
// ”). An empty field of another type is not NULL but a parse error (see
// EmptyFieldError), as in Flink.
func (c *CSVOptions) IsNull(text string, quoted bool, t types.T) bool {
	if c.HasNull {
		return text == c.Null
	}
	return text == "" && !quoted && (t.IsString() || t.IsBinary())
}

// EmptyFieldError is the error of an empty field in a column of type t,
// which is neither a string nor a binary (Flink fails on it too).
func (c *CSVOptions) EmptyFieldError(t types.T) error {
	if c.HasNull {
		return fmt.Errorf("empty field in a column of type %s (NULL is '%s' by 'csv.null-literal')", t.WithNullable(true), c.Null)
	}
	return fmt.Errorf("empty field in a column of type %s (Flink fails on it too); write NULL as a 'csv.null-literal' such as 'NULL' and set that option", t.WithNullable(true))
}

type csvConfig struct {
	CSVOptions
	schema types.Schema
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
	o, err := ParseCSVOptions(get)
	if err != nil {
		return err
	}
	c := &csvConfig{CSVOptions: o, schema: f.schema}
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
			dst = append(dst, e.c.Delim)
		}
		v := exec.ValueAt(col, i)
		if v == nil {
			if e.c.HasNull {
				dst = append(dst, e.c.Null...)
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
		dst = e.c.AppendField(dst, e.field)
	}
	return dst, nil
}

// AppendField appends a field as Flink writes it: quoted when it is empty
// (where Flink writes nothing) or holds the delimiter, the quote or escape
// character or a line break, has edge spaces or, with comments allowed,
// starts with '#'; inside quotes a quote is doubled and the escape character
// escaped. Without quoting it is written as it is.
func (c *CSVOptions) AppendField(dst, s []byte) []byte {
	needs := len(s) == 0 || s[0] == ' ' || s[len(s)-1] == ' ' || c.Comments && s[0] == '#'
	for _, b := range s {
		if b == c.Delim || b == '\n' || b == '\r' || c.Quote != 0 && b == c.Quote || c.Escape != 0 && b == c.Escape {
			needs = true
			break
		}
	}
	if !needs {
		return append(dst, s...)
	}
	if c.Quote == 0 {
		// Without quoting, a field is written as it is, as Flink does
		// (even with an escape character).
		return append(dst, s...)
	}
	dst = append(dst, c.Quote)
	for _, b := range s {
		if b == c.Quote {
			dst = append(dst, c.Quote)
		} else if c.Escape != 0 && b == c.Escape {
			dst = append(dst, c.Escape)
		}
		dst = append(dst, b)
	}
	return append(dst, c.Quote)
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
	if d.c.Comments && strings.HasPrefix(s, "#") {
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
		if d.c.IgnoreErrors {
			return nil
		}
		return err
	}
	for j, fl := range d.c.schema {
		v, err := d.value(fields[j], fl.Type)
		if err == errNotNull {
			if d.c.IgnoreErrors {
				return nil
			}
			return &RecordError{Field: fl.Name, Err: err}
		}
		if err != nil {
			if !d.c.IgnoreErrors {
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
	if d.c.IsNull(f.text, f.quoted, t) {
		if !t.Nullable {
			return nil, errNotNull
		}
		return nil, nil
	}
	if f.text == "" && !t.IsString() && !t.IsBinary() {
		return nil, d.c.EmptyFieldError(t)
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
		if c.Quote != 0 && i < len(s) && s[i] == c.Quote {
			quoted = true
			i++
			closed := false
			for i < len(s) {
				ch := s[i]
				switch {
				case c.Escape != 0 && ch == c.Escape && i+1 < len(s):
					b.WriteByte(s[i+1])
					i += 2
					continue
				case ch == c.Quote && i+1 < len(s) && s[i+1] == c.Quote:
					b.WriteByte(ch)
					i += 2
					continue
				case ch == c.Quote:
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
			if i < len(s) && s[i] != c.Delim {
				return nil, &RecordError{Err: fmt.Errorf("field %d: unexpected %q after a quoted field", len(fields)+1, s[i])}
			}
		} else {
			for i < len(s) && s[i] != c.Delim {
				if c.Escape != 0 && s[i] == c.Escape && i+1 < len(s) {
					i++
				} else if c.Quote != 0 && s[i] == c.Quote {
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
