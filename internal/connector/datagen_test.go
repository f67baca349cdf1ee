package connector

import (
	"context"
	"errors"
	"github.com/weir-dev/weir/internal/suggest"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

func newMem(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// drain reads a source to the end and returns its rows as Go values and the
// sizes of its batches.
func drain(t *testing.T, src exec.Source) (rows [][]any, sizes []int) {
	t.Helper()
	ctx := context.Background()
	for {
		b, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !b.Schema().Equal(src.Schema().Arrow()) {
			t.Fatalf("batch schema %s, want %s", b.Schema(), src.Schema().Arrow())
		}
		sizes = append(sizes, int(b.NumRows()))
		for i := 0; i < int(b.NumRows()); i++ {
			row := make([]any, b.NumCols())
			for j := range row {
				v := exec.ValueAt(b.Column(j), i)
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				row[j] = v
			}
			rows = append(rows, row)
		}
		b.Release()
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	return rows, sizes
}

func openDG(t *testing.T, mem memory.Allocator, schema types.Schema, batch int, opts ...string) exec.Source {
	t.Helper()
	m := map[string]string{"connector": "datagen"}
	for i := 0; i+1 < len(opts); i += 2 {
		m[opts[i]] = opts[i+1]
	}
	src, err := OpenSource("src", schema, m, batch, mem)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDatagenSequenceValues(t *testing.T) {
	mem := newMem(t)
	schema := types.Schema{
		{Name: "i", Type: types.INT},
		{Name: "s", Type: types.STRING},
		{Name: "d", Type: types.DECIMAL(5, 2)},
		{Name: "f", Type: types.DOUBLE},
	}
	src := openDG(t, mem, schema, 3,
		"fields.i.kind", "sequence", "fields.i.start", "-1", "fields.i.end", "100",
		"fields.s.kind", "sequence", "fields.s.start", "98", "fields.s.end", "1000",
		"fields.d.kind", "sequence", "fields.d.start", "1.5", "fields.d.end", "5.49",
		"fields.f.kind", "sequence", "fields.f.start", "0.5", "fields.f.end", "10",
	)
	rows, sizes := drain(t, src)
	// The decimal sequence 1.50 .. 4.50 ends first, after 4 rows.
	if want := []int{3, 1}; !equalInts(sizes, want) {
		t.Errorf("batch sizes %v, want %v", sizes, want)
	}
	want := [][]any{
		{int32(-1), "98", decimal128.FromI64(150), 0.5},
		{int32(0), "99", decimal128.FromI64(250), 1.5},
		{int32(1), "100", decimal128.FromI64(350), 2.5},
		{int32(2), "101", decimal128.FromI64(450), 3.5},
	}
	checkRows(t, rows, want)
	if c := src.(exec.Counter).Rows(); c != 4 {
		t.Errorf("Rows() = %d, want 4", c)
	}
}

func checkRows(t *testing.T, got, want [][]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d:\n%v", len(got), len(want), got)
	}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Errorf("row %d column %d = %#v, want %#v", i, j, got[i][j], want[i][j])
			}
		}
	}
}

func TestDatagenNumberOfRows(t *testing.T) {
	mem := newMem(t)
	schema := types.Schema{{Name: "i", Type: types.BIGINT}, {Name: "r", Type: types.INT}}
	for _, tc := range []struct {
		rows, batch int
		seqEnd      string
		sizes       []int
	}{
		{7, 3, "100", []int{3, 3, 1}},
		{6, 3, "100", []int{3, 3}},
		{0, 3, "100", nil},
		{10, 4, "5", []int{4, 1}}, // the sequence 1..5 ends first
		{100000, 8192, "1000000", []int{8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 1696}},
	} {
		src := openDG(t, mem, schema, tc.batch, "number-of-rows", strconv.Itoa(tc.rows),
			"fields.i.kind", "sequence", "fields.i.start", "1", "fields.i.end", tc.seqEnd)
		rows, sizes := drain(t, src)
		if !equalInts(sizes, tc.sizes) {
			t.Errorf("rows %d batch %d: sizes %v, want %v", tc.rows, tc.batch, sizes, tc.sizes)
		}
		for i, r := range rows {
			if r[0] != int64(i+1) {
				t.Fatalf("row %d = %v, want %d", i, r[0], i+1)
			}
		}
	}
}

