package fnapi

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
)

// logTail is how many of a worker's last log lines are kept for error reports.
const logTail = 30

// Worker is the server's view of one connected SDK harness.
type Worker struct {
	s  *Server
	id string

	ctrl      chan *fnpb.InstructionRequest
	dataOut   chan *outData
	ctrlUp    chan struct{} // closed when the control stream connects
	dataUp    chan struct{} // closed when the data stream connects
	dataDown  chan struct{} // closed when the data stream's handler returns
	ctrlOnce  sync.Once
	dataOnce  sync.Once
	downOnce  sync.Once
	gone      chan struct{} // closed on the first failure
	failOnce  sync.Once
	mu        sync.Mutex
	err       error
	bundles   map[string]*Bundle
	responses map[string]chan *fnpb.InstructionResponse
	logs      []string
}

func newWorker(s *Server, id string) *Worker {
	return &Worker{
		s: s, id: id,
		ctrl:      make(chan *fnpb.InstructionRequest, 16),
		dataOut:   make(chan *outData, 4),
		ctrlUp:    make(chan struct{}),
		dataUp:    make(chan struct{}),
		dataDown:  make(chan struct{}),
		gone:      make(chan struct{}),
		bundles:   map[string]*Bundle{},
		responses: map[string]chan *fnpb.InstructionResponse{},
	}
}

// ID is the worker id (which includes its secret; do not log it whole).
func (w *Worker) ID() string { return w.id }

// Connected is closed once the worker's control stream is up.
func (w *Worker) Connected() <-chan struct{} { return w.ctrlUp }

// Gone is closed when the worker's connection is lost or it was forgotten.
func (w *Worker) Gone() <-chan struct{} { return w.gone }

// Err is why the worker is gone, or nil.
func (w *Worker) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// LastLogs returns the worker's most recent log lines, oldest first.
func (w *Worker) LastLogs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.logs...)
}

func (w *Worker) addLog(line string) {
	w.mu.Lock()
	if len(w.logs) == logTail {
		copy(w.logs, w.logs[1:])
		w.logs = w.logs[:logTail-1]
	}
	w.logs = append(w.logs, line)
	w.mu.Unlock()
}

// fail marks the worker gone and fails every unfinished bundle and request.
func (w *Worker) fail(err error) {
	w.failOnce.Do(func() {
		w.mu.Lock()
		w.err = err
		bs := w.bundles
		w.bundles = map[string]*Bundle{}
		w.mu.Unlock()
		close(w.gone)
		for _, b := range bs {
			b.finish(fmt.Errorf("bundle %s: %w", b.id, err))
		}
	})
}

// failAfterData fails w with err, the control stream's end, once the data
// stream (if it connected) has ended too or a second has passed: a message
// over the limit ends both streams, and the data stream's cause
// (TooLargeError, not to be replayed) must win over a lost connection.
func (w *Worker) failAfterData(err error) {
	select {
	case <-w.dataUp:
		select {
		case <-w.dataDown:
		case <-w.gone:
		case <-time.After(time.Second):
		}
	default:
	}
	w.fail(err)
}

// Instruct sends a control request and waits for its response.
func (w *Worker) Instruct(ctx context.Context, req *fnpb.InstructionRequest) (*fnpb.InstructionResponse, error) {
	if req.InstructionId == "" {
		req.InstructionId = w.s.instructionID()
	}
	ch := make(chan *fnpb.InstructionResponse, 1)
	w.mu.Lock()
	w.responses[req.InstructionId] = ch
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.responses, req.InstructionId)
		w.mu.Unlock()
	}()
	select {
	case w.ctrl <- req:
	case <-w.gone:
		return nil, w.Err()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-ch:
		return r, nil
	case <-w.gone:
		return nil, w.Err()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Bundle is one ProcessBundle instruction in flight on a worker. Its output
// is collected until the response and is_last on the output have arrived.
type Bundle struct {
	w      *Worker
	id     string
	source string // transform id of the data source
	sink   string // transform id of the data sink

	mu       sync.Mutex
	out      [][]byte // output chunks as they arrived
	gotLast  bool
	response *fnpb.InstructionResponse
	state    StateHandler // answers the bundle's state requests; nil: none
	done     chan struct{}
	doneOnce sync.Once
	err      error
}

// StartBundle asks the worker to process a bundle of descriptor desc, whose
// input enters at transform source and whose output leaves at transform sink.
// Data is then sent with Send, and the result collected with Wait.
func (w *Worker) StartBundle(desc, source, sink string) (*Bundle, error) {
	return w.startBundle(desc, source, sink, nil)
}

func (w *Worker) startBundle(desc, source, sink string, h StateHandler) (*Bundle, error) {
	b := &Bundle{w: w, id: w.s.instructionID(), source: source, sink: sink, state: h, done: make(chan struct{})}
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return nil, err
	}
	w.bundles[b.id] = b
	w.mu.Unlock()
	req := &fnpb.InstructionRequest{
		InstructionId: b.id,
		Request: &fnpb.InstructionRequest_ProcessBundle{ProcessBundle: &fnpb.ProcessBundleRequest{
			ProcessBundleDescriptorId: desc,
		}},
	}
	select {
	case w.ctrl <- req:
	case <-w.gone:
		return nil, w.Err()
	}
	handOver()
	return b, nil
}

