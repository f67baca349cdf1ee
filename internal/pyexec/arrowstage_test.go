package pyexec

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"unsafe"

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
// IPC element, in batches of a random size, decode to the same values, for
// random ranges (slices are written at their offset).
func TestArrowElementRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewSource(rand.Int63()))
	ts, cols := arrowColumns(t, mem, rng, 1000, 8)
	defer release(cols)
	for trial := 0; trial < 20; trial++ {
		from := rng.Intn(1000)
		to := from + 1 + rng.Intn(1000-from)
		batchRows := rng.Intn(3) * rng.Intn(300) // 0: one batch
		el, m, err := encodeArrowRows(arrowSchema(ts), seqOf(cols), from, to, batchRows)
		if err != nil {
			t.Fatal(err)
		}
		whole, _ := splitElements(el.bytes())
		batches := 0
		err = readArrowBatches(mem, arrowFields(ts), whole[0], func(c []arrow.Array, n int) error {
			release(c)
			if batchRows > 0 && n > batchRows || n == 0 {
				t.Errorf("a batch of %d rows, batch size %d", n, batchRows)
			}
			batches++
			return nil
		})
		if want := 1; batchRows > 0 {
			want = (to - from + batchRows - 1) / batchRows
			if batches != want {
				t.Errorf("%d rows in %d batches, want %d of at most %d", to-from, batches, want, batchRows)
			}
		} else if err != nil || batches != want {
			t.Errorf("%d batches (%v), want %d", batches, err, want)
		}
		if m != to-from {
			t.Fatalf("encoded %d rows of %d", m, to-from)
		}
		vals, err := splitElements(el.bytes())
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

// TestArrowElementSameAsBuffered: an element assembled from the IPC
// writer's parts (ipcParts) holds the same bytes as the stream written into
// one buffer, as the plain ipc.Writer does, for random ranges and batch
// sizes, with large and small values (written as references or copied).
func TestArrowElementSameAsBuffered(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewSource(rand.Int63()))
	for _, strLen := range []int{0, 3, 200} {
		ts, cols := arrowColumns(t, mem, rng, 3000, strLen)
		schema := arrowSchema(ts)
		for trial := 0; trial < 20; trial++ {
			from := rng.Intn(3000)
			to := from + 1 + rng.Intn(3000-from)
			batchRows := rng.Intn(3) * rng.Intn(1000)
			var plain bytes.Buffer
			if err := writeIPC(&plain, schema, seqOf(cols), from, to, batchRows); err != nil {
				t.Fatal(err)
			}
			el, m, err := encodeArrowRows(schema, seqOf(cols), from, to, batchRows)
			if err != nil || m != to-from {
				t.Fatalf("encoded %d of %d rows: %v", m, to-from, err)
			}
			vals, err := splitElements(el.bytes())
			if err != nil || len(vals) != 1 {
				t.Fatalf("splitElements: %d values, %v", len(vals), err)
			}
			if !bytes.Equal(vals[0], plain.Bytes()) {
				t.Fatalf("rows [%d, %d) in batches of %d: the element's %d bytes differ from the %d written in one buffer",
					from, to, batchRows, len(vals[0]), plain.Len())
			}
		}
		release(cols)
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
		el, m, err := s.encodeInput(nil, seqOf(cols), off, 400)
		if err != nil {
			t.Fatal(err)
		}
		if m < 1 || el.size() > maxElementBytes+maxHeader {
			t.Fatalf("element of %d rows is %d bytes", m, el.size())
		}
		off += m
		elements++
	}
	if elements < 3 {
		t.Errorf("%d elements; want the rows split over several", elements)
	}
}

