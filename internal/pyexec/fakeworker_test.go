package pyexec

// A fake Python worker for the pool's tests: the test binary runs itself as
// the worker process (TestMain picks the role by environment), speaks the
// Fn API to the real server, echoes each input element as its result (an
// identity function over one BIGINT column) and dies when its script says so.
//
// The script (fakeScriptEnv) is a comma-separated list of rules
// "<worker>:<trigger>:<action>". <worker> is a worker name as the pool
// gives it ("worker-0" for the first process of slot 0, "worker-0.2" for its
// first replacement) or "*". Triggers: "start" (before connecting),
// "bundle=N" (at the first element of the N-th bundle it is given) and
// "value=V" (at an input row equal to V). Actions: "kill" (SIGKILL itself)
// and "exit" (exit code 3); "killonce" and "exitonce" act only in the first
// worker that meets the trigger. Besides rules, "delay=D" makes every element
// take D, like a CPU-bound function.

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/weir-dev/weir/internal/coder"
	"github.com/weir-dev/weir/internal/types"
)

const (
	fakeWorkerEnv = "WEIR_TEST_FAKE_WORKER"
	fakeScriptEnv = "WEIR_TEST_FAKE_SCRIPT"
	fakeOnceEnv   = "WEIR_TEST_FAKE_ONCE"
)

