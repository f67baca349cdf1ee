package exec

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// evalOne evaluates e over one row of a batch with the string column s
// (NULL when s is nil) and returns the value.
func evalOne(t *testing.T, e expr.Expr, s any) (any, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	b := newBatch(t, mem, types.Schema{{Name: "s", Type: types.STRING}}, []any{s})
	defer b.Release()
	a, err := Eval(mem, e, b)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	return valueAt(a, 0), nil
}

func str(v string) *expr.Literal { return lit(v, types.STRING.NotNull()) }
func num(v int32) *expr.Literal  { return lit(v, types.INT.NotNull()) }

func TestStringKernels(t *testing.T) {
	s := col(0, "s", types.STRING)
	S, I, B := types.STRING, types.INT, types.BOOLEAN
	cases := []struct {
		e    *expr.Call
		in   any
		want any
	}{
		{call("POSITION", I, str("😀"), s), "a😀b😀", int32(2)},
		{call("POSITION", I, str(""), s), "abc", int32(1)},
		{call("POSITION", I, str("x"), s), nil, nil},
		{call("LOCATE", I, str("b"), s, num(3)), "abcb", int32(4)},
		{call("LOCATE", I, str("b"), s, num(0)), "abcb", int32(2)},
		{call("INSTR", I, s, str("テキ")), "日本語テキスト", int32(4)},
		{call("OVERLAY", S, s, str("XY"), num(2), num(3)), "abcdef", "aXYef"},
		{call("OVERLAY", S, s, str("😀"), num(2), num(1)), "日本語", "日😀語"},
		{call("OVERLAY", S, s, str("XY"), num(10)), "abc", "abc"},
		{call("LTRIM", S, s), "  x  ", "x  "},
		{call("RTRIM", S, s, str("x")), "xxaxx", "xxa"},
		{call("LPAD", S, s, num(5), str("ab")), "hi", "abahi"},
		{call("RPAD", S, s, num(6), str("😀")), "hi", "hi😀😀"},
		{call("LPAD", S, s, num(2), str("x")), "hello", "he"},
		{call("LPAD", S, s, num(-1), str("x")), "hi", nil},
		{call("LPAD", S, s, num(3), str("")), "hi", nil},
		{call("REPLACE", S, s, str("l"), str("L")), "hello", "heLLo"},
		{call("REPLACE", S, s, str(""), str("L")), "hi", "LhLiL"},
		{call("REPEAT", S, s, num(3)), "ab", "ababab"},
		{call("REPEAT", S, s, num(-1)), "ab", ""},
		{call("REVERSE", S, s), "a😀b", "b😀a"},
		{call("INITCAP", S, s), "hello wORLD a-b 1x", "Hello World A-B 1x"},
		{call("INITCAP", S, s), "élan vital", "éLan Vital"},
		{call("LEFT", S, s, num(2)), "a😀b", "a😀"},
		{call("RIGHT", S, s, num(2)), "a😀b", "😀b"},
		{call("RIGHT", S, s, num(-1)), "abc", ""},
		{call("CONCAT_WS", S, str(","), s, lit(nil, types.STRING), str("b")), "a", "a,b"},
		{call("CONCAT_WS", S, lit(nil, types.STRING), s), "a", nil},
		{call("SPLIT_INDEX", S, s, str(","), num(1)), "a,b,c", "b"},
		{call("SPLIT_INDEX", S, s, str(","), num(3)), "a,b,c", nil},
		{call("SPLIT_INDEX", S, s, str("::"), num(2)), "a::b::c", "c"},
		{call("ASCII", I, s), "é", int32(-61)},
		{call("ASCII", I, s), "", int32(0)},
		{call("TO_BASE64", S, s), "héllo", "aMOpbGxv"},
		{call("FROM_BASE64", S, s), "aMOpbGxv", "héllo"},
		{call("MD5", types.CHAR(32), s), "abc", "900150983cd24fb0d6963f7d28e17f72"},
		{call("SHA2", types.VARCHAR(128), s, num(1)), "x", "11f6ad8ec52a2984abaafd7c3b516503785c2072"},
		{call("HASH_CODE", I, s), "abc", int32(96354)},
		{call("LIKE", B, s, str("a!%b"), str("!")), "a%b", true},
		{call("LIKE", B, s, str("a!%b"), str("!")), "axb", false},
		{call("LIKE", B, s, str("a_b")), "a😀b", true},
		{call("LIKE", B, s, str("x%y")), "x\ny", true},
		{call("LIKE", B, s, str("x_y")), "x\ny", false},
		{call("SIMILAR", B, s, str("x_y")), "x\ry", false},
		{call("LIKE", B, s, str("(%)")), "(x)", true},
		{call("SIMILAR", B, s, str("a(b|x)c")), "abc", true},
		{call("REGEXP", B, s, str(`\p{Alpha}+\d`)), "ab1", true},
		{call("REGEXP_REPLACE", S, s, str(`(\d+)-(\d+)-(\d+)`), str("$3/$2/$1")), "2020-01-31", "$3/$2/$1"},
		{call("REGEXP_REPLACE", S, s, str(`(`), str("x")), "abc", nil},
		{call("REGEXP_EXTRACT", S, s, str(`[`), num(1)), "abc", nil},
		{call("REGEXP", B, s, str(``)), "abc", false},
		{call("SIMILAR", B, s, str("a.c")), "abc", true},
		{call("OVERLAY", S, s, str("XY"), num(2), num(0)), "abcdef", "aXY"},
		{call("OVERLAY", S, s, str("*"), num(2), num(1)), "a😀b", "a*?b"},
		{call("RPAD", S, s, num(6), str("😀")), "Hello", "Hello?"},
		{call("REPLACE", S, s, str(""), str("x")), "ab", "xaxbx"},
		{call("LOCATE", I, str("b"), s, num(-1)), "abcb", int32(2)},
		{call("SPLIT_INDEX", S, s, str(" "), num(0)), "", nil},
		{call("REGEXP_REPLACE", S, s, str("a*"), str("X")), "aaa", "XX"},
		{call("REGEXP_REPLACE", S, s, str(""), str("-")), "abc", "-a-b-c-"},
		{call("REGEXP_REPLACE", S, s, str(`\s`), str("_")), "a\vb", "a_b"},
		{call("REGEXP_EXTRACT", S, s, str(`([a-z]+)(\d+)`), num(2)), "foo123bar", "123"},
		{call("REGEXP_EXTRACT", S, s, str(`([a-z]+)(\d+)`), num(3)), "foo123bar", nil},
		{call("REGEXP_EXTRACT", S, s, str(`(x)?b`), num(1)), "ab", nil},
	}
	for _, c := range cases {
		got, err := evalOne(t, c.e, c.in)
		if err != nil {
			t.Errorf("%s on %q: %v", c.e, c.in, err)
			continue
		}
		if !sameValue(got, c.want) {
			t.Errorf("%s on %q = %#v, want %#v", c.e, c.in, got, c.want)
		}
	}
}