// TestArrowSizeHint: the estimate of an element's size from its columns is
// within 1% (and the stream's few hundred bytes of metadata) of the size of
// the element written, for columns of numbers and strings with and without
// NULLs, so that an element takes as many rows as fit maxElementBytes.
func TestArrowSizeHint(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	seed := rand.Int63()
	rng := rand.New(rand.NewSource(seed))
	for range 20 {
		rows := 1 + rng.Intn(50_000)
		var ts []types.T
		var cols []arrow.Array
		for range 1 + rng.Intn(4) {
			// Every nullEvery-th value NULL, or none.
			nullEvery := []int{0, 3, 5, 7}[rng.Intn(4)]
			fill := func(b array.Builder, value func()) array.Builder {
				for i := range rows {
					if nullEvery > 0 && i%nullEvery == 0 {
						b.AppendNull()
					} else {
						value()
					}
				}
				return b
			}
			var b array.Builder
			switch rng.Intn(4) {
			case 0:
				ts = append(ts, types.INT)
				ib := array.NewInt32Builder(mem)
				b = fill(ib, func() { ib.Append(rng.Int31()) })
			case 1:
				ts = append(ts, types.BIGINT)
				ib := array.NewInt64Builder(mem)
				b = fill(ib, func() { ib.Append(rng.Int63()) })
			case 2:
				ts = append(ts, types.DOUBLE)
				fb := array.NewFloat64Builder(mem)
				b = fill(fb, func() { fb.Append(rng.Float64()) })
			default:
				ts = append(ts, types.STRING)
				sb := array.NewStringBuilder(mem)
				b = fill(sb, func() { sb.Append(strings.Repeat("x", rng.Intn(30))) })
			}
			cols = append(cols, b.NewArray())
			b.Release()
		}
		s := &Stage{Spec: &weirpb.Stage{Kind: weirpb.Stage_VECTORIZED}, InputTypes: ts, batchRows: rows}
		el, m, err := encodeArrowRows(arrowSchema(s.InputTypes), seqOf(cols), 0, rows, rows)
		if err != nil || m != rows {
			t.Fatalf("seed %d: %d of %d rows: %v", seed, m, rows, err)
		}
		hint, size := arrowSizeHint(cols, rows), el.size()
		if d := size - hint; d < -hint/100 || d > hint/100+1024 {
			t.Errorf("seed %d: %d rows of %v: estimated %d bytes, written %d", seed, rows, ts, hint, size)
		}
		release(cols)
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
	el, _, err := encodeArrowRows(arrowSchema(ts[:1]), seqOf(cols[:1]), 0, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	vals, _ := splitElements(el.bytes())
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
		el, _, err := encodeArrowRows(arrowSchema(ts[1:2]), seqOf(cols[1:2]), r[0], r[1], 0)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := splitElements(el.bytes())
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

// TestJoinArrowBatches: parts of several result batches (one per batch of
// the element) are joined with the forwarded columns of the rows they
// answer, one output batch per result batch.
func TestJoinArrowBatches(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewSource(rand.Int63()))
	rows := 50 + rng.Intn(200)
	ts, cols := arrowColumns(t, mem, rng, rows, 3)
	defer release(cols)
	in := array.NewRecordBatch(arrowSchema(ts), cols, int64(rows))
	defer in.Release()
	results := types.Schema{{Name: "r", Type: types.STRING}}
	cut := 1 + rng.Intn(rows-1)
	batchRows := 1 + rng.Intn(40)
	var parts [][]byte
	for _, r := range [][2]int{{0, cut}, {cut, rows}} {
		el, _, err := encodeArrowRows(arrowSchema(ts[1:2]), seqOf(cols[1:2]), r[0], r[1], batchRows)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := splitElements(el.bytes())
		parts = append(parts, v[0])
	}
	s := &Stage{Spec: &weirpb.Stage{Kind: weirpb.Stage_VECTORIZED}, Forward: []int{0}, Results: results,
		Output: types.Schema{{Name: "i", Type: types.INT}, {Name: "r", Type: types.STRING}}}
	off := int64(0)
	batches := 0
	err := (&Pool{}).joinArrow(s, mem, in, parts, func(b arrow.RecordBatch) error {
		defer b.Release()
		n := b.NumRows()
		if n > int64(batchRows) {
			t.Errorf("output batch of %d rows, batch size %d", n, batchRows)
		}
		for c, src := range []arrow.Array{cols[0], cols[1]} {
			want := array.NewSlice(src, off, off+n)
			if !array.Equal(b.Column(c), want) {
				t.Errorf("rows from %d column %d differ", off, c)
			}
			want.Release()
		}
		off += n
		batches++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := (cut+batchRows-1)/batchRows + (rows-cut+batchRows-1)/batchRows
	if off != int64(rows) || batches != want {
		t.Errorf("%d rows in %d batches, want %d in %d", off, batches, rows, want)
	}
}

// TestCoalesce: batches that arrive while the stage is busy are grouped, in
// order, up to the row bound; every row comes out once; a stage that takes
// each batch at once gets them one by one.
func TestCoalesce(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewSource(rand.Int63()))
	schema := arrowSchema([]types.T{types.BIGINT, types.STRING})
	batch := func(from, n int) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, schema)
		defer b.Release()
		for i := from; i < from+n; i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			b.Field(1).(*array.StringBuilder).Append(strings.Repeat("x", i%7))
		}
		return b.NewRecordBatch()
	}
	for _, busy := range []bool{true, false} {
		in := make(chan arrow.RecordBatch, 64)
		total, sizes := 0, []int{}
		for k := 0; k < 40; k++ {
			n := rng.Intn(50) // empty batches too
			in <- batch(total, n)
			total += n
			sizes = append(sizes, n)
		}
		maxRows := 60 + rng.Intn(100)
		out := coalesce(context.Background(), in, maxRows, 1<<20)
		if busy {
			close(in) // all waiting before the stage takes any
		}
		next, merged := 0, 0
		for k := 0; ; k++ {
			if !busy && k == 0 {
				// The first batch passes alone, at once.
				group := <-out
				if len(group) != 1 || int(group[0].NumRows()) != firstNonEmpty(sizes) {
					t.Errorf("first group has %d batches, want 1 of %d rows", len(group), firstNonEmpty(sizes))
				}
				for _, rec := range group {
					next = check(t, rec, next)
				}
				close(in)
				continue
			}
			group, ok := <-out
			if !ok {
				break
			}
			rows := 0
			for _, rec := range group {
				if rec.NumRows() == 0 {
					t.Error("an empty batch in a group")
				}
				rows += int(rec.NumRows())
				next = check(t, rec, next)
			}
			if busy && rows > maxRows+50 {
				t.Errorf("group of %d rows, bound %d (+ one batch)", rows, maxRows)
			}
			if len(group) > 1 {
				merged++
			}
		}
		if next != total {
			t.Errorf("busy=%v: %d rows out, want %d", busy, next, total)
		}
		if busy && merged == 0 && total > 100 {
			t.Errorf("busy stage: nothing grouped (%d rows)", total)
		}
	}
}

