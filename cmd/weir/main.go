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
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/weir-dev/weir/internal/config"
	"github.com/weir-dev/weir/internal/job"
	"github.com/weir-dev/weir/internal/plan"
	"github.com/weir-dev/weir/internal/pyexec"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/state"
	"github.com/weir-dev/weir/internal/suggest"
)

// version is set by the build (-ldflags "-X main.version=...") from
// python/weir/__init__.py, the one place weir's version is written.
var version = "dev"

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
// Each on-disk state store raises it by its own cache and memtables while
// open (state.RaiseMemoryLimit): they are held, not in flight.
const defaultMemoryLimit = 96 << 20

// defaultGCPercent is GOGC unless it is set. The engine's live heap is
// small (the batches in flight: ~10-20 MB for a Python stage) while rows
// pass through it as a stream of short-lived buffers, so at Go's default of
// 100 it collects every ~15 MB allocated: about 160 collections for 100M
// INT rows through a vectorized function, about a quarter of the engine's CPU
// there. At 200 that CPU fell by ~25% (bench/results: engine CPU per row),
// for ~15 MB more resident memory; the soft limit above still bounds the
// heap (the collector runs sooner when it nears the limit).
const defaultGCPercent = 200

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
		state.RaiseMemoryLimit()
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	stop := startProfile(os.Getenv("WEIR_CPUPROFILE"))
	stopTrace := startTrace(os.Getenv("WEIR_TRACE"))
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	stopTrace()
	stop()
	os.Exit(code)
}

// startProfile writes a Go CPU profile of the whole command to path (the
// WEIR_CPUPROFILE environment variable, for profiling any job), unless path
// is empty; the returned function ends it.
func startProfile(path string) func() {
	return startRecording("WEIR_CPUPROFILE", path, pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// startTrace writes a Go execution trace of the whole command to path (the
// WEIR_TRACE environment variable: where goroutines waited, e.g. with
// 'go tool trace -pprof=sched'), unless path is empty; the returned
// function ends it.
func startTrace(path string) func() {
	return startRecording("WEIR_TRACE", path, trace.Start, trace.Stop)
}

// startRecording starts a recording (a profile, a trace) into a new file at
// path, and returns what ends it; a failure is reported on stderr, naming
// the variable that asked for it.
func startRecording(variable, path string, start func(io.Writer) error, stop func()) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		if err = start(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "weir: %s: %v\n", variable, err)
		return func() {}
	}
	return func() {
		stop()
		f.Close()
	}
}

// exitCodesHelp documents the exit codes in every help text.
const exitCodesHelp = `Exit codes:
  0    success
  1    the job failed or could not start (a SQL error, a missing file, a Python error)
  2    wrong usage (an unknown command or flag, a stray argument, a malformed -D)
  130  cancelled by SIGINT or SIGTERM; the sink's output was not committed
`

func usage(w io.Writer) {
	fmt.Fprint(w, `weir runs Flink SQL jobs with Python user-defined functions.

Usage:
  weir sql -f job.sql [--pyfiles a.py,dir,b.zip] [-D key=value ...] [--target local|flink://HOST:PORT]
           [--progress=auto|tty|plain|off] [-v]
  weir explain -f job.sql [--pyfiles ...] [-D key=value ...]
  weir bench flip121 [--rows N] [--columns M] [--workers W] [-D key=value ...]
  weir gateway [-D key=value ...]   (started by the weir.table Python package)
  weir options [--markdown]         (the options weir reads, their types and defaults)
  weir version

Options use Flink's names, e.g. -D parallelism.default=2, -D python.executable=/usr/bin/python3,
-D python.fn-execution.bundle.size=100000. The Python interpreter defaults to $WEIR_PYTHON, then python3.
Run 'weir <command> --help' for the flags of a command.

`+exitCodesHelp)
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
	case "gateway":
		return cmdGateway(args[1:], os.Stdin, stdout, stderr)
	case "options":
		return cmdOptions(args[1:], stdout, stderr)
	case "version", "--version":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "weir version: unexpected argument '%s'; it takes none\n", args[1])
			return exitUsage
		}
		fmt.Fprintf(stdout, "weir %s\n", version)
		return exitOK
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	msg := fmt.Sprintf("weir: unknown command %q", args[0])
	if s := suggest.Closest(args[0], []string{"sql", "explain", "bench", "gateway", "options", "version", "help"}, 2); s != "" {
		msg += fmt.Sprintf(" (did you mean '%s'?)", s)
	} else if strings.HasSuffix(args[0], ".sql") {
		msg += fmt.Sprintf(" (did you mean 'weir sql -f %s'?)", args[0])
	}
	fmt.Fprintf(stderr, "%s\n\n", msg)
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

