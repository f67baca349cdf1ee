"""Vectorized Python functions: pandas and Arrow UDFs over Arrow batches.

A vectorized stage (``weir.v1.Stage.VECTORIZED``) gets each batch of input
rows as one Arrow IPC stream (a schema and one record batch, the input
columns ``f0, f1, ...``) and answers with one IPC stream of its outputs, one
column per output and as many rows (docs/WIRE_FORMAT.md). The input is read
without copying: the columns are views of the element's bytes, and pandas
gets numpy views of them where the type allows (numbers without NULLs).

Each call of the stage gets its arguments as its function asks:

- ``func_type="pandas"`` (as PyFlink): a ``pandas.Series`` per column, a
  ``pandas.DataFrame`` for a ROW column; it returns a Series (a DataFrame
  for a ROW result) of the batch's length.
- ``func_type="arrow"`` (as Spark's ``arrow_udf``): a ``pyarrow.Array`` per
  column; it returns a ``pyarrow.Array`` (or ChunkedArray) of the batch's
  length.

Constants are passed as plain Python values. Results are converted to the
Arrow type of their declared SQL type; a result of the wrong length or type
is a FunctionError that names the function and the type it declared.
"""

import traceback

import numpy as np
import pyarrow as pa

from weir import _functions
from weir._limits import CONTINUED, PART_BYTES
from weir.errors import FunctionError
from weir.types import (ArrayType, BigIntType, BinaryType, BooleanType, CharType, DateType, DecimalType,
                        DoubleType, FloatType, IntType, LocalZonedTimestampType, MapType, RowType,
                        SmallIntType, TimestampType, TimeType, TinyIntType, VarBinaryType, VarCharType,
                        parse_type)

ARROW_FUNCTION_URN = "weir:transform:arrow_function:v1"

# The func_type values of vectorized functions.
VECTORIZED_TYPES = ("pandas", "arrow")


def _unit(precision):
    if precision <= 3:
        return "ms"
    if precision <= 6:
        return "us"
    return "ns"


def arrow_type(t, names=False):
    """The Arrow type that carries values of SQL type ``t`` between the engine
    and the workers: the same as the engine's (internal/types T.Arrow).

    ROW fields are named ``f0, f1, ...`` on the wire; with ``names`` they get
    the ROW's field names, the type a function sees (the two share one
    layout, so a view turns one into the other without copying).
    """
    if isinstance(t, TinyIntType):
        return pa.int8()
    if isinstance(t, SmallIntType):
        return pa.int16()
    if isinstance(t, IntType):
        return pa.int32()
    if isinstance(t, BigIntType):
        return pa.int64()
    if isinstance(t, BooleanType):
        return pa.bool_()
    if isinstance(t, FloatType):
        return pa.float32()
    if isinstance(t, DoubleType):
        return pa.float64()
    if isinstance(t, DecimalType):
        return pa.decimal128(t.precision, t.scale)
    if isinstance(t, (CharType, VarCharType)):
        return pa.string()
    if isinstance(t, (BinaryType, VarBinaryType)):
        return pa.binary()
    if isinstance(t, DateType):
        return pa.date32()
    if isinstance(t, TimeType):
        return pa.time32("ms")
    if isinstance(t, LocalZonedTimestampType):
        return pa.timestamp(_unit(t.precision), tz="UTC")
    if isinstance(t, TimestampType):
        return pa.timestamp(_unit(t.precision))
    if isinstance(t, ArrayType):
        return pa.list_(pa.field("element", arrow_type(t.element_type, names)))
    if isinstance(t, MapType):
        return pa.map_(arrow_type(t.key_type, names), arrow_type(t.value_type, names))
    if isinstance(t, RowType):
        return pa.struct([pa.field(f.name if names else f"f{i}", arrow_type(f.data_type, names))
                          for i, f in enumerate(t.fields)])
    raise TypeError(f"no Arrow type for SQL type {t}")


def _has_row(t):
    if isinstance(t, RowType):
        return True
    if isinstance(t, ArrayType):
        return _has_row(t.element_type)
    if isinstance(t, MapType):
        return _has_row(t.key_type) or _has_row(t.value_type)
    return False


