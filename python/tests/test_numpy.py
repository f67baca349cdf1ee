"""numpy results in both coders: accepted where the Python values they stand
for are, with the bytes PyFlink writes for them, and refused (with the same
words in both twins) where weir refuses the Python value too."""

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import pytest

np = pytest.importorskip("numpy")

from weir import _coder_slow  # noqa: E402
from weir._coder_errors import EncodeError, EncodeTypeError  # noqa: E402
from weir.types import DataTypes as T  # noqa: E402
from weir.types import parse_type  # noqa: E402

try:
    from weir import _coder_fast
except ImportError:  # not built
    _coder_fast = None


@pytest.fixture(params=["slow", "fast"])
def impl(request):
    if request.param == "fast":
        if _coder_fast is None:
            pytest.skip("weir._coder_fast is not built")
        return _coder_fast
    return _coder_slow


def encode(impl, type_text, value):
    return impl.RowEncoder([parse_type(type_text)]).encode([(value,)])


INT_TYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
FLOAT_TYPES = [np.float16, np.float32, np.float64, np.longdouble]

# (SQL type, numpy value, the Python value it stands for)
SAME_AS_PYTHON = (
    [(t, k(5), 5) for t in ("TINYINT", "SMALLINT", "INT", "BIGINT") for k in INT_TYPES]
    + [("INT", np.array(-7), -7), ("BIGINT", np.int64(-(2**63)), -(2**63))]
    + [("BOOLEAN", np.bool_(True), True), ("BOOLEAN", np.bool_(False), False), ("BOOLEAN", np.array(True), True)]
    + [(t, k(2.5), 2.5) for t in ("FLOAT", "DOUBLE") for k in FLOAT_TYPES]
    + [(t, k(5), 5.0) for t in ("FLOAT", "DOUBLE") for k in INT_TYPES]
    + [("DOUBLE", np.float32(0.1), float(np.float32(0.1))), ("FLOAT", np.float64(0.1), 0.1)]
    + [("DOUBLE", np.array(1.25), 1.25), ("DOUBLE", np.float64("inf"), float("inf"))]
    + [("DOUBLE", np.uint64(2**64 - 1), float(2**64 - 1))]
    + [("DECIMAL(10, 2)", np.int64(42), Decimal(42)), ("DECIMAL(10, 2)", np.float64(1.005), 1.005)]
    + [("DECIMAL(10, 2)", np.float32(0.1), Decimal(repr(float(np.float32(0.1)))))]
    + [("STRING", np.str_("héllo"), "héllo"), ("BYTES", np.bytes_(b"\x00ab"), b"\x00ab")]
    + [
        ("ARRAY<INT>", np.array([1, 2, 3], dtype=np.int32), [1, 2, 3]),
        ("ARRAY<BIGINT NOT NULL>", np.array([1, -2], dtype=np.int64), [1, -2]),
        ("ARRAY<DOUBLE>", np.array([1.5, np.nan]), [1.5, float("nan")]),
        ("ARRAY<FLOAT>", np.array([0.1], dtype=np.float32), [float(np.float32(0.1))]),
        ("ARRAY<BOOLEAN>", np.array([True, False]), [True, False]),
        ("ARRAY<STRING>", np.array(["a", "bc"]), ["a", "bc"]),
        ("ARRAY<STRING>", np.array(["a", None], dtype=object), ["a", None]),
        ("ARRAY<BYTES>", np.array([b"x", b"yz"]), [b"x", b"yz"]),
        ("ARRAY<ARRAY<INT>>", np.array([[1, 2], [3, 4]]), [[1, 2], [3, 4]]),
        ("ARRAY<ARRAY<INT>>", [np.array([1]), np.array([], dtype=np.int64)], [[1], []]),
        ("ARRAY<INT>", np.array([], dtype=np.int32), []),
        ("MAP<STRING, DOUBLE>", {np.str_("k"): np.float32(1.5)}, {"k": 1.5}),
        ("MAP<INT, ARRAY<BOOLEAN>>", {np.int16(3): np.array([True])}, {3: [True]}),
        ("ROW<a INT, b DOUBLE, c BOOLEAN>", (np.int8(1), np.float16(0.5), np.bool_(True)), (1, 0.5, True)),
        ("DATE", np.datetime64("2024-02-29"), dt.date(2024, 2, 29)),
        ("DATE", np.datetime64("1969-12", "M"), dt.date(1969, 12, 1)),
        ("DATE", np.datetime64("0001-01-01"), dt.date(1, 1, 1)),
        ("TIMESTAMP(3)", np.datetime64("2024-01-02T03:04:05.123456"), dt.datetime(2024, 1, 2, 3, 4, 5, 123456)),
        ("TIMESTAMP(6)", np.datetime64("2024-01-02T03:04:05.123456"), dt.datetime(2024, 1, 2, 3, 4, 5, 123456)),
        ("TIMESTAMP(6)", np.datetime64("1969-12-31T23:59:59.999999"), dt.datetime(1969, 12, 31, 23, 59, 59, 999999)),
        ("TIMESTAMP(3)", np.datetime64("1900-06-30T12:00:00.0015"), dt.datetime(1900, 6, 30, 12, 0, 0, 1500)),
        ("TIMESTAMP(6)", np.datetime64("2024-03-01"), dt.datetime(2024, 3, 1)),
        ("TIMESTAMP(9)", np.datetime64("9999-12-31T23:59:59.999999"), dt.datetime(9999, 12, 31, 23, 59, 59, 999999)),
        ("TIMESTAMP(3)", np.datetime64(7, "10ms"), dt.datetime(1970, 1, 1, 0, 0, 0, 70000)),
    ]
)


