package pyexec

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/coder"
	"github.com/weir-dev/weir/internal/fnapi"
	"github.com/weir-dev/weir/internal/weirpb"
)

// await returns the output of bundle b, replaying it on another worker when
// its worker is lost, up to MaxAttempts tries. When the tries are used up,
// the error names the stage's functions and, if the crash recurs when the
// bundle's rows run alone, the input row that causes it.
func (p *Pool) await(ctx context.Context, s *Stage, b *bundle) ([][]byte, error) {
	var diedAt time.Time
	for {
		var data [][]byte
		err := b.err
		if err == nil {
			if err = p.watchProgress(ctx, s, b); err != nil {
				return nil, err
			}
			data, err = b.b.Result()
		}
		if err == nil {
			p.metrics.add(b.b.Response())
			if b.attempts > 1 {
				p.cfg.Log.Info("replayed bundle completed", "stage", s.Spec.GetName(), "bundle", b.seq, "attempt", b.attempts,
					"since_death", time.Since(diedAt).Round(time.Millisecond))
			}
			return data, nil
		}
		var be *fnapi.BundleError
		if errors.As(err, &be) {
			msg := pythonMessage(be.Message)
			if !strings.Contains(be.Message, functionErrorMarker) && ctx.Err() == nil {
				// Not an exception of the function that weir's operation
				// reported with its row (e.g. SystemExit): find the row.
				msg = fmt.Sprintf("pyexec: a bundle of %s (%s) failed in the Python worker: %s\n%s",
					s.Spec.GetName(), functionNames(s), msg, p.isolate(ctx, s, b, false))
			}
			return nil, &FunctionError{Stage: s.Spec.GetName(), Message: msg}
		}
		if !errors.Is(err, fnapi.ErrWorkerGone) {
			return nil, err
		}
		cause := p.deathCause(b.t)
		diedAt = p.diedAt(b.t)
		if b.attempts >= p.cfg.MaxAttempts {
			return nil, p.crashError(ctx, s, b, cause)
		}
		p.cfg.Log.Warn("replaying bundle on another worker", "stage", s.Spec.GetName(), "bundle", b.seq, "attempt", b.attempts+1, "cause", cause.reason)
		b.attempts++
		if err := p.resend(ctx, s, b); err != nil {
			return nil, err
		}
	}
}

// resend starts bundle b again on a live worker. It takes no token: b held
// one when it was dispatched, and waiting for a token here could wait for
// bundles that are only collected after b.
func (p *Pool) resend(ctx context.Context, s *Stage, b *bundle) error {
	for {
		t, err := p.anyWorker(ctx, fmt.Sprintf("%s: replay of bundle %d (attempt %d)", s.Spec.GetName(), b.seq, b.attempts))
		if err != nil {
			return err
		}
		fb, err := p.startOn(t, s)
		if err != nil {
			// Gone since it was picked: pick again.
			continue
		}
		b.t, b.b, b.err = t, fb, nil
		break
	}
	for _, el := range b.input() {
		if b.err = b.b.SendParts(ctx, el, false); b.err != nil {
			return nil
		}
	}
	b.err = b.b.Send(ctx, nil, true)
	return nil
}

// diedAt is when the worker of t was seen to die, or now.
func (p *Pool) diedAt(t token) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if at, ok := p.died[t.p]; ok {
		return at
	}
	return time.Now()
}

type death struct{ reason, logs string }

// deathCause describes why the worker of token t went away.
func (p *Pool) deathCause(t token) death {
	d := death{reason: "connection lost"}
	if t.p != nil {
		select {
		case <-t.p.Done():
		case <-time.After(2 * time.Second):
		}
		if r := t.p.ExitReason(); r != "" {
			d.reason = r
		}
	}
	d.logs = lastLines(t, 20)
	return d
}

