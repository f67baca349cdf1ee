"""The UDAF benchmark: a sum-like Python aggregate function (bench/udaf_udfs.py) over N rows in K groups
(default 10,000,000 rows, 100,000 keys), GROUP BY k into a blackhole. Run it with `bench/run.py --udaf-only`.

- weir, batch mode, 1 worker: ns per accumulate call after start-up (the job over N rows less the same job
  over N/10 rows and K/10 keys, per row), in wall-clock time and in CPU time of the engine and its worker
  together. On a loaded machine the CPU figures are the ones to read: wall-clock time then measures the
  share of the cores the job got.
- the floor: the same accumulate called in a plain CPython loop over the same kind of values, in weir's
  interpreter, measured in the same run (wall-clock and CPU time of its thread).
- PyFlink 2.3, streaming mode (where its Python aggregate functions run), parallelism 1: rows/s after its
  fixed cost per job (the job over its rows less the same job over a few rows), against weir's rows/s
  after start-up.
- weir, streaming mode (accumulators in the engine's state store), when it runs Python aggregates: the
  job over N/10 rows and K/10 keys.

Only the standard library here: bench/pyflink_udaf.py imports it in PyFlink's virtualenv.
"""

import json
import os
import re
import resource
import time

HERE = os.path.dirname(os.path.abspath(__file__))
UDFS = os.path.join(HERE, "udaf_udfs.py")
UNLIMITED = 10 ** 12  # Flink's datagen rows per second: no limit in practice
VALUE_MAX = 1000


def statements(rows, keys, flink=False, mode=None):
    """The job: datagen (k in [0, keys), v in [0, VALUE_MAX]) -> py_sum(v) GROUP BY k -> blackhole."""
    opts = {"connector": "datagen", "number-of-rows": rows, "fields.k.min": 0, "fields.k.max": keys - 1,
            "fields.v.min": 0, "fields.v.max": VALUE_MAX}
    if flink:
        opts["rows-per-second"] = UNLIMITED
    w = ", ".join(f"'{k}' = '{v}'" for k, v in opts.items())
    out = [f"SET 'execution.runtime-mode' = '{mode}'"] if mode else []
    return out + [
        f"CREATE TABLE src (k INT NOT NULL, v BIGINT NOT NULL) WITH ({w})",
        "CREATE TABLE snk (k INT, s BIGINT) WITH ('connector' = 'blackhole')",
        "CREATE TEMPORARY FUNCTION IF NOT EXISTS py_sum AS 'udaf_udfs.py_sum' LANGUAGE PYTHON",
        "INSERT INTO snk SELECT k, py_sum(v) FROM src GROUP BY k",
    ]


# The floor, run by weir's interpreter: accumulate in a plain loop, best of reps.
FLOOR = r"""
import json, random, sys, time
sys.path.insert(0, sys.argv[1])
from udaf_udfs import Sum
n, reps = int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(42)
vs = [rnd.randint(0, %d) for _ in range(n)]
f = Sum().accumulate
wall = cpu = None
for _ in range(reps):
    acc = [0]
    t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
    for v in vs:
        f(acc, v)
    dw, dc = time.perf_counter_ns() - t0, time.thread_time_ns() - c0
    wall = dw if wall is None else min(wall, dw)
    cpu = dc if cpu is None else min(cpu, dc)
print(json.dumps({"n": n, "reps": reps, "python": sys.version.split()[0], "ns_per_call": wall / n,
                  "cpu_ns_per_call": cpu / n}))
""" % VALUE_MAX


def floor(s, n, reps):
    import subprocess

    r = subprocess.run([s.WEIR_PY, "-c", FLOOR, HERE, str(n), str(reps)], capture_output=True, text=True,
                       env=s.clean_env(), check=True)
    return json.loads(r.stdout)


def children_cpu_s():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def weir_job(s, rows, keys, tmp, mode="batch"):
    """One weir run: seconds of the job (as weir reports it), CPU seconds of the engine and its workers."""
    path = os.path.join(tmp, f"udaf-{mode}-{rows}.sql")
    with open(path, "w") as f:
        f.write(";\n".join(statements(rows, keys, mode=mode)) + ";\n")
    c0 = children_cpu_s()
    r = s.run_proc([s.WEIR, "sql", "-f", path, "--pyfiles", UDFS, "--progress=off", "-D",
                    "parallelism.default=1"], s.weir_env(), cwd=tmp)
    cpu = children_cpu_s() - c0
    m = re.search(r"job finished: (\d+) rows in ([\d.]+) s", r["stderr"])
    if r["rc"] != 0 or not m:
        raise RuntimeError(f"weir UDAF job ({mode}, {rows:,} rows) failed (rc {r['rc']}):\n{r['stderr'][-3000:]}")
    return {"mode": mode, "rows": rows, "groups": int(m.group(1)), "seconds": float(m.group(2)),
            "wall_s": r["wall_s"], "cpu_s": cpu, "rss": r["rss"],
            # sampled from /proc while the job ran: a little short of the totals
            "engine_cpu_s": r["rss"].get("engine_cpu_s"), "workers_cpu_s": r["rss"].get("workers_cpu_s")}


