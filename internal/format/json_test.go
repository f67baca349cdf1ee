package format

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/weir-dev/weir/internal/types"
)

func fmtAny(v any) string { return fmt.Sprintf("%T(%v)", v, v) }

func TestJSONGolden(t *testing.T) {
	for _, std := range []string{"SQL", "ISO-8601"} {
		f := mustOpen(t, "json", allTypes, map[string]string{"json.timestamp-format.standard": std})
		b := batchOf(t, allTypes, allRows)
		defer b.Release()
		recs := encodeAll(t, f, b)
		checkGolden(t, "json-"+std+".golden", append(bytes.Join(recs, []byte("\n")), '\n'))
		got, err := decodeAll(f, allTypes, recs)
		if err != nil {
			t.Fatal(err)
		}
		sameRows(t, rowsOf(got), rowsOf(b))
		got.Release()
	}
}

func TestJSONIgnoreNullFields(t *testing.T) {
	schema := types.Schema{{Name: "a", Type: types.INT}, {Name: "b", Type: types.STRING}}
	f := mustOpen(t, "json", schema, map[string]string{"json.encode.ignore-null-fields": "true"})
	b := batchOf(t, schema, [][]any{{nil, "x"}, {int32(1), nil}, {nil, nil}})
	defer b.Release()
	recs := encodeAll(t, f, b)
	want := []string{`{"b":"x"}`, `{"a":1}`, `{}`}
	for i := range want {
		if string(recs[i]) != want[i] {
			t.Errorf("row %d = %s, want %s", i, recs[i], want[i])
		}
	}
}

func TestJSONDecodeLenient(t *testing.T) {
	schema := types.Schema{{Name: "i", Type: types.INT}, {Name: "b", Type: types.BOOLEAN}, {Name: "s", Type: types.STRING}, {Name: "d", Type: types.DECIMAL(5, 2)}}
	f := mustOpen(t, "json", schema, nil)
	recs := [][]byte{
		[]byte(` {"i":" 7 ","b":"TRUE","s":{"x": [1, 2]},"d":"1.005","extra":1} `),
		[]byte(`{"s":12.50}`),
		nil, // a tombstone is skipped
		[]byte(`{"i":1,"i":2}`),
		[]byte(`{"i":-2.9,"d":123456}`),
	}
	got, err := decodeAll(f, schema, recs)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	want := [][]any{{int32(7), true, `{"x":[1,2]}`, "1.01"}, {nil, nil, "12.50", nil}, {int32(2), nil, nil, nil}, {int32(-2), nil, nil, "<nil>"}}
	rows := rowsOf(got)
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i := range want {
		for j := range want[i] {
			g := rows[i][j]
			if s, ok := want[i][j].(string); ok && j == 3 {
				g = fmt.Sprint(textOf(rows[i][j], schema[j].Type))
				if g != s {
					t.Errorf("row %d col %d = %v, want %v", i, j, g, s)
				}
				continue
			}
			if fmtAny(g) != fmtAny(want[i][j]) {
				t.Errorf("row %d col %d = %s, want %s", i, j, fmtAny(g), fmtAny(want[i][j]))
			}
		}
	}
}

func textOf(v any, t types.T) string {
	if v == nil {
		return "<nil>"
	}
	return string(appendText(nil, v, t, standardSQL))
}

