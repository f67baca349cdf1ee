package aggregate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/spill"
	"github.com/weir-dev/weir/internal/types"
)

var collectInput = types.Schema{{Name: "k", Type: types.INT}, {Name: "i8", Type: types.TINYINT},
	{Name: "i16", Type: types.SMALLINT}, {Name: "i32", Type: types.INT}, {Name: "i64", Type: types.BIGINT},
	{Name: "f32", Type: types.FLOAT}, {Name: "f64", Type: types.DOUBLE}, {Name: "d", Type: types.DATE},
	{Name: "b", Type: types.BOOLEAN}, {Name: "s", Type: types.STRING}}

// collectBatches makes random batches of collectInput, some sliced (values
// at an offset), some without NULLs.
func collectBatches(rng *rand.Rand, mem memory.Allocator, rows, keys int) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	for rows > 0 {
		n := min(rows, 1+rng.IntN(3000))
		rows -= n
		nulls := rng.IntN(3) > 0
		rb := array.NewRecordBuilder(mem, collectInput.Arrow())
		lead := rng.IntN(5)
		for range n + lead {
			rb.Field(0).(*array.Int32Builder).Append(int32(rng.IntN(keys)))
			for c := 1; c < len(collectInput); c++ {
				f := rb.Field(c)
				if nulls && rng.IntN(8) == 0 {
					f.AppendNull()
					continue
				}
				x := rng.Int64N(1 << 40)
				switch f := f.(type) {
				case *array.Int8Builder:
					f.Append(int8(x))
				case *array.Int16Builder:
					f.Append(int16(x))
				case *array.Int32Builder:
					f.Append(int32(x))
				case *array.Int64Builder:
					f.Append(x - 1<<39)
				case *array.Float32Builder:
					f.Append(float32(x) / 7)
				case *array.Float64Builder:
					f.Append(float64(x) / 3)
				case *array.Date32Builder:
					f.Append(arrow.Date32(x % 40000))
				case *array.BooleanBuilder:
					f.Append(x%2 == 0)
				case *array.StringBuilder:
					f.Append(fmt.Sprintf("s%d", x%1000))
				default:
					panic(fmt.Sprintf("no test values for %T", f))
				}
			}
		}
		b := rb.NewRecordBatch()
		rb.Release()
		if lead > 0 {
			s := b.NewSlice(int64(lead), b.NumRows())
			b.Release()
			b = s
		}
		out = append(out, b)
	}
	return out
}

func collectOp(t *testing.T) *Op {
	op := &Op{Keys: []int{0}, Schema: types.Schema{collectInput[0]}}
	for c := 1; c < len(collectInput); c++ {
		out, err := ResultType(Collect, collectInput[c].Type, false)
		if err != nil {
			t.Fatal(err)
		}
		op.Aggs = append(op.Aggs, Spec{Func: Collect, Arg: c, In: collectInput[c].Type, Out: out, Label: "$COLLECT"})
		op.Schema = append(op.Schema, types.Field{Name: collectInput[c].Name, Type: out})
	}
	// The same columns packed (ARRAYs still for the types that are not).
	for c := 1; c < len(collectInput); c++ {
		out, err := ResultType(CollectPacked, collectInput[c].Type, false)
		if err != nil {
			t.Fatal(err)
		}
		op.Aggs = append(op.Aggs, Spec{Func: CollectPacked, Arg: c, In: collectInput[c].Type, Out: out,
			Label: "$COLLECT_PACKED"})
		op.Schema = append(op.Schema, types.Field{Name: "p" + collectInput[c].Name, Type: out})
	}
	op.Aggs = append(op.Aggs, Spec{Func: Count, Arg: 4, In: types.BIGINT, Out: types.BIGINT.NotNull(), Label: "COUNT"})
	op.Schema = append(op.Schema, types.Field{Name: "n", Type: types.BIGINT.NotNull()})
	return op
}

