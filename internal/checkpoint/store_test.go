package checkpoint

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

func writeCheckpoint(t *testing.T, s *Store, id int64, files map[string]string) {
	t.Helper()
	p, err := s.Begin(id)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for name, data := range files {
		if err := p.WriteFile(name, func(w io.Writer) error { _, err := io.WriteString(w, data); return err }); err != nil {
			t.Fatal(err)
		}
		ops = append(ops, name)
	}
	if err := p.Finish(&Metadata{Job: "j", Sources: [][]byte{[]byte("pos")}, Operators: ops}); err != nil {
		t.Fatal(err)
	}
}

// TestStoreTornAndRetain: unfinished and metadata-less directories are not
// complete checkpoints; Retain keeps the newest two, and ids are never
// reused after a discard.
func TestStoreTornAndRetain(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore("file://" + dir)
	if err != nil {
		t.Fatal(err)
	}
	for id := int64(1); id <= 4; id++ {
		writeCheckpoint(t, s, id, map[string]string{"op-0": "state of " + string(rune('0'+id))})
	}
	// A checkpoint being written when the engine died.
	p, err := s.Begin(5)
	if err != nil {
		t.Fatal(err)
	}
	p.WriteFile("op-0", func(w io.Writer) error { _, err := w.Write([]byte("half")); return err })
	// A chk directory without metadata (e.g. copied by hand, torn).
	os.Mkdir(filepath.Join(dir, "chk-6"), 0o755)
	ids, err := s.Complete()
	if err != nil || !slices.Equal(ids, []int64{1, 2, 3, 4}) {
		t.Fatalf("complete = %v, %v; want 1..4", ids, err)
	}
	if m, _ := s.MaxID(); m != 6 {
		t.Errorf("MaxID = %d, want 6", m)
	}
	if err := s.Retain(2); err != nil {
		t.Fatal(err)
	}
	if ids, _ = s.Complete(); !slices.Equal(ids, []int64{3, 4}) {
		t.Fatalf("after Retain(2): %v, want [3 4]", ids)
	}
	if _, err := os.Stat(filepath.Join(dir, "chk-1")); !os.IsNotExist(err) {
		t.Errorf("chk-1 not removed: %v", err)
	}
	m, err := s.Load(4)
	if err != nil || m.ID != 4 || m.Job != "j" || string(m.Sources[0]) != "pos" {
		t.Fatalf("Load(4) = %+v, %v", m, err)
	}
	f, err := OpenFile(s.Path(4), "op-0")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(f)
	f.Close()
	if string(data) != "state of 4" {
		t.Errorf("op-0 = %q", data)
	}
	if err := s.Discard(4); err != nil {
		t.Fatal(err)
	}
	if ids, _ = s.Complete(); !slices.Equal(ids, []int64{3}) {
		t.Fatalf("after Discard(4): %v", ids)
	}
	if m, _ := s.MaxID(); m < 4 {
		t.Errorf("MaxID after discard = %d: id 4 could be reused", m)
	}
	if _, err := OpenStore("hdfs:///x"); err == nil {
		t.Error("hdfs:// accepted")
	}
}

