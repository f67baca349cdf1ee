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
	// StartupTimeout and ProgressTimeout bound a worker's start and a
	// bundle's time without progress.
	StartupTimeout  time.Duration
	ProgressTimeout time.Duration
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
		MaxAttempts:     c.Int(config.MaxAttempts),
		StartupTimeout:  c.Duration(config.StartupTimeout),
		ProgressTimeout: c.Duration(config.ProgressTimeout),
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
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	mem := memory.NewGoAllocator()
	var src exec.Source
	opened := false
	if j.Source.Table != nil && opts.OpenSource != nil {
		src, opened = opts.OpenSource(j.Source.Table)
	}
	switch {
	case opened:
	case j.Source.Table != nil:
		src, err = connector.OpenSource(j.Source.Table.Name, j.Source.Schema, j.Source.Table.Options, s.BatchRows, mem)
		if err != nil {
			return nil, err
		}
	default:
		src = connector.ValuesSource(j.Source.Schema, j.Source.Values, mem)
	}
	defer src.Close()
	sink := opts.Sink
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
	hasPython := false
	for _, st := range j.Steps {
		if st.Python != nil {
			hasPython = true
		}
	}
	if hasPython {
		pool, err = pyexec.NewPool(ctx, pyexec.Config{
			Python: s.Python, Workers: s.Parallelism, PyFiles: s.PyFiles,
			BundleRows: s.BundleRows, BundleTime: s.BundleTime, InFlight: s.InFlight,
			MaxAttempts: s.MaxAttempts, Log: log,
			StartupTimeout: s.StartupTimeout, ProgressTimeout: s.ProgressTimeout,
		})
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
	// Source.
	ch := make(chan arrow.RecordBatch, channelDepth)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		for {
			b, err := src.Next(ctx)
			if err == io.EOF {
				return
			}
			if err != nil {
				fail(err)
				return
			}
			n := b.NumRows()
			select {
			case ch <- b:
				cnt.rows[0].Add(n)
			case <-ctx.Done():
				b.Release()
				return
			}
		}
	}()
	// Operators.
	// The rows through a channel are counted where a Go operator sends
	// them; the output of a Python stage where a Go operator receives it.
	var in <-chan arrow.RecordBatch = ch
	var inCount *atomic.Int64 // the count of in, when the receiver adds to it
	for i, st := range j.Steps {
		out := make(chan arrow.RecordBatch, channelDepth)
		outCount := &cnt.rows[i+1]
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
			// An aggregation or sort: its output is counted where it is
			// received, as a Python stage's.
			if inCount != nil {
				in = relay(ctx, &wg, in, inCount)
			}
			wg.Add(1)
			go func(op plan.Operator, in <-chan arrow.RecordBatch) {
				defer wg.Done()
				defer close(out)
				fail(op.Run(ctx, mem, in, out))
			}(st.Op, in)
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
				fail(pool.Run(ctx, stage, mem, in, out))
			}(st.Python, in)
			inCount = outCount
		}
		in = out
	}
	// Sink.
	var rows int64
	for b := range in {
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
