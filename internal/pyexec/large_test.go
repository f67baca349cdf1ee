package pyexec

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/coder"
	"github.com/weir-dev/weir/internal/types"
	"github.com/weir-dev/weir/internal/weirpb"
)

// largeStage forwards column 0 (BIGINT) and returns one STRING.
func largeStage(kind weirpb.Stage_Kind, leftJoin bool) *Stage {
	str := types.STRING
	big := types.BIGINT.NotNull()
	return &Stage{
		Spec:     &weirpb.Stage{Name: "S", Kind: kind},
		Forward:  []int{0},
		Results:  types.Schema{{Name: "r", Type: str}},
		Output:   types.Schema{{Name: "a", Type: big}, {Name: "r", Type: str}},
		LeftJoin: leftJoin,
	}
}

func inputBatch(n int) arrow.RecordBatch {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	for i := 0; i < n; i++ {
		b.Append(int64(i))
	}
	col := b.NewArray()
	defer col.Release()
	schema := types.Schema{{Name: "a", Type: types.BIGINT.NotNull()}}.Arrow()
	return array.NewRecordBatch(schema, []arrow.Array{col}, int64(n))
}

// encodeStrings encodes one row per value (nil: NULL) with the real coder.
func encodeStrings(t *testing.T, values []*string) [][]byte {
	t.Helper()
	enc := coder.NewEncoder([]types.T{types.STRING})
	var rows [][]byte
	for _, v := range values {
		b := array.NewStringBuilder(memory.DefaultAllocator)
		if v == nil {
			b.AppendNull()
		} else {
			b.Append(*v)
		}
		a := b.NewArray()
		buf, err := enc.Encode(nil, []arrow.Array{a}, 0, 1)
		a.Release()
		b.Release()
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, buf)
	}
	return rows
}

// cut joins pieces into parts, closing a part at random between pieces.
func cut(rnd *rand.Rand, pieces [][]byte) [][]byte {
	var parts [][]byte
	var cur []byte
	for i, p := range pieces {
		cur = append(cur, p...)
		if i < len(pieces)-1 && rnd.Intn(3) == 0 {
			parts = append(parts, cur)
			cur = nil
		}
	}
	return append(parts, cur)
}

