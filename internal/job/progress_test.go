package job

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/plan"
	"github.com/weir-dev/weir/internal/pyexec"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
	"github.com/weir-dev/weir/internal/weirpb"
)

func TestFormatCount(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0", 7: "7", 999: "999", 1000: "1.00k", 1234: "1.23k", 9994: "9.99k", 9995: "10.0k",
		12345: "12.3k", 99949: "99.9k", 99950: "100k", 123456: "123k", 999499: "999k", 999500: "1.00M",
		2_000_000: "2.00M", 45_600_000: "45.6M", 7_890_000_000: "7.89G", -1500: "-1.50k",
	} {
		if got := formatCount(n); got != want {
			t.Errorf("formatCount(%d) = %q, want %q", n, got, want)
		}
	}
	// Never more than 3 significant digits, a dot and a unit.
	for i := 0; i < 10000; i++ {
		n := rand.Int64N(1 << rand.IntN(62))
		if got := formatCount(n); len(got) > 5 {
			t.Fatalf("formatCount(%d) = %q: longer than 5 characters", n, got)
		}
	}
}

func TestFormatRate(t *testing.T) {
	for r, want := range map[float64]string{0: "0", 0.04: "0.0", 0.5: "0.5", 1: "1.0", 9.94: "9.9", 9.96: "10", 10.4: "10", 999.6: "1.00k", 98_100: "98.1k"} {
		if got := formatRate(r); got != want {
			t.Errorf("formatRate(%v) = %q, want %q", r, got, want)
		}
	}
}

