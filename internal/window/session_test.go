package window

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/types"
)

// sessionRow is one input row of the session tests.
type sessionRow struct {
	id  int32
	key string // "" is NULL
	ts  int64
}

var sessionIn = types.Schema{{Name: "id", Type: types.INT}, {Name: "k", Type: types.STRING}, {Name: "ts", Type: types.TIMESTAMP(3)}}

func sessionSchema() types.Schema {
	return append(append(types.Schema(nil), sessionIn...),
		types.Field{Name: "window_start", Type: ColumnType}, types.Field{Name: "window_end", Type: ColumnType}, types.Field{Name: "window_time", Type: ColumnType})
}

func sessionBatch(mem memory.Allocator, rows []sessionRow) arrow.RecordBatch {
	ib := array.NewInt32Builder(mem)
	kb := array.NewStringBuilder(mem)
	tb := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Millisecond})
	for _, r := range rows {
		ib.Append(r.id)
		if r.key == "" {
			kb.AppendNull()
		} else {
			kb.Append(r.key)
		}
		tb.Append(arrow.Timestamp(r.ts))
	}
	cols := []arrow.Array{ib.NewArray(), kb.NewArray(), tb.NewArray()}
	ib.Release()
	kb.Release()
	tb.Release()
	b := array.NewRecordBatch(sessionIn.Arrow(), cols, int64(len(rows)))
	for _, c := range cols {
		c.Release()
	}
	return b
}

// referenceSessions is the slow model of session windows: after each row
// (in arrival order) the open rows of each key, sorted by time and split
// where the next row is more than gap later, are the sessions; a row that
// comes within gap of no open row of its key and whose own window the
// watermark has reached is late; the watermark rises after each row and
// the sessions it reaches fire. It returns "id@start-end" per emitted row,
// sorted, and the late count.
func referenceSessions(rows []sessionRow, gap, delay int64, partitioned bool) ([]string, int64) {
	type held struct {
		sessionRow
		open bool
	}
	var all []*held
	wm := int64(math.MinInt64)
	var out []string
	var late int64
	keyOf := func(r sessionRow) string {
		if partitioned {
			return r.key
		}
		return ""
	}
	fire := func(wm int64) {
		byKey := map[string][]*held{}
		for _, h := range all {
			if h.open {
				byKey[keyOf(h.sessionRow)] = append(byKey[keyOf(h.sessionRow)], h)
			}
		}
		for _, hs := range byKey {
			sort.SliceStable(hs, func(i, j int) bool { return hs[i].ts < hs[j].ts })
			for i := 0; i < len(hs); {
				j := i + 1
				for j < len(hs) && hs[j].ts <= hs[j-1].ts+gap {
					j++
				}
				start, end := hs[i].ts, hs[j-1].ts+gap
				if end-1 <= wm {
					for _, h := range hs[i:j] {
						h.open = false
						out = append(out, fmt.Sprintf("%d@%d-%d", h.id, start, end))
					}
				}
				i = j
			}
		}
	}
	for _, r := range rows {
		near := false
		for _, h := range all {
			if h.open && keyOf(h.sessionRow) == keyOf(r) && h.ts <= r.ts+gap && h.ts+gap >= r.ts {
				near = true
			}
		}
		if !near && r.ts+gap-1 <= wm {
			late++
		} else {
			all = append(all, &held{sessionRow: r, open: true})
		}
		if r.ts-delay > wm {
			wm = r.ts - delay
			fire(wm)
		}
	}
	fire(math.MaxInt64)
	sort.Strings(out)
	return out, late
}