// countFlag is a flag without a value that counts how often it is given
// (-v -v, or -vv): help shows it as "-v", not "-v value".
type countFlag int

func (c *countFlag) String() string {
	if c == nil {
		return "0"
	}
	return strconv.Itoa(int(*c))
}

func (c *countFlag) Set(v string) error {
	on, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("takes no value (repeat it for more: -v -v)")
	}
	if on {
		*c++
	} else {
		*c = 0
	}
	return nil
}

func (c *countFlag) IsBoolFlag() bool { return true }

type common struct {
	settings settingFlags
	pyfiles  string
	verbose  countFlag
	progress string
	interval time.Duration
}

func (c *common) register(fs *flag.FlagSet) {
	c.settings = settingFlags{}
	fs.Var(c.settings, "D", "set an option, `key=value` (repeatable), e.g. -D parallelism.default=2")
	fs.StringVar(&c.pyfiles, "pyfiles", "", "comma-separated Python `files`, directories or zips for the workers (python.files)")
	fs.Var(&c.verbose, "v", "log more: -v for info, -vv (or -v -v) for debug logs")
}

// registerProgress adds the flags of progress reports.
func (c *common) registerProgress(fs *flag.FlagSet) {
	fs.StringVar(&c.progress, "progress", "auto", "how a running job shows its progress on stderr: `mode` is\n"+
		"auto: a live line on a terminal, else a line every --progress-interval;\n"+
		"tty: always the live line; plain: always the periodic lines; off: nothing")
	fs.DurationVar(&c.interval, "progress-interval", job.DefaultProgressInterval, "time between two progress lines when not on a terminal\n"+
		"(jobs shorter than this print none)")
}

// normalize spells -vv and -vvv as repeated -v.
func (c *common) normalize(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		vs := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if strings.HasPrefix(a, "-") && len(vs) >= 2 && strings.Trim(vs, "v") == "" {
			for range vs {
				out = append(out, "-v")
			}
			continue
		}
		out = append(out, a)
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

// finalSettings are the session's initial options: the -D flags, with
// --pyfiles added to python.files.
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

// checkFlagFiles checks the values of the -D options and the files named
// by --pyfiles and -D python.files.
func (c *common) checkFlagFiles() error {
	if _, _, err := config.Resolve(c.finalSettings()); err != nil {
		return fmt.Errorf("-D: %w", err)
	}
	if err := checkPyFiles(c.pyfiles, "--pyfiles"); err != nil {
		return err
	}
	return checkPyFiles(c.settings["python.files"], "-D python.files")
}

// checkPyFiles checks that each comma-separated entry of list exists; from
// says where the list was given.
func checkPyFiles(list, from string) error {
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		_, err := os.Stat(p)
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrNotExist) {
			where := ""
			if !filepath.IsAbs(p) {
				if wd, err := os.Getwd(); err == nil {
					where = fmt.Sprintf(" (relative to %s)", wd)
				}
			}
			return fmt.Errorf("%s: '%s' does not exist%s; give Python files, directories or zips that exist, separated by commas", from, p, where)
		}
		return fmt.Errorf("%s: '%s': %w", from, p, err)
	}
	return nil
}

// parseFlags parses a command's flags; ok is false when the command must
// end with code (after -h, or a usage error, which it reports).
func parseFlags(fs *flag.FlagSet, args []string, synopsis string, stdout, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(io.Discard) // errors are reported below, with a hint
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "Usage:\n  %s\n\nFlags:\n", synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fmt.Fprint(stdout, "\n"+exitCodesHelp)
		return exitOK, false
	}
	if err != nil {
		msg := err.Error()
		if name, found := strings.CutPrefix(msg, "flag provided but not defined: -"); found {
			name = strings.TrimLeft(name, "-")
			var names []string
			s := ""
			fs.VisitAll(func(f *flag.Flag) {
				names = append(names, f.Name)
				if strings.EqualFold(f.Name, name) {
					s = f.Name // -pyFiles, as Flink spells it
				}
			})
			if s == "" {
				s = suggest.Closest(name, names, 3)
			}
			if s != "" {
				msg += fmt.Sprintf(" (did you mean --%s?)", s)
			}
		}
		fmt.Fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", fs.Name(), msg, fs.Name())
		return exitUsage, false
	}
	return 0, true
}

