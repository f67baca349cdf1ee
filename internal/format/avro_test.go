package format

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/hamba/avro/v2"

	"github.com/weir-dev/weir/internal/types"
)

func TestAvroGolden(t *testing.T) {
	f := mustOpen(t, "avro", allTypes, nil)
	b := batchOf(t, allTypes, allRows)
	defer b.Release()
	recs := encodeAll(t, f, b)
	var out bytes.Buffer
	out.WriteString(AvroSchema(allTypes) + "\n")
	for _, r := range recs {
		out.WriteString(hex.EncodeToString(r) + "\n")
	}
	checkGolden(t, "avro.golden", out.Bytes())
	got, err := decodeAll(f, allTypes, recs)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	sameRows(t, rowsOf(got), rowsOf(b))
}

// TestAvroAgainstHamba decodes weir's records with an independent Avro
// implementation (hamba/avro) under the schema weir derives, and decodes
// what hamba/avro encodes with weir.
func TestAvroAgainstHamba(t *testing.T) {
	sch, err := avro.Parse(AvroSchema(allTypes))
	if err != nil {
		t.Fatal(err)
	}
	f := mustOpen(t, "avro", allTypes, nil)
	b := batchOf(t, allTypes, allRows)
	defer b.Release()
	recs := encodeAll(t, f, b)
	for i, rec := range recs {
		var m map[string]any
		if err := avro.Unmarshal(sch, rec, &m); err != nil {
			t.Fatalf("row %d: hamba/avro cannot decode weir's record: %v", i, err)
		}
		again, err := avro.Marshal(sch, m)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if !bytes.Equal(again, rec) {
			t.Errorf("row %d: hamba/avro re-encodes %x as %x", i, rec, again)
		}
		// Spot checks of values as hamba/avro reads them.
		want := allRows[i]
		if want[4] != nil && m["i64"] != any(want[4].(int64)) && fmt.Sprint(m["i64"]) != fmt.Sprint(map[string]any{"long": want[4]}) {
			t.Errorf("row %d: i64 = %v, want %v", i, m["i64"], want[4])
		}
		if d, ok := want[7].(decimal128.Num); ok {
			got := fmt.Sprint(m["dec"])
			r := new(big.Rat).SetFrac(d.BigInt(), big.NewInt(1000))
			if !strings.Contains(got, r.String()) {
				t.Errorf("row %d: dec = %s, want %s", i, got, r)
			}
		}
	}
}

func TestAvroErrors(t *testing.T) {
	schema := types.Schema{{Name: "a", Type: types.INT}, {Name: "s", Type: types.STRING.WithNullable(false)}, {Name: "d", Type: types.DECIMAL(4, 2)}}
	f := mustOpen(t, "avro", schema, nil)
	cases := []struct {
		rec  []byte
		want string
	}{
		{[]byte{}, "field 'a': the record ends early"},
		{[]byte{4}, `field 'a': union branch 2 of ["null", int] does not exist`},
		{[]byte{0, 10, 'a'}, "field 's': the record ends early"},
		{[]byte{0, 2, 'a', 0, 0}, "1 bytes are left after the last field"},
		{[]byte{0, 2, 0xff, 0}, "field 's': the string is not UTF-8"},
		{[]byte{0, 0, 2, 4, 0x7f, 0xff}, "field 'd': the unscaled value 32767 does not fit DECIMAL(4, 2)"},
		{[]byte{2, 0x80, 0x80, 0x80, 0x80, 0x20}, "field 'a': 4294967296 is out of the range of INT"},
	}
	for _, c := range cases {
		_, err := decodeAll(f, schema, [][]byte{c.rec})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("decode %x = %v, want an error containing %q", c.rec, err, c.want)
		}
	}
	if _, err := Open("avro", types.Schema{{Name: "t", Type: types.TIMESTAMP(9)}}, nil); err == nil || !strings.Contains(err.Error(), "Avro timestamps hold at most microseconds") {
		t.Errorf("TIMESTAMP(9): %v", err)
	}
	if _, err := twosDecimal(-129); err != nil {
		t.Error(err)
	}
}

// twosDecimal round-trips n through the two's complement encoding.
func twosDecimal(n int64) (int64, error) {
	b := twosComplement(big.NewInt(n))
	if got := fromTwosComplement(b).Int64(); got != n {
		return got, fmt.Errorf("two's complement of %d = %x, read back as %d", n, b, got)
	}
	return n, nil
}

func TestTwosComplement(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 127, 128, -128, -129, 255, 256, -256, 1 << 40, -(1 << 40)} {
		if _, err := twosDecimal(n); err != nil {
			t.Error(err)
		}
	}
}

// FuzzAvroDecode: no record panics the decoder; a decoded row re-encodes
// to the same bytes.
func FuzzAvroDecode(f *testing.F) {
	fm := mustOpen(f, "avro", allTypes, nil)
	b := batchOf(f, allTypes, allRows)
	for _, r := range encodeAll(f, fm, b) {
		f.Add(r)
	}
	b.Release()
	f.Add([]byte{2, 1})
	f.Fuzz(func(t *testing.T, rec []byte) { checkRoundTrip(t, fm, rec) })
}
