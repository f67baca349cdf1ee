// Package job runs planned jobs: it opens the source and the sink, starts
// the Python workers, and connects the operators with bounded channels so
// that a slow operator slows the source instead of filling memory.
//
// A job either completes with all its output committed, or fails (or is
// cancelled) and its sink is aborted: partial output is never presented as
// complete.
//
// job imports everything below it: plan, exec, connector, pyexec.
package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/changelog"
	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/config"
	"github.com/weir-dev/weir/internal/connector"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/plan"
	"github.com/weir-dev/weir/internal/pyexec"
)

// Options configure how jobs run.
type Options struct {
	// Out receives the output of print sinks.
	Out io.Writer
	// Log receives engine and worker logs.
	Log *slog.Logger
	// Sink, when set, receives the job's rows instead of the job's own sink
	// (for tests and embedding); Commit and Abort are called on it as on a
	// sink the job opened.
	Sink exec.Sink
	// Progress says how to report progress while the job runs; the zero
	// value reports nothing.
	Progress Progress
	// OpenSource, when set, opens the source of a table the caller holds
	// (the gateway's tables sent from Python); ok false means the table's
	// connector opens it.
	OpenSource func(t *plan.Table) (src exec.Source, ok bool)
	// Early, when set, is a pool started while the job was planned
	// (pyexec.StartEarly): the job takes it if it was started with the
	// job's configuration.
	Early *pyexec.Early
}

// Result summarises a finished job.
type Result struct {
	Rows    int64 // rows written to the sink
	Elapsed time.Duration
	// Startup is the part of Elapsed spent before data flowed: opening the
	// source and sink and starting the Python workers.
	Startup  time.Duration
	Workers  int
	Restarts int
	// Metrics are the functions' user metrics, one line each.
	Metrics []string
	// Batches is the number of batches that went through Python stages, and
	// LatencyP50/P99 how long they took there (arrival to joined result).
	Batches                int
	LatencyP50, LatencyP99 time.Duration
}

// channelDepth is how many batches may wait between two operators.
const channelDepth = 4

// Settings are the options a job runs with (internal/config's table has
// their keys, defaults and bounds).
type Settings struct {
	Parallelism int
	Python      string
	PyFiles     []string
	BundleRows  int
	BundleTime  time.Duration
	BatchRows   int
	InFlight    int
	MaxAttempts int
	// InlineBatches sends vectorized stages' batches inside the Fn API's
	// messages (python.fn-execution.shared-memory false).
	InlineBatches bool
	// StartupTimeout and ProgressTimeout bound a worker's start and a
	// bundle's time without progress.
	StartupTimeout  time.Duration
	ProgressTimeout time.Duration
	// ManagedMemory is what the job's aggregations, joins and sorts share
	// before they spill, in bytes.
	ManagedMemory int64
	// CheckpointInterval (0: none), CheckpointDir and RecoveryPath are the
	// checkpoint options (checkpoint.go).
	CheckpointInterval time.Duration
	CheckpointDir      string
	RecoveryPath       string
}

// ParseSettings resolves the options of a settings map (see
// config.Resolve); keys weir does not read are ignored here (the CLI warns
// about them).
func ParseSettings(m map[string]string) (Settings, error) {
	c, _, err := config.Resolve(m)
	if err != nil {
		return Settings{}, err
	}
	return FromConfig(c), nil
}

// PoolConfig is the configuration of the Python workers of a job with
// settings s.
func PoolConfig(s Settings, log *slog.Logger) pyexec.Config {
	return pyexec.Config{
		Python: s.Python, Workers: s.Parallelism, PyFiles: s.PyFiles,
		BundleRows: s.BundleRows, BundleTime: s.BundleTime, InFlight: s.InFlight, BatchRows: s.BatchRows,
		InlineBatches: s.InlineBatches, MaxAttempts: s.MaxAttempts, Log: log,
		StartupTimeout: s.StartupTimeout, ProgressTimeout: s.ProgressTimeout,
	}
}

