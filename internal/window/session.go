package window

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
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
	key        *keySessions
	closed     bool
	parent     int32
}

// keySessions are the open root sessions of one partition key.
type keySessions struct {
	key string
	ids []int32
}

// sessionSet tracks the open sessions of every partition key.
type sessionSet struct {
	gap  int64
	wins []sessionWin
	open map[string]*keySessions
	// ends holds an (end, id) entry per session made, ordered by end: a
	// session that grew or merged away leaves its entry, checked when it
	// comes up (closeUntil), so a row costs no heap operation.
	ends endHeap
	// closedAny reports that a session closed since the last emission.
	closedAny bool
}

func newSessionSet(gap int64) *sessionSet {
	return &sessionSet{gap: gap, open: map[string]*keySessions{}}
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

// add places a row of partition key key (bytes the call does not keep) at
// event time ts and returns its session, or -1 when the row is late for
// watermark wm (lateness checks off: late false).
func (s *sessionSet) add(key []byte, ts, wm int64, late bool) int32 {
	start, end := ts, ts+s.gap
	ks := s.open[string(key)]
	into := int32(-1)
	if ks != nil {
		kept := ks.ids[:0]
		for _, id := range ks.ids {
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
		ks.ids = kept
	}
	if into >= 0 {
		s.wins[into].start, s.wins[into].end = start, end
		return into
	}
	if late && end-1 <= wm {
		return -1
	}
	if ks == nil {
		ks = &keySessions{key: string(key)}
		s.open[ks.key] = ks
	}
	into = int32(len(s.wins))
	s.wins = append(s.wins, sessionWin{start: start, end: end, key: ks, parent: into})
	ks.ids = append(ks.ids, into)
	s.ends.push(endEntry{end: end, id: into})
	return into
}

// closeUntil closes the open sessions whose end less one millisecond the
// watermark wm has reached.
func (s *sessionSet) closeUntil(wm int64) {
	for len(s.ends) > 0 && s.ends[0].end-1 <= wm {
		e := s.ends.pop()
		w := &s.wins[e.id]
		if w.parent != e.id || w.closed {
			continue // merged away
		}
		if w.end != e.end {
			// It grew since: its entry goes back at its end.
			s.ends.push(endEntry{end: w.end, id: e.id})
			continue
		}
		w.closed = true
		s.closedAny = true
		ks := w.key
		for i, id := range ks.ids {
			if id == e.id {
				ks.ids = append(ks.ids[:i], ks.ids[i+1:]...)
				break
			}
		}
		if len(ks.ids) == 0 {
			delete(s.open, ks.key)
		}
	}
}

type endEntry struct {
	end int64
	id  int32
}

// endHeap is a binary min-heap of session ends.
type endHeap []endEntry

func (h *endHeap) push(e endEntry) {
	*h = append(*h, e)
	q := *h
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if q[p].end <= q[i].end {
			break
		}
		q[p], q[i] = q[i], q[p]
		i = p
	}
}

func (h *endHeap) pop() endEntry {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < len(q) && q[l].end < q[small].end {
			small = l
		}
		if r := l + 1; r < len(q) && q[r].end < q[small].end {
			small = r
		}
		if small == i {
			break
		}
		q[i], q[small] = q[small], q[i]
		i = small
	}
	*h = q
	return top
}

// sessionRows are the rows held in sessions: input batches (the input's
// columns only) with each row's session.
type sessionRows struct {
	batches []arrow.RecordBatch
	ids     [][]int32 // per row its session, or -1 once it has left
	live    []int     // per batch the rows not left yet
}

func (h *sessionRows) release() {
	for _, b := range h.batches {
		b.Release()
	}
	h.batches, h.ids, h.live = nil, nil, nil
}

// keyOf returns a function giving the partition key of a row of b as
// bytes (valid until its next call): its key columns' values, each tagged,
// NULL distinct from every value.
func (a *Assign) keyOf(b arrow.RecordBatch) func(i int) []byte {
	if len(a.Keys) == 0 {
		return func(int) []byte { return nil }
	}
	parts := make([]func(buf []byte, i int) []byte, len(a.Keys))
	for j, k := range a.Keys {
		parts[j] = keyPart(b.Column(k))
	}
	var buf []byte
	return func(i int) []byte {
		buf = buf[:0]
		for _, p := range parts {
			buf = p(buf, i)
		}
		return buf
	}
}

