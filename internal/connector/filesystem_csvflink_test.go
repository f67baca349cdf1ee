package connector

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// testdata/csvflink/cases.json holds how Flink 2.3's filesystem csv format
// reads files and writes rows with its csv.* options (recorded by
// testdata/csvflink/record.py); TestFilesystemCSVFlink checks weir against
// it, but for the deviations listed below.

type csvFlinkCases struct {
	Reads []struct {
		Name    string            `json:"name"`
		Options map[string]string `json:"options"`
		Input   string            `json:"input"`
		Rows    [][]*string       `json:"rows"`
		Error   string            `json:"error"`
	} `json:"reads"`
	TypedReads []struct {
		Name   string      `json:"name"`
		Schema string      `json:"schema"`
		Input  string      `json:"input"`
		Rows   [][]*string `json:"rows"`
		Error  string      `json:"error"`
	} `json:"typed_reads"`
	Writes []struct {
		Name    string            `json:"name"`
		Options map[string]string `json:"options"`
		Output  string            `json:"output"`
	} `json:"writes"`
}

// csvFlinkReadDeviations are the read cases where weir differs from Flink,
// with weir's rows: weir reads an empty unquoted field of a string column
// as NULL when no 'csv.null-literal' is set (it writes NULL that way and an
// empty string as ""), where Flink reads ”.
var csvFlinkReadDeviations = map[string][][]any{
	"empty_fields": {{"1", nil, ""}},
}

// csvFlinkTypedFails: Flink reads an empty BOOLEAN field as FALSE (Java's
// Boolean.parseBoolean); weir fails on it as on other types.
var csvFlinkTypedFails = map[string]bool{"empty_boolean": true}

// csvFlinkTypedDeviations: an empty unquoted BYTES field is NULL, as for
// strings (Flink reads an empty value).
var csvFlinkTypedDeviations = map[string][][]any{"empty_bytes": {{nil, "1"}}}

// csvFlinkTypes are the types of record.py's typed read cases.
var csvFlinkTypes = map[string]types.T{
	"BOOLEAN": types.BOOLEAN, "DOUBLE": types.DOUBLE, "DATE": types.DATE,
	"DECIMAL(10, 2)": types.DECIMAL(10, 2), "BYTES": types.BYTES,
}

// csvFlinkWriteRows are the rows record.py's write cases insert.
var csvFlinkWriteRows = map[string][][]any{
	"plain":                {{int32(1), "x", nil}, {nil, "", "a,b"}, {int32(3), `say "hi"`, " sp "}},
	"null_literal":         {{int32(1), "x", nil}, {nil, "", "NULL"}},
	"quote_char":           {{int32(1), "a,b", "it's"}, {int32(2), `q"`, ""}},
	"disable_quote":        {{int32(1), "a,b", `q"r`}},
	"disable_quote_escape": {{int32(1), "a,b", `c\d`}},
	"escape_char":          {{int32(1), "a,b", `c\d`}, {int32(2), `q"`, "e"}},
	"delimiter":            {{int32(1), "a;b", "c,d"}},
	"allow_comments":       {{int32(1), "#x", "y"}},
}

// csvFlinkWriteDeviations are weir's outputs where they differ from
// Flink's: weir writes an empty string as a quoted empty field (Flink
// writes nothing, as for NULL), and quotes only fields that must be quoted
// (Flink also quotes fields holding ',' or '"' when these are not the
// delimiter or quote character; both read back the same).
var csvFlinkWriteDeviations = map[string]string{
	"plain":        "1,x,\n,\"\",\"a,b\"\n3,\"say \"\"hi\"\"\",\" sp \"\n",
	"null_literal": "1,x,NULL\nNULL,\"\",NULL\n",
	"quote_char":   "1,'a,b','it''s'\n2,q\",''\n",
	"delimiter":    "1;\"a;b\";c,d\n",
}

