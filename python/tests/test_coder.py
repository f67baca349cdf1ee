"""The row coders (weir._coder_slow and the Cython weir._coder_fast): shared
vectors, the WIRE_FORMAT.md example, random round trips across both
implementations, validation errors, malformed input and the chooser."""

import datetime as dt

import json
import math
import os
import pathlib
import random
import struct
import subprocess
import sys
from decimal import Decimal

import pytest

from weir import _coder_slow
from weir._coder_errors import CoderError, DecodeError, EncodeError, EncodeTypeError
from weir.row import Row, RowKind, _make_row
from weir.types import (
    ArrayType,
    BigIntType,
    BinaryType,
    BooleanType,
    CharType,
    DataTypes,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntType,
    LocalZonedTimestampType,
    MapType,
    RowType,
    SmallIntType,
    TimestampType,
    TimeType,
    TinyIntType,
    VarBinaryType,
    VarCharType,
    parse_type,
)

try:
    from weir import _coder_fast
except ImportError as e:  # not built
    _coder_fast = None
    _FAST_MISSING = f"weir._coder_fast is not built ({e}); build it with cythonize -i weir/_coder_fast.pyx"

REPO = pathlib.Path(__file__).resolve().parents[2]
VECTORS = REPO / "testdata" / "rows" / "vectors.json"
TABLE_VECTORS = REPO / "testdata" / "rows" / "table_vectors.json"
UTC = dt.timezone.utc


def _module(name):
    if name == "fast":
        if _coder_fast is None:
            pytest.skip(_FAST_MISSING)
        return _coder_fast
    return _coder_slow


@pytest.fixture(params=["slow", "fast"])
def impl(request):
    """The coder module under test: weir._coder_slow or weir._coder_fast."""
    return _module(request.param)


@pytest.fixture
def both():
    """(slow, fast) for the cross-implementation tests."""
    return _coder_slow, _module("fast")


# ---------------------------------------------------------------------------
# comparison that tells NaN, -0.0, naive/aware, Row/tuple and dict order apart


def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, Row):
        return (
            a._fields == b._fields
            and a.get_row_kind() is b.get_row_kind()
            and len(a) == len(b)
            and all(same(x, y) for x, y in zip(a, b))
        )
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(same(k1, k2) and same(v1, v2) for (k1, v1), (k2, v2) in zip(a.items(), b.items()))
    if isinstance(a, dt.datetime):
        return a == b and (a.tzinfo is None) == (b.tzinfo is None)
    if isinstance(a, Decimal):
        return a == b and a.as_tuple().exponent == b.as_tuple().exponent
    return a == b


def assert_same(got, want):
    assert same(got, want), f"\n got: {got!r}\nwant: {want!r}"


# ---------------------------------------------------------------------------
# (a) shared vectors (notation: testdata/rows/README.md)


def _float(v):
    return float(v)  # JSON numbers, or "NaN", "Infinity", "-Infinity", "-0.0"


def _timestamp(v, lossy):
    """'YYYY-MM-DDTHH:MM:SS.fffffffff' (+ 'Z' for TIMESTAMP_LTZ) -> datetime, nanoseconds truncated."""
    aware = v.endswith("Z")
    text = v[:-1] if aware else v
    base, _, frac = text.partition(".")
    frac = (frac + "000000000")[:9]
    if not lossy:
        assert frac[6:] == "000", f"vector {v} is not whole microseconds; mark the case python_lossy"
    d = dt.datetime.fromisoformat(base).replace(microsecond=int(frac[:6]))
    return d.replace(tzinfo=UTC) if aware else d


def from_json(t, v, lossy=False):
    if v is None:
        return None
    if isinstance(t, (FloatType, DoubleType)):
        return _float(v)
    if isinstance(t, DecimalType):
        return Decimal(v)
    if isinstance(t, (BinaryType, VarBinaryType)):
        return bytes.fromhex(v)
    if isinstance(t, DateType):
        return dt.date.fromisoformat(v)
    if isinstance(t, TimeType):
        return dt.time.fromisoformat(v)
    if isinstance(t, (TimestampType, LocalZonedTimestampType)):
        return _timestamp(v, lossy)
    if isinstance(t, ArrayType):
        return [from_json(t.element_type, x, lossy) for x in v]
    if isinstance(t, MapType):
        return {from_json(t.key_type, k, lossy): from_json(t.value_type, x, lossy) for k, x in v}
    if isinstance(t, RowType):
        assert len(v) == len(t.fields)
        return _make_row([from_json(f.data_type, x, lossy) for f, x in zip(t.fields, v)], tuple(t.field_names()))
    return v


def _load(path):
    if not path.exists():
        return []
    with open(path) as f:
        return json.load(f)["cases"]


_CASES = _load(VECTORS)
_TABLE_CASES = _load(TABLE_VECTORS)


def _types(case):
    types = [parse_type(s) for s in case["types"]]
    assert [str(t) for t in types] == case["types"], "vector types are not in the Go spelling"
    return types


def _rows(case, types):
    lossy = bool(case.get("python_lossy"))
    return [[from_json(t, v, lossy) for t, v in zip(types, row)] for row in case["rows"]]


@pytest.mark.skipif(not _CASES, reason=f"{VECTORS} not written yet")
@pytest.mark.parametrize("case", _CASES, ids=[c["name"] for c in _CASES])
def test_vectors(impl, case):
    types = _types(case)
    rows = _rows(case, types)
    data = bytes.fromhex(case["hex"])
    assert_same(impl.RowDecoder(types).decode(data), rows)
    if not case.get("python_lossy"):
        assert impl.RowEncoder(types).encode(rows).hex() == case["hex"]


