package aggregate

import (
	"context"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/spill"
)

// A hybrid hash aggregation: while its groups fit the memory budget the
// aggregation runs in memory as usual. When they pass it, the groups so far
// stay resident and take every later row of their keys, and the rows of any
// other key are written, unaggregated and in input order, to partitions on
// disk split by the hash of the key. At the end the resident groups are
// emitted, then each partition is aggregated the same way (a partition
// still too large spills again, under another hash). Every group's rows are
// thus aggregated in one place and in input order, so every aggregate,
// order-sensitive ones (FIRST_VALUE, LISTAGG, $COLLECT) and DISTINCT
// included, gives exactly its in-memory result.
//
// An aggregation with a $COLLECT is the exception: its groups grow with
// every row, so resident groups would pass any budget. It keeps its input
// batches while within the budget, and when it passes it drops its groups
// and writes every row, those kept included, to the partitions.

const (
	// aggParts is the number of partitions of each spill.
	aggParts = 32
	// aggDepth bounds the re-spilling of a partition; beyond it (keys that
	// hash alike under every seed cannot be split) it runs in memory.
	aggDepth = 4
)

// runBounded aggregates in with at most budget's memory of groups (see
// above); depth is the number of spills that made in.
func (o *Op) runBounded(ctx context.Context, mem memory.Allocator, budget *spill.Budget, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch, depth int) error {
	st, err := o.newState(mem)
	if err != nil {
		drain(in)
		return err
	}
	var parts *spill.Partitions
	defer func() {
		if parts != nil {
			parts.Abort()
		}
	}()
	grown := int64(0) // what LISTAGG keeps of the input
	var strs strSizes
	// With a $COLLECT the input so far is kept (its columns are held
	// anyway), and beyond the budget every row spills, these included: a
	// group's collected values grow with its rows, so groups that stayed
	// in memory would take the rest of their rows past any budget.
	collects := o.collects() && depth < aggDepth
	var held []arrow.RecordBatch
	heldBytes := int64(0)
	defer func() {
		for _, b := range held {
			b.Release()
		}
	}()
	all := false // every row spills
	for b := range in {
		if ctx.Err() != nil {
			b.Release()
			continue
		}
		switch {
		case parts == nil:
			grown += o.keptBytes(b)
			strs.see(o, b)
			err = st.add(b)
			if collects {
				b.Retain()
				held = append(held, b)
				heldBytes += spill.BatchBytes(b)
			}
			if err == nil && depth < aggDepth && st.bytes()+grown+strs.kept(st.groups.n)+heldBytes > budget.Bytes() {
				seed := uint64(depth+1) * 0xBF58476D1CE4E5B9
				parts = budget.NewPartitions("aggregate", b.Schema(), o.Keys, seed, aggParts, mem)
				if collects {
					all = true
					st.discard()
					st = nil
					for i, h := range held {
						if err == nil {
							err = parts.Add(ctx, h)
						}
						h.Release()
						held[i] = nil
					}
					held = nil
				}
			}
		case all:
			err = parts.Add(ctx, b)
		default:
			err = st.addResident(ctx, b, parts)
		}
		b.Release()
		if err != nil {
			drain(in)
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	// The input is in the groups now: let $COLLECT free each column once
	// its values are placed.
	for _, b := range held {
		b.Release()
	}
	held = nil
	if !all {
		if err := o.emit(ctx, st, out); err != nil {
			return err
		}
	}
	st = nil
	if parts == nil {
		return nil
	}
	files, err := parts.Finish()
	parts = nil
	if err != nil {
		return err
	}
	defer spill.RemoveAll(files)
	for q, f := range files {
		if f == nil {
			continue
		}
		if err := o.aggregateFile(ctx, mem, budget, f, out, depth+1); err != nil {
			return err
		}
		files[q] = nil
	}
	return nil
}

// emit sends the results of st's groups in batches of BatchRows.
func (o *Op) emit(ctx context.Context, st *state, out chan<- arrow.RecordBatch) error {
	size := o.BatchRows
	if size <= 0 {
		size = 65536
	}
	if done, err := st.emitParts(ctx, size, out); done || err != nil {
		return err
	}
	res, err := st.finish()
	if err != nil {
		return err
	}
	defer res.Release()
	n := res.NumRows()
	for lo := int64(0); lo < n; lo += int64(size) {
		part := res.NewSlice(lo, min(n, lo+int64(size)))
		select {
		case out <- part:
		case <-ctx.Done():
			part.Release()
			return nil
		}
	}
	return nil
}

// aggregateFile aggregates the rows of a partition file (and removes it).
func (o *Op) aggregateFile(ctx context.Context, mem memory.Allocator, budget *spill.Budget, f *spill.File, out chan<- arrow.RecordBatch, depth int) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ch := make(chan arrow.RecordBatch, 2)
	var readErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		err := spill.ReadAll(f, mem, func(b arrow.RecordBatch) error {
			select {
			case ch <- b:
				return nil
			case <-ctx.Done():
				b.Release()
				return context.Cause(ctx)
			}
		})
		if err != nil && ctx.Err() == nil {
			readErr = err
			cancel(err)
		}
	}()
	err := o.runBounded(ctx, mem, budget, ch, out, depth)
	drain(ch)
	wg.Wait()
	if readErr != nil {
		return readErr
	}
	return err
}