// FromConfig reads a job's settings from resolved options.
func FromConfig(c *config.Config) Settings {
	s := Settings{
		Parallelism:     c.Int(config.Parallelism),
		Python:          c.Python(),
		PyFiles:         c.List(config.PythonFiles),
		BundleRows:      c.Int(config.BundleSize),
		BundleTime:      c.Duration(config.BundleTime),
		BatchRows:       c.Int(config.ArrowBatchSize),
		InFlight:        c.Int(config.BundlesInFlight),
		InlineBatches:   !c.Bool(config.SharedMemory),
		MaxAttempts:     c.Int(config.MaxAttempts),
		StartupTimeout:  c.Duration(config.StartupTimeout),
		ProgressTimeout: c.Duration(config.ProgressTimeout),
		ManagedMemory:   c.ManagedBytes(),

		CheckpointInterval: c.Duration(config.CheckpointInterval),
		CheckpointDir:      c.CheckpointDirectory(),
		RecoveryPath:       c.String(config.RecoveryPath),
	}
	// A batch is one element of a bundle: it cannot be larger.
	s.BatchRows = min(s.BatchRows, s.BundleRows)
	return s
}

// Run runs one job to completion.
func Run(ctx context.Context, j *plan.Job, settings map[string]string, opts Options) (*Result, error) {
	start := time.Now()
	s, err := ParseSettings(settings)
	if err != nil {
		return nil, err
	}
	if err := j.CheckMode(); err != nil { // batch mode reads bounded input only
		return nil, err
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	mem := memory.NewGoAllocator()
	open := func(source plan.Source) (exec.Source, error) {
		if source.Table != nil && opts.OpenSource != nil {
			if src, ok := opts.OpenSource(source.Table); ok {
				return src, nil
			}
		}
		if source.Table != nil {
			return connector.OpenSource(source.Table.Name, source.Schema, source.Table.Options, s.BatchRows, mem)
		}
		return connector.ValuesSource(source.Schema, source.Values, mem), nil
	}
	src, err := open(j.Source)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	sink := opts.Sink
	if _, ok := sink.(changelog.Consumer); sink != nil && j.RowKinds && !ok {
		return nil, fmt.Errorf("the result of this query is updated as rows arrive (a changelog, execution.runtime-mode 'streaming'), and its receiver takes insertions only; run it in batch mode (SET 'execution.runtime-mode' = 'batch')")
	}
	if sink == nil {
		if sink, err = connector.OpenInsertSink(j.Sink.Name, j.Sink.Schema, j.Sink.Options, opts.Out, j.Overwrite); err != nil {
			return nil, err
		}
	}

	cnt := &counters{rows: make([]atomic.Int64, len(j.Steps)+1)}
	if opts.Progress.Mode != ProgressOff {
		rep := newReporter(opts.Progress, j, cnt, s.Parallelism, start)
		rep.setSource(src)
		go rep.run()
		defer rep.finish()
	}

	var pool *pyexec.Pool
	// The build sides of joins are pipelines of their own, with their own
	// sources (opened now, so that a missing file fails before workers start).
	builds := map[plan.TwoInput]exec.Source{}
	defer func() {
		for _, b := range builds {
			b.Close()
		}
	}()
	if err := openBuilds(j.Steps, open, builds); err != nil {
		sink.Abort(err)
		return nil, err
	}
	ck, err := setupCheckpoints(ctx, j, s, log, sourceOrder(src, j.Steps, builds), sink)
	if err != nil {
		sink.Abort(err)
		return nil, err
	}
	if hasPython(j.Steps, nil) {
		cfg := PoolConfig(s, log)
		cfg.Vectorized = hasPython(j.Steps, (*pyexec.Stage).Vectorized)
		if opts.Early != nil {
			if pool, err = opts.Early.Take(cfg); pool != nil && opts.Early.Started().Before(start) {
				// The job's time includes its workers' start-up, which
				// began while it was planned.
				start = opts.Early.Started()
			}
		}
		if pool == nil && err == nil {
			pool, err = pyexec.NewPool(ctx, cfg)
		}
		if err != nil {
			sink.Abort(err)
			return nil, err
		}
		defer pool.Close()
		cnt.pool.Store(pool)
	}
	cnt.flowing.Store(int64(time.Since(start)))
	cnt.started.Store(true)

	startup := time.Since(start)
	ctx, budget := withBudget(ctx, s.ManagedMemory, j.Steps)
	defer budget.Close()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		if err == nil {
			return
		}
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		cancel(err)
	}
	// source sends the batches of src to a new channel, counted by count.
	source := func(src exec.Source, count *atomic.Int64) <-chan arrow.RecordBatch {
		ch := make(chan arrow.RecordBatch, channelDepth)
		wg.Add(1)
		var trigger <-chan *checkpoint.Barrier
		idx := 0
		if ck.taking() {
			idx = ck.sources[src]
			trigger = ck.coord.Trigger(idx)
		}
		go func() {
			defer wg.Done()
			defer close(ch)
			for {
				if trigger != nil {
					// A checkpoint's barrier goes after the batches sent.
					select {
					case br := <-trigger:
						pos, err := position(src)
						if err != nil {
							fail(err)
							return
						}
						ck.coord.SourceBarrier(idx, br, pos)
						select {
						case ch <- br:
						case <-ctx.Done():
							return
						}
					default:
					}
				}
				b, err := src.Next(ctx)
				if err == io.EOF {
					if trigger != nil {
						pos, err := position(src)
						if err != nil {
							fail(err)
							return
						}
						ck.coord.SourceDone(idx, pos)
					}
					return
				}
				if err != nil {
					fail(err)
					return
				}
				n := b.NumRows()
				if n == 0 && trigger != nil {
					b.Release() // an idle source's way to let barriers pass
					continue
				}
				select {
				case ch <- b:
					count.Add(n)
				case <-ctx.Done():
					b.Release()
					return
				}
			}
		}()
		return ch
	}
	// Operators.
	// The rows through a channel are counted where a Go operator sends
	// them; the output of a Python stage where a Go operator receives it.
	// counts[i] counts the output of steps[i]; steps runs the operators
	// after in and returns their output and its count when the receiver
	// adds to it.
	var steps func(in <-chan arrow.RecordBatch, inCount *atomic.Int64, st []plan.Step, counts []atomic.Int64) (<-chan arrow.RecordBatch, *atomic.Int64)
	steps = func(in <-chan arrow.RecordBatch, inCount *atomic.Int64, sts []plan.Step, counts []atomic.Int64) (<-chan arrow.RecordBatch, *atomic.Int64) {
		for i, st := range sts {
			out := make(chan arrow.RecordBatch, channelDepth)
			outCount := &counts[i]
			switch {
			case st.Calc != nil:
				wg.Add(1)
				go func(c *exec.Calc, in <-chan arrow.RecordBatch, inCount *atomic.Int64) {
					defer wg.Done()
					defer close(out)
					fail(runCalc(ctx, c, mem, in, out, inCount, outCount))
				}(st.Calc, in, inCount)
				inCount = nil
			case st.Op != nil:
				// An aggregation, sort or join: its output is counted where
				// it is received, as a Python stage's.
				if inCount != nil {
					in = relay(ctx, &wg, in, inCount)
				}
				var build <-chan arrow.RecordBatch
				if jo, ok := st.Op.(plan.TwoInput); ok {
					bc := make([]atomic.Int64, len(jo.Second().Steps)+1)
					var bCount *atomic.Int64
					build, bCount = steps(source(builds[jo], &bc[0]), nil, jo.Second().Steps, bc[1:])
					if bCount != nil {
						build = relay(ctx, &wg, build, bCount)
					}
				}
				wg.Add(1)
				go func(op plan.Operator, in, build <-chan arrow.RecordBatch) {
					defer wg.Done()
					defer close(out)
					if jo, ok := op.(plan.TwoInput); ok {
						fail(jo.RunTwo(ctx, mem, in, build, out))
						return
					}
					fail(op.Run(ctx, mem, in, out))
				}(st.Op, in, build)
				inCount = outCount
			case st.Python != nil:
				if inCount != nil {
					// Two Python stages in a row: count between them.
					in = relay(ctx, &wg, in, inCount)
				}
				wg.Add(1)
				go func(stage *pyexec.Stage, in <-chan arrow.RecordBatch) {
					defer wg.Done()
					defer close(out)
					fail(runPython(ctx, pool, stage, mem, in, out, ck.taking()))
				}(st.Python, in)
				inCount = outCount
			}
			in = out
		}
		return in, inCount
	}
	stopCoord := func() {}
	if ck.taking() {
		cctx, stop := context.WithCancel(ctx)
		stopCoord = stop
		wg.Add(1)
		go func() {
			defer wg.Done()
			ck.coord.Run(cctx)
		}()
	}
	in, inCount := steps(source(src, &cnt.rows[0]), nil, j.Steps, cnt.rows[1:])
	// Sink.
	var rows int64
	for b := range in {
		if br := checkpoint.IsBarrier(b); br != nil {
			if ctx.Err() == nil && ck.taking() {
				fail(ck.atSink(ctx, br))
			}
			continue
		}
		if inCount != nil {
			inCount.Add(b.NumRows())
		}
		if ctx.Err() == nil {
			if err := sink.Write(ctx, b); err != nil {
				fail(fmt.Errorf("sink %s: %w", j.Sink.Name, err))
			}
			rows += b.NumRows()
		}
		b.Release()
	}
	stopCoord()
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = context.Cause(ctx)
	}
	if firstErr != nil {
		sink.Abort(firstErr)
		return nil, firstErr
	}
	if err := sink.Commit(); err != nil {
		return nil, fmt.Errorf("sink %s: commit: %w", j.Sink.Name, err)
	}
	if ck.taking() {
		if err := ck.coord.Finished(); err != nil {
			log.Warn("checkpoints of the finished job not removed", "err", err)
		}
	}
	res := &Result{Rows: rows, Elapsed: time.Since(start), Startup: startup}
	if pool != nil {
		res.Workers = s.Parallelism
		res.Restarts = pool.Restarts()
		res.Metrics = pool.Metrics().Lines()
		var ps []time.Duration
		ps, res.Batches = pool.Latency(50, 99)
		res.LatencyP50, res.LatencyP99 = ps[0], ps[1]
	}
	return res, nil
}

