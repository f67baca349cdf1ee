package window

import (
	"container/heap"
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/checkpoint"
)

// Session windows (Spec.Kind Session, SESSION(TABLE t [PARTITION BY k],
// DESCRIPTOR(ts), gap)), streaming mode only, as in Flink 2.3.
//
// A row at event time ts opens the window [ts, ts+gap); windows of one
// partition key that intersect or touch (start <= other end and end >= other
// start, Flink's TimeWindow.intersects) merge into one session, so a session
// is [its earliest row, its latest row + gap), and a late row between two
// sessions bridges them. Rows are held per session until the watermark
// reaches the session's end less one millisecond (Flink's firing rule, as
// for the other windows); then the session is closed — later rows never
// join it — and its rows leave whole in one batch with window_start,
// window_end and window_time. A row is late, and dropped, when it joins no
// open session of its key and its own window [ts, ts+gap) would already
// have fired: Flink checks lateness on the merged window, so a row older
// than the watermark that touches an open session is kept.
//
// The open sessions of a key are the connected runs of its held rows (sorted
// by time, split where the next row is more than gap later): the state is
// only the held rows, the watermark and counters, and a restore rebuilds the
// sessions from the rows.

// sessionWin is one session: its bounds, its partition key, whether it was
// closed by the watermark, and parent, the session it merged into (itself
// while it is a root).
type sessionWin struct {
	start, end int64
	key        string
	closed     bool
	parent     int32
}

// sessionSet tracks the open sessions of every partition key.
type sessionSet struct {
	gap  int64
	wins []sessionWin
	open map[string][]int32 // key -> its open root sessions
	ends endHeap            // (end, id) of roots, stale entries skipped
	// closedAny reports that a session closed since the last emission.
	closedAny bool
}

func newSessionSet(gap int64) *sessionSet {
	return &sessionSet{gap: gap, open: map[string][]int32{}}
}

// find returns the root session of id, compressing the path.
func (s *sessionSet) find(id int32) int32 {
	root := id
	for s.wins[root].parent != root {
		root = s.wins[root].parent
	}
	for s.wins[id].parent != root {
		next := s.wins[id].parent
		s.wins[id].parent = root
		id = next
	}
	return root
}

// add places a row of partition key key at event time ts and returns its
// session, or -1 when the row is late for watermark wm (lateness checks
// off: late false).
func (s *sessionSet) add(key string, ts, wm int64, late bool) int32 {
	start, end := ts, ts+s.gap
	list := s.open[key]
	into := int32(-1)
	kept := list[:0]
	for _, id := range list {
		w := &s.wins[id]
		if w.start > end || w.end < start {
			kept = append(kept, id)
			continue
		}
		start, end = min(start, w.start), max(end, w.end)
		if into < 0 {
			into = id
			kept = append(kept, id)
			continue
		}
		w.parent = into
	}
	created := into < 0
	if created {
		if late && end-1 <= wm {
			return -1
		}
		into = int32(len(s.wins))
		s.wins = append(s.wins, sessionWin{start: start, end: end, key: key, parent: into})
		kept = append(kept, into)
	}
	s.open[key] = kept
	if w := &s.wins[into]; created || w.end != end {
		heap.Push(&s.ends, endEntry{end: end, id: into})
	}
	s.wins[into].start, s.wins[into].end = start, end
	return into
}