func TestDatagenRandom(t *testing.T) {
	mem := newMem(t)
	schema := types.Schema{
		{Name: "i", Type: types.INT},
		{Name: "t", Type: types.TINYINT},
		{Name: "f", Type: types.DOUBLE},
		{Name: "d", Type: types.DECIMAL(5, 2)},
		{Name: "s", Type: types.STRING},
		{Name: "v", Type: types.VARCHAR(10)},
		{Name: "c", Type: types.CHAR(3)},
		{Name: "by", Type: types.BYTES},
		{Name: "b", Type: types.BOOLEAN},
		{Name: "big", Type: types.DECIMAL(38, 2)},
		{Name: "fl", Type: types.FLOAT},
		{Name: "n", Type: types.BIGINT},
		{Name: "all", Type: types.SMALLINT},
	}
	opts := []string{"number-of-rows", "5000",
		"fields.i.min", "-5", "fields.i.max", "5",
		"fields.f.min", "-0.5", "fields.f.max", "0.5",
		"fields.d.min", "-1.5", "fields.d.max", "1.5",
		"fields.s.length", "7",
		"fields.v.var-len", "true",
		"fields.by.length", "4",
		"fields.n.null-rate", "0.25",
		"fields.all.null-rate", "1",
	}
	rows, _ := drain(t, openDG(t, mem, schema, 1000, opts...))
	again, _ := drain(t, openDG(t, mem, schema, 333, opts...))
	if len(rows) != 5000 {
		t.Fatalf("%d rows", len(rows))
	}
	seen := map[string]map[any]bool{}
	nulls := 0
	for k, r := range rows {
		for j := range r {
			if r[j] != again[k][j] {
				t.Fatalf("row %d column %d: %v, then %v: not reproducible", k, j, r[j], again[k][j])
			}
		}
		i, ti, f, d := r[0].(int32), r[1].(int8), r[2].(float64), r[3].(decimal128.Num)
		s, v, c, by := r[4].(string), r[5].(string), r[6].(string), r[7].(string)
		if i < -5 || i > 5 || f < -0.5 || f > 0.5 || d.Less(decimal128.FromI64(-150)) || d.Greater(decimal128.FromI64(150)) {
			t.Fatalf("row %d out of bounds: %v", k, r)
		}
		if len(s) != 7 || strings.Trim(s, hexDigits) != "" || len(v) < 1 || len(v) > 10 || len(c) != 3 || len(by) != 4 {
			t.Fatalf("row %d: bad lengths: %q %q %q %q", k, s, v, c, by)
		}
		big := r[9].(decimal128.Num)
		if !big.FitsInPrecision(38) {
			t.Fatalf("row %d: %v does not fit DECIMAL(38, 2)", k, big)
		}
		if r[11] == nil {
			nulls++
		}
		if r[12] != nil {
			t.Fatalf("row %d: null-rate 1 gave %v", k, r[12])
		}
		for j, x := range map[string]any{"i": i, "t": ti, "b": r[8], "vlen": len(v), "fsign": f < 0} {
			if seen[j] == nil {
				seen[j] = map[any]bool{}
			}
			seen[j][x] = true
		}
	}
	if len(seen["i"]) != 11 || len(seen["b"]) != 2 || len(seen["vlen"]) != 10 || len(seen["fsign"]) != 2 || len(seen["t"]) < 200 {
		t.Errorf("values not spread: %d ints, %d booleans, %d lengths, %d signs, %d tinyints",
			len(seen["i"]), len(seen["b"]), len(seen["vlen"]), len(seen["fsign"]), len(seen["t"]))
	}
	if nulls < 1000 || nulls > 1500 {
		t.Errorf("%d nulls of 5000 with null-rate 0.25", nulls)
	}
	// Columns have different default seeds; an explicit seed changes values.
	if rows[0][11] == rows[0][0] {
		t.Errorf("columns look correlated")
	}
	other, _ := drain(t, openDG(t, mem, schema, 1000, append(opts, "fields.i.seed", "42")...))
	same := 0
	for k := range rows {
		if rows[k][0] == other[k][0] {
			same++
		}
	}
	if same > 1000 {
		t.Errorf("seed 42 gives the same INT values %d times of 5000", same)
	}
}

