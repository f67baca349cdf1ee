package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// started is a weir job running in the background.
type started struct {
	cmd    *exec.Cmd
	stderr *strings.Builder
	done   chan error
	dir    string
}

// startJob starts `weir sql` on sqlText without waiting for it.
func startJob(t *testing.T, sqlText string, pyFiles map[string]string, extra ...string) *started {
	return startJobEnv(t, nil, sqlText, pyFiles, extra...)
}

// startJobEnv is startJob with extra environment variables for weir.
func startJobEnv(t *testing.T, env []string, sqlText string, pyFiles map[string]string, extra ...string) *started {
	t.Helper()
	args, dir := writeJob(t, sqlText, pyFiles)
	return startArgsEnv(t, env, dir, append(args, extra...))
}

// startArgs starts weir with args (from writeJob, for the job in dir)
// without waiting for it.
func startArgs(t *testing.T, dir string, args []string) *started {
	return startArgsEnv(t, nil, dir, args)
}

func startArgsEnv(t *testing.T, env []string, dir string, args []string) *started {
	t.Helper()
	cmd := exec.Command(weirBin, args...)
	cmd.Env = append(append(os.Environ(), testMark), env...)
	s := &started{cmd: cmd, stderr: &strings.Builder{}, done: make(chan error, 1), dir: dir}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	return s
}

// workersOf returns the pids of the worker processes whose parent is pid.
func workersOf(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command name (which is in parentheses).
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(pid) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(cmdline), "weir.worker") {
			out = append(out, p)
		}
	}
	return out
}

// upWorkersOf returns the workers of pid that are up, not starting: a
// test that kills those exercises replays, while a worker killed again and
// again while starting fails the job after max-attempts starts. A harness
// that has connected runs many threads (gRPC, its thread pools); a starting
// one, importing modules, runs one or two.
func upWorkersOf(pid int) []int {
	var out []int
	for _, w := range workersOf(pid) {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", w))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(l, "Threads:"); ok {
				if n, _ := strconv.Atoi(strings.TrimSpace(v)); n >= 6 {
					out = append(out, w)
				}
			}
		}
	}
	return out
}

// rssKB is the resident set size of pid in KiB, or 0.
func rssKB(pid int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(sc.Text())[1])
			return n
		}
	}
	return 0
}

// checkSequenceCSV checks that a filesystem table's directory holds exactly
// the rows (i, i+1) for i in [0, n), in order.
func checkSequenceCSV(t *testing.T, dir string, n int) {
	t.Helper()
	data, err := readTable(dir)
	if st, e := os.Stat(dir); e == nil && !st.IsDir() {
		data, err = os.ReadFile(dir)
	}
	if err != nil {
		t.Fatalf("output: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	i := 0
	for sc.Scan() {
		want := fmt.Sprintf("%d,%d", i, i+1)
		if sc.Text() != want {
			t.Fatalf("output line %d = %q, want %q", i+1, sc.Text(), want)
		}
		i++
	}
	if i != n {
		t.Fatalf("output has %d rows, want %d", i, n)
	}
}

const sequenceJob = `
SET 'python.fn-execution.bundle.size' = '50000';
CREATE TABLE src (a INT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence',
  'fields.a.start' = '0', 'fields.a.end' = '%d', 'rows-per-second' = '%d');
CREATE TABLE snk (a INT, b INT) WITH ('connector' = 'filesystem', 'path' = '$DIR/out.csv', 'format' = 'csv');
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
INSERT INTO snk SELECT a, inc(a) FROM src;
`

// TestWorkerKills SIGKILLs workers at random moments during a 5,000,000-row
// job; the output must be exactly that of a run without faults.
func TestWorkerKills(t *testing.T) {
	const rows = 5_000_000
	j := startJob(t, fmt.Sprintf(sequenceJob, rows-1, 400_000), map[string]string{"udfs.py": incUDF}, "-D", "parallelism.default=2")
	rng := rand.New(rand.NewSource(1))
	kills := 0
	deadline := time.After(4 * time.Minute)
loop:
	for {
		select {
		case err := <-j.done:
			if err != nil {
				t.Fatalf("job failed after %d kills: %v\n%s", kills, err, j.stderr)
			}
			break loop
		case <-deadline:
			t.Fatal("job did not finish in 4 minutes")
		case <-time.After(time.Duration(700+rng.Intn(900)) * time.Millisecond):
			ws := upWorkersOf(j.cmd.Process.Pid)
			if len(ws) == 0 {
				continue
			}
			if err := syscall.Kill(ws[rng.Intn(len(ws))], syscall.SIGKILL); err == nil {
				kills++
			}
		}
	}
	if kills < 5 {
		t.Fatalf("only %d kills happened before the job ended; want at least 5", kills)
	}
	t.Logf("survived %d worker kills", kills)
	if !strings.Contains(j.stderr.String(), "restarted") {
		t.Errorf("the job summary does not mention restarted workers:\n%s", j.stderr)
	}
	checkSequenceCSV(t, onePart(t, filepath.Join(j.dir, "out.csv")), rows)
}

// TestRetryLimit: a UDF that kills its worker on one row fails the job after
// three attempts, naming the cause.
func TestRetryLimit(t *testing.T) {
	udfs := `import os
from weir import udf


@udf(result_type="INT")
def die(x):
    if x == 777:
        os._exit(7)
    return x
`
	r := job(t, `CREATE TABLE src (a INT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '10000');
CREATE TABLE snk (a INT) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION die AS 'udfs.die' LANGUAGE PYTHON;
INSERT INTO snk SELECT die(a) FROM src;`, map[string]string{"udfs.py": udfs})
	if r.code == 0 {
		t.Fatal("job succeeded; want a failure")
	}
	for _, want := range []string{"failed 3 times", "exit code 7", "die(a)"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, r.stderr)
		}
	}
	if ps := workerProcesses(); len(ps) > 0 {
		t.Errorf("worker processes left: %v", ps)
	}
}

