package coder

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/weir-dev/weir/internal/types"
)

// errPattern is the shape of every error: it names the row and, when one is
// to blame, the column and its type.
var errPattern = regexp.MustCompile(`^coder: (row \d+(, (after )?column \d+ \(.+\))?|column \d+ \(.+\)|\d+ (columns|values) for \d+ types|a table function.*|first input.*): `)

// randSchema returns 1..6 random column types.
func randSchema(r *rand.Rand, depth int) []types.T {
	ts := make([]types.T, 1+r.IntN(6))
	for i := range ts {
		ts[i] = randType(r, depth)
	}
	return ts
}

// checkRoundTrip encodes rows with the Encoder (whole, and in slices of
// sliced arrays), EncodeValues and the reference encoder, compares the bytes
// and decodes them back.
func checkRoundTrip(t *testing.T, mem memory.Allocator, r *rand.Rand, ts []types.T, rows [][]any) {
	t.Helper()
	var want []byte
	for _, row := range rows {
		want = append(want, refEncodeRow(ts, row)...)
	}
	var byValues []byte
	for i, row := range rows {
		var err error
		if byValues, err = EncodeValues(byValues, ts, row); err != nil {
			t.Fatalf("EncodeValues row %d: %v", i, err)
		}
	}
	if !bytes.Equal(byValues, want) {
		t.Fatalf("types %v: EncodeValues != reference\n got %x\nwant %x", ts, byValues, want)
	}
	cols := buildColumns(mem, ts, rows)
	defer releaseAll(cols)
	enc := NewEncoder(ts)
	got, err := enc.Encode([]byte("prefix"), cols, 0, len(rows))
	if err != nil {
		t.Fatalf("types %v: Encode: %v", ts, err)
	}
	if !bytes.Equal(got[6:], want) || string(got[:6]) != "prefix" {
		t.Fatalf("types %v: Encode != reference\n got %x\nwant %x", ts, got[6:], want)
	}

	// A sub-range of sliced arrays.
	if len(rows) > 2 {
		off := r.IntN(len(rows) / 2)
		sliced := make([]arrow.Array, len(cols))
		for c, a := range cols {
			sliced[c] = array.NewSlice(a, int64(off), int64(len(rows)))
		}
		from := r.IntN(len(rows) - off)
		to := from + r.IntN(len(rows)-off-from+1)
		var sub []byte
		for _, row := range rows[off+from : off+to] {
			sub = append(sub, refEncodeRow(ts, row)...)
		}
		got, err := enc.Encode(nil, sliced, from, to)
		releaseAll(sliced)
		if err != nil {
			t.Fatalf("types %v: Encode of slice: %v", ts, err)
		}
		if !bytes.Equal(got, sub) {
			t.Fatalf("types %v: Encode of slice [%d+%d, %d+%d) != reference\n got %x\nwant %x", ts, off, from, off, to, got, sub)
		}
	}

	dec := NewDecoder(mem, ts)
	defer dec.Release()
	// Decode in two pieces to exercise appending across calls.
	cut := 0
	if len(rows) > 0 {
		cut = r.IntN(len(rows) + 1)
	}
	split := 0
	for range cut {
		_, next, err := readRow(want, split)
		if err != nil {
			t.Fatal(err)
		}
		split = next
	}
	for _, part := range [][]byte{want[:split], want[split:]} {
		if _, err := dec.Decode(part); err != nil {
			t.Fatalf("types %v: Decode: %v\ndata %x", ts, err, want)
		}
	}
	if dec.Len() != len(rows) {
		t.Fatalf("Len = %d, want %d", dec.Len(), len(rows))
	}
	arrs := dec.NewArrays()
	defer releaseAll(arrs)
	for c, a := range arrs {
		if !arrow.TypeEqual(a.DataType(), ts[c].Arrow()) {
			t.Fatalf("column %d: decoded type %s, want %s", c, a.DataType(), ts[c].Arrow())
		}
		if v, ok := a.(interface{ ValidateFull() error }); ok {
			if err := v.ValidateFull(); err != nil {
				t.Fatalf("column %d (%s): %v", c, ts[c], err)
			}
		}
		if err := validate(a); err != nil {
			t.Fatalf("column %d (%s): %v", c, ts[c], err)
		}
	}
	back := readRows(arrs, ts)
	for i, row := range rows {
		if canon(back[i]) != canon(row) {
			t.Fatalf("types %v row %d: decoded %s, want %s", ts, i, canon(back[i]), canon(row))
		}
	}
	// The fast encoder agrees on decoded arrays too (they carry empty values
	// under null rows and lazily allocated bitmaps).
	again, err := enc.Encode(nil, arrs, 0, len(rows))
	if err != nil || !bytes.Equal(again, want) {
		t.Fatalf("types %v: re-encode of decoded arrays: %v\n got %x\nwant %x", ts, err, again, want)
	}
}

func TestRoundTripRandom(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(1, 2))
	iters := 3000
	if testing.Short() {
		iters = 300
	}
	for range iters {
		ts := randSchema(r, 3)
		checkRoundTrip(t, mem, r, ts, randBatch(r, ts, r.IntN(40)))
	}
}

