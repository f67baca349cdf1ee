package pyexec

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// exited reports whether every worker process of p has ended.
func exited(t *testing.T, p *Pool) bool {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.slots {
		if s.p == nil {
			continue
		}
		select {
		case <-s.p.Done():
		case <-time.After(5 * time.Second):
			return false
		}
	}
	return true
}

// TestEarlyPool: a job whose configuration is the early pool's takes it,
// with its workers already connected, and only once; a job of another
// configuration gets nothing and the early workers are stopped; an early
// pool no job takes is stopped by Close.
func TestEarlyPool(t *testing.T) {
	cfg := testConfig(t, 2, 2, "")
	e := StartEarly(context.Background(), cfg)
	job := cfg
	job.Vectorized = true // known only once the job is planned
	p, err := e.Take(job)
	if err != nil || p == nil {
		t.Fatalf("Take of the same configuration: %v, %v", p, err)
	}
	t.Cleanup(p.Close)
	for _, s := range p.slots {
		select {
		case <-s.w.Connected():
		default:
			t.Fatalf("worker %d of the taken pool is not connected", s.index)
		}
	}
	if again, err := e.Take(job); again != nil || err != nil {
		t.Fatalf("second Take: %v, %v", again, err)
	}
	e.Close() // taken: the job closes it
	if p.closed {
		t.Fatal("Close of a taken early pool closed it")
	}

	e = StartEarly(context.Background(), cfg)
	other := cfg
	other.Workers = 1
	if p, err := e.Take(other); p != nil || err != nil {
		t.Fatalf("Take of another configuration: %v, %v", p, err)
	}
	// The start was ended (no pool), or the pool closed.
	<-e.done
	if e.pool != nil && (!e.pool.closed || !exited(t, e.pool)) {
		t.Fatal("the early workers of another configuration were not stopped")
	}

	e = StartEarly(context.Background(), cfg)
	e.Close()
	if e.pool != nil && (!e.pool.closed || !exited(t, e.pool)) {
		t.Fatal("Close did not stop the early workers no job took")
	}
}

// TestEarlyPoolStartError: a job of the early pool's configuration gets the
// error of its start (a worker that cannot start), not a second try.
func TestEarlyPoolStartError(t *testing.T) {
	cfg := testConfig(t, 1, 2, "")
	cfg.Python = "/nonexistent/python3"
	e := StartEarly(context.Background(), cfg)
	if p, err := e.Take(cfg); p != nil || err == nil {
		t.Fatalf("Take: %v, %v; want the start's error", p, err)
	}
	e.Close()
}

// TestEarlyPoolCloseDoesNotWaitForAStart: Close of an early pool whose
// worker never connects (an interpreter that hangs) ends the start at
// once instead of waiting for python.worker.startup-timeout.
func TestEarlyPoolCloseDoesNotWaitForAStart(t *testing.T) {
	hang := filepath.Join(t.TempDir(), "python")
	if err := os.WriteFile(hang, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, 1, 2, "")
	cfg.Python = hang
	cfg.StartupTimeout = time.Minute
	e := StartEarly(context.Background(), cfg)
	time.Sleep(100 * time.Millisecond) // the worker has started
	begin := time.Now()
	e.Close()
	if took := time.Since(begin); took > 30*time.Second {
		t.Fatalf("Close took %s: it waited for the start", took)
	}
	if e.pool != nil {
		t.Fatalf("a pool whose worker never connected: %v", e.pool)
	}
}