func loadCSVFlink(t *testing.T) csvFlinkCases {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "csvflink", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c csvFlinkCases
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Reads) == 0 || len(c.Writes) == 0 {
		t.Fatal("no cases in testdata/csvflink/cases.json")
	}
	return c
}

// flinkRows turns recorded rows (strings, nil for NULL) into values.
func flinkRows(rows [][]*string) [][]any {
	out := [][]any{}
	for _, r := range rows {
		row := make([]any, len(r))
		for j, v := range r {
			if v != nil {
				row[j] = *v
			}
		}
		out = append(out, row)
	}
	return out
}

// readAsText reads a filesystem csv table, every value as CAST to STRING.
func readAsText(t *testing.T, schema types.Schema, opts map[string]string) ([][]any, error) {
	mem := newMem(t)
	src, err := OpenSource("t", schema, opts, 16, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var rows [][]any
	for {
		b, err := src.Next(context.Background())
		if err != nil {
			if err == io.EOF {
				return rows, nil
			}
			return rows, err
		}
		for i := 0; i < int(b.NumRows()); i++ {
			row := make([]any, b.NumCols())
			for j := range row {
				v := exec.ValueAt(b.Column(j), i)
				if v == nil {
					continue
				}
				s, err := exec.CastValue(v, schema[j].Type, types.STRING)
				if err != nil {
					t.Fatal(err)
				}
				row[j] = s
			}
			rows = append(rows, row)
		}
		b.Release()
	}
}

func TestFilesystemCSVFlink(t *testing.T) {
	cases := loadCSVFlink(t)
	schema := types.Schema{{Name: "a", Type: types.INT}, {Name: "b", Type: types.STRING}, {Name: "c", Type: types.STRING}}
	for _, c := range cases.Reads {
		t.Run("read_"+c.Name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.csv")
			if err := os.WriteFile(path, []byte(c.Input), 0o644); err != nil {
				t.Fatal(err)
			}
			opts := map[string]string{"connector": "filesystem", "path": path, "format": "csv"}
			for k, v := range c.Options {
				opts[k] = v
			}
			rows, err := readAsText(t, schema, opts)
			if c.Error != "" {
				if err == nil {
					t.Fatalf("read %q: rows %v, Flink fails: %s", c.Input, rows, c.Error)
				}
				if !strings.Contains(err.Error(), "file '"+path+"' line ") {
					t.Errorf("error does not name file and line: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("read %q: %v; Flink reads %v", c.Input, err, c.Rows)
			}
			want := flinkRows(c.Rows)
			if dev, ok := csvFlinkReadDeviations[c.Name]; ok {
				want = dev
			}
			checkRows(t, rows, want)
		})
	}
	for _, c := range cases.TypedReads {
		t.Run("read_"+c.Name, func(t *testing.T) {
			col, _ := strings.CutSuffix(c.Schema, ", n INT")
			name, typ, _ := strings.Cut(col, " ")
			ty, ok := csvFlinkTypes[typ]
			if !ok {
				t.Fatalf("no type %s in csvFlinkTypes", typ)
			}
			schema := types.Schema{{Name: name, Type: ty}, {Name: "n", Type: types.INT}}
			path := filepath.Join(t.TempDir(), "in.csv")
			if err := os.WriteFile(path, []byte(c.Input), 0o644); err != nil {
				t.Fatal(err)
			}
			rows, err := readAsText(t, schema, map[string]string{"connector": "filesystem", "path": path, "format": "csv"})
			if c.Error != "" || csvFlinkTypedFails[c.Name] {
				if err == nil || !strings.Contains(err.Error(), "line 1, column 1 ("+name+"): empty field") {
					t.Fatalf("read %q: rows %v, error %v; want an empty-field error (Flink: %s%v)", c.Input, rows, err, c.Error, c.Rows)
				}
				return
			}
			if err != nil {
				t.Fatalf("read %q: %v; Flink reads %v", c.Input, err, c.Rows)
			}
			want := flinkRows(c.Rows)
			if dev, ok := csvFlinkTypedDeviations[c.Name]; ok {
				want = dev
			}
			checkRows(t, rows, want)
		})
	}
	for _, c := range cases.Writes {
		t.Run("write_"+c.Name, func(t *testing.T) {
			rows, ok := csvFlinkWriteRows[c.Name]
			if !ok {
				t.Fatalf("no rows for write case %s", c.Name)
			}
			dir := t.TempDir()
			opts := map[string]string{"connector": "filesystem", "path": dir, "format": "csv"}
			for k, v := range c.Options {
				opts[k] = v
			}
			mem := newMem(t)
			sink, err := OpenSink("t", schema, opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := ValuesSource(schema, rows, mem).Next(context.Background())
			if err := sink.Write(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			b.Release()
			if err := sink.Commit(); err != nil {
				t.Fatal(err)
			}
			parts := visible(t, dir)
			if len(parts) != 1 {
				t.Fatalf("parts %v", parts)
			}
			got, err := os.ReadFile(filepath.Join(dir, parts[0]))
			if err != nil {
				t.Fatal(err)
			}
			want := c.Output
			if dev, ok := csvFlinkWriteDeviations[c.Name]; ok {
				want = dev
			}
			if string(got) != want {
				t.Errorf("wrote %q, want %q (Flink wrote %q)", got, want, c.Output)
			}
		})
	}
}

func TestFilesystemCSVOptionErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(path, []byte("1,x,y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	schema := types.Schema{{Name: "a", Type: types.INT}, {Name: "b", Type: types.STRING}, {Name: "c", Type: types.STRING}}
	for _, c := range []struct{ key, value, want string }{
		{"csv.quote-character", ",", "table 't': filesystem option 'csv.quote-character' = ',': must differ from 'csv.field-delimiter'"},
		{"csv.escape-character", ",", "table 't': filesystem option 'csv.escape-character' = ',': must differ from 'csv.field-delimiter' and 'csv.quote-character'"},
		{"csv.field-delimiter", "ab", "table 't': filesystem option 'csv.field-delimiter' = 'ab': must be a single character other than a line break"},
		{"csv.allow-comments", "yes", "table 't': filesystem option 'csv.allow-comments' = 'yes': must be 'true' or 'false'"},
		{"csv.null-litteral", "NULL", "table 't': filesystem option 'csv.null-litteral' is unknown; did you mean 'csv.null-literal'?"},
	} {
		opts := map[string]string{"connector": "filesystem", "path": path, "format": "csv", c.key: c.value}
		for _, open := range []func() error{
			func() error { _, err := OpenSource("t", schema, opts, 10, newMem(t)); return err },
			func() error {
				_, err := OpenSink("t", schema, map[string]string{"connector": "filesystem", "path": t.TempDir(), "format": "csv", c.key: c.value}, nil)
				return err
			},
		} {
			if err := open(); err == nil || err.Error() != c.want {
				t.Errorf("%s = %s: %v, want %s", c.key, c.value, err, c.want)
			}
		}
	}
	// Every Flink csv option is accepted, by a source and a sink.
	opts := map[string]string{"connector": "filesystem", "path": path, "format": "csv", "csv.field-delimiter": ",",
		"csv.quote-character": "'", "csv.disable-quote-character": "false", "csv.allow-comments": "true",
		"csv.ignore-parse-errors": "false", "csv.array-element-delimiter": ";", "csv.escape-character": "\\",
		"csv.null-literal": "NULL", "csv.write-bigdecimal-in-scientific-notation": "false"}
	src, err := OpenSource("t", schema, opts, 10, newMem(t))
	if err != nil {
		t.Fatal(err)
	}
	src.Close()
	opts["path"] = t.TempDir()
	sink, err := OpenSink("t", schema, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	sink.Abort(nil)
}
