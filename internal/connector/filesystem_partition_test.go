package connector

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// testdata/partitions cross-checks partitioned tables with Flink 2.3 (see
// its flink.py): flink/<t> was written by Flink, weir/<t> by weir (go test
// -run TestPartitionsFlink -update-partitions), <t>.dirs lists the
// partition directories Flink made, <t>.flink the rows Flink read from its
// own directory and weir_<t>.flink those it read from weir's.

var updatePartitions = flag.Bool("update-partitions", false, "rewrite testdata/partitions/weir")

// partitionTable is one table of testdata/partitions, its rows as text.
type partitionTable struct {
	name, format string
	schema       types.Schema
	keys         []string
	rows         [][]string
	readable     bool // Flink 2.3 reads it back
}

var partitionSpecials = []string{"a/b", "x=y", "a b", "ü", "%", ":", "#", "*", "?", "{", "[", "]", "^", "'", "\"", "\\", "\t",
	"\x7f", "~", "!", "@", "$", "&", "(", ")", "+", ",", ";", ".dot", "_under",
	"-", "}", "\x01", "é/ö", "%41", "k=v/w=z"}

func partitionTables() []partitionTable {
	strs := partitionTable{name: "strs", format: "csv", keys: []string{"s"}, readable: true,
		schema: types.Schema{{Name: "a", Type: types.INT}, {Name: "s", Type: types.STRING}}}
	for i, s := range partitionSpecials {
		strs.rows = append(strs.rows, []string{fmt.Sprint(i), s})
	}
	return []partitionTable{strs,
		{name: "typed", format: "parquet", keys: []string{"i", "bi", "bo", "db"}, readable: true,
			schema: types.Schema{{Name: "a", Type: types.INT}, {Name: "b", Type: types.STRING}, {Name: "i", Type: types.INT},
				{Name: "bi", Type: types.BIGINT}, {Name: "bo", Type: types.BOOLEAN}, {Name: "db", Type: types.DOUBLE}},
			rows: [][]string{{"1", "one", "5", "123456789012", "true", "2.5"}, {"2", "two", "-1", "-1", "false", "1e20"},
				{"3", "three", "5", "123456789012", "true", "2.5"}, {"4", "four", "0", "0", "false", "0.1"}}},
		{name: "times", format: "parquet", keys: []string{"d", "tm", "ts", "ts0", "ts6", "dc"},
			schema: types.Schema{{Name: "a", Type: types.INT}, {Name: "d", Type: types.DATE}, {Name: "tm", Type: types.TIME(0)},
				{Name: "ts", Type: types.TIMESTAMP(3)}, {Name: "ts0", Type: types.TIMESTAMP(0)}, {Name: "ts6", Type: types.TIMESTAMP(6)},
				{Name: "dc", Type: types.DECIMAL(5, 2)}},
			rows: [][]string{
				{"1", "2024-01-02", "01:02:03", "2024-01-02 03:04:05.678", "2024-01-02 03:04:00", "2024-01-02 03:04:05.123456", "1.50"},
				{"2", "1969-12-31", "00:00:00", "2024-01-02 00:00:00", "1970-01-01 00:00:00", "2024-01-02 03:04:05.100", "-0.01"},
				{"3", "0001-01-01", "23:59:59", "1900-01-01 00:00:01", "2024-01-02 03:04:05", "2024-01-02 03:04:05.000001", "10.25"}}},
		{name: "nulls", format: "csv", keys: []string{"s", "i", "d"},
			schema: types.Schema{{Name: "a", Type: types.INT}, {Name: "s", Type: types.STRING}, {Name: "i", Type: types.INT}, {Name: "d", Type: types.DATE}},
			rows:   [][]string{{"1", "NULL", "NULL", "NULL"}, {"2", "", "3", "2024-01-02"}, {"3", "x", "NULL", "2024-01-02"}}},
	}
}

func (pt partitionTable) options(dir string) map[string]string {
	return map[string]string{"connector": "filesystem", "path": dir, "format": pt.format,
		partitionKeysOption: "key=" + strings.Join(pt.keys, "&key=")}
}

// values are the table's rows as values.
func (pt partitionTable) values(t *testing.T) [][]any {
	var out [][]any
	for _, r := range pt.rows {
		row := make([]any, len(r))
		for j, s := range r {
			if s == "NULL" {
				continue
			}
			v, err := exec.CastValue(s, types.STRING, pt.schema[j].Type)
			must(t, err)
			row[j] = v
		}
		out = append(out, row)
	}
	return out
}

// asText is rows as flink.py writes them: values CAST to STRING, sorted.
func asText(t *testing.T, schema types.Schema, rows [][]any) string {
	var lines []string
	for _, r := range rows {
		var b strings.Builder
		for j, v := range r {
			if j > 0 {
				b.WriteByte('|')
			}
			if v == nil {
				b.WriteString("NULL")
				continue
			}
			s, err := exec.CastValue(v, schema[j].Type, types.STRING)
			must(t, err)
			b.WriteString(s.(string))
		}
		lines = append(lines, b.String()+"\n")
	}
	slices.Sort(lines)
	return strings.Join(lines, "")
}

