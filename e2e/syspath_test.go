package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestShadowingModulesAreNotImported plants a module named like the shipped
// one in the temporary directory and in the working directory of weir: the
// plan (the declared type) and the workers (the values) must both come from
// the module shipped with --pyfiles, found on the same sys.path.
func TestShadowingModulesAreNotImported(t *testing.T) {
	needPython(t)
	// A short root: weir puts its Unix socket under TMPDIR, and socket
	// paths are limited to about 100 bytes.
	root, err := os.MkdirTemp("", "wsp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	tmp, cwd, ship, marks := filepath.Join(root, "tmp"), filepath.Join(root, "cwd"), filepath.Join(root, "ship"), filepath.Join(root, "marks")
	for _, d := range []string{tmp, cwd, ship, marks} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	shadow := `import os, pathlib
pathlib.Path(os.environ["SHADOW_MARKS"], "imported-" + __file__.replace("/", "_")).touch()
from weir import udf, DataTypes
@udf(result_type=DataTypes.STRING())
def f(x):
    return "shadow"
`
	// The shipped module writes the sys.path of each process that imports
	// it: the planner's and each worker's.
	shipped := `import json, os, sys
with open(os.path.join(os.environ["SHADOW_MARKS"], "path-%d" % os.getpid()), "w") as out:
    json.dump(sys.path, out)
from weir import udf, DataTypes
@udf(result_type=DataTypes.BIGINT())
def f(x):
    return x * 10
`
	for _, d := range []string{tmp, cwd} {
		if err := os.WriteFile(filepath.Join(d, "shadowed_udfs.py"), []byte(shadow), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(ship, "shadowed_udfs.py"), []byte(shipped), 0o644); err != nil {
		t.Fatal(err)
	}
	sqlText := `CREATE TABLE src (a INT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '4',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '4');
CREATE TEMPORARY FUNCTION f AS 'shadowed_udfs.f' LANGUAGE PYTHON;
SELECT a, f(a) + 1 FROM src;
`
	if err := os.WriteFile(filepath.Join(cwd, "job.sql"), []byte(sqlText), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// --pyfiles relative to the working directory, as users write it.
	cmd := exec.CommandContext(ctx, weirBin, "sql", "-f", "job.sql", "--pyfiles", "../ship", "-D", "parallelism.default=2")
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), testMark, "TMPDIR="+tmp, "SHADOW_MARKS="+marks)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("weir: %v\nstderr:\n%s", err, stderr.String())
	}
	// f(a) + 1 with f returning a * 10: BIGINT arithmetic on the shipped
	// function's values (the shadow's STRING would not even plan).
	for _, want := range []string{"+I[1, 11]", "+I[2, 21]", "+I[3, 31]", "+I[4, 41]"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	entries, err := os.ReadDir(marks)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "imported-") {
			t.Errorf("a shadowing module was imported: %s", e.Name())
			continue
		}
		b, err := os.ReadFile(filepath.Join(marks, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, string(b))
	}
	// The planner and at least one worker imported it.
	if len(paths) < 2 {
		t.Fatalf("the shipped module was imported by %d processes, want the planner and the workers", len(paths))
	}
	for _, p := range paths[1:] {
		if p != paths[0] {
			t.Errorf("planner and workers search different paths:\n  %s\n  %s", paths[0], p)
		}
	}
	if !strings.HasPrefix(paths[0], `["`+ship+`"`) {
		t.Errorf("sys.path does not start with the shipped directory %s: %s", ship, paths[0])
	}
	for _, bad := range []string{`"` + tmp + `"`, `"` + cwd + `"`, `""`} {
		if strings.Contains(paths[0], bad) {
			t.Errorf("sys.path holds %s: %s", bad, paths[0])
		}
	}
}
