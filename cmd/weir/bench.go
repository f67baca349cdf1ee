package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/weir-dev/weir/internal/job"
	"github.com/weir-dev/weir/internal/plan"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/tmpdir"
)

// flip121UDF is the function of FLIP-121's benchmark.
const flip121UDF = `from weir import udf, DataTypes


@udf(input_types=[DataTypes.INT(False)], result_type=DataTypes.INT(False))
def inc(x):
    return x + 1
`

// flip121SQL is FLIP-121's benchmark job: inc on every INT NOT NULL column,
// datagen -> blackhole.
func flip121SQL(rows, columns int) string {
	var cols, opts, calls []string
	for i := 0; i < columns; i++ {
		cols = append(cols, fmt.Sprintf("c%d INT NOT NULL", i))
		opts = append(opts, fmt.Sprintf("'fields.c%d.min' = '0', 'fields.c%d.max' = '1000000'", i, i))
		calls = append(calls, fmt.Sprintf("inc(c%d)", i))
	}
	var outs []string
	for i := 0; i < columns; i++ {
		outs = append(outs, fmt.Sprintf("c%d INT NOT NULL", i))
	}
	return fmt.Sprintf(`CREATE TABLE src (%s) WITH ('connector' = 'datagen', 'number-of-rows' = '%d', %s);
CREATE TABLE snk (%s) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION inc AS 'weir_bench_udfs.inc' LANGUAGE PYTHON;
INSERT INTO snk SELECT %s FROM src;
`, strings.Join(cols, ", "), rows, strings.Join(opts, ", "), strings.Join(outs, ", "), strings.Join(calls, ", "))
}

func cmdBench(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintln(stdout, "Usage:\n  weir bench flip121 [--rows N] [--columns M] [--workers W] [-D key=value ...]\n\nRun 'weir bench flip121 --help' for its flags.")
		return exitOK
	}
	if len(args) == 0 || args[0] != "flip121" {
		fmt.Fprintln(stderr, "usage: weir bench flip121 [--rows N] [--columns M] [--workers W] [-D key=value ...]")
		return exitUsage
	}
	fs := flag.NewFlagSet("weir bench flip121", flag.ContinueOnError)
	var c common
	c.register(fs)
	c.registerProgress(fs)
	rows := fs.Int("rows", 10_000_000, "number of rows")
	columns := fs.Int("columns", 10, "number of INT NOT NULL columns, each through inc")
	workers := fs.Int("workers", 1, "Python workers (parallelism.default)")
	showSQL := fs.Bool("print-sql", false, "print the job's SQL and exit")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the engine to `file`")
	synopsis := "weir bench flip121 [--rows N] [--columns M] [--workers W] [-D key=value ...] [--progress=auto|tty|plain|off]"
	if code, ok := parseFlags(fs, c.normalize(args[1:]), synopsis, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return stray("weir bench flip121", fs.Args(), nil, stderr)
	}
	mode, err := progressMode(c.progress)
	if err != nil {
		fmt.Fprintf(stderr, "weir bench: %v\n", err)
		return exitUsage
	}
	if *rows < 1 || *columns < 1 || *workers < 1 {
		fmt.Fprintln(stderr, "weir bench: --rows, --columns and --workers must be at least 1")
		return exitUsage
	}
	src := flip121SQL(*rows, *columns)
	if *showSQL {
		fmt.Fprint(stdout, src)
		return exitOK
	}
	dir, err := tmpdir.Make("weir-bench-")
	if err != nil {
		fmt.Fprintf(stderr, "weir bench: %v\n", err)
		return exitFailed
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "weir_bench_udfs.py"), []byte(flip121UDF), 0o644); err != nil {
		fmt.Fprintf(stderr, "weir bench: %v\n", err)
		return exitFailed
	}
	if _, ok := c.settings["parallelism.default"]; !ok {
		c.settings["parallelism.default"] = fmt.Sprint(*workers)
	}
	if err := c.checkFlagFiles(); err != nil {
		fmt.Fprintf(stderr, "weir bench: %v\n", err)
		return exitFailed
	}
	if c.pyfiles != "" {
		c.pyfiles = dir + "," + c.pyfiles
	} else {
		c.pyfiles = dir
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "weir bench: %v\n", err)
			return exitFailed
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "weir bench: %v\n", err)
			return exitFailed
		}
		defer pprof.StopCPUProfile()
	}
	progress, _, stderr := c.setupProgress(mode, io.Discard, stderr)
	res, code := runBench(src, &c, progress, stderr)
	if code != exitOK {
		return code
	}
	secs := res.Elapsed.Seconds()
	steady := (res.Elapsed - res.Startup).Seconds()
	calls := float64(res.Rows) * float64(*columns)
	fmt.Fprintf(stdout, "FLIP-121 job: %d rows x %d INT columns through inc, %d Python worker(s)\n", res.Rows, *columns, res.Workers)
	fmt.Fprintf(stdout, "rows: %d  seconds: %.2f  rows/s: %.0f  calls/s: %.0f\n", res.Rows, secs, float64(res.Rows)/secs, calls/secs)
	fmt.Fprintf(stdout, "start-up: %.2f s  after start-up: %.2f s  rows/s: %.0f  ns/row: %.1f  ns/call: %.1f\n",
		res.Startup.Seconds(), steady, float64(res.Rows)/steady, steady*1e9/float64(res.Rows), steady*1e9/calls)
	fmt.Fprintf(stdout, "Python stage latency per batch: p50 %.2f ms  p99 %.2f ms  (%d batches)\n",
		float64(res.LatencyP50)/1e6, float64(res.LatencyP99)/1e6, res.Batches)
	return exitOK
}

func runBench(src string, c *common, progress job.Progress, stderr io.Writer) (*job.Result, int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stmts, err := sql.Parse(src)
	if err != nil {
		fmt.Fprintf(stderr, "weir bench: %v\n", err)
		return nil, exitFailed
	}
	settings := c.finalSettings()
	settings["python.executable"] = python(settings)
	log := c.logger(stderr)
	early := &earlyWorkers{ctx: ctx, settings: settings, log: log}
	defer early.close()
	planner := &plan.Planner{Settings: settings, Describe: describer(ctx, settings, early)}
	prog, err := planner.Plan(stmts)
	if err != nil {
		fmt.Fprintf(stderr, "weir bench: %v\n", err)
		return nil, exitFailed
	}
	res, err := job.Run(ctx, prog.Jobs[0], prog.Settings, job.Options{Out: io.Discard, Log: log, Progress: progress, Early: early.pool()})
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "weir bench: cancelled")
			return nil, exitCancelled
		}
		fmt.Fprintf(stderr, "weir bench: job failed: %v\n", err)
		return nil, exitFailed
	}
	return res, exitOK
}
