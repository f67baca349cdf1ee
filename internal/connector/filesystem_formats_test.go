package connector

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// formatTypes are the types the json and parquet formats carry.
var formatTypes = types.Schema{
	{Name: "ti", Type: types.TINYINT},
	{Name: "si", Type: types.SMALLINT},
	{Name: "i", Type: types.INT},
	{Name: "bi", Type: types.BIGINT},
	{Name: "f", Type: types.FLOAT},
	{Name: "d", Type: types.DOUBLE},
	{Name: "dec", Type: types.DECIMAL(10, 2)},
	{Name: "wide", Type: types.DECIMAL(30, 5)},
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
	{Name: "nn", Type: types.INT.WithNullable(false)},
}

// randomFormatValue returns a random value of t, NULL one time in five
// (unless t is NOT NULL).
func randomFormatValue(r *rand.Rand, t types.T) any {
	if t.Nullable && r.Intn(5) == 0 {
		return nil
	}
	str := func(n int) string {
		const letters = "ab ,\"\\\n\tzé🙂{}"
		rs := []rune(letters)
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteRune(rs[r.Intn(len(rs))])
		}
		return b.String()
	}
	// Timestamps within Parquet INT96's nanosecond range (about 1678..2261).
	const tsRange = int64(9e9) // seconds
	switch t.Kind {
	case types.TinyInt:
		return int8(r.Intn(256) - 128)
	case types.SmallInt:
		return int16(r.Intn(65536) - 32768)
	case types.Int:
		return int32(r.Uint32())
	case types.BigInt:
		return int64(r.Uint64())
	case types.Float:
		return float32(r.NormFloat64() * 1e3)
	case types.Double:
		return r.NormFloat64() * 1e6
	case types.Decimal:
		lim := int64(math.Pow10(min(t.Precision, 18)))
		return decimal128.FromI64(r.Int63n(2*lim-1) - lim + 1)
	case types.Boolean:
		return r.Intn(2) == 0
	case types.Char:
		s := []rune(str(t.Length))
		return string(s[:t.Length])
	case types.Varchar:
		return str(r.Intn(8))
	case types.Binary:
		b := make([]byte, t.Length)
		r.Read(b)
		return b
	case types.Varbinary:
		b := make([]byte, r.Intn(6))
		r.Read(b)
		return b
	case types.Date:
		return arrow.Date32(r.Intn(2932896+719163) - 719162)
	case types.Time:
		ms := r.Intn(86400000)
		if t.Precision == 0 {
			ms -= ms % 1000
		}
		return arrow.Time32(ms)
	case types.Timestamp, types.TimestampLTZ:
		per := unitsPerSecond(types.TimestampUnit(t.Precision))
		return arrow.Timestamp((r.Int63n(2*tsRange)-tsRange)*per + r.Int63n(per))
	}
	panic(fmt.Sprintf("no random %s", t))
}

// writeTable writes rows to a new part of the table at dir in batches of
// batch rows.
func writeTable(t *testing.T, mem memory.Allocator, schema types.Schema, opts map[string]string, rows [][]any, batch int) {
	t.Helper()
	sink, err := OpenSink("t", schema, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	for start := 0; start < len(rows); start += batch {
		src := ValuesSource(schema, rows[start:min(start+batch, len(rows))], mem)
		b, err := src.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	if err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
}

// comparable turns []byte into string so that rows compare with ==.
func comparableRows(rows [][]any) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = make([]any, len(r))
		for j, v := range r {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			out[i][j] = v
		}
	}
	return out
}