// stray reports arguments that no flag takes, with a guess at what was
// meant; set says whether a flag was given.
func stray(cmd string, args []string, set func(name string) bool, stderr io.Writer) int {
	a := args[0]
	has := func(name string) bool { return set != nil && set(name) }
	var hint string
	fi, statErr := os.Stat(a)
	ext := strings.ToLower(filepath.Ext(a))
	switch {
	case strings.HasPrefix(a, "-") && a != "-":
		hint = "flags go before other arguments"
	case set == nil:
	case strings.Contains(a, "=") && statErr != nil:
		hint = "did you mean -D " + a + "?"
	case ext == ".py" || ext == ".zip" || ext == ".whl" || ext == ".egg" || statErr == nil && fi.IsDir():
		if has("pyfiles") {
			hint = "--pyfiles takes one comma-separated list, e.g. --pyfiles udfs.py," + a
		} else {
			hint = "did you mean --pyfiles " + a + "?"
		}
	case a == "-" || ext == ".sql" || statErr == nil:
		if has("f") {
			hint = "-f takes one file; put all the statements in it"
		} else {
			hint = "did you mean -f " + a + "?"
		}
	}
	msg := fmt.Sprintf("%s: unexpected argument '%s'", cmd, a)
	if n := len(args) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	if hint != "" {
		msg += "; " + hint
	}
	fmt.Fprintf(stderr, "%s\nRun '%s --help' for usage.\n", msg, cmd)
	return exitUsage
}

// flagSet returns a function telling whether fs's flag name was given.
func flagSet(fs *flag.FlagSet) func(string) bool {
	return func(name string) bool {
		found := false
		fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
		return found
	}
}

// python is the workers' interpreter that settings name (see
// config.Config.Python).
func python(settings map[string]string) string {
	if p := settings[config.PythonExecutable]; p != "" {
		return p
	}
	return config.Default().Python()
}

func cmdSQL(args []string, stdout, stderr io.Writer, explain bool) int {
	name := "weir sql"
	synopsis := "weir sql -f job.sql [--pyfiles a.py,dir,b.zip] [-D key=value ...] [--target local|flink://HOST:PORT] [--progress=auto|tty|plain|off] [-v]"
	if explain {
		name = "weir explain"
		synopsis = "weir explain -f job.sql [--pyfiles a.py,dir,b.zip] [-D key=value ...]"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var c common
	c.register(fs)
	if !explain {
		c.registerProgress(fs)
	}
	file := fs.String("f", "", "the SQL `file` to run (- for standard input)")
	target := new(string)
	if !explain {
		fs.StringVar(target, "target", "", "where the job runs: `local` (weir's engine, the default) or flink://HOST:PORT,\n"+
			"a Flink cluster's REST endpoint, through PyFlink (see python.client.executable)")
	}
	if code, ok := parseFlags(fs, c.normalize(args), synopsis, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return stray(name, fs.Args(), flagSet(fs), stderr)
	}
	if *file == "" {
		fmt.Fprintf(stderr, "%s: -f job.sql is required\nRun '%s --help' for usage.\n", name, name)
		return exitUsage
	}
	mode := "off"
	if !explain {
		var err error
		if mode, err = progressMode(c.progress); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return exitUsage
		}
	}
	var flink *flinkTarget
	var err error
	if !explain {
		if flink, err = targetOf(*target, c.finalSettings()); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return exitUsage
		}
	}
	if err := c.checkFlagFiles(); err != nil {
		fmt.Fprintf(stderr, "weir: %v\n", err)
		return exitFailed
	}
	var src []byte
	if *file == "-" {
		src, err = io.ReadAll(os.Stdin)
	} else {
		src, err = os.ReadFile(*file)
	}
	if errors.Is(err, os.ErrNotExist) {
		wd, _ := os.Getwd()
		fmt.Fprintf(stderr, "weir: -f %s: the file does not exist (relative to %s)\n", *file, wd)
		return exitFailed
	}
	if err != nil {
		fmt.Fprintf(stderr, "weir: -f %s: %v\n", *file, err)
		return exitFailed
	}
	if flink != nil {
		return runOnFlink(flink, src, *file, c.finalSettings(), stdout, stderr)
	}
	var p job.Progress
	if !explain {
		p, stdout, stderr = c.setupProgress(mode, stdout, stderr)
	}
	return runScript(string(src), *file, &c, p, stdout, stderr, explain)
}

