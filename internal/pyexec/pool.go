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
	"strings"
	"sync"
	"time"

	"github.com/weir-dev/weir/internal/fnapi"
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
	// InFlight is the number of bundles in flight per worker.
	InFlight int
	// MaxAttempts is how often one bundle may be tried before the job fails.
	MaxAttempts int
	// StartupTimeout bounds how long a worker may take to connect.
	StartupTimeout time.Duration
	// ProgressTimeout fails a bundle that makes no progress this long
	// (python.fn-execution.bundle.progress-timeout); 0 means 5 minutes.
	ProgressTimeout time.Duration
	// Log receives worker logs and lifecycle events.
	Log *slog.Logger
}

func (c *Config) defaults() {
	if c.Python == "" {
		c.Python = "python3"
	}
	if c.Workers <= 0 {
		c.Workers = 1
	}
	if c.BundleRows <= 0 {
		c.BundleRows = 250000
	}
	if c.BundleTime <= 0 {
		c.BundleTime = time.Second
	}
	if c.InFlight <= 0 {
		c.InFlight = 2
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	if c.StartupTimeout <= 0 {
		c.StartupTimeout = 60 * time.Second
	}
	if c.ProgressTimeout <= 0 {
		c.ProgressTimeout = 5 * time.Minute
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// Pool is the set of Python workers of one job and the Fn API server they
// connect to. Workers that die are replaced.
type Pool struct {
	cfg    Config
	srv    *fnapi.Server
	tmp    string
	tokens chan token

	metrics *Metrics
	latency latencies

	mu      sync.Mutex
	slots   []*slot
	closed  bool
	starts  int
	stopped chan struct{}
	// broken is closed when a worker cannot be replaced; err says why.
	broken    chan struct{}
	brokenErr error
}

// slot is one worker position; its process is replaced when it dies.
type slot struct {
	index int
	gen   int
	w     *fnapi.Worker
	p     *worker.Process
}

// token is the right to run one bundle on the worker of a slot generation.
type token struct {
	s   *slot
	gen int
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
		tokens:  make(chan token, cfg.Workers*cfg.InFlight),
		metrics: newMetrics(),
		stopped: make(chan struct{}),
		broken:  make(chan struct{}),
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
		return errors.New("pyexec: pool closed")
	}
	p.starts++
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
	}
	p.mu.Lock()
	s.w, s.p = w, proc
	p.mu.Unlock()
	for i := 0; i < p.cfg.InFlight; i++ {
		p.tokens <- token{s: s, gen: gen}
	}
	go p.watch(s, gen, w, proc)
	return nil
}

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
	p.srv.Forget(w)
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return
	}
	p.cfg.Log.Warn("Python worker died; starting a replacement", "worker", s.index, "cause", proc.ExitReason())
	if err := p.startRetrying(context.Background(), s); err != nil {
		p.fail(fmt.Errorf("pyexec: cannot replace Python worker %d: %w", s.index, err))
	}
}

// startRetrying starts the worker of slot s, trying again (up to
// MaxAttempts times) when the process was killed before it connected; a
// worker that fails by itself (an exit code) fails the same way again.
func (p *Pool) startRetrying(ctx context.Context, s *slot) error {
	var err error
	for attempt := 1; attempt <= p.cfg.MaxAttempts; attempt++ {
		if err = p.start(ctx, s); err == nil || !errors.Is(err, errKilled) {
			return err
		}
		p.cfg.Log.Warn("Python worker was killed while starting; trying again", "worker", s.index, "attempt", attempt)
		time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
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

// acquire takes a token of a live worker, waiting for one to be free.
func (p *Pool) acquire(ctx context.Context) (token, error) {
	for {
		select {
		case t := <-p.tokens:
			p.mu.Lock()
			live := t.gen == t.s.gen && t.s.w != nil
			p.mu.Unlock()
			select {
			case <-t.s.w.Gone():
				live = false
			default:
			}
			if live {
				return t, nil
			}
		case <-ctx.Done():
			return token{}, ctx.Err()
		case <-p.stopped:
			return token{}, errors.New("pyexec: pool closed")
		case <-p.broken:
			return token{}, p.brokenErr
		}
	}
}

func (p *Pool) release(t token) {
	p.mu.Lock()
	live := t.gen == t.s.gen
	p.mu.Unlock()
	if live {
		p.tokens <- t
	}
}

// Restarts is how many workers were started beyond the initial ones.
func (p *Pool) Restarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts - len(p.slots)
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
}