// TestRoundTripEveryType runs every type, flat and nested, with many rows.
func TestRoundTripEveryType(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(3, 4))
	base := mustTypes(t, "TINYINT", "SMALLINT", "INT", "BIGINT", "BOOLEAN", "FLOAT", "DOUBLE", "DECIMAL(38, 0)",
		"DECIMAL(38, 10)", "DECIMAL(5, 2)", "DECIMAL(19, 19)", "CHAR(3)", "VARCHAR(5)", "STRING", "BINARY(2)", "VARBINARY(3)", "BYTES",
		"DATE", "TIME(0)", "TIME(3)", "TIMESTAMP(0)", "TIMESTAMP(3)", "TIMESTAMP(4)", "TIMESTAMP(6)", "TIMESTAMP(7)",
		"TIMESTAMP(9)", "TIMESTAMP_LTZ(3)", "TIMESTAMP_LTZ(6)", "TIMESTAMP_LTZ(9)", "NULL")
	for _, b := range base {
		for _, t0 := range []types.T{b, b.NotNull()} {
			forms := []types.T{t0, types.ARRAY(t0), types.ROW(types.Field{Name: "f", Type: t0}, types.Field{Name: "g", Type: types.INT.NotNull()}),
				types.ARRAY(types.ROW(types.Field{Name: "f", Type: t0}))}
			if t0.Kind != types.Null {
				forms = append(forms, types.MAP(t0, t0), types.MAP(types.STRING, types.ARRAY(t0)))
			}
			for _, ty := range forms {
				ts := []types.T{ty, types.INT}
				t.Run(ty.String(), func(t *testing.T) {
					checkRoundTrip(t, mem, r, ts, randBatch(r, ts, 200))
				})
			}
		}
	}
}

func TestDecodeRollbackAndReuse(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		ts := randSchema(r, 3)
		rows := randBatch(r, ts, 1+r.IntN(20))
		var data []byte
		for _, row := range rows {
			data = append(data, refEncodeRow(ts, row)...)
		}
		dec := NewDecoder(mem, ts)
		// Good rows, then a corrupt copy of the data: the decoder keeps the
		// rows before the failure, which must still build valid arrays.
		if _, err := dec.Decode(data); err != nil {
			t.Fatal(err)
		}
		bad := bytes.Clone(data)
		bad[r.IntN(len(bad))] ^= byte(1 + r.IntN(255))
		n, err := dec.Decode(bad)
		if dec.Len() != len(rows)+n {
			t.Fatalf("after %d good rows and error %v: Len = %d", n, err, dec.Len())
		}
		if err != nil && !errPattern.MatchString(err.Error()) {
			t.Errorf("error %q does not name row/column", err)
		}
		arrs := dec.NewArrays()
		for _, a := range arrs {
			if a.Len() != len(rows)+n {
				t.Fatalf("array of %d values, want %d", a.Len(), len(rows)+n)
			}
			if v, ok := a.(interface{ ValidateFull() error }); ok {
				if err := v.ValidateFull(); err != nil {
					t.Fatal(err)
				}
			}
			if err := validate(a); err != nil {
				t.Fatal(err)
			}
		}
		got := readRows(arrs, ts)
		for i, row := range rows {
			if canon(got[i]) != canon(row) {
				t.Fatalf("row %d after rollback: %s, want %s", i, canon(got[i]), canon(row))
			}
		}
		releaseAll(arrs)
		// Reuse after NewArrays.
		if _, err := dec.Decode(data); err != nil {
			t.Fatal(err)
		}
		arrs = dec.NewArrays()
		got = readRows(arrs, ts)
		for i, row := range rows {
			if canon(got[i]) != canon(row) {
				t.Fatalf("row %d after reuse: %s, want %s", i, canon(got[i]), canon(row))
			}
		}
		releaseAll(arrs)
		// Release drops undelivered rows.
		if _, err := dec.Decode(data); err != nil {
			t.Fatal(err)
		}
		dec.Release()
		if dec.Len() != 0 {
			t.Fatal("Len after Release")
		}
	}
}

func hexRow(body string) string {
	b, err := hex.DecodeString(strings.ReplaceAll(body, " ", ""))
	if err != nil {
		panic(err)
	}
	return hex.EncodeToString(binary.AppendUvarint(nil, uint64(len(b)))) + hex.EncodeToString(b)
}

