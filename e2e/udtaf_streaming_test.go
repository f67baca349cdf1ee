package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// This file tests Python table aggregate functions (flat_aggregate) in
// streaming mode, whose accumulators the engine keeps in a keyed stage:
// worker kills, engine kills with checkpoints, an unbounded source and
// errors. Their changelog against PyFlink 2.3's is checked by the Table API
// program python/tests/table_programs/udtaf_streaming.py. The SQL below
// writes flat_aggregate as weir's Table API does (udtaf.go).

// udtafSumMaxUDFs: a table aggregate function yielding two rows per group,
// its sum and its largest value, whose accumulate SIGKILLs its own worker
// the first time it meets each of the keys in WEIR_UDTAF_KILL past the
// group's first rows (a mark file per key), so that every kill lands inside
// a bundle that must be replayed.
const udtafSumMaxUDFs = `
import os, signal
from weir import DataTypes, Row, TableAggregateFunction, udtaf

MARKS = os.environ.get("WEIR_UDTAF_MARKS", "")
KILL_AT = {int(k) for k in os.environ.get("WEIR_UDTAF_KILL", "").split(",") if k}

class SumMax(TableAggregateFunction):
    def create_accumulator(self):
        return [0, 0, None]

    def accumulate(self, acc, key, v):
        if MARKS and acc[1] >= 2 and key in KILL_AT:
            try:
                fd = os.open(os.path.join(MARKS, str(key)), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.close(fd)
                os.kill(os.getpid(), signal.SIGKILL)
        if v is not None:
            acc[0] += v
            acc[1] += 1
            acc[2] = v if acc[2] is None else max(acc[2], v)

    def emit_value(self, acc):
        yield Row("sum", acc[0])
        yield Row("max", acc[2])

sum_max = udtaf(SumMax(), result_type=DataTypes.ROW([DataTypes.FIELD("tag", DataTypes.STRING()),
                                                      DataTypes.FIELD("v", DataTypes.BIGINT())]))
`

// TestUDTAFStreamingWorkerKills: 400,000 rows into 20,000 groups through a
// table aggregate function in streaming mode on two workers, whose workers
// are SIGKILLed 5 times (keys drawn at random) inside bundles; the
// materialized changelog (every -D retracting a row present) holds exactly
// each group's two rows, computed here, so no bundle's state or rows were
// lost or applied twice.
func TestUDTAFStreamingWorkerKills(t *testing.T) {
	rows, groups, kills := 400_000, 20_000, 5
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 13))
	var kill []string
	for picked := map[int]bool{}; len(kill) < kills; {
		if k := rng.IntN(groups); !picked[k] {
			picked[k] = true
			kill = append(kill, strconv.Itoa(k))
		}
	}
	bundle := 20_000 + rng.IntN(60_000)
	t.Logf("seed %d: kills at keys %s, bundle size %d", seed, strings.Join(kill, ","), bundle)
	marks := t.TempDir()
	q := fmt.Sprintf(`SET 'execution.runtime-mode' = 'streaming';
CREATE TABLE src (a BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '%d',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '0', 'fields.a.end' = '%d');
CREATE TEMPORARY FUNCTION sum_max AS 'udfs.sum_max' LANGUAGE PYTHON;
SELECT a %% %d AS k, `+"`$flat_aggregate`"+`(sum_max(a %% %d, a * 7 %% 1000)) FROM src GROUP BY a %% %d;
`, rows, rows-1, groups, groups, groups)
	start := time.Now()
	r := runWeirJob(t, q, map[string]string{"udfs.py": udtafSumMaxUDFs},
		[]string{"WEIR_UDTAF_MARKS=" + marks, "WEIR_UDTAF_KILL=" + strings.Join(kill, ",")},
		"-D", "parallelism.default=2", "-D", fmt.Sprintf("python.fn-execution.bundle.size=%d", bundle),
		"-D", fmt.Sprintf("python.fn-execution.max-attempts=%d", kills+4))
	r.mustSucceed(t)
	t.Logf("%d rows, %d groups, %d kills: %s", rows, groups, kills, time.Since(start).Round(time.Millisecond))
	if entries, _ := os.ReadDir(marks); len(entries) != kills {
		t.Fatalf("%d of %d planned worker kills happened", len(entries), kills)
	}
	if !strings.Contains(r.stderr, "restarted") {
		t.Errorf("the job summary does not mention restarted workers:\n%s", r.stderr)
	}
	sum, top := make([]int64, groups), make([]int64, groups)
	for a := 0; a < rows; a++ {
		v := int64(a) * 7 % 1000
		sum[a%groups] += v
		top[a%groups] = max(top[a%groups], v)
	}
	final := materialize(t, r.lines())
	if len(final) != 2*groups {
		t.Fatalf("%d rows in the materialized result, want %d", len(final), 2*groups)
	}
	for k := 0; k < groups; k++ {
		for _, want := range []string{fmt.Sprintf("[%d, sum, %d]", k, sum[k]), fmt.Sprintf("[%d, max, %d]", k, top[k])} {
			if final[want] != 1 {
				t.Fatalf("the materialized result holds %s %d times, want once", want, final[want])
			}
		}
	}
}

