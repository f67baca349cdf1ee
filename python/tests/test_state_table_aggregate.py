"""weir._state_table_aggregate without the engine: bundles of random sizes
against a stand-in for the engine's state service, checked against a
per-row model of PyFlink's GroupTableAggFunction (the changelog with one
row per bundle, the final rows with any bundles)."""

import random
import sys
import types

import pytest

from test_state_aggregate import DictState
from weir import DataTypes, Row, TableAggregateFunction, udtaf
from weir._state_aggregate import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE
from weir._state_table_aggregate import KeyedTableAggregate
from weir.coder import RowDecoder, RowEncoder
from weir.errors import FunctionError
from weir.proto import weir_pb2
from weir.types import parse_type


class Top2(TableAggregateFunction):
    """The two largest values of a multiset; nothing for an empty one."""

    def create_accumulator(self):
        return {}

    def accumulate(self, acc, v):
        if v == 13:
            raise ValueError("unlucky")
        acc[v] = acc.get(v, 0) + 1

    def retract(self, acc, v):
        acc[v] -= 1
        if not acc[v]:
            del acc[v]

    def emit_value(self, acc):
        for rank, v in enumerate(sorted(acc, reverse=True)[:2]):
            yield Row(v, rank + 1)


mod = types.ModuleType("state_tagg_udfs")
mod.top2 = udtaf(Top2(), result_type=DataTypes.ROW([DataTypes.FIELD("v", DataTypes.BIGINT()),
                                                    DataTypes.FIELD("r", DataTypes.INT())]), name="top2")
sys.modules["state_tagg_udfs"] = mod


def stage(retracting=True):
    st = weir_pb2.Stage(name="t", input_types=["TINYINT NOT NULL", "BYTES NOT NULL", "BIGINT"])
    f = st.functions.add(name="top2", module="state_tagg_udfs", attr="top2")
    f.result_types.append("ROW<`v` BIGINT, `r` INT>")
    for t in ("BIGINT", "INT"):
        o = st.outputs.add(type=t)
        o.call.function = 0
        o.call.args.add(column=2)
    st.job_parameters["weir.keyed.key-types"] = '["STRING NOT NULL"]'
    if not retracting:
        st.job_parameters["weir.keyed.retracting"] = "false"
    return st


KEY_ENC = RowEncoder([parse_type("STRING NOT NULL")])
IN_ENC = RowEncoder([parse_type(t) for t in ("TINYINT NOT NULL", "BYTES NOT NULL", "BIGINT")])
OUT_DEC = RowDecoder([parse_type(t) for t in ("BYTES NOT NULL", "TINYINT NOT NULL", "BIGINT", "INT")])


def key(k):
    KEY_ENC.encode_row([k])
    return KEY_ENC.take()


def run(op, rows):
    """One bundle of (kind, key, value) rows; its output as (kind, key, v, r)."""
    for kind, k, v in rows:
        IN_ENC.encode_row([kind, key(k), v])
    op.add(IN_ENC.take())
    out = []
    op.finish(out.append)
    return [(r[1], next(iter(op.key_decoder.decode(r[0])))[0], r[2], r[3]) for b in out for r in OUT_DEC.decode(b)]


def model(rows):
    """PyFlink's changelog with one row per bundle."""
    accs, counts, out = {}, {}, []
    f = Top2()
    for kind, k, v in rows:
        acc = accs.get(k)
        if acc is None:
            if kind & 1:
                continue
            acc = {}
        else:
            out += [(DELETE, k, a, b) for a, b in f.emit_value(acc)]
        if kind & 1:
            f.retract(acc, v)
            counts[k] -= 1
        else:
            f.accumulate(acc, v)
            counts[k] = counts.get(k, 0) + 1
        if counts[k] > 0:
            accs[k] = acc
            out += [(INSERT, k, a, b) for a, b in f.emit_value(acc)]
        else:
            accs.pop(k)
    return out


def materialize(changes):
    rows = []
    for kind, *r in changes:
        if kind in (INSERT, UPDATE_AFTER):
            rows.append(tuple(r))
        else:
            rows.remove(tuple(r))
    return sorted(rows)