// runSessions runs a on batches (and a barrier after them, when given) and
// returns its rows as "id@start-end", sorted, up to the barrier, and checks
// that every session leaves in one batch.
func runSessions(t *testing.T, mem memory.Allocator, a *Assign, bs []arrow.RecordBatch, br *checkpoint.Barrier) []string {
	t.Helper()
	in := make(chan arrow.RecordBatch, len(bs)+1)
	for _, b := range bs {
		b.Retain()
		in <- b
	}
	if br != nil {
		in <- br
	}
	close(in)
	out := make(chan arrow.RecordBatch, len(bs)+10)
	if err := a.Run(context.Background(), mem, in, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var got []string
	seen := map[string]int{} // session -> the batch it left in
	n, cut := 0, false
	for b := range out {
		n++
		if checkpoint.IsBarrier(b) != nil {
			cut = true
		}
		if cut {
			b.Release()
			continue
		}
		ids := b.Column(0).(*array.Int32).Int32Values()
		keys := b.Column(1)
		starts := b.Column(3).(*array.Timestamp).TimestampValues()
		ends := b.Column(4).(*array.Timestamp).TimestampValues()
		wt := b.Column(5).(*array.Timestamp).TimestampValues()
		for i := range ids {
			got = append(got, fmt.Sprintf("%d@%d-%d", ids[i], starts[i], ends[i]))
			if wt[i] != ends[i]-1 {
				t.Errorf("window_time %d, want end-1 = %d", wt[i], ends[i]-1)
			}
			s := fmt.Sprintf("%s/%d/%d", keys.ValueStr(i), starts[i], ends[i])
			if len(a.Keys) == 0 {
				s = fmt.Sprintf("%d/%d", starts[i], ends[i])
			}
			if m, ok := seen[s]; ok && m != n {
				t.Errorf("session %s left in batches %d and %d", s, m, n)
			}
			seen[s] = n
		}
		b.Release()
	}
	sort.Strings(got)
	return got
}

// randomSessionRows returns batches of out-of-order rows over a few keys
// (one of them NULL), some late.
func randomSessionRows(r *rand.Rand, n int) [][]sessionRow {
	keys := []string{"a", "b", "c", ""}
	var bs [][]sessionRow
	id, clock := int32(0), int64(0)
	for len(bs) == 0 || int(id) < n {
		var rows []sessionRow
		for j := r.IntN(8); j >= 0; j-- {
			clock += int64(r.IntN(5))
			id++
			rows = append(rows, sessionRow{id: id, key: keys[r.IntN(len(keys))], ts: clock - int64(r.IntN(30))})
		}
		bs = append(bs, rows)
	}
	return bs
}

// TestSessionRandom checks the session operator against the slow model on
// random out-of-order rows: gaps, watermark delays, batchings, with and
// without partition keys.
func TestSessionRandom(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(21, 22))
	for round := 0; round < 300; round++ {
		gap := int64(1 + r.IntN(12))
		delay := int64(r.IntN(20))
		partitioned := r.IntN(3) > 0
		rows := randomSessionRows(r, 5+r.IntN(120))
		var all []sessionRow
		var bs []arrow.RecordBatch
		for _, rs := range rows {
			all = append(all, rs...)
			bs = append(bs, sessionBatch(mem, rs))
		}
		a := &Assign{Spec: Spec{Kind: Session, Size: gap}, Time: 2, Schema: sessionSchema(), Hold: true, Delay: delay}
		if partitioned {
			a.Keys = []int{1}
		}
		got := runSessions(t, mem, a, bs, nil)
		want, late := referenceSessions(all, gap, delay, partitioned)
		if !slices.Equal(got, want) || a.Late != late {
			t.Fatalf("round %d (gap %d, delay %d, partitioned %v): late %d, want %d\n got %v\nwant %v\nrows %v", round, gap, delay, partitioned, a.Late, late, got, want, all)
		}
		for _, b := range bs {
			b.Release()
		}
	}
}

// TestSessionBridge: a late row between two open sessions merges them; a
// row older than the watermark that touches an open session is kept; one
// that touches none is dropped; a session closes when the watermark
// reaches its end less 1 ms, and a row touching it then starts another.
func TestSessionBridge(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	a := &Assign{Spec: Spec{Kind: Session, Size: 10}, Time: 2, Schema: sessionSchema(), Hold: true, Keys: []int{1}}
	bs := []arrow.RecordBatch{
		sessionBatch(mem, []sessionRow{{1, "a", 0}, {2, "a", 25}, {3, "b", 20}}), // a [0,10) [25,35), b [20,30); wm 25 closes a [0,10)
		sessionBatch(mem, []sessionRow{{4, "b", 12}, {5, "b", 30}}),              // row 4 older than wm 25 but touching b: b [12,40)
		sessionBatch(mem, []sessionRow{{6, "b", 34}, {9, "a", 35}}),              // b [12,44); wm 34 = a's end-1 closes a [25,35): row 9 opens a [35,45)
		sessionBatch(mem, []sessionRow{{7, "a", 14}, {8, "c", 50}}),              // row 7 late; wm 50 closes b and a [35,45)
		sessionBatch(mem, []sessionRow{{10, "a", 36}}),                           // late: a [35,45) has closed
	}
	got := runSessions(t, mem, a, bs, nil)
	want := []string{"1@0-10", "2@25-35", "3@12-44", "4@12-44", "5@12-44", "6@12-44", "8@50-60", "9@35-45"}
	if !slices.Equal(got, want) || a.Late != 2 {
		t.Errorf("got %v (late %d), want %v (late 2)", got, a.Late, want)
	}
	for _, b := range bs {
		b.Release()
	}
}

