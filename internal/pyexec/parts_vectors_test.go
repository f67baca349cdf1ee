package pyexec

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/coder"
	"github.com/weir-dev/weir/internal/types"
	"github.com/weir-dev/weir/internal/weirpb"
)

// TestPartsVectors joins the parts that the Python operations send for the
// cases of testdata/parts/vectors.json (written and checked by
// python/tests/test_large.py) back into the rows listed there.
func TestPartsVectors(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/parts/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Name   string
			Kind   string
			Inputs []int64
			Parts  []string
			Rows   json.RawMessage
		}
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) < 2 {
		t.Fatalf("%d cases", len(file.Cases))
	}
	p := &Pool{}
	rnd := rand.New(rand.NewSource(1))
	for _, c := range file.Cases {
		// The parts as the harness sends them: elements, cut into chunks anywhere.
		var out []byte
		for _, h := range c.Parts {
			v, err := hex.DecodeString(h)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, element(v)...)
		}
		var chunks [][]byte
		for len(out) > 0 {
			k := min(len(out), 1+rnd.Intn(3000))
			chunks = append(chunks, out[:k])
			out = out[k:]
		}
		values, err := splitChunks(chunks)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		groups, err := groupParts(values)
		if err != nil || len(groups) != 1 || len(groups[0]) != len(c.Parts) {
			t.Fatalf("%s: %d groups, %v; want one of %d parts", c.Name, len(groups), err, len(c.Parts))
		}
		rec := inputBatch(len(c.Inputs))
		var got, want []string
		switch c.Kind {
		case "scalar":
			var rows [][]string
			if err := json.Unmarshal(c.Rows, &rows); err != nil {
				t.Fatal(err)
			}
			for i, r := range rows {
				want = append(want, fmt.Sprintf("%d:%s", i, r[0]))
			}
			s := largeStage(weirpb.Stage_SCALAR, false)
			dec := coder.NewDecoder(memory.DefaultAllocator, s.Results.Types())
			got, _ = collectRows(t, func(send func(arrow.RecordBatch) error) error {
				return p.joinScalar(s, dec, rec, groups[0], send)
			})
			dec.Release()
		case "table":
			var rows [][][2]any
			if err := json.Unmarshal(c.Rows, &rows); err != nil {
				t.Fatal(err)
			}
			for i, rs := range rows {
				for _, r := range rs {
					want = append(want, fmt.Sprintf("%d:%v:%s", i, r[0], r[1]))
				}
			}
			s := &Stage{
				Spec:    &weirpb.Stage{Name: "T", Kind: weirpb.Stage_TABLE},
				Forward: []int{0},
				Results: types.Schema{{Name: "i", Type: types.INT}, {Name: "s", Type: types.STRING}},
				Output:  types.Schema{{Name: "a", Type: types.BIGINT.NotNull()}, {Name: "i", Type: types.INT}, {Name: "s", Type: types.STRING}},
			}
			dec := coder.NewDecoder(memory.DefaultAllocator, s.Results.Types())
			err := p.joinTable(s, memory.DefaultAllocator, dec, rec, groups[0], func(b arrow.RecordBatch) error {
				defer b.Release()
				a, i, str := b.Column(0).(*array.Int64), b.Column(1).(*array.Int32), b.Column(2).(*array.String)
				for r := 0; r < int(b.NumRows()); r++ {
					got = append(got, fmt.Sprintf("%d:%d:%s", a.Value(r), i.Value(r), str.Value(r)))
				}
				return nil
			})
			dec.Release()
			if err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
		default:
			t.Fatalf("%s: kind %q", c.Name, c.Kind)
		}
		rec.Release()
		if len(want) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: rows differ: got %d rows, want %d", c.Name, len(got), len(want))
		}
	}
}
