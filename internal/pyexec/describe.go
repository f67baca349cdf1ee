package pyexec

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"

	"github.com/weir-dev/weir/internal/tmpdir"
)

// FunctionInfo is what `python -m weir.describe` reports of one function.
type FunctionInfo struct {
	Path          string   `json:"path"`
	OK            bool     `json:"ok"`
	Error         string   `json:"error"`
	Kind          string   `json:"kind"`
	InputTypes    []string `json:"input_types"`
	ResultTypes   []string `json:"result_types"`
	Deterministic bool     `json:"deterministic"`
	FuncType      string   `json:"func_type"`
	MinArgs       int      `json:"min_args"`
	MaxArgs       int      `json:"max_args"`
}

// Describe imports the functions at paths ("module.attr") in the Python
// that the workers will use, and reports their declared types. A function
// that cannot be loaded gets an error in the second map; the error return is
// for a Python that cannot run weir at all.
func Describe(ctx context.Context, python string, pyFiles []string, paths []string) (map[string]FunctionInfo, map[string]error, error) {
	if python == "" {
		python = "python3"
	}
	p := &Pool{cfg: Config{PyFiles: pyFiles}}
	// As for the workers: `python -m` puts its working directory first on
	// sys.path, where a stray file would shadow a module shipped with
	// python.files (and run as the job's user). So the working directory is
	// a new private empty one (not the user's, not the shared temporary
	// directory), and weir.describe drops it from sys.path as weir.worker
	// does: both then search PYTHONPATH (python.files first) in the same order.
	// It is named after this engine (tmpdir), so that the next engine
	// removes it if this one is killed while describing.
	dir, err := tmpdir.Make("weir-describe-")
	if err != nil {
		return nil, nil, fmt.Errorf("pyexec: describing Python functions: %w", err)
	}
	defer os.RemoveAll(dir)
	cmd := exec.CommandContext(ctx, python, append([]string{"-m", "weir.describe"}, paths...)...)
	cmd.Env = os.Environ()
	cmd.Dir = dir
	if pp := p.pythonPath(); pp != "" {
		cmd.Env = append(cmd.Env, "PYTHONPATH="+pp)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.Error
		var pe *fs.PathError
		if errors.As(err, &ee) || errors.As(err, &pe) {
			return nil, nil, fmt.Errorf("cannot run Python interpreter %q (python.executable): %w; set python.executable (-D python.executable=/path/to/python) to a Python 3 that has weir installed", python, err)
		}
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "apache-beam package is missing") {
			return nil, nil, fmt.Errorf("%s", strings.TrimPrefix(msg, "weir: "))
		}
		if strings.Contains(msg, "No module named 'weir'") || strings.Contains(msg, "No module named weir") {
			return nil, nil, fmt.Errorf("the weir package is not installed for %s (python.executable); install it there with 'pip install weir' (or './python' from a checkout)", python)
		}
		return nil, nil, fmt.Errorf("describing Python functions with %s failed (%v):\n%s", python, err, indent(msg))
	}
	infos := map[string]FunctionInfo{}
	errs := map[string]error{}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var fi FunctionInfo
		if err := json.Unmarshal(sc.Bytes(), &fi); err != nil {
			return nil, nil, fmt.Errorf("weir.describe printed something unexpected: %q", sc.Text())
		}
		if fi.OK {
			infos[fi.Path] = fi
		} else {
			errs[fi.Path] = errors.New(fi.Error)
		}
	}
	return infos, errs, nil
}