// TestCheckpointRestartUDTAF: TestCheckpointRestart's kills and restarts of
// the whole engine (checkpoints every 200 ms) with the aggregation done by
// a table aggregate function: its accumulators, saved with the checkpoints
// from the engine's state store, come back exactly. Its two rows per group
// are keyed by tag and group, so that checkpointRestart's upsert applies.
func TestCheckpointRestartUDTAF(t *testing.T) {
	job := `SET 'execution.runtime-mode' = 'streaming';
CREATE TABLE src (id BIGINT, k INT, v INT) WITH ('connector' = 'datagen', 'number-of-rows' = '240000', 'rows-per-second' = '80000',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000000',
  'fields.k.min' = '0', 'fields.k.max' = '40', 'fields.v.min' = '0', 'fields.v.max' = '1000', 'fields.v.null-rate' = '0.1');
CREATE TABLE snk (g STRING, v BIGINT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION sum_max AS 'udfs.sum_max' LANGUAGE PYTHON;
INSERT INTO snk SELECT CONCAT(tag, '-', CAST(k AS STRING)), v
FROM (SELECT k, ` + "`$flat_aggregate`" + `(sum_max(k, w)) FROM (SELECT k, inc(v) AS w FROM src) GROUP BY k);
`
	checkpointRestart(t, job, map[string]string{"udfs.py": nullableIncUDF + udtafSumMaxUDFs}, 82)
}

