package changelog

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestKindStrings(t *testing.T) {
	for k := Insert; k <= Delete; k++ {
		got, err := Parse(k.String())
		if err != nil || got != k {
			t.Errorf("Parse(%s) = %v, %v", k, got, err)
		}
	}
	if _, err := Parse("+X"); err == nil {
		t.Error("Parse(+X): no error")
	}
	if !Insert.Accumulates() || !UpdateAfter.Accumulates() || UpdateBefore.Accumulates() || Delete.Accumulates() {
		t.Error("Accumulates: +I and +U add, -U and -D take back")
	}
}

// TestKindsColumn: a batch without the column is insert-only; with it, the
// kinds are read from its last column.
func TestKindsColumn(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ib := array.NewInt32Builder(mem)
	ib.AppendValues([]int32{7, 8}, nil)
	vals := ib.NewArray()
	ib.Release()
	defer vals.Release()
	plain := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int32}}, nil), []arrow.Array{vals}, 2)
	defer plain.Release()
	if Kinds(plain) != nil || Data(plain) != 1 || At(nil, 1) != Insert {
		t.Error("a batch without the row-kind column is not insert-only")
	}
	kb := array.NewInt8Builder(mem)
	kb.AppendValues([]int8{int8(UpdateBefore), int8(UpdateAfter)}, nil)
	kinds := kb.NewArray()
	kb.Release()
	defer kinds.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int32}, {Name: RowKindColumn, Type: arrow.PrimitiveTypes.Int8}}, nil)
	changes := array.NewRecordBatch(schema, []arrow.Array{vals, kinds}, 2)
	defer changes.Release()
	k := Kinds(changes)
	if k == nil || Data(changes) != 1 || At(k, 0) != UpdateBefore || At(k, 1) != UpdateAfter {
		t.Errorf("kinds of a changelog batch: %v", k)
	}
}

// TestMaterializer applies changes and keeps first-insertion order, counts
// duplicates, and refuses taking back a row that is not there.
func TestMaterializer(t *testing.T) {
	var m Materializer[string]
	steps := []struct {
		k   Kind
		row string
	}{{Insert, "a"}, {Insert, "b"}, {Insert, "a"}, {UpdateBefore, "b"}, {UpdateAfter, "c"}, {Delete, "a"}, {Insert, "b"}}
	for _, s := range steps {
		if err := m.Apply(s.k, s.row, s.row); err != nil {
			t.Fatal(err)
		}
	}
	if got := fmt.Sprint(m.Rows()); got != "[a b c]" || m.Len() != 3 {
		t.Errorf("rows %s (%d distinct), want [a b c] (3)", got, m.Len())
	}
	if err := m.Apply(Delete, "z", "z"); err == nil {
		t.Error("taking back a row never added: no error")
	}
}