// TestCrashExplained: a function that crashes its worker on one input row
// (a segfault, sys.exit, os._exit) fails the job after the retry limit with
// an error that names the function, the cause and the input row, and shows
// the worker's own last lines without the harness's start-up messages.
func TestCrashExplained(t *testing.T) {
	cases := []struct {
		name, crash string
		want        []string
	}{
		{"segfault", "ctypes.string_at(0)", []string{"failed 3 times", "killed by signal SIGSEGV", "The input row that kills the worker"}},
		// SystemExit is no exception of the function's: the harness reports
		// it, and the worker lives.
		{"sys.exit", "sys.exit(3)", []string{"failed in the Python worker", "SystemExit: 3", "udfs.py\", line 8, in crash", "The input row that fails"}},
		{"os._exit after a print", "print('about to crash on', x, file=sys.stderr, flush=True)\n        os._exit(7)",
			[]string{"failed 3 times", "exit code 7", "The input row that kills the worker", "about to crash on 777"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			udfs := fmt.Sprintf(`import ctypes, os, sys
from weir import udf


@udf(result_type="BIGINT")
def crash(x, y):
    if x == 777:
        %s
    return x + y
`, tc.crash)
			r := job(t, `SET 'python.fn-execution.arrow.batch.size' = '1000';
CREATE TABLE src (a BIGINT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '5000');
CREATE TABLE snk (a BIGINT) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION crash AS 'udfs.crash' LANGUAGE PYTHON;
INSERT INTO snk SELECT crash(a, a * 2) FROM src;`, map[string]string{"udfs.py": udfs})
			if r.code == 0 {
				t.Fatal("job succeeded; want a failure")
			}
			for _, want := range append(tc.want, "function crash", "input: (777, 1554)", "crash(777, 1554)") {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("error lacks %q:\n%s", want, r.stderr)
				}
			}
			for _, noise := range []string{"Creating state cache", "Control channel established", "apitools", "sdk_worker.py"} {
				if _, msg, _ := strings.Cut(r.stderr, "job failed:"); strings.Contains(msg, noise) {
					t.Errorf("error shows the harness's start-up message %q:\n%s", noise, r.stderr)
				}
			}
			if r.elapsed > 30*time.Second {
				t.Errorf("took %s", r.elapsed)
			}
			if ps := workerProcesses(); len(ps) > 0 {
				t.Errorf("worker processes left: %v", ps)
			}
		})
	}
}

