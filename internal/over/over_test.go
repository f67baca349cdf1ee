package over

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/sortop"
	"github.com/weir-dev/weir/internal/types"
)

// The test table: id (unique, to match rows), k (partition key), v (order
// key and argument), f (a DOUBLE argument), s (a second order key).
var testSchema = types.Schema{
	{Name: "id", Type: types.BIGINT.NotNull()},
	{Name: "k", Type: types.INT},
	{Name: "v", Type: types.BIGINT},
	{Name: "f", Type: types.DOUBLE},
	{Name: "s", Type: types.STRING},
	{Name: "n", Type: types.INT.NotNull()},
}

type testRow struct {
	id   int64
	k, v *int64
	f    *float64
	s    *string
	n    int64
}

func randRows(rng *rand.Rand, n int) []testRow {
	rows := make([]testRow, n)
	opt := func(p float64, v int64) *int64 {
		if rng.Float64() < p {
			return nil
		}
		return &v
	}
	for i := range rows {
		rows[i].id = int64(i)
		rows[i].k = opt(0.1, int64(rng.Intn(4)))
		rows[i].v = opt(0.15, int64(rng.Intn(8)-2))
		if rng.Float64() > 0.1 {
			f := float64(rng.Intn(100)) / 10
			rows[i].f = &f
		}
		if rng.Float64() > 0.1 {
			s := string(rune('a' + rng.Intn(5)))
			rows[i].s = &s
		}
		rows[i].n = int64(rng.Intn(7) - 3)
	}
	return rows
}

// batches builds rows as batches of at most size rows.
func batches(mem memory.Allocator, rows []testRow, size int) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	for lo := 0; lo < len(rows); lo += size {
		b := array.NewRecordBuilder(mem, testSchema.Arrow())
		for _, r := range rows[lo:min(len(rows), lo+size)] {
			b.Field(0).(*array.Int64Builder).Append(r.id)
			if r.k == nil {
				b.Field(1).AppendNull()
			} else {
				b.Field(1).(*array.Int32Builder).Append(int32(*r.k))
			}
			if r.v == nil {
				b.Field(2).AppendNull()
			} else {
				b.Field(2).(*array.Int64Builder).Append(*r.v)
			}
			if r.f == nil {
				b.Field(3).AppendNull()
			} else {
				b.Field(3).(*array.Float64Builder).Append(*r.f)
			}
			if r.s == nil {
				b.Field(4).AppendNull()
			} else {
				b.Field(4).(*array.StringBuilder).Append(*r.s)
			}
			b.Field(5).(*array.Int32Builder).Append(int32(r.n))
		}
		out = append(out, b.NewRecordBatch())
		b.Release()
	}
	return out
}