// collectRows runs join and renders every output row as "a:r".
func collectRows(t *testing.T, join func(send func(arrow.RecordBatch) error) error) ([]string, int) {
	t.Helper()
	var rows []string
	batches := 0
	err := join(func(rec arrow.RecordBatch) error {
		defer rec.Release()
		batches++
		a := rec.Column(0).(*array.Int64)
		r := rec.Column(1).(*array.String)
		for i := 0; i < int(rec.NumRows()); i++ {
			v := "NULL"
			if r.IsValid(i) {
				v = r.Value(i)
			}
			rows = append(rows, fmt.Sprintf("%d:%s", a.Value(i), v))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows, batches
}

// TestJoinScalarParts: results sent in parts give the rows of the whole,
// one output batch per part.
func TestJoinScalarParts(t *testing.T) {
	p := &Pool{}
	for seed := int64(1); seed <= 30; seed++ {
		rnd := rand.New(rand.NewSource(seed))
		n := 1 + rnd.Intn(200)
		var values []*string
		var want []string
		for i := 0; i < n; i++ {
			if rnd.Intn(10) == 0 {
				values = append(values, nil)
				want = append(want, fmt.Sprintf("%d:NULL", i))
				continue
			}
			v := strings.Repeat(string(rune('a'+i%26)), rnd.Intn(300))
			values = append(values, &v)
			want = append(want, fmt.Sprintf("%d:%s", i, v))
		}
		parts := cut(rnd, encodeStrings(t, values))
		s := largeStage(weirpb.Stage_SCALAR, false)
		rec := inputBatch(n)
		dec := coder.NewDecoder(memory.DefaultAllocator, s.Results.Types())
		got, batches := collectRows(t, func(send func(arrow.RecordBatch) error) error {
			return p.joinScalar(s, dec, rec, parts, send)
		})
		dec.Release()
		rec.Release()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("seed %d: rows differ:\n got %.300q\nwant %.300q", seed, got, want)
		}
		if batches != len(parts) {
			t.Errorf("seed %d: %d output batches for %d parts", seed, batches, len(parts))
		}
	}
}

func TestJoinScalarPartsCountRows(t *testing.T) {
	p := &Pool{}
	s := largeStage(weirpb.Stage_SCALAR, false)
	x := "x"
	rows := encodeStrings(t, []*string{&x, &x, &x})
	for name, parts := range map[string][][]byte{
		"too few":  {rows[0], rows[1]},
		"too many": {rows[0], append(append([]byte(nil), rows[1]...), rows[2]...), rows[0]},
	} {
		rec := inputBatch(3)
		dec := coder.NewDecoder(memory.DefaultAllocator, s.Results.Types())
		err := p.joinScalar(s, dec, rec, parts, func(r arrow.RecordBatch) error { r.Release(); return nil })
		dec.Release()
		rec.Release()
		if err == nil || !strings.Contains(err.Error(), "input rows") {
			t.Errorf("%s: error = %v", name, err)
		}
	}
}

// TestJoinTableParts: a table answer cut into parts anywhere between rows
// and end markers, also inside the results of one input row, gives the rows
// of the whole, with and without LEFT JOIN.
func TestJoinTableParts(t *testing.T) {
	p := &Pool{}
	marker := []byte{1, 0}
	for _, left := range []bool{false, true} {
		for seed := int64(1); seed <= 40; seed++ {
			rnd := rand.New(rand.NewSource(seed))
			n := 1 + rnd.Intn(60)
			var pieces [][]byte
			var want []string
			for i := 0; i < n; i++ {
				k := rnd.Intn(4)
				if k == 0 && left {
					want = append(want, fmt.Sprintf("%d:NULL", i))
				}
				var values []*string
				for j := 0; j < k; j++ {
					v := fmt.Sprintf("%d.%d%s", i, j, strings.Repeat("-", rnd.Intn(100)))
					values = append(values, &v)
					want = append(want, fmt.Sprintf("%d:%s", i, v))
				}
				pieces = append(pieces, encodeStrings(t, values)...)
				pieces = append(pieces, marker)
			}
			parts := cut(rnd, pieces)
			s := largeStage(weirpb.Stage_TABLE, left)
			rec := inputBatch(n)
			dec := coder.NewDecoder(memory.DefaultAllocator, s.Results.Types())
			got, _ := collectRows(t, func(send func(arrow.RecordBatch) error) error {
				return p.joinTable(s, memory.DefaultAllocator, dec, rec, parts, send)
			})
			dec.Release()
			rec.Release()
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("left %v seed %d (%d parts): rows differ:\n got %q\nwant %q", left, seed, len(parts), got, want)
			}
		}
	}
}

func TestJoinTablePartsRejects(t *testing.T) {
	p := &Pool{}
	x := "x"
	row := encodeStrings(t, []*string{&x})[0]
	marker := []byte{1, 0}
	for name, parts := range map[string][][]byte{
		"no end marker at the end": {append(append([]byte(nil), marker...), row...)},
		"too many answers":         {marker, append(append([]byte(nil), marker...), marker...)},
		"too few answers":          {row, marker},
	} {
		s := largeStage(weirpb.Stage_TABLE, false)
		rec := inputBatch(2)
		dec := coder.NewDecoder(memory.DefaultAllocator, s.Results.Types())
		err := p.joinTable(s, memory.DefaultAllocator, dec, rec, parts, func(r arrow.RecordBatch) error { r.Release(); return nil })
		dec.Release()
		rec.Release()
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func element(v []byte) []byte {
	return wrapElement(append(make([]byte, elementReserve), v...))
}

// TestGroupParts: parts that start with the continuation byte belong to the
// next element without it.
func TestGroupParts(t *testing.T) {
	var out []byte
	for _, v := range [][]byte{{0, 5, 6}, {0, 7}, {8}, {9, 9}, {0}, {3}} {
		out = append(out, element(v)...)
	}
	values, err := splitChunks([][]byte{out[:7], out[7:30], out[30:]})
	if err != nil {
		t.Fatal(err)
	}
	groups, err := groupParts(values)
	if err != nil {
		t.Fatal(err)
	}
	want := "[[[5 6] [7] [8]] [[9 9]] [[] [3]]]"
	if got := fmt.Sprint(groups); got != want {
		t.Errorf("groups = %s, want %s", got, want)
	}
	if _, err := groupParts([][]byte{{1}, {0, 1}}); err == nil || !strings.Contains(err.Error(), "ends inside") {
		t.Errorf("unfinished parts: error = %v", err)
	}
}

// TestSplitChunksLarge: an element far larger than the chunks it arrives in
// (as a 20 MB result does in the harness's 10 MB messages) is joined whole.
func TestSplitChunksLarge(t *testing.T) {
	v := bytes.Repeat([]byte("0123456789"), 300_000)
	all := append(element([]byte{7}), element(v)...)
	all = append(all, element([]byte{8})...)
	var chunks [][]byte
	for len(all) > 0 {
		k := min(len(all), 1+len(all)/5)
		chunks = append(chunks, all[:k])
		all = all[k:]
	}
	got, err := splitChunks(chunks)
	if err != nil || len(got) != 3 || !bytes.Equal(got[1], v) || got[0][0] != 7 || got[2][0] != 8 {
		t.Fatalf("splitChunks: %d values, %v", len(got), err)
	}
}

// FuzzOutputParts: however a worker's output is cut into chunks, parsing it
// never panics and gives the same elements and groups as the output whole.
func FuzzOutputParts(f *testing.F) {
	var seed []byte
	for _, v := range [][]byte{{0, 1, 2}, {3}, {0}, {4, 5}} {
		seed = append(seed, element(v)...)
	}
	f.Add(seed, uint16(5), uint16(17))
	f.Add([]byte{}, uint16(0), uint16(0))
	f.Add(seed[:len(seed)-1], uint16(3), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, c1, c2 uint16) {
		a := min(int(c1), len(data))
		b := min(max(int(c2), a), len(data))
		whole, errWhole := splitChunks([][]byte{data})
		cutUp, errCut := splitChunks([][]byte{data[:a], data[a:b], data[b:]})
		if (errWhole == nil) != (errCut == nil) {
			t.Fatalf("whole: %v, cut at %d,%d: %v", errWhole, a, b, errCut)
		}
		if errWhole != nil {
			return
		}
		if fmt.Sprint(whole) != fmt.Sprint(cutUp) {
			t.Fatalf("cut at %d,%d: %v, whole: %v", a, b, cutUp, whole)
		}
		groups, err := groupParts(whole)
		if err != nil {
			return
		}
		n := 0
		for _, g := range groups {
			n += len(g)
		}
		if n != len(whole) {
			t.Fatalf("%d values in groups, %d parsed", n, len(whole))
		}
	})
}

// TestEncodeRowsBoundsBytes: wide rows are sent in elements of at most
// maxElementBytes (a row larger than that alone), whatever the row limit.
func TestEncodeRowsBoundsBytes(t *testing.T) {
	enc := coder.NewEncoder([]types.T{types.STRING})
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	sizes := []int{10, 1 << 20, 3 << 20, 5 << 20, 100, 100, 2 << 20, 2 << 20, 2 << 20}
	for _, n := range sizes {
		sb.Append(strings.Repeat("w", n))
	}
	col := sb.NewArray()
	defer col.Release()
	sb.Release()
	cols := []arrow.Array{col}
	var counts []int
	for off := 0; off < len(sizes); {
		el, m, err := encodeRows(enc, cols, off, len(sizes))
		if err != nil {
			t.Fatal(err)
		}
		vals, err := splitElements(el)
		if err != nil || len(vals) != 1 {
			t.Fatalf("element: %v", err)
		}
		if len(vals[0]) > maxElementBytes && m > 1 {
			t.Errorf("element of %d rows has %d bytes", m, len(vals[0]))
		}
		// The element holds exactly rows [off, off+m).
		dec := coder.NewDecoder(memory.DefaultAllocator, []types.T{types.STRING})
		k, err := dec.Decode(vals[0])
		if err != nil || k != m {
			t.Fatalf("decode: %d rows, %v; want %d", k, err, m)
		}
		got := dec.NewArrays()
		for i := 0; i < m; i++ {
			if n := len(got[0].(*array.String).Value(i)); n != sizes[off+i] {
				t.Fatalf("row %d has %d bytes, want %d", off+i, n, sizes[off+i])
			}
		}
		release(got)
		dec.Release()
		counts = append(counts, m)
		off += m
	}
	if want := "[2 1 1 3 1 1]"; fmt.Sprint(counts) != want {
		t.Errorf("rows per element = %v, want %v", counts, want)
	}
}

// TestInputRowTooLarge: an input row over maxRowBytes cannot be sent in any
// gRPC message: encodeRows reports it as a LimitError naming the limit.
func TestInputRowTooLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 400 MB")
	}
	enc := coder.NewEncoder([]types.T{types.STRING})
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	sb.Append("small")
	sb.Append(strings.Repeat("h", maxRowBytes+1))
	col := sb.NewArray()
	defer col.Release()
	sb.Release()
	cols := []arrow.Array{col}
	if _, m, err := encodeRows(enc, cols, 0, 2); err != nil || m != 1 {
		t.Fatalf("first element: %d rows, %v; want the small row alone", m, err)
	}
	_, _, err := encodeRows(enc, cols, 1, 2)
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("error = %v, want a LimitError", err)
	}
	for _, want := range []string{"input row 2", "209715200 bytes (200 MiB)", "every try"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
