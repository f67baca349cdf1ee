package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFilesystemFormatsSQL runs a Flink-written Parquet table through
// parquet and json filesystem tables to print, in SQL.
func TestFilesystemFormatsSQL(t *testing.T) {
	flinkFiles, err := filepath.Abs("../../internal/connector/testdata/parquet/flink_types")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	job := `SET 'execution.runtime-mode' = 'batch';
CREATE TABLE src (i INT, s STRING, ts TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = '` + flinkFiles + `', 'format' = 'parquet');
CREATE TABLE pq (a INT, s STRING, ts TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = 'pq', 'format' = 'parquet');
CREATE TABLE js (a INT, s STRING, ts TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = 'js', 'format' = 'json');
CREATE TABLE out (a INT, s STRING, ts TIMESTAMP(3)) WITH ('connector' = 'print');
INSERT INTO pq SELECT i, s, ts FROM src;
INSERT INTO js SELECT a, s, ts FROM pq;
INSERT INTO out SELECT a, UPPER(s), ts FROM js;
`
	if err := os.WriteFile(filepath.Join(dir, "job.sql"), []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, dir, "sql", "-f", "job.sql", "--progress=off")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "+I[3, HÉLLO, \"WÖRLD\", 2024-02-29T12:34:56.789]\n+I[-2147483648, , 1900-01-01T00:00]\n+I[null, null, null]\n"
	if !strings.Contains(stdout, want) {
		t.Errorf("printed\n%s\nwant\n%s", stdout, want)
	}
}
