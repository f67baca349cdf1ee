"""Without the Cython extensions weir falls back to its pure-Python twins
and says so once, in the worker's log."""

import subprocess
import sys

BLOCK_FAST = (
    "import sys; sys.modules['weir._coder_fast'] = None; sys.modules['weir._operations_fast'] = None\n"
)


def run(code, env=None):
    return subprocess.run([sys.executable, "-c", BLOCK_FAST + code], capture_output=True, text=True, env=env,
                          check=True)


def test_fallback_when_extensions_cannot_be_imported():
    import os

    env = dict(os.environ, WEIR_CYTHON="1")
    out = run("from weir import coder, operations\n"
              "print(coder.IMPLEMENTATION, operations.IMPLEMENTATION)\n"
              "print(coder.FALLBACK_REASON)\nprint(operations.FALLBACK_REASON)\n", env=env).stdout.splitlines()
    assert out[0] == "slow slow"
    assert "Cython row coder cannot be imported" in out[1]
    assert "Cython operations cannot be imported" in out[2]


def test_no_fallback_reason_when_slow_is_asked_for():
    import os

    env = dict(os.environ, WEIR_CYTHON="0")
    out = run("from weir import coder, operations\nprint(coder.FALLBACK_REASON, operations.FALLBACK_REASON)\n",
              env=env).stdout.strip()
    assert out == "None None"


def test_slow_paths_still_compute():
    out = run("from weir.coder import RowDecoder, RowEncoder\n"
              "from weir.types import parse_type\n"
              "t = [parse_type('INT'), parse_type('STRING')]\n"
              "print(RowDecoder(t).decode(RowEncoder(t).encode([[1, 'ab'], [None, 'c']])))\n").stdout.strip()
    assert out == "[[1, 'ab'], [None, 'c']]"
