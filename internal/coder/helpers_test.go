package coder

// Test helpers: a parser of Flink type strings, the JSON value notation of
// testdata/rows/README.md, Arrow arrays built with arrow-go's builders and
// read back with its getters, a slow value-at-a-time reference encoder, and
// random types and values.
//
// Values are held in EncodeValues' representation: int8, int16, int32, int64,
// bool, float32, float64, decimal128.Num, string, []byte, arrow.Date32,
// arrow.Time32, arrow.Timestamp, []any (ARRAY, ROW), [][2]any (MAP), nil.

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/weir-dev/weir/internal/types"
)

// ---- type strings ----

type typeParser struct {
	s   string
	pos int
}

// parseType parses a type as types.T.String renders it.
func parseType(s string) (types.T, error) {
	p := &typeParser{s: s}
	t, err := p.typ()
	if err != nil {
		return types.T{}, err
	}
	if p.pos != len(p.s) {
		return types.T{}, fmt.Errorf("type %q: trailing %q", s, p.s[p.pos:])
	}
	if t.String() != s {
		return types.T{}, fmt.Errorf("type %q renders as %q", s, t.String())
	}
	return t, nil
}

func (p *typeParser) skipSpace() {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
}

func (p *typeParser) word() string {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] >= 'A' && p.s[p.pos] <= 'Z' || p.s[p.pos] == '_') {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *typeParser) peek(c byte) bool {
	p.skipSpace()
	return p.pos < len(p.s) && p.s[p.pos] == c
}

func (p *typeParser) expect(c byte) error {
	if !p.peek(c) {
		return fmt.Errorf("type %q: want %q at %d", p.s, c, p.pos)
	}
	p.pos++
	return nil
}

func (p *typeParser) int() (int, error) {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	return strconv.Atoi(p.s[start:p.pos])
}