func TestJSONErrors(t *testing.T) {
	schema := types.Schema{{Name: "id", Type: types.BIGINT.WithNullable(false)}, {Name: "name", Type: types.STRING}, {Name: "at", Type: types.TIMESTAMP(3)}}
	// keeps: with json.ignore-parse-errors the row stays, the field NULL
	// (Flink's behaviour for a member that does not convert).
	cases := []struct {
		rec, opt, want string
		keeps          bool
	}{
		{`{"id":1,"name":"x"`, "", "not JSON: unexpected end of JSON input", false},
		{`[1,2]`, "", "a JSON object was expected, not [1,2]", false},
		{`hello`, "", "not JSON: invalid character 'h'", false},
		{`{"id":"x1"}`, "", "field 'id': 'x1' is not a valid BIGINT", false},
		{`{"id":99999999999999999999}`, "", "field 'id': '99999999999999999999' is out of the range of BIGINT", false},
		{`{"id":1e30}`, "", "field 'id': '1e30' is out of the range of BIGINT", false},
		{`{"name":"x"}`, "", "field 'id': NULL (or missing) in a NOT NULL column", false},
		{`{"id":1}`, "fail", "field 'name': missing from the record", false},
		{`{"id":1,"at":"2024-01-01T10:00:00"}`, "", "field 'at': '2024-01-01T10:00:00' is not a valid TIMESTAMP(3)", true},
		{`{"id":1,"at":[1]}`, "", "field 'at': a JSON array cannot be read as TIMESTAMP(3)", true},
	}
	for _, c := range cases {
		opts := map[string]string{}
		if c.opt == "fail" {
			opts["json.fail-on-missing-field"] = "true"
		}
		f := mustOpen(t, "json", schema, opts)
		_, err := decodeAll(f, schema, [][]byte{[]byte(c.rec)})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("decode %s = %v, want an error containing %q", c.rec, err, c.want)
		}
		if _, ok := err.(*RecordError); err != nil && !ok {
			t.Errorf("decode %s: error %T, want *RecordError", c.rec, err)
		}
		// With json.ignore-parse-errors the record is skipped instead.
		if c.opt == "" {
			f := mustOpen(t, "json", schema, map[string]string{"json.ignore-parse-errors": "true"})
			got, err := decodeAll(f, schema, [][]byte{[]byte(c.rec), []byte(`{"id":5}`)})
			if err != nil {
				t.Fatalf("ignore-parse-errors: %v", err)
			}
			want := 1
			if c.keeps {
				want = 2
			}
			if int(got.NumRows()) != want {
				t.Errorf("ignore-parse-errors: decode %s gave %d rows, want %d", c.rec, got.NumRows(), want)
			}
			got.Release()
		}
	}
}

func TestJSONOptionErrors(t *testing.T) {
	schema := types.Schema{{Name: "a", Type: types.INT}}
	for opts, want := range map[string]string{
		"json.ignore-parse-errors=maybe":                                "format option 'json.ignore-parse-errors' = 'maybe': must be 'true' or 'false'",
		"json.timestamp-format.standard=RFC":                            "must be 'SQL' or 'ISO-8601'",
		"json.map-null-key.mode=x":                                      "must be 'FAIL', 'DROP' or 'LITERAL'",
		"json.ignore-parse-errors=true,json.fail-on-missing-field=true": "cannot be set together",
	} {
		m := map[string]string{}
		for _, kv := range strings.Split(opts, ",") {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		_, err := Open("json", schema, func(k string) (string, bool) { v, ok := m[k]; return v, ok })
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(json, %s) = %v, want an error containing %q", opts, err, want)
		}
	}
	if _, err := Open("json", types.Schema{{Name: "a", Type: types.ARRAY(types.INT)}}, nil); err == nil || !strings.Contains(err.Error(), "column 'a' of type ARRAY<INT>") {
		t.Errorf("Open(json, ARRAY column) = %v, want a refusal naming the column", err)
	}
	if _, err := Open("xml", schema, nil); err == nil || !strings.Contains(err.Error(), "unknown format 'xml'; weir's formats are avro, csv, json, raw") {
		t.Errorf("Open(xml) = %v", err)
	}
}

// FuzzJSONDecode checks that no record panics the decoder, and that a record
// that decodes encodes to one that decodes to the same row.
func FuzzJSONDecode(f *testing.F) {
	for _, s := range []string{`{"b":true,"i32":1,"s":"x","ts":"2024-01-01 00:00:00.5","dec":"1.5"}`, `{}`, `[]`, `{"f64":"NaN","bin":"AAE="}`, `{"d":"2024-02-30"}`, `{"t":"25:00:00"}`} {
		f.Add([]byte(s))
	}
	fm := mustOpen(f, "json", allTypes, nil)
	f.Fuzz(func(t *testing.T, rec []byte) { checkRoundTrip(t, fm, rec) })
}

