// Package pyexec runs weir's Python stages: it starts the Python workers,
// serves them the Fn API, and streams Arrow batches through them in bundles,
// joining each batch's results with its forwarded columns.
//
// Every bundle keeps its input batches until its results are complete, so a
// bundle whose worker died is replayed on a live worker; the sink sees each
// bundle's results exactly once.
//
// pyexec imports types, coder, fnapi, worker and weirpb.
package pyexec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/weir-dev/weir/internal/config"
	"github.com/weir-dev/weir/internal/fnapi"
	"github.com/weir-dev/weir/internal/shm"
	"github.com/weir-dev/weir/internal/state"
	"github.com/weir-dev/weir/internal/tmpdir"
	"github.com/weir-dev/weir/internal/worker"
)

// Config holds the settings of the Python workers, with Flink's option
// names in comments.
type Config struct {
	// Python is the interpreter (python.executable).
	Python string
	// Workers is the number of Python worker processes (parallelism.default).
	Workers int
	// PyFiles are files, directories and zips put on the workers' Python
	// path (python.files, --pyfiles).
	PyFiles []string
	// BundleRows closes a bundle after this many rows (python.fn-execution.bundle.size).
	BundleRows int
	// BundleTime closes a bundle this long after its first row (python.fn-execution.bundle.time).
	BundleTime time.Duration
	// Vectorized says that the job runs vectorized stages: their
	// shared-memory arena is made while the workers start (~10 ms for its
	// pages), not when the first bundle is sent.
	Vectorized bool
	// BatchRows is the number of rows per call of a vectorized function
	// (python.fn-execution.arrow.batch.size).
	BatchRows int
	// InFlight is the number of bundles in flight per worker.
	InFlight int
	// InlineBatches sends the Arrow batches of vectorized stages inside the
	// Fn API's messages instead of through a shared-memory arena
	// (python.fn-execution.shared-memory false; shmstage.go).
	InlineBatches bool
	// MaxAttempts is how often one bundle may be tried before the job fails.
	MaxAttempts int
	// StartupTimeout bounds how long a worker may take to connect.
	StartupTimeout time.Duration
	// ProgressTimeout fails a bundle that makes no progress this long
	// (python.fn-execution.bundle.progress-timeout). Options left zero get
	// the option table's defaults (internal/config).
	ProgressTimeout time.Duration
	// StallTimeout fails the job when bundles wait for a worker this long
	// while none runs and no worker is starting; 0 means ProgressTimeout,
	// at most one minute.
	StallTimeout time.Duration
	// Log receives worker logs and lifecycle events.
	Log *slog.Logger
}