// lastLines returns the last n meaningful lines a worker wrote: its stderr
// and the log records it sent, without the harness's start-up chatter
// (which both carry) and without duplicates.
func lastLines(t token, n int) string {
	var lines []string
	seen := map[string]bool{}
	add := func(line, msg string) {
		if strings.TrimSpace(line) == "" || seen[msg] {
			return
		}
		seen[msg] = true
		lines = append(lines, line)
	}
	if t.p != nil {
		for _, l := range strings.Split(t.p.StderrTail(200), "\n") {
			if level, msg, ok := pythonLogLine(l); ok {
				if level == "INFO" || level == "DEBUG" || strings.Contains(msg, "apitools not found") {
					continue
				}
				add(l, msg)
				continue
			}
			add(l, l)
		}
	}
	if t.w != nil {
		for _, l := range t.w.LastLogs() {
			sev, msg, _ := strings.Cut(l, " ")
			switch sev {
			case "TRACE", "DEBUG", "INFO", "NOTICE":
				continue
			}
			if strings.Contains(msg, "apitools not found") {
				continue
			}
			add(l, firstLine(msg))
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// pythonLogLine splits a line of Python's default log format,
// "LEVEL:logger:message".
func pythonLogLine(l string) (level, msg string, ok bool) {
	level, rest, ok := strings.Cut(l, ":")
	if !ok {
		return "", "", false
	}
	switch level {
	case "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL":
	default:
		return "", "", false
	}
	_, msg, ok = strings.Cut(rest, ":")
	return level, msg, ok
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// crashError is the error of a bundle whose workers died MaxAttempts times.
func (p *Pool) crashError(ctx context.Context, s *Stage, b *bundle, cause death) error {
	var msg strings.Builder
	fmt.Fprintf(&msg, "pyexec: a bundle of %s (%s) failed %d times because its Python worker died (%s); giving up.",
		s.Spec.GetName(), functionNames(s), b.attempts, cause.reason)
	if ctx.Err() == nil {
		fmt.Fprintf(&msg, "\n%s", p.isolate(ctx, s, b, true))
	}
	logs := cause.logs
	if logs == "" {
		logs = "(nothing after its start-up messages)"
	}
	fmt.Fprintf(&msg, "\nThe worker's last lines:\n%s", indent(logs))
	return &CrashError{Stage: s.Spec.GetName(), Reason: cause.reason, Message: msg.String()}
}

// functionNames lists the Python functions a stage calls.
func functionNames(s *Stage) string {
	var names []string
	for _, f := range s.Spec.GetFunctions() {
		names = append(names, f.GetName())
	}
	if len(names) == 1 {
		return "function " + names[0]
	}
	return "functions " + strings.Join(names, ", ")
}

// CrashError is a bundle whose Python workers died on every try.
type CrashError struct {
	Stage string
	// Reason is how the last worker ended, e.g. "killed by signal SIGSEGV".
	Reason  string
	Message string
}

func (e *CrashError) Error() string { return e.Message }

// FunctionError is a Python function that failed in a worker.
type FunctionError struct {
	Stage   string
	Message string
}

func (e *FunctionError) Error() string { return e.Message }

// functionErrorMarker starts weir's report of a function's exception in the
// harness's error text.
const functionErrorMarker = "weir.errors.FunctionError: "

// pythonMessage extracts weir's own report from the harness's error text,
// which wraps it in the harness's traceback.
func pythonMessage(msg string) string {
	if i := strings.LastIndex(msg, functionErrorMarker); i >= 0 {
		m := msg[i+len(functionErrorMarker):]
		if j := strings.LastIndex(m, " [while running"); j >= 0 {
			m = m[:j]
		}
		return strings.TrimSpace(m)
	}
	return "Python worker error:\n" + trimTraceback(strings.TrimSpace(msg))
}

// trimTraceback drops the frames of the Beam harness and of weir's own
// operations from a Python traceback, keeping the user's.
func trimTraceback(tb string) string {
	var out []string
	skip := false
	for _, l := range strings.Split(tb, "\n") {
		switch {
		case strings.HasPrefix(l, "  File "):
			skip = strings.Contains(l, "apache_beam") || strings.Contains(l, "weir/_operations") || strings.Contains(l, "weir/_beam.py")
		case strings.HasPrefix(l, "    "):
		default:
			skip = false
		}
		if !skip {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// The search for the row that kills workers is bounded: it ends after this
// long or after killing this many workers (each is replaced).
const (
	crashSearchTime   = time.Minute
	crashSearchDeaths = 8
	// crashSearchWays is how many parts a range of rows is split into at
	// each step: one death per step narrows the range this many times.
	crashSearchWays = 64
)

type probeResult int

const (
	probeOK probeResult = iota
	probeDied
	probeRaised // the bundle failed with an error and the worker lived
	probeCut    // ctx ended, the deadline passed or no worker is left
)

// probe runs one bundle of stage s over elements on any live worker and
// reports whether the worker died.
func (p *Pool) probe(ctx context.Context, s *Stage, elements []encoded, deadline time.Time) probeResult {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var fb *fnapi.Bundle
	for fb == nil {
		t, err := p.anyWorker(ctx, s.Spec.GetName()+": a probe for the row that kills workers")
		if err != nil {
			return probeCut
		}
		fb, _ = p.startOn(t, s)
	}
	for _, el := range elements {
		if fb.SendParts(ctx, el, false) != nil {
			break
		}
	}
	_ = fb.Send(ctx, nil, true)
	select {
	case <-fb.Done():
	case <-ctx.Done():
		return probeCut
	}
	_, err := fb.Result()
	switch {
	case err == nil:
		return probeOK
	case errors.Is(err, fnapi.ErrWorkerGone):
		return probeDied
	}
	return probeRaised
}

// isolate looks for the input row of bundle b that kills workers (crash)
// or makes the bundle fail by running parts of the bundle alone: first each
// batch, then ever smaller runs of the batch's rows. It returns a paragraph
// for the error message.
func (p *Pool) isolate(ctx context.Context, s *Stage, b *bundle, crash bool) string {
	deadline := time.Now().Add(crashSearchTime)
	deaths := 0
	verb := "fails"
	if crash {
		verb = "kills the worker"
	}
	bad := func(r probeResult) bool { return r == probeDied || (!crash && r == probeRaised) }
	elem, offset := -1, 0
	verified := false // a part of the bundle failed when run alone
	elements := b.input()
	if len(elements) == 1 {
		// The bundle is the batch: it failed; its rows tell which part.
		elem = 0
	}
	for i, el := range elements {
		if elem >= 0 {
			break
		}
		r := p.probe(ctx, s, []encoded{el}, deadline)
		if r == probeCut {
			return fmt.Sprintf("The search for the input row that kills the worker was cut short (batch %d of %d of the bundle was next).", i+1, len(elements))
		}
		if bad(r) {
			elem, verified = i, true
			if r == probeDied {
				deaths++
			}
			break
		}
		offset += int(b.batches[i].NumRows())
	}
	if elem < 0 {
		if !crash {
			return fmt.Sprintf("Run alone, none of the bundle's %d batches (%d rows) fails: the failure depends on earlier input (state kept by the function).", len(elements), b.rows)
		}
		return fmt.Sprintf("Run alone, none of the bundle's %d batches (%d rows) killed a worker: the crash depends on earlier input (state kept by the function), or the worker was killed from outside (e.g. by the out-of-memory killer).",
			len(elements), b.rows)
	}
	vals, err := splitElements(elements[elem].bytes())
	if err != nil || len(vals) != 1 {
		return fmt.Sprintf("Batch %d of the bundle %s when run alone.", elem+1, verb)
	}
	value, err := b.inputValue(vals[0]) // in the shared memory or not (shmstage.go)
	if err != nil {
		return fmt.Sprintf("Batch %d of the bundle %s when run alone (its rows cannot be shown: %v).", elem+1, verb, err)
	}
	cols, n, err := s.decodeInput(memory.DefaultAllocator, value) // row format or Arrow (arrowstage.go)
	if err != nil {
		return fmt.Sprintf("Batch %d of the bundle %s when run alone (its rows cannot be shown: %v).", elem+1, verb, err)
	}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	enc := coder.NewEncoder(s.InputTypes)
	lo, hi := 0, n
	note := ""
search:
	for hi-lo > 1 {
		if deaths >= crashSearchDeaths {
			note = fmt.Sprintf(" (the search stopped after killing %d workers)", deaths)
			break
		}
		size := (hi - lo + crashSearchWays - 1) / crashSearchWays
		if hi-lo <= 4*crashSearchWays {
			// Rows that run fine cost little; each one that fails may cost
			// a worker: try them one by one.
			size = 1
		}
		for c := lo; c < hi; c += size {
			e := min(c+size, hi)
			el, err := s.encodeRange(enc, cols, c, e)
			if err != nil {
				note = fmt.Sprintf(" (cannot re-encode rows: %v)", err)
				break search
			}
			switch r := p.probe(ctx, s, []encoded{el}, deadline); {
			case bad(r):
				if r == probeDied {
					deaths++
				}
				lo, hi, verified = c, e, true
				continue search
			case r == probeCut:
				note = " (the search was cut short)"
				break search
			}
		}
		note = " (no smaller part of them does alone: it depends on several rows)"
		break
	}
	if !verified {
		if crash {
			return fmt.Sprintf("Run alone, no part of the bundle's %d rows killed a worker: the crash depends on earlier input (state kept by the function), or the worker was killed from outside (e.g. by the out-of-memory killer).", b.rows)
		}
		return fmt.Sprintf("Run alone, no part of the bundle's %d rows fails: the failure depends on earlier input (state kept by the function).", b.rows)
	}
	var out strings.Builder
	if hi-lo == 1 {
		fmt.Fprintf(&out, "The input row that %s (it did so again when run alone): row %d of the bundle's %d rows, batch %d of %d:\n",
			verb, offset+lo+1, b.rows, elem+1, len(elements))
	} else {
		fmt.Fprintf(&out, "Rows %d to %d of the bundle's %d rows (batch %d of %d) %s when run alone%s; the first of them:\n",
			offset+lo+1, offset+hi, b.rows, elem+1, len(elements), verb, note)
	}
	fmt.Fprintf(&out, "  input: (%s)", rowText(cols, lo))
	for _, o := range s.Spec.GetOutputs() {
		if o.GetCall() != nil {
			fmt.Fprintf(&out, "\n  %s", exprText(s, o, cols, lo))
		}
	}
	return out.String()
}

// rowText renders row r of cols.
func rowText(cols []arrow.Array, r int) string {
	vals := make([]string, len(cols))
	for i, c := range cols {
		vals[i] = valueText(c, r)
	}
	return strings.Join(vals, ", ")
}

func valueText(c arrow.Array, r int) string {
	if c.IsNull(r) {
		return "NULL"
	}
	switch a := c.(type) {
	case *array.String:
		return fmt.Sprintf("%q", a.Value(r))
	case *array.Binary:
		return fmt.Sprintf("x'%x'", a.Value(r))
	}
	return c.ValueStr(r)
}

// exprText renders an output of the stage with the values of row r, e.g.
// "die(777)".
func exprText(s *Stage, e *weirpb.Expr, cols []arrow.Array, r int) string {
	switch k := e.GetKind().(type) {
	case *weirpb.Expr_Column:
		if int(k.Column) < len(cols) {
			return valueText(cols[k.Column], r)
		}
	case *weirpb.Expr_Call:
		name := "?"
		if fs := s.Spec.GetFunctions(); int(k.Call.GetFunction()) < len(fs) {
			name = fs[k.Call.GetFunction()].GetName()
		}
		args := make([]string, len(k.Call.GetArgs()))
		for i, a := range k.Call.GetArgs() {
			args[i] = exprText(s, a, cols, r)
		}
		return name + "(" + strings.Join(args, ", ") + ")"
	case *weirpb.Expr_Constant:
		return "<constant>"
	}
	return "?"
}
