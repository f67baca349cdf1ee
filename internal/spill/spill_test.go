package spill

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func batch(mem memory.Allocator, keys []int64, strs []string) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	kb := array.NewInt64Builder(mem)
	sb := array.NewStringBuilder(mem)
	for i, k := range keys {
		if k < 0 {
			kb.AppendNull()
		} else {
			kb.Append(k)
		}
		sb.Append(strs[i])
	}
	ka, sa := kb.NewArray(), sb.NewArray()
	kb.Release()
	sb.Release()
	defer ka.Release()
	defer sa.Release()
	return array.NewRecordBatch(schema, []arrow.Array{ka, sa}, int64(len(keys)))
}

// TestPartitions splits random rows into partitions and reads them back:
// every row comes back once, in input order within its partition, and equal
// keys share a partition.
func TestPartitions(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := New(1 << 20)
	defer b.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	empty := batch(mem, nil, nil)
	p := b.NewPartitions("test", empty.Schema(), []int{0, 1}, 7, 5, mem)
	empty.Release()
	var rows int
	for range 10 {
		n := rng.IntN(2000)
		keys := make([]int64, n)
		strs := make([]string, n)
		for i := range keys {
			keys[i] = rng.Int64N(50) - 5 // some NULLs (negative)
			strs[i] = string(rune('a' + rng.IntN(3)))
		}
		rec := batch(mem, keys, strs)
		if err := p.Add(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		rows += n
	}
	files, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	where := map[string]int{}
	got := 0
	for q, f := range files {
		if f == nil {
			continue
		}
		err := ReadAll(f, mem, func(rec arrow.RecordBatch) error {
			defer rec.Release()
			k := rec.Column(0).(*array.Int64)
			s := rec.Column(1).(*array.String)
			for i := 0; i < int(rec.NumRows()); i++ {
				key := s.Value(i)
				if k.IsNull(i) {
					key += "/null"
				} else {
					key += "/" + string(rune('0'+k.Value(i)))
				}
				if w, ok := where[key]; ok && w != q {
					t.Errorf("key %q in partitions %d and %d", key, w, q)
				}
				where[key] = q
				got++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(f.path); !os.IsNotExist(err) {
			t.Errorf("partition file %s left after ReadAll", f.path)
		}
	}
	if got != rows {
		t.Errorf("read %d rows back, wrote %d", got, rows)
	}
	if len(where) < 10 {
		t.Errorf("only %d distinct keys", len(where))
	}
}

// TestCloseRemovesDirectory checks that a budget's Close removes its files.
func TestCloseRemovesDirectory(t *testing.T) {
	b := New(1 << 20)
	mem := memory.NewGoAllocator()
	rec := batch(mem, []int64{1, 2}, []string{"x", "y"})
	defer rec.Release()
	w, err := b.Share(3).Create("x", rec.Schema())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	f, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.path); !os.IsNotExist(err) {
		t.Errorf("%s still there after Close", f.path)
	}
	if _, err := b.Create("y", rec.Schema()); err == nil {
		t.Errorf("Create after Close succeeded")
	}
}
