package pyexec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shadowModule is a module named like the shipped one that must never be
// imported: it declares another type and leaves a mark where it was found.
const shadowModule = `import os, pathlib
pathlib.Path(os.environ["SHADOW_MARKS"], __file__.replace("/", "_")).touch()
from weir import udf, DataTypes
@udf(result_type=DataTypes.STRING())
def f(x):
    return "shadow"
`

const shippedModule = `from weir import udf, DataTypes
@udf(result_type=DataTypes.BIGINT())
def f(x):
    return x
`

// TestDescribeIgnoresShadowingModules plants a module of the shipped name in
// the temporary directory and in the working directory: planning must find
// the one shipped with python.files, as the workers do.
func TestDescribeIgnoresShadowingModules(t *testing.T) {
	python := os.Getenv("WEIR_PYTHON")
	if python == "" {
		t.Skip("WEIR_PYTHON is not set: run through 'make test', which installs weir into .venv")
	}
	root := t.TempDir()
	tmp := filepath.Join(root, "tmp")
	cwd := filepath.Join(root, "cwd")
	ship := filepath.Join(root, "ship")
	marks := filepath.Join(root, "marks")
	for _, d := range []string{tmp, cwd, ship, marks} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{tmp, cwd} {
		if err := os.WriteFile(filepath.Join(d, "shadowed_udfs.py"), []byte(shadowModule), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(ship, "shadowed_udfs.py"), []byte(shippedModule), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp) // os.TempDir, where planning used to run
	t.Setenv("SHADOW_MARKS", marks)
	t.Chdir(cwd)

	// Shipped as a file and as a relative directory (resolved from the
	// user's working directory, not from where Python runs).
	for _, pyFiles := range [][]string{{filepath.Join(ship, "shadowed_udfs.py")}, {"../ship"}} {
		infos, errs, err := Describe(context.Background(), python, pyFiles, []string{"shadowed_udfs.f"})
		if err != nil {
			t.Fatalf("Describe(pyfiles %v): %v", pyFiles, err)
		}
		if e := errs["shadowed_udfs.f"]; e != nil {
			t.Fatalf("Describe(pyfiles %v): shadowed_udfs.f: %v", pyFiles, e)
		}
		fi := infos["shadowed_udfs.f"]
		if got := strings.Join(fi.ResultTypes, ","); got != "BIGINT" {
			t.Errorf("Describe(pyfiles %v): result types %q, want BIGINT (the shipped module's)", pyFiles, got)
		}
		if m, _ := os.ReadDir(marks); len(m) > 0 {
			t.Fatalf("Describe(pyfiles %v) imported a shadowing module: %v", pyFiles, m)
		}
	}
	// Not shipped at all: the module is missing, not taken from the
	// working directory or the temporary directory.
	_, errs, err := Describe(context.Background(), python, nil, []string{"shadowed_udfs.f"})
	if err != nil {
		t.Fatal(err)
	}
	if e := errs["shadowed_udfs.f"]; e == nil || !strings.Contains(e.Error(), "cannot import Python module 'shadowed_udfs'") {
		t.Errorf("Describe without python.files: error %v, want the module reported missing", e)
	}
	if m, _ := os.ReadDir(marks); len(m) > 0 {
		t.Fatalf("Describe without python.files imported a shadowing module: %v", m)
	}
	// Planning leaves no directory of its own behind.
	if left, _ := filepath.Glob(filepath.Join(tmp, "weir-describe-*")); len(left) > 0 {
		t.Errorf("Describe left %v behind", left)
	}
}
