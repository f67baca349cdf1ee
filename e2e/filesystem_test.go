package e2e

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// visibleFiles lists the files of a filesystem table's directory that
// readers see (names not starting with '.' or '_'), sorted.
func visibleFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(e.Name(), "_") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// readTable returns the contents of a filesystem table's directory: its
// visible files, concatenated in name order.
func readTable(dir string) ([]byte, error) {
	names, err := visibleFiles(dir)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// onePart returns the path of the only visible file of a table's directory.
func onePart(t *testing.T, dir string) string {
	t.Helper()
	names, err := visibleFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 {
		t.Fatalf("%s has %d visible files, want one part file: %v", dir, len(names), names)
	}
	return filepath.Join(dir, names[0])
}

// sortedLines returns the non-empty lines of b, sorted.
func sortedLines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// hiddenEntries lists the names in dir that start with '.'.
func hiddenEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// tableDDL declares table t as a filesystem table at dir.
func tableDDL(dir string) string {
	return fmt.Sprintf("CREATE TABLE t (a INT, b STRING) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');\n", dir)
}

// TestFilesystemAppendAndOverwrite: two INSERTs into one table in a script
// keep both's rows, re-running the script adds its rows again (Flink
// appends: new part files), and INSERT OVERWRITE replaces them; the table
// reads back through the filesystem source.
func TestFilesystemAppendAndOverwrite(t *testing.T) {
	table := filepath.Join(t.TempDir(), "t")
	script := tableDDL(table) + `
INSERT INTO t VALUES (1, 'x'), (2, 'y');
INSERT INTO t SELECT a + 10, UPPER(b) FROM (VALUES (3, 'z')) AS v(a, b);
`
	job(t, script, nil).mustSucceed(t)
	want := []string{"1,x", "13,Z", "2,y"}
	if got, _ := readTable(table); !slices.Equal(sortedLines(got), want) {
		t.Errorf("after two INSERTs: %q, want %q", sortedLines(got), want)
	}
	if names, _ := visibleFiles(table); len(names) != 2 {
		t.Errorf("files %v, want two part files", names)
	}

	job(t, script, nil).mustSucceed(t)
	want = []string{"1,x", "1,x", "13,Z", "13,Z", "2,y", "2,y"}
	if got, _ := readTable(table); !slices.Equal(sortedLines(got), want) {
		t.Errorf("after a re-run: %q, want %q", sortedLines(got), want)
	}
	r := job(t, tableDDL(table)+"SELECT a, b FROM t WHERE a > 1;", nil).mustSucceed(t)
	if got := sortedLines([]byte(r.stdout)); !slices.Equal(got, []string{"+I[13, Z]", "+I[13, Z]", "+I[2, y]", "+I[2, y]"}) {
		t.Errorf("SELECT from the table: %q", got)
	}

	job(t, tableDDL(table)+"INSERT OVERWRITE t SELECT a * 100, b FROM t WHERE a < 10;", nil).mustSucceed(t)
	want = []string{"100,x", "100,x", "200,y", "200,y"}
	if got, _ := readTable(table); !slices.Equal(sortedLines(got), want) {
		t.Errorf("after INSERT OVERWRITE: %q, want %q", sortedLines(got), want)
	}
	if names, _ := visibleFiles(table); len(names) != 1 {
		t.Errorf("files %v, want one part file", names)
	}
	if h := hiddenEntries(t, table); len(h) != 0 {
		t.Errorf("hidden files left: %v", h)
	}

	r = job(t, "CREATE TABLE p (a INT) WITH ('connector' = 'print');\nINSERT OVERWRITE p VALUES (1);", nil)
	if r.code == 0 || !strings.Contains(r.stderr, "INSERT OVERWRITE needs a table whose connector can replace its rows ('filesystem'); table p uses 'print'") {
		t.Errorf("INSERT OVERWRITE into print: exit %d\n%s", r.code, r.stderr)
	}
}

const failingUDF = `from weir import udf, DataTypes

@udf(result_type=DataTypes.BIGINT())
def check(a, bad):
    if a == bad:
        raise ValueError(f"bad row {a}")
    return a
`

// TestFilesystemFailedJob: a job that fails after writing many rows, at a
// random row, leaves the table as it was, for INSERT INTO and INSERT
// OVERWRITE alike: no partial part file is visible and none is left over.
func TestFilesystemFailedJob(t *testing.T) {
	table := filepath.Join(t.TempDir(), "t")
	job(t, tableDDL(table)+"INSERT INTO t VALUES (1, 'x'), (2, 'y');", nil).mustSucceed(t)
	before, _ := visibleFiles(table)
	const rows = 300_000
	bad := 100_000 + rand.Intn(rows-100_000)
	for _, mode := range []string{"INTO", "OVERWRITE"} {
		script := fmt.Sprintf(`%s
CREATE TABLE src (a BIGINT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '%d');
CREATE TEMPORARY FUNCTION check_row AS 'udfs.check' LANGUAGE PYTHON;
INSERT %s t SELECT CAST(check_row(a, %d) AS INT), 'r' FROM src;`, tableDDL(table), rows, mode, bad)
		r := job(t, script, map[string]string{"udfs.py": failingUDF}, "-D", "python.fn-execution.bundle.size=10000")
		if r.code == 0 || !strings.Contains(r.stderr, fmt.Sprintf("bad row %d", bad)) {
			t.Fatalf("INSERT %s: exit %d, want the function's error\n%s", mode, r.code, r.stderr)
		}
		after, _ := visibleFiles(table)
		if !slices.Equal(before, after) {
			t.Errorf("INSERT %s: files %v after the failure, want %v", mode, after, before)
		}
		if got, _ := readTable(table); !slices.Equal(sortedLines(got), []string{"1,x", "2,y"}) {
			t.Errorf("INSERT %s: table holds %d lines after the failure", mode, len(sortedLines(got)))
		}
		if h := hiddenEntries(t, table); len(h) != 0 {
			t.Errorf("INSERT %s: files left: %v", mode, h)
		}
	}
}

// TestFilesystemEngineKilled: an engine SIGKILLed during an INSERT OVERWRITE
// leaves the table as it was, and its in-progress file; a later job writing
// to the table removes that file, while the in-progress file of a live
// concurrent writer is left alone and commits.
func TestFilesystemEngineKilled(t *testing.T) {
	table := filepath.Join(t.TempDir(), "t")
	slow := func(mode string, rows, perSecond int) string {
		return fmt.Sprintf(`%s
CREATE TABLE src (a INT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '%d', 'rows-per-second' = '%d');
INSERT %s t SELECT a, 'slow' FROM src;`, tableDDL(table), rows, perSecond, mode)
	}
	job(t, tableDDL(table)+"INSERT INTO t VALUES (0, 'before');", nil).mustSucceed(t)
	before, _ := visibleFiles(table)
	// inProgress waits for a job's in-progress file (to have some bytes
	// written, with written).
	inProgress := func(j *started, written bool) string {
		t.Helper()
		suffix := fmt.Sprintf(".inprogress-%d", j.cmd.Process.Pid)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			for _, h := range hiddenEntries(t, table) {
				if st, err := os.Stat(filepath.Join(table, h)); err == nil && (st.Size() > 0 || !written) && strings.HasSuffix(h, suffix) {
					return h
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no in-progress file of pid %d appeared\n%s", j.cmd.Process.Pid, j.stderr)
		return ""
	}

	// An INSERT OVERWRITE killed mid-write.
	killed := startJob(t, slow("OVERWRITE", 100_000_000, 1_000_000), nil)
	stale := inProgress(killed, true)
	time.Sleep(time.Duration(rand.Intn(500)) * time.Millisecond)
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-killed.done
	if _, err := os.Stat(filepath.Join(table, stale)); err != nil {
		t.Fatalf("the killed engine's in-progress file: %v", err)
	}
	if names, _ := visibleFiles(table); !slices.Equal(names, before) {
		t.Errorf("after the killed INSERT OVERWRITE: files %v, want %v", names, before)
	}

	// A live writer: 50,000 rows at 10,000 a second.
	live := startJob(t, slow("INTO", 50_000, 10_000), nil)
	liveFile := inProgress(live, false)

	job(t, tableDDL(table)+"INSERT INTO t VALUES (1, 'later');", nil).mustSucceed(t)
	if _, err := os.Stat(filepath.Join(table, stale)); err == nil {
		t.Errorf("the dead engine's %s is still there after a later job", stale)
	}
	if _, err := os.Stat(filepath.Join(table, liveFile)); err != nil {
		select {
		case err := <-live.done:
			t.Fatalf("the live writer ended (%v) before the later job was done: make it slower\n%s", err, live.stderr)
		default:
		}
		t.Errorf("the later job removed the live writer's %s: %v", liveFile, err)
	}
	if err := <-live.done; err != nil {
		t.Fatalf("the live writer failed: %v\n%s", err, live.stderr)
	}
	got, _ := readTable(table)
	lines := sortedLines(got)
	if len(lines) != 50_002 || !slices.Contains(lines, "0,before") || !slices.Contains(lines, "1,later") || !slices.Contains(lines, "50000,slow") {
		t.Errorf("table has %d lines, want the first job's one, the live writer's 50,000 and the later job's one", len(lines))
	}
	if h := hiddenEntries(t, table); len(h) != 0 {
		t.Errorf("hidden files left: %v", h)
	}
}

// TestFilesystemChecksUpfront: a sink that cannot be written fails before
// the job starts its workers or reads a row, naming the path and the fix.
func TestFilesystemChecksUpfront(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "old.csv")
	if err := os.WriteFile(file, []byte("1,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path, want string
	}{
		{file, "filesystem 'path' = '" + file + "' is a file, but a filesystem sink writes a directory of part files"},
		{filepath.Join(file, "sub"), "cannot create directory '" + filepath.Join(file, "sub") + "': '" + file + "' is a file, not a directory"},
	}
	// A directory this user cannot write (as root: sysfs).
	ro := filepath.Join(tmp, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		ro = "/sys/fs"
	}
	if st, err := os.Stat(ro); err == nil && st.IsDir() {
		cases = append(cases, struct{ path, want string }{ro, "cannot create a file in directory '" + ro + "' (permission denied); make it writable for this user or choose another 'path'"})
	}
	for _, tc := range cases {
		script := fmt.Sprintf(`CREATE TABLE src (a BIGINT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '1000000000');
CREATE TABLE snk (a BIGINT) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
CREATE TEMPORARY FUNCTION check_row AS 'udfs.check' LANGUAGE PYTHON;
INSERT INTO snk SELECT check_row(a, 0) FROM src;`, tc.path)
		r := job(t, script, map[string]string{"udfs.py": failingUDF})
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("path %s: exit %d, want %q\n%s", tc.path, r.code, tc.want, r.stderr)
		}
		if r.elapsed > 5*time.Second {
			t.Errorf("path %s: failed after %s; want before any work", tc.path, r.elapsed)
		}
	}
	// The old single file still reads.
	r := job(t, fmt.Sprintf("CREATE TABLE t (a INT, b STRING) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');\nSELECT * FROM t;", file), nil).mustSucceed(t)
	if strings.TrimSpace(r.stdout) != "+I[1, x]" {
		t.Errorf("reading a single file: %q", r.stdout)
	}
}

const identityUDF = `from weir import udf, DataTypes

@udf(result_type=DataTypes.STRING())
def same(s):
    return s
`

// TestFilesystemCSVErrors: errors in a CSV file read by a job with a Python
// stage name the file, line and column, and what to do; with
// 'csv.ignore-parse-errors' the job reads what parses, as Flink does.
func TestFilesystemCSVErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "in")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	good, bad := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	var b strings.Builder
	for i := 1; i <= 6000; i++ {
		fmt.Fprintf(&b, "%d,row %d\n", i, i)
	}
	os.WriteFile(good, []byte(b.String()), 0o644)
	lines := strings.SplitAfter(b.String(), "\n")
	const at = 5555
	for _, tc := range []struct {
		line, want string
	}{
		{"5555,caf\xe9\n", "file '" + bad + "' line 5555, column 2 (s): invalid UTF-8: byte 0xe9 at byte 4 of the field \"caf\\xe9\"; weir reads CSV files as UTF-8: convert the file"},
		{"5555\n", "file '" + bad + "' line 5555, column 2 (s): missing: the line has 1 field, the table has 2 columns; fix the file, or set 'csv.ignore-parse-errors' = 'true'"},
		{"5555,x,y\n", "file '" + bad + "' line 5555, column 3: extra field \"y\": the line has 3 fields, the table has 2 columns"},
		{"55x5,x\n", "file '" + bad + "' line 5555, column 1 (a): cannot cast '55x5' to INT"},
	} {
		data := strings.Join(lines[:at-1], "") + tc.line + strings.Join(lines[at:], "")
		os.WriteFile(bad, []byte(data), 0o644)
		script := fmt.Sprintf(`CREATE TABLE src (a INT, s STRING) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
CREATE TABLE snk (a INT, s STRING) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION same AS 'udfs.same' LANGUAGE PYTHON;
INSERT INTO snk SELECT a, same(s) FROM src;`, dir)
		r := job(t, script, map[string]string{"udfs.py": identityUDF})
		if r.code == 0 || !strings.Contains(r.stderr, "table 'src': "+tc.want) {
			t.Errorf("%q: exit %d, want %q\n%s", tc.line, r.code, tc.want, r.stderr)
		}
	}

	// Lenient: the short line reads with a NULL, the long one is skipped.
	data := strings.Join(lines[:at-1], "") + "5555\n5556,x,y\n" + strings.Join(lines[at+1:], "")
	os.WriteFile(bad, []byte(data), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	script := fmt.Sprintf(`CREATE TABLE src (a INT, s STRING) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv', 'csv.ignore-parse-errors' = 'true');
CREATE TABLE snk (a INT, s STRING) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
CREATE TEMPORARY FUNCTION same AS 'udfs.same' LANGUAGE PYTHON;
INSERT INTO snk SELECT a, same(s) FROM src;`, dir, out)
	job(t, script, map[string]string{"udfs.py": identityUDF}).mustSucceed(t)
	got, _ := readTable(out)
	rows := sortedLines(got)
	if len(rows) != 2*6000-1 || !slices.Contains(rows, "5555,") || slices.Contains(rows, "5556,x") {
		t.Errorf("lenient read: %d rows (want %d), 5555 with NULL: %v", len(rows), 2*6000-1, slices.Contains(rows, "5555,"))
	}
}
