"""weir._state_aggregate_fast (Cython) against its pure-Python twins in
weir._state_aggregate, on the same random bundles; and the live accumulators
a worker keeps between bundles, against state versions as the engine hands
them out (internal/pyexec/keyed.go)."""

import random

import pytest

import weir._state_aggregate as sa
from weir import AggregateFunction, DataTypes, udaf
from weir.coder import IMPLEMENTATION as CODER, RowDecoder, RowEncoder
from weir.errors import FunctionError
from weir.types import parse_type

from test_state_aggregate import DictState, key, mod, run, stage

try:
    from weir import _state_aggregate_fast as fast
except ImportError:  # built without Cython: the twins alone
    fast = None

needs_fast = pytest.mark.skipif(fast is None or CODER != "fast", reason="the Cython extensions are not built")

TYPES = ["TINYINT NOT NULL", "BYTES NOT NULL", "BIGINT", "STRING", "DOUBLE"]


def random_bundle(rnd, n):
    enc = RowEncoder([parse_type(t) for t in TYPES])
    for _ in range(n):
        enc.encode_row([rnd.randrange(4), key(rnd.choice("abcdefghij")), rnd.choice([None, rnd.randint(-9, 9)]),
                        rnd.choice([None, "x", "yz"]), rnd.random()])
    return enc.take()


@needs_fast
@pytest.mark.parametrize("seed", range(5))
def test_group_matches_its_twin(seed):
    rnd = random.Random(seed)
    dec = RowDecoder([parse_type(t) for t in TYPES])
    for kinds in (False, True):
        a, b = {}, {}
        for _ in range(3):
            data = random_bundle(rnd, rnd.randint(0, 200))
            assert fast.group(dec, data, a, 3, kinds) == sa._group_py(dec, data, b, 3, kinds)
        assert a == b and list(a) == list(b), "same lists, keys in order of first appearance"


FIXED = ["TINYINT NOT NULL", "BYTES NOT NULL", "BIGINT", "INT NOT NULL", "SMALLINT", "TINYINT", "DOUBLE", "FLOAT",
         "BOOLEAN"]


def random_fixed_bundle(rnd, n):
    enc = RowEncoder([parse_type(t) for t in FIXED])
    nul = lambda v: None if rnd.random() < 0.2 else v  # noqa: E731
    for _ in range(n):
        enc.encode_row([rnd.randrange(4), key(rnd.choice(["a", "b", "", "a" * 300, "é"]) + str(rnd.randrange(50))),
                        nul(rnd.randint(-2 ** 63, 2 ** 63 - 1)), rnd.randint(-2 ** 31, 2 ** 31 - 1),
                        nul(rnd.randint(-2 ** 15, 2 ** 15 - 1)), nul(rnd.randint(-128, 127)),
                        nul(rnd.uniform(-1e300, 1e300)), nul(rnd.choice([0.5, -2.25, 1e30])), nul(rnd.random() < 0.5)])
    return enc.take()


@needs_fast
@pytest.mark.parametrize("seed", range(5))
def test_grouper_matches_group(seed):
    """The Grouper reads fixed-width arguments from the wire itself: the
    same lists as the decoder's, over several elements of a bundle, and
    nothing of one bundle in the next."""
    rnd = random.Random(seed)
    dec = RowDecoder([parse_type(t) for t in FIXED])
    codes = sa._fixed_codes(FIXED)
    assert codes is not None and sa._fixed_codes(TYPES) is None
    for kinds in (False, True):
        g = fast.Grouper(codes, kinds)
        for _ in range(3):
            a, b = {}, {}
            g.reset(a)
            for _ in range(rnd.randint(1, 3)):
                data = random_fixed_bundle(rnd, rnd.randint(0, 300))
                assert g.add(data) == sa._group_py(dec, data, b, len(FIXED) - 2, kinds)
            assert a == b and list(a) == list(b)


