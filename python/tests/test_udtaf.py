"""Python table aggregate functions: the udtaf surface, the per-group
evaluator against plain Python on random groups, and flat_aggregate through
the real engine (bin/weir gateway) and workers."""

import inspect
import os
import random

import pytest

from weir import DataTypes, Row, TableAggregateFunction, udtaf
from weir.errors import FunctionError


class TopK(TableAggregateFunction):
    """The k largest non-NULL values of a group, with their rank."""

    def __init__(self, k=2):
        self.k = k

    def create_accumulator(self):
        return []

    def accumulate(self, accumulator, value):
        if value is not None:
            accumulator.append(value)
            accumulator.sort(reverse=True)
            del accumulator[self.k:]

    def emit_value(self, accumulator):
        for i, v in enumerate(accumulator):
            yield Row(v, i + 1)

    def get_result_type(self):
        return DataTypes.ROW([DataTypes.FIELD("v", DataTypes.BIGINT()), DataTypes.FIELD("rank", DataTypes.INT())])


def top_k(values, k):
    return [(v, i + 1) for i, v in enumerate(sorted((v for v in values if v is not None), reverse=True)[:k])]


def test_describe():
    d = udtaf(TopK()).describe()
    assert d["kind"] == "table_aggregate" and d["func_type"] == "general"
    assert d["result_types"] == ["ROW<`v` BIGINT, `rank` INT>"]
    assert (d["min_args"], d["max_args"]) == (1, 1)  # accumulate's, without the accumulator
    w = udtaf(TopK, result_type="ROW<a BIGINT, b INT>", accumulator_type="ARRAY<BIGINT>", name="t")
    assert w.name == "t" and w.field_names() == ["a", "b"] and str(w.accumulator_type) == "ARRAY<BIGINT>"
    assert udtaf(TopK(), result_type=DataTypes.BIGINT()).field_names() == ["f0"]


def test_signatures_follow_pyflink():
    params = list(inspect.signature(udtaf).parameters)
    assert params == ["f", "input_types", "result_type", "accumulator_type", "deterministic", "name", "func_type"]
    for m, want in [("create_accumulator", []), ("accumulate", ["accumulator", "args"]),
                    ("retract", ["accumulator", "args"]), ("merge", ["accumulator", "accumulators"]),
                    ("emit_value", ["accumulator"]), ("get_result_type", []), ("get_accumulator_type", [])]:
        assert list(inspect.signature(getattr(TableAggregateFunction, m)).parameters)[1:] == want, m


def test_bad_declarations():
    with pytest.raises(TypeError, match="want a TableAggregateFunction"):
        udtaf(lambda v: v, result_type="ROW<a INT>")
    with pytest.raises(ValueError, match="func_type='pandas' is not supported"):
        udtaf(TopK(), func_type="pandas")

    class NoType(TableAggregateFunction):
        def create_accumulator(self):
            return []

    with pytest.raises(NotImplementedError, match="result_type"):
        udtaf(NoType())
    with pytest.raises(TypeError, match="flat_aggregate"):
        udtaf(TopK())(1)
    w = udtaf(TopK())
    assert w.alias("x", "y").field_names() == ["v", "rank"] and w.alias("x", "y")._alias_names == ["x", "y"]
    with pytest.raises(ValueError, match="1 names for the 2 column"):
        w.alias("x")


def test_evaluator_random_groups():
    rnd = random.Random(11)
    for k in (1, 2, 5):
        ev = udtaf(TopK(k)).evaluator()
        for _ in range(100):
            vs = [rnd.choice([None, rnd.randint(-50, 50)]) for _ in range(rnd.randint(1, 30))]
            assert [tuple(r) for r in ev(1, "null", vs, "key")] == top_k(vs, k)


def test_evaluator_whole_rows_and_empty_global_group():
    class FirstNames(TableAggregateFunction):
        def create_accumulator(self):
            return []

        def accumulate(self, acc, row):
            acc.append((row.name, row["n"], row[1]))

        def emit_value(self, acc):
            return acc  # a list of rows, not a generator

        def get_result_type(self):
            return "ROW<name STRING, n INT, again INT>"

    ev = udtaf(FirstNames()).evaluator()
    assert ev(2, '["name", "n"]', ["a", "b"], [1, 2], "k") == [("a", 1, 1), ("b", 2, 2)]
    # flat_aggregate without group_by over no rows: no rows, as Flink's.
    assert ev(2, '["name", "n"]', [], []) == []


def test_errors_name_group_row_and_method():
    class Picky(TableAggregateFunction):
        def create_accumulator(self):
            return [0]

        def accumulate(self, acc, v):
            if v == 13:
                raise ValueError("unlucky")
            acc[0] += v

        def emit_value(self, acc):
            if acc[0] > 100:
                raise RuntimeError("too much")
            yield Row(acc[0])

        def get_result_type(self):
            return "ROW<s BIGINT>"

    ev = udtaf(Picky(), name="picky").evaluator()
    assert ev(1, "null", [1, 2, 3], "g") == [(6,)]
    with pytest.raises(FunctionError) as ei:
        ev(1, "null", [1, 2, 13, 4], "g", 7)
    msg = str(ei.value)
    assert "'picky' raised ValueError in accumulate: unlucky" in msg
    assert "group key: ('g', 7)" in msg and "row 3 of the group, arguments: (13,)" in msg
    with pytest.raises(FunctionError, match=r"(?s)'picky' raised RuntimeError in emit_value: too much.*group key: \('h',\)"):
        ev(1, "null", [99, 2], "h")


# -- through the engine --------------------------------------------------------

_CHECKOUT_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bin", "weir")


