package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/job"
)

func newTestFlagSet(c *common) *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.register(fs)
	return fs
}

// runCLI runs the command line in dir and returns its exit code and output.
func runCLI(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"sql", "--help"}, {"explain", "-h"}, {"bench", "flip121", "--help"}} {
		code, out, errs := runCLI(t, "", args...)
		if code != exitOK || errs != "" {
			t.Errorf("%q: exit %d, stderr %q; want 0 and help on stdout", args, code, errs)
		}
		for _, want := range []string{"Usage:", "Exit codes:", "130"} {
			if !strings.Contains(out, want) {
				t.Errorf("%q: help lacks %q:\n%s", args, want, out)
			}
		}
	}
	_, out, _ := runCLI(t, "", "sql", "--help")
	if !strings.Contains(out, "\n  -v\t") || strings.Contains(out, "-v value") {
		t.Errorf("-v is not shown as a flag without a value:\n%s", out)
	}
	for _, want := range []string{"-progress mode", "auto", "tty", "plain", "off", "-progress-interval duration", "-pyfiles files", "-f file"} {
		if !strings.Contains(out, want) {
			t.Errorf("weir sql --help lacks %q:\n%s", want, out)
		}
	}
}

func TestStrayArguments(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "job.sql"), []byte("SELECT 1;"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.py"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "lib"), 0o755)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sql", "job.sql"}, "unexpected argument 'job.sql'; did you mean -f job.sql?"},
		{[]string{"sql", "job"}, "unexpected argument 'job'"},
		{[]string{"explain", "other.sql"}, "did you mean -f other.sql?"},
		{[]string{"sql", "-f", "job.sql", "a.py"}, "did you mean --pyfiles a.py?"},
		{[]string{"sql", "-f", "job.sql", "lib"}, "did you mean --pyfiles lib?"},
		{[]string{"sql", "-f", "job.sql", "--pyfiles", "a.py", "b.py"}, "--pyfiles takes one comma-separated list, e.g. --pyfiles udfs.py,b.py"},
		{[]string{"sql", "-f", "job.sql", "job.sql"}, "-f takes one file"},
		{[]string{"sql", "-f", "job.sql", "parallelism.default=2"}, "did you mean -D parallelism.default=2?"},
		{[]string{"sql", "-f", "job.sql", "x", "y", "z"}, "unexpected argument 'x' (and 2 more)"},
		{[]string{"sql", "job.sql", "-v"}, "unexpected argument 'job.sql' (and 1 more); did you mean -f job.sql?"},
		{[]string{"sql", "-"}, "did you mean -f -?"},
		{[]string{"bench", "flip121", "extra"}, "weir bench flip121: unexpected argument 'extra'"},
	} {
		code, out, errs := runCLI(t, dir, c.args...)
		if code != exitUsage || out != "" || !strings.Contains(errs, c.want) || !strings.Contains(errs, "--help' for usage") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", c.args, code, errs, c.want)
		}
	}
}

func TestUnknownFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sql", "-f", "x.sql", "--pyFiles", "a.py"}, "-pyFiles (did you mean --pyfiles?)"},
		{[]string{"sql", "--progres=off"}, "(did you mean --progress?)"},
		{[]string{"sql", "--zzzzzzzz"}, "flag provided but not defined: -zzzzzzzz\n"},
		{[]string{"sql", "-D", "novalue"}, `want key=value, got "novalue"`},
		{[]string{"sql", "-f", "x.sql", "--progress=sometimes"}, "--progress=sometimes: want auto, tty, plain or off"},
		{[]string{"sql", "-f", "x.sql", "-v=2"}, "takes no value"},
		{[]string{"sql"}, "-f job.sql is required"},
		{[]string{"sqll"}, "unknown command \"sqll\" (did you mean 'sql'?)"},
		{[]string{"job.sql"}, "did you mean 'weir sql -f job.sql'?"},
		{[]string{"version", "x"}, "weir version: unexpected argument 'x'"},
	} {
		code, _, errs := runCLI(t, "", c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", c.args, code, errs, c.want)
		}
	}
}

