"""Group windows (Tumble, Slide, Session) and over windows (Over) of the
Table API on weir, compared with PyFlink 2.3.

table_windows/cases.py holds the cases, written for PyFlink; its output on
PyFlink 2.3 is table_windows/cases.golden (table_windows/record.py). Here
the same module, with its imports changed to weir, runs each case on weir
in the mode PyFlink ran it in, except over windows: PyFlink's Table API
runs them in streaming mode only and weir's engine in batch mode only, so
weir's batch rows are compared with PyFlink's streaming ones (the rows come
in event-time order, where the two agree). Then the errors of bad windows.
"""

import os
import re
import types

import pytest

from test_table_programs import engine, to_weir

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "table_windows")

# Cases weir cannot run yet, with why (docs/TABLE_API.md lists them too).
KNOWN_GAPS = {}


def _cases():
    """cases.py with its imports changed to weir, as a module that is not in
    sys.modules (its functions are pickled by value for the workers)."""
    with open(os.path.join(HERE, "cases.py")) as f:
        src = to_weir(f.read())
    mod = types.ModuleType("weir_window_cases")
    mod.__file__ = os.path.join(HERE, "cases.py")
    exec(compile(src, mod.__file__, "exec"), mod.__dict__)
    return mod


def _golden():
    out = {}
    with open(os.path.join(HERE, "cases.golden")) as f:
        for line in f:
            name, mode, rest = line.rstrip("\n").split(" ", 2)
            out[(name, mode)] = rest
    return out


GOLDEN = _golden()


def _param(key):
    name, mode = key
    marks = [pytest.mark.xfail(reason=KNOWN_GAPS[name], strict=True)] if name in KNOWN_GAPS else []
    return pytest.param(name, mode, id=f"{name}-{mode}", marks=marks)


@pytest.fixture(scope="module")
def cases():
    os.environ.setdefault("WEIR_BIN", engine())
    return _cases()


@pytest.fixture(scope="module")
def envs(cases):
    path = cases.csv_file()
    made = {}

    def get(mode):
        if mode not in made:
            made[mode] = cases.environment(mode, path)
        return made[mode]

    yield get
    for env in made.values():
        env.close()


@pytest.mark.parametrize("name,mode", [_param(k) for k in GOLDEN])
def test_case_matches_pyflink(cases, envs, name, mode):
    weir_mode = "batch" if name.startswith("over_") else mode
    got = cases.run(name, weir_mode, envs(weir_mode)).split(" ", 2)[2]
    want = GOLDEN[(name, mode)]
    if want.startswith("ERROR"):
        # PyFlink refuses the case; weir must refuse it too.
        assert got.startswith("ERROR"), f"{name} ({mode}): PyFlink refuses it ({want}), weir gives {got}"
        return
    assert got == want, f"{name} ({mode} on PyFlink, {weir_mode} on weir)"


# -- errors ---------------------------------------------------------------------


def test_bad_windows_are_refused_with_what_to_do(cases, envs):
    from weir.table.expressions import UNBOUNDED_RANGE, col, lit, row_interval
    from weir.table.window import Over, Slide, Tumble

    t = envs("streaming").from_path("src")
    w = Tumble.over(lit(20).minutes).on(col("ts")).alias("w")
    with pytest.raises(ValueError, match=r"exactly one window alias.*'w'.*got col\('k'\)$"):
        t.window(w).group_by(col("k"))
    with pytest.raises(ValueError, match=r"exactly one window alias"):
        t.window(w).group_by(col("x"), col("k"))
    with pytest.raises(ValueError, match=r"time attribute.*'v' is BIGINT"):
        t.window(Tumble.over(lit(1).hours).on(col("v")).alias("w")).group_by(col("w"))
    with pytest.raises(ValueError, match=r"no column 'nope'"):
        t.window(Tumble.over(lit(1).hours).on(col("nope")).alias("w")).group_by(col("w"))
    with pytest.raises(ValueError, match=r"col\('w'\) is the group window's alias"):
        t.window(w).group_by(col("w")).select(col("w"))
    with pytest.raises(ValueError, match=r"col\('x'\)\.start: a window property of an unknown window alias.*'w'"):
        t.window(w).group_by(col("w")).select(col("x").start)
    with pytest.raises(ValueError, match=r"event time.*use col\('w'\)\.rowtime"):
        t.window(w).group_by(col("w")).select(col("w").proctime)
    with pytest.raises(ValueError, match=r"row-count windows"):
        Tumble.over(row_interval(10))
    with pytest.raises(ValueError, match=r"no fixed length"):
        Slide.over(lit(1).months)
    with pytest.raises(TypeError, match=r"time interval"):
        Tumble.over(lit(10))
    with pytest.raises(TypeError, match=r"over windows go to over_window"):
        t.window(Over.order_by(col("ts")).alias("o"))
    with pytest.raises(TypeError, match=r"group windows go to window"):
        t.over_window(w)
    o = Over.partition_by(col("k")).order_by(col("ts")).preceding(UNBOUNDED_RANGE).alias("o")
    with pytest.raises(ValueError, match=r"no over window is named 'x' \(over windows of this over_window: 'o'\)"):
        t.over_window(o).select(col("v").sum.over(col("x")))
    with pytest.raises(ValueError, match=r"both count rows or both be ranges"):
        Over.order_by(col("ts")).preceding(row_interval(2)).following(UNBOUNDED_RANGE).alias("o")


