package checkpoint

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Coordinator triggers a job's checkpoints and writes them: it sends a
// barrier to each source's goroutine every interval (unless the previous
// checkpoint is still on its way), stores the operators' state as they save
// it, and writes the checkpoint when the barrier reaches the sink.
type Coordinator struct {
	store    *Store
	job      string
	jobText  string
	interval time.Duration
	log      *slog.Logger

	mu       sync.Mutex
	ops      map[any]string
	sources  []*sourceState
	next     int64 // id of the next checkpoint
	cur      *Barrier
	pending  *Pending
	saved    []string
	saveErr  error
	started  time.Time
	complete int64 // checkpoints completed
	last     time.Duration
}

type sourceState struct {
	trigger chan *Barrier
	pos     []byte // position at the current barrier
	has     bool   // pos is set for the current barrier
	done    bool
	final   []byte // the position where the source ended
}

// NewCoordinator returns the coordinator of a job (job is its fingerprint,
// text its statement) writing to store every interval; ids start after
// the largest in the store.
func NewCoordinator(store *Store, job, text string, interval time.Duration, log *slog.Logger) (*Coordinator, error) {
	max, err := store.MaxID()
	if err != nil {
		return nil, err
	}
	return &Coordinator{store: store, job: job, jobText: text, interval: interval, log: log,
		ops: map[any]string{}, next: max + 1}, nil
}

// IDsAfter makes new checkpoints take ids above id (that of a checkpoint
// resumed from elsewhere): ids only grow, which sinks rely on.
func (c *Coordinator) IDsAfter(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next = max(c.next, id+1)
}

// AddOperator registers a stateful operator and returns the name its
// state is stored under: op-<n> in the order of registration, which the
// job keeps from run to run (the plan's order).
func (c *Coordinator) AddOperator(op any) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	name := fmt.Sprintf("op-%d", len(c.ops))
	c.ops[op] = name
	return name
}

// AddSource registers a source (in the job's order) and returns the
// channel on which its goroutine receives barriers to send after its
// current batch (with SourceBarrier).
func (c *Coordinator) AddSource() (index int, trigger <-chan *Barrier) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &sourceState{trigger: make(chan *Barrier, 1)}
	c.sources = append(c.sources, s)
	return len(c.sources) - 1, s.trigger
}

// Trigger is the channel AddSource returned for source index.
func (c *Coordinator) Trigger(index int) <-chan *Barrier {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sources[index].trigger
}

// SourceBarrier records the position of source index at barrier b, which
// its goroutine then sends on.
func (c *Coordinator) SourceBarrier(index int, b *Barrier, pos []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == b {
		s := c.sources[index]
		s.pos, s.has = pos, true
	}
}

// SourceDone records that source index ended at pos: it sends no more
// barriers, and pos is its position in every later checkpoint. A barrier
// waiting for it is dropped (the input has ended, which operators count as
// the barrier).
func (c *Coordinator) SourceDone(index int, pos []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sources[index]
	s.done, s.final = true, pos
	if c.cur != nil && !s.has {
		s.pos, s.has = pos, true
	}
	select {
	case <-s.trigger:
	default:
	}
}

// Run triggers checkpoints every interval until ctx ends.
func (c *Coordinator) Run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			c.mu.Lock()
			if c.pending != nil {
				c.pending.Abort()
				c.pending, c.cur = nil, nil
			}
			c.mu.Unlock()
			return
		case <-t.C:
			if err := c.trigger(); err != nil {
				c.log.Warn("checkpoint not started", "err", err)
			}
		}
	}
}

// Timeout is how long a checkpoint may take before it is abandoned (Flink's
// execution.checkpointing.timeout default).
const Timeout = 10 * time.Minute

// trigger starts the next checkpoint unless one is on its way.
func (c *Coordinator) trigger() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil {
		if time.Since(c.started) < Timeout {
			return nil
		}
		c.log.Warn("checkpoint abandoned: its barrier did not reach the sink in time", "id", c.cur.ID, "timeout", Timeout)
		c.pending.Abort()
		c.cur, c.pending = nil, nil
	}
	live := 0
	for _, s := range c.sources {
		if !s.done {
			live++
		}
	}
	if live == 0 {
		return nil
	}
	id := c.next
	p, err := c.store.Begin(id)
	if err != nil {
		return err
	}
	c.next++
	var b *Barrier
	b = NewBarrier(id, func(op any, write func(w io.Writer) error) error { return c.save(b, op, write) })
	c.cur, c.pending, c.saved, c.saveErr, c.started = b, p, nil, nil, time.Now()
	for _, s := range c.sources {
		if s.done {
			s.pos, s.has = s.final, true
		} else {
			s.has = false
			select { // a barrier of an abandoned checkpoint not yet taken
			case <-s.trigger:
			default:
			}
			s.trigger <- b
		}
	}
	return nil
}

// save is Barrier.Save of barrier b.
func (c *Coordinator) save(b *Barrier, op any, write func(w io.Writer) error) error {
	c.mu.Lock()
	name, ok := c.ops[op]
	p := c.pending
	current := c.cur == b
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("checkpoint: operator %T saved state but is not registered", op)
	}
	if p == nil || !current {
		return nil // abandoned, or the job is ending
	}
	err := p.WriteFile(name, write)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != b {
		return nil // abandoned meanwhile
	}
	if err != nil {
		if c.saveErr == nil {
			c.saveErr = err
		}
		return err
	}
	c.saved = append(c.saved, name)
	return nil
}

// Complete writes checkpoint b, whose barrier has reached the sink, with
// sink, what the sink's PreCommit returned. The sink commits after it
// returns, when written is true (a barrier of a checkpoint abandoned is
// not written).
func (c *Coordinator) Complete(b *Barrier, sink []byte) (written bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != b || c.pending == nil {
		return false, nil
	}
	p := c.pending
	c.cur, c.pending = nil, nil
	if c.saveErr != nil {
		p.Abort()
		return false, c.saveErr
	}
	m := &Metadata{Job: c.job, JobText: c.jobText, Time: time.Now().UTC(), Operators: c.saved, Sink: sink}
	for i, s := range c.sources {
		if !s.has {
			p.Abort()
			return false, fmt.Errorf("checkpoint %d: source %d sent no position", b.ID, i)
		}
		m.Sources = append(m.Sources, s.pos)
	}
	if err := p.Finish(m); err != nil {
		p.Abort()
		return false, err
	}
	c.complete++
	c.last = time.Since(c.started)
	if err := c.store.Retain(2); err != nil {
		c.log.Warn("old checkpoints not removed", "dir", c.store.Dir(), "err", err)
	}
	c.log.Debug("checkpoint complete", "id", b.ID, "took", c.last)
	return true, nil
}

// Finished removes the job's checkpoints once it has finished and
// committed all its output: the same job started again starts over.
func (c *Coordinator) Finished() error {
	return c.store.Clear()
}

// Completed is the number of checkpoints written.
func (c *Coordinator) Completed() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.complete
}
