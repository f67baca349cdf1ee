"""Flink batch's side of the relational workloads (bench/relational.py); run with bench/.venv-pyflink.

Usage: pyflink_relational.py '<json spec>' with rows, warmup_rows, parallelism and the workloads. One
JVM (a local mini-cluster) in batch mode runs every workload on warmup_rows first (class loading, JIT),
then on fixed_rows (its fixed cost per job), then on rows, timing execute_sql(insert).wait(). Prints '@@RESULT {json}' with the times.
"""

import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import relational  # noqa: E402  (stdlib only)


def main():
    spec = json.loads(sys.argv[1])
    from pyflink.table import EnvironmentSettings, TableEnvironment

    t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    t_env.get_config().set("parallelism.default", str(spec["parallelism"]))

    def run(name, rows, tag):
        stmts = relational.statements(name, rows, flink=True)
        *ddl, insert = stmts
        for s in ("src", "dim", "snk"):
            t_env.execute_sql(f"DROP TEMPORARY TABLE IF EXISTS {s}")
        for s in ddl:
            t_env.execute_sql(s.replace("CREATE TABLE", "CREATE TEMPORARY TABLE", 1))
        t0 = time.time()
        t_env.execute_sql(insert).wait()
        return time.time() - t0

    out = {"t_warmup": {}, "t_fixed": {}, "t_job": {}}
    for name in spec["workloads"]:
        out["t_warmup"][name] = run(name, spec["warmup_rows"], "w")
    for name in spec["workloads"]:
        out["t_fixed"][name] = run(name, spec["fixed_rows"], "f")
    for name in spec["workloads"]:
        out["t_job"][name] = run(name, spec["rows"], "m")
    try:
        from pyflink.version import __version__ as v
    except Exception:  # pragma: no cover
        v = "?"
    out["version"] = v
    print("@@RESULT " + json.dumps(out), flush=True)
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
