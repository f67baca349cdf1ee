// Package fnapi is the runner side of the Apache Beam Fn API: the control,
// data, logging and state services that weir's Python workers connect to.
//
// The services listen on a Unix socket inside a directory only the job's user
// can open. Every stream must carry the worker_id metadata of a worker the
// server expects; the id holds a random secret, so a stranger that can reach
// the socket still cannot send or read data. Anything else is refused and
// logged.
//
// fnapi imports only the Beam model protos and gRPC; it knows nothing of rows,
// SQL or processes.
package fnapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/weir-dev/weir/internal/tmpdir"
)

// maxMessage bounds one gRPC message. A data element carries a whole batch of
// rows, which easily exceeds gRPC's default of 4 MB.
const maxMessage = 256 << 20

// socketBuffer is the size of the server's buffered reads and writes of each
// worker's connection.
const socketBuffer = 512 << 10

// Server hosts the Fn API services for the workers of one job.
type Server struct {
	dir  string
	sock string
	lis  net.Listener
	srv  *grpc.Server
	log  *slog.Logger
	// limit bounds one message: maxMessage, or less in tests.
	limit int

	mu          sync.Mutex
	descriptors map[string]*fnpb.ProcessBundleDescriptor
	workers     map[string]*Worker
	refused     atomic.Int64

	nextInstruction atomic.Uint64
}

// NewServer starts the services on a Unix socket in a new private directory.
func NewServer(log *slog.Logger) (*Server, error) {
	return newServer(log, maxMessage)
}

// newServer is NewServer with limit bytes as the bound of one message, so
// that tests of the limit can send small messages.
func newServer(log *slog.Logger, limit int) (*Server, error) {
	dir, err := tmpdir.Make("weir-fn-")
	if err != nil {
		return nil, fmt.Errorf("fnapi: create socket directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("fnapi: restrict socket directory: %w", err)
	}
	sock := filepath.Join(dir, "fn.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("fnapi: listen on %s: %w", sock, err)
	}
	s := &Server{
		dir: dir, sock: sock, lis: lis, log: log, limit: limit,
		descriptors: map[string]*fnpb.ProcessBundleDescriptor{},
		workers:     map[string]*Worker{},
	}
	s.srv = grpc.NewServer(
		grpc.MaxRecvMsgSize(limit),
		grpc.MaxSendMsgSize(limit),
		grpc.ForceServerCodecV2(codec{}), // codec.go
		// Larger socket reads and writes than gRPC's 32 KiB: the data
		// stream carries a job's rows, and each read or write is a system
		// call (the worker's messages are of about 4 MiB).
		grpc.ReadBufferSize(socketBuffer),
		grpc.WriteBufferSize(socketBuffer),
		// The Beam harness pings every 20 s; allow that instead of closing
		// the connection with "too_many_pings".
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.StreamInterceptor(s.authenticate),
		grpc.UnaryInterceptor(s.authenticateUnary),
	)
	fnpb.RegisterBeamFnControlServer(s.srv, &control{s: s})
	fnpb.RegisterBeamFnDataServer(s.srv, &data{s: s})
	fnpb.RegisterBeamFnLoggingServer(s.srv, &logging{s: s})
	fnpb.RegisterBeamFnStateServer(s.srv, &state{s: s})
	go s.srv.Serve(lis)
	return s, nil
}

// URL is the address workers dial, e.g. "unix:///tmp/weir-fn-1/fn.sock".
func (s *Server) URL() string { return "unix://" + s.sock }

// Refused is the number of streams refused for lack of a known worker id.
func (s *Server) Refused() int64 { return s.refused.Load() }

// AddDescriptor makes a ProcessBundleDescriptor available to workers.
func (s *Server) AddDescriptor(d *fnpb.ProcessBundleDescriptor) {
	s.mu.Lock()
	s.descriptors[d.GetId()] = d
	s.mu.Unlock()
}

// NewWorkerID returns a fresh worker id: a readable name plus a random secret.
func NewWorkerID(name string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return name + "-" + hex.EncodeToString(b[:])
}

// Expect registers a worker id before its process starts; only expected
// workers may open streams.
func (s *Server) Expect(id string) *Worker {
	w := newWorker(s, id)
	s.mu.Lock()
	s.workers[id] = w
	s.mu.Unlock()
	return w
}

// Forget drops a worker: its streams are refused from now on.
func (s *Server) Forget(w *Worker) {
	s.mu.Lock()
	if s.workers[w.id] == w {
		delete(s.workers, w.id)
	}
	s.mu.Unlock()
	w.fail(ErrWorkerGone)
}

// Stop stops the services, gracefully for up to grace, then forcibly, and
// removes the socket directory.
func (s *Server) Stop(grace time.Duration) {
	s.mu.Lock()
	ws := make([]*Worker, 0, len(s.workers))
	for _, w := range s.workers {
		ws = append(ws, w)
	}
	s.mu.Unlock()
	for _, w := range ws {
		w.fail(ErrWorkerGone)
	}
	done := make(chan struct{})
	go func() { s.srv.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		s.srv.Stop()
	}
	os.RemoveAll(s.dir)
}

func (s *Server) instructionID() string {
	return fmt.Sprintf("i%d", s.nextInstruction.Add(1))
}

type workerKey struct{}

// authenticate admits a stream only if it names an expected worker.
func (s *Server) authenticate(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	w, err := s.workerOf(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return handler(srv, &workerStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), workerKey{}, w)})
}

func (s *Server) authenticateUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	w, err := s.workerOf(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(context.WithValue(ctx, workerKey{}, w), req)
}

func (s *Server) workerOf(ctx context.Context, method string) (*Worker, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	ids := md.Get("worker_id")
	if len(ids) == 1 {
		s.mu.Lock()
		w := s.workers[ids[0]]
		s.mu.Unlock()
		if w != nil {
			return w, nil
		}
	}
	s.refused.Add(1)
	s.log.Warn("fnapi: refused a stream without a known worker id", "method", method)
	return nil, status.Error(codes.PermissionDenied, "weir: unknown worker id")
}

type workerStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w *workerStream) Context() context.Context { return w.ctx }

func workerFrom(ctx context.Context) *Worker { return ctx.Value(workerKey{}).(*Worker) }

// ErrWorkerGone means the worker's connection ended or it was stopped; its
// unfinished bundles can be replayed elsewhere.
var ErrWorkerGone = errors.New("worker connection lost")