@pytest.mark.skipif(not _TABLE_CASES, reason=f"{TABLE_VECTORS} not written yet")
@pytest.mark.parametrize("case", _TABLE_CASES, ids=[c["name"] for c in _TABLE_CASES])
def test_table_vectors(impl, case):
    types = _types(case)
    rows = _rows(case, types)
    groups, i = [], 0
    for n in case["answers"]:
        groups.append(rows[i : i + n])
        i += n
    assert i == len(rows)
    data = bytes.fromhex(case["hex"])
    assert_same(impl.RowDecoder(types).decode_table(data), groups)
    enc = impl.RowEncoder(types)
    for g in groups:
        for r in g:
            enc.encode_row(r)
        enc.encode_end_marker()
    assert enc.take().hex() == case["hex"]


# ---------------------------------------------------------------------------
# (b) the example of WIRE_FORMAT.md, literally

DESIGN_TYPES = [DataTypes.INT(), DataTypes.STRING(), DataTypes.BIGINT(), DataTypes.DOUBLE()]
DESIGN_HEX = "130800000001000000026162" "3ff8000000000000"


def test_design_example(impl):
    enc = impl.RowEncoder(DESIGN_TYPES)
    assert enc.encode([[1, "ab", None, 1.5]]) == bytes.fromhex(DESIGN_HEX)
    assert impl.RowDecoder(DESIGN_TYPES).decode(bytes.fromhex(DESIGN_HEX)) == [[1, "ab", None, 1.5]]


def test_input_forms(impl):
    data = bytes.fromhex(DESIGN_HEX)
    dec = impl.RowDecoder(["INT", "STRING", "BIGINT", "DOUBLE"])  # type strings are parsed
    for form in (data, bytearray(data), memoryview(data)):
        assert dec.decode(form) == [[1, "ab", None, 1.5]]
    with pytest.raises(TypeError):
        dec.decode("13")
    enc = impl.RowEncoder(RowType([DataTypes.FIELD(c, t) for c, t in zip("abcd", DESIGN_TYPES)]))
    for form in ((1, "ab", None, 1.5), [1, "ab", None, 1.5], Row(1, "ab", None, 1.5), Row(a=1, b="ab", c=None, d=1.5)):
        enc.encode_row(form)
    assert enc.take() == data * 4
    assert enc.take() == b""
    assert dec.decode(b"") == []


def test_row_kinds(impl):
    types = [DataTypes.INT()]
    enc = impl.RowEncoder(types)
    rows = []
    for kind in RowKind:
        r = Row(kind.value)
        r.set_row_kind(kind)
        rows.append(r)
    data = enc.encode(rows)
    assert [data[i] for i in (1, 7, 13, 19)] == [0x00, 0x80, 0x40, 0xC0]
    kinds = []
    assert impl.RowDecoder(types).decode(data, kinds) == [[0], [1], [2], [3]]
    assert kinds == [0, 1, 2, 3]
    # nested rows keep their kind
    rt = parse_type("ROW<`a` INT>")
    inner = Row(a=5)
    inner.set_row_kind(RowKind.DELETE)
    data = impl.RowEncoder([rt]).encode([[inner]])
    assert data == bytes.fromhex("06" "00" "c0" "00000005")
    (back,) = impl.RowDecoder([rt]).decode(data)[0]
    assert back.get_row_kind() is RowKind.DELETE and back == inner


def test_table_answers(impl):
    types = [DataTypes.INT(), DataTypes.STRING()]
    enc = impl.RowEncoder(types)
    enc.encode_end_marker()
    enc.encode_row((1, "x"))
    enc.encode_row((2, None))
    enc.encode_end_marker()
    enc.encode_end_marker()
    data = enc.take()
    assert data.startswith(b"\x01\x00") and data.endswith(b"\x01\x00\x01\x00")
    assert impl.RowDecoder(types).decode_table(data) == [[], [[1, "x"], [2, None]], []]
    assert impl.RowDecoder(types).decode_table(b"") == []


def test_no_fields(impl):
    # a function without arguments still gets one (empty) row per input row
    data = impl.RowEncoder([]).encode([(), []])
    assert data == b"\x01\x00\x01\x00"
    assert impl.RowDecoder([]).decode(data) == [[], []]


def test_long_rows_and_varints(impl):
    types = [DataTypes.STRING()]
    for n in (0, 121, 122, 123, 16375, 16376, 70000, 3 * 2**20):
        s = "x" * n
        data = impl.RowEncoder(types).encode([[s], ["y"]])
        length = n + 5
        prefix = bytearray()
        _coder_slow.write_varint(prefix, length)
        assert data.startswith(bytes(prefix) + b"\x00")
        assert impl.RowDecoder(types).decode(data) == [[s], ["y"]]


def test_decimal_rounding_and_canonical_text(impl):
    t = DataTypes.DECIMAL(5, 2)
    enc = impl.RowEncoder([t])

    def text(v):
        data = enc.encode([[v]])
        return data[6:].decode()

    assert text(Decimal("1.005")) == "1.01"  # half-up
    assert text(Decimal("-1.005")) == "-1.01"
    assert text(Decimal("1.004999")) == "1.00"
    assert text(Decimal("-0.001")) == "0.00"  # no negative zero
    assert text(Decimal("-0")) == "0.00"
    assert text(Decimal("1E+2")) == "100.00"  # plain notation
    assert text(Decimal("0.0000001")) == "0.00"
    assert text(7) == "7.00"
    assert text(-7) == "-7.00"
    assert text(0.1) == "0.10"  # via Decimal(str(f))
    assert text(2.675) == "2.68"  # str(2.675) == '2.675', not the binary value
    assert text(Decimal("999.994")) == "999.99"
    assert impl.RowEncoder([DataTypes.DECIMAL(3, 0)]).encode([[Decimal("12.5")]])[6:] == b"13"
    assert impl.RowEncoder([DataTypes.DECIMAL(10, 9)]).encode([[Decimal("1e-9")]])[6:] == b"0.000000001"
    assert impl.RowEncoder([DataTypes.DECIMAL(38, 38)]).encode([[Decimal(0)]])[6:] == b"0." + b"0" * 38


