"""Accumulator view types (DataTypes.LIST_VIEW / MAP_VIEW, as PyFlink's) and
AggregateFunction classes declared with func_type='pandas'.

A view type may only be (part of) an accumulator_type; an aggregate
function whose accumulator type declares views runs in batch and in
streaming mode. PyFlink runs general Python aggregate functions in
streaming mode only, so the batch run is checked against the streaming
run and against the values computed here from random rows.
"""

import os
import random
import subprocess
import sys
import textwrap

import pytest

from weir import AggregateFunction, DataTypes, udaf
from weir._udf import FunctionContext
from weir.errors import FunctionError
from weir.types import ListViewType, MapViewType, find_view, parse_type

from test_table_programs import engine


def test_view_types_print_and_compare():
    lv = DataTypes.LIST_VIEW(DataTypes.STRING())
    mv = DataTypes.MAP_VIEW(DataTypes.STRING(), DataTypes.BIGINT())
    assert isinstance(lv, ListViewType) and isinstance(mv, MapViewType)
    assert str(lv) == "LIST_VIEW<STRING>" and str(mv) == "MAP_VIEW<STRING, BIGINT>"
    assert repr(lv) == "ListViewType(VarCharType(2147483647))"
    assert not lv.nullable and not mv.nullable  # as PyFlink's
    assert lv == DataTypes.LIST_VIEW(DataTypes.STRING()) and lv != DataTypes.LIST_VIEW(DataTypes.INT())
    assert lv.not_null() == lv
    with pytest.raises(ValueError, match="cannot be nullable"):
        lv.with_nullable(True)
    with pytest.raises(TypeError, match="LIST_VIEW element type must be a DataType"):
        DataTypes.LIST_VIEW("STRING")
    row = DataTypes.ROW([DataTypes.FIELD("f0", lv), DataTypes.FIELD("f1", DataTypes.BIGINT())])
    assert str(row) == "ROW<`f0` LIST_VIEW<STRING>, `f1` BIGINT>"
    assert find_view(row) == lv and find_view(DataTypes.ARRAY(mv)) == mv
    assert find_view(DataTypes.ROW([DataTypes.FIELD("a", DataTypes.INT())])) is None
    with pytest.raises(ValueError, match="unknown type 'LIST_VIEW'"):
        parse_type("LIST_VIEW<STRING>")  # no SQL spelling: never a column type


def test_view_types_only_in_accumulators():
    class Concat(AggregateFunction):
        def create_accumulator(self):
            return []

        def accumulate(self, acc, v):
            acc.append(v)

        def get_value(self, acc):
            return ",".join(acc)

    for bad in (DataTypes.LIST_VIEW(DataTypes.STRING()),
                DataTypes.ROW([DataTypes.FIELD("x", DataTypes.MAP_VIEW(DataTypes.INT(), DataTypes.INT()))])):
        with pytest.raises(ValueError, match=r"udaf 'Concat': result_type .* can only be used in the accumulator_type"):
            udaf(Concat(), result_type=bad)
    with pytest.raises(ValueError, match=r"udaf 'Concat': input type LIST_VIEW<STRING> holds"):
        udaf(Concat(), result_type="STRING", input_types=[DataTypes.LIST_VIEW(DataTypes.STRING())])
    w = udaf(Concat(), result_type="STRING", accumulator_type=DataTypes.ROW(
        [DataTypes.FIELD("f0", DataTypes.LIST_VIEW(DataTypes.STRING()))]))
    assert w.describe()["accumulator_type"] == "ROW<`f0` LIST_VIEW<STRING>>"



def test_view_types_refused_in_scalar_and_table_functions():
    from weir import udf, udtf
    with pytest.raises(ValueError, match=r"result_type LIST_VIEW<INT> holds .* only be used in the accumulator_type"):
        udf(lambda x: x, result_type=DataTypes.LIST_VIEW(DataTypes.INT()))
    with pytest.raises(ValueError, match=r"input_types MAP_VIEW<INT, INT> holds"):
        udf(lambda x: x, result_type="INT", input_types=[DataTypes.MAP_VIEW(DataTypes.INT(), DataTypes.INT())])
    with pytest.raises(ValueError, match=r"result_types .* holds LIST_VIEW<STRING>"):
        udtf(lambda x: [x], result_types=[DataTypes.ROW([DataTypes.FIELD("a", DataTypes.LIST_VIEW(DataTypes.STRING()))])])


class MaxAdd(AggregateFunction):
    """PyFlink's documentation's class-based pandas aggregate function."""

    def open(self, function_context):
        self.counter = function_context.get_metric_group().add_group("key", "value").counter("my_counter")
        self.opened = True

    def get_value(self, accumulator):
        self.counter.inc(10)
        return accumulator[0]

    def create_accumulator(self):
        return []

    def accumulate(self, accumulator, *args):
        result = 0
        for arg in args:
            result += arg.max()
        accumulator.append(result)


