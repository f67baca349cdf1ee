package job

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/plan"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// eventSource gives rows (id, k, ts) with event times a little out of
// order, paced, deterministic: a checkpointed source of event time.
type eventSource struct {
	schema types.Schema
	next   int64
	total  int64
	jitter []int64
}

func newEventSource(schema types.Schema, total int64) *eventSource {
	r := rand.New(rand.NewPCG(1, 2))
	j := make([]int64, total)
	for i := range j {
		j[i] = int64(r.IntN(40))
	}
	return &eventSource{schema: schema, total: total, jitter: j}
}

func (s *eventSource) Schema() types.Schema { return s.schema }
func (s *eventSource) Close() error         { return nil }

func (s *eventSource) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.next >= s.total {
		return nil, io.EOF
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(5 * time.Millisecond):
	}
	n := min(100, s.total-s.next)
	mem := memory.DefaultAllocator
	ib, kb := array.NewInt64Builder(mem), array.NewInt32Builder(mem)
	tb := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Millisecond})
	for i := s.next; i < s.next+n; i++ {
		ib.Append(i)
		kb.Append(int32(i % 7))
		tb.Append(arrow.Timestamp(i*3 - s.jitter[i]))
	}
	s.next += n
	cols := []arrow.Array{ib.NewArray(), kb.NewArray(), tb.NewArray()}
	b := array.NewRecordBatch(s.schema.Arrow(), cols, n)
	for _, c := range cols {
		c.Release()
	}
	return b, nil
}

func (s *eventSource) Position() ([]byte, error) { return binary.AppendVarint(nil, s.next), nil }

func (s *eventSource) Seek(pos []byte) error {
	n, k := binary.Varint(pos)
	if k <= 0 {
		return errors.New("bad position")
	}
	s.next = n
	return nil
}

// rowSink keeps the rows it is given, printed.
type rowSink struct {
	mu   sync.Mutex
	rows []string
}

func (s *rowSink) Write(_ context.Context, b arrow.RecordBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for r := 0; r < int(b.NumRows()); r++ {
		var f []string
		for c := 0; c < int(b.NumCols()); c++ {
			f = append(f, fmt.Sprint(exec.ValueAt(b.Column(c), r)))
		}
		s.rows = append(s.rows, strings.Join(f, ", "))
	}
	return nil
}
func (s *rowSink) Commit() error    { return nil }
func (s *rowSink) ConsumesChanges() {}
func (s *rowSink) Abort(error)      {}