@pytest.mark.parametrize(
    "text,want",
    [
        ("1.5", "1.50"),
        ("1.005", "1.01"),
        ("-1.005", "-1.01"),
        ("1e2", "100.00"),
        ("1E+2", "100.00"),
        ("12345e-4", "1.23"),
        ("+3", "3.00"),
        (".5", "0.50"),
        ("5.", "5.00"),
        ("-0.00", "0.00"),
        ("-0.001", "0.00"),
        ("000123.45", "123.45"),
        ("999.994", "999.99"),
        ("0.000000000000000000000000000000000000000000000001", "0.00"),
        ("1e-999999", "0.00"),
    ],
)
def test_decimal_decoding_accepts_any_text(impl, text, want):
    raw = text.encode()
    data = bytes([1 + 4 + len(raw), 0]) + struct.pack(">i", len(raw)) + raw
    (v,) = impl.RowDecoder([DataTypes.DECIMAL(5, 2)]).decode(data)[0]
    assert_same(v, Decimal(want))


@pytest.mark.parametrize(
    "text,message",
    [
        ("1000", "DECIMAL text '1000' does not fit DECIMAL(5, 2)"),
        ("999.995", "DECIMAL text '999.995' does not fit DECIMAL(5, 2)"),
        ("1e3", "DECIMAL text '1e3' does not fit DECIMAL(5, 2)"),
        ("1e999999999", "DECIMAL text '1e999999999' does not fit DECIMAL(5, 2)"),
        ("", "invalid DECIMAL text '' for DECIMAL(5, 2)"),
        ("NaN", "invalid DECIMAL text 'NaN'"),
        ("Infinity", "invalid DECIMAL text 'Infinity'"),
        (" 1", "invalid DECIMAL text ' 1'"),
        ("1_0", "invalid DECIMAL text '1_0'"),
        ("1.2.3", "invalid DECIMAL text '1.2.3'"),
        ("-", "invalid DECIMAL text '-'"),
        (".", "invalid DECIMAL text '.'"),
        ("1e", "invalid DECIMAL text '1e'"),
        ("\u0661".encode().decode("latin-1"), "invalid DECIMAL text"),
    ],
)
def test_decimal_decoding_errors(impl, text, message):
    raw = text.encode("latin-1")
    data = bytes([1 + 4 + len(raw), 0]) + struct.pack(">i", len(raw)) + raw
    with pytest.raises(DecodeError) as e:
        impl.RowDecoder([DataTypes.DECIMAL(5, 2)]).decode(data)
    assert str(e.value).startswith("row 0, field 0 (DECIMAL(5, 2)): ")
    assert message in str(e.value)


def test_time_and_timestamp_resolution(impl):
    # TIME and TIMESTAMP(p <= 3) hold milliseconds: microseconds are floored
    types = [DataTypes.TIME(6), DataTypes.TIMESTAMP(3), DataTypes.TIMESTAMP(6), DataTypes.TIMESTAMP_LTZ(9)]
    t = dt.time(1, 2, 3, 456789)
    ts = dt.datetime(1969, 12, 31, 23, 59, 59, 999999)
    ltz = dt.datetime(2024, 1, 1, 1, 0, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=1, minutes=30)))
    data = impl.RowEncoder(types).encode([[t, ts, ts, ltz]])
    got = impl.RowDecoder(types).decode(data)[0]
    assert got[0] == dt.time(1, 2, 3, 456000)
    assert got[1] == dt.datetime(1969, 12, 31, 23, 59, 59, 999000)
    assert got[2] == ts
    assert got[3] == ltz and got[3].tzinfo is UTC and got[3].hour == 23
    # -1 microsecond: epoch millisecond -1, nanoseconds 999000
    assert data[1 + 1 + 4 + 8 :][:12] == struct.pack(">qi", -1, 999000)


def test_timestamp_nanos_are_truncated(impl):
    t = DataTypes.TIMESTAMP(9)
    data = bytes([13, 0]) + struct.pack(">qi", -1, 999999)
    assert impl.RowDecoder([t]).decode(data) == [[dt.datetime(1969, 12, 31, 23, 59, 59, 999999)]]


def test_map_keys_of_array_type_decode_as_tuples(impl):
    t = parse_type("MAP<ARRAY<INT>, ROW<`a` ARRAY<STRING>>>")
    value = {(1, 2): Row(a=("x",)), (): Row(a=[])}
    data = impl.RowEncoder([t]).encode([[value]])
    (back,) = impl.RowDecoder([t]).decode(data)[0]
    assert back == {(1, 2): Row(a=["x"]), (): Row(a=[])}
    assert isinstance(next(iter(back)), tuple)


def test_map_with_map_keys(impl):
    t = parse_type("MAP<MAP<INT, INT>, INT>")
    assert impl.RowDecoder([t]).decode(impl.RowEncoder([t]).encode([[{}]])) == [[{}]]
    data = bytes.fromhex("1700" "00000001" "00000001" "00000001" "00" "00000001" "00" "00000002")
    with pytest.raises(DecodeError, match="unhashable"):
        impl.RowDecoder([t]).decode(data)


def test_nested_row_inputs(impl):
    rt = parse_type("ROW<`a` INT, `b` STRING>")
    enc = impl.RowEncoder([rt])
    forms = [(1, "x"), [1, "x"], Row(1, "x"), Row(a=1, b="x"), {"a": 1, "b": "x"}, {"b": "x", "a": 1}]
    data = enc.encode([[f] for f in forms])
    back = impl.RowDecoder([rt]).decode(data)
    for (r,) in back:
        assert_same(r, Row(a=1, b="x"))
        assert r.a == 1 and r["b"] == "x"