// TestUDTAFStreamingUnbounded: a table aggregate function over a datagen
// table without 'number-of-rows' runs until SIGINT, printing each group's
// rows as they change: every -D takes back a row printed before, and no
// group ever holds more than its two rows.
func TestUDTAFStreamingUnbounded(t *testing.T) {
	args, _ := writeJob(t, `SET 'execution.runtime-mode' = 'streaming';
CREATE TABLE gen (k INT NOT NULL, v INT NOT NULL) WITH ('connector' = 'datagen', 'fields.k.min' = '0', 'fields.k.max' = '4',
  'fields.v.min' = '0', 'fields.v.max' = '1000', 'rows-per-second' = '5000');
CREATE TEMPORARY FUNCTION sum_max AS 'udfs.sum_max' LANGUAGE PYTHON;
SELECT k, `+"`$flat_aggregate`"+`(sum_max(k, v)) FROM gen GROUP BY k;`, map[string]string{"udfs.py": udtafSumMaxUDFs})
	cmd := exec.Command(weirBin, append(args, "-D", "parallelism.default=2", "-D", "python.fn-execution.bundle.time=100 ms")...)
	cmd.Env = append(os.Environ(), testMark)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	deadline := time.Now().Add(90 * time.Second)
	for strings.Count(stdout.String(), "-D[") < 40 {
		select {
		case err := <-done:
			t.Fatalf("the unbounded job ended by itself (%v):\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no updates after 90 s; stdout:\n%.2000s\nstderr:\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("weir did not stop within 20 s of SIGINT")
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("exit = %v, want code 130\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	lines = lines[:len(lines)-1] // the last may be cut by the signal
	perKey := map[string]int{}
	for body, n := range materialize(t, lines) {
		k, _, _ := strings.Cut(body, ", ")
		perKey[k] += n
	}
	for k, n := range perKey {
		if n > 2 {
			t.Errorf("group %s] holds %d rows, want at most 2", k, n)
		}
	}
	if len(perKey) == 0 {
		t.Errorf("nothing left of %d printed lines", len(lines))
	}
}

// TestUDTAFStreamingErrors: in streaming mode a table aggregate function
// that raises in accumulate or emit_value fails the job naming the
// function, the group key (and the input row) and the user's line; one
// without retract over updating input says to define it; a row that does
// not fit the result type is named with its group.
func TestUDTAFStreamingErrors(t *testing.T) {
	const udfs = `
from weir import DataTypes, Row, TableAggregateFunction, udtaf

class Picky(TableAggregateFunction):
    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, v):
        if v == 13:
            raise ValueError("unlucky value")
        acc[0] += v

    def emit_value(self, acc):
        yield Row(1000 // (acc[0] - 10))

ROW = DataTypes.ROW([DataTypes.FIELD("x", DataTypes.BIGINT())])
picky = udtaf(Picky(), result_type=ROW, name="picky")

class Wide(TableAggregateFunction):
    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, v):
        acc[0] += v

    def emit_value(self, acc):
        yield Row(acc[0], acc[0])

wide = udtaf(Wide(), result_type=ROW, name="wide")
`
	ddl := `SET 'execution.runtime-mode' = 'streaming';
CREATE TABLE src (a BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '100',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '0', 'fields.a.end' = '99');
CREATE TEMPORARY FUNCTION picky AS 'udfs.picky' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION wide AS 'udfs.wide' LANGUAGE PYTHON;
`
	files := map[string]string{"udfs.py": udfs}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"SELECT CONCAT('g', CAST(a % 5 AS STRING)) AS g, `$flat_aggregate`(picky(a)) FROM src GROUP BY CONCAT('g', CAST(a % 5 AS STRING));",
			[]string{"table aggregate function 'picky' raised ValueError in accumulate: unlucky value", "group key: ('g3',)",
				"input row (+I), arguments: (13,)", `raise ValueError("unlucky value")`}},
		{"SELECT a % 2 AS k, `$flat_aggregate`(picky(a - 3 * (a % 2))) FROM src WHERE a < 11 GROUP BY a % 2;",
			[]string{"table aggregate function 'picky' raised ZeroDivisionError in emit_value", "group key: (1,)",
				"yield Row(1000 // (acc[0] - 10))"}},
		{"SELECT c, `$flat_aggregate`(picky(k)) FROM (SELECT a % 3 AS k, COUNT(*) AS c FROM src GROUP BY a % 3) GROUP BY c;",
			[]string{"table aggregate function 'picky' raised NotImplementedError in retract", "input row (-U), arguments: (",
				"define retract(accumulator, *args)"}},
		{"SELECT a % 2 AS k, `$flat_aggregate`(wide(a)) FROM src GROUP BY a % 2;",
			[]string{"emit_value of Python table aggregate function 'wide' yielded a row that does not fit its result type",
				"it has 2 field(s) where the function's result type has 1", "group key: ("}},
	} {
		r := job(t, ddl+tc.q, files, "-D", "python.fn-execution.bundle.size=1")
		if r.code != 1 {
			t.Errorf("%s: exit code %d, want 1\n%s", tc.q, r.code, r.stderr)
			continue
		}
		for _, want := range tc.want {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.q, want, r.stderr)
			}
		}
	}
}