// params parses "(a)" or "(a, b)".
func (p *typeParser) params(n int) ([]int, error) {
	if err := p.expect('('); err != nil {
		return nil, err
	}
	var out []int
	for i := range n {
		if i > 0 {
			if err := p.expect(','); err != nil {
				return nil, err
			}
		}
		v, err := p.int()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, p.expect(')')
}

func (p *typeParser) typ() (types.T, error) {
	w := p.word()
	var t types.T
	var err error
	one := func(f func(int) types.T) {
		var ps []int
		if ps, err = p.params(1); err == nil {
			t = f(ps[0])
		}
	}
	switch w {
	case "TINYINT":
		t = types.TINYINT
	case "SMALLINT":
		t = types.SMALLINT
	case "INT":
		t = types.INT
	case "BIGINT":
		t = types.BIGINT
	case "BOOLEAN":
		t = types.BOOLEAN
	case "FLOAT":
		t = types.FLOAT
	case "DOUBLE":
		t = types.DOUBLE
	case "STRING":
		t = types.STRING
	case "BYTES":
		t = types.BYTES
	case "DATE":
		t = types.DATE
	case "NULL":
		t = types.NULL
	case "DECIMAL":
		var ps []int
		if ps, err = p.params(2); err == nil {
			t = types.DECIMAL(ps[0], ps[1])
		}
	case "CHAR":
		one(types.CHAR)
	case "VARCHAR":
		one(types.VARCHAR)
	case "BINARY":
		one(types.BINARY)
	case "VARBINARY":
		one(types.VARBINARY)
	case "TIME":
		one(types.TIME)
	case "TIMESTAMP":
		one(types.TIMESTAMP)
	case "TIMESTAMP_LTZ":
		one(types.TIMESTAMP_LTZ)
	case "ARRAY":
		if err = p.expect('<'); err != nil {
			break
		}
		var e types.T
		if e, err = p.typ(); err != nil {
			break
		}
		t = types.ARRAY(e)
		err = p.expect('>')
	case "MAP":
		if err = p.expect('<'); err != nil {
			break
		}
		var k, v types.T
		if k, err = p.typ(); err != nil {
			break
		}
		if err = p.expect(','); err != nil {
			break
		}
		if v, err = p.typ(); err != nil {
			break
		}
		t = types.MAP(k, v)
		err = p.expect('>')
	case "ROW":
		if err = p.expect('<'); err != nil {
			break
		}
		var fields []types.Field
		for !p.peek('>') {
			if len(fields) > 0 {
				if err = p.expect(','); err != nil {
					return t, err
				}
			}
			if err = p.expect('`'); err != nil {
				return t, err
			}
			var name strings.Builder
			for {
				if p.pos >= len(p.s) {
					return t, fmt.Errorf("type %q: unterminated name", p.s)
				}
				c := p.s[p.pos]
				p.pos++
				if c == '`' {
					if p.pos < len(p.s) && p.s[p.pos] == '`' {
						p.pos++
						name.WriteByte('`')
						continue
					}
					break
				}
				name.WriteByte(c)
			}
			var ft types.T
			if ft, err = p.typ(); err != nil {
				return t, err
			}
			fields = append(fields, types.Field{Name: name.String(), Type: ft})
		}
		p.pos++
		t = types.ROW(fields...)
	default:
		return t, fmt.Errorf("type %q: unknown %q at %d", p.s, w, p.pos)
	}
	if err != nil {
		return t, err
	}
	save := p.pos
	if p.word() == "NOT" {
		if p.word() != "NULL" {
			return t, fmt.Errorf("type %q: NOT without NULL", p.s)
		}
		t = t.NotNull()
	} else {
		p.pos = save
	}
	return t, nil
}

func mustTypes(t testing.TB, ss ...string) []types.T {
	t.Helper()
	out := make([]types.T, len(ss))
	for i, s := range ss {
		ty, err := parseType(s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = ty
	}
	return out
}

// ---- JSON notation ----

const (
	tsLayout   = "2006-01-02T15:04:05.000000000"
	dateLayout = "2006-01-02"
)

// fromJSON converts a value in the JSON notation (decoded with UseNumber) to
// a Go value of type t.
func fromJSON(t types.T, j any) (any, error) {
	if j == nil {
		return nil, nil
	}
	bad := func() (any, error) { return nil, fmt.Errorf("JSON value %v (%T) is not a %s", j, j, t) }
	switch t.Kind {
	case types.TinyInt, types.SmallInt, types.Int, types.BigInt:
		n, ok := j.(json.Number)
		if !ok {
			return bad()
		}
		size := map[types.Kind]int{types.TinyInt: 8, types.SmallInt: 16, types.Int: 32, types.BigInt: 64}[t.Kind]
		v, err := strconv.ParseInt(string(n), 10, size)
		if err != nil {
			return nil, err
		}
		switch t.Kind {
		case types.TinyInt:
			return int8(v), nil
		case types.SmallInt:
			return int16(v), nil
		case types.Int:
			return int32(v), nil
		}
		return v, nil
	case types.Boolean:
		if b, ok := j.(bool); ok {
			return b, nil
		}
	case types.Float, types.Double:
		var f float64
		switch x := j.(type) {
		case json.Number:
			var err error
			if f, err = strconv.ParseFloat(string(x), 64); err != nil {
				return nil, err
			}
		case string:
			switch x {
			case "NaN":
				f = math.Float64frombits(0x7ff8000000000000)
			case "Infinity":
				f = math.Inf(1)
			case "-Infinity":
				f = math.Inf(-1)
			case "-0.0":
				f = math.Copysign(0, -1)
			default:
				return bad()
			}
		default:
			return bad()
		}
		if t.Kind == types.Double {
			return f, nil
		}
		if f != f {
			return math.Float32frombits(0x7fc00000), nil
		}
		if f32 := float32(f); float64(f32) == f {
			return f32, nil
		}
		return nil, fmt.Errorf("FLOAT value %v is not exactly a float32", f)
	case types.Decimal:
		s, ok := j.(string)
		if !ok {
			return bad()
		}
		return refParseDecimal(s, t.Precision, t.Scale)
	case types.Char, types.Varchar:
		if s, ok := j.(string); ok {
			return s, nil
		}
	case types.Binary, types.Varbinary:
		if s, ok := j.(string); ok {
			return hex.DecodeString(s)
		}
	case types.Date:
		s, ok := j.(string)
		if !ok {
			return bad()
		}
		d, err := time.Parse(dateLayout, s)
		if err != nil {
			return nil, err
		}
		days, _ := floorDivTest(d.Unix(), 86400)
		return arrow.Date32(days), nil
	case types.Time:
		s, ok := j.(string)
		if !ok {
			return bad()
		}
		var h, m, sec, ms int
		if n, err := fmt.Sscanf(s, "%2d:%2d:%2d.%3d", &h, &m, &sec, &ms); err != nil || n != 4 || len(s) != 12 {
			return nil, fmt.Errorf("bad TIME %q", s)
		}
		return arrow.Time32(((h*60+m)*60+sec)*1000 + ms), nil
	case types.Timestamp, types.TimestampLTZ:
		s, ok := j.(string)
		if !ok {
			return bad()
		}
		if t.Kind == types.TimestampLTZ {
			if !strings.HasSuffix(s, "Z") {
				return nil, fmt.Errorf("TIMESTAMP_LTZ %q without Z", s)
			}
			s = s[:len(s)-1]
		}
		if len(s) != len(tsLayout) {
			return nil, fmt.Errorf("bad TIMESTAMP %q", s)
		}
		ts, err := time.Parse(tsLayout, s)
		if err != nil {
			return nil, err
		}
		secs, nanos := big.NewInt(ts.Unix()), int64(ts.Nanosecond())
		var per int64
		switch types.TimestampUnit(t.Precision) {
		case arrow.Millisecond:
			per = 1000000
		case arrow.Microsecond:
			per = 1000
		default:
			per = 1
		}
		if nanos%per != 0 {
			return nil, fmt.Errorf("TIMESTAMP(%d) %q has finer digits than its unit", t.Precision, s)
		}
		v := secs.Mul(secs, big.NewInt(1000000000/per))
		v.Add(v, big.NewInt(nanos/per))
		if !v.IsInt64() {
			return nil, fmt.Errorf("TIMESTAMP %q out of range of its unit", s)
		}
		return arrow.Timestamp(v.Int64()), nil
	case types.Array:
		xs, ok := j.([]any)
		if !ok {
			return bad()
		}
		out := make([]any, len(xs))
		for i, x := range xs {
			v, err := fromJSON(*t.Elem, x)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case types.Map:
		xs, ok := j.([]any)
		if !ok {
			return bad()
		}
		out := make([][2]any, len(xs))
		for i, x := range xs {
			kv, ok := x.([]any)
			if !ok || len(kv) != 2 {
				return nil, fmt.Errorf("MAP entry %v is not a [key, value] pair", x)
			}
			k, err := fromJSON(*t.Key, kv[0])
			if err != nil {
				return nil, err
			}
			v, err := fromJSON(*t.Value, kv[1])
			if err != nil {
				return nil, err
			}
			out[i] = [2]any{k, v}
		}
		return out, nil
	case types.Row:
		xs, ok := j.([]any)
		if !ok || len(xs) != len(t.Fields) {
			return bad()
		}
		out := make([]any, len(xs))
		for i, x := range xs {
			v, err := fromJSON(t.Fields[i].Type, x)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return bad()
}

// toJSON renders a Go value of type t in the JSON notation.
func toJSON(t types.T, v any) any {
	if v == nil {
		return nil
	}
	float := func(f float64) any {
		switch {
		case math.IsNaN(f):
			return "NaN"
		case math.IsInf(f, 1):
			return "Infinity"
		case math.IsInf(f, -1):
			return "-Infinity"
		case f == 0 && math.Signbit(f):
			return "-0.0"
		}
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return json.Number(s)
	}
	switch x := v.(type) {
	case int8:
		return json.Number(strconv.FormatInt(int64(x), 10))
	case int16:
		return json.Number(strconv.FormatInt(int64(x), 10))
	case int32:
		return json.Number(strconv.FormatInt(int64(x), 10))
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case bool:
		return x
	case float32:
		return float(float64(x))
	case float64:
		return float(x)
	case decimal128.Num:
		return refDecimalText(x, t.Scale)
	case string:
		return x
	case []byte:
		return hex.EncodeToString(x)
	case arrow.Date32:
		return time.Unix(int64(x)*86400, 0).UTC().Format(dateLayout)
	case arrow.Time32:
		ms := int(x)
		return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
	case arrow.Timestamp:
		var per int64
		switch types.TimestampUnit(t.Precision) {
		case arrow.Millisecond:
			per = 1000000
		case arrow.Microsecond:
			per = 1000
		default:
			per = 1
		}
		secs, frac := floorDivTest(int64(x), 1000000000/per)
		s := time.Unix(secs, frac*per).UTC().Format(tsLayout)
		if t.Kind == types.TimestampLTZ {
			s += "Z"
		}
		return s
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			if t.Kind == types.Array {
				out[i] = toJSON(*t.Elem, e)
			} else {
				out[i] = toJSON(t.Fields[i].Type, e)
			}
		}
		return out
	case [][2]any:
		out := make([]any, len(x))
		for i, kv := range x {
			out[i] = []any{toJSON(*t.Key, kv[0]), toJSON(*t.Value, kv[1])}
		}
		return out
	}
	panic(fmt.Sprintf("toJSON: %T for %s", v, t))
}

func floorDivTest(a, b int64) (int64, int64) {
	q, r := a/b, a%b
	if r < 0 {
		q--
		r += b
	}
	return q, r
}

// refParseDecimal parses canonical decimal text exactly with math/big.
func refParseDecimal(s string, prec, scale int) (decimal128.Num, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return decimal128.Num{}, fmt.Errorf("bad decimal %q", s)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !r.IsInt() {
		return decimal128.Num{}, fmt.Errorf("decimal %q has more than %d fraction digits", s, scale)
	}
	n := r.Num()
	if lim := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(prec)), nil); new(big.Int).Abs(n).Cmp(lim) >= 0 {
		return decimal128.Num{}, fmt.Errorf("decimal %q does not fit DECIMAL(%d, %d)", s, prec, scale)
	}
	return decimal128.FromBigInt(n), nil
}

// refDecimalText renders n with math/big.
func refDecimalText(n decimal128.Num, scale int) string {
	b := n.BigInt()
	neg := b.Sign() < 0
	digits := new(big.Int).Abs(b).String()
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// ---- Arrow arrays via builders and getters ----

// buildArray builds an array of type t holding vals with arrow-go's builders.
func buildArray(mem memory.Allocator, t types.T, vals []any) arrow.Array {
	b := array.NewBuilder(mem, t.Arrow())
	defer b.Release()
	for _, v := range vals {
		appendBuilder(b, t, v)
	}
	return b.NewArray()
}

func appendBuilder(b array.Builder, t types.T, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.Int8Builder:
		b.Append(v.(int8))
	case *array.Int16Builder:
		b.Append(v.(int16))
	case *array.Int32Builder:
		b.Append(v.(int32))
	case *array.Int64Builder:
		b.Append(v.(int64))
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.Float32Builder:
		b.Append(v.(float32))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.Decimal128Builder:
		b.Append(v.(decimal128.Num))
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.BinaryBuilder:
		b.Append(v.([]byte))
	case *array.Date32Builder:
		b.Append(v.(arrow.Date32))
	case *array.Time32Builder:
		b.Append(v.(arrow.Time32))
	case *array.TimestampBuilder:
		b.Append(v.(arrow.Timestamp))
	case *array.MapBuilder:
		b.Append(true)
		for _, kv := range v.([][2]any) {
			appendBuilder(b.KeyBuilder(), *t.Key, kv[0])
			appendBuilder(b.ItemBuilder(), *t.Value, kv[1])
		}
	case *array.ListBuilder:
		b.Append(true)
		for _, e := range v.([]any) {
			appendBuilder(b.ValueBuilder(), *t.Elem, e)
		}
	case *array.StructBuilder:
		b.Append(true)
		for f, e := range v.([]any) {
			appendBuilder(b.FieldBuilder(f), t.Fields[f].Type, e)
		}
	default:
		panic(fmt.Sprintf("appendBuilder: %T", b))
	}
}

// getValue reads value i of a with arrow-go's getters.
func getValue(a arrow.Array, i int, t types.T) any {
	if a.IsNull(i) || t.Kind == types.Null {
		return nil
	}
	switch a := a.(type) {
	case *array.Int8:
		return a.Value(i)
	case *array.Int16:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Float32:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Decimal128:
		return a.Value(i)
	case *array.String:
		return strings.Clone(a.Value(i))
	case *array.Binary:
		return bytes.Clone(a.Value(i))
	case *array.Date32:
		return a.Value(i)
	case *array.Time32:
		return a.Value(i)
	case *array.Timestamp:
		return a.Value(i)
	case *array.Map:
		s, e := a.ValueOffsets(i)
		entries := a.ListValues().(*array.Struct)
		out := make([][2]any, 0, e-s)
		for j := int(s); j < int(e); j++ {
			out = append(out, [2]any{getValue(entries.Field(0), j, *t.Key), getValue(entries.Field(1), j, *t.Value)})
		}
		return out
	case *array.List:
		s, e := a.ValueOffsets(i)
		out := make([]any, 0, e-s)
		for j := int(s); j < int(e); j++ {
			out = append(out, getValue(a.ListValues(), j, *t.Elem))
		}
		return out
	case *array.Struct:
		out := make([]any, a.NumField())
		for f := range out {
			out[f] = getValue(a.Field(f), i, t.Fields[f].Type)
		}
		return out
	}
	panic(fmt.Sprintf("getValue: %T", a))
}

// canon renders a value for comparison: floats by their bits, so that NaN
// equals itself and -0 differs from 0.
func canon(v any) string {
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case nil:
			b.WriteString("null")
		case float32:
			fmt.Fprintf(&b, "f32:%08x", math.Float32bits(x))
		case float64:
			fmt.Fprintf(&b, "f64:%016x", math.Float64bits(x))
		case []byte:
			fmt.Fprintf(&b, "bytes:%x", x)
		case string:
			fmt.Fprintf(&b, "%q", x)
		case []any:
			b.WriteString("[")
			for i, e := range x {
				if i > 0 {
					b.WriteString(",")
				}
				walk(e)
			}
			b.WriteString("]")
		case [][2]any:
			b.WriteString("{")
			for i, kv := range x {
				if i > 0 {
					b.WriteString(",")
				}
				walk(kv[0])
				b.WriteString(":")
				walk(kv[1])
			}
			b.WriteString("}")
		default:
			fmt.Fprintf(&b, "%T:%v", v, v)
		}
	}
	walk(v)
	return b.String()
}

