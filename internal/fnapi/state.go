package fnapi

import (
	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
)

// StateHandler answers the Fn API state requests of one bundle. weir's
// keyed stages give each bundle attempt its own handler, which reads the
// engine's committed state and stages the bundle's writes until the bundle
// has completed (internal/pyexec/keyed.go); fnapi only routes requests.
//
// HandleState is called on the state stream's goroutine, one request at a
// time per worker; it must not block for long.
type StateHandler interface {
	HandleState(req *fnpb.StateRequest) *fnpb.StateResponse
}

// state implements BeamFnState: each request goes to the handler of the
// bundle named by its instruction id. A bundle without one (every stage but
// a keyed one) gets a clear error instead of a hang.
type state struct {
	fnpb.UnimplementedBeamFnStateServer
	s *Server
}

func (st *state) State(stream fnpb.BeamFnState_StateServer) error {
	w := workerFrom(stream.Context())
	for {
		req, err := stream.Recv()
		if err != nil {
			return nil
		}
		resp := w.handleState(req)
		resp.Id = req.GetId()
		if err := stream.Send(resp); err != nil {
			return nil
		}
	}
}

func (w *Worker) handleState(req *fnpb.StateRequest) *fnpb.StateResponse {
	b := w.bundle(req.GetInstructionId())
	if b == nil {
		return &fnpb.StateResponse{Error: "weir: state request for instruction " + req.GetInstructionId() + ", which is not a running bundle of this worker"}
	}
	if b.state == nil {
		return &fnpb.StateResponse{Error: "weir: the Beam state API is not supported by this stage; only weir's keyed aggregate stages keep state"}
	}
	return b.state.HandleState(req)
}

// StartStatefulBundle is StartBundle for a bundle whose state requests go
// to h. h is attached before the worker hears of the bundle, so no request
// can miss it.
func (w *Worker) StartStatefulBundle(desc, source, sink string, h StateHandler) (*Bundle, error) {
	return w.startBundle(desc, source, sink, h)
}

// State is the handler given to StartStatefulBundle, or nil.
func (b *Bundle) State() StateHandler { return b.state }