// TestCoordinatorWritesAtomically: the checkpoint directory appears only
// complete, with the sources' positions at the barrier and the operators'
// state; a checkpoint in progress when the job stops leaves no chk-<id>.
func TestCoordinatorWritesAtomically(t *testing.T) {
	dir := t.TempDir()
	s, _ := OpenStore(dir)
	c, err := NewCoordinator(s, "fp", "INSERT ...", time.Hour, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	op := new(int)
	c.AddOperator(op)
	i0, trig0 := c.AddSource()
	i1, _ := c.AddSource()
	c.SourceDone(i1, []byte("end"))
	if err := c.trigger(); err != nil {
		t.Fatal(err)
	}
	b := <-trig0
	c.SourceBarrier(i0, b, []byte("p1"))
	if err := b.Save(op, func(w io.Writer) error { _, err := w.Write([]byte("st")); return err }); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.Complete(); len(ids) != 0 {
		t.Fatalf("checkpoint visible before the sink's barrier: %v", ids)
	}
	if err := c.trigger(); err != nil || len(trig0) != 0 {
		t.Fatal("a second checkpoint started while one is on its way")
	}
	if ok, err := c.Complete(b, []byte("sink")); err != nil || !ok {
		t.Fatal(err)
	}
	m, err := s.Load(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Sources[0]) != "p1" || string(m.Sources[1]) != "end" || string(m.Sink) != "sink" || !slices.Equal(m.Operators, []string{"op-0"}) {
		t.Errorf("metadata %+v", m)
	}
	// The next one, abandoned.
	c.trigger()
	b2 := <-trig0
	c.SourceBarrier(i0, b2, []byte("p2"))
	ctx, cancel := contextWithCancel()
	cancel()
	c.Run(ctx)
	if ids, _ := s.Complete(); !slices.Equal(ids, []int64{b.ID}) {
		t.Errorf("complete = %v", ids)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("left in the directory: %v", ents)
	}
}

// TestEncodingRoundTrip: random values of every kind come back equal.
func TestEncodingRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var vals []any
	for i := 0; i < 2000; i++ {
		vals = append(vals, randomValue(r, 2))
	}
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	e.Header("test", 1)
	for _, v := range vals {
		e.Value(v)
	}
	if e.Err() != nil {
		t.Fatal(e.Err())
	}
	d := NewDecoder(bytes.NewReader(buf.Bytes()))
	if err := d.Header("test", 1); err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		got := d.Value()
		if !equalValues(got, v) {
			t.Fatalf("value %d: got %#v, want %#v", i, got, v)
		}
	}
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	// Truncated: an error, never a panic.
	for n := 0; n < 200; n++ {
		d := NewDecoder(bytes.NewReader(buf.Bytes()[:r.IntN(buf.Len())]))
		d.Header("test", 1)
		for range vals {
			d.Value()
		}
		if d.Err() == nil {
			t.Fatal("truncated state read without error")
		}
	}
	if err := NewDecoder(bytes.NewReader(buf.Bytes())).Header("other", 1); err == nil {
		t.Error("another operator's state accepted")
	}
}

func randomValue(r *rand.Rand, depth int) any {
	n := 17
	if depth == 0 {
		n = 15
	}
	switch r.IntN(n) {
	case 0:
		return nil
	case 1:
		return int8(r.Int())
	case 2:
		return int16(r.Int())
	case 3:
		return int32(r.Int())
	case 4:
		return int64(r.Uint64())
	case 5:
		return float32(r.NormFloat64())
	case 6:
		return r.NormFloat64() * 1e10
	case 7:
		return r.IntN(2) == 0
	case 8:
		b := make([]byte, r.IntN(20))
		for i := range b {
			b[i] = byte(r.Int())
		}
		return string(b)
	case 9:
		b := make([]byte, r.IntN(20))
		for i := range b {
			b[i] = byte(r.Int())
		}
		return b
	case 10:
		return decimal128.New(int64(r.Uint64()), r.Uint64())
	case 11:
		return arrow.Date32(r.Int32())
	case 12:
		return arrow.Time32(r.Int32())
	case 13:
		return arrow.Timestamp(int64(r.Uint64()))
	case 14:
		return arrow.Time64(int64(r.Uint64()))
	case 15:
		l := make([]any, r.IntN(4))
		for i := range l {
			l[i] = randomValue(r, depth-1)
		}
		return l
	default:
		m := make([][2]any, r.IntN(4))
		for i := range m {
			m[i] = [2]any{randomValue(r, depth-1), randomValue(r, depth-1)}
		}
		return m
	}
}

func equalValues(a, b any) bool {
	switch a := a.(type) {
	case []byte:
		bb, ok := b.([]byte)
		return ok && bytes.Equal(a, bb)
	case []any:
		bb, ok := b.([]any)
		if !ok || len(a) != len(bb) {
			return false
		}
		for i := range a {
			if !equalValues(a[i], bb[i]) {
				return false
			}
		}
		return true
	case [][2]any:
		bb, ok := b.([][2]any)
		if !ok || len(a) != len(bb) {
			return false
		}
		for i := range a {
			if !equalValues(a[i][0], bb[i][0]) || !equalValues(a[i][1], bb[i][1]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
