package format

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// The avro format: a record is the plain Avro binary encoding (no header,
// no schema registry) of a row under the Avro schema Flink derives from the
// table's row type (AvroSchema): a record "record" of the columns in order,
// a nullable column as the union ["null", type]; BOOLEAN boolean, TINYINT,
// SMALLINT and INT int, BIGINT long, FLOAT float, DOUBLE double, strings
// string, binaries bytes, DECIMAL(p,s) bytes with logical type decimal, DATE
// int (date), TIME int (time-millis), TIMESTAMP(p<=3) and TIMESTAMP_LTZ
// long (timestamp-millis), TIMESTAMP(4..6) long (timestamp-micros).
//
// 'avro.encoding' = 'binary' is the only encoding weir has ('json' is
// refused); 'avro.codec' is for files and is refused.

var avroOptions = []string{"avro.encoding", "avro.timestamp_mapping.legacy"}

func openAvro(f *Format, get Getter) error {
	if v, ok := get("avro.encoding"); ok && !strings.EqualFold(v, "binary") {
		return &OptionError{Key: "avro.encoding", Value: v, Msg: "weir writes and reads Avro's binary encoding only ('binary')"}
	}
	if _, err := boolOption(get, "avro.timestamp_mapping.legacy", true); err != nil {
		return err
	}
	for _, fl := range f.schema {
		if (fl.Type.Kind == types.Timestamp || fl.Type.Kind == types.TimestampLTZ) && fl.Type.Precision > 6 {
			return fmt.Errorf("format 'avro' cannot carry column '%s' of type %s: Avro timestamps hold at most microseconds; declare it TIMESTAMP(6) or less", fl.Name, fl.Type)
		}
	}
	schema := f.schema
	f.newEnc = func() Encoder { return &avroEncoder{schema: schema} }
	f.newDec = func() Decoder { return &avroDecoder{schema: schema, row: make([]any, len(schema))} }
	return nil
}

