package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/connector"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/job"
	"github.com/weir-dev/weir/internal/sql"
)

// ExecuteStatementSet runs several INSERTs as one job, as a StatementSet's
// execute: they are planned together (an error in any runs none), their
// pipelines run at the same time, and their sinks commit only once every
// pipeline has finished. When one fails, the others are cancelled and every
// sink is aborted, so a failed set writes nothing.
func (s *Session) ExecuteStatementSet(ctx context.Context, texts []string) (*Response, error) {
	if len(texts) == 0 {
		return nil, errors.New("the statement set has no INSERTs; add some with add_insert_sql or add_insert")
	}
	var inserts []sql.Statement
	for i, text := range texts {
		st, err := parseOne(text)
		if err != nil {
			return nil, fmt.Errorf("statement %d of the set: %w", i+1, err)
		}
		ins, ok := st.(*sql.Insert)
		if !ok {
			return nil, &sql.Error{Pos: st.Pos(), Msg: fmt.Sprintf("statement %d of the set is not an INSERT; a statement set holds INSERT INTO/OVERWRITE statements only", i+1)}
		}
		if t := s.tables[strings.ToLower(ins.Table)]; t != nil {
			return nil, &sql.Error{Pos: ins.At, Msg: fmt.Sprintf("table %s was made from Python data (from_elements or from_pandas) and cannot be written; INSERT INTO a table declared with CREATE TABLE", ins.Table)}
		}
		inserts = append(inserts, ins)
	}
	prog, err := s.plan(ctx, inserts...)
	if err != nil {
		return nil, err
	}
	jobs := prog.Jobs[len(prog.Jobs)-len(inserts):]
	out := &printed{}
	gate := &commitGate{waiting: len(jobs), done: make(chan struct{})}
	sinks := make([]*heldSink, len(jobs))
	for i, j := range jobs {
		inner, err := connector.OpenInsertSink(j.Sink.Name, j.Sink.Schema, j.Sink.Options, out, j.Overwrite)
		if err != nil {
			for _, h := range sinks[:i] {
				h.inner.Abort(err)
			}
			return nil, fmt.Errorf("statement %d of the set: %w", i+1, err)
		}
		sinks[i] = &heldSink{inner: inner, gate: gate}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	gate.cancel = cancel
	resp := &Response{OK: true, Kind: "insert", SinkRows: make([]int64, len(jobs))}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		resp.Sinks = append(resp.Sinks, j.Sink.Name)
		resp.Columns = append(resp.Columns, Column{Name: "default_catalog.default_database." + j.Sink.Name, Type: "BIGINT"})
		wg.Add(1)
		go func() {
			defer wg.Done()
			opts := s.jobOptions(nil)
			opts.Sink = sinks[i]
			res, err := job.Run(ctx, j, prog.Settings, opts)
			if err != nil {
				errs[i] = err
				gate.fail(fmt.Errorf("statement %d of the set (INSERT INTO %s): %w", i+1, j.Sink.Name, err))
				return
			}
			resp.SinkRows[i] = res.Rows
		}()
	}
	wg.Wait()
	if gate.err != nil {
		return nil, fmt.Errorf("job failed: %w", gate.err)
	}
	for i, err := range errs {
		if err != nil { // a commit failed after the others had finished
			return nil, fmt.Errorf("job failed: statement %d of the set: %w", i+1, err)
		}
	}
	for _, n := range resp.SinkRows {
		resp.Rows += n
	}
	resp.Output = out.String()
	return resp, nil
}

// commitGate holds the commits of a statement set's sinks until every
// pipeline has finished writing, or one has failed.
type commitGate struct {
	mu      sync.Mutex
	waiting int
	err     error
	done    chan struct{}
	cancel  context.CancelCauseFunc
}

// arrive records that one pipeline has written everything and waits for
// the others; it returns the first failure, if any.
func (g *commitGate) arrive() error {
	g.mu.Lock()
	g.waiting--
	if g.waiting == 0 && g.err == nil {
		close(g.done)
	}
	g.mu.Unlock()
	<-g.done
	return g.err
}

// fail records a pipeline's failure: the others stop and abort.
func (g *commitGate) fail(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return
	}
	select {
	case <-g.done:
		return // every pipeline had finished: the failure is a commit's own
	default:
	}
	g.err = err
	close(g.done)
	if g.cancel != nil {
		g.cancel(err)
	}
}

// heldSink is one sink of a statement set: rows go through; Commit waits
// for the other pipelines.
type heldSink struct {
	inner exec.Sink
	gate  *commitGate
}

func (h *heldSink) Write(ctx context.Context, b arrow.RecordBatch) error {
	return h.inner.Write(ctx, b)
}

func (h *heldSink) Commit() error {
	if err := h.gate.arrive(); err != nil {
		h.inner.Abort(err)
		return fmt.Errorf("another INSERT of the statement set failed: %w", err)
	}
	return h.inner.Commit()
}

func (h *heldSink) Abort(err error) {
	h.inner.Abort(err)
	h.gate.fail(err)
}

var _ exec.Sink = (*heldSink)(nil)