func TestFileFormatsRoundTrip(t *testing.T) {
	for _, name := range []string{"json", "parquet"} {
		t.Run(name, func(t *testing.T) {
			mem := newMem(t)
			r := rand.New(rand.NewSource(int64(len(name))))
			rows := make([][]any, 500)
			for i := range rows {
				rows[i] = make([]any, len(formatTypes))
				for j, f := range formatTypes {
					rows[i][j] = randomFormatValue(r, f.Type)
				}
			}
			dir := filepath.Join(t.TempDir(), "t")
			opts := map[string]string{"connector": "filesystem", "path": dir, "format": name}
			writeTable(t, mem, formatTypes, opts, rows[:300], 128)
			writeTable(t, mem, formatTypes, opts, rows[300:], 128) // a second part file
			src, err := OpenSource("t", formatTypes, opts, 64, mem)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := drain(t, src)
			src.Close()
			want := comparableRows(rows)
			if len(got) != len(want) {
				t.Fatalf("read %d rows, wrote %d", len(got), len(want))
			}
			// The two parts are read in name order, which is random.
			if !reflect.DeepEqual(got[0], want[0]) {
				got = append(got[200:], got[:200]...)
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("row %d:\n got %v\nwant %v", i, got[i], want[i])
				}
			}
		})
	}
}

func TestParquetProjection(t *testing.T) {
	mem := newMem(t)
	dir := filepath.Join(t.TempDir(), "t")
	schema := types.Schema{{Name: "a", Type: types.INT}, {Name: "b", Type: types.STRING}, {Name: "c", Type: types.DOUBLE}}
	opts := map[string]string{"connector": "filesystem", "path": dir, "format": "parquet"}
	writeTable(t, mem, schema, opts, [][]any{{int32(1), "x", 1.5}, {nil, "y", nil}}, 10)

	src, err := OpenSource("t", schema, opts, 10, mem)
	if err != nil {
		t.Fatal(err)
	}
	src.(*parquetSource).project([]int{2, 0})
	got, _ := drain(t, src)
	src.Close()
	if want := [][]any{{1.5, int32(1)}, {nil, nil}}; !reflect.DeepEqual(got, want) {
		t.Errorf("projected rows %v, want %v", got, want)
	}

	// A column the files lack reads as NULL; one of another type is refused.
	wider := append(schema[:3:3], types.Field{Name: "extra", Type: types.BIGINT})
	src, err = OpenSource("t", wider, opts, 10, mem)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = drain(t, src)
	src.Close()
	if want := [][]any{{int32(1), "x", 1.5, nil}, {nil, "y", nil, nil}}; !reflect.DeepEqual(got, want) {
		t.Errorf("rows with a missing column %v, want %v", got, want)
	}
	retyped := types.Schema{{Name: "a", Type: types.STRING}}
	src, err = OpenSource("t", retyped, opts, 10, mem)
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Next(context.Background())
	src.Close()
	if err == nil || !strings.Contains(err.Error(), "column 'a' holds int32") {
		t.Errorf("reading INT as STRING: %v", err)
	}
}