func TestStringKernelErrors(t *testing.T) {
	s := col(0, "s", types.STRING)
	cases := []struct {
		e    *expr.Call
		want string
	}{
		{call("REGEXP", types.BOOLEAN, s, str(`(ab)\1`)), "backreference"},
		{call("REGEXP_REPLACE", types.STRING, s, str(`a(?=b)`), str("x")), "lookahead"},
		{call("REGEXP_REPLACE", types.STRING, s, str(`a(?<!b)`), str("x")), "lookbehind"},
		{call("REGEXP", types.BOOLEAN, s, str(`a*+`)), "possessive"},
		{call("REGEXP", types.BOOLEAN, s, str(`[a[b]]`)), "class inside"},
		{call("LPAD", types.STRING.NotNull(), s, num(-1), str("x")), "is NOT NULL"},
		{call("LIKE", types.BOOLEAN, s, str("abc!"), str("!")), "ends with the escape"},
		{call("LIKE", types.BOOLEAN, s, str("a!bc"), str("!")), "invalid escape"},
		{call("SHA2", types.VARCHAR(128), s, num(100)), "no 100-bit variant"},
		{call("FROM_BASE64", types.STRING, s), "not base64"},
	}
	for _, c := range cases {
		_, err := evalOne(t, c.e, "!!!")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.e, err, c.want)
		}
	}
}

// TestLikeFastPathMatchesRegexp checks the literal-pieces matcher of
// patterns without _ against the regular expression of the same pattern.
func TestLikeFastPathMatchesRegexp(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	alphabet := []string{"a", "b", "%", "é", "😀", "."}
	word := func(n int, pct bool) string {
		var b strings.Builder
		for range r.Intn(n) {
			c := alphabet[r.Intn(len(alphabet))]
			if c == "%" && !pct {
				continue
			}
			b.WriteString(c)
		}
		return b.String()
	}
	for range 5000 {
		p := word(6, true)
		s := word(8, false)
		m, err := compileLike(p, "")
		if err != nil {
			t.Fatal(err)
		}
		if m.re != nil {
			t.Fatalf("pattern %q without _ compiled to a regular expression", p)
		}
		parts := strings.Split(p, "%")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re := regexp.MustCompile(`^(?s:` + strings.Join(parts, ".*") + `)$`)
		if got, want := m.match(s), re.MatchString(s); got != want {
			t.Fatalf("%q LIKE %q = %v, want %v", s, p, got, want)
		}
	}
}