@needs_fast
def test_grouper_refuses_malformed_rows():
    g = fast.Grouper(sa._fixed_codes(FIXED), False)
    data = random_fixed_bundle(random.Random(1), 3)
    for bad in (data[:-1], data[:1], b"\x05\x00\x00\x00\x00\x09"):
        g.reset({})
        with pytest.raises(ValueError, match="keyed stage's input row"):
            g.add(bad)


class Recorder:
    """accumulate / retract that record their calls and fail on a chosen value."""

    def __init__(self, fail=None):
        self.fail = fail

    def accumulate(self, acc, *args):
        if self.fail is not None and self.fail in args:
            raise ValueError("boom")
        acc.append(("+",) + args)

    def retract(self, acc, *args):
        acc.append(("-",) + args)


@needs_fast
@pytest.mark.parametrize("seed", range(5))
def test_fold_matches_its_twin(seed):
    rnd = random.Random(seed)
    for kinds in (False, True):
        for offs in [(0,), (0, 1), (1,), (2, 0), (), (0, 1, 2)]:
            stride = 3 + kinds
            vals = []
            for _ in range(rnd.randint(0, 30)):
                if kinds:
                    vals.append(rnd.randrange(4))
                vals.extend(rnd.randint(-5, 5) for _ in range(3))
            start = stride * rnd.randint(0, 2) if vals else 0
            r = Recorder()
            got, want = [], []
            n = fast.fold(r.accumulate, r.retract, got, vals, start, stride, kinds, offs, [0])
            m = sa._fold_py(r.accumulate, r.retract, want, vals, start, stride, kinds, offs, [0])
            assert (n, got) == (m, want)
            # A failing call: both report the same row.
            bad = Recorder(fail=vals[start + kinds] if offs and offs[0] == 0 and len(vals) > start else None)
            if bad.fail is None:
                continue
            wa, wb = [0], [0]
            with pytest.raises(ValueError):
                fast.fold(bad.accumulate, bad.retract, [], vals, start, stride, kinds, offs, wa)
            with pytest.raises(ValueError):
                sa._fold_py(bad.accumulate, bad.retract, [], vals, start, stride, kinds, offs, wb)
            if not (kinds and vals[wa[0]] & 1):
                assert wa == wb


@pytest.fixture(params=["fast", "slow"])
def impl(request, monkeypatch):
    if request.param == "fast":
        if fast is None or CODER != "fast":
            pytest.skip("the Cython extensions are not built")
        monkeypatch.setattr(sa, "_group", fast.group)
        monkeypatch.setattr(sa, "_fold_rows", fast.fold)
        monkeypatch.setattr(sa, "IMPLEMENTATION", "fast")
    else:
        monkeypatch.setattr(sa, "_group", sa._group_py)
        monkeypatch.setattr(sa, "_fold_rows", sa._fold_py)
        monkeypatch.setattr(sa, "IMPLEMENTATION", "slow")
    return request.param


class VersionedState(DictState):
    """The engine's side as keyed.go has it: writes applied only when the
    bundle completes, and each bundle's parent the version of the last
    completed one."""

    def __init__(self):
        super().__init__()
        self.n = 0
        self.last = None
        self.keys_read = 0
        self.staged = None

    def version(self):
        self.n += 1
        self.own, self.staged = b"v%d" % self.n, None
        return self.own, self.last

    def get(self, payload):
        pos = 1
        while pos < len(payload):
            m, pos = sa._read_varint(payload, pos)
            pos += m
            self.keys_read += 1
        return super().get(payload)

    def put(self, data):
        self.staged = data

    def completed(self):
        if self.staged is not None:
            super().put(self.staged)
        self.last = self.own


class Unversioned(VersionedState):
    version = None  # an engine that names no versions: nothing kept

    def put(self, data):
        DictState.put(self, data)


