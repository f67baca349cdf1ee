// Package format encodes the rows of Arrow batches into records, one []byte
// per row, and decodes records back into rows, in Flink's row formats: json,
// csv, raw and avro. Connectors that carry one row per message or line (the
// Kafka connector, the filesystem connector's json files) use it.
//
// A format is opened by name with the table's schema and its options
// (Flink's keys, e.g. 'json.ignore-parse-errors'):
//
//	f, err := format.Open("json", schema, get)
//	enc := f.NewEncoder()          // one per goroutine
//	rec, err = enc.Append(rec[:0], batch.Columns(), row)
//	dec := f.NewDecoder()
//	b := format.NewBuilder(schema, mem)
//	err = dec.Decode(rec, b)       // appends one row, or none if skipped
//	batch, err := b.Finish()
//
// Decode errors are *RecordError values naming the field (when one is at
// fault); the caller adds where the record came from (topic, partition and
// offset; file and line). Only scalar columns are supported: ARRAY, MAP and
// ROW columns are refused when the format is opened.
//
// format imports types, exec and arrow-go.
package format

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// Names are the formats weir has, as Flink spells them.
var Names = []string{"avro", "csv", "json", "raw"}

// Encoder encodes rows. It is not safe for concurrent use.
type Encoder interface {
	// Append appends the encoding of row i of cols (the columns of the
	// format's schema, in order) to dst. A nil result with a nil error means
	// a null record (raw's NULL, a Kafka tombstone).
	Append(dst []byte, cols []arrow.Array, i int) ([]byte, error)
}

// Decoder decodes records. It is not safe for concurrent use.
type Decoder interface {
	// Decode appends the row of rec to b, or nothing when the format skips
	// the record (the ignore-parse-errors options). rec is nil for a null
	// record. Errors are *RecordError.
	Decode(rec []byte, b *Builder) error
}

// Format is an opened format: a schema and its options.
type Format struct {
	name   string
	schema types.Schema
	newEnc func() Encoder
	newDec func() Decoder
}

// Name is the format's name ('json', ...).
func (f *Format) Name() string { return f.name }

// NewEncoder returns a new encoder of the format.
func (f *Format) NewEncoder() Encoder { return f.newEnc() }

// NewDecoder returns a new decoder of the format.
func (f *Format) NewDecoder() Decoder { return f.newDec() }

// Getter returns an option of the format by its Flink key (e.g.
// 'json.fail-on-missing-field') and marks it as used.
type Getter func(key string) (string, bool)

// OptionError is a bad value of a format option.
type OptionError struct {
	Key, Value, Msg string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("format option '%s' = '%s': %s", e.Key, e.Value, e.Msg)
}

// Options returns the option keys of format name, sorted.
func Options(name string) []string {
	var keys []string
	switch name {
	case "json":
		keys = jsonOptions
	case "csv":
		keys = csvOptions
	case "avro":
		keys = avroOptions
	case "raw":
		keys = rawOptions
	}
	keys = slices.Clone(keys)
	sort.Strings(keys)
	return keys
}

// Open opens format name for rows of schema, reading its options through get.
func Open(name string, schema types.Schema, get Getter) (*Format, error) {
	if get == nil {
		get = func(string) (string, bool) { return "", false }
	}
	if !slices.Contains(Names, name) {
		return nil, fmt.Errorf("unknown format '%s'; weir's formats are %s", name, strings.Join(Names, ", "))
	}
	for _, fl := range schema {
		switch fl.Type.Kind {
		case types.Array, types.Map, types.Row, types.Null, types.Invalid:
			return nil, fmt.Errorf("format '%s' does not support column '%s' of type %s in weir; use scalar columns", name, fl.Name, fl.Type)
		}
	}
	f := &Format{name: name, schema: schema}
	var err error
	switch name {
	case "json":
		err = openJSON(f, get)
	case "csv":
		err = openCSV(f, get)
	case "raw":
		err = openRaw(f, get)
	case "avro":
		err = openAvro(f, get)
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// boolOption reads a 'true'/'false' option.
func boolOption(get Getter, key string, def bool) (bool, error) {
	v, ok := get(key)
	if !ok {
		return def, nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, &OptionError{Key: key, Value: v, Msg: "must be 'true' or 'false'"}
}

// RecordError is a record that does not decode: Field names the column at
// fault, or is "" when the record as a whole is bad.
type RecordError struct {
	Field string
	Err   error
}

func (e *RecordError) Error() string {
	if e.Field == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("field '%s': %v", e.Field, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

func recordErr(format string, args ...any) error {
	return &RecordError{Err: fmt.Errorf(format, args...)}
}

func fieldErr(field string, format string, args ...any) error {
	return &RecordError{Field: field, Err: fmt.Errorf(format, args...)}
}

// errNotNull is a NULL for a NOT NULL column.
var errNotNull = errors.New("NULL (or missing) in a NOT NULL column")

// Builder collects decoded rows into an Arrow batch of a schema.
type Builder struct {
	schema types.Schema
	arrow  *arrow.Schema
	mem    memory.Allocator
	cols   [][]any
	row    []any
	n      int
}

// NewBuilder returns an empty builder of batches of schema.
func NewBuilder(schema types.Schema, mem memory.Allocator) *Builder {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &Builder{schema: schema, arrow: schema.Arrow(), mem: mem, cols: make([][]any, len(schema)), row: make([]any, len(schema))}
}

// Len is the number of rows appended since the last Finish.
func (b *Builder) Len() int { return b.n }

// appendRow appends a row of Literal-style values (exec.BuildArray's).
func (b *Builder) appendRow(row []any) {
	for j, v := range row {
		b.cols[j] = append(b.cols[j], v)
	}
	b.n++
}

// Finish returns the rows appended so far as a batch (the caller releases
// it) and empties the builder.
func (b *Builder) Finish() (arrow.RecordBatch, error) {
	arrs := make([]arrow.Array, len(b.cols))
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	for j, vals := range b.cols {
		a, err := exec.BuildArray(b.mem, b.schema[j].Type, vals)
		if err != nil {
			return nil, fmt.Errorf("format: column '%s': %w", b.schema[j].Name, err)
		}
		arrs[j] = a
		b.cols[j] = vals[:0]
	}
	n := b.n
	b.n = 0
	return array.NewRecordBatch(b.arrow, arrs, int64(n)), nil
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	i := 60
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "..."
}
