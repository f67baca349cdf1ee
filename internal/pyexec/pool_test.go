package pyexec

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
	"github.com/weir-dev/weir/internal/weirpb"
)

// The pool's tests run real worker processes (the fake worker of
// fakeworker_test.go) against the real Fn API server, and check that every
// job's output is its input, each row once, in order, whatever dies when.

// testPool starts a pool of fake workers following script.
func testPool(t *testing.T, workers, inFlight int, script string, tweak ...func(*Config)) *Pool {
	t.Helper()
	p, err := NewPool(context.Background(), testConfig(t, workers, inFlight, script, tweak...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// testConfig is the configuration of a pool of fake workers following script.
func testConfig(t *testing.T, workers, inFlight int, script string, tweak ...func(*Config)) Config {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeWorkerEnv, "1")
	t.Setenv(fakeScriptEnv, script)
	t.Setenv(fakeOnceEnv, t.TempDir())
	cfg := Config{
		Python: exe, Workers: workers, InFlight: inFlight,
		BundleRows: 3 * testBatch, BundleTime: time.Second,
		MaxAttempts: 3, StartupTimeout: 20 * time.Second, ProgressTimeout: 20 * time.Second,
		StallTimeout: 5 * time.Second,
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if testing.Verbose() {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	for _, f := range tweak {
		f(&cfg)
	}
	return cfg
}

// testBatch is the rows per input batch of the tests' jobs.
const testBatch = 10

// identityStage calls ident(a) on one BIGINT column; the fake worker
// answers each batch with itself.
func identityStage(name string) *Stage {
	bigint := types.BIGINT.NotNull()
	return &Stage{
		Spec: &weirpb.Stage{
			Name:       name,
			InputTypes: []string{"BIGINT NOT NULL"},
			Functions:  []*weirpb.Function{{Name: "ident", Module: "m", Attr: "ident", ResultTypes: []string{"BIGINT NOT NULL"}}},
			Outputs: []*weirpb.Expr{{Kind: &weirpb.Expr_Call{Call: &weirpb.Call{Function: 0, Args: []*weirpb.Expr{
				{Kind: &weirpb.Expr_Column{Column: 0}}}}}}},
		},
		Inputs:     []int{0},
		InputTypes: []types.T{bigint},
		Results:    types.Schema{{Name: "r", Type: bigint}},
		Output:     types.Schema{{Name: "r", Type: bigint}},
	}
}

// feed sends rows [0, n) in batches of testBatch.
func feed(ctx context.Context, n int, in chan<- arrow.RecordBatch) {
	defer close(in)
	schema := types.Schema{{Name: "a", Type: types.BIGINT.NotNull()}}.Arrow()
	for lo := 0; lo < n; lo += testBatch {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		for i := lo; i < min(lo+testBatch, n); i++ {
			b.Append(int64(i))
		}
		col := b.NewArray()
		rec := array.NewRecordBatch(schema, []arrow.Array{col}, int64(col.Len()))
		col.Release()
		b.Release()
		select {
		case in <- rec:
		case <-ctx.Done():
			rec.Release()
			return
		}
	}
}

// runJob runs rows [0, n) through stages, chained, and returns the values
// that came out and the error. onRows is called with the count of rows out
// so far, after each batch.
func runJob(t *testing.T, p *Pool, n int, onRows func(int), stages ...*Stage) ([]int64, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := make(chan arrow.RecordBatch, 4)
	go feed(ctx, n, in)
	var src <-chan arrow.RecordBatch = in
	errs := make(chan error, len(stages))
	for _, s := range stages {
		out := make(chan arrow.RecordBatch, 4)
		go func(s *Stage, in <-chan arrow.RecordBatch) {
			defer close(out)
			err := p.Run(ctx, s, memory.DefaultAllocator, in, out)
			if err != nil {
				cancel()
				for b := range in {
					b.Release()
				}
			}
			errs <- err
		}(s, src)
		src = out
	}
	var got []int64
	for b := range src {
		got = append(got, b.Column(0).(*array.Int64).Int64Values()...)
		b.Release()
		if onRows != nil {
			onRows(len(got))
		}
	}
	var first error
	for range stages {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if ctx.Err() == context.DeadlineExceeded && first == nil {
		first = errors.New("the job did not end within 60 s")
	}
	return got, first
}

// checkRows fails unless got is exactly [0, n).
func checkRows(t *testing.T, got []int64, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("got %d rows, want %d", len(got), n)
	}
	for i, v := range got {
		if v != int64(i) {
			t.Fatalf("row %d = %d, want %d (lost, repeated or reordered)", i, v, i)
		}
	}
}

// checkTokens fails unless, once the job is over, every live worker has all
// its tokens back and nothing runs. Tokens come back within milliseconds;
// the deadline is generous for a loaded machine under -race.
func checkTokens(t *testing.T, p *Pool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p.mu.Lock()
		ok := p.running == 0 && len(p.waiting) == 0
		for _, s := range p.slots {
			if liveLocked(s) && (s.free != p.cfg.InFlight || s.running != 0) {
				ok = false
			}
		}
		state := p.stateLocked()
		p.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tokens not all back after the job:\n%s", state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPoolNoFaults(t *testing.T) {
	p := testPool(t, 2, 2, "")
	got, err := runJob(t, p, 2000, nil, identityStage("S"))
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, got, 2000)
	checkTokens(t, p)
	if r := p.Restarts(); r != 0 {
		t.Errorf("Restarts = %d, want 0", r)
	}
}

// Deterministic faults at each point of a worker's and a bundle's life.
func TestPoolScriptedDeaths(t *testing.T) {
	const rows = 600 // 20 bundles of 30 rows
	cases := []struct {
		name     string
		workers  int
		script   string
		restarts int
	}{
		{"killed before start-up completes", 1, "worker-0:start:kill", 1},
		{"killed mid-bundle", 1, "worker-0:bundle=3:kill", 1},
		{"exits mid-bundle", 2, "worker-1:bundle=2:exit", 1},
		// worker-0 dies in the bundle holding row 95; its replacement dies
		// on the same row while replaying it; the third process completes it.
		{"replacement killed during the replay", 1, "worker-0:value=95:kill,worker-0.2:value=95:kill", 2},
		{"replacement killed before start-up completes", 1, "worker-0:bundle=2:kill,worker-0.2:start:kill", 2},
		{"replacement killed twice before start-up completes", 1, "worker-0:bundle=2:kill,worker-0.2:start:kill,worker-0.3:start:kill", 3},
		// Whichever worker gets the last bundle dies; the others are idle
		// by then and one of them replays it.
		{"last worker dies while the others idle", 3, "*:value=599:killonce", 1},
		{"every worker dies in its second bundle", 3, "worker-0:bundle=2:kill,worker-1:bundle=2:kill,worker-2:bundle=2:kill", 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := testPool(t, tc.workers, 2, tc.script)
			got, err := runJob(t, p, rows, nil, identityStage("S"))
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, got, rows)
			checkTokens(t, p)
			if r := p.Restarts(); r < tc.restarts {
				t.Errorf("Restarts = %d, want >= %d", r, tc.restarts)
			}
		})
	}
}

// TestPoolKillAllAtOnce kills every worker at the same moment, twice, while
// all tokens are in use.
func TestPoolKillAllAtOnce(t *testing.T) {
	const rows = 3000
	// A replay can land on a worker killed in the same instant whose death
	// is not yet seen: three deaths of one bundle are possible here.
	p := testPool(t, 3, 2, "delay=2ms", func(c *Config) { c.MaxAttempts = 5 })
	kills := 0
	got, err := runJob(t, p, rows, func(n int) {
		if (kills == 0 && n >= rows/4) || (kills == 1 && n >= rows/2) {
			kills++
			for _, pid := range p.Pids() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}, identityStage("S"))
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, got, rows)
	checkTokens(t, p)
	if r := p.Restarts(); r < 6 {
		t.Errorf("Restarts = %d, want >= 6", r)
	}
}

// TestPoolSaturatedRandomKills is the case that used to deadlock: workers
// busy (all tokens in use, a CPU-bound function, an unthrottled source) and
// workers killed at random moments, with one and with two stages sharing
// the pool. Every run must end, with exact output, or fail naming the
// cause; none may hang.
func TestPoolSaturatedRandomKills(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for run := 0; run < 6; run++ {
		workers := 1 + run%3
		stages := []*Stage{identityStage("A")}
		if run%2 == 1 {
			stages = append(stages, identityStage("B"))
		}
		p := testPool(t, workers, 2, "delay=1ms", func(c *Config) { c.MaxAttempts = 100 })
		const rows = 3000
		var mu sync.Mutex
		next := 200 + rng.IntN(300)
		kills := 0
		got, err := runJob(t, p, rows, func(n int) {
			mu.Lock()
			defer mu.Unlock()
			if n >= next && kills < 5 {
				if pids := p.Pids(); len(pids) > 0 {
					_ = syscall.Kill(pids[rng.IntN(len(pids))], syscall.SIGKILL)
					kills++
				}
				next = n + 100 + rng.IntN(500)
			}
		}, stages...)
		if err != nil {
			t.Fatalf("run %d (%d workers, %d stages): %v", run, workers, len(stages), err)
		}
		checkRows(t, got, rows)
		checkTokens(t, p)
		t.Logf("run %d: %d workers, %d stages, survived %d kills", run, workers, len(stages), kills)
		p.Close()
	}
}

// TestPoolPoisonRow: a row that kills every worker fails the job after
// MaxAttempts tries, and the error names the function and the row.
func TestPoolPoisonRow(t *testing.T) {
	for _, action := range []string{"exit", "kill"} {
		t.Run(action, func(t *testing.T) {
			p := testPool(t, 2, 2, "*:value=457:"+action)
			_, err := runJob(t, p, 1000, nil, identityStage("PythonCalc[ident(a)]"))
			var ce *CrashError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want a *CrashError", err, err)
			}
			reason := map[string]string{"exit": "exit code 3", "kill": "killed by signal SIGKILL"}[action]
			for _, want := range []string{"PythonCalc[ident(a)]", "function ident", "failed 3 times", reason,
				"The input row that kills the worker (it did so again when run alone): row ", "input: (457)", "ident(457)", "fake worker: value=457: " + action} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%s", want, err)
				}
			}
		})
	}
}