// TestCheckpointWindowRestart: a streaming window aggregation (TUMBLE, HOP
// and SESSION, out-of-order event times, late rows) with a GROUP BY over its
// result, stopped at random moments and started again from its checkpoint
// directory until it finishes, gives every window's row, each with the
// values of an uninterrupted run (rows after the last checkpoint come
// again, identical: the sink here is at-least-once).
func TestCheckpointWindowRestart(t *testing.T) {
	for _, q := range []string{
		"SELECT window_start, window_end, k, COUNT(*) AS c, SUM(id) AS s FROM TABLE(TUMBLE(TABLE ev, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY window_start, window_end, k",
		"SELECT window_start, window_end, k, COUNT(*) AS c, MAX(id) AS s FROM TABLE(HOP(TABLE ev, DESCRIPTOR(ts), INTERVAL '0.5' SECOND, INTERVAL '2' SECOND)) GROUP BY window_start, window_end, k",
		"SELECT window_start, window_end, k, COUNT(*) AS c, SUM(id) AS s FROM TABLE(SESSION(TABLE ev PARTITION BY k, DESCRIPTOR(ts), INTERVAL '0.02' SECOND)) GROUP BY window_start, window_end, k",
	} {
		script := `CREATE TABLE ev (id BIGINT, k INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '0.02' SECOND) WITH ('connector' = 'datagen');
CREATE TABLE out (ws TIMESTAMP(3), we TIMESTAMP(3), k INT, c BIGINT, s BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out ` + q + ";"
		stmts, err := sql.Parse(script)
		if err != nil {
			t.Fatal(err)
		}
		settings := map[string]string{"execution.runtime-mode": "streaming"}
		prog, err := (&plan.Planner{Settings: settings}).Plan(stmts)
		if err != nil {
			t.Fatal(err)
		}
		const total = 6000
		run := func(ctx context.Context, settings map[string]string) ([]string, error) {
			// The plan is planned again per run, as a new engine does.
			prog, err := (&plan.Planner{Settings: settings}).Plan(stmts)
			if err != nil {
				t.Fatal(err)
			}
			j := prog.Jobs[0]
			sink := &rowSink{}
			_, err = Run(ctx, j, settings, Options{Sink: sink, Log: slog.New(slog.DiscardHandler),
				OpenSource: func(tb *plan.Table) (exec.Source, bool) {
					return newEventSource(j.Source.Schema, total), true
				}})
			return sink.rows, err
		}
		want, err := run(context.Background(), prog.Settings)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		ck := map[string]string{"execution.runtime-mode": "streaming", "execution.checkpointing.interval": "30 ms", "execution.checkpointing.dir": dir}
		r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
		var got []string
		stops := 0
		for attempt := 0; ; attempt++ {
			ctx, cancel := context.WithCancel(context.Background())
			if attempt < 4 {
				time.AfterFunc(time.Duration(60+r.IntN(300))*time.Millisecond, cancel)
			}
			rows, err := run(ctx, ck)
			cancel()
			got = append(got, rows...)
			if err == nil {
				break
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			stops++
			if ids, _ := store(dir); len(ids) == 0 {
				t.Logf("stopped before the first checkpoint")
			}
		}
		// Each window's row once, with the uninterrupted run's values.
		seen := map[string]bool{}
		var uniq []string
		for _, row := range got {
			if !seen[row] {
				seen[row] = true
				uniq = append(uniq, row)
			}
		}
		sort.Strings(uniq)
		sort.Strings(want)
		if strings.Join(uniq, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s\nafter %d stops: %d distinct rows, want %d (first differences: %s)", q, stops, len(uniq), len(want), firstDiff(uniq, want))
		}
		t.Logf("%d stops", stops)
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("the finished job left %d entries", len(ents))
		}
		_ = checkpoint.MetadataFile
	}
}

func firstDiff(a, b []string) string {
	for i := 0; i < min(len(a), len(b)); i++ {
		if a[i] != b[i] {
			return fmt.Sprintf("row %d: %q vs %q", i, a[i], b[i])
		}
	}
	return "one is a prefix of the other"
}

