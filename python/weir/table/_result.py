"""TableResult: the outcome of execute_sql and Table.execute."""

import datetime
import decimal
import unicodedata
from enum import Enum

import pyarrow as pa
import pyarrow.compute as pc

from weir.row import RowKind, _make_row
from weir.types import (ArrayType, BinaryType, LocalZonedTimestampType, MapType, RowType, TimestampType, TimeType,
                        VarBinaryType, parse_type)

__all__ = ["TableResult", "ResultKind", "TableSchema", "CloseableIterator"]


class ResultKind(Enum):
    SUCCESS = 0
    SUCCESS_WITH_CONTENT = 1


class TableSchema:
    """Column names and types of a table or result."""

    def __init__(self, names, types):
        self._names = list(names)
        self._types = list(types)

    def get_field_names(self):
        return list(self._names)

    def get_field_data_types(self):
        return list(self._types)

    def get_field_count(self):
        return len(self._names)

    def get_field_data_type(self, field):
        if isinstance(field, int):
            return self._types[field]
        return self._types[self._names.index(field)]

    def __str__(self):
        return "root\n" + "".join(f" |-- {n}: {t}\n" for n, t in zip(self._names, self._types))

    __repr__ = __str__

    def _resolved(self):
        """The schema as Flink's ResolvedSchema prints it (Table.print_schema)."""
        lines = ",\n".join(f"  `{n}` {t}" for n, t in zip(self._names, self._types))
        return "(\n" + lines + "\n)"

    @classmethod
    def _of(cls, columns):
        return cls([c["name"] for c in columns], [parse_type(c["type"]) for c in columns])


class CloseableIterator:
    """An iterator of a result's rows that is also a context manager;
    closing it before the end cancels the job."""

    def __init__(self, rows, close=None):
        self._it = iter(rows)
        self._close = close

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)

    def close(self):
        self._it = iter(())
        if self._close is not None:
            close, self._close = self._close, None
            close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


_KINDS = [RowKind.INSERT, RowKind.UPDATE_BEFORE, RowKind.UPDATE_AFTER, RowKind.DELETE]


