"""Fuzzing the row decoders (and a little the encoders) of both implementations.

Random bytes and mutated valid batches (bit flips, truncation, extension,
overwrites, insertions, deletions) go to RowDecoder.decode / decode_table:
the only exception allowed out is DecodeError (a ValueError), never a crash,
a hang or another exception; and both implementations must agree, value for
value or message for message. Time-bounded (a few seconds per test).
"""

import datetime as dt

import faulthandler
import random
import time
from decimal import Decimal

from weir import _coder_slow
from weir._coder_errors import DecodeError, EncodeError
from weir.row import Row, RowKind, _make_row
from weir.types import parse_type

try:
    from weir import _coder_fast
except ImportError as e:
    _coder_fast = None
    _FAST_MISSING = f"weir._coder_fast is not built ({e})"

UTC = dt.timezone.utc
TIME_BUDGET = 2.5  # seconds per test
MIN_CASES = 2000

SCHEMAS = {
    "flat": (
        ["TINYINT", "SMALLINT", "INT NOT NULL", "BIGINT", "BOOLEAN", "FLOAT", "DOUBLE", "STRING", "BYTES"],
        lambda r: [
            r.randint(-128, 127), r.randint(-32768, 32767), r.randint(-(2**31), 2**31 - 1),
            r.randint(-(2**63), 2**63 - 1), r.random() < 0.5, 1.5, r.random() * 1e10,
            "s\u00e9\u4e2d" * r.randint(0, 3), bytes(r.randint(0, 5)),
        ],
    ),
    "decimal_time": (
        ["DECIMAL(10, 2)", "DECIMAL(38, 0) NOT NULL", "DATE", "TIME(3)", "TIMESTAMP(3)", "TIMESTAMP(9)",
         "TIMESTAMP_LTZ(6)", "TIMESTAMP_LTZ(0)"],
        lambda r: [
            Decimal(r.randint(-10**9, 10**9)).scaleb(-2), Decimal(r.randint(-10**37, 10**37)),
            dt.date.fromordinal(r.randint(1, 3652059)), dt.time(r.randint(0, 23), 59, 59, 999000),
            dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=r.randint(-10**13, 10**13)),
            dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=r.randint(-10**16, 10**16)),
            dt.datetime(2000, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=r.randint(-10**15, 10**15)),
            dt.datetime(2000, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=r.randint(-10**9, 10**9)),
        ],
    ),
    "nested": (
        ["ARRAY<INT>", "MAP<STRING, ARRAY<BIGINT NOT NULL>>", "ROW<`a` INT, `b` ROW<`c` STRING, `d` ARRAY<DOUBLE>>>",
         "ARRAY<MAP<INT NOT NULL, ROW<`x` DECIMAL(5, 1), `y` BYTES>>>", "MAP<ARRAY<STRING>, BOOLEAN>"],
        lambda r: [
            [r.randint(-5, 5) if r.random() < 0.8 else None for _ in range(r.randint(0, 4))],
            {str(i): [r.randint(-9, 9)] * r.randint(0, 3) for i in range(r.randint(0, 3))},
            _make_row([r.randint(0, 9), _make_row(["c" * r.randint(0, 3), [0.5, None]], ("c", "d"))], ("a", "b")),
            [{i: _make_row([Decimal("1.5"), b"\x00"], ("x", "y")) for i in range(r.randint(0, 2))}, None],
            {("k",) * r.randint(0, 2): r.random() < 0.5},
        ],
    ),
    "wide": (
        ["INT"] * 9 + ["STRING"] * 8,
        lambda r: [r.randint(0, 9) if r.random() < 0.7 else None for _ in range(9)]
        + ["x" * r.randint(0, 3) if r.random() < 0.7 else None for _ in range(8)],
    ),
}


def _impls():
    """Both implementations; only the pure-Python one (with a warning) if the extension is not built."""
    if _coder_fast is None:
        import warnings

        warnings.warn(f"{_FAST_MISSING}; fuzzing the pure-Python coder only")
        return [_coder_slow]
    return [_coder_slow, _coder_fast]


def _valid_batch(r, types, make):
    enc = _coder_slow.RowEncoder(types)
    rows = []
    for _ in range(r.randint(1, 5)):
        vals = make(r)
        vals = [None if (t.nullable and r.random() < 0.1) else v for t, v in zip(types, vals)]
        if r.random() < 0.3:
            row = Row(*vals)
            row.set_row_kind(r.choice(list(RowKind)))
            vals = row
        rows.append(vals)
        enc.encode_row(vals)
        if r.random() < 0.3:
            enc.encode_end_marker()
    if r.random() < 0.5:
        enc.encode_end_marker()
    return enc.take()


