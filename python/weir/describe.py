"""``python -m weir.describe mod.attr ...``: the declared types of functions.

The Go planner runs this once per job, before any data flows, to learn the
result types of the Python functions a SQL job names and to find import
problems early. It prints one JSON object per line.
"""

import json
import sys
import traceback


def describe(path):
    from weir import _functions

    module, _, attr = path.rpartition(".")
    if not module:
        return {"path": path, "ok": False,
                "error": f"{path!r} is not of the form 'module.function'"}
    try:
        w = _functions.load(module, attr)
    except Exception as e:
        return {"path": path, "ok": False, "error": str(e), "traceback": traceback.format_exc()}
    d = w.describe()
    d.update(path=path, ok=True)
    return d


def main(argv):
    import importlib.util

    from weir import _functions

    _functions.isolate_path()

    if importlib.util.find_spec("apache_beam") is None:
        sys.stderr.write(
            f"weir: the apache-beam package is missing from {sys.executable}; the workers need it. "
            "Install weir with its dependencies (pip install weir) into this interpreter.\n")
        sys.exit(3)
    # The answer goes to the real stdout; what the user's modules print while
    # they are imported goes to stderr, so that it cannot garble the answer.
    out = sys.stdout
    sys.stdout = sys.stderr
    try:
        for path in argv:
            out.write(json.dumps(describe(path)) + "\n")
    finally:
        sys.stdout = out
    out.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
