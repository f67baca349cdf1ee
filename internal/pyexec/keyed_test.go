package pyexec

// Tests of keyed stages: the state requests' handling, and whole runs on
// fake keyed workers (this test binary run as a worker process, as in
// fakeworker_test.go) that keep a per-key SUM in the engine's state through
// the real state service, killed at random: the changelog must be exact
// and consistent, which it cannot be if a bundle saw stale state (bundles of
// one partition overlapping, or a dead attempt's writes applied).

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/weir-dev/weir/internal/coder"
	"github.com/weir-dev/weir/internal/state"
	"github.com/weir-dev/weir/internal/types"
	"github.com/weir-dev/weir/internal/weirpb"
)

const (
	fakeKeyedEnv = "WEIR_TEST_FAKE_KEYED_WORKER"
	// fakeKillEnv: a directory of marks and the per-bundle chance (percent)
	// that a fake keyed worker SIGKILLs itself after its state write was
	// acknowledged, before answering the bundle.
	fakeKillDirEnv = "WEIR_TEST_FAKE_KILL_DIR"
	fakeKillPctEnv = "WEIR_TEST_FAKE_KILL_PCT"
	fakeKillMaxEnv = "WEIR_TEST_FAKE_KILL_MAX"
	// fakeHitDirEnv: a directory where a fake keyed worker leaves a mark
	// when it found a key's sum in what it kept from its last bundle.
	fakeHitDirEnv = "WEIR_TEST_FAKE_HIT_DIR"
)

