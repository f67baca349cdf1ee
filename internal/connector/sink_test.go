package connector

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// partName is how a committed part file is named.
var partName = regexp.MustCompile(`^part-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-task-0-file-0$`)

// visible lists the entries of dir that readers see.
func visible(t *testing.T, dir string) []string {
	t.Helper()
	names, err := visibleEntries(dir)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// allTypes has a column of every type.
var allTypes = types.Schema{
	{Name: "ti", Type: types.TINYINT},
	{Name: "si", Type: types.SMALLINT},
	{Name: "i", Type: types.INT},
	{Name: "bi", Type: types.BIGINT},
	{Name: "f", Type: types.FLOAT},
	{Name: "d", Type: types.DOUBLE},
	{Name: "dec", Type: types.DECIMAL(10, 2)},
	{Name: "tiny", Type: types.DECIMAL(10, 8)},
	{Name: "b", Type: types.BOOLEAN},
	{Name: "ch", Type: types.CHAR(3)},
	{Name: "s", Type: types.STRING},
	{Name: "bin", Type: types.BINARY(3)},
	{Name: "by", Type: types.BYTES},
	{Name: "dt", Type: types.DATE},
	{Name: "t0", Type: types.TIME(0)},
	{Name: "t3", Type: types.TIME(3)},
	{Name: "ts3", Type: types.TIMESTAMP(3)},
	{Name: "ts6", Type: types.TIMESTAMP(6)},
	{Name: "ts9", Type: types.TIMESTAMP(9)},
	{Name: "ltz", Type: types.TIMESTAMP_LTZ(3)},
}

// allTypesRows are the scalar rows of allTypes: typical values, edge values
// and NULLs.
var allTypesRows = [][]any{
	{int8(1), int16(2), int32(3), int64(4), float32(1.5), 1.5e10, decimal128.FromI64(150), decimal128.FromI64(1), true, "abc", "héllo, world",
		[]byte{1, 2, 0xff}, []byte{}, arrow.Date32(18262), arrow.Time32(43200000), arrow.Time32(43201500),
		arrow.Timestamp(1577880000000), arrow.Timestamp(1577880000123456), arrow.Timestamp(1577880000000000001), arrow.Timestamp(1577880000000)},
	{int8(-128), int16(-32768), int32(math.MinInt32), int64(math.MinInt64), float32(math.Inf(1)), math.NaN(), decimal128.FromI64(-5), decimal128.FromI64(0), false, "x  ", "",
		[]byte{0, 0, 0}, []byte{0x80}, arrow.Date32(-1), arrow.Time32(1000), arrow.Time32(0),
		arrow.Timestamp(-1), arrow.Timestamp(1500), arrow.Timestamp(0), arrow.Timestamp(1577880000500)},
	make([]any, 20),
}

// allTypesBatch builds a batch of allTypes plus an ARRAY, a MAP and a ROW column.
func allTypesBatch(t *testing.T, mem memory.Allocator) (types.Schema, arrow.RecordBatch) {
	t.Helper()
	schema := append(types.Schema{}, allTypes...)
	cols := make([]arrow.Array, 0, len(schema)+3)
	for j, f := range allTypes {
		vals := make([]any, len(allTypesRows))
		for i, r := range allTypesRows {
			vals[i] = r[j]
		}
		a, err := exec.BuildArray(mem, f.Type, vals)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		cols = append(cols, a)
	}

	arrT := types.ARRAY(types.INT)
	lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Int32)
	ib := lb.ValueBuilder().(*array.Int32Builder)
	lb.Append(true)
	ib.Append(1)
	ib.AppendNull()
	ib.Append(3)
	lb.Append(true)
	lb.AppendNull()

	mapT := types.MAP(types.STRING, types.INT)
	mb := array.NewBuilder(mem, mapT.Arrow()).(*array.MapBuilder)
	kb, vb := mb.KeyBuilder().(*array.StringBuilder), mb.ItemBuilder().(*array.Int32Builder)
	mb.Append(true)
	kb.Append("k")
	vb.Append(1)
	kb.Append("k2")
	vb.AppendNull()
	mb.Append(true)
	mb.AppendNull()

	rowT := types.ROW(types.Field{Name: "a", Type: types.INT}, types.Field{Name: "b", Type: types.STRING})
	sb := array.NewStructBuilder(mem, rowT.Arrow().(*arrow.StructType))
	sa, ss := sb.FieldBuilder(0).(*array.Int32Builder), sb.FieldBuilder(1).(*array.StringBuilder)
	sb.Append(true)
	sa.Append(1)
	ss.Append("a")
	sb.Append(true)
	sa.AppendNull()
	ss.AppendNull()
	sb.AppendNull()

	for _, b := range []array.Builder{lb, mb, sb} {
		cols = append(cols, b.NewArray())
		b.Release()
	}
	schema = append(schema, types.Field{Name: "arr", Type: arrT}, types.Field{Name: "m", Type: mapT}, types.Field{Name: "r", Type: rowT})
	b := array.NewRecordBatch(schema.Arrow(), cols, int64(len(allTypesRows)))
	for _, c := range cols {
		c.Release()
	}
	return schema, b
}