// ---- reference encoder ----

// refEncodeRow encodes one top-level row value at a time, written
// independently of the package's encoders.
func refEncodeRow(ts []types.T, vals []any) []byte {
	var body bytes.Buffer
	refRow(&body, func(i int) types.T { return ts[i] }, vals)
	var out []byte
	out = binary.AppendUvarint(out, uint64(body.Len()))
	return append(out, body.Bytes()...)
}

func refRow(w *bytes.Buffer, typ func(int) types.T, vals []any) {
	hdr := make([]byte, (len(vals)+2+7)/8)
	for i, v := range vals {
		if v == nil {
			bit := i + 2
			hdr[bit/8] |= 1 << (7 - bit%8)
		}
	}
	w.Write(hdr)
	for i, v := range vals {
		if v != nil {
			refValue(w, typ(i), v)
		}
	}
}

func refValue(w *bytes.Buffer, t types.T, v any) {
	be := func(x any) {
		if err := binary.Write(w, binary.BigEndian, x); err != nil {
			panic(err)
		}
	}
	switch x := v.(type) {
	case int8, int16, int32, int64, float32, float64:
		be(x)
	case bool:
		if x {
			w.WriteByte(1)
		} else {
			w.WriteByte(0)
		}
	case decimal128.Num:
		s := refDecimalText(x, t.Scale)
		be(int32(len(s)))
		w.WriteString(s)
	case string:
		be(int32(len(x)))
		w.WriteString(x)
	case []byte:
		be(int32(len(x)))
		w.Write(x)
	case arrow.Date32:
		be(int32(x))
	case arrow.Time32:
		be(int32(x))
	case arrow.Timestamp:
		// Through math/big, so that floor division is not the code under test.
		nanosPer := map[arrow.TimeUnit]int64{arrow.Millisecond: 1000000, arrow.Microsecond: 1000, arrow.Nanosecond: 1}[types.TimestampUnit(t.Precision)]
		n := new(big.Int).Mul(big.NewInt(int64(x)), big.NewInt(nanosPer))
		ms, ns := new(big.Int).DivMod(n, big.NewInt(1000000), new(big.Int))
		be(ms.Int64())
		if t.Precision > 3 {
			be(int32(ns.Int64()))
		}
	case []any:
		if t.Kind == types.Row {
			refRow(w, func(i int) types.T { return t.Fields[i].Type }, x)
			return
		}
		be(int32(len(x)))
		for _, e := range x {
			if e == nil {
				w.WriteByte(0)
			} else {
				w.WriteByte(1)
				refValue(w, *t.Elem, e)
			}
		}
	case [][2]any:
		be(int32(len(x)))
		for _, kv := range x {
			refValue(w, *t.Key, kv[0])
			if kv[1] == nil {
				w.WriteByte(1)
			} else {
				w.WriteByte(0)
				refValue(w, *t.Value, kv[1])
			}
		}
	default:
		panic(fmt.Sprintf("refValue: %T", v))
	}
}