func TestDecodeErrors(t *testing.T) {
	intRow := hexRow("00 00000001")
	tests := []struct {
		types []string
		hex   string // whole input, spaces ignored
		want  string
	}{
		// The example of the brief: 17 good rows, then row 17 truncated in column 3.
		{[]string{"INT", "STRING", "BIGINT", "INT NOT NULL"},
			strings.Repeat(hexRow("00 00000001 00000000 0000000000000002 00000003"), 17) + hexRow("00 00000001 00000000 0000000000000002 0000"),
			"coder: row 17, column 3 (INT NOT NULL): truncated: need 4 bytes, 2 left"},
		{[]string{"INT"}, "05 00 00", "coder: row 0: length prefix 5 exceeds the 2 bytes left"},
		{[]string{"INT"}, intRow + "80", "coder: row 1: truncated length prefix: 1 bytes left"},
		{[]string{"INT"}, "ffffffffffffffffffff01", "coder: row 0: length prefix overflows 64 bits"},
		{[]string{"INT"}, "ffffffff0f 00", "coder: row 0: length prefix 4294967295 exceeds the 1 bytes left"},
		{[]string{"INT"}, "00", "coder: row 0: truncated: need 1 header bytes, 0 left"},
		{[]string{"INT"}, "01 01", "coder: row 0: header byte 0x01 has padding bits set"},
		{repeatType("INT", 7), "01 00", "coder: row 0: truncated: need 2 header bytes, 1 left"},
		{[]string{"INT"}, "06 00 00000001 ff", "coder: row 0, column 0 (INT): 1 bytes left over after the last column"},
		{[]string{"INT NOT NULL"}, "01 20", "coder: row 0, column 0 (INT NOT NULL): null in NOT NULL column"},
		{[]string{"STRING"}, "05 00 ffffffff", "coder: row 0, column 0 (STRING): negative length -1"},
		{[]string{"STRING"}, "05 00 7fffffff", "coder: row 0, column 0 (STRING): truncated: length 2147483647 exceeds the 0 bytes left"},
		{[]string{"STRING"}, "07 00 00000002 c328", `coder: row 0, column 0 (STRING): invalid UTF-8 in string "\xc3("`},
		{[]string{"CHAR(2)"}, "07 00 00000002 eda0", `coder: row 0, column 0 (CHAR(2)): invalid UTF-8`},
		{[]string{"BYTES"}, "03 00 0000", "coder: row 0, column 0 (BYTES): truncated: need 4 bytes, 2 left"},
		{[]string{"ARRAY<INT>"}, "05 00 80000000", "coder: row 0, column 0 (ARRAY<INT>): negative count -2147483648"},
		{[]string{"ARRAY<INT>"}, "06 00 7fffffff 01", "coder: row 0, column 0 (ARRAY<INT>): truncated: count 2147483647 exceeds the 1 bytes left"},
		{[]string{"ARRAY<INT>"}, "07 00 00000001 01 00", "coder: row 0, column 0 (ARRAY<INT>): element 0: truncated: need 4 bytes, 1 left"},
		{[]string{"ARRAY<INT>"}, "06 00 00000001 02", "coder: row 0, column 0 (ARRAY<INT>): element 0: invalid presence byte 2"},
		{[]string{"ARRAY<INT NOT NULL>"}, "06 00 00000001 00", "coder: row 0, column 0 (ARRAY<INT NOT NULL>): element 0: null in NOT NULL element"},
		{[]string{"MAP<INT, INT NOT NULL>"}, "0a 00 00000001 00000001 01", "coder: row 0, column 0 (MAP<INT, INT NOT NULL>): entry 0: null in NOT NULL value"},
		{[]string{"MAP<INT, INT>"}, "0a 00 00000001 00000001 05", "coder: row 0, column 0 (MAP<INT, INT>): entry 0: invalid null byte 5"},
		{[]string{"MAP<INT, INT>"}, hexRow("00 00000001 000000"), "coder: row 0, column 0 (MAP<INT, INT>): entry 0: key: truncated: need 4 bytes, 3 left"},
		{[]string{"MAP<INT, INT>"}, "09 00 00000001 00000001", "coder: row 0, column 0 (MAP<INT, INT>): entry 0: truncated: need 1 bytes, 0 left"},
		{[]string{"ROW<`a` INT NOT NULL, `b` INT>"}, "03 00 20 00", "coder: row 0, column 0 (ROW<`a` INT NOT NULL, `b` INT>): field a: null in NOT NULL field"},
		{[]string{"ROW<`a` INT, `b` INT>"}, hexRow("00 00 00000001 00"), "coder: row 0, column 0 (ROW<`a` INT, `b` INT>): field b: truncated: need 4 bytes, 1 left"},
		{[]string{"ROW<`a` INT>"}, "02 00 01", "coder: row 0, column 0 (ROW<`a` INT>): nested row: header byte 0x01 has padding bits set"},
		{[]string{"ROW<`a` INT>"}, "01 00", "coder: row 0, column 0 (ROW<`a` INT>): nested row: truncated: need 1 header bytes, 0 left"},
		{[]string{"ARRAY<ROW<`a` ARRAY<STRING NOT NULL>>>"}, hexRow("00 00000001 01 00 00000001 00"),
			"coder: row 0, column 0 (ARRAY<ROW<`a` ARRAY<STRING NOT NULL>>>): element 0: field a: element 0: null in NOT NULL element"},
		{[]string{"DECIMAL(5, 2)"}, hexRow("00 00000003 312e"), "coder: row 0, column 0 (DECIMAL(5, 2)): truncated: length 3 exceeds the 2 bytes left"},
		{[]string{"DECIMAL(5, 2)"}, hexRow("00 00000005" + hex.EncodeToString([]byte("1.2.3"))), `coder: row 0, column 0 (DECIMAL(5, 2)): invalid decimal text "1.2.3"`},
		{[]string{"DECIMAL(5, 2)"}, hexRow("00 00000000"), `coder: row 0, column 0 (DECIMAL(5, 2)): invalid decimal text ""`},
		{[]string{"DECIMAL(5, 2)"}, hexRow("00 00000003" + hex.EncodeToString([]byte("NaN"))), `invalid decimal text "NaN"`},
		{[]string{"DECIMAL(5, 2)"}, hexRow("00 00000002" + hex.EncodeToString([]byte("1e"))), `invalid decimal text "1e"`},
		{[]string{"DECIMAL(5, 2)"}, hexRow("00 00000003" + hex.EncodeToString([]byte(" 1."))), `invalid decimal text " 1."`},
		{[]string{"DECIMAL(5, 2)"}, hexRow("00 00000006" + hex.EncodeToString([]byte("1234.5"))), `coder: row 0, column 0 (DECIMAL(5, 2)): decimal "1234.5" does not fit DECIMAL(5, 2)`},
		{[]string{"DECIMAL(5, 2)"}, hexRow("00 00000007" + hex.EncodeToString([]byte("999.995"))), `decimal "999.995" does not fit DECIMAL(5, 2)`},
		{[]string{"DECIMAL(38, 0)"}, hexRow("00 00000005" + hex.EncodeToString([]byte("1e999"))), `decimal "1e999" does not fit DECIMAL(38, 0)`},
		{[]string{"DECIMAL(38, 0)"}, hexRow("00 00000027" + hex.EncodeToString([]byte(strings.Repeat("9", 39)))), `does not fit DECIMAL(38, 0)`},
		{[]string{"TIMESTAMP(6)"}, "0d 00 0000000000000000 000f4240", "coder: row 0, column 0 (TIMESTAMP(6)): nanoseconds 1000000 outside 0..999999"},
		{[]string{"TIMESTAMP(9)"}, "0d 00 0000000000000000 ffffffff", "coder: row 0, column 0 (TIMESTAMP(9)): nanoseconds -1 outside 0..999999"},
		{[]string{"TIMESTAMP(9)"}, "0d 00 7fffffffffffffff 00000000", "coder: row 0, column 0 (TIMESTAMP(9)): timestamp of 9223372036854775807 ms out of range"},
		{[]string{"TIMESTAMP_LTZ(6)"}, "0d 00 8000000000000000 00000000", "coder: row 0, column 0 (TIMESTAMP_LTZ(6)): timestamp of -9223372036854775808 ms out of range"},
		{[]string{"TIMESTAMP(6)"}, "09 00 0000000000000000", "coder: row 0, column 0 (TIMESTAMP(6)): truncated: need 12 bytes, 8 left"},
		{[]string{"TIME(3)"}, "05 00 05265c00", "coder: row 0, column 0 (TIME(3)): TIME value 86400000 ms is outside 00:00:00.000..23:59:59.999"},
		{[]string{"TIME(3)"}, "05 00 ffffffff", "TIME value -1 ms is outside"},
		{[]string{"BOOLEAN"}, "02 00 02", "coder: row 0, column 0 (BOOLEAN): invalid BOOLEAN byte 2"},
		{[]string{"NULL"}, "01 00", "coder: row 0, column 0 (NULL): non-null value of type NULL"},
		{[]string{"INT", "TINYINT"}, "05 00 00000001", "coder: row 0, column 1 (TINYINT): truncated: need 1 bytes, 0 left"},
		{[]string{"SMALLINT"}, "02 00 00", "coder: row 0, column 0 (SMALLINT): truncated: need 2 bytes, 1 left"},
		{[]string{"DOUBLE"}, "02 00 00", "need 8 bytes, 1 left"},
		{[]string{"FLOAT"}, "02 00 00", "need 4 bytes, 1 left"},
		{[]string{}, "02 00 00", "coder: row 0: 1 bytes left over after the header"},
		// Invalid values inside runs of rows without nulls (decoded a column at a time).
		{[]string{"INT", "TIME(3)"}, strings.Repeat("09 00 00000001 00000002", 3) + "09 00 00000001 05265c00" + strings.Repeat("09 00 00000001 00000002", 2),
			"coder: row 3, column 1 (TIME(3)): TIME value 86400000 ms is outside"},
		{[]string{"BOOLEAN", "TINYINT"}, strings.Repeat("03 00 01 07", 5) + "03 00 03 07" + "03 00 00 07", "coder: row 5, column 0 (BOOLEAN): invalid BOOLEAN byte 3"},
		{[]string{"TIMESTAMP(6)"}, strings.Repeat("0d 00 0000000000000001 00000000", 2) + "0d 00 0000000000000001 000f4240", "coder: row 2, column 0 (TIMESTAMP(6)): nanoseconds 1000000"},
		{[]string{"TIMESTAMP(9)", "SMALLINT", "FLOAT", "DOUBLE", "BIGINT"}, strings.Repeat("1f 00 8000000000000000 00000000 0001 00000000 0000000000000000 0000000000000000", 2),
			"coder: row 0, column 0 (TIMESTAMP(9)): timestamp of -9223372036854775808 ms out of range"},
		{repeatType("INT", 7), strings.Repeat("1e 0000 00000001 00000002 00000003 00000004 00000005 00000006 00000007", 4) + "1e 0000 00000001",
			"coder: row 4: length prefix 30 exceeds the 6 bytes left"},
		{[]string{"INT NOT NULL"}, strings.Repeat("05 00 00000001", 4) + "01 20", "coder: row 4, column 0 (INT NOT NULL): null in NOT NULL column"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			ts := mustTypes(t, tc.types...)
			data, err := hex.DecodeString(strings.ReplaceAll(tc.hex, " ", ""))
			if err != nil {
				t.Fatal(err)
			}
			dec := NewDecoder(mem, ts)
			defer dec.Release()
			n, err := dec.Decode(data)
			if err == nil {
				t.Fatalf("Decode of %x succeeded", data)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			if !errPattern.MatchString(err.Error()) {
				t.Errorf("error %q does not name row/column", err)
			}
			if dec.Len() != n {
				t.Errorf("Len = %d after %d good rows", dec.Len(), n)
			}
			releaseAll(dec.NewArrays())
		})
	}
}

