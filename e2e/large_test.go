package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const largeUDFs = `from weir import udf, udtf


@udf(result_type="STRING")
def wide(x):
    # 12,288 bytes, different for every row.
    return ("%06d" % x) * 2048


@udtf(result_types=["INT", "STRING"])
def spread(x):
    # 400 rows of 10,000 bytes for every input row: 4 MB per input row.
    for i in range(400):
        yield i, chr(97 + (x + i) % 26) * 10000


@udf(result_type="STRING")
def twenty_mb(x):
    return chr(97 + x % 26) * (20 << 20)


@udf(result_type="STRING")
def enormous(x):
    return "e" * (201 << 20) if x == 3 else "ok"
`

// peakRSS waits for job j and returns the engine's peak resident set size
// (VmHWM) in KiB, read until just before it exits.
func peakRSS(t *testing.T, j *started) int {
	t.Helper()
	peak := 0
	for {
		select {
		case err := <-j.done:
			if err != nil {
				t.Fatalf("job failed: %v\n%s", err, j.stderr)
			}
			return peak
		case <-time.After(20 * time.Millisecond):
			if h := statusKB(j.cmd.Process.Pid, "VmHWM:"); h > peak {
				peak = h
			}
		}
	}
}

func statusKB(pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field) {
			n, _ := strconv.Atoi(strings.Fields(l)[1])
			return n
		}
	}
	return 0
}

// TestLargeResults: 30,000 results of 12 KB (368 MB, all from one batch)
// reach the sink exactly, and the engine's memory stays
// far below the results' size.
func TestLargeResults(t *testing.T) {
	const rows = 30000
	j := startJob(t, fmt.Sprintf(`
CREATE TABLE src (a INT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence',
  'fields.a.start' = '0', 'fields.a.end' = '%d');
CREATE TABLE snk (a INT, s STRING) WITH ('connector' = 'filesystem', 'path' = '$DIR/out.csv', 'format' = 'csv');
CREATE TEMPORARY FUNCTION wide AS 'udfs.wide' LANGUAGE PYTHON;
INSERT INTO snk SELECT a, wide(a) FROM src;`, rows-1), map[string]string{"udfs.py": largeUDFs})
	peak := peakRSS(t, j)
	t.Logf("engine peak RSS: %d KiB for %d MB of results", peak, rows*12288/1_000_000)
	checkLines(t, filepath.Join(j.dir, "out.csv"), rows, 1<<20, func(i int) string {
		return fmt.Sprintf("%d,%s", i, strings.Repeat(fmt.Sprintf("%06d", i), 2048))
	})
	if peak > 400<<10 {
		t.Errorf("engine peak RSS %d KiB for 368 MB of results; want it bounded (< 400 MiB)", peak)
	}
}

// TestLargeValues: results of 20 MiB each (one per row: a row cannot be
// split) reach the sink exactly, and the engine holds only a few of them.
func TestLargeValues(t *testing.T) {
	const rows = 20
	j := startJob(t, fmt.Sprintf(`
CREATE TABLE src (a INT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence',
  'fields.a.start' = '0', 'fields.a.end' = '%d');
CREATE TABLE snk (a INT, s STRING) WITH ('connector' = 'filesystem', 'path' = '$DIR/out.csv', 'format' = 'csv');
CREATE TEMPORARY FUNCTION twenty_mb AS 'udfs.twenty_mb' LANGUAGE PYTHON;
INSERT INTO snk SELECT a, twenty_mb(a) FROM src;`, rows-1), map[string]string{"udfs.py": largeUDFs})
	peak := peakRSS(t, j)
	t.Logf("engine peak RSS: %d KiB for %d MiB of results", peak, rows*20)
	checkLines(t, filepath.Join(j.dir, "out.csv"), rows, 21<<20, func(i int) string {
		return fmt.Sprintf("%d,%s", i, strings.Repeat(string(rune('a'+i%26)), 20<<20))
	})
	if peak > 300<<10 {
		t.Errorf("engine peak RSS %d KiB for 400 MiB of results in values of 20 MiB; want it bounded (< 300 MiB)", peak)
	}
}