// ---- random types and values ----

var fieldNames = []string{"a", "b", "c", "x y", "é", "n`q"}

// randType returns a random type; depth bounds the nesting.
func randType(r *rand.Rand, depth int) types.T {
	var t types.T
	n := 17
	if depth > 0 {
		n = 20
	}
	switch r.IntN(n) {
	case 0:
		t = types.TINYINT
	case 1:
		t = types.SMALLINT
	case 2:
		t = types.INT
	case 3:
		t = types.BIGINT
	case 4:
		t = types.BOOLEAN
	case 5:
		t = types.FLOAT
	case 6:
		t = types.DOUBLE
	case 7:
		p := 1 + r.IntN(38)
		t = types.DECIMAL(p, r.IntN(p+1))
	case 8:
		t = types.CHAR(1 + r.IntN(10))
	case 9:
		t = types.VARCHAR(1 + r.IntN(100))
	case 10:
		t = types.STRING
	case 11:
		t = []types.T{types.BINARY(3), types.VARBINARY(10), types.BYTES}[r.IntN(3)]
	case 12:
		t = types.DATE
	case 13:
		t = types.TIME(r.IntN(4))
	case 14:
		t = types.TIMESTAMP(r.IntN(10))
	case 15:
		t = types.TIMESTAMP_LTZ(r.IntN(10))
	case 16:
		if r.IntN(4) == 0 {
			return types.NULL
		}
		t = types.INT
	case 17:
		t = types.ARRAY(randType(r, depth-1))
	case 18:
		k := randType(r, 0)
		for k.Kind == types.Null {
			k = randType(r, 0)
		}
		t = types.MAP(k, randType(r, depth-1))
	case 19:
		fs := make([]types.Field, r.IntN(5))
		for i := range fs {
			fs[i] = types.Field{Name: fieldNames[r.IntN(len(fieldNames))], Type: randType(r, depth-1)}
		}
		t = types.ROW(fs...)
	}
	if r.IntN(3) == 0 {
		t = t.NotNull()
	}
	return t
}