class TableResult:
    """The result of a statement: for a query its rows (``collect``,
    ``print``), for others "OK" or the rows affected. A query's rows are
    fetched from the engine as the job makes them, while ``collect()`` is
    iterated; ``wait`` waits for the job to finish (keeping its rows)."""

    def __init__(self, schema, arrow_table=None, rows=None, kind=ResultKind.SUCCESS_WITH_CONTENT,
                 streaming=False, insert=False, stream=None, row_kind=False, zone=None):
        self._insert = insert
        self._zone = zone  # () -> the session's table.local-time-zone, for print
        self._schema = schema
        self._arrow = arrow_table
        self._rows = rows
        self._kind = kind
        self._streaming = streaming
        self._stream = stream
        self._row_kind = row_kind
        self._fetched = []  # Arrow tables read from the stream by wait()

    def get_table_schema(self):
        return self._schema

    def get_resolved_schema(self):
        return self._schema

    def get_result_kind(self):
        return self._kind

    def get_job_client(self):
        return None

    def wait(self, timeout_ms=None):
        """Wait until the statement's job has finished; its rows are kept
        for collect and print."""
        if self._stream is not None:
            with _ends_session_when_interrupted(self._stream):
                while True:
                    t = self._next_table()
                    if t is None:
                        break
                    self._fetched.append(t)
            self._stream = None
        return None

    def _next_table(self):
        from weir.table import _arrow
        while True:
            body = self._stream.next_body()
            if body is None:
                return None
            t = _arrow.from_ipc(body)
            if t is not None and t.num_rows:
                return t

    def _tables(self):
        """The result's Arrow tables, as they come."""
        while self._fetched:
            yield self._fetched.pop(0)
        if self._arrow is not None:
            t, self._arrow = self._arrow, None
            yield t
        while self._stream is not None:
            with _ends_session_when_interrupted(self._stream):
                t = self._next_table()
            if t is None:
                self._stream = None
                return
            yield t

    def _rows_of(self, table, nanos=False):
        """[(kind, values)] of an Arrow table of results; with nanos,
        nanosecond timestamps stay pandas Timestamps (for print)."""
        kinds = None
        cols = []
        columns = table.columns
        if self._row_kind:
            kinds = columns[0].to_pylist()
            columns = columns[1:]
        for c, t in zip(columns, self._schema.get_field_data_types()):
            c = _as_pyflink(c, nanos)
            vals = c.to_pylist()
            if _nested(t):
                vals = [_python(v, t) for v in vals]
            elif isinstance(t, _BINARY):
                vals = list(map(bytearray, vals)) if not c.null_count else \
                    [v if v is None else bytearray(v) for v in vals]
            cols.append(vals)
        n = table.num_rows
        values = [list(v) for v in zip(*cols)] if cols else [[] for _ in range(n)]
        if kinds is None:
            return [(RowKind.INSERT, v) for v in values]
        return [(_KINDS[k], v) for k, v in zip(kinds, values)]

    def _all(self, nanos=False):
        if self._rows is not None:
            return [(RowKind.INSERT, list(r)) for r in self._rows]
        out = []
        for t in self._tables():
            out += self._rows_of(t, nanos)
        self._rows_done = out
        return out

    def _values(self):
        return [v for _, v in self._all()]

    def collect(self):
        """The rows, as an iterator that is also a context manager; rows
        come as the job makes them."""
        if self._rows is not None:
            return CloseableIterator(_make_row(list(r), None, RowKind.INSERT) for r in self._rows)

        def rows():
            for t in self._tables():
                for kind, v in self._rows_of(t):
                    # As PyFlink's, the rows carry no field names.
                    yield _make_row(v, None, kind)

        return CloseableIterator(rows(), close=self._cancel)

    def _cancel(self):
        st, self._stream = self._stream, None
        if st is not None:
            st.cancel()

    def print(self):
        """Print the rows in Flink's tableau format."""
        print(self._tableau(), flush=True)

    def _tableau(self):
        if self._kind == ResultKind.SUCCESS:
            return "OK"
        if self._insert:
            # Flink prints the affected rows of an INSERT, unknown: -1.
            return "\n".join(" ".join(str(v) for v in r) for r in self._values())
        names = self._schema.get_field_names()
        types = self._schema.get_field_data_types()
        all_rows = self._all(nanos=True)
        zone = None
        if self._rows is None and any(_has(t, LocalZonedTimestampType) for t in types):
            zone = _zone(self._zone() if self._zone else "default")
        rows = [[_show(v, t, zone) for v, t in zip(r, types)] for _, r in all_rows]
        if self._streaming and self._kind == ResultKind.SUCCESS_WITH_CONTENT and self._rows is None:
            names = ["op"] + names
            types = [None] + types
            rows = [[kind.short_string() if hasattr(kind, "short_string") else str(kind)] + r
                    for (kind, _), r in zip(all_rows, rows)]
        widths = [_width(n, t) for n, t in zip(names, types)]
        sep = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        out = [sep, "|" + "|".join(" " + _fit(n, w) + " " for n, w in zip(names, widths)) + "|", sep]
        if not rows:
            return "Empty set"
        for r in rows:
            out.append("|" + "|".join(" " + _fit(v, w) + " " for v, w in zip(r, widths)) + "|")
        out.append(sep)
        out.append(f"{len(rows)} row in set" if len(rows) == 1 else f"{len(rows)} rows in set")
        return "\n".join(out)


def _as_pyflink(col, nanos=False):
    """A result column (pyarrow ChunkedArray) in the form whose Python
    values are PyFlink's, vectorized, or col itself when it already is:
    a FLOAT (float32) becomes the double of its shortest decimal form, as
    PyFlink reads Java's Float.toString (5.3333335, not the float32's exact
    5.333333492279053), and a nanosecond timestamp one of microseconds
    (datetime, not pandas.Timestamp); nested ones too."""
    if not _needs_change(col.type, nanos):
        return col
    return pa.chunked_array([_pyflink_chunk(a, nanos) for a in col.chunks], type=_pyflink_type(col.type, nanos))