// runCalc applies c to the batches of in. It adds the rows it receives to
// inCount (when not nil) and those it sends to outCount.
func runCalc(ctx context.Context, c *exec.Calc, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch, inCount, outCount *atomic.Int64) error {
	for b := range in {
		if br := checkpoint.IsBarrier(b); br != nil {
			select {
			case out <- br:
			case <-ctx.Done():
			}
			continue
		}
		if inCount != nil {
			inCount.Add(b.NumRows())
		}
		if ctx.Err() != nil {
			b.Release()
			continue
		}
		r, err := c.Apply(mem, b)
		b.Release()
		if err != nil {
			return err
		}
		if r == nil {
			continue
		}
		n := r.NumRows()
		select {
		case out <- r:
			outCount.Add(n)
		case <-ctx.Done():
			r.Release()
		}
	}
	return nil
}

// hasPython reports whether steps, or the build side of a join among them,
// run a Python stage (one that kind accepts, if kind is not nil).
func hasPython(steps []plan.Step, kind func(*pyexec.Stage) bool) bool {
	for _, st := range steps {
		if st.Python != nil && (kind == nil || kind(st.Python)) {
			return true
		}
		if jo, ok := st.Op.(plan.TwoInput); ok && hasPython(jo.Second().Steps, kind) {
			return true
		}
	}
	return false
}

// openBuilds opens the sources of the second inputs of the joins and set
// operations among steps (and of those in their second inputs) into srcs.
func openBuilds(steps []plan.Step, open func(plan.Source) (exec.Source, error), srcs map[plan.TwoInput]exec.Source) error {
	for _, st := range steps {
		jo, ok := st.Op.(plan.TwoInput)
		if !ok {
			continue
		}
		src, err := open(jo.Second().Source)
		if err != nil {
			return err
		}
		srcs[jo] = src
		if err := openBuilds(jo.Second().Steps, open, srcs); err != nil {
			return err
		}
	}
	return nil
}

// relay forwards the batches of in, adding their rows to count.
func relay(ctx context.Context, wg *sync.WaitGroup, in <-chan arrow.RecordBatch, count *atomic.Int64) <-chan arrow.RecordBatch {
	out := make(chan arrow.RecordBatch)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(out)
		for b := range in {
			n := b.NumRows()
			select {
			case out <- b:
				count.Add(n)
			case <-ctx.Done():
				b.Release()
			}
		}
	}()
	return out
}

// ErrCancelled is the cause of a job stopped by a signal.
var ErrCancelled = errors.New("job cancelled")