var sampleStrings = []string{"", "a", "ab", "é", "中文", "😀", "a\x00b", strings.Repeat("x", 130)}

func randString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return sampleStrings[r.IntN(len(sampleStrings))]
	}
	var b strings.Builder
	for range r.IntN(12) {
		switch r.IntN(4) {
		case 0:
			b.WriteRune(rune(0x80 + r.IntN(0x780)))
		case 1:
			b.WriteRune(rune(0x800 + r.IntN(0xd000)))
		case 2:
			b.WriteRune(rune(0x10000 + r.IntN(0x100000)))
		default:
			b.WriteByte(byte(r.IntN(128)))
		}
	}
	return b.String()
}

// randInt returns a random integer of the given bits, often an extreme.
func randInt(r *rand.Rand, bits int) int64 {
	lo, hi := int64(-1)<<(bits-1), int64(uint64(1)<<(bits-1)-1)
	switch r.IntN(6) {
	case 0:
		return lo
	case 1:
		return hi
	case 2:
		return int64(r.IntN(3)) - 1
	}
	return int64(r.Uint64()) >> (64 - bits)
}

// randValue returns a random value of t, sometimes nil when t is nullable.
func randValue(r *rand.Rand, t types.T) any {
	if t.Kind == types.Null || (t.Nullable && r.IntN(6) == 0) {
		return nil
	}
	switch t.Kind {
	case types.TinyInt:
		return int8(randInt(r, 8))
	case types.SmallInt:
		return int16(randInt(r, 16))
	case types.Int:
		return int32(randInt(r, 32))
	case types.BigInt:
		return randInt(r, 64)
	case types.Boolean:
		return r.IntN(2) == 1
	case types.Float:
		specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1.5, math.MaxFloat32, math.SmallestNonzeroFloat32}
		if r.IntN(2) == 0 {
			return specials[r.IntN(len(specials))]
		}
		return math.Float32frombits(r.Uint32())
	case types.Double:
		specials := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 1.5, math.MaxFloat64, math.SmallestNonzeroFloat64}
		if r.IntN(2) == 0 {
			return specials[r.IntN(len(specials))]
		}
		return math.Float64frombits(r.Uint64())
	case types.Decimal:
		nd := r.IntN(t.Precision + 1)
		if r.IntN(3) == 0 {
			nd = t.Precision
		}
		var b strings.Builder
		if r.IntN(2) == 0 {
			b.WriteByte('-')
		}
		b.WriteByte('0')
		for range nd {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		n, _ := new(big.Int).SetString(b.String(), 10)
		return decimal128.FromBigInt(n)
	case types.Char, types.Varchar:
		return randString(r)
	case types.Binary, types.Varbinary:
		b := make([]byte, r.IntN(10))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	case types.Date:
		if r.IntN(2) == 0 {
			return arrow.Date32(r.Int32())
		}
		return arrow.Date32(r.IntN(2932897) - 719162) // 0001-01-01 .. 9999-12-31
	case types.Time:
		return arrow.Time32(r.IntN(msPerDay))
	case types.Timestamp, types.TimestampLTZ:
		if r.IntN(2) == 0 {
			return arrow.Timestamp(randInt(r, 64))
		}
		return arrow.Timestamp(int64(r.IntN(2000001)-1000000) * int64(r.IntN(1000)+1))
	case types.Array:
		out := make([]any, r.IntN(5))
		for i := range out {
			out[i] = randValue(r, *t.Elem)
		}
		return out
	case types.Map:
		out := make([][2]any, r.IntN(4))
		for i := range out {
			k := randValue(r, t.Key.NotNull())
			out[i] = [2]any{k, randValue(r, *t.Value)}
		}
		return out
	case types.Row:
		out := make([]any, len(t.Fields))
		for i, f := range t.Fields {
			out[i] = randValue(r, f.Type)
		}
		return out
	}
	panic("randValue: " + t.String())
}

