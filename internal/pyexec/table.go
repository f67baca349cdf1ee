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

// joinTable sends the output of a table stage for one input batch, one
// batch per part of its results: for each result row, the forwarded columns
// of its input row and the result; with LeftJoin, input rows without
// results appear once, with NULL results. The results of one input row may
// span parts.
func (p *Pool) joinTable(s *Stage, mem memory.Allocator, dec *coder.Decoder, rec arrow.RecordBatch, parts [][]byte, send func(arrow.RecordBatch) error) error {
	rows := int(rec.NumRows())
	first := 0        // the input row the next part starts with
	firstHas := false // whether row first got results in an earlier part
	for k, part := range parts {
		n, err := dec.DecodeTable(part, first)
		if err != nil {
			return err
		}
		parents := append([]int32(nil), dec.Parents()...)
		results := dec.NewArrays()
		open := first + n // the row whose results may go on in the next part
		has := len(parents) > 0 && int(parents[len(parents)-1]) == open
		switch {
		case open > rows || (has && open >= rows):
			release(results)
			return fmt.Errorf("got answers for more than the %d input rows sent", rows)
		case has && k == len(parts)-1:
			release(results)
			return fmt.Errorf("the answer of input row %d has no end marker", open+1)
		}
		joined, err := p.tableBatch(s, mem, rec, results, parents, first, n, firstHas)
		release(results)
		if err != nil {
			return err
		}
		if n > 0 {
			firstHas = has
		} else {
			firstHas = firstHas || has
		}
		first = open
		if joined != nil {
			if err := send(joined); err != nil {
				return err
			}
		}
	}
	if first != rows {
		return fmt.Errorf("got answers for %d input rows, sent %d", first, rows)
	}
	return nil
}

// tableBatch joins the result rows of one part with their input rows
// (parents, indexes into rec). The part answers the n input rows from
// first on; results of row first+n may follow in the next part. With
// LeftJoin, an answered row without results gets one row of NULL results,
// unless it is row first and had results in an earlier part (firstHas).
// It returns nil when the part gives no output row.
func (p *Pool) tableBatch(s *Stage, mem memory.Allocator, rec arrow.RecordBatch, results []arrow.Array, parents []int32, first, n int, firstHas bool) (arrow.RecordBatch, error) {
	fwdIdx := parents
	var resIdx arrow.Array // nil: results are already aligned
	if s.LeftJoin {
		fwdIdx = make([]int32, 0, len(parents)+n)
		b := array.NewInt32Builder(mem)
		defer b.Release()
		k := 0
		for r := first; r <= first+n; r++ {
			found := false
			for k < len(parents) && int(parents[k]) == r {
				fwdIdx = append(fwdIdx, int32(r))
				b.Append(int32(k))
				k++
				found = true
			}
			if !found && r < first+n && !(r == first && firstHas) {
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
