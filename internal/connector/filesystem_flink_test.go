package connector

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// The Parquet files under testdata/parquet cross-check weir with Flink 2.3:
// flink_types was written by Flink (PyFlink, testdata/parquet/flink.py),
// weir_types by weir (go test -run TestParquetFlink -update-parquet), and
// each *.flink file holds the rows Flink read from its directory, every
// value CAST to STRING ("NULL" for NULL), one row a line, '|' between values.

var updateParquet = flag.Bool("update-parquet", false, "rewrite testdata/parquet/weir_types")

// flinkParquetTypes is the schema of testdata/parquet/flink_types.
var flinkParquetTypes = types.Schema{
	{Name: "tn", Type: types.TINYINT}, {Name: "sm", Type: types.SMALLINT}, {Name: "i", Type: types.INT},
	{Name: "bi", Type: types.BIGINT}, {Name: "bo", Type: types.BOOLEAN}, {Name: "f", Type: types.FLOAT},
	{Name: "d", Type: types.DOUBLE}, {Name: "dc", Type: types.DECIMAL(10, 2)}, {Name: "dbig", Type: types.DECIMAL(30, 5)},
	{Name: "s", Type: types.STRING}, {Name: "vb", Type: types.BYTES}, {Name: "dt", Type: types.DATE},
	{Name: "tm", Type: types.TIME(0)}, {Name: "ts", Type: types.TIMESTAMP(3)}, {Name: "ts6", Type: types.TIMESTAMP(6)},
	{Name: "ts9", Type: types.TIMESTAMP(9)},
}

// weirParquetTypes is the schema of testdata/parquet/weir_types.
var weirParquetTypes = types.Schema{
	{Name: "tn", Type: types.TINYINT}, {Name: "sm", Type: types.SMALLINT}, {Name: "i", Type: types.INT},
	{Name: "bi", Type: types.BIGINT}, {Name: "bo", Type: types.BOOLEAN}, {Name: "f", Type: types.FLOAT},
	{Name: "d", Type: types.DOUBLE}, {Name: "dc", Type: types.DECIMAL(10, 2)}, {Name: "dbig", Type: types.DECIMAL(30, 5)},
	{Name: "ch", Type: types.CHAR(3)}, {Name: "s", Type: types.STRING}, {Name: "vb", Type: types.BYTES},
	{Name: "dt", Type: types.DATE}, {Name: "tm", Type: types.TIME(0)}, {Name: "ts", Type: types.TIMESTAMP(3)},
	{Name: "ts6", Type: types.TIMESTAMP(6)}, {Name: "ts9", Type: types.TIMESTAMP(9)},
}

var weirParquetRows = [][]any{
	{int8(1), int16(-2), int32(3), int64(4000000000), true, float32(1.5), 2.25, decimal128.FromI64(1234567891),
		decimal128.FromI64(-123456789012345), "abc", `héllo, "wörld"`, []byte{0, 0xff, 0x10}, arrow.Date32(19782),
		arrow.Time32(86398000), arrow.Timestamp(1709210096789), arrow.Timestamp(-876544), arrow.Timestamp(978307200123456789)},
	{int8(-128), int16(32767), int32(-2147483648), int64(-9223372036854775808), false, float32(-0.5), -1e300,
		decimal128.FromI64(0), decimal128.FromI64(1), "x  ", "", []byte{}, arrow.Date32(-719162), arrow.Time32(0),
		arrow.Timestamp(-2208988800000), arrow.Timestamp(9214646400000000), arrow.Timestamp(0)},
	make([]any, 17),
}

// readAsFlinkText reads a table as Flink's expected files spell rows.
func readAsFlinkText(t *testing.T, dir string, schema types.Schema) string {
	t.Helper()
	mem := newMem(t)
	src, err := OpenSource("t", schema, map[string]string{"connector": "filesystem", "path": dir, "format": "parquet"}, 2, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rows, _ := drain(t, src)
	var b strings.Builder
	for _, r := range rows {
		for j, v := range r {
			if j > 0 {
				b.WriteByte('|')
			}
			if v == nil {
				b.WriteString("NULL")
				continue
			}
			if s, ok := v.(string); ok && schema[j].Type.IsBinary() {
				v = []byte(s)
			}
			s, err := exec.CastValue(v, schema[j].Type, types.STRING)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(s.(string))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestParquetFlink(t *testing.T) {
	weirDir := filepath.Join("testdata", "parquet", "weir_types")
	if *updateParquet {
		os.RemoveAll(weirDir)
		writeTable(t, newMem(t), weirParquetTypes, map[string]string{"connector": "filesystem", "path": weirDir, "format": "parquet"}, weirParquetRows, 10)
		must(t, os.Rename(filepath.Join(weirDir, visible(t, weirDir)[0]), filepath.Join(weirDir, "part-weir-0")))
	}
	for _, c := range []struct {
		dir    string
		schema types.Schema
	}{{"flink_types", flinkParquetTypes}, {"weir_types", weirParquetTypes}} {
		want, err := os.ReadFile(filepath.Join("testdata", "parquet", c.dir+".flink"))
		if err != nil {
			t.Fatal(err)
		}
		if got := readAsFlinkText(t, filepath.Join("testdata", "parquet", c.dir), c.schema); got != string(want) {
			t.Errorf("%s: weir reads\n%s\nFlink reads\n%s", c.dir, got, want)
		}
	}
}
