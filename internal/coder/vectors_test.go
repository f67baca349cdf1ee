package coder

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/weir-dev/weir/internal/types"
)

var update = flag.Bool("update", false, "rewrite testdata/rows/*.json from the cases in vectors_test.go")

var vectorDir = filepath.Join("..", "..", "testdata", "rows")

// vectorCase is a case of testdata/rows/vectors.json.
type vectorCase struct {
	Name        string   `json:"name"`
	Types       []string `json:"types"`
	PythonLossy bool     `json:"python_lossy,omitempty"`
	Answers     []int    `json:"answers,omitempty"`
	Rows        []any    `json:"rows"`
	Hex         string   `json:"hex"`
}

// srcCase is a case as written here: rows in the JSON notation.
type srcCase struct {
	name  string
	types []string
	rows  string
	lossy bool
}

func intRow(n int, null func(int) bool) string {
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		if null(i) {
			b.WriteString("null")
		} else {
			fmt.Fprint(&b, i+1)
		}
	}
	b.WriteString("]")
	return b.String()
}

func repeatType(t string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = t
	}
	return out
}

var vectorSources = []srcCase{
	{name: "design_example", types: []string{"INT", "STRING", "BIGINT", "DOUBLE"},
		rows: `[[1, "ab", null, 1.5]]`},
	{name: "every_type", types: []string{"TINYINT", "SMALLINT", "INT", "BIGINT", "BOOLEAN", "FLOAT", "DOUBLE",
		"DECIMAL(10, 3)", "CHAR(5)", "VARCHAR(20)", "STRING", "BINARY(2)", "VARBINARY(8)", "BYTES", "DATE", "TIME(3)",
		"TIMESTAMP(3)", "TIMESTAMP_LTZ(6)", "ARRAY<INT>", "MAP<STRING, DOUBLE>", "ROW<`f` INT, `g` STRING>"},
		rows: `[
		[1, 2, 3, 4, true, 0.5, 0.25, "1234567.891", "abcde", "varchar", "string", "0102", "0a0b0c", "ff", "2024-02-29",
		 "12:34:56.789", "2024-02-29T12:34:56.789000000", "2024-02-29T12:34:56.789012000Z", [1, 2], [["k", 1.0]], [7, "g"]],
		[null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null]]`},
	{name: "tinyint", types: []string{"TINYINT", "TINYINT NOT NULL"},
		rows: `[[-128, 127], [0, -1], [null, 1]]`},
	{name: "smallint", types: []string{"SMALLINT"},
		rows: `[[-32768], [32767], [0], [-1], [null]]`},
	{name: "int", types: []string{"INT", "INT NOT NULL"},
		rows: `[[-2147483648, 2147483647], [0, -1], [null, 0]]`},
	{name: "bigint", types: []string{"BIGINT"},
		rows: `[[-9223372036854775808], [9223372036854775807], [0], [-1], [null]]`},
	{name: "boolean", types: []string{"BOOLEAN", "BOOLEAN NOT NULL"},
		rows: `[[true, false], [false, true], [null, true]]`},
	{name: "float", types: []string{"FLOAT"},
		rows: `[[1.5], [-2.25], [0.0], ["-0.0"], ["NaN"], ["Infinity"], ["-Infinity"], [3.4028234663852886e+38],
		[-3.4028234663852886e+38], [1.401298464324817e-45], [0.10000000149011612], [16777216.0], [null]]`},
	{name: "double", types: []string{"DOUBLE"},
		rows: `[[1.5], [-0.1], [0.0], ["-0.0"], ["NaN"], ["Infinity"], ["-Infinity"], [1.7976931348623157e+308],
		[-1.7976931348623157e+308], [5e-324], [2.2250738585072014e-308], [9007199254740993e+3], [1e+21], [123456789.0], [null]]`},
	{name: "decimal_max_precision", types: []string{"DECIMAL(38, 0)", "DECIMAL(38, 10)"},
		rows: `[
		["99999999999999999999999999999999999999", "9999999999999999999999999999.9999999999"],
		["-99999999999999999999999999999999999999", "-9999999999999999999999999999.9999999999"],
		["0", "0.0000000000"],
		["12345678901234567890123456789012345678", "-1234567890123456789012345678.9012345678"],
		["-1", "0.0000000001"],
		["170141183460469231731687303715884105", "-0.0000000001"],
		[null, "18446744073709551616.0000000000"]]`},
	{name: "decimal_small", types: []string{"DECIMAL(5, 2)", "DECIMAL(1, 0)", "DECIMAL(3, 3)", "DECIMAL(18, 4)", "DECIMAL(19, 0)"},
		rows: `[
		["-12.50", "0", "0.001", "12345678901234.5678", "9223372036854775807"],
		["0.00", "9", "-0.999", "-99999999999999.9999", "-9223372036854775808"],
		["999.99", "-9", "0.000", "0.0001", "9999999999999999999"],
		["0.05", null, "0.500", "-0.0050", "-9999999999999999999"]]`},
	{name: "strings", types: []string{"CHAR(3)", "VARCHAR(10)", "STRING", "STRING NOT NULL"},
		rows: `[
		["abc", "", "é", ""],
		["中文", "😀", "a\u0000b", "mixed é 中文 😀"],
		["", null, "tab\tquote\"backslash\\", "\u007f\u0080\uffff"],
		[null, "ascii", null, "x"]]`},
	{name: "binary", types: []string{"BINARY(3)", "VARBINARY(10)", "BYTES"},
		rows: `[["000102", "", "ff"], ["", null, "deadbeef"], ["ffffff", "00", ""]]`},
	{name: "date", types: []string{"DATE"},
		rows: `[["0001-01-01"], ["1969-12-31"], ["1970-01-01"], ["1900-03-01"], ["2000-02-29"], ["2038-01-20"], ["2100-02-28"], ["9999-12-31"], [null]]`},
	{name: "time", types: []string{"TIME(0)", "TIME(3)"},
		rows: `[["00:00:00.000", "23:59:59.999"], ["12:34:56.000", "00:00:00.001"], ["23:59:59.000", "00:00:00.000"], [null, "12:00:00.500"]]`},
	{name: "timestamp_p0_p3", types: []string{"TIMESTAMP(0)", "TIMESTAMP(3)"},
		rows: `[
		["1970-01-01T00:00:00.000000000", "1969-12-31T23:59:59.999000000"],
		["2024-02-29T12:34:56.000000000", "0001-01-01T00:00:00.000000000"],
		["1900-01-01T00:00:00.000000000", "9999-12-31T23:59:59.999000000"],
		["1969-12-31T23:59:59.000000000", "1970-01-01T00:00:00.001000000"],
		[null, "2038-01-19T03:14:08.001000000"]]`},
	{name: "timestamp_p6", types: []string{"TIMESTAMP(6)", "TIMESTAMP(4)"},
		rows: `[
		["1969-12-31T23:59:59.999999000", "1969-12-31T23:59:59.999900000"],
		["1970-01-01T00:00:00.000001000", "1970-01-01T00:00:00.000100000"],
		["0001-01-01T00:00:00.000000000", "0001-01-01T00:00:00.000100000"],
		["9999-12-31T23:59:59.999999000", "9999-12-31T23:59:59.999900000"],
		["1960-06-15T08:30:00.123456000", "2100-02-28T00:00:00.000000000"],
		[null, null]]`},
	{name: "timestamp_p9_whole_micros", types: []string{"TIMESTAMP(9)", "TIMESTAMP(7)"},
		rows: `[
		["1969-12-31T23:59:59.999999000", "1969-12-31T23:59:59.000001000"],
		["2020-01-01T00:00:00.000001000", "2262-04-11T23:47:16.854775000"],
		["1677-09-21T00:12:43.145225000", null]]`},
	{name: "timestamp_p9_nanos", types: []string{"TIMESTAMP(9)", "TIMESTAMP_LTZ(9)"}, lossy: true,
		rows: `[
		["1969-12-31T23:59:59.999999999", "1969-12-31T23:59:59.999999999Z"],
		["1970-01-01T00:00:00.000000001", "1970-01-01T00:00:00.000000001Z"],
		["2262-04-11T23:47:16.854775807", "1677-09-21T00:12:43.145224192Z"],
		["2000-01-01T00:00:00.123456789", "1950-05-05T05:05:05.000000500Z"]]`},
	{name: "timestamp_ltz", types: []string{"TIMESTAMP_LTZ(0)", "TIMESTAMP_LTZ(3)", "TIMESTAMP_LTZ(6)"},
		rows: `[
		["1970-01-01T00:00:00.000000000Z", "1969-12-31T23:59:59.999000000Z", "1969-12-31T23:59:59.999999000Z"],
		["0001-01-01T00:00:00.000000000Z", "9999-12-31T23:59:59.999000000Z", "2024-06-30T12:00:00.000001000Z"],
		[null, null, null]]`},
	{name: "array", types: []string{"ARRAY<INT>", "ARRAY<STRING NOT NULL>", "ARRAY<INT NOT NULL> NOT NULL"},
		rows: `[
		[[1, null, 3], ["a", ""], [1]],
		[[], [], []],
		[null, ["é", "中文"], [-1, 0, 1]],
		[[null], null, []]]`},
	{name: "map", types: []string{"MAP<STRING, INT>", "MAP<INT NOT NULL, STRING NOT NULL>"},
		rows: `[
		[[["a", 1], ["b", null]], [[1, "one"], [2, "two"]]],
		[[], []],
		[null, [[0, ""]]],
		[[["", 0]], null]]`},
	{name: "row", types: []string{"ROW<`a` INT, `b` STRING>", "ROW<`x` DOUBLE NOT NULL> NOT NULL", "ROW<>"},
		rows: `[
		[[1, "s"], [2.5], []],
		[[null, null], [-1.0], null],
		[null, ["-0.0"], []]]`},
	{name: "nested_nulls", types: []string{"INT", "ARRAY<BIGINT>", "MAP<INT, STRING>", "ROW<`a` INT, `b` ROW<`c` STRING>>"},
		rows: `[
		[null, [null, 1], [[1, null]], [null, null]],
		[1, null, null, null],
		[2, [], [], [3, [null]]],
		[3, [null, null], [[1, null], [2, null]], [null, ["c"]]]]`},
	{name: "empty_values", types: []string{"STRING", "BYTES", "ARRAY<STRING>", "MAP<STRING, STRING>", "CHAR(1)"},
		rows: `[["", "", [], [], ""], ["", "", [""], [["", ""]], ""]]`},
	{name: "fields_8", types: repeatType("INT", 8),
		rows: "[" + intRow(8, func(int) bool { return false }) + ", " + intRow(8, func(i int) bool { return i%2 == 1 }) + ", " +
			intRow(8, func(int) bool { return true }) + "]"},
	{name: "fields_9", types: []string{"INT", "STRING", "BIGINT", "DOUBLE", "BOOLEAN", "TINYINT", "SMALLINT", "DATE", "INT"},
		rows: `[
		[1, "a", 2, 3.5, true, 4, 5, "2000-01-01", 6],
		[null, "b", null, 1.0, null, 7, null, "1970-01-01", null],
		[1, null, 2, null, false, null, 5, null, 9]]`},
	{name: "fields_17", types: repeatType("BIGINT", 17),
		rows: "[" + intRow(17, func(int) bool { return false }) + ", " + intRow(17, func(i int) bool { return i >= 14 }) + ", " +
			intRow(17, func(i int) bool { return i == 0 || i == 6 || i == 16 }) + ", " + intRow(17, func(int) bool { return true }) + "]"},
	{name: "deeply_nested", types: []string{"ARRAY<MAP<STRING, ROW<`a` INT, `b` ARRAY<BIGINT>>>>"},
		rows: `[
		[[[["k", [1, [2, 3]]], ["n", null], ["e", [null, []]], ["z", [4, [null, -9223372036854775808]]]], null, []]],
		[[]],
		[null],
		[[[]]]]`},
	{name: "long_rows", types: []string{"STRING", "INT"},
		rows: `[["` + strings.Repeat("x", 122) + `", 1], ["` + strings.Repeat("y", 123) + `", 2], ["` + strings.Repeat("é", 200) +
			`", 3], ["` + strings.Repeat("z", 16400) + `", 4]]`},
}

