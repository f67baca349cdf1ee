"""Runs one benchmark job on PyFlink (local mini-cluster); run with bench/.venv-pyflink's python.

Usage: pyflink_job.py '<json spec>'   (bench/run.py builds the spec)

The spec names a workload of bench/workloads.py, the row count, parallelism,
python.execution-mode, batch or streaming, and extra configuration. The job
is the same SQL that weir runs (built by the same function), with the same
suite_udfs.py registered by the same DDL. Optionally a small warm-up job runs first
in the same JVM (JIT, class loading), then three tiny jobs whose median time is
the fixed cost of a job (mini-cluster, Python workers), which gives the
steady-state rate of the measured job. With "combos" in the spec it sweeps
settings instead (see sweep()).

Prints one line '@@RESULT {json}' on stdout with the times (seconds):
t_env (JVM + TableEnvironment), t_warmup, t_fixed, t_job, t_total (in this process).
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

    def make_env(runtime, config):
        settings = (EnvironmentSettings.in_batch_mode() if runtime == "batch"
                    else EnvironmentSettings.in_streaming_mode())
        t_env = TableEnvironment.create(settings)
        conf = t_env.get_config()
        conf.set("parallelism.default", str(spec["parallelism"]))
        conf.set("python.execution-mode", spec["mode"])
        conf.set("python.executable", sys.executable)
        conf.set("python.client.executable", sys.executable)
        conf.set("python.files", os.path.join(HERE, "suite_udfs.py"))
        for k, v in config.items():
            conf.set(k, str(v))
        return t_env

    def run(t_env, rows, suffix):
        stmts = workloads.sql(spec["workload"], rows, spec.get("columns", 1), flink=True,
                              rate=spec.get("rate"), suffix=suffix)
        *ddl, insert = stmts
        for s in ddl:
            t_env.execute_sql(s)
        t0 = time.time()
        t_env.execute_sql(insert).wait()
        return time.time() - t0

    if spec.get("combos"):
        return sweep(spec, make_env, run)

    t_env = make_env(spec["runtime"], spec.get("config", {}))
    out = {"t_env": time.time() - T_START, "pyflink_version": pyflink_version()}
    if spec.get("warmup_rows"):
        out["t_warmup"] = run(t_env, spec["warmup_rows"], "_w")
        out["warmup_rows"] = spec["warmup_rows"]
    if spec.get("fixed_rows"):
        # the fixed cost of a job: median of three tiny jobs
        ts = [run(t_env, spec["fixed_rows"], f"_f{i}") for i in range(3)]
        out["t_fixed_runs"] = ts
        out["t_fixed"] = sorted(ts)[1]
        out["fixed_rows"] = spec["fixed_rows"]
    out["t_job"] = run(t_env, spec["rows"], "")
    out["rows"] = spec["rows"]
    out["t_total"] = time.time() - T_START
    sys.stdout.flush()
    print("@@RESULT " + json.dumps(out), flush=True)
    if spec.get("fast_exit"):
        # Throughput runs need no orderly shutdown: the gateway JVM exits when
        # its stdin (this process) goes away.
        sys.stderr.flush()
        os._exit(0)


def sweep(spec, make_env, run):
    """Settings side by side in one JVM: one TableEnvironment per runtime
    (batch, streaming), each warmed up, then every combination of settings
    in turn, `reps` times, interleaved so that drifts of a noisy machine
    spread over all of them."""
    envs = {}
    for c in spec["combos"]:
        if c["runtime"] not in envs:
            envs[c["runtime"]] = make_env(c["runtime"], {})
            run(envs[c["runtime"]], spec["warmup_rows"], f"_w_{c['runtime']}")
    times = [[] for _ in spec["combos"]]
    for rep in range(spec["reps"]):
        for i, c in enumerate(spec["combos"]):
            t_env = envs[c["runtime"]]
            conf = t_env.get_config()
            for k, v in c["config"].items():
                conf.set(k, str(v))
            times[i].append(run(t_env, spec["rows"], f"_{rep}_{i}"))
    out = {"pyflink_version": pyflink_version(), "rows": spec["rows"],
           "combos": [dict(c, times=t) for c, t in zip(spec["combos"], times)]}
    print("@@RESULT " + json.dumps(out), flush=True)
    sys.stderr.flush()
    os._exit(0)


def pyflink_version():
    try:
        from pyflink.version import __version__

        return __version__
    except Exception:  # pragma: no cover
        return "?"


if __name__ == "__main__":
    main()
