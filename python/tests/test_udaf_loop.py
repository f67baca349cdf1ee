"""The per-group loop of general aggregate functions: the Cython one
(weir._aggregate_fast) against its pure-Python twin, on random groups of one,
two and three arguments, Row accumulators and errors."""

import os
import random
import struct

import pytest

from weir import AggregateFunction, Row
from weir import _aggregate
from weir.errors import FunctionError

fast = pytest.importorskip("weir._aggregate_fast") if os.environ.get("WEIR_CYTHON") != "0" else None
LOOPS = [_aggregate._general_group] + ([fast.general_group] if fast else [])


def test_the_loop_in_use_is_what_was_asked():
    want = _aggregate._general_group if os.environ.get("WEIR_CYTHON") == "0" else fast.general_group
    assert _aggregate.group_loop() is want


class Poly(AggregateFunction):
    """Sums a weighted polynomial of its arguments; fails on a chosen value."""

    def __init__(self, bad=None, row_acc=False):
        self.bad, self.row_acc = bad, row_acc

    def create_accumulator(self):
        return Row(0, 0) if self.row_acc else [0, 0]

    def accumulate(self, acc, *vs):
        if self.bad is not None and vs[0] == self.bad:
            raise ValueError(f"bad value {vs[0]}")
        s = 0
        for i, v in enumerate(vs):
            if v is not None:
                s += (i + 1) * v
        acc[0] += s
        acc[1] += 1

    def get_value(self, acc):
        return (acc[0], acc[1])


def outcome(loop, agg, nargs, lists, keys):
    try:
        return ("ok", loop("poly", agg, nargs, *lists, *keys))
    except FunctionError as e:
        return ("error", str(e).split("Python traceback")[0])


def test_loops_agree_on_random_groups():
    seed = random.randrange(1 << 30)
    rnd = random.Random(seed)
    for _ in range(300):
        nargs = rnd.randint(1, 3)
        n = rnd.randint(0, 40)
        lists = [[rnd.choice([None, rnd.randint(-9, 9)]) for _ in range(n)] for _ in range(nargs)]
        # Tuples as well as lists, in case a decoder gives them.
        if rnd.random() < 0.2:
            lists = [tuple(c) for c in lists]
        agg = Poly(bad=rnd.choice([None, None, 7]), row_acc=rnd.random() < 0.3)
        keys = ("k", rnd.randint(0, 5))
        results = {outcome(loop, agg, nargs, lists, keys) for loop in LOOPS}
        assert len(results) == 1, f"seed {seed}: the loops disagree: {results}"
        kind, value = results.pop()
        rows = list(zip(*lists))
        bad = next((i for i, r in enumerate(rows) if agg.bad is not None and r[0] == agg.bad), None)
        if bad is None:
            assert kind == "ok" and value == (sum(sum((i + 1) * v for i, v in enumerate(r) if v is not None)
                                                  for r in rows), len(rows)), f"seed {seed}"
        else:
            assert kind == "error" and f"row {bad + 1} of the group, arguments: {tuple(rows[bad])!r}" in value, \
                f"seed {seed}: {value}"
            assert "group key: " + repr(keys) in value


def pack(tag, values):
    """A group's values as the engine packs them ($COLLECT_PACKED): tag, values little-endian, and with a NULL
    an upper-case tag and one byte per value (0 for NULL)."""
    body = struct.pack("<" + tag * len(values), *[0 if v is None else v for v in values])
    if None in values:
        return tag.upper().encode() + body + bytes(v is not None for v in values)
    return tag.encode() + body


@pytest.mark.parametrize("tag,values", [
    ("b", [-128, 0, 127]), ("h", [-32768, 5, 32767]), ("i", [-2 ** 31, 7, 2 ** 31 - 1]),
    ("q", [-2 ** 63, 0, 2 ** 63 - 1, 1000]), ("f", [1.5, -0.25, 3e38]), ("d", [0.1, -1e300, 2.5]),
    ("q", []), ("q", [None]), ("i", [None, 3, None]), ("d", [2.5, None]), ("b", [None, -1]),
])
def test_unpack(tag, values):
    want = [v if v is None else (struct.unpack("<f", struct.pack("<f", v))[0] if tag == "f" else v)
            for v in values]
    got = _aggregate._unpack(pack(tag, values))
    assert got == want and [type(v) for v in got] == [type(v) for v in want]


@pytest.mark.parametrize("data,msg", [(b"", "empty"), (b"x\x00", "unknown tag 'x'"), (b"q\x00\x01", "whole number"),
                                      (b"Q" + bytes(8), "whole number")])
def test_unpack_refuses_bad_bytes(data, msg):
    with pytest.raises(ValueError, match=msg):
        _aggregate._unpack(data)


def test_loops_agree_on_packed_groups():
    """Packed arguments (one, with or without NULLs, and beside lists) give what their lists give, in both
    loops: values, the row of an error and its arguments."""
    seed = random.randrange(1 << 30)
    rnd = random.Random(seed)
    for _ in range(300):
        nargs = rnd.randint(1, 3) if rnd.random() < 0.5 else 1
        n = rnd.randint(0, 40)
        nulls = rnd.random() < 0.3
        lists = [[rnd.choice([None, 1, 2]) if nulls and rnd.random() < 0.3 else rnd.randint(-9, 9)
                  for _ in range(n)] for _ in range(nargs)]
        tags = [rnd.choice("bhiqfd") for _ in range(nargs)]
        lists = [[None if v is None else (float(v) if t in "fd" else v) for v in c] for c, t in zip(lists, tags)]
        cols = [pack(t, c) if rnd.random() < 0.8 else c for c, t in zip(lists, tags)]
        agg = Poly(bad=rnd.choice([None, None, 7]), row_acc=rnd.random() < 0.3)
        keys = ("k", rnd.randint(0, 5))
        want = outcome(_aggregate._general_group, agg, nargs, lists, keys)
        for loop in LOOPS:
            got = outcome(loop, agg, nargs, cols, keys)
            assert got == want, f"seed {seed}: {loop.__module__} on {cols!r}: {got} != {want}"
