"""Parquet -> Python UDF -> Parquet: weir against DuckDB reading and writing the same files.

One run, run by `make bench-parquet` (options in BENCH_PARQUET_ARGS):

  1. DuckDB writes the input: N rows (id BIGINT, x DOUBLE, s VARCHAR of 12-16 characters, k INT) as
     one snappy Parquet file in a directory (the shape of a filesystem table's path).
  2. weir: bin/weir sql reads that directory as a 'filesystem' table, calls a Python function on each
     row's x (f(x) = x * 2.0 + 1.0, udfs in this file's bench/suite_udfs.py style) and writes
     (id, f(x), s) to a Parquet table (snappy), 1 Python worker.
  3. DuckDB with the same function registered by create_function (a Python UDF called per row,
     type 'native'), COPY (SELECT id, f(x), s FROM read_parquet(...)) TO a Parquet file (snappy).
  4. DuckDB native: the same with x * 2.0 + 1.0 in SQL, the anchor without Python.

rows/s is N over the wall-clock time of the whole job (read, function, write, commit; weir's from its
own log of the job, DuckDB's around COPY). CPU seconds (the engine's and workers' for weir, the
process's for DuckDB) and CPU µs per row are printed beside, since the machine may be shared, and weir's
engine and Python worker apart (sampled from /proc by bench/run.py's ProcSampler). Each output is checked:
its row count and SUM(f(x)) read by DuckDB must equal the input's, so DuckDB reads weir's files and
weir reads DuckDB's. DuckDB runs with `--threads` threads (default 1: the UDF holds the GIL, and weir
runs one Python worker).

Usage: python bench/parquet.py [--rows N] [--threads T] [--out bench/results] (it goes on in bench/.venv-tools,
which it makes when missing, for DuckDB)
"""

import argparse
import datetime
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import run  # noqa: E402  (bench/run.py: its venv helper and process sampler)

UDFS = '''
from weir import udf, DataTypes


@udf(result_type=DataTypes.DOUBLE())
def f(x):
    return x * 2.0 + 1.0
'''


def f(x):
    return x * 2.0 + 1.0


def loadavg():
    with open("/proc/loadavg") as fh:
        return fh.read().split()[:3]


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def make_input(duckdb, path, rows):
    os.makedirs(path)
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT range AS id, (range % 100003) / 7.0 AS x,
                                 'name-' || (range * 7919 % 100000000)::VARCHAR AS s, (range % 1000)::INT AS k
                          FROM range({rows}))
                    TO '{path}/part-0.parquet' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 1000000)""")
    con.close()


def check(duckdb, glob, rows, want_sum):
    con = duckdb.connect()
    n, s = con.execute(f"SELECT COUNT(*), SUM(y) FROM read_parquet('{glob}')").fetchone()
    con.close()
    ok = n == rows and abs(s - want_sum) <= 1e-9 * abs(want_sum)
    return {"rows": n, "sum": s, "ok": ok}


def run_weir(weir, python, tmp, indir, outdir, rows):
    with open(os.path.join(tmp, "bench_parquet_udfs.py"), "w") as fh:
        fh.write(UDFS)
    job = os.path.join(tmp, "job.sql")
    with open(job, "w") as fh:
        fh.write(f"""CREATE TABLE src (id BIGINT, x DOUBLE, s STRING, k INT)
  WITH ('connector' = 'filesystem', 'path' = '{indir}', 'format' = 'parquet');
CREATE TABLE snk (id BIGINT, y DOUBLE, s STRING)
  WITH ('connector' = 'filesystem', 'path' = '{outdir}', 'format' = 'parquet');
