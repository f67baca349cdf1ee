"""weir's options on a Flink target: Flink's keys pass through, weir's own
are refused.

WEIR_ONLY lists the options of weir's option table (internal/config) that
Flink does not have; a Go test checks that it equals the table's.
"""

import os

WEIR_ONLY = (
    "python.fn-execution.bundle.progress-timeout",
    "python.fn-execution.bundles-in-flight",
    "python.fn-execution.max-attempts",
    "python.fn-execution.shared-memory",
    "python.worker.startup-timeout",
)


def check(key, where):
    """ValueError for a weir-only option."""
    if key in WEIR_ONLY:
        raise ValueError(f"{where}: option '{key}' is weir's own and Flink has no such option; remove it to run "
                         "on a Flink cluster (or run with --target local)")


def _absolute(entries):
    return [os.path.abspath(p) for p in (e.strip() for e in entries.split(",")) if p]


def flink_settings(settings, host, port, weir_dir):
    """The configuration of a PyFlink TableEnvironment that submits to the
    cluster at host:port: the user's options, the remote target, batch mode,
    and python.files with absolute paths plus weir's package (weir_dir)."""
    for k in settings:
        check(k, "option")
    conf = dict(settings)
    conf.update({
        "execution.target": "remote",
        "rest.address": host,
        "rest.port": str(port),
    })
    conf.setdefault("execution.runtime-mode", "batch")
    conf["python.files"] = ",".join(_absolute(settings.get("python.files", "")) + [weir_dir])
    return conf


def client_paths(python_files):
    """The sys.path entries that make python.files importable in the client,
    where the planner loads ``CREATE FUNCTION ... LANGUAGE PYTHON``."""
    out = []
    for p in _absolute(python_files):
        if os.path.isfile(p) and p.endswith(".py"):
            p = os.path.dirname(p)
        out.append(p)
    return out
