"""An aggregate function's accumulator that cannot be encoded as its
declared accumulator type fails with a clear error (function, declared
type, group key, accumulator) in batch mode, as in streaming mode
(test_state_aggregate): the first group each evaluator folds is checked
(streaming checks the first of each bundle), with both group loops (Cython
and pure Python) and through the engine in both modes. PyFlink 2.3 pickles
its accumulators without checking them (and runs no general udaf in batch
mode)."""

import os
import re
import sys

import pytest

from weir import AggregateFunction, DataTypes, ListView, Row, udaf
from weir.errors import FunctionError


class Sum(AggregateFunction):
    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, v):
        acc[0] += v

    def get_value(self, acc):
        return acc[0]


class Named(Sum):
    """Keeps a name where its declared type has a BIGINT."""

    def accumulate(self, acc, v):
        acc[0] = f"x{v}"

    def get_value(self, acc):
        return -1


class RowSum(Sum):
    def create_accumulator(self):
        return Row(0)


class Listed(Sum):
    def create_accumulator(self):
        return Row(ListView())

    def accumulate(self, acc, v):
        acc[0].add(v)

    def get_value(self, acc):
        return sum(acc[0])


ARR = DataTypes.ARRAY(DataTypes.BIGINT())


@pytest.fixture(params=["1", "0"], ids=["cython", "python"])
def loop(request, monkeypatch):
    monkeypatch.setenv("WEIR_CYTHON", request.param)
    from weir._aggregate import _general_group, group_loop

    assert (group_loop() is _general_group) == (request.param == "0")


def test_first_group_is_checked(loop):
    ev = udaf(Named(), result_type="BIGINT", accumulator_type=ARR, name="named").evaluator()
    with pytest.raises(FunctionError) as e:
        ev(1, [1, 2], "g", 7)
    msg = str(e.value)
    assert msg.startswith("the accumulator of Python aggregate function 'named' cannot be encoded as its declared "
                          "accumulator_type ARRAY<BIGINT>: "), msg
    assert "accumulator: ['x2']" in msg and "group key: ('g', 7)" in msg and "udaf(..., accumulator_type=...)" in msg


def test_fitting_accumulators_run(loop):
    ev = udaf(Sum(), result_type="BIGINT", accumulator_type=ARR).evaluator()
    assert [ev(1, [1, 2], "g"), ev(1, [5], "h")] == [3, 5]
    ev = udaf(RowSum(), result_type="BIGINT", accumulator_type="ROW<s BIGINT>").evaluator()
    assert [ev(1, [1, 2], "g"), ev(1, [5], "h")] == [3, 5]
    view = DataTypes.ROW([DataTypes.FIELD("l", DataTypes.LIST_VIEW(DataTypes.BIGINT()))])
    assert udaf(Listed(), result_type="BIGINT", accumulator_type=view).evaluator()(1, [1, 2], "g") == 3
    assert udaf(Named(), result_type="BIGINT").evaluator()(1, [1], "g") == -1  # nothing declared


_CHECKOUT_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bin", "weir")


@pytest.mark.parametrize("mode", ["batch", "streaming"])
def test_through_the_engine(mode):
    if not os.environ.get("WEIR_BIN") and os.access(_CHECKOUT_BIN, os.X_OK):
        os.environ["WEIR_BIN"] = os.path.abspath(_CHECKOUT_BIN)
    from weir.table._gateway import find_engine

    try:
        find_engine()
    except FileNotFoundError as e:
        pytest.skip(f"no weir engine to test ({e}); run 'make build'")
    import cloudpickle

    from weir.table import EngineError, EnvironmentSettings, TableEnvironment
    from weir.table.expressions import col
    from weir.table.udf import udaf as table_udaf

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    settings = EnvironmentSettings.in_batch_mode() if mode == "batch" else EnvironmentSettings.in_streaming_mode()
    env = TableEnvironment.create(settings)
    try:
        t = env.from_elements([(1, 2), (1, 3), (2, 13)], ["k", "v"])
        bad = table_udaf(Named(), result_type=DataTypes.BIGINT(), accumulator_type=ARR, name="named")
        with pytest.raises(EngineError) as e:
            list(t.group_by(col("k")).select(col("k"), bad(col("v"))).execute().collect())
        msg = str(e.value)
        # (the engine may suffix the name of a function registered again in this process)
        assert re.search(r"the accumulator of Python aggregate function 'named(_\d+)?' cannot be encoded as its "
                         r"declared accumulator_type ARRAY<BIGINT>", msg), msg
        assert re.search(r"group key: \([12],\)", msg), msg
        good = table_udaf(Sum(), result_type=DataTypes.BIGINT(), accumulator_type=ARR, name="total")
        rows = t.group_by(col("k")).select(col("k"), good(col("v"))).to_pandas()
        assert sorted(rows.itertuples(index=False, name=None)) == [(1, 5), (2, 13)]
    finally:
        env.close()
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
