// Package types describes weir's SQL data types: their Flink SQL spelling,
// their nullability and parameters, and the Apache Arrow type that carries
// their values inside the engine.
//
// types is a leaf package: it imports only arrow-go.
package types

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Kind is the root of a SQL type, without parameters or nullability.
type Kind uint8

// The kinds, in the order of Flink's LogicalTypeRoot where one exists.
const (
	Invalid Kind = iota
	TinyInt
	SmallInt
	Int
	BigInt
	Boolean
	Float
	Double
	Decimal
	Char
	Varchar
	Binary
	Varbinary
	Date
	Time
	Timestamp
	TimestampLTZ
	// IntervalYearMonth is INTERVAL YEAR TO MONTH, a number of months;
	// IntervalDayTime is INTERVAL DAY TO SECOND, a number of milliseconds.
	// Flink spells them INTERVAL MONTH and INTERVAL SECOND(3).
	IntervalYearMonth
	IntervalDayTime
	Array
	Map
	Row
	// Null is the type of an untyped NULL literal before it is cast.
	Null
)

// MaxLength is the length of STRING (VARCHAR) and BYTES (VARBINARY), as in Flink.
const MaxLength = 2147483647

var kindNames = [...]string{
	Invalid: "INVALID", TinyInt: "TINYINT", SmallInt: "SMALLINT", Int: "INT", BigInt: "BIGINT",
	Boolean: "BOOLEAN", Float: "FLOAT", Double: "DOUBLE", Decimal: "DECIMAL", Char: "CHAR",
	Varchar: "VARCHAR", Binary: "BINARY", Varbinary: "VARBINARY", Date: "DATE", Time: "TIME",
	Timestamp: "TIMESTAMP", TimestampLTZ: "TIMESTAMP_LTZ",
	IntervalYearMonth: "INTERVAL MONTH", IntervalDayTime: "INTERVAL SECOND(3)", Array: "ARRAY", Map: "MAP", Row: "ROW",
	Null: "NULL",
}

// String returns the SQL keyword of the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// T is a SQL data type. The zero value is invalid; build types with the
// constructors below or by parsing SQL.
type T struct {
	Kind     Kind
	Nullable bool
	// Length is the length of CHAR, VARCHAR, BINARY and VARBINARY.
	Length int
	// Precision is the precision of DECIMAL, and the fractional-second
	// precision (0..9) of TIME, TIMESTAMP and TIMESTAMP_LTZ.
	Precision int
	// Scale is the scale of DECIMAL.
	Scale int
	// Elem is the element type of ARRAY.
	Elem *T
	// Key and Value are the entry types of MAP.
	Key, Value *T
	// Fields are the fields of ROW.
	Fields []Field
}

// Field is a named field of a ROW type.
type Field struct {
	Name string
	Type T
}

// Constructors for the types without parameters; all nullable, as in SQL.
var (
	TINYINT  = T{Kind: TinyInt, Nullable: true}
	SMALLINT = T{Kind: SmallInt, Nullable: true}
	INT      = T{Kind: Int, Nullable: true}
	BIGINT   = T{Kind: BigInt, Nullable: true}
	BOOLEAN  = T{Kind: Boolean, Nullable: true}
	FLOAT    = T{Kind: Float, Nullable: true}
	DOUBLE   = T{Kind: Double, Nullable: true}
	STRING   = T{Kind: Varchar, Nullable: true, Length: MaxLength}
	BYTES    = T{Kind: Varbinary, Nullable: true, Length: MaxLength}
	DATE     = T{Kind: Date, Nullable: true}
	NULL     = T{Kind: Null, Nullable: true}
	// INTERVAL_MONTHS and INTERVAL_MILLIS are the two interval types.
	INTERVAL_MONTHS = T{Kind: IntervalYearMonth, Nullable: true}
	INTERVAL_MILLIS = T{Kind: IntervalDayTime, Nullable: true}
)

