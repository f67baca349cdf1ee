package join

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// side is one input of a test join: rows of (key1, key2, payload), NULL
// being nil.
type side [][3]any

func batches(mem memory.Allocator, rows side, stringKey bool, rng *rand.Rand) []arrow.RecordBatch {
	schema := sideSchema(stringKey)
	var out []arrow.RecordBatch
	for len(rows) > 0 || len(out) == 0 {
		n := min(len(rows), rng.Intn(40))
		bl := array.NewRecordBuilder(mem, schema.Arrow())
		for _, r := range rows[:n] {
			for c, v := range r {
				switch {
				case v == nil:
					bl.Field(c).AppendNull()
				case c == 0 && stringKey:
					bl.Field(c).(*array.StringBuilder).Append(fmt.Sprint(v))
				default:
					bl.Field(c).(*array.Int64Builder).Append(v.(int64))
				}
			}
		}
		out = append(out, bl.NewRecordBatch())
		bl.Release()
		rows = rows[n:]
		if len(rows) == 0 {
			break
		}
	}
	return out
}

func sideSchema(stringKey bool) types.Schema {
	k := types.BIGINT
	if stringKey {
		k = types.STRING
	}
	return types.Schema{{Name: "k1", Type: k}, {Name: "k2", Type: types.BIGINT}, {Name: "v", Type: types.BIGINT}}
}

func randomSide(rng *rand.Rand, n, keys int) side {
	s := make(side, n)
	val := func() any {
		if rng.Intn(8) == 0 {
			return nil
		}
		return int64(rng.Intn(keys))
	}
	for i := range s {
		s[i] = [3]any{val(), val(), int64(rng.Intn(100))}
	}
	return s
}

// nestedLoop is the reference: every pair, kept when its keys are equal and
// not NULL and the residual (when any) holds.
func nestedLoop(kind Kind, l, r side, nKeys int, residual bool) []string {
	var out []string
	row := func(a, b *[3]any) string {
		var x, y [3]any
		if a != nil {
			x = *a
		}
		if b != nil {
			y = *b
		}
		return fmt.Sprint(x[:], y[:])
	}
	rightMatched := make([]bool, len(r))
	for i := range l {
		matched := false
		for j := range r {
			ok := true
			for k := 0; k < nKeys; k++ {
				if l[i][k] == nil || r[j][k] == nil || l[i][k] != r[j][k] {
					ok = false
				}
			}
			if ok && residual && !(l[i][2].(int64) < r[j][2].(int64)) {
				ok = false
			}
			if ok {
				matched = true
				rightMatched[j] = true
				out = append(out, row(&l[i], &r[j]))
			}
		}
		if !matched && (kind == Left || kind == Full) {
			out = append(out, row(&l[i], nil))
		}
	}
	if kind == Right || kind == Full {
		for j, m := range rightMatched {
			if !m {
				out = append(out, row(nil, &r[j]))
			}
		}
	}
	slices.Sort(out)
	return out
}