// TestPoolRetryLimit: a worker that dies on every try of every bundle, but
// not when rows run alone, fails after MaxAttempts tries with no row named.
func TestPoolRetryLimit(t *testing.T) {
	script := "worker-0:bundle=1:exit,worker-0.2:bundle=1:exit,worker-0.3:bundle=1:exit"
	p := testPool(t, 1, 2, script)
	_, err := runJob(t, p, 100, nil, identityStage("S"))
	if err == nil || !strings.Contains(err.Error(), "failed 3 times") || !strings.Contains(err.Error(), "Run alone, no") {
		t.Fatalf("error = %v", err)
	}
}

// TestPoolWatchdog: bundles that wait for a worker while nothing runs fail
// the job with the pool's state. Tokens that are never given back (a bug the
// design rules out) stand in for any such stall.
func TestPoolWatchdog(t *testing.T) {
	p := testPool(t, 2, 2, "", func(c *Config) { c.StallTimeout = 300 * time.Millisecond })
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		if _, err := p.acquire(ctx, "leak"); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	_, err := runJob(t, p, 100, nil, identityStage("S"))
	if err == nil {
		t.Fatal("the job succeeded without tokens")
	}
	// The watchdog fires after StallTimeout (300 ms); the bound is far
	// above it for a loaded machine, and far below the 20 s progress
	// timeout and the job's 60 s.
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the watchdog took %s", d)
	}
	for _, want := range []string{"made no progress", "generation 1", "0 of 2 tokens free", "S: a new bundle, waiting for a worker token"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
}

