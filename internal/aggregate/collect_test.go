package aggregate

import (
	"math/rand"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// TestCollectRandom: $COLLECT gives each group's values, NULLs included, in
// input order across batches, with a FILTER, beside COUNT(*), and leaks no
// memory (checked allocator).
func TestCollectRandom(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewSource(5))
	schema := types.Schema{{Name: "k", Type: types.INT}, {Name: "v", Type: types.BIGINT}, {Name: "f", Type: types.BOOLEAN}}
	type ref struct {
		all, kept []string
		n         int64
	}
	want := map[string]*ref{}
	var batches []arrow.RecordBatch
	for b := 0; b < 6; b++ {
		n := rng.Intn(2000)
		kb, vb, fb := array.NewInt32Builder(mem), array.NewInt64Builder(mem), array.NewBooleanBuilder(mem)
		for i := 0; i < n; i++ {
			k := int32(rng.Intn(50))
			kb.Append(k)
			key := string(rune('A' + k))
			if want[key] == nil {
				want[key] = &ref{}
			}
			r := want[key]
			r.n++
			v := "null"
			if rng.Intn(10) == 0 {
				vb.AppendNull()
			} else {
				x := rng.Int63n(1000)
				vb.Append(x)
				v = itoa(x)
			}
			keep := rng.Intn(3) > 0
			fb.Append(keep)
			r.all = append(r.all, v)
			if keep {
				r.kept = append(r.kept, v)
			}
		}
		cols := []arrow.Array{kb.NewArray(), vb.NewArray(), fb.NewArray()}
		kb.Release()
		vb.Release()
		fb.Release()
		batches = append(batches, array.NewRecordBatch(schema.Arrow(), cols, int64(n)))
		for _, c := range cols {
			c.Release()
		}
	}
	out, _ := ResultType(Collect, types.BIGINT, false)
	if out.String() != "ARRAY<BIGINT> NOT NULL" {
		t.Fatalf("ResultType(Collect, BIGINT) = %s, want ARRAY<BIGINT> NOT NULL", out)
	}
	op := &Op{Keys: []int{0}, Aggs: []Spec{
		{Func: Collect, Arg: 1, In: types.BIGINT, Out: out},
		{Func: Collect, Arg: 1, In: types.BIGINT, Out: out, Filter: 2, HasFilter: true},
		{Func: CountStar, Out: types.BIGINT.NotNull()},
	}, Schema: types.Schema{{Name: "k", Type: types.INT}, {Name: "all", Type: out}, {Name: "kept", Type: out}, {Name: "n", Type: types.BIGINT.NotNull()}}}
	res := run(t, op, mem, batches)
	groups := 0
	for _, b := range res {
		ks := b.Column(0).(*array.Int32)
		all, kept := b.Column(1).(*array.List), b.Column(2).(*array.List)
		ns := b.Column(3).(*array.Int64)
		for i := 0; i < int(b.NumRows()); i++ {
			key := string(rune('A' + ks.Value(i)))
			r := want[key]
			if got := listStrings(all, i); !equal(got, r.all) {
				t.Fatalf("group %s: COLLECT = %v, want %v", key, got, r.all)
			}
			if got := listStrings(kept, i); !equal(got, r.kept) {
				t.Fatalf("group %s: COLLECT FILTER = %v, want %v", key, got, r.kept)
			}
			if ns.Value(i) != r.n {
				t.Fatalf("group %s: COUNT(*) = %d, want %d", key, ns.Value(i), r.n)
			}
			groups++
		}
		b.Release()
	}
	if groups != len(want) {
		t.Fatalf("%d groups, want %d", groups, len(want))
	}
}

// TestCollectGlobalEmpty: without GROUP BY and without rows, COLLECT is one
// empty array.
func TestCollectGlobalEmpty(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	out, _ := ResultType(Collect, types.STRING, true)
	op := &Op{Aggs: []Spec{{Func: Collect, Arg: 0, In: types.STRING, Out: out}}, Schema: types.Schema{{Name: "c", Type: out}}}
	res := run(t, op, mem, nil)
	if len(res) != 1 || res[0].NumRows() != 1 {
		t.Fatalf("got %d batches, want one row", len(res))
	}
	l := res[0].Column(0).(*array.List)
	if lo, hi := l.ValueOffsets(0); l.IsNull(0) || hi != lo {
		t.Fatalf("COLLECT of no rows = %v, want []", l)
	}
	res[0].Release()
}

func listStrings(l *array.List, i int) []string {
	lo, hi := l.ValueOffsets(i)
	vals := l.ListValues().(*array.Int64)
	var out []string
	for j := lo; j < hi; j++ {
		if vals.IsNull(int(j)) {
			out = append(out, "null")
		} else {
			out = append(out, itoa(vals.Value(int(j))))
		}
	}
	return out
}

func itoa(x int64) string { return strconv.FormatInt(x, 10) }

func equal(a, b []string) bool {
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
