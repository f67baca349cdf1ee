package main

// The Flink target: `weir sql --target flink://HOST:PORT` hands the script to
// `python -m weir.flink` (python/weir/_flink) in the Python named by
// python.client.executable, which submits it to the cluster through PyFlink
// and prints what the local target prints.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/weir-dev/weir/internal/config"
	"github.com/weir-dev/weir/internal/tmpdir"
)

// exitNoPyFlink is the client's exit code when its Python has no apache-flink.
const exitNoPyFlink = 3

// flinkTarget is a Flink cluster's REST endpoint.
type flinkTarget struct {
	host string
	port int
}

func (t flinkTarget) String() string {
	return "flink://" + net.JoinHostPort(t.host, strconv.Itoa(t.port))
}

// parseTarget reads --target: "local" (nil) or flink://HOST:PORT.
func parseTarget(s string) (*flinkTarget, error) {
	if s == "" || s == "local" {
		return nil, nil
	}
	bad := func(why string) error {
		return fmt.Errorf("--target %q: %s; want local (weir's engine, the default) or flink://HOST:PORT, the REST address and port of a Flink cluster's JobManager, e.g. flink://127.0.0.1:8081", s, why)
	}
	rest, ok := strings.CutPrefix(s, "flink://")
	if !ok {
		if i := strings.Index(s, "://"); i >= 0 {
			return nil, bad(fmt.Sprintf("unknown scheme '%s'", s[:i]))
		}
		return nil, bad("not a target")
	}
	rest = strings.TrimSuffix(rest, "/")
	host, port, err := net.SplitHostPort(rest)
	if err != nil || host == "" || strings.ContainsAny(host, "/?#@") {
		return nil, bad("no HOST:PORT after flink://")
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return nil, bad(fmt.Sprintf("port '%s' is not a number from 1 to 65535", port))
	}
	return &flinkTarget{host: host, port: p}, nil
}

// targetOf is the Flink target that --target or, without it, the
// execution.target, rest.address and rest.port options name (nil: local).
func targetOf(flagValue string, settings map[string]string) (*flinkTarget, error) {
	if flagValue != "" {
		return parseTarget(flagValue)
	}
	c, _, err := config.Resolve(settings)
	if err != nil {
		// A bad -D value is reported as every command reports it, naming
		// the option, when the script's options are applied.
		return nil, nil
	}
	if c.String(config.ExecutionTarget) != "remote" {
		return nil, nil
	}
	if c.String(config.RestAddress) == "" {
		return nil, fmt.Errorf("-D execution.target=remote needs -D rest.address=HOST (and rest.port, default 8081), or use --target flink://HOST:PORT")
	}
	return &flinkTarget{host: c.String(config.RestAddress), port: c.Int(config.RestPort)}, nil
}

// checkFlinkSettings refuses the options that Flink does not have.
func checkFlinkSettings(settings map[string]string, t *flinkTarget) error {
	for _, k := range config.WeirOnlyKeys() {
		if _, ok := settings[k]; ok {
			return fmt.Errorf("-D %s: the option is weir's own and Flink has no such option; remove it to run on %s (or run with --target local)", k, t)
		}
	}
	return nil
}

// weirPackage is the directory of weir's Python package that matches this
// engine: the one the wheel puts the engine in (weir/_bin/weir), else the
// one weir's Python imports.
func weirPackage(ctx context.Context) (string, error) {
	if exe, err := os.Executable(); err == nil {
		pkg := filepath.Dir(filepath.Dir(exe))
		if _, err := os.Stat(filepath.Join(pkg, "_flink", "client.py")); err == nil {
			return pkg, nil
		}
	}
	py := config.Default().Python()
	out, err := exec.CommandContext(ctx, py, "-c", "import os, weir; print(os.path.dirname(os.path.abspath(weir.__file__)))").Output()
	if err != nil {
		return "", fmt.Errorf("finding weir's Python package with %s (set $WEIR_PYTHON to the Python weir is installed in): %w", py, err)
	}
	pkg := strings.TrimSpace(string(out))
	if _, err := os.Stat(filepath.Join(pkg, "_flink", "client.py")); err != nil {
		return "", fmt.Errorf("weir's Python package in %s has no Flink client (weir/_flink): it is older than this engine; reinstall weir there", pkg)
	}
	return pkg, nil
}

// runOnFlink submits the script src to the cluster t through the client
// and returns weir's exit code.
func runOnFlink(t *flinkTarget, src []byte, file string, settings map[string]string, stdout, stderr io.Writer) int {
	if err := checkFlinkSettings(settings, t); err != nil {
		fmt.Fprintf(stderr, "weir: %v\n", err)
		return exitFailed
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client := config.Default().String(config.PythonClientExecutable)
	if v := settings[config.PythonClientExecutable]; v != "" {
		client = v
	}
	if _, err := exec.LookPath(client); err != nil {
		fmt.Fprintf(stderr, "weir: --target %s: python.client.executable '%s' was not found; set -D python.client.executable=/path/to/python, a Python with apache-flink 2.3 (pip install apache-flink==2.3.0, in a virtualenv of its own: its pins conflict with weir's)\n", t, client)
		return exitFailed
	}
	pkg, err := weirPackage(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "weir: --target %s: %v\n", t, err)
		return exitFailed
	}
	// The client's Python has apache-flink, whose pins conflict with weir's
	// dependencies, so weir is not installed there: a private directory
	// holding only a link to weir's package goes on its path.
	dir, err := tmpdir.Make("weir-flink-client")
	if err != nil {
		fmt.Fprintf(stderr, "weir: %v\n", err)
		return exitFailed
	}
	defer os.RemoveAll(dir)
	if err := os.Symlink(pkg, filepath.Join(dir, "weir")); err != nil {
		fmt.Fprintf(stderr, "weir: %v\n", err)
		return exitFailed
	}
	args := []string{"-m", "weir.flink", "--target", t.String(), "--file-name", file}
	for k, v := range settings {
		if k == config.ExecutionTarget || k == config.RestAddress || k == config.RestPort {
			continue // --target decides
		}
		args = append(args, "-D", k+"="+v)
	}
	cmd := exec.CommandContext(ctx, client, args...)
	cmd.Stdin = strings.NewReader(string(src))
	cmd.Stdout, cmd.Stderr = stdout, stderr
	path := dir
	if old := os.Getenv("PYTHONPATH"); old != "" {
		path += string(os.PathListSeparator) + old
	}
	cmd.Env = append(os.Environ(), "PYTHONPATH="+path)
	// On SIGINT or SIGTERM the client cancels the running Flink job.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 90 * time.Second // the client waits up to a minute for the cancelled job to end
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &exit):
		switch exit.ExitCode() {
		case exitNoPyFlink:
			return exitFailed
		case exitUsage:
			return exitUsage
		case exitCancelled:
			return exitCancelled
		}
		if ctx.Err() != nil {
			return exitCancelled
		}
		return exitFailed
	default:
		fmt.Fprintf(stderr, "weir: --target %s: running %s: %v\n", t, client, err)
		return exitFailed
	}
}