// run runs op over the batches and returns each output row's values by id.
func run(t *testing.T, mem memory.Allocator, op *Op, in []arrow.RecordBatch) map[int64][]any {
	t.Helper()
	ch := make(chan arrow.RecordBatch, len(in))
	for _, b := range in {
		ch <- b
	}
	close(ch)
	out := make(chan arrow.RecordBatch, 1024)
	if err := op.Run(context.Background(), mem, ch, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	got := map[int64][]any{}
	for b := range out {
		ids := b.Column(0).(*array.Int64)
		for r := 0; r < int(b.NumRows()); r++ {
			var vals []any
			for c := len(testSchema); c < int(b.NumCols()); c++ {
				vals = append(vals, value(b.Column(c), r))
			}
			got[ids.Value(r)] = vals
		}
		b.Release()
	}
	return got
}

func value(a arrow.Array, r int) any {
	if a.IsNull(r) {
		return nil
	}
	switch a := a.(type) {
	case *array.Int64:
		return a.Value(r)
	case *array.Int32:
		return int64(a.Value(r))
	case *array.Float64:
		return a.Value(r)
	case *array.String:
		return a.Value(r)
	}
	return fmt.Sprint(a.GetOneForMarshal(r))
}

// reference computes the calls of op over rows by the definitions, one row
// at a time: a stable sort of each partition, then scans for peers and
// frames.
func reference(op *Op, rows []testRow) map[int64][]any {
	get := func(r testRow, col int) any {
		switch col {
		case 0:
			return r.id
		case 1:
			if r.k != nil {
				return *r.k
			}
		case 2:
			if r.v != nil {
				return *r.v
			}
		case 3:
			if r.f != nil {
				return *r.f
			}
		case 4:
			if r.s != nil {
				return *r.s
			}
		case 5:
			return r.n
		}
		return nil
	}
	cmpVal := func(a, b any) int {
		switch a := a.(type) {
		case int64:
			return sign(float64(a - b.(int64)))
		case float64:
			return sign(a - b.(float64))
		case string:
			switch {
			case a < b.(string):
				return -1
			case a > b.(string):
				return 1
			}
		}
		return 0
	}
	cmpKey := func(a, b testRow, k sortop.Key) int {
		x, y := get(a, k.Col), get(b, k.Col)
		switch {
		case x == nil && y == nil:
			return 0
		case x == nil:
			if k.NullsFirst {
				return -1
			}
			return 1
		case y == nil:
			if k.NullsFirst {
				return 1
			}
			return -1
		}
		c := cmpVal(x, y)
		if k.Desc {
			c = -c
		}
		return c
	}
	parts := map[string][]testRow{}
	var partOrder []string
	for _, r := range rows {
		key := ""
		for _, c := range op.Partition {
			key += fmt.Sprint(get(r, c)) + "|"
		}
		if _, ok := parts[key]; !ok {
			partOrder = append(partOrder, key)
		}
		parts[key] = append(parts[key], r)
	}
	want := map[int64][]any{}
	for _, key := range partOrder {
		pr := parts[key]
		sort.SliceStable(pr, func(i, j int) bool {
			for _, k := range op.Order {
				if c := cmpKey(pr[i], pr[j], k); c != 0 {
					return c < 0
				}
			}
			return false
		})
		m := len(pr)
		peer := func(i, j int) bool {
			for _, k := range op.Order {
				if cmpKey(pr[i], pr[j], k) != 0 {
					return false
				}
			}
			return true
		}
		for p := range pr {
			first, last := p, p
			for first > 0 && peer(first-1, p) {
				first--
			}
			for last < m-1 && peer(last+1, p) {
				last++
			}
			var vals []any
			for _, c := range op.Calls {
				vals = append(vals, refCall(c, op, pr, p, first, last, get))
			}
			want[pr[p].id] = vals
		}
	}
	return want
}

func sign(x float64) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

func refCall(c Call, op *Op, pr []testRow, p, first, last int, get func(testRow, int) any) any {
	m := len(pr)
	switch c.Func {
	case RowNumber:
		return int64(p + 1)
	case Rank:
		return int64(first + 1)
	case DenseRank:
		d := int64(1)
		for q := 1; q <= p; q++ {
			same := true
			for _, k := range op.Order {
				if fmt.Sprint(get(pr[q], k.Col)) != fmt.Sprint(get(pr[q-1], k.Col)) {
					same = false
				}
			}
			if !same {
				d++
			}
		}
		return d
	case PercentRank:
		if m == 1 {
			return 0.0
		}
		return float64(first) / float64(m-1)
	case CumeDist:
		return float64(p+1) / float64(m)
	case Ntile:
		// Deal rows into buckets one size at a time.
		b, q := int64(1), 0
		for bucket := int64(0); bucket < c.N; bucket++ {
			size := int64(m) / c.N
			if bucket < int64(m)%c.N {
				size++
			}
			if p < q+int(size) {
				return b
			}
			q += int(size)
			b++
		}
		return b
	case Lag, Lead:
		q := p - int(c.N)
		if c.Func == Lead {
			q = p + int(c.N)
		}
		if q < 0 || q >= m {
			return nil
		}
		return get(pr[q], c.Arg)
	}
	fs, fe := refFrame(c.Frame, op, pr, p, first, last, get)
	var vals []any
	for q := fs; q <= fe; q++ {
		vals = append(vals, get(pr[q], c.Arg))
	}
	if c.Func == CountStar {
		return int64(len(vals))
	}
	var nn []any
	for _, v := range vals {
		if v != nil {
			nn = append(nn, v)
		}
	}
	switch c.Func {
	case ListAgg:
		if len(nn) == 0 {
			return nil
		}
		var parts []string
		for _, v := range nn {
			parts = append(parts, v.(string))
		}
		return strings.Join(parts, c.Sep)
	case FirstValue:
		if len(nn) == 0 {
			return nil
		}
		return nn[0]
	case LastValue:
		if len(nn) == 0 {
			return nil
		}
		return nn[len(nn)-1]
	}
	if c.Func == Count {
		return int64(len(nn))
	}
	if len(nn) == 0 {
		return nil
	}
	switch c.Func {
	case Sum, Avg:
		if _, ok := nn[0].(float64); ok {
			s := 0.0
			for _, v := range nn {
				s += v.(float64)
			}
			if c.Func == Avg {
				s /= float64(len(nn))
			}
			return s
		}
		s := int64(0)
		for _, v := range nn {
			s += v.(int64)
		}
		if c.Func == Avg {
			s /= int64(len(nn))
		}
		return s
	case Min, Max:
		best := nn[0]
		for _, v := range nn[1:] {
			less := fmt.Sprint(v) < fmt.Sprint(best)
			switch v := v.(type) {
			case int64:
				less = v < best.(int64)
			case float64:
				less = v < best.(float64)
			}
			if less == (c.Func == Min) && fmt.Sprint(v) != fmt.Sprint(best) {
				best = v
			}
		}
		return best
	}
	return "unknown"
}

// refFrame finds a frame by scanning the partition.
func refFrame(f Frame, op *Op, pr []testRow, p, first, last int, get func(testRow, int) any) (int, int) {
	m := len(pr)
	if f.Rows {
		pos := func(b Bound, start bool) int {
			switch b.Kind {
			case UnboundedPreceding:
				if start {
					return 0
				}
				return -1
			case Preceding:
				return p - int(b.Rows)
			case Following:
				return p + int(b.Rows)
			case UnboundedFollowing:
				if start {
					return m
				}
				return m - 1
			}
			return p
		}
		return max(pos(f.Start, true), 0), min(pos(f.End, false), m-1)
	}
	key := op.Order[0]
	cur := get(pr[p], key.Col)
	// A NULL key lies beyond every value at its end of the order (before
	// them with NULLS FIRST), as Flink's range bounds compare it.
	dist := func(q int) (int64, bool) {
		v := get(pr[q], key.Col)
		if v == nil {
			if key.NullsFirst {
				return math.MinInt64, true
			}
			return math.MaxInt64, true
		}
		d := v.(int64) - cur.(int64)
		if key.Desc {
			d = -d
		}
		return d, true
	}
	bound := func(b Bound, start bool) int {
		switch b.Kind {
		case UnboundedPreceding:
			if start {
				return 0
			}
			return -1
		case UnboundedFollowing:
			if start {
				return m
			}
			return m - 1
		case CurrentRow:
			if start {
				return first
			}
			return last
		}
		if cur == nil {
			if start {
				return first
			}
			return last
		}
		off := b.Int
		if b.Kind == Preceding {
			off = -off
		}
		if start {
			for q := 0; q < m; q++ {
				if d, ok := dist(q); ok && d >= off {
					return q
				}
			}
			return m
		}
		for q := m - 1; q >= 0; q-- {
			if d, ok := dist(q); ok && d <= off {
				return q
			}
		}
		return -1
	}
	return max(bound(f.Start, true), 0), min(bound(f.End, false), m-1)
}

func randBound(rng *rand.Rand, start bool) Bound {
	kinds := []BoundKind{UnboundedPreceding, Preceding, CurrentRow, Following, UnboundedFollowing}
	var k BoundKind
	for {
		k = kinds[rng.Intn(len(kinds))]
		if !(start && k == UnboundedFollowing) && !(!start && k == UnboundedPreceding) {
			break
		}
	}
	n := int64(rng.Intn(4))
	return Bound{Kind: k, Rows: n, Int: n, Float: float64(n), IsInt: true}
}

// TestAgainstReference checks every function, over random windows and
// frames, against the row-at-a-time reference, on random rows with NULLs
// and ties, in batches of random sizes.
func TestAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	funcs := []Func{RowNumber, Rank, DenseRank, PercentRank, CumeDist, Ntile, Lag, Lead, FirstValue, LastValue, Count, CountStar, Sum, Avg, Min, Max, ListAgg}
	for iter := 0; iter < 300; iter++ {
		rows := randRows(rng, rng.Intn(60))
		op := &Op{Schema: testSchema}
		if rng.Intn(4) > 0 {
			op.Partition = []int{1}
		}
		op.Order = []sortop.Key{{Col: 2, Desc: rng.Intn(2) == 0, NullsFirst: rng.Intn(2) == 0}}
		rangeOK := true
		if rng.Intn(3) == 0 {
			op.Order = append(op.Order, sortop.Key{Col: 4, Desc: rng.Intn(2) == 0, NullsFirst: rng.Intn(2) == 0})
			rangeOK = false
		}
		for range 1 + rng.Intn(4) {
			c := Call{Func: funcs[rng.Intn(len(funcs))], Arg: -1, Default: -1, Out: types.BIGINT}
			switch c.Func {
			case Ntile:
				c.N = int64(1 + rng.Intn(5))
			case Lag, Lead:
				c.Arg, c.N = 2, int64(rng.Intn(3))
			case PercentRank, CumeDist:
				c.Out = types.DOUBLE
			case ListAgg:
				c.Arg, c.Out, c.Sep = 4, types.STRING, "|"
			case Sum, Avg, Min, Max, FirstValue, LastValue, Count:
				c.Arg = 2
				if rng.Intn(2) == 0 && c.Func != Count {
					c.Arg, c.Out = 3, types.DOUBLE
				}
				if (c.Func == Min || c.Func == Max || c.Func == FirstValue || c.Func == LastValue) && rng.Intn(3) == 0 {
					c.Arg, c.Out = 4, types.STRING
				}
			}
			if !c.Func.Ranking() && c.Func != Lag && c.Func != Lead {
				c.Frame = Frame{Rows: !rangeOK || rng.Intn(2) == 0, Start: randBound(rng, true), End: randBound(rng, false)}
				if c.Frame.Start.Kind > c.Frame.End.Kind {
					c.Frame.Start, c.Frame.End = Bound{Kind: CurrentRow}, Bound{Kind: CurrentRow}
				}
			}
			op.Calls = append(op.Calls, c)
		}
		want := reference(op, rows)
		got := run(t, mem, op, batches(mem, rows, 1+rng.Intn(20)))
		if len(got) != len(want) {
			t.Fatalf("iteration %d: %d rows out, want %d", iter, len(got), len(want))
		}
		for id, w := range want {
			if fmt.Sprint(got[id]) != fmt.Sprint(w) {
				t.Fatalf("iteration %d, window %s, row %d: got %v, want %v (calls %+v)", iter, op, id, got[id], w, op.Calls)
			}
		}
	}
}

