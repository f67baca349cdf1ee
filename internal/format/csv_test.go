package format

import (
	"bytes"
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/types"
)

func TestCSVGolden(t *testing.T) {
	f := mustOpen(t, "csv", allTypes, nil)
	b := batchOf(t, allTypes, allRows)
	defer b.Release()
	recs := encodeAll(t, f, b)
	checkGolden(t, "csv.golden", append(bytes.Join(recs, []byte("\n")), '\n'))
	// An empty field of a non-string column does not read (as in Flink):
	// the rows with NULLs round-trip through a null literal.
	f = mustOpen(t, "csv", allTypes, map[string]string{"csv.null-literal": `\N`})
	recs = encodeAll(t, f, b)
	got, err := decodeAll(f, allTypes, recs)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	sameRows(t, rowsOf(got), rowsOf(b))
}

func TestCSVOptions(t *testing.T) {
	schema := types.Schema{{Name: "a", Type: types.STRING}, {Name: "b", Type: types.INT}}
	cases := []struct {
		opts map[string]string
		row  []any
		rec  string
	}{
		{map[string]string{"csv.field-delimiter": "|"}, []any{"x|y", int32(1)}, `"x|y"|1`},
		{map[string]string{"csv.null-literal": "N/A"}, []any{nil, nil}, `N/A,N/A`},
		{map[string]string{"csv.null-literal": "N/A"}, []any{"", int32(2)}, `"",2`},
		{map[string]string{"csv.quote-character": "'"}, []any{"it's, here", int32(3)}, `'it''s, here',3`},
		{map[string]string{"csv.disable-quote-character": "true"}, []any{`say "hi"`, int32(4)}, `say "hi",4`},
		{map[string]string{"csv.escape-character": "\\"}, []any{`a\b`, int32(5)}, `"a\\b",5`},
		{nil, []any{"", int32(6)}, `"",6`},
		{nil, []any{nil, int32(7)}, `,7`},
	}
	for _, c := range cases {
		f := mustOpen(t, "csv", schema, c.opts)
		b := batchOf(t, schema, [][]any{c.row})
		rec := encodeAll(t, f, b)[0]
		b.Release()
		if string(rec) != c.rec {
			t.Errorf("%v: encode %v = %s, want %s", c.opts, c.row, rec, c.rec)
		}
		got, err := decodeAll(f, schema, [][]byte{rec})
		if err != nil {
			t.Errorf("%v: decode %s: %v", c.opts, rec, err)
			continue
		}
		sameRows(t, rowsOf(got), [][]any{c.row})
		got.Release()
	}
}

func TestCSVErrors(t *testing.T) {
	schema := types.Schema{{Name: "a", Type: types.STRING}, {Name: "n", Type: types.INT.WithNullable(false)}}
	cases := []struct{ rec, want string }{
		{`x,1,2`, "the record has 3 fields, the table has 2 columns"},
		{`x`, "the record has 1 fields, the table has 2 columns"},
		{`"x,1`, "field 1: quoted field is not closed"},
		{`"x"y,1`, `field 1: unexpected 'y' after a quoted field`},
		{`x,abc`, "field 'n': 'abc' is not a valid INT"},
		{`x,`, "field 'n': empty field in a column of type INT"},
		{`x,""`, "field 'n': empty field in a column of type INT"},
		{"x,\xff", "the record is not UTF-8 text"},
	}
	f := mustOpen(t, "csv", schema, nil)
	skip := mustOpen(t, "csv", schema, map[string]string{"csv.ignore-parse-errors": "true"})
	for _, c := range cases {
		_, err := decodeAll(f, schema, [][]byte{[]byte(c.rec)})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("decode %q = %v, want an error containing %q", c.rec, err, c.want)
		}
		got, err := decodeAll(skip, schema, [][]byte{[]byte(c.rec), []byte("ok,1")})
		if err != nil || got.NumRows() != 1 {
			t.Errorf("ignore-parse-errors: decode %q: %v", c.rec, err)
		}
		if got != nil {
			got.Release()
		}
	}
}

// FuzzCSVDecode: no record panics the decoder; a decoded row re-encodes to
// a record that decodes to the same row.
func FuzzCSVDecode(f *testing.F) {
	for _, s := range []string{`true,1,2,3,4,1.5,2.5,1.25,"a,b",AAE=,2024-01-01,10:00:00,2024-01-01 10:00:00.5,2024-01-01 10:00:00.123456,2024-01-01 10:00:00Z`, `,,,,,,,,,,,,,,`, `"",,,,,,,,"x""y",,,,,,`} {
		f.Add([]byte(s))
	}
	fm := mustOpen(f, "csv", allTypes, nil)
	f.Fuzz(func(t *testing.T, rec []byte) { checkRoundTrip(t, fm, rec) })
}
