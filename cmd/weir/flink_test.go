package main

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/config"
)

func TestParseTarget(t *testing.T) {
	for _, c := range []struct {
		in, want, err string
	}{
		{"", "", ""},
		{"local", "", ""},
		{"flink://127.0.0.1:8081", "flink://127.0.0.1:8081", ""},
		{"flink://jm.example.com:443/", "flink://jm.example.com:443", ""},
		{"flink://[::1]:8081", "flink://[::1]:8081", ""},
		{"flink://host", "", "no HOST:PORT"},
		{"flink://:8081", "", "no HOST:PORT"},
		{"flink://h:0", "", "port '0'"},
		{"flink://h:65536", "", "port '65536'"},
		{"flink://h:http", "", "port 'http'"},
		{"http://h:8081", "", "unknown scheme 'http'"},
		{"yarn", "", "not a target"},
	} {
		got, err := parseTarget(c.in)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "flink://HOST:PORT") {
				t.Errorf("parseTarget(%q) error = %v, want one containing %q and the expected form", c.in, err, c.err)
			}
		case err != nil:
			t.Errorf("parseTarget(%q): %v", c.in, err)
		case c.want == "" && got != nil:
			t.Errorf("parseTarget(%q) = %v, want local", c.in, got)
		case c.want != "" && (got == nil || got.String() != c.want):
			t.Errorf("parseTarget(%q) = %v, want %s", c.in, got, c.want)
		}
	}
}

// flinkJob writes a one-statement script and returns its path.
func flinkJob(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "job.sql")
	if err := os.WriteFile(p, []byte("CREATE TABLE t (a INT) WITH ('connector' = 'print');\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFlinkTargetArguments: what `weir sql --target` refuses before it
// reaches a cluster, and how it says so.
func TestFlinkTargetArguments(t *testing.T) {
	job := flinkJob(t)
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad scheme", []string{"--target", "http://127.0.0.1:8081"}, exitUsage, "unknown scheme 'http'"},
		{"no port", []string{"--target", "flink://127.0.0.1"}, exitUsage, "no HOST:PORT"},
		{"remote without address", []string{"-D", "execution.target=remote"}, exitUsage, "needs -D rest.address"},
		{"weir-only option", []string{"--target", "flink://127.0.0.1:1", "-D", "python.worker.startup-timeout=5 s"}, exitFailed,
			"-D python.worker.startup-timeout: the option is weir's own and Flink has no such option"},
		{"no client Python", []string{"--target", "flink://127.0.0.1:1", "-D", "python.client.executable=/nonexistent/python"}, exitFailed,
			"python.client.executable '/nonexistent/python' was not found"},
	} {
		var out, errb bytes.Buffer
		code := run(append([]string{"sql", "-f", job}, c.args...), &out, &errb)
		if code != c.code || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", c.name, code, errb.String(), c.code, c.want)
		}
	}
}

// TestFlinkClientWithoutPyFlink: a client Python without apache-flink
// fails the run with what to install and how to name it. It needs weir's
// virtualenv (WEIR_PYTHON, whose weir package has the client) and a Python
// without apache-flink (python3).
func TestFlinkClientWithoutPyFlink(t *testing.T) {
	py := os.Getenv("WEIR_PYTHON")
	if py == "" {
		if v, err := filepath.Abs("../../.venv/bin/python"); err == nil {
			if _, err := os.Stat(v); err == nil {
				py = v
			}
		}
	}
	if py == "" {
		t.Skip("no weir virtualenv: run make venv")
	}
	t.Setenv("WEIR_PYTHON", py)
	if _, err := weirPackage(t.Context()); err != nil {
		t.Skipf("weir's package in the virtualenv has no Flink client yet (make venv): %v", err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"sql", "-f", flinkJob(t), "--target", "flink://127.0.0.1:1", "-D", "python.client.executable=" + py}, &out, &errb)
	msg := errb.String()
	if code != exitFailed || !strings.Contains(msg, "needs apache-flink") || !strings.Contains(msg, "python.client.executable") ||
		!strings.Contains(msg, "conflict") {
		t.Errorf("exit %d, stderr %q; want exit 1 saying apache-flink is missing, why in its own venv, and how to name it", code, msg)
	}
}