def test_encoder_keeps_earlier_rows_after_an_error(impl):
    types = [DataTypes.INT(), DataTypes.ARRAY(DataTypes.STRING())]
    enc = impl.RowEncoder(types)
    enc.encode_row((1, ["a" * 300]))
    with pytest.raises(EncodeError):
        enc.encode_row((2, ["b" * 300, 5]))
    with pytest.raises(EncodeError):
        enc.encode_row((2, "c"))
    enc.encode_row((3, []))
    assert enc.take() == impl.RowEncoder(types).encode([(1, ["a" * 300]), (3, [])])


def test_decoder_is_reusable(impl):
    types = [DataTypes.INT()]
    dec = impl.RowDecoder(types)
    with pytest.raises(DecodeError):
        dec.decode(b"\x05\x00\x00")
    assert dec.decode(b"\x05\x00\x00\x00\x00\x07") == [[7]]


# ---------------------------------------------------------------------------
# (c) random round trips, within and across the implementations

PRIMITIVES = [
    lambda r: DataTypes.TINYINT(),
    lambda r: DataTypes.SMALLINT(),
    lambda r: DataTypes.INT(),
    lambda r: DataTypes.BIGINT(),
    lambda r: DataTypes.BOOLEAN(),
    lambda r: DataTypes.FLOAT(),
    lambda r: DataTypes.DOUBLE(),
    lambda r: DataTypes.DECIMAL(p := r.randint(1, 38), r.randint(0, p)),
    lambda r: DataTypes.CHAR(r.randint(1, 10)),
    lambda r: DataTypes.VARCHAR(r.randint(1, 100)),
    lambda r: DataTypes.STRING(),
    lambda r: DataTypes.BINARY(r.randint(1, 10)),
    lambda r: DataTypes.VARBINARY(r.randint(1, 10)),
    lambda r: DataTypes.BYTES(),
    lambda r: DataTypes.DATE(),
    lambda r: DataTypes.TIME(r.randint(0, 9)),
    lambda r: DataTypes.TIMESTAMP(r.randint(0, 9)),
    lambda r: DataTypes.TIMESTAMP_LTZ(r.randint(0, 9)),
]


def random_type(r, depth=0, key=False):
    nullable = key or r.random() < 0.7
    k = r.random()
    if depth >= 3 or k < 0.6:
        t = r.choice(PRIMITIVES)(r)
    elif k < 0.75:
        t = DataTypes.ARRAY(random_type(r, depth + 1, key))
    elif k < 0.87 and not key:
        t = DataTypes.MAP(random_type(r, depth + 1, key=True), random_type(r, depth + 1))
    else:
        n = r.randint(0, 4)
        t = DataTypes.ROW([DataTypes.FIELD(f"f{i}", random_type(r, depth + 1, key)) for i in range(n)])
    return t.with_nullable(nullable)


def _random_text(r):
    alphabet = "abcXYZ 09\t\n\"'\\\x00\x7f\u00e9\u00ff\u0100\u4e2d\u6587\U0001f600\U0010ffff\ufffd"
    return "".join(r.choice(alphabet) for _ in range(r.choice([0, 1, 3, 10, 40, 200])))


def random_value(r, t, key=False):
    if t.nullable and not key and r.random() < 0.15:
        return None
    if isinstance(t, (TinyIntType, SmallIntType, IntType, BigIntType)):
        bits = {TinyIntType: 8, SmallIntType: 16, IntType: 32, BigIntType: 64}[type(t)]
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        return r.choice([lo, hi, 0, -1, 1, r.randint(lo, hi), r.randint(max(lo, -1000), min(hi, 1000))])
    if isinstance(t, BooleanType):
        return r.random() < 0.5
    if isinstance(t, FloatType):
        x = r.choice([0.0, -0.0, 1.5, float("inf"), float("-inf"), r.uniform(-1e30, 1e30), r.uniform(-1, 1)])
        return struct.unpack(">f", struct.pack(">f", x))[0]
    if isinstance(t, DoubleType):
        return r.choice([0.0, -0.0, 5e-324, 1.7976931348623157e308, float("inf"), r.uniform(-1e300, 1e300), r.random()])
    if isinstance(t, DecimalType):
        digits = [r.randint(0, 9) for _ in range(r.randint(1, t.precision))]
        sign = 1 if r.random() < 0.5 and any(digits) else 0
        return Decimal((sign, digits, -t.scale))
    if isinstance(t, (CharType, VarCharType)):
        return _random_text(r)
    if isinstance(t, (BinaryType, VarBinaryType)):
        return bytes(r.getrandbits(8) for _ in range(r.choice([0, 1, 5, 64])))
    if isinstance(t, DateType):
        return dt.date.fromordinal(r.choice([1, 3652059, 719163, r.randint(1, 3652059)]))
    if isinstance(t, TimeType):
        return dt.time(r.randint(0, 23), r.randint(0, 59), r.randint(0, 59), r.randint(0, 999) * 1000)
    if isinstance(t, (TimestampType, LocalZonedTimestampType)):
        us = r.choice([0, -1, r.randint(-62135596800000000, 253402300799999999), r.randint(-10**12, 10**12)])
        us = max(us, -62135596800000000)
        if t.precision <= 3:
            us -= us % 1000
        d = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=us)
        return d.replace(tzinfo=UTC) if isinstance(t, LocalZonedTimestampType) else d
    if isinstance(t, ArrayType):
        vals = [random_value(r, t.element_type, key) for _ in range(r.choice([0, 1, 2, 5]))]
        return tuple(vals) if key else vals
    if isinstance(t, MapType):
        out = {}
        for _ in range(r.choice([0, 1, 3])):
            out[random_value(r, t.key_type, key=True)] = random_value(r, t.value_type)
        return out
    if isinstance(t, RowType):
        row = _make_row([random_value(r, f.data_type, key) for f in t.fields], tuple(t.field_names()))
        if not key and r.random() < 0.2:
            row.set_row_kind(r.choice(list(RowKind)))
        return row
    raise AssertionError(t)


