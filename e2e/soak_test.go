package e2e

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// soakUDF costs about 10 us of Python arithmetic per row. Each file
// "exit-<row>" in the job's directory makes the first worker to reach that
// row end itself with os._exit, the way a crashing function does; the
// worker that replays the row finds the file taken.
const soakUDF = `import os
from weir import udf

DIR = os.path.dirname(os.path.abspath(__file__))
EXITS = {int(f[5:]) for f in os.listdir(DIR) if f.startswith("exit-")}


@udf(result_type="BIGINT")
def work(x):
    if x in EXITS:
        try:
            os.rename(os.path.join(DIR, "exit-%d" % x), os.path.join(DIR, "taken-%d" % x))
        except OSError:
            pass
        else:
            os._exit(9)
    s = x
    for i in range(40):
        s = (s * 31 + i) % 1000003
    return s
`

const soakJob = `
SET 'python.fn-execution.bundle.size' = '4000';
SET 'python.fn-execution.arrow.batch.size' = '1000';
SET 'python.fn-execution.max-attempts' = '%d';
CREATE TABLE src (a BIGINT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence',
  'fields.a.start' = '0', 'fields.a.end' = '%d');
CREATE TABLE snk (a BIGINT, b BIGINT) WITH ('connector' = 'filesystem', 'path' = '$DIR/out', 'format' = 'csv');
CREATE TEMPORARY FUNCTION work AS 'udfs.work' LANGUAGE PYTHON;
INSERT INTO snk SELECT a, work(a) FROM src;
`

var replayedRE = regexp.MustCompile(`replayed bundle completed.* since_death=(\S+)`)

// TestFaultSoak runs a multi-bundle job with a saturated, CPU-bound function
// many times, killing workers (SIGKILL from outside, os._exit from inside)
// at random moments. Each run must either produce exactly the output of a
// run without faults, or fail naming the cause after the retry limit; no run
// may pass its deadline (a hang). The seed is logged: WEIR_SOAK_SEED
// repeats a run.
func TestFaultSoak(t *testing.T) {
	needPython(t)
	if testing.Short() {
		t.Skip("soak test skipped in -short mode")
	}
	const rows = 40_000
	const runs = 30
	const deadline = 45 * time.Second
	seed := time.Now().UnixNano()
	if s := os.Getenv("WEIR_SOAK_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (set WEIR_SOAK_SEED to repeat)", seed)
	rng := rand.New(rand.NewSource(seed))

	want := soakRun(t, rows, 1, 3, nil, deadline)
	if want.err != "" {
		t.Fatalf("the run without faults failed: %s", want.err)
	}
	t.Logf("without faults: %s", want.elapsed.Round(time.Millisecond))

	var recoveries []time.Duration
	kills, failed := 0, 0
	start := time.Now()
	for run := 0; run < runs; run++ {
		workers := 1 + rng.Intn(3)
		// A schedule of faults: when, and whether from outside or inside.
		// One or two os._exit at random rows (they happen whatever the
		// machine's speed), and up to two SIGKILLs at random moments.
		var faults []soakFault
		for i, n := 0, 1+rng.Intn(2); i < n; i++ {
			faults = append(faults, soakFault{exitRow: rng.Intn(rows)})
		}
		for i, n := 0, rng.Intn(3); i < n; i++ {
			faults = append(faults, soakFault{after: time.Duration(100+rng.Intn(700)) * time.Millisecond})
		}
		got := soakRun(t, rows, workers, 3, faults, deadline)
		kills += got.faults
		recoveries = append(recoveries, got.recoveries...)
		switch {
		case got.err == "":
			if !bytes.Equal(got.out, want.out) {
				t.Errorf("run %d (%d workers, faults %v): the output differs from the run without faults (%d bytes, want %d)",
					run, workers, faults, len(got.out), len(want.out))
			}
		case strings.Contains(got.err, "was killed by signal SIGKILL before it connected"):
			// Each replacement was killed while starting, as many times as
			// a start is tried: a legitimate failure, named.
			failed++
		case strings.Contains(got.err, "failed 3 times because its Python worker died"):
			// Three faults hit one bundle: a legitimate failure, which must
			// name the function and the cause.
			failed++
			if !strings.Contains(got.err, "function work") || !regexp.MustCompile(`\((killed by signal SIGKILL|exit code 9)\)`).MatchString(got.err) {
				t.Errorf("run %d: the failure does not name the function and the cause:\n%s", run, got.err)
			}
		default:
			t.Errorf("run %d (%d workers, faults %v) failed: %s", run, workers, faults, got.err)
		}
		t.Logf("run %d: %d workers, %d faults done, %s, %s", run, workers, got.faults, got.elapsed.Round(time.Millisecond),
			map[bool]string{true: "output identical", false: "failed within the retry limit"}[got.err == ""])
	}
	slices.Sort(recoveries)
	if len(recoveries) > 0 {
		t.Logf("%d runs in %s; %d faults survived, %d runs failed within the retry limit; kill to replay completed: min %s, median %s, max %s (%d replays)",
			runs, time.Since(start).Round(time.Second), kills, failed,
			recoveries[0], recoveries[len(recoveries)/2], recoveries[len(recoveries)-1], len(recoveries))
	}
	if kills < runs {
		t.Errorf("only %d faults happened in %d runs: the job ends too soon for the schedule", kills, runs)
	}
	if ps := workerProcesses(); len(ps) > 0 {
		t.Errorf("worker processes left: %v", ps)
	}
}