// defaults fills options left zero with the option table's defaults, for
// callers that build a Config by hand (tests, benchmarks).
func (c *Config) defaults() {
	d := config.Default()
	if c.Python == "" {
		c.Python = d.Python()
	}
	if c.Workers <= 0 {
		c.Workers = d.Int(config.Parallelism)
	}
	if c.BundleRows <= 0 {
		c.BundleRows = d.Int(config.BundleSize)
	}
	if c.BundleTime <= 0 {
		c.BundleTime = d.Duration(config.BundleTime)
	}
	if c.InFlight <= 0 {
		c.InFlight = d.Int(config.BundlesInFlight)
	}
	if c.BatchRows <= 0 {
		c.BatchRows = d.Int(config.ArrowBatchSize)
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = d.Int(config.MaxAttempts)
	}
	if c.StartupTimeout <= 0 {
		c.StartupTimeout = d.Duration(config.StartupTimeout)
	}
	if c.ProgressTimeout <= 0 {
		c.ProgressTimeout = d.Duration(config.ProgressTimeout)
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = min(c.ProgressTimeout, time.Minute)
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// Pool is the set of Python workers of one job and the Fn API server they
// connect to. Workers that die are replaced.
//
// Each worker runs at most InFlight bundles started by dispatch at a time:
// dispatch takes one of the worker's tokens (acquire), and the token comes
// back when the bundle finishes on the worker, whether or not its results
// have been collected yet. A replay takes no token: it stands in for a
// bundle that already held one, so it runs on any live worker and waits
// only for one to be live. Hence a replay never waits for bundles behind it,
// and tokens never wait for the collection of results.
type Pool struct {
	cfg Config
	srv *fnapi.Server
	tmp string

	metrics *Metrics
	latency latencies

	mu     sync.Mutex
	slots  []*slot
	closed bool
	// restarts counts workers replaced, from the moment the pool sees the
	// death (see Restarts), and starts tried again after a kill.
	restarts int
	// running counts bundles started on a worker and not yet finished
	// (dispatched bundles, replays and crash probes).
	running int
	// waiting are the bundles waiting for a worker, for the watchdog.
	waiting map[*waiter]bool
	// changed is closed, and replaced, whenever a worker comes or goes or a
	// token is given back: waiters then look again.
	changed chan struct{}
	// lastEvent is when a bundle or worker last changed state.
	lastEvent time.Time
	// died is when each dead worker process was seen to end.
	died    map[*worker.Process]time.Time
	stopped chan struct{}
	// broken is closed when a worker cannot be replaced or the pool is
	// stuck; brokenErr says why.
	broken    chan struct{}
	brokenErr error
	// stores are the state stores of keyed stages, closed with the pool.
	stores []state.Store
	// arena carries the batches of vectorized stages (shmstage.go): made
	// by the first such stage, nil when batches go inline.
	arenaOnce sync.Once
	arena     *shm.Arena
}

// slot is one worker position; its process is replaced when it dies.
type slot struct {
	index    int
	gen      int             // generation of the latest process started
	w        *fnapi.Worker   // the connected worker of gen; nil while there is none
	p        *worker.Process // its process
	starting bool            // a (replacement) process is being started
	free     int             // tokens of the current worker not held by a bundle
	running  int             // bundles running on the current worker
}

// token names the worker (slot generation) a bundle runs on. A held token
// is one of the worker's InFlight tokens and is given back when the bundle
// finishes; a replay's token is not held.
type token struct {
	s    *slot
	gen  int
	w    *fnapi.Worker
	p    *worker.Process
	held bool
}

// waiter is a bundle waiting for a worker, described for diagnostics.
type waiter struct {
	what  string
	since time.Time
}

// NewPool starts cfg.Workers workers and waits until each has connected.
func NewPool(ctx context.Context, cfg Config) (*Pool, error) {
	cfg.defaults()
	srv, err := fnapi.NewServer(cfg.Log)
	if err != nil {
		return nil, err
	}
	tmp, err := tmpdir.Make("weir-job-")
	if err != nil {
		srv.Stop(0)
		return nil, fmt.Errorf("pyexec: %w", err)
	}
	p := &Pool{
		cfg: cfg, srv: srv, tmp: tmp,
		metrics:   newMetrics(),
		waiting:   map[*waiter]bool{},
		died:      map[*worker.Process]time.Time{},
		changed:   make(chan struct{}),
		lastEvent: time.Now(),
		stopped:   make(chan struct{}),
		broken:    make(chan struct{}),
	}
	if cfg.Vectorized {
		go p.arenaFor() // shmstage.go; dispatch waits for it if it is not done
	}
	errs := make(chan error, cfg.Workers)
	for i := 0; i < cfg.Workers; i++ {
		s := &slot{index: i}
		p.slots = append(p.slots, s)
		go func() { errs <- p.startRetrying(ctx, s) }()
	}
	var first error
	for i := 0; i < cfg.Workers; i++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		p.Close()
		return nil, first
	}
	go p.watchdog()
	return p, nil
}

// Latency returns percentiles (0..100) of the time batches spent in the
// Python stages, from arrival to their joined results leaving the stage,
// and the number of batches measured.
func (p *Pool) Latency(percentiles ...float64) ([]time.Duration, int) {
	return p.latency.percentiles(percentiles...)
}

// Metrics are the user metrics reported by the functions so far.
func (p *Pool) Metrics() *Metrics { return p.metrics }

// Server is the pool's Fn API server.
func (p *Pool) Server() *fnapi.Server { return p.srv }

// start starts the process of slot s and waits for it to connect.
func (p *Pool) start(ctx context.Context, s *slot) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errPoolClosed
	}
	s.gen++
	gen := s.gen
	name := fmt.Sprintf("worker-%d", s.index)
	if gen > 1 {
		name = fmt.Sprintf("worker-%d.%d", s.index, gen)
	}
	id := fnapi.NewWorkerID(name)
	w := p.srv.Expect(id)
	p.mu.Unlock()

	desc := fmt.Sprintf("url: %q", p.srv.URL())
	env := []string{
		"CONTROL_API_SERVICE_DESCRIPTOR=" + desc,
		"LOGGING_API_SERVICE_DESCRIPTOR=" + desc,
		"WORKER_ID=" + id,
		"PIPELINE_OPTIONS={\"options\": {}}",
		"SEMI_PERSISTENT_DIRECTORY=" + p.tmp,
		"PYTHONUNBUFFERED=1",
	}
	if pp := p.pythonPath(); pp != "" {
		env = append(env, "PYTHONPATH="+pp)
	}
	// The worker runs in the job's private directory: `python -m` puts the
	// working directory first on sys.path, where a stray file of the same
	// name would shadow a module shipped with python.files.
	proc, err := worker.Start(worker.Options{Python: p.cfg.Python, Args: []string{"-m", "weir.worker"}, Env: env, Name: name, Log: p.cfg.Log, Dir: p.tmp})
	if err != nil {
		p.srv.Forget(w)
		return err
	}
	p.cfg.Log.Debug("started Python worker", "worker", name, "pid", proc.Pid())
	timer := time.NewTimer(p.cfg.StartupTimeout)
	defer timer.Stop()
	select {
	case <-w.Connected():
	case <-proc.Done():
		p.srv.Forget(w)
		if strings.HasPrefix(proc.ExitReason(), "killed by signal") {
			return fmt.Errorf("pyexec: Python worker %s was %s before it connected: %w", name, proc.ExitReason(), errKilled)
		}
		return startupError(p.cfg.Python, name, proc)
	case <-timer.C:
		proc.Stop(time.Second)
		p.srv.Forget(w)
		return fmt.Errorf("pyexec: Python worker %s did not connect within %s; its stderr:\n%s", name, p.cfg.StartupTimeout, indent(proc.StderrTail(30)))
	case <-ctx.Done():
		proc.Stop(time.Second)
		p.srv.Forget(w)
		return ctx.Err()
	case <-p.stopped:
		// Close does not know this process yet.
		proc.Stop(time.Second)
		p.srv.Forget(w)
		return errPoolClosed
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.srv.Forget(w)
		proc.Stop(time.Second)
		return errPoolClosed
	}
	s.w, s.p = w, proc
	s.free, s.running = p.cfg.InFlight, 0
	p.notifyLocked()
	p.mu.Unlock()
	go p.watch(s, gen, w, proc)
	return nil
}