var tableSource = srcCase{name: "table_function", types: []string{"INT", "STRING"},
	rows: `[[1, "first of input 0"], [2, null], [3, "only of input 2"]]`}

var tableAnswers = []int{2, 0, 1}

// caseValues turns a case's JSON rows into Go values.
func caseValues(ts []types.T, rows []any) ([][]any, error) {
	out := make([][]any, len(rows))
	for i, r := range rows {
		row, ok := r.([]any)
		if !ok || len(row) != len(ts) {
			return nil, fmt.Errorf("row %d: want %d values, got %v", i, len(ts), r)
		}
		out[i] = make([]any, len(ts))
		for c, t := range ts {
			v, err := fromJSON(t, row[c])
			if err != nil {
				return nil, fmt.Errorf("row %d, column %d: %w", i, c, err)
			}
			out[i][c] = v
		}
	}
	return out, nil
}

func rowsJSON(ts []types.T, rows [][]any) []any {
	out := make([]any, len(rows))
	for i, row := range rows {
		js := make([]any, len(row))
		for c, v := range row {
			js[c] = toJSON(ts[c], v)
		}
		out[i] = js
	}
	return out
}

func marshal(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func unmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// writeCases writes cases with one row per line.
func writeCases(path string, cases []vectorCase) error {
	var b strings.Builder
	b.WriteString("{\"cases\": [\n")
	for i, c := range cases {
		fmt.Fprintf(&b, "  {\"name\": %s,\n   \"types\": %s,\n", marshal(c.Name), marshal(c.Types))
		if c.PythonLossy {
			b.WriteString("   \"python_lossy\": true,\n")
		}
		if c.Answers != nil {
			fmt.Fprintf(&b, "   \"answers\": %s,\n", marshal(c.Answers))
		}
		b.WriteString("   \"rows\": [\n")
		for j, r := range c.Rows {
			fmt.Fprintf(&b, "     %s", marshal(r))
			if j < len(c.Rows)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "   ],\n   \"hex\": %s}", marshal(c.Hex))
		if i < len(cases)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]}\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// encodeCase encodes a case's rows with the Encoder; answers, when set, splits
// them into table-function answers with end markers.
func encodeCase(t *testing.T, mem memory.Allocator, ts []types.T, rows [][]any, answers []int) []byte {
	t.Helper()
	cols := buildColumns(mem, ts, rows)
	defer releaseAll(cols)
	enc := NewEncoder(ts)
	if answers == nil {
		out, err := enc.Encode(nil, cols, 0, len(rows))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var out []byte
	at := 0
	for _, n := range answers {
		var err error
		if out, err = enc.Encode(out, cols, at, at+n); err != nil {
			t.Fatal(err)
		}
		out = append(out, 1, 0)
		at += n
	}
	return out
}

func loadSources(t *testing.T, srcs []srcCase, answers []int) []vectorCase {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var cases []vectorCase
	for _, s := range srcs {
		ts := mustTypes(t, s.types...)
		var js []any
		if err := unmarshal([]byte(s.rows), &js); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		rows, err := caseValues(ts, js)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		cases = append(cases, vectorCase{Name: s.name, Types: s.types, PythonLossy: s.lossy, Answers: answers,
			Rows: rowsJSON(ts, rows), Hex: hex.EncodeToString(encodeCase(t, mem, ts, rows, answers))})
	}
	return cases
}

func readCases(t *testing.T, name string) []vectorCase {
	data, err := os.ReadFile(filepath.Join(vectorDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []vectorCase `json:"cases"`
	}
	if err := unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	return file.Cases
}

func TestVectors(t *testing.T) {
	if *update {
		if err := os.MkdirAll(vectorDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := writeCases(filepath.Join(vectorDir, "vectors.json"), loadSources(t, vectorSources, nil)); err != nil {
			t.Fatal(err)
		}
		if err := writeCases(filepath.Join(vectorDir, "table_vectors.json"), loadSources(t, []srcCase{tableSource}, tableAnswers)); err != nil {
			t.Fatal(err)
		}
	}
	cases := readCases(t, "vectors.json")
	if len(cases) != len(vectorSources) {
		t.Errorf("vectors.json has %d cases, vectors_test.go %d: run go test -run TestVectors -update", len(cases), len(vectorSources))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) { checkVector(t, c) })
	}
	tcases := readCases(t, "table_vectors.json")
	if len(tcases) != 1 || !slicesEqual(tcases[0].Answers, tableAnswers) {
		t.Fatalf("table_vectors.json: want one case answering %v", tableAnswers)
	}
	t.Run(tcases[0].Name, func(t *testing.T) { checkVector(t, tcases[0]) })
}

func slicesEqual(a, b []int) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func checkVector(t *testing.T, c vectorCase) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ts := mustTypes(t, c.Types...)
	rows, err := caseValues(ts, c.Rows)
	if err != nil {
		t.Fatal(err)
	}
	want, err := hex.DecodeString(c.Hex)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsJSON(ts, rows); marshal(got) != marshal(c.Rows) {
		t.Errorf("rows are not in canonical notation:\n got %s\nwant %s", marshal(c.Rows), marshal(got))
	}

	// Go encode == hex, by the Encoder, by EncodeValues and by the reference.
	if got := encodeCase(t, mem, ts, rows, c.Answers); !bytes.Equal(got, want) {
		t.Errorf("Encode:\n got %x\nwant %x", got, want)
	}
	var byValues, byRef []byte
	at := 0
	for _, n := range slicesOrAll(c.Answers, len(rows)) {
		for _, row := range rows[at : at+n] {
			if byValues, err = EncodeValues(byValues, ts, row); err != nil {
				t.Fatal(err)
			}
			byRef = append(byRef, refEncodeRow(ts, row)...)
		}
		if c.Answers != nil {
			byValues = append(byValues, 1, 0)
			byRef = append(byRef, 1, 0)
		}
		at += n
	}
	if !bytes.Equal(byValues, want) {
		t.Errorf("EncodeValues:\n got %x\nwant %x", byValues, want)
	}
	if !bytes.Equal(byRef, want) {
		t.Errorf("reference encoder:\n got %x\nwant %x", byRef, want)
	}

	// Go decode(hex) == values.
	dec := NewDecoder(mem, ts)
	defer dec.Release()
	if c.Answers == nil {
		n, err := dec.Decode(want)
		if err != nil || n != len(rows) {
			t.Fatalf("Decode = %d, %v; want %d rows", n, err, len(rows))
		}
	} else {
		n, err := dec.DecodeTable(want, 5)
		if err != nil || n != len(c.Answers) {
			t.Fatalf("DecodeTable = %d, %v; want %d answers", n, err, len(c.Answers))
		}
		var wantParents []int32
		for in, k := range c.Answers {
			for range k {
				wantParents = append(wantParents, int32(5+in))
			}
		}
		if fmt.Sprint(dec.Parents()) != fmt.Sprint(wantParents) {
			t.Errorf("Parents = %v, want %v", dec.Parents(), wantParents)
		}
	}
	arrs := dec.NewArrays()
	defer releaseAll(arrs)
	for _, a := range arrs {
		if v, ok := a.(interface{ ValidateFull() error }); ok {
			if err := v.ValidateFull(); err != nil {
				t.Errorf("decoded array invalid: %v", err)
			}
		}
		if err := validate(a); err != nil {
			t.Errorf("decoded array invalid: %v", err)
		}
	}
	if got := rowsJSON(ts, readRows(arrs, ts)); marshal(got) != marshal(c.Rows) {
		t.Errorf("Decode:\n got %s\nwant %s", marshal(got), marshal(c.Rows))
	}
}

// slicesOrAll returns answers, or one group of all n rows.
func slicesOrAll(answers []int, n int) []int {
	if answers == nil {
		return []int{n}
	}
	return answers
}

// TestDesignExample anchors the vectors independently: the example row of
// docs/WIRE_FORMAT.md.
func TestDesignExample(t *testing.T) {
	const want = "1308000000010000000261623ff8000000000000"
	ts := []types.T{types.INT, types.STRING, types.BIGINT, types.DOUBLE}
	got, err := EncodeValues(nil, ts, []any{int32(1), "ab", nil, 1.5})
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != want {
		t.Errorf("EncodeValues = %x, want %s", got, want)
	}
	for _, c := range readCases(t, "vectors.json") {
		if c.Name == "design_example" && c.Hex != want {
			t.Errorf("vectors.json design_example hex = %s, want %s", c.Hex, want)
		}
	}
}
