"""Errors of the row coders and the text of their messages.

Shared by the pure-Python coder (``_coder_slow``) and the Cython one
(``_coder_fast``) so that both raise the same classes with the same words.

* :class:`EncodeError` (a ValueError): a value the declared type cannot hold,
  e.g. ``field 0: 300 does not fit TINYINT (range -128..127)``.
* :class:`EncodeTypeError` (a ValueError and a TypeError): a value of the
  wrong Python type, e.g. ``field 2: expected str for STRING, got int 5``.
* :class:`DecodeError` (a ValueError): malformed input, e.g.
  ``row 3, field 1 (INT): truncated INT: needs 4 bytes at byte 17, 2 left in the row``.

Encode messages start with the field index and, for nested values, the path
inside it: ``field 2[3]`` (array element 3), ``field 2['k']`` (map value of
key 'k'), ``field 2[key #1]`` (map key at position 1), ``field 2.b`` (field b
of a nested row). Encode errors carry ``field`` (the top-level index, or None
for an error about the whole row), ``path`` (the nested path, e.g. ``"[3].b"``)
and ``detail`` (the message without the location).
"""

from __future__ import annotations

__all__ = ["CoderError", "EncodeError", "EncodeTypeError", "DecodeError"]


class CoderError(ValueError):
    """Base class of the coder errors."""

    weir_coder_error = True