def _random_batch(seed):
    r = random.Random(seed)
    types = [random_type(r) for _ in range(r.randint(0, 12))]
    rows = []
    for _ in range(r.randint(0, 6)):
        row = [random_value(r, t) for t in types]
        if r.random() < 0.2:
            row = Row(*row)
            row.set_row_kind(r.choice(list(RowKind)))
        rows.append(row)
    return types, rows


def _expect(rows):
    return [list(row) for row in rows]


@pytest.mark.parametrize("seed", range(300))
def test_random_round_trip(impl, seed):
    types, rows = _random_batch(seed)
    data = impl.RowEncoder(types).encode(rows)
    kinds = []
    back = impl.RowDecoder(types).decode(data, kinds)
    assert_same(back, _expect(rows))
    assert kinds == [row.get_row_kind().value if isinstance(row, Row) else 0 for row in rows]


@pytest.mark.parametrize("seed", range(300))
def test_random_cross_implementation(both, seed):
    slow, fast = both
    types, rows = _random_batch(seed)
    by_slow = slow.RowEncoder(types).encode(rows)
    by_fast = fast.RowEncoder(types).encode(rows)
    assert by_slow == by_fast, [str(t) for t in types]
    assert_same(fast.RowDecoder(types).decode(by_slow), _expect(rows))
    assert_same(slow.RowDecoder(types).decode(by_fast), _expect(rows))


def test_calendar_arithmetic_matches_python(both):
    # every 97th day over Python's whole date range, plus the edges
    slow, fast = both
    types = [DataTypes.DATE(), DataTypes.TIMESTAMP(3), DataTypes.TIMESTAMP_LTZ(9)]
    rows = []
    for o in list(range(1, 3652060, 97)) + [1, 2, 59, 60, 61, 3652058, 3652059]:
        d = dt.date.fromordinal(o)
        ts = dt.datetime.combine(d, dt.time(23, 59, 59, 999000))
        rows.append([d, ts, dt.datetime.combine(d, dt.time(0, 0, 0, 1), UTC)])
    data = slow.RowEncoder(types).encode(rows)
    assert fast.RowEncoder(types).encode(rows) == data
    assert fast.RowDecoder(types).decode(data) == rows


# ---------------------------------------------------------------------------
# (d) validation errors: same class and message from both implementations

NAIVE = dt.datetime(2024, 1, 1)
AWARE = dt.datetime(2024, 1, 1, tzinfo=UTC)