var errPoolClosed = errors.New("pyexec: pool closed")

// startupError explains a worker that exited before connecting.
func startupError(python, name string, proc *worker.Process) error {
	stderr := proc.StderrTail(30)
	hint := ""
	switch {
	case strings.Contains(stderr, "No module named 'weir'") || strings.Contains(stderr, "No module named weir"):
		hint = fmt.Sprintf("\nThe weir package is not installed for %s (python.executable): install it with 'pip install weir' (or './python' from a checkout) into that interpreter.", python)
	case strings.Contains(stderr, "apache-beam package is missing"):
		hint = fmt.Sprintf("\nThe apache-beam package is missing from %s: install weir with its dependencies into that interpreter.", python)
	}
	return fmt.Errorf("pyexec: Python worker %s (%s) exited before connecting (%s)%s\nIts stderr:\n%s", name, python, proc.ExitReason(), hint, indent(stderr))
}

func indent(s string) string {
	if s == "" {
		return "  (nothing)"
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// watch replaces the worker of slot s when its process dies while the pool
// is open.
func (p *Pool) watch(s *slot, gen int, w *fnapi.Worker, proc *worker.Process) {
	select {
	case <-proc.Done():
	case <-w.Gone():
		proc.Stop(2 * time.Second)
	case <-p.stopped:
		return
	}
	// Forget fails the worker's unfinished bundles, which their collectors
	// then replay.
	p.srv.Forget(w)
	p.mu.Lock()
	p.died[proc] = time.Now()
	closed := p.closed
	if s.gen == gen {
		s.w, s.p = nil, nil
		s.free, s.running = 0, 0
		s.starting = !closed
		if !closed {
			p.restarts++
		}
	}
	p.notifyLocked()
	p.mu.Unlock()
	if closed {
		return
	}
	p.cfg.Log.Warn("Python worker died; starting a replacement", "worker", s.index, "cause", proc.ExitReason())
	if err := p.startRetrying(context.Background(), s); err != nil && !errors.Is(err, errPoolClosed) {
		p.fail(fmt.Errorf("pyexec: cannot replace Python worker %d: %w", s.index, err))
	}
}

// startRetrying starts the worker of slot s, trying again (up to
// MaxAttempts times) when the process was killed before it connected; a
// worker that fails by itself (an exit code) fails the same way again.
func (p *Pool) startRetrying(ctx context.Context, s *slot) error {
	p.mu.Lock()
	s.starting = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		s.starting = false
		p.notifyLocked()
		p.mu.Unlock()
	}()
	var err error
	for attempt := 1; attempt <= p.cfg.MaxAttempts; attempt++ {
		if err = p.start(ctx, s); err == nil || !errors.Is(err, errKilled) {
			return err
		}
		p.cfg.Log.Warn("Python worker was killed while starting; trying again", "worker", s.index, "attempt", attempt)
		select {
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		case <-p.stopped:
			return errPoolClosed
		}
		if attempt < p.cfg.MaxAttempts {
			p.mu.Lock()
			p.restarts++
			p.mu.Unlock()
		}
	}
	return err
}

// errKilled marks a worker that a signal ended before it connected.
var errKilled = errors.New("killed while starting")

// fail marks the pool broken: bundles waiting for a worker get err.
func (p *Pool) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.brokenErr == nil {
		p.brokenErr = err
		close(p.broken)
	}
}