// TestJavaReplaceMatchesRE2 checks javaReplaceLiteral against RE2's own
// replacement where Java and RE2 agree: patterns that cannot match empty.
func TestJavaReplaceMatchesRE2(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, p := range []string{`a+`, `(a)(b)?`, `[ab]c`, `é+`, `\d`} {
		re := regexp.MustCompile(p)
		for range 500 {
			var b strings.Builder
			for range r.Intn(10) {
				b.WriteString([]string{"a", "b", "c", "é", "1"}[r.Intn(5)])
			}
			s := b.String()
			got := javaReplaceLiteral(re, s, "<$0>")
			if want := re.ReplaceAllLiteralString(s, "<$0>"); got != want {
				t.Fatalf("replace %q in %q = %q, want %q", p, s, got, want)
			}
		}
	}
}

func TestJavaRegex(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{`a\d+`, `a\d+`},
		{`\p{Alpha}`, `[a-zA-Z]`},
		{`[\p{Digit}x]`, `[0-9x]`},
		{`\s`, `[ \t\n\x0B\f\r]`},
		{`\u00e9`, `\x{00e9}`},
		{`(?<y>\d{4})`, `(?P<y>\d{4})`},
		{`(?i)abc`, `(?i)abc`},
		{`[]a]`, `[\]a]`},
		{`\p{L}`, `\p{L}`},
		{`\p{IsAlphabetic}`, `[\p{L}\p{Nl}]`},
		{`\p{IsLatin}`, `\p{Latin}`},
	} {
		got, err := JavaRegex(c.in)
		if err != nil || got != c.out {
			t.Errorf("JavaRegex(%q) = %q, %v; want %q", c.in, got, err, c.out)
		}
	}
}

func TestJSONFunctions(t *testing.T) {
	j := col(0, "j", types.STRING)
	S, B := types.STRING, types.BOOLEAN
	null := lit(nil, types.STRING)
	word := func(w string) *expr.Literal { return str(w) }
	value := func(path string, onEmpty, onError string) *expr.Call {
		return call("JSON_VALUE", S, j, str(path), null, word(onEmpty), null, word(onError), null)
	}
	query := func(path, wrapper string) *expr.Call {
		return call("JSON_QUERY", S, j, str(path), null, word(wrapper), word("NULL"), word("NULL"))
	}
	doc := `{"a": 1, "b": "x", "c": [1, {"d": "é"}], "e": null, "f": {"z": 1, "y": [true]}}`
	cases := []struct {
		e    *expr.Call
		in   any
		want any
	}{
		{value("$.a", "NULL", "NULL"), doc, "1"},
		{value("$.b", "NULL", "NULL"), doc, "x"},
		{value("$.c[1].d", "NULL", "NULL"), doc, "é"},
		{value("$.e", "NULL", "NULL"), doc, nil},
		{value("$.z", "NULL", "NULL"), doc, nil},
		{value("$.f", "NULL", "NULL"), doc, nil},
		{value("$['b']", "NULL", "NULL"), doc, "x"},
		{value("$.a", "NULL", "NULL"), "{bad", nil},
		{query("$.f", "WITHOUT"), doc, `{"z":1,"y":[true]}`},
		{query("$.a", "UNCONDITIONAL"), doc, `[1]`},
		{query("$.c", "CONDITIONAL"), doc, `[1,{"d":"é"}]`},
		{query("$.a", "WITHOUT"), doc, nil},
		{call("JSON_EXISTS", B, j, str("$.c[1]"), word("FALSE")), doc, true},
		{call("JSON_EXISTS", B, j, str("$.c[5]"), word("FALSE")), doc, false},
		{call("JSON_EXISTS", B, j, str("strict $.q"), word("UNKNOWN")), doc, nil},
		{call("IS JSON", B, j, word("OBJECT")), doc, true},
		{call("IS JSON", B, j, word("SCALAR")), `"x"`, true},
		{call("IS JSON", B, j, word("VALUE")), `{`, false},
	}
	for _, c := range cases {
		got, err := evalOne(t, c.e, c.in)
		if err != nil {
			t.Errorf("%s on %q: %v", c.e, c.in, err)
			continue
		}
		if !sameValue(got, c.want) {
			t.Errorf("%s on %q = %#v, want %#v", c.e, c.in, got, c.want)
		}
	}
	// As in Flink, a lax path that finds nothing is NULL even with ERROR ON
	// EMPTY; a strict one fails under ERROR ON ERROR.
	if v, err := evalOne(t, value("$.z", "ERROR", "NULL"), doc); v != nil || err != nil {
		t.Errorf("lax ERROR ON EMPTY = %v, %v; want NULL", v, err)
	}
	if _, err := evalOne(t, value("strict $.z", "NULL", "ERROR"), doc); err == nil || !strings.Contains(err.Error(), "strict") {
		t.Errorf("strict ERROR ON ERROR: error %v", err)
	}
	obj := call("JSON_OBJECT", S, word("NULL"), str("a"), j, str("b"), call("JSON_ARRAY", S, word("ABSENT"), lit(nil, types.INT), num(1)))
	if v, err := evalOne(t, obj, `q"é`); err != nil || v != `{"a":"q\"é","b":[1]}` {
		t.Errorf("JSON_OBJECT = %v, %v", v, err)
	}
	for in, want := range map[string]string{"1e2": "1E+2", "1.5e1": "15", "12": "12", "-2.5E-8": "-2.5E-8", "1e-3": "0.001"} {
		if got := javaDecimalText(in); got != want {
			t.Errorf("javaDecimalText(%s) = %s, want %s", in, got, want)
		}
	}
}