// TestArrowElementAcrossBatches: rows of a group of batches (columnSeq) are
// encoded as the same stream batches as those rows of the batches
// concatenated into one, for random batch sizes, ranges and batch sizes of the stream
// (batches of the stream across two of the group are joined); a stream
// batch within one of the group refers to its values instead of copying
// them.
func TestArrowElementAcrossBatches(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewSource(rand.Int63()))
	ts, cols := arrowColumns(t, mem, rng, 3000, 20)
	defer release(cols)
	schema := arrowSchema(ts)
	for trial := 0; trial < 30; trial++ {
		// Cut the columns into batches of random sizes.
		var q columnSeq
		var cut [][]arrow.Array
		for off := 0; off < 3000; {
			n := min(3000-off, 1+rng.Intn(700))
			part := make([]arrow.Array, len(cols))
			for i, c := range cols {
				part[i] = array.NewSlice(c, int64(off), int64(off+n))
			}
			q.add(part, n)
			cut = append(cut, part)
			off += n
		}
		from := rng.Intn(3000)
		to := from + 1 + rng.Intn(3000-from)
		batchRows := rng.Intn(3) * rng.Intn(1000)
		var plain bytes.Buffer
		if err := writeIPC(&plain, schema, seqOf(cols), from, to, batchRows); err != nil {
			t.Fatal(err)
		}
		el, m, err := encodeArrowRows(schema, q, from, to, batchRows)
		if err != nil || m != to-from {
			t.Fatalf("encoded %d of %d rows: %v", m, to-from, err)
		}
		vals, err := splitElements(el.bytes())
		if err != nil || len(vals) != 1 {
			t.Fatalf("splitElements: %d values, %v", len(vals), err)
		}
		got, want := streamBatches(t, mem, ts, vals[0]), streamBatches(t, mem, ts, plain.Bytes())
		if len(got) != len(want) {
			t.Fatalf("rows [%d, %d) of %d batches in stream batches of %d: %d stream batches, want %d", from, to, len(cut), batchRows, len(got), len(want))
		}
		for k := range got {
			if !array.RecordEqual(got[k], want[k]) {
				t.Fatalf("rows [%d, %d) of %d batches in stream batches of %d: stream batch %d differs from the batches joined", from, to, len(cut), batchRows, k)
			}
			got[k].Release()
			want[k].Release()
		}
		for _, part := range cut {
			release(part)
		}
	}
	// Batches of the group as large as the stream's: nothing copied.
	var q columnSeq
	ints := cols[0].(*array.Int32)
	for off := 0; off < 3000; off += 1000 {
		q.add([]arrow.Array{array.NewSlice(ints, int64(off), int64(off+1000))}, 1000)
	}
	el, _, err := encodeArrowRows(arrowSchema(ts[:1]), q, 0, 3000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i, part := range q.parts {
		vals := part[0].(*array.Int32).Int32Values()
		found := false
		for _, p := range el {
			found = found || (len(p) == 4*len(vals) && &p[0] == (*byte)(unsafe.Pointer(&vals[0])))
		}
		if !found {
			t.Errorf("the values of batch %d were copied into the element", i)
		}
		release(part)
	}
}