@pytest.mark.parametrize("type_text,value,python", SAME_AS_PYTHON, ids=lambda x: repr(x)[:40])
def test_numpy_values_encode_as_their_python_values(impl, type_text, value, python):
    assert encode(impl, type_text, value) == encode(_coder_slow, type_text, python)


# Bytes PyFlink 2.3's coder (pyflink.fn_execution.coder_impl_fast) writes for
# these numpy values: a one-field row here is its length, a one-byte header,
# then the field.
PYFLINK_BYTES = [
    ("TINYINT", np.int64(-3), "fd"),
    ("SMALLINT", np.int64(300), "012c"),
    ("INT", np.uint32(5), "00000005"),
    ("BIGINT", np.int8(5), "0000000000000005"),
    ("BOOLEAN", np.bool_(True), "01"),
    ("BOOLEAN", np.bool_(False), "00"),
    ("FLOAT", np.float32(0.1), "3dcccccd"),
    ("FLOAT", np.float16(2.5), "40200000"),
    ("FLOAT", np.uint64(2**63), "5f000000"),
    ("FLOAT", np.float64("nan"), "7fc00000"),
    ("DOUBLE", np.float32(0.1), "3fb99999a0000000"),
    ("DOUBLE", np.longdouble(2.5), "4004000000000000"),
    ("DOUBLE", np.int64(300), "4072c00000000000"),
    ("DOUBLE", np.uint64(2**63), "43e0000000000000"),
    ("STRING", np.str_("ab"), "000000026162"),
    ("BYTES", np.bytes_(b"ab"), "000000026162"),
]


@pytest.mark.parametrize("type_text,value,hexbytes", PYFLINK_BYTES, ids=lambda x: repr(x)[:30])
def test_same_bytes_as_pyflink(impl, type_text, value, hexbytes):
    assert encode(impl, type_text, value)[2:].hex() == hexbytes


