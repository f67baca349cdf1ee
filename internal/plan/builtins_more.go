package plan

import (
	"unicode/utf8"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// The typing of the string, regular-expression, hash, JSON and collection
// functions of Flink's catalog that the Go engine evaluates (internal/exec's
// strings_more.go, like.go, hash.go, json.go and collections.go). Result
// types follow Flink 2.3's as recorded in the conformance corpus: some
// functions are NULL exactly when an argument is (nullableIfArgs), others
// may give NULL for any input (always nullable: REVERSE, LEFT, RIGHT,
// SPLIT_INDEX, REGEXP_EXTRACT, CHR).

func init() {
	s, i := argString, argInt
	add := func(name string, args []argKind, optional int, result func(args []expr.Expr) types.T, always bool) {
		builtins[name] = typed(args, optional, result, always)
	}
	str := func([]expr.Expr) types.T { return types.STRING }
	integer := func([]expr.Expr) types.T { return types.INT }
	boolean := func([]expr.Expr) types.T { return types.BOOLEAN }
	varyingOfFirst := func(args []expr.Expr) types.T {
		if t := args[0].Type(); t.IsString() && t.Length < types.MaxLength {
			return types.VARCHAR(t.Length)
		}
		return types.STRING
	}
	add("POSITION", []argKind{s, s}, 0, integer, false)
	add("LOCATE", []argKind{s, s, i}, 1, integer, false)
	add("INSTR", []argKind{s, s}, 0, integer, false)
	add("OVERLAY", []argKind{s, s, i, i}, 1, func(args []expr.Expr) types.T {
		return varying(concatType(args[0].Type(), args[1].Type()))
	}, false)
	add("LTRIM", []argKind{s, s}, 1, varyingOfFirst, false)
	add("RTRIM", []argKind{s, s}, 1, varyingOfFirst, false)
	add("LPAD", []argKind{s, i, s}, 0, str, false)
	add("RPAD", []argKind{s, i, s}, 0, str, false)
	add("REPLACE", []argKind{s, s, s}, 0, str, false)
	add("REPEAT", []argKind{s, i}, 0, str, false)
	add("REVERSE", []argKind{s}, 0, str, true)
	add("INITCAP", []argKind{s}, 0, func(args []expr.Expr) types.T {
		if t := args[0].Type(); t.IsString() {
			return t
		}
		return types.STRING
	}, false)
	add("LEFT", []argKind{s, i}, 0, varyingOfFirst, true)
	add("RIGHT", []argKind{s, i}, 0, varyingOfFirst, true)
	builtins["CONCAT_WS"] = typed([]argKind{s, s, argRest}, 1, str, false)
	add("SPLIT_INDEX", []argKind{s, s, i}, 0, str, true)
	add("ASCII", []argKind{s}, 0, integer, false)
	add("CHR", []argKind{i}, 0, str, true)
	add("ENCODE", []argKind{s, s}, 0, func([]expr.Expr) types.T { return types.BYTES }, false)
	add("DECODE", []argKind{argBinary, s}, 0, str, false)
	add("TO_BASE64", []argKind{s}, 0, str, false)
	add("FROM_BASE64", []argKind{s}, 0, str, false)
	add("LIKE", []argKind{s, s, s}, 1, boolean, false)
	add("SIMILAR", []argKind{s, s, s}, 1, boolean, false)
	add("REGEXP", []argKind{s, s}, 0, boolean, false)
	add("REGEXP_REPLACE", []argKind{s, s, s}, 0, str, false)
	add("REGEXP_EXTRACT", []argKind{s, s, i}, 1, str, true)
	hexOf := func(n int) func([]expr.Expr) types.T {
		return func([]expr.Expr) types.T { return types.CHAR(n) }
	}
	for name, n := range map[string]int{"MD5": 32, "SHA1": 40, "SHA224": 56, "SHA256": 64, "SHA384": 96, "SHA512": 128} {
		add(name, []argKind{argStringOrBinary}, 0, hexOf(n), false)
	}
	add("HASH_CODE", []argKind{s}, 0, integer, false)
	add("SHA2", []argKind{argStringOrBinary, i}, 0, func([]expr.Expr) types.T { return types.VARCHAR(128) }, false)
}

// argKind is what a built-in function accepts as an argument.
type argKind int

const (
	argString argKind = iota
	argInt
	argStringOrBinary
	argBinary
	argRest // any number of strings
)

func (k argKind) accepts(t types.T) bool {
	if t.Kind == types.Null {
		return true
	}
	switch k {
	case argString, argRest:
		return t.IsString()
	case argInt:
		return t.IsInteger()
	case argStringOrBinary:
		return t.IsString() || t.IsBinary()
	case argBinary:
		return t.IsBinary()
	}
	return false
}

func (k argKind) String() string {
	switch k {
	case argInt:
		return "an integer"
	case argStringOrBinary:
		return "a string or binary string"
	case argBinary:
		return "a binary string"
	}
	return "a string"
}

// typed types a function of the argument kinds kinds, the last optional of
// them optional (an argRest last takes any number): its result is result's,
// nullable when always is set or an argument is nullable.
func typed(kinds []argKind, optional int, result func([]expr.Expr) types.T, always bool) func(sql.Pos, []expr.Expr) (types.T, error) {
	return func(at sql.Pos, args []expr.Expr) (types.T, error) {
		rest := len(kinds) > 0 && kinds[len(kinds)-1] == argRest
		fixed := len(kinds)
		if rest {
			fixed--
		}
		if len(args) < fixed-optional || (!rest && len(args) > fixed) {
			want := fixed
			if optional > 0 {
				return types.T{}, errAt(at, "takes %d to %d arguments, got %d", fixed-optional, fixed, len(args))
			}
			return types.T{}, errAt(at, "takes %d argument(s), got %d", want, len(args))
		}
		nullable := always
		for k, a := range args {
			kind := argRest
			if k < len(kinds) {
				kind = kinds[k]
			}
			if !kind.accepts(a.Type()) {
				return types.T{}, errAt(at, "argument %d must be %s, got %s", k+1, kind, a.Type())
			}
			nullable = nullable || a.Type().Nullable
		}
		return result(args).WithNullable(nullable), nil
	}
}

// varying is the VARCHAR of a CHAR's length (other types as they are).
func varying(t types.T) types.T {
	if t.Kind == types.Char {
		return types.VARCHAR(t.Length).WithNullable(t.Nullable)
	}
	return t
}

// like binds x [NOT] LIKE pattern [ESCAPE e] and x [NOT] SIMILAR TO
// pattern [ESCAPE e] as the calls LIKE and SIMILAR.
func (b *binder) like(e *sql.Like) (expr.Expr, error) {
	args := []expr.Expr{}
	for _, a := range []sql.Expr{e.X, e.Pattern, e.Escape} {
		if a == nil {
			continue
		}
		x, err := b.bind(a)
		if err != nil {
			return nil, err
		}
		args = append(args, x)
	}
	name, op := "LIKE", "LIKE"
	if e.Similar {
		name, op = "SIMILAR", "SIMILAR TO"
	}
	t, err := builtins[name](e.At, args)
	if err != nil {
		if se, ok := err.(*sql.Error); ok {
			se.Msg = op + ": " + se.Msg
		}
		return nil, err
	}
	if lit, ok := e.Escape.(*sql.Literal); ok && lit.Kind == sql.LitString && utf8.RuneCountInString(lit.Text) != 1 {
		return nil, errAt(lit.At, "%s: the ESCAPE character must be one character, got '%s'", op, lit.Text)
	}
	var out expr.Expr = &expr.Call{Name: name, Args: args, T: t}
	if e.Not {
		out = &expr.Call{Name: "NOT", Args: []expr.Expr{out}, T: t}
	}
	return out, nil
}

// distinctFrom binds l IS [NOT] DISTINCT FROM r: a comparison where NULL
// equals NULL and differs from every value, never NULL itself.
func distinctFrom(at sql.Pos, not bool, l, r expr.Expr) (expr.Expr, error) {
	ne, err := binary(at, "<>", l, r)
	if err != nil {
		return nil, err
	}
	t := types.BOOLEAN.NotNull()
	isNull := func(x expr.Expr) expr.Expr { return &expr.Call{Name: "IS NULL", Args: []expr.Expr{x}, T: t} }
	notNull := func(x expr.Expr) expr.Expr { return &expr.Call{Name: "IS NOT NULL", Args: []expr.Expr{x}, T: t} }
	// CASE WHEN l IS NULL THEN r IS NOT NULL WHEN r IS NULL THEN TRUE ELSE l <> r END
	out := expr.Expr(&expr.Case{Whens: []expr.When{
		{Cond: isNull(l), Result: notNull(r)},
		{Cond: isNull(r), Result: &expr.Literal{Value: true, T: t}},
	}, Else: ne, T: t})
	if not {
		out = &expr.Call{Name: "NOT", Args: []expr.Expr{out}, T: t}
	}
	return out, nil
}

func init() {
	// JSON_VALUE(j, path, CAST(NULL AS returning), onEmpty, emptyDefault,
	// onError, errorDefault); see internal/sql's json.go.
	builtins["JSON_VALUE"] = func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if err := jsonArgs(at, args, 7); err != nil {
			return types.T{}, err
		}
		t := args[2].Type()
		switch {
		case t.IsString(), t.Kind == types.Int, t.Kind == types.Double, t.Kind == types.Boolean:
		default:
			// Flink 2.3 refuses the other types too.
			return types.T{}, errAt(at, "RETURNING %s is not supported, as in Flink; return STRING, INT, DOUBLE or BOOLEAN and CAST the result", t)
		}
		for _, k := range []int{4, 6} {
			if d := args[k].Type(); d.Kind != types.Null && !castable(d, t) {
				return types.T{}, errAt(at, "the DEFAULT value of type %s cannot be converted to the RETURNING type %s", d, t)
			}
		}
		return t.WithNullable(true), nil
	}
	builtins["JSON_QUERY"] = func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if err := jsonArgs(at, args, 6); err != nil {
			return types.T{}, err
		}
		if t := args[2].Type(); !t.IsString() {
			return types.T{}, errAt(at, "RETURNING %s is not supported by weir; JSON_QUERY returns STRING", t)
		}
		return types.STRING, nil
	}
	builtins["JSON_EXISTS"] = func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if err := jsonArgs(at, args, 3); err != nil {
			return types.T{}, err
		}
		return types.BOOLEAN, nil // nullable, as in Flink
	}
	// JSON_OBJECT(onNull, k1, v1, ...) and JSON_ARRAY(onNull, v1, ...).
	builtins["JSON_OBJECT"] = func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if len(args) > 0 && len(args)%2 != 1 {
			return types.T{}, errAt(at, "needs KEY k VALUE v pairs")
		}
		for k := 1; k < len(args); k += 2 {
			if !argString.accepts(args[k].Type()) || args[k].Type().Kind == types.Null {
				return types.T{}, errAt(at, "a key must be a string, got %s", args[k].Type())
			}
		}
		return types.STRING.NotNull(), jsonValues(at, args, 2)
	}
	builtins["JSON_ARRAY"] = func(at sql.Pos, args []expr.Expr) (types.T, error) {
		return types.STRING.NotNull(), jsonValues(at, args, 1)
	}
	builtins["JSON_STRING"] = func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if len(args) != 1 {
			return types.T{}, errAt(at, "takes one value")
		}
		return types.STRING.WithNullable(args[0].Type().Nullable), jsonValues(at, append([]expr.Expr{nil}, args...), 1)
	}
	builtins["IS JSON"] = func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if len(args) != 2 || !argString.accepts(args[0].Type()) {
			return types.T{}, errAt(at, "IS JSON needs a string")
		}
		return types.BOOLEAN.NotNull(), nil
	}
}

