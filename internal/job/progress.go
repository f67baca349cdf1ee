package job

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-dev/weir/internal/plan"
	"github.com/weir-dev/weir/internal/pyexec"
)

// ProgressMode says how a running job reports its progress.
type ProgressMode int

const (
	// ProgressOff reports nothing.
	ProgressOff ProgressMode = iota
	// ProgressLive redraws one status line on a terminal about twice a
	// second, and clears it when the job ends.
	ProgressLive
	// ProgressLines writes a line every Interval, for logs and pipes; a job
	// shorter than Interval writes none.
	ProgressLines
)

// Progress configures progress reports.
type Progress struct {
	Mode ProgressMode
	// Terminal shows the live line (ProgressLive).
	Terminal *Terminal
	// Out receives the periodic lines (ProgressLines).
	Out io.Writer
	// Interval is the time between two reports; 0 means 500 ms for the
	// live line and 10 s for lines.
	Interval time.Duration
}

// DefaultProgressInterval is the time between two progress lines in logs.
const DefaultProgressInterval = 10 * time.Second

const liveInterval = 500 * time.Millisecond

// rateWindow is how far back the rows/s figure and the ETA look: long
// enough to span a few bundles of a slow function, whose rows come back a
// bundle at a time.
const rateWindow = 30 * time.Second

// counters count the rows through each channel of a running job: channel 0
// carries the source's batches, channel i+1 the output of step i. Each is
// added to once per batch, so counting costs nothing measurable.
type counters struct {
	rows []atomic.Int64
	// started is set when the workers are up and rows may flow, flowing
	// to the time since the job's start when that happened.
	started atomic.Bool
	flowing atomic.Int64
	pool    atomic.Pointer[pyexec.Pool]
}

// sized is implemented by sources that know how much of their input they
// have read, e.g. bytes of files: done of total. Progress is called from
// another goroutine than Next, so it must be safe to call concurrently.
type sized interface {
	Progress() (done, total int64)
}

// stageRef is a Python stage of the report: its name and the channels of
// its input and output.
type stageRef struct {
	name    string
	in, out int
	table   bool // a table function: rows out are not rows in
}

// reporter reports the progress of one job from its counters.
type reporter struct {
	cfg     Progress
	c       *counters
	start   time.Time
	workers int
	stages  []stageRef
	// bound returns how much of a bounded source has been read (in rows or
	// bytes); total is 0 for an unbounded source.
	bound     func(rowsIn int64) (done, total int64)
	rowsBound bool // bound counts rows, not bytes

	samples []sample
	stop    chan struct{}
	done    chan struct{}
}

type sample struct {
	at       time.Duration
	in, done int64
}

// newReporter prepares the report of job j; it starts when run is called.
func newReporter(cfg Progress, j *plan.Job, c *counters, workers int, start time.Time) *reporter {
	r := &reporter{cfg: cfg, c: c, start: start, workers: workers, stop: make(chan struct{}), done: make(chan struct{})}
	if r.cfg.Interval <= 0 {
		r.cfg.Interval = DefaultProgressInterval
		if cfg.Mode == ProgressLive {
			r.cfg.Interval = liveInterval
		}
	}
	for i, st := range j.Steps {
		if st.Python != nil {
			r.stages = append(r.stages, stageRef{name: shortStageName(st.Python.Spec.GetName()), in: i, out: i + 1, table: st.Python.Table()})
		}
	}
	if len(r.stages) == 0 {
		r.workers = 0
	}
	if n := boundedRows(j); n > 0 {
		r.bound = func(in int64) (int64, int64) { return in, n }
		r.rowsBound = true
	}
	return r
}

// setSource lets the report ask a source that knows its size.
func (r *reporter) setSource(src any) {
	if s, ok := src.(sized); ok && r.bound == nil {
		r.bound = func(int64) (int64, int64) { return s.Progress() }
	}
}

