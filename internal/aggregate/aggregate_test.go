package aggregate

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// run feeds batches through op and returns its output rows as strings.
func run(t testing.TB, op *Op, mem memory.Allocator, batches []arrow.RecordBatch) []arrow.RecordBatch {
	in := make(chan arrow.RecordBatch, len(batches))
	for _, b := range batches {
		in <- b
	}
	close(in)
	out := make(chan arrow.RecordBatch, 1<<16)
	if err := op.Run(context.Background(), mem, in, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var res []arrow.RecordBatch
	for b := range out {
		res = append(res, b)
	}
	return res
}

// TestRandomAgainstReference compares the hash aggregation with a plain
// map-based one on random keys (integer and string, with NULLs) and values.
func TestRandomAgainstReference(t *testing.T) {
	for _, stringKey := range []bool{false, true} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		rng := rand.New(rand.NewSource(int64(len(fmt.Sprint(stringKey)))))
		keyType := types.INT
		if stringKey {
			keyType = types.STRING
		}
		schema := types.Schema{{Name: "k", Type: keyType}, {Name: "v", Type: types.BIGINT}}
		type ref struct {
			count, countV, sum, min, max int64
			distinct                     map[int64]bool
		}
		want := map[string]*ref{}
		var batches []arrow.RecordBatch
		for b := 0; b < 5; b++ {
			n := rng.Intn(3000)
			kb := array.NewBuilder(mem, keyType.Arrow())
			vb := array.NewInt64Builder(mem)
			for i := 0; i < n; i++ {
				key := "NULL"
				if rng.Intn(20) == 0 {
					kb.AppendNull()
				} else {
					k := rng.Intn(300) - 150
					key = fmt.Sprint(k)
					if stringKey {
						kb.(*array.StringBuilder).Append(key)
					} else {
						kb.(*array.Int32Builder).Append(int32(k))
					}
				}
				r := want[key]
				if r == nil {
					r = &ref{distinct: map[int64]bool{}}
					want[key] = r
				}
				r.count++
				if rng.Intn(10) == 0 {
					vb.AppendNull()
					continue
				}
				v := rng.Int63n(1000) - 500
				vb.Append(v)
				if r.countV == 0 || v < r.min {
					r.min = v
				}
				if r.countV == 0 || v > r.max {
					r.max = v
				}
				r.countV++
				r.sum += v
				r.distinct[v] = true
			}
			ka, va := kb.NewArray(), vb.NewArray()
			kb.Release()
			vb.Release()
			batches = append(batches, array.NewRecordBatch(schema.Arrow(), []arrow.Array{ka, va}, int64(n)))
			ka.Release()
			va.Release()
		}
		op := &Op{Keys: []int{0}, BatchRows: 100}
		op.Schema = types.Schema{{Name: "k", Type: keyType}}
		for _, f := range []Func{CountStar, Count, Sum, Min, Max, Count} {
			s := Spec{Func: f, Arg: 1, In: types.BIGINT, Distinct: len(op.Aggs) == 5}
			s.Out, _ = ResultType(f, s.In, false)
			op.Aggs = append(op.Aggs, s)
			op.Schema = append(op.Schema, types.Field{Name: f.String(), Type: s.Out})
		}
		got := map[string]string{}
		for _, b := range run(t, op, mem, batches) {
			for i := 0; i < int(b.NumRows()); i++ {
				key := "NULL"
				if b.Column(0).IsValid(i) {
					key = b.Column(0).ValueStr(i)
				}
				var vals []string
				for c := 1; c < int(b.NumCols()); c++ {
					vals = append(vals, b.Column(c).ValueStr(i))
				}
				got[key] = fmt.Sprint(vals)
			}
			b.Release()
		}
		if len(got) != len(want) {
			t.Errorf("string key %v: %d groups, want %d", stringKey, len(got), len(want))
		}
		for k, r := range want {
			w := fmt.Sprint([]string{fmt.Sprint(r.count), fmt.Sprint(r.countV), fmt.Sprint(r.sum), fmt.Sprint(r.min), fmt.Sprint(r.max), fmt.Sprint(len(r.distinct))})
			if r.countV == 0 {
				w = fmt.Sprint([]string{fmt.Sprint(r.count), "0", "(null)", "(null)", "(null)", "0"})
			}
			if got[k] != w {
				t.Errorf("string key %v: group %s = %s, want %s", stringKey, k, got[k], w)
			}
		}
		for _, b := range batches {
			b.Release()
		}
		mem.AssertSize(t, 0)
	}
}

