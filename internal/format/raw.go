package format

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// The raw format: a record is the bytes of the table's one column, a STRING
// (UTF-8) or BYTES column, as in Flink. NULL is a null record (a Kafka
// tombstone) both ways. 'raw.charset' must be UTF-8 (weir's only charset);
// 'raw.endianness' (big-endian, little-endian) is accepted and checked: it
// matters only for numeric columns, which weir's raw does not take.

var rawOptions = []string{"raw.charset", "raw.endianness"}

func openRaw(f *Format, get Getter) error {
	if len(f.schema) != 1 {
		return fmt.Errorf("format 'raw' needs a table of exactly one column (STRING or BYTES), not %d", len(f.schema))
	}
	t := f.schema[0].Type
	if !t.IsString() && !t.IsBinary() {
		return fmt.Errorf("format 'raw' reads and writes column '%s' of type %s; weir's raw takes STRING or BYTES columns: declare it so and CAST in the query", f.schema[0].Name, t)
	}
	if v, ok := get("raw.charset"); ok && !strings.EqualFold(strings.ReplaceAll(v, "-", ""), "utf8") {
		return &OptionError{Key: "raw.charset", Value: v, Msg: "weir supports only 'UTF-8'"}
	}
	if v, ok := get("raw.endianness"); ok && v != "big-endian" && v != "little-endian" {
		return &OptionError{Key: "raw.endianness", Value: v, Msg: "must be 'big-endian' or 'little-endian'"}
	}
	f.newEnc = func() Encoder { return rawEncoder{} }
	f.newDec = func() Decoder { return &rawDecoder{schema: f.schema, row: make([]any, 1)} }
	return nil
}

type rawEncoder struct{}

func (rawEncoder) Append(dst []byte, cols []arrow.Array, i int) ([]byte, error) {
	if dst == nil {
		dst = []byte{} // an empty value is not a null record
	}
	switch v := exec.ValueAt(cols[0], i).(type) {
	case string:
		return append(dst, v...), nil
	case []byte:
		return append(dst, v...), nil
	}
	return nil, nil
}

type rawDecoder struct {
	schema types.Schema
	row    []any
}

func (d *rawDecoder) Decode(rec []byte, b *Builder) error {
	t := d.schema[0].Type
	switch {
	case rec == nil && !t.Nullable:
		return &RecordError{Field: d.schema[0].Name, Err: errNotNull}
	case rec == nil:
		d.row[0] = nil
	case t.IsString():
		d.row[0] = strings.ToValidUTF8(string(rec), "\ufffd")
	default:
		d.row[0] = append([]byte(nil), rec...)
	}
	b.appendRow(d.row)
	return nil
}
