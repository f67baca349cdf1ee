// Package e2e runs real jobs through the real weir binary and real Python
// workers (the Beam Python SDK harness), and checks their exact output.
//
// The tests need WEIR_PYTHON: a Python with the weir package installed (the
// Makefile's .venv). Without it they are skipped with a message. WEIR_BIN
// runs them against an installed weir instead of a fresh build.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var weirBin string

// TestMain builds the binary from this checkout, unless WEIR_BIN names one
// to test instead (such as the weir command of an installed wheel).
func TestMain(m *testing.M) {
	if weirBin = os.Getenv("WEIR_BIN"); weirBin != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "weir-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	weirBin = filepath.Join(dir, "weir")
	build := exec.Command("go", "build", "-o", weirBin, "../cmd/weir")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building weir:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needPython(t *testing.T) {
	t.Helper()
	if os.Getenv("WEIR_PYTHON") == "" {
		t.Skip("WEIR_PYTHON is not set: run through 'make test', which installs weir into .venv")
	}
}

// result is what one run of the binary gave.
type result struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
}

// writeJob writes the SQL (with $DIR replaced by the directory) and the
// Python files into a new temporary directory, and returns the arguments of
// `weir sql -f job.sql --pyfiles <dir>` and the directory.
func writeJob(t *testing.T, sqlText string, pyFiles map[string]string) (args []string, dir string) {
	t.Helper()
	needPython(t)
	dir = t.TempDir()
	for name, src := range pyFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sqlPath := filepath.Join(dir, "job.sql")
	if err := os.WriteFile(sqlPath, []byte(strings.ReplaceAll(sqlText, "$DIR", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"sql", "-f", sqlPath, "--pyfiles", dir}, dir
}

// job runs a SQL job with Python files, plus extra arguments, to its end.
func job(t *testing.T, sqlText string, pyFiles map[string]string, extra ...string) result {
	t.Helper()
	args, _ := writeJob(t, sqlText, pyFiles)
	return runWeir(t, nil, append(args, extra...)...)
}

// runWeir runs the binary with extra environment variables to its end.
func runWeir(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, weirBin, args...)
	cmd.Env = append(append(os.Environ(), testMark), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running weir: %v", err)
	}
	return r
}

// mustSucceed fails the test unless the run exited 0.
func (r result) mustSucceed(t *testing.T) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("weir exited %d\nstderr:\n%s", r.code, r.stderr)
	}
	return r
}

// lines returns the non-empty lines of stdout.
func (r result) lines() []string {
	var out []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// testMark is put in the environment of every weir this test binary runs;
// workers inherit it, so workerProcesses finds this run's workers and not
// those of other weir jobs on the machine.
var testMark = fmt.Sprintf("WEIR_E2E_MARK=%d-%d", os.Getpid(), time.Now().UnixNano())

// workerProcesses lists the running weir workers started by this test run.
func workerProcesses() []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		if !strings.Contains(cmd, "-m weir.worker") {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && bytes.Contains(env, []byte(testMark+"\x00")) {
			out = append(out, e.Name()+": "+cmd)
		}
	}
	return out
}

// weirImports reads a Python file written for PyFlink and returns it with
// its import lines changed as imports says (PyFlink's line -> weir's), the
// only change allowed: a file naming pyflink anywhere else fails the test.
func weirImports(t *testing.T, path string, imports map[string]string) string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	changed := 0
	for i, l := range lines {
		if w, ok := imports[l]; ok {
			lines[i] = w
			changed++
		} else if strings.Contains(l, "pyflink") && !strings.HasPrefix(l, "#") {
			t.Fatalf("line %d of %s names pyflink outside the imports: %q", i+1, path, l)
		}
	}
	if changed != len(imports) {
		t.Fatalf("changed %d import lines of %s, want %d", changed, path, len(imports))
	}
	return strings.Join(lines, "\n")
}