@pytest.fixture(scope="module")
def t_env():
    if not os.environ.get("WEIR_BIN") and os.access(_CHECKOUT_BIN, os.X_OK):
        os.environ["WEIR_BIN"] = os.path.abspath(_CHECKOUT_BIN)
    from weir.table._gateway import find_engine

    try:
        find_engine()
    except FileNotFoundError as e:
        pytest.skip(f"no weir engine to test ({e}); run 'make build'")
    from weir.table import EnvironmentSettings, TableEnvironment

    import sys

    import cloudpickle

    # The functions of this module go to the workers by value (they cannot import it).
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    env.get_config().set("parallelism.default", "2")
    yield env
    env.close()
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_flat_aggregate_random_groups(t_env):
    """group_by(k).flat_aggregate(topk(v)) over random rows with NULLs equals
    the top values computed in plain Python; the function's columns follow
    the keys, renamed by alias."""
    from weir.table.expressions import col
    from weir.table.udf import udtaf as table_udtaf

    rnd = random.Random()
    seed = rnd.randrange(1 << 30)
    rnd.seed(seed)
    rows = [(rnd.randint(0, 40), rnd.choice(["x", "y"]), rnd.choice([None] + list(range(-500, 500))))
            for _ in range(3000)]
    t = t_env.from_elements(rows, DataTypes.ROW([DataTypes.FIELD("k", DataTypes.INT()),
                                                 DataTypes.FIELD("s", DataTypes.STRING()),
                                                 DataTypes.FIELD("v", DataTypes.BIGINT())]))
    top3 = table_udtaf(TopK(3))
    got = sorted(tuple(r) for r in t.group_by(col("k"), col("s")).flat_aggregate(top3(col("v")).alias("best", "r"))
                 .select(col("k"), col("s"), col("best"), col("r")).execute().collect())
    groups = {}
    for k, s, v in rows:
        groups.setdefault((k, s), []).append(v)
    want = sorted((k, s, v, r) for (k, s), vs in groups.items() for v, r in top_k(vs, 3))
    assert got == want, f"seed {seed}"
    # Without group_by: the whole table is one group.
    got = sorted(tuple(r) for r in t.flat_aggregate(top3(col("v"))).select(col("*")).execute().collect())
    assert got == sorted(top_k([v for _, _, v in rows], 3)), f"seed {seed}"
    # Over no rows: no rows.
    assert list(t.where(col("k") < 0).flat_aggregate(top3(col("v"))).select(col("*")).execute().collect()) == []


def test_flat_aggregate_errors(t_env):
    from weir.table import EngineError
    from weir.table.expressions import col
    from weir.table.udf import udf
    from weir.table.udf import udtaf as table_udtaf

    t = t_env.from_elements([(1, 2), (1, 13), (2, 3)], ["k", "v"])
    top2 = table_udtaf(TopK(2))
    t_env.create_temporary_function("top2", top2)
    t_env.create_temporary_view("tv", t)
    with pytest.raises(EngineError, match="top2 is a table aggregate function: Flink SQL has no syntax"):
        t_env.execute_sql("SELECT top2(v) FROM tv GROUP BY k").collect()
    with pytest.raises(TypeError, match="flat_aggregate takes a table aggregate function"):
        t.group_by(col("k")).flat_aggregate("top2")
    inc = udf(lambda x: x + 1, result_type="BIGINT")
    with pytest.raises(EngineError, match="flat_aggregate takes a table aggregate function"):
        t.group_by(col("k")).flat_aggregate(inc(col("v"))).select(col("*")).execute()

    class Picky(TableAggregateFunction):
        def create_accumulator(self):
            return []

        def accumulate(self, acc, v):
            if v == 13:
                raise ValueError("unlucky")

        def emit_value(self, acc):
            return []

        def get_result_type(self):
            return "ROW<x INT>"

    picky = table_udtaf(Picky(), name="picky")
    with pytest.raises(EngineError) as ei:
        list(t.group_by(col("k")).flat_aggregate(picky(col("v"))).select(col("*")).execute().collect())
    msg = str(ei.value)
    assert "'picky' raised ValueError in accumulate: unlucky" in msg and "group key: (1,)" in msg, msg
    assert "row 2 of the group, arguments: (13,)" in msg, msg


class DiesOnce(TableAggregateFunction):
    """TopK(2) whose worker process dies (os._exit) the first time it sees a chosen value."""

    def __init__(self, marker, fatal):
        self.marker, self.fatal = marker, fatal

    def create_accumulator(self):
        return []

    def accumulate(self, accumulator, value):
        if value == self.fatal and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os._exit(1)
        accumulator.append(value)
        accumulator.sort(reverse=True)
        del accumulator[2:]

    def emit_value(self, accumulator):
        for i, v in enumerate(accumulator):
            yield Row(v, i + 1)

    def get_result_type(self):
        return "ROW<v BIGINT, `rank` INT>"


def test_flat_aggregate_worker_death_is_replayed(t_env, tmp_path):
    """A worker that dies in the middle of a group's accumulate: the bundle is
    replayed on a new worker and the result is exact."""
    from weir.table.expressions import col
    from weir.table.udf import udtaf as table_udtaf

    rnd = random.Random(5)
    rows = [(rnd.randint(0, 30), rnd.randint(0, 10_000)) for _ in range(2000)] + [(7, 123_456)]
    t = t_env.from_elements(rows, ["k", "v"])
    f = table_udtaf(DiesOnce(str(tmp_path / "died"), 123_456))
    got = sorted(tuple(r) for r in t.group_by(col("k")).flat_aggregate(f(col("v"))).select(col("*"))
                 .execute().collect())
    assert (tmp_path / "died").exists(), "the worker never died: the test tests nothing"
    groups = {}
    for k, v in rows:
        groups.setdefault(k, []).append(v)
    assert got == sorted((k, v, r) for k, vs in groups.items() for v, r in top_k(vs, 2))