def test_pandas_class_random_groups():
    pytest.importorskip("pandas")
    w = udaf(MaxAdd(), result_type=DataTypes.BIGINT(), func_type="pandas")
    d = w.describe()
    assert (d["func_type"], d["min_args"], d["max_args"], d["result_types"]) == ("pandas", 0, -1, ["BIGINT"])
    w.open(FunctionContext({}))
    assert w.func.opened
    ev = w.evaluator()
    rnd = random.Random()
    for _ in range(100):
        n, nargs = rnd.randint(1, 20), rnd.randint(1, 3)
        cols = [[rnd.randint(-1000, 1000) for _ in range(n)] for _ in range(nargs)]
        r = ev(nargs, *cols, "key")
        assert r == sum(max(c) for c in cols) and type(r) is int  # numpy's int64 as Python's
    # The class itself, as for general functions.
    w2 = udaf(MaxAdd, result_type="BIGINT", func_type="pandas")
    w2.open(FunctionContext({}))
    assert w2.evaluator()(1, [3, 9], "k") == 9


def test_pandas_class_errors_name_the_method():
    class Bad(AggregateFunction):
        def create_accumulator(self):
            return [0]

        def accumulate(self, acc, v):
            acc[0] = v.sum() if v.sum() <= 10 else {}[v.sum()]

        def get_value(self, acc):
            return [acc[0]] if acc[0] < 0 else acc[0]

    ev = udaf(Bad(), result_type="DOUBLE", func_type="pandas", name="bad").evaluator()
    assert ev(1, [1.0, 2.0], "g") == 3.0
    with pytest.raises(FunctionError, match=r"'bad' raised KeyError in accumulate \(one pandas.Series"):
        ev(1, [5, 6], "g")
    with pytest.raises(FunctionError, match=r"'bad' returned a list of 1 values for group key \('g',\)"):
        ev(1, [-1.0], "g")
    with pytest.raises(TypeError, match="plain callable or an AggregateFunction"):
        udaf(42, result_type="INT", func_type="pandas")


PROGRAM = """
from weir.common import Row
from weir.table import AggregateFunction, DataTypes, EnvironmentSettings, ListView, MapView, TableEnvironment
from weir.table.expressions import col, lit
from weir.table.udf import udaf


class Concat(AggregateFunction):
    def get_value(self, acc):
        return acc[1].join(acc[0]) + "|" + ",".join(f"{k}={v}" for k, v in sorted(acc[2].items()))

    def create_accumulator(self):
        return Row(ListView(), '', MapView())

    def accumulate(self, acc, s, sep):
        acc[1] = sep
        acc[0].add(s)
        acc[2].put(s, acc[2].get(s) + 1 if acc[2].contains(s) else 1)

    def get_accumulator_type(self):
        return DataTypes.ROW([
            DataTypes.FIELD("f0", DataTypes.LIST_VIEW(DataTypes.STRING())),
            DataTypes.FIELD("f1", DataTypes.STRING()),
            DataTypes.FIELD("f2", DataTypes.MAP_VIEW(DataTypes.STRING(), DataTypes.BIGINT()))])

    def get_result_type(self):
        return DataTypes.STRING()


def final(result):
    rows = []
    with result.execute().collect() as changes:
        for r in changes:
            if str(r.get_row_kind()) in ("+I", "+U"):
                rows.append(tuple(r))
            else:
                rows.remove(tuple(r))
    return sorted(rows)


concat = udaf(Concat())
for settings in (EnvironmentSettings.in_batch_mode(), EnvironmentSettings.in_streaming_mode()):
    env = TableEnvironment.create(settings)
    env.get_config().set("parallelism.default", "1")
    t = env.from_elements(ROWS, ["id", "s", "k"])
    print(final(t.group_by(col("k")).select(col("k"), concat(col("s"), lit(";")).alias("v"))))
"""


def test_list_view_accumulators_in_batch_and_streaming(tmp_path):
    rnd = random.Random()
    rows = [(i, rnd.choice("abcd"), rnd.choice(["x", "y", "z"])) for i in range(rnd.randint(5, 40))]
    prog = tmp_path / "views.py"
    prog.write_text(textwrap.dedent(PROGRAM).replace("ROWS", repr(rows)))
    r = subprocess.run([sys.executable, str(prog)], capture_output=True, text=True, cwd=tmp_path,
                       env=dict(os.environ, WEIR_BIN=engine()), timeout=300)
    assert r.returncode == 0, r.stderr[-5000:]
    want = []
    for k in sorted({k for _, _, k in rows}):
        ss = [s for _, s, kk in rows if kk == k]
        counts = ",".join(f"{s}={ss.count(s)}" for s in sorted(set(ss)))
        want.append((k, ";".join(ss) + "|" + counts))
    assert r.stdout.splitlines() == [repr(want), repr(want)]


def test_pandas_float_for_integer_result_refused_like_pyflink():
    # PyFlink converts a pandas aggregate's value with pyarrow: 5.8 for
    # BIGINT fails there (a general function's is truncated by the coder).
    pytest.importorskip("pandas")
    f = udaf(lambda v: v.sum(), result_type="BIGINT", func_type="pandas", name="s")
    with pytest.raises(FunctionError, match=r"'s' returned float 5.8 for its BIGINT result for group key \('g',\)"):
        f.evaluator()(1, [5.8], "g")
    r = f.evaluator()(1, [2.5, 2.5], "g")
    assert r == 5 and type(r) is int
    assert udaf(lambda v: v.sum(), result_type="DOUBLE", func_type="pandas").evaluator()(1, [5.8], "g") == 5.8