ERRORS = [
    # (type, value, error class, message)
    ("TINYINT", 300, EncodeError, "field 2: 300 does not fit TINYINT (range -128..127)"),
    ("TINYINT", -129, EncodeError, "field 2: -129 does not fit TINYINT (range -128..127)"),
    ("SMALLINT", 40000, EncodeError, "field 2: 40000 does not fit SMALLINT (range -32768..32767)"),
    ("INT", 2**31, EncodeError, "field 2: 2147483648 does not fit INT (range -2147483648..2147483647)"),
    ("INT NOT NULL", -(2**31) - 1, EncodeError, "field 2: -2147483649 does not fit INT NOT NULL (range -2147483648..2147483647)"),
    ("BIGINT", 2**63, EncodeError, "field 2: 9223372036854775808 does not fit BIGINT (range -9223372036854775808..9223372036854775807)"),
    ("BIGINT", -(2**100), EncodeError, f"field 2: {-(2**100)} does not fit BIGINT (range -9223372036854775808..9223372036854775807)"),
    ("INT", True, EncodeTypeError, "field 2: expected int for INT, got bool True"),
    ("BIGINT", float("nan"), EncodeError, "field 2: nan does not fit BIGINT (NaN and infinities are not integers)"),
    ("INT", float("-inf"), EncodeError, "field 2: -inf does not fit INT (NaN and infinities are not integers)"),
    ("INT", 2.0**31, EncodeError, "field 2: 2147483648 does not fit INT (range -2147483648..2147483647)"),
    ("INT", "1", EncodeTypeError, "field 2: expected int for INT, got str '1'"),
    ("TINYINT", Decimal(1), EncodeTypeError, "field 2: expected int for TINYINT, got Decimal('1')"),
    ("STRING", 5, EncodeTypeError, "field 2: expected str for STRING, got int 5"),
    ("VARCHAR(3)", b"x", EncodeTypeError, "field 2: expected str for VARCHAR(3), got bytes b'x'"),
    ("STRING", "a\ud800", EncodeError, "field 2: 'a\\ud800' cannot be encoded as UTF-8 for STRING (lone surrogate?)"),
    ("INT NOT NULL", None, EncodeError, "field 2: None for INT NOT NULL"),
    ("STRING NOT NULL", None, EncodeError, "field 2: None for STRING NOT NULL"),
    ("TIMESTAMP_LTZ(3)", NAIVE, EncodeError,
     "field 2: naive datetime for TIMESTAMP_LTZ(3); attach a tzinfo (e.g. datetime.timezone.utc); got datetime.datetime(2024, 1, 1, 0, 0)"),
    ("TIMESTAMP(6)", AWARE, EncodeError,
     "field 2: aware datetime for TIMESTAMP(6); use a naive datetime or declare TIMESTAMP_LTZ; "
     "got datetime.datetime(2024, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)"),
    ("TIMESTAMP(9)", AWARE, EncodeError, "field 2: aware datetime for TIMESTAMP(9); use a naive datetime or declare TIMESTAMP_LTZ; got ..."),
    ("TIMESTAMP(3)", dt.date(2024, 1, 1), EncodeTypeError,
     "field 2: expected datetime.datetime for TIMESTAMP(3), got datetime.date(2024, 1, 1)"),
    ("TIMESTAMP_LTZ(6)", "2024-01-01", EncodeTypeError, "field 2: expected datetime.datetime for TIMESTAMP_LTZ(6), got str '2024-01-01'"),
    ("DATE", NAIVE, EncodeTypeError, "field 2: expected datetime.date for DATE, got datetime.datetime(2024, 1, 1, 0, 0)"),
    ("DATE", 19000, EncodeTypeError, "field 2: expected datetime.date for DATE, got int 19000"),
    ("TIME(3)", dt.time(1, tzinfo=UTC), EncodeError,
     "field 2: aware time for TIME(3); use a naive datetime.time; got datetime.time(1, 0, tzinfo=datetime.timezone.utc)"),
    ("TIME(0)", "12:00", EncodeTypeError, "field 2: expected datetime.time for TIME(0), got str '12:00'"),
    ("BOOLEAN", 1, EncodeTypeError, "field 2: expected bool for BOOLEAN, got int 1"),
    ("BOOLEAN", None.__class__, EncodeTypeError, "field 2: expected bool for BOOLEAN, got type <class 'NoneType'>"),
    ("DOUBLE", "1.5", EncodeTypeError, "field 2: expected float or int for DOUBLE, got str '1.5'"),
    ("DOUBLE", True, EncodeTypeError, "field 2: expected float or int for DOUBLE, got bool True"),
    ("DOUBLE", Decimal("1.5"), EncodeTypeError, "field 2: expected float or int for DOUBLE, got Decimal('1.5')"),
    ("DOUBLE", 10**400, EncodeError, "field 2: 1000000000..."),
    ("FLOAT", 1e39, EncodeError, "field 2: 1e+39 does not fit FLOAT (out of range)"),
    ("FLOAT", -(10**39), EncodeError, "field 2: -1e+39 does not fit FLOAT (out of range)"),
    ("DECIMAL(5, 2)", Decimal("1234.5"), EncodeError,
     "field 2: Decimal('1234.5') does not fit DECIMAL(5, 2) (at most 3 digits before the point)"),
    ("DECIMAL(5, 2)", Decimal("999.995"), EncodeError,
     "field 2: Decimal('999.995') does not fit DECIMAL(5, 2) (at most 3 digits before the point)"),
    ("DECIMAL(3, 3)", 1, EncodeError, "field 2: 1 does not fit DECIMAL(3, 3) (at most 0 digits before the point)"),
    ("DECIMAL(38, 0)", Decimal("1e38"), EncodeError, "field 2: Decimal('1E+38') does not fit DECIMAL(38, 0) (at most 38 digits before the point)"),
    ("DECIMAL(5, 2)", Decimal("1e999999999"), EncodeError, "field 2: Decimal('1E+999999999') does not fit DECIMAL(5, 2) (at most 3 digits before the point)"),
    ("DECIMAL(5, 2)", "1.5", EncodeTypeError, "field 2: expected decimal.Decimal, int or float for DECIMAL(5, 2), got str '1.5'"),
    ("DECIMAL(5, 2)", True, EncodeTypeError, "field 2: expected decimal.Decimal, int or float for DECIMAL(5, 2), got bool True"),
    ("DECIMAL(5, 2)", float("nan"), EncodeError, "field 2: nan does not fit DECIMAL(5, 2) (not a finite number)"),
    ("DECIMAL(5, 2)", Decimal("-Infinity"), EncodeError, "field 2: Decimal('-Infinity') does not fit DECIMAL(5, 2) (not a finite number)"),
    ("DECIMAL(5, 2)", Decimal("sNaN"), EncodeError, "field 2: Decimal('sNaN') does not fit DECIMAL(5, 2) (not a finite number)"),
    ("BYTES", "abc", EncodeTypeError, "field 2: expected bytes for BYTES, got str 'abc'"),
    ("BINARY(2)", [1, 2], EncodeTypeError, "field 2: expected bytes for BINARY(2), got list [1, 2]"),
    ("ARRAY<INT>", "abc", EncodeTypeError, "field 2: expected list or tuple for ARRAY<INT>, got str 'abc'"),
    ("ARRAY<INT>", {1}, EncodeTypeError, "field 2: expected list or tuple for ARRAY<INT>, got set {1}"),
    ("ARRAY<INT>", [1, "x"], EncodeTypeError, "field 2[1]: expected int for INT, got str 'x'"),
    ("ARRAY<INT NOT NULL>", (1, None), EncodeError, "field 2[1]: None for INT NOT NULL"),
    ("ARRAY<ARRAY<TINYINT>>", [[], [1, 2, 999]], EncodeError, "field 2[1][2]: 999 does not fit TINYINT (range -128..127)"),
    ("MAP<STRING, INT>", [("a", 1)], EncodeTypeError, "field 2: expected dict for MAP<STRING, INT>, got list [('a', 1)]"),
    ("MAP<STRING, INT>", {"a": "x"}, EncodeTypeError, "field 2['a']: expected int for INT, got str 'x'"),
    ("MAP<STRING, INT>", {"a": 1, None: 1}, EncodeError, "field 2[key #1]: None cannot be a key of MAP<STRING, INT>"),
    ("MAP<STRING, INT>", {"a": 1, 2: 1}, EncodeTypeError, "field 2[key #1]: expected str for STRING, got int 2"),
    ("MAP<STRING, INT NOT NULL>", {"a": None}, EncodeError, "field 2['a']: None for INT NOT NULL"),
    ("MAP<INT, ARRAY<DATE>>", {7: [dt.date(2020, 1, 1), 5]}, EncodeTypeError, "field 2[7][1]: expected datetime.date for DATE, got int 5"),
    ("ROW<`a` INT, `b` STRING>", (1,), EncodeError, "field 2: ROW<`a` INT, `b` STRING> has 2 fields, got 1 values: (1,)"),
    ("ROW<`a` INT, `b` STRING>", (1, 2), EncodeTypeError, "field 2.b: expected str for STRING, got int 2"),
    ("ROW<`a` INT, `b` STRING>", Row(a=1, b=2), EncodeTypeError, "field 2.b: expected str for STRING, got int 2"),
    ("ROW<`a` INT NOT NULL, `b` STRING>", [None, "x"], EncodeError, "field 2.a: None for INT NOT NULL"),
    ("ROW<`a` INT, `b` STRING>", {"a": 1}, EncodeError, "field 2: missing field 'b' for ROW<`a` INT, `b` STRING> in {'a': 1}"),
    ("ROW<`a` INT, `b` STRING>", {"a": 1, "b": "x", "c": 3}, EncodeError, "field 2: unknown field(s) 'c' for ROW<`a` INT, `b` STRING>"),
    ("ROW<`a` INT, `b` STRING>", 5, EncodeTypeError, "field 2: expected Row, tuple, list or dict for ROW<`a` INT, `b` STRING>, got int 5"),
    ("ARRAY<ROW<`a` MAP<STRING, ARRAY<INT>>>>", [Row(a={"k": [1]}), Row(a={"k": [1, "z"]})], EncodeTypeError,
     "field 2[1].a['k'][1]: expected int for INT, got str 'z'"),
]