def test_window_sql(cases, envs):
    """The SQL a window writes: a window table function, GROUP BY its
    window columns; an over window's spec in OVER (...)."""
    from weir.table.expressions import CURRENT_ROW, col, lit, row_interval
    from weir.table.window import Over, Slide

    t = envs("batch").from_path("src")
    q = t.window(Slide.over(lit(1).hours).every(lit(90).seconds).on(col("ts")).alias("w")) \
        .group_by(col("w"), col("k")).select(col("w").start.alias("s"), col("v").sum)._sql()
    assert re.fullmatch(r"SELECT window_start AS s, SUM\(v\) AS `EXPR\$1` FROM TABLE\(HOP\(TABLE src, "
                        r"DESCRIPTOR\(ts\), INTERVAL '90' SECOND, INTERVAL '1' HOUR\)\) "
                        r"GROUP BY window_start, window_end, window_time, k",
                        q), q
    q = t.over_window(Over.order_by(col("ts")).preceding(row_interval(3)).following(CURRENT_ROW).alias("o")) \
        .select(col("v").max.over(col("o")))._sql()
    assert "MAX(v) OVER (ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS _c0" in q, q
    assert lit(250).millis._sql(None) == "INTERVAL '0.25' SECOND"
    assert lit(2).weeks._sql(None) == "INTERVAL '14' DAY"


def test_to_pandas_applies_the_changelog():
    """Retractions remove the rows they name (the first live copy); the rows
    left keep the order they were inserted in."""
    import random

    import pyarrow as pa

    from weir.table._env import _fold_changelog

    r = random.Random()
    live, kinds, rows = [], [], []
    for _ in range(300):
        if live and r.random() < 0.4:
            row = live.pop(r.randrange(len(live)))
            kinds.append(r.choice([1, 3]))
        else:
            row = (r.choice("abc"), r.randint(0, 3))
            live.append(row)
            kinds.append(r.choice([0, 2]))
        rows.append(row)
    t = pa.table({"k": [x[0] for x in rows], "v": [x[1] for x in rows]})
    got = [tuple(x.values()) for x in _fold_changelog(t, kinds).to_pylist()]
    assert sorted(got) == sorted(live)
    assert _fold_changelog(pa.table({"k": ["a", "b"], "v": [1, 2]}), [1, 0]).to_pylist() == [{"k": "b", "v": 2}]


def test_processing_time_window(cases, envs):
    """A window on a PROCTIME() column: col('w').proctime is its time,
    .rowtime is refused, and every row lands in one window."""
    from weir.table.expressions import col, lit
    from weir.table.window import Tumble

    env = envs("streaming")
    env.execute_sql("CREATE TABLE gen (a BIGINT, k INT, p AS PROCTIME()) WITH ('connector' = 'datagen', "
                    "'number-of-rows' = '200', 'fields.k.min' = '1', 'fields.k.max' = '3')")
    w = Tumble.over(lit(1).days).on(col("p")).alias("w")
    t = env.from_path("gen")
    with pytest.raises(ValueError, match=r"processing time.*use col\('w'\)\.proctime"):
        t.window(w).group_by(col("w")).select(col("w").rowtime)
    got = t.window(w).group_by(col("w"), col("k")).select(col("k"), col("a").count.alias("n"),
                                                           col("w").proctime.alias("pt")).to_pandas()
    assert got["n"].sum() == 200 and set(got["k"]) <= {1, 2, 3}, got
    assert (got["pt"].dt.hour == 23).all() and (got["pt"].dt.minute == 59).all(), got