// keyPart appends a tagged value of c (length-prefixed) or a NULL tag.
func keyPart(c arrow.Array) func(buf []byte, i int) []byte {
	value := func(buf []byte, v string) []byte {
		buf = append(buf, 'V')
		buf = binary.AppendUvarint(buf, uint64(len(v)))
		return append(buf, v...)
	}
	null := func(buf []byte, i int) ([]byte, bool) {
		if c.IsNull(i) {
			return append(buf, 'N'), true
		}
		return buf, false
	}
	switch t := c.(type) {
	case *array.String:
		return func(buf []byte, i int) []byte {
			if buf, isNull := null(buf, i); isNull {
				return buf
			}
			return value(buf, t.Value(i))
		}
	case *array.Int32:
		return func(buf []byte, i int) []byte {
			if buf, isNull := null(buf, i); isNull {
				return buf
			}
			return binary.AppendVarint(append(buf, 'V'), int64(t.Value(i)))
		}
	case *array.Int64:
		return func(buf []byte, i int) []byte {
			if buf, isNull := null(buf, i); isNull {
				return buf
			}
			return binary.AppendVarint(append(buf, 'V'), t.Value(i))
		}
	}
	return func(buf []byte, i int) []byte {
		if buf, isNull := null(buf, i); isNull {
			return buf
		}
		return value(buf, c.ValueStr(i))
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
		for i, b := range st.pending {
			in, err := dropColumns(b, len(inSchema))
			b.Release()
			if err == nil {
				err = a.placeRows(ctx, mem, in, set, rows, false)
			}
			if err != nil {
				for _, rest := range st.pending[i+1:] {
					rest.Release()
				}
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
	defer b.Release()
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
	defer b.Release()
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

// hold keeps rows keep of b with their sessions ids (b itself, retained,
// when it keeps all).
func (h *sessionRows) hold(ctx context.Context, mem memory.Allocator, b arrow.RecordBatch, keep, ids []int32) error {
	if len(keep) == 0 {
		return nil
	}
	h.ids = append(h.ids, ids)
	h.live = append(h.live, len(ids))
	if len(keep) == int(b.NumRows()) {
		b.Retain()
		h.batches = append(h.batches, b)
		return nil
	}
	t, err := takeRows(ctx, mem, b, keep)
	if err != nil {
		h.ids, h.live = h.ids[:len(h.ids)-1], h.live[:len(h.live)-1]
		return err
	}
	h.batches = append(h.batches, t)
	return nil
}

// takeClosed removes the rows of closed sessions from rows and returns
// them, in arrival order, with their window columns (nil when none); the
// sessions still open are renumbered and the closed ones forgotten. A held
// batch keeps its rows that left (marked -1) until fewer than half of its
// rows are left: then it is compacted, so an emission costs a scan of the
// held sessions' ids, not a copy of their rows.
func (a *Assign) takeClosed(ctx context.Context, mem memory.Allocator, set *sessionSet, rows *sessionRows) (arrow.RecordBatch, error) {
	set.closedAny = false
	// Renumber the open roots 0..n-1.
	renum := make([]int32, len(set.wins))
	var wins []sessionWin
	for _, ks := range set.open {
		for i, id := range ks.ids {
			nid := int32(len(wins))
			renum[id] = nid
			w := set.wins[id]
			w.parent = nid
			wins = append(wins, w)
			ks.ids[i] = nid
		}
	}
	var fired []arrow.RecordBatch
	release := func() {
		for _, f := range fired {
			f.Release()
		}
	}
	var f []int32
	var starts, ends []int64
	n := 0
	for bi, b := range rows.batches {
		ids := rows.ids[bi]
		f, starts, ends = f[:0], starts[:0], ends[:0]
		for i, id := range ids {
			if id < 0 {
				continue
			}
			r := set.find(id)
			w := &set.wins[r]
			if !w.closed {
				ids[i] = renum[r]
				continue
			}
			f = append(f, int32(i))
			starts = append(starts, w.start)
			ends = append(ends, w.end)
			ids[i] = -1
		}
		if len(f) > 0 {
			e, err := a.expand(ctx, mem, b, f, starts, ends)
			if err != nil {
				release()
				return nil, err
			}
			fired = append(fired, e)
			rows.live[bi] -= len(f)
		}
		switch live := rows.live[bi]; {
		case live == 0:
			b.Release()
			continue
		case live < len(ids)/2:
			keep := make([]int32, 0, live)
			kids := make([]int32, 0, live)
			for i, id := range ids {
				if id >= 0 {
					keep = append(keep, int32(i))
					kids = append(kids, id)
				}
			}
			t, err := takeRows(ctx, mem, b, keep)
			if err != nil {
				release()
				return nil, err
			}
			b.Release()
			b, ids = t, kids
		}
		rows.batches[n], rows.ids[n], rows.live[n] = b, ids, rows.live[bi]
		n++
	}
	for i := n; i < len(rows.batches); i++ {
		rows.batches[i], rows.ids[i] = nil, nil
	}
	rows.batches, rows.ids, rows.live = rows.batches[:n], rows.ids[:n], rows.live[:n]
	set.wins = wins
	set.ends = set.ends[:0]
	for id, w := range wins {
		set.ends.push(endEntry{end: w.end, id: int32(id)})
	}
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
		var idx []int32
		var starts, ends []int64
		for i, id := range rows.ids[bi] {
			if id < 0 {
				continue // left already
			}
			w := set.wins[set.find(id)]
			idx, starts, ends = append(idx, int32(i)), append(starts, w.start), append(ends, w.end)
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