@pytest.mark.parametrize("type_text,value,cls,message", ERRORS, ids=[f"{e[0]}-{e[1]!r:.30}" for e in ERRORS])
def test_validation_errors(impl, type_text, value, cls, message):
    types = [DataTypes.INT(), DataTypes.STRING(), parse_type(type_text)]
    enc = impl.RowEncoder(types)
    with pytest.raises(cls) as e:
        enc.encode_row((1, "x", value))
    err = e.value
    assert type(err) is cls
    assert isinstance(err, ValueError) and isinstance(err, CoderError) and err.weir_coder_error
    if cls is EncodeTypeError:
        assert isinstance(err, TypeError)
    assert err.field == 2
    if message.endswith("..."):
        assert str(err).startswith(message[:-3])
    else:
        assert str(err) == message
    # the encoder still works
    if types[2].nullable:
        assert enc.encode([(1, "x", None)]) == impl.RowEncoder(types).encode([(1, "x", None)])


@pytest.mark.parametrize("type_text,value,cls,message", ERRORS, ids=[f"{e[0]}-{e[1]!r:.30}" for e in ERRORS])
def test_validation_errors_are_identical(both, type_text, value, cls, message):
    msgs = []
    for m in both:
        with pytest.raises(cls) as e:
            m.RowEncoder([parse_type(type_text)]).encode_row([value])
        msgs.append((type(e.value), str(e.value), e.value.field, e.value.path, e.value.detail))
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize(
    "values,cls,message",
    [
        ([1], EncodeError, "expected 2 values, got 1: [1]"),
        ((1, 2, 3), EncodeError, "expected 2 values, got 3: (1, 2, 3)"),
        (5, EncodeTypeError, "expected a tuple, list or Row of 2 values, got int 5"),
        ("ab", EncodeTypeError, "expected a tuple, list or Row of 2 values, got str 'ab'"),
        ({"a": 1, "b": 2}, EncodeTypeError, "expected a tuple, list or Row of 2 values, got dict {'a': 1, 'b': 2}"),
        (None, EncodeTypeError, "expected a tuple, list or Row of 2 values, got NoneType None"),
    ],
)
def test_row_shape_errors(impl, values, cls, message):
    with pytest.raises(cls) as e:
        impl.RowEncoder([DataTypes.INT(), DataTypes.INT()]).encode_row(values)
    assert str(e.value) == message
    assert e.value.field is None


def test_other_sequences_are_rows(impl):
    types = [DataTypes.INT(), DataTypes.INT()]
    assert impl.RowEncoder(types).encode([range(2)]) == impl.RowEncoder(types).encode([(0, 1)])


def test_int_like_values(impl):
    import enum

    class Color(enum.IntEnum):
        RED = 1

    class Index:
        def __index__(self):
            return 7

    class MyFloat(float):
        pass

    types = [DataTypes.INT(), DataTypes.BIGINT(), DataTypes.DOUBLE(), DataTypes.FLOAT(), DataTypes.DECIMAL(3, 1)]
    data = impl.RowEncoder(types).encode([(Color.RED, Index(), MyFloat(2.5), 3, 4)])
    assert impl.RowDecoder(types).decode(data) == [[1, 7, 2.5, 3.0, Decimal("4.0")]]


def test_str_and_bytes_subclasses(impl):
    class S(str):
        pass

    types = [DataTypes.STRING(), DataTypes.BYTES(), DataTypes.BYTES()]
    data = impl.RowEncoder(types).encode([(S("é"), bytearray(b"\x01"), memoryview(b"\x02\x03"))])
    assert impl.RowDecoder(types).decode(data) == [["é", b"\x01", b"\x02\x03"]]


# ---------------------------------------------------------------------------
# malformed input: a clear DecodeError naming row and field