// notifyLocked wakes every waiter to look at the workers again. p.mu is held.
func (p *Pool) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
	p.lastEvent = time.Now()
}

// liveLocked reports whether slot s has a connected worker that is not
// known to be gone. p.mu is held.
func liveLocked(s *slot) bool {
	if s.w == nil {
		return false
	}
	select {
	case <-s.w.Gone():
		return false
	case <-s.p.Done():
		return false
	default:
		return true
	}
}

// pythonPath puts python.files on the workers' path: directories and zips
// as they are, files by their directory.
func (p *Pool) pythonPath() string {
	var parts []string
	seen := map[string]bool{}
	for _, f := range p.cfg.PyFiles {
		abs, err := filepath.Abs(f)
		if err != nil {
			continue
		}
		if st, err := os.Stat(abs); err == nil && !st.IsDir() && !strings.HasSuffix(abs, ".zip") && !strings.HasSuffix(abs, ".whl") {
			abs = filepath.Dir(abs)
		}
		if !seen[abs] {
			seen[abs] = true
			parts = append(parts, abs)
		}
	}
	if old := os.Getenv("PYTHONPATH"); old != "" {
		parts = append(parts, old)
	}
	return strings.Join(parts, string(os.PathListSeparator))
}

// acquire takes a token of the live worker with the most free tokens,
// waiting for one to be free. what describes the waiting bundle.
func (p *Pool) acquire(ctx context.Context, what string) (token, error) {
	return p.waitFor(ctx, what, func() (token, bool) {
		var best *slot
		for _, s := range p.slots {
			if liveLocked(s) && s.free > 0 && (best == nil || s.free > best.free) {
				best = s
			}
		}
		if best == nil {
			return token{}, false
		}
		best.free--
		return token{s: best, gen: best.gen, w: best.w, p: best.p, held: true}, true
	})
}