// randBatch returns columns of random values; rows[i] is row i.
func randBatch(r *rand.Rand, ts []types.T, n int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = make([]any, len(ts))
		for c, t := range ts {
			rows[i][c] = randValue(r, t)
		}
	}
	return rows
}

// buildColumns builds one array per column of rows.
func buildColumns(mem memory.Allocator, ts []types.T, rows [][]any) []arrow.Array {
	cols := make([]arrow.Array, len(ts))
	for c, t := range ts {
		vals := make([]any, len(rows))
		for i, row := range rows {
			vals[i] = row[c]
		}
		cols[c] = buildArray(mem, t, vals)
	}
	return cols
}

func releaseAll(as []arrow.Array) {
	for _, a := range as {
		a.Release()
	}
}

// readRows reads every row of cols with the getters.
func readRows(cols []arrow.Array, ts []types.T) [][]any {
	if len(cols) == 0 {
		return nil
	}
	rows := make([][]any, cols[0].Len())
	for i := range rows {
		rows[i] = make([]any, len(cols))
		for c, a := range cols {
			rows[i][c] = getValue(a, i, ts[c])
		}
	}
	return rows
}

// validate checks the structure of a decoded array beyond arrow-go's
// ValidateFull: child lengths of structs and the entries of maps.
func validate(a arrow.Array) error {
	switch a := a.(type) {
	case *array.Struct:
		for f := range a.NumField() {
			if a.Field(f).Len() != a.Len() {
				return fmt.Errorf("struct field %d has %d values, want %d", f, a.Field(f).Len(), a.Len())
			}
			if err := validate(a.Field(f)); err != nil {
				return err
			}
		}
	case *array.Map:
		n := int(a.Offsets()[a.Len()])
		if a.ListValues().Len() != n {
			return fmt.Errorf("map has %d entries, offsets end at %d", a.ListValues().Len(), n)
		}
		return validate(a.ListValues())
	case *array.List:
		n := int(a.Offsets()[a.Len()])
		if a.ListValues().Len() != n {
			return fmt.Errorf("list has %d elements, offsets end at %d", a.ListValues().Len(), n)
		}
		return validate(a.ListValues())
	}
	return nil
}