// DECIMAL returns DECIMAL(p, s).
func DECIMAL(p, s int) T { return T{Kind: Decimal, Nullable: true, Precision: p, Scale: s} }

// CHAR returns CHAR(n).
func CHAR(n int) T { return T{Kind: Char, Nullable: true, Length: n} }

// VARCHAR returns VARCHAR(n).
func VARCHAR(n int) T { return T{Kind: Varchar, Nullable: true, Length: n} }

// BINARY returns BINARY(n).
func BINARY(n int) T { return T{Kind: Binary, Nullable: true, Length: n} }

// VARBINARY returns VARBINARY(n).
func VARBINARY(n int) T { return T{Kind: Varbinary, Nullable: true, Length: n} }

// TIME returns TIME(p).
func TIME(p int) T { return T{Kind: Time, Nullable: true, Precision: p} }

// TIMESTAMP returns TIMESTAMP(p).
func TIMESTAMP(p int) T { return T{Kind: Timestamp, Nullable: true, Precision: p} }

// TIMESTAMP_LTZ returns TIMESTAMP_LTZ(p).
func TIMESTAMP_LTZ(p int) T { return T{Kind: TimestampLTZ, Nullable: true, Precision: p} }

// ARRAY returns ARRAY<elem>.
func ARRAY(elem T) T { return T{Kind: Array, Nullable: true, Elem: &elem} }

// MAP returns MAP<key, value>.
func MAP(key, value T) T { return T{Kind: Map, Nullable: true, Key: &key, Value: &value} }

// ROW returns ROW<fields>.
func ROW(fields ...Field) T { return T{Kind: Row, Nullable: true, Fields: fields} }

// DecimalShape returns the precision and scale of a DECIMAL, or of the
// DECIMAL that holds every value of an integer type: DECIMAL(3, 0) for
// TINYINT, (5, 0) for SMALLINT, (10, 0) for INT and (19, 0) for BIGINT.
func (t T) DecimalShape() (precision, scale int) {
	switch t.Kind {
	case TinyInt:
		return 3, 0
	case SmallInt:
		return 5, 0
	case Int:
		return 10, 0
	case BigInt:
		return 19, 0
	}
	return t.Precision, t.Scale
}

// DecimalArith is the type of DECIMAL(p1, s1) op DECIMAL(p2, s2), as
// Flink's LogicalTypeMerging derives it (nullable; the caller sets the
// nullability):
//
//   - -  scale max(s1, s2), precision max(p1-s1, p2-s2) + scale + 1
//   - scale s1 + s2, precision p1 + p2 + 1
//     /    scale max(6, s1 + p2 + 1), precision p1 - s1 + s2 + scale
//     %    scale max(s1, s2), precision min(p1-s1, p2-s2) + scale
//
// A precision above 38 becomes 38, and the scale shrinks to keep the
// integer digits, but not below min(scale, 6).
func DecimalArith(op string, p1, s1, p2, s2 int) T {
	var p, s int
	switch op {
	case "+", "-":
		s = max(s1, s2)
		p = max(p1-s1, p2-s2) + s + 1
	case "*":
		s = s1 + s2
		p = p1 + p2 + 1
	case "/":
		s = max(6, s1+p2+1)
		p = p1 - s1 + s2 + s
	default: // %
		s = max(s1, s2)
		p = min(p1-s1, p2-s2) + s
	}
	if p > 38 {
		s = max(38-(p-s), min(s, 6))
		p = 38
	}
	return DECIMAL(p, s)
}

// NotNull returns t declared NOT NULL.
func (t T) NotNull() T { t.Nullable = false; return t }

// WithNullable returns t with the given nullability.
func (t T) WithNullable(n bool) T { t.Nullable = n; return t }

// IsInteger reports whether t is TINYINT, SMALLINT, INT or BIGINT.
func (t T) IsInteger() bool { return t.Kind >= TinyInt && t.Kind <= BigInt }

