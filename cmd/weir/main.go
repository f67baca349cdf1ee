// Command weir runs Flink SQL jobs whose user-defined functions are written
// in Python, in one Go process that drives Python workers through the Apache
// Beam Fn API.
//
//	weir sql -f job.sql [--pyfiles udfs.py] [-D key=value ...]
//	weir explain -f job.sql
//	weir bench flip121 [--rows N] [--columns M] [--workers W]
//	weir version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/weir-dev/weir/internal/job"
	"github.com/weir-dev/weir/internal/plan"
	"github.com/weir-dev/weir/internal/pyexec"
	"github.com/weir-dev/weir/internal/sql"
)

// version is set by the build (-ldflags "-X main.version=...").
var version = "0.1.0-dev"

// Exit codes.
const (
	exitOK        = 0
	exitFailed    = 1
	exitUsage     = 2
	exitCancelled = 130
)

// defaultMemoryLimit is the Go heap's soft limit unless GOMEMLIMIT is set:
// the engine holds only the batches in flight, so a tight limit keeps its
// resident memory flat (the GC works harder only if the live heap nears it).
const defaultMemoryLimit = 96 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `weir runs Flink SQL jobs with Python user-defined functions.

Usage:
  weir sql -f job.sql [--pyfiles a.py,dir,b.zip] [-D key=value ...] [-v]
  weir explain -f job.sql [--pyfiles ...] [-D key=value ...]
  weir bench flip121 [--rows N] [--columns M] [--workers W] [-D key=value ...]
  weir version

Options use Flink's names, e.g. -D parallelism.default=2, -D python.executable=/usr/bin/python3,
-D python.fn-execution.bundle.size=100000. The Python interpreter defaults to $WEIR_PYTHON, then python3.
Run 'weir <command> --help' for the flags of a command.
`)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "sql":
		return cmdSQL(args[1:], stdout, stderr, false)
	case "explain":
		return cmdSQL(args[1:], stdout, stderr, true)
	case "bench":
		return cmdBench(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "weir %s\n", version)
		return exitOK
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "weir: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

// settingFlags collects -D key=value pairs.
type settingFlags map[string]string

func (s settingFlags) String() string { return "" }
func (s settingFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	s[strings.TrimSpace(k)] = strings.TrimSpace(val)
	return nil
}

type common struct {
	settings settingFlags
	pyfiles  string
	verbose  int
}

func (c *common) register(fs *flag.FlagSet) {
	c.settings = settingFlags{}
	fs.Var(c.settings, "D", "set an option, `key=value` (repeatable), e.g. -D parallelism.default=2")
	fs.StringVar(&c.pyfiles, "pyfiles", "", "comma-separated Python files, directories or zips for the workers (python.files)")
	fs.Func("v", "log more (repeat for debug logs)", func(string) error { c.verbose++; return nil })
	fs.Lookup("v").DefValue = ""
}

// boolFlag makes -v usable without a value.
func (c *common) normalize(args []string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		switch a {
		case "-v", "--v":
			out = append(out, "-v=1")
		case "-vv":
			out = append(out, "-v=1", "-v=1")
		default:
			out = append(out, a)
		}
	}
	return out
}

