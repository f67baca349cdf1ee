"""The relational workloads of the suite: GROUP BY over N rows with 10 and with 1M distinct keys, a hash
join of N x N/10 rows and ORDER BY of N rows, run by weir (bin/weir sql), Flink batch (PyFlink,
bench/pyflink_relational.py) and DuckDB (bench/duckdb_relational.py, the in-process anchor) over the
same rows. Standard library only.

The input is the same for the three engines without files: a sequence id = 0 .. N-1 (weir's and
Flink's datagen 'sequence', DuckDB's range(N)) and columns computed from it by the same arithmetic:

  groupby_10   k = id MOD 10, v = id * 7 MOD 1000; GROUP BY k: COUNT(*), SUM(v), MAX(v)
  groupby_1m   k = id * 7919 MOD 1000000 (a permutation of the keys: 1M distinct, scattered)
  join         probe: id, k = id * 7919 MOD B; build: B rows bk = 0 .. B-1, w = bk * 3; ON k = bk
  orderby      id, k = id * 7919 MOD 10000019 (a prime above N: all distinct); ORDER BY k

weir and Flink write the result to a blackhole sink; DuckDB's result is read as Arrow record batches
and dropped. rows/s is N (input rows; the probe rows for the join) over the engine's own time for the
job: weir's from job start to commit, Flink's execute_sql(...).wait() in a warmed-up JVM (over N/20
rows; its steady rate leaves out its fixed cost per job, the time of a 1,000-row job), DuckDB's
execute to the last batch. On a loaded machine the CPU times (weir's engine process, DuckDB's) are
printed beside the wall-clock ratio to DuckDB.
"""

import json
import os

WORKLOADS = ("groupby_10", "groupby_1m", "join", "orderby")
TARGET_VS_FLINK = 10.0  # weir at least this many times Flink's rows/s
TARGET_VS_DUCKDB = 2.0  # weir's time at most this many times DuckDB's

UNLIMITED = 10 ** 12