class _Type:
    """A SQL type with its Arrow types: on the wire, and as functions see it."""

    def __init__(self, text):
        self.text = text
        self.sql = parse_type(text)
        self.wire = arrow_type(self.sql)
        self.named = arrow_type(self.sql, names=True) if _has_row(self.sql) else self.wire
        # The numpy dtype of numbers, whose results take a shorter way back.
        self.numbers = np.dtype(self.wire.to_pandas_dtype()) if isinstance(self.sql, _NUMBERS) else None

    def to_named(self, arr):
        return arr if self.named is self.wire else arr.view(self.named)

    def to_wire(self, arr):
        return arr if self.named is self.wire else arr.view(self.wire)


def to_pandas(arr, t):
    """A column as a pandas UDF gets it, as PyFlink converts it: a Series, or
    for a ROW a DataFrame with one column per field.

    Unlike PyFlink, integers keep their values when some are NULL: a column
    of integers with NULLs is a Series of pandas' nullable integer dtype
    (``Int64``, ...; PyFlink gives float64, which rounds large values), and
    inside nested values such integers are Python ints.
    """
    import pandas as pd

    if isinstance(t, RowType):
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        cols = [_series(c, f.data_type) for c, f in zip(arr.flatten(), t.fields)]
        if not cols:
            return pd.DataFrame(index=pd.RangeIndex(len(arr)))
        return pd.DataFrame(dict(zip(range(len(cols)), cols))).set_axis([f.name for f in t.fields], axis=1)
    return _series(arr, t)


def _nullable_ints():
    import pandas as pd

    return {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
            pa.int64(): pd.Int64Dtype()}.get


_NUMBERS = (TinyIntType, SmallIntType, IntType, BigIntType, FloatType, DoubleType)


def _series(arr, t):
    if isinstance(t, _NUMBERS):
        if not arr.null_count:
            # A numpy view of the element's buffer (read-only, as pyarrow's
            # to_pandas gives it), without to_pandas' general machinery.
            return numbers_series(arr.to_numpy(zero_copy_only=True))
        if not isinstance(t, (FloatType, DoubleType)):
            return arr.to_pandas(types_mapper=_nullable_ints())
    return arr.to_pandas(date_as_object=True, integer_object_nulls=True)


class _ResultError(Exception):
    pass


def from_pandas(value, t, at, top=True):
    """The Arrow array of a pandas UDF's result ``value`` of SQL type ``t``
    (Arrow type ``at``, with field names). A ROW result is a DataFrame; a ROW
    field of it may be a DataFrame too, or a Series of dicts, tuples or Rows."""
    import numpy as np
    import pandas as pd

    if isinstance(t, RowType) and (top or isinstance(value, pd.DataFrame)):
        if not isinstance(value, pd.DataFrame):
            raise _ResultError(f"a ROW result must be a pandas.DataFrame with {len(t.fields)} columns, "
                               f"got {type(value).__name__}")
        if value.shape[1] != len(t.fields):
            raise _ResultError(f"the DataFrame has {value.shape[1]} columns, the ROW has {len(t.fields)} fields "
                               f"({', '.join(t.names)})")
        children = [from_pandas(value.iloc[:, i], f.data_type, at.field(i).type, False)
                    for i, f in enumerate(t.fields)]
        return pa.StructArray.from_arrays(children, fields=list(at))
    if isinstance(value, pd.DataFrame) and top:
        raise _ResultError(f"got a pandas.DataFrame for a result of type {t}: return a pandas.Series")
    if isinstance(value, (np.ndarray, list, pa.Array, pa.ChunkedArray)):
        value = pd.Series(value.to_pandas() if isinstance(value, (pa.Array, pa.ChunkedArray)) else value)
    if not isinstance(value, pd.Series):
        raise _ResultError(f"expected a pandas.Series, got {type(value).__name__} {_short(value)}")
    try:
        if isinstance(value.dtype, np.dtype) and value.dtype.kind in "iufb" and not pa.types.is_nested(at):
            # numpy numbers: converted from the array itself (NaN is NULL).
            return pa.Array.from_pandas(value.to_numpy(), type=at, safe=False)
        if isinstance(value.dtype, pd.DatetimeTZDtype):
            # As UTC wall time: what Arrow stores (and without pandas'
            # deprecated tz-dropping .values, which pyarrow would use).
            value = value.dt.tz_convert("UTC").dt.tz_localize(None)
        # In from_pandas mode NaN, NaT, None and pd.NA are NULL, as PyFlink's
        # mask=s.isnull() makes them, without computing the mask.
        arr = pa.Array.from_pandas(value, type=at, safe=False)
        if isinstance(arr, pa.ChunkedArray):
            # pandas' Arrow-backed strings convert to their chunks (none
            # when the Series is empty).
            arr = arr.combine_chunks()
        return arr
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as e:
        raise _ResultError(f"a Series of dtype {value.dtype} cannot be converted to {t}: {type(e).__name__}: {e}") from None


