package job

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/plan"
	"github.com/weir-dev/weir/internal/pyexec"
)

// checkpoints is a job's part in checkpointing: its coordinator, its
// sources and stateful operators in the plan's order, and its sink.
type checkpoints struct {
	coord   *checkpoint.Coordinator
	sources map[exec.Source]int
	sink    checkpoint.Sink // nil: at-least-once
	// resumedID is the checkpoint the job resumed from (0: none); new
	// ids follow it.
	resumedID int64
}

// taking reports whether the job takes checkpoints: c is nil when it takes
// none, and a job resumed without an interval restores but takes none.
func (c *checkpoints) taking() bool { return c != nil && c.coord != nil }

// fingerprint identifies a job by its plan: a checkpoint resumes only the
// job that wrote it.
//
// The tables' options count too (another topic or path is another job),
// but not those a restart may change without changing what the job
// reads: the clients' properties (brokers move), where a source starts
// (a checkpoint's positions win) and pacing.
func fingerprint(j *plan.Job) string {
	h := sha256.New()
	fmt.Fprintf(h, "weir job v1\n%s\nsink %s\n", j.Explain(), sinkName(j))
	tables := []*plan.Table{j.Sink, j.Source.Table}
	var walk func([]plan.Step)
	walk = func(steps []plan.Step) {
		for _, st := range steps {
			if jo, ok := st.Op.(plan.TwoInput); ok {
				tables = append(tables, jo.Second().Source.Table)
				walk(jo.Second().Steps)
			}
		}
	}
	walk(j.Steps)
	for _, t := range tables {
		if t == nil {
			fmt.Fprintf(h, "values\n")
			continue
		}
		keys := make([]string, 0, len(t.Options))
		for k := range t.Options {
			if strings.HasPrefix(k, "properties.") || strings.HasPrefix(k, "scan.startup.") || k == "rows-per-second" {
				continue
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(h, "table %q\n", t.Name)
		for _, k := range keys {
			fmt.Fprintf(h, "%q=%q\n", k, t.Options[k])
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

func sinkName(j *plan.Job) string {
	if j.Sink == nil {
		return ""
	}
	return j.Sink.Name
}

// stateOps walks the job's operators in the plan's order (the second input
// of a join after its first), calling f with each and the value that saves
// its state (the operator itself, or the streaming join inside a join step).
func stateOps(steps []plan.Step, f func(op plan.Operator, key any) error) error {
	for _, st := range steps {
		if st.Python != nil {
			// A keyed Python stage, with state in the engine
			// (checkpoint.Snapshotter), saves it when its run is cut at a
			// barrier (runPython).
			if _, ok := any(st.Python).(checkpoint.Snapshotter); ok && st.Python.Keyed != nil {
				if err := f(pythonOp{st.Python}, st.Python); err != nil {
					return err
				}
			}
			continue
		}
		if st.Op == nil {
			continue
		}
		key := any(st.Op)
		if sj, ok := st.Op.(*plan.StreamJoinOp); ok {
			key = sj.Join
		}
		if err := f(st.Op, key); err != nil {
			return err
		}
		if jo, ok := st.Op.(plan.TwoInput); ok {
			if err := stateOps(jo.Second().Steps, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// keyedStages refuses a keyed Python stage (Python aggregate functions,
// state in the engine) that cannot save its state: its run is cut at
// every barrier, which would start its state over.
func keyedStages(steps []plan.Step, where string) error {
	for _, st := range steps {
		if st.Python != nil && st.Python.Keyed != nil {
			if _, ok := any(st.Python).(checkpoint.Snapshotter); !ok {
				return fmt.Errorf("%s: the Python aggregate functions of stage %s do not take part in checkpoints yet; unset %s to run the job without checkpoints", where, st.Python.Spec.GetName(), where)
			}
		}
		if jo, ok := st.Op.(plan.TwoInput); ok {
			if err := keyedStages(jo.Second().Steps, where); err != nil {
				return err
			}
		}
	}
	return nil
}

// pythonOp names a Python stage in messages.
type pythonOp struct{ s *pyexec.Stage }

func (p pythonOp) Run(context.Context, memory.Allocator, <-chan arrow.RecordBatch, chan<- arrow.RecordBatch) error {
	return fmt.Errorf("job: not an operator")
}

func (p pythonOp) String() string { return "Python stage " + p.s.Spec.GetName() }

// sourceOrder lists the job's sources: its own, then those of the second
// inputs of its joins in the plan's order.
func sourceOrder(src exec.Source, steps []plan.Step, builds map[plan.TwoInput]exec.Source) []exec.Source {
	out := []exec.Source{src}
	var walk func([]plan.Step)
	walk = func(steps []plan.Step) {
		for _, st := range steps {
			if jo, ok := st.Op.(plan.TwoInput); ok {
				out = append(out, builds[jo])
				walk(jo.Second().Steps)
			}
		}
	}
	walk(steps)
	return out
}

// setupCheckpoints prepares a streaming job's checkpoints when
// execution.checkpointing.interval is set (or a checkpoint to resume from
// is named): it refuses a job with a source or operator that cannot take
// part, resumes the job from its latest checkpoint, and returns the
// coordinator's part. It returns nil when the job takes no checkpoints.
func setupCheckpoints(ctx context.Context, j *plan.Job, s Settings, log *slog.Logger, srcs []exec.Source, sink exec.Sink) (*checkpoints, error) {
	if !j.Streaming || (s.CheckpointInterval <= 0 && s.RecoveryPath == "") {
		return nil, nil
	}
	where := "execution.checkpointing.interval"
	if s.CheckpointInterval <= 0 {
		where = "execution.state-recovery.path"
	}
	for i, src := range srcs {
		if _, ok := src.(checkpoint.Source); !ok {
			return nil, fmt.Errorf("%s: source %d of the job (%T) cannot resume from a checkpoint; unset %s to run it without checkpoints", where, i+1, src, where)
		}
	}
	if err := keyedStages(j.Steps, where); err != nil {
		return nil, err
	}
	err := stateOps(j.Steps, func(op plan.Operator, key any) error {
		if _, ok := key.(checkpoint.Operator); !ok {
			return fmt.Errorf("%s: the job's operator %s does not take part in checkpoints yet; unset %s to run it without checkpoints", where, op, where)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.CheckpointInterval > 0 && s.CheckpointDir == "" {
		return nil, fmt.Errorf("execution.checkpointing.interval is set but no directory for the checkpoints is: set execution.checkpointing.dir (e.g. -D execution.checkpointing.dir=file:///var/lib/weir/checkpoints)")
	}
	ck := &checkpoints{sources: map[exec.Source]int{}}
	if cs, ok := sink.(checkpoint.Sink); ok {
		ck.sink = cs
	}
	fp := fingerprint(j)
	var store *checkpoint.Store
	if s.CheckpointDir != "" {
		if store, err = checkpoint.OpenStore(s.CheckpointDir); err != nil {
			return nil, fmt.Errorf("execution.checkpointing.dir: %w", err)
		}
	}
	if err := ck.resume(ctx, j, s, log, store, fp, srcs); err != nil {
		return nil, err
	}
	if s.CheckpointInterval <= 0 || store == nil {
		return ck, nil
	}
	text := j.SQL
	if text == "" {
		text = fmt.Sprintf("INSERT INTO %s: %s", sinkName(j), strings.SplitN(j.Explain(), "\n", 2)[0])
	}
	ck.coord, err = checkpoint.NewCoordinator(store, fp, text, s.CheckpointInterval, log)
	if err != nil {
		return nil, err
	}
	ck.coord.IDsAfter(ck.resumedID)
	for _, src := range srcs {
		i, _ := ck.coord.AddSource()
		ck.sources[src] = i
		// The first Position tells a source that the job takes
		// checkpoints (an idle source then returns batches of no rows).
		if _, err := position(src); err != nil {
			return nil, err
		}
	}
	stateOps(j.Steps, func(_ plan.Operator, key any) error {
		ck.coord.AddOperator(key)
		return nil
	})
	return ck, nil
}

// resume restores the job from the checkpoint execution.state-recovery.path
// names, else from the newest in the store whose sink output is committed.
func (ck *checkpoints) resume(ctx context.Context, j *plan.Job, s Settings, log *slog.Logger, store *checkpoint.Store, fp string, srcs []exec.Source) error {
	var dir string
	var meta *checkpoint.Metadata
	if s.RecoveryPath != "" {
		dir = trimFileURI(s.RecoveryPath)
		m, err := checkpoint.LoadMetadata(dir)
		if err != nil {
			return fmt.Errorf("execution.state-recovery.path: %w; name a complete checkpoint directory (.../chk-<id>, with a %s file)", err, checkpoint.MetadataFile)
		}
		if err := sameJob(m, fp, dir); err != nil {
			return err
		}
		if ck.sink != nil {
			committed, err := ck.sink.Recover(ctx, m.ID, m.Sink)
			if err != nil {
				return fmt.Errorf("resuming from %s: sink: %w", dir, err)
			}
			if !committed {
				return fmt.Errorf("execution.state-recovery.path: the sink's output of checkpoint %s was never committed (the engine died between writing it and committing), so resuming from it would lose rows; name the checkpoint before it (chk-<id> with a smaller id)", dir)
			}
		}
		meta = m
	} else if store != nil {
		ids, err := store.Complete()
		if err != nil {
			return err
		}
		for len(ids) > 0 {
			id := ids[len(ids)-1]
			m, err := store.Load(id)
			if err != nil {
				return err
			}
			if err := sameJob(m, fp, store.Path(id)); err != nil {
				return err
			}
			committed := true
			if ck.sink != nil {
				if committed, err = ck.sink.Recover(ctx, id, m.Sink); err != nil {
					return fmt.Errorf("resuming from %s: sink: %w", store.Path(id), err)
				}
			}
			if committed {
				dir, meta = store.Path(id), m
				break
			}
			log.Info("checkpoint's sink output was not committed; resuming from the one before", "checkpoint", store.Path(id))
			if err := store.Discard(id); err != nil {
				return err
			}
			ids = ids[:len(ids)-1]
		}
	}
	if meta == nil {
		return nil
	}
	ck.resumedID = meta.ID
	if len(meta.Sources) != len(srcs) {
		return fmt.Errorf("checkpoint %s has %d source positions, the job has %d sources", dir, len(meta.Sources), len(srcs))
	}
	for i, src := range srcs {
		if err := src.(checkpoint.Source).Seek(meta.Sources[i]); err != nil {
			return fmt.Errorf("resuming from %s: source %d: %w", dir, i+1, err)
		}
	}
	saved := map[string]bool{}
	for _, name := range meta.Operators {
		saved[name] = true
	}
	n := 0
	err := stateOps(j.Steps, func(op plan.Operator, key any) error {
		name := fmt.Sprintf("op-%d", n)
		n++
		if !saved[name] {
			return nil
		}
		delete(saved, name)
		f, err := checkpoint.OpenFile(dir, name)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := key.(checkpoint.Operator).Restore(f); err != nil {
			return fmt.Errorf("resuming from %s: %s (%s): %w", dir, name, op, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(saved) > 0 {
		return fmt.Errorf("checkpoint %s holds the state of operators the job does not have", dir)
	}
	log.Warn("resuming from checkpoint", "checkpoint", dir, "taken", meta.Time.Format(time.RFC3339))
	return nil
}

// sameJob refuses a checkpoint written by another job.
func sameJob(m *checkpoint.Metadata, fp, dir string) error {
	if m.Job == fp {
		return nil
	}
	what := ""
	if m.JobText != "" {
		what = fmt.Sprintf(" (%s)", clipText(m.JobText, 120))
	}
	return fmt.Errorf("checkpoint %s was written by another job%s: its plan differs from this job's; give this job a checkpoint directory of its own (execution.checkpointing.dir), or remove %s to start that directory over",
		dir, what, filepath.Join(filepath.Dir(dir), "chk-*"))
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func trimFileURI(p string) string {
	if len(p) > 7 && p[:7] == "file://" {
		return p[7:]
	}
	return p
}

// atSink handles checkpoint b's barrier at the sink: pre-commit, write
// the checkpoint, commit.
func (ck *checkpoints) atSink(ctx context.Context, b *checkpoint.Barrier) error {
	var data []byte
	var err error
	if ck.sink != nil {
		if data, err = ck.sink.PreCommit(ctx, b.ID); err != nil {
			return fmt.Errorf("checkpoint %d: sink pre-commit: %w", b.ID, err)
		}
	}
	written, err := ck.coord.Complete(b, data)
	if err != nil {
		return fmt.Errorf("checkpoint %d: %w", b.ID, err)
	}
	if written && ck.sink != nil {
		if err := ck.sink.CommitCheckpoint(ctx, b.ID); err != nil {
			return fmt.Errorf("checkpoint %d: sink commit: %w", b.ID, err)
		}
	}
	return nil
}

// position is src's position, for a barrier or at its end.
func position(src exec.Source) ([]byte, error) {
	pos, err := src.(checkpoint.Source).Position()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: source position: %w", err)
	}
	return pos, nil
}

// runPython runs a Python stage. In a job that takes checkpoints its input
// is cut at each barrier: the stage's run over the batches before it ends
// (its bundles finish and their results are sent), the stage's state is
// saved if it keeps any (checkpoint.Snapshotter), then the barrier is
// sent, and a new run takes the batches after it (Pool.Run is called once
// per checkpoint: a stage keeps its state across runs). So a checkpoint never
// holds rows inside a Python worker (Flink finishes its bundles on a
// checkpoint too).
func runPython(ctx context.Context, pool *pyexec.Pool, s *pyexec.Stage, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch, checkpointing bool) error {
	if !checkpointing {
		return pool.Run(ctx, s, mem, in, out)
	}
	s.KeepEstimates()
	for {
		part := make(chan arrow.RecordBatch)
		done := make(chan struct{})
		var err error
		go func() {
			defer close(done)
			err = pool.Run(ctx, s, mem, part, out)
		}()
		var br *checkpoint.Barrier
	feed:
		for b := range in {
			if br = checkpoint.IsBarrier(b); br != nil {
				break
			}
			select {
			case part <- b:
			case <-done:
				b.Release()
				break feed
			}
		}
		close(part)
		<-done
		if err != nil {
			drain(in)
			return err
		}
		if br == nil {
			drain(in)
			return nil
		}
		if sn, ok := any(s).(checkpoint.Snapshotter); ok && s.Keyed != nil {
			if err := br.Save(s, sn.Snapshot); err != nil {
				drain(in)
				return err
			}
		}
		select {
		case out <- br:
		case <-ctx.Done():
			drain(in)
			return nil
		}
	}
}

func drain(in <-chan arrow.RecordBatch) {
	for b := range in {
		b.Release()
	}
}
