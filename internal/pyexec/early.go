package pyexec

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"time"
)

// Early is a pool started before its job is planned, so that the workers
// import Python while the engine describes the functions and opens the
// job's sources (the describe process alone is ~40 ms, a worker's start-up
// a few hundred). The job takes it if its configuration is the one the
// pool was started with; otherwise, and when no job takes it, Close stops
// its workers.
type Early struct {
	cfg     Config
	started time.Time
	cancel  context.CancelFunc // ends a start no job waits for
	done    chan struct{}
	pool    *Pool
	err     error

	mu    sync.Mutex
	taken bool
}

// StartEarly starts a pool with cfg in the background.
func StartEarly(ctx context.Context, cfg Config) *Early {
	e := &Early{cfg: cfg, started: time.Now(), done: make(chan struct{})}
	// The context serves the workers' start only (NewPool returns when they
	// have connected; later restarts do not use it).
	ctx, e.cancel = context.WithCancel(ctx)
	go func() {
		defer close(e.done)
		e.pool, e.err = NewPool(ctx, cfg)
	}()
	return e
}

// Take returns the pool, once it has started, if cfg is the configuration
// it was started with (Vectorized aside: the job's arena is then made
// now), with the error of its start if it failed. It returns nil, nil when
// the configurations differ (the pool is closed) or when it was taken
// before. The caller closes a pool it gets.
func (e *Early) Take(cfg Config) (*Pool, error) {
	if !e.claim() {
		return nil, nil
	}
	if !sameStart(e.cfg, cfg) {
		e.stop()
		return nil, nil
	}
	<-e.done
	e.cancel()
	if e.err != nil {
		return nil, e.err
	}
	if cfg.Vectorized && !e.cfg.Vectorized {
		go e.pool.arenaFor() // shmstage.go
	}
	return e.pool, nil
}

// Started is when the pool's workers were started: a job that takes it
// counts its time from then.
func (e *Early) Started() time.Time { return e.started }

// Close stops the pool's workers unless a job took it.
func (e *Early) Close() {
	if e.claim() {
		e.stop()
	}
}

// claim reports whether this call is the first of Take and Close: the one
// that decides what becomes of the pool.
func (e *Early) claim() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	first := !e.taken
	e.taken = true
	return first
}

// stop ends the start, if it is still under way (a worker that does not
// connect is not waited for), and closes the pool.
func (e *Early) stop() {
	e.cancel()
	<-e.done
	if e.pool != nil {
		e.pool.Close()
	}
}

// sameStart reports whether pools of configurations a and b are the same
// (whether the job may be vectorized aside).
func sameStart(a, b Config) bool {
	if !slices.Equal(a.PyFiles, b.PyFiles) {
		return false
	}
	a.PyFiles, b.PyFiles = nil, nil
	a.Vectorized, b.Vectorized = false, false
	return reflect.DeepEqual(a, b)
}