func TestShortStageName(t *testing.T) {
	for in, want := range map[string]string{
		"PythonCalc[inc(c0)]":                            "inc(c0)",
		"PythonCalc[inc(c0), inc(c1), inc(c2), inc(c3)]": "inc(c0), inc(c1), inc(c2)...",
		"PythonTableFunction[split(s)]":                  "split(s)",
		"PythonCalc[größe(äöü), größe(äöü), größe(äöü)]": "größe(äöü), größe(äöü), g...",
	} {
		if got := shortStageName(in); got != want {
			t.Errorf("shortStageName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 400 * time.Millisecond: "0s", 1500 * time.Millisecond: "2s", 59 * time.Second: "59s",
		60 * time.Second: "1m00s", 185 * time.Second: "3m05s", 3599 * time.Second: "59m59s",
		3600 * time.Second: "1h00m", 2*time.Hour + 7*time.Minute + 30*time.Second: "2h07m",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestStatusFormat(t *testing.T) {
	for _, c := range []struct {
		s    status
		want string
	}{
		{status{elapsed: 3 * time.Second, starting: true, workers: 2},
			"3s: starting 2 Python workers"},
		{status{elapsed: 3 * time.Second, starting: true}, "3s: starting"},
		{status{elapsed: 12 * time.Second, in: 900_000, out: 880_000, done: 900_000, total: 2_000_000, rowsBound: true, rate: 98_100, doneRate: 100_000,
			stages: []stageStatus{{name: "inc(c0)", in: 890_000, out: 880_000}}},
			"12s: 900k of 2.00M rows in (45%, ETA 11s), 98.1k rows/s, 880k out; Python inc(c0): 890k in, 880k out"},
		// Unbounded, with restarts.
		{status{elapsed: 75 * time.Second, in: 1234, out: 1000, rate: 10, restarts: 1},
			"1m15s: 1.23k rows in, 10 rows/s, 1.00k out; 1 worker restart"},
		{status{elapsed: 4 * time.Second, in: 2, out: 1, rate: 0.25},
			"4s: 2 rows in, 0.2 rows/s, 1 out"},
		// Bounded in bytes: a percentage without "of".
		{status{elapsed: time.Second, in: 5000, out: 5000, done: 250, total: 1000, rate: 5000, doneRate: 250, restarts: 3},
			"1s: 5.00k rows in (25%, ETA 3s), 5.00k rows/s, 5.00k out; 3 worker restarts"},
		// No rate yet: no ETA; done: 100% without ETA.
		{status{in: 10, out: 10, done: 10, total: 100, rowsBound: true}, "0s: 10 of 100 rows in (10%), 0 rows/s, 10 out"},
		{status{in: 100, out: 0, done: 100, total: 100, rowsBound: true, doneRate: 5}, "0s: 100 of 100 rows in (100%), 0 rows/s, 0 out"},
	} {
		if got := c.s.format(); got != c.want {
			t.Errorf("format(%+v) =\n%q, want\n%q", c.s, got, c.want)
		}
	}
}

// TestSnapshotRateAndETA feeds the counters of a job with a filter and a
// Python stage at a steady rate, and checks the rows/s and the ETA the
// reporter derives: a row is done once through the Python stage.
func TestSnapshotRateAndETA(t *testing.T) {
	stage := &pyexec.Stage{Spec: &weirpb.Stage{Name: "PythonCalc[inc(c0)]"}}
	j := &plan.Job{
		Source: plan.Source{Table: &plan.Table{Name: "src", Options: map[string]string{"connector": "datagen", "number-of-rows": "1000000"}},
			Schema: types.Schema{{Name: "c0", Type: types.INT}}},
		Steps: []plan.Step{{}, {Python: stage}}, // a filter keeping half, then inc
	}
	c := &counters{rows: make([]atomic.Int64, 3)}
	c.started.Store(true)
	r := newReporter(Progress{Mode: ProgressLines, Out: &bytes.Buffer{}}, j, c, 1, time.Now())
	const perSecond = 10_000
	feed := func(sec, rowsDone int) status {
		// The source and the filter run 100,000 source rows ahead.
		c.rows[0].Store(int64(rowsDone + 100_000))
		c.rows[1].Store(int64(rowsDone+100_000) / 2)
		c.rows[2].Store(int64(rowsDone) / 2)
		return r.snapshot(time.Duration(sec) * time.Second)
	}
	var st status
	for sec := 0; sec <= 40; sec++ {
		st = feed(sec, sec*perSecond)
	}
	if st.rate < perSecond*0.99 || st.rate > perSecond*1.01 || st.total != 1_000_000 || st.done != 400_000 {
		t.Fatalf("rate %v, done %d of %d; want %d rows/s, 400000 of 1000000", st.rate, st.done, st.total, perSecond)
	}
	// 600,000 rows left at 10,000/s: 1 minute.
	if got := st.format(); !strings.Contains(got, "500k of 1.00M rows in (40%, ETA 1m00s), 10.0k rows/s, 200k out; Python inc(c0): 250k in, 200k out") {
		t.Errorf("format = %q", got)
	}
	// The rate follows a change within the window.
	for sec := 41; sec <= 80; sec++ {
		st = feed(sec, 40*perSecond+(sec-40)*perSecond*2)
	}
	if st.rate < 2*perSecond*0.99 || st.rate > 2*perSecond*1.01 {
		t.Errorf("rate %v after a doubling, want %d", st.rate, 2*perSecond)
	}
}

// TestFirstReportRate: the first report's rate counts from when rows began
// to flow, not from the job's start (the workers' start-up).
func TestFirstReportRate(t *testing.T) {
	j := &plan.Job{Source: plan.Source{Values: make([][]any, 30_000)}}
	c := &counters{rows: make([]atomic.Int64, 1)}
	c.flowing.Store(int64(2 * time.Second))
	c.started.Store(true)
	c.rows[0].Store(20_000)
	r := newReporter(Progress{Mode: ProgressLines, Out: io.Discard}, j, c, 1, time.Now())
	st := r.snapshot(4 * time.Second)
	if st.rate != 10_000 || st.doneRate != 10_000 || st.total != 30_000 {
		t.Errorf("first report: %v rows/s, %v done/s of %d; want 10000 rows/s of 30000", st.rate, st.doneRate, st.total)
	}
	if got, want := st.format(), "4s: 20.0k of 30.0k rows in (66%, ETA 1s), 10.0k rows/s, 20.0k out"; got != want {
		t.Errorf("format = %q, want %q", got, want)
	}
}

func TestBoundedRows(t *testing.T) {
	schema := types.Schema{{Name: "id", Type: types.BIGINT}, {Name: "v", Type: types.INT}}
	for _, c := range []struct {
		opts map[string]string
		want int64
	}{
		{map[string]string{"connector": "datagen", "number-of-rows": "500"}, 500},
		{map[string]string{"connector": "datagen"}, 0},
		{map[string]string{"connector": "datagen", "fields.id.kind": "sequence", "fields.id.start": "1", "fields.id.end": "100"}, 100},
		{map[string]string{"connector": "datagen", "number-of-rows": "50", "fields.id.kind": "sequence", "fields.id.start": "1", "fields.id.end": "100"}, 50},
		{map[string]string{"connector": "filesystem", "path": "x.csv"}, 0},
	} {
		j := &plan.Job{Source: plan.Source{Table: &plan.Table{Name: "t", Options: c.opts}, Schema: schema}}
		if got := boundedRows(j); got != c.want {
			t.Errorf("boundedRows(%v) = %d, want %d", c.opts, got, c.want)
		}
	}
}

// TestTerminal checks the live line: drawn in place and cut to the width,
// cleared before other output, not drawn over a line left unfinished, and
// cleared at the end.
func TestTerminal(t *testing.T) {
	var screen bytes.Buffer
	term := NewTerminal(&screen, func() int { return 20 })
	out := term.Wrap(&screen)
	term.Status("weir: 1s: 10 rows in, a long tail that is cut")
	fmt.Fprint(out, "row 1\n")
	term.Status("weir: 2s: 20 rows in")
	fmt.Fprint(out, "partial")
	term.Status("weir: 3s: hidden")
	fmt.Fprint(out, " row\n")
	term.Status("weir: 4s: 40 rows in")
	term.Clear()
	term.Clear()
	want := "\rweir: 1s: 10 rows i\x1b[K" + "\r\x1b[K" + "row 1\n" +
		"\rweir: 2s: 20 rows i\x1b[K" + "\r\x1b[K" + "partial" + " row\n" +
		"\rweir: 4s: 40 rows i\x1b[K" + "\r\x1b[K"
	if got := screen.String(); got != want {
		t.Errorf("screen:\n%q\nwant\n%q", got, want)
	}
}

// TestTerminalConcurrent writes output and status lines from many
// goroutines: every output line arrives whole.
func TestTerminalConcurrent(t *testing.T) {
	var screen bytes.Buffer
	term := NewTerminal(&screen, nil)
	out := term.Wrap(&screen)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				fmt.Fprintf(out, "line %d %d\n", g, i)
				if rand.IntN(3) == 0 {
					term.Status(fmt.Sprintf("status %d", i))
				}
			}
		}()
	}
	wg.Wait()
	term.Clear()
	lines := 0
	for _, l := range strings.Split(screen.String(), "\n") {
		// What follows the last clear of a line is the output line.
		if i := strings.LastIndex(l, "\x1b[K"); i >= 0 {
			l = l[i+3:]
		}
		if strings.HasPrefix(l, "line ") {
			lines++
		} else if l != "" {
			t.Fatalf("garbled line %q", l)
		}
	}
	if lines != 800 {
		t.Errorf("%d output lines, want 800", lines)
	}
}

// lockedBuffer is a bytes.Buffer safe for the reporter's goroutine.
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

// TestRunProgress runs a real Go-only job at a limited rate with frequent
// reports (run it with -race): the lines count up to the source's rows.
func TestRunProgress(t *testing.T) {
	stmts, err := sql.Parse(`CREATE TABLE src (a INT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '3000', 'rows-per-second' = '10000',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '100000');
CREATE TABLE snk (a INT) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT a FROM src WHERE a % 3 = 0;`)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := (&plan.Planner{Settings: map[string]string{}}).Plan(stmts)
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	res, err := Run(context.Background(), prog.Jobs[0], map[string]string{"python.fn-execution.arrow.batch.size": "100"},
		Options{Out: io.Discard, Progress: Progress{Mode: ProgressLines, Out: &out, Interval: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 1000 {
		t.Fatalf("%d rows, want 1000", res.Rows)
	}
	line := regexp.MustCompile(`^weir: progress: \d+s: (\d+|[0-9.]+k) of 3.00k rows in \((\d+)%.*, (\d+|[0-9.]+k) out$`)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 5 {
		t.Fatalf("%d progress lines in %s, want about one per 20 ms:\n%s", len(lines), res.Elapsed, out.String())
	}
	last := -1
	for _, l := range lines {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %q", l)
		}
		pct, _ := strconv.Atoi(m[2])
		if pct < last || pct > 100 {
			t.Fatalf("%d%% after %d%%:\n%s", pct, last, out.String())
		}
		last = pct
	}
	if last == 0 {
		t.Errorf("progress never moved:\n%s", out.String())
	}
}

type fakeFile struct{ done, total int64 }

func (f *fakeFile) Progress() (int64, int64) { return f.done, f.total }

// TestSizedSource: a source that knows how much of its input it has read
// gives the percentage and the ETA.
func TestSizedSource(t *testing.T) {
	j := &plan.Job{Source: plan.Source{Table: &plan.Table{Name: "f", Options: map[string]string{"connector": "filesystem"}}}}
	c := &counters{rows: make([]atomic.Int64, 1)}
	c.started.Store(true)
	r := newReporter(Progress{Mode: ProgressLines, Out: io.Discard}, j, c, 1, time.Now())
	f := &fakeFile{total: 1 << 20}
	r.setSource(f)
	r.snapshot(0)
	f.done = 1 << 18
	c.rows[0].Store(5000)
	got := r.snapshot(time.Second).format()
	if want := "1s: 5.00k rows in (25%, ETA 3s), 5.00k rows/s, 5.00k out"; got != want {
		t.Errorf("format = %q, want %q", got, want)
	}
}