func TestPrintGolden(t *testing.T) {
	mem := newMem(t)
	schema, b := allTypesBatch(t, mem)
	defer b.Release()
	var out bytes.Buffer
	sink, err := OpenSink("t", schema, map[string]string{"connector": "print"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := sink.(exec.Counter).Rows(); n != 3 {
		t.Errorf("Rows() = %d", n)
	}
	golden := filepath.Join("testdata", "print.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("print output differs from %s:\n got:\n%s\nwant:\n%s", golden, got, want)
	}
	if err := sink.Write(context.Background(), b); err == nil {
		t.Errorf("Write after Commit succeeded")
	}
}

func TestPrintIdentifierAndAbort(t *testing.T) {
	mem := newMem(t)
	schema := types.Schema{{Name: "a", Type: types.INT}, {Name: "b", Type: types.STRING}}
	src := ValuesSource(schema, [][]any{{int32(1), "abc"}, {int32(2), nil}}, mem)
	b, err := src.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	var out bytes.Buffer
	sink, err := OpenSink("t", schema, map[string]string{"connector": "print", "print-identifier": "x", "sink.parallelism": "2"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	sink.Abort(errors.New("job failed"))
	if got, want := out.String(), "x> +I[1, abc]\nx> +I[2, null]\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if err := sink.Write(context.Background(), b); err == nil {
		t.Errorf("Write after Abort succeeded")
	}
	sink.Abort(nil) // a second Abort is harmless
	if out.Len() != len("x> +I[1, abc]\nx> +I[2, null]\n") {
		t.Errorf("printed after Abort")
	}
}

func TestBlackhole(t *testing.T) {
	mem := newMem(t)
	src := openDG(t, mem, types.Schema{{Name: "i", Type: types.INT}}, 100, "number-of-rows", "250")
	sink, err := OpenSink("t", src.Schema(), map[string]string{"connector": "blackhole"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := src.Next(context.Background())
		if err != nil {
			break
		}
		if err := sink.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	if err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := sink.(exec.Counter).Rows(); n != 250 {
		t.Errorf("Rows() = %d, want 250", n)
	}
}

func TestValuesSource(t *testing.T) {
	mem := newMem(t)
	schema := types.Schema{{Name: "a", Type: types.INT}, {Name: "b", Type: types.STRING}}
	rows, sizes := drain(t, ValuesSource(schema, [][]any{{int32(1), "a"}, {int32(2), nil}}, mem))
	checkRows(t, rows, [][]any{{int32(1), "a"}, {int32(2), nil}})
	if !equalInts(sizes, []int{2}) {
		t.Errorf("sizes %v", sizes)
	}
	many := make([][]any, 5000)
	for i := range many {
		many[i] = []any{int32(i), "x"}
	}
	src := ValuesSource(schema, many, mem)
	if _, sizes = drain(t, src); !equalInts(sizes, []int{4096, 904}) {
		t.Errorf("sizes %v", sizes)
	}
	if n := src.(exec.Counter).Rows(); n != 5000 {
		t.Errorf("Rows() = %d", n)
	}

	for _, tc := range []struct {
		rows [][]any
		want string
	}{
		{[][]any{{int32(1)}}, "connector: VALUES row 1 has 1 values, the table has 2 columns"},
		{[][]any{{1, "a"}}, "connector: VALUES column 'a': a value of INT must be a Go int32, not int (1)"},
	} {
		_, err := ValuesSource(schema, tc.rows, mem).Next(context.Background())
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %s", err, tc.want)
		}
	}
}

func TestFilesystemRoundTrip(t *testing.T) {
	mem := newMem(t)
	dir := filepath.Join(t.TempDir(), "out")
	opts := map[string]string{"connector": "filesystem", "path": dir, "format": "csv"}
	schema := append(types.Schema{}, allTypes...)
	src := ValuesSource(schema, allTypesRows, mem)
	sink, err := OpenSink("t", schema, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := src.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	b.Release()
	if parts := visible(t, dir); len(parts) != 0 {
		t.Fatalf("visible before Commit: %v", parts)
	}
	if err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := sink.(exec.Counter).Rows(); n != 3 {
		t.Errorf("Rows() = %d", n)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || !partName.MatchString(entries[0].Name()) {
		t.Fatalf("files after Commit: %v, want one part file", entries)
	}
	data, _ := os.ReadFile(filepath.Join(dir, entries[0].Name()))
	lines := strings.Split(string(data), "\n")
	if want := `1,2,3,4,1.5,1.5E10,1.50,0.00000001,true,abc,"héllo, world",AQL/,"",2020-01-01,12:00:00,12:00:01.500,2020-01-01 12:00:00.000,2020-01-01 12:00:00.123456,2020-01-01 12:00:00.000000001,2020-01-01 12:00:00.000`; lines[0] != want {
		t.Errorf("line 1:\n got %s\nwant %s", lines[0], want)
	}

	// An empty field of a non-string column fails a read, as in Flink,
	// unless parse errors are ignored (then it is NULL).
	readOpts := map[string]string{"csv.ignore-parse-errors": "true"}
	for k, v := range opts {
		readOpts[k] = v
	}
	in, err := OpenSource("t", schema, readOpts, 2, mem)
	if err != nil {
		t.Fatal(err)
	}
	rows, sizes := drain(t, in)
	if !equalInts(sizes, []int{2, 1}) {
		t.Errorf("sizes %v", sizes)
	}
	for i, r := range rows {
		for j, v := range r {
			w := allTypesRows[i][j]
			if bs, ok := w.([]byte); ok {
				w = string(bs)
			}
			if f, ok := w.(float64); ok && math.IsNaN(f) {
				if g, ok := v.(float64); ok && math.IsNaN(g) {
					continue
				}
			}
			if v != w {
				t.Errorf("row %d column %s = %#v, want %#v", i, schema[j].Name, v, w)
			}
		}
	}
}

func TestFilesystemAbort(t *testing.T) {
	mem := newMem(t)
	dir := filepath.Join(t.TempDir(), "out")
	schema := types.Schema{{Name: "a", Type: types.INT}}
	sink, err := OpenSink("t", schema, map[string]string{"connector": "filesystem", "path": dir, "format": "csv"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ValuesSource(schema, [][]any{{int32(1)}, {nil}}, mem).Next(context.Background())
	if err := sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	b.Release()
	sink.Abort(errors.New("cancelled"))
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left after Abort: %v", entries)
	}
}

func TestFilesystemErrors(t *testing.T) {
	mem := newMem(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "in.csv")
	schema := types.Schema{{Name: "a", Type: types.INT}, {Name: "b", Type: types.STRING.NotNull()}}
	opts := map[string]string{"connector": "filesystem", "path": path, "format": "csv"}
	const hint = "; fix the file, or set 'csv.ignore-parse-errors' = 'true' to read fields that do not parse as NULL and skip malformed lines"
	at := "table 't': file '" + path + "' "
	for _, tc := range []struct {
		data, want string
	}{
		{"1,x\n2,\"y\"\"z\"\nabc,w\n", at + "line 3, column 1 (a): cannot cast 'abc' to INT" + hint},
		{"1,x\n2\n", at + "line 2, column 2 (b): missing: the line has 1 field, the table has 2 columns" + hint},
		{"1,x\n2,y,zz\n", at + "line 2, column 3: extra field \"zz\": the line has 3 fields, the table has 2 columns" + hint},
		{"1,\"x\n", at + "line 1, column 2 (b): quoted field is not closed (it runs to the end of the file)" + hint},
		{"1,\"x\"y\n", at + "line 1, column 2 (b): unexpected 'y' after a quoted field" + hint},
		{"1,x\"y\n", at + "line 1, column 2 (b): quote in unquoted field \"x\\\"y\"" + hint},
		{"1,x\n,y\n", at + "line 2, column 1 (a): empty field in a column of type INT (Flink fails on it too); write NULL as a 'csv.null-literal' such as 'NULL' and set that option" + hint},
		{"1,x\n\"\",y\n", at + "line 2, column 1 (a): empty field in a column of type INT (Flink fails on it too); write NULL as a 'csv.null-literal' such as 'NULL' and set that option" + hint},
		{"1,\n", at + "line 1, column 2 (b): empty field (NULL) in a NOT NULL column; fill it in, declare the column without NOT NULL, or set 'csv.ignore-parse-errors' = 'true' to skip such rows"},
		{"1,x\n2,ab\xffc\n", at + "line 2, column 2 (b): invalid UTF-8: byte 0xff at byte 3 of the field \"ab\\xffc\"; weir reads CSV files as UTF-8: convert the file (e.g. iconv -f latin1 -t utf-8)"},
	} {
		if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := OpenSource("t", schema, opts, 10, mem)
		if err != nil {
			t.Fatal(err)
		}
		b, err := src.Next(context.Background())
		if err == nil {
			b.Release()
		}
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.data, err, tc.want)
		}
		src.Close()
	}

	// Quoted fields, embedded line breaks, empty strings and NULLs.
	os.WriteFile(path, []byte("1,\"a,b\"\r\nNULL,\"line\nbreak\"\n3,\"\"\n"), 0o644)
	src, err := OpenSource("t", schema, map[string]string{"connector": "filesystem", "path": path, "format": "csv", "csv.null-literal": "NULL"}, 10, mem)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := drain(t, src)
	checkRows(t, rows, [][]any{{int32(1), "a,b"}, {nil, "line\nbreak"}, {int32(3), ""}})

	for _, tc := range []struct {
		opts map[string]string
		want string
	}{
		{map[string]string{"connector": "filesystem", "format": "csv"}, "table 't': filesystem option 'path' is required"},
		{map[string]string{"connector": "filesystem", "path": path}, "table 't': filesystem option 'format' is required; weir supports 'csv', 'json' and 'parquet'"},
		{map[string]string{"connector": "filesystem", "path": path, "format": "orc"}, "table 't': filesystem option 'format' = 'orc': weir's filesystem connector supports 'csv', 'json' and 'parquet'"},
		{map[string]string{"connector": "filesystem", "path": path, "format": "csv", "csv.field-delimter": ";"}, "table 't': filesystem option 'csv.field-delimter' is unknown; did you mean 'csv.field-delimiter'?"},
		{map[string]string{"connector": "filesystem", "path": path, "format": "csv", "csv.ignore-parse-errors": "yes"}, "table 't': filesystem option 'csv.ignore-parse-errors' = 'yes': must be 'true' or 'false'"},
		{map[string]string{"connector": "filesystem", "path": path + ".missing", "format": "csv"}, "table 't': filesystem 'path' = '" + path + ".missing' does not exist; fix the path, or write the table first"},
	} {
		_, err := OpenSource("t", schema, tc.opts, 10, mem)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v:\n got %v\nwant %s", tc.opts, err, tc.want)
		}
	}
}