func TestMain(m *testing.M) {
	if os.Getenv(fakeWorkerEnv) == "1" {
		if err := fakeWorker(); err != nil {
			fmt.Fprintln(os.Stderr, "fake worker:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type fakeRule struct{ trigger, action string }

// fakeScript is the part of the script that applies to worker name.
type fakeScript struct {
	rules []fakeRule
	delay time.Duration
}

func parseFakeScript(s, name string) fakeScript {
	var fs fakeScript
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSpace(r)
		if d, ok := strings.CutPrefix(r, "delay="); ok {
			fs.delay, _ = time.ParseDuration(d)
			continue
		}
		f := strings.Split(r, ":")
		if len(f) == 3 && (f[0] == "*" || f[0] == name) {
			fs.rules = append(fs.rules, fakeRule{f[1], f[2]})
		}
	}
	return fs
}

// fire carries out the action of the first rule whose trigger is trigger.
func (fs fakeScript) fire(trigger string) {
	for _, r := range fs.rules {
		if r.trigger != trigger {
			continue
		}
		action, once := strings.CutSuffix(r.action, "once")
		if once {
			// Only the first worker to get here acts.
			f, err := os.OpenFile(filepath.Join(os.Getenv(fakeOnceEnv), strings.ReplaceAll(trigger, "=", "-")), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				continue
			}
			f.Close()
		}
		fmt.Fprintf(os.Stderr, "fake worker: %s: %s\n", trigger, action)
		switch action {
		case "kill":
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Hour)
		default:
			os.Exit(3)
		}
	}
}

func fakeWorker() error {
	id := os.Getenv("WORKER_ID")
	name := id[:strings.LastIndexByte(id, '-')]
	script := parseFakeScript(os.Getenv(fakeScriptEnv), name)
	script.fire("start")
	desc := os.Getenv("CONTROL_API_SERVICE_DESCRIPTOR")
	url, err := strconv.Unquote(strings.TrimSpace(strings.TrimPrefix(desc, "url:")))
	if err != nil {
		return fmt.Errorf("descriptor %q: %w", desc, err)
	}
	conn, err := grpc.NewClient(url, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "worker_id", id)
	ctrl, err := fnpb.NewBeamFnControlClient(conn).Control(ctx)
	if err != nil {
		return err
	}
	data, err := fnpb.NewBeamFnDataClient(conn).Data(ctx)
	if err != nil {
		return err
	}
	f := &fake{script: script, ctrl: ctrl, data: data, bundles: map[string]*fakeBundle{}}
	go f.readData()
	for {
		req, err := ctrl.Recv()
		if err != nil {
			return nil // the engine ended the stream: stop
		}
		switch r := req.GetRequest().(type) {
		case *fnpb.InstructionRequest_ProcessBundle:
			f.mu.Lock()
			f.started++
			n := f.started
			f.mu.Unlock()
			go f.process(req.GetInstructionId(), n)
		case *fnpb.InstructionRequest_ProcessBundleProgress:
			rows := f.bundle(r.ProcessBundleProgress.GetInstructionId()).rows()
			f.sendCtrl(&fnpb.InstructionResponse{InstructionId: req.GetInstructionId(), Response: &fnpb.InstructionResponse_ProcessBundleProgress{
				ProcessBundleProgress: &fnpb.ProcessBundleProgressResponse{MonitoringInfos: []*pipepb.MonitoringInfo{{
					Urn: "beam:metric:user:sum_int64:v1", Labels: map[string]string{"NAMESPACE": progressNamespace},
					Payload: binary.AppendUvarint(nil, uint64(rows)),
				}}},
			}})
		default:
			f.sendCtrl(&fnpb.InstructionResponse{InstructionId: req.GetInstructionId(), Error: "fake worker: unsupported request"})
		}
	}
}

type fake struct {
	script fakeScript
	ctrl   fnpb.BeamFnControl_ControlClient
	data   fnpb.BeamFnData_DataClient

	mu      sync.Mutex
	started int
	bundles map[string]*fakeBundle
	ctrlMu  sync.Mutex
	dataMu  sync.Mutex
}

type fakeBundle struct {
	in chan *fnpb.Elements_Data
	mu sync.Mutex
	n  int
}

func (b *fakeBundle) rows() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

func (f *fake) bundle(id string) *fakeBundle {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.bundles[id]
	if b == nil {
		b = &fakeBundle{in: make(chan *fnpb.Elements_Data, 1<<16)}
		f.bundles[id] = b
	}
	return b
}

func (f *fake) sendCtrl(r *fnpb.InstructionResponse) {
	f.ctrlMu.Lock()
	defer f.ctrlMu.Unlock()
	_ = f.ctrl.Send(r)
}

func (f *fake) sendData(d *fnpb.Elements_Data) {
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	_ = f.data.Send(&fnpb.Elements{Data: []*fnpb.Elements_Data{d}})
}

func (f *fake) readData() {
	for {
		msg, err := f.data.Recv()
		if err != nil {
			return
		}
		for _, d := range msg.GetData() {
			f.bundle(d.GetInstructionId()).in <- d
		}
	}
}

// process runs the n-th bundle given to this worker: each element is
// checked against the script and echoed.
func (f *fake) process(id string, n int) {
	b := f.bundle(id)
	first := true
	for d := range b.in {
		if first {
			first = false
			f.script.fire(fmt.Sprintf("bundle=%d", n))
		}
		if d.GetIsLast() {
			break
		}
		vals, err := splitElements(d.GetData())
		if err != nil {
			f.sendCtrl(&fnpb.InstructionResponse{InstructionId: id, Error: err.Error()})
			return
		}
		for _, v := range vals {
			for _, x := range fakeValues(v) {
				f.script.fire(fmt.Sprintf("value=%d", x))
				b.mu.Lock()
				b.n++
				b.mu.Unlock()
			}
		}
		time.Sleep(f.script.delay)
		f.sendData(&fnpb.Elements_Data{InstructionId: id, TransformId: sinkID, Data: d.GetData()})
	}
	f.sendData(&fnpb.Elements_Data{InstructionId: id, TransformId: sinkID, IsLast: true})
	f.sendCtrl(&fnpb.InstructionResponse{InstructionId: id, Response: &fnpb.InstructionResponse_ProcessBundle{ProcessBundle: &fnpb.ProcessBundleResponse{}}})
	f.mu.Lock()
	delete(f.bundles, id)
	f.mu.Unlock()
}

// fakeValues decodes a batch of one BIGINT NOT NULL column.
func fakeValues(v []byte) []int64 {
	dec := coder.NewDecoder(memory.DefaultAllocator, []types.T{types.BIGINT.NotNull()})
	defer dec.Release()
	if _, err := dec.Decode(v); err != nil {
		return nil
	}
	arrs := dec.NewArrays()
	defer arrs[0].Release()
	return append([]int64(nil), arrs[0].(*array.Int64).Int64Values()...)
}
