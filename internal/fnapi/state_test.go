package fnapi

import (
	"context"
	"strings"
	"testing"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// echoState answers a get with its state key's runner key and counts the
// requests it was given.
type echoState struct{ n int }

func (e *echoState) HandleState(req *fnpb.StateRequest) *fnpb.StateResponse {
	e.n++
	return &fnpb.StateResponse{Id: "overwritten", Response: &fnpb.StateResponse_Get{Get: &fnpb.StateGetResponse{Data: req.GetStateKey().GetRunner().GetKey()}}}
}

// TestStateRouting: over a real gRPC state stream, a request reaches the
// handler of the bundle its instruction id names and is answered with the
// request's id; a bundle started without a handler, an unknown instruction
// and a stranger get errors.
func TestStateRouting(t *testing.T) {
	s := newTestServer(t)
	id := NewWorkerID("w")
	w := s.Expect(id)
	ctrl, _, ctx := dial(t, s, id)
	cs, err := ctrl.Control(ctx)
	if err != nil {
		t.Fatal(err)
	}
	<-w.Connected()
	h := &echoState{}
	stateful, err := w.StartStatefulBundle("d1", "source", "sink", h)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := w.StartBundle("d1", "source", "sink")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := cs.Recv(); err != nil { // the two ProcessBundle requests
			t.Fatal(err)
		}
	}
	conn, err := grpc.NewClient(s.URL(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	st, err := fnpb.NewBeamFnStateClient(conn).State(ctx) // ctx carries the worker id
	if err != nil {
		t.Fatal(err)
	}
	ask := func(reqID, instruction string) *fnpb.StateResponse {
		t.Helper()
		if err := st.Send(&fnpb.StateRequest{Id: reqID, InstructionId: instruction,
			StateKey: &fnpb.StateKey{Type: &fnpb.StateKey_Runner_{Runner: &fnpb.StateKey_Runner{Key: []byte("k-" + reqID)}}},
			Request:  &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{}}}); err != nil {
			t.Fatal(err)
		}
		r, err := st.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if r.GetId() != reqID {
			t.Fatalf("answer to request %q has id %q", reqID, r.GetId())
		}
		return r
	}
	if r := ask("1", stateful.ID()); r.GetError() != "" || string(r.GetGet().GetData()) != "k-1" || h.n != 1 {
		t.Errorf("stateful bundle: %v (handler calls %d)", r, h.n)
	}
	if r := ask("2", plain.ID()); !strings.Contains(r.GetError(), "not supported by this stage") {
		t.Errorf("bundle without state: %v", r)
	}
	if r := ask("3", "i999999"); !strings.Contains(r.GetError(), "not a running bundle") {
		t.Errorf("unknown instruction: %v", r)
	}
	if stateful.State() != h || plain.State() != nil {
		t.Errorf("State() of the bundles: %v, %v", stateful.State(), plain.State())
	}
	// A stranger cannot reach the state service.
	bad, err := fnpb.NewBeamFnStateClient(conn).State(metadata.AppendToOutgoingContext(context.Background(), "worker_id", NewWorkerID("nobody")))
	if err == nil {
		_ = bad.Send(&fnpb.StateRequest{Id: "x", InstructionId: stateful.ID()})
		_, err = bad.Recv()
	}
	if err == nil || h.n != 1 {
		t.Errorf("stranger's state request: %v (handler calls %d)", err, h.n)
	}
}
