"""weir._state_aggregate without the engine: a bundle's rows against a
stand-in for the engine's state service, checked against Flink's
GroupAggFunction rules and a straightforward per-row model."""

import random
import sys
import types

import pytest

from weir import AggregateFunction, DataTypes, udaf
from weir._state_aggregate import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, KeyedAggregate, _read_varint, _varint
from weir.coder import RowDecoder, RowEncoder
from weir.errors import FunctionError
from weir.proto import weir_pb2
from weir.types import parse_type


class Sum(AggregateFunction):
    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, v):
        if v == 13:
            raise ValueError("unlucky")
        acc[0] += v

    def retract(self, acc, v):
        acc[0] -= v

    def get_value(self, acc):
        return acc[0]


class Lockish(Sum):
    def create_accumulator(self):
        return [0, lambda: None]


mod = types.ModuleType("state_agg_udfs")
mod.usum = udaf(Sum(), result_type=DataTypes.BIGINT(), name="usum")
mod.bad = udaf(Lockish(), result_type=DataTypes.BIGINT(), name="bad")
sys.modules["state_agg_udfs"] = mod


class DictState:
    def __init__(self):
        self.d, self.gets, self.puts = {}, 0, 0

    def get(self, payload):
        self.gets += 1
        out, pos = bytearray(), 1
        while pos < len(payload):
            n, pos = _read_varint(payload, pos)
            v = self.d.get(payload[pos:pos + n])
            pos += n
            if v is None:
                out.append(0)
            else:
                _varint(out, len(v) + 1)
                out += v
        return bytes(out)

    def put(self, data):
        self.puts += 1
        pos = 0
        while pos < len(data):
            n, pos = _read_varint(data, pos)
            k = data[pos:pos + n]
            pos += n
            m, pos = _read_varint(data, pos)
            if m == 0:
                self.d.pop(k, None)
            else:
                self.d[k] = data[pos:pos + m - 1]
                pos += m - 1


def stage(attr="usum", retracting=True):
    st = weir_pb2.Stage(name="t", input_types=["TINYINT NOT NULL", "BYTES NOT NULL", "BIGINT"])
    f = st.functions.add(name=attr, module="state_agg_udfs", attr=attr)
    f.result_types.append("BIGINT")
    o = st.outputs.add(type="BIGINT")
    o.call.function = 0
    o.call.args.add(column=2)
    st.job_parameters["weir.keyed.key-types"] = '["STRING NOT NULL"]'
    if not retracting:
        st.job_parameters["weir.keyed.retracting"] = "false"
    return st


def key(s):
    e = RowEncoder([parse_type("STRING NOT NULL")])
    e.encode_row([s])
    return e.take()


def run(op, rows):
    """One bundle of (kind, key, v) rows; returns (kind, key, value) out."""
    e = RowEncoder([parse_type(t) for t in op.stage.input_types])
    for kind, k, v in rows:
        e.encode_row([kind, key(k), v])
    op.add(e.take())
    out = []
    op.finish(out.append)
    dec = RowDecoder([parse_type("BYTES NOT NULL"), parse_type("TINYINT NOT NULL"), parse_type("BIGINT")])
    res = []
    for part in out:
        for kb, kind, v in dec.decode(part):
            res.append((kind, op.key_text(kb), v))
    return res


def test_flink_rules_per_bundle():
    st = DictState()
    op = KeyedAggregate(stage(), st)
    assert run(op, [(INSERT, "a", 1), (INSERT, "b", 2), (INSERT, "a", 3)]) == [
        (INSERT, "('a',)", 4), (INSERT, "('b',)", 2)]
    assert st.gets == 1 and st.puts == 1, "one get and one put per bundle"
    # A change: -U old, +U new; no change (a +2 and a -2): nothing.
    assert run(op, [(INSERT, "a", 1), (INSERT, "b", 2), (UPDATE_BEFORE, "b", 2)]) == [
        (UPDATE_BEFORE, "('a',)", 4), (UPDATE_AFTER, "('a',)", 5)]
    # Every row of b taken back: -D of its last value, its state dropped.
    assert run(op, [(DELETE, "b", 2)]) == [(DELETE, "('b',)", 2)]
    assert key("b") not in st.d
    # Retractions of a group without state are ignored; an insert after
    # them starts it.
    assert run(op, [(DELETE, "c", 7), (UPDATE_BEFORE, "c", 1), (INSERT, "c", 5)]) == [(INSERT, "('c',)", 5)]
    # A group inserted and taken back within one bundle emits nothing.
    assert run(op, [(INSERT, "d", 5), (DELETE, "d", 5)]) == []
    assert key("d") not in st.d


