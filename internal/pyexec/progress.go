package pyexec

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
)

// watchProgress waits until bundle b is done. While it waits it asks the
// worker for the bundle's progress (elements read and produced); a bundle
// whose progress does not change for ProgressTimeout fails the job with the
// worker's Python stacks, which show where the function is stuck.
func (p *Pool) watchProgress(ctx context.Context, s *Stage, b *bundle) error {
	every := min(p.cfg.ProgressTimeout/4, 2*time.Second)
	tick := time.NewTicker(every)
	defer tick.Stop()
	last, lastChange := "", time.Now()
	for {
		select {
		case <-b.b.Done():
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-tick.C:
		}
		pctx, cancel := context.WithTimeout(ctx, every)
		r, err := b.t.w.Instruct(pctx, &fnpb.InstructionRequest{
			Request: &fnpb.InstructionRequest_ProcessBundleProgress{ProcessBundleProgress: &fnpb.ProcessBundleProgressRequest{InstructionId: b.b.ID()}},
		})
		cancel()
		if err == nil && r.GetError() == "" {
			if cur := progressKey(r.GetProcessBundleProgress()); cur != last {
				last, lastChange = cur, time.Now()
			}
		}
		if time.Since(lastChange) >= p.cfg.ProgressTimeout {
			select {
			case <-b.b.Done():
				return nil
			default:
			}
			return fmt.Errorf("pyexec: a bundle of %s made no progress for %s (python.fn-execution.bundle.progress-timeout); a Python function seems stuck, e.g. in an endless loop.\nWhere the worker's Python threads were:\n%s",
				s.Spec.GetName(), p.cfg.ProgressTimeout.Round(time.Millisecond), indent(p.stacks(b.t)))
		}
	}
}

// progressNamespace is where weir's operation reports the input rows it
// has processed (python/weir/_beam.py).
const progressNamespace = "weir.progress"

// progressKey summarises the element and row counters of a progress
// response; a change means the bundle is moving.
func progressKey(r *fnpb.ProcessBundleProgressResponse) string {
	var parts []string
	for _, mi := range r.GetMonitoringInfos() {
		switch {
		case mi.GetUrn() == "beam:metric:element_count:v1", mi.GetUrn() == "beam:metric:data_channel:read_index:v1",
			// weir's operation counts the rows it has processed.
			mi.GetLabels()["NAMESPACE"] == progressNamespace:
			parts = append(parts, fmt.Sprintf("%v=%x", mi.GetLabels(), mi.GetPayload()))
		}
	}
	return strings.Join(parts, ";")
}

// stacks asks the worker of t to dump its Python stacks (weir.worker
// registers faulthandler on SIGUSR1) and returns the dumps of the threads
// that run weir's operations, or all of them if none does.
func (p *Pool) stacks(t token) string {
	proc := t.p
	if proc == nil {
		return "(the worker is gone)"
	}
	_ = syscall.Kill(proc.Pid(), syscall.SIGUSR1)
	time.Sleep(500 * time.Millisecond)
	dump := proc.Stderr()
	var keep []string
	for _, block := range strings.Split(dump, "\n\n") {
		if strings.Contains(block, "weir/_beam.py") {
			keep = append(keep, strings.TrimSpace(block))
		}
	}
	if len(keep) == 0 {
		return dump
	}
	return strings.Join(keep, "\n\n")
}