// jsonArgs checks a JSON function's input and path: strings, the path a
// constant that parses.
func jsonArgs(at sql.Pos, args []expr.Expr, n int) error {
	if len(args) != n {
		return errAt(at, "takes a JSON string and a path")
	}
	for k, what := range []string{"the JSON input", "the JSON path"} {
		if !argString.accepts(args[k].Type()) {
			return errAt(at, "%s must be a string, got %s", what, args[k].Type())
		}
	}
	if lit, ok := args[1].(*expr.Literal); ok && lit.Value != nil {
		if _, err := exec.ParseJSONPath(lit.Value.(string)); err != nil {
			return errAt(at, "%v", err)
		}
	}
	return nil
}

// jsonValues checks the values JSON_OBJECT, JSON_ARRAY and JSON_STRING
// write: every step-th argument from 1 on.
func jsonValues(at sql.Pos, args []expr.Expr, step int) error {
	for k := step; k < len(args); k += step {
		t := args[k].Type()
		switch {
		case t.Kind == types.Null, t.IsString(), t.IsNumeric(), t.Kind == types.Boolean:
		default:
			return errAt(at, "weir writes strings, numbers and BOOLEANs as JSON values, not %s; CAST the value to STRING", t)
		}
	}
	return nil
}

func init() {
	// ITEM(x, i) is x[i] (internal/sql's json.go).
	builtins["ITEM"] = func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if len(args) != 2 {
			return types.T{}, errAt(at, "[] takes one index")
		}
		x, i := args[0].Type(), args[1].Type()
		switch x.Kind {
		case types.Array:
			if !i.IsInteger() && i.Kind != types.Null {
				return types.T{}, errAt(at, "an ARRAY index must be an integer, got %s", i)
			}
			if lit, ok := args[1].(*expr.Literal); ok && lit.Value != nil && exec.ToInt64(lit.Value) < 1 {
				return types.T{}, errAt(at, "Array element access needs an index starting at 1 but was %d.", exec.ToInt64(lit.Value))
			}
			return x.Elem.WithNullable(true), nil
		case types.Map:
			if !comparable(*x.Key, i) {
				return types.T{}, errAt(at, "a key of %s cannot be %s", x, i)
			}
			return x.Value.WithNullable(true), nil
		}
		return types.T{}, errAt(at, "[] needs an ARRAY or a MAP, got %s", x)
	}
	builtins["CARDINALITY"] = func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if len(args) != 1 || (args[0].Type().Kind != types.Array && args[0].Type().Kind != types.Map) {
			return types.T{}, errAt(at, "takes one ARRAY or MAP")
		}
		return types.INT.WithNullable(args[0].Type().Nullable), nil
	}
	builtins["ELEMENT"] = func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if len(args) != 1 || args[0].Type().Kind != types.Array {
			return types.T{}, errAt(at, "takes one ARRAY")
		}
		t := args[0].Type()
		return t.Elem.WithNullable(t.Elem.Nullable || t.Nullable), nil
	}
	builtins["ARRAY_CONTAINS"] = func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if len(args) != 2 || args[0].Type().Kind != types.Array {
			return types.T{}, errAt(at, "takes an ARRAY and a value")
		}
		if !comparable(*args[0].Type().Elem, args[1].Type()) || !castable(args[1].Type(), *args[0].Type().Elem) {
			return types.T{}, errAt(at, "cannot look for %s in %s", args[1].Type(), args[0].Type())
		}
		return types.BOOLEAN.WithNullable(args[0].Type().Nullable), nil
	}
}