// TestDecodeAccepts checks inputs that other encoders may produce.
func TestDecodeAccepts(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tests := []struct {
		typ  string
		text string
		want string
	}{
		{"DECIMAL(5, 2)", "1.005", "1.01"},
		{"DECIMAL(5, 2)", "-1.005", "-1.01"},
		{"DECIMAL(5, 2)", "1.004999", "1.00"},
		{"DECIMAL(5, 2)", "-0.004", "0.00"},
		{"DECIMAL(5, 2)", "1E+2", "100.00"},
		{"DECIMAL(5, 2)", "1e2", "100.00"},
		{"DECIMAL(5, 2)", "12.5E-1", "1.25"},
		{"DECIMAL(5, 2)", "0E-10", "0.00"},
		{"DECIMAL(5, 2)", "-0", "0.00"},
		{"DECIMAL(5, 2)", "+7", "7.00"},
		{"DECIMAL(5, 2)", ".5", "0.50"},
		{"DECIMAL(5, 2)", "5.", "5.00"},
		{"DECIMAL(5, 2)", "000000000000000000000000000000000000000000012.3400000000000000000000000000000000000", "12.34"},
		{"DECIMAL(5, 2)", "999.994", "999.99"},
		{"DECIMAL(5, 2)", "1e-999999999999999", "0.00"},
		{"DECIMAL(5, 2)", "0.005", "0.01"},
		{"DECIMAL(5, 2)", "0.0049", "0.00"},
		{"DECIMAL(1, 0)", "9.4", "9"},
		{"DECIMAL(1, 0)", "0.5", "1"},
		{"DECIMAL(3, 3)", "-0.0005", "-0.001"},
		{"DECIMAL(38, 0)", "99999999999999999999999999999999999999.4", "99999999999999999999999999999999999999"},
		{"DECIMAL(38, 38)", "0.99999999999999999999999999999999999999", "0.99999999999999999999999999999999999999"},
		{"DECIMAL(38, 10)", "-1234567890123456789012345678.90123456785", "-1234567890123456789012345678.9012345679"},
	}
	for _, tc := range tests {
		ty := mustTypes(t, tc.typ)
		data := hexRow("00" + fmt.Sprintf("%08x", len(tc.text)) + hex.EncodeToString([]byte(tc.text)))
		b, _ := hex.DecodeString(data)
		dec := NewDecoder(mem, ty)
		if _, err := dec.Decode(b); err != nil {
			t.Errorf("%s %q: %v", tc.typ, tc.text, err)
			dec.Release()
			continue
		}
		arrs := dec.NewArrays()
		if got := refDecimalText(arrs[0].(*array.Decimal128).Value(0), ty[0].Scale); got != tc.want {
			t.Errorf("%s %q = %s, want %s", tc.typ, tc.text, got, tc.want)
		}
		releaseAll(arrs)
	}

	// Any RowKind at the top level and in nested rows; not exposed.
	ts := mustTypes(t, "INT", "ROW<`a` INT>")
	dec := NewDecoder(mem, ts)
	defer dec.Release()
	for _, kind := range []byte{0x00, 0x80, 0x40, 0xc0} {
		b, _ := hex.DecodeString(hexRow(fmt.Sprintf("%02x 00000007 %02x 00000008", kind, kind)))
		if _, err := dec.Decode(b); err != nil {
			t.Errorf("RowKind %#x: %v", kind, err)
		}
	}
	// Non-minimal varint length and sub-unit nanoseconds (dropped).
	b, _ := hex.DecodeString("8a00" + "00" + "00000009" + "00" + "0000000a")
	if _, err := dec.Decode(b); err != nil {
		t.Errorf("non-minimal varint: %v", err)
	}
	arrs := dec.NewArrays()
	if got := canon(readRows(arrs, ts)); got != canon([][]any{{int32(7), []any{int32(8)}}, {int32(7), []any{int32(8)}}, {int32(7), []any{int32(8)}}, {int32(7), []any{int32(8)}}, {int32(9), []any{int32(10)}}}) {
		t.Errorf("rows %s", got)
	}
	releaseAll(arrs)

	tsd := NewDecoder(mem, mustTypes(t, "TIMESTAMP(6)"))
	defer tsd.Release()
	b, _ = hex.DecodeString("0d" + "00" + "ffffffffffffffff" + "000f423f")
	if _, err := tsd.Decode(b); err != nil {
		t.Fatal(err)
	}
	arrs = tsd.NewArrays()
	if v := arrs[0].(*array.Timestamp).Value(0); v != -1 {
		t.Errorf("-1 ms + 999999 ns as microseconds = %d, want -1", v)
	}
	releaseAll(arrs)
}

func TestEncodeErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tooBig := decimal128.FromI64(100000) // 1000.00: does not fit DECIMAL(5, 2)
	tests := []struct {
		types []string
		rows  [][]any
		want  string
	}{
		{[]string{"INT", "DECIMAL(5, 2)"}, [][]any{{int32(1), decimal128.FromI64(1)}, {int32(2), tooBig}},
			"coder: row 1, column 1 (DECIMAL(5, 2)): decimal 100000 does not fit DECIMAL(5, 2)"},
		{[]string{"STRING"}, [][]any{{"ok"}, {"ok"}, {"\xff"}}, `coder: row 2, column 0 (STRING): invalid UTF-8 in string "\xff"`},
		{[]string{"TIME(3)"}, [][]any{{arrow.Time32(msPerDay)}}, "coder: row 0, column 0 (TIME(3)): TIME value 86400000 ms is outside"},
		{[]string{"ARRAY<DECIMAL(2, 0)>"}, [][]any{{[]any{decimal128.FromI64(1), decimal128.FromI64(-100)}}},
			"coder: row 0, column 0 (ARRAY<DECIMAL(2, 0)>): element 1: decimal -100 does not fit DECIMAL(2, 0)"},
		{[]string{"ROW<`a` STRING>"}, [][]any{{[]any{"\xc3"}}}, "coder: row 0, column 0 (ROW<`a` STRING>): field a: invalid UTF-8"},
		{[]string{"MAP<STRING, STRING>"}, [][]any{{[][2]any{{"k", "\xc3"}}}}, "entry 0: value: invalid UTF-8"},
	}
	for _, tc := range tests {
		ts := mustTypes(t, tc.types...)
		cols := buildColumns(mem, ts, tc.rows)
		out, err := NewEncoder(ts).Encode([]byte{9}, cols, 0, len(tc.rows))
		releaseAll(cols)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Encode error %v, want %q", err, tc.want)
		}
		if len(out) != 1 {
			t.Errorf("Encode returned %x on error, want dst unchanged", out)
		}
		last := tc.rows[len(tc.rows)-1]
		if _, err := EncodeValues(nil, ts, last); err == nil || !strings.Contains(err.Error(), regexp.MustCompile(`row \d+, `).ReplaceAllString(tc.want, "")) {
			t.Errorf("EncodeValues error %v, want %q", err, tc.want)
		}
	}

	// Nulls where the type says NOT NULL, at the top and nested; the Arrow
	// arrays are built as nullable.
	nn := []struct {
		typ  types.T
		vals []any
		want string
	}{
		{types.INT.NotNull(), []any{int32(1), nil}, "coder: row 1, column 0 (INT NOT NULL): null in NOT NULL column"},
		{types.ARRAY(types.INT.NotNull()), []any{[]any{int32(1), nil}}, "coder: row 0, column 0 (ARRAY<INT NOT NULL>): element 1: null in NOT NULL element"},
		{types.MAP(types.INT, types.INT.NotNull()), []any{[][2]any{{int32(1), nil}}}, "entry 0: null in NOT NULL value"},
		{types.ROW(types.Field{Name: "a", Type: types.INT.NotNull()}), []any{[]any{nil}}, "field a: null in NOT NULL field"},
	}
	for _, tc := range nn {
		loose := looseType(tc.typ)
		a := buildArray(mem, loose, tc.vals)
		_, err := NewEncoder([]types.T{tc.typ}).Encode(nil, []arrow.Array{a}, 0, len(tc.vals))
		a.Release()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Encode error %v, want %q", err, tc.want)
		}
		if _, err := EncodeValues(nil, []types.T{tc.typ}, tc.vals[len(tc.vals)-1:]); err == nil {
			t.Errorf("EncodeValues accepted a null in %s", tc.typ)
		}
	}
	// A null map key (arrow-go cannot even build such a map array).
	if _, err := EncodeValues(nil, []types.T{types.MAP(types.INT, types.INT)}, []any{[][2]any{{nil, int32(1)}}}); err == nil ||
		!strings.Contains(err.Error(), "coder: column 0 (MAP<INT, INT>): entry 0: null key") {
		t.Errorf("EncodeValues with a null key: %v", err)
	}

	// Misuse.
	ints := buildArray(mem, types.INT, []any{int32(1)})
	defer ints.Release()
	misuse := []struct {
		enc  *Encoder
		cols []arrow.Array
		from int
		to   int
		want string
	}{
		{NewEncoder([]types.T{types.INT, types.INT}), []arrow.Array{ints}, 0, 1, "coder: 1 columns for 2 types"},
		{NewEncoder([]types.T{types.BIGINT}), []arrow.Array{ints}, 0, 1, "coder: column 0 (BIGINT): got Arrow type int32, want int64"},
		{NewEncoder([]types.T{types.DECIMAL(5, 3)}), []arrow.Array{ints}, 0, 1, "coder: column 0 (DECIMAL(5, 3)): got Arrow type int32, want decimal128 of scale 3"},
		{NewEncoder([]types.T{types.TIMESTAMP(6)}), []arrow.Array{ints}, 0, 1, "want timestamp[us]"},
		{NewEncoder([]types.T{types.ARRAY(types.INT)}), []arrow.Array{ints}, 0, 1, "want list"},
		{NewEncoder([]types.T{types.INT}), []arrow.Array{ints}, 0, 2, "coder: column 0 (INT): rows [0, 2) out of range of 1"},
		{NewEncoder([]types.T{types.INT}), []arrow.Array{ints}, -1, 1, "out of range"},
		{NewEncoder([]types.T{types.INT}), []arrow.Array{nil}, 0, 1, "nil array"},
		{NewEncoder([]types.T{types.DECIMAL(40, 2)}), []arrow.Array{ints}, 0, 1, "coder: column 0 (DECIMAL(40, 2)): unsupported DECIMAL(40, 2)"},
		{NewEncoder([]types.T{types.TIMESTAMP(10)}), []arrow.Array{ints}, 0, 1, "unsupported precision 10"},
		{NewEncoder([]types.T{types.MAP(types.NULL, types.INT)}), []arrow.Array{ints}, 0, 1, "MAP key of type NULL"},
	}
	for _, tc := range misuse {
		if _, err := tc.enc.Encode(nil, tc.cols, tc.from, tc.to); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
	if _, err := EncodeValues(nil, []types.T{types.INT}, []any{int64(1)}); err == nil || !strings.Contains(err.Error(), "coder: column 0 (INT): value 1 of Go type int64 does not represent INT") {
		t.Errorf("EncodeValues with a wrong Go type: %v", err)
	}
	if _, err := EncodeValues(nil, []types.T{types.INT}, nil); err == nil || !strings.Contains(err.Error(), "coder: 0 values for 1 types") {
		t.Errorf("EncodeValues with missing values: %v", err)
	}
	if _, err := NewDecoder(mem, []types.T{types.DECIMAL(0, 0)}).Decode([]byte{1, 0}); err == nil {
		t.Error("DECIMAL(0, 0) decoder accepted")
	}
}