def build_rows(rows):
    return max(1, rows // 10)


def statements(name, rows, flink=False):
    """The DDL and INSERT of a workload for weir and Flink (the same SQL)."""
    rate = f", 'rows-per-second' = '{UNLIMITED}'" if flink else ""

    def seq(table, n):
        return (f"CREATE TABLE {table} (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '{n}', "
                f"'fields.id.kind' = 'sequence', 'fields.id.start' = '0', 'fields.id.end' = '{n - 1}'{rate})")

    def sink(cols):
        return f"CREATE TABLE snk ({cols}) WITH ('connector' = 'blackhole')"

    if name in ("groupby_10", "groupby_1m"):
        k = "MOD(id, 10)" if name == "groupby_10" else "MOD(id * 7919, 1000000)"
        return [seq("src", rows), sink("k BIGINT, c BIGINT, s BIGINT, m BIGINT"),
                "INSERT INTO snk SELECT k, COUNT(*) AS c, SUM(v) AS s, MAX(v) AS m FROM "
                f"(SELECT {k} AS k, MOD(id * 7, 1000) AS v FROM src) AS t GROUP BY k"]
    if name == "join":
        b = build_rows(rows)
        return [seq("src", rows), seq("dim", b), sink("id BIGINT, k BIGINT, w BIGINT"),
                "INSERT INTO snk SELECT p.id, p.k, d.w FROM "
                f"(SELECT id, MOD(id * 7919, {b}) AS k FROM src) AS p JOIN "
                "(SELECT id AS bk, id * 3 AS w FROM dim) AS d ON p.k = d.bk"]
    if name == "orderby":
        return [seq("src", rows), sink("id BIGINT, k BIGINT"),
                "INSERT INTO snk SELECT id, k FROM (SELECT id, MOD(id * 7919, 10000019) AS k FROM src) AS t ORDER BY k"]
    raise ValueError(name)


def duckdb_query(name, rows):
    """The same workload as one DuckDB query over range(rows)."""
    if name in ("groupby_10", "groupby_1m"):
        k = "id % 10" if name == "groupby_10" else "(id * 7919) % 1000000"
        return (f"SELECT k, count(*) AS c, sum(v) AS s, max(v) AS m FROM "
                f"(SELECT {k} AS k, (id * 7) % 1000 AS v FROM range({rows}) t(id)) GROUP BY k")
    if name == "join":
        b = build_rows(rows)
        return (f"SELECT p.id, p.k, d.w FROM (SELECT id, (id * 7919) % {b} AS k FROM range({rows}) t(id)) p "
                f"JOIN (SELECT id AS bk, id * 3 AS w FROM range({b}) t(id)) d ON p.k = d.bk")
    if name == "orderby":
        return f"SELECT id, (id * 7919) % 10000019 AS k FROM range({rows}) t(id) ORDER BY k"
    raise ValueError(name)


def expected_rows(name, rows):
    """Rows each engine's result must have."""
    return {"groupby_10": min(rows, 10), "groupby_1m": min(rows, 1_000_000)}.get(name, rows)


def run(rows, reps, tmp, run_pf, s):
    """Runs every workload on the three engines and returns the figures; s is bench/run.py (its
    helpers: run_proc, weir_env, clean_env, log, paths)."""
    out = {"rows": rows, "build_rows": build_rows(rows), "reps": reps, "weir": {}, "flink": {}, "duckdb": {}}
    # weir: best of reps
    for name in WORKLOADS:
        path = os.path.join(tmp, f"rel-{name}.sql")
        with open(path, "w") as f:
            f.write(";\n".join(statements(name, rows)) + ";\n")
        best = None
        for _ in range(reps):
            r = s.run_proc([s.WEIR, "sql", "-f", path, "--progress=off"], s.weir_env(), cwd=tmp)
            m = s.re.search(r"job finished: (\d+) rows in ([\d.]+) s", r["stderr"])
            if r["rc"] != 0 or not m:
                raise RuntimeError(f"weir {name} failed (rc {r['rc']}):\n{r['stderr'][-3000:]}")
            x = {"seconds": float(m.group(2)), "output_rows": int(m.group(1)), "wall_s": r["wall_s"],
                 "engine_mb": r["rss"]["engine_mb"], "engine_cpu_s": r["rss"]["engine_cpu_s"]}
            if x["output_rows"] != expected_rows(name, rows):
                raise RuntimeError(f"weir {name}: {x['output_rows']} rows, want {expected_rows(name, rows)}")
            if best is None or x["seconds"] < best["seconds"]:
                best = x
        best["rows_per_s"] = rows / best["seconds"]
        out["weir"][name] = best
        s.log(f"bench: weir {name}: {best['rows_per_s']:,.0f} rows/s ({best['seconds']:.2f} s, "
              f"engine {best['engine_mb']} MB)")
    # DuckDB: one process, best of reps per query, threads = 1
    if s.ensure_venv(s.TOOLS_VENV, os.path.join(s.BENCH, "requirements-tools.txt"), "duckdb and matplotlib"):
        spec = {"rows": rows, "reps": reps, "threads": 1,
                "queries": {n: duckdb_query(n, rows) for n in WORKLOADS}}
        r = s.run_proc([s.TOOLS_PY, os.path.join(s.BENCH, "duckdb_relational.py"), json.dumps(spec)],
                       s.clean_env(), cwd=tmp)
        if r["rc"] != 0:
            s.log(f"bench: DuckDB failed: {r['stderr'][-2000:]}")
        else:
            d = json.loads(r["stdout"].strip().splitlines()[-1])
            out["duckdb_version"] = d["version"]
            out["duckdb_threads"] = d["threads"]
            for name, x in d["results"].items():
                x["rows_per_s"] = rows / x["seconds"]
                out["duckdb"][name] = x
                s.log(f"bench: DuckDB {name}: {x['rows_per_s']:,.0f} rows/s ({x['seconds']:.2f} s)")
    # Flink batch: one JVM; every workload warmed up, its fixed cost taken from a 1,000-row job, then
    # measured once on rows/20 (Flink is far slower; its steady rate leaves the fixed cost out)
    if run_pf:
        out["flink_rows"] = frows = max(2000, rows // 20)
        spec = {"rows": frows, "warmup_rows": max(1000, rows // 1000), "fixed_rows": 1000, "parallelism": 1,
                "workloads": list(WORKLOADS)}
        r = s.run_proc([s.PF_PY, os.path.join(s.BENCH, "pyflink_relational.py"), json.dumps(spec)],
                       s.clean_env(JAVA_HOME=s.java_home() or ""), cwd=tmp, end_leftovers=True)
        res = None
        for line in r["stdout"].splitlines():
            if line.startswith("@@RESULT "):
                res = json.loads(line[len("@@RESULT "):])
        if res is None:
            tail = "\n".join(l for l in r["stderr"].splitlines() if not l.lstrip().startswith("at "))[-3000:]
            s.log(f"bench: PyFlink relational failed (rc {r['rc']}):\n{tail}")
        else:
            out["flink_version"] = res.get("version")
            out["flink_engine_mb"] = r["rss"]["engine_mb"]
            for name, secs in res["t_job"].items():
                x = {"rows": frows, "seconds": secs, "rows_per_s": frows / secs,
                     "fixed_s": res["t_fixed"][name], "warmup_s": res["t_warmup"][name]}
                # the steady rate: the rows beyond the fixed-cost job over the time beyond it
                x["steady_rows_per_s"] = ((frows - 1000) / (secs - x["fixed_s"]) if secs > x["fixed_s"]
                                          else x["rows_per_s"])
                out["flink"][name] = x
                s.log(f"bench: Flink batch {name}: {x['rows_per_s']:,.0f} rows/s ({secs:.2f} s for {frows:,} rows; "
                      f"steady {x['steady_rows_per_s']:,.0f})")
    out["lines"] = lines(out)
    return out


def lines(rel):
    """The figures as lines of text: rows/s of each engine and weir's ratios, with the targets."""
    out = [f"relational, {rel['rows']:,} rows (join: x {rel['build_rows']:,}; Flink {rel.get('flink_rows', 0):,} rows), "
           f"rows/s; "
           f"weir vs Flink batch (target >= {TARGET_VS_FLINK:.0f}x) and vs DuckDB "
           f"{rel.get('duckdb_version', '')} with {rel.get('duckdb_threads', 1)} thread (target: weir's time "
           f"<= {TARGET_VS_DUCKDB:.0f}x DuckDB's):"]
    for name in WORKLOADS:
        w, f, d = rel["weir"].get(name), rel["flink"].get(name), rel["duckdb"].get(name)
        if not w:
            continue
        line = f"  {name:<11} weir {w['rows_per_s']:>13,.0f}"
        if f:
            ratio = w["rows_per_s"] / f["steady_rows_per_s"]
            line += (f" | Flink {f['rows_per_s']:>10,.0f} (steady {f['steady_rows_per_s']:>10,.0f}): {ratio:5.1f}x "
                     f"{'ok' if ratio >= TARGET_VS_FLINK else 'MISSED'}")
        if d:
            ratio = w["seconds"] / d["seconds"]
            line += (f" | DuckDB {d['rows_per_s']:>13,.0f}: weir takes {ratio:4.2f}x "
                     f"{'ok' if ratio <= TARGET_VS_DUCKDB else 'MISSED'}")
            if d.get("cpu_s") and w.get("engine_cpu_s"):
                line += f" (CPU time {w['engine_cpu_s'] / d['cpu_s']:.2f}x)"
        out.append(line)
    return out


def markdown(rel):
    """The figures as a markdown table."""
    head = ("| workload | weir rows/s | Flink batch rows/s (steady) | DuckDB rows/s | weir / Flink steady "
            "| weir time / DuckDB time (CPU) |")
    rows = [head, "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name in WORKLOADS:
        w, f, d = rel["weir"].get(name), rel["flink"].get(name), rel["duckdb"].get(name)
        if not w:
            continue
        cpu = (f" ({w['engine_cpu_s'] / d['cpu_s']:.2f}x)" if d and d.get("cpu_s") and w.get("engine_cpu_s") else "")
        rows.append(f"| {name} | {w['rows_per_s']:,.0f} | "
                    + (f"{f['rows_per_s']:,.0f} ({f['steady_rows_per_s']:,.0f})" if f else "—") + " | "
                    + (f"{d['rows_per_s']:,.0f}" if d else "—") + " | "
                    + (f"{w['rows_per_s'] / f['steady_rows_per_s']:.1f}x" if f else "—") + " | "
                    + (f"{w['seconds'] / d['seconds']:.2f}x{cpu}" if d else "—") + " |")
    return "\n".join(rows)
