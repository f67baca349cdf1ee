package connector

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// The filesystem connector reads and writes one CSV file, 'path', with
// 'format' = 'csv' (both required): header-less RFC 4180 records, one per
// row, fields separated by 'csv.field-delimiter' (default ','). A NULL is an
// empty unquoted field; an empty string is written "" (quoted). Values are
// written as CAST(... AS STRING) writes them, except BOOLEAN (true, false) and
// BINARY/BYTES (base64), and read back as CAST from a string reads them.
//
// The sink writes to '<path>.inprogress-<random>' and renames it to path on
// Commit; Abort deletes it, so a failed job never leaves a partial file at
// path. Flink's filesystem connector writes a directory of part files; weir
// writes (and reads) a single file.

var fileOptions = []string{"path", "format", "csv.field-delimiter"}

// csvConfig reads the options shared by the filesystem source and sink.
func csvConfig(o *options, schema types.Schema) (path string, delim byte, err error) {
	path, ok := o.get("path")
	if !ok || path == "" {
		return "", 0, o.errorf("option 'path' is required")
	}
	format, ok := o.get("format")
	if !ok {
		return "", 0, o.errorf("option 'format' is required; weir supports 'csv'")
	}
	if format != "csv" {
		return "", 0, o.bad("format", "weir's filesystem connector supports only 'csv'")
	}
	delim = ','
	if v, ok := o.get("csv.field-delimiter"); ok {
		if len(v) != 1 || v[0] == '"' || v[0] == '\n' || v[0] == '\r' {
			return "", 0, o.bad("csv.field-delimiter", "must be a single character other than '\"' and line breaks")
		}
		delim = v[0]
	}
	for _, f := range schema {
		switch f.Type.Kind {
		case types.Array, types.Map, types.Row, types.Null, types.Invalid:
			return "", 0, fmt.Errorf("table '%s': filesystem csv does not support column '%s' of type %s", o.table, f.Name, f.Type)
		}
	}
	if err := o.finish(fileOptions); err != nil {
		return "", 0, err
	}
	return path, delim, nil
}

// fileSink writes a CSV file.
type fileSink struct {
	table     string
	schema    types.Schema
	path, tmp string
	f         *os.File
	w         *bufio.Writer
	delim     byte
	line      []byte
	rows      int64
	closed    bool
}

func openFileSink(o *options, schema types.Schema) (exec.Sink, error) {
	path, delim, err := csvConfig(o, schema)
	if err != nil {
		return nil, err
	}
	s := &fileSink{table: o.table, schema: schema, path: path, delim: delim}
	for range 10 {
		s.tmp = fmt.Sprintf("%s.inprogress-%016x", path, rand.Uint64())
		s.f, err = os.OpenFile(s.tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, os.ErrExist) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("table '%s': %w", o.table, err)
	}
	s.w = bufio.NewWriterSize(s.f, 256<<10)
	return s, nil
}

func (s *fileSink) Write(ctx context.Context, b arrow.RecordBatch) error {
	if s.closed {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if int(b.NumCols()) != len(s.schema) {
		return fmt.Errorf("table '%s': batch has %d columns, the table has %d", s.table, b.NumCols(), len(s.schema))
	}
	cols := b.Columns()
	n := int(b.NumRows())
	for i := 0; i < n; i++ {
		line := s.line[:0]
		for j, c := range cols {
			if j > 0 {
				line = append(line, s.delim)
			}
			v := exec.ValueAt(c, i)
			if v == nil {
				continue
			}
			line = appendCSVField(line, csvText(v, s.schema[j].Type), s.delim)
		}
		line = append(line, '\n')
		s.line = line
		if _, err := s.w.Write(line); err != nil {
			return fmt.Errorf("table '%s': %w", s.table, err)
		}
	}
	s.rows += int64(n)
	return nil
}

// csvText formats a non-NULL value for CSV.
func csvText(v any, t types.T) string {
	switch x := v.(type) {
	case bool:
		return strconv.FormatBool(x)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	}
	s, err := exec.CastValue(v, t, types.STRING)
	if err != nil || s == nil {
		return fmt.Sprint(v)
	}
	return s.(string)
}

// appendCSVField appends a field, quoted when it is empty or holds the
// delimiter, a quote, a line break or surrounding spaces.
func appendCSVField(b []byte, s string, delim byte) []byte {
	quote := s == "" || strings.ContainsAny(s, "\"\r\n") || strings.IndexByte(s, delim) >= 0 ||
		s[0] == ' ' || s[len(s)-1] == ' '
	if !quote {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func (s *fileSink) Commit() error {
	if s.closed {
		return errClosed
	}
	s.closed = true
	err := s.w.Flush()
	if err == nil {
		err = s.f.Sync()
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(s.tmp, s.path)
	}
	if err != nil {
		os.Remove(s.tmp)
		return fmt.Errorf("table '%s': %w", s.table, err)
	}
	return nil
}

func (s *fileSink) Abort(error) {
	if s.closed {
		return
	}
	s.closed = true
	s.f.Close()
	os.Remove(s.tmp)
}

func (s *fileSink) Rows() int64 { return s.rows }

// fileSource reads a CSV file.
type fileSource struct {
	table     string
	schema    types.Schema
	arrow     *arrow.Schema
	path      string
	f         *os.File
	r         *csvReader
	mem       memory.Allocator
	batchSize int
	rows      int64
}

func openFileSource(o *options, schema types.Schema, batchSize int, mem memory.Allocator) (exec.Source, error) {
	path, delim, err := csvConfig(o, schema)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("table '%s': %w", o.table, err)
	}
	return &fileSource{
		table: o.table, schema: schema, arrow: schema.Arrow(), path: path, f: f, mem: mem, batchSize: batchSize,
		r: &csvReader{r: bufio.NewReaderSize(f, 256<<10), delim: delim, cols: len(schema)},
	}, nil
}

func (s *fileSource) Schema() types.Schema { return s.schema }
func (s *fileSource) Rows() int64          { return s.rows }

func (s *fileSource) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

func (s *fileSource) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.f == nil {
		return nil, fmt.Errorf("table '%s': source is closed", s.table)
	}
	cols := make([][]any, len(s.schema))
	n := 0
	for n < s.batchSize {
		fields, line, err := s.r.record()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("table '%s': file '%s' line %d: %w", s.table, s.path, line, err)
		}
		if len(fields) != len(s.schema) {
			return nil, fmt.Errorf("table '%s': file '%s' line %d: %d fields, the table has %d columns", s.table, s.path, line, len(fields), len(s.schema))
		}
		for j, fl := range fields {
			v, err := csvValue(fl, s.schema[j].Type)
			if err != nil {
				return nil, fmt.Errorf("table '%s': file '%s' line %d, column %d (%s): %w", s.table, s.path, line, j+1, s.schema[j].Name, err)
			}
			cols[j] = append(cols[j], v)
		}
		n++
	}
	if n == 0 {
		return nil, io.EOF
	}
	arrs := make([]arrow.Array, len(cols))
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	for j, vals := range cols {
		a, err := exec.BuildArray(s.mem, s.schema[j].Type, vals)
		if err != nil {
			return nil, fmt.Errorf("table '%s': column '%s': %w", s.table, s.schema[j].Name, err)
		}
		arrs[j] = a
	}
	s.rows += int64(n)
	return array.NewRecordBatch(s.arrow, arrs, int64(n)), nil
}