// looseType returns t with every level nullable, for building arrays that
// break t's NOT NULL declarations.
func looseType(t types.T) types.T {
	t.Nullable = true
	switch t.Kind {
	case types.Array:
		e := looseType(*t.Elem)
		t.Elem = &e
	case types.Map:
		k, v := looseType(*t.Key), looseType(*t.Value)
		t.Key, t.Value = &k, &v
	case types.Row:
		fs := make([]types.Field, len(t.Fields))
		for i, f := range t.Fields {
			fs[i] = types.Field{Name: f.Name, Type: looseType(f.Type)}
		}
		t.Fields = fs
	}
	return t
}

func TestDecodeTable(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ts := []types.T{types.INT, types.STRING}
	row := func(i int32, s string) []byte {
		b, err := EncodeValues(nil, ts, []any{i, s})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	end := []byte{1, 0}
	var data []byte
	data = append(data, row(1, "a")...)
	data = append(data, row(2, "b")...)
	data = append(data, end...)
	data = append(data, end...)
	data = append(data, row(3, "c")...)
	data = append(data, end...)
	data = append(data, row(4, "d")...) // input 13's answer continues in the next piece

	dec := NewDecoder(mem, ts)
	defer dec.Release()
	n, err := dec.DecodeTable(data, 10)
	if err != nil || n != 3 {
		t.Fatalf("DecodeTable = %d, %v", n, err)
	}
	n, err = dec.DecodeTable(append(row(5, "e"), end...), 10+n)
	if err != nil || n != 1 {
		t.Fatalf("DecodeTable of the rest = %d, %v", n, err)
	}
	if got := fmt.Sprint(dec.Parents()); got != "[10 10 12 13 13]" {
		t.Errorf("Parents = %s", got)
	}
	parents := dec.Parents()
	arrs := dec.NewArrays()
	if got := canon(readRows(arrs, ts)); got != canon([][]any{{int32(1), "a"}, {int32(2), "b"}, {int32(3), "c"}, {int32(4), "d"}, {int32(5), "e"}}) {
		t.Errorf("rows %s", got)
	}
	releaseAll(arrs)
	if len(dec.Parents()) != 0 || fmt.Sprint(parents) != "[10 10 12 13 13]" {
		t.Errorf("after NewArrays: Parents %v, earlier slice %v", dec.Parents(), parents)
	}

	// An error rolls back rows and parents.
	bad := append(append(row(1, "a"), end...), 0x05, 0x00, 0x00)
	n, err = dec.DecodeTable(bad, 0)
	if err == nil || n != 1 || dec.Len() != 1 || len(dec.Parents()) != 1 {
		t.Errorf("bad answer: n %d err %v len %d parents %v", n, err, dec.Len(), dec.Parents())
	}
	if err != nil && !strings.HasPrefix(err.Error(), "coder: row 2: length prefix 5") {
		t.Errorf("error %v", err)
	}
	dec.Release()
	if _, err := NewDecoder(mem, nil).DecodeTable(end, 0); err == nil {
		t.Error("DecodeTable without columns accepted")
	}
	if _, err := dec.DecodeTable(end, -1); err == nil {
		t.Error("negative firstInput accepted")
	}
}

// countingAllocator records the peak of the bytes held.
type countingAllocator struct {
	mu        sync.Mutex
	inner     memory.Allocator
	cur, peak int
}

func (a *countingAllocator) Allocate(n int) []byte {
	a.mu.Lock()
	a.cur += n
	a.peak = max(a.peak, a.cur)
	a.mu.Unlock()
	return a.inner.Allocate(n)
}

func (a *countingAllocator) Reallocate(n int, b []byte) []byte {
	a.mu.Lock()
	a.cur += n - len(b)
	a.peak = max(a.peak, a.cur+len(b)) // old and new are both held while copying
	a.mu.Unlock()
	return a.inner.Reallocate(n, b)
}

func (a *countingAllocator) Free(b []byte) {
	a.mu.Lock()
	a.cur -= len(b)
	a.mu.Unlock()
	a.inner.Free(b)
}

// allocSchemas are the schemas of the allocation and fuzz tests.
var allocSchemas = [][]string{
	{"INT NOT NULL"},
	{"INT", "STRING", "BIGINT", "DOUBLE"},
	{"ARRAY<BIGINT>", "MAP<STRING, INT>"},
	{"ARRAY<MAP<STRING, ROW<`a` INT, `b` ARRAY<BIGINT>>>>"},
	{"DECIMAL(38, 10)", "TIMESTAMP(9)", "TIME(3)", "BOOLEAN", "BYTES"},
	{"ROW<`a` ROW<`b` ROW<`c` INT>>>", "ARRAY<ARRAY<ARRAY<INT>>>"},
}

// allocBound is what a decoder of these schemas may hold for an input of n
// bytes: a null of ARRAY<ROW<..>> costs one input byte and at most a few
// dozen bytes of Arrow data, doubled by buffer growth, plus the first
// allocation of each buffer.
func allocBound(n int) int { return 64*n + 8192 }

func TestDecodeAllocationBounded(t *testing.T) {
	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer checked.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(7, 8))
	var inputs [][]byte
	// Hostile counts and lengths, valid prefixes.
	for _, s := range []string{
		"05 00 7fffffff", "09 00 7fffffff 7fffffff", "ffffffff0f 00", "06 00 7fffffff 01",
		"0a 00 00000001 7fffffff 00", "ffffffffffffffff7f",
	} {
		b, _ := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
		inputs = append(inputs, b)
	}
	for range 2000 {
		b := make([]byte, r.IntN(64))
		for i := range b {
			b[i] = byte(r.Uint32())
			if r.IntN(4) == 0 {
				b[i] = []byte{0, 1, 0x7f, 0x80, 0xff}[r.IntN(5)]
			}
		}
		inputs = append(inputs, b)
	}
	for _, sch := range allocSchemas {
		ts := mustTypes(t, sch...)
		// Valid data and its truncations and corruptions too.
		var good []byte
		for _, row := range randBatch(r, ts, 30) {
			good = append(good, refEncodeRow(ts, row)...)
		}
		cases := append([][]byte{good}, inputs...)
		for range 200 {
			c := bytes.Clone(good[:r.IntN(len(good)+1)])
			if len(c) > 0 {
				c[r.IntN(len(c))] = byte(r.Uint32())
			}
			cases = append(cases, c)
		}
		for _, in := range cases {
			ca := &countingAllocator{inner: checked}
			dec := NewDecoder(ca, ts)
			_, err := dec.Decode(in)
			if err != nil && !errPattern.MatchString(err.Error()) {
				t.Errorf("error %q does not name row/column", err)
			}
			releaseAll(dec.NewArrays())
			dec.Release()
			if ca.peak > allocBound(len(in)) {
				t.Errorf("%v: input of %d bytes made the decoder hold %d bytes", sch, len(in), ca.peak)
			}
		}
	}
}

