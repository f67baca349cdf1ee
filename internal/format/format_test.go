package format

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// allTypes is a schema of every scalar type the formats take.
var allTypes = types.Schema{
	{Name: "b", Type: types.BOOLEAN},
	{Name: "i8", Type: types.T{Kind: types.TinyInt, Nullable: true}},
	{Name: "i16", Type: types.T{Kind: types.SmallInt, Nullable: true}},
	{Name: "i32", Type: types.INT},
	{Name: "i64", Type: types.BIGINT},
	{Name: "f32", Type: types.FLOAT},
	{Name: "f64", Type: types.DOUBLE},
	{Name: "dec", Type: types.DECIMAL(10, 3)},
	{Name: "s", Type: types.STRING},
	{Name: "bin", Type: types.BYTES},
	{Name: "d", Type: types.DATE},
	{Name: "t", Type: types.TIME(0)},
	{Name: "ts", Type: types.TIMESTAMP(3)},
	{Name: "ts6", Type: types.TIMESTAMP(6)},
	{Name: "ltz", Type: types.TIMESTAMP_LTZ(3)},
}

// allRows are rows of allTypes: typical values, edge values and NULLs.
var allRows = [][]any{
	{true, int8(-128), int16(32767), int32(42), int64(-9007199254740993), float32(1.5), 0.1, decimal128.FromI64(1234567), "hello",
		[]byte{0, 1, 254}, arrow.Date32(19000), arrow.Time32(3723000), arrow.Timestamp(1700000000123), arrow.Timestamp(1700000000123456), arrow.Timestamp(86400000)},
	{false, int8(0), int16(-1), int32(-2147483648), int64(0), float32(-0.25), 1e300, decimal128.FromI64(-5), "quote \" backslash \\ tab \t nl \n ctl \x01 ünï €",
		[]byte{}, arrow.Date32(-1), arrow.Time32(0), arrow.Timestamp(-1), arrow.Timestamp(0), arrow.Timestamp(0)},
	{nil, nil, nil, nil, nil, nil, nil, nil, "", nil, nil, nil, nil, nil, nil},
	{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
}

// batchOf builds a batch of schema from rows of Literal-style values.
func batchOf(t testing.TB, schema types.Schema, rows [][]any) arrow.RecordBatch {
	t.Helper()
	arrs := make([]arrow.Array, len(schema))
	for j, f := range schema {
		vals := make([]any, len(rows))
		for i, r := range rows {
			vals[i] = r[j]
		}
		a, err := exec.BuildArray(memory.DefaultAllocator, f.Type, vals)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Release()
		arrs[j] = a
	}
	return array.NewRecordBatch(schema.Arrow(), arrs, int64(len(rows)))
}

// rowsOf returns the rows of a batch as Literal-style values.
func rowsOf(b arrow.RecordBatch) [][]any {
	var rows [][]any
	for i := 0; i < int(b.NumRows()); i++ {
		var r []any
		for _, c := range b.Columns() {
			r = append(r, exec.ValueAt(c, i))
		}
		rows = append(rows, r)
	}
	return rows
}

func mustOpen(t testing.TB, name string, schema types.Schema, opts map[string]string) *Format {
	t.Helper()
	f, err := Open(name, schema, func(k string) (string, bool) { v, ok := opts[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// encodeAll encodes every row of b.
func encodeAll(t testing.TB, f *Format, b arrow.RecordBatch) [][]byte {
	t.Helper()
	enc := f.NewEncoder()
	var recs [][]byte
	for i := 0; i < int(b.NumRows()); i++ {
		rec, err := enc.Append(nil, b.Columns(), i)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// decodeAll decodes records into one batch.
func decodeAll(f *Format, schema types.Schema, recs [][]byte) (arrow.RecordBatch, error) {
	dec := f.NewDecoder()
	b := NewBuilder(schema, memory.DefaultAllocator)
	for _, r := range recs {
		if err := dec.Decode(r, b); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

// checkRoundTrip is the body of the decoders' fuzz targets: a record over
// allTypes decodes or fails with a *RecordError, and a row that decodes
// encodes to a record that decodes to the same row.
func checkRoundTrip(t *testing.T, fm *Format, rec []byte) {
	t.Helper()
	got, err := decodeAll(fm, allTypes, [][]byte{rec})
	if err != nil {
		if _, ok := err.(*RecordError); !ok {
			t.Fatalf("error %T is not a *RecordError: %v", err, err)
		}
		return
	}
	defer got.Release()
	again, err := decodeAll(fm, allTypes, encodeAll(t, fm, got))
	if err != nil {
		t.Fatalf("re-encoded row does not decode: %v", err)
	}
	defer again.Release()
	sameRows(t, rowsOf(again), rowsOf(got))
}

// checkGolden compares got with testdata/name (rewritten with -update).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// sameRows compares rows by their printed form (NaN equals NaN).
func sameRows(t *testing.T, got, want [][]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		for j := range want[i] {
			g, w := printValue(got[i][j]), printValue(want[i][j])
			if g != w {
				t.Errorf("row %d column %d: got %s, want %s", i, j, g, w)
			}
		}
	}
}

func printValue(v any) string {
	if b, ok := v.([]byte); ok {
		return "bytes:" + string(b)
	}
	s := strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(fmtAny(v), "\n", "\\n"), "\t", "\\t"))
	return s
}
