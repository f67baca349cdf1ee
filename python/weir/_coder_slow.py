"""Pure-Python row coders: the reference twin of ``_coder_fast.pyx``.

The wire format is described in ``docs/WIRE_FORMAT.md`` (PyFlink's
flatten-row format). Python values per SQL type:

======================  ==========================================================
TINYINT..BIGINT         int (bool is refused; int subclasses and objects with
                        ``__index__``, e.g. numpy integers, are accepted; floats
                        are truncated toward zero, with a warning)
BOOLEAN                 bool (numpy.bool_ accepted)
FLOAT, DOUBLE           float (int, numpy floating and integer scalars accepted)
DECIMAL(p, s)           decimal.Decimal (int accepted; float via Decimal(str(f)));
                        rounded half-up to s digits, refused past p digits
CHAR, VARCHAR, STRING   str (the declared length is not enforced)
BINARY .. BYTES         bytes (bytearray and memoryview accepted)
DATE                    datetime.date (datetime.datetime is refused;
                        numpy.datetime64 in days, weeks, months or years accepted)
TIME(p)                 naive datetime.time; the wire holds milliseconds, so
                        microseconds are truncated to milliseconds
TIMESTAMP(p)            naive datetime.datetime (numpy.datetime64 accepted, with
                        its nanoseconds when p > 3)
TIMESTAMP_LTZ(p)        aware datetime.datetime; decoded in UTC
ARRAY                   list (tuple and numpy.ndarray accepted); as a MAP key,
                        decoded as tuple
MAP                     dict (any Mapping accepted)
ROW                     weir.Row with the field names and row kind (tuple, list
                        and dict by field name accepted)
======================  ==========================================================

numpy values are accepted where the Python values they stand for are (a numpy
integer where an int is, numpy.bool_ where a bool is, a 0-d array as its
scalar), never as numbers where bool is refused. A float (Python's or numpy's)
for an integer type is truncated toward zero with a logged warning, as PyFlink
truncates a general Python function's float result (NaN and infinities are
refused). numpy
is optional: it is not imported here; its values are recognised through the
module they came from.

Timestamps: with p <= 3 the wire holds epoch milliseconds, so encoding
truncates (floors) microseconds to milliseconds; with p > 3 it holds
nanoseconds, and decoding truncates them to Python's microseconds (a p > 6
value does not survive a Python round trip unchanged). Decoding is lenient
about nullability (a null in a NOT NULL field decodes as None); encoding is
strict.
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import operator as _operator
import re as _re
import struct as _struct
import sys as _sys
from collections.abc import Mapping as _Mapping
from collections.abc import Sequence as _Sequence
from typing import Any, List, Optional

from weir import _coder_errors as E
from weir._coder_errors import CoderError, DecodeError, EncodeError, EncodeTypeError
from weir.row import _KINDS, Row, _make_row
from weir.types import (
    ArrayType,
    BigIntType,
    BinaryType,
    BooleanType,
    CharType,
    DataType,
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

__all__ = ["RowDecoder", "RowEncoder", "CoderError", "EncodeError", "EncodeTypeError", "DecodeError"]

_I8 = _struct.Struct(">b")
_I16 = _struct.Struct(">h")
_I32 = _struct.Struct(">i")
_I64 = _struct.Struct(">q")
_F32 = _struct.Struct(">f")
_F64 = _struct.Struct(">d")

MAX_BYTES = 2147483647
EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()
MIN_DAYS = 1 - EPOCH_ORDINAL  # date.min
MAX_DAYS = 3652059 - EPOCH_ORDINAL  # date.max
MIN_MS = MIN_DAYS * 86400000
MAX_MS = (MAX_DAYS + 1) * 86400000 - 1
MS_PER_DAY = 86400000

_EPOCH = _dt.datetime(1970, 1, 1)
_EPOCH_UTC = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_td = _dt.timedelta

INT_RANGES = {
    TinyIntType: (-(2**7), 2**7 - 1),
    SmallIntType: (-(2**15), 2**15 - 1),
    IntType: (-(2**31), 2**31 - 1),
    BigIntType: (-(2**63), 2**63 - 1),
}


# ---------------------------------------------------------------------------
# helpers shared with the Cython coder (it imports them for its slow paths)


def field_types_of(field_types) -> List[DataType]:
    """The field types given to a coder: DataTypes, type strings, or a RowType."""
    if isinstance(field_types, RowType):
        return field_types.field_types()
    if isinstance(field_types, (str, DataType)):
        raise TypeError("field_types must be a list of DataType (or a RowType)")
    out = []
    for t in field_types:
        if isinstance(t, str):
            t = parse_type(t)
        if not isinstance(t, DataType):
            raise TypeError(f"field types must be DataType or type strings, got {type(t).__name__} {t!r}")
        out.append(t)
    return out


def header_size(n: int) -> int:
    return (n + 2 + 7) // 8


def contains_map(t: DataType) -> bool:
    if isinstance(t, MapType):
        return True
    if isinstance(t, ArrayType):
        return contains_map(t.element_type)
    if isinstance(t, RowType):
        return any(contains_map(f.data_type) for f in t.fields)
    return False


def coerce_int(v, tstr: str, who=None) -> int:
    """An int from a non-exact-int value, or EncodeTypeError. A float
    (Python's or numpy's) is truncated toward zero, as PyFlink does with a
    general Python function's float result for an integer type, and
    logged once per type and function (see truncate_float)."""
    if isinstance(v, bool):
        raise E.enc_type("int", tstr, v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float) or numpy_scalar_kind(type(v)) == "float":
        return truncate_float(v, tstr, who)
    if isinstance(v, (str, bytes, _decimal.Decimal)) or not hasattr(type(v), "__index__"):
        raise E.enc_type("int", tstr, v)
    try:
        return _operator.index(v)
    except Exception:
        raise E.enc_type("int", tstr, v) from None


# (declared type, value type, function) triples already logged by truncate_float.
_TRUNCATED = set()


def truncate_float(v, tstr: str, who=None) -> int:
    """v (a float) truncated toward zero for the integer type tstr, with a
    warning the first time this process does it for tstr, v's type and the
    function who (a text naming the function whose result this is, given to
    the encoder by RowEncoder.label; None when the encoder was not told); an
    EncodeError for NaN and infinities."""
    f = float(v)
    if f != f or f in (float("inf"), float("-inf")):
        raise E.enc_range(v, tstr, "NaN and infinities are not integers")
    r = int(f)
    key = (tstr, type(v), who)
    if key not in _TRUNCATED:
        _TRUNCATED.add(key)
        import logging

        logging.getLogger("weir").warning(
            "%s returned %s %r for a result of type %s: truncated toward zero to %d, as PyFlink "
            "does (logged once per function, result type and value type in this worker). Return an int (int(x), "
            "round(x)) or declare a FLOAT or DOUBLE result.", who or "a Python function", type(v).__name__, v,
            tstr, r)
    return r


def coerce_float(v, tstr: str) -> float:
    """A float from a non-exact-float value, or an EncodeError."""
    if isinstance(v, float):
        return float(v)
    if isinstance(v, int) and not isinstance(v, bool):
        try:
            return float(v)
        except OverflowError:
            raise E.enc_range(v, tstr, "out of range") from None
    x = numpy_number(v)
    if x is not None:
        return float(x)
    raise E.enc_type("float or int", tstr, v)


def _numpy():
    """numpy if it is imported, else None. weir never imports it: a numpy
    value at hand means it is."""
    return _sys.modules.get("numpy")


def _numpy_scalar(v, np):
    """A numpy scalar for a 0-d array, else v."""
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return v[()]
    return v


def numpy_number(v):
    """The Python int or float a numpy integer or floating scalar (or 0-d
    array) stands for, or None (numpy.bool_ is not a number here)."""
    np = _numpy()
    if np is None:
        return None
    v = _numpy_scalar(v, np)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return None


def numpy_scalar_kind(t) -> Optional[str]:
    """"int" for a numpy integer type, "float" for a numpy floating type,
    else None; the Cython coder converts values of these types at once
    after it has seen one."""
    np = _numpy()
    if np is None or not isinstance(t, type):
        return None
    if issubclass(t, np.integer):
        return "int"
    if issubclass(t, np.floating):
        return "float"
    return None


def bool_of(v, tstr: str) -> int:
    """1 or 0 for a value that is not True or False, e.g. numpy.bool_; or an
    EncodeTypeError."""
    np = _numpy()
    if np is not None:
        x = _numpy_scalar(v, np)
        if isinstance(x, np.bool_) or x is True or x is False:
            return 1 if x else 0
    raise E.enc_type("bool", tstr, v)


def array_values(v, tstr: str):
    """The elements of an ARRAY value that is not a list or tuple (a numpy
    array of one or more dimensions), as a list; or an EncodeTypeError."""
    np = _numpy()
    if np is not None and isinstance(v, np.ndarray) and v.ndim > 0:
        # tolist gives Python values, except that it turns datetime64 into
        # ints (nanoseconds) or datetimes by unit: keep those numpy's.
        return list(v) if v.dtype.kind in "mM" else v.tolist()
    raise E.enc_type("list or tuple", tstr, v)


_NS_PER_UNIT = {
    "W": 7 * 86400 * 10**9, "D": 86400 * 10**9, "h": 3600 * 10**9, "m": 60 * 10**9,
    "s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1,
}
_UNITS_PER_NS = {"ps": 10**3, "fs": 10**6, "as": 10**9}


def _datetime64(v, tstr: str, expected: str):
    """(numpy, the numpy.datetime64 v stands for) or an EncodeTypeError;
    NaT is an EncodeError."""
    np = _numpy()
    if np is not None:
        x = _numpy_scalar(v, np)
        if isinstance(x, np.datetime64):
            if np.isnat(x):
                raise E.enc_nat(tstr)
            return np, x
    raise E.enc_type(expected, tstr, v)


def numpy_date_days(v, tstr: str) -> int:
    """Days since the epoch of a numpy.datetime64 in days (or weeks, months,
    years) for DATE; or an EncodeError."""
    np, x = _datetime64(v, tstr, "datetime.date")
    if np.datetime_data(x.dtype)[0] not in ("Y", "M", "W", "D"):
        raise E.enc_type("datetime.date", tstr, v)
    days = int(x.astype("datetime64[D]").astype(np.int64))
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise E.enc_range(v, tstr, "outside the years 1..9999")
    return days


def numpy_timestamp_nanos(v, tstr: str, ltz: bool) -> int:
    """Nanoseconds since the epoch of a numpy.datetime64 for TIMESTAMP (units
    finer than nanoseconds are floored); or an EncodeError. numpy's datetimes
    have no time zone, so TIMESTAMP_LTZ refuses them as naive."""
    np, x = _datetime64(v, tstr, "datetime.datetime")
    if ltz:
        raise E.enc_datetime64_ltz(v, tstr)
    unit, count = np.datetime_data(x.dtype)
    if unit in ("Y", "M"):
        x = x.astype("datetime64[D]")
        unit, count = "D", 1
    n = int(x.astype(np.int64)) * count
    ns = n * _NS_PER_UNIT[unit] if unit in _NS_PER_UNIT else n // _UNITS_PER_NS[unit]
    if not MIN_MS <= ns // 1000000 <= MAX_MS:
        raise E.enc_range(v, tstr, "outside the years 1..9999")
    return ns


def pack_float32(v: float, tstr: str) -> bytes:
    try:
        return _F32.pack(v)
    except OverflowError:
        raise E.enc_range(v, tstr, "out of range") from None


def utf8_of(v, tstr: str) -> bytes:
    if not isinstance(v, str):
        raise E.enc_type("str", tstr, v)
    try:
        b = str.encode(v, "utf-8")
    except UnicodeEncodeError:
        raise E.enc_utf8(v, tstr) from None
    if len(b) > MAX_BYTES:
        raise E.enc_too_long(len(b), tstr)
    return b


def bytes_of(v, tstr: str) -> bytes:
    if isinstance(v, bytes):
        b = bytes(v)
    elif isinstance(v, (bytearray, memoryview)):
        b = bytes(v)
    else:
        raise E.enc_type("bytes", tstr, v)
    if len(b) > MAX_BYTES:
        raise E.enc_too_long(len(b), tstr)
    return b


DECIMAL_CONTEXT = _decimal.Context(
    prec=100,
    rounding=_decimal.ROUND_HALF_UP,
    Emax=_decimal.MAX_EMAX,
    Emin=_decimal.MIN_EMIN,
    traps=[_decimal.InvalidOperation, _decimal.Overflow, _decimal.DivisionByZero],
)
_Decimal = _decimal.Decimal
_DECIMAL_TEXT = _re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")

#: Results of decimal_decode besides a Decimal.
DEC_INVALID = 1
DEC_NOFIT = 2


def decimal_quantum(scale: int) -> _decimal.Decimal:
    return _Decimal(1).scaleb(-scale)


def decimal_decode(raw: bytes, precision: int, scale: int, quantum):
    """The Decimal that DECIMAL text ``raw`` stands for, rounded half-up to
    ``scale``; or DEC_INVALID (not decimal text) or DEC_NOFIT (needs more than
    ``precision`` digits). Negative zero is returned as zero."""
    if not _DECIMAL_TEXT.match(raw):
        return DEC_INVALID
    try:
        d = _Decimal(raw.decode("ascii"))
    except (ArithmeticError, ValueError):
        return DEC_INVALID
    room = precision - scale
    if not d.is_zero() and d.adjusted() >= room:
        return DEC_NOFIT
    try:
        q = DECIMAL_CONTEXT.quantize(d, quantum)
    except ArithmeticError:
        return DEC_NOFIT
    if q.is_zero():
        return q.copy_abs()
    if q.adjusted() >= room:
        return DEC_NOFIT
    return q


def decimal_encode(v, precision: int, scale: int, quantum, tstr: str) -> bytes:
    """The canonical DECIMAL text of ``v`` (plain notation, exactly ``scale``
    fraction digits, rounded half-up), or an EncodeError."""
    if isinstance(v, _Decimal):
        d = v
    elif isinstance(v, bool):
        raise E.enc_type("decimal.Decimal, int or float", tstr, v)
    elif isinstance(v, int):
        d = _Decimal(int(v))
    elif isinstance(v, float):
        d = _Decimal(repr(float(v)))
    else:
        x = numpy_number(v)
        if x is None:
            raise E.enc_type("decimal.Decimal, int or float", tstr, v)
        d = _Decimal(x if isinstance(x, int) else repr(x))
    if not d.is_finite():
        raise E.enc_range(v, tstr, "not a finite number")
    room = precision - scale
    if not d.is_zero() and d.adjusted() >= room:
        raise E.enc_range(v, tstr, f"at most {room} digits before the point")
    q = DECIMAL_CONTEXT.quantize(d, quantum)
    if q.is_zero():
        q = q.copy_abs()
    elif q.adjusted() >= room:
        raise E.enc_range(v, tstr, f"at most {room} digits before the point")
    return format(q, "f").encode("ascii")


def row_values(values, n: int):
    """(values as a tuple or list, row kind int) for a top-level row that is not
    an exact tuple or list; or an EncodeError."""
    if isinstance(values, Row):
        return values, values.__dict__["_row_kind"].value
    if isinstance(values, (tuple, list)):
        return values, 0
    np = _numpy()
    if np is not None and isinstance(values, np.ndarray) and values.ndim == 1:
        return array_values(values, ""), 0
    if isinstance(values, (str, bytes, bytearray, memoryview, _Mapping)) or not isinstance(values, _Sequence):
        raise E.enc_row_type(n, values)
    return tuple(values), 0


def nested_row_values(v, names, tstr: str):
    """(values, row kind int) for a nested ROW value, or an EncodeError."""
    if isinstance(v, (tuple, list)):
        if len(v) != len(names):
            raise E.enc_arity(len(names), tstr, v)
        kind = v.__dict__["_row_kind"].value if isinstance(v, Row) else 0
        return v, kind
    if isinstance(v, _Mapping):
        out = []
        for name in names:
            if name not in v:
                raise E.enc_missing(name, tstr, v)
            out.append(v[name])
        if len(v) != len(names):
            known = set(names)
            extra = [k for k in v if k not in known]
            if extra:
                raise E.enc_unknown(extra, tstr)
        return out, 0
    raise E.enc_type("Row, tuple, list or dict", tstr, v)


def date_of(v, tstr: str) -> int:
    if isinstance(v, _dt.date) and not isinstance(v, _dt.datetime):
        return v.toordinal() - EPOCH_ORDINAL
    return numpy_date_days(v, tstr)


def time_of(v, tstr: str) -> int:
    if not isinstance(v, _dt.time):
        raise E.enc_type("datetime.time", tstr, v)
    if v.tzinfo is not None and v.utcoffset() is not None:
        raise E.enc_aware_time(v, tstr)
    return ((v.hour * 60 + v.minute) * 60 + v.second) * 1000 + v.microsecond // 1000


def timestamp_micros(v, tstr: str, ltz: bool) -> int:
    """Microseconds since the epoch of a datetime for TIMESTAMP / TIMESTAMP_LTZ."""
    if not isinstance(v, _dt.datetime):
        raise E.enc_type("datetime.datetime", tstr, v)
    off = v.utcoffset() if v.tzinfo is not None else None
    if ltz and off is None:
        raise E.enc_naive(v, tstr)
    if not ltz and off is not None:
        raise E.enc_aware(v, tstr)
    days = v.toordinal() - EPOCH_ORDINAL
    us = ((days * 86400 + v.hour * 3600 + v.minute * 60 + v.second) * 1000000) + v.microsecond
    if off is not None:
        us -= (off.days * 86400 + off.seconds) * 1000000 + off.microseconds
    return us


def write_varint(out: bytearray, n: int) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def read_varint(buf: bytes, pos: int, end: int):
    """(value, new position) or raises DecodeError (without a row prefix)."""
    start = pos
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise DecodeError(E.dec_varint(start))
        if shift >= 63:
            raise DecodeError(E.dec_varint_long(start))
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


# ---------------------------------------------------------------------------
# per-type readers and writers

# A reader is read(buf, pos, end) -> (value, new pos), raising DecodeError(detail).
# A writer is write(out: bytearray, value) for a non-None value, raising EncodeError.


class _Node:
    __slots__ = ("t", "tstr", "nullable", "read", "write")

    def __init__(self, t: DataType, key_mode: bool = False, who=None):
        self.t = t
        self.tstr = str(t)
        self.nullable = t.nullable
        self.read = _make_reader(t, self.tstr, key_mode)
        self.write = _make_writer(t, self.tstr, who)


def _trunc(what, need, pos, end):
    return DecodeError(E.dec_truncated(what, need, pos, end - pos))


def _fixed_reader(st: _struct.Struct, tstr: str):
    size = st.size
    unpack = st.unpack_from

    def read(buf, pos, end):
        if end - pos < size:
            raise _trunc(tstr, size, pos, end)
        return unpack(buf, pos)[0], pos + size

    return read


def _read_length(buf, pos, end, tstr):
    if end - pos < 4:
        raise _trunc(tstr, 4, pos, end)
    n = _I32.unpack_from(buf, pos)[0]
    if n < 0:
        raise DecodeError(E.dec_negative(n, tstr, pos))
    pos += 4
    if end - pos < n:
        raise _trunc(tstr, n, pos, end)
    return n, pos


def _make_reader(t: DataType, tstr: str, key_mode: bool):
    if isinstance(t, TinyIntType):
        return _fixed_reader(_I8, tstr)
    if isinstance(t, SmallIntType):
        return _fixed_reader(_I16, tstr)
    if isinstance(t, IntType):
        return _fixed_reader(_I32, tstr)
    if isinstance(t, BigIntType):
        return _fixed_reader(_I64, tstr)
    if isinstance(t, FloatType):
        return _fixed_reader(_F32, tstr)
    if isinstance(t, DoubleType):
        return _fixed_reader(_F64, tstr)
    if isinstance(t, BooleanType):

        def read_bool(buf, pos, end):
            if end - pos < 1:
                raise _trunc(tstr, 1, pos, end)
            b = buf[pos]
            if b > 1:
                raise DecodeError(E.dec_bool(b, pos))
            return b == 1, pos + 1

        return read_bool
    if isinstance(t, (CharType, VarCharType)):

        def read_str(buf, pos, end):
            n, pos = _read_length(buf, pos, end, tstr)
            try:
                return str(buf[pos : pos + n], "utf-8"), pos + n
            except UnicodeDecodeError:
                raise DecodeError(E.dec_utf8(tstr, pos)) from None

        return read_str
    if isinstance(t, (BinaryType, VarBinaryType)):

        def read_bytes(buf, pos, end):
            n, pos = _read_length(buf, pos, end, tstr)
            return bytes(buf[pos : pos + n]), pos + n

        return read_bytes
    if isinstance(t, DecimalType):
        p, s = t.precision, t.scale
        quantum = decimal_quantum(s)

        def read_decimal(buf, pos, end):
            n, pos = _read_length(buf, pos, end, tstr)
            raw = bytes(buf[pos : pos + n])
            d = decimal_decode(raw, p, s, quantum)
            if d is DEC_INVALID:
                raise DecodeError(E.dec_decimal_text(raw, tstr, pos))
            if d is DEC_NOFIT:
                raise DecodeError(E.dec_decimal_fit(raw, tstr, pos))
            return d, pos + n

        return read_decimal
    if isinstance(t, DateType):
        fromordinal = _dt.date.fromordinal

        def read_date(buf, pos, end):
            if end - pos < 4:
                raise _trunc(tstr, 4, pos, end)
            days = _I32.unpack_from(buf, pos)[0]
            if not MIN_DAYS <= days <= MAX_DAYS:
                raise DecodeError(E.dec_date(days, tstr, pos))
            return fromordinal(days + EPOCH_ORDINAL), pos + 4

        return read_date
    if isinstance(t, TimeType):
        time = _dt.time

        def read_time(buf, pos, end):
            if end - pos < 4:
                raise _trunc(tstr, 4, pos, end)
            ms = _I32.unpack_from(buf, pos)[0]
            if not 0 <= ms < MS_PER_DAY:
                raise DecodeError(E.dec_time(ms, tstr, pos))
            s, milli = divmod(ms, 1000)
            m, s = divmod(s, 60)
            h, m = divmod(m, 60)
            return time(h, m, s, milli * 1000), pos + 4

        return read_time
    if isinstance(t, (TimestampType, LocalZonedTimestampType)):
        base = _EPOCH_UTC if isinstance(t, LocalZonedTimestampType) else _EPOCH
        if t.precision <= 3:

            def read_ts_milli(buf, pos, end):
                if end - pos < 8:
                    raise _trunc(tstr, 8, pos, end)
                ms = _I64.unpack_from(buf, pos)[0]
                if not MIN_MS <= ms <= MAX_MS:
                    raise DecodeError(E.dec_timestamp(ms, tstr, pos))
                return base + _td(microseconds=ms * 1000), pos + 8

            return read_ts_milli

        def read_ts_nano(buf, pos, end):
            if end - pos < 8:
                raise _trunc(tstr, 8, pos, end)
            ms = _I64.unpack_from(buf, pos)[0]
            if end - pos - 8 < 4:
                raise _trunc(tstr, 4, pos + 8, end)
            ns = _I32.unpack_from(buf, pos + 8)[0]
            if not 0 <= ns <= 999999:
                raise DecodeError(E.dec_nanos(ns, tstr, pos + 8))
            if not MIN_MS <= ms <= MAX_MS:
                raise DecodeError(E.dec_timestamp(ms, tstr, pos))
            return base + _td(microseconds=ms * 1000 + ns // 1000), pos + 12

        return read_ts_nano
    if isinstance(t, ArrayType):
        elem = _Node(t.element_type, key_mode)
        read_elem = elem.read

        def read_array(buf, pos, end):
            if end - pos < 4:
                raise _trunc(tstr, 4, pos, end)
            n = _I32.unpack_from(buf, pos)[0]
            if n < 0:
                raise DecodeError(E.dec_negative(n, tstr, pos))
            if n > end - pos - 4:
                raise DecodeError(E.dec_count(n, tstr, pos, end - pos - 4))
            pos += 4
            out = []
            append = out.append
            for _ in range(n):
                if pos >= end:
                    raise _trunc(tstr, 1, pos, end)
                flag = buf[pos]
                pos += 1
                if flag == 1:
                    v, pos = read_elem(buf, pos, end)
                    append(v)
                elif flag == 0:
                    append(None)
                else:
                    raise DecodeError(E.dec_flag(flag, tstr, pos - 1))
            return (tuple(out) if key_mode else out), pos

        return read_array
    if isinstance(t, MapType):
        key = _Node(t.key_type, True)
        value = _Node(t.value_type, key_mode)
        read_key, read_value = key.read, value.read
        unhashable = contains_map(t.key_type)

        def read_map(buf, pos, end):
            if end - pos < 4:
                raise _trunc(tstr, 4, pos, end)
            n = _I32.unpack_from(buf, pos)[0]
            if n < 0:
                raise DecodeError(E.dec_negative(n, tstr, pos))
            if n > (end - pos - 4) // 2:
                raise DecodeError(E.dec_count(n, tstr, pos, end - pos - 4))
            pos += 4
            if n and unhashable:
                raise DecodeError(E.dec_map_key(tstr, pos))
            out = {}
            for _ in range(n):
                k, pos = read_key(buf, pos, end)
                if pos >= end:
                    raise _trunc(tstr, 1, pos, end)
                flag = buf[pos]
                pos += 1
                if flag == 0:
                    v, pos = read_value(buf, pos, end)
                elif flag == 1:
                    v = None
                else:
                    raise DecodeError(E.dec_flag(flag, tstr, pos - 1))
                out[k] = v
            return out, pos

        return read_map
    if isinstance(t, RowType):
        fields = [_Node(f.data_type, key_mode) for f in t.fields]
        readers = [f.read for f in fields]
        names = tuple(t.field_names())
        nf = len(fields)
        hdr = header_size(nf)

        def read_row(buf, pos, end):
            if end - pos < hdr:
                raise _trunc(tstr, hdr, pos, end)
            h = buf[pos : pos + hdr]
            pos += hdr
            vals = []
            for i in range(nf):
                bit = i + 2
                if h[bit >> 3] & (0x80 >> (bit & 7)):
                    vals.append(None)
                else:
                    v, pos = readers[i](buf, pos, end)
                    vals.append(v)
            return _make_row(vals, names, _KINDS[(h[0] >> 7) | ((h[0] >> 5) & 2)]), pos

        return read_row
    raise TypeError(f"the row coder does not support {tstr}")


def _int_writer(t, tstr, who):
    lo, hi = INT_RANGES[type(t)]
    pack = {TinyIntType: _I8, SmallIntType: _I16, IntType: _I32, BigIntType: _I64}[type(t)].pack
    why = f"range {lo}..{hi}"

    def write_int(out, v):
        if type(v) is not int:
            v = coerce_int(v, tstr, who)
        if not lo <= v <= hi:
            raise E.enc_range(v, tstr, why)
        out += pack(v)

    return write_int


def _make_writer(t: DataType, tstr: str, who=None):
    if type(t) in INT_RANGES:
        return _int_writer(t, tstr, who)
    if isinstance(t, DoubleType):
        pack = _F64.pack

        def write_double(out, v):
            if type(v) is not float:
                v = coerce_float(v, tstr)
            out += pack(v)

        return write_double
    if isinstance(t, FloatType):

        def write_float(out, v):
            if type(v) is not float:
                v = coerce_float(v, tstr)
            out += pack_float32(v, tstr)

        return write_float
    if isinstance(t, BooleanType):

        def write_bool(out, v):
            if v is True:
                out.append(1)
            elif v is False:
                out.append(0)
            else:
                out.append(bool_of(v, tstr))

        return write_bool
    if isinstance(t, (CharType, VarCharType)):
        pack_len = _I32.pack

        def write_str(out, v):
            b = utf8_of(v, tstr)
            out += pack_len(len(b))
            out += b

        return write_str
    if isinstance(t, (BinaryType, VarBinaryType)):
        pack_len = _I32.pack

        def write_bytes(out, v):
            b = bytes_of(v, tstr)
            out += pack_len(len(b))
            out += b

        return write_bytes
    if isinstance(t, DecimalType):
        p, s = t.precision, t.scale
        quantum = decimal_quantum(s)

        def write_decimal(out, v):
            b = decimal_encode(v, p, s, quantum, tstr)
            out += _I32.pack(len(b))
            out += b

        return write_decimal
    if isinstance(t, DateType):

        def write_date(out, v):
            out += _I32.pack(date_of(v, tstr))

        return write_date
    if isinstance(t, TimeType):

        def write_time(out, v):
            out += _I32.pack(time_of(v, tstr))

        return write_time
    if isinstance(t, (TimestampType, LocalZonedTimestampType)):
        ltz = isinstance(t, LocalZonedTimestampType)
        if t.precision <= 3:

            def write_ts_milli(out, v):
                if isinstance(v, _dt.datetime):
                    out += _I64.pack(timestamp_micros(v, tstr, ltz) // 1000)
                else:
                    out += _I64.pack(numpy_timestamp_nanos(v, tstr, ltz) // 1000000)

            return write_ts_milli

        def write_ts_nano(out, v):
            if isinstance(v, _dt.datetime):
                ms, us = divmod(timestamp_micros(v, tstr, ltz), 1000)
                ns = us * 1000
            else:
                ms, ns = divmod(numpy_timestamp_nanos(v, tstr, ltz), 1000000)
            out += _I64.pack(ms)
            out += _I32.pack(ns)

        return write_ts_nano
    if isinstance(t, ArrayType):
        elem = _Node(t.element_type, who=who)
        write_elem, elem_nullable, elem_tstr = elem.write, elem.nullable, elem.tstr

        def write_array(out, v):
            if not isinstance(v, (list, tuple)):
                v = array_values(v, tstr)
            out += _I32.pack(len(v))
            for i, e in enumerate(v):
                if e is None:
                    if not elem_nullable:
                        raise E.enc_null(elem_tstr).at(f"[{i}]")
                    out.append(0)
                else:
                    out.append(1)
                    try:
                        write_elem(out, e)
                    except EncodeError as err:
                        raise err.at(f"[{i}]")

        return write_array
    if isinstance(t, MapType):
        key = _Node(t.key_type, who=who)
        value = _Node(t.value_type, who=who)
        write_key, write_value = key.write, value.write
        value_nullable, value_tstr = value.nullable, value.tstr

        def write_map(out, v):
            if not isinstance(v, _Mapping):
                raise E.enc_type("dict", tstr, v)
            out += _I32.pack(len(v))
            for j, (k, x) in enumerate(v.items()):
                if k is None:
                    raise E.enc_null_key(tstr).at(E.key_segment(j))
                try:
                    write_key(out, k)
                except EncodeError as err:
                    raise err.at(E.key_segment(j))
                if x is None:
                    if not value_nullable:
                        raise E.enc_null(value_tstr).at(E.value_segment(k))
                    out.append(1)
                else:
                    out.append(0)
                    try:
                        write_value(out, x)
                    except EncodeError as err:
                        raise err.at(E.value_segment(k))

        return write_map
    if isinstance(t, RowType):
        fields = [_Node(f.data_type, who=who) for f in t.fields]
        names = tuple(t.field_names())
        segs = [f".{n}" for n in names]
        nf = len(fields)
        hdr = header_size(nf)

        def write_row(out, v):
            vals, kind = nested_row_values(v, names, tstr)
            start = len(out)
            out += bytes(hdr)
            out[start] = ((kind & 1) << 7) | ((kind & 2) << 5)
            for i in range(nf):
                x = vals[i]
                f = fields[i]
                if x is None:
                    if not f.nullable:
                        raise E.enc_null(f.tstr).at(segs[i])
                    bit = i + 2
                    out[start + (bit >> 3)] |= 0x80 >> (bit & 7)
                else:
                    try:
                        f.write(out, x)
                    except EncodeError as err:
                        raise err.at(segs[i])

        return write_row
    raise TypeError(f"the row coder does not support {tstr}")


# ---------------------------------------------------------------------------
# the coders


class RowDecoder:
    """Decodes batches of rows of the given field types (see WIRE_FORMAT.md).

    ``decode(data)`` returns each row as a list of Python values; the RowKind
    of each row (0 INSERT, 1 UPDATE_BEFORE, 2 UPDATE_AFTER, 3 DELETE) is
    appended to ``kinds`` when a list is given. Malformed input raises
    :class:`DecodeError` (a ValueError) naming the row and field. A decoder
    is not thread-safe; use one per thread.
    """

    def __init__(self, field_types):
        self.field_types = field_types_of(field_types)
        self._nodes = [_Node(t) for t in self.field_types]
        self._n = len(self._nodes)
        self._hdr = header_size(self._n)
        self.row_kind = 0

    def _read_row(self, buf: bytes, pos: int, end: int, r: int) -> list:
        """Decode the row of bytes buf[pos:end] (after its length prefix)."""
        hdr = self._hdr
        if end - pos < hdr:
            raise DecodeError(f"row {r}: " + E.dec_header(hdr, end - pos, pos))
        h = buf[pos : pos + hdr]
        self.row_kind = (h[0] >> 7) | ((h[0] >> 5) & 2)
        pos += hdr
        out = [None] * self._n
        i = 0
        try:
            for i, node in enumerate(self._nodes):
                bit = i + 2
                if not h[bit >> 3] & (0x80 >> (bit & 7)):
                    out[i], pos = node.read(buf, pos, end)
        except DecodeError as e:
            node = self._nodes[i]
            raise DecodeError(f"row {r}, field {i} ({node.tstr}): {e}") from None
        if pos != end:
            raise DecodeError(f"row {r}: " + E.dec_trailing(end - pos, pos))
        return out

    def _next(self, buf: bytes, pos: int, end: int, r: int):
        """(row length, start of the row) of the element at pos."""
        try:
            n, start = read_varint(buf, pos, end)
        except DecodeError as e:
            raise DecodeError(f"row {r}: {e}") from None
        if n > end - start:
            raise DecodeError(f"row {r}: " + E.dec_row_length(n, pos, end - start))
        return n, start

    @staticmethod
    def _bytes(data) -> bytes:
        if isinstance(data, bytes):
            return data
        if isinstance(data, (bytearray, memoryview)):
            return bytes(data)
        raise TypeError(f"expected bytes, got {type(data).__name__}")

    def decode(self, data, kinds: Optional[list] = None) -> List[list]:
        buf = self._bytes(data)
        end = len(buf)
        rows = []
        pos = 0
        r = 0
        while pos < end:
            n, start = self._next(buf, pos, end, r)
            rows.append(self._read_row(buf, start, start + n, r))
            if kinds is not None:
                kinds.append(self.row_kind)
            pos = start + n
            r += 1
        return rows

    def decode_table(self, data) -> List[List[list]]:
        """Each input row's result rows, from a table function's answer (rows, then an end marker, per input row)."""
        buf = self._bytes(data)
        end = len(buf)
        groups: List[List[list]] = []
        cur: List[list] = []
        pos = 0
        r = 0
        while pos < end:
            n, start = self._next(buf, pos, end, r)
            if n == 1 and buf[start] == 0:
                groups.append(cur)
                cur = []
            else:
                cur.append(self._read_row(buf, start, start + n, r))
            pos = start + n
            r += 1
        if cur:
            raise DecodeError(E.dec_no_marker(len(cur), end))
        return groups


class RowEncoder:
    """Encodes rows of the given field types into one batch (see WIRE_FORMAT.md).

    ``encode_row(values)`` appends a row (a tuple, list or Row; a Row's kind
    goes into the header); a value the type cannot hold raises
    :class:`EncodeError` / :class:`EncodeTypeError` (ValueError subclasses)
    naming the field, and leaves the rows appended before it intact.
    ``take()`` returns the batch and starts a new one. An encoder is not
    thread-safe; use one per thread.
    """

    def __init__(self, field_types):
        self.field_types = field_types_of(field_types)
        self._nodes = [_Node(t) for t in self.field_types]
        self._n = len(self._nodes)
        self._hdr = header_size(self._n)
        self._buf = bytearray()

    def label(self, names):
        """Name the function whose result each field is (a text such as
        "Python function 'f'", or None), for the warning a truncated float
        logs; returns self."""
        names = list(names)
        if len(names) != self._n:
            raise ValueError(f"label: {len(names)} names for {self._n} fields")
        self._nodes = [_Node(t, who=w) for t, w in zip(self.field_types, names)]
        return self

    def encode_row(self, values) -> None:
        n = self._n
        tv = type(values)
        if tv is tuple or tv is list:
            kind = 0
        else:
            values, kind = row_values(values, n)
        if len(values) != n:
            raise E.enc_row_arity(n, values)
        out = bytearray(self._hdr)
        out[0] = ((kind & 1) << 7) | ((kind & 2) << 5)
        i = 0
        try:
            for i, node in enumerate(self._nodes):
                v = values[i]
                if v is None:
                    if not node.nullable:
                        raise E.enc_null(node.tstr)
                    bit = i + 2
                    out[bit >> 3] |= 0x80 >> (bit & 7)
                else:
                    node.write(out, v)
        except EncodeError as e:
            raise e.in_field(i)
        buf = self._buf
        write_varint(buf, len(out))
        buf += out

    def encode_end_marker(self) -> None:
        self._buf += b"\x01\x00"

    def take(self) -> bytes:
        b = bytes(self._buf)
        self._buf = bytearray()
        return b

    def encode(self, rows) -> bytes:
        for r in rows:
            self.encode_row(r)
        return self.take()
