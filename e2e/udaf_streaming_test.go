package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file tests Python aggregate functions in streaming mode, whose
// accumulators the engine keeps (internal/pyexec/keyed.go): their changelog
// against PyFlink 2.3's, worker kills, and errors.

// streamingUDAFRuns returns the INSERTs of testdata/udaf_streaming/queries.sql
// with their DDL, the functions with weir's imports, and PyFlink's recorded
// changelogs by "<statement> bundle=<size>".
func streamingUDAFRuns(t *testing.T) (ddl string, inserts []string, py string, golden map[string][]string, order []string) {
	t.Helper()
	py = weirImports(t, "testdata/udaf_streaming/udfs.py", map[string]string{
		"from pyflink.table import DataTypes":                   "from weir import DataTypes",
		"from pyflink.table.udf import AggregateFunction, udaf": "from weir import AggregateFunction, udaf",
	})
	q, err := os.ReadFile("testdata/udaf_streaming/queries.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range strings.Split(string(q), ";") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
		case strings.HasPrefix(strings.ToUpper(s), "INSERT"):
			inserts = append(inserts, s+";")
		default:
			ddl += s + ";\n"
		}
	}
	g, err := os.ReadFile("testdata/udaf_streaming/changelog.golden")
	if err != nil {
		t.Fatal(err)
	}
	golden = map[string][]string{}
	cur := ""
	for _, l := range strings.Split(string(g), "\n") {
		if name, ok := strings.CutPrefix(l, "-- "); ok {
			cur = name
			order = append(order, name)
			golden[cur] = []string{}
		} else if l != "" {
			golden[cur] = append(golden[cur], l)
		}
	}
	return ddl, inserts, py, golden, order
}

