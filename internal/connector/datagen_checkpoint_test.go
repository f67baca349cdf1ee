package connector

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// rowsOf reads src to its end (or max rows) as printed rows.
func rowsOf(t *testing.T, src exec.Source, max int) []string {
	t.Helper()
	var out []string
	for len(out) < max {
		b, err := src.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for r := 0; r < int(b.NumRows()); r++ {
			row := ""
			for c := 0; c < int(b.NumCols()); c++ {
				row += fmt.Sprintf("%v|", exec.ValueAt(b.Column(c), r))
			}
			out = append(out, row)
		}
		b.Release()
	}
	return out
}

// TestDatagenSeek: a datagen source resumed at a checkpoint's position
// gives the rows an uninterrupted run gives after it, for random positions.
func TestDatagenSeek(t *testing.T) {
	schema := types.Schema{{Name: "id", Type: types.BIGINT}, {Name: "r", Type: types.INT}, {Name: "s", Type: types.STRING}, {Name: "d", Type: types.DOUBLE}}
	opts := map[string]string{"connector": "datagen", "number-of-rows": "5000",
		"fields.id.kind": "sequence", "fields.id.start": "1", "fields.id.end": "100000",
		"fields.r.null-rate": "0.2", "fields.s.length": "5"}
	mem := memory.NewGoAllocator()
	open := func() exec.Source {
		src, err := OpenSource("src", schema, opts, 97, mem)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	all := rowsOf(t, open(), 1<<30)
	if len(all) != 5000 {
		t.Fatalf("%d rows", len(all))
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 10; i++ {
		first := open()
		head := rowsOf(t, first, r.IntN(5100))
		pos, err := first.(checkpoint.Source).Position()
		if err != nil {
			t.Fatal(err)
		}
		again := open()
		if err := again.(checkpoint.Source).Seek(pos); err != nil {
			t.Fatal(err)
		}
		tail := rowsOf(t, again, 1<<30)
		got := append(head, tail...)
		if len(got) != len(all) {
			t.Fatalf("resumed after %d rows: %d rows in all, want %d", len(head), len(got), len(all))
		}
		for k := range all {
			if got[k] != all[k] {
				t.Fatalf("resumed after %d rows: row %d is %s, want %s", len(head), k, got[k], all[k])
			}
		}
	}
	if err := open().(checkpoint.Source).Seek([]byte{0xff}); err == nil {
		t.Error("a bad position was accepted")
	}
}
