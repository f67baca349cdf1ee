package fnapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// control implements BeamFnControl: the worker dials in and receives
// instructions on the stream, answering each with an InstructionResponse.
type control struct {
	fnpb.UnimplementedBeamFnControlServer
	s *Server
}

func (c *control) Control(stream fnpb.BeamFnControl_ControlServer) error {
	w := workerFrom(stream.Context())
	w.ctrlOnce.Do(func() { close(w.ctrlUp) })
	recvErr := make(chan error, 1)
	go func() {
		for {
			r, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			w.onResponse(r)
		}
	}()
	for {
		select {
		case req := <-w.ctrl:
			if err := stream.Send(req); err != nil {
				w.fail(fmt.Errorf("%w: control stream: %v", ErrWorkerGone, err))
				return err
			}
		case err := <-recvErr:
			if err == io.EOF {
				err = nil
			}
			w.failAfterData(fmt.Errorf("%w: control stream closed by the worker", ErrWorkerGone))
			return err
		case <-w.gone:
			// Returning ends the stream; the harness then shuts down.
			return nil
		case <-stream.Context().Done():
			w.failAfterData(fmt.Errorf("%w: %v", ErrWorkerGone, stream.Context().Err()))
			return nil
		}
	}
}

func (w *Worker) onResponse(r *fnpb.InstructionResponse) {
	if b := w.bundle(r.GetInstructionId()); b != nil {
		b.onResponse(r)
		return
	}
	w.mu.Lock()
	ch := w.responses[r.GetInstructionId()]
	w.mu.Unlock()
	if ch != nil {
		ch <- r
	}
}

func (c *control) GetProcessBundleDescriptor(ctx context.Context, req *fnpb.GetProcessBundleDescriptorRequest) (*fnpb.ProcessBundleDescriptor, error) {
	c.s.mu.Lock()
	d := c.s.descriptors[req.GetProcessBundleDescriptorId()]
	c.s.mu.Unlock()
	if d == nil {
		return nil, status.Errorf(codes.NotFound, "weir: no process bundle descriptor %q", req.GetProcessBundleDescriptorId())
	}
	return d, nil
}

// data implements BeamFnData: one bidirectional stream per worker carries
// the elements of all its bundles, tagged by instruction id.
type data struct {
	fnpb.UnimplementedBeamFnDataServer
	s *Server
}

func (d *data) Data(stream fnpb.BeamFnData_DataServer) error {
	w := workerFrom(stream.Context())
	w.dataOnce.Do(func() { close(w.dataUp) })
	defer w.downOnce.Do(func() { close(w.dataDown) })
	recvErr := make(chan error, 1)
	go func() {
		for {
			msg, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			for _, el := range msg.GetData() {
				if b := w.bundle(el.GetInstructionId()); b != nil && el.GetTransformId() == b.sink {
					b.onData(el)
				}
			}
		}
	}()
	for {
		select {
		case msg := <-w.dataOut:
			// SendMsg, not Send: the codec encodes outData as the
			// Elements message it stands for (codec.go).
			if err := stream.SendMsg(msg); err != nil {
				w.fail(fmt.Errorf("%w: data stream: %v", ErrWorkerGone, err))
				return err
			}
		case err := <-recvErr:
			if status.Code(err) == codes.ResourceExhausted {
				// A message over the limit fails the same way on every
				// try: not a lost worker, whose bundles would be replayed.
				w.fail(&TooLargeError{Limit: w.s.limit, Detail: status.Convert(err).Message()})
				return err
			}
			w.fail(fmt.Errorf("%w: data stream closed by the worker", ErrWorkerGone))
			if err == io.EOF {
				return nil
			}
			return err
		case <-w.gone:
			return nil
		case <-stream.Context().Done():
			// Recv ends too, and its error may tell why: a message over
			// the limit ends the stream as well.
			if err := <-recvErr; status.Code(err) == codes.ResourceExhausted {
				w.fail(&TooLargeError{Limit: w.s.limit, Detail: status.Convert(err).Message()})
				return nil
			}
			w.fail(fmt.Errorf("%w: %v", ErrWorkerGone, stream.Context().Err()))
			return nil
		}
	}
}

// TooLargeError is a message from a worker over the server's limit. It is
// not ErrWorkerGone: the bundle would fail the same way again.
type TooLargeError struct {
	// Limit is the server's limit in bytes.
	Limit int
	// Detail is gRPC's description, with the message's size.
	Detail string
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("a Python worker sent a message over the engine's gRPC limit of %d MiB (%s); weir's worker sends results in parts of about 4 MiB and refuses rows over 200 MiB, so this is a bug to report, with the job that shows it", e.Limit>>20, e.Detail)
}

// logging implements BeamFnLogging: worker log records go to weir's log
// with their level, and the last lines are kept for error reports.
type logging struct {
	fnpb.UnimplementedBeamFnLoggingServer
	s *Server
}

func (l *logging) Logging(stream fnpb.BeamFnLogging_LoggingServer) error {
	w := workerFrom(stream.Context())
	for {
		list, err := stream.Recv()
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return nil // the worker went away; its control stream reports that
		}
		for _, e := range list.GetLogEntries() {
			msg := e.GetMessage()
			if tr := e.GetTrace(); tr != "" {
				msg += "\n" + tr
			}
			lvl := level(e.GetSeverity())
			w.addLog(fmt.Sprintf("%s %s", e.GetSeverity(), firstLines(msg, 20)))
			l.s.log.Log(context.Background(), lvl, msg, "worker", shortID(w.id), "where", e.GetLogLocation())
		}
	}
}

func level(s fnpb.LogEntry_Severity_Enum) slog.Level {
	switch s {
	case fnpb.LogEntry_Severity_TRACE, fnpb.LogEntry_Severity_DEBUG:
		return slog.LevelDebug
	case fnpb.LogEntry_Severity_INFO, fnpb.LogEntry_Severity_NOTICE:
		return slog.LevelInfo
	case fnpb.LogEntry_Severity_WARN:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

// shortID drops the secret from a worker id for logs.
func shortID(id string) string {
	if i := strings.LastIndexByte(id, '-'); i > 0 {
		return id[:i]
	}
	return id
}