def numbers_from_pandas(value, t):
    """The Arrow array of a pandas UDF's result when it is a Series of
    exactly the numpy dtype of its declared number type t (a _Type), or None:
    integers are taken without a copy; floats as from_pandas takes them (NaN
    is NULL). The general from_pandas handles every other case the same."""
    pd = _pandas()
    if type(value) is not pd.Series or value.dtype != t.numbers:
        return None
    values = value.to_numpy()
    if values.dtype != t.numbers or values.ndim != 1:
        return None
    if t.numbers.kind == "f":
        return pa.Array.from_pandas(values, type=t.wire, safe=False)
    if not values.flags.c_contiguous:
        values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(t.wire, len(values), [None, pa.py_buffer(values)])


def numbers_series(values):
    """pandas.Series(values, index=RangeIndex(len(values)), copy=False) of a
    1-D numpy array of numbers: through pandas' own block manager, which
    skips the constructor's checks of its arguments (a third of a batch's
    cost for x + 1), where this pandas has it and builds the same Series;
    through the constructor otherwise (slow_numbers_series)."""
    global _fast_series
    if _fast_series is None:
        _fast_series = _check_fast_series()
    if _fast_series is False:
        return slow_numbers_series(values)
    from_array, from_mgr = _fast_series
    mgr = from_array(values, range_index(len(values)))
    series = from_mgr(mgr, axes=mgr.axes)
    series._name = None  # what the constructor sets besides
    return series


def slow_numbers_series(values):
    """numbers_series through pandas.Series' constructor."""
    return _pandas().Series(values, index=range_index(len(values)), copy=False)


_fast_series = None  # (SingleBlockManager.from_array, Series._from_mgr), or False


def _check_fast_series():
    """The block-manager way to a Series, if this pandas has it and it gives
    what the constructor gives (same values without a copy, dtype, index,
    name, flags); else False."""
    try:
        from pandas.core.internals.managers import SingleBlockManager

        pd = _pandas()
        from_array, from_mgr = SingleBlockManager.from_array, pd.Series._from_mgr
        values = np.arange(3, dtype=np.int32)
        values.flags.writeable = False
        mgr = from_array(values, range_index(3))
        fast, slow = from_mgr(mgr, axes=mgr.axes), slow_numbers_series(values)
        fast._name = None
        same = (type(fast) is type(slow) and fast.dtype == slow.dtype and fast.index.equals(slow.index)
                and fast.name is None and fast.attrs == slow.attrs
                and fast.flags.allows_duplicate_labels == slow.flags.allows_duplicate_labels
                and np.shares_memory(fast.to_numpy(), values) and fast.equals(slow))
        return (from_array, from_mgr) if same else False
    except Exception:  # another pandas: the constructor it is
        return False


_pd = None
_ranges = {}  # length -> a RangeIndex(length), shared by the Series of batches of that length


def range_index(n):
    """pandas.RangeIndex(n), made once per length: building one took as long
    as the rest of a Series. An index is immutable but for its name, so one
    whose name a function has set is not reused."""
    idx = _ranges.get(n)
    if idx is None or idx.name is not None:
        if len(_ranges) >= 8:
            _ranges.clear()
        idx = _ranges[n] = _pandas().RangeIndex(n)
    return idx


def _pandas():
    global _pd
    if _pd is None:
        import pandas

        _pd = pandas
    return _pd


