package pyexec

import (
	"fmt"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"

	"github.com/weir-dev/weir/internal/weirpb"
)

// URNs of weir's transforms in the worker.
const (
	ScalarFunctionURN = "weir:transform:scalar_function:v1"
	TableFunctionURN  = "weir:transform:table_function:v1"
	// ArrowFunctionURN runs vectorized (pandas and Arrow) functions over
	// elements that are Arrow IPC streams (python/weir/_vectorized.py).
	ArrowFunctionURN = "weir:transform:arrow_function:v1"
)

// Transform ids inside every stage descriptor.
const (
	sourceID = "source"
	stageID  = "stage"
	sinkID   = "sink"
)

// descriptor builds the ProcessBundleDescriptor of a stage: data source ->
// weir transform -> data sink. Data ports use Beam's standard windowed-value
// coder over bytes, each element being one batch of rows in weir's format.
func descriptor(id, dataURL string, st *weirpb.Stage) (*fnpb.ProcessBundleDescriptor, error) {
	payload, err := proto.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("pyexec: encode stage: %w", err)
	}
	urn := ScalarFunctionURN
	switch st.GetKind() {
	case weirpb.Stage_TABLE:
		urn = TableFunctionURN
	case weirpb.Stage_VECTORIZED:
		urn = ArrowFunctionURN
	}
	port, err := proto.Marshal(&fnpb.RemoteGrpcPort{
		ApiServiceDescriptor: &pipepb.ApiServiceDescriptor{Url: dataURL},
		CoderId:              "wv",
	})
	if err != nil {
		return nil, err
	}
	pc := func() *pipepb.PCollection {
		return &pipepb.PCollection{CoderId: "wv", WindowingStrategyId: "global", IsBounded: pipepb.IsBounded_BOUNDED}
	}
	return &fnpb.ProcessBundleDescriptor{
		Id: id,
		// The harness opens a state channel for every bundle; point it at
		// our state service, which answers every request with an error.
		StateApiServiceDescriptor: &pipepb.ApiServiceDescriptor{Url: dataURL},
		Transforms: map[string]*pipepb.PTransform{
			sourceID: {
				UniqueName: "source",
				Spec:       &pipepb.FunctionSpec{Urn: "beam:runner:source:v1", Payload: port},
				Outputs:    map[string]string{"out": "rows"},
			},
			stageID: {
				UniqueName: st.GetName(),
				Spec:       &pipepb.FunctionSpec{Urn: urn, Payload: payload},
				Inputs:     map[string]string{"in": "rows"},
				Outputs:    map[string]string{"out": "results"},
			},
			sinkID: {
				UniqueName: "sink",
				Spec:       &pipepb.FunctionSpec{Urn: "beam:runner:sink:v1", Payload: port},
				Inputs:     map[string]string{"in": "results"},
			},
		},
		Pcollections: map[string]*pipepb.PCollection{"rows": pc(), "results": pc()},
		WindowingStrategies: map[string]*pipepb.WindowingStrategy{"global": {
			WindowFn:         &pipepb.FunctionSpec{Urn: "beam:window_fn:global_windows:v1"},
			MergeStatus:      pipepb.MergeStatus_NON_MERGING,
			WindowCoderId:    "gw",
			Trigger:          &pipepb.Trigger{Trigger: &pipepb.Trigger_Default_{Default: &pipepb.Trigger_Default{}}},
			AccumulationMode: pipepb.AccumulationMode_DISCARDING,
			OutputTime:       pipepb.OutputTime_END_OF_WINDOW,
			ClosingBehavior:  pipepb.ClosingBehavior_EMIT_IF_NONEMPTY,
			OnTimeBehavior:   pipepb.OnTimeBehavior_FIRE_ALWAYS,
		}},
		Coders: map[string]*pipepb.Coder{
			"bytes": {Spec: &pipepb.FunctionSpec{Urn: "beam:coder:bytes:v1"}},
			"gw":    {Spec: &pipepb.FunctionSpec{Urn: "beam:coder:global_window:v1"}},
			"wv":    {Spec: &pipepb.FunctionSpec{Urn: "beam:coder:windowed_value:v1"}, ComponentCoderIds: []string{"bytes", "gw"}},
		},
	}, nil
}
