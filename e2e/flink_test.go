package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestFlinkTarget runs the scalar, table-function and aggregate jobs of
// this suite on weir's engine and with --target on a real Flink cluster
// (scripts/test-flink.sh starts one: make test-flink), checks that both give
// the same rows and that the cluster's REST API reports each of its jobs
// FINISHED, and times both runs of each job. Without WEIR_FLINK_TARGET
// (flink://HOST:PORT) and WEIR_FLINK_CLIENT (a Python with apache-flink) it
// is skipped. With WEIR_FLINK_RESULTS it writes its figures to that file
// (testdata/flink-target/results.txt, checked by cmd/weir's tests).
func TestFlinkTarget(t *testing.T) {
	target, client := os.Getenv("WEIR_FLINK_TARGET"), os.Getenv("WEIR_FLINK_CLIENT")
	if target == "" || client == "" {
		t.Skip("WEIR_FLINK_TARGET and WEIR_FLINK_CLIENT are not set: run make test-flink, which starts a Flink cluster")
	}
	needPython(t)
	tableScript, _ := tableFormsJob()
	udafPy, udafScript, _ := udafSources(t)
	udafGeneral, udafPandas := splitUDAFScript(udafScript)
	jobs := []struct {
		name, script string
		py           map[string]string
		extra        []string
		// ignored is the number of last columns not compared, and why.
		ignored int
		why     string
		// flinkExtra are arguments of the Flink run only.
		flinkExtra []string
	}{
		// Flink calls seq() once for the two seq() calls of a row (1, 1 / 2, 2
		// / 3, 3), weir once per call (1, 2 / 3, 4 / 5, 6), though seq is
		// declared not deterministic.
		{"scalar", formsSQL, map[string]string{"udfs.py": formsUDFs}, nil, 2, "the two calls of the non-deterministic seq(): Flink calls it once per row", nil},
		// Flink 2.3's batch planner fails on LEFT JOIN LATERAL TABLE(python
		// function) ("This calc has no useful projection and no filter. It
		// should be removed by CalcRemoveRule."); in streaming mode the job,
		// insert-only, gives its rows.
		{"table-function", tableScript, map[string]string{"udfs.py": tableFormsUDFs}, nil, 0, "",
			[]string{"-D", "execution.runtime-mode=streaming"}},
		// Flink runs general Python aggregate functions in streaming mode only
		// (its changelog is folded here into final rows) and pandas ones in
		// batch mode only: the UDAF examples run as two scripts.
		{"aggregate-general", udafGeneral, map[string]string{"udfs.py": udafPy}, []string{"-D", "parallelism.default=2"}, 0, "",
			[]string{"-D", "execution.runtime-mode=streaming"}},
		{"aggregate-pandas", udafPandas, map[string]string{"udfs.py": udafPy}, []string{"-D", "parallelism.default=2"}, 0, "", nil},
	}
	var lines, notes []string
	for _, j := range jobs {
		args, _ := writeJob(t, j.script, j.py)
		args = append(args, j.extra...)
		local := runWeir(t, nil, args...).mustSucceed(t)
		remote := runWeir(t, nil, append(append(args, j.flinkExtra...), "--target", target, "-D", "python.client.executable="+client)...)
		if remote.code == 0 && strings.Contains(remote.stderr, " was restarted ") {
			// Flink recovered from a failure (on a loaded machine, a Python
			// worker's gRPC call may time out); the print connector then prints
			// the rows again. The run is repeated once.
			t.Logf("%s: a job restarted on the cluster, so its rows may repeat; running it again:\n%s", j.name, remote.stderr)
			notes = append(notes, fmt.Sprintf("# %s: run twice on Flink: a job of the first run restarted on the cluster (its print output repeats).", j.name))
			remote = runWeir(t, nil, append(append(args, j.flinkExtra...), "--target", target, "-D", "python.client.executable="+client)...)
		}
		if remote.code != 0 {
			t.Fatalf("%s on %s: weir exited %d\nstderr:\n%s", j.name, target, remote.code, remote.stderr)
		}
		want, got := dropColumns(local.lines(), j.ignored), dropColumns(foldChangelog(remote.lines()), j.ignored)
		if j.name == "aggregate-general" {
			// concat joins values in the order they arrive, which Flink does
			// not define at parallelism 2.
			want, got = sortJoined(want), sortJoined(got)
		}
		sort.Strings(want)
		sort.Strings(got)
		same := strings.Join(got, "\n") == strings.Join(want, "\n")
		if !same {
			t.Errorf("%s: the rows on Flink differ from weir's\n--- Flink\n%s\n--- weir\n%s\n--- Flink's stderr\n%s", j.name, strings.Join(got, "\n"), strings.Join(want, "\n"), remote.stderr)
		}
		ids := regexp.MustCompile(`weir: job ([0-9a-f]{32}) submitted`).FindAllStringSubmatch(remote.stderr, -1)
		if len(ids) == 0 {
			t.Fatalf("%s: no job id in weir's stderr:\n%s", j.name, remote.stderr)
		}
		states := jobStates(t, target)
		var jobStates []string
		for _, id := range ids {
			s := states[id[1]]
			if s != "FINISHED" {
				t.Errorf("%s: the cluster reports job %s %q, want FINISHED", j.name, id[1], s)
			}
			jobStates = append(jobStates, s)
		}
		identical := yesNo(same)
		if len(j.flinkExtra) > 0 {
			notes = append(notes, fmt.Sprintf("# %s: on Flink with %s (see e2e/flink_test.go).", j.name, strings.Join(j.flinkExtra, " ")))
		}
		if same && j.ignored > 0 {
			identical = fmt.Sprintf("yes-but-%d-columns", j.ignored)
			notes = append(notes, fmt.Sprintf("# %s: the last %d columns are not compared: %s.", j.name, j.ignored, j.why))
		}
		lines = append(lines, fmt.Sprintf("%s\t%d\t%s\t%d\t%s\t%.2f\t%.2f\t%.1f", j.name, len(got), identical, len(ids),
			strings.Join(dedup(jobStates), ","), local.elapsed.Seconds(), remote.elapsed.Seconds(), remote.elapsed.Seconds()/local.elapsed.Seconds()))
		t.Logf("%s: %d rows, identical %v; weir %.2f s, Flink %.2f s (%d jobs)", j.name, len(got), same, local.elapsed.Seconds(), remote.elapsed.Seconds(), len(ids))
	}
	lines = append(lines, tableProgramOnFlink(t, target, client))
	flinkFailureAndCancel(t, target, client)
	if path := os.Getenv("WEIR_FLINK_RESULTS"); path != "" && !t.Failed() {
		head := fmt.Sprintf(`# weir sql -f job.sql --pyfiles DIR, on weir's engine (--target local) and on a Flink 2.3 standalone
# cluster on loopback (--target flink://..., a JobManager and two TaskManagers of one slot, parallelism 2),
# recorded by make test-flink on %s (%d cores, shared; load average %s at the end) at %s.
# Seconds are wall time from the start of weir sql to its end (the job's end), the same script each way;
# ratio = flink / weir. flink_state is what the cluster's REST API (/jobs/overview) reported for the jobs.
job	rows	identical	flink_jobs	flink_state	weir_seconds	flink_seconds	ratio
`, runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), loadAverage(), time.Now().UTC().Format("2006-01-02"))
		body := head + strings.Join(lines, "\n") + "\n" + strings.Join(notes, "\n") + "\n"
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tableProgramOnFlink runs testdata/flink-target/table_program.py, a
// weir.table program, with weir's Python on weir's engine and with the
// client's Python (weir's package on its path) on the cluster, compares
// what the two print and returns the results line.
func tableProgramOnFlink(t *testing.T, target, client string) string {
	prog, err := filepath.Abs("../testdata/flink-target/table_program.py")
	if err != nil {
		t.Fatal(err)
	}
	py := os.Getenv("WEIR_PYTHON")
	pkg, err := exec.Command(py, "-c", "import os, weir; print(os.path.dirname(weir.__file__))").Output()
	if err != nil {
		t.Fatalf("finding weir's package: %v", err)
	}
	path := t.TempDir()
	if err := os.Symlink(strings.TrimSpace(string(pkg)), filepath.Join(path, "weir")); err != nil {
		t.Fatal(err)
	}
	run := func(python string, env []string, args ...string) (string, time.Duration) {
		cmd := exec.Command(python, append([]string{prog}, args...)...)
		cmd.Env = append(append(os.Environ(), "WEIR_BIN="+weirBin), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %s %s: %v\nstderr:\n%s", python, prog, strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String(), time.Since(start)
	}
	before := jobStates(t, target)
	want, localTime := run(py, nil)
	got, remoteTime := run(client, []string{"PYTHONPATH=" + path}, target)
	same := got == want
	if !same {
		t.Errorf("table program: Flink printed\n%s\nweir printed\n%s", got, want)
	}
	var states []string
	for id, s := range jobStates(t, target) {
		if _, ok := before[id]; !ok {
			states = append(states, s)
		}
	}
	if len(states) == 0 {
		t.Error("table program: no new job on the cluster")
	}
	for _, s := range states {
		if s != "FINISHED" {
			t.Errorf("table program: the cluster reports a job %q, want FINISHED", s)
		}
	}
	t.Logf("table-api: identical %v; weir %.2f s, Flink %.2f s (%d jobs)", same, localTime.Seconds(), remoteTime.Seconds(), len(states))
	return fmt.Sprintf("table-api\t%d\t%s\t%d\t%s\t%.2f\t%.2f\t%.1f", strings.Count(got, "\n"), yesNo(same), len(states),
		strings.Join(dedup(states), ","), localTime.Seconds(), remoteTime.Seconds(), remoteTime.Seconds()/localTime.Seconds())
}

// flinkFailureAndCancel: a Python function that raises fails the run with
// its error and the job FAILED; SIGTERM to weir cancels the running job
// (CANCELED on the cluster) and weir exits 130.
func flinkFailureAndCancel(t *testing.T, target, client string) {
	udfs := "from weir import udf\n\n@udf(result_type='BIGINT')\ndef boom(x):\n    raise ValueError(f'boom at {x}')\n"
	args, _ := writeJob(t, `CREATE TABLE snk (a BIGINT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION boom AS 'udfs.boom' LANGUAGE PYTHON;
INSERT INTO snk SELECT boom(a) FROM (VALUES (7)) AS t(a);`, map[string]string{"udfs.py": udfs})
	r := runWeir(t, nil, append(args, "--target", target, "-D", "python.client.executable="+client)...)
	id := regexp.MustCompile(`weir: job ([0-9a-f]{32}) submitted`).FindStringSubmatch(r.stderr)
	if r.code != 1 || !strings.Contains(r.stderr, "ValueError: boom at 7") || id == nil {
		t.Errorf("a raising function on Flink: exit %d, stderr:\n%s\nwant exit 1 with the job id and the Python error", r.code, r.stderr)
	} else if s := jobStates(t, target)[id[1]]; s != "FAILED" {
		t.Errorf("the failed job is %q on the cluster, want FAILED", s)
	}

	args, _ = writeJob(t, `CREATE TABLE src (a BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '100000000', 'rows-per-second' = '10');
CREATE TABLE snk (a BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT a FROM src;`, nil)
	cmd := exec.Command(weirBin, append(args, "--target", target, "-D", "python.client.executable="+client)...)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`weir: job ([0-9a-f]{32}) submitted`)
	deadline := time.Now().Add(3 * time.Minute)
	var job string
	for time.Now().Before(deadline) && job == "" {
		if m := re.FindStringSubmatch(stderr.String()); m != nil && jobStates(t, target)[m[1]] == "RUNNING" {
			job = m[1]
		}
		time.Sleep(500 * time.Millisecond)
	}
	if job == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the endless job did not run within 3 minutes; stderr:\n%s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	state := ""
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		if state = jobStates(t, target)[job]; state == "CANCELED" {
			break
		}
	}
	if code != 130 || state != "CANCELED" {
		t.Errorf("SIGTERM: weir exited %d (want 130), the job is %q (want CANCELED); stderr:\n%s", code, state, stderr.String())
	}
}