func init() {
	arrayArg := func(at sql.Pos, args []expr.Expr, min, max int) (types.T, error) {
		if len(args) < min || len(args) > max || args[0].Type().Kind != types.Array {
			return types.T{}, errAt(at, "takes an ARRAY first and %d to %d argument(s) in all", min, max)
		}
		return args[0].Type(), nil
	}
	anyNullable := func(args []expr.Expr) bool {
		for _, a := range args {
			if a.Type().Nullable {
				return true
			}
		}
		return false
	}
	same := func(min, max int) func(sql.Pos, []expr.Expr) (types.T, error) {
		return func(at sql.Pos, args []expr.Expr) (types.T, error) {
			t, err := arrayArg(at, args, min, max)
			if err != nil {
				return t, err
			}
			for _, a := range args[1:] {
				if !a.Type().IsInteger() && a.Type().Kind != types.Null {
					return types.T{}, errAt(at, "positions must be integers, got %s", a.Type())
				}
			}
			return t.WithNullable(anyNullable(args)), nil
		}
	}
	builtins["ARRAY_DISTINCT"] = same(1, 1)
	builtins["ARRAY_REVERSE"] = same(1, 1)
	builtins["ARRAY_SLICE"] = same(2, 3)
	withElement := func(at sql.Pos, args []expr.Expr) (types.T, error) {
		t, err := arrayArg(at, args, 2, 2)
		if err != nil {
			return t, err
		}
		x := args[1].Type()
		if !comparable(*t.Elem, x) || !castable(x, *t.Elem) {
			return types.T{}, errAt(at, "cannot use %s with %s", x, t)
		}
		return t, nil
	}
	builtins["ARRAY_REMOVE"] = withElement
	builtins["ARRAY_POSITION"] = func(at sql.Pos, args []expr.Expr) (types.T, error) {
		t, err := withElement(at, args)
		return types.INT.WithNullable(t.Nullable), err
	}
	grow := func(at sql.Pos, args []expr.Expr) (types.T, error) {
		t, err := withElement(at, args)
		if err != nil {
			return t, err
		}
		elem := t.Elem.WithNullable(t.Elem.Nullable || args[1].Type().Nullable)
		return types.ARRAY(elem).WithNullable(t.Nullable), nil
	}
	builtins["ARRAY_APPEND"] = grow
	builtins["ARRAY_PREPEND"] = grow
	builtins["ARRAY_CONCAT"] = func(at sql.Pos, args []expr.Expr) (types.T, error) {
		t, err := arrayArg(at, args, 1, 1<<20)
		if err != nil {
			return t, err
		}
		for _, a := range args[1:] {
			if !a.Type().EqualIgnoringNull(t) {
				return types.T{}, errAt(at, "arrays of different types: %s and %s", t, a.Type())
			}
		}
		return t.WithNullable(anyNullable(args)), nil
	}
	builtins["ARRAY_JOIN"] = func(at sql.Pos, args []expr.Expr) (types.T, error) {
		t, err := arrayArg(at, args, 2, 3)
		if err != nil {
			return t, err
		}
		if !t.Elem.IsString() {
			return types.T{}, errAt(at, "needs an ARRAY of strings, got %s", t)
		}
		for _, a := range args[1:] {
			if !argString.accepts(a.Type()) {
				return types.T{}, errAt(at, "the delimiter and NULL replacement must be strings, got %s", a.Type())
			}
		}
		return types.STRING.WithNullable(anyNullable(args)), nil
	}
	extreme := func(at sql.Pos, args []expr.Expr) (types.T, error) {
		t, err := arrayArg(at, args, 1, 1)
		if err != nil {
			return t, err
		}
		if isNested(*t.Elem) {
			return types.T{}, errAt(at, "cannot order %s", t.Elem)
		}
		return t.Elem.WithNullable(true), nil
	}
	builtins["ARRAY_MAX"] = extreme
	builtins["ARRAY_MIN"] = extreme
	mapPart := func(part string) func(sql.Pos, []expr.Expr) (types.T, error) {
		return func(at sql.Pos, args []expr.Expr) (types.T, error) {
			if len(args) != 1 || args[0].Type().Kind != types.Map {
				return types.T{}, errAt(at, "takes one MAP")
			}
			m := args[0].Type()
			var elem types.T
			switch part {
			case "keys":
				elem = *m.Key
			case "values":
				elem = *m.Value
			default:
				elem = types.ROW(types.Field{Name: "key", Type: *m.Key}, types.Field{Name: "value", Type: *m.Value})
			}
			return types.ARRAY(elem).WithNullable(m.Nullable), nil
		}
	}
	builtins["MAP_KEYS"] = mapPart("keys")
	builtins["MAP_VALUES"] = mapPart("values")
	builtins["MAP_ENTRIES"] = mapPart("entries")
}

// utf16Len is the length of s in UTF-16 units, which Flink's (Java's)
// string literals are typed by.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

func init() {
	builtins["STR_TO_MAP"] = func(at sql.Pos, args []expr.Expr) (types.T, error) {
		if _, err := stringFn(1, 3)(at, args); err != nil {
			return types.T{}, err
		}
		return types.MAP(types.STRING, types.STRING), nil // nullable, as in Flink
	}
}