def _needs_change(at, nanos=False):
    if pa.types.is_float32(at):
        return True
    if pa.types.is_timestamp(at) and at.unit == "ns":
        return not nanos
    if pa.types.is_map(at):
        return _needs_change(at.key_type, nanos) or _needs_change(at.item_type, nanos)
    if pa.types.is_list(at):
        return _needs_change(at.value_type, nanos)
    if pa.types.is_struct(at):
        return any(_needs_change(f.type, nanos) for f in at)
    return False


def _pyflink_type(at, nanos=False):
    if pa.types.is_float32(at):
        return pa.float64()
    if pa.types.is_timestamp(at) and at.unit == "ns" and not nanos:
        return pa.timestamp("us", tz=at.tz)
    if pa.types.is_map(at):
        return pa.map_(_pyflink_type(at.key_type, nanos), _pyflink_type(at.item_type, nanos))
    if pa.types.is_list(at):
        return pa.list_(at.value_field.with_type(_pyflink_type(at.value_type, nanos)))
    if pa.types.is_struct(at):
        return pa.struct([f.with_type(_pyflink_type(f.type, nanos)) for f in at])
    return at


def _pyflink_chunk(a, nanos=False):
    at = a.type
    if not _needs_change(at, nanos):
        return a
    if pa.types.is_float32(at):
        # Arrow writes a float32 in its shortest decimal form (as Java's
        # Float.toString) and reads that back as a double, correctly rounded.
        return a.cast(pa.string()).cast(pa.float64())
    if pa.types.is_timestamp(at):
        # Nanoseconds (TIMESTAMP(7..9)) would come as pandas Timestamps: a
        # datetime, floored to its microsecond, as other precisions give.
        return pc.floor_temporal(a, 1, "microsecond").cast(_pyflink_type(at), safe=False)
    mask = a.is_null() if a.null_count else None
    if pa.types.is_list(at) or pa.types.is_map(at):
        # A list's or map's offsets index its whole child, not sliced with
        # it; from_arrays takes nulls with offsets from 0 only.
        offsets = a.offsets
        first, end = offsets[0].as_py(), offsets[-1].as_py()
        if first:
            offsets = pc.subtract(offsets, pa.scalar(first, pa.int32()))
        part = (lambda child: child.slice(first, end - first))
        if pa.types.is_map(at):
            return pa.MapArray.from_arrays(offsets, _pyflink_chunk(part(a.keys), nanos),
                                           _pyflink_chunk(part(a.items), nanos), type=_pyflink_type(at, nanos),
                                           mask=mask)
        return pa.ListArray.from_arrays(offsets, _pyflink_chunk(part(a.values), nanos),
                                        type=_pyflink_type(at, nanos), mask=mask)
    return pa.StructArray.from_arrays([_pyflink_chunk(a.field(i), nanos) for i in range(at.num_fields)],
                                      fields=list(_pyflink_type(at, nanos)), mask=mask)


# PyFlink gives BINARY, VARBINARY and BYTES values as bytearray.
_BINARY = (BinaryType, VarBinaryType)


def _pandas_ready(table, types):
    """The Arrow table of a result as PyFlink's to_pandas frames it: ROW
    fields by their names (the engine's layout names them f0, f1, ...) and
    TIMESTAMP(0)/TIMESTAMP_LTZ(0) in seconds (datetime64[s])."""
    cols, names = [], table.column_names
    for c, t in zip(table.columns, types):
        if _has(t, RowType) or _has_seconds(t):
            c = pa.chunked_array([_framed(a, t) for a in c.chunks], type=_framed_type(c.type, t))
        cols.append(c)
    return pa.table(cols, names=names)


def _has_seconds(t):
    if isinstance(t, (TimestampType, LocalZonedTimestampType)):
        return t.precision == 0
    if isinstance(t, ArrayType):
        return _has_seconds(t.element_type)
    if isinstance(t, MapType):
        return _has_seconds(t.key_type) or _has_seconds(t.value_type)
    if isinstance(t, RowType):
        return any(_has_seconds(f.data_type) for f in t.fields)
    return False


