package pyexec

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/weir-dev/weir/internal/fnapi"
)

// await returns the output of bundle b, replaying it on another worker when
// its worker is lost, up to MaxAttempts tries.
func (p *Pool) await(ctx context.Context, s *Stage, b *bundle) ([][]byte, error) {
	for {
		var data [][]byte
		err := b.err
		if err == nil {
			if err = p.watchProgress(ctx, s, b); err != nil {
				return nil, err
			}
			data, err = b.b.Result()
		}
		p.release(b.t)
		if err == nil {
			p.metrics.add(b.b.Response())
			return data, nil
		}
		var be *fnapi.BundleError
		if errors.As(err, &be) {
			return nil, &FunctionError{Stage: s.Spec.GetName(), Message: pythonMessage(be.Message)}
		}
		if !errors.Is(err, fnapi.ErrWorkerGone) {
			return nil, err
		}
		cause := p.deathCause(b.t)
		if b.attempts >= p.cfg.MaxAttempts {
			return nil, fmt.Errorf("pyexec: a bundle of %s failed %d times because its Python worker died (%s); giving up.\nThe worker's last log lines:\n%s",
				s.Spec.GetName(), b.attempts, cause.reason, indent(cause.logs))
		}
		p.cfg.Log.Warn("replaying bundle on another worker", "stage", s.Spec.GetName(), "attempt", b.attempts+1, "cause", cause.reason)
		b.attempts++
		if err := p.resend(ctx, s, b); err != nil {
			return nil, err
		}
	}
}

// resend starts bundle b again on a live worker.
func (p *Pool) resend(ctx context.Context, s *Stage, b *bundle) error {
	t, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	b.t = t
	b.b, b.err = t.s.w.StartBundle(s.id, sourceID, sinkID)
	for _, el := range b.elements {
		if b.err != nil {
			break
		}
		b.err = b.b.Send(ctx, el, false)
	}
	if b.err == nil {
		b.err = b.b.Send(ctx, nil, true)
	}
	return nil
}

type death struct{ reason, logs string }

// deathCause describes why the worker of token t went away.
func (p *Pool) deathCause(t token) death {
	p.mu.Lock()
	proc, w := t.s.p, t.s.w
	if t.gen != t.s.gen {
		proc, w = nil, nil
	}
	p.mu.Unlock()
	d := death{reason: "connection lost"}
	if proc != nil {
		select {
		case <-proc.Done():
		case <-time.After(2 * time.Second):
		}
		if r := proc.ExitReason(); r != "" {
			d.reason = r
		}
		d.logs = proc.StderrTail(20)
	}
	if w != nil {
		if l := strings.Join(w.LastLogs(), "\n"); l != "" {
			d.logs = strings.TrimSpace(d.logs + "\n" + l)
		}
	}
	return d
}

// FunctionError is a Python function that failed in a worker.
type FunctionError struct {
	Stage   string
	Message string
}

func (e *FunctionError) Error() string { return e.Message }

// pythonMessage extracts weir's own report from the harness's error text,
// which wraps it in the harness's traceback.
func pythonMessage(msg string) string {
	const marker = "weir.errors.FunctionError: "
	if i := strings.LastIndex(msg, marker); i >= 0 {
		m := msg[i+len(marker):]
		if j := strings.LastIndex(m, " [while running"); j >= 0 {
			m = m[:j]
		}
		return strings.TrimSpace(m)
	}
	return "Python worker error:\n" + strings.TrimSpace(msg)
}
