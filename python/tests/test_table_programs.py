"""PyFlink Table API programs run on weir with only their imports changed.

Each program in table_programs/ is written for PyFlink; its output on
PyFlink 2.3 is recorded in <name>.golden (table_programs/record.py, with
bench/.venv-pyflink). This test rewrites ``pyflink`` to ``weir`` in the
imports, runs the program as a script (its functions live in __main__ and
are shipped to the workers with cloudpickle) and compares the output.
"""

import os
import re
import subprocess
import sys

import pytest

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "table_programs")
_CHECKOUT_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bin", "weir")


def engine():
    """The checkout's engine (make build) unless WEIR_BIN names another."""
    if not os.environ.get("WEIR_BIN") and os.access(_CHECKOUT_BIN, os.X_OK):
        return os.path.abspath(_CHECKOUT_BIN)
    from weir.table._gateway import find_engine

    try:
        return find_engine()
    except FileNotFoundError as e:
        pytest.skip(f"no weir engine to test ({e}); run 'make build'")


def to_weir(src):
    """The program with its imports changed from pyflink to weir, and nothing else."""
    out, n = re.subn(r"^(from|import) pyflink\.", r"\1 weir.", src, flags=re.M)
    assert n > 0 and "pyflink" not in out.split('"""')[-1], "the program must use pyflink only in its imports"
    return out


# Programs weir cannot run yet, with why; they stay here so that the gap shows.
KNOWN_GAPS = {}

PROGRAMS = [pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN_GAPS[n], strict=True)) if n in KNOWN_GAPS else n
            for n in sorted(f[:-3] for f in os.listdir(HERE) if f.endswith(".py") and f != "record.py")]


def run_on_weir(here, name, tmp_path):
    """Runs the PyFlink program here/<name>.py on weir, with its imports
    changed and nothing else; returns the finished process and the golden
    output recorded on PyFlink 2.3 (here/<name>.golden)."""
    with open(os.path.join(here, name + ".py")) as f:
        src = to_weir(f.read())
    with open(os.path.join(here, name + ".golden")) as f:
        want = f.read()
    prog = tmp_path / (name + ".py")
    prog.write_text(src)
    env = dict(os.environ, WEIR_BIN=engine())
    r = subprocess.run([sys.executable, str(prog)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert r.returncode == 0, f"{name}.py failed on weir:\n{r.stderr[-5000:]}"
    return r, want


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_matches_pyflink(name, tmp_path):
    r, want = run_on_weir(HERE, name, tmp_path)
    assert r.stdout == want, f"{name}.py: weir's output differs from PyFlink's\n--- weir:\n{r.stdout}\n--- PyFlink:\n{want}"