// runScript plans and runs (or explains) a SQL script.
func runScript(src, file string, c *common, progress job.Progress, stdout, stderr io.Writer, explain bool) int {
	log := c.logger(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stmts, err := sql.Parse(src)
	if err != nil {
		fmt.Fprintf(stderr, "weir: %s: %v\n", file, err)
		return exitFailed
	}
	// Functions are described once, before planning, with the interpreter
	// and files that any SET of the script names (RESET aside); the planner
	// applies SET and RESET in order and reports bad values where they are.
	described := config.NewSession(c.finalSettings())
	for _, st := range stmts {
		if s, ok := st.(*sql.Set); ok && described.Set(s.Key, s.Value) == nil && s.Key == config.PythonFiles {
			if err := checkPyFiles(s.Value, fmt.Sprintf("%s: SET 'python.files'", file)); err != nil {
				fmt.Fprintf(stderr, "weir: %v\n", err)
				return exitFailed
			}
		}
	}
	var early *earlyWorkers
	if !explain && settingsSettled(stmts) {
		early = &earlyWorkers{ctx: ctx, settings: described.Map(), log: log}
		defer early.close()
	}
	planner := &plan.Planner{Describe: describer(ctx, described.Map(), early), Settings: c.finalSettings()}
	prog, err := planner.Plan(stmts)
	if err != nil {
		fmt.Fprintf(stderr, "weir: %s: %v\n", file, err)
		return exitFailed
	}
	for _, w := range unusedOptions(prog) {
		fmt.Fprintf(stderr, "weir: warning: %s\n", w)
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
		res, err := job.Run(ctx, j, j.Settings, job.Options{Out: stdout, Log: log, Progress: progress, Early: early.pool()})
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

// unusedOptions warns once about each option of the script that weir does
// not read, whichever statement set it.
func unusedOptions(prog *plan.Program) []string {
	seen := map[string]bool{}
	var out []string
	add := func(m map[string]string) {
		for _, w := range config.Unknown(m) {
			if !seen[w.Key] {
				seen[w.Key] = true
				out = append(out, w.String())
			}
		}
	}
	add(prog.Settings)
	for _, j := range prog.Jobs {
		add(j.Settings)
	}
	slices.Sort(out)
	return out
}

// describer describes Python functions with the interpreter and files that
// the settings name, as the workers will see them. The first description
// starts the workers of early (when not nil) alongside.
func describer(ctx context.Context, settings map[string]string, early *earlyWorkers) plan.Describer {
	return func(paths []string) (map[string]plan.FunctionInfo, map[string]error, error) {
		js, err := job.ParseSettings(settings)
		if err != nil {
			return nil, nil, err
		}
		early.start(js)
		infos, errs, err := pyexec.Describe(ctx, python(settings), js.PyFiles, paths)
		if err != nil {
			return nil, nil, err
		}
		out := map[string]plan.FunctionInfo{}
		for k, fi := range infos {
			out[k] = plan.FunctionInfo{Kind: fi.Kind, InputTypes: fi.InputTypes, ResultTypes: fi.ResultTypes,
				Deterministic: fi.Deterministic, FuncType: fi.FuncType, MinArgs: fi.MinArgs, MaxArgs: fi.MaxArgs}
		}
		return out, errs, nil
	}
}

// settingsSettled reports whether no SET or RESET follows the script's first
// query: its first job then runs with the settings of the script's end,
// with which earlyWorkers starts the workers.
func settingsSettled(stmts []sql.Statement) bool {
	query := false
	for _, st := range stmts {
		switch st.(type) {
		case *sql.Insert, *sql.SelectStmt:
			query = true
		case *sql.Set, *sql.Reset:
			if query {
				return false
			}
		}
	}
	return true
}

// earlyWorkers starts a job's Python workers while the job is planned: they
// import Beam and pandas (a few hundred ms) while the engine describes the
// functions and opens the sources. The job takes them if its settings are
// those of the script's end (pyexec.Early); close stops them otherwise.
type earlyWorkers struct {
	ctx      context.Context
	settings map[string]string
	log      *slog.Logger
	e        *pyexec.Early
}

func (w *earlyWorkers) start(js job.Settings) {
	if w != nil && w.e == nil {
		w.e = pyexec.StartEarly(w.ctx, job.PoolConfig(js, w.log))
	}
}

// pool is the early pool, nil if none was started.
func (w *earlyWorkers) pool() *pyexec.Early {
	if w == nil {
		return nil
	}
	return w.e
}

func (w *earlyWorkers) close() {
	if w != nil && w.e != nil {
		w.e.Close()
	}
}
