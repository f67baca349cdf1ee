"""Python aggregate functions: the udaf surface, the per-group evaluator and
its run through a real Python stage (the operations of WEIR_CYTHON's
choice), with random groups checked against plain Python."""

import importlib
import inspect
import random
import sys
import textwrap
import uuid

import pytest

from weir import AggregateFunction, DataTypes, ListView, MapView, udaf
from weir import _functions, operations
from weir.coder import RowDecoder, RowEncoder
from weir.errors import FunctionError
from weir.proto import weir_pb2 as pb
from weir.types import parse_type


class WeightedAvg(AggregateFunction):
    def create_accumulator(self):
        return [0, 0]

    def get_value(self, accumulator):
        return None if accumulator[1] == 0 else accumulator[0] / accumulator[1]

    def accumulate(self, accumulator, value, weight):
        accumulator[0] += value * weight
        accumulator[1] += weight

    def retract(self, accumulator, value, weight):
        accumulator[0] -= value * weight
        accumulator[1] -= weight

    def merge(self, accumulator, accumulators):
        for other in accumulators:
            accumulator[0] += other[0]
            accumulator[1] += other[1]

    def get_accumulator_type(self):
        return DataTypes.ARRAY(DataTypes.BIGINT())

    def get_result_type(self):
        return DataTypes.DOUBLE()


def test_describe_general_and_pandas():
    w = udaf(WeightedAvg())
    d = w.describe()
    assert d["kind"] == "aggregate" and d["func_type"] == "general"
    assert d["result_types"] == ["DOUBLE"]
    assert d["accumulator_type"] == "ARRAY<BIGINT>"
    assert (d["min_args"], d["max_args"]) == (2, 2)  # accumulate's, without the accumulator
    w2 = udaf(WeightedAvg, result_type="FLOAT", accumulator_type=DataTypes.ARRAY(DataTypes.BIGINT()), name="wavg")
    assert w2.describe()["result_types"] == ["FLOAT"] and w2.name == "wavg"

    @udaf(result_type=DataTypes.FLOAT(), func_type="pandas")
    def mean(v, *more):
        return v.mean()

    d = mean.describe()
    assert (d["kind"], d["func_type"], d["min_args"], d["max_args"]) == ("aggregate", "pandas", 1, -1)
    assert d["accumulator_type"] is None


def test_signatures_follow_pyflink():
    params = list(inspect.signature(udaf).parameters)
    assert params == ["f", "input_types", "result_type", "accumulator_type", "deterministic", "name", "func_type"]
    for m, want in [("create_accumulator", []), ("accumulate", ["accumulator", "args"]),
                    ("retract", ["accumulator", "args"]), ("merge", ["accumulator", "accumulators"]),
                    ("get_value", ["accumulator"]), ("get_result_type", []), ("get_accumulator_type", [])]:
        assert list(inspect.signature(getattr(AggregateFunction, m)).parameters)[1:] == want, m


def test_bad_declarations():
    with pytest.raises(TypeError, match="must be an AggregateFunction"):
        udaf(lambda v: v, result_type="INT")
    with pytest.raises(ValueError, match="func_type='arrow' is not supported"):
        udaf(WeightedAvg(), func_type="arrow")

    class NoType(AggregateFunction):
        def create_accumulator(self):
            return []

    with pytest.raises(NotImplementedError, match="result_type"):
        udaf(NoType())
    with pytest.raises(TypeError, match="aggregate function"):
        udaf(WeightedAvg())(1, 2)


def test_general_evaluator_random_groups():
    ev = udaf(WeightedAvg()).evaluator()
    rnd = random.Random(7)
    for _ in range(200):
        n = rnd.randint(0, 30)
        vs = [rnd.randint(-100, 100) for _ in range(n)]
        ws = [rnd.randint(0, 5) for _ in range(n)]
        tw = sum(ws)
        want = None if tw == 0 else sum(v * w for v, w in zip(vs, ws)) / tw
        assert ev(2, vs, ws, "key") == want


def test_pandas_evaluator():
    pd = pytest.importorskip("pandas")

    @udaf(result_type="DOUBLE", func_type="pandas")
    def wmean(v, w):
        assert isinstance(v, pd.Series) and isinstance(w, pd.Series)
        return (v * w).sum() / w.sum()

    r = wmean.evaluator()(2, [1.0, 2.0, 4.0], [1.0, 1.0, 2.0], "k")
    assert r == pytest.approx(11 / 4) and type(r) is float  # numpy scalar -> Python

    # NaN is NULL, for an integer result too, as PyFlink 2.3 gives it
    # (recorded: a batch GROUP BY with DOUBLE and BIGINT results).
    nan = udaf(lambda v: v.mean() if v.sum() else float("nan"), result_type="DOUBLE", func_type="pandas")
    assert nan.evaluator()(1, [0.0], "k") is None and nan.evaluator()(1, [3.0], "k") == 3.0
    nan_int = udaf(lambda v: float("nan"), result_type="BIGINT", func_type="pandas")
    assert nan_int.evaluator()(1, [1], "k") is None

    @udaf(result_type="DOUBLE", func_type="pandas")
    def twice(v):
        return v * 2

    with pytest.raises(FunctionError, match=r"'twice' returned a Series of 1 values for group key \('k', 3\).*one scalar"):
        twice.evaluator()(1, [1.0], "k", 3)