def test_datetime64_keeps_its_nanoseconds(impl):
    # The wire of TIMESTAMP(p > 3) holds nanoseconds, which a datetime cannot;
    # a datetime64 in ns keeps them, and is floored to ms for p <= 3.
    v = np.datetime64("1969-12-31T23:59:59.999999999")
    assert encode(impl, "TIMESTAMP(9)", v)[2:].hex() == (-1).to_bytes(8, "big", signed=True).hex() + "000f423f"
    assert encode(impl, "TIMESTAMP(3)", v)[2:].hex() == (-1).to_bytes(8, "big", signed=True).hex()
    ps = np.datetime64(-1, "ps")  # finer than ns: floored to the ns before
    assert encode(impl, "TIMESTAMP(9)", ps)[2:].hex() == (-1).to_bytes(8, "big", signed=True).hex() + "000f423f"


def test_table_function_rows_may_be_arrays(impl):
    types = [T.INT(), T.DOUBLE()]
    enc = impl.RowEncoder(types)
    enc.encode_row(np.array([1, 2]))
    assert enc.take() == impl.RowEncoder(types).encode([(1, 2.0)])


REFUSED = [
    # What weir refuses as Python values it refuses as numpy values.
    ("INT", np.bool_(True), EncodeTypeError, "field 0: expected int for INT, got numpy.bool np.True_"),
    # A float for an integer type is truncated (test_coder_truncate.py), but not NaN.
    ("INT", np.float64("nan"), EncodeError, "field 0: np.float64(nan) does not fit INT (NaN and infinities are not integers)"),
    ("BIGINT", np.float32("inf"), EncodeError,
     "field 0: np.float32(inf) does not fit BIGINT (NaN and infinities are not integers)"),
    ("TINYINT", np.int64(300), EncodeError, "field 0: 300 does not fit TINYINT (range -128..127)"),
    ("BIGINT", np.uint64(2**63), EncodeError, "field 0: 9223372036854775808 does not fit BIGINT"),
    ("DOUBLE", np.bool_(True), EncodeTypeError, "field 0: expected float or int for DOUBLE, got numpy.bool np.True_"),
    ("BOOLEAN", np.int64(1), EncodeTypeError, "field 0: expected bool for BOOLEAN, got numpy.int64 np.int64(1)"),
    ("BOOLEAN", np.array([True]), EncodeTypeError, "field 0: expected bool for BOOLEAN, got numpy.ndarray array([ True])"),
    ("FLOAT", np.float64(1e300), EncodeError, "does not fit FLOAT (out of range)"),
    ("DOUBLE", np.array([1.0]), EncodeTypeError, "expected float or int for DOUBLE"),
    ("DECIMAL(3, 1)", np.float64("nan"), EncodeError, "not a finite number"),
    ("DECIMAL(3, 1)", np.int64(1000), EncodeError, "at most 2 digits before the point"),
    ("DECIMAL(3, 1)", np.bool_(False), EncodeTypeError, "expected decimal.Decimal, int or float"),
    ("ARRAY<INT>", np.array([[1, 2]]), EncodeTypeError, "field 0[0]: expected int for INT, got list [1, 2]"),
    ("ARRAY<INT>", np.array(5), EncodeTypeError, "field 0: expected list or tuple for ARRAY<INT>"),
    ("ARRAY<INT NOT NULL>", np.array([1, None], dtype=object), EncodeError, "field 0[1]: None for INT NOT NULL"),
    ("TIMESTAMP(3)", np.datetime64("NaT"), EncodeError, "numpy NaT (not a time) for TIMESTAMP(3); return None for a null"),
    ("TIMESTAMP(6)", np.datetime64("10000-01-01"), EncodeError, "does not fit TIMESTAMP(6) (outside the years 1..9999)"),
    ("TIMESTAMP_LTZ(3)", np.datetime64("2024-01-01T00:00"), EncodeError, "numpy.datetime64 has no time zone"),
    ("TIMESTAMP(3)", np.timedelta64(5, "s"), EncodeTypeError, "expected datetime.datetime for TIMESTAMP(3)"),
    ("DATE", np.datetime64("2024-01-01T00:00"), EncodeTypeError, "expected datetime.date for DATE"),
    ("DATE", np.datetime64("NaT", "D"), EncodeError, "numpy NaT (not a time) for DATE"),
    ("DATE", np.datetime64("-0001-01-01"), EncodeError, "does not fit DATE (outside the years 1..9999)"),
]


