package fnapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func newTestServer(t *testing.T) *Server {
	t.Helper()
	s, err := NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(time.Second) })
	return s
}

func dial(t *testing.T, s *Server, workerID string) (fnpb.BeamFnControlClient, fnpb.BeamFnDataClient, context.Context) {
	t.Helper()
	conn, err := grpc.NewClient(s.URL(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	if workerID != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "worker_id", workerID)
	}
	return fnpb.NewBeamFnControlClient(conn), fnpb.NewBeamFnDataClient(conn), ctx
}

// TestSocketIsPrivate: the socket's directory is open to its owner only.
func TestSocketIsPrivate(t *testing.T) {
	s := newTestServer(t)
	st, err := os.Stat(filepath.Dir(s.sock))
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o700 {
		t.Errorf("socket directory mode = %o, want 700", perm)
	}
}

// TestStrangersRefused: a client without a known worker id can neither
// read instructions, send or read data, nor fetch descriptors.
func TestStrangersRefused(t *testing.T) {
	s := newTestServer(t)
	s.Expect(NewWorkerID("real"))
	s.AddDescriptor(&fnpb.ProcessBundleDescriptor{Id: "d1"})
	for _, id := range []string{"", "real", NewWorkerID("real")} {
		ctrl, data, ctx := dial(t, s, id)
		cs, err := ctrl.Control(ctx)
		if err == nil {
			_, err = cs.Recv()
		}
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("worker id %q: Control gave %v, want PermissionDenied", id, err)
		}
		ds, err := data.Data(ctx)
		if err == nil {
			_ = ds.Send(&fnpb.Elements{Data: []*fnpb.Elements_Data{{InstructionId: "i1", TransformId: "sink", Data: []byte("x")}}})
			_, err = ds.Recv()
		}
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("worker id %q: Data gave %v, want PermissionDenied", id, err)
		}
		if _, err := ctrl.GetProcessBundleDescriptor(ctx, &fnpb.GetProcessBundleDescriptorRequest{ProcessBundleDescriptorId: "d1"}); status.Code(err) != codes.PermissionDenied {
			t.Errorf("worker id %q: GetProcessBundleDescriptor gave %v, want PermissionDenied", id, err)
		}
	}
	if s.Refused() < 9 {
		t.Errorf("Refused() = %d, want >= 9", s.Refused())
	}
}

// TestBundleLifecycle plays the SDK harness with a real gRPC client: a
// bundle completes only when both its response and is_last have arrived,
// and instruction ids are never reused.
func TestBundleLifecycle(t *testing.T) {
	s := newTestServer(t)
	id := NewWorkerID("w")
	w := s.Expect(id)
	s.AddDescriptor(&fnpb.ProcessBundleDescriptor{Id: "d1"})
	ctrl, data, ctx := dial(t, s, id)
	cs, err := ctrl.Control(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Data(ctx)
	if err != nil {
		t.Fatal(err)
	}
	<-w.Connected()
	seen := map[string]bool{}
	for round := 0; round < 3; round++ {
		b, err := w.StartBundle("d1", "source", "sink")
		if err != nil {
			t.Fatal(err)
		}
		if seen[b.ID()] {
			t.Fatalf("instruction id %s reused", b.ID())
		}
		seen[b.ID()] = true
		req, err := cs.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if req.GetInstructionId() != b.ID() || req.GetProcessBundle().GetProcessBundleDescriptorId() != "d1" {
			t.Fatalf("got request %v", req)
		}
		if err := b.Send(ctx, []byte("in"), true); err != nil {
			t.Fatal(err)
		}
		in, err := ds.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if got := in.GetData()[0]; string(got.GetData()) != "in" || !got.GetIsLast() || got.GetTransformId() != "source" {
			t.Fatalf("worker received %v", got)
		}
		ds.Send(&fnpb.Elements{Data: []*fnpb.Elements_Data{{InstructionId: b.ID(), TransformId: "sink", Data: []byte("out")}}})
		cs.Send(&fnpb.InstructionResponse{InstructionId: b.ID(), Response: &fnpb.InstructionResponse_ProcessBundle{ProcessBundle: &fnpb.ProcessBundleResponse{}}})
		select {
		case <-b.Done():
			t.Fatal("bundle done before is_last arrived")
		case <-time.After(100 * time.Millisecond):
		}
		ds.Send(&fnpb.Elements{Data: []*fnpb.Elements_Data{{InstructionId: b.ID(), TransformId: "sink", Data: []byte("put"), IsLast: true}}})
		chunks, err := b.Result()
		if out := string(bytes.Join(chunks, nil)); err != nil || out != "output" {
			t.Fatalf("Result() = %q, %v; want \"output\"", chunks, err)
		}
	}
	// A failed bundle completes on its error response alone.
	b, _ := w.StartBundle("d1", "source", "sink")
	cs.Recv()
	cs.Send(&fnpb.InstructionResponse{InstructionId: b.ID(), Error: "Traceback: boom"})
	if _, err := b.Result(); err == nil || err.Error() != "Traceback: boom" {
		t.Fatalf("Result() error = %v, want the worker's message", err)
	}
	// A worker that goes away fails its unfinished bundles with ErrWorkerGone.
	b, _ = w.StartBundle("d1", "source", "sink")
	cs.CloseSend()
	if _, err := b.Result(); err == nil || !errors.Is(err, ErrWorkerGone) {
		t.Fatalf("Result() error = %v, want ErrWorkerGone", err)
	}
}