func TestDatagenTemporal(t *testing.T) {
	mem := newMem(t)
	schema := types.Schema{
		{Name: "d", Type: types.DATE},
		{Name: "t", Type: types.TIME(0)},
		{Name: "ts", Type: types.TIMESTAMP(3)},
		{Name: "ltz", Type: types.TIMESTAMP_LTZ(6)},
	}
	before := time.Now()
	rows, _ := drain(t, openDG(t, mem, schema, 100, "number-of-rows", "200", "fields.ts.max-past", "10 s"))
	after := time.Now()
	for _, r := range rows {
		d := int64(r[0].(arrow.Date32))
		if d < before.Unix()/86400 || d > after.Unix()/86400 {
			t.Fatalf("date %d is not today", d)
		}
		if ms := int64(r[1].(arrow.Time32)); ms%1000 != 0 || ms < 0 || ms >= 86400_000 {
			t.Fatalf("time %d", ms)
		}
		ts := int64(r[2].(arrow.Timestamp))
		if ts < before.Add(-10*time.Second).UnixMilli() || ts > after.UnixMilli() {
			t.Fatalf("timestamp %d not within 10 s before now", ts)
		}
		ltz := int64(r[3].(arrow.Timestamp))
		if ltz < before.UnixMicro()-1 || ltz > after.UnixMicro() {
			t.Fatalf("timestamp_ltz %d is not now", ltz)
		}
	}
}

func TestDatagenRate(t *testing.T) {
	mem := newMem(t)
	schema := types.Schema{{Name: "i", Type: types.INT}}
	start := time.Now()
	rows, sizes := drain(t, openDG(t, mem, schema, 1000, "number-of-rows", "10", "rows-per-second", "20"))
	took := time.Since(start)
	if len(rows) != 10 {
		t.Fatalf("%d rows", len(rows))
	}
	// 10 rows at 20 rows/s take 0.5 s; batches are capped at a tenth of the rate.
	if took < 450*time.Millisecond || took > 2*time.Second {
		t.Errorf("took %v, want about 500ms", took)
	}
	if len(sizes) != 5 {
		t.Errorf("batch sizes %v, want 5 batches of 2", sizes)
	}

	// Cancelling the context interrupts the wait.
	src := openDG(t, mem, schema, 1000, "rows-per-second", "1")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	b, err := src.Next(ctx)
	if err == nil {
		b.Release()
		t.Fatal("no error after the context ended")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v", err)
	}
}

func TestDatagenUnbounded(t *testing.T) {
	mem := newMem(t)
	src := openDG(t, mem, types.Schema{{Name: "i", Type: types.INT}}, 64)
	for range 100 {
		b, err := src.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if b.NumRows() != 64 {
			t.Fatalf("%d rows", b.NumRows())
		}
		b.Release()
	}
	if n := src.(exec.Counter).Rows(); n != 6400 {
		t.Errorf("Rows() = %d", n)
	}
}