// TestMissingPyFiles: each way of naming Python files reports the entry that
// does not exist and where it was given, before any job starts.
func TestMissingPyFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.py"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "job.sql"), []byte("SELECT 1;"), 0o644)
	os.WriteFile(filepath.Join(dir, "set.sql"), []byte("SET 'python.files' = 'a.py,gone.zip';\nSELECT 1;"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sql", "-f", "job.sql", "--pyfiles", "a.py,udfs.py"}, "--pyfiles: 'udfs.py' does not exist (relative to " + dir + ")"},
		{[]string{"sql", "-f", "job.sql", "--pyfiles", " a.py , lib/ "}, "--pyfiles: 'lib/' does not exist"},
		{[]string{"explain", "-f", "job.sql", "-D", "python.files=" + dir + "/nope"}, "-D python.files: '" + dir + "/nope' does not exist; give"},
		{[]string{"sql", "-f", "set.sql"}, "set.sql: SET 'python.files': 'gone.zip' does not exist"},
		{[]string{"bench", "flip121", "--pyfiles", "x.py"}, "--pyfiles: 'x.py' does not exist"},
	} {
		code, _, errs := runCLI(t, dir, c.args...)
		if code != exitFailed || !strings.Contains(errs, c.want) || !strings.Contains(errs, "that exist") {
			t.Errorf("%q: exit %d, stderr %q; want exit 1 and %q", c.args, code, errs, c.want)
		}
	}
}

func TestMissingSQLFile(t *testing.T) {
	dir := t.TempDir()
	code, _, errs := runCLI(t, dir, "sql", "-f", "nope.sql")
	if want := "weir: -f nope.sql: the file does not exist (relative to " + dir + ")"; code != exitFailed || !strings.Contains(errs, want) {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, errs, want)
	}
}

func TestVerboseCount(t *testing.T) {
	for args, want := range map[string]int{
		"":         0,
		"-v":       1,
		"-v -v":    2,
		"-vv":      2,
		"--v -vvv": 4,
		"-v=false": 0,
		"-vv -v=0": 0,
		"-vv --":   2,
	} {
		var c common
		fs := newTestFlagSet(&c)
		if err := fs.Parse(c.normalize(strings.Fields(args))); err != nil {
			t.Errorf("%q: %v", args, err)
			continue
		}
		if int(c.verbose) != want {
			t.Errorf("%q: verbosity %d, want %d", args, c.verbose, want)
		}
	}
}

func TestProgressMode(t *testing.T) {
	for v, want := range map[string]string{"auto": "auto", "tty": "tty", "plain": "plain", "off": "off", "never": "off", "none": "off"} {
		if got, err := progressMode(v); err != nil || got != want {
			t.Errorf("progressMode(%q) = %q, %v; want %q", v, got, err, want)
		}
	}
	if _, err := progressMode("always"); err == nil {
		t.Errorf("progressMode(always) is not an error")
	}
	// Not a terminal: auto is plain lines, on stderr, and stdout is left as is.
	var c common
	var out, errb bytes.Buffer
	p, o, e := c.setupProgress("auto", &out, &errb)
	if p.Mode != job.ProgressLines || p.Out != &errb || o != &out || e != &errb {
		t.Errorf("auto on a buffer: %+v", p)
	}
	p, o, e = c.setupProgress("tty", &out, &errb)
	if p.Mode != job.ProgressLive || p.Terminal == nil || o != &out || e == &errb {
		t.Errorf("tty: %+v; stderr must be wrapped, stdout (not a terminal) not", p)
	}
	if p, _, _ = c.setupProgress("off", &out, &errb); p.Mode != job.ProgressOff {
		t.Errorf("off: %+v", p)
	}
}
