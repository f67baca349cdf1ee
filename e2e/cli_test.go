package e2e

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestCLIUsageErrors: mistakes on the command line end with exit code 2 (1
// for a file that does not exist) and a message that names the mistake,
// before any job runs.
func TestCLIUsageErrors(t *testing.T) {
	dir := t.TempDir()
	sqlPath := filepath.Join(dir, "job.sql")
	if err := os.WriteFile(sqlPath, []byte("SELECT 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sql", sqlPath}, 2, "unexpected argument '" + sqlPath + "'; did you mean -f " + sqlPath + "?"},
		{[]string{"sql", "-f", sqlPath, "--pyfiles", dir + "/a.py", dir + "/b.py"}, 2, "--pyfiles takes one comma-separated list"},
		{[]string{"sql", "-f", sqlPath, "--pyfiles", dir + "/missing.py"}, 1, "--pyfiles: '" + dir + "/missing.py' does not exist"},
		{[]string{"sql", "-f", sqlPath, "-D", "python.files=" + dir + "/gone"}, 1, "-D python.files: '" + dir + "/gone' does not exist"},
		{[]string{"sql", "-f", sqlPath, "--pyFiles", "x"}, 2, "did you mean --pyfiles?"},
		{[]string{"sql", "-f", sqlPath, "--progress=maybe"}, 2, "want auto, tty, plain or off"},
	} {
		r := runWeir(t, nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("weir %q: exit %d, stderr:\n%s\nwant exit %d and %q", c.args, r.code, r.stderr, c.code, c.want)
		}
	}
	r := runWeir(t, nil, "sql", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "Exit codes:") || strings.Contains(r.stdout, "-v value") {
		t.Errorf("weir sql --help: exit %d\n%s", r.code, r.stdout)
	}
}

// slowJob reads rows at a fixed rate through a Python function: it lasts
// about rows/rate seconds after the workers start.
func slowJob(rows, rate int) string {
	return `CREATE TABLE src (a INT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '` + strconv.Itoa(rows) +
		`', 'rows-per-second' = '` + strconv.Itoa(rate) + `', 'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '1000000000');
CREATE TABLE snk (a INT) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
INSERT INTO snk SELECT inc(a) FROM src;
`
}

const incPy = `from weir import udf, DataTypes


@udf(result_type=DataTypes.INT(False))
def inc(x):
    return x + 1
`

var progressLine = regexp.MustCompile(`(?m)^weir: progress: (\d+)s: ([0-9.]+k?) of 4.00k rows in \((\d+)%.*rows/s, .* out; Python inc\(a\): .* in, .* out$`)

// TestProgressLines: without a terminal, a job longer than the interval
// prints progress lines (with the bounded source's percentage), one shorter
// prints none.
func TestProgressLines(t *testing.T) {
	py := map[string]string{"udfs.py": incPy}
	// About 4 s of rows, reported every second: at least two lines.
	r := job(t, slowJob(4000, 1000), py, "--progress-interval=1s", "-D", "python.fn-execution.bundle.time=100").mustSucceed(t)
	lines := progressLine.FindAllStringSubmatch(r.stderr, -1)
	if len(lines) < 2 {
		t.Fatalf("%d progress lines, want at least 2:\n%s", len(lines), r.stderr)
	}
	last := -1
	for _, l := range lines {
		pct, _ := strconv.Atoi(l[3])
		if pct < last || pct > 100 {
			t.Errorf("progress went from %d%% to %d%%:\n%s", last, pct, r.stderr)
		}
		last = pct
	}
	if strings.Contains(r.stderr, "\r") || strings.Contains(r.stderr, "\x1b[") {
		t.Errorf("terminal control characters in lines for a log:\n%q", r.stderr)
	}
	if !strings.Contains(r.stderr, "weir: job finished: 4000 rows") {
		t.Errorf("no summary:\n%s", r.stderr)
	}

	// A short job, with the default interval and with a short one: no line.
	for _, c := range []struct {
		extra    []string
		interval time.Duration
	}{{nil, 10 * time.Second}, {[]string{"--progress-interval=8s"}, 8 * time.Second}} {
		r = job(t, slowJob(100, 1000), py, c.extra...).mustSucceed(t)
		// (A machine slow enough to make it last the interval may show one.)
		if strings.Contains(r.stderr, "progress") && r.elapsed < c.interval {
			t.Errorf("a %s job printed progress (%q):\n%s", r.elapsed, c.extra, r.stderr)
		}
	}
	// Turned off.
	r = job(t, slowJob(3000, 1000), py, "--progress=off", "--progress-interval=500ms").mustSucceed(t)
	if strings.Contains(r.stderr, "progress") {
		t.Errorf("--progress=off printed progress:\n%s", r.stderr)
	}
}

// TestProgressLive: the live line (forced, as stderr here is a pipe) is
// redrawn in place, and cleared before the summary.
func TestProgressLive(t *testing.T) {
	r := job(t, slowJob(2000, 1000), map[string]string{"udfs.py": incPy}, "--progress=tty").mustSucceed(t)
	draws := strings.Count(r.stderr, "\rweir: ")
	if draws < 3 {
		t.Errorf("%d draws of the live line in %s, want about 2 a second:\n%q", draws, r.elapsed, r.stderr)
	}
	if !strings.Contains(r.stderr, "of 2.00k rows in (") {
		t.Errorf("the live line lacks the bounded source's progress:\n%q", r.stderr)
	}
	i := strings.LastIndex(r.stderr, "\r\x1b[K")
	if i < 0 || !strings.HasPrefix(r.stderr[i+4:], "weir: job finished") {
		t.Errorf("the live line is not cleared before the summary:\n%q", r.stderr)
	}
	if strings.Contains(r.stderr, "\n\rweir") || strings.Contains(r.stderr, "progress:") {
		t.Errorf("the live line was written as lines:\n%q", r.stderr)
	}
}