func readText(t *testing.T, pt partitionTable, dir string) string {
	t.Helper()
	src, err := OpenSource(pt.name, pt.schema, pt.options(dir), 2, newMem(t))
	must(t, err)
	defer src.Close()
	rows, _ := drain(t, src)
	return asText(t, pt.schema, rows)
}

// partitionDirs lists the directories under root that hold visible files.
func partitionDirs(t *testing.T, root string) string {
	var out []string
	must(t, filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && !hidden(e.Name()) {
			rel, _ := filepath.Rel(root, filepath.Dir(p))
			if !slices.Contains(out, rel) {
				out = append(out, rel)
			}
		}
		return nil
	}))
	slices.Sort(out)
	return strings.Join(out, "\n") + "\n"
}

func writePartitioned(t *testing.T, pt partitionTable, dir string, rows [][]any, extra ...string) {
	t.Helper()
	opts := pt.options(dir)
	for i := 0; i+1 < len(extra); i += 2 {
		opts[extra[i]] = extra[i+1]
	}
	overwrite := opts["overwrite"] == "true"
	delete(opts, "overwrite")
	sink, err := OpenInsertSink(pt.name, pt.schema, opts, nil, overwrite)
	must(t, err)
	if len(rows) > 0 {
		b, err := ValuesSource(pt.schema, rows, newMem(t)).Next(context.Background())
		must(t, err)
		must(t, sink.Write(context.Background(), b))
		b.Release()
	}
	must(t, sink.Commit())
}

func TestPartitionsFlink(t *testing.T) {
	here := filepath.Join("testdata", "partitions")
	for _, pt := range partitionTables() {
		t.Run(pt.name, func(t *testing.T) {
			rows := pt.values(t)
			if *updatePartitions {
				weirDir := filepath.Join(here, "weir", pt.name)
				os.RemoveAll(weirDir)
				writePartitioned(t, pt, weirDir, rows)
			}
			// weir names the partitions as Flink does.
			tmp := t.TempDir()
			writePartitioned(t, pt, tmp, rows)
			want, err := os.ReadFile(filepath.Join(here, pt.name+".dirs"))
			must(t, err)
			if got := partitionDirs(t, tmp); got != string(want) {
				t.Errorf("weir's partition directories:\n%q\nFlink's:\n%q", got, want)
			}
			// weir reads what Flink wrote: an empty string key was written
			// as the default partition, and reads as NULL (in Flink too).
			read := make([][]any, len(rows))
			for i, r := range rows {
				read[i] = slices.Clone(r)
				for j, v := range r {
					if v == "" && slices.Contains(pt.keys, pt.schema[j].Name) {
						read[i][j] = nil
					}
				}
			}
			wantRows := asText(t, pt.schema, read)
			if pt.readable {
				b, err := os.ReadFile(filepath.Join(here, pt.name+".flink"))
				must(t, err)
				if string(b) != wantRows {
					t.Fatalf("Flink read back\n%s\nnot the rows written\n%s", b, wantRows)
				}
			}
			if got := readText(t, pt, filepath.Join(here, "flink", pt.name)); got != wantRows {
				t.Errorf("weir reads Flink's table as\n%s\nwant\n%s", got, wantRows)
			}
			// Flink reads what weir wrote.
			if pt.readable {
				b, err := os.ReadFile(filepath.Join(here, "weir_"+pt.name+".flink"))
				must(t, err)
				if string(b) != wantRows {
					t.Errorf("Flink reads weir's table as\n%s\nwant\n%s", b, wantRows)
				}
			}
		})
	}
}

// TestPartitionEscape: every byte string survives a directory name, and
// the names are those of Flink's escaping (checked against Flink's in
// TestPartitionsFlink).
func TestPartitionEscape(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for i := 0; i < 2000; i++ {
		b := make([]byte, rng.IntN(12))
		for j := range b {
			b[j] = byte(1 + rng.IntN(255))
		}
		s := string(b)
		e := escapePartitionValue(s)
		if strings.ContainsAny(e, "/=") || unescapePartitionValue(e) != s {
			t.Fatalf("%q escapes to %q, unescaped %q", s, e, unescapePartitionValue(e))
		}
	}
	if got := escapePartitionValue("a/b=c %41"); got != "a%2Fb%3Dc %2541" {
		t.Errorf("escape: %q", got)
	}
}