def random_rows(rnd, live, n):
    out = []
    for _ in range(n):
        k = rnd.choice("abcdefg")
        if live.get(k) and rnd.random() < 0.4:
            v = live[k].pop(rnd.randrange(len(live[k])))
            out.append((rnd.choice([sa.UPDATE_BEFORE, sa.DELETE]), k, v))
        else:
            v = rnd.choice([x for x in range(-5, 20) if x != 13])
            live.setdefault(k, []).append(v)
            out.append((rnd.choice([sa.INSERT, sa.UPDATE_AFTER]), k, v))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_kept_accumulators_give_the_changelog_of_state_reads(impl, seed):
    """A worker that keeps its accumulators emits what one reading every
    group from the state emits, with bundles replayed after a failure the
    worker did not see (its version never becomes a parent)."""
    rnd = random.Random(seed)
    plain, kept = KeyedAggregateFor(Unversioned()), KeyedAggregateFor(VersionedState())
    live = {}
    for i in range(30):
        rows = random_rows(rnd, live, rnd.randint(1, 25))
        want = run(plain, rows)
        if rnd.random() < 0.25:
            assert run(kept, rows) == want  # an attempt whose writes are lost
        assert run(kept, rows) == want
        kept.state.completed()
    assert kept.state.d == plain.state.d
    assert kept.state.keys_read < plain.state.keys_read / 2


@pytest.mark.parametrize("seed", range(3))
def test_kept_accumulators_count_their_pickled_bytes(impl, seed):
    """The bytes counted for a kept chain are those of its groups' state:
    what inserts add, updates change and deletes remove."""
    rnd = random.Random(seed)
    st = VersionedState()
    op = KeyedAggregateFor(st)
    live = {}
    for _ in range(25):
        run(op, random_rows(rnd, live, rnd.randint(1, 25)))
        st.completed()
        assert op.cache_bytes == {st.last: sum(len(v) for v in st.d.values())}
        assert set(op.caches[st.last]) == set(st.d)


def test_accumulators_over_the_byte_bound_are_not_kept(impl, monkeypatch):
    """A chain whose accumulators' pickled bytes pass CACHE_BYTES is read
    from the state again; the changelog is the same."""
    rows = [(sa.INSERT, k, v) for v, k in enumerate("abcdefghij")]
    plain = KeyedAggregateFor(Unversioned())
    run(plain, rows)
    st = VersionedState()
    op = KeyedAggregateFor(st)
    run(op, rows)
    st.completed()
    total = sum(len(v) for v in st.d.values())
    assert op.cache_bytes == {st.last: total}
    monkeypatch.setattr(sa, "CACHE_BYTES", total - 1)
    more = [(sa.INSERT, k, 100) for k in "aj"]
    assert run(op, more) == run(plain, more)
    st.completed()
    assert op.caches == {} and op.cache_bytes == {}
    st.keys_read = 0
    again = [(sa.INSERT, "c", 7)]
    assert run(op, again) == run(plain, again)
    assert st.keys_read == 1, "nothing was kept"


class TwoChains(VersionedState):
    """Two partitions' bundles through one worker: each has its own chain
    of versions (chain picks the next bundle's)."""

    def __init__(self):
        super().__init__()
        self.chain, self.lasts = 0, [None, None]

    def version(self):
        self.n += 1
        self.own, self.staged = b"c%d-v%d" % (self.chain, self.n), None
        return self.own, self.lasts[self.chain]

    def completed(self):
        super().completed()
        self.lasts[self.chain] = self.own


def test_the_oldest_chain_makes_room_by_bytes(impl, monkeypatch):
    st = TwoChains()
    op = KeyedAggregateFor(st)
    for chain, keys in ((0, "abcde"), (1, "fghij")):
        st.chain = chain
        run(op, [(sa.INSERT, k, 1) for k in keys])
        st.completed()
    assert list(op.caches) == st.lasts and len(op.cache_bytes) == 2
    one = op.cache_bytes[st.lasts[1]]
    # Room for one chain's accumulators and a bit: the next bundle of chain
    # 1 keeps its own, and chain 0's (the oldest) go.
    monkeypatch.setattr(sa, "CACHE_BYTES", one + 8)
    run(op, [(sa.INSERT, "f", 1)])
    st.completed()
    assert list(op.caches) == [st.lasts[1]] and list(op.cache_bytes) == [st.lasts[1]]
    st.chain, st.keys_read = 0, 0
    assert run(op, [(sa.INSERT, "a", 1)]) == [(sa.UPDATE_BEFORE, "('a',)", 1), (sa.UPDATE_AFTER, "('a',)", 2)]
    assert st.keys_read == 1, "chain 0's accumulators were dropped"