CREATE TEMPORARY FUNCTION f AS 'bench_parquet_udfs.f' LANGUAGE PYTHON;
INSERT INTO snk SELECT id, f(x), s FROM src;
""")
    env = dict(os.environ, WEIR_PYTHON=python)
    c0, t0 = children_cpu(), time.perf_counter()
    p = subprocess.Popen([weir, "sql", "-f", job, "--pyfiles", tmp, "--progress=off"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = run.ProcSampler(p.pid)  # the engine's and the worker's CPU apart
    sampler.start()
    out, err = p.communicate()
    sampler.stop()
    wall, cpu = time.perf_counter() - t0, children_cpu() - c0
    if p.returncode != 0:
        sys.exit(f"weir failed ({p.returncode}):\n{err[-3000:]}")
    rss = run.summarize_rss(sampler.peaks())
    # "weir: job finished: N rows in S s" is the job's own time (no planning, no start-up of the CLI).
    m = re.search(r"job finished: (\d+) rows in ([0-9.]+) s", err)
    job_s = float(m.group(2)) if m else wall
    return {"seconds": job_s, "wall_s": wall, "cpu_s": cpu, "engine_cpu_s": rss["engine_cpu_s"],
            "worker_cpu_s": rss["workers_cpu_s"], "engine_mb": rss["engine_mb"],
            "rows_out": int(m.group(1)) if m else None}


def run_duckdb(duckdb, indir, out, threads, udf):
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    y = "x * 2.0 + 1.0"
    if udf:
        try:
            from duckdb.sqltypes import DOUBLE
        except ImportError:  # duckdb < 1.4
            from duckdb.typing import DOUBLE
        con.create_function("f", f, [DOUBLE], DOUBLE)
        y = "f(x)"
    c0, t0 = time.process_time(), time.perf_counter()
    con.execute(f"""COPY (SELECT id, {y} AS y, s FROM read_parquet('{indir}/*.parquet'))
                    TO '{out}' (FORMAT parquet, COMPRESSION snappy)""")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    con.close()
    return {"seconds": wall, "cpu_s": cpu}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--threads", type=int, default=1, help="DuckDB's threads (default 1)")
    ap.add_argument("--weir", default=os.path.join(ROOT, "bin", "weir"))
    ap.add_argument("--python", default=os.path.join(ROOT, ".venv", "bin", "python"), help="weir's worker Python")
    ap.add_argument("--out", default=os.path.join(BENCH, "results"))
    args = ap.parse_args()
    try:
        import duckdb
    except ImportError:  # run by the project's venv: go on in the tools venv, which has DuckDB
        run.ensure_venv(run.TOOLS_VENV, os.path.join(BENCH, "requirements-tools.txt"), "duckdb and matplotlib")
        py = os.path.join(run.TOOLS_VENV, "bin", "python")
        os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])

    tmp = tempfile.mkdtemp(prefix="weir-bench-parquet-")
    try:
        indir = os.path.join(tmp, "in")
        load0 = loadavg()
        t0 = time.perf_counter()
        make_input(duckdb, indir, args.rows)
        con = duckdb.connect()
        want_sum = con.execute(f"SELECT SUM(x * 2.0 + 1.0) FROM read_parquet('{indir}/*.parquet')").fetchone()[0]
        con.close()
        print(f"input: {args.rows:,} rows, {os.path.getsize(os.path.join(indir, 'part-0.parquet')) / 1e6:.0f} MB "
              f"({time.perf_counter() - t0:.1f} s); load average {' '.join(load0)}", flush=True)
        res = {}
        res["weir"] = run_weir(args.weir, args.python, tmp, indir, os.path.join(tmp, "out-weir"), args.rows)
        res["weir"]["check"] = check(duckdb, os.path.join(tmp, "out-weir", "*"), args.rows, want_sum)
        print("weir", res["weir"], flush=True)
        res["duckdb_udf"] = run_duckdb(duckdb, indir, os.path.join(tmp, "out-duck-udf.parquet"), args.threads, True)
        res["duckdb_udf"]["check"] = check(duckdb, os.path.join(tmp, "out-duck-udf.parquet"), args.rows, want_sum)
        print("duckdb_udf", res["duckdb_udf"], flush=True)
        res["duckdb_native"] = run_duckdb(duckdb, indir, os.path.join(tmp, "out-duck.parquet"), args.threads, False)
        res["duckdb_native"]["check"] = check(duckdb, os.path.join(tmp, "out-duck.parquet"), args.rows, want_sum)
        print("duckdb_native", res["duckdb_native"], flush=True)
        load1 = loadavg()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    for r in res.values():
        r["rows_per_s"] = args.rows / r["seconds"]
    w = res["weir"]["rows_per_s"]
    data = {
        "date": datetime.date.today().isoformat(), "host": socket.gethostname(), "rows": args.rows,
        "duckdb": duckdb.__version__, "duckdb_threads": args.threads, "cpus": os.cpu_count(),
        "loadavg_start": load0, "loadavg_end": load1, "results": res,
        "ratios": {"weir_vs_duckdb_udf": w / res["duckdb_udf"]["rows_per_s"],
                   "weir_vs_duckdb_native": w / res["duckdb_native"]["rows_per_s"]},
    }
    n = args.rows
    lines = [
        f"# Parquet -> Python UDF -> Parquet ({data['date']}, {args.rows:,} rows, bench/parquet.py)",
        "",
        f"DuckDB {data['duckdb']} with {args.threads} thread(s); weir with 1 Python worker; {data['cpus']} CPUs; "
        f"load average {' '.join(load0)} at the start, {' '.join(load1)} at the end.",
        "",
        "| engine | seconds | rows/s | CPU s | CPU µs/row | weir's rows/s / this | output checked |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, label in (("weir", "weir (filesystem parquet, @udf)"), ("duckdb_udf", "DuckDB + create_function UDF"),
                        ("duckdb_native", "DuckDB native (no Python)")):
        r = res[name]
        lines.append(f"| {label} | {r['seconds']:.2f} | {r['rows_per_s'] / 1e6:.2f} M | {r['cpu_s']:.1f} | "
                     f"{r['cpu_s'] / n * 1e6:.2f} | "
                     f"{w / r['rows_per_s']:.2f}x | {'yes' if r['check']['ok'] else 'NO: ' + str(r['check'])} |")
    r = res["weir"]
    lines += ["", f"weir's CPU apart (sampled from /proc, a little short): engine {r['engine_cpu_s']:.1f} s "
              f"({r['engine_cpu_s'] / n * 1e6:.2f} µs/row, peak {r['engine_mb']} MB), Python worker "
              f"{r['worker_cpu_s']:.1f} s ({r['worker_cpu_s'] / n * 1e6:.2f} µs/row)."]
    md = "\n".join(lines) + "\n"
    print(md)
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"{data['date']}-{data['host']}-parquet")
    with open(stem + ".json", "w") as fh:
        json.dump(data, fh, indent=1)
    with open(stem + ".md", "w") as fh:
        fh.write(md)
    if not all(r["check"]["ok"] for r in res.values()):
        sys.exit("an output did not check out")


if __name__ == "__main__":
    main()
