package aggregate

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// TestExpand checks that each row comes out once per set, with the keys
// outside the set NULL and the set's grouping id and ordinal.
func TestExpand(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := types.Schema{{Name: "a", Type: types.INT.NotNull()}, {Name: "b", Type: types.STRING}, {Name: "v", Type: types.BIGINT}}
	rb := array.NewRecordBuilder(mem, schema.Arrow())
	rb.Field(0).(*array.Int32Builder).AppendValues([]int32{1, 2}, nil)
	rb.Field(1).(*array.StringBuilder).AppendValues([]string{"x", "y"}, nil)
	rb.Field(2).(*array.Int64Builder).AppendValues([]int64{10, 20}, nil)
	in := make(chan arrow.RecordBatch, 1)
	in <- rb.NewRecordBatch()
	rb.Release()
	close(in)
	// ROLLUP (a, b): (a, b), (a), ().
	e := &Expand{Schema: schema, Keys: []int{0, 1}, Sets: [][]int{{0, 1}, {0}, {}}}
	out := make(chan arrow.RecordBatch, 8)
	if err := e.Run(context.Background(), mem, in, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var got []string
	for b := range out {
		if !b.Schema().Field(0).Nullable {
			t.Errorf("key a is not NULL-able after Expand")
		}
		for r := 0; r < int(b.NumRows()); r++ {
			var row []string
			for c := 0; c < int(b.NumCols()); c++ {
				row = append(row, b.Column(c).ValueStr(r))
			}
			got = append(got, fmt.Sprint(row))
		}
		b.Release()
	}
	want := "[[1 x 10 0 0] [2 y 20 0 0] [1 (null) 10 1 1] [2 (null) 20 1 1] [(null) (null) 10 3 2] [(null) (null) 20 3 2]]"
	if fmt.Sprint(got) != want {
		t.Errorf("Expand rows = %v\nwant %s", got, want)
	}
	for _, tc := range []struct {
		set  []int
		n    int
		want int64
	}{{[]int{0, 1}, 2, 0}, {[]int{0}, 2, 1}, {[]int{1}, 2, 2}, {nil, 3, 7}} {
		if got := GroupingID(tc.set, tc.n); got != tc.want {
			t.Errorf("GroupingID(%v, %d) = %d, want %d", tc.set, tc.n, got, tc.want)
		}
	}
}
