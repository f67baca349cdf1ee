package checkpoint

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

var update = flag.Bool("update", false, "rewrite testdata/state-v1.bin")

// goldenValues cover every tag of the state encoding.
var goldenValues = []any{nil, int8(-3), int16(300), int32(-70000), int64(1 << 40), float32(1.5), -2.25, false, true,
	"weir", []byte{0, 1, 2}, decimal128.New(-1, 5), arrow.Date32(19000), arrow.Time32(3600000),
	arrow.Timestamp(1700000000000), []any{int32(1), nil, "x"}, [][2]any{{"k", int64(2)}}, arrow.Time64(5), arrow.Date64(86400000)}

// TestStateEncodingGolden: the encoding of state written by this version
// (testdata/state-v1.bin, documented in docs/CHECKPOINTS.md) does not
// change, so checkpoints written before a change still restore.
func TestStateEncodingGolden(t *testing.T) {
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	e.Header("golden", 1)
	e.Uvarint(300)
	e.Varint(-2)
	e.String("s")
	e.Bool(true)
	e.Float64(0.5)
	for _, v := range goldenValues {
		e.Value(v)
	}
	if e.Err() != nil {
		t.Fatal(e.Err())
	}
	if *update {
		os.WriteFile("testdata/state-v1.bin", buf.Bytes(), 0o644)
	}
	want, err := os.ReadFile("testdata/state-v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("the state encoding changed:\n got %x\nwant %x\n(a change needs a new version and reading the old one)", buf.Bytes(), want)
	}
	d := NewDecoder(bytes.NewReader(want))
	if err := d.Header("golden", 1); err != nil {
		t.Fatal(err)
	}
	if d.Uvarint() != 300 || d.Varint() != -2 || d.String() != "s" || !d.Bool() || d.Float64() != 0.5 {
		t.Fatal("scalars do not read back")
	}
	for i, v := range goldenValues {
		if got := d.Value(); !equalValues(got, v) {
			t.Fatalf("value %d: %#v, want %#v", i, got, v)
		}
	}
}
