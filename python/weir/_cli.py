"""The ``weir`` command of an installed package, and where its engine is.

A wheel carries the Go engine as ``weir/_bin/weir``. The ``weir`` console
script is this module's ``main``: it replaces itself with the engine (same
process, so signals and the exit code are the engine's own) after pointing
``WEIR_PYTHON`` at the interpreter it runs under, so that
``pip install weir-*.whl && weir sql -f job.sql`` starts workers with the
Python that has weir installed. An explicit ``WEIR_PYTHON`` or
``-D python.executable=...`` still wins. ``WEIR_BIN`` names another engine
binary (such as a checkout's ``bin/weir``) for this command and for
``engine()``, which is how Python code finds the engine to start.
"""

import os
import sys

_BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bin", "weir")


def engine(launcher=None) -> str:
    """The path of the engine binary: ``$WEIR_BIN`` if set, else the bundled one.

    ``WEIR_BIN`` is what the table API and the end-to-end tests run too; it may
    name a ``weir`` launcher, which is skipped when it is ``launcher`` (the
    running one), so that it never runs itself. Raises FileNotFoundError,
    saying what to do, when there is no engine.
    """
    path = os.environ.get("WEIR_BIN")
    if path and not (launcher and os.path.realpath(path) == os.path.realpath(launcher)):
        if not os.access(path, os.X_OK) or os.path.isdir(path):
            raise FileNotFoundError(f"WEIR_BIN={path} is not an executable file: "
                                    "point it at a weir binary (bin/weir of a checkout), or unset it")
        return path
    if os.access(_BUNDLED, os.X_OK):
        return _BUNDLED
    raise FileNotFoundError(
        f"this weir package has no engine at {_BUNDLED}: install a weir wheel, "
        "or build weir from source with Go on PATH, or set WEIR_BIN to a weir engine binary")


def main() -> None:
    try:
        path = engine(launcher=sys.argv[0])
    except FileNotFoundError as e:
        sys.stderr.write(f"weir: {e}\n")
        sys.exit(2)
    env = dict(os.environ)
    if not env.get("WEIR_PYTHON") and sys.executable:
        env["WEIR_PYTHON"] = sys.executable
    sys.stdout.flush()
    os.execve(path, [path] + sys.argv[1:], env)


if __name__ == "__main__":
    main()
