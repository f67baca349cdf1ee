package pyexec

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/coder"
)

// joinTable builds the output of a table stage for one input batch: for each
// result row, the forwarded columns of its input row and the result; with
// LeftJoin, input rows without results appear once, with NULL results.
func (p *Pool) joinTable(s *Stage, mem memory.Allocator, dec *coder.Decoder, rec arrow.RecordBatch, value []byte) (arrow.RecordBatch, error) {
	n, err := dec.DecodeTable(value, 0)
	if err != nil {
		return nil, err
	}
	if n != int(rec.NumRows()) {
		return nil, fmt.Errorf("got answers for %d input rows, sent %d", n, rec.NumRows())
	}
	parents := append([]int32(nil), dec.Parents()...)
	results := dec.NewArrays()
	defer release(results)

	fwdIdx := parents
	var resIdx arrow.Array // nil: results are already aligned
	if s.LeftJoin {
		fwdIdx = make([]int32, 0, len(parents)+n)
		b := array.NewInt32Builder(mem)
		defer b.Release()
		k := 0
		for r := 0; r < n; r++ {
			found := false
			for k < len(parents) && int(parents[k]) == r {
				fwdIdx = append(fwdIdx, int32(r))
				b.Append(int32(k))
				k++
				found = true
			}
			if !found {
				fwdIdx = append(fwdIdx, int32(r))
				b.AppendNull()
			}
		}
		resIdx = b.NewArray()
		defer resIdx.Release()
	}
	rows := int64(len(fwdIdx))
	if rows == 0 {
		return nil, nil
	}
	ctx := compute.WithAllocator(context.Background(), mem)
	idx := array.NewInt32Builder(mem)
	idx.AppendValues(fwdIdx, nil)
	fwdIndices := idx.NewArray()
	idx.Release()
	defer fwdIndices.Release()

	cols := make([]arrow.Array, 0, len(s.Forward)+len(results))
	defer func() { release(cols) }()
	for _, c := range s.Forward {
		taken, err := compute.TakeArray(ctx, rec.Column(c), fwdIndices)
		if err != nil {
			return nil, fmt.Errorf("join forwarded column %d: %w", c, err)
		}
		cols = append(cols, taken)
	}
	for i, r := range results {
		if resIdx == nil {
			r.Retain()
			cols = append(cols, r)
			continue
		}
		taken, err := compute.TakeArray(ctx, r, resIdx)
		if err != nil {
			return nil, fmt.Errorf("pad result column %d: %w", i, err)
		}
		cols = append(cols, taken)
	}
	return array.NewRecordBatch(s.Output.Arrow(), cols, rows), nil
}

func release(as []arrow.Array) {
	for _, a := range as {
		if a != nil {
			a.Release()
		}
	}
}
