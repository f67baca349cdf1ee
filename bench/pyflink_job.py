"""Runs one benchmark job on PyFlink (local mini-cluster); run with bench/.venv-pyflink's python.

Usage: pyflink_job.py '<json spec>'   (bench/run.py builds the spec)

The spec names a workload of bench/workloads.py, the row count, parallelism,
python.execution-mode, batch or streaming, and extra configuration. The job
is the same SQL that weir runs (built by the same function), with the same
suite_udfs.py registered by the same DDL. Optionally a small warm-up job runs first
in the same JVM: its time is the fixed cost of a job (mini-cluster, Python
workers, JIT), which gives the steady-state rate of the measured job.

Prints one line '@@RESULT {json}' on stdout with the times (seconds):
t_env (JVM + TableEnvironment), t_warmup, t_job, t_total (in this process).
"""

import json
import os
import sys
import time

T_START = time.time()

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import workloads  # noqa: E402  (bench/workloads.py: stdlib only)


def site_packages():
    import sysconfig

    return sysconfig.get_paths()["purelib"]


def main():
    spec = json.loads(sys.argv[1])
    # Thread mode runs Python inside the JVM (pemja). That interpreter does not
    # see this virtualenv by itself ("No module named 'pemja'"), so its
    # site-packages go on PYTHONPATH, which the JVM and its interpreter inherit.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (site_packages(), HERE, os.environ.get("PYTHONPATH", "")) if p)

    from pyflink.table import EnvironmentSettings, TableEnvironment

    settings = (EnvironmentSettings.in_batch_mode() if spec["runtime"] == "batch"
                else EnvironmentSettings.in_streaming_mode())
    t_env = TableEnvironment.create(settings)
    conf = t_env.get_config()
    conf.set("parallelism.default", str(spec["parallelism"]))
    conf.set("python.execution-mode", spec["mode"])
    conf.set("python.executable", sys.executable)
    conf.set("python.client.executable", sys.executable)
    conf.set("python.files", os.path.join(HERE, "suite_udfs.py"))
    for k, v in spec.get("config", {}).items():
        conf.set(k, str(v))
    t_ready = time.time()

    def run(rows, suffix):
        stmts = workloads.sql(spec["workload"], rows, spec.get("columns", 1), flink=True,
                              rate=spec.get("rate"), suffix=suffix)
        *ddl, insert = stmts
        for s in ddl:
            t_env.execute_sql(s)
        t0 = time.time()
        t_env.execute_sql(insert).wait()
        return time.time() - t0

    out = {"t_env": t_ready - T_START, "pyflink_version": pyflink_version()}
    if spec.get("warmup_rows"):
        out["t_warmup"] = run(spec["warmup_rows"], "_w")
        out["warmup_rows"] = spec["warmup_rows"]
    out["t_job"] = run(spec["rows"], "")
    out["rows"] = spec["rows"]
    out["t_total"] = time.time() - T_START
    sys.stdout.flush()
    print("@@RESULT " + json.dumps(out), flush=True)


def pyflink_version():
    try:
        from pyflink.version import __version__

        return __version__
    except Exception:  # pragma: no cover
        return "?"


if __name__ == "__main__":
    main()
