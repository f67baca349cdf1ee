package internal_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// allowed lists, per package, the weir packages it may import; it mirrors
// the table in internal/README.md.
var allowed = map[string][]string{
	"types":       {},
	"suggest":     {},
	"config":      {"suggest"},
	"expr":        {"types"},
	"sql":         {"types", "suggest"},
	"coder":       {"types"},
	"exec":        {"types", "expr"},
	"format":      {"types", "exec"},
	"kafkatest":   {},
	"changelog":   {},
	"checkpoint":  {},
	"connector":   {"types", "expr", "exec", "suggest", "config", "format", "changelog", "checkpoint", "spill"},
	"weirpb":      {},
	"tmpdir":      {},
	"fnapi":       {"tmpdir"},
	"worker":      {},
	"pyexec":      {"types", "coder", "fnapi", "worker", "weirpb", "tmpdir", "config", "checkpoint", "state", "shm"},
	"shm":         {"tmpdir"},
	"spill":       {"tmpdir"},
	"state":       {"tmpdir"},
	"aggregate":   {"types", "spill"},
	"sortop":      {"types", "spill"},
	"join":        {"types", "aggregate", "spill"},
	"over":        {"types", "aggregate", "sortop"},
	"stream":      {"types", "aggregate", "exec", "changelog", "checkpoint"},
	"window":      {"types", "aggregate", "checkpoint"},
	"plan":        {"types", "expr", "sql", "coder", "exec", "pyexec", "weirpb", "aggregate", "sortop", "join", "over", "config", "stream", "changelog", "window", "checkpoint"},
	"job":         {"plan", "exec", "connector", "pyexec", "types", "suggest", "config", "spill", "changelog", "checkpoint"},
	"conformance": {"sql", "plan", "job", "connector", "types", "config", "changelog"},
	"gateway":     {"types", "sql", "plan", "job", "exec", "connector", "pyexec", "tmpdir", "config", "changelog"},
}

const module = "github.com/weir-dev/weir/internal/"

// TestDependencies fails when a package imports a weir package it must not.
func TestDependencies(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "testdata" {
			continue
		}
		pkg := e.Name()
		ok, known := allowed[pkg]
		if !known {
			t.Errorf("package %s is not in the dependency table; add it to internal/README.md and this test", pkg)
			continue
		}
		files, _ := filepath.Glob(filepath.Join(pkg, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range parsed.Imports {
				path := strings.Trim(imp.Path.Value, `"`)
				if !strings.HasPrefix(path, module) {
					continue
				}
				dep := strings.SplitN(strings.TrimPrefix(path, module), "/", 2)[0]
				if !contains(ok, dep) {
					t.Errorf("%s imports %s, which %s may not import (see internal/README.md)", f, dep, pkg)
				}
			}
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}
