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

// setReference computes a set operation on rows rendered as strings, by
// counting: UNION ALL keeps m + n copies, INTERSECT ALL min(m, n), EXCEPT
// ALL max(m - n, 0); INTERSECT one copy of rows in both, and EXCEPT (before
// the planner's grouping) every left copy of rows not in the right.
func setReference(kind SetKind, all bool, l, r []string) []string {
	rc := map[string]int{}
	for _, x := range r {
		rc[x]++
	}
	var out []string
	if kind == UnionAll {
		out = append(append(out, l...), r...)
	}
	seen := map[string]bool{}
	for _, x := range l {
		switch {
		case kind == Intersect && all:
			if rc[x] > 0 {
				rc[x]--
				out = append(out, x)
			}
		case kind == Intersect:
			if rc[x] > 0 && !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		case kind == Except && all:
			if rc[x] > 0 {
				rc[x]--
			} else {
				out = append(out, x)
			}
		case kind == Except:
			if rc[x] == 0 {
				out = append(out, x)
			}
		}
	}
	slices.Sort(out)
	return out
}

func sideRows(s side) []string {
	out := make([]string, len(s))
	for i, r := range s {
		out[i] = fmt.Sprint(r[:])
	}
	return out
}

// TestSetOpRandom compares the set operations with counting on random rows
// of three columns with NULLs and many duplicates, including empty inputs.
func TestSetOpRandom(t *testing.T) {
	for round := 0; round < 30; round++ {
		rng := rand.New(rand.NewSource(int64(round)))
		for _, kind := range []SetKind{UnionAll, Intersect, Except} {
			for _, all := range []bool{false, true} {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				l, r := randomSide(rng, rng.Intn(200), 1+rng.Intn(4)), randomSide(rng, rng.Intn(200), 1+rng.Intn(4))
				for i := range l {
					l[i][2] = int64(rng.Intn(2))
				}
				for i := range r {
					r[i][2] = int64(rng.Intn(2))
				}
				op := &SetOp{Kind: kind, All: all, Schema: sideSchema(false)}
				lc, rc := make(chan arrow.RecordBatch, 1000), make(chan arrow.RecordBatch, 1000)
				for _, b := range batches(mem, l, false, rng) {
					lc <- b
				}
				for _, b := range batches(mem, r, false, rng) {
					rc <- b
				}
				close(lc)
				close(rc)
				out := make(chan arrow.RecordBatch, 1000)
				if err := op.Run(context.Background(), mem, lc, rc, out); err != nil {
					t.Fatal(err)
				}
				close(out)
				var got []string
				for b := range out {
					wide := withBlank(b)
					for _, row := range rowsOf([]arrow.RecordBatch{wide}, false) {
						got = append(got, row[:len(row)-len(" [<nil> <nil> <nil>]")])
					}
					wide.Release()
					b.Release()
				}
				slices.Sort(got)
				want := setReference(kind, all, sideRows(l), sideRows(r))
				if !slices.Equal(got, want) {
					t.Fatalf("round %d %s all=%v:\ngot  %v\nwant %v", round, kind, all, got, want)
				}
				mem.AssertSize(t, 0)
			}
		}
	}
}

// withBlank pads b with three NULL columns so that rowsOf (made for joins)
// can render it.
func withBlank(b arrow.RecordBatch) arrow.RecordBatch {
	cols := append([]arrow.Array(nil), b.Columns()...)
	for range 3 {
		cols = append(cols, nullInt64(int(b.NumRows())))
	}
	schema := append(append(types.Schema{}, sideSchema(false)...), sideSchema(false)...)
	rec := arrowRecord(schema, cols, b.NumRows())
	for _, c := range cols[3:] {
		c.Release()
	}
	return rec
}

func nullInt64(n int) arrow.Array {
	return array.MakeArrayOfNull(memory.NewGoAllocator(), arrow.PrimitiveTypes.Int64, n)
}

func arrowRecord(schema types.Schema, cols []arrow.Array, n int64) arrow.RecordBatch {
	return array.NewRecordBatch(schema.Arrow(), cols, n)
}
