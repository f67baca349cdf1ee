package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestStreamingPrintRowKinds: in streaming mode (SET in the script) a GROUP
// BY emits +I for a new group and -U/+U as it changes; a Python function
// over the aggregate's rows keeps each row's kind; print shows the kinds.
func TestStreamingPrintRowKinds(t *testing.T) {
	r := job(t, `SET 'execution.runtime-mode' = 'streaming';
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
SELECT k, inc(CAST(c AS INT)) AS c1 FROM (SELECT k, COUNT(*) AS c FROM (VALUES (1), (2), (1), (1)) AS t(k) GROUP BY k);`,
		map[string]string{"udfs.py": incUDF}).mustSucceed(t)
	want := []string{"+I[1, 2]", "+I[2, 2]", "-U[1, 2]", "+U[1, 3]", "-U[1, 3]", "+U[1, 4]"}
	if got := r.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The same script in batch mode gives the final rows only.
	r = job(t, `CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
SELECT k, inc(CAST(c AS INT)) AS c1 FROM (SELECT k, COUNT(*) AS c FROM (VALUES (1), (2), (1), (1)) AS t(k) GROUP BY k);`,
		map[string]string{"udfs.py": incUDF}, "-D", "execution.runtime-mode=batch").mustSucceed(t)
	got := r.lines()
	if len(got) != 2 || !contains(got, "+I[1, 4]") || !contains(got, "+I[2, 2]") {
		t.Errorf("batch output %q, want +I[1, 4] and +I[2, 2]", got)
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// TestStreamingInsertOnlySinkRefuses: an updating query into a filesystem
// table fails before it starts with Flink's kind of error, and writes
// nothing; the same query in batch mode writes the final rows.
func TestStreamingInsertOnlySinkRefuses(t *testing.T) {
	script := `CREATE TABLE out (k INT, c BIGINT) WITH ('connector' = 'filesystem', 'path' = '$DIR/out', 'format' = 'csv');
INSERT INTO out SELECT k, COUNT(*) FROM (VALUES (1), (2), (1)) AS t(k) GROUP BY k;`
	args, dir := writeJob(t, "SET 'execution.runtime-mode' = 'streaming';\n"+script, nil)
	r := runWeir(t, nil, args...)
	if r.code == 0 || !strings.Contains(r.stderr, "Table sink 'out' doesn't support consuming update changes which is produced by node GroupAggregate") {
		t.Fatalf("exit %d, stderr:\n%s\nwant a refusal of the update changes", r.code, r.stderr)
	}
	if files, _ := os.ReadDir(dir + "/out"); len(files) != 0 {
		t.Errorf("the refused job wrote %d file(s)", len(files))
	}
	job(t, script, nil).mustSucceed(t)
}

// TestBatchRefusesEndlessSource: batch mode (the default) refuses a source
// that never ends and says how to run it as a stream.
func TestBatchRefusesEndlessSource(t *testing.T) {
	r := job(t, `CREATE TABLE gen (k INT) WITH ('connector' = 'datagen');
SELECT k FROM gen;`, nil)
	if r.code == 0 || !strings.Contains(r.stderr, "never ends") || !strings.Contains(r.stderr, "'execution.runtime-mode' = 'streaming'") {
		t.Errorf("exit %d, stderr:\n%s\nwant a refusal naming streaming mode", r.code, r.stderr)
	}
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestStreamingUnboundedCancel: an aggregate over a datagen table without
// 'number-of-rows', with a Python function before it, runs until SIGINT,
// printing updates as it goes; SIGINT stops it (exit 130) with no worker
// left behind.
func TestStreamingUnboundedCancel(t *testing.T) {
	args, _ := writeJob(t, `CREATE TABLE gen (k INT NOT NULL) WITH ('connector' = 'datagen', 'fields.k.min' = '0', 'fields.k.max' = '1000', 'rows-per-second' = '20000');
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
SELECT inc(k) % 3 AS g, COUNT(*) AS c FROM gen GROUP BY inc(k) % 3;`, map[string]string{"udfs.py": incUDF})
	cmd := exec.Command(weirBin, append(args, "-D", "execution.runtime-mode=streaming", "-D", "parallelism.default=2", "-D", "python.fn-execution.bundle.time=100 ms")...)
	cmd.Env = append(os.Environ(), testMark)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	// Wait for updates of every group to be printed.
	deadline := time.Now().Add(90 * time.Second)
	for strings.Count(stdout.String(), "+U[") < 30 {
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
	workers := workersOf(cmd.Process.Pid)
	if len(workers) != 2 {
		t.Errorf("%d workers running, want 2", len(workers))
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
	for _, w := range workers {
		if syscall.Kill(w, 0) == nil {
			t.Errorf("worker %d still running after the job was cancelled", w)
		}
	}
	// Every printed line is a change of one of the three groups, and each
	// -U is followed by the +U of the same group with a count one higher
	// (per-row emission).
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	lines = lines[:len(lines)-1] // the last may be cut by the signal
	for i, l := range lines {
		if !strings.HasPrefix(l, "+I[") && !strings.HasPrefix(l, "-U[") && !strings.HasPrefix(l, "+U[") {
			t.Fatalf("line %d: %q is not a +I, -U or +U row", i, l)
		}
		if strings.HasPrefix(l, "-U[") && i+1 < len(lines) {
			var g, c, g2, c2 int
			if _, err := fmt.Sscanf(l, "-U[%d, %d]", &g, &c); err != nil {
				t.Fatalf("line %d: %q: %v", i, l, err)
			}
			if _, err := fmt.Sscanf(lines[i+1], "+U[%d, %d]", &g2, &c2); err != nil || g2 != g || c2 != c+1 {
				t.Fatalf("line %d: %q is followed by %q, want +U[%d, %d]", i, l, lines[i+1], g, c+1)
			}
		}
	}
}