def steady(big, small):
    """Per-row figures of the rows between two runs of the same job (start-up cancels out)."""
    n = big["rows"] - small["rows"]
    out = {"rows": n, "ns_per_row": (big["seconds"] - small["seconds"]) * 1e9 / n,
           "cpu_ns_per_row": (big["cpu_s"] - small["cpu_s"]) * 1e9 / n}
    out["rows_per_s"] = 1e9 / out["ns_per_row"] if out["ns_per_row"] > 0 else None
    if big.get("engine_cpu_s") is not None and small.get("engine_cpu_s") is not None:
        out["engine_cpu_ns_per_row"] = (big["engine_cpu_s"] - small["engine_cpu_s"]) * 1e9 / n
        out["workers_cpu_ns_per_row"] = (big["workers_cpu_s"] - small["workers_cpu_s"]) * 1e9 / n
    return out


def run(s, rows, keys, pf_rows, tmp, run_pf, quick=False, log=print):
    """The whole benchmark; returns its figures and a few lines of text. s is bench/run.py (its helpers)."""
    data = {"rows": rows, "keys": keys, "load_start": open("/proc/loadavg").read().split()[:3]}
    reps = 3 if quick else 5
    fl = floor(s, 1_000_000 if not quick else 300_000, reps)
    data["floor"] = fl
    log(f"bench: udaf: floor (accumulate in a CPython loop): {fl['ns_per_call']:.1f} ns/call wall, "
        f"{fl['cpu_ns_per_call']:.1f} CPU")
    # The small run has a tenth of the rows and of the keys: the same rows per group, so that the
    # difference is the cost of rows, groups included, without the start-up.
    small = weir_job(s, max(1, rows // 10), max(1, keys // 10), tmp)
    big = weir_job(s, rows, keys, tmp)
    st = steady(big, small)
    data["weir_batch"] = {"big": big, "small": small, "steady": st}
    log(f"bench: udaf: weir batch {rows:,} rows: {big['seconds']:.2f} s, {big['cpu_s']:.2f} s CPU; "
        f"{small['rows']:,} rows: {small['seconds']:.2f} s; after start-up {st['ns_per_row']:.1f} ns/row "
        f"({st['cpu_ns_per_row']:.1f} CPU), engine {big['rss']['engine_mb']} MB")
    # The floor again after the jobs: the machine is shared, its load moves.
    fl2 = floor(s, 1_000_000 if not quick else 300_000, reps)
    data["floor_after"] = fl2
    fns = min(fl["ns_per_call"], fl2["ns_per_call"])
    fcpu = min(fl["cpu_ns_per_call"], fl2["cpu_ns_per_call"])
    data["ratio_wall"] = st["ns_per_row"] / fns
    data["ratio_cpu"] = st["cpu_ns_per_row"] / fcpu
    # weir's streaming mode, when it runs Python aggregate functions (accumulators in the engine's state).
    srows = max(1, rows // 10)
    try:
        skeys = max(1, keys // 10)
        ss = weir_job(s, max(1, srows // 10), max(1, skeys // 10), tmp, mode="streaming")
        sb = weir_job(s, srows, skeys, tmp, mode="streaming")
        data["weir_streaming"] = {"big": sb, "small": ss, "steady": steady(sb, ss)}
        log(f"bench: udaf: weir streaming {srows:,} rows: {sb['seconds']:.2f} s, after start-up "
            f"{data['weir_streaming']['steady']['ns_per_row']:.1f} ns/row")
    except RuntimeError as e:
        data["weir_streaming_error"] = str(e).splitlines()[-1][:300]
        log(f"bench: udaf: weir streaming mode did not run: {data['weir_streaming_error']}")
    if run_pf:
        spec = {"rows": pf_rows, "fixed_rows": max(1000, pf_rows // 20), "warmup_rows": max(1000, pf_rows // 20),
                "keys": keys, "settings": {"python.metric.enabled": "false", "pipeline.object-reuse": "true"}}
        r = s.run_proc([s.PF_PY, os.path.join(HERE, "pyflink_udaf.py"), json.dumps(spec)],
                       s.clean_env(JAVA_HOME=s.java_home()), cwd=tmp, end_leftovers=True, timeout=3600)
        res = None
        for line in r["stdout"].splitlines():
            if line.startswith("@@RESULT "):
                res = json.loads(line[len("@@RESULT "):])
        if res is None:
            data["pyflink_error"] = r["stderr"][-3000:]
            log(f"bench: udaf: PyFlink failed:\n{r['stderr'][-3000:]}")
        else:
            res.update(spec)
            dt = res["t_job"] - res["t_fixed"]
            res["steady_rows_per_s"] = (pf_rows - spec["fixed_rows"]) / dt if dt > 0 else None
            res["rows_per_s"] = pf_rows / res["t_job"]
            data["pyflink"] = res
            log(f"bench: udaf: PyFlink {res['version']} streaming {pf_rows:,} rows: {res['t_job']:.2f} s, "
                f"{res['rows_per_s']:,.0f} rows/s, after its fixed cost {res['steady_rows_per_s'] or 0:,.0f}")
    data["load_end"] = open("/proc/loadavg").read().split()[:3]
    data["lines"] = lines(data)
    return data


def lines(data):
    f, w = data["floor"], data["weir_batch"]
    st, big = w["steady"], w["big"]
    fns = min(f["ns_per_call"], data["floor_after"]["ns_per_call"])
    fcpu = min(f["cpu_ns_per_call"], data["floor_after"]["cpu_ns_per_call"])
    def split(s):
        if s.get("engine_cpu_ns_per_row") is None:
            return ""
        return f": engine {s['engine_cpu_ns_per_row']:.1f}, worker {s['workers_cpu_ns_per_row']:.1f}"

    out = [f"UDAF py_sum(v) GROUP BY k, {data['rows']:,} rows, {data['keys']:,} keys, batch mode, 1 worker: "
           f"weir {big['seconds']:.2f} s ({data['rows'] / big['seconds']:,.0f} rows/s, start-up included), "
           f"engine {big['rss']['engine_mb']} MB",
           f"  after start-up: {st['ns_per_row']:.1f} ns per accumulate call wall-clock, "
           f"{st['cpu_ns_per_row']:.1f} ns CPU (engine + worker{split(st)})",
           f"  floor, accumulate in a CPython loop (Python {f['python']}): {fns:.1f} ns/call wall-clock, "
           f"{fcpu:.1f} ns CPU: weir / floor = {data['ratio_wall']:.2f}x wall-clock, {data['ratio_cpu']:.2f}x CPU "
           f"(target at most 2x)"]
    ws = data.get("weir_streaming")
    if ws:
        ss = ws["steady"]
        out.append(f"  weir streaming mode (accumulators in the engine's state store), {ws['big']['rows']:,} rows, "
                   f"{ws['big']['groups']:,} changelog rows: {ws['big']['seconds']:.2f} s, after start-up "
                   f"{ss['ns_per_row']:.1f} ns/row wall-clock ({ss['ns_per_row'] / fns:.2f}x the floor), "
                   f"{ss['cpu_ns_per_row']:.1f} ns CPU ({ss['cpu_ns_per_row'] / fcpu:.2f}x the floor{split(ss)})")
    elif data.get("weir_streaming_error"):
        out.append(f"  weir streaming mode: not run ({data['weir_streaming_error']})")
    p = data.get("pyflink")
    if p and p.get("steady_rows_per_s") and st.get("rows_per_s"):
        out.append(f"  PyFlink {p['version']} streaming mode, {p['rows']:,} rows: {p['t_job']:.2f} s, "
                   f"{p['rows_per_s']:,.0f} rows/s, {p['steady_rows_per_s']:,.0f} after its fixed cost: "
                   f"weir is {st['rows_per_s'] / p['steady_rows_per_s']:.1f}x faster after start-up "
                   f"({(data['rows'] / big['seconds']) / p['rows_per_s']:.1f}x whole jobs; target at least 10x)")
        if ws and ws["steady"].get("rows_per_s"):
            out.append(f"  weir streaming / PyFlink streaming: {ws['steady']['rows_per_s'] / p['steady_rows_per_s']:.1f}x")
    out.append(f"  load average {' '.join(data['load_start'])} at the start, {' '.join(data['load_end'])} at the end "
               "(2 cores)")
    return out


def markdown(data):
    return "\n".join(["# UDAF benchmark", "", "```"] + data["lines"] + ["```", ""])