// TestPoolNoWorkerLeft: when a worker cannot be replaced, waiting bundles
// fail with the reason instead of waiting.
func TestPoolNoWorkerLeft(t *testing.T) {
	script := "worker-0:bundle=2:kill,worker-0.2:start:exit"
	p := testPool(t, 1, 2, script)
	_, err := runJob(t, p, 600, nil, identityStage("S"))
	if err == nil || !strings.Contains(err.Error(), "cannot replace Python worker 0") {
		t.Fatalf("error = %v, want the replacement's failure", err)
	}
}

func TestLastLines(t *testing.T) {
	if got := firstLine("a\nb"); got != "a" {
		t.Errorf("firstLine = %q", got)
	}
	for _, tc := range []struct {
		line, level, msg string
		ok               bool
	}{
		{"INFO:apache_beam.runners.worker.sdk_worker:Control channel established.", "INFO", "Control channel established.", true},
		{"WARNING:root:apitools not found", "WARNING", "apitools not found", true},
		{"Traceback (most recent call last):", "", "", false},
		{"Fatal Python error: Segmentation fault", "", "", false},
	} {
		level, msg, ok := pythonLogLine(tc.line)
		if level != tc.level || msg != tc.msg || ok != tc.ok {
			t.Errorf("pythonLogLine(%q) = %q, %q, %v; want %q, %q, %v", tc.line, level, msg, ok, tc.level, tc.msg, tc.ok)
		}
	}
}