// TestTopN checks the Top-N path against the reference ROW_NUMBER, with
// compactions forced by a small slack.
func TestTopN(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for iter := 0; iter < 200; iter++ {
		rows := randRows(rng, rng.Intn(300))
		op := &Op{Schema: testSchema, Calls: []Call{{Func: RowNumber, Arg: -1, Default: -1, Out: types.BIGINT}}, Limit: int64(1 + rng.Intn(4)), compactSlack: int64(1 + rng.Intn(10))}
		if rng.Intn(4) > 0 {
			op.Partition = []int{1}
			if rng.Intn(2) == 0 {
				op.Partition = []int{1, 4}
			}
		}
		op.Order = []sortop.Key{{Col: 2 + rng.Intn(4), Desc: rng.Intn(2) == 0, NullsFirst: rng.Intn(2) == 0}}
		if rng.Intn(2) == 0 {
			op.Order = append(op.Order, sortop.Key{Col: 4, Desc: rng.Intn(2) == 0, NullsFirst: rng.Intn(2) == 0})
		}
		if !op.topN() {
			t.Fatalf("%s does not take the Top-N path", op)
		}
		want := map[int64][]any{}
		for id, v := range reference(op, rows) {
			if v[0].(int64) <= op.Limit {
				want[id] = v
			}
		}
		got := run(t, mem, op, batches(mem, rows, 1+rng.Intn(30)))
		if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
			t.Fatalf("iteration %d, %s:\n got %v\nwant %v", iter, op, sorted(got), sorted(want))
		}
	}
}

func sorted(m map[int64][]any) []string {
	var out []string
	for id, v := range m {
		out = append(out, fmt.Sprint(id, v))
	}
	sort.Strings(out)
	return out
}

// TestNtile checks the bucket sizes: larger buckets first, as even as can be.
func TestNtile(t *testing.T) {
	for _, tc := range []struct {
		size, buckets int64
		want          string
	}{
		{5, 2, "[1 1 1 2 2]"},
		{3, 5, "[1 2 3]"},
		{7, 3, "[1 1 1 2 2 3 3]"},
		{4, 4, "[1 2 3 4]"},
	} {
		var got []int64
		for r := int64(0); r < tc.size; r++ {
			got = append(got, ntile(tc.size, tc.buckets, r))
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("ntile(%d rows, %d buckets) = %v, want %s", tc.size, tc.buckets, got, tc.want)
		}
	}
}