// TestUDAFStreamingChangelog: in streaming mode, Python aggregate functions
// over insert-only input and over the updates of another GROUP BY (retract,
// -D when a group's rows are all taken back), several in one GROUP BY, with
// HAVING, and without GROUP BY, emit exactly the changelog PyFlink 2.3 emits
// (testdata/udaf_streaming, recorded by record.py at parallelism 1) with a
// bundle per row, every change in the same order; with the default bundle
// size, whose bundles end by time too, the same final rows.
func TestUDAFStreamingChangelog(t *testing.T) {
	ddl, inserts, py, golden, order := streamingUDAFRuns(t)
	if len(order) != 2*len(inserts) {
		t.Fatalf("changelog.golden has %d runs for %d statements; re-record it with record.py", len(order), len(inserts))
	}
	for _, name := range order {
		var stmt int
		var bundle string
		if _, err := fmt.Sscanf(name, "%d bundle=%s", &stmt, &bundle); err != nil {
			t.Fatalf("golden run %q: %v", name, err)
		}
		size := "1000000"
		if bundle != "default" {
			size = bundle
		}
		q := "SET 'execution.runtime-mode' = 'streaming';\n" + ddl + inserts[stmt-1]
		r := job(t, q, map[string]string{"udfs.py": py}, "-D", "python.fn-execution.bundle.size="+size)
		if r.code != 0 {
			t.Errorf("run %s: exit %d\n%s", name, r.code, r.stderr)
			continue
		}
		got, want := r.lines(), golden[name]
		if bundle == "default" {
			// Where one bundle ends depends on timing (PyFlink closed one
			// after a second in some runs): compare the final rows.
			got, want = foldLines(t, got), foldLines(t, want)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("run %s (%s): weir's changelog differs from PyFlink's\n--- weir\n%s\n--- PyFlink 2.3\n%s", name, inserts[stmt-1], strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	// The on-disk state backend (Pebble, state.backend.type 'rocksdb')
	// gives the same changelog over updates on two workers.
	q := "SET 'execution.runtime-mode' = 'streaming';\nSET 'state.backend.type' = 'rocksdb';\n" + ddl + inserts[4]
	r := job(t, q, map[string]string{"udfs.py": py}, "-D", "python.fn-execution.bundle.size=1", "-D", "parallelism.default=2")
	if got, want := foldLines(t, r.mustSucceed(t).lines()), foldLines(t, golden["5 bundle=1"]); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("on-disk state, two workers: final rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// udafStreamingKillUDFs: a weighted sum whose accumulate SIGKILLs its own
// worker the first time it meets each of the keys in WEIR_UDAF_KILL with its
// accumulator past its first rows (a mark file per key), so every kill
// lands inside a bundle that must be replayed, wherever the keys fall.
const udafStreamingKillUDFs = `
import os, signal
from weir import AggregateFunction, DataTypes, udaf

MARKS = os.environ.get("WEIR_UDAF_MARKS", "")
KILL_AT = {int(k) for k in os.environ.get("WEIR_UDAF_KILL", "").split(",") if k}

class WeightedSum(AggregateFunction):
    def create_accumulator(self):
        return [0, 0]

    def accumulate(self, acc, key, v, w):
        if MARKS and acc[1] >= 2 and key in KILL_AT:
            try:
                fd = os.open(os.path.join(MARKS, str(key)), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.close(fd)
                os.kill(os.getpid(), signal.SIGKILL)
        acc[0] += v * w
        acc[1] += 1

    def retract(self, acc, key, v, w):
        acc[0] -= v * w
        acc[1] -= 1

    def get_value(self, acc):
        return acc[0]

wsum = udaf(WeightedSum(), result_type=DataTypes.BIGINT())
`

// foldLines is the sorted final rows of a printed changelog, as +I lines.
func foldLines(t *testing.T, lines []string) []string {
	t.Helper()
	var out []string
	for body, n := range materialize(t, lines) {
		for ; n > 0; n-- {
			out = append(out, "+I"+body)
		}
	}
	sort.Strings(out)
	return out
}

// materialize applies a printed changelog; it fails on a retraction of a
// row not present.
func materialize(t *testing.T, lines []string) map[string]int {
	t.Helper()
	rows := map[string]int{}
	for _, l := range lines {
		if len(l) < 3 {
			t.Fatalf("unexpected output line %q", l)
		}
		body := l[2:]
		switch l[:2] {
		case "+I", "+U":
			rows[body]++
		case "-U", "-D":
			if rows[body] == 0 {
				t.Fatalf("%s retracts a row that is not there", l)
			}
			rows[body]--
			if rows[body] == 0 {
				delete(rows, body)
			}
		default:
			t.Fatalf("unexpected output line %q", l)
		}
	}
	return rows
}

// TestUDAFStreamingWorkerKills: 2,000,000 rows into 100,000 groups through
// a Python aggregate function in streaming mode on two workers, whose
// workers are SIGKILLed 6 times (keys drawn at random) inside bundles; the
// materialized changelog equals the exact sums (computed here), as a run
// without faults gives, so no bundle's state was lost or applied twice.
// WEIR_UDAF_STREAMING_SOAK=1 runs 3,000,000 rows, 300,000 groups and 20
// kills (minutes: 5M rows took 4m20s at load 8-10, near runWeir's 5-minute bound).
func TestUDAFStreamingWorkerKills(t *testing.T) {
	rows, groups, kills := 2_000_000, 100_000, 6
	if os.Getenv("WEIR_UDAF_STREAMING_SOAK") == "1" {
		rows, groups, kills = 3_000_000, 300_000, 20
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 11))
	var kill []string
	for picked := map[int]bool{}; len(kill) < kills; {
		k := rng.IntN(groups)
		if !picked[k] {
			picked[k] = true
			kill = append(kill, strconv.Itoa(k))
		}
	}
	t.Logf("seed %d: kills at keys %s", seed, strings.Join(kill, ","))
	marks := t.TempDir()
	q := fmt.Sprintf(`SET 'execution.runtime-mode' = 'streaming';
CREATE TABLE src (a BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '%d',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '0', 'fields.a.end' = '%d');
CREATE TABLE snk (k BIGINT, s BIGINT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION wsum AS 'udfs.wsum' LANGUAGE PYTHON;
INSERT INTO snk SELECT a %% %d, wsum(a %% %d, a, a %% 13) FROM src GROUP BY a %% %d;
`, rows, rows-1, groups, groups, groups)
	start := time.Now()
	r := runWeirJob(t, q, map[string]string{"udfs.py": udafStreamingKillUDFs},
		[]string{"WEIR_UDAF_MARKS=" + marks, "WEIR_UDAF_KILL=" + strings.Join(kill, ",")},
		"-D", "parallelism.default=2", "-D", "python.fn-execution.bundle.size=200000",
		// Kills may fall in one bundle (and a death replays its worker's
		// other bundle too): attempts enough for every kill.
		"-D", fmt.Sprintf("python.fn-execution.max-attempts=%d", kills+4))
	r.mustSucceed(t)
	t.Logf("%d rows, %d groups, %d kills: %s", rows, groups, kills, time.Since(start).Round(time.Millisecond))
	entries, _ := os.ReadDir(marks)
	if len(entries) != kills {
		t.Fatalf("%d of %d planned worker kills happened", len(entries), kills)
	}
	if !strings.Contains(r.stderr, "restarted") {
		t.Errorf("the job summary does not mention restarted workers:\n%s", r.stderr)
	}
	want := make([]int64, groups)
	for a := 0; a < rows; a++ {
		want[a%groups] += int64(a) * int64(a%13)
	}
	final := materialize(t, r.lines())
	if len(final) != groups {
		t.Fatalf("%d groups in the materialized result, want %d", len(final), groups)
	}
	for body, n := range final {
		f := strings.Split(strings.TrimSuffix(strings.TrimPrefix(body, "["), "]"), ", ")
		k, err1 := strconv.Atoi(f[0])
		s, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil || n != 1 || k < 0 || k >= groups {
			t.Fatalf("unexpected row %s (%d times)", body, n)
		}
		if s != want[k] {
			t.Fatalf("group %d: %d, want %d", k, s, want[k])
		}
	}
}

// TestUDAFStreamingErrors: in streaming mode an accumulate that raises
// fails the job naming the function, the group key, the row and the
// user's line; an accumulator that cannot be stored names the function and
// the group; a pandas aggregate function and a DISTINCT aggregate beside a
// Python one are refused with the way out.
func TestUDAFStreamingErrors(t *testing.T) {
	const udfs = `
import threading
from weir import AggregateFunction, DataTypes, udaf

class Picky(AggregateFunction):
    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, v):
        if v == 13:
            raise ValueError("unlucky value")
        acc[0] += v

    def get_value(self, acc):
        return acc[0]

class Locked(AggregateFunction):
    def create_accumulator(self):
        return [0, threading.Lock()]

    def accumulate(self, acc, v):
        acc[0] += v

    def get_value(self, acc):
        return acc[0]

picky = udaf(Picky(), result_type=DataTypes.BIGINT(), name="picky")
locked = udaf(Locked(), result_type=DataTypes.BIGINT(), name="locked")

@udaf(result_type=DataTypes.DOUBLE(), func_type="pandas")
def pmean(v):
    return v.mean()
`
	ddl := `SET 'execution.runtime-mode' = 'streaming';
CREATE TABLE src (a BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '100',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '0', 'fields.a.end' = '99');
CREATE TEMPORARY FUNCTION picky AS 'udfs.picky' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION locked AS 'udfs.locked' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION pmean AS 'udfs.pmean' LANGUAGE PYTHON;
`
	files := map[string]string{"udfs.py": udfs}
	r := job(t, ddl+"SELECT CONCAT('g', CAST(a % 5 AS STRING)), picky(a) FROM src GROUP BY CONCAT('g', CAST(a % 5 AS STRING));", files)
	if r.code != 1 {
		t.Fatalf("exit code %d, want 1\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"aggregate function 'picky'", "raised ValueError in accumulate: unlucky value",
		"group key: ('g3',)", "input row (+I), arguments: (13,)", `raise ValueError("unlucky value")`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	r = job(t, ddl+"SELECT a % 2, locked(a) FROM src GROUP BY a % 2;", files)
	if r.code != 1 || !strings.Contains(r.stderr, "the accumulator of Python aggregate function(s) 'locked' cannot be stored") || !strings.Contains(r.stderr, "group key: (") {
		t.Errorf("exit code %d; want 1 and an error about the accumulator:\n%s", r.code, r.stderr)
	}
	r = job(t, ddl+"SELECT a % 2, pmean(CAST(a AS DOUBLE)) FROM src GROUP BY a % 2;", files)
	if r.code != 1 || !strings.Contains(r.stderr, "pandas aggregate function pmean runs in batch mode only") {
		t.Errorf("exit code %d; want 1 and an error about pandas in streaming mode:\n%s", r.code, r.stderr)
	}
	r = job(t, ddl+"SELECT a % 2, picky(a), COUNT(DISTINCT a) FROM src GROUP BY a % 2;", files)
	if r.code != 1 || !strings.Contains(r.stderr, "the built-in aggregate COUNT(DISTINCT") {
		t.Errorf("exit code %d; want 1 and an error about the built-in aggregate:\n%s", r.code, r.stderr)
	}
}
