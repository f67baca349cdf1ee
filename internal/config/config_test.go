package config

import (
	"errors"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite README.md's option table from the option table")

func TestParseDuration(t *testing.T) {
	// The valid cases' answers are Flink 2.3's TimeUtils.parseDuration.
	valid := map[string]time.Duration{
		"5 min": 5 * time.Minute, "5 minutes": 5 * time.Minute, "5min": 5 * time.Minute, "5 MIN": 5 * time.Minute,
		"1 minute": time.Minute, "1 m": time.Minute,
		"300 s": 300 * time.Second, "300s": 300 * time.Second, " 5 S ": 5 * time.Second, "1\ts": time.Second,
		"1 sec": time.Second, "2 secs": 2 * time.Second, "1 second": time.Second, "3 seconds": 3 * time.Second,
		"1000": time.Second, "0": 0, "05 s": 5 * time.Second,
		"10 ms": 10 * time.Millisecond, "10 milli": 10 * time.Millisecond, "10 millis": 10 * time.Millisecond,
		"10 millisecond": 10 * time.Millisecond, "10 milliseconds": 10 * time.Millisecond,
		"1 h": time.Hour, "1 hour": time.Hour, "2 hours": 2 * time.Hour,
		"1 d": 24 * time.Hour, "1 day": 24 * time.Hour, "3 days": 72 * time.Hour,
		"1 µs": time.Microsecond, "1 micros": time.Microsecond, "1 microseconds": time.Microsecond,
		"5 ns": 5, "1 nanos": 1, "1 nanoseconds": 1,
		"PT5M": 5 * time.Minute, "pt5m": 5 * time.Minute, "PT1H30M": 90 * time.Minute, "P1D": 24 * time.Hour,
		"P1DT2H": 26 * time.Hour, "PT0.5S": 500 * time.Millisecond,
		"106751 d": 106751 * 24 * time.Hour,
	}
	for in, want := range valid {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	// Each of these is an error in Flink 2.3 too.
	for _, in := range []string{"", "s", "1 mins", "1 us", "1 msec", "1.5 s", "-1 s", "+5 s", "1 1 s", "5 min 3 s",
		"1 w", "1_000", "99999999999999999999", "9223372036854775807 d", "-PT1S", "P", "PT", "PT1.5M", "P1H", "PT1D"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		} else if !strings.Contains(err.Error(), "'"+in+"'") {
			t.Errorf("ParseDuration(%q): error %q does not name the value", in, err)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, d := range []time.Duration{time.Second, 5 * time.Minute, 1500 * time.Millisecond, 3, 26 * time.Hour, 7 * time.Microsecond} {
		got, err := ParseDuration(FormatDuration(d))
		if err != nil || got != d {
			t.Errorf("ParseDuration(FormatDuration(%v) = %q) = %v, %v", d, FormatDuration(d), got, err)
		}
	}
}

func TestParseMemorySize(t *testing.T) {
	// The valid cases' answers are Flink 2.3's MemorySize.parse.
	valid := map[string]int64{
		"1": 1, "1b": 1, "1 bytes": 1, "1k": 1 << 10, "1 kb": 1 << 10, "1 kibibytes": 1 << 10, "1 KB": 1 << 10,
		"2m": 2 << 20, "2 mb": 2 << 20, "2 mebibytes": 2 << 20, "64 mb": 64 << 20,
		"3g": 3 << 30, "3gb": 3 << 30, "1t": 1 << 40, "1tb": 1 << 40, "1 tebibytes": 1 << 40,
	}
	for in, want := range valid {
		if got, err := ParseMemorySize(in); err != nil || got != want {
			t.Errorf("ParseMemorySize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1.5 mb", "-1", "1 x", "1 byte", "mb", "9999999 tb"} {
		if got, err := ParseMemorySize(in); err == nil {
			t.Errorf("ParseMemorySize(%q) = %d, want an error", in, got)
		}
	}
}

func TestParseScalars(t *testing.T) {
	for in, want := range map[string]int{"5": 5, " 5 ": 5, "+5": 5, "-3": -3} {
		if got, err := ParseInt(in); err != nil || got != want {
			t.Errorf("ParseInt(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "5.0", "1e3", "0x10", "five"} {
		if _, err := ParseInt(in); err == nil {
			t.Errorf("ParseInt(%q): want an error", in)
		}
	}
	for in, want := range map[string]bool{"true": true, "TRUE": true, "True": true, "false": false, "FALSE": false} {
		if got, err := ParseBool(in); err != nil || got != want {
			t.Errorf("ParseBool(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"yes", "1", "on", ""} {
		if _, err := ParseBool(in); err == nil {
			t.Errorf("ParseBool(%q): want an error", in)
		}
	}
	if got := ParseList(" a.py, ,dir ,b.zip,"); !equal(got, []string{"a.py", "dir", "b.zip"}) {
		t.Errorf("ParseList = %q", got)
	}
	if got, err := ParseMap("k1:v1, k2 : v:2,,k3:"); err != nil || !maps.Equal(got, map[string]string{"k1": "v1", "k2": "v:2", "k3": ""}) {
		t.Errorf("ParseMap = %v, %v", got, err)
	}
	for _, in := range []string{"k1", "k1:v1,k2", ":v"} {
		if _, err := ParseMap(in); err == nil {
			t.Errorf("ParseMap(%q): want an error", in)
		}
	}
	if got, err := parseEnum("Batch", []string{"streaming", "batch"}); err != nil || got != "batch" {
		t.Errorf("parseEnum = %q, %v", got, err)
	}
	if _, err := parseEnum("bach", []string{"streaming", "batch"}); err == nil || !strings.Contains(err.Error(), "'streaming', 'batch'") {
		t.Errorf("parseEnum(bach) error %v does not list the values", err)
	}
}

func equal(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

// TestTable checks every option: its default parses and is within bounds,
// and its getter returns it.
func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, o := range Options {
		if seen[o.Key] {
			t.Errorf("option %s is in the table twice", o.Key)
		}
		seen[o.Key] = true
		if o.Meaning == "" {
			t.Errorf("option %s has no meaning", o.Key)
		}
		if o.Default != "" && o.DefaultDoc != "" {
			t.Errorf("option %s has both Default and DefaultDoc", o.Key)
		}
		c := Default()
		switch o.Kind {
		case Int:
			if want, _ := strconv.Atoi(o.Default); c.Int(o.Key) != want {
				t.Errorf("Default().Int(%s) = %d, want %d", o.Key, c.Int(o.Key), want)
			}
		case Duration:
			if want, _ := ParseDuration(o.Default); c.Duration(o.Key) != want {
				t.Errorf("Default().Duration(%s) = %v, want %v", o.Key, c.Duration(o.Key), want)
			}
		case String:
			if c.String(o.Key) != o.Default {
				t.Errorf("Default().String(%s) = %q", o.Key, c.String(o.Key))
			}
		case List:
			c.List(o.Key)
		case Map:
			c.Map(o.Key)
		case MemorySize:
			if c.Bytes(o.Key) != 0 || c.ManagedBytes() <= 0 {
				t.Errorf("Default().Bytes(%s) = %d, ManagedBytes() = %d", o.Key, c.Bytes(o.Key), c.ManagedBytes())
			}
		case Bool:
			if want, err := ParseBool(o.Default); err != nil || c.Bool(o.Key) != want {
				t.Errorf("Default().Bool(%s) = %v, default %q (%v)", o.Key, c.Bool(o.Key), o.Default, err)
			}
		case Enum:
			if c.String(o.Key) != o.Default || !slices.Contains(o.Values, o.Default) {
				t.Errorf("Default().String(%s) = %q, want %q, one of %q", o.Key, c.String(o.Key), o.Default, o.Values)
			}
		default:
			t.Errorf("option %s: kind %s has no check here", o.Key, o.Kind)
		}
	}
}

func TestResolve(t *testing.T) {
	c, warns, err := Resolve(map[string]string{
		Parallelism: "4", BundleTime: "250 ms", ProgressTimeout: "PT2M", PythonFiles: "a.py,b",
		GlobalJobParameters: "k:v", "paralelism.default": "2", "table.exec.x": "y",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Int(Parallelism) != 4 || c.Duration(BundleTime) != 250*time.Millisecond || c.Duration(ProgressTimeout) != 2*time.Minute ||
		!equal(c.List(PythonFiles), []string{"a.py", "b"}) || c.Map(GlobalJobParameters)["k"] != "v" ||
		c.Int(BundleSize) != 1000000 || !c.IsSet(Parallelism) || c.IsSet(BundleSize) {
		t.Errorf("Resolve gave %v", c.vals)
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	want := []string{
		"option 'paralelism.default' is not used by weir (did you mean 'parallelism.default'?)",
		"option 'table.exec.x' is not used by weir",
	}
	if !equal(got, want) {
		t.Errorf("warnings = %q, want %q", got, want)
	}

	// Every bad value is reported, each with the option, the value and the
	// expected format.
	_, _, err = Resolve(map[string]string{Parallelism: "0", BundleTime: "1 mins", BundleSize: "lots", GlobalJobParameters: "nokey"})
	for _, want := range []string{
		"option 'parallelism.default' = '0': must be at least 1",
		"option 'python.fn-execution.bundle.time' = '1 mins': want a whole number with an optional unit",
		"option 'python.fn-execution.bundle.size' = 'lots': want an integer >= 1",
		"option 'pipeline.global-job-parameters' = 'nokey': want 'k1:v1,k2:v2'",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve error %v does not contain %q", err, want)
		}
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Errorf("Resolve error %v is not a *config.Error", err)
	}
	if _, _, err := Resolve(map[string]string{ProgressTimeout: "0"}); err == nil || !strings.Contains(err.Error(), "must be more than 0") {
		t.Errorf("a zero timeout: error %v", err)
	}
}

func TestGetterPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"unknown key": func() { Default().Int("parallelism.defualt") },
		"wrong kind":  func() { Default().Duration(Parallelism) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestPython(t *testing.T) {
	t.Setenv("WEIR_PYTHON", "")
	if got := Default().Python(); got != "python3" {
		t.Errorf("Python() = %q, want python3", got)
	}
	t.Setenv("WEIR_PYTHON", "/opt/py")
	if got := Default().Python(); got != "/opt/py" {
		t.Errorf("Python() = %q, want $WEIR_PYTHON", got)
	}
	c, _, _ := Resolve(map[string]string{PythonExecutable: "/usr/bin/python3.12"})
	if got := c.Python(); got != "/usr/bin/python3.12" {
		t.Errorf("Python() = %q, want python.executable", got)
	}
}

// TestSessionPrecedence: defaults < initial (-D) options < SET in order;
// RESET returns to the initial options.
func TestSessionPrecedence(t *testing.T) {
	s := NewSession(map[string]string{Parallelism: "2", BundleSize: "1000"})
	val := func(key string) string { return s.Map()[key] }
	if val(Parallelism) != "2" {
		t.Fatalf("initial: %v", s.Map())
	}
	if err := s.Set(Parallelism, "3"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(Parallelism, "4"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(BundleTime, "10 ms"); err != nil {
		t.Fatal(err)
	}
	if val(Parallelism) != "4" || val(BundleTime) != "10 ms" {
		t.Errorf("after SET: %v", s.Map())
	}
	snapshot := s.Map()
	if err := s.Set(Parallelism, "zero"); err == nil || !strings.Contains(err.Error(), "option 'parallelism.default' = 'zero'") {
		t.Errorf("SET of a bad value: %v", err)
	}
	if val(Parallelism) != "4" {
		t.Errorf("a bad SET changed the value: %v", s.Map())
	}
	if err := s.Set("table.exec.whatever", "x"); err != nil {
		t.Errorf("SET of an unknown key: %v", err)
	}
	s.Reset(Parallelism)
	s.Reset(BundleTime)
	if val(Parallelism) != "2" || val(BundleTime) != "" {
		t.Errorf("RESET key: %v", s.Map())
	}
	s.Set(BundleSize, "7")
	s.Reset("")
	if !maps.Equal(s.Map(), map[string]string{Parallelism: "2", BundleSize: "1000"}) {
		t.Errorf("RESET: %v", s.Map())
	}
	if snapshot[Parallelism] != "4" {
		t.Errorf("Map is not a copy: %v", snapshot)
	}
	c, _, err := Resolve(s.Map())
	if err != nil || c.Int(Parallelism) != 2 || c.Int(BundleSize) != 1000 || c.Int(MaxAttempts) != 3 {
		t.Errorf("Resolve(session) = %v, %v", c, err)
	}
}

const (
	readmeStart = "<!-- options: generated from internal/config; go test ./internal/config -run TestREADME -update -->\n"
	readmeEnd   = "<!-- end of options -->\n"
)

// TestREADME checks that README.md's option table is Markdown(); -update
// rewrites it.
func TestREADME(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, readmeStart), strings.Index(s, readmeEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no option table between %q and %q", readmeStart, readmeEnd)
	}
	got, want := s[i+len(readmeStart):j], Markdown()
	if got == want {
		return
	}
	if !*update {
		t.Fatalf("README.md's option table differs from internal/config's; run go test ./internal/config -run TestREADME -update\ngot:\n%s\nwant:\n%s", got, want)
	}
	s = s[:i+len(readmeStart)] + want + s[j:]
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// optionLike matches string literals that look like Flink option keys.
var optionLike = regexp.MustCompile(`^(parallelism|python|pipeline|execution|table|taskmanager|jobmanager|state|rest|sql-client)\.[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$`)

// TestEveryKeyInTable fails when Go code outside tests names an option key
// that is not in the table (reads go through the typed getters, which
// panic on such keys; this finds keys used in maps and messages too).
func TestEveryKeyInTable(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "python" || n == "bench" || n == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil || !optionLike.MatchString(v) {
				return true
			}
			if _, ok := Lookup(v); !ok {
				t.Errorf("%s names option '%s', which is not in internal/config's table", path, v)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