// soakFault is an os._exit in the function at row exitRow, or else a
// SIGKILL from outside this long after the SIGKILL before (or a worker
// being up).
type soakFault struct {
	exitRow int
	after   time.Duration
}

func (f soakFault) String() string {
	if f.after == 0 {
		return fmt.Sprintf("os._exit at row %d", f.exitRow)
	}
	return fmt.Sprintf("SIGKILL +%s", f.after)
}

type soakResult struct {
	out        []byte
	err        string // the job's error output when it failed
	faults     int    // faults that happened while the job ran
	recoveries []time.Duration
	elapsed    time.Duration
}

// soakRun runs the soak job once with the given faults.
func soakRun(t *testing.T, rows, workers, attempts int, faults []soakFault, deadline time.Duration) soakResult {
	t.Helper()
	args, dir := writeJob(t, fmt.Sprintf(soakJob, attempts, rows-1), map[string]string{"udfs.py": soakUDF})
	var kills []soakFault
	for _, f := range faults {
		if f.after == 0 {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("exit-%d", f.exitRow)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			kills = append(kills, f)
		}
	}
	j := startArgs(t, dir, append(args, "-D", fmt.Sprintf("parallelism.default=%d", workers), "-v"))
	start := time.Now()
	var res soakResult
	timeout := time.After(deadline)
	var err error
	// SIGKILLs are timed from the moment a worker is up, then each from
	// the one before; one waits until there is a worker to hit.
	i, last := 0, time.Time{}
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
wait:
	for {
		select {
		case err = <-j.done:
			break wait
		case <-timeout:
			_ = j.cmd.Process.Signal(syscall.SIGQUIT) // Go dumps its goroutines
			<-j.done
			t.Fatalf("a run with %d workers and faults %v did not end within %s: a hang\n%s", workers, faults, deadline, tail(j.stderr.String(), 200))
		case <-poll.C:
		}
		if i >= len(kills) {
			continue
		}
		// Workers that are up: one killed again and again while starting
		// fails the job after max-attempts starts (the pool's tests cover
		// kills during start-up).
		up := upWorkersOf(j.cmd.Process.Pid)
		if len(up) == 0 {
			continue
		}
		if last.IsZero() {
			last = time.Now()
		}
		if time.Since(last) < kills[i].after {
			continue
		}
		if syscall.Kill(up[rand.Intn(len(up))], syscall.SIGKILL) == nil {
			i++
			res.faults++
			last = time.Now()
		}
	}
	taken, _ := filepath.Glob(filepath.Join(dir, "taken-*"))
	res.faults += len(taken)
	res.elapsed = time.Since(start)
	stderr := j.stderr.String()
	for _, m := range replayedRE.FindAllStringSubmatch(stderr, -1) {
		if d, e := time.ParseDuration(m[1]); e == nil {
			res.recoveries = append(res.recoveries, d)
		}
	}
	if err != nil {
		res.err = stderr
		return res
	}
	out, e := readTable(filepath.Join(j.dir, "out"))
	if e != nil {
		t.Fatalf("output: %v", e)
	}
	res.out = out
	return res
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