def _framed_type(at, t):
    if isinstance(t, (TimestampType, LocalZonedTimestampType)) and t.precision == 0:
        return pa.timestamp("s", tz=at.tz)
    if isinstance(t, ArrayType):
        return pa.list_(at.value_field.with_type(_framed_type(at.value_type, t.element_type)))
    if isinstance(t, MapType):
        return pa.map_(_framed_type(at.key_type, t.key_type), _framed_type(at.item_type, t.value_type))
    if isinstance(t, RowType):
        return pa.struct([pa.field(f.name, _framed_type(af.type, f.data_type), af.nullable)
                          for af, f in zip(at, t.fields)])
    return at


def _framed(a, t):
    at = a.type
    if isinstance(t, (TimestampType, LocalZonedTimestampType)):
        return a.cast(_framed_type(at, t), safe=False) if t.precision == 0 else a
    if not isinstance(t, (ArrayType, MapType, RowType)):
        return a
    mask = a.is_null() if a.null_count else None
    if isinstance(t, RowType):
        return pa.StructArray.from_arrays([_framed(a.field(i), f.data_type) for i, f in enumerate(t.fields)],
                                          fields=list(_framed_type(at, t)), mask=mask)
    offsets = a.offsets
    first, end = offsets[0].as_py(), offsets[-1].as_py()
    if first:
        offsets = pc.subtract(offsets, pa.scalar(first, pa.int32()))
    if isinstance(t, MapType):
        return pa.MapArray.from_arrays(offsets, _framed(a.keys.slice(first, end - first), t.key_type),
                                       _framed(a.items.slice(first, end - first), t.value_type),
                                       type=_framed_type(at, t), mask=mask)
    return pa.ListArray.from_arrays(offsets, _framed(a.values.slice(first, end - first), t.element_type),
                                    type=_framed_type(at, t), mask=mask)


def _nested(t):
    return isinstance(t, (RowType, MapType, ArrayType))


def _python(v, t):
    """A value as PyFlink gives it: a ROW as a Row (without names), a MAP
    as a dict (Arrow gives dicts of f0, f1, ... and lists of pairs), bytes
    as a bytearray."""
    if v is None:
        return None
    if isinstance(t, RowType):
        return _make_row([_python(v[f"f{i}"], f.data_type) for i, f in enumerate(t.fields)])
    if isinstance(t, MapType):
        return {_python(k, t.key_type): _python(x, t.value_type) for k, x in v}
    if isinstance(t, ArrayType):
        return [_python(x, t.element_type) for x in v]
    if isinstance(t, _BINARY):
        return bytearray(v)
    return v


# Column widths by type, as Flink's tableau sizes them: the widest value
# of the type, at most 30 (strings of any length: 30), at least the name
# and "<NULL>" when nullable.
_MAX_WIDTH = 30
_FIXED = {"BOOLEAN": 5, "TINYINT": 4, "SMALLINT": 6, "INT": 11, "BIGINT": 20, "DATE": 10}


def _width(name, t):
    if t is None:
        return max(len(name), 2)
    body = str(t.with_nullable(True)) if hasattr(t, "with_nullable") else str(t)
    w = _FIXED.get(body)
    if w is None:
        kind = body.split("(")[0]
        p = getattr(t, "precision", None)
        if kind == "DECIMAL":
            w = t.precision + 2  # sign and point
        elif kind == "TIME":
            w = 8 + (p + 1 if p else 0)
        elif kind in ("TIMESTAMP", "TIMESTAMP_LTZ"):
            w = 19 + (p + 1 if p else 0)
        else:
            w = _MAX_WIDTH
    w = max(w, len(name))
    if getattr(t, "nullable", True):
        w = max(w, len("<NULL>"))
    return w


def _fit(s, w):
    if s.isascii():
        if len(s) > w:
            return s[: w - 3] + "..."
        return s.rjust(w)
    # East Asian wide and full-width characters take two columns, as Flink counts them.
    widths = [2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s]
    if sum(widths) > w:
        n = used = 0
        while used + widths[n] <= w - 3:
            used += widths[n]
            n += 1
        return " " * (w - 3 - used) + s[:n] + "..."
    return " " * (w - sum(widths)) + s