// TestPartitionOverwrite: INSERT OVERWRITE replaces the partitions it
// writes and keeps the others, as Flink's; INSERT INTO adds.
func TestPartitionOverwrite(t *testing.T) {
	pt := partitionTable{name: "p", format: "json", keys: []string{"dt"},
		schema: types.Schema{{Name: "a", Type: types.INT}, {Name: "dt", Type: types.STRING}}}
	dir := t.TempDir()
	row := func(a int, dt string) []any { return []any{int32(a), dt} }
	writePartitioned(t, pt, dir, [][]any{row(1, "x"), row(2, "y"), row(3, "y")})
	writePartitioned(t, pt, dir, [][]any{row(9, "x")}, "overwrite", "true")
	writePartitioned(t, pt, dir, [][]any{row(4, "w")}, staticPartitionOption, "dt=w")
	writePartitioned(t, pt, dir, [][]any{row(5, "w")}, staticPartitionOption, "dt=w")
	writePartitioned(t, pt, dir, nil, staticPartitionOption, "dt=y", "overwrite", "true")
	if got, want := readText(t, pt, dir), "2|y\n3|y\n4|w\n5|w\n9|x\n"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	writePartitioned(t, pt, dir, [][]any{row(6, "w")}, staticPartitionOption, "dt=w", "overwrite", "true")
	if got, want := readText(t, pt, dir), "2|y\n3|y\n6|w\n9|x\n"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestPartitionLayoutErrors: a stray entry at the partition level is an
// error naming it; hidden entries are skipped; a projection reads no key.
func TestPartitionLayoutErrors(t *testing.T) {
	pt := partitionTable{name: "p", format: "csv", keys: []string{"dt", "hr"},
		schema: types.Schema{{Name: "a", Type: types.INT}, {Name: "dt", Type: types.STRING}, {Name: "hr", Type: types.INT}}}
	dir := t.TempDir()
	writePartitioned(t, pt, dir, [][]any{{int32(1), "d1", int32(1)}, {int32(2), "d1", int32(2)}, {int32(3), "d2", nil}})
	must(t, os.MkdirAll(filepath.Join(dir, ".staging", "x"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "_SUCCESS"), nil, 0o644))
	if got, want := readText(t, pt, dir), "1|d1|1\n2|d1|2\n3|d2|NULL\n"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	src, err := OpenSource("p", pt.schema[:1], pt.options(dir), 10, newMem(t))
	must(t, err)
	rows, _ := drain(t, src)
	src.Close()
	if len(rows) != 3 || len(rows[0]) != 1 {
		t.Errorf("projected read: %v", rows)
	}
	for _, c := range []struct{ make, want string }{
		{"stray.csv", "file '" + filepath.Join(dir, "stray.csv") + "' is not a partition directory 'dt=<value>'"},
		{"dt=d3/x=1/f.csv", "directory '" + filepath.Join(dir, "dt=d3", "x=1") + "' is not a partition directory 'hr=<value>'"},
		{"dt=d4/hr=abc/f.csv", "partition directory '" + filepath.Join(dir, "dt=d4", "hr=abc") + "': column 'hr'"},
	} {
		p := filepath.Join(dir, c.make)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte("1\n"), 0o644))
		src, err := OpenSource("p", pt.schema, pt.options(dir), 10, newMem(t))
		for err == nil {
			var b arrow.RecordBatch
			if b, err = src.Next(context.Background()); err == nil {
				b.Release()
			}
		}
		if src != nil {
			src.Close()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.make, err, c.want)
		}
		os.RemoveAll(filepath.Join(dir, strings.Split(c.make, "/")[0]))
	}
}

// TestPartitionPrune: a partition filter skips the other directories
// (their files, here not CSV at all, are never opened) and keys given as
// text match the directories' values as typed.
func TestPartitionPrune(t *testing.T) {
	pt := partitionTable{name: "p", format: "csv", keys: []string{"d", "hr"},
		schema: types.Schema{{Name: "a", Type: types.INT}, {Name: "d", Type: types.DATE}, {Name: "hr", Type: types.INT}}}
	dir := t.TempDir()
	writePartitioned(t, pt, dir, pt.values(t)[:0])
	for _, r := range [][]string{{"1", "2024-01-01", "1"}, {"2", "2024-01-01", "2"}, {"3", "2024-01-02", "1"}, {"4", "2024-01-01", "NULL"}} {
		pt.rows = [][]string{r}
		writePartitioned(t, pt, dir, pt.values(t))
	}
	must(t, os.MkdirAll(filepath.Join(dir, "d=19999", "hr=1"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "d=19999", "hr=1", "junk"), []byte("\"not csv\n"), 0o644))
	read := func(filter string) string {
		opts := pt.options(dir)
		opts[partitionFilterOption] = filter
		src, err := OpenSource("p", pt.schema, opts, 10, newMem(t))
		must(t, err)
		defer src.Close()
		rows, _ := drain(t, src)
		return asText(t, pt.schema, rows)
	}
	if got, want := read("d=2024-01-01&hr=1&hr=2"), "1|2024-01-01|1\n2|2024-01-01|2\n"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Without pruning on d, hr=01 (the INT 1) reaches the broken file.
	opts := pt.options(dir)
	opts[partitionFilterOption] = "hr=01"
	src, err := OpenSource("p", pt.schema, opts, 10, newMem(t))
	must(t, err)
	for err == nil {
		var b arrow.RecordBatch
		if b, err = src.Next(context.Background()); err == nil {
			b.Release()
		}
	}
	src.Close()
	if !strings.Contains(err.Error(), "junk") {
		t.Errorf("hr=01 should read d=19999/hr=1/junk: %v", err)
	}
	if got, want := read("d=2024-01-02"), "3|2024-01-02|1\n"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
