package pyexec

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
	"github.com/weir-dev/weir/internal/weirpb"
)

// arrowColumns builds random columns of an INT, a STRING, an ARRAY<BIGINT>
// and a ROW<a INT, b STRING> with NULLs.
func arrowColumns(t *testing.T, mem memory.Allocator, rng *rand.Rand, n, strLen int) ([]types.T, []arrow.Array) {
	t.Helper()
	ts := []types.T{types.INT, types.STRING, types.ARRAY(types.BIGINT),
		types.ROW(types.Field{Name: "a", Type: types.INT}, types.Field{Name: "b", Type: types.STRING})}
	b := array.NewRecordBuilder(mem, arrowSchema(ts))
	defer b.Release()
	for i := 0; i < n; i++ {
		null := rng.Intn(5) == 0
		ib := b.Field(0).(*array.Int32Builder)
		sb := b.Field(1).(*array.StringBuilder)
		lb := b.Field(2).(*array.ListBuilder)
		rb := b.Field(3).(*array.StructBuilder)
		if null {
			ib.AppendNull()
			sb.AppendNull()
			lb.AppendNull()
			rb.AppendNull()
			continue
		}
		ib.Append(rng.Int31())
		sb.Append(strings.Repeat("é", rng.Intn(strLen+1)))
		lb.Append(true)
		for k := rng.Intn(4); k > 0; k-- {
			lb.ValueBuilder().(*array.Int64Builder).Append(rng.Int63())
		}
		lb.ValueBuilder().(*array.Int64Builder).AppendNull()
		rb.Append(true)
		rb.FieldBuilder(0).(*array.Int32Builder).Append(int32(i))
		rb.FieldBuilder(1).(*array.StringBuilder).AppendNull()
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	cols := rec.Columns()
	for _, c := range cols {
		c.Retain()
	}
	return ts, cols
}

// TestArrowElementRoundTrip: rows [from, to) of Arrow columns encoded as one
// IPC element decode to the same values, for random ranges (slices are
// written at their offset).
func TestArrowElementRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewSource(rand.Int63()))
	ts, cols := arrowColumns(t, mem, rng, 1000, 8)
	defer release(cols)
	for trial := 0; trial < 20; trial++ {
		from := rng.Intn(1000)
		to := from + 1 + rng.Intn(1000-from)
		el, m, err := encodeArrowRows(arrowSchema(ts), cols, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if m != to-from {
			t.Fatalf("encoded %d rows of %d", m, to-from)
		}
		vals, err := splitElements(el)
		if err != nil || len(vals) != 1 {
			t.Fatalf("splitElements: %d values, %v", len(vals), err)
		}
		got, n, err := decodeArrowResults(mem, arrowFields(ts), vals[0])
		if err != nil {
			t.Fatal(err)
		}
		if n != to-from {
			t.Fatalf("decoded %d rows, want %d", n, to-from)
		}
		for i, c := range cols {
			want := array.NewSlice(c, int64(from), int64(to))
			if !array.Equal(got[i], want) {
				t.Errorf("rows [%d, %d) column %d differ:\n got %v\nwant %v", from, to, i, got[i], want)
			}
			want.Release()
		}
		release(got)
	}
}

// TestArrowElementBytesBound: wide rows are sent in several elements, each
// within maxElementBytes, and together they hold every row.
func TestArrowElementBytesBound(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewSource(rand.Int63()))
	ts, cols := arrowColumns(t, mem, rng, 400, 40000) // up to 80 KB a row
	defer release(cols)
	s := &Stage{Spec: &weirpb.Stage{Kind: weirpb.Stage_VECTORIZED}, InputTypes: ts}
	elements := 0
	for off := 0; off < 400; {
		el, m, err := s.encodeInput(nil, cols, off, 400)
		if err != nil {
			t.Fatal(err)
		}
		if m < 1 || len(el) > maxElementBytes+maxHeader {
			t.Fatalf("element of %d rows is %d bytes", m, len(el))
		}
		off += m
		elements++
	}
	if elements < 3 {
		t.Errorf("%d elements; want the rows split over several", elements)
	}
}

// TestArrowResultsChecked: results whose Arrow types differ from the
// declared ones, or that hold no batch, are errors that say so.
func TestArrowResultsChecked(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewSource(1))
	ts, cols := arrowColumns(t, mem, rng, 10, 3)
	defer release(cols)
	el, _, err := encodeArrowRows(arrowSchema(ts[:1]), cols[:1], 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	vals, _ := splitElements(el)
	_, _, err = decodeArrowResults(mem, arrowFields([]types.T{types.BIGINT}), vals[0])
	if err == nil || !strings.Contains(err.Error(), "result column 0 has Arrow type int32, want int64") {
		t.Errorf("wrong type: %v", err)
	}
	_, _, err = decodeArrowResults(mem, arrowFields(ts[:2]), vals[0])
	if err == nil || !strings.Contains(err.Error(), "got 1 result columns, want 2") {
		t.Errorf("wrong width: %v", err)
	}
	if _, _, err = decodeArrowResults(mem, arrowFields(ts[:1]), []byte{1, 2, 3}); err == nil {
		t.Error("garbage: no error")
	}
}

// TestJoinArrowParts: results sent in parts are joined with the forwarded
// columns of the rows they answer, one output batch per part.
func TestJoinArrowParts(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewSource(2))
	ts, cols := arrowColumns(t, mem, rng, 100, 3)
	defer release(cols)
	in := array.NewRecordBatch(arrowSchema(ts), cols, 100)
	defer in.Release()
	// The "results" are the STRING column, sent in parts of 30, 30, 40 rows.
	results := types.Schema{{Name: "r", Type: types.STRING}}
	var parts [][]byte
	for _, r := range [][2]int{{0, 30}, {30, 60}, {60, 100}} {
		el, _, err := encodeArrowRows(arrowSchema(ts[1:2]), cols[1:2], r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		v, _ := splitElements(el)
		parts = append(parts, v[0])
	}
	s := &Stage{Spec: &weirpb.Stage{Kind: weirpb.Stage_VECTORIZED}, Forward: []int{0}, Results: results,
		Output: types.Schema{{Name: "i", Type: types.INT}, {Name: "r", Type: types.STRING}}}
	var got []arrow.RecordBatch
	err := (&Pool{}).joinArrow(s, mem, in, parts, func(b arrow.RecordBatch) error { got = append(got, b); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d output batches, want 3", len(got))
	}
	off := int64(0)
	for _, b := range got {
		n := b.NumRows()
		for c, src := range []arrow.Array{cols[0], cols[1]} {
			want := array.NewSlice(src, off, off+n)
			if !array.Equal(b.Column(c), want) {
				t.Errorf("rows from %d column %d differ", off, c)
			}
			want.Release()
		}
		off += n
		b.Release()
	}
	// One part short: the rows are not all answered.
	err = (&Pool{}).joinArrow(s, mem, in, parts[:2], func(b arrow.RecordBatch) error { b.Release(); return nil })
	if err == nil || !strings.Contains(err.Error(), "got 60 result rows for 100 input rows") {
		t.Errorf("missing part: %v", err)
	}
}
