"""A float for an integer type is truncated toward zero, as PyFlink 2.3
does with a general Python function's float result (a scalar udf in
both modes, a udaf's get_value in streaming: 5.8 -> 5, -5.8 -> -5), with
one logged warning per declared type and value type; NaN, infinities and
values that are not numbers keep their clear errors. Both coders (Cython
and pure Python) give the same bytes as encoding the truncated ints."""

import logging
import math
import random
from decimal import Decimal

import pytest

from weir import _coder_slow
from weir._coder_errors import EncodeTypeError
from weir.row import Row
from weir.types import parse_type

from test_coder import _module

INTS = {"TINYINT": 2**7, "SMALLINT": 2**15, "INT": 2**31, "BIGINT": 2**63}


@pytest.fixture(params=["slow", "fast"])
def impl(request):
    return _module(request.param)


def test_random_floats_truncate_like_ints(impl):
    rnd = random.Random()
    for tname, lim in INTS.items():
        types = [parse_type(tname), parse_type(f"ARRAY<{tname}>"), parse_type(f"MAP<STRING, {tname}>"),
                 parse_type(f"ROW<`a` {tname}, `b` STRING>")]
        for _ in range(50):
            # within the range after truncation (|f| < lim - 1 keeps int(f) inside both ends)
            fs = [rnd.uniform(-(lim - 1), lim - 1) if rnd.random() < 0.5 else rnd.uniform(-10, 10) for _ in range(4)]
            fs = [f for f in fs if -lim < math.trunc(f) < lim - 1] or [0.5]
            got = impl.RowEncoder(types).encode([(fs[0], fs, {"k": fs[-1]}, Row(a=fs[0], b="x"))])
            want = [math.trunc(f) for f in fs]
            assert got == impl.RowEncoder(types).encode([(want[0], want, {"k": want[-1]}, Row(a=want[0], b="x"))])
            rows = impl.RowDecoder(types).decode(got)
            assert rows[0][0] == want[0] and list(rows[0][1]) == want


def test_both_coders_give_the_same_bytes():
    slow, fast = _coder_slow, _module("fast")
    types = [parse_type("BIGINT"), parse_type("INT NOT NULL"), parse_type("ARRAY<SMALLINT>")]
    rows = [(5.8, -5.8, [0.99, -0.99, 3.0]), (1e18 + 0.5, 2147483647.9, [-32768.7]), (-0.0, 0.0, [])]
    assert slow.RowEncoder(types).encode(rows) == fast.RowEncoder(types).encode(rows)
    assert [tuple(r) for r in fast.RowDecoder(types).decode(fast.RowEncoder(types).encode(rows))] == \
        [(5, -5, [0, 0, 3]), (int(1e18 + 0.5), 2147483647, [-32768]), (0, 0, [])]


def test_numpy_floats_truncate(impl):
    np = pytest.importorskip("numpy")
    types = [parse_type("BIGINT"), parse_type("INT")]
    assert impl.RowEncoder(types).encode([(np.float64(-7.9), np.float32(7.5))]) == \
        impl.RowEncoder(types).encode([(-7, 7)])


def test_not_numbers_are_still_refused(impl):
    for v in ("5", b"5", Decimal("5.5"), True, [5.0]):
        with pytest.raises(EncodeTypeError, match="expected int for BIGINT"):
            impl.RowEncoder([parse_type("BIGINT")]).encode_row([v])


def test_one_warning_per_type(impl, caplog, monkeypatch):
    monkeypatch.setattr(_coder_slow, "_TRUNCATED", set())
    enc = impl.RowEncoder([parse_type("BIGINT"), parse_type("INT")])
    with caplog.at_level(logging.WARNING, logger="weir"):
        for i in range(5):
            enc.encode_row((5.8 + i, 1.5))
    msgs = [r.getMessage() for r in caplog.records if r.name == "weir"]
    assert len(msgs) == 2, msgs
    assert "returned float 5.8 for a result of type BIGINT: truncated toward zero to 5" in msgs[0]
    assert "returned float 1.5 for a result of type INT: truncated toward zero to 1" in msgs[1]