// IsNumeric reports whether t is an integer, FLOAT, DOUBLE or DECIMAL.
func (t T) IsNumeric() bool {
	return t.IsInteger() || t.Kind == Float || t.Kind == Double || t.Kind == Decimal
}

// IsString reports whether t is CHAR or VARCHAR.
func (t T) IsString() bool { return t.Kind == Char || t.Kind == Varchar }

// IsBinary reports whether t is BINARY or VARBINARY.
func (t T) IsBinary() bool { return t.Kind == Binary || t.Kind == Varbinary }

// Equal reports whether t and u are the same type, nullability included.
func (t T) Equal(u T) bool { return t.String() == u.String() }

// EqualIgnoringNull reports whether t and u are the same type apart from the
// nullability of the outermost level.
func (t T) EqualIgnoringNull(u T) bool { return t.WithNullable(true).Equal(u.WithNullable(true)) }

// SameShape reports whether t and u are the same type apart from
// nullability at any level and ROW field names, e.g. ARRAY<INT NOT NULL> and
// ARRAY<INT>, or ROW<a INT> and ROW<b INT>.
func (t T) SameShape(u T) bool { return t.allNullable().Equal(u.allNullable()) }

// StoresIn reports whether every value of t is a value of u: the same shape,
// and u nullable wherever t is.
func (t T) StoresIn(u T) bool {
	if !t.SameShape(u) || (t.Nullable && !u.Nullable) {
		return false
	}
	switch t.Kind {
	case Array:
		return t.Elem.StoresIn(*u.Elem)
	case Map:
		return t.Key.StoresIn(*u.Key) && t.Value.StoresIn(*u.Value)
	case Row:
		for i := range t.Fields {
			if !t.Fields[i].Type.StoresIn(u.Fields[i].Type) {
				return false
			}
		}
	}
	return true
}

func (t T) allNullable() T {
	t.Nullable = true
	switch t.Kind {
	case Array:
		e := t.Elem.allNullable()
		t.Elem = &e
	case Map:
		k, v := t.Key.allNullable(), t.Value.allNullable()
		t.Key, t.Value = &k, &v
	case Row:
		fs := make([]Field, len(t.Fields))
		for i, f := range t.Fields {
			fs[i] = Field{Name: fmt.Sprintf("f%d", i), Type: f.Type.allNullable()}
		}
		t.Fields = fs
	}
	return t
}