DECODE_ERRORS = [
    (["INT"], "05000000", "row 0: length 5 at byte 0 exceeds the 3 bytes left in the batch"),
    (["INT"], "0500000000070300", "row 1: length 3 at byte 6 exceeds the 1 bytes left in the batch"),
    (["INT"], "80", "row 0: truncated length prefix at byte 0"),
    (["INT"], "ffffffffffffffffff7f", "row 0: length prefix at byte 0 is longer than 9 bytes"),
    (["INT"], "00", "row 0: row of 0 bytes at byte 1 cannot hold its 1-byte header"),
    (["INT"], "030000ff", "row 0, field 0 (INT): truncated INT: needs 4 bytes at byte 2, 2 left in the row"),
    (["INT", "BIGINT"], "06" "00" "00000001" "00", "row 0, field 1 (BIGINT): truncated BIGINT: needs 8 bytes at byte 6, 1 left in the row"),
    (["INT"], "060000000001ff", "row 0: 1 unread bytes after the last field at byte 6"),
    (["BOOLEAN"], "020002", "row 0, field 0 (BOOLEAN): invalid BOOLEAN byte 0x02 at byte 2"),
    (["STRING"], "0500ffffffff", "row 0, field 0 (STRING): negative length -1 for STRING at byte 2"),
    (["STRING"], "050000000005", "row 0, field 0 (STRING): truncated STRING: needs 5 bytes at byte 6, 0 left in the row"),
    (["STRING"], "070000000002c328", "row 0, field 0 (STRING): invalid UTF-8 for STRING at byte 6"),
    (["STRING"], "080000000003eda080", "row 0, field 0 (STRING): invalid UTF-8 for STRING at byte 6"),
    (["DATE"], "05007fffffff", "row 0, field 0 (DATE): DATE value of 2147483647 days since 1970-01-01 is outside Python's date range at byte 2"),
    (["TIME(3)"], "050005265c00", "row 0, field 0 (TIME(3)): TIME(3) value of 86400000 milliseconds is outside 0..86399999 at byte 2"),
    (["TIMESTAMP(6)"], "0d000000000000000000000f4240",
     "row 0, field 0 (TIMESTAMP(6)): TIMESTAMP(6) nanoseconds 1000000 outside 0..999999 at byte 10"),
    (["TIMESTAMP_LTZ(3)"], "09007fffffffffffffff",
     "row 0, field 0 (TIMESTAMP_LTZ(3)): TIMESTAMP_LTZ(3) value of 9223372036854775807 epoch milliseconds is outside Python's datetime range at byte 2"),
    (["ARRAY<INT>"], "0500ffffffff", "row 0, field 0 (ARRAY<INT>): negative length -1 for ARRAY<INT> at byte 2"),
    (["ARRAY<INT>"], "06" "00" "00000002" "01", "row 0, field 0 (ARRAY<INT>): ARRAY<INT> count 2 at byte 2 does not fit the 1 bytes left in the row"),
    (["ARRAY<INT>"], "06" "00" "00000001" "02", "row 0, field 0 (ARRAY<INT>): invalid null flag 0x02 in ARRAY<INT> at byte 6"),
    (["ARRAY<INT>"], "080000000001010000", "row 0, field 0 (ARRAY<INT>): truncated INT: needs 4 bytes at byte 7, 2 left in the row"),
    (["MAP<INT, INT>"], "0a" "00" "00000001" "00000001" "02", "row 0, field 0 (MAP<INT, INT>): invalid null flag 0x02 in MAP<INT, INT> at byte 10"),
    (["MAP<INT, INT>"], "07" "00" "00000002" "0000", "row 0, field 0 (MAP<INT, INT>): MAP<INT, INT> count 2 at byte 2 does not fit the 2 bytes left in the row"),
    (["ROW<`a` INT>"], "0100", "row 0, field 0 (ROW<`a` INT>): truncated ROW<`a` INT>: needs 1 bytes at byte 2, 0 left in the row"),
    (["ARRAY<ROW<`a` STRING>>"], "0c" "00" "00000001" "01" "00" "00000002" "41",
     "row 0, field 0 (ARRAY<ROW<`a` STRING>>): truncated STRING: needs 2 bytes at byte 12, 1 left in the row"),
]


@pytest.mark.parametrize("types,hexdata,message", DECODE_ERRORS, ids=[d[1] for d in DECODE_ERRORS])
def test_decode_errors(impl, types, hexdata, message):
    with pytest.raises(DecodeError) as e:
        impl.RowDecoder(types).decode(bytes.fromhex(hexdata))
    assert str(e.value) == message
    assert isinstance(e.value, ValueError)


def test_decode_errors_are_identical(both):
    for types, hexdata, _ in DECODE_ERRORS:
        msgs = []
        for m in both:
            with pytest.raises(DecodeError) as e:
                m.RowDecoder(types).decode(bytes.fromhex(hexdata))
            msgs.append(str(e.value))
        assert msgs[0] == msgs[1]


def test_decode_table_errors(impl):
    dec = impl.RowDecoder([DataTypes.INT()])
    with pytest.raises(DecodeError, match=r"^the batch ends at byte 14 without the end marker after 2 result rows$"):
        dec.decode_table(bytes.fromhex("0100" "050000000001" "050000000002"))
    with pytest.raises(DecodeError, match=r"^row 1: length 1 at byte 2 exceeds the 0 bytes left in the batch$"):
        dec.decode_table(bytes.fromhex("010001"))


# ---------------------------------------------------------------------------
# the chooser


def _run(code, **env):
    e = dict(os.environ)
    e.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e, timeout=60)


def test_chooser_env_forces_slow():
    p = _run("from weir.coder import IMPLEMENTATION, RowDecoder; print(IMPLEMENTATION, RowDecoder.__module__)", WEIR_CYTHON="0")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["slow", "weir._coder_slow"]
    assert "warning" not in p.stderr.lower()


def test_chooser_falls_back_and_says_why():
    # The worker logs FALLBACK_REASON once (see weir.worker); importing the
    # chooser itself stays quiet.
    code = (
        "import sys; sys.modules['weir._coder_fast'] = None\n"
        "import weir.coder, importlib\n"
        "from weir.coder import IMPLEMENTATION, RowEncoder, FALLBACK_REASON\n"
        "print(IMPLEMENTATION, RowEncoder.__module__)\n"
        "print(FALLBACK_REASON)\n"
    )
    p = _run(code, WEIR_CYTHON="1")
    assert p.returncode == 0, p.stderr
    first, reason = p.stdout.splitlines()
    assert first.split() == ["slow", "weir._coder_slow"]
    assert "Cython row coder cannot be imported" in reason
    assert p.stderr == ""


def test_chooser_picks_fast():
    if _coder_fast is None:
        pytest.skip(_FAST_MISSING)
    p = _run("from weir.coder import IMPLEMENTATION, RowDecoder; print(IMPLEMENTATION, RowDecoder.__module__)", WEIR_CYTHON="")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["fast", "weir._coder_fast"]
