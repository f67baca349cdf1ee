package fnapi

import (
	"errors"
	"strings"
	"testing"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	"google.golang.org/grpc"
)

// TestMessageTooLarge: a data message over the server's limit fails the
// worker's bundles with a TooLargeError, which is not ErrWorkerGone: the
// engine must not replay a bundle that would fail the same way again.
func TestMessageTooLarge(t *testing.T) {
	s := newTestServer(t)
	id := NewWorkerID("w")
	w := s.Expect(id)
	s.AddDescriptor(&fnpb.ProcessBundleDescriptor{Id: "d1"})
	ctrl, data, ctx := dial(t, s, id)
	cs, err := ctrl.Control(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Data(ctx, grpc.MaxCallSendMsgSize(maxMessage+(1<<20)))
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
	big := make([]byte, maxMessage+1)
	_ = ds.Send(&fnpb.Elements{Data: []*fnpb.Elements_Data{{InstructionId: b.ID(), TransformId: "sink", Data: big}}})
	_, err = b.Result()
	var tl *TooLargeError
	if !errors.As(err, &tl) || errors.Is(err, ErrWorkerGone) {
		t.Fatalf("Result() error = %v, want a TooLargeError that is not ErrWorkerGone", err)
	}
	if !strings.Contains(err.Error(), "256 MiB") || !strings.Contains(err.Error(), "larger than max") {
		t.Errorf("error does not say what limit: %v", err)
	}
}