func init() {
	if os.Getenv(fakeKeyedEnv) == "1" {
		if err := fakeKeyedWorker(); err != nil {
			fmt.Fprintln(os.Stderr, "fake keyed worker:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
}

func getReq(keys ...string) *fnpb.StateRequest {
	p := []byte{'G'}
	for _, k := range keys {
		p = binary.AppendUvarint(p, uint64(len(k)))
		p = append(p, k...)
	}
	return &fnpb.StateRequest{StateKey: runnerKey(p), Request: &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{}}}
}

func runnerKey(p []byte) *fnpb.StateKey {
	return &fnpb.StateKey{Type: &fnpb.StateKey_Runner_{Runner: &fnpb.StateKey_Runner{Key: p}}}
}

// putReq writes kv: a nil value deletes.
func putReq(kv ...[]byte) *fnpb.StateRequest {
	var d []byte
	for i := 0; i < len(kv); i += 2 {
		d = binary.AppendUvarint(d, uint64(len(kv[i])))
		d = append(d, kv[i]...)
		if kv[i+1] == nil {
			d = binary.AppendUvarint(d, 0)
			continue
		}
		d = binary.AppendUvarint(d, uint64(len(kv[i+1]))+1)
		d = append(d, kv[i+1]...)
	}
	return &fnpb.StateRequest{StateKey: runnerKey([]byte{'P'}), Request: &fnpb.StateRequest_Append{Append: &fnpb.StateAppendRequest{Data: d}}}
}

// parseGet splits a get answer into values (nil: none).
func parseGet(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(data) > 0 {
		n, k := binary.Uvarint(data)
		if k <= 0 {
			t.Fatalf("bad get answer")
		}
		data = data[k:]
		if n == 0 {
			out = append(out, nil)
			continue
		}
		out = append(out, data[:n-1])
		data = data[n-1:]
	}
	return out
}

// TestKeyedStateRequests: a get answers every key of its list, present,
// absent or empty-valued; an attempt's writes are invisible until applied,
// and those of an attempt never applied stay invisible; malformed requests
// and other state keys get errors, not panics.
func TestKeyedStateRequests(t *testing.T) {
	store := state.NewMemory()
	defer store.Close()
	ks := &keyedState{store: store}
	var b state.Batch
	b.Put([]byte("a"), []byte("1"))
	b.Put([]byte("e"), []byte{})
	if err := ks.apply(&b); err != nil {
		t.Fatal(err)
	}
	a1 := &keyedAttempt{st: ks}
	r := a1.HandleState(getReq("a", "zz", "e"))
	if r.GetError() != "" {
		t.Fatal(r.GetError())
	}
	got := parseGet(t, r.GetGet().GetData())
	if len(got) != 3 || string(got[0]) != "1" || got[1] != nil || got[2] == nil || len(got[2]) != 0 {
		t.Fatalf("get a, zz, e = %q", got)
	}
	if r := a1.HandleState(putReq([]byte("a"), []byte("2"), []byte("n"), []byte("new"), []byte("e"), nil)); r.GetError() != "" {
		t.Fatal(r.GetError())
	}
	// A second attempt of the same bundle (its replay) reads the state as
	// of the bundle's start.
	a2 := &keyedAttempt{st: ks}
	got = parseGet(t, a2.HandleState(getReq("a", "n")).GetGet().GetData())
	if string(got[0]) != "1" || got[1] != nil {
		t.Fatalf("a replay sees %q, want the state before the first attempt's writes", got)
	}
	a2.HandleState(putReq([]byte("a"), []byte("3")))
	a2.mu.Lock()
	if err := ks.apply(&a2.writes); err != nil {
		t.Fatal(err)
	}
	a2.mu.Unlock()
	got = parseGet(t, (&keyedAttempt{st: ks}).HandleState(getReq("a", "n", "e")).GetGet().GetData())
	if string(got[0]) != "3" || got[1] != nil || got[2] == nil {
		t.Fatalf("after the replay's writes: %q; the dead attempt's writes must not count", got)
	}
	for name, req := range map[string]*fnpb.StateRequest{
		"truncated key list": {StateKey: runnerKey([]byte{'G', 9, 'x'}), Request: &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{}}},
		"truncated value":    {StateKey: runnerKey([]byte{'P'}), Request: &fnpb.StateRequest_Append{Append: &fnpb.StateAppendRequest{Data: []byte{1, 'k', 9, 'v'}}}},
		"unknown request":    {StateKey: runnerKey([]byte{'X'}), Request: &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{}}},
		"bag user state":     {StateKey: &fnpb.StateKey{Type: &fnpb.StateKey_BagUserState_{BagUserState: &fnpb.StateKey_BagUserState{}}}, Request: &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{}}},
		"clear":              {StateKey: runnerKey([]byte{'P'}), Request: &fnpb.StateRequest_Clear{Clear: &fnpb.StateClearRequest{}}},
	} {
		if r := a1.HandleState(req); r.GetError() == "" {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestKeyedPartTake: a bundle takes at most the row limit and about the
// byte limit (at least one row), in elements of about the element limit (at
// least one row each), whatever chunks the rows came in; the rest stays.
func TestKeyedPartTake(t *testing.T) {
	var rows []byte
	for i := 0; i < 10; i++ {
		rows = binary.AppendUvarint(rows, 10)
		rows = append(rows, bytes.Repeat([]byte{byte(i)}, 10)...)
	}
	for _, cuts := range [][]int{nil, {3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}, {5, 9}} {
		for _, c := range []struct{ maxRows, maxBytes, maxElement, n int }{
			{3, 1000, 1000, 3}, {100, 1000, 1000, 10}, {100, 50, 1000, 4}, {100, 5, 1000, 1}, {1, 1, 1, 1},
			{100, 1000, 30, 10}, {100, 1000, 1, 10}, {7, 1000, 25, 7},
		} {
			var p keyedPart
			from := 0
			for _, cut := range append(cuts, 10) {
				p.push(rows[from*11:cut*11], cut-from, time.Now())
				from = cut
			}
			els, counts, n := p.take(c.maxRows, c.maxBytes, c.maxElement)
			what := fmt.Sprintf("chunks cut at %v, take(%d rows, %d bytes, %d per element)", cuts, c.maxRows, c.maxBytes, c.maxElement)
			if n != c.n*11 {
				t.Errorf("%s: %d bytes taken, want %d", what, n, c.n*11)
			}
			var got []byte
			total := 0
			for j, el := range els {
				body := el[elementReserve:]
				if counts[j] < 1 || len(body) != counts[j]*11 || (counts[j] > 1 && len(body) > c.maxElement) {
					t.Errorf("%s: element %d has %d bytes for %d rows", what, j, len(body), counts[j])
				}
				got = append(got, body...)
				total += counts[j]
			}
			if total != c.n || !bytes.Equal(got, rows[:c.n*11]) {
				t.Errorf("%s: took %d rows %x, want the first %d", what, total, got, c.n)
			}
			var rest []byte
			for _, ch := range p.pending {
				rest = append(rest, ch...)
			}
			if p.rows != 10-c.n || p.bytes != len(rest) || !bytes.Equal(rest, rows[c.n*11:]) {
				t.Errorf("%s: left %d rows, %d bytes %x; want the last %d", what, p.rows, p.bytes, rest, 10-c.n)
			}
		}
	}
}

// keyedTestPool starts workers that are fake keyed workers.
func keyedTestPool(t *testing.T, workers int, env map[string]string, tweak func(*Config)) *Pool {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeKeyedEnv, "1")
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg := Config{Python: exe, Workers: workers, InFlight: 2, BundleRows: 50, BundleTime: 20 * time.Millisecond,
		MaxAttempts: 20, StartupTimeout: 20 * time.Second, ProgressTimeout: 30 * time.Second}
	if tweak != nil {
		tweak(&cfg)
	}
	p, err := NewPool(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// keyedSumStage is a keyed stage over batches (k BIGINT, v BIGINT) whose
// fake workers sum v by k.
func keyedSumStage() *Stage {
	return &Stage{
		Spec:       &weirpb.Stage{Name: "fake keyed sum"},
		InputTypes: []types.T{types.TINYINT.NotNull(), types.BYTES.NotNull(), types.BIGINT.NotNull()},
		Results:    types.Schema{{Name: "s", Type: types.BIGINT.NotNull()}},
		Output: types.Schema{{Name: "k", Type: types.BIGINT.NotNull()}, {Name: "s", Type: types.BIGINT.NotNull()},
			{Name: "$row_kind", Type: types.TINYINT.NotNull()}},
		Keyed: &Keyed{Keys: []int{0}, KeyTypes: []types.T{types.BIGINT.NotNull()}, Args: []int{1}, RowKind: -1},
	}
}

// runKeyedSum sends batches of random (k, v) rows through the stage and
// checks its changelog: per key, each -U repeats the last value emitted,
// and the final values are the sums.
func runKeyedSum(t *testing.T, p *Pool, rows, keys, batch int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	in := make(chan arrow.RecordBatch, 4)
	out := make(chan arrow.RecordBatch, 4)
	want := map[int64]int64{}
	go func() {
		defer close(in)
		for done := 0; done < rows; done += batch {
			n := min(batch, rows-done)
			kb, vb := array.NewInt64Builder(memory.DefaultAllocator), array.NewInt64Builder(memory.DefaultAllocator)
			for i := 0; i < n; i++ {
				k, v := rng.Int64N(int64(keys)), rng.Int64N(1000)-100
				want[k] += v
				kb.Append(k)
				vb.Append(v)
			}
			ka, va := kb.NewArray(), vb.NewArray()
			schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
			in <- array.NewRecordBatch(schema, []arrow.Array{ka, va}, int64(n))
			ka.Release()
			va.Release()
			kb.Release()
			vb.Release()
		}
	}()
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		errc <- p.Run(context.Background(), keyedSumStage(), memory.DefaultAllocator, in, out)
	}()
	last := map[int64]int64{}
	have := map[int64]bool{}
	for rec := range out {
		ks := rec.Column(0).(*array.Int64)
		ss := rec.Column(1).(*array.Int64)
		kinds := rec.Column(2).(*array.Int8)
		for r := 0; r < int(rec.NumRows()); r++ {
			k, s := ks.Value(r), ss.Value(r)
			switch kinds.Value(r) {
			case 0:
				if have[k] {
					t.Fatalf("key %d inserted twice", k)
				}
				have[k], last[k] = true, s
			case 1:
				if !have[k] || last[k] != s {
					t.Fatalf("key %d: -U %d, but its last value was %d (present %v)", k, s, last[k], have[k])
				}
				have[k] = false
			case 2:
				if have[k] {
					t.Fatalf("key %d: +U without -U", k)
				}
				have[k], last[k] = true, s
			default:
				t.Fatalf("unexpected row kind %d", kinds.Value(r))
			}
		}
		rec.Release()
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if len(last) != len(want) {
		t.Fatalf("%d keys in the changelog, want %d", len(last), len(want))
	}
	for k, s := range want {
		if !have[k] || last[k] != s {
			t.Fatalf("key %d: final %d (present %v), want %d", k, last[k], have[k], s)
		}
	}
}

// TestKeyedStageSums: 3 workers, random rows; the changelog folds to the
// sums and is consistent key by key.
func TestKeyedStageSums(t *testing.T) {
	p := keyedTestPool(t, 3, nil, nil)
	runKeyedSum(t, p, 20_000, 500, 777, 1)
}

// TestKeyedStageOneWorker: one partition, whose batches join it whole.
func TestKeyedStageOneWorker(t *testing.T) {
	p := keyedTestPool(t, 1, nil, nil)
	runKeyedSum(t, p, 10_000, 300, 613, 3)
}

// TestKeyedStageKills: workers SIGKILL themselves at random after their
// state writes were acknowledged but before the bundle's answer; the
// replays start from the state as of the bundle's start (a dead attempt's
// writes applied would double values), and later bundles of a partition
// wait for the replay (else they would read stale sums). The workers keep
// their sums between bundles as far as state versions allow and check what
// they kept against the state: a version chain that outlived a replay or
// crossed workers would fail.
func TestKeyedStageKills(t *testing.T) {
	dir, hits := t.TempDir(), t.TempDir()
	p := keyedTestPool(t, 2, map[string]string{fakeKillDirEnv: dir, fakeKillPctEnv: "15", fakeKillMaxEnv: "6", fakeHitDirEnv: hits}, nil)
	runKeyedSum(t, p, 30_000, 300, 500, 2)
	if _, err := os.Stat(filepath.Join(hits, "hit")); err != nil {
		t.Fatalf("no worker used what it kept from its previous bundle (state versions never chained): %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) < 3 {
		t.Fatalf("only %d workers were killed; the test needs kills to mean anything", len(entries))
	}
	if p.Restarts() < len(entries) {
		t.Fatalf("%d kills but %d restarts", len(entries), p.Restarts())
	}
}

// fakeKeyedWorker sums v by key with its state in the engine, as
// weir._state_aggregate does for real functions: the value of a key is its
// sum and count (16 bytes).
func fakeKeyedWorker() error {
	id := os.Getenv("WORKER_ID")
	desc := os.Getenv("CONTROL_API_SERVICE_DESCRIPTOR")
	url, err := strconv.Unquote(strings.TrimSpace(strings.TrimPrefix(desc, "url:")))
	if err != nil {
		return err
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
	st, err := fnpb.NewBeamFnStateClient(conn).State(ctx)
	if err != nil {
		return err
	}
	f := &fakeKeyed{ctrl: ctrl, data: data, st: st, in: map[string]chan *fnpb.Elements_Data{}, waiting: map[string]chan *fnpb.StateResponse{},
		kept: map[string]map[string][2]int64{}}
	go f.readData()
	go f.readState()
	for {
		req, err := ctrl.Recv()
		if err != nil {
			return nil
		}
		if _, ok := req.GetRequest().(*fnpb.InstructionRequest_ProcessBundle); ok {
			go f.process(req.GetInstructionId())
			continue
		}
		f.send(&fnpb.InstructionResponse{InstructionId: req.GetInstructionId(), Error: "fake keyed worker: unsupported request"})
	}
}

type fakeKeyed struct {
	ctrl fnpb.BeamFnControl_ControlClient
	data fnpb.BeamFnData_DataClient
	st   fnpb.BeamFnState_StateClient

	mu      sync.Mutex
	in      map[string]chan *fnpb.Elements_Data
	waiting map[string]chan *fnpb.StateResponse
	next    int
	sendMu  sync.Mutex
	// kept: per state version, the sums and counts this worker left after
	// the attempt of that version (see keyed.go on versions).
	kept map[string]map[string][2]int64
}

func (f *fakeKeyed) inbox(id string) chan *fnpb.Elements_Data {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.in[id]
	if c == nil {
		c = make(chan *fnpb.Elements_Data, 1<<14)
		f.in[id] = c
	}
	return c
}

func (f *fakeKeyed) readData() {
	for {
		msg, err := f.data.Recv()
		if err != nil {
			return
		}
		for _, d := range msg.GetData() {
			f.inbox(d.GetInstructionId()) <- d
		}
	}
}

func (f *fakeKeyed) readState() {
	for {
		r, err := f.st.Recv()
		if err != nil {
			return
		}
		f.mu.Lock()
		c := f.waiting[r.GetId()]
		delete(f.waiting, r.GetId())
		f.mu.Unlock()
		c <- r
	}
}

func (f *fakeKeyed) state(req *fnpb.StateRequest) (*fnpb.StateResponse, error) {
	c := make(chan *fnpb.StateResponse, 1)
	f.mu.Lock()
	f.next++
	req.Id = strconv.Itoa(f.next)
	f.waiting[req.Id] = c
	f.mu.Unlock()
	f.sendMu.Lock()
	err := f.st.Send(req)
	f.sendMu.Unlock()
	if err != nil {
		return nil, err
	}
	r := <-c
	if r.GetError() != "" {
		return nil, fmt.Errorf("state: %s", r.GetError())
	}
	return r, nil
}

func (f *fakeKeyed) send(r *fnpb.InstructionResponse) {
	f.sendMu.Lock()
	defer f.sendMu.Unlock()
	_ = f.ctrl.Send(r)
}

func (f *fakeKeyed) process(id string) {
	fail := func(err error) {
		f.send(&fnpb.InstructionResponse{InstructionId: id, Error: err.Error()})
	}
	dec := coder.NewDecoder(memory.DefaultAllocator, []types.T{types.TINYINT.NotNull(), types.BYTES.NotNull(), types.BIGINT.NotNull()})
	defer dec.Release()
	for d := range f.inbox(id) {
		if d.GetIsLast() {
			break
		}
		vals, err := splitElements(d.GetData())
		if err != nil {
			fail(err)
			return
		}
		for _, v := range vals {
			if _, err := dec.Decode(v); err != nil {
				fail(err)
				return
			}
		}
	}
	arrs := dec.NewArrays()
	keysCol, vs := arrs[1].(*array.Binary), arrs[2].(*array.Int64)
	var order []string
	sums := map[string][]int64{}
	for r := 0; r < vs.Len(); r++ {
		k := string(keysCol.Value(r))
		if _, ok := sums[k]; !ok {
			order = append(order, k)
		}
		sums[k] = append(sums[k], vs.Value(r))
	}
	release(arrs)
	// What this worker kept after the attempt whose version is this one's
	// parent must be the state: the engine's answer is checked against it.
	vr, err := f.state(&fnpb.StateRequest{InstructionId: id, StateKey: runnerKey([]byte{'V'}), Request: &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{}}})
	if err != nil {
		fail(err)
		return
	}
	vd := vr.GetGet().GetData()
	vn, vw := binary.Uvarint(vd)
	own, parent := string(vd[vw:vw+int(vn)]), string(vd[vw+int(vn):])
	f.mu.Lock()
	kept := f.kept[parent]
	delete(f.kept, parent)
	if parent == "" {
		kept = nil
	}
	f.mu.Unlock()
	left := map[string][2]int64{}
	req := []byte{'G'}
	for _, k := range order {
		req = binary.AppendUvarint(req, uint64(len(k)))
		req = append(req, k...)
	}
	resp, err := f.state(&fnpb.StateRequest{InstructionId: id, StateKey: runnerKey(req), Request: &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{}}})
	if err != nil {
		fail(err)
		return
	}
	got := resp.GetGet().GetData()
	var writes []byte
	kb := array.NewBinaryBuilder(memory.DefaultAllocator, arrow.BinaryTypes.Binary)
	nb := array.NewInt8Builder(memory.DefaultAllocator)
	sb := array.NewInt64Builder(memory.DefaultAllocator)
	for _, k := range order {
		n, w := binary.Uvarint(got)
		got = got[w:]
		var sum, count int64
		first := n == 0
		if !first {
			sum = int64(binary.BigEndian.Uint64(got))
			count = int64(binary.BigEndian.Uint64(got[8:]))
			got = got[n-1:]
		}
		if c, ok := kept[k]; ok {
			if c != [2]int64{sum, count} {
				fail(fmt.Errorf("key %x: kept sum and count %v after version %x, but the state has %v", k, c, parent, [2]int64{sum, count}))
				return
			}
			if dir := os.Getenv(fakeHitDirEnv); dir != "" {
				_ = os.WriteFile(filepath.Join(dir, "hit"), nil, 0o600)
			}
		}
		prev := sum
		for _, v := range sums[k] {
			sum += v
			count++
		}
		writes = binary.AppendUvarint(writes, uint64(len(k)))
		writes = append(writes, k...)
		writes = binary.AppendUvarint(writes, 17)
		writes = binary.BigEndian.AppendUint64(writes, uint64(sum))
		writes = binary.BigEndian.AppendUint64(writes, uint64(count))
		left[k] = [2]int64{sum, count}
		switch {
		case first:
			kb.Append([]byte(k))
			nb.Append(0)
			sb.Append(sum)
		case prev != sum:
			kb.Append([]byte(k))
			nb.Append(1)
			sb.Append(prev)
			kb.Append([]byte(k))
			nb.Append(2)
			sb.Append(sum)
		}
	}
	if _, err := f.state(&fnpb.StateRequest{InstructionId: id, StateKey: runnerKey([]byte{'P'}), Request: &fnpb.StateRequest_Append{Append: &fnpb.StateAppendRequest{Data: writes}}}); err != nil {
		fail(err)
		return
	}
	if len(own) != 16 {
		fail(fmt.Errorf("state version %x: want 16 bytes", own))
		return
	}
	f.mu.Lock()
	for k, c := range kept {
		if _, ok := left[k]; !ok {
			left[k] = c
		}
	}
	f.kept[own] = left
	f.mu.Unlock()
	fakeMaybeKill()
	cols := []arrow.Array{kb.NewArray(), nb.NewArray(), sb.NewArray()}
	defer release(cols)
	enc := coder.NewEncoder([]types.T{types.BYTES.NotNull(), types.TINYINT.NotNull(), types.BIGINT.NotNull()})
	buf, err := enc.Encode(make([]byte, elementReserve), cols, 0, cols[0].Len())
	if err != nil {
		fail(err)
		return
	}
	f.sendMu.Lock()
	_ = f.data.Send(&fnpb.Elements{Data: []*fnpb.Elements_Data{{InstructionId: id, TransformId: sinkID, Data: wrapElement(buf)}, {InstructionId: id, TransformId: sinkID, IsLast: true}}})
	f.sendMu.Unlock()
	f.send(&fnpb.InstructionResponse{InstructionId: id, Response: &fnpb.InstructionResponse_ProcessBundle{ProcessBundle: &fnpb.ProcessBundleResponse{}}})
}

// fakeMaybeKill SIGKILLs the worker with the scripted chance, up to the
// scripted number of kills over all workers (one mark file each).
func fakeMaybeKill() {
	dir := os.Getenv(fakeKillDirEnv)
	pct, _ := strconv.Atoi(os.Getenv(fakeKillPctEnv))
	most, _ := strconv.Atoi(os.Getenv(fakeKillMaxEnv))
	if dir == "" || rand.IntN(100) >= pct {
		return
	}
	for i := 0; i < most; i++ {
		fd, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(i)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			continue
		}
		fd.Close()
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Hour)
	}
}

// TestKeyedSnapshotRestore: a keyed stage's snapshot, restored into a new
// stage, gives the same state (on either backend), read back through a
// bundle attempt's state requests; a truncated snapshot is an error.
func TestKeyedSnapshotRestore(t *testing.T) {
	for _, backend := range []string{"hashmap", "rocksdb"} {
		src := keyedSumStage()
		src.Keyed.Backend = backend
		var snap bytes.Buffer
		for i := 0; i < 5000; i++ {
			snap.Write(binary.AppendUvarint(nil, uint64(len(strconv.Itoa(i)))))
			snap.WriteString(strconv.Itoa(i))
			v := strings.Repeat("v", i%7)
			snap.Write(binary.AppendUvarint(nil, uint64(len(v))))
			snap.WriteString(v)
		}
		if err := src.Restore(bytes.NewReader(snap.Bytes())); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := src.Snapshot(&out); err != nil {
			t.Fatal(err)
		}
		dst := keyedSumStage()
		dst.Keyed.Backend = backend
		if err := dst.Restore(bytes.NewReader(out.Bytes())); err != nil {
			t.Fatal(err)
		}
		got := parseGet(t, (&keyedAttempt{st: dst.keyed}).HandleState(getReq("0", "13", "4999", "5000")).GetGet().GetData())
		if string(got[0]) != "" || got[0] == nil || string(got[1]) != "vvvvvv" || string(got[2]) != strings.Repeat("v", 4999%7) || got[3] != nil {
			t.Errorf("%s: restored values %q", backend, got)
		}
		if err := keyedSumStage().Restore(bytes.NewReader(out.Bytes()[:out.Len()-3])); err == nil {
			t.Errorf("%s: a truncated snapshot restored without an error", backend)
		}
		src.keyed.store.Close()
		dst.keyed.store.Close()
	}
}