// TestCollectScatterAgainstGather: the fast path of $COLLECT (values of 1,
// 2, 4 and 8 bytes moved to their part of the groups, then to their
// group's place, a part at a time) gives the slow path's arrays (concatenate, then take in group order), for every such
// type, with and without NULLs, from sliced batches, and leaks nothing.
func TestCollectScatterAgainstGather(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 4 {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		batches := collectBatches(rng, mem, 1+rng.IntN(20_000), 1+rng.IntN([]int{1, 10, 1000, 30_000}[trial]))
		op := collectOp(t)
		// Built a part at a time: parts of a few values, of a few groups, whole.
		collectPartRows = []int32{1 + rng.Int32N(300), 1 << 16, 1 << 16, 1 + rng.Int32N(30)}[trial]
		op.BatchRows = []int{0, 1 + rng.IntN(50), 0, 0}[trial]
		fast := groupRows(t, context.Background(), op, mem, batches)
		collectPartRows = 1 << 16
		collectGather = true
		slow := groupRows(t, context.Background(), op, mem, batches)
		collectGather = false
		if len(fast) == 0 || !slices.Equal(fast, slow) {
			t.Fatalf("trial %d: %d groups by scatter, %d by gather, or different arrays", trial, len(fast), len(slow))
		}
		for _, b := range batches {
			b.Release()
		}
		mem.AssertSize(t, 0)
	}
	// Without GROUP BY: one group, built whole.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	batches := collectBatches(rng, mem, 5000, 1)
	op := collectOp(t)
	op.Keys, op.Schema = nil, op.Schema[1:]
	fast := groupRows(t, context.Background(), op, mem, batches)
	collectGather = true
	slow := groupRows(t, context.Background(), op, mem, batches)
	collectGather = false
	if len(fast) != 1 || !slices.Equal(fast, slow) {
		t.Fatalf("without GROUP BY: %d groups by scatter, %d by gather, or different arrays", len(fast), len(slow))
	}
	for _, b := range batches {
		b.Release()
	}
	mem.AssertSize(t, 0)
}

// peakAlloc records the most memory allocated through it at once.
type peakAlloc struct {
	memory.Allocator
	mu        sync.Mutex
	cur, peak int
}

func (p *peakAlloc) add(n int) {
	p.mu.Lock()
	p.cur += n
	p.peak = max(p.peak, p.cur)
	p.mu.Unlock()
}

func (p *peakAlloc) Allocate(n int) []byte { p.add(n); return p.Allocator.Allocate(n) }

func (p *peakAlloc) Reallocate(n int, b []byte) []byte {
	p.add(n - len(b))
	return p.Allocator.Reallocate(n, b)
}

func (p *peakAlloc) Free(b []byte) { p.add(-len(b)); p.Allocator.Free(b) }

// TestCollectSpillBounded: under a tiny budget, an aggregation with
// $COLLECT whose keys all appear in the first rows (so every group would
// stay in memory and take all its rows) spills all its rows instead, holds
// far less than the same aggregation in memory, and gives its results.
func TestCollectSpillBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	in := memory.NewCheckedAllocator(memory.NewGoAllocator())
	batches := collectBatches(rng, in, 150_000, 300)
	op := collectOp(t)
	unbounded := &peakAlloc{Allocator: memory.NewGoAllocator()}
	want := groupRows(t, context.Background(), op, unbounded, batches)
	budget := spill.New(512 << 10)
	bounded := &peakAlloc{Allocator: memory.NewGoAllocator()}
	got := groupRows(t, spill.WithBudget(context.Background(), budget), op, bounded, batches)
	if budget.Files() < aggParts {
		t.Errorf("%d spill files, want at least %d", budget.Files(), aggParts)
	}
	budget.Close()
	if !slices.Equal(got, want) {
		t.Fatalf("%d groups with spilling, %d in memory, or different arrays", len(got), len(want))
	}
	t.Logf("peak allocation: %d KiB in memory, %d KiB under a budget of 512 KiB", unbounded.peak>>10, bounded.peak>>10)
	if bounded.peak*4 > unbounded.peak {
		t.Errorf("peak allocation %d KiB under a budget of 512 KiB, %d KiB in memory: want under a quarter",
			bounded.peak>>10, unbounded.peak>>10)
	}
	for _, b := range batches {
		b.Release()
	}
	in.AssertSize(t, 0)
}

