package fnapi

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	"google.golang.org/grpc"
)

// TestMessageTooLarge: a data message over the server's limit fails the
// worker's bundles with a TooLargeError, which is not ErrWorkerGone: the
// engine must not replay a bundle that would fail the same way again. The
// server's limit is 1 MiB here, not 256 MiB, so that the test does not
// depend on how fast a loaded machine sends 256 MiB.
func TestMessageTooLarge(t *testing.T) {
	const limit = 1 << 20
	s, err := newServer(slog.New(slog.NewTextHandler(io.Discard, nil)), limit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(time.Second) })
	id := NewWorkerID("w")
	w := s.Expect(id)
	s.AddDescriptor(&fnpb.ProcessBundleDescriptor{Id: "d1"})
	ctrl, data, ctx := dial(t, s, id)
	cs, err := ctrl.Control(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Data(ctx, grpc.MaxCallSendMsgSize(2*limit))
	if err != nil {
		t.Fatal(err)
	}
	<-w.Connected()
	b, err := w.StartBundle("d1", "source", "sink")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Recv(); err != nil {
		t.Fatal(err)
	}
	// A message just under the limit is delivered: the limit, not
	// something else, fails the next one.
	under := make([]byte, limit-64)
	if err := ds.Send(&fnpb.Elements{Data: []*fnpb.Elements_Data{{InstructionId: b.ID(), TransformId: "sink", Data: under}}}); err != nil {
		t.Fatal(err)
	}
	over := make([]byte, limit+1)
	_ = ds.Send(&fnpb.Elements{Data: []*fnpb.Elements_Data{{InstructionId: b.ID(), TransformId: "sink", Data: over}}})
	out, err := b.Result()
	var tl *TooLargeError
	if !errors.As(err, &tl) || errors.Is(err, ErrWorkerGone) {
		t.Fatalf("Result() error = %v, want a TooLargeError that is not ErrWorkerGone", err)
	}
	if !strings.Contains(err.Error(), "limit of 1 MiB") || !strings.Contains(err.Error(), "larger than max") {
		t.Errorf("error does not say what limit: %v", err)
	}
	if len(out) != 1 || len(out[0]) != len(under) {
		t.Errorf("output before the failure: %d chunks, want the one under the limit", len(out))
	}
	// The engine's own limit, as its error states it.
	if msg := (&TooLargeError{Limit: maxMessage}).Error(); !strings.Contains(msg, "limit of 256 MiB") {
		t.Errorf("error of the engine's limit: %s", msg)
	}
}