def _mutate(r, data):
    b = bytearray(data)
    for _ in range(r.choice([1, 1, 1, 2, 3])):
        op = r.randrange(7)
        if op == 0 and b:  # bit flip
            i = r.randrange(len(b))
            b[i] ^= 1 << r.randrange(8)
        elif op == 1 and b:  # truncate
            del b[r.randrange(len(b)) :]
        elif op == 2:  # extend
            b += bytes(r.getrandbits(8) for _ in range(r.randint(1, 8)))
        elif op == 3 and b:  # overwrite with an interesting byte
            b[r.randrange(len(b))] = r.choice([0x00, 0x01, 0x02, 0x7F, 0x80, 0xFF])
        elif op == 4:  # insert
            i = r.randint(0, len(b))
            b[i:i] = bytes([r.getrandbits(8)])
        elif op == 5 and b:  # delete a byte
            del b[r.randrange(len(b))]
        elif op == 6 and len(b) >= 4:  # plant a huge or negative int32
            i = r.randrange(len(b) - 3)
            b[i : i + 4] = r.choice([b"\x7f\xff\xff\xff", b"\xff\xff\xff\xff", b"\x80\x00\x00\x00", b"\x00\x10\x00\x00"])
    return bytes(b)


def _outcome(fn, data):
    try:
        return ("ok", repr(fn(data)))
    except DecodeError as e:
        return ("error", str(e))
    except Exception as e:  # anything else is a bug
        raise AssertionError(f"{fn.__qualname__} raised {type(e).__name__}: {e} on {data.hex()}") from e


def _fuzz_decoders(seed, inputs):
    impls = _impls()
    r = random.Random(seed)
    faulthandler.dump_traceback_later(TIME_BUDGET + 60, exit=True)  # a hang fails loudly instead of blocking
    try:
        n = 0
        deadline = time.monotonic() + TIME_BUDGET
        decoders = {name: [m.RowDecoder([parse_type(t) for t in ts]) for m in impls] for name, (ts, _) in SCHEMAS.items()}
        while n < MIN_CASES or time.monotonic() < deadline:
            name = r.choice(list(SCHEMAS))
            data = inputs(r, name)
            for method in ("decode", "decode_table"):
                outcomes = [_outcome(getattr(dec, method), data) for dec in decoders[name]]
                assert outcomes[0] == outcomes[-1], f"{name} {method} {data.hex()}:\n slow {outcomes[0]}\n fast {outcomes[-1]}"
            n += 1
            if time.monotonic() > deadline + 5:
                break
        return n
    finally:
        faulthandler.cancel_dump_traceback_later()


def test_fuzz_random_bytes():
    def inputs(r, name):
        k = r.random()
        if k < 0.5:
            n = r.choice([1, 2, 3, 8, 20, 64])
            return bytes([r.randint(0, 12)]) + bytes(r.getrandbits(8) for _ in range(n))
        return bytes(r.getrandbits(8) for _ in range(r.randint(0, 40)))

    assert _fuzz_decoders(1, inputs) >= MIN_CASES


def test_fuzz_mutated_batches():
    def inputs(r, name):
        types, make = SCHEMAS[name]
        return _mutate(r, _valid_batch(r, [parse_type(t) for t in types], make))

    assert _fuzz_decoders(2, inputs) >= MIN_CASES


def test_valid_batches_decode_the_same():
    impls = _impls()
    r = random.Random(3)
    for _ in range(300):
        name = r.choice(list(SCHEMAS))
        types = [parse_type(t) for t in SCHEMAS[name][0]]
        data = _valid_batch(r, types, SCHEMAS[name][1]) + b"\x01\x00"  # ends with an end marker
        outcomes = [_outcome(m.RowDecoder(types).decode_table, data) for m in impls]
        assert outcomes[0][0] == "ok" and outcomes[0] == outcomes[-1]


JUNK = [None, 0, -1, 2**70, True, 1.5, float("nan"), "", "x", "\ud800", b"", b"x", bytearray(b"y"), [], [None], [1, "a"],
        (), {}, {"a": 1}, {None: None}, {1: [2]}, set(), Decimal("NaN"), Decimal("1e100"), Decimal("-0.5"),
        dt.date(2000, 1, 1), dt.datetime(2000, 1, 1), dt.datetime(2000, 1, 1, tzinfo=UTC), dt.time(1), object(),
        Row(1), Row(a=1, b=2), type, 1j]


def test_fuzz_encoders_with_junk():
    impls = _impls()
    r = random.Random(4)
    all_types = [t for ts, _ in SCHEMAS.values() for t in ts]
    for _ in range(3000):
        t = parse_type(r.choice(all_types))
        v = r.choice(JUNK)
        if r.random() < 0.3:
            v = [v, r.choice(JUNK)]
        out = []
        for m in impls:
            enc = m.RowEncoder([t])
            try:
                out.append(("ok", enc.encode([[v]])))
            except EncodeError as e:
                assert isinstance(e, ValueError)
                out.append((type(e).__name__, str(e)))
            except Exception as e:
                raise AssertionError(f"{m.__name__} raised {type(e).__name__}: {e} for {t} {v!r}") from e
        assert out[0] == out[-1], (str(t), v)