// TestCollectPacked: $COLLECT_PACKED gives each group of an integer, FLOAT
// or DOUBLE column its tag and the same values as $COLLECT's ARRAY, bit for
// bit and little-endian, with a byte per value (0 for NULL, whose value
// bytes are 0) after them when the group has a NULL; other types stay
// ARRAYs. With the slow path too, and nothing leaked.
func TestCollectPacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	nc := len(collectInput) - 1
	groups, withNulls := 0, 0
	for trial := range 4 {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		batches := collectBatches(rng, mem, 1+rng.IntN(20_000), 1+rng.IntN([]int{1, 10, 1000, 30_000}[trial]))
		op := collectOp(t)
		collectGather = trial == 3
		collectPartRows = []int32{1 << 16, 1 + rng.Int32N(200), 1 << 16, 1 << 16}[trial]
		for _, b := range runOp(t, op, mem, batches) {
			for c := 1; c <= nc; c++ {
				lists, packed := b.Column(c).(*array.List), b.Column(c+nc)
				tag := packTag(collectInput[c].Type)
				if tag == 0 {
					if !arrow.TypeEqual(packed.DataType(), lists.DataType()) {
						t.Fatalf("%s: packed as %s, want %s", collectInput[c].Name, packed.DataType(), lists.DataType())
					}
					continue
				}
				bin := packed.(*array.Binary)
				elems := lists.ListValues()
				w := elems.DataType().(arrow.FixedWidthDataType).BitWidth() / 8
				raw := elems.Data().Buffers()[1].Bytes()[elems.Data().Offset()*w:]
				for r := 0; r < lists.Len(); r++ {
					groups++
					s, e := lists.ValueOffsets(r)
					got := bin.Value(r)
					nulls := false
					for j := s; j < e; j++ {
						nulls = nulls || elems.IsNull(int(j))
					}
					want := []byte{tag}
					if nulls {
						want[0] = tag - 'a' + 'A'
						withNulls++
					}
					for j := s; j < e; j++ {
						v := make([]byte, w)
						if elems.IsValid(int(j)) {
							copy(v, raw[int(j)*w:])
						}
						want = append(want, v...)
					}
					for j := s; nulls && j < e; j++ {
						want = append(want, map[bool]byte{false: 0, true: 1}[elems.IsValid(int(j))])
					}
					if !slices.Equal(got, want) {
						t.Fatalf("trial %d, %s, group %d: packed %x, want %x", trial, collectInput[c].Name, r, got, want)
					}
				}
			}
			b.Release()
		}
		collectGather = false
		collectPartRows = 1 << 16
		for _, b := range batches {
			b.Release()
		}
		mem.AssertSize(t, 0)
	}
	if withNulls == 0 || withNulls == groups {
		t.Fatalf("%d groups, %d with NULLs: not a test of both", groups, withNulls)
	}
}

// runOp runs op over batches and returns its output batches.
func runOp(t *testing.T, op *Op, mem memory.Allocator, batches []arrow.RecordBatch) []arrow.RecordBatch {
	t.Helper()
	in := make(chan arrow.RecordBatch, len(batches))
	for _, b := range batches {
		b.Retain()
		in <- b
	}
	close(in)
	out := make(chan arrow.RecordBatch, 16)
	errc := make(chan error, 1)
	go func() { errc <- op.Run(context.Background(), mem, in, out); close(out) }()
	var res []arrow.RecordBatch
	for b := range out {
		res = append(res, b)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return res
}