// streamBatches reads the record batches of an IPC stream of columns of ts.
func streamBatches(t *testing.T, mem memory.Allocator, ts []types.T, stream []byte) []arrow.RecordBatch {
	t.Helper()
	var out []arrow.RecordBatch
	err := readArrowBatches(mem, arrowFields(ts), stream, func(cols []arrow.Array, n int) error {
		out = append(out, array.NewRecordBatch(arrowSchema(ts), cols, int64(n)))
		release(cols)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// seqOf is cols as one batch.
func seqOf(cols []arrow.Array) columnSeq { return oneBatch(cols, cols0Len(cols)) }

func firstNonEmpty(sizes []int) int {
	for _, n := range sizes {
		if n > 0 {
			return n
		}
	}
	return 0
}

// check releases rec after checking that it holds rows next, next+1, ...
func check(t *testing.T, rec arrow.RecordBatch, next int) int {
	t.Helper()
	defer rec.Release()
	c := rec.Column(0).(*array.Int64)
	s := rec.Column(1).(*array.String)
	for i := 0; i < c.Len(); i++ {
		if c.Value(i) != int64(next) || s.Value(i) != strings.Repeat("x", next%7) {
			t.Fatalf("row %d of a batch is %d %q, want %d", i, c.Value(i), s.Value(i), next)
		}
		next++
	}
	return next
}

// TestConcatValues: the fast concatenation of NULL-free fixed-width columns
// gives what array.Concatenate gives, for slices at any offset; columns it
// does not handle (NULLs, strings, booleans, dictionaries) are left to
// array.Concatenate.
func TestConcatValues(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewSource(rand.Int63()))
	ts := []types.T{types.TINYINT, types.SMALLINT, types.INT, types.BIGINT, types.FLOAT, types.DOUBLE,
		types.DATE, types.TIMESTAMP(6), types.DECIMAL(20, 3), types.STRING, types.BOOLEAN}
	for _, tp := range ts {
		for trial := 0; trial < 10; trial++ {
			nulls := trial%3 == 0
			var parts []arrow.Array
			for k := 1 + rng.Intn(5); k > 0; k-- {
				b := array.NewBuilder(mem, tp.Arrow())
				n := rng.Intn(40)
				for i := 0; i < n; i++ {
					if nulls && rng.Intn(4) == 0 {
						b.AppendNull()
						continue
					}
					if err := b.AppendValueFromString(randomValue(tp, rng)); err != nil {
						t.Fatal(err)
					}
				}
				a := b.NewArray()
				b.Release()
				from := rng.Intn(n + 1)
				to := from + rng.Intn(n-from+1)
				parts = append(parts, array.NewSlice(a, int64(from), int64(to)))
				a.Release()
			}
			want, err := array.Concatenate(parts, mem)
			if err != nil {
				t.Fatal(err)
			}
			got := concatValues(parts)
			anyNull := false
			for _, p := range parts {
				anyNull = anyNull || p.NullN() > 0
			}
			handled := !anyNull && tp.Kind != types.Varchar && tp.Kind != types.Boolean
			switch {
			case handled != (got != nil):
				t.Errorf("%s (NULLs %v): fast path taken %v, want %v", tp, anyNull, got != nil, handled)
			case got != nil && !array.Equal(got, want):
				t.Errorf("%s: got %v, want %v", tp, got, want)
			}
			if got != nil {
				got.Release()
			}
			want.Release()
			release(parts)
		}
	}
	// A dictionary column has fixed-width indexes, and is not for it.
	b := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String})
	defer b.Release()
	b.(*array.BinaryDictionaryBuilder).AppendString("a")
	d := b.NewArray()
	defer d.Release()
	if c := concatValues([]arrow.Array{d, d}); c != nil {
		c.Release()
		t.Error("a dictionary column was concatenated by the fast path")
	}
}

// randomValue is a random value of tp as text.
func randomValue(tp types.T, rng *rand.Rand) string {
	switch tp.Kind {
	case types.TinyInt:
		return fmt.Sprint(rng.Intn(256) - 128)
	case types.SmallInt, types.Int, types.BigInt:
		return fmt.Sprint(rng.Intn(60000) - 30000)
	case types.Float, types.Double:
		return fmt.Sprint(rng.Float64() * 100)
	case types.Date:
		return fmt.Sprintf("2026-%02d-%02d", 1+rng.Intn(12), 1+rng.Intn(28))
	case types.Timestamp:
		return fmt.Sprintf("2026-01-02T03:04:%02d.%06d", rng.Intn(60), rng.Intn(1000000))
	case types.Decimal:
		return fmt.Sprintf("%d.%03d", rng.Intn(100000), rng.Intn(1000))
	case types.Boolean:
		return fmt.Sprint(rng.Intn(2) == 0)
	}
	return strings.Repeat("s", rng.Intn(5))
}