def from_arrow(value, t, at):
    """The Arrow array of an Arrow UDF's result ``value`` (Arrow type ``at``,
    with field names)."""
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks() if value.num_chunks != 1 else value.chunk(0)
    if not isinstance(value, pa.Array):
        raise _ResultError(f"expected a pyarrow.Array, got {type(value).__name__} {_short(value)}")
    if value.type != at:
        # Arrow casts structs by field name, filling a missing field with
        # NULLs and dropping an extra one: a result whose ROW fields are
        # named otherwise would lose its values silently.
        where = _struct_mismatch(value.type, at)
        if where:
            raise _ResultError(f"an array of Arrow type {value.type} does not have the fields of {t}: {where}")
        try:
            value = value.cast(at)
        except (pa.ArrowException, TypeError, ValueError) as e:
            raise _ResultError(f"an array of Arrow type {value.type} cannot be cast to {at} ({t}): "
                               f"{type(e).__name__}: {e}") from None
    return value


def _struct_mismatch(src, dst, path="value"):
    """Where the struct fields of Arrow type src (inside lists and maps too)
    are not named as dst's, or ''."""
    if pa.types.is_struct(src) and pa.types.is_struct(dst):
        have = [src.field(i).name for i in range(src.num_fields)]
        want = [dst.field(i).name for i in range(dst.num_fields)]
        if sorted(have) != sorted(want):
            return f"{path} has fields ({', '.join(have)}) where the ROW has ({', '.join(want)})"
        for i in range(dst.num_fields):
            f = dst.field(i)
            w = _struct_mismatch(src.field(src.get_field_index(f.name)).type, f.type, f"{path}.{f.name}")
            if w:
                return w
        return ""
    if pa.types.is_map(src) and pa.types.is_map(dst):
        return (_struct_mismatch(src.key_type, dst.key_type, f"{path} key")
                or _struct_mismatch(src.item_type, dst.item_type, f"{path} value"))
    lists = (pa.types.is_list, pa.types.is_large_list)
    if any(f(src) for f in lists) and any(f(dst) for f in lists):
        return _struct_mismatch(src.value_type, dst.value_type, f"{path}[]")
    return ""


def _null_where_not_null(arr, t, path=""):
    """Where arr has a NULL that its type (or a ROW field's) forbids, or ''."""
    if not t.nullable and arr.null_count:
        return f"{path or 'value'} at row {arr.is_null().index(True).as_py() + 1} of the batch"
    if isinstance(t, RowType):
        for i, f in enumerate(t.fields):
            child = arr.field(i)
            if not f.data_type.nullable and arr.null_count:
                # Only NULLs in rows that are present count.
                child = child.filter(arr.is_valid())
            w = _null_where_not_null(child, f.data_type, f"{path or 'value'}.{f.name}")
            if w:
                return w
    return ""


def _short(v, limit=80):
    text = repr(v)
    return text if len(text) <= limit else text[:limit] + "..."


class _Node:
    """A compiled expression of the stage: a column, a constant or a call."""

    __slots__ = ("kind", "index", "value", "type", "fn", "proto", "args", "key", "func_type")


_malloc_tuned = False


def _keep_freed_memory():
    """Let glibc's malloc keep freed memory for reuse instead of giving it
    back to the kernel at once.

    A vectorized stage allocates and frees buffers of megabytes per element
    (the element's bytes, numpy results, the answer). By default glibc
    returns such blocks to the kernel when they are freed (mmap, or a
    trimmed heap), so each new one is faulted in again page by page: that
    took as long as the function's own work. Keeping up to 64 MiB free in
    the heap makes the next element reuse the same pages. Elsewhere than
    glibc this does nothing. Returns whether the settings took (None when
    already done).
    """
    global _malloc_tuned
    if _malloc_tuned:
        return None
    _malloc_tuned = True
    try:
        import ctypes

        # The process's own symbols, libc's among them: ctypes.util's
        # find_library would run ldconfig in a subprocess (~10 ms) as the
        # first batch waits.
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    return mallopt(m_mmap_threshold, 32 << 20) == 1 and mallopt(m_trim_threshold, 64 << 20) == 1