// boundedRows returns the number of rows a source will produce when its
// options say so (datagen's number-of-rows, sequences; VALUES), else 0.
func boundedRows(j *plan.Job) int64 {
	if j.Source.Table == nil {
		return int64(len(j.Source.Values))
	}
	o := j.Source.Table.Options
	if o["connector"] != "datagen" {
		return 0
	}
	var n int64
	if v, err := strconv.ParseInt(strings.TrimSpace(o["number-of-rows"]), 10, 64); err == nil && v > 0 {
		n = v
	}
	// A sequence field ends the source when it ends.
	for _, f := range j.Source.Schema {
		p := "fields." + f.Name + "."
		if o[p+"kind"] != "sequence" {
			continue
		}
		lo, err1 := strconv.ParseInt(strings.TrimSpace(o[p+"start"]), 10, 64)
		hi, err2 := strconv.ParseInt(strings.TrimSpace(o[p+"end"]), 10, 64)
		if err1 != nil || err2 != nil || hi < lo {
			continue
		}
		if span := hi - lo + 1; span > 0 && (n == 0 || span < n) {
			n = span
		}
	}
	return n
}

// shortStageName turns "PythonCalc[inc(c0), inc(c1)]" into a name that
// fits in a status line.
func shortStageName(s string) string {
	if i := strings.IndexByte(s, '['); i >= 0 && strings.HasSuffix(s, "]") {
		s = s[i+1 : len(s)-1]
	}
	const max = 28
	if r := []rune(s); len(r) > max {
		s = string(r[:max-3]) + "..."
	}
	return s
}

// run reports until finish is called.
func (r *reporter) run() {
	defer close(r.done)
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			line := r.snapshot(time.Since(r.start)).format()
			switch r.cfg.Mode {
			case ProgressLive:
				r.cfg.Terminal.Status("weir: " + line)
			case ProgressLines:
				fmt.Fprintf(r.cfg.Out, "weir: progress: %s\n", line)
			}
		}
	}
}

// finish stops the reports and clears the live line.
func (r *reporter) finish() {
	close(r.stop)
	<-r.done
	if r.cfg.Mode == ProgressLive {
		r.cfg.Terminal.Clear()
	}
}

// snapshot reads the counters at elapsed time now.
func (r *reporter) snapshot(now time.Duration) status {
	st := status{elapsed: now, workers: r.workers, starting: !r.c.started.Load(), rowsBound: r.rowsBound}
	n := len(r.c.rows)
	st.in, st.out = r.c.rows[0].Load(), r.c.rows[n-1].Load()
	// The source reads ahead of the Python stages by the bundles in flight,
	// which hold many rows when the functions are slow. So a source row
	// counts as done once through the Python stages: scale the rows in by
	// the part of each scalar stage's input that came out of it.
	through := 1.0
	for _, s := range r.stages {
		ss := stageStatus{name: s.name, in: r.c.rows[s.in].Load(), out: r.c.rows[s.out].Load()}
		st.stages = append(st.stages, ss)
		if !s.table && ss.in > 0 {
			through *= min(float64(ss.out)/float64(ss.in), 1)
		}
	}
	if p := r.c.pool.Load(); p != nil {
		st.restarts = p.Restarts()
	}
	rowsDone := int64(float64(st.in) * through)
	done := rowsDone
	if r.bound != nil {
		done, st.total = r.bound(st.in)
		done = int64(float64(done) * through)
		st.done = done
	}
	// Rates over the last rateWindow (at least over the last report); the
	// first report's since rows began to flow.
	if len(r.samples) == 0 && !st.starting {
		r.samples = append(r.samples, sample{at: time.Duration(r.c.flowing.Load())})
	}
	r.samples = append(r.samples, sample{at: now, in: rowsDone, done: done})
	for len(r.samples) > 2 && now-r.samples[1].at >= rateWindow {
		r.samples = r.samples[1:]
	}
	if first := r.samples[0]; len(r.samples) > 1 && now > first.at {
		secs := (now - first.at).Seconds()
		st.rate = float64(rowsDone-first.in) / secs
		st.doneRate = float64(done-first.done) / secs
	}
	return st
}

// status is one report.
type status struct {
	elapsed  time.Duration
	starting bool // workers are starting; no row has flowed
	workers  int
	in, out  int64
	stages   []stageStatus
	restarts int
	// done of total (rows, or bytes of files) of a bounded source; total
	// is 0 when the source is unbounded or its size unknown. Done counts
	// what has been through the Python stages.
	done, total int64
	rowsBound   bool    // total counts rows
	rate        float64 // rows through the Python stages per second, lately
	doneRate    float64 // done per second, lately
}

type stageStatus struct {
	name    string
	in, out int64
}