func runJoin(t testing.TB, op *Op, mem memory.Allocator, l, r []arrow.RecordBatch) []arrow.RecordBatch {
	lc := make(chan arrow.RecordBatch, len(l))
	rc := make(chan arrow.RecordBatch, len(r))
	for _, b := range l {
		lc <- b
	}
	for _, b := range r {
		rc <- b
	}
	close(lc)
	close(rc)
	out := make(chan arrow.RecordBatch, 1<<16)
	if err := op.Run(context.Background(), mem, lc, rc, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var res []arrow.RecordBatch
	for b := range out {
		res = append(res, b)
	}
	return res
}

func rowsOf(bs []arrow.RecordBatch, stringKey bool) []string {
	var out []string
	for _, b := range bs {
		for i := 0; i < int(b.NumRows()); i++ {
			var vals [6]any
			for c := range vals {
				col := b.Column(c)
				if col.IsNull(i) {
					continue
				}
				switch a := col.(type) {
				case *array.Int64:
					vals[c] = a.Value(i)
				case *array.String:
					var v int64
					fmt.Sscan(a.Value(i), &v)
					vals[c] = v
				}
			}
			out = append(out, fmt.Sprint(vals[:3], vals[3:]))
		}
	}
	slices.Sort(out)
	return out
}

// residualLess keeps pairs whose left v is less than the right v.
func residualLess(mem memory.Allocator, b arrow.RecordBatch) ([]bool, error) {
	l, r := b.Column(2).(*array.Int64), b.Column(5).(*array.Int64)
	keep := make([]bool, b.NumRows())
	for i := range keep {
		keep[i] = l.IsValid(i) && r.IsValid(i) && l.Value(i) < r.Value(i)
	}
	return keep, nil
}

// semiReference keeps the left rows by the rules of IN / EXISTS (Semi),
// NOT EXISTS (Anti) and NOT IN (AntiNull) over keys of nKeys columns.
func semiReference(kind Kind, l, r side, nKeys int) []string {
	var out []string
	rightNull := false
	for j := range r {
		for k := 0; k < nKeys; k++ {
			rightNull = rightNull || r[j][k] == nil
		}
	}
	for i := range l {
		found, leftNull := false, false
		for k := 0; k < nKeys; k++ {
			leftNull = leftNull || l[i][k] == nil
		}
		for j := range r {
			ok := true
			for k := 0; k < nKeys; k++ {
				if l[i][k] == nil || r[j][k] == nil || l[i][k] != r[j][k] {
					ok = false
				}
			}
			found = found || ok
		}
		keep := false
		switch kind {
		case Semi:
			keep = found
		case Anti:
			keep = !found
		case AntiNull:
			keep = len(r) == 0 || (!found && !rightNull && !leftNull)
		}
		if keep {
			var none [3]any
			out = append(out, fmt.Sprint(l[i][:], none[:]))
		}
	}
	slices.Sort(out)
	return out
}

// TestSemiAntiRandom compares the semi and anti joins with their rules
// applied row by row, on random inputs with NULL keys and empty sides.
func TestSemiAntiRandom(t *testing.T) {
	for round := 0; round < 20; round++ {
		rng := rand.New(rand.NewSource(int64(round)))
		for _, kind := range []Kind{Semi, Anti, AntiNull} {
			for nKeys := 0; nKeys <= 2; nKeys++ {
				if kind == AntiNull && nKeys != 1 {
					continue
				}
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				l, r := randomSide(rng, rng.Intn(80), 1+rng.Intn(6)), randomSide(rng, rng.Intn(3)*rng.Intn(40), 1+rng.Intn(6))
				op := &Op{Kind: kind, Schema: sideSchema(false), LeftWidth: 3, RightSchema: sideSchema(false)}
				for k := 0; k < nKeys; k++ {
					op.LeftKeys = append(op.LeftKeys, k)
					op.RightKeys = append(op.RightKeys, k)
				}
				got := runJoin(t, op, mem, batches(mem, l, false, rng), batches(mem, r, false, rng))
				var gotRows []string
				for _, b := range got {
					wide := withBlank(b)
					gotRows = append(gotRows, rowsOf([]arrow.RecordBatch{wide}, false)...)
					wide.Release()
					b.Release()
				}
				slices.Sort(gotRows)
				want := semiReference(kind, l, r, nKeys)
				if !slices.Equal(gotRows, want) {
					t.Fatalf("round %d %s keys=%d (right %d rows):\ngot  %v\nwant %v", round, kind, nKeys, len(r), gotRows, want)
				}
				mem.AssertSize(t, 0)
			}
		}
	}
}

func testRandom(t *testing.T, rounds, maxRows int) {
	for round := 0; round < rounds; round++ {
		rng := rand.New(rand.NewSource(int64(round)))
		for _, kind := range []Kind{Inner, Left, Right, Full} {
			for nKeys := 0; nKeys <= 2; nKeys++ {
				for _, stringKey := range []bool{false, true} {
					for _, residual := range []bool{false, true} {
						mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
						nl, nr := rng.Intn(maxRows+1), rng.Intn(maxRows+1)
						if nKeys == 0 {
							nl, nr = min(nl, 30), min(nr, 30)
						}
						l, r := randomSide(rng, nl, 1+rng.Intn(8)), randomSide(rng, nr, 1+rng.Intn(8))
						schema := append(append(types.Schema{}, sideSchema(stringKey)...), sideSchema(stringKey)...)
						op := &Op{Kind: kind, Schema: schema, LeftWidth: 3}
						for k := 0; k < nKeys; k++ {
							op.LeftKeys = append(op.LeftKeys, k)
							op.RightKeys = append(op.RightKeys, k)
						}
						if residual {
							op.Residual = residualLess
						}
						got := runJoin(t, op, mem, batches(mem, l, stringKey, rng), batches(mem, r, stringKey, rng))
						gotRows := rowsOf(got, stringKey)
						for _, b := range got {
							b.Release()
						}
						want := nestedLoop(kind, l, r, nKeys, residual)
						if !slices.Equal(gotRows, want) {
							t.Fatalf("round %d %s keys=%d string=%v residual=%v: %d rows, want %d\ngot  %v\nwant %v", round, kind, nKeys, stringKey, residual, len(gotRows), len(want), gotRows, want)
						}
						mem.AssertSize(t, 0)
					}
				}
			}
		}
	}
}

// TestRandomAgainstNestedLoop compares the hash join with a nested-loop join
// on random inputs: NULL keys, duplicates on both sides, empty sides, one or
// two keys, integer and string keys, with and without a residual condition.
func TestRandomAgainstNestedLoop(t *testing.T) { testRandom(t, 5, 60) }

// TestRandomAgainstNestedLoopSlow is its larger twin (skipped with -short).
func TestRandomAgainstNestedLoopSlow(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	testRandom(t, 40, 400)
}

// TestCancelReleases checks that a cancelled join releases what it holds.
func TestCancelReleases(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	rng := rand.New(rand.NewSource(1))
	l := batches(mem, randomSide(rng, 500, 3), false, rng)
	r := batches(mem, randomSide(rng, 500, 3), false, rng)
	schema := append(append(types.Schema{}, sideSchema(false)...), sideSchema(false)...)
	op := &Op{Kind: Full, Schema: schema, LeftWidth: 3, LeftKeys: []int{0}, RightKeys: []int{0}}
	ctx, cancel := context.WithCancel(context.Background())
	lc, rc := make(chan arrow.RecordBatch, len(l)), make(chan arrow.RecordBatch, len(r))
	for _, b := range l {
		lc <- b
	}
	for _, b := range r {
		rc <- b
	}
	close(lc)
	close(rc)
	out := make(chan arrow.RecordBatch) // nobody reads: the join blocks until cancelled
	done := make(chan error)
	go func() { done <- op.Run(ctx, mem, lc, rc, out) }()
	cancel()
	if err := <-done; err != nil && err != context.Canceled {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
}