// TestCheckpointRefusals: an interval without a directory, another job's
// checkpoints, a recovery path that is not a checkpoint, and operators that
// cannot take part are refused with what to do; a recovery path resumes.
func TestCheckpointRefusals(t *testing.T) {
	plan1 := func(q string, settings map[string]string) *plan.Job {
		stmts, err := sql.Parse(`CREATE TABLE ev (id BIGINT, k INT, ts TIMESTAMP(3)) WITH ('connector' = 'datagen', 'number-of-rows' = '3000');
CREATE TABLE out (k INT, c BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out ` + q + ";")
		if err != nil {
			t.Fatal(err)
		}
		prog, err := (&plan.Planner{Settings: settings}).Plan(stmts)
		if err != nil {
			t.Fatal(err)
		}
		return prog.Jobs[0]
	}
	run := func(ctx context.Context, q string, settings map[string]string) ([]string, error) {
		j := plan1(q, settings)
		sink := &rowSink{}
		_, err := Run(ctx, j, settings, Options{Sink: sink, Log: slog.New(slog.DiscardHandler),
			OpenSource: func(*plan.Table) (exec.Source, bool) { return newEventSource(j.Source.Schema, 3000), true }})
		return sink.rows, err
	}
	dir := t.TempDir()
	st := func(kv ...string) map[string]string {
		m := map[string]string{"execution.runtime-mode": "streaming"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	q1 := "SELECT k, COUNT(*) FROM ev GROUP BY k"
	q2 := "SELECT k, SUM(id) FROM ev GROUP BY k"
	mustFail := func(err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one saying %q", err, want)
		}
	}
	_, err := run(context.Background(), q1, st("execution.checkpointing.interval", "1 s"))
	mustFail(err, "set execution.checkpointing.dir")
	_, err = run(context.Background(), "SELECT k, c FROM (SELECT k, COUNT(*) AS c FROM ev GROUP BY k) ORDER BY c LIMIT 2", st("execution.checkpointing.interval", "1 s", "execution.checkpointing.dir", dir))
	mustFail(err, "does not take part in checkpoints yet; unset execution.checkpointing.interval")
	// A run stopped after its first checkpoint.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			if ids, _ := filepath.Glob(filepath.Join(dir, "chk-*", "_metadata")); len(ids) > 0 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	ckOpts := st("execution.checkpointing.interval", "20 ms", "execution.checkpointing.dir", "file://"+dir)
	if _, err := run(ctx, q1, ckOpts); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped run: %v", err)
	}
	_, err = run(context.Background(), q2, ckOpts)
	mustFail(err, "was written by another job")
	_, err = run(context.Background(), q1, st("execution.state-recovery.path", dir))
	mustFail(err, "name a complete checkpoint directory")
	// Resume explicitly, without taking checkpoints.
	ids, _ := store(dir)
	sort.Strings(ids)
	if len(ids) == 0 {
		ents, _ := os.ReadDir(dir)
		t.Fatalf("no checkpoint left: %v", ents)
	}
	rows, err := run(context.Background(), q1, st("execution.state-recovery.path", ids[len(ids)-1]))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("the resumed run sent nothing")
	}
	// Counts continue from the checkpoint: each key's last count is that
	// of the whole input (3000 rows, k = id % 7).
	last := map[string]string{}
	for _, r := range rows {
		f := strings.Split(r, ", ") // k, count, row kind
		last[f[0]] = f[1]
	}
	for k, c := range last {
		n := 3000 / 7
		if kk := k[0] - '0'; int(kk) < 3000%7 {
			n++
		}
		if c != fmt.Sprint(n) {
			t.Errorf("key %s: last count %s, want %d", k, c, n)
		}
	}
}

// store lists the complete checkpoints of dir, oldest first.
func store(dir string) ([]string, error) {
	s, err := checkpoint.OpenStore(dir)
	if err != nil {
		return nil, err
	}
	ids, err := s.Complete()
	var out []string
	for _, id := range ids {
		out = append(out, s.Path(id))
	}
	return out, err
}

// TestFingerprint: a job's fingerprint is the same when planned again and
// when only what a restart may change differs (pacing, where to start,
// client properties), and differs for another query or another table.
func TestFingerprint(t *testing.T) {
	fp := func(opts, q string) string {
		stmts, err := sql.Parse(`CREATE TABLE ev (id BIGINT, k INT) WITH ('connector' = 'datagen'` + opts + `);
CREATE TABLE out (k INT, c BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out ` + q + ";")
		if err != nil {
			t.Fatal(err)
		}
		prog, err := (&plan.Planner{Settings: map[string]string{"execution.runtime-mode": "streaming"}}).Plan(stmts)
		if err != nil {
			t.Fatal(err)
		}
		return fingerprint(prog.Jobs[0])
	}
	q := "SELECT k, COUNT(*) FROM ev GROUP BY k"
	base := fp("", q)
	if fp("", q) != base || fp(", 'rows-per-second' = '10'", q) != base {
		t.Error("the same job has another fingerprint")
	}
	if fp(", 'number-of-rows' = '10'", q) == base || fp("", "SELECT k, SUM(id) FROM ev GROUP BY k") == base || fp(", 'fields.k.max' = '3'", q) == base {
		t.Error("another job has the same fingerprint")
	}
}

// txSink is a two-phase sink that records the calls it gets; Recover
// reports committed only the ids in committed.
type txSink struct {
	rowSink
	calls     []string
	committed map[int64]bool
}

