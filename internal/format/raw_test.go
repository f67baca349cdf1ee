package format

import (
	"bytes"
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/types"
)

func TestRawGolden(t *testing.T) {
	for _, typ := range []types.T{types.STRING, types.BYTES} {
		schema := types.Schema{{Name: "v", Type: typ}}
		var rows [][]any
		for _, s := range []string{"hello", "", "line\nbreak ü €"} {
			if typ.IsBinary() {
				rows = append(rows, []any{[]byte(s)})
			} else {
				rows = append(rows, []any{s})
			}
		}
		rows = append(rows, []any{nil})
		f := mustOpen(t, "raw", schema, nil)
		b := batchOf(t, schema, rows)
		recs := encodeAll(t, f, b)
		if recs[3] != nil || recs[1] == nil {
			t.Errorf("%s: NULL must be a null record and '' an empty one: got %q and %q", typ, recs[3], recs[1])
		}
		checkGolden(t, "raw.golden", append(bytes.Join(recs, []byte("|")), '\n'))
		got, err := decodeAll(f, schema, recs)
		if err != nil {
			t.Fatal(err)
		}
		sameRows(t, rowsOf(got), rowsOf(b))
		got.Release()
		b.Release()
	}
}

func TestRawErrors(t *testing.T) {
	for schema, want := range map[string]types.Schema{
		"needs a table of exactly one column":      {{Name: "a", Type: types.STRING}, {Name: "b", Type: types.STRING}},
		"weir's raw takes STRING or BYTES columns": {{Name: "a", Type: types.INT}},
	} {
		if _, err := Open("raw", want, nil); err == nil || !strings.Contains(err.Error(), schema) {
			t.Errorf("Open(raw, %v) = %v, want an error containing %q", want, err, schema)
		}
	}
	if _, err := Open("raw", types.Schema{{Name: "a", Type: types.STRING}}, func(k string) (string, bool) { return "latin1", k == "raw.charset" }); err == nil || !strings.Contains(err.Error(), "weir supports only 'UTF-8'") {
		t.Errorf("raw.charset latin1: %v", err)
	}
	notNull := types.Schema{{Name: "a", Type: types.STRING.WithNullable(false)}}
	if _, err := decodeAll(mustOpen(t, "raw", notNull, nil), notNull, [][]byte{nil}); err == nil || !strings.Contains(err.Error(), "field 'a': NULL") {
		t.Errorf("a null record for a NOT NULL column: %v", err)
	}
}

// FuzzRawDecode: every record decodes, and encodes back to itself (valid
// UTF-8 for STRING).
func FuzzRawDecode(f *testing.F) {
	f.Add([]byte("x"), true)
	f.Add([]byte{0xff, 0}, false)
	f.Fuzz(func(t *testing.T, rec []byte, text bool) {
		typ := types.BYTES
		if text {
			typ = types.STRING
		}
		schema := types.Schema{{Name: "v", Type: typ}}
		fm := mustOpen(t, "raw", schema, nil)
		got, err := decodeAll(fm, schema, [][]byte{rec})
		if err != nil {
			t.Fatal(err)
		}
		defer got.Release()
		back := encodeAll(t, fm, got)[0]
		if want := string(rec); text && !strings.Contains(want, "\ufffd") && string(back) != strings.ToValidUTF8(want, "\ufffd") || !text && string(back) != want {
			t.Fatalf("raw %q decoded and encoded back as %q", rec, back)
		}
	})
}