// handOver lets the goroutine that sends a queued message to the worker run
// now. Woken by the send, it waits in this goroutine's run slot until this
// one blocks or is preempted, and the caller goes on to encode and copy the
// bundle's input, ~1-3 ms during which the worker waited idle for the
// request (measured: ProcessBundle reached the harness 1-3 ms after it was
// queued; without the wait, 0.1-0.5 ms).
func handOver() { runtime.Gosched() }

// ID is the bundle's instruction id; ids are never reused.
func (b *Bundle) ID() string { return b.id }

// Send sends encoded elements to the bundle's source; last ends its input.
// The elements are sent from where they are, after Send returns: the caller
// must not change them afterwards.
func (b *Bundle) Send(ctx context.Context, elements []byte, last bool) error {
	var parts [][]byte
	if len(elements) > 0 {
		parts = [][]byte{elements}
	}
	return b.SendParts(ctx, parts, last)
}

// SendParts is Send of the elements that are parts one after the other
// (the parts need not hold whole elements). They are sent from where they
// are, without being joined, after SendParts returns: the caller must not
// change them afterwards.
func (b *Bundle) SendParts(ctx context.Context, parts [][]byte, last bool) error {
	msg := &outData{instruction: b.id, transform: b.source, parts: parts, last: last}
	select {
	case b.w.dataOut <- msg:
		handOver()
		return nil
	case <-b.done:
		return b.err
	case <-b.w.gone:
		return b.w.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed when the bundle has finished, successfully or not.
func (b *Bundle) Done() <-chan struct{} { return b.done }

// Result returns the bundle's raw output, in the chunks it arrived in, and
// its error once Done is closed. A failed ProcessBundle gives a
// *BundleError with the worker's message.
func (b *Bundle) Result() ([][]byte, error) {
	<-b.done
	// Output of a failed bundle may still arrive; out is read under the lock.
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out, b.err
}

// BundleError is a bundle that the worker reported as failed.
type BundleError struct {
	Instruction string
	// Message is the worker's error text, usually a Python traceback.
	Message string
}

func (e *BundleError) Error() string { return e.Message }

func (b *Bundle) finish(err error) {
	b.doneOnce.Do(func() {
		b.err = err
		close(b.done)
	})
}

func (b *Bundle) onData(d *fnpb.Elements_Data) {
	b.mu.Lock()
	if len(d.GetData()) > 0 {
		b.out = append(b.out, d.GetData())
	}
	if d.GetIsLast() {
		b.gotLast = true
	}
	complete := b.gotLast && b.response != nil
	b.mu.Unlock()
	if complete {
		b.w.complete(b)
	}
}

func (b *Bundle) onResponse(r *fnpb.InstructionResponse) {
	b.mu.Lock()
	b.response = r
	complete := b.gotLast || r.GetError() != ""
	b.mu.Unlock()
	if complete {
		b.w.complete(b)
	}
}

func (w *Worker) complete(b *Bundle) {
	w.mu.Lock()
	delete(w.bundles, b.id)
	w.mu.Unlock()
	if msg := b.response.GetError(); msg != "" {
		b.finish(&BundleError{Instruction: b.id, Message: msg})
		return
	}
	b.finish(nil)
}

func (w *Worker) bundle(id string) *Bundle {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bundles[id]
}

// Response is the worker's ProcessBundleResponse once Done is closed and the
// bundle succeeded; nil otherwise.
func (b *Bundle) Response() *fnpb.ProcessBundleResponse {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.response.GetProcessBundle()
}
