package connector

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParquetSource: whatever a Parquet file holds, reading it never
// panics or leaks; it gives rows or an error naming the file.
func FuzzParquetSource(f *testing.F) {
	for _, p := range []string{"testdata/parquet/flink_types/part-flink-0", "testdata/parquet/weir_types/part-weir-0"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := newMem(t)
		in := filepath.Join(t.TempDir(), "part-0")
		must(t, os.WriteFile(in, data, 0o644))
		src, err := OpenSource("t", weirParquetTypes, map[string]string{"connector": "filesystem", "path": in, "format": "parquet"}, 2, mem)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		for {
			b, err := src.Next(context.Background())
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if !strings.Contains(err.Error(), in) {
					t.Fatalf("error without the file's name: %v", err)
				}
				return
			}
			b.Release()
		}
	})
}