func TestDatagenOptionErrors(t *testing.T) {
	schema := types.Schema{
		{Name: "c0", Type: types.INT.NotNull()},
		{Name: "s", Type: types.STRING},
		{Name: "ts", Type: types.TIMESTAMP(3)},
		{Name: "ch", Type: types.CHAR(3)},
	}
	for _, tc := range []struct {
		opts []string
		want string
	}{
		{[]string{"fields.c0.kind", "sequnce"}, "table 'src': datagen option 'fields.c0.kind' = 'sequnce': must be 'random' or 'sequence'"},
		{[]string{"fields.c0.knd", "random"}, "table 'src': datagen option 'fields.c0.knd' is unknown; did you mean 'fields.c0.kind'?"},
		{[]string{"rows-per-secnd", "5"}, "table 'src': datagen option 'rows-per-secnd' is unknown; did you mean 'rows-per-second'?"},
		{[]string{"numberofrows", "5"}, "table 'src': datagen option 'numberofrows' is unknown; did you mean 'number-of-rows'?"},
		{[]string{"fields.x.kind", "random"}, "table 'src': datagen option 'fields.x.kind' names no column of the table; its columns are c0, s, ts, ch"},
		{[]string{"fields.C0.kind", "random"}, "table 'src': datagen option 'fields.C0.kind' names no column of the table; its columns are c0, s, ts, ch (did you mean 'fields.c0.kind'?)"},
		{[]string{"fields.c0.kind", "sequence", "fields.c0.start", "1"}, "table 'src': datagen option 'fields.c0.end' is required when 'fields.c0.kind' = 'sequence'"},
		{[]string{"fields.c0.kind", "sequence", "fields.c0.start", "9", "fields.c0.end", "1"}, "table 'src': datagen option 'fields.c0.start' (9) is greater than 'fields.c0.end' (1)"},
		{[]string{"fields.c0.min", "10", "fields.c0.max", "5"}, "table 'src': datagen option 'fields.c0.min' (10) is greater than 'fields.c0.max' (5)"},
		{[]string{"fields.c0.max", "-2147483649"}, "table 'src': datagen option 'fields.c0.max' = '-2147483649': must be a value of type INT"},
		{[]string{"fields.c0.min", "abc"}, "table 'src': datagen option 'fields.c0.min' = 'abc': must be a value of type INT"},
		{[]string{"fields.c0.null-rate", "0.5"}, "table 'src': datagen option 'fields.c0.null-rate' = '0.5': column 'c0' is NOT NULL"},
		{[]string{"fields.s.null-rate", "2"}, "table 'src': datagen option 'fields.s.null-rate' = '2': must be a number from 0 to 1"},
		{[]string{"fields.c0.length", "5"}, "table 'src': datagen option 'fields.c0.length' does not apply to column 'c0' of type INT"},
		{[]string{"fields.c0.start", "5"}, "table 'src': datagen option 'fields.c0.start' applies only when 'fields.c0.kind' = 'sequence'"},
		{[]string{"fields.s.kind", "sequence", "fields.s.start", "1", "fields.s.end", "2", "fields.s.length", "5"}, "table 'src': datagen option 'fields.s.length' applies only when 'fields.s.kind' = 'random'"},
		{[]string{"fields.ts.kind", "sequence"}, "table 'src': datagen option 'fields.ts.kind' = 'sequence': sequences are supported for numeric and string columns, not TIMESTAMP(3)"},
		{[]string{"fields.ts.max-past", "soon"}, "table 'src': datagen option 'fields.ts.max-past' = 'soon': must be a whole number with an optional unit (ms, s, min, h, d; a bare number is milliseconds), e.g. '500 ms', '5 min', '300 s', or ISO-8601 such as 'PT5M'"},
		{[]string{"fields.ts.max-past", "1 mins"}, "table 'src': datagen option 'fields.ts.max-past' = '1 mins': must be a whole number with an optional unit (ms, s, min, h, d; a bare number is milliseconds), e.g. '500 ms', '5 min', '300 s', or ISO-8601 such as 'PT5M'"},
		{[]string{"fields.ch.length", "4"}, "table 'src': datagen option 'fields.ch.length' = '4': a CHAR(3) column always has length 3"},
		{[]string{"fields.ch.var-len", "true"}, "table 'src': datagen option 'fields.ch.var-len' does not apply to column 'ch' of type CHAR(3)"},
		{[]string{"fields.s.var-len", "yes"}, "table 'src': datagen option 'fields.s.var-len' = 'yes': must be 'true' or 'false'"},
		{[]string{"number-of-rows", "-1"}, "table 'src': datagen option 'number-of-rows' = '-1': must be a whole number >= 0"},
		{[]string{"rows-per-second", "0"}, "table 'src': datagen option 'rows-per-second' = '0': must be a whole number > 0"},
	} {
		m := map[string]string{"connector": "datagen"}
		for i := 0; i < len(tc.opts); i += 2 {
			m[tc.opts[i]] = tc.opts[i+1]
		}
		_, err := OpenSource("src", schema, m, 10, memory.DefaultAllocator)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v:\n got %v\nwant %s", tc.opts, err, tc.want)
		}
	}

	// Without a close suggestion, the known options are listed.
	_, err := OpenSource("src", types.Schema{{Name: "a", Type: types.INT}}, map[string]string{"connector": "datagen", "zzz": "1"}, 10, memory.DefaultAllocator)
	if want := "table 'src': datagen option 'zzz' is unknown; known options: number-of-rows, rows-per-second, fields.a.kind, fields.a.min"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want prefix %s", err, want)
	}

	_, err = OpenSource("src", types.Schema{{Name: "a", Type: types.ARRAY(types.INT)}}, map[string]string{"connector": "datagen"}, 10, memory.DefaultAllocator)
	if want := "table 'src': datagen does not support column 'a' of type ARRAY<INT>"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestConnectorNames(t *testing.T) {
	schema := types.Schema{{Name: "a", Type: types.INT}}
	for _, tc := range []struct {
		sink bool
		opts map[string]string
		want string
	}{
		{false, map[string]string{"connector": "datagn"}, "table 't': unknown connector 'datagn'; weir's source connectors are datagen, filesystem, kafka (did you mean 'datagen'?)"},
		{false, map[string]string{"connector": "jdbc"}, "table 't': unknown connector 'jdbc'; weir's source connectors are datagen, filesystem, kafka"},
		{false, map[string]string{}, "table 't': option 'connector' is missing; weir's source connectors are datagen, filesystem, kafka"},
		{false, map[string]string{"connector": "print"}, "table 't': connector 'print' cannot be used as a source; weir's source connectors are datagen, filesystem, kafka"},
		{true, map[string]string{"connector": "datagen"}, "table 't': connector 'datagen' cannot be used as a sink; weir's sink connectors are blackhole, filesystem, kafka, print"},
		{true, map[string]string{"connector": "prnt"}, "table 't': unknown connector 'prnt'; weir's sink connectors are blackhole, filesystem, kafka, print (did you mean 'print'?)"},
		{true, map[string]string{"connector": "blackhole", "x": "1"}, "table 't': blackhole option 'x' is unknown; the blackhole connector takes no options besides 'connector'"},
		{true, map[string]string{"connector": "print", "print-identifer": "x"}, "table 't': print option 'print-identifer' is unknown; did you mean 'print-identifier'?"},
		{true, map[string]string{"connector": "print", "standard-error": "maybe"}, "table 't': print option 'standard-error' = 'maybe': must be 'true' or 'false'"},
	} {
		var err error
		if tc.sink {
			_, err = OpenSink("t", schema, tc.opts, io.Discard)
		} else {
			_, err = OpenSource("t", schema, tc.opts, 10, memory.DefaultAllocator)
		}
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v:\n got %v\nwant %s", tc.opts, err, tc.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	if got := suggest.Distance("kitten", "sitting"); got != 3 {
		t.Errorf("editDistance = %d", got)
	}
	if got := closestName("fields.c0.mxa", []string{"fields.c0.max", "fields.c0.min"}); got != "fields.c0.max" {
		t.Errorf("suggest = %q", got)
	}
	if got := closestName("zzz", []string{"number-of-rows"}); got != "" {
		t.Errorf("suggest = %q", got)
	}
}

