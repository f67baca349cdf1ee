"""PyFlink's side of the UDAF benchmark (bench/udaf.py); run with bench/.venv-pyflink.

Usage: pyflink_udaf.py '<json spec>' with rows, fixed_rows, warmup_rows and keys. One JVM (a local
mini-cluster) in streaming mode, parallelism 1, runs the job on warmup_rows (class loading, JIT), on
fixed_rows (its fixed cost per job), then on rows, timing execute_sql(insert).wait(). Prints
'@@RESULT {json}'.
"""

import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import udaf  # noqa: E402  (stdlib only)


def main():
    spec = json.loads(sys.argv[1])
    from pyflink.table import EnvironmentSettings, TableEnvironment

    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    cfg = t_env.get_config()
    cfg.set("parallelism.default", "1")
    cfg.set("python.files", os.path.join(HERE, "udaf_udfs.py"))
    for k, v in spec.get("settings", {}).items():
        cfg.set(k, v)

    def run(rows):
        *ddl, insert = udaf.statements(rows, spec["keys"], flink=True)
        for s in ("src", "snk"):
            t_env.execute_sql(f"DROP TEMPORARY TABLE IF EXISTS {s}")
        for s in ddl:
            t_env.execute_sql(s.replace("CREATE TABLE", "CREATE TEMPORARY TABLE", 1))
        t0 = time.time()
        t_env.execute_sql(insert).wait()
        return time.time() - t0

    out = {"t_warmup": run(spec["warmup_rows"]), "t_fixed": run(spec["fixed_rows"]), "t_job": run(spec["rows"])}
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
