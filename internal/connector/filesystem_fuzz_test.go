package connector

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// FuzzCSVSource: whatever a CSV file holds, reading it never panics or
// leaks; it gives rows or an error. Rows it reads, written back by the CSV
// sink and read again, come out the same. With 'csv.ignore-parse-errors' a
// UTF-8 file always reads, and to the same rows when it reads without.
func FuzzCSVSource(f *testing.F) {
	f.Add([]byte("1,abc,1.5,2020-01-01\n2,,NaN,1969-12-31\n"))
	f.Add([]byte("3,\"a,\"\"b\"\"\",-0.0,\n"))
	f.Add([]byte("x,y\n"))
	f.Add([]byte("1,a\nx,b,1.0\n3\n4,c,d,2020-01-01,e\n5,\"f\"g\n"))
	f.Add([]byte("1,caf\xe9,2,\n"))
	schema := types.Schema{
		{Name: "a", Type: types.INT},
		{Name: "s", Type: types.STRING},
		{Name: "d", Type: types.DOUBLE},
		{Name: "day", Type: types.DATE},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		in := filepath.Join(dir, "in.csv")
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		first, err := readCSV(t, schema, in)
		lenient, lerr := readCSV(t, schema, in, "csv.ignore-parse-errors", "true")
		if lerr != nil && utf8.Valid(data) {
			t.Fatalf("UTF-8 input failed with csv.ignore-parse-errors: %v", lerr)
		}
		if lerr != nil && !strings.Contains(lerr.Error(), "invalid UTF-8") {
			t.Fatalf("csv.ignore-parse-errors failed for another reason than UTF-8: %v", lerr)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(first, lenient) {
			t.Fatalf("csv.ignore-parse-errors changed rows that read without it:\n%q\n%q", first, lenient)
		}
		out := filepath.Join(dir, "out") // a directory of part files
		sink, err := OpenSink("t", schema, map[string]string{"connector": "filesystem", "path": out, "format": "csv"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		mem := memory.NewGoAllocator()
		src, err := OpenSource("t", schema, map[string]string{"connector": "filesystem", "path": in, "format": "csv"}, 64, mem)
		if err != nil {
			t.Fatal(err)
		}
		for {
			b, err := src.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("second read failed after the first succeeded: %v", err)
			}
			if err := sink.Write(context.Background(), b); err != nil {
				t.Fatalf("writing rows that were read: %v", err)
			}
			b.Release()
		}
		src.Close()
		if err := sink.Commit(); err != nil {
			t.Fatal(err)
		}
		again, err := readCSV(t, schema, out)
		if err != nil {
			t.Fatalf("reading what the sink wrote: %v", err)
		}
		if !bytes.Equal(first, again) {
			t.Fatalf("rows changed through sink and source:\n%q\n%q", first, again)
		}
	})
}

// readCSV reads a CSV file or directory through the source, with extra
// options (key, value, ...), and prints its rows.
func readCSV(t *testing.T, schema types.Schema, path string, options ...string) ([]byte, error) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	src, err := OpenSource("t", schema, fsOpts(path, options...), 64, mem)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var buf bytes.Buffer
	sink, err := OpenSink("p", schema, map[string]string{"connector": "print"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := src.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		err = sink.Write(context.Background(), b)
		b.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), nil
}