def test_accumulate_error_names_group_row_and_line():
    class Picky(AggregateFunction):
        def create_accumulator(self):
            return [0]

        def accumulate(self, acc, v):
            if v == 13:
                raise ValueError("unlucky")
            acc[0] += v

        def get_value(self, acc):
            return acc[0]

    ev = udaf(Picky(), result_type="BIGINT", name="picky").evaluator()
    assert ev(1, [1, 2, 3], "g") == 6
    with pytest.raises(FunctionError) as ei:
        ev(1, [1, 2, 13, 4], "g", 7)
    msg = str(ei.value)
    assert "aggregate function 'picky' raised ValueError in accumulate: unlucky" in msg
    assert "group key: ('g', 7)" in msg and "row 3 of the group, arguments: (13,)" in msg
    assert 'raise ValueError("unlucky")' in msg and "in accumulate" in msg


def test_list_view_and_map_view():
    lv = ListView()
    lv.add(1)
    lv.add_all([2, 3])
    assert list(lv) == [1, 2, 3] and lv.get() == [1, 2, 3]
    lv.clear()
    assert list(lv) == []
    mv = MapView()
    mv.put("a", 1)
    mv.put_all({"b": 2})
    assert mv.contains("a") and mv.get("b") == 2 and sorted(mv.keys()) == ["a", "b"]
    mv.remove("a")
    assert not mv.contains("a") and not mv.is_empty() and list(mv.items()) == [("b", 2)]
    mv.clear()
    assert mv.is_empty()


HELPERS = """
from weir import AggregateFunction, ListView, udaf

class Median(AggregateFunction):
    def create_accumulator(self):
        return [ListView()]

    def accumulate(self, acc, v):
        if v is not None:
            acc[0].add(v)

    def get_value(self, acc):
        vs = sorted(acc[0])
        return vs[len(vs) // 2] if vs else None

median = udaf(Median(), result_type="BIGINT")
"""


@pytest.fixture
def helpers(tmp_path, monkeypatch):
    name = f"weir_udaf_helpers_{uuid.uuid4().hex[:12]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(HELPERS))
    monkeypatch.syspath_prepend(str(tmp_path))
    _functions._opened.clear()
    yield importlib.import_module(name)
    _functions._opened.clear()
    sys.modules.pop(name, None)


def test_through_a_python_stage(helpers):
    """A stage as the planner makes it: median(2 collected... ) per input row = group,
    f(1, $COLLECT(v), key) with NULLs among the values."""
    types = ["ARRAY<BIGINT> NOT NULL", "STRING"]
    stage = pb.Stage(kind=pb.Stage.SCALAR, input_types=types, name="PythonCalc[median]")
    stage.functions.append(pb.Function(name="median", module=helpers.__name__, attr="median",
                                       result_types=["BIGINT"], deterministic=True))
    nargs = pb.Expr(constant=RowEncoder([parse_type("INT NOT NULL")]).encode([[1]]), type="INT NOT NULL")
    stage.outputs.append(pb.Expr(call=pb.Call(function=0, args=[
        nargs, pb.Expr(column=0, type=types[0]), pb.Expr(column=1, type=types[1])]), type="BIGINT"))
    rnd = random.Random(3)
    rows, want = [], []
    for g in range(300):
        vs = [rnd.choice([None, rnd.randint(-50, 50)]) for _ in range(rnd.randint(0, 12))]
        rows.append([vs, f"g{g}"])
        nn = sorted(v for v in vs if v is not None)
        want.append([nn[len(nn) // 2] if nn else None])
    op = operations.ScalarOperation(stage)
    out = op.process(RowEncoder([parse_type(t) for t in types]).encode(rows))
    if isinstance(out, (list, tuple)):
        out = b"".join(out)
    assert RowDecoder([parse_type("BIGINT")]).decode(out) == want


def test_weir_describe_reports_aggregates(tmp_path):
    """python -m weir.describe, as the planner runs it, reports the kind, the
    result and accumulator types and the arity of an aggregate function."""
    import json
    import os
    import subprocess

    (tmp_path / "aggs.py").write_text(textwrap.dedent("""
        from weir import AggregateFunction, DataTypes, udaf

        class WeightedAvg(AggregateFunction):
            def create_accumulator(self):
                return [0, 0]
            def accumulate(self, acc, value, weight):
                pass
            def get_value(self, acc):
                return None
            def get_result_type(self):
                return DataTypes.DOUBLE()
            def get_accumulator_type(self):
                return DataTypes.ROW([DataTypes.FIELD("s", DataTypes.BIGINT()), DataTypes.FIELD("c", DataTypes.BIGINT())])

        wavg = udaf(WeightedAvg())
        pmean = udaf(lambda v: v.mean(), result_type="FLOAT", func_type="pandas")
    """))
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "weir.describe", "aggs.wavg", "aggs.pmean"], capture_output=True,
                         text=True, env=env, cwd=tmp_path, check=True).stdout
    wavg, pmean = [json.loads(l) for l in out.splitlines()]
    assert wavg["ok"] and wavg["kind"] == "aggregate" and wavg["func_type"] == "general"
    assert wavg["result_types"] == ["DOUBLE"] and (wavg["min_args"], wavg["max_args"]) == (2, 2)
    assert wavg["accumulator_type"].startswith("ROW<")
    assert pmean["ok"] and pmean["func_type"] == "pandas" and pmean["result_types"] == ["FLOAT"]
    assert (pmean["min_args"], pmean["max_args"]) == (1, 1)