func TestFileFormatBadFiles(t *testing.T) {
	mem := newMem(t)
	dir := filepath.Join(t.TempDir(), "t")
	schema := types.Schema{{Name: "a", Type: types.INT}, {Name: "b", Type: types.STRING}}
	opts := map[string]string{"connector": "filesystem", "path": dir, "format": "parquet"}
	rows := make([][]any, 1000)
	for i := range rows {
		rows[i] = []any{int32(i), fmt.Sprint("row ", i)}
	}
	writeTable(t, mem, schema, opts, rows, 1000)
	part := filepath.Join(dir, visible(t, dir)[0])
	data, _ := os.ReadFile(part)
	for _, cut := range []int{0, 3, len(data) / 2, len(data) - 1} {
		must(t, os.WriteFile(part, data[:cut], 0o644))
		src, err := OpenSource("t", schema, opts, 100, mem)
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.Next(context.Background())
		src.Close()
		if err == nil || !strings.Contains(err.Error(), "file '"+part+"' is not a readable Parquet file") {
			t.Errorf("truncated to %d bytes: %v", cut, err)
		}
	}

	jdir := filepath.Join(t.TempDir(), "j")
	must(t, os.MkdirAll(jdir, 0o755))
	must(t, os.WriteFile(filepath.Join(jdir, "part-1"), []byte("{\"a\": 1, \"b\": \"x\"}\n\n{\"a\": \"nope\"}\n"), 0o644))
	jopts := map[string]string{"connector": "filesystem", "path": jdir, "format": "json"}
	src, err := OpenSource("t", schema, jopts, 100, mem)
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Next(context.Background())
	src.Close()
	if err == nil || !strings.Contains(err.Error(), "part-1' line 3: field 'a'") || !strings.Contains(err.Error(), "json.ignore-parse-errors") {
		t.Errorf("bad JSON line: %v", err)
	}
	jopts["json.ignore-parse-errors"] = "true"
	src, err = OpenSource("t", schema, jopts, 100, mem)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := drain(t, src)
	src.Close()
	if want := [][]any{{int32(1), "x"}, {nil, nil}}; !reflect.DeepEqual(got, want) {
		t.Errorf("ignore-parse-errors rows %v, want %v", got, want)
	}

	for _, c := range []struct {
		opts map[string]string
		want string
	}{
		{map[string]string{"connector": "filesystem", "path": dir, "format": "parquet", "parquet.compresion": "gzip"}, "did you mean 'parquet.compression'"},
		{map[string]string{"connector": "filesystem", "path": dir, "format": "json", "json.fail-on-missing-field": "maybe"}, "must be 'true' or 'false'"},
		{map[string]string{"connector": "filesystem", "path": dir, "format": "orc"}, "'csv', 'json' and 'parquet'"},
	} {
		_, err := OpenSource("t", schema, c.opts, 10, mem)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.opts, err, c.want)
		}
	}
	_, err = OpenSink("t", types.Schema{{Name: "iv", Type: types.INTERVAL_MILLIS}}, opts, nil)
	if err == nil || !strings.Contains(err.Error(), "does not support column 'iv'") {
		t.Errorf("interval column: %v", err)
	}
}

// TestParquetTimeZone: with 'parquet.utc-timezone' = 'false' (the default)
// a TIMESTAMP is stored as the instant its wall time has in the local time
// zone, as Flink does; TIMESTAMP_LTZ as it is.
func TestParquetTimeZone(t *testing.T) {
	zone, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	saved := time.Local
	time.Local = zone
	defer func() { time.Local = saved }()
	mem := newMem(t)
	dir := filepath.Join(t.TempDir(), "t")
	schema := types.Schema{{Name: "ts", Type: types.TIMESTAMP(3)}, {Name: "ltz", Type: types.TIMESTAMP_LTZ(3)}}
	winter := int64(1704067200000) // 2024-01-01 00:00:00, UTC-5 in New York
	opts := map[string]string{"connector": "filesystem", "path": dir, "format": "parquet"}
	writeTable(t, mem, schema, opts, [][]any{{arrow.Timestamp(winter), arrow.Timestamp(winter)}}, 1)
	for _, c := range []struct {
		utc  string
		want int64
	}{{"false", winter}, {"true", winter + 5*3600*1000}} {
		opts["parquet.utc-timezone"] = c.utc
		src, err := OpenSource("t", schema, opts, 10, mem)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := drain(t, src)
		src.Close()
		if want := [][]any{{arrow.Timestamp(c.want), arrow.Timestamp(winter)}}; !reflect.DeepEqual(got, want) {
			t.Errorf("parquet.utc-timezone = %s: %v, want %v", c.utc, got, want)
		}
	}
}

// TestFileFormatsSubdirectories: a table's files are read from its
// subdirectories too (Flink's partition directories 'k=v' among them).
func TestFileFormatsSubdirectories(t *testing.T) {
	for _, name := range []string{"json", "parquet"} {
		mem := newMem(t)
		root := filepath.Join(t.TempDir(), "t")
		schema := types.Schema{{Name: "a", Type: types.INT}}
		for i, sub := range []string{"k=1", "k=2/x=y"} {
			writeTable(t, mem, schema, map[string]string{"connector": "filesystem", "path": filepath.Join(root, sub), "format": name}, [][]any{{int32(i)}}, 1)
		}
		src, err := OpenSource("t", schema, map[string]string{"connector": "filesystem", "path": root, "format": name}, 10, mem)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := drain(t, src)
		src.Close()
		if want := [][]any{{int32(0)}, {int32(1)}}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}