// anyWorker returns the live worker running the fewest bundles, waiting for
// one to be live. It takes no token: replays and probes use it.
func (p *Pool) anyWorker(ctx context.Context, what string) (token, error) {
	return p.waitFor(ctx, what, func() (token, bool) {
		var best *slot
		for _, s := range p.slots {
			if liveLocked(s) && (best == nil || s.running < best.running) {
				best = s
			}
		}
		if best == nil {
			return token{}, false
		}
		return token{s: best, gen: best.gen, w: best.w, p: best.p}, true
	})
}

// waitFor calls pick (with p.mu held) until it finds a worker, waking up
// whenever the workers change; it gives up when ctx ends or the pool closes
// or breaks.
func (p *Pool) waitFor(ctx context.Context, what string, pick func() (token, bool)) (token, error) {
	var me *waiter
	defer func() {
		if me != nil {
			p.mu.Lock()
			delete(p.waiting, me)
			p.mu.Unlock()
		}
	}()
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return token{}, errPoolClosed
		}
		if p.brokenErr != nil {
			err := p.brokenErr
			p.mu.Unlock()
			return token{}, err
		}
		if t, ok := pick(); ok {
			p.mu.Unlock()
			return t, nil
		}
		if me == nil {
			me = &waiter{what: what, since: time.Now()}
			p.waiting[me] = true
			p.lastEvent = time.Now()
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return token{}, context.Cause(ctx)
		case <-p.stopped:
		case <-p.broken:
		}
	}
}

// begin starts a new bundle of stage s for dispatch on a worker with a free
// token. The token comes back when the bundle finishes on the worker.
func (p *Pool) begin(ctx context.Context, s *Stage) (token, *fnapi.Bundle, error) {
	for {
		t, err := p.acquire(ctx, s.Spec.GetName()+": a new bundle, waiting for a worker token")
		if err != nil {
			return token{}, nil, err
		}
		if b, err := p.startOn(t, s); err == nil {
			return t, b, nil
		}
		// The worker went away between acquire and StartBundle; its
		// token is void. Take another.
	}
}

// startOn starts a bundle of stage s on the worker of t and counts it as
// running until it finishes; then a held token is given back. A worker that
// is gone gives an error and the token is void.
func (p *Pool) startOn(t token, s *Stage) (*fnapi.Bundle, error) {
	b, err := t.w.StartStatefulBundle(s.id, sourceID, sinkID, s.newAttempt())
	if err != nil {
		p.release(t)
		return nil, err
	}
	p.mu.Lock()
	p.running++
	if t.gen == t.s.gen && t.s.w == t.w {
		t.s.running++
	}
	p.lastEvent = time.Now()
	p.mu.Unlock()
	go func() {
		<-b.Done()
		p.mu.Lock()
		p.running--
		if t.gen == t.s.gen && t.s.w == t.w {
			t.s.running--
		}
		p.mu.Unlock()
		p.release(t)
	}()
	return b, nil
}

// release gives back a held token if its worker is still the slot's.
func (p *Pool) release(t token) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.held && t.gen == t.s.gen && t.s.w == t.w {
		t.s.free++
	}
	p.notifyLocked()
}