// TestWeirOnlyOptionsMatchPython: the Python client refuses the same
// weir-only options as the option table marks.
func TestWeirOnlyOptionsMatchPython(t *testing.T) {
	b, err := os.ReadFile("../../python/weir/_flink/options.py")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)WEIR_ONLY = \((.*?)\)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("python/weir/_flink/options.py has no WEIR_ONLY = (...)")
	}
	var py []string
	for _, q := range regexp.MustCompile(`"([^"]+)"`).FindAllSubmatch(m[1], -1) {
		py = append(py, string(q[1]))
	}
	slices.Sort(py)
	if want := config.WeirOnlyKeys(); !slices.Equal(py, want) {
		t.Errorf("python/weir/_flink/options.py WEIR_ONLY = %q, internal/config marks %q", py, want)
	}
}

// TestFlinkResults checks testdata/flink-target/results.txt, written by
// make test-flink: every job of the comparison is there, gave the same
// rows on both targets, FINISHED on the cluster, and its figures add up.
func TestFlinkResults(t *testing.T) {
	b, err := os.ReadFile("../../testdata/flink-target/results.txt")
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("no testdata/flink-target/results.txt yet: make test-flink writes it")
	}
	if err != nil {
		t.Fatal(err)
	}
	const header = "job\trows\tidentical\tflink_jobs\tflink_state\tweir_seconds\tflink_seconds\tratio"
	var jobs []string
	total := false
	inTable := false
	for i, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "# make test-flink: "):
			s, _, _ := strings.Cut(strings.TrimPrefix(l, "# make test-flink: "), " s in all")
			if n, err := strconv.Atoi(s); err != nil || n <= 0 {
				t.Errorf("line %d: %q: want the run's total seconds", i+1, l)
			}
			total = true
		case strings.HasPrefix(l, "#"):
		case l == header:
			inTable = true
		case !inTable:
			t.Fatalf("line %d: %q before the header %q", i+1, l, header)
		default:
			f := strings.Split(l, "\t")
			if len(f) != 8 {
				t.Errorf("line %d: %q: want 8 tab-separated fields", i+1, l)
				continue
			}
			jobs = append(jobs, f[0])
			rows, err1 := strconv.Atoi(f[1])
			n, err2 := strconv.Atoi(f[3])
			weir, err3 := strconv.ParseFloat(f[5], 64)
			flink, err4 := strconv.ParseFloat(f[6], 64)
			ratio, err5 := strconv.ParseFloat(f[7], 64)
			if err := errorsJoin(err1, err2, err3, err4, err5); err != nil {
				t.Errorf("line %d: %q: %v", i+1, l, err)
				continue
			}
			if rows <= 0 || n <= 0 || weir <= 0 || flink <= 0 {
				t.Errorf("line %d: %q: rows, jobs and times must be positive", i+1, l)
			}
			if !strings.HasPrefix(f[2], "yes") {
				t.Errorf("line %d: %s: identical = %q, want yes", i+1, f[0], f[2])
			}
			if f[4] != "FINISHED" {
				t.Errorf("line %d: %s: the cluster reported %q, want FINISHED", i+1, f[0], f[4])
			}
			if math.Abs(ratio-flink/weir) > 0.051 {
				t.Errorf("line %d: %s: ratio %.1f, but %.2f / %.2f = %.2f", i+1, f[0], ratio, flink, weir, flink/weir)
			}
		}
	}
	if want := []string{"scalar", "table-function", "aggregate-general", "aggregate-pandas", "table-api"}; !slices.Equal(jobs, want) {
		t.Errorf("jobs %q, want %q", jobs, want)
	}
	if !total {
		t.Error("no '# make test-flink: N s in all' line")
	}
}

func errorsJoin(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