func TestEncodeValuesTypes(t *testing.T) {
	// Every Go type of expr.Literal, against the Encoder.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ts := mustTypes(t, "TINYINT", "SMALLINT", "INT", "BIGINT", "BOOLEAN", "FLOAT", "DOUBLE", "DECIMAL(4, 1)", "STRING",
		"BYTES", "DATE", "TIME(3)", "TIMESTAMP(3)", "TIMESTAMP(6)", "TIMESTAMP_LTZ(9)", "NULL")
	row := []any{int8(-1), int16(-2), int32(-3), int64(-4), true, float32(-0.5), math.Inf(1), decimal128.FromI64(-15), "s",
		[]byte{1}, arrow.Date32(-1), arrow.Time32(1), arrow.Timestamp(-1), arrow.Timestamp(-1), arrow.Timestamp(-1), nil}
	got, err := EncodeValues(nil, ts, row)
	if err != nil {
		t.Fatal(err)
	}
	cols := buildColumns(mem, ts, [][]any{row})
	defer releaseAll(cols)
	want, err := NewEncoder(ts).Encode(nil, cols, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("EncodeValues %x\n      Encode %x", got, want)
	}
	if !bytes.Contains(got, []byte("-1.5")) {
		t.Errorf("decimal -15 of scale 1 not written as -1.5: %x", got)
	}
}

