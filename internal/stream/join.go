package stream

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/changelog"
	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// Join is Flink's regular streaming inner join: both inputs are kept as
// state, by key; a row arriving on either side is joined with the rows of
// the other side with the same key so far. An accumulating row (+I, +U)
// emits +I for each match and a retracting one (-U, -D) -D, as Flink's
// inner join does; NULL keys never match. The inputs run concurrently, so
// neither needs to end. Output: Schema (the left columns, then the right
// ones), followed by the row-kind column when Retracting (an input has
// updates; else every output row is an insertion and has no kind column).
type Join struct {
	LeftKeys, RightKeys []int
	// LeftWidth is the number of left (data) columns in Schema.
	LeftWidth  int
	Schema     types.Schema
	Retracting bool
	Text       string

	restored *[2]*side // by Restore, for Run (checkpoint.go)
}

// String describes the operator for EXPLAIN.
func (o *Join) String() string {
	if o.Retracting {
		return fmt.Sprintf("StreamingJoin: %s changelog=[I,D]", o.Text)
	}
	return fmt.Sprintf("StreamingJoin: %s", o.Text)
}

// side is one input's state: its rows by encoded key, each row with how
// many times it is there.
type side struct {
	rows map[string][]*counted
}

// Run joins left and right until both end or ctx is cancelled.
func (o *Join) Run(ctx context.Context, mem memory.Allocator, left, right <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	state := [2]*side{{rows: map[string][]*counted{}}, {rows: map[string][]*counted{}}}
	if o.restored != nil {
		state, o.restored = *o.restored, nil
	}
	keys := [2][]int{o.LeftKeys, o.RightKeys}
	em := newEmitter(o.Schema)
	if o.Retracting {
		em = newEmitter(WithRowKind(o.Schema))
	}
	ins := [2]<-chan arrow.RecordBatch{left, right}
	// A checkpoint's barrier holds back its input until it has come on
	// the other (or the other ended): then the state is saved and the
	// barrier sent on (aligned barriers).
	var held [2]*checkpoint.Barrier
	align := func() error {
		if (held[0] == nil && held[1] == nil) || (held[0] == nil && ins[0] != nil) || (held[1] == nil && ins[1] != nil) {
			return nil
		}
		br := held[0]
		if br == nil {
			br = held[1]
		}
		held = [2]*checkpoint.Barrier{}
		if err := br.Save(o, func(w io.Writer) error { return o.save(state, w) }); err != nil {
			return fmt.Errorf("streaming join: %w", err)
		}
		select {
		case out <- br:
		case <-ctx.Done():
		}
		return nil
	}
	var key strings.Builder
	for ins[0] != nil || ins[1] != nil {
		var b arrow.RecordBatch
		var from int
		var ok bool
		read := ins
		for i := range read {
			if held[i] != nil {
				read[i] = nil
			}
		}
		select {
		case b, ok = <-read[0]:
			from = 0
		case b, ok = <-read[1]:
			from = 1
		}
		if !ok {
			ins[from] = nil
			if err := align(); err != nil {
				drainBoth(ins)
				return err
			}
			continue
		}
		if ctx.Err() != nil {
			b.Release()
			continue
		}
		if br := checkpoint.IsBarrier(b); br != nil {
			held[from] = br
			if err := align(); err != nil {
				drainBoth(ins)
				return err
			}
			continue
		}
		kinds := changelog.Kinds(b)
		nd := changelog.Data(b)
		for r := 0; r < int(b.NumRows()); r++ {
			key.Reset()
			null := false
			for _, k := range keys[from] {
				v := exec.ValueAt(b.Column(k), r)
				if v == nil {
					null = true
					break
				}
				key.WriteString(valueKey(normalizeKey(v)))
				key.WriteByte(0)
			}
			if null {
				continue
			}
			row := make([]any, nd)
			for c := range row {
				row[c] = keep(exec.ValueAt(b.Column(c), r))
			}
			k := key.String()
			kind := changelog.At(kinds, r)
			if !state[from].apply(k, row, kind.Accumulates()) {
				continue // a retraction of a row never seen: ignored
			}
			outKind := changelog.Insert
			if !kind.Accumulates() {
				outKind = changelog.Delete
			}
			for _, other := range state[1-from].rows[k] {
				for n := int64(0); n < other.n; n++ {
					l, rr := row, other.v.([]any)
					if from == 1 {
						l, rr = rr, row
					}
					em.add(outKind, l, rr)
				}
			}
		}
		b.Release()
		if err := em.flush(ctx, mem, out); err != nil {
			drainBoth(ins)
			return fmt.Errorf("streaming join: %w", err)
		}
	}
	return nil
}

// apply adds row under key k, or takes one equal row back; it reports
// false for a retraction of a row that is not there. Additions append
// (insert-only inputs never scan); a retraction looks for an equal row.
func (s *side) apply(k string, row []any, accumulate bool) bool {
	list := s.rows[k]
	if accumulate {
		s.rows[k] = append(list, &counted{v: row, n: 1})
		return true
	}
	rk := rowKey(row)
	for i, c := range list {
		if rowKey(c.v.([]any)) != rk {
			continue
		}
		s.rows[k] = append(list[:i], list[i+1:]...)
		if len(s.rows[k]) == 0 {
			delete(s.rows, k)
		}
		return true
	}
	return false
}

func rowKey(row []any) string {
	var b strings.Builder
	for _, v := range row {
		b.WriteString(valueKey(v))
		b.WriteByte(0)
	}
	return b.String()
}

// normalizeKey widens integer keys so that an INT key meets a BIGINT one
// (the planner casts keys to a common type; this is a safety net).
func normalizeKey(v any) any {
	switch v.(type) {
	case int8, int16, int32, int64:
		return exec.ToInt64(v)
	}
	return v
}

func drainBoth(ins [2]<-chan arrow.RecordBatch) {
	for _, in := range ins {
		if in != nil {
			drain(in)
		}
	}
}