// format renders a report, e.g.
//
//	12s: 900k of 2.00M rows in (45%, ETA 11s), 98.1k rows/s, 880k out; Python inc(c0): 890k in, 880k out
func (s status) format() string {
	var b strings.Builder
	b.WriteString(formatDuration(s.elapsed))
	b.WriteString(": ")
	if s.starting {
		b.WriteString("starting")
		if s.workers > 0 {
			fmt.Fprintf(&b, " %d Python worker%s", s.workers, plural(s.workers))
		}
		return b.String()
	}
	if s.rowsBound {
		fmt.Fprintf(&b, "%s of %s rows in", formatCount(s.in), formatCount(s.total))
	} else {
		fmt.Fprintf(&b, "%s rows in", formatCount(s.in))
	}
	if s.total > 0 {
		pct := min(100*float64(s.done)/float64(s.total), 100)
		fmt.Fprintf(&b, " (%d%%", int(pct))
		if left := s.total - s.done; left > 0 && s.doneRate > 0 {
			fmt.Fprintf(&b, ", ETA %s", formatDuration(time.Duration(float64(left)/s.doneRate*float64(time.Second))))
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, ", %s rows/s, %s out", formatRate(s.rate), formatCount(s.out))
	for _, st := range s.stages {
		fmt.Fprintf(&b, "; Python %s: %s in, %s out", st.name, formatCount(st.in), formatCount(st.out))
	}
	if s.restarts > 0 {
		fmt.Fprintf(&b, "; %d worker restart%s", s.restarts, plural(s.restarts))
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// formatCount renders n with three significant digits and an SI suffix:
// 999, 1.23k, 12.3k, 123k, 1.23M.
func formatCount(n int64) string {
	if n < 1000 && n > -1000 {
		return strconv.FormatInt(n, 10)
	}
	f := float64(n)
	for _, u := range []string{"k", "M", "G", "T", "P", "E"} {
		f /= 1000
		// Round first, so that 999,999 is 1.00M and not 1000k.
		switch a := abs(f); {
		case a < 9.995:
			return strconv.FormatFloat(f, 'f', 2, 64) + u
		case a < 99.95:
			return strconv.FormatFloat(f, 'f', 1, 64) + u
		case a < 999.5:
			return strconv.FormatFloat(f, 'f', 0, 64) + u
		}
	}
	return strconv.FormatInt(n, 10)
}

// formatRate renders a rate like formatCount, with a decimal below 10 (a
// slow function's 0.5 rows/s is not 0).
func formatRate(r float64) string {
	if r > 0 && r < 9.95 {
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return formatCount(int64(r + 0.5))
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// formatDuration renders d for a person: 0s, 45s, 3m05s, 2h07m.
func formatDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}

// Terminal shows a status line at the bottom of a terminal. Output written
// through the writers of Wrap appears above the line: the line is cleared
// before each write and drawn again at the next report.
type Terminal struct {
	mu sync.Mutex
	w  io.Writer
	// width returns the terminal's width in columns (0 when unknown).
	width func() int
	shown bool
	// midLine is set while other output has left the cursor inside a line:
	// the status line is not drawn over it.
	midLine bool
}

// NewTerminal returns a Terminal that draws on w, a terminal whose width
// width returns (nil or 0: 80 columns).
func NewTerminal(w io.Writer, width func() int) *Terminal {
	return &Terminal{w: w, width: width}
}

// Status draws line in place of the previous one, cut to the terminal's
// width so that it never wraps.
func (t *Terminal) Status(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.midLine {
		return
	}
	w := 80
	if t.width != nil {
		if n := t.width(); n > 0 {
			w = n
		}
	}
	if r := []rune(line); len(r) > w-1 {
		line = string(r[:max(w-1, 0)])
	}
	io.WriteString(t.w, "\r"+line+"\x1b[K")
	t.shown = true
}

// Clear removes the status line.
func (t *Terminal) Clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clear()
}

func (t *Terminal) clear() {
	if t.shown {
		io.WriteString(t.w, "\r\x1b[K")
		t.shown = false
	}
}

// Wrap returns a writer to w, which shows on the same screen as the status
// line.
func (t *Terminal) Wrap(w io.Writer) io.Writer { return &termWriter{t: t, w: w} }

type termWriter struct {
	t *Terminal
	w io.Writer
}

func (tw *termWriter) Write(p []byte) (int, error) {
	tw.t.mu.Lock()
	defer tw.t.mu.Unlock()
	tw.t.clear()
	n, err := tw.w.Write(p)
	if n > 0 {
		tw.t.midLine = p[n-1] != '\n'
	}
	return n, err
}