// ownedDirs lists the directories in tmp that a weir engine with pid made.
func ownedDirs(tmp string, pid int) []string {
	var out []string
	for _, prefix := range []string{"weir-job-", "weir-fn-"} {
		m, _ := filepath.Glob(filepath.Join(tmp, prefix+strconv.Itoa(pid)+"-*"))
		out = append(out, m...)
	}
	return out
}

// waitDirs waits until the engine pid has made both of its directories.
func waitDirs(t *testing.T, tmp string, pid int) []string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if ds := ownedDirs(tmp, pid); len(ds) == 2 && len(workersOf(pid)) > 0 {
			return ds
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("engine %d made no directories in %s", pid, tmp)
	return nil
}

// TestStaleTempDirs: the directories of an engine killed by SIGKILL are
// removed by the next run; those of a running engine are kept, and it
// finishes unharmed.
func TestStaleTempDirs(t *testing.T) {
	// A private, short TMPDIR: the Fn API socket is in it.
	tmp, err := os.MkdirTemp("", "wt")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	env := []string{"TMPDIR=" + tmp}
	py := map[string]string{"udfs.py": incPy}

	killed := startJobEnv(t, env, slowJob(1_000_000, 1000), py)
	stale := waitDirs(t, tmp, killed.cmd.Process.Pid)
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-killed.done
	for _, d := range stale {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("%s is gone before the next run: %v", d, err)
		}
	}

	live := startJobEnv(t, env, slowJob(4000, 1000), py)
	liveDirs := waitDirs(t, tmp, live.cmd.Process.Pid)
	for _, d := range stale {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s of the killed engine was not removed by the next run", d)
		}
	}
	// A third run while the second is running leaves the second's alone.
	runWeir(t, env, append(writeJobArgs(t, slowJob(10, 1000), py), "--progress=off")...).mustSucceed(t)
	for _, d := range liveDirs {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s of a running engine was removed: %v", d, err)
		}
	}
	if err := <-live.done; err != nil {
		t.Fatalf("the running job failed: %v\n%s", err, live.stderr)
	}
	if ds, _ := filepath.Glob(filepath.Join(tmp, "weir-*")); len(ds) != 0 {
		t.Errorf("directories left after every engine ended: %q", ds)
	}
}

// writeJobArgs writes a job and returns the arguments that run it.
func writeJobArgs(t *testing.T, sqlText string, pyFiles map[string]string) []string {
	args, _ := writeJob(t, sqlText, pyFiles)
	return args
}

// openPty opens a pseudo-terminal of cols columns: the master, to read
// what is written to the terminal, and the terminal itself.
func openPty(t *testing.T, cols int) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("naming the pseudo-terminal: %v", err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: uint16(cols)}); err != nil {
		t.Fatal(err)
	}
	return master, tty
}

// TestProgressOnTerminal: with stderr on a terminal, the default is the live
// line, cut to the terminal's width, with output of a print sink (stdout on
// the same terminal) kept whole above it.
func TestProgressOnTerminal(t *testing.T) {
	const cols = 60
	master, tty := openPty(t, cols)
	args, _ := writeJob(t, `CREATE TABLE src (a INT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '6', 'rows-per-second' = '3',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '100');
CREATE TABLE snk (a INT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
INSERT INTO snk SELECT inc(a) FROM src;
`, map[string]string{"udfs.py": incPy})
	cmd := exec.Command(weirBin, append(args, "-D", "python.fn-execution.bundle.time=10")...)
	cmd.Env = append(append(os.Environ(), testMark), "TERM=xterm")
	cmd.Stdout, cmd.Stderr = tty, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // the child has its own copy; the master sees EOF when it exits
	var screen bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&screen, master); close(copied) }()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("weir: %v\n%q", err, screen.String())
	}
	select {
	case <-copied:
	case <-time.After(10 * time.Second):
		t.Fatal("the terminal was not closed")
	}
	// The terminal turns \n into \r\n.
	out := strings.ReplaceAll(screen.String(), "\r\n", "\n")
	draws := 0
	for _, part := range strings.Split(out, "\r")[1:] {
		line, ok := strings.CutSuffix(part, "\x1b[K")
		if !ok {
			continue
		}
		if line == "" {
			continue // a clear
		}
		draws++
		if !strings.HasPrefix(line, "weir: ") || len(line) > cols-1 {
			t.Errorf("live line %q: want one of at most %d columns", line, cols-1)
		}
	}
	if draws < 2 {
		t.Errorf("%d draws of the live line:\n%q", draws, out)
	}
	// Rows arrive whole, each on its own line, after a clear of the live line.
	var rows []string
	for _, l := range strings.Split(out, "\n") {
		if i := strings.LastIndex(l, "\x1b[K"); i >= 0 {
			l = l[i+len("\x1b[K"):]
		}
		if strings.HasPrefix(l, "+I[") {
			rows = append(rows, l)
		}
	}
	if want := []string{"+I[2]", "+I[3]", "+I[4]", "+I[5]", "+I[6]", "+I[7]"}; strings.Join(rows, " ") != strings.Join(want, " ") {
		t.Errorf("rows %q, want %q; screen:\n%q", rows, want, out)
	}
	// The last thing done to the live line before the summary is a clear
	// (the line may have been cleared for the last rows and not drawn again).
	end := strings.Index(out, "weir: job finished: 6 rows")
	if end < 0 {
		t.Fatalf("no summary:\n%q", out)
	}
	if last := strings.LastIndex(out[:end], "\r"); last >= 0 && !strings.HasPrefix(out[last:], "\r\x1b[K") {
		t.Errorf("the live line is not cleared before the summary:\n%q", out)
	}
}