// watchdog fails the pool when bundles wait for a worker while nothing
// runs and no worker is starting: by design that cannot last, so it is a
// bug, reported with the pool's state instead of a hang.
func (p *Pool) watchdog() {
	tick := time.NewTicker(max(p.cfg.StallTimeout/8, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-p.stopped:
			return
		case <-p.broken:
			return
		case <-tick.C:
		}
		p.mu.Lock()
		stuck := len(p.waiting) > 0 && p.running == 0 && time.Since(p.lastEvent) >= p.cfg.StallTimeout
		for _, s := range p.slots {
			if s.starting {
				stuck = false
			}
		}
		var state string
		if stuck {
			state = p.stateLocked()
		}
		p.mu.Unlock()
		if stuck {
			p.fail(fmt.Errorf("pyexec: the Python stages made no progress for %s while no function was running and no worker was starting; weir stopped the job instead of waiting forever. This is a bug in weir: please report it with this message.\n%s",
				p.cfg.StallTimeout, state))
			return
		}
	}
}

// stateLocked describes the workers and the waiting bundles. p.mu is held.
func (p *Pool) stateLocked() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Workers (%d, %d bundles in flight each; %d bundles running; last change %s ago):\n",
		len(p.slots), p.cfg.InFlight, p.running, time.Since(p.lastEvent).Round(time.Millisecond))
	for _, s := range p.slots {
		state := "no process"
		switch {
		case liveLocked(s):
			state = fmt.Sprintf("live (pid %d), %d of %d tokens free, %d bundles running", s.p.Pid(), s.free, p.cfg.InFlight, s.running)
		case s.w != nil:
			state = "connection lost, not yet replaced"
		case s.starting:
			state = "starting"
		}
		fmt.Fprintf(&b, "  worker %d, generation %d: %s\n", s.index, s.gen, state)
	}
	ws := make([]*waiter, 0, len(p.waiting))
	for w := range p.waiting {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].since.Before(ws[j].since) })
	fmt.Fprintf(&b, "Bundles waiting for a worker (%d):\n", len(ws))
	for _, w := range ws {
		fmt.Fprintf(&b, "  %s, for %s\n", w.what, time.Since(w.since).Round(time.Millisecond))
	}
	return strings.TrimRight(b.String(), "\n")
}

// Restarts is how many workers were replaced or are being replaced, and
// starts tried again after a kill. A worker counts from the moment its
// bundles fail: a job whose last bundle was replayed on another worker may
// end before the replacement starts, or even before watch sees the death,
// and the worker still counts (its connection is gone before its bundles
// fail).
func (p *Pool) Restarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.restarts
	if !p.closed {
		for _, s := range p.slots {
			if s.w != nil && !liveLocked(s) {
				n++ // dead, not yet seen by watch
			}
		}
	}
	return n
}

// Pids returns the process ids of the current workers.
func (p *Pool) Pids() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var pids []int
	for _, s := range p.slots {
		if s.p != nil {
			pids = append(pids, s.p.Pid())
		}
	}
	return pids
}

// Close stops every worker: first by ending its control stream and SIGTERM,
// then SIGKILL after a grace period, and stops the server. Safe to call twice.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.stopped)
	slots := make([]slot, len(p.slots))
	for i, s := range p.slots {
		slots[i] = *s
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range slots {
		if s.w != nil {
			p.srv.Forget(s.w)
		}
		if s.p != nil {
			wg.Add(1)
			go func(proc *worker.Process) {
				defer wg.Done()
				// Ending the control stream (Forget) lets the harness exit by
				// itself; give it a moment before signals.
				select {
				case <-proc.Done():
				case <-time.After(time.Second):
				}
				proc.Stop(2 * time.Second)
			}(s.p)
		}
	}
	wg.Wait()
	p.srv.Stop(time.Second)
	os.RemoveAll(p.tmp)
	p.mu.Lock()
	stores := p.stores
	p.stores = nil
	p.mu.Unlock()
	p.arenaOnce.Do(func() {}) // no arena is made after this
	if p.arena != nil {
		p.arena.Close()
	}
	for _, st := range stores {
		st.Close()
	}
}