// loadAverage is the machine's 1-minute load average, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// lockedBuffer is a bytes.Buffer written by a command while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// splitUDAFScript splits the UDAF examples into the script of the general
// aggregate functions and that of the pandas ones, each with all the DDL.
func splitUDAFScript(script string) (general, pandas string) {
	var ddl, gen, pd []string
	for _, st := range strings.Split(script, ";\n") {
		if strings.TrimSpace(st) == "" {
			continue
		}
		st = strings.TrimSuffix(strings.TrimSpace(st), ";") + ";"
		switch {
		case !strings.HasPrefix(st, "INSERT"):
			ddl = append(ddl, st)
		case strings.Contains(st, "mean_udaf(") || strings.Contains(st, "weighted_mean("):
			pd = append(pd, st)
		default:
			gen = append(gen, st)
		}
	}
	d := strings.Join(ddl, "\n") + "\n"
	return d + strings.Join(gen, "\n") + "\n", d + strings.Join(pd, "\n") + "\n"
}

// foldChangelog applies printed changelog rows (+I, -U, +U, -D) in order
// and returns the final rows as insertions (batch mode prints only +I).
func foldChangelog(rows []string) []string {
	count := map[string]int{}
	var order []string
	for _, r := range rows {
		kind, body, ok := strings.Cut(r, "[")
		if !ok {
			order = append(order, r)
			count[r]++
			continue
		}
		key := "+I[" + body
		switch kind {
		case "+I", "+U":
			if count[key] == 0 {
				order = append(order, key)
			}
			count[key]++
		case "-U", "-D":
			count[key]--
		}
	}
	var out []string
	for _, k := range order {
		for ; count[k] > 0; count[k]-- {
			out = append(out, k)
		}
	}
	return out
}

