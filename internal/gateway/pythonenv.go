package gateway

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/weir-dev/weir/internal/config"
)

// GetConfig answers TableConfig.get: the session's value of key (its -D
// flags, TableConfig.set, SET and RESET), Found false when it is not set.
func (s *Session) GetConfig(key string) *Response {
	v, ok := s.opts.Map()[key]
	return &Response{OK: true, Value: v, Found: ok}
}

// addPythonPath appends a file or directory to the session's python.files.
func (s *Session) addPythonPath(p string) error {
	cur := s.opts.Map()[config.PythonFiles]
	for _, f := range config.ParseList(cur) {
		if f == p {
			return nil
		}
	}
	if cur != "" {
		p = cur + "," + p
	}
	return s.opts.Set(config.PythonFiles, p)
}

// AddPythonFile puts a file, directory or zip on the workers' path, as
// TableEnvironment.add_python_file.
func (s *Session) AddPythonFile(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("add_python_file(%q): %w", path, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("add_python_file(%q): %w", path, err)
	}
	return s.addPythonPath(abs)
}

// ArchivesEnv names the directory the workers run in when the session has
// archives: weir.worker changes to it, so that a function opens an
// archive's files by relative paths (<target>/file), as in Flink.
const ArchivesEnv = "WEIR_PYTHON_ARCHIVES"

// AddPythonArchive extracts a zip or tar archive into the session's
// archives directory under target (the archive's file name when empty),
// as TableEnvironment.add_python_archive. The workers run in that
// directory, which is also on their path.
func (s *Session) AddPythonArchive(path, target string) error {
	if target == "" {
		target = filepath.Base(path)
	}
	if target == "." || target == ".." || strings.ContainsAny(target, `/\`) {
		return fmt.Errorf("add_python_archive(%q): target directory %q must be a plain name", path, target)
	}
	dir := filepath.Join(filepath.Dir(s.funcDir), "archives")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("add_python_archive: %w", err)
	}
	dest := filepath.Join(dir, target)
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("add_python_archive(%q): an archive was already added as %q; pick another target directory", path, target)
	}
	if err := extract(path, dest); err != nil {
		os.RemoveAll(dest)
		return fmt.Errorf("add_python_archive(%q): %w", path, err)
	}
	os.Setenv(ArchivesEnv, dir)
	return s.addPythonPath(dir)
}

// extract unpacks a zip, tar, tar.gz or tgz file into dest, refusing
// entries that would land outside it.
func extract(path, dest string) error {
	inside := func(name string) (string, error) {
		p := filepath.Join(dest, name)
		if p != dest && !strings.HasPrefix(p, dest+string(filepath.Separator)) {
			return "", fmt.Errorf("entry %q points outside the archive's directory", name)
		}
		return p, nil
	}
	write := func(p string, mode os.FileMode, r io.Reader) error {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode.Perm()|0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, r); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if err := os.MkdirAll(dest, 0o700); err != nil {
		return err
	}
	lower := strings.ToLower(path)
	switch {
	case strings.HasSuffix(lower, ".zip") || strings.HasSuffix(lower, ".whl") || strings.HasSuffix(lower, ".jar") || strings.HasSuffix(lower, ".egg"):
		zr, err := zip.OpenReader(path)
		if err != nil {
			return err
		}
		defer zr.Close()
		for _, f := range zr.File {
			p, err := inside(f.Name)
			if err != nil {
				return err
			}
			if f.FileInfo().IsDir() {
				if err := os.MkdirAll(p, 0o700); err != nil {
					return err
				}
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return err
			}
			err = write(p, f.Mode(), rc)
			rc.Close()
			if err != nil {
				return err
			}
		}
		return nil
	case strings.HasSuffix(lower, ".tar") || strings.HasSuffix(lower, ".tar.gz") || strings.HasSuffix(lower, ".tgz"):
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		var r io.Reader = f
		if !strings.HasSuffix(lower, ".tar") {
			gz, err := gzip.NewReader(f)
			if err != nil {
				return err
			}
			defer gz.Close()
			r = gz
		}
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			p, err := inside(h.Name)
			if err != nil {
				return err
			}
			switch h.Typeflag {
			case tar.TypeDir:
				if err := os.MkdirAll(p, 0o700); err != nil {
					return err
				}
			case tar.TypeReg:
				if err := write(p, os.FileMode(h.Mode), tr); err != nil {
					return err
				}
			default:
				return fmt.Errorf("entry %q: links and special files are not supported", h.Name)
			}
		}
	}
	return fmt.Errorf("want a .zip, .tar, .tar.gz or .tgz archive")
}

// requirementsCache is the directory of installed requirements:
// $WEIR_CACHE_DIR/python-requirements, else the user's cache directory.
func requirementsCache() (string, error) {
	root := os.Getenv("WEIR_CACHE_DIR")
	if root == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("no cache directory (set WEIR_CACHE_DIR): %w", err)
		}
		root = filepath.Join(c, "weir")
	}
	return filepath.Join(root, "python-requirements"), nil
}

// SetPythonRequirements installs the packages of a requirements file for
// the workers, as TableEnvironment.set_python_requirements: once per
// requirements file content, interpreter and package directory, into a
// cached directory (keyed by their hash) that later sessions reuse; the
// directory goes on the workers' path. With cacheDir, pip installs from
// the packages there only (offline), as Flink's requirements_cache_dir.
func (s *Session) SetPythonRequirements(ctx context.Context, path, cacheDir string) (*Response, error) {
	req, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("set_python_requirements: %w", err)
	}
	python := s.runSettings()[config.PythonExecutable]
	version, err := exec.CommandContext(ctx, python, "-c", "import sys; print(sys.executable, sys.version)").Output()
	if err != nil {
		return nil, fmt.Errorf("set_python_requirements: running %s: %w", python, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", version, req)
	if cacheDir != "" {
		entries, err := os.ReadDir(cacheDir)
		if err != nil {
			return nil, fmt.Errorf("set_python_requirements: requirements_cache_dir: %w", err)
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		fmt.Fprintf(h, "%s\x00", strings.Join(names, "\x00"))
	}
	key := hex.EncodeToString(h.Sum(nil))[:24]
	root, err := requirementsCache()
	if err != nil {
		return nil, fmt.Errorf("set_python_requirements: %w", err)
	}
	final := filepath.Join(root, key)
	if _, err := os.Stat(filepath.Join(final, ".weir-complete")); err == nil {
		return &Response{OK: true, Cached: true}, s.addPythonPath(final)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("set_python_requirements: %w", err)
	}
	tmp, err := os.MkdirTemp(root, key+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("set_python_requirements: %w", err)
	}
	defer os.RemoveAll(tmp)
	args := []string{"-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-script-location",
		"--target", tmp, "-r", path}
	if cacheDir != "" {
		args = append(args, "--no-index", "--find-links", cacheDir)
	}
	cmd := exec.CommandContext(ctx, python, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("set_python_requirements: pip install -r %s failed (%v):\n%s", path, err, tail(string(out), 4000))
	}
	if err := os.WriteFile(filepath.Join(tmp, ".weir-complete"), nil, 0o644); err != nil {
		return nil, fmt.Errorf("set_python_requirements: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		// Another session installed the same requirements meanwhile.
		if _, serr := os.Stat(filepath.Join(final, ".weir-complete")); serr != nil {
			return nil, fmt.Errorf("set_python_requirements: %w", err)
		}
	}
	return &Response{OK: true}, s.addPythonPath(final)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