def KeyedAggregateFor(state):
    return sa.KeyedAggregate(stage(), state)


def test_kept_accumulators_are_used_only_on_their_version(impl):
    st = VersionedState()
    op = KeyedAggregateFor(st)
    run(op, [(sa.INSERT, "a", 1), (sa.INSERT, "b", 2)])
    st.completed()
    st.keys_read = 0
    assert run(op, [(sa.INSERT, "a", 1)]) == [(sa.UPDATE_BEFORE, "('a',)", 1), (sa.UPDATE_AFTER, "('a',)", 2)]
    assert st.keys_read == 0, "a's accumulator was kept"
    # The engine did not apply that bundle (its version is no parent): the
    # state still says a = 1, and the worker must read it again.
    assert run(op, [(sa.INSERT, "a", 5)]) == [(sa.UPDATE_BEFORE, "('a',)", 1), (sa.UPDATE_AFTER, "('a',)", 6)]
    assert st.keys_read == 1


def test_a_failed_bundle_drops_kept_accumulators(impl):
    st = VersionedState()
    op = KeyedAggregateFor(st)
    run(op, [(sa.INSERT, "a", 1)])
    st.completed()
    with pytest.raises(FunctionError):
        run(op, [(sa.INSERT, "a", 4), (sa.INSERT, "a", 13)])
    assert op.caches == {}
    st.keys_read = 0
    st.n -= 1  # the engine replays with the same parent
    assert run(op, [(sa.INSERT, "a", 4)]) == [(sa.UPDATE_BEFORE, "('a',)", 1), (sa.UPDATE_AFTER, "('a',)", 5)]
    assert st.keys_read == 1


class Several(AggregateFunction):
    """Two arguments, the second as a weight."""

    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, v, w):
        if v is not None and w is not None:
            acc[0] += v * w

    def retract(self, acc, v, w):
        if v is not None and w is not None:
            acc[0] -= v * w

    def get_value(self, acc):
        return acc[0]


mod.wsum = udaf(Several(), result_type=DataTypes.BIGINT(), name="wsum")


def test_several_functions_and_arguments_in_both_implementations(impl):
    from weir.proto import weir_pb2

    st = weir_pb2.Stage(name="t", input_types=["TINYINT NOT NULL", "BYTES NOT NULL", "BIGINT", "BIGINT"])
    for attr in ("usum", "wsum"):
        f = st.functions.add(name=attr, module="state_agg_udfs", attr=attr)
        f.result_types.append("BIGINT")
    o = st.outputs.add(type="BIGINT")
    o.call.function = 0
    o.call.args.add(column=3)
    o = st.outputs.add(type="BIGINT")
    o.call.function = 1
    o.call.args.add(column=2)
    o.call.args.add(column=3)
    st.job_parameters["weir.keyed.key-types"] = '["STRING"]'
    op = sa.KeyedAggregate(st, VersionedState())
    enc = RowEncoder([parse_type(t) for t in st.input_types])
    for k, v, w in [("a", 1, 2), ("b", 3, 4), ("a", 5, 6)]:
        enc.encode_row([sa.INSERT, key(k), v, w])
    op.add(enc.take())
    out = []
    op.finish(out.append)
    dec = RowDecoder([parse_type(t) for t in ["BYTES NOT NULL", "TINYINT NOT NULL", "BIGINT", "BIGINT"]])
    got = [(kind, op.key_text(k), u, w) for part in out for k, kind, u, w in dec.decode(part)]
    assert got == [(sa.INSERT, "('a',)", 8, 32), (sa.INSERT, "('b',)", 4, 12)]
