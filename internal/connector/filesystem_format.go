package connector

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/format"
	"github.com/weir-dev/weir/internal/types"
)

// The filesystem connector's formats besides csv (filesystem.go):
//
//   - 'json': JSON lines, one object per row, through internal/format's json
//     codec and its Flink options ('json.ignore-parse-errors', ...). Blank
//     lines are skipped. Errors name the file and the line.
//   - 'parquet': Parquet files (filesystem_parquet.go).
//
// Both share the directory layout, the part-file commit and the listing of
// csv.

// fileFormats are the filesystem connector's formats.
var fileFormats = []string{"csv", "json", "parquet"}

const fileFormatList = "'csv', 'json' and 'parquet'"

// openFormatSource opens a json or parquet source.
func openFormatSource(o *options, schema types.Schema, batchSize int, mem memory.Allocator, name string) (exec.Source, error) {
	path, err := readFilePath(o)
	if err != nil {
		return nil, err
	}
	o.get("format")
	switch name {
	case "json":
		f, err := openFileJSON(o, schema)
		if err != nil {
			return nil, err
		}
		s := &jsonFileSource{table: o.table, schema: schema, format: f, dec: f.NewDecoder(),
			b: format.NewBuilder(schema, mem), batchSize: batchSize, ignoreErrors: strings.EqualFold(strings.TrimSpace(o.m["json.ignore-parse-errors"]), "true")}
		if s.files, s.opened, err = listTableFiles(o.table, path); err != nil {
			return nil, err
		}
		return s, nil
	case "parquet":
		return openParquetSource(o, path, schema, batchSize, mem)
	}
	panic("unreachable")
}

// openFormatSink opens a json or parquet sink.
func openFormatSink(o *options, schema types.Schema, overwrite bool, name string) (exec.Sink, error) {
	path, err := readFilePath(o)
	if err != nil {
		return nil, err
	}
	o.get("format")
	var newEnc func(w io.Writer) (partEncoder, error)
	switch name {
	case "json":
		f, err := openFileJSON(o, schema)
		if err != nil {
			return nil, err
		}
		newEnc = func(w io.Writer) (partEncoder, error) { return &jsonPartEncoder{w: w, enc: f.NewEncoder()}, nil }
	case "parquet":
		c, err := readParquetConfig(o, schema)
		if err != nil {
			return nil, err
		}
		newEnc = func(w io.Writer) (partEncoder, error) { return newParquetEncoder(w, schema, c) }
	}
	s, err := newFileSink(o, schema, path, overwrite)
	if err != nil {
		return nil, err
	}
	if s.enc, err = newEnc(s.w); err != nil {
		s.Abort(err)
		return nil, fmt.Errorf("table '%s': %w", o.table, err)
	}
	return s, nil
}

// openFileJSON opens the json format with the table's 'json.*' options.
func openFileJSON(o *options, schema types.Schema) (*format.Format, error) {
	f, err := format.Open("json", schema, o.get)
	var oe *format.OptionError
	if errors.As(err, &oe) {
		return nil, o.bad(oe.Key, "%s", oe.Msg)
	}
	if err != nil {
		return nil, fmt.Errorf("table '%s': filesystem %w", o.table, err)
	}
	if err := o.finish(append([]string{"path", "format"}, format.Options("json")...)); err != nil {
		return nil, err
	}
	return f, nil
}

// jsonPartEncoder writes JSON lines.
type jsonPartEncoder struct {
	w    io.Writer
	enc  format.Encoder
	line []byte
}

func (e *jsonPartEncoder) write(b arrow.RecordBatch) error {
	cols := b.Columns()
	for i := 0; i < int(b.NumRows()); i++ {
		line, err := e.enc.Append(e.line[:0], cols, i)
		if err != nil {
			return fmt.Errorf("row %d: %w", i+1, err)
		}
		e.line = append(line, '\n')
		if _, err := e.w.Write(e.line); err != nil {
			return err
		}
	}
	return nil
}

func (e *jsonPartEncoder) finish() error { return nil }

// jsonFileSource reads a table's JSON-lines files one after the other.
type jsonFileSource struct {
	table        string
	schema       types.Schema
	format       *format.Format
	dec          format.Decoder
	b            *format.Builder
	files        []string
	opened       []*os.File
	path         string // the file being read
	f            *os.File
	r            *bufio.Reader
	line         int
	batchSize    int
	ignoreErrors bool
	rows         int64
	closed       bool
	pos          filePos // where the source is (filesystem_position.go)
}

func (s *jsonFileSource) Schema() types.Schema { return s.schema }
func (s *jsonFileSource) Rows() int64          { return s.rows }

func (s *jsonFileSource) Close() error {
	s.closed = true
	s.files = nil
	for _, f := range s.opened {
		f.Close()
	}
	s.opened = nil
	if s.f != nil {
		err := s.f.Close()
		s.f, s.r = nil, nil
		return err
	}
	return nil
}

func (s *jsonFileSource) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed {
		return nil, fmt.Errorf("table '%s': source is closed", s.table)
	}
	for s.b.Len() < s.batchSize {
		if s.r == nil {
			if len(s.files) == 0 {
				break
			}
			f, path, files, opened, err := openNextFile(s.table, s.files, s.opened)
			s.files, s.opened, s.path = files, opened, path
			if err != nil {
				return nil, err
			}
			s.f, s.r, s.line = f, bufio.NewReaderSize(f, 256<<10), 0
			s.pos.enter(s.path)
		}
		raw, err := s.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: gather it whole.
			whole := append([]byte(nil), raw...)
			for errors.Is(err, bufio.ErrBufferFull) {
				raw, err = s.r.ReadSlice('\n')
				whole = append(whole, raw...)
			}
			raw = whole
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("table '%s': reading file '%s': %w", s.table, s.path, err)
		}
		if len(raw) > 0 {
			s.line++
			rec := bytes.TrimRight(raw, "\r\n")
			if len(bytes.TrimSpace(rec)) > 0 && !s.pos.skipping(s.line) {
				if derr := s.dec.Decode(rec, s.b); derr != nil {
					hint := "; fix the file, or set 'json.ignore-parse-errors' = 'true' to skip such lines"
					if s.ignoreErrors {
						hint = ""
					}
					return nil, fmt.Errorf("table '%s': file '%s' line %d: %w%s", s.table, s.path, s.line, derr, hint)
				}
			}
		}
		if err == io.EOF {
			if cerr := s.f.Close(); cerr != nil {
				return nil, fmt.Errorf("table '%s': %w", s.table, cerr)
			}
			s.f, s.r = nil, nil
		}
	}
	if s.b.Len() == 0 {
		return nil, io.EOF
	}
	n := s.b.Len()
	batch, err := s.b.Finish()
	if err != nil {
		return nil, fmt.Errorf("table '%s': file '%s': %w", s.table, s.path, err)
	}
	s.rows += int64(n)
	return batch, nil
}