// closeUntil closes the open sessions whose end less one millisecond the
// watermark wm has reached.
func (s *sessionSet) closeUntil(wm int64) {
	for len(s.ends) > 0 && s.ends[0].end-1 <= wm {
		e := heap.Pop(&s.ends).(endEntry)
		w := &s.wins[e.id]
		if w.parent != e.id || w.closed || w.end != e.end {
			continue // merged away or extended since
		}
		w.closed = true
		s.closedAny = true
		list := s.open[w.key]
		for i, id := range list {
			if id == e.id {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(s.open, w.key)
		} else {
			s.open[w.key] = list
		}
	}
}

type endEntry struct {
	end int64
	id  int32
}

// endHeap is a min-heap of session ends.
type endHeap []endEntry

func (h endHeap) Len() int           { return len(h) }
func (h endHeap) Less(i, j int) bool { return h[i].end < h[j].end }
func (h endHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *endHeap) Push(x any)        { *h = append(*h, x.(endEntry)) }
func (h *endHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// sessionRows are the rows held in sessions: input batches (the input's
// columns only) with each row's session.
type sessionRows struct {
	batches []arrow.RecordBatch
	ids     [][]int32
}

func (h *sessionRows) release() {
	for _, b := range h.batches {
		b.Release()
	}
	h.batches, h.ids = nil, nil
}

// keyOf returns a function giving the partition key of a row of b: its key
// columns' values, NULL distinct from every value.
func (a *Assign) keyOf(b arrow.RecordBatch) func(i int) string {
	if len(a.Keys) == 0 {
		return func(int) string { return "" }
	}
	cols := make([]arrow.Array, len(a.Keys))
	for j, k := range a.Keys {
		cols[j] = b.Column(k)
	}
	var sb strings.Builder
	return func(i int) string {
		sb.Reset()
		for _, c := range cols {
			if c.IsNull(i) {
				sb.WriteString("N")
				continue
			}
			v := c.ValueStr(i)
			sb.WriteString("V")
			sb.WriteString(strconv.Itoa(len(v)))
			sb.WriteByte(':')
			sb.WriteString(v)
		}
		return sb.String()
	}
}

// runSession is Run for SESSION windows, event or processing time.
func (a *Assign) runSession(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	now := a.Now
	if now == nil {
		now = func() int64 { return time.Now().UnixMilli() }
	}
	wm := int64(math.MinInt64)
	maxSeen := int64(math.MinInt64)
	set := newSessionSet(a.Spec.Size)
	rows := &sessionRows{}
	defer rows.release()
	inSchema := a.Schema[:len(a.Schema)-3]
	if st := a.restored; st != nil {
		a.restored = nil
		wm, maxSeen, a.Late = st.wm, st.maxSeen, st.late
		// The sessions are the runs of the held rows: placing them again,
		// without lateness, rebuilds them.
		for _, b := range st.pending {
			in, err := dropColumns(b, len(inSchema))
			b.Release()
			if err != nil {
				return err
			}
			if err := a.placeRows(ctx, mem, in, set, rows, false); err != nil {
				in.Release()
				return err
			}
		}
	}
	// emit sends the rows of the sessions closed since the last call; false
	// when the job ends first or fails.
	emit := func() (bool, error) {
		if !set.closedAny {
			return true, nil
		}
		fired, err := a.takeClosed(ctx, mem, set, rows)
		if err != nil || fired == nil {
			return err == nil, err
		}
		return sendBatch(ctx, out, fired), nil
	}
	var tick <-chan time.Time
	if a.ProcTime {
		t := time.NewTicker(procTick)
		defer t.Stop()
		tick = t.C
	}
	for {
		var b arrow.RecordBatch
		var ok bool
		select {
		case b, ok = <-in:
		case <-tick:
			set.closeUntil(now())
			if cont, err := emit(); !cont {
				drain(in)
				return err
			}
			continue
		case <-ctx.Done():
			drain(in)
			return nil
		}
		if !ok {
			break
		}
		if br := checkpoint.IsBarrier(b); br != nil {
			pending, err := a.heldWithWindows(ctx, mem, set, rows)
			if err == nil {
				st := &assignState{wm: wm, maxSeen: maxSeen, pending: pending, late: a.Late}
				err = br.Save(a, func(w io.Writer) error { return a.save(st, w) })
				for _, p := range pending {
					p.Release()
				}
			}
			if err != nil {
				drain(in)
				return err
			}
			select {
			case out <- br:
			case <-ctx.Done():
			}
			continue
		}
		if ctx.Err() != nil {
			b.Release()
			continue
		}
		var err error
		if a.ProcTime {
			err = a.placeRows(ctx, mem, b, set, rows, true)
			set.closeUntil(now())
		} else {
			err = a.placeEventRows(ctx, mem, b, set, rows, &wm, &maxSeen)
		}
		if err != nil {
			b.Release()
			drain(in)
			return err
		}
		if cont, err := emit(); !cont {
			drain(in)
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	// End of input: the watermark goes to +inf, every session closes.
	set.closeUntil(math.MaxInt64)
	_, err := emit()
	return err
}

// placeEventRows places the rows of b (owned by the call) in their sessions
// in order, dropping late ones, advancing the watermark after each row and
// closing the sessions it reaches, as Flink's operators see a watermark
// after the row that raised it.
func (a *Assign) placeEventRows(ctx context.Context, mem memory.Allocator, b arrow.RecordBatch, set *sessionSet, rows *sessionRows, wm, maxSeen *int64) error {
	at, err := millis(b.Column(a.Time))
	if err != nil {
		return err
	}
	col := b.Column(a.Time)
	key := a.keyOf(b)
	n := int(b.NumRows())
	pass, err := a.filter(mem, b)
	if err != nil {
		return err
	}
	keep := make([]int32, 0, n)
	ids := make([]int32, 0, n)
	for i := 0; i < n; i++ {
		if col.IsNull(i) {
			return fmt.Errorf("the event time %s of a row is NULL; a SESSION window in streaming mode needs every row's event time, as in Flink (RowTime field should not be null)", a.Schema[a.Time].Name)
		}
		ts := at(i)
		// A row the filter drops still raises the watermark.
		if pass == nil || pass[i] {
			if id := set.add(key(i), ts, *wm, true); id >= 0 {
				keep = append(keep, int32(i))
				ids = append(ids, id)
			} else {
				a.Late++
			}
		}
		if ts > *maxSeen {
			*maxSeen = ts
			if ts-a.Delay > *wm {
				*wm = ts - a.Delay
				set.closeUntil(*wm)
			}
		}
	}
	return rows.hold(ctx, mem, b, keep, ids)
}

// filter returns which rows of b pass Filter, nil when all do.
func (a *Assign) filter(mem memory.Allocator, b arrow.RecordBatch) ([]bool, error) {
	if a.Filter == nil {
		return nil, nil
	}
	pass, err := a.Filter(mem, b)
	if err != nil {
		return nil, fmt.Errorf("window: WHERE before SESSION: %w", err)
	}
	return pass, nil
}

// placeRows places the rows of b (owned by the call) in their sessions,
// without lateness: processing time (filtered) and rows restored (not).
func (a *Assign) placeRows(ctx context.Context, mem memory.Allocator, b arrow.RecordBatch, set *sessionSet, rows *sessionRows, filter bool) error {
	at, err := millis(b.Column(a.Time))
	if err != nil {
		return err
	}
	col := b.Column(a.Time)
	key := a.keyOf(b)
	n := int(b.NumRows())
	var pass []bool
	if filter {
		if pass, err = a.filter(mem, b); err != nil {
			return err
		}
	}
	keep := make([]int32, 0, n)
	ids := make([]int32, 0, n)
	for i := 0; i < n; i++ {
		if col.IsNull(i) {
			return fmt.Errorf("the time %s of a row is NULL; a SESSION window needs every row's time", a.Schema[a.Time].Name)
		}
		if pass != nil && !pass[i] {
			continue
		}
		if id := set.add(key(i), at(i), 0, false); id >= 0 {
			keep = append(keep, int32(i))
			ids = append(ids, id)
		}
	}
	return rows.hold(ctx, mem, b, keep, ids)
}

// hold keeps rows keep of b with their sessions ids, and releases b.
func (h *sessionRows) hold(ctx context.Context, mem memory.Allocator, b arrow.RecordBatch, keep, ids []int32) error {
	defer b.Release()
	if len(keep) == 0 {
		return nil
	}
	if len(keep) == int(b.NumRows()) {
		b.Retain()
		h.batches = append(h.batches, b)
		h.ids = append(h.ids, ids)
		return nil
	}
	t, err := takeRows(ctx, mem, b, keep)
	if err != nil {
		return err
	}
	h.batches = append(h.batches, t)
	h.ids = append(h.ids, ids)
	return nil
}

// takeClosed removes the rows of closed sessions from rows and returns
// them, in arrival order, with their window columns (nil when none); the
// sessions still open are renumbered and the closed ones forgotten.
func (a *Assign) takeClosed(ctx context.Context, mem memory.Allocator, set *sessionSet, rows *sessionRows) (arrow.RecordBatch, error) {
	set.closedAny = false
	// Renumber the open roots 0..n-1.
	renum := make(map[int32]int32)
	var wins []sessionWin
	for _, list := range set.open {
		for i, id := range list {
			nid := int32(len(wins))
			renum[id] = nid
			w := set.wins[id]
			w.parent = nid
			wins = append(wins, w)
			list[i] = nid
		}
	}
	var fired []arrow.RecordBatch
	release := func() {
		for _, f := range fired {
			f.Release()
		}
	}
	var keptB []arrow.RecordBatch
	var keptIDs [][]int32
	for bi, b := range rows.batches {
		var f, k []int32
		var starts, ends []int64
		var kids []int32
		for i, id := range rows.ids[bi] {
			r := set.find(id)
			w := set.wins[r]
			if w.closed {
				f = append(f, int32(i))
				starts = append(starts, w.start)
				ends = append(ends, w.end)
				continue
			}
			k = append(k, int32(i))
			kids = append(kids, renum[r])
		}
		if len(f) > 0 {
			e, err := a.expand(ctx, mem, b, f, starts, ends)
			if err != nil {
				release()
				return nil, err
			}
			fired = append(fired, e)
		}
		switch {
		case len(k) == int(b.NumRows()):
			b.Retain()
			keptB = append(keptB, b)
			keptIDs = append(keptIDs, kids)
		case len(k) > 0:
			t, err := takeRows(ctx, mem, b, k)
			if err != nil {
				release()
				return nil, err
			}
			keptB = append(keptB, t)
			keptIDs = append(keptIDs, kids)
		}
	}
	rows.release()
	rows.batches, rows.ids = keptB, keptIDs
	set.wins = wins
	set.ends = set.ends[:0]
	for id, w := range wins {
		set.ends = append(set.ends, endEntry{end: w.end, id: int32(id)})
	}
	heap.Init(&set.ends)
	if len(fired) == 0 {
		return nil, nil
	}
	return concat(mem, fired)
}

// heldWithWindows returns the held rows with the window columns of their
// current sessions, for a checkpoint.
func (a *Assign) heldWithWindows(ctx context.Context, mem memory.Allocator, set *sessionSet, rows *sessionRows) ([]arrow.RecordBatch, error) {
	var out []arrow.RecordBatch
	for bi, b := range rows.batches {
		idx := make([]int32, b.NumRows())
		starts := make([]int64, len(idx))
		ends := make([]int64, len(idx))
		for i, id := range rows.ids[bi] {
			w := set.wins[set.find(id)]
			idx[i], starts[i], ends[i] = int32(i), w.start, w.end
		}
		e, err := a.expand(ctx, mem, b, idx, starts, ends)
		if err != nil {
			for _, o := range out {
				o.Release()
			}
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// dropColumns returns b's first n columns as a batch.
func dropColumns(b arrow.RecordBatch, n int) (arrow.RecordBatch, error) {
	if int(b.NumCols()) < n {
		return nil, fmt.Errorf("window: state: held rows have %d columns, want at least %d", b.NumCols(), n)
	}
	fields := b.Schema().Fields()[:n]
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), b.Columns()[:n], b.NumRows()), nil
}
