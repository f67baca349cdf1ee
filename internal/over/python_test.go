package over

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/sortop"
	"github.com/weir-dev/weir/internal/types"
)

// pythonStage does in Go what the Python stage between an Op with Python
// calls and its Unpack does, for test functions: "listagg" (Args [s]) joins
// the frame's non-NULL strings with "|", "sum" (Args [v]) sums its non-NULL
// integers; both NULL over no values. It returns the stage's output: the
// forwarded Rows and Runs columns, then one ARRAY of a value per run per call.
func pythonStage(t *testing.T, mem memory.Allocator, op *Op, kinds map[int]string, pack arrow.RecordBatch) arrow.RecordBatch {
	t.Helper()
	layout, schema := op.PackLayout()
	var cols []arrow.Array
	var fields []arrow.Field
	for j := 0; j < layout.Rows; j++ {
		cols = append(cols, pack.Column(j))
		fields = append(fields, schema.Arrow().Field(j))
	}
	for _, c := range layout.Runs {
		cols = append(cols, pack.Column(c))
		fields = append(fields, schema.Arrow().Field(c))
	}
	var made []arrow.Array
	k := 0
	for i, c := range op.Calls {
		if c.Func != PythonAgg {
			continue
		}
		runs := pack.Column(layout.Runs[k]).(*array.List)
		args := pack.Column(layout.Args[k][0]).(*array.List)
		lb := array.NewListBuilder(mem, c.Out.Arrow())
		for r := 0; r < int(pack.NumRows()); r++ {
			lb.Append(true)
			as, ae := args.ValueOffsets(r)
			rs, re := runs.ValueOffsets(r)
			rv := runs.ListValues().(*array.Int32)
			for q := rs; q < re; q += 3 {
				s, e := int64(rv.Value(int(q+1))), int64(rv.Value(int(q+2)))
				if s < 0 || e > ae-as || s > e {
					t.Fatalf("call %d: frame [%d, %d) outside the %d arguments sent", i, s, e, ae-as)
				}
				switch kinds[i] {
				case "listagg":
					vals := args.ListValues().(*array.String)
					var parts []string
					for p := as + s; p < as+e; p++ {
						if vals.IsValid(int(p)) {
							parts = append(parts, vals.Value(int(p)))
						}
					}
					if parts == nil {
						lb.ValueBuilder().AppendNull()
					} else {
						lb.ValueBuilder().(*array.StringBuilder).Append(strings.Join(parts, "|"))
					}
				case "sum":
					vals := args.ListValues().(*array.Int64)
					sum, any := int64(0), false
					for p := as + s; p < as+e; p++ {
						if vals.IsValid(int(p)) {
							sum, any = sum+vals.Value(int(p)), true
						}
					}
					if any {
						lb.ValueBuilder().(*array.Int64Builder).Append(sum)
					} else {
						lb.ValueBuilder().AppendNull()
					}
				}
			}
		}
		a := lb.NewArray()
		lb.Release()
		made = append(made, a)
		cols = append(cols, a)
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("py%d", k), Type: a.DataType(), Nullable: false})
		k++
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, pack.NumRows())
	for _, a := range made {
		a.Release()
	}
	return rec
}