// TestStuckFunction: a UDF in an endless loop fails the job after the
// progress timeout, showing where the function is stuck.
func TestStuckFunction(t *testing.T) {
	udfs := `from weir import udf


@udf(result_type="INT")
def spin(x):
    while x == 500: pass  # one line: the stack names line 6 wherever in the loop it is
    return x
`
	r := job(t, `SET 'python.fn-execution.bundle.progress-timeout' = '2 s';
CREATE TABLE src (a INT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '10000');
CREATE TABLE snk (a INT) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION spin AS 'udfs.spin' LANGUAGE PYTHON;
INSERT INTO snk SELECT spin(a) FROM src;`, map[string]string{"udfs.py": udfs})
	if r.code == 0 {
		t.Fatal("job succeeded; want a failure")
	}
	for _, want := range []string{"made no progress", "spin(a)", "udfs.py\", line 6 in spin"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.elapsed > time.Minute {
		t.Errorf("took %s", r.elapsed)
	}
}

// TestSlowIsNotStuck: a function slower than the progress timeout per
// batch, but moving, is not mistaken for a stuck one.
func TestSlowIsNotStuck(t *testing.T) {
	udfs := `import time
from weir import udf


@udf(result_type="INT")
def slow(x):
    time.sleep(0.002)
    return x
`
	r := job(t, `SET 'python.fn-execution.bundle.progress-timeout' = '2 s';
CREATE TABLE src (a INT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '2000');
CREATE TABLE snk (a INT) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION slow AS 'udfs.slow' LANGUAGE PYTHON;
INSERT INTO snk SELECT slow(a) FROM src;`, map[string]string{"udfs.py": udfs}).mustSucceed(t)
	// One batch of 2,000 rows takes over 4 s, twice the progress timeout.
	if !strings.Contains(r.stderr, "job finished: 2000 rows") {
		t.Errorf("summary: %s", r.stderr)
	}
}

// TestBoundedMemory: with a slow UDF, the engine's peak RSS stays flat
// (within 20%) when the source grows tenfold: the source is slowed, not
// buffered.
func TestBoundedMemory(t *testing.T) {
	udfs := `from weir import udf


@udf(result_type="BIGINT")
def slow(x):
    s = 0
    for i in range(100):
        s += i
    return x + s
`
	peak := func(rows int) int {
		// A tight heap limit takes the garbage collector's slack out of the
		// comparison: what remains is what the engine holds.
		j := startJobEnv(t, []string{"GOMEMLIMIT=40MiB"}, fmt.Sprintf(`SET 'python.fn-execution.bundle.size' = '20000';
SET 'python.fn-execution.arrow.batch.size' = '5000';
CREATE TABLE src (a BIGINT NOT NULL, pad STRING NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '%d', 'fields.pad.length' = '200');
CREATE TABLE snk (a BIGINT, pad STRING) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION slow AS 'udfs.slow' LANGUAGE PYTHON;
INSERT INTO snk SELECT slow(a), pad FROM src;`, rows), map[string]string{"udfs.py": udfs})
		max := 0
		for {
			select {
			case err := <-j.done:
				if err != nil {
					t.Fatalf("job failed: %v\n%s", err, j.stderr)
				}
				return max
			case <-time.After(20 * time.Millisecond):
				if r := rssKB(j.cmd.Process.Pid); r > max {
					max = r
				}
			}
		}
	}
	small := peak(200_000)
	large := peak(2_000_000)
	t.Logf("engine peak RSS: %d KiB at 200k rows, %d KiB at 2M rows", small, large)
	if float64(large) > 1.2*float64(small) {
		t.Errorf("engine peak RSS grew from %d KiB to %d KiB (> 20%%) with 10x the rows", small, large)
	}
}

// TestCancel: SIGINT in the middle of a large job stops everything within
// 5 s, exits 130, and commits no output.
func TestCancel(t *testing.T) {
	j := startJob(t, fmt.Sprintf(sequenceJob, 100_000_000, 2_000_000), map[string]string{"udfs.py": incUDF}, "-D", "parallelism.default=2")
	// Wait for the workers to be up and data to flow.
	deadline := time.Now().Add(60 * time.Second)
	for len(workersOf(j.cmd.Process.Pid)) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("workers did not start:\n%s", j.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	workers := workersOf(j.cmd.Process.Pid)
	start := time.Now()
	if err := j.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-j.done:
	case <-time.After(10 * time.Second):
		t.Fatal("weir did not stop within 10 s of SIGINT")
	}
	stop := time.Since(start)
	t.Logf("stopped %s after SIGINT", stop)
	if stop > 5*time.Second {
		t.Errorf("stopping took %s; want < 5 s", stop)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("exit = %v, want code 130\n%s", err, j.stderr)
	}
	if !strings.Contains(j.stderr.String(), "cancelled") {
		t.Errorf("stderr does not say the job was cancelled:\n%s", j.stderr)
	}
	for _, w := range workers {
		if syscall.Kill(w, 0) == nil {
			t.Errorf("worker %d still running", w)
		}
	}
	if files, _ := os.ReadDir(filepath.Join(j.dir, "out.csv")); len(files) != 0 {
		t.Errorf("the cancelled job left files in its table's directory: %v", files)
	}
}

// TestStartupFailures: each way the workers cannot start gets its own
// explanation, before any data flows.
func TestStartupFailures(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	venvPython := os.Getenv("WEIR_PYTHON")
	// An interpreter without weir: isolated mode ignores site-packages.
	noWeir := filepath.Join(dir, "python-no-weir")
	os.WriteFile(noWeir, []byte("#!/bin/sh\nexec "+venvPython+" -I -S \"$@\"\n"), 0o755)
	// An interpreter whose apache_beam cannot be imported.
	shadow := filepath.Join(dir, "shadow")
	os.MkdirAll(filepath.Join(shadow, "apache_beam"), 0o755)
	os.WriteFile(filepath.Join(shadow, "apache_beam", "__init__.py"), []byte("raise ImportError('apache_beam is broken here')\n"), 0o644)
	noBeam := filepath.Join(dir, "python-no-beam")
	os.WriteFile(noBeam, []byte("#!/bin/sh\nPYTHONPATH="+shadow+":$PYTHONPATH exec "+venvPython+" \"$@\"\n"), 0o755)
	// An interpreter whose worker never connects.
	silent := filepath.Join(dir, "python-silent")
	os.WriteFile(silent, []byte("#!/bin/sh\ncase \"$*\" in *weir.worker*) exec sleep 600;; esac\nexec "+venvPython+" \"$@\"\n"), 0o755)

	base := `CREATE TABLE snk (a INT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
INSERT INTO snk SELECT inc(a) FROM (VALUES (1)) AS t(a);`
	cases := []struct {
		name  string
		sql   string
		files map[string]string
		args  []string
		want  []string
	}{
		{"no such interpreter", base, map[string]string{"udfs.py": incUDF}, []string{"-D", "python.executable=/no/such/python3"},
			[]string{"cannot run Python interpreter", "/no/such/python3", "python.executable"}},
		{"weir missing", base, map[string]string{"udfs.py": incUDF}, []string{"-D", "python.executable=" + noWeir},
			[]string{"weir package is not installed", noWeir}},
		{"apache-beam broken", base, map[string]string{"udfs.py": incUDF}, []string{"-D", "python.executable=" + noBeam},
			[]string{"apache-beam", "apache_beam is broken here"}},
		{"module not importable", strings.Replace(base, "'udfs.inc'", "'nosuchmod.inc'", 1), map[string]string{"udfs.py": incUDF}, nil,
			[]string{"line 2, column 34", "cannot import Python module 'nosuchmod'", "Python path", "--pyfiles"}},
		{"module has a syntax error", strings.Replace(base, "'udfs.inc'", "'broken.inc'", 1), map[string]string{"udfs.py": incUDF, "broken.py": "def inc(:\n"}, nil,
			[]string{"line 2, column 34", "importing Python module 'broken' failed: SyntaxError", "broken.py\", line 1"}},
		{"module misses a dependency", strings.Replace(base, "'udfs.inc'", "'needsdep.inc'", 1), map[string]string{"udfs.py": incUDF, "needsdep.py": "import nosuchdependency\n"}, nil,
			[]string{"importing Python module 'needsdep' failed: ModuleNotFoundError: No module named 'nosuchdependency'", "needsdep.py\", line 1"}},
		{"never connects", base, map[string]string{"udfs.py": incUDF}, []string{"-D", "python.executable=" + silent, "-D", "python.worker.startup-timeout=2 s"},
			[]string{"did not connect within 2s"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := job(t, tc.sql, tc.files, tc.args...)
			if r.code == 0 {
				t.Fatalf("succeeded; want a failure")
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stdout, "+I[") {
				t.Errorf("data flowed: %s", r.stdout)
			}
		})
	}
}
