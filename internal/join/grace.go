package join

import (
	"context"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/spill"
)

// A grace hash join: when the build side passes the memory budget, both
// sides are split by the hash of their keys into partitions on disk, and
// each pair of partitions (the rows of one key are all in one) is joined in
// memory, a partition still too large being split again under another
// hash. Rows with a NULL key hash alike and land in one partition, where
// they match nothing, as they should.

const (
	// graceParts is the number of partitions of each split.
	graceParts = 32
	// graceDepth bounds the splits: a partition of one huge key cannot be
	// split, and is joined in memory after that many.
	graceDepth = 4
)

// runBounded joins left with right, holding right in memory while it fits
// the budget and switching to a grace hash join when it does not. depth is
// the number of splits that made these inputs.
func (o *Op) runBounded(ctx context.Context, mem memory.Allocator, budget *spill.Budget, left, right <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch, depth int) error {
	var held []arrow.RecordBatch
	size := int64(0)
	release := func() {
		for _, b := range held {
			b.Release()
		}
		held = nil
	}
	// Half the budget: the build side is hashed from a copy of its batches.
	limit := budget.Bytes() / 2
	for b := range right {
		if ctx.Err() != nil {
			b.Release()
			continue
		}
		held = append(held, b)
		if size += spill.BatchBytes(b); size > limit && depth < graceDepth {
			break
		}
	}
	if ctx.Err() != nil {
		release()
		drain(right)
		drain(left)
		return nil
	}
	if size <= limit || depth >= graceDepth {
		// It fits (or cannot be split further): the in-memory join.
		ch := make(chan arrow.RecordBatch, len(held))
		for _, b := range held {
			ch <- b
		}
		close(ch)
		return o.runInMemory(ctx, mem, left, ch, out, depth > 0)
	}
	defer drain(left)
	seed := uint64(depth+1) * 0x9E3779B97F4A7C15
	rightSchema := o.rightSchema()
	rp := budget.NewPartitions("join-build", rightSchema, o.RightKeys, seed, graceParts, mem)
	buildNull := false
	add := func(b arrow.RecordBatch) error {
		if o.Kind == AntiNull && !buildNull {
			buildNull = anyNullKey(b, o.RightKeys)
		}
		err := rp.Add(ctx, b)
		b.Release()
		return err
	}
	var err error
	for _, b := range held {
		if err == nil {
			err = add(b)
		} else {
			b.Release()
		}
	}
	held = nil
	for b := range right {
		if err == nil && ctx.Err() == nil {
			err = add(b)
		} else {
			b.Release()
		}
	}
	if err != nil {
		rp.Abort()
		return err
	}
	rights, err := rp.Finish()
	if err != nil {
		return err
	}
	defer spill.RemoveAll(rights)
	if o.Kind == AntiNull && buildNull {
		// NOT IN over a non-empty set holding a NULL is never true.
		return nil
	}
	lp := budget.NewPartitions("join-probe", o.leftSchema(), o.LeftKeys, seed, graceParts, mem)
	for b := range left {
		if err == nil && ctx.Err() == nil {
			err = lp.Add(ctx, b)
		}
		b.Release()
	}
	if err != nil {
		lp.Abort()
		return err
	}
	lefts, err := lp.Finish()
	if err != nil {
		return err
	}
	defer spill.RemoveAll(lefts)
	for q := range rights {
		if ctx.Err() != nil {
			return nil
		}
		if !o.needsPartition(lefts[q] != nil, rights[q] != nil) {
			continue
		}
		if err := o.joinFiles(ctx, mem, budget, lefts[q], rights[q], out, depth+1); err != nil {
			return err
		}
		spill.RemoveAll([]*spill.File{lefts[q], rights[q]})
		lefts[q], rights[q] = nil, nil
	}
	return nil
}

// needsPartition reports whether a pair of partitions, either possibly
// empty, can give rows.
func (o *Op) needsPartition(hasLeft, hasRight bool) bool {
	switch o.Kind {
	case Inner, Semi:
		return hasLeft && hasRight
	case Left, Anti, AntiNull:
		return hasLeft
	case Right:
		return hasRight
	}
	return hasLeft || hasRight
}

// joinFiles joins a pair of partitions (nil: empty) with runBounded.
func (o *Op) joinFiles(ctx context.Context, mem memory.Allocator, budget *spill.Budget, left, right *spill.File, out chan<- arrow.RecordBatch, depth int) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var readErr error
	read := func(f *spill.File) <-chan arrow.RecordBatch {
		ch := make(chan arrow.RecordBatch, 2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(ch)
			if f == nil {
				return
			}
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
				mu.Lock()
				readErr = err
				mu.Unlock()
				cancel(err)
			}
		}()
		return ch
	}
	lc, rc := read(left), read(right)
	err := o.runBounded(ctx, mem, budget, lc, rc, out, depth)
	drain(lc)
	drain(rc)
	wg.Wait()
	if readErr != nil {
		return readErr
	}
	return err
}

func anyNullKey(b arrow.RecordBatch, keys []int) bool {
	for _, k := range keys {
		if b.Column(k).NullN() > 0 {
			return true
		}
	}
	return false
}

// leftSchema and rightSchema are the Arrow schemas of the two inputs.
func (o *Op) leftSchema() *arrow.Schema { return o.Schema[:o.LeftWidth].Arrow() }

func (o *Op) rightSchema() *arrow.Schema {
	if o.Kind >= Semi {
		return o.RightSchema.Arrow()
	}
	return o.Schema[o.LeftWidth:].Arrow()
}