@pytest.mark.parametrize("type_text,value,cls,message", REFUSED, ids=lambda x: repr(x)[:40])
def test_refusals(impl, type_text, value, cls, message):
    with pytest.raises(cls) as e:
        encode(impl, type_text, value)
    assert message in str(e.value)
    if _coder_fast is not None:
        other = _coder_fast if impl is _coder_slow else _coder_slow
        with pytest.raises(cls) as e2:
            encode(other, type_text, value)
        assert str(e2.value) == str(e.value)


def test_random_numpy_rows_twins_agree():
    if _coder_fast is None:
        pytest.skip("weir._coder_fast is not built")
    rng = np.random.default_rng()
    types = [T.INT(), T.DOUBLE(), T.BOOLEAN(), T.ARRAY(T.BIGINT()), T.FLOAT(), T.TIMESTAMP(9), T.DATE()]
    rows = []
    for _ in range(500):
        rows.append((
            rng.integers(-(2**31), 2**31, dtype=np.int64),
            rng.standard_normal(dtype=np.float32) if rng.random() < 0.5 else rng.standard_normal(),
            rng.random() < 0.5 and np.bool_(True) or np.bool_(False),
            rng.integers(-(2**62), 2**62, size=int(rng.integers(0, 5))),
            np.float16(rng.standard_normal()),
            np.datetime64(int(rng.integers(-(2**62), 2**62)), "ns"),
            np.datetime64(int(rng.integers(-700000, 2900000)), "D"),
        ))
    slow = _coder_slow.RowEncoder(types).encode(rows)
    assert _coder_fast.RowEncoder(types).encode(rows) == slow
    decoded = _coder_slow.RowDecoder(types).decode(slow)
    for row, back in zip(rows, decoded):
        assert back[0] == int(row[0]) and back[3] == row[3].tolist()
        assert back[5] == dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(row[5].astype(np.int64)) // 1000)


def test_coders_do_not_import_numpy():
    code = (
        "import sys\n"
        "from weir import coder, _coder_slow\n"
        "from weir.types import DataTypes as T\n"
        "types = [T.INT(), T.DOUBLE(), T.BOOLEAN(), T.ARRAY(T.INT()), T.TIMESTAMP(9), T.DATE()]\n"
        "for m in (coder, _coder_slow):\n"
        "    m.RowEncoder(types).encode([(1, 2.0, True, [1], None, None)])\n"
        "    for t, bad in zip(types, ('x', 'x', 2, 'x', 'x', 'x')):\n"
        "        try:\n"
        "            m.RowEncoder([t]).encode([(bad,)])\n"
        "            raise AssertionError(f'{bad!r} accepted for {t}')\n"
        "        except ValueError:\n"
        "            pass\n"
        "assert 'numpy' not in sys.modules, 'numpy was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_numpy_types_seen_before_convert_the_same():
    # The Cython coder converts numpy integer and floating types it has seen
    # without the general coercion: values and errors must stay the twin's.
    if _coder_fast is None:
        pytest.skip("weir._coder_fast is not built")
    for m in (_coder_fast, _coder_fast, _coder_slow):  # the second time, the types are known
        assert encode(m, "TINYINT", np.int64(-128)) == encode(_coder_slow, "TINYINT", -128)
        assert encode(m, "FLOAT", np.float32(1.5)) == encode(_coder_slow, "FLOAT", 1.5)
        for type_text, value, message in [
            ("TINYINT", np.int64(128), "field 0: 128 does not fit TINYINT (range -128..127)"),
            ("BIGINT", np.uint64(2**64 - 1), "field 0: 18446744073709551615 does not fit BIGINT"),
            ("FLOAT", np.longdouble(1e300), "does not fit FLOAT (out of range)"),
        ]:
            with pytest.raises(EncodeError) as e:
                encode(m, type_text, value)
            assert message in str(e.value)
