package pyexec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/weir-dev/weir/internal/shm"
)

func testArena(t *testing.T, size int) *shm.Arena {
	t.Helper()
	a, err := shm.New(size)
	if errors.Is(err, shm.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// randomElement is an element of n random bytes in parts, as
// encodeArrowRows makes them: a header part, then referred parts.
func randomElement(rng *rand.Rand, n int) (encoded, []byte) {
	value := make([]byte, n)
	for i := range value {
		value[i] = byte(rng.IntN(256))
	}
	first := min(n, rng.IntN(40))
	buf := append(make([]byte, elementReserve), value[:first]...)
	parts := encoded{elementHead(buf, n)}
	for rest := value[first:]; len(rest) > 0; {
		k := min(len(rest), 1+rng.IntN(5000))
		parts = append(parts, rest[:k])
		rest = rest[k:]
	}
	return parts, value
}

// TestPlaceInArena: the reference element names the arena's file and
// regions, the input region holds the element's value, and the regions
// are distinct and large enough.
func TestPlaceInArena(t *testing.T) {
	a := testArena(t, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 63, 64, 65, 10_000, 100_000} {
		el, value := randomElement(rng, n)
		ref, in, out, ok := placeInArena(a, el, 5000)
		if !ok {
			t.Fatalf("%d bytes: not placed", n)
		}
		vals, err := splitElements(ref.bytes())
		if err != nil || len(vals) != 1 {
			t.Fatalf("%d bytes: reference element: %v", n, err)
		}
		path, rin, rout, err := parseInputRef(vals[0])
		if err != nil {
			t.Fatal(err)
		}
		if path != a.Path() || rin.Off != in.Off || rin.Len != n || rout != out || out.Len < 5000 {
			t.Fatalf("%d bytes: reference %s %+v %+v, placed %+v %+v", n, path, rin, rout, in, out)
		}
		if !bytes.Equal(a.Bytes(rin), value) {
			t.Fatalf("%d bytes: the input region does not hold the value", n)
		}
		b := &bundle{arena: a, regions: []shm.Region{in, out}}
		got, err := b.inputValue(vals[0])
		if err != nil || !bytes.Equal(got, value) {
			t.Fatalf("%d bytes: inputValue: %v", n, err)
		}
		b.freeRegions()
	}
	if a.Used() != 0 {
		t.Fatalf("%d bytes still allocated after every bundle freed its regions", a.Used())
	}
}

// TestPlaceInFullArena: without room the element goes inline and nothing
// stays allocated.
func TestPlaceInFullArena(t *testing.T) {
	a := testArena(t, 64<<10)
	rng := rand.New(rand.NewPCG(3, 4))
	el, _ := randomElement(rng, 40<<10)
	if _, _, _, ok := placeInArena(a, el, 40<<10); ok {
		t.Fatal("placed 80 KiB in a 64 KiB arena")
	}
	if a.Used() != 0 {
		t.Fatalf("%d bytes allocated after a failed placement", a.Used())
	}
}

// TestKeepInputs: a bundle whose worker reported its inputs kept frees only
// its answers' regions; the inputs' stay allocated, and no later Alloc
// hands out their bytes. Random elements, some of them inline.
func TestKeepInputs(t *testing.T) {
	a := testArena(t, 4<<20)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 5))
	b := &bundle{arena: a}
	inBytes := 0
	var ins []shm.Region
	for range 1 + rng.IntN(8) {
		el, _ := randomElement(rng, rng.IntN(50_000))
		var in, out shm.Region
		if rng.IntN(4) > 0 {
			var ok bool
			if _, in, out, ok = placeInArena(a, el, 1000+rng.IntN(10_000)); !ok {
				t.Fatalf("seed %d: not placed", seed)
			}
			b.regions = append(b.regions, in, out)
			inBytes += in.Len
		}
		ins, b.outs = append(ins, in), append(b.outs, out)
	}
	if got := b.keepInputs(); got != inBytes {
		t.Fatalf("seed %d: kept %d bytes, the inputs have %d", seed, got, inBytes)
	}
	b.freeRegions()
	if a.Used() != inBytes {
		t.Fatalf("seed %d: %d bytes allocated after the bundle, want its inputs' %d", seed, a.Used(), inBytes)
	}
	for {
		r, ok := a.Alloc(64 << rng.IntN(10))
		if !ok {
			break
		}
		for _, in := range ins {
			if r.Off < in.End() && in.Off < r.End() {
				t.Fatalf("seed %d: %+v handed out again (as %+v)", seed, in, r)
			}
		}
	}
}

// TestInputsKept: the count of kept inputs is read from weir's counter in
// a bundle's response, and only from it.
func TestInputsKept(t *testing.T) {
	counter := func(ns, name string, v uint64) *pipepb.MonitoringInfo {
		return &pipepb.MonitoringInfo{Urn: "beam:metric:user:sum_int64:v1", Type: "beam:metrics:sum_int64:v1",
			Labels: map[string]string{"NAMESPACE": ns, "NAME": name, "PTRANSFORM": "t"}, Payload: binary.AppendUvarint(nil, v)}
	}
	r := &fnpb.ProcessBundleResponse{MonitoringInfos: []*pipepb.MonitoringInfo{
		counter(progressNamespace, "rows_done", 500), counter(metricNamespace, keptInputsName, 7)}}
	if n := inputsKept(r); n != 0 {
		t.Fatalf("kept %d without weir's counter", n)
	}
	r.MonitoringInfos = append(r.MonitoringInfos, counter(progressNamespace, keptInputsName, 2))
	if n := inputsKept(r); n != 2 {
		t.Fatalf("kept %d, want 2", n)
	}
	if n := inputsKept(nil); n != 0 {
		t.Fatalf("kept %d of no response", n)
	}
}