func (s *txSink) PreCommit(_ context.Context, id int64) ([]byte, error) {
	s.calls = append(s.calls, fmt.Sprintf("pre %d", id))
	return []byte(fmt.Sprintf("data %d", id)), nil
}

func (s *txSink) CommitCheckpoint(_ context.Context, id int64) error {
	s.calls = append(s.calls, fmt.Sprintf("commit %d", id))
	return nil
}

func (s *txSink) Recover(_ context.Context, id int64, data []byte) (bool, error) {
	s.calls = append(s.calls, fmt.Sprintf("recover %d %s", id, data))
	return s.committed[id], nil
}

// TestCheckpointResumeUncommitted: a sink pre-commits and commits each
// checkpoint in order; at a restart whose newest checkpoint's output the
// sink never committed, that checkpoint is discarded and the job resumes
// from the one before, and new ids follow the discarded one.
func TestCheckpointResumeUncommitted(t *testing.T) {
	stmts, err := sql.Parse(`CREATE TABLE ev (id BIGINT, k INT, ts TIMESTAMP(3)) WITH ('connector' = 'datagen');
CREATE TABLE out (k INT, c BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out SELECT k, COUNT(*) FROM ev GROUP BY k;`)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	settings := map[string]string{"execution.runtime-mode": "streaming", "execution.checkpointing.interval": "20 ms", "execution.checkpointing.dir": dir}
	run := func(ctx context.Context, sink *txSink) error {
		prog, err := (&plan.Planner{Settings: settings}).Plan(stmts)
		if err != nil {
			t.Fatal(err)
		}
		j := prog.Jobs[0]
		_, err = Run(ctx, j, settings, Options{Sink: sink, Log: slog.New(slog.DiscardHandler),
			OpenSource: func(*plan.Table) (exec.Source, bool) { return newEventSource(j.Source.Schema, 100000), true }})
		return err
	}
	first := &txSink{}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			if ids, _ := store(dir); len(ids) >= 3 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	if err := run(ctx, first); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	// pre n, commit n, pre n+1, commit n+1, ... in order.
	for i, c := range first.calls {
		want := fmt.Sprintf("pre %d", i/2+1)
		if i%2 == 1 {
			want = fmt.Sprintf("commit %d", i/2+1)
		}
		if c != want && !(i == len(first.calls)-1 && strings.HasPrefix(c, "pre")) {
			t.Fatalf("call %d is %q, want %q (calls %v)", i, c, want, first.calls)
		}
	}
	ids, _ := store(dir)
	newest, before := filepath.Base(ids[len(ids)-1]), filepath.Base(ids[len(ids)-2])
	var n, m int64
	fmt.Sscanf(newest, "chk-%d", &n)
	fmt.Sscanf(before, "chk-%d", &m)
	// The newest's output was lost (as a Kafka transaction a crash aborts).
	second := &txSink{committed: map[int64]bool{m: true}}
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		for {
			if newestID(dir) > n {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	if err := run(ctx, second); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if len(second.calls) < 2 || second.calls[0] != fmt.Sprintf("recover %d data %d", n, n) || second.calls[1] != fmt.Sprintf("recover %d data %d", m, m) {
		t.Fatalf("calls at restart %v, want recover %d then %d", second.calls, n, m)
	}
	if _, err := os.Stat(filepath.Join(dir, newest+".discarded")); err != nil {
		t.Errorf("%s not discarded: %v", newest, err)
	}
	if len(second.calls) > 2 && second.calls[2] != fmt.Sprintf("pre %d", n+1) {
		t.Errorf("the first checkpoint after the restart is %q, want pre %d", second.calls[2], n+1)
	}
}

// newestID is the id of dir's newest complete checkpoint, 0 if none.
func newestID(dir string) int64 {
	s, err := checkpoint.OpenStore(dir)
	if err != nil {
		return 0
	}
	ids, _ := s.Complete()
	if len(ids) == 0 {
		return 0
	}
	return ids[len(ids)-1]
}