// TestLargeTableFunction: a table function that answers each input row with
// 4 MB of rows (its answer is sent in several parts, split inside one input
// row's rows) gives every row once, in order, next to its input row.
func TestLargeTableFunction(t *testing.T) {
	const inputs = 60
	j := startJob(t, fmt.Sprintf(`
CREATE TABLE src (a INT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence',
  'fields.a.start' = '0', 'fields.a.end' = '%d');
CREATE TABLE snk (a INT, i INT, s STRING) WITH ('connector' = 'filesystem', 'path' = '$DIR/out.csv', 'format' = 'csv');
CREATE TEMPORARY FUNCTION spread AS 'udfs.spread' LANGUAGE PYTHON;
INSERT INTO snk SELECT a, i, s FROM src, LATERAL TABLE(spread(a)) AS T(i, s);`, inputs-1), map[string]string{"udfs.py": largeUDFs})
	peak := peakRSS(t, j)
	t.Logf("engine peak RSS: %d KiB for %d MB of results", peak, inputs*4)
	checkLines(t, filepath.Join(j.dir, "out.csv"), inputs*400, 1<<20, func(n int) string {
		a, i := n/400, n%400
		return fmt.Sprintf("%d,%d,%s", a, i, strings.Repeat(string(rune('a'+(a+i)%26)), 10000))
	})
	if peak > 400<<10 {
		t.Errorf("engine peak RSS %d KiB for 240 MB of results; want it bounded (< 400 MiB)", peak)
	}
}

// TestResultRowTooLarge: a 201 MiB result cannot be sent in any message; the
// job fails at once with one clear error naming the function, the row and
// the limit, without taking it for a crash of the worker.
func TestResultRowTooLarge(t *testing.T) {
	r := job(t, `
CREATE TABLE src (a INT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence',
  'fields.a.start' = '0', 'fields.a.end' = '9');
CREATE TABLE snk (a INT, s STRING) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION enormous AS 'udfs.enormous' LANGUAGE PYTHON;
INSERT INTO snk SELECT a, enormous(a) FROM src;`, map[string]string{"udfs.py": largeUDFs})
	if r.code == 0 {
		t.Fatalf("job succeeded; want a failure\nstderr:\n%s", r.stderr)
	}
	for _, want := range []string{"'enormous'", "udfs.enormous", "210,763,78", "209,715,200 bytes (200 MiB)", "input row: (3,)", "every try"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error output lacks %q:\n%s", want, r.stderr)
		}
	}
	// The engine's report, not the worker's own log of its stderr.
	report := ""
	for _, l := range strings.Split(r.stderr, "\n") {
		if !strings.Contains(l, "stream=stderr") {
			report += l + "\n"
		}
	}
	// Not retried, nor run again to find the row: the error names it.
	for _, noise := range []string{"replaying", "worker died", "RESOURCE_EXHAUSTED", "larger than max", "run alone"} {
		if strings.Contains(report, noise) {
			t.Errorf("error output contains %q:\n%s", noise, r.stderr)
		}
	}
	if n := strings.Count(report, "over weir's limit"); n != 1 {
		t.Errorf("the error is reported %d times, want once:\n%s", n, r.stderr)
	}
}

// checkLines checks that the one part file of the table at path holds
// exactly rows lines, line n being want(n); lines are at most maxLine bytes.
func checkLines(t *testing.T, path string, rows, maxLine int, want func(n int) string) {
	t.Helper()
	f, err := os.Open(onePart(t, path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		if w := want(n); sc.Text() != w {
			t.Fatalf("output line %d differs (%d bytes: %.40q..., want %d: %.40q...)", n+1, len(sc.Text()), sc.Text(), len(w), w)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != rows {
		t.Fatalf("output has %d rows, want %d", n, rows)
	}
}