class VectorizedOperation:
    """Each input element, Arrow batches, gives one Arrow batch of outputs
    per input batch."""

    def __init__(self, stage):
        _keep_freed_memory()
        self.stage = stage
        self.rows_done = 0  # input rows processed, read by the engine's progress checks
        self.part_bytes = PART_BYTES  # results are sent in parts of about this size
        self.input_types = [_Type(t) for t in stage.input_types]
        self.output_types = [_Type(o.type) for o in stage.outputs]
        self.schema = pa.schema([pa.field(f"f{i}", t.wire) for i, t in enumerate(self.output_types)])
        self._schema_bytes = None
        self.wrappers = [_functions.open_function(f, stage.job_parameters) for f in stage.functions]
        self.evaluators = [w.evaluator() for w in self.wrappers]
        self.outputs = [self._compile(e) for e in stage.outputs]

    def _compile(self, e):
        n = _Node()
        n.kind = e.WhichOneof("kind")
        n.type = _Type(e.type) if n.kind != "column" else self.input_types[e.column]
        n.key = None
        if n.kind == "column":
            n.index = e.column
            n.key = f"${e.column}"
        elif n.kind == "constant":
            n.value = _functions.decode_constant(e)
        else:
            n.index = e.call.function
            n.proto = self.stage.functions[n.index]
            n.fn = self.evaluators[n.index]
            n.func_type = n.proto.func_type or getattr(self.wrappers[n.index], "func_type", "general")
            if n.func_type not in VECTORIZED_TYPES:
                raise FunctionError(
                    f"Python function {n.proto.name!r} ({n.proto.module}.{n.proto.attr}) has func_type "
                    f"{n.func_type!r}; a vectorized stage runs only 'pandas' and 'arrow' functions")
            n.args = [self._compile(a) for a in e.call.args]
            if n.proto.deterministic and all(a.key is not None for a in n.args):
                n.key = f"{n.index}(" + ",".join(a.key for a in n.args) + ")"
        return n

    def process(self, data, emit=None):
        """The answer to one element: its record batches, each one call of
        the stage's functions (a batch of at most
        python.fn-execution.arrow.batch.size rows), answered by as many
        result batches in one IPC stream, or in several (parts) when they are
        over part_bytes and emit is given."""
        if emit is None:
            return self._stream(self._results(data))
        parts = self.process_parts(data)
        for part in parts[:-1]:
            emit(CONTINUED + self._stream(part))
        return self._stream(parts[-1])

    def process_parts(self, data):
        """The answer to one element as lists of result batches, one list per
        part (an IPC stream of its own, every one but the last sent with the
        CONTINUED prefix). data is bytes or a memoryview: the input batches
        are read in place."""
        return self._parts(self._results(data))

    def results(self, data):
        """The result batches of one element's input batches (data: bytes or
        a memoryview), one per input batch, in order."""
        return self._results(data)

    def parts(self, results):
        """results (from results()) grouped into the parts of an answer, as
        process_parts groups them."""
        return self._parts(results)

    def _results(self, data):
        results = []
        for batch in pa.ipc.open_stream(pa.py_buffer(data)):
            results.append(self._batch(batch))
            self.rows_done += batch.num_rows
        return results

    def schema_bytes(self):
        """The serialized schema of the answers (the start of each stream)."""
        if self._schema_bytes is None:
            self._schema_bytes = self.schema.serialize().to_pybytes()
        return self._schema_bytes

    def _batch(self, batch):
        """The result batch of one input batch."""
        rows = batch.num_rows
        memo = {}  # the Arrow array of each deterministic call and column
        pandas_memo = {}  # their pandas forms
        outs = []
        for node in self.outputs:
            arr = self._arrow(node, batch, rows, memo, pandas_memo)
            if arr is None:  # a constant output
                arr = pa.array([node.value] * rows, type=node.type.named)
            outs.append(node.type.to_wire(arr))
        return pa.RecordBatch.from_arrays(outs, schema=self.schema)

    def _parts(self, results):
        """results grouped into parts of about part_bytes each (a batch
        larger than that is sliced), in order; at least one part."""
        parts, cur, size = [], [], 0
        for r in results:
            rows, nbytes = r.num_rows, r.nbytes
            step = max(rows, 1)
            if rows > 1 and nbytes > self.part_bytes:
                step = max(1, rows * self.part_bytes // nbytes)
            for start in range(0, max(rows, 1), step):
                piece = r if step >= rows else r.slice(start, step)
                pbytes = nbytes * piece.num_rows // max(rows, 1)
                if cur and size + pbytes > self.part_bytes:
                    parts.append(cur)
                    cur, size = [], 0
                cur.append(piece)
                size += pbytes
        parts.append(cur)
        return parts

    def _stream(self, batches):
        """An IPC stream of batches: the schema (serialized once), the
        batches, the end-of-stream marker, joined in one copy."""
        return b"".join([self.schema_bytes(), *(b.serialize() for b in batches), _EOS])

    def _arrow(self, node, batch, rows, memo, pandas_memo):
        """The value of node as an Arrow array (with ROW field names), or None
        for a constant."""
        if node.kind == "constant":
            return None
        if node.key is not None and node.key in memo:
            return memo[node.key]
        if node.kind == "column":
            arr = node.type.to_named(batch.column(node.index))
        else:
            arr = self._call(node, batch, rows, memo, pandas_memo)
        if node.key is not None:
            memo[node.key] = arr
        return arr

    def _call(self, node, batch, rows, memo, pandas_memo):
        args = []
        for a in node.args:
            arr = self._arrow(a, batch, rows, memo, pandas_memo)
            if arr is None:
                args.append(a.value)
            elif node.func_type == "pandas":
                s = pandas_memo.get(a.key) if a.key is not None else None
                if s is None:
                    s = to_pandas(arr, a.type.sql)
                    if a.key is not None:
                        pandas_memo[a.key] = s
                args.append(s)
            else:
                args.append(arr)
        try:
            value = node.fn(*args)
        except Exception as e:
            raise self._raised(node, args, rows, e) from None
        t = node.type
        try:
            if node.func_type == "pandas":
                arr = numbers_from_pandas(value, t) if t.numbers is not None else None
                if arr is None:
                    arr = from_pandas(value, t.sql, t.named)
            else:
                arr = from_arrow(value, t.sql, t.named)
        except _ResultError as e:
            raise self._wrong(node, rows, str(e)) from None
        if len(arr) != rows:
            raise self._wrong(node, rows, f"it returned {len(arr)} values for the batch's {rows} rows; "
                                          f"a {node.func_type} function returns one value per input row")
        where = _null_where_not_null(arr, t.sql)
        if where:
            raise self._wrong(node, rows, f"it returned NULL ({where}) where the type is NOT NULL")
        return arr

    def _who(self, node):
        p = node.proto
        return f"Python {node.func_type} function {p.name!r} ({p.module}.{p.attr})"

    def _wrong(self, node, rows, what):
        return FunctionError(
            f"{self._who(node)} returned a result that does not fit its declared result type {node.type.text}: "
            f"{what}\n  batch: {rows} rows of stage {self.stage.name}")

    def _raised(self, node, args, rows, err):
        frames = traceback.extract_tb(err.__traceback__)[1:]
        tb = ("Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
              + "".join(traceback.format_exception_only(type(err), err)))
        shown = ", ".join(_describe_arg(a) for a in args)
        return FunctionError(
            f"{self._who(node)} raised {type(err).__name__}: {err}\n"
            f"  arguments: ({shown})\n"
            f"  batch: {rows} rows of stage {self.stage.name}\n"
            f"Python traceback:\n{tb}")


def _describe_arg(a):
    import pandas as pd

    if isinstance(a, pd.DataFrame):
        return f"DataFrame[{', '.join(map(str, a.columns))}] of {len(a)} rows, first {_short(a.head(3).to_dict('records'))}"
    if isinstance(a, pd.Series):
        return f"Series[{a.dtype}] of {len(a)} rows, first {_short(a.head(3).tolist())}"
    if isinstance(a, (pa.Array, pa.ChunkedArray)):
        return f"{type(a).__name__}[{a.type}] of {len(a)} rows, first {_short(a.slice(0, 3).to_pylist())}"
    return _short(a)


# The end of an IPC stream: the continuation marker and a zero length.
_EOS = b"\xff\xff\xff\xff\x00\x00\x00\x00"


def _ipc(batch):
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as w:
        w.write_batch(batch)
    return sink.getvalue().to_pybytes()