// TestSessionRestore: a session operator cut at a barrier at a random batch
// and restored emits, with what it emitted before, exactly the rows and late
// count of an uninterrupted run.
func TestSessionRestore(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(31, 32))
	for round := 0; round < 60; round++ {
		gap, delay := int64(1+r.IntN(12)), int64(r.IntN(20))
		mk := func() *Assign {
			return &Assign{Spec: Spec{Kind: Session, Size: gap}, Time: 2, Schema: sessionSchema(), Hold: true, Delay: delay, Keys: []int{1}}
		}
		var bs []arrow.RecordBatch
		for _, rs := range randomSessionRows(r, 60) {
			bs = append(bs, sessionBatch(mem, rs))
		}
		whole := mk()
		want := runSessions(t, mem, whole, bs, nil)
		cut := r.IntN(len(bs) + 1)
		var state bytes.Buffer
		first := mk()
		head := runSessions(t, mem, first, bs[:cut], checkpoint.NewBarrier(1, func(o any, write func(io.Writer) error) error {
			if o != any(first) {
				t.Errorf("saved under %T", o)
			}
			return write(&state)
		}))
		again := mk()
		if err := again.Restore(bytes.NewReader(state.Bytes())); err != nil {
			t.Fatal(err)
		}
		tail := runSessions(t, mem, again, bs[cut:], nil)
		got := append(head, tail...)
		sort.Strings(got)
		if !slices.Equal(got, want) || again.Late != whole.Late {
			t.Fatalf("round %d cut at batch %d: late %d, want %d\n got %v\nwant %v", round, cut, again.Late, whole.Late, got, want)
		}
		for _, b := range bs {
			b.Release()
		}
	}
}

// TestSessionNullTime: a row without event time fails the job, naming the
// column, as in Flink.
func TestSessionNullTime(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	a := &Assign{Spec: Spec{Kind: Session, Size: 10}, Time: 2, Schema: sessionSchema(), Hold: true}
	ib := array.NewInt32Builder(mem)
	ib.Append(1)
	kb := array.NewStringBuilder(mem)
	kb.Append("a")
	tb := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Millisecond})
	tb.AppendNull()
	cols := []arrow.Array{ib.NewArray(), kb.NewArray(), tb.NewArray()}
	b := array.NewRecordBatch(sessionIn.Arrow(), cols, 1)
	for _, c := range cols {
		c.Release()
	}
	ib.Release()
	kb.Release()
	tb.Release()
	in := make(chan arrow.RecordBatch, 1)
	in <- b
	close(in)
	err := a.Run(context.Background(), mem, in, make(chan arrow.RecordBatch, 1))
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("event time ts of a row is NULL")) {
		t.Errorf("err = %v, want the NULL event time named", err)
	}
}

// TestSessionProcTime: processing-time sessions close when the clock
// reaches their end less 1 ms, though no row comes after; a row touching a
// closed session opens another; the rest close at the end of the input.
func TestSessionProcTime(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	var clock atomic.Int64
	clock.Store(1010)
	a := &Assign{Spec: Spec{Kind: Session, Size: 100}, Time: 2, Schema: sessionSchema(), Hold: true, ProcTime: true, Keys: []int{1},
		Now: func() int64 { return clock.Load() }}
	in := make(chan arrow.RecordBatch, 2)
	out := make(chan arrow.RecordBatch, 10)
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background(), mem, in, out); close(out) }()
	// read waits up to wait for a batch: long for one that must come (the
	// machine may be loaded), a few clock checks for one that must not.
	read := func(wait time.Duration) string {
		select {
		case b := <-out:
			defer b.Release()
			ids := b.Column(0).(*array.Int32).Int32Values()
			starts := b.Column(3).(*array.Timestamp).TimestampValues()
			ends := b.Column(4).(*array.Timestamp).TimestampValues()
			var s []string
			for i := range ids {
				s = append(s, fmt.Sprintf("%d@%d-%d", ids[i], starts[i], ends[i]))
			}
			sort.Strings(s)
			return fmt.Sprint(s)
		case <-time.After(wait):
			return "nothing"
		}
	}
	in <- sessionBatch(mem, []sessionRow{{1, "a", 1000}, {2, "b", 1005}, {3, "a", 1060}})
	if got := read(5 * procTick); got != "nothing" {
		t.Fatalf("before the clock reached a session's end: %s", got)
	}
	clock.Store(1104) // b [1005,1105) closes; a [1000,1160) stays open
	if got := read(10 * time.Second); got != "[2@1005-1105]" {
		t.Fatalf("at 1104: %s", got)
	}
	in <- sessionBatch(mem, []sessionRow{{4, "b", 1105}, {5, "a", 1150}})
	close(in)
	if got := read(10 * time.Second); got != "[1@1000-1250 3@1000-1250 4@1105-1205 5@1000-1250]" {
		t.Fatalf("at the end of the input: %s", got)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