// AvroSchema returns the Avro schema (JSON) of rows of schema, as Flink
// derives it.
func AvroSchema(schema types.Schema) string {
	var b strings.Builder
	b.WriteString(`{"type":"record","name":"record","fields":[`)
	for i, fl := range schema {
		if i > 0 {
			b.WriteByte(',')
		}
		t := avroType(fl.Type)
		if fl.Type.Nullable {
			t = `["null",` + t + `]`
		}
		fmt.Fprintf(&b, `{"name":%s,"type":%s`, appendJSONString(nil, fl.Name), t)
		if fl.Type.Nullable {
			b.WriteString(`,"default":null`)
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return b.String()
}

func avroType(t types.T) string {
	switch t.Kind {
	case types.Boolean:
		return `"boolean"`
	case types.TinyInt, types.SmallInt, types.Int:
		return `"int"`
	case types.BigInt:
		return `"long"`
	case types.Float:
		return `"float"`
	case types.Double:
		return `"double"`
	case types.Char, types.Varchar:
		return `"string"`
	case types.Binary, types.Varbinary:
		return `"bytes"`
	case types.Decimal:
		return fmt.Sprintf(`{"type":"bytes","logicalType":"decimal","precision":%d,"scale":%d}`, t.Precision, t.Scale)
	case types.Date:
		return `{"type":"int","logicalType":"date"}`
	case types.Time:
		return `{"type":"int","logicalType":"time-millis"}`
	case types.Timestamp, types.TimestampLTZ:
		if t.Precision <= 3 {
			return `{"type":"long","logicalType":"timestamp-millis"}`
		}
		return `{"type":"long","logicalType":"timestamp-micros"}`
	}
	return `"null"`
}

type avroEncoder struct{ schema types.Schema }

func (e *avroEncoder) Append(dst []byte, cols []arrow.Array, i int) ([]byte, error) {
	if dst == nil {
		dst = []byte{}
	}
	for j, col := range cols {
		t := e.schema[j].Type
		v := exec.ValueAt(col, i)
		if t.Nullable {
			if v == nil {
				dst = append(dst, 0) // union branch 0: null
				continue
			}
			dst = append(dst, 2) // branch 1, zigzag
		} else if v == nil {
			return nil, fmt.Errorf("column '%s': NULL in a NOT NULL column", e.schema[j].Name)
		}
		switch x := v.(type) {
		case bool:
			if x {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
		case int8:
			dst = binary.AppendVarint(dst, int64(x))
		case int16:
			dst = binary.AppendVarint(dst, int64(x))
		case int32:
			dst = binary.AppendVarint(dst, int64(x))
		case int64:
			dst = binary.AppendVarint(dst, x)
		case float32:
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(x))
		case float64:
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(x))
		case string:
			dst = binary.AppendVarint(dst, int64(len(x)))
			dst = append(dst, x...)
		case []byte:
			dst = binary.AppendVarint(dst, int64(len(x)))
			dst = append(dst, x...)
		case decimal128.Num:
			b := twosComplement(x.BigInt())
			dst = binary.AppendVarint(dst, int64(len(b)))
			dst = append(dst, b...)
		case arrow.Date32:
			dst = binary.AppendVarint(dst, int64(x))
		case arrow.Time32:
			dst = binary.AppendVarint(dst, int64(x))
		case arrow.Timestamp:
			dst = binary.AppendVarint(dst, int64(x)) // weir's units are Avro's: ms for p<=3, us for p<=6
		default:
			return nil, fmt.Errorf("column '%s': no Avro encoding for %T", e.schema[j].Name, v)
		}
	}
	return dst, nil
}

// twosComplement is the shortest big-endian two's complement of n.
func twosComplement(n *big.Int) []byte {
	if n.Sign() >= 0 {
		b := n.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -n-1, bits inverted.
	m := new(big.Int).Neg(n)
	m.Sub(m, big.NewInt(1))
	b := m.Bytes()
	for i := range b {
		b[i] = ^b[i]
	}
	if len(b) == 0 || b[0]&0x80 == 0 {
		b = append([]byte{0xff}, b...)
	}
	return b
}

func fromTwosComplement(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return n
}

type avroDecoder struct {
	schema types.Schema
	row    []any
}

var errAvroShort = errors.New("the record ends early")

func (d *avroDecoder) Decode(rec []byte, b *Builder) error {
	if rec == nil {
		return nil // a tombstone
	}
	p := rec
	long := func() (int64, error) {
		v, n := binary.Varint(p)
		if n <= 0 {
			if n == 0 {
				return 0, errAvroShort
			}
			return 0, errors.New("a varint overflows 64 bits")
		}
		p = p[n:]
		return v, nil
	}
	take := func(n int64) ([]byte, error) {
		if n < 0 || n > int64(len(p)) {
			if n < 0 {
				return nil, fmt.Errorf("negative length %d", n)
			}
			return nil, errAvroShort
		}
		out := p[:n]
		p = p[n:]
		return out, nil
	}
	for j, fl := range d.schema {
		t := fl.Type
		fail := func(err error) error { return &RecordError{Field: fl.Name, Err: err} }
		if t.Nullable {
			branch, err := long()
			if err != nil {
				return fail(err)
			}
			if branch == 0 {
				d.row[j] = nil
				continue
			}
			if branch != 1 {
				return fail(fmt.Errorf("union branch %d of [\"null\", %s] does not exist", branch, strings.Trim(avroType(t), `"`)))
			}
		}
		var v any
		switch t.Kind {
		case types.Boolean:
			bs, err := take(1)
			if err != nil {
				return fail(err)
			}
			if bs[0] > 1 {
				return fail(fmt.Errorf("boolean byte 0x%02x is not 0 or 1", bs[0]))
			}
			v = bs[0] == 1
		case types.TinyInt, types.SmallInt, types.Int, types.BigInt, types.Date, types.Time, types.Timestamp, types.TimestampLTZ:
			n, err := long()
			if err != nil {
				return fail(err)
			}
			v, err = avroInt(n, t)
			if err != nil {
				return fail(err)
			}
		case types.Float:
			bs, err := take(4)
			if err != nil {
				return fail(err)
			}
			v = math.Float32frombits(binary.LittleEndian.Uint32(bs))
		case types.Double:
			bs, err := take(8)
			if err != nil {
				return fail(err)
			}
			v = math.Float64frombits(binary.LittleEndian.Uint64(bs))
		case types.Char, types.Varchar, types.Binary, types.Varbinary, types.Decimal:
			n, err := long()
			if err != nil {
				return fail(err)
			}
			bs, err := take(n)
			if err != nil {
				return fail(err)
			}
			switch {
			case t.IsString():
				if !utf8.Valid(bs) {
					return fail(errors.New("the string is not UTF-8"))
				}
				v = string(bs)
			case t.IsBinary():
				v = append([]byte(nil), bs...)
			default:
				n := fromTwosComplement(bs)
				if n.BitLen() > 127 || !decimal128.FromBigInt(n).FitsInPrecision(int32(t.Precision)) {
					return fail(fmt.Errorf("the unscaled value %s does not fit %s", n, plainType(t)))
				}
				v = decimal128.FromBigInt(n)
			}
		}
		d.row[j] = v
	}
	if len(p) != 0 {
		return recordErr("%d bytes are left after the last field: the record was written with another schema than the table's (%s)", len(p), clip(AvroSchema(d.schema)))
	}
	b.appendRow(d.row)
	return nil
}

// avroInt converts an Avro int or long to a value of t, checking its range.
func avroInt(n int64, t types.T) (any, error) {
	in := func(lo, hi int64) error {
		if n < lo || n > hi {
			return fmt.Errorf("%d is out of the range of %s", n, plainType(t))
		}
		return nil
	}
	switch t.Kind {
	case types.TinyInt:
		return int8(n), in(math.MinInt8, math.MaxInt8)
	case types.SmallInt:
		return int16(n), in(math.MinInt16, math.MaxInt16)
	case types.Int:
		return int32(n), in(math.MinInt32, math.MaxInt32)
	case types.Date:
		return arrow.Date32(n), in(math.MinInt32, math.MaxInt32)
	case types.Time:
		return arrow.Time32(n), in(0, 86400_000-1)
	case types.Timestamp, types.TimestampLTZ:
		return arrow.Timestamp(n), nil
	}
	return n, nil
}