func FuzzJavaRegex(f *testing.F) {
	for _, s := range []string{`a\d+`, `[\p{Alpha}]`, `(?<n>x)\k<n>`, `\u00e9[]a]`, `(?i:a)*+`, `\0101`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		out, err := JavaRegex(p)
		if err != nil {
			return
		}
		_, _ = regexp.Compile(out) // must not panic
	})
}

func FuzzJSONPath(f *testing.F) {
	for _, s := range []string{`$.a[0].b`, `strict $['x y']`, `lax $.*[*]`, `$."q"`, `$[`} {
		f.Add(s, `{"a": [{"b": 1}], "x y": 2}`)
	}
	f.Fuzz(func(t *testing.T, path, doc string) {
		p, err := ParseJSONPath(path)
		if err != nil {
			return
		}
		n, err := parseJSON(doc)
		if err != nil {
			return
		}
		_, _ = p.eval(n)
	})
}

func FuzzLike(f *testing.F) {
	for _, s := range []string{`a%b_`, `%`, `a!%`, `😀_%`} {
		f.Add(s, "a%bc", "!")
	}
	f.Fuzz(func(t *testing.T, pattern, s, esc string) {
		m, err := compileLike(pattern, esc)
		if err != nil {
			return
		}
		m.match(s)
		if sm, err := compileSimilar(pattern, esc); err == nil {
			sm.match(s)
		}
	})
}

func TestCollectionKernels(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	at := types.ARRAY(types.INT)
	mt := types.MAP(types.STRING.NotNull(), types.INT)
	b := newBatch(t, mem, types.Schema{{Name: "a", Type: at}, {Name: "m", Type: mt}},
		[]any{[]any{int32(1), nil, int32(3)}, []any{}, nil},
		[]any{[][2]any{{"x", int32(1)}}, [][2]any{}, nil})
	defer b.Release()
	a, m := col(0, "a", at), col(1, "m", mt)
	I := types.INT
	for _, c := range []struct {
		e    expr.Expr
		want []any
	}{
		{call("ITEM", I, a, num(3)), []any{int32(3), nil, nil}},
		{call("ITEM", I, a, num(4)), []any{nil, nil, nil}},
		{call("ITEM", I, m, str("x")), []any{int32(1), nil, nil}},
		{call("CARDINALITY", I, a), []any{int32(3), int32(0), nil}},
		{call("CARDINALITY", I, m), []any{int32(1), int32(0), nil}},
		{call("ARRAY_CONTAINS", types.BOOLEAN, a, lit(nil, types.INT)), []any{true, false, nil}},
		{call("ARRAY_CONTAINS", types.BOOLEAN, a, num(3)), []any{true, false, nil}},
		{call("CARDINALITY", I, call("ARRAY", types.ARRAY(at), a, a)), []any{int32(2), int32(2), int32(2)}},
		{call("ARRAY_POSITION", I, a, num(3)), []any{int32(3), int32(0), nil}},
		{call("ARRAY_MAX", I, a), []any{int32(3), nil, nil}},
		{call("CARDINALITY", I, call("ARRAY_DISTINCT", at, call("ARRAY_CONCAT", at, a, a))), []any{int32(3), int32(0), nil}},
		{call("ITEM", I, call("ARRAY_SLICE", at, a, num(-1)), num(1)), []any{int32(3), nil, nil}},
		{call("ITEM", I, call("ARRAY_REVERSE", at, a), num(1)), []any{int32(3), nil, nil}},
		{call("ARRAY_JOIN", types.STRING, call("MAP_KEYS", types.ARRAY(types.STRING), m), str(",")), []any{"x", "", nil}},
	} {
		got, err := Eval(mem, c.e, b)
		if err != nil {
			t.Errorf("%s: %v", c.e, err)
			continue
		}
		checkArray(t, got, c.e.Type(), c.want)
		got.Release()
	}
	if _, err := Eval(mem, call("ELEMENT", I, a), b); err == nil || !strings.Contains(err.Error(), "at most one") {
		t.Errorf("ELEMENT of 3 elements: error %v", err)
	}
}