// String returns the type in Flink SQL syntax, e.g. "INT NOT NULL" or
// "ROW<`a` INT, `b` ARRAY<STRING>>". Parsing the result gives back t.
func (t T) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t T) write(b *strings.Builder) {
	switch t.Kind {
	case Decimal:
		fmt.Fprintf(b, "DECIMAL(%d, %d)", t.Precision, t.Scale)
	case Char, Binary:
		fmt.Fprintf(b, "%s(%d)", t.Kind, t.Length)
	case Varchar:
		if t.Length == MaxLength {
			b.WriteString("STRING")
		} else {
			fmt.Fprintf(b, "VARCHAR(%d)", t.Length)
		}
	case Varbinary:
		if t.Length == MaxLength {
			b.WriteString("BYTES")
		} else {
			fmt.Fprintf(b, "VARBINARY(%d)", t.Length)
		}
	case Time, Timestamp, TimestampLTZ:
		fmt.Fprintf(b, "%s(%d)", t.Kind, t.Precision)
	case Array:
		b.WriteString("ARRAY<")
		t.Elem.write(b)
		b.WriteString(">")
	case Map:
		b.WriteString("MAP<")
		t.Key.write(b)
		b.WriteString(", ")
		t.Value.write(b)
		b.WriteString(">")
	case Row:
		b.WriteString("ROW<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("`" + strings.ReplaceAll(f.Name, "`", "``") + "` ")
			f.Type.write(b)
		}
		b.WriteString(">")
	default:
		b.WriteString(t.Kind.String())
	}
	if !t.Nullable && t.Kind != Null {
		b.WriteString(" NOT NULL")
	}
}

// Arrow returns the Arrow type that carries values of t inside the engine.
// Nullability and ROW field names are not part of it: nested fields are
// always nullable and named by position in Arrow, so types that differ only
// in those share one Arrow type (SameShape); the SQL type keeps them and the
// coder enforces nullability.
//
// TIME is carried as milliseconds of the day (time32[ms]), as on the wire;
// TIMESTAMP(p) in seconds' fractions of the smallest unit that holds p digits;
// TIMESTAMP_LTZ like TIMESTAMP with time zone "UTC"; the intervals as
// int32 months and int64 milliseconds, as Flink keeps them.
func (t T) Arrow() arrow.DataType {
	switch t.Kind {
	case TinyInt:
		return arrow.PrimitiveTypes.Int8
	case SmallInt:
		return arrow.PrimitiveTypes.Int16
	case Int:
		return arrow.PrimitiveTypes.Int32
	case BigInt:
		return arrow.PrimitiveTypes.Int64
	case Boolean:
		return arrow.FixedWidthTypes.Boolean
	case Float:
		return arrow.PrimitiveTypes.Float32
	case Double:
		return arrow.PrimitiveTypes.Float64
	case Decimal:
		return &arrow.Decimal128Type{Precision: int32(t.Precision), Scale: int32(t.Scale)}
	case Char, Varchar:
		return arrow.BinaryTypes.String
	case Binary, Varbinary:
		return arrow.BinaryTypes.Binary
	case Date:
		return arrow.FixedWidthTypes.Date32
	case IntervalYearMonth:
		return arrow.PrimitiveTypes.Int32
	case IntervalDayTime:
		return arrow.PrimitiveTypes.Int64
	case Time:
		return arrow.FixedWidthTypes.Time32ms
	case Timestamp, TimestampLTZ:
		tz := ""
		if t.Kind == TimestampLTZ {
			tz = "UTC"
		}
		return &arrow.TimestampType{Unit: TimestampUnit(t.Precision), TimeZone: tz}
	case Array:
		return arrow.ListOfField(arrow.Field{Name: "element", Type: t.Elem.Arrow(), Nullable: true})
	case Map:
		return arrow.MapOf(t.Key.Arrow(), t.Value.Arrow())
	case Row:
		fs := make([]arrow.Field, len(t.Fields))
		for i, f := range t.Fields {
			fs[i] = arrow.Field{Name: fmt.Sprintf("f%d", i), Type: f.Type.Arrow(), Nullable: true}
		}
		return arrow.StructOf(fs...)
	case Null:
		return arrow.Null
	}
	panic(fmt.Sprintf("types: no Arrow type for %v", t.Kind))
}

// TimestampUnit returns the Arrow unit used for a timestamp of precision p.
func TimestampUnit(p int) arrow.TimeUnit {
	switch {
	case p <= 3:
		return arrow.Millisecond
	case p <= 6:
		return arrow.Microsecond
	default:
		return arrow.Nanosecond
	}
}

// Schema is the ordered, named columns of a table or of a plan node.
type Schema []Field

// Arrow returns the Arrow schema of s.
func (s Schema) Arrow() *arrow.Schema {
	fs := make([]arrow.Field, len(s))
	for i, f := range s {
		fs[i] = arrow.Field{Name: f.Name, Type: f.Type.Arrow(), Nullable: f.Type.Nullable}
	}
	return arrow.NewSchema(fs, nil)
}

// Index returns the position of the column named name (case-insensitive, as
// Flink's default identifiers are not), or -1.
func (s Schema) Index(name string) int {
	for i, f := range s {
		if f.Name == name {
			return i
		}
	}
	for i, f := range s {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

// Types returns the types of the columns.
func (s Schema) Types() []T {
	ts := make([]T, len(s))
	for i, f := range s {
		ts[i] = f.Type
	}
	return ts
}