// decodeWith decodes one record with the fast path on or off.
func decodeWith(f *Format, fast bool, rec []byte) ([][]any, error) {
	dec := f.NewDecoder().(*jsonDecoder)
	dec.fast = fast
	b := NewBuilder(allTypes, nil)
	if err := dec.Decode(rec, b); err != nil {
		return nil, err
	}
	out, err := b.Finish()
	if err != nil {
		return nil, err
	}
	defer out.Release()
	return rowsOf(out), nil
}

// FuzzJSONFastSlow checks that the fast path (json_fast.go) and the simple
// path give the same rows and the same errors.
func FuzzJSONFastSlow(f *testing.F) {
	for _, s := range []string{`{"i32":1,"s":"a\"b","f64":1e5}`, ` { "b" : true , "x":[1,{"y":2}], "s":"\u00e9" } `, `{"i32":01}`, `{"s":"a` + "\xff" + `"}`, `{"i64":-0.0}`, `{"s":{"a":1}}`, `{"d":"2024-01-01","d":null}`, `{}x`, `{"a":1,}`} {
		f.Add([]byte(s))
	}
	fm := mustOpen(f, "json", allTypes, nil)
	f.Fuzz(func(t *testing.T, rec []byte) {
		fast, errFast := decodeWith(fm, true, rec)
		slow, errSlow := decodeWith(fm, false, rec)
		if fmt.Sprint(errFast) != fmt.Sprint(errSlow) {
			t.Fatalf("record %q: fast path error %v, simple path error %v", rec, errFast, errSlow)
		}
		if errFast == nil {
			sameRows(t, fast, slow)
		}
	})
}

// TestJSONFastPathTaken: typical records take the fast path; nested values
// and escaped keys go to the simple path.
func TestJSONFastPathTaken(t *testing.T) {
	fm := mustOpen(t, "json", allTypes, nil)
	dec := fm.NewDecoder().(*jsonDecoder)
	for rec, want := range map[string]bool{
		`{"i32":1,"s":"x","f64":-1.5e-3,"b":false,"d":null,"other":"y"}`: true,
		` {} `:                true,
		`{"s":"esc\"aped"}`:   true,
		`{"s":{"nested":1}}`:  false,
		`{"s\u0061":1}`:       false,
		`{"i32":1`:            false,
		`{"i32":1} {"i32":2}`: false,
	} {
		if got := dec.scanFlat([]byte(rec), dec.raw); got != want {
			t.Errorf("scanFlat(%s) = %v, want %v", rec, got, want)
		}
	}
}

// TestJavaDecimal: DECIMAL as Flink's JSON writer prints it (recorded from
// Flink 2.3: 0.00000001 -> 1E-8, 1.00000000 -> 1, 1234.567, -0.005), and
// plain with json.encode.decimal-as-plain-number.
func TestJavaDecimal(t *testing.T) {
	cases := []struct {
		unscaled    int64
		scale       int
		java, plain string
	}{
		{1, 8, "1E-8", "0.00000001"},
		{100000000, 8, "1", "1"},
		{1234567, 3, "1234.567", "1234.567"},
		{-5, 3, "-0.005", "-0.005"},
		{100000, 3, "1E+2", "100"},
		{-1200000, 3, "-1.2E+3", "-1200"},
		{0, 3, "0", "0"},
		{1, 6, "0.000001", "0.000001"},
		{15, 8, "1.5E-7", "0.00000015"},
		{10, 0, "1E+1", "10"},
	}
	for _, c := range cases {
		d := decimal128.FromI64(c.unscaled)
		if got := string(appendJavaDecimal(nil, d, c.scale, false)); got != c.java {
			t.Errorf("%de-%d = %s, want %s", c.unscaled, c.scale, got, c.java)
		}
		if got := string(appendJavaDecimal(nil, d, c.scale, true)); got != c.plain {
			t.Errorf("%de-%d plain = %s, want %s", c.unscaled, c.scale, got, c.plain)
		}
	}
}