// sortJoined sorts the items of each "a|b|c" field of printed rows.
func sortJoined(rows []string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		f := strings.Split(strings.TrimSuffix(r, "]"), ", ")
		for k, v := range f {
			if strings.Contains(v, "|") {
				items := strings.Split(v, "|")
				sort.Strings(items)
				f[k] = strings.Join(items, "|")
			}
		}
		out[i] = strings.Join(f, ", ") + "]"
	}
	return out
}

// dropColumns removes the last n columns of each printed row "+I[a, b, c]".
func dropColumns(rows []string, n int) []string {
	if n == 0 {
		return rows
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		f := strings.Split(strings.TrimSuffix(r, "]"), ", ")
		if len(f) > n {
			f = f[:len(f)-n]
		}
		out[i] = strings.Join(f, ", ") + "]"
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dedup(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// jobStates reads the cluster's /jobs/overview: job id -> state.
func jobStates(t *testing.T, target string) map[string]string {
	t.Helper()
	resp, err := http.Get("http://" + strings.TrimPrefix(target, "flink://") + "/jobs/overview")
	if err != nil {
		t.Fatalf("the cluster's REST API: %v", err)
	}
	defer resp.Body.Close()
	var o struct {
		Jobs []struct {
			JID   string `json:"jid"`
			State string `json:"state"`
		} `json:"jobs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil {
		t.Fatalf("the cluster's /jobs/overview: %v", err)
	}
	out := map[string]string{}
	for _, j := range o.Jobs {
		out[j.JID] = j.State
	}
	return out
}
