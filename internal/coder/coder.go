// Package coder encodes Arrow columns into weir's row wire format and decodes it back.
//
// coder imports only types and arrow-go.
package coder

import (
	"fmt"

	"github.com/weir-dev/weir/internal/types"
)

// The wire format (docs/WIRE_FORMAT.md is authoritative) is PyFlink's
// flatten-row coder: a batch is a sequence of top-level rows, each preceded
// by its byte length as an unsigned LEB128 varint. A row of n fields starts
// with ceil((n+2)/8) header bytes read most significant bit first: two
// RowKind bits, then one bit per field, set when the field is null; a null
// field writes nothing. Fields are big-endian: fixed-width integers and
// floats, BOOLEAN as one byte, strings, binaries and DECIMAL (as text) with an
// int32 length, DATE as int32 days, TIME as int32 milliseconds, TIMESTAMP(p) as
// int64 epoch milliseconds plus, when p > 3, int32 nanoseconds within the
// millisecond. ARRAY is an int32 count and per element a presence byte
// (1 = present); MAP is an int32 count and per entry the key, a null byte
// (1 = null) and the value; a nested ROW is a header plus its fields, inline.
// A table function answers each input row with its result rows and an end
// marker, the bytes 01 00.
//
// An Encoder or Decoder builds, once, one specialised encoder or column
// accumulator per column (recursively for nested types); Arrow arrays are
// bound to encoders once per batch, so the per-value work is a bounds check
// and a big-endian load or store. When every column is fixed-width, rows
// without nulls all have the same length and layout, and runs of them are
// encoded and decoded a column at a time.

// headerLen is the number of header bytes of a row with n fields.
func headerLen(n int) int { return (n + 2 + 7) / 8 }

// nullBit returns the header byte and mask of field i's null bit.
func nullBit(i int) (int, byte) {
	k := i + 2
	return k >> 3, 0x80 >> (k & 7)
}

// padMask returns the mask of the unused bits of the last header byte of a
// row with n fields.
func padMask(n int) byte {
	used := (n + 2) & 7
	if used == 0 {
		return 0
	}
	return 0xff >> used
}

// checkType reports whether t is a type the coder handles.
func checkType(t types.T) error {
	switch t.Kind {
	case types.TinyInt, types.SmallInt, types.Int, types.BigInt, types.Boolean, types.Float,
		types.Double, types.Char, types.Varchar, types.Binary, types.Varbinary, types.Date, types.Null:
		return nil
	case types.Decimal:
		if t.Precision < 1 || t.Precision > 38 || t.Scale < 0 || t.Scale > t.Precision {
			return fmt.Errorf("unsupported DECIMAL(%d, %d): need 1 <= p <= 38 and 0 <= s <= p", t.Precision, t.Scale)
		}
		return nil
	case types.Time, types.Timestamp, types.TimestampLTZ:
		if t.Precision < 0 || t.Precision > 9 {
			return fmt.Errorf("unsupported precision %d: need 0..9", t.Precision)
		}
		return nil
	case types.Array:
		if t.Elem == nil {
			return fmt.Errorf("ARRAY without element type")
		}
		return checkType(*t.Elem)
	case types.Map:
		if t.Key == nil || t.Value == nil {
			return fmt.Errorf("MAP without key or value type")
		}
		if t.Key.Kind == types.Null {
			return fmt.Errorf("MAP key of type NULL cannot be encoded")
		}
		if err := checkType(*t.Key); err != nil {
			return err
		}
		return checkType(*t.Value)
	case types.Row:
		for _, f := range t.Fields {
			if err := checkType(f.Type); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unsupported type kind %v", t.Kind)
}

// nullable reports whether a value of t may be null; NULL is always nullable.
func nullable(t types.T) bool { return t.Nullable || t.Kind == types.Null }

const msPerDay = 24 * 60 * 60 * 1000

// floorDiv returns floor(a / b) and a - floor(a / b) * b for b > 0.
func floorDiv(a, b int64) (int64, int64) {
	q, r := a/b, a%b
	if r < 0 {
		q--
		r += b
	}
	return q, r
}