// TestGlobalEmpty checks one row of COUNT 0 and NULLs for an empty input.
func TestGlobalEmpty(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	sum, _ := ResultType(Sum, types.INT.NotNull(), true)
	op := &Op{Aggs: []Spec{{Func: CountStar, Out: types.BIGINT.NotNull()}, {Func: Sum, Arg: 0, In: types.INT.NotNull(), Out: sum}},
		Schema: types.Schema{{Name: "c", Type: types.BIGINT.NotNull()}, {Name: "s", Type: sum}}}
	res := run(t, op, mem, nil)
	if len(res) != 1 || res[0].NumRows() != 1 {
		t.Fatalf("global aggregation of nothing = %d batches, want one row", len(res))
	}
	if c, s := res[0].Column(0).ValueStr(0), res[0].Column(1).IsNull(0); c != "0" || !s || !sum.Nullable {
		t.Errorf("COUNT(*), SUM() of nothing = %s, null %v (type %s), want 0, NULL of a nullable type", c, s, sum)
	}
	res[0].Release()
	mem.AssertSize(t, 0)
}

// TestInputOrderAcrossBatches checks FIRST_VALUE, LAST_VALUE and LISTAGG
// over several batches: input order, NULLs skipped.
func TestInputOrderAcrossBatches(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	schema := types.Schema{{Name: "k", Type: types.INT}, {Name: "s", Type: types.STRING}}
	var batches []arrow.RecordBatch
	for _, rows := range [][][2]any{{{1, "a"}, {2, nil}}, {{1, nil}, {2, "x"}}, {{1, "b"}, {2, "y"}, {1, "c"}}} {
		kb, sb := array.NewInt32Builder(mem), array.NewStringBuilder(mem)
		for _, r := range rows {
			kb.Append(int32(r[0].(int)))
			if r[1] == nil {
				sb.AppendNull()
			} else {
				sb.Append(r[1].(string))
			}
		}
		ka, sa := kb.NewArray(), sb.NewArray()
		batches = append(batches, array.NewRecordBatch(schema.Arrow(), []arrow.Array{ka, sa}, int64(len(rows))))
		ka.Release()
		sa.Release()
		kb.Release()
		sb.Release()
	}
	op := &Op{Keys: []int{0}, Schema: types.Schema{schema[0]}}
	for _, f := range []Func{FirstValue, LastValue, ListAgg} {
		out, err := ResultType(f, types.STRING, false)
		if err != nil {
			t.Fatal(err)
		}
		op.Aggs = append(op.Aggs, Spec{Func: f, Arg: 1, In: types.STRING, Out: out, Separator: "+"})
		op.Schema = append(op.Schema, types.Field{Name: f.String(), Type: out})
	}
	res := run(t, op, mem, batches)
	got := map[string]string{}
	for _, b := range res {
		for i := 0; i < int(b.NumRows()); i++ {
			got[b.Column(0).ValueStr(i)] = b.Column(1).ValueStr(i) + " " + b.Column(2).ValueStr(i) + " " + b.Column(3).ValueStr(i)
		}
		b.Release()
	}
	want := map[string]string{"1": "a c a+b+c", "2": "x y x+y"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("group %s: FIRST_VALUE, LAST_VALUE, LISTAGG = %q, want %q", k, got[k], w)
		}
	}
	mem.AssertSize(t, 0)
}
