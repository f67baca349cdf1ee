package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// checkpointJob is a streaming GROUP BY over a paced datagen table (about
// 3 s of rows), with a Python function before the aggregation, into print.
const checkpointJob = `SET 'execution.runtime-mode' = 'streaming';
CREATE TABLE src (id BIGINT, k INT, v INT) WITH ('connector' = 'datagen', 'number-of-rows' = '240000', 'rows-per-second' = '80000',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000000',
  'fields.k.min' = '0', 'fields.k.max' = '40', 'fields.v.min' = '0', 'fields.v.max' = '1000', 'fields.v.null-rate' = '0.1');
CREATE TABLE snk (k INT, c BIGINT, s BIGINT, lo INT, hi INT, d BIGINT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
INSERT INTO snk SELECT k, COUNT(*), SUM(CAST(w AS BIGINT)), MIN(w), MAX(w), COUNT(DISTINCT w)
FROM (SELECT k, inc(v) AS w FROM src) GROUP BY k;
`

const nullableIncUDF = `from weir import udf, DataTypes


@udf(result_type=DataTypes.INT())
def inc(x):
    return None if x is None else x + 1
`

// upsert applies a printed changelog keyed by its first field, as an
// upsert sink does: +I and +U set the key's row, -D removes it, -U is
// implied by the +U after it. Rows a restarted job sends again (print is
// at-least-once) end in the same rows.
func upsert(rows map[string]string, out string) {
	for _, l := range strings.Split(out, "\n") {
		if len(l) < 4 || l[2] != '[' {
			continue
		}
		body := l[3 : len(l)-1]
		k, rest, _ := strings.Cut(body, ", ")
		switch l[:2] {
		case "+I", "+U":
			rows[k] = rest
		case "-D":
			delete(rows, k)
		}
	}
}

// TestCheckpointRestart: a streaming job taking checkpoints every 200 ms is
// SIGKILLed at random moments, several times, and started again with the
// same directory until it finishes; the rows its changelog amounts to are
// those of an uninterrupted run (the aggregation's state and the source's
// position come back exactly), and a finished job leaves no checkpoint.
func TestCheckpointRestart(t *testing.T) {
	checkpointRestart(t, checkpointJob, map[string]string{"udfs.py": nullableIncUDF}, 41)
}

// checkpointUDAFJob is checkpointJob's aggregation by a Python aggregate
// function, whose accumulators the engine keeps in its state store.
const checkpointUDAFJob = `SET 'execution.runtime-mode' = 'streaming';
CREATE TABLE src (id BIGINT, k INT, v INT) WITH ('connector' = 'datagen', 'number-of-rows' = '240000', 'rows-per-second' = '80000',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000000',
  'fields.k.min' = '0', 'fields.k.max' = '40', 'fields.v.min' = '0', 'fields.v.max' = '1000', 'fields.v.null-rate' = '0.1');
CREATE TABLE snk (k INT, s BIGINT, c BIGINT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION py_sum AS 'udfs.py_sum' LANGUAGE PYTHON;
INSERT INTO snk SELECT k, py_sum(w), COUNT(*)
FROM (SELECT k, inc(v) AS w FROM src) GROUP BY k;
`

const pySumUDAF = nullableIncUDF + `

from weir import udaf, AggregateFunction


class PySum(AggregateFunction):
    def create_accumulator(self):
        return [0, 0]

    def accumulate(self, acc, x):
        if x is not None:
            acc[0] += x
            acc[1] += 1

    def retract(self, acc, x):
        if x is not None:
            acc[0] -= x
            acc[1] -= 1

    def get_value(self, acc):
        return acc[0] * 1000 + acc[1]


py_sum = udaf(PySum(), result_type=DataTypes.BIGINT(), accumulator_type=DataTypes.ARRAY(DataTypes.BIGINT()))
`

// TestCheckpointRestartUDAF: TestCheckpointRestart's kills and restarts
// with the aggregation done by a Python aggregate function: its
// accumulators, saved with the checkpoints from the engine's state store,
// come back exactly.
func TestCheckpointRestartUDAF(t *testing.T) {
	checkpointRestart(t, checkpointUDAFJob, map[string]string{"udfs.py": pySumUDAF}, 41)
}

