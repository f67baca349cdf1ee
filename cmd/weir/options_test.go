package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/config"
)

// TestOptionErrors: a bad option value from -D or SET stops weir before any
// job runs, naming the option, the value, the expected format and, for
// SET, where it is.
func TestOptionErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "job.sql"), []byte("SELECT 1;"), 0o644)
	os.WriteFile(filepath.Join(dir, "set.sql"), []byte("SELECT 1;\nSET 'python.fn-execution.bundle.time' = '1 mins';\nSELECT 2;"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sql", "-f", "job.sql", "-D", "parallelism.default=0"}, "weir: -D: option 'parallelism.default' = '0': must be at least 1"},
		{[]string{"explain", "-f", "job.sql", "-D", "python.worker.startup-timeout=soon"}, "option 'python.worker.startup-timeout' = 'soon': want a whole number with an optional unit (ms, s, min, h, d; a bare number is milliseconds)"},
		{[]string{"sql", "-f", "set.sql"}, "set.sql: SQL error at line 2, column 1: option 'python.fn-execution.bundle.time' = '1 mins': want"},
	} {
		code, out, errs := runCLI(t, dir, c.args...)
		if code != exitFailed || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 1 and %q", c.args, code, errs, c.want)
		}
		if out != "" {
			t.Errorf("%q: a job ran (stdout %q) despite a bad option", c.args, out)
		}
	}
}

// TestOptionWarnings: each option weir does not read is reported once,
// whether -D or SET gave it, with the closest option weir reads; the job
// still runs.
func TestOptionWarnings(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "job.sql"), []byte("SET 'paralelism.default' = '2';\nSELECT 1;\nSET 'table.exec.resource.default-parallelism' = '2';\nSELECT 2;\nRESET;\nSELECT 3;"), 0o644)
	code, out, errs := runCLI(t, dir, "sql", "-f", "job.sql", "--progress=off", "-D", "python.fn-execution.bundle.sise=5", "-D", "python.fn-execution.bundle.time=5 min")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	want := []string{
		"weir: warning: option 'paralelism.default' is not used by weir (did you mean 'parallelism.default'?)",
		"weir: warning: option 'python.fn-execution.bundle.sise' is not used by weir (did you mean 'python.fn-execution.bundle.size'?)",
		"weir: warning: option 'table.exec.resource.default-parallelism' is not used by weir",
	}
	var got []string
	for _, l := range strings.Split(errs, "\n") {
		if strings.Contains(l, "warning") {
			got = append(got, l)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, v := range []string{"1", "2", "3"} {
		if !strings.Contains(out, v) {
			t.Errorf("stdout %q lacks the row of SELECT %s", out, v)
		}
	}
}

// TestOptionsCommand: weir options lists every option of the table;
// --markdown prints README.md's table.
func TestOptionsCommand(t *testing.T) {
	code, out, errs := runCLI(t, "", "options")
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, o := range config.Options {
		if !strings.Contains(out, o.Key) {
			t.Errorf("weir options does not list %s:\n%s", o.Key, out)
		}
	}
	code, out, _ = runCLI(t, "", "options", "--markdown")
	if code != exitOK || out != config.Markdown() {
		t.Errorf("weir options --markdown: exit %d, output %q", code, out)
	}
	if code, _, errs := runCLI(t, "", "options", "x"); code != exitUsage {
		t.Errorf("weir options x: exit %d, stderr %q; want 2", code, errs)
	}
}
