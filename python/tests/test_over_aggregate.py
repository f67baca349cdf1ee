"""Vectorized (pandas) aggregate functions over OVER windows on weir, beyond
what aggregate_programs/pandas_udaf_over_frames.py compares with PyFlink
2.3: Python and built-in aggregates over one window (PyFlink refuses the
mix; weir's values must be those PyFlink gives each side alone), long
partitions sent in chunks, and the errors: a function that raises or
returns a Series, a general aggregate function, streaming mode."""

import datetime
import os
import types

import pytest

from test_table_programs import engine, to_weir

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "aggregate_programs")
PROGRAM = os.path.join(HERE, "pandas_udaf_over_frames.py")


@pytest.fixture(scope="module")
def program():
    """The program's table and functions (its imports changed to weir), as
    a module that is not in sys.modules, without running its queries."""
    os.environ.setdefault("WEIR_BIN", engine())
    with open(PROGRAM) as f:
        src = to_weir(f.read())
    src = src[:src.index("for name, q in QUERIES.items()")]
    mod = types.ModuleType("weir_over_frames")
    mod.__file__ = PROGRAM
    exec(compile(src, PROGRAM, "exec"), mod.__dict__)
    yield mod
    mod.table_env.close()


def golden():
    """The recorded rows of each query of the program."""
    out, name = {}, None
    with open(os.path.join(HERE, "pandas_udaf_over_frames.golden")) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("("):
                out[name].append(eval(line, {"datetime": datetime}))
            elif line != "ERROR":
                name = line
                out[name] = []
    return out


def rows(env, q):
    return sorted((tuple(r) for r in env.sql_query(q).execute().collect()), key=repr)


def test_python_and_builtin_aggregates_over_one_window(program):
    """PyFlink refuses Python and Java aggregates over one window; weir runs
    them together, each with the values PyFlink gives it alone."""
    g = golden()
    builtin = {r[:3]: r[3:] for r in g["rows_preceding_builtin"]}
    want = sorted((r + builtin[r[:3]] for r in g["rows_preceding"]), key=repr)
    q = program.QUERIES["rows_preceding"].replace("half_sum(b) OVER w",
                                                  "half_sum(b) OVER w, SUM(b) OVER w, COUNT(c) OVER w")
    assert rows(program.table_env, q) == want


def test_long_partitions_in_chunks(program):
    """Partitions of thousands of rows, sent in chunks for a sliding frame
    and whole for running and whole-partition frames: a pandas sum equals
    SUM over each frame, row for row."""
    env = program.table_env
    env.create_temporary_function("psum", program.udaf(lambda v: v.sum(), result_type="BIGINT", func_type="pandas"))
    n = 12000
    t = env.from_elements([(i % 2, i, (i * 7) % 101) for i in range(n)], ["k", "i", "v"])
    env.create_temporary_view("big", t)
    for frame in ["ROWS BETWEEN 5 PRECEDING AND 2 FOLLOWING", "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
                  "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING",
                  "RANGE BETWEEN 40 PRECEDING AND CURRENT ROW"]:
        got = rows(env, f"SELECT i, psum(v) OVER w, SUM(v) OVER w FROM big "
                        f"WINDOW w AS (PARTITION BY k ORDER BY i {frame})")
        assert len(got) == n
        bad = [r for r in got if r[1] != r[2]]
        assert not bad, f"{frame}: {bad[:5]}"


def test_errors_name_the_function(program):
    env = program.table_env
    udaf, DataTypes = program.udaf, program.DataTypes

    @udaf(result_type=DataTypes.DOUBLE(), func_type="pandas")
    def fails(v):
        if len(v) == 3:
            raise ValueError("three is too many")
        return 1.0

    @udaf(result_type=DataTypes.DOUBLE(), func_type="pandas")
    def series_back(v):
        return v * 2

    env.create_temporary_function("fails", fails)
    env.create_temporary_function("series_back", series_back)
    w = "OVER (PARTITION BY a ORDER BY rowtime ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)"
    with pytest.raises(Exception) as e:
        rows(env, f"SELECT a, fails(b) {w} FROM T")
    msg = str(e.value)
    assert "'fails' raised ValueError" in msg and "three is too many" in msg, msg
    assert "row 3 of partition ('x',)" in msg and "Traceback" in msg and ", in fails" in msg, msg
    with pytest.raises(Exception, match=r"'series_back' returned a Series of 1 values for the OVER window frame "
                                        r"of row 1 of partition \('[xyz]',\); it must return one scalar per frame"):
        rows(env, f"SELECT a, series_back(b) {w} FROM T")
    with pytest.raises(Exception, match=r"general_count is a general aggregate function: over windows \(OVER\) run "
                                        r"only vectorized ones, as in PyFlink 2.3; declare it .*func_type=\"pandas\""):
        rows(env, f"SELECT a, general_count(b) {w} FROM T")


def test_streaming_mode_refuses_over_windows(program):
    env = program.TableEnvironment.create(program.EnvironmentSettings.in_streaming_mode())
    try:
        env.create_temporary_function("mean_udaf", program.mean_udaf)
        t = env.from_elements([("x", 1, 1)], ["a", "b", "t"])
        env.create_temporary_view("s", t)
        with pytest.raises(Exception, match=r"OVER windows run in batch mode only"):
            rows(env, "SELECT a, mean_udaf(b) OVER (PARTITION BY a ORDER BY t ROWS BETWEEN 2 PRECEDING AND "
                      "CURRENT ROW) FROM s")
    finally:
        env.close()


def test_evaluator_calls_once_per_run_with_partition_index():
    """The worker's evaluator alone: one call per run of rows sharing a
    frame, each frame a Series slice whose index is the position in the
    partition; an empty frame gets an empty Series; NaN comes back NULL; a
    fractional float for an integer result is refused naming the rows."""
    from weir._over_aggregate import _chunk
    from weir.errors import FunctionError

    seen = []

    def f(v):
        seen.append(list(v.index))
        return v.sum() if len(v) else float("nan")

    # lists start at partition position 10; the chunk's first row is row 4 (position 3)
    out = _chunk("f", None, f, False, 1, [1, 2, None, 4], [2, 0, 2, 1, 1, 4, 1, 4, 4], 10, 3, "k")
    assert out == [3, 6.0, None]
    assert seen == [[10, 11], [11, 12, 13], []]
    with pytest.raises(FunctionError, match=r"'g' returned float 1.5 for its BIGINT result for the OVER window "
                                            r"frame of row 6 of partition \('k',\)"):
        _chunk("g", "BIGINT", lambda v: 1.0 if len(v) == 2 else 1.5, False, 1, [1, 2, 3, 4],
               [2, 0, 2, 1, 1, 4], 10, 3, "k")