def _show(v, t=None, zone=None, top=True):
    """A value as Flink's tableau prints it (its SQL CAST to STRING): NULL
    as <NULL> (NULL inside a value), strings bare inside ARRAY [a, b], MAP
    {k=v} and ROW (a, b), times and timestamps with their precision's
    digits, TIMESTAMP_LTZ in the session's time zone."""
    if v is None:
        return "<NULL>" if top else "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return _java_float(v)
    if isinstance(t, TimeType):
        return _fraction(v.strftime("%H:%M:%S"), v.microsecond * 1000, t.precision)
    if isinstance(t, (TimestampType, LocalZonedTimestampType)):
        if isinstance(t, LocalZonedTimestampType) and zone is not None:
            v = v.astimezone(zone)
        ns = v.microsecond * 1000 + getattr(v, "nanosecond", 0)
        return _fraction(v.strftime("%Y-%m-%d %H:%M:%S"), ns, t.precision)
    if isinstance(v, datetime.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return "x'" + bytes(v).hex() + "'"
    if isinstance(t, MapType):
        return "{" + ", ".join(f"{_show(k, t.key_type, zone, False)}={_show(x, t.value_type, zone, False)}"
                               for k, x in v.items()) + "}"
    if isinstance(t, RowType):
        return "(" + ", ".join(_show(x, f.data_type, zone, False) for x, f in zip(v, t.fields)) + ")"
    if isinstance(v, list):
        e = t.element_type if isinstance(t, ArrayType) else None
        return "[" + ", ".join(_show(x, e, zone, False) for x in v) + "]"
    return str(v)


def _fraction(text, ns, precision):
    return text + "." + f"{ns:09d}"[:precision] if precision else text


def _has(t, kind):
    """Whether type t is or holds a kind."""
    if isinstance(t, kind):
        return True
    if isinstance(t, ArrayType):
        return _has(t.element_type, kind)
    if isinstance(t, MapType):
        return _has(t.key_type, kind) or _has(t.value_type, kind)
    if isinstance(t, RowType):
        return any(_has(f.data_type, kind) for f in t.fields)
    return False


def _zone(name):
    """The tzinfo of a table.local-time-zone value: a TZDB name, UTC,
    GMT+08:00, or default (the system's zone)."""
    import re
    import zoneinfo

    if not name or name == "default":
        return datetime.datetime.now().astimezone().tzinfo
    m = re.fullmatch(r"(?:GMT|UTC)([+-])(\d{1,2})(?::?(\d{2}))?", name)
    if m:
        d = datetime.timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
        return datetime.timezone(d if m.group(1) == "+" else -d)
    return zoneinfo.ZoneInfo(name)


def _java_float(v):
    """A FLOAT or DOUBLE as Flink prints it (Java's Double.toString, of
    the shortest decimal form): 0.001 <= |v| < 10^7 positional with at
    least one decimal (100.0, 0.25), others as d.dddE<n> (1.0E-7,
    1.23456789E7); NaN, Infinity, -Infinity."""
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "Infinity" if v > 0 else "-Infinity"
    r = repr(v)
    if 1e-3 <= abs(v) < 1e7 or v == 0:
        return r  # repr is positional in this range, with a decimal
    sign, digits, exp = decimal.Decimal(r).as_tuple()
    d = "".join(map(str, digits))
    e = exp + len(d) - 1
    d = d.rstrip("0") or "0"
    return ("-" if sign else "") + d[0] + "." + (d[1:] or "0") + "E" + str(e)


class _ends_session_when_interrupted:
    """Ctrl-C (or SystemExit) while a result's rows are read or decoded,
    outside the gateway's own exchange, ends the session as an interrupted
    request does: the engine cancels the job, so that no later request
    waits behind the rest of a job nobody reads."""

    def __init__(self, stream):
        self._stream = stream

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        if kind is not None and not issubclass(kind, Exception):
            self._stream.end_session()
        return False