// checkpointRestart runs sql with checkpoints every 200 ms, SIGKILLs it at
// random moments (three times) and restarts it with the same directory
// until it finishes; the rows its printed changelog amounts to (groups
// keyed by the first field) must be those of an uninterrupted run.
func checkpointRestart(t *testing.T, sql string, files map[string]string, groups int) {
	args, dir := writeJob(t, sql, files)
	want := map[string]string{}
	upsert(want, job(t, sql, files).mustSucceed(t).stdout)
	if len(want) != groups {
		t.Fatalf("the uninterrupted run gave %d groups, want %d", len(want), groups)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	rounds := 1
	if os.Getenv("WEIR_LONG_TESTS") != "" {
		rounds = 10
	}
	for round := 0; round < rounds; round++ {
		ckdir := filepath.Join(dir, "checkpoints")
		os.RemoveAll(ckdir)
		runArgs := append(append([]string(nil), args...), "-D", "execution.checkpointing.interval=200 ms", "-D", "execution.checkpointing.dir=file://"+ckdir)
		got := map[string]string{}
		resumed := 0
		for attempt := 0; ; attempt++ {
			// Kill at a random moment after the first checkpoint, or (one
			// time in four) at any moment.
			var kill func() bool
			if attempt < 3 {
				after := time.Duration(r.IntN(1500)) * time.Millisecond
				anyTime := r.IntN(4) == 0
				var since time.Time
				before := checkpointsIn(ckdir)
				kill = func() bool {
					if since.IsZero() {
						if !anyTime && checkpointsIn(ckdir) == before {
							return false
						}
						since = time.Now()
					}
					return time.Since(since) >= after
				}
			}
			out, stderr, finished := runKilled(t, runArgs, kill)
			upsert(got, out)
			if strings.Contains(stderr, "resuming from checkpoint") {
				resumed++
			}
			t.Logf("round %d run %d: finished %v, resumed %v, newest checkpoint %s", round, attempt, finished, strings.Contains(stderr, "resuming from checkpoint"), checkpointsIn(ckdir))
			if finished {
				break
			}
			if attempt > 6 {
				t.Fatal("the job did not finish after 7 restarts")
			}
		}
		if len(got) != len(want) {
			t.Fatalf("round %d: %d groups, want %d", round, len(got), len(want))
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("round %d: group %s is [%s], want [%s]", round, k, got[k], v)
			}
		}
		t.Logf("round %d: %d runs resumed from a checkpoint", round, resumed)
		if ents, _ := os.ReadDir(ckdir); len(ents) != 0 {
			t.Errorf("round %d: the finished job left %d entries in its checkpoint directory", round, len(ents))
		}
	}
}

// runKilled runs weir with args and SIGKILLs it once kill, asked every
// 20 ms, says so (never when kill is nil); it returns stdout, stderr and
// whether the job finished.
func runKilled(t *testing.T, args []string, kill func() bool) (string, string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, weirBin, args...)
	cmd.Env = append(os.Environ(), testMark)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-tick.C:
			if kill != nil && kill() {
				cmd.Process.Kill()
				err = <-done
				break wait
			}
		}
	}
	if err == nil {
		return stdout.String(), stderr.String(), true
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == -1 {
		return stdout.String(), stderr.String(), false // killed
	}
	t.Fatalf("weir failed: %v\n%s", err, stderr.String())
	return "", "", false
}

// checkpointsIn names the newest complete checkpoint of dir ("" if none).
func checkpointsIn(dir string) string {
	ms, _ := filepath.Glob(filepath.Join(dir, "chk-*", "_metadata"))
	newest, id := "", -1
	for _, m := range ms {
		name := filepath.Base(filepath.Dir(m))
		var n int
		if _, err := fmt.Sscanf(name, "chk-%d", &n); err == nil && n > id {
			newest, id = name, n
		}
	}
	return newest
}