def updates(rng, n):
    """Random input with retractions of rows sent before."""
    live, rows = [], []
    for _ in range(n):
        if live and rng.random() < 0.3:
            k, v = live.pop(rng.randrange(len(live)))
            rows.append((rng.choice((UPDATE_BEFORE, DELETE)), k, v))
        else:
            k, v = rng.choice("abcde"), rng.choice((1, 2, 5, 8, 21, 34))
            live.append((k, v))
            rows.append((rng.choice((INSERT, UPDATE_AFTER)), k, v))
    return rows


@pytest.mark.parametrize("seed", range(5))
def test_changelog_per_row_and_final_rows_per_bundle(seed):
    rng = random.Random(seed)
    rows = updates(rng, 300)
    want = model(rows)
    op = KeyedTableAggregate(stage(), DictState())
    got = [c for r in rows for c in run(op, [r])]
    assert got == want
    # Bundles of random sizes: the same final rows.
    state = DictState()
    op = KeyedTableAggregate(stage(), state)
    got, i = [], 0
    while i < len(rows):
        n = rng.randint(1, 40)
        got += run(op, rows[i:i + n])
        i += n
    assert materialize(got) == materialize(want)
    if not materialize(want):
        assert state.d == {}


def test_insert_only_and_unchanged_rows_emitted_again():
    op = KeyedTableAggregate(stage(retracting=False), DictState())
    assert run(op, [(INSERT, "a", 5), (INSERT, "a", 8)]) == [(INSERT, "a", 8, 1), (INSERT, "a", 5, 2)]
    # 1 changes nothing: PyFlink still retracts and emits the group's rows.
    assert run(op, [(INSERT, "a", 1)]) == [(DELETE, "a", 8, 1), (DELETE, "a", 5, 2),
                                           (INSERT, "a", 8, 1), (INSERT, "a", 5, 2)]


def test_retractions_of_a_new_group_are_skipped_alone():
    # PyFlink's finish_bundle returns at such a group, leaving the bundle's
    # other groups unprocessed; weir skips only the group's retractions.
    op = KeyedTableAggregate(stage(), DictState())
    assert run(op, [(DELETE, "x", 5), (INSERT, "y", 2), (UPDATE_BEFORE, "z", 1), (INSERT, "z", 3)]) == [
        (INSERT, "y", 2, 1), (INSERT, "z", 3, 1)]


def test_errors_name_function_group_and_row():
    op = KeyedTableAggregate(stage(), DictState())
    with pytest.raises(FunctionError) as e:
        run(op, [(INSERT, "k9", 1), (INSERT, "k9", 13)])
    msg = str(e.value)
    assert "table aggregate function 'top2' raised ValueError in accumulate: unlucky" in msg
    assert "group key: ('k9',)" in msg and "input row (+I), arguments: (13,)" in msg
    assert 'raise ValueError("unlucky")' in msg


class Many(TableAggregateFunction):
    """A group's count, then as many rows as it has rows times 10,000."""

    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, v):
        acc[0] += 1

    def emit_value(self, acc):
        for i in range(acc[0] * 10_000):
            yield Row(i, acc[0])


mod.many = udtaf(Many(), result_type=DataTypes.ROW([DataTypes.FIELD("v", DataTypes.BIGINT()),
                                                    DataTypes.FIELD("r", DataTypes.INT())]), name="many")


def test_a_group_with_many_rows_leaves_in_parts():
    from weir._state_table_aggregate import PART_ROWS

    st = stage(retracting=False)
    st.functions[0].attr = "many"
    op = KeyedTableAggregate(st, DictState())
    run(op, [(INSERT, "a", 1)] * 2)
    for kind, k, v in [(INSERT, "a", 1)]:
        IN_ENC.encode_row([kind, key(k), v])
    op.add(IN_ENC.take())
    parts = []
    op.finish(parts.append)
    rows = [r for b in parts for r in OUT_DEC.decode(b)]
    # The group's 20,000 rows taken back, then its 30,000 rows now, in order.
    assert len(parts) == -(-50_000 // PART_ROWS) and all(len(list(OUT_DEC.decode(b))) <= PART_ROWS for b in parts)
    assert [(r[1], r[2], r[3]) for r in rows] == ([(DELETE, i, 2) for i in range(20_000)]
                                                  + [(INSERT, i, 3) for i in range(30_000)])