func TestDecimalText(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 100000 {
		p := 1 + r.IntN(38)
		s := r.IntN(p + 1)
		n := randValue(r, types.DECIMAL(p, s).NotNull()).(decimal128.Num)
		text, err := appendDecimalText(nil, n, p, s)
		if err != nil {
			t.Fatal(err)
		}
		if want := refDecimalText(n, s); string(text) != want {
			t.Fatalf("DECIMAL(%d, %d) %v: %s, want %s", p, s, n.BigInt(), text, want)
		}
		back, err := parseDecimal(text, p, s)
		if err != nil || back != n {
			t.Fatalf("parse %s = %v, %v", text, back.BigInt(), err)
		}
	}
	// The extremes of decimal128 do not fit any precision.
	for _, n := range []decimal128.Num{decimal128.New(math.MaxInt64, math.MaxUint64), decimal128.New(math.MinInt64, 0), decimal128.FromBigInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(38), nil))} {
		if _, err := appendDecimalText(nil, n, 38, 0); err == nil {
			t.Errorf("%v fits DECIMAL(38, 0)", n.BigInt())
		}
	}
}

// TestUniformRuns covers the column-at-a-time paths: fixed-width columns
// without nulls, long runs of them between rows with nulls, headers of
// several bytes and rows longer than 127 bytes.
func TestUniformRuns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(13, 14))
	schemas := [][]types.T{
		mustTypes(t, "INT", "DOUBLE", "BOOLEAN", "TIMESTAMP(9)", "TIME(3)", "DATE", "TINYINT", "SMALLINT", "FLOAT", "TIMESTAMP_LTZ(6)", "TIMESTAMP(2)"),
		mustTypes(t, repeatType("BIGINT NOT NULL", 20)...),
		mustTypes(t, "INT"),
	}
	for _, ts := range schemas {
		for _, nullRows := range [][]int{nil, {0}, {500}, {0, 1, 2, 700, 999}} {
			rows := make([][]any, 1000)
			for i := range rows {
				rows[i] = make([]any, len(ts))
				for c, ty := range ts {
					rows[i][c] = randValue(r, ty.NotNull())
				}
			}
			for _, i := range nullRows {
				if ts[0].Nullable {
					rows[i][0] = nil
				}
			}
			checkRoundTrip(t, mem, r, ts, rows)
		}
	}
}