// runPython runs op, the stand-in Python stage and Unpack over in and
// returns each output row's call values by id, and the number of packs.
func runPython(t *testing.T, mem memory.Allocator, op *Op, kinds map[int]string, in []arrow.RecordBatch) (map[int64][]any, int) {
	t.Helper()
	ch := make(chan arrow.RecordBatch, len(in))
	for _, b := range in {
		ch <- b
	}
	close(ch)
	packs := make(chan arrow.RecordBatch, 1024)
	if err := op.Run(context.Background(), mem, ch, packs); err != nil {
		t.Fatal(err)
	}
	close(packs)
	stage := make(chan arrow.RecordBatch, 1024)
	n := 0
	for p := range packs {
		n += int(p.NumRows())
		stage <- pythonStage(t, mem, op, kinds, p)
		p.Release()
	}
	close(stage)
	out := make(chan arrow.RecordBatch, 1024)
	if err := (&Unpack{Op: op}).Run(context.Background(), mem, stage, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	got := map[int64][]any{}
	want := op.ResultSchema().Arrow()
	for b := range out {
		if !b.Schema().Equal(want) {
			t.Fatalf("Unpack's schema %s, want %s", b.Schema(), want)
		}
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
	return got, n
}

// TestPythonCallsAgainstReference: Python calls (computed by a stand-in
// stage from the packs' arguments and runs of frames) beside built-in ones,
// over random windows and frames and chunk sizes, give what the reference
// gives for the built-in function each stands in for (LISTAGG, SUM).
func TestPythonCallsAgainstReference(t *testing.T) {
	defer func(n int) { chunkRows = n }(chunkRows)
	rng := rand.New(rand.NewSource(3))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for iter := 0; iter < 300; iter++ {
		chunkRows = 1 + rng.Intn(6)
		if iter%3 == 0 {
			chunkRows = 4096
		}
		rows := randRows(rng, rng.Intn(80))
		op := &Op{Schema: testSchema}
		if rng.Intn(4) > 0 {
			op.Partition = []int{1}
		}
		op.Order = []sortop.Key{{Col: 2, Desc: rng.Intn(2) == 0, NullsFirst: rng.Intn(2) == 0}}
		kinds := map[int]string{}
		ref := &Op{Schema: testSchema, Partition: op.Partition, Order: op.Order}
		for i := range 1 + rng.Intn(4) {
			f := Frame{Rows: rng.Intn(2) == 0, Start: randBound(rng, true), End: randBound(rng, false)}
			if f.Start.Kind > f.End.Kind {
				f.Start, f.End = Bound{Kind: CurrentRow}, Bound{Kind: CurrentRow}
			}
			var c, r Call
			switch rng.Intn(3) {
			case 0:
				c = Call{Func: PythonAgg, Args: []int{4}, Arg: -1, Default: -1, Out: types.STRING, Frame: f, Label: "py_listagg"}
				r = Call{Func: ListAgg, Arg: 4, Default: -1, Out: types.STRING, Sep: "|", Frame: f}
				kinds[i] = "listagg"
			case 1:
				c = Call{Func: PythonAgg, Args: []int{2}, Arg: -1, Default: -1, Out: types.BIGINT, Frame: f, Label: "py_sum"}
				r = Call{Func: Sum, Arg: 2, Default: -1, Out: types.BIGINT, Frame: f}
				kinds[i] = "sum"
			default:
				c = Call{Func: Count, Arg: 3, Default: -1, Out: types.BIGINT.NotNull(), Frame: f}
				r = c
			}
			op.Calls = append(op.Calls, c)
			ref.Calls = append(ref.Calls, r)
		}
		want := reference(ref, rows)
		if len(kinds) == 0 {
			continue // no Python call: TestAgainstReference's ground
		}
		got, packs := runPython(t, mem, op, kinds, batches(mem, rows, 1+rng.Intn(20)))
		if len(got) != len(want) {
			t.Fatalf("iteration %d: %d rows out, want %d", iter, len(got), len(want))
		}
		if len(rows) > 0 && packs == 0 {
			t.Fatalf("iteration %d: no packs", iter)
		}
		for id, w := range want {
			if fmt.Sprint(got[id]) != fmt.Sprint(w) {
				t.Fatalf("iteration %d (chunks of %d rows), window %s, row %d: got %v, want %v (calls %+v)", iter, chunkRows, op, id, got[id], w, op.Calls)
			}
		}
	}
}

// TestChunks: a sliding frame splits a long partition into chunks of
// chunkRows rows whose arguments overlap by the frame; frames that all
// start with the partition, or are all the same, keep it whole; frames that
// end with it split once what is left is shorter than chunkRows.
func TestChunks(t *testing.T) {
	defer func(n int) { chunkRows = n }(chunkRows)
	chunkRows = 100
	n := 1000
	w := &window{n: n, partLo: make([]int32, n), partHi: make([]int32, n), peerLo: make([]int32, n), peerHi: make([]int32, n)}
	for p := range n {
		w.partHi[p] = int32(n)
		w.peerLo[p], w.peerHi[p] = int32(p), int32(p+1)
	}
	frames := map[string]Frame{
		"sliding": {Rows: true, Start: Bound{Kind: Preceding, Rows: 2}, End: Bound{Kind: CurrentRow}},
		"running": {Rows: true, Start: Bound{Kind: UnboundedPreceding}, End: Bound{Kind: CurrentRow}},
		"whole":   {Rows: true, Start: Bound{Kind: UnboundedPreceding}, End: Bound{Kind: UnboundedFollowing}},
		"ahead":   {Rows: true, Start: Bound{Kind: CurrentRow}, End: Bound{Kind: UnboundedFollowing}},
	}
	want := map[string]int{"sliding": 10, "running": 1, "whole": 1, "ahead": 2}
	for name, f := range frames {
		op := &Op{Calls: []Call{{Func: PythonAgg, Frame: f}}}
		cs := op.chunks(w, []int{0})
		if len(cs) != want[name] {
			t.Errorf("%s: %d chunks, want %d: %v", name, len(cs), want[name], cs)
		}
		next := 0
		for _, c := range cs {
			if c.a != next || c.b <= c.a {
				t.Fatalf("%s: chunks %v do not tile [0, %d)", name, cs, n)
			}
			next = c.b
		}
		if next != n {
			t.Fatalf("%s: chunks %v end at %d, want %d", name, cs, next, n)
		}
	}
}

// TestArgBytesLimit: a chunk whose frames cover more argument bytes than
// MaxArgBytes is refused naming the call, the rows and the partition.
func TestArgBytesLimit(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewSource(4))
	rows := randRows(rng, 200)
	whole := Frame{Rows: true, Start: Bound{Kind: UnboundedPreceding}, End: Bound{Kind: UnboundedFollowing}}
	for _, tc := range []struct {
		arg   int
		limit int64
		fails bool
	}{{2, 8 * 200, false}, {2, 8 * 30, true}, {4, 5 * 200, false}, {4, 50, true}} {
		op := &Op{Schema: testSchema, Partition: []int{1}, Order: []sortop.Key{{Col: 0}}, MaxArgBytes: tc.limit,
			Calls: []Call{{Func: PythonAgg, Args: []int{tc.arg}, Arg: -1, Default: -1, Out: types.BIGINT, Frame: whole, Label: "f(x)"}}}
		ch := make(chan arrow.RecordBatch, 16)
		for _, b := range batches(mem, rows, 50) {
			ch <- b
		}
		close(ch)
		out := make(chan arrow.RecordBatch, 1024)
		err := op.Run(context.Background(), mem, ch, out)
		close(out)
		for b := range out {
			b.Release()
		}
		if !tc.fails {
			if err != nil {
				t.Fatalf("limit %d: %v", tc.limit, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "the frames of f(x) over rows 1 to ") || !strings.Contains(err.Error(), "of partition (") ||
			!strings.Contains(err.Error(), "use a frame of fewer rows") {
			t.Fatalf("limit %d: error %v", tc.limit, err)
		}
	}
}