func (c *common) logger(stderr io.Writer) *slog.Logger {
	lvl := slog.LevelWarn
	switch {
	case c.verbose >= 2:
		lvl = slog.LevelDebug
	case c.verbose == 1:
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
}

func (c *common) finalSettings() map[string]string {
	m := map[string]string{}
	for k, v := range c.settings {
		m[k] = v
	}
	if c.pyfiles != "" {
		if old := m["python.files"]; old != "" {
			m["python.files"] = old + "," + c.pyfiles
		} else {
			m["python.files"] = c.pyfiles
		}
	}
	return m
}

func python(settings map[string]string) string {
	if p := settings["python.executable"]; p != "" {
		return p
	}
	if p := os.Getenv("WEIR_PYTHON"); p != "" {
		return p
	}
	return "python3"
}

func cmdSQL(args []string, stdout, stderr io.Writer, explain bool) int {
	name := "sql"
	if explain {
		name = "explain"
	}
	fs := flag.NewFlagSet("weir "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	file := fs.String("f", "", "the SQL `file` to run (- for standard input)")
	if err := fs.Parse(c.normalize(args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *file == "" {
		fmt.Fprintf(stderr, "weir %s: -f job.sql is required\n", name)
		return exitUsage
	}
	var src []byte
	var err error
	if *file == "-" {
		src, err = io.ReadAll(os.Stdin)
	} else {
		src, err = os.ReadFile(*file)
	}
	if err != nil {
		fmt.Fprintf(stderr, "weir: %v\n", err)
		return exitFailed
	}
	return runScript(string(src), *file, &c, stdout, stderr, explain)
}

// runScript plans and runs (or explains) a SQL script.
func runScript(src, file string, c *common, stdout, stderr io.Writer, explain bool) int {
	log := c.logger(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stmts, err := sql.Parse(src)
	if err != nil {
		fmt.Fprintf(stderr, "weir: %s: %v\n", file, err)
		return exitFailed
	}
	settings := c.finalSettings()
	// SET statements may name the interpreter and files too; apply them
	// before describing functions.
	for _, st := range stmts {
		if s, ok := st.(*sql.Set); ok {
			settings[s.Key] = s.Value
		}
	}
	planner := &plan.Planner{Describe: describer(ctx, settings), Settings: c.finalSettings()}
	prog, err := planner.Plan(stmts)
	if err != nil {
		fmt.Fprintf(stderr, "weir: %s: %v\n", file, err)
		return exitFailed
	}
	for _, w := range job.UnusedOptions(prog.Settings) {
		fmt.Fprintf(stderr, "weir: warning: %s\n", w)
	}
	if prog.Settings["python.executable"] == "" {
		prog.Settings["python.executable"] = python(prog.Settings)
	}
	if explain {
		for i, j := range prog.Jobs {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			fmt.Fprint(stdout, j.Explain())
		}
		return exitOK
	}
	if len(prog.Jobs) == 0 {
		fmt.Fprintf(stderr, "weir: %s has no INSERT INTO statement: nothing to run\n", file)
		return exitFailed
	}
	for _, j := range prog.Jobs {
		res, err := job.Run(ctx, j, prog.Settings, job.Options{Out: stdout, Log: log})
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintf(stderr, "weir: job cancelled; the sink's output is incomplete and was not committed\n")
				return exitCancelled
			}
			fmt.Fprintf(stderr, "weir: job failed: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stderr, "weir: job finished: %d rows in %.2f s\n", res.Rows, res.Elapsed.Seconds())
		if res.Batches > 0 {
			fmt.Fprintf(stderr, "weir: Python stages: %d batches, latency p50 %s, p99 %s\n", res.Batches, res.LatencyP50.Round(10*time.Microsecond), res.LatencyP99.Round(10*time.Microsecond))
		}
		if res.Restarts > 0 {
			fmt.Fprintf(stderr, "weir: %d Python worker(s) were restarted; their bundles were replayed\n", res.Restarts)
		}
		for _, m := range res.Metrics {
			fmt.Fprintf(stderr, "weir: metric %s\n", m)
		}
	}
	return exitOK
}

// describer describes Python functions with the interpreter and files that
// the settings name, as the workers will see them.
func describer(ctx context.Context, settings map[string]string) plan.Describer {
	return func(paths []string) (map[string]plan.FunctionInfo, map[string]error, error) {
		js, err := job.ParseSettings(settings)
		if err != nil {
			return nil, nil, err
		}
		infos, errs, err := pyexec.Describe(ctx, python(settings), js.PyFiles, paths)
		if err != nil {
			return nil, nil, err
		}
		out := map[string]plan.FunctionInfo{}
		for k, fi := range infos {
			out[k] = plan.FunctionInfo{Kind: fi.Kind, InputTypes: fi.InputTypes, ResultTypes: fi.ResultTypes,
				Deterministic: fi.Deterministic, MinArgs: fi.MinArgs, MaxArgs: fi.MaxArgs}
		}
		return out, errs, nil
	}
}
