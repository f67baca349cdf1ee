"""A table aggregate function's accumulator that cannot be encoded as its
declared accumulator type fails with a clear error (function, declared
type, group key, accumulator), in batch mode (the evaluator, its first
group) and streaming mode (the keyed stage, the first group of each bundle),
as for aggregate functions, and
through the engine in both modes; one that fits, or a declared type with a
view (which the row coder does not encode), runs. PyFlink 2.3 pickles the
state and never checks the type (and runs no udtaf in batch mode); weir
checks it as it does for aggregate functions in streaming mode."""

import os
import re
import sys
import types

import pytest

from test_state_aggregate import DictState
from weir import DataTypes, ListView, Row, TableAggregateFunction, udtaf
from weir._state_aggregate import INSERT
from weir._state_table_aggregate import KeyedTableAggregate
from weir.coder import RowDecoder, RowEncoder
from weir.errors import FunctionError
from weir.proto import weir_pb2
from weir.types import parse_type


class Total(TableAggregateFunction):
    """One row: the group's total, kept in [total] (or a string when v is 13 or more)."""

    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, v):
        acc[0] = f"x{v}" if v >= 13 else acc[0] + v

    def emit_value(self, acc):
        yield Row(acc[0] if isinstance(acc[0], int) else -1)


class RowTotal(Total):
    def create_accumulator(self):
        return Row(0)


class Listed(TableAggregateFunction):
    def create_accumulator(self):
        return Row(ListView())

    def accumulate(self, acc, v):
        acc[0].add(v)

    def emit_value(self, acc):
        yield Row(sum(acc[0]))


RESULT = DataTypes.ROW([DataTypes.FIELD("t", DataTypes.BIGINT())])
mod = types.ModuleType("tagg_acc_udfs")
mod.arr = udtaf(Total(), result_type=RESULT, accumulator_type=DataTypes.ARRAY(DataTypes.BIGINT()), name="arr")
mod.row = udtaf(RowTotal(), result_type=RESULT, name="row",
                accumulator_type=DataTypes.ROW([DataTypes.FIELD("t", DataTypes.BIGINT())]))
mod.undeclared = udtaf(Total(), result_type=RESULT, name="undeclared")
mod.view = udtaf(Listed(), result_type=RESULT,
                 accumulator_type=DataTypes.ROW([DataTypes.FIELD("l", DataTypes.LIST_VIEW(DataTypes.BIGINT()))]),
                 name="view")
sys.modules["tagg_acc_udfs"] = mod

DECLARED = {"arr": "ARRAY<BIGINT>", "row": "ROW<`t` BIGINT>"}


@pytest.mark.parametrize("attr", ["arr", "row"])
def test_batch_first_group_is_checked(attr):
    ev = getattr(mod, attr).evaluator()
    with pytest.raises(FunctionError) as e:
        ev(1, "null", [1, 2, 13], "g", 7)
    msg = str(e.value)
    assert f"table aggregate function {attr!r} cannot be encoded as its declared accumulator_type " \
           f"{DECLARED[attr]}" in msg
    assert "group key: ('g', 7)" in msg and "'x13'" in msg
    ok = getattr(mod, attr).evaluator()
    assert ok(1, "null", [1, 2], "g") == [(3,)]
    assert ok(1, "null", [5, 13], "h") == [(-1,)]  # the first group only


def test_batch_undeclared_and_view_types_are_not_checked():
    assert mod.undeclared.evaluator()(1, "null", [13], "g") == [(-1,)]
    assert mod.view.evaluator()(1, "null", [1, 2, 3], "g") == [(6,)]


def stage(attr):
    st = weir_pb2.Stage(name="t", input_types=["TINYINT NOT NULL", "BYTES NOT NULL", "BIGINT"])
    f = st.functions.add(name=attr, module="tagg_acc_udfs", attr=attr)
    f.result_types.append("ROW<`t` BIGINT>")
    o = st.outputs.add(type="BIGINT")
    o.call.function = 0
    o.call.args.add(column=2)
    st.job_parameters["weir.keyed.key-types"] = '["STRING NOT NULL"]'
    return st


KEY_ENC = RowEncoder([parse_type("STRING NOT NULL")])
IN_ENC = RowEncoder([parse_type(t) for t in ("TINYINT NOT NULL", "BYTES NOT NULL", "BIGINT")])
OUT_DEC = RowDecoder([parse_type(t) for t in ("BYTES NOT NULL", "TINYINT NOT NULL", "BIGINT")])


def run(op, rows):
    for k, v in rows:
        KEY_ENC.encode_row([k])
        IN_ENC.encode_row([INSERT, KEY_ENC.take(), v])
    op.add(IN_ENC.take())
    out = []
    op.finish(out.append)
    return [(r[1], r[2]) for b in out for r in OUT_DEC.decode(b)]


@pytest.mark.parametrize("attr", ["arr", "row"])
def test_streaming_first_group_of_each_bundle_is_checked(attr):
    op = KeyedTableAggregate(stage(attr), DictState())
    assert run(op, [("a", 1), ("a", 2)]) == [(INSERT, 3)]
    with pytest.raises(FunctionError) as e:
        run(op, [("b", 13), ("a", 1)])
    msg = str(e.value)
    assert f"table aggregate function {attr!r} cannot be encoded as its declared accumulator_type " \
           f"{DECLARED[attr]}" in msg
    assert "group key: ('b',)" in msg and "'x13'" in msg


def test_streaming_undeclared_and_view_types_are_not_checked():
    assert run(KeyedTableAggregate(stage("undeclared"), DictState()), [("b", 13)]) == [(INSERT, -1)]
    assert run(KeyedTableAggregate(stage("view"), DictState()), [("b", 4), ("b", 5)]) == [(INSERT, 9)]


# -- through the engine --------------------------------------------------------

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
    from weir.table.udf import udtaf as table_udtaf

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    settings = EnvironmentSettings.in_batch_mode() if mode == "batch" else EnvironmentSettings.in_streaming_mode()
    env = TableEnvironment.create(settings)
    try:
        t = env.from_elements([(1, 20), (1, 30), (2, 13)], ["k", "v"])
        f = table_udtaf(Total(), result_type=RESULT, accumulator_type=DataTypes.ARRAY(DataTypes.BIGINT()), name="tot")
        with pytest.raises(EngineError) as e:
            list(t.group_by(col("k")).flat_aggregate(f(col("v"))).select(col("*")).execute().collect())
        msg = str(e.value)
        # (the engine may suffix the name of a function registered again in this process)
        assert re.search(r"table aggregate function 'tot(_\d+)?' cannot be encoded as its declared "
                         r"accumulator_type ARRAY<BIGINT>", msg), msg
        assert re.search(r"group key: \([12],\)", msg), msg
        good = env.from_elements([(1, 2), (1, 3), (2, 4)], ["k", "v"])
        final = []
        for r in good.group_by(col("k")).flat_aggregate(f(col("v"))).select(col("*")).execute().collect():
            kind = r.get_row_kind().name
            if kind in ("INSERT", "UPDATE_AFTER"):
                final.append(tuple(r))
            else:
                final.remove(tuple(r))
        assert sorted(final) == [(1, 5), (2, 4)]
    finally:
        env.close()
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