def test_random_bundles_match_a_per_row_model():
    rnd = random.Random(5)
    st = DictState()
    op = KeyedAggregate(stage(), st)
    live = {}  # key -> values present
    emitted = {}
    for _ in range(40):
        bundle = []
        for _ in range(rnd.randint(1, 30)):
            k = rnd.choice("abcdefg")
            if live.get(k) and rnd.random() < 0.4:
                v = live[k].pop(rnd.randrange(len(live[k])))
                bundle.append((rnd.choice([UPDATE_BEFORE, DELETE]), k, v))
            else:
                v = rnd.choice([x for x in range(-5, 20) if x != 13])
                live.setdefault(k, []).append(v)
                bundle.append((rnd.choice([INSERT, UPDATE_AFTER]), k, v))
        for kind, k, v in run(op, bundle):
            if kind in (INSERT, UPDATE_AFTER):
                assert k not in emitted
                emitted[k] = v
            else:
                assert emitted.pop(k) == v, "a retraction repeats the value last emitted"
    want = {f"('{k}',)": sum(vs) for k, vs in live.items() if vs}
    assert emitted == want


def test_insert_only_fast_path_gives_the_same_rows():
    a = KeyedAggregate(stage(retracting=False), DictState())
    b = KeyedAggregate(stage(), DictState())
    rows = [(INSERT, k, v) for k, v in zip("abcabcaab", range(9))]
    assert run(a, rows) == run(b, rows)
    assert run(a, rows) == run(b, rows)


def test_errors_name_function_key_and_row():
    op = KeyedAggregate(stage(), DictState())
    with pytest.raises(FunctionError) as e:
        run(op, [(INSERT, "x", 1), (INSERT, "y", 13)])
    msg = str(e.value)
    assert "aggregate function 'usum' raised ValueError in accumulate: unlucky" in msg
    assert "group key: ('y',)" in msg and "input row (+I), arguments: (13,)" in msg
    assert 'raise ValueError("unlucky")' in msg
    bad = KeyedAggregate(stage("bad"), DictState())
    with pytest.raises(FunctionError) as e:
        run(bad, [(INSERT, "x", 1)])
    assert "the accumulator of Python aggregate function(s) 'bad' cannot be stored" in str(e.value)
    assert "group key: ('x',)" in str(e.value)


class Typed(Sum):
    def create_accumulator(self):
        return ["zero"]

    def accumulate(self, acc, v):
        pass

    def get_value(self, acc):
        return 0


mod.typed = udaf(Typed(), result_type=DataTypes.BIGINT(), accumulator_type=DataTypes.ARRAY(DataTypes.BIGINT()),
                 name="typed")
mod.typed_ok = udaf(Sum(), result_type=DataTypes.BIGINT(), accumulator_type=DataTypes.ARRAY(DataTypes.BIGINT()),
                    name="typed_ok")


def test_accumulator_of_another_type_than_declared():
    with pytest.raises(FunctionError) as e:
        run(KeyedAggregate(stage("typed"), DictState()), [(INSERT, "x", 1)])
    msg = str(e.value)
    assert "the accumulator of Python aggregate function 'typed' cannot be encoded as its declared" in msg
    assert "ARRAY<BIGINT>" in msg and "group key: ('x',)" in msg and "'zero'" in msg
    assert run(KeyedAggregate(stage("typed_ok"), DictState()), [(INSERT, "x", 1)]) == [(INSERT, "('x',)", 1)]