// csvValue converts a field to a value of t: an empty unquoted field is
// NULL, as is an empty quoted one for types other than strings and binaries.
func csvValue(fl csvField, t types.T) (any, error) {
	if fl.text == "" && (!fl.quoted || !t.IsString() && !t.IsBinary()) {
		if !t.Nullable {
			return nil, fmt.Errorf("NULL in a NOT NULL column")
		}
		return nil, nil
	}
	if t.IsBinary() {
		b, err := base64.StdEncoding.DecodeString(fl.text)
		if err != nil {
			return nil, fmt.Errorf("'%s' is not base64", fl.text)
		}
		return exec.CastValue(b, types.BYTES, t)
	}
	v, err := exec.CastValue(fl.text, types.STRING, t.WithNullable(true))
	if err == nil && v == nil {
		err = fmt.Errorf("'%s' does not fit %s", fl.text, plainType(t))
	}
	return v, err
}

// csvField is a field of a CSV record.
type csvField struct {
	text   string
	quoted bool
}

// csvReader reads RFC 4180 records, telling quoted fields from unquoted ones.
type csvReader struct {
	r     *bufio.Reader
	delim byte
	cols  int // a blank line is a record (one NULL) only for one column
	line  int // lines read so far
}

// record returns the next record and the line it starts on; io.EOF at the
// end. Blank lines are skipped, unless the table has one column.
func (c *csvReader) record() ([]csvField, int, error) {
	for {
		raw, err := c.r.ReadString('\n')
		if raw == "" && err != nil {
			return nil, c.line + 1, err
		}
		c.line++
		start := c.line
		text := strings.TrimSuffix(strings.TrimSuffix(raw, "\n"), "\r")
		if text == "" {
			if c.cols == 1 {
				return []csvField{{}}, start, nil
			}
			continue
		}
		var fields []csvField
		i := 0
		for {
			if i < len(text) && text[i] == '"' {
				var b strings.Builder
				i++
				for {
					if i >= len(text) {
						// The quoted field goes on on the next line.
						more, err := c.r.ReadString('\n')
						if more == "" && err != nil {
							return nil, start, fmt.Errorf("quoted field is not closed")
						}
						c.line++
						b.WriteByte('\n')
						text = strings.TrimSuffix(strings.TrimSuffix(more, "\n"), "\r")
						i = 0
						continue
					}
					if text[i] == '"' {
						if i+1 < len(text) && text[i+1] == '"' {
							b.WriteByte('"')
							i += 2
							continue
						}
						i++
						break
					}
					b.WriteByte(text[i])
					i++
				}
				fields = append(fields, csvField{text: b.String(), quoted: true})
				if i < len(text) && text[i] != c.delim {
					return nil, start, fmt.Errorf("unexpected %q after a quoted field", text[i])
				}
			} else {
				j := strings.IndexByte(text[i:], c.delim)
				if j < 0 {
					j = len(text) - i
				}
				f := text[i : i+j]
				if strings.IndexByte(f, '"') >= 0 {
					return nil, start, fmt.Errorf("quote in unquoted field %q", f)
				}
				fields = append(fields, csvField{text: f})
				i += j
			}
			if i >= len(text) {
				return fields, start, nil
			}
			i++ // the delimiter
			if i == len(text) {
				return append(fields, csvField{}), start, nil
			}
		}
	}
}