// TestDatagenIntFillMatchesRng: the INT generators' loops (the state kept in
// a local variable) give the values of rng.next, value by value, across
// batches, bounded or over the whole range.
func TestDatagenIntFillMatchesRng(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	seed := rand.Uint64()
	for _, span := range []uint64{0, 1, 1000001, 1 << 40} {
		g := &intRand[int64]{r: rng{s: seed}, lo: -5, span: span}
		ref := rng{s: seed}
		for _, n := range []int{0, 1, 7, 8192, 333} {
			bufs := g.fill(mem, n)
			got := arrow.Int64Traits.CastFromBytes(bufs[0].Bytes())[:n]
			for i, v := range got {
				x := ref.bounded(span)
				want := -5 + int64(x)
				if span == 0 {
					want = int64(x) // the whole range: lo is not added
				}
				if v != want {
					t.Fatalf("span %d, batch of %d: value %d is %d, want %d", span, n, i, v, want)
				}
			}
			for _, b := range bufs {
				b.Release()
			}
		}
	}
}

// TestDatagenInt32FillMatchesRng: INT values (filled eight at a time with
// AVX-512 where the CPU has it, datagen_amd64.s) are those of rng.bounded,
// value by value across batches of every length around the blocks of eight,
// for random bounds and spans up to the largest the fast path takes (2^32-1)
// and beyond (2^32, the whole range, left to the scalar loop).
func TestDatagenInt32FillMatchesRng(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(rand.Uint64(), 3))
	spans := []uint64{1, 2, 1000001, 1<<31 + 1, 1<<32 - 1, 1 << 32}
	for range 20 {
		spans = append(spans, 1+r.Uint64N(1<<32-1))
	}
	for _, span := range spans {
		lo := int64(math.MinInt32) + r.Int64N(int64(1<<32-span+1))
		seed := r.Uint64()
		g := &intRand[int32]{r: rng{s: seed}, lo: lo, span: span}
		ref := rng{s: seed}
		for _, n := range []int{0, 1, 7, 8, 9, 16, 25000, 333, 8191} {
			bufs := g.fill(mem, n)
			got := arrow.Int32Traits.CastFromBytes(bufs[0].Bytes())[:n]
			for i, v := range got {
				if want := int32(lo + int64(ref.bounded(span))); v != want {
					t.Fatalf("span %d, lo %d, batch of %d (AVX-512 %v): value %d is %d, want %d", span, lo, n, hasAVX512, i, v, want)
				}
			}
			for _, b := range bufs {
				b.Release()
			}
		}
	}
}