class EncodeError(CoderError):
    """A value cannot be encoded as its declared type."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail
        self.field = None
        self._segments = []  # innermost first

    @property
    def path(self) -> str:
        return "".join(reversed(self._segments))

    def at(self, segment: str) -> "EncodeError":
        """Record that the error happened inside ``segment`` (``[3]``, ``.b``...); returns self."""
        self._segments.append(segment)
        return self

    def in_field(self, index: int) -> "EncodeError":
        """Name the top-level field; sets the final message; returns self."""
        self.field = index
        self.args = (f"field {index}{self.path}: {self.detail}",)
        return self


class EncodeTypeError(EncodeError, TypeError):
    """A value has a Python type its declared SQL type does not accept."""


class DecodeError(CoderError):
    """The input is not a valid batch of rows of the declared types."""


# ---------------------------------------------------------------------------
# message pieces

_MAX_SHOW = 80


def show(v) -> str:
    """repr(v), shortened; never raises."""
    try:
        r = repr(v)
    except Exception:
        r = f"<{type(v).__name__} object>"
    if len(r) > _MAX_SHOW:
        r = r[: _MAX_SHOW - 3] + "..."
    return r


def type_name(v) -> str:
    t = type(v)
    mod = t.__module__
    return t.__qualname__ if mod == "builtins" else f"{mod}.{t.__qualname__}"


def describe(v) -> str:
    """``int 5``, ``str 'x'``, or just the repr when it names the type (``Decimal('1')``)."""
    r = show(v)
    name = type_name(v)
    if r.startswith(name + "(") or r.startswith(type(v).__name__ + "("):
        return r
    return f"{name} {r}"


# -- encoding ------------------------------------------------------------------


def enc_type(expected: str, tstr: str, v) -> EncodeTypeError:
    return EncodeTypeError(f"expected {expected} for {tstr}, got {describe(v)}")


def enc_range(v, tstr: str, why: str) -> EncodeError:
    return EncodeError(f"{show(v)} does not fit {tstr} ({why})")


def enc_null(tstr: str) -> EncodeError:
    return EncodeError(f"None for {tstr}")


def enc_null_key(tstr: str) -> EncodeError:
    return EncodeError(f"None cannot be a key of {tstr}")


def enc_utf8(v, tstr: str) -> EncodeError:
    return EncodeError(f"{show(v)} cannot be encoded as UTF-8 for {tstr} (lone surrogate?)")


def enc_too_long(n: int, tstr: str) -> EncodeError:
    return EncodeError(f"a value of {n} bytes is too long for {tstr} (at most 2147483647 bytes)")


def enc_naive(v, tstr: str) -> EncodeError:
    return EncodeError(
        f"naive datetime for {tstr}; attach a tzinfo (e.g. datetime.timezone.utc); got {show(v)}"
    )


def enc_aware(v, tstr: str) -> EncodeError:
    return EncodeError(
        f"aware datetime for {tstr}; use a naive datetime or declare TIMESTAMP_LTZ; got {show(v)}"
    )


def enc_datetime64_ltz(v, tstr: str) -> EncodeError:
    return EncodeError(
        f"numpy.datetime64 has no time zone, so it cannot be a {tstr}; return an aware "
        f"datetime.datetime (e.g. with tzinfo=datetime.timezone.utc) or declare TIMESTAMP; got {show(v)}"
    )


def enc_nat(tstr: str) -> EncodeError:
    return EncodeError(f"numpy NaT (not a time) for {tstr}; return None for a null")


def enc_aware_time(v, tstr: str) -> EncodeError:
    return EncodeError(f"aware time for {tstr}; use a naive datetime.time; got {show(v)}")


def enc_arity(n: int, tstr: str, v) -> EncodeError:
    return EncodeError(f"{tstr} has {n} fields, got {_count(v)} values: {show(v)}")


def enc_missing(name: str, tstr: str, v) -> EncodeError:
    return EncodeError(f"missing field {name!r} for {tstr} in {show(v)}")


def enc_unknown(names, tstr: str) -> EncodeError:
    return EncodeError(f"unknown field(s) {', '.join(show(n) for n in names)} for {tstr}")


def enc_row_type(n: int, v) -> EncodeTypeError:
    return EncodeTypeError(f"expected a tuple, list or Row of {n} values, got {describe(v)}")


def enc_row_arity(n: int, v) -> EncodeError:
    return EncodeError(f"expected {n} values, got {_count(v)}: {show(v)}")


def _count(v) -> str:
    try:
        return str(len(v))
    except Exception:
        return "?"


def key_segment(j: int) -> str:
    return f"[key #{j}]"


def value_segment(k) -> str:
    return f"[{show(k)}]"


# -- decoding -------------------------------------------------------------------


def dec_truncated(what: str, need: int, pos: int, avail: int) -> str:
    return f"truncated {what}: needs {need} bytes at byte {pos}, {avail} left in the row"


def dec_negative(n: int, what: str, pos: int) -> str:
    return f"negative length {n} for {what} at byte {pos}"


def dec_count(n: int, what: str, pos: int, avail: int) -> str:
    return f"{what} count {n} at byte {pos} does not fit the {avail} bytes left in the row"


def dec_bool(b: int, pos: int) -> str:
    return f"invalid BOOLEAN byte 0x{b:02x} at byte {pos}"


def dec_flag(b: int, what: str, pos: int) -> str:
    return f"invalid null flag 0x{b:02x} in {what} at byte {pos}"


def dec_utf8(what: str, pos: int) -> str:
    return f"invalid UTF-8 for {what} at byte {pos}"


def _text(raw: bytes) -> str:
    return show(raw.decode("latin-1"))


def dec_decimal_text(raw: bytes, what: str, pos: int) -> str:
    return f"invalid DECIMAL text {_text(raw)} for {what} at byte {pos}"


def dec_decimal_fit(raw: bytes, what: str, pos: int) -> str:
    return f"DECIMAL text {_text(raw)} does not fit {what} at byte {pos}"


def dec_date(days: int, what: str, pos: int) -> str:
    return f"{what} value of {days} days since 1970-01-01 is outside Python's date range at byte {pos}"


def dec_time(ms: int, what: str, pos: int) -> str:
    return f"{what} value of {ms} milliseconds is outside 0..86399999 at byte {pos}"


def dec_nanos(ns: int, what: str, pos: int) -> str:
    return f"{what} nanoseconds {ns} outside 0..999999 at byte {pos}"


def dec_timestamp(ms: int, what: str, pos: int) -> str:
    return f"{what} value of {ms} epoch milliseconds is outside Python's datetime range at byte {pos}"


def dec_map_key(what: str, pos: int) -> str:
    return f"a key of {what} decodes to an unhashable value at byte {pos}"


def dec_varint(pos: int) -> str:
    return f"truncated length prefix at byte {pos}"


def dec_varint_long(pos: int) -> str:
    return f"length prefix at byte {pos} is longer than 9 bytes"


def dec_row_length(n: int, pos: int, avail: int) -> str:
    return f"length {n} at byte {pos} exceeds the {avail} bytes left in the batch"


def dec_header(hdr: int, n: int, pos: int) -> str:
    return f"row of {n} bytes at byte {pos} cannot hold its {hdr}-byte header"


def dec_trailing(k: int, pos: int) -> str:
    return f"{k} unread bytes after the last field at byte {pos}"


def dec_no_marker(k: int, pos: int) -> str:
    return f"the batch ends at byte {pos} without the end marker after {k} result rows"
