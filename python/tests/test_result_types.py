"""The values the Table API hands over, type by type, against PyFlink 2.3:
collect() (values, their Python types, row kinds), to_pandas() (frames and
dtypes) and print() (the tableau), in batch and streaming mode.

The programs in result_types/ are written for PyFlink; their output on
PyFlink 2.3 is recorded in <name>.golden (result_types/record.py, with
bench/.venv-pyflink). This test runs each on weir with only its imports
changed and compares line by line, rows in any order.
"""

import os
import re

import pyarrow as pa
import pytest

from test_table_programs import run_on_weir
from weir.table._result import _as_pyflink

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "result_types")

PROGRAMS = sorted(f[:-3] for f in os.listdir(HERE) if f.endswith(".py") and f != "record.py")


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_matches_pyflink(name, tmp_path):
    r, want = run_on_weir(HERE, name, tmp_path)
    got_lines, want_lines = rows_in_order(r.stdout), rows_in_order(want)
    for i, (g, w) in enumerate(zip(got_lines, want_lines)):
        assert g == w, f"{name}.py line {i + 1}: weir's output differs from PyFlink's\n--- weir:\n{g}\n" \
                       f"--- PyFlink:\n{w}"
    assert len(got_lines) == len(want_lines), f"{name}.py: {len(got_lines)} lines on weir, {len(want_lines)} on PyFlink"


_ROW = re.compile(r"^([+-][IUD] |\| )")


def rows_in_order(out):
    """The output's lines, each run of result rows (collect's lines, which
    start with the row kind, and a tableau's lines) sorted: rows come in
    any order in streaming mode (and to_pandas' are sorted by the program)."""
    lines, run = [], []
    for line in out.splitlines() + [""]:
        if _ROW.match(line):
            run.append(line)
            continue
        lines += sorted(run) + [line]
        run = []
    return lines[:-1]


def test_rows_in_order_sorts_runs_of_rows_only():
    out = "== x\n+I b\n-U a\n== y\n+---+\n| 2 |\n| 1 |\n+---+\n2 rows in set\n"
    assert rows_in_order(out) == ["== x", "+I b", "-U a", "== y", "+---+", "| 1 |", "| 2 |", "+---+", "2 rows in set"]


def _shortest(x):
    """The double of a float32's shortest decimal form, by numpy's own
    (slow, per value) formatting: the reference for the vectorized one."""
    import numpy as np

    f = np.float32(x)
    return float(repr(float(np.format_float_positional(f, unique=True)))) if np.isfinite(f) else float(f)


def test_float_values_are_the_shortest_decimal_of_the_float32():
    import numpy as np

    rng = np.random.default_rng(7)
    f = rng.integers(0, 2 ** 32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    f = np.concatenate([f, np.array([0.0, -0.0, np.inf, -np.inf, 1e-45, 3.4028235e38, 16 / 3, 0.1], np.float32)])
    got = _as_pyflink(pa.chunked_array([pa.array(f)])).to_pylist()
    want = [_shortest(x) for x in f]
    same = [g == w or (g != g and w != w) for g, w in zip(got, want)]
    assert all(same), [(f[i], got[i], want[i]) for i, s in enumerate(same) if not s][:5]
    assert got[-2] == 5.3333335 and got[-1] == 0.1 and str(got[-7]) == "-0.0"


def test_floats_nested_in_sliced_lists_maps_and_rows():
    lists = pa.array([[1.5, None], None, [0.1, 16 / 3], []], pa.list_(pa.float32())).slice(1, 3)
    assert _as_pyflink(pa.chunked_array([lists])).to_pylist() == [None, [0.1, 5.3333335], []]
    maps = pa.array([[(0.5, 0.1)], None, [(0.1, 0.2)]], pa.map_(pa.float32(), pa.float32())).slice(1)
    assert _as_pyflink(pa.chunked_array([maps])).to_pylist() == [None, [(0.1, 0.2)]]
    rows = pa.array([{"a": [0.5], "b": "x"}, None, {"a": [0.1, None], "b": None}],
                    pa.struct([("a", pa.list_(pa.float32())), ("b", pa.string())])).slice(1)
    assert _as_pyflink(pa.chunked_array([rows])).to_pylist() == [None, {"a": [0.1, None], "b": None}]
    ints = pa.chunked_array([pa.array([1, 2])])
    assert _as_pyflink(ints) is ints


def test_print_formats_floats_as_java_does():
    from weir.table._result import _java_float

    want = {5.3333335: "5.3333335", 1e-7: "1.0E-7", 12345678.9: "1.23456789E7", 100.0: "100.0", 0.001: "0.001",
            0.00099: "9.9E-4", 1e7: "1.0E7", 9999999.0: "9999999.0", -0.0: "-0.0", 1e300: "1.0E300",
            -1.5e-5: "-1.5E-5", float("nan"): "NaN", float("-inf"): "-Infinity"}
    assert {v: _java_float(v) for v in want} == want


def test_print_pads_and_cuts_wide_characters_by_their_columns():
    from weir.table._result import _fit

    assert _fit("日本語", 8) == "  日本語" and _fit("ab", 4) == "  ab"
    assert _fit("日本語日本語", 8) == " 日本..." and _fit("abcdefgh", 6) == "abc..."


def test_print_shows_nested_values_bare():
    import datetime

    from weir.row import Row
    from weir.table._result import _show
    from weir.types import DataTypes as T

    t = T.ROW([T.FIELD("a", T.ARRAY(T.STRING())), T.FIELD("m", T.MAP(T.STRING(), T.FLOAT())),
               T.FIELD("t", T.TIME(3)), T.FIELD("b", T.BYTES())])
    v = Row(["x", None], {"k": 0.1, "n": None}, datetime.time(1, 2, 3, 4000), bytearray(b"\x01"))
    assert _show(v, t) == "([x, NULL], {k=0.1, n=NULL}, 01:02:03.004, x'01')"
    assert _show(None, t) == "<NULL>"
    assert _show(datetime.datetime(2024, 1, 2, 3, 4, 5, 120000), T.TIMESTAMP(6)) == "2024-01-02 03:04:05.120000"
    utc = datetime.datetime(2024, 1, 1, 19, 4, 5, tzinfo=datetime.timezone.utc)
    assert _show(utc, T.TIMESTAMP_LTZ(0), datetime.timezone(datetime.timedelta(hours=8))) == "2024-01-02 03:04:05"