func answerRef(off, n int) []byte {
	v := []byte{shmRef}
	v = binary.AppendUvarint(v, uint64(off))
	return binary.AppendUvarint(v, uint64(n))
}

// TestResolveAnswers: answers in the arena are copied out (later writes to
// the region do not change them); inline answers stay; an answer outside its
// element's region, or a reference for an element sent inline, is an error.
func TestResolveAnswers(t *testing.T) {
	a := testArena(t, 1<<20)
	a.Alloc(100) // so that the answer's region does not start at 0
	out, _ := a.Alloc(1024)
	copy(a.Bytes(out)[100:], "answer one")
	b := &bundle{arena: a, outs: []shm.Region{out, {}}}
	groups := [][][]byte{{answerRef(out.Off+100, 10)}, {[]byte("\xffinline")}}
	if err := resolveAnswers(b, groups); err != nil {
		t.Fatal(err)
	}
	copy(a.Bytes(out)[100:], "overwritten")
	if string(groups[0][0]) != "answer one" || string(groups[1][0]) != "\xffinline" {
		t.Fatalf("resolved %q", groups)
	}
	for _, c := range []struct {
		ref  []byte
		want string
	}{
		{answerRef(out.Off+1020, 5), "outside its region"},
		{answerRef(out.Off-64, 10), "outside its region"},
		{[]byte{shmRef, 0x80}, "bad offset"},
		{append(answerRef(out.Off, 1), 0), "bad length"},
	} {
		err := resolveAnswers(b, [][][]byte{{c.ref}, {[]byte("\xff")}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("answer %x: error %v, want one with %q", c.ref, err, c.want)
		}
	}
	err := resolveAnswers(b, [][][]byte{{[]byte("\xff")}, {answerRef(out.Off, 1)}})
	if err == nil || !strings.Contains(err.Error(), "sent inline") {
		t.Errorf("a reference answering an inline element: error %v", err)
	}
}

// FuzzParseRefs: the reference parsers never panic, and what they accept
// they read back as written.
func FuzzParseRefs(f *testing.F) {
	f.Add(appendInputRef(nil, "/dev/shm/weir-shm-1/arena", shm.Region{Off: 64, Len: 100}, shm.Region{Off: 192, Len: 4096}))
	f.Add(answerRef(128, 77))
	f.Add([]byte{shmRef})
	f.Fuzz(func(t *testing.T, v []byte) {
		if path, in, out, err := parseInputRef(v); err == nil {
			if again := appendInputRef(nil, path, in, out); !bytes.Equal(again, v) {
				// Varints have one shortest form; others are accepted too.
				if _, in2, out2, err := parseInputRef(again); err != nil || in2 != in || out2 != out {
					t.Fatalf("%x read as %q %+v %+v, which does not read back", v, path, in, out)
				}
			}
		}
		if off, n, err := parseAnswerRef(v); err == nil {
			if o2, n2, err := parseAnswerRef(answerRef(off, n)); err != nil || o2 != off || n2 != n {
				t.Fatalf("%x read as (%d, %d), which does not read back", v, off, n)
			}
		}
	})
}

// arenaDirs are this process's arena directories in /dev/shm
// (internal/shm; named after their process by internal/tmpdir).
func arenaDirs(t *testing.T) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir("/dev/shm")
	if err != nil {
		t.Skip("no /dev/shm:", err)
	}
	mine := fmt.Sprintf("weir-shm-%d-", os.Getpid())
	out := map[string]bool{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), mine) {
			out[e.Name()] = true
		}
	}
	return out
}

// TestVectorizedPoolMakesItsArenaEarly: a pool told that the job has
// vectorized stages makes its arena while its workers start, before any
// bundle asks for it; Close removes it, also when it comes while the arena
// is being made.
func TestVectorizedPoolMakesItsArenaEarly(t *testing.T) {
	before := arenaDirs(t)
	made := func() []string {
		var out []string
		for d := range arenaDirs(t) {
			if !before[d] {
				out = append(out, d)
			}
		}
		return out
	}
	p := testPool(t, 1, 2, "", func(c *Config) { c.Vectorized = true })
	deadline := time.Now().Add(10 * time.Second)
	for len(made()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no arena was made while the pool started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.Close()
	if m := made(); len(m) != 0 {
		t.Fatalf("arena directories left after Close: %v", m)
	}
	p = testPool(t, 1, 2, "", func(c *Config) { c.Vectorized = true })
	p.Close()
	if m := made(); len(m) != 0 {
		t.Fatalf("arena directories left after an early Close: %v", m)
	}
	p = testPool(t, 1, 2, "", func(c *Config) { c.Vectorized = true; c.InlineBatches = true })
	if a := p.arenaFor(); a != nil {
		t.Fatalf("a pool whose batches go inline has an arena: %s", a.Path())
	}
	if m := made(); len(m) != 0 {
		t.Fatalf("a pool whose batches go inline made an arena: %v", m)
	}
}