// addResident aggregates the rows of b whose key already has a group and
// writes the others to their partitions.
func (s *state) addResident(ctx context.Context, b arrow.RecordBatch, parts *spill.Partitions) error {
	n := int(b.NumRows())
	if n == 0 {
		return nil
	}
	s.keys = s.keys[:0]
	for _, k := range s.op.Keys {
		s.keys = append(s.keys, b.Column(k))
	}
	s.ids = grow(s.ids[:0], n)[:n]
	if err := (&KeyTable{g: s.groups}).Find(s.keys, s.ids); err != nil {
		return err
	}
	var resident, other []int32
	for r, id := range s.ids {
		if id >= 0 {
			resident = append(resident, int32(r))
		} else {
			other = append(other, int32(r))
		}
	}
	if len(other) == 0 {
		return s.add(b)
	}
	if len(resident) > 0 {
		sub, err := spill.Take(ctx, s.mem, b, resident)
		if err != nil {
			return err
		}
		err = s.add(sub)
		sub.Release()
		if err != nil {
			return err
		}
	}
	part, err := parts.Of(b)
	if err != nil {
		return err
	}
	if len(resident) == 0 {
		other = nil // every row
	}
	return parts.AddRows(ctx, b, part, other)
}

// strSizes estimates the strings MIN, MAX, FIRST_VALUE and LAST_VALUE keep
// (one per group each) from the mean length of their arguments.
type strSizes struct{ bytes, rows int64 }

func (s *strSizes) see(o *Op, b arrow.RecordBatch) {
	any := false
	for _, a := range o.Aggs {
		switch a.Func {
		case Min, Max, FirstValue, LastValue:
			if c, ok := b.Column(a.Arg).(*array.String); ok && c.Len() > 0 {
				s.bytes += int64(c.ValueOffset(c.Len()-1) + len(c.Value(c.Len()-1)) - c.ValueOffset(0))
				any = true
			}
		}
	}
	if any {
		s.rows += b.NumRows()
	}
}

// kept is the estimate for n groups.
func (s *strSizes) kept(n int32) int64 {
	if s.rows == 0 {
		return 0
	}
	return int64(n) * s.bytes / s.rows
}

// keptBytes is what LISTAGG keeps of b: the strings it copies. ($COLLECT
// counts what it keeps itself: collectAcc.bytes.)
func (o *Op) keptBytes(b arrow.RecordBatch) int64 {
	n := int64(0)
	for _, a := range o.Aggs {
		switch a.Func {
		case ListAgg:
			if s, ok := b.Column(a.Arg).(*array.String); ok && s.Len() > 0 {
				n += int64(s.ValueOffset(s.Len()-1) + len(s.Value(s.Len()-1)) - s.ValueOffset(0))
			}
		}
	}
	return n
}

// bytes estimates the memory of the groups: the hash table, the key values
// kept for the output, the accumulators and the DISTINCT sets.
func (s *state) bytes() int64 {
	g := s.groups
	n := int64(0)
	switch {
	case g.ints != nil:
		n += g.ints.bytes()
	case g.strs != nil:
		n += int64(len(g.strs)) * 48
	default:
		n += int64(len(g.bytes)) * 48
	}
	for _, b := range g.keyOut {
		n += int64(b.Cap()) * 8
		if sb, ok := b.(interface{ DataLen() int }); ok {
			n += 2 * int64(sb.DataLen()) // kept, and a copy in the table
		}
	}
	for _, a := range s.accs {
		if sz, ok := a.(interface{ bytes() int64 }); ok {
			n += sz.bytes()
		} else {
			n += int64(g.n) * 16
		}
	}
	for _, d := range s.distinct {
		n += int64(len(d)) * 64
	}
	return n
}

func (a *countAcc) bytes() int64 { return int64(cap(a.n)) * 8 }

func (a *sumAcc[V, A]) bytes() int64 {
	var z A
	return int64(cap(a.sum))*int64(unsafe.Sizeof(z)) + int64(cap(a.cnt))*8
}

func (a *decimalSumAcc) bytes() int64 {
	return int64(cap(a.sum))*16 + int64(cap(a.cnt))*8 + int64(cap(a.overflow))
}

func (a *minMaxAcc[V]) bytes() int64 {
	var z V
	return int64(cap(a.best))*int64(unsafe.Sizeof(z)) + int64(cap(a.seen))
}

func (a *decimalMinMaxAcc) bytes() int64 { return int64(cap(a.best))*16 + int64(cap(a.seen)) }

func (a *varAcc) bytes() int64 { return int64(cap(a.sum)+cap(a.sumSq)+cap(a.cnt)) * 8 }

func (a *listAggAcc) bytes() int64 { return int64(cap(a.buf))*24 + int64(cap(a.seen)) }

// collects reports whether o has a $COLLECT.
func (o *Op) collects() bool {
	for _, a := range o.Aggs {
		if a.Func == Collect || a.Func == CollectPacked {
			return true
		}
	}
	return false
}

// discard releases the memory of s's groups without results.
func (s *state) discard() {
	for _, b := range s.groups.keyOut {
		b.Release()
	}
	s.groups.keyOut = nil
	for _, a := range s.accs {
		if c, ok := a.(*collectAcc); ok {
			c.release()
		}
	}
}
