package aggregate

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// collectAcc is Collect: each group's values, NULLs included, in input
// order, as one ARRAY. It keeps the input columns and the rows' groups, and
// reorders the values into groups once, at the end (a stable counting sort
// by group, then one Take).
type collectAcc struct {
	out    types.T
	chunks []arrow.Array
	ids    []int32 // the group of every kept row, in input order
	err    error
}

func (a *collectAcc) update(col arrow.Array, ids []int32, n int) {
	col.Retain()
	a.chunks = append(a.chunks, col)
	a.ids = append(a.ids, ids...)
}

func (a *collectAcc) build(mem memory.Allocator, n int) arrow.Array {
	arr, err := a.collect(mem, n)
	if err != nil {
		// build has no error result: the aggregation reports it (finish).
		a.err = err
		return array.MakeArrayOfNull(mem, a.out.Arrow(), n)
	}
	return arr
}

func (a *collectAcc) collect(mem memory.Allocator, n int) (arrow.Array, error) {
	defer func() {
		for _, c := range a.chunks {
			c.Release()
		}
		a.chunks = nil
	}()
	offsets := make([]int32, n+1)
	for _, g := range a.ids {
		offsets[g+1]++
	}
	for g := 0; g < n; g++ {
		offsets[g+1] += offsets[g]
	}
	if len(a.ids) > int(^uint32(0)>>1) {
		return nil, fmt.Errorf("aggregate: COLLECT of %d rows is over the limit of 2^31-1", len(a.ids))
	}
	idx := make([]int32, len(a.ids))
	next := append([]int32(nil), offsets[:n]...)
	for row, g := range a.ids {
		idx[next[g]] = int32(row)
		next[g]++
	}
	elem := a.out.Elem.Arrow()
	var values arrow.Array
	if len(a.chunks) == 0 {
		values = array.MakeArrayOfNull(mem, elem, 0)
	} else {
		all, err := array.Concatenate(a.chunks, mem)
		if err != nil {
			return nil, fmt.Errorf("aggregate: COLLECT: %w", err)
		}
		ib := array.NewInt32Builder(mem)
		ib.AppendValues(idx, nil)
		idxArr := ib.NewArray()
		ib.Release()
		values, err = compute.TakeArray(context.Background(), all, idxArr)
		all.Release()
		idxArr.Release()
		if err != nil {
			return nil, fmt.Errorf("aggregate: COLLECT: %w", err)
		}
	}
	defer values.Release()
	offBuf := memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offsets))
	data := array.NewData(a.out.Arrow(), n, []*memory.Buffer{nil, offBuf}, []arrow.ArrayData{values.Data()}, 0, 0)
	defer data.Release()
	return array.NewListData(data), nil
}
