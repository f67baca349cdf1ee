"""weir's SQL types as Arrow types, and Python values in and out of Arrow.

The engine keeps each SQL type in one Arrow layout (internal/types:
T.Arrow); tables sent to it are cast to that layout first.
"""

import datetime
import decimal

import pyarrow as pa

from weir import types as T


def arrow_type(t):
    """The Arrow type the engine uses for DataType t."""
    if isinstance(t, T.TinyIntType):
        return pa.int8()
    if isinstance(t, T.SmallIntType):
        return pa.int16()
    if isinstance(t, T.IntType):
        return pa.int32()
    if isinstance(t, T.BigIntType):
        return pa.int64()
    if isinstance(t, T.BooleanType):
        return pa.bool_()
    if isinstance(t, T.FloatType):
        return pa.float32()
    if isinstance(t, T.DoubleType):
        return pa.float64()
    if isinstance(t, T.DecimalType):
        return pa.decimal128(t.precision, t.scale)
    if isinstance(t, (T.CharType, T.VarCharType)):
        return pa.string()
    if isinstance(t, (T.BinaryType, T.VarBinaryType)):
        return pa.binary()
    if isinstance(t, T.DateType):
        return pa.date32()
    if isinstance(t, T.TimeType):
        return pa.time32("ms")
    if isinstance(t, (T.TimestampType, T.LocalZonedTimestampType)):
        p = t.precision
        unit = "ms" if p <= 3 else "us" if p <= 6 else "ns"
        return pa.timestamp(unit, tz="UTC" if isinstance(t, T.LocalZonedTimestampType) else None)
    if isinstance(t, T.ArrayType):
        return pa.list_(pa.field("element", arrow_type(t.element_type)))
    if isinstance(t, T.MapType):
        return pa.map_(arrow_type(t.key_type), arrow_type(t.value_type))
    if isinstance(t, T.RowType):
        return pa.struct([pa.field(f"f{i}", arrow_type(f.data_type)) for i, f in enumerate(t.fields)])
    raise TypeError(f"weir cannot send values of type {t} yet")


def type_of_arrow(at):
    """The DataType of an Arrow type, as PyFlink's from_pandas maps them."""
    if pa.types.is_int8(at):
        return T.DataTypes.TINYINT()
    if pa.types.is_int16(at):
        return T.DataTypes.SMALLINT()
    if pa.types.is_int32(at):
        return T.DataTypes.INT()
    if pa.types.is_int64(at):
        return T.DataTypes.BIGINT()
    if pa.types.is_boolean(at):
        return T.DataTypes.BOOLEAN()
    if pa.types.is_float32(at):
        return T.DataTypes.FLOAT()
    if pa.types.is_float64(at):
        return T.DataTypes.DOUBLE()
    if pa.types.is_decimal(at):
        return T.DataTypes.DECIMAL(at.precision, at.scale)
    if pa.types.is_string(at) or pa.types.is_large_string(at) or pa.types.is_string_view(at):
        return T.DataTypes.STRING()
    if pa.types.is_binary(at) or pa.types.is_large_binary(at):
        return T.DataTypes.BYTES()
    if pa.types.is_date(at):
        return T.DataTypes.DATE()
    if pa.types.is_timestamp(at):
        p = {"s": 0, "ms": 3, "us": 6, "ns": 9}[at.unit]
        return T.DataTypes.TIMESTAMP_LTZ(p) if at.tz else T.DataTypes.TIMESTAMP(p)
    if pa.types.is_list(at) or pa.types.is_large_list(at):
        return T.DataTypes.ARRAY(type_of_arrow(at.value_type))
    if pa.types.is_map(at):
        return T.DataTypes.MAP(type_of_arrow(at.key_type), type_of_arrow(at.item_type))
    raise TypeError(f"weir cannot read Arrow type {at} yet")


def type_of_value(v):
    """The DataType PyFlink infers for a Python value in from_elements."""
    if isinstance(v, bool):
        return T.DataTypes.BOOLEAN()
    if isinstance(v, int):
        return T.DataTypes.BIGINT()
    if isinstance(v, float):
        return T.DataTypes.DOUBLE()
    if isinstance(v, str):
        return T.DataTypes.STRING()
    if isinstance(v, (bytes, bytearray)):
        return T.DataTypes.BYTES()
    if isinstance(v, decimal.Decimal):
        return T.DataTypes.DECIMAL(38, 18)
    if isinstance(v, datetime.datetime):
        return T.DataTypes.TIMESTAMP(6)
    if isinstance(v, datetime.date):
        return T.DataTypes.DATE()
    if isinstance(v, datetime.time):
        return T.DataTypes.TIME()
    if isinstance(v, dict) and v:
        k, x = next(iter(v.items()))
        return T.DataTypes.MAP(type_of_value(k).not_null(), type_of_value(x))
    if isinstance(v, (list, tuple)) and v:
        return T.DataTypes.ARRAY(type_of_value(v[0]))
    raise TypeError(f"cannot infer the SQL type of {v!r} ({type(v).__name__}); give a schema with DataTypes.ROW")


def to_ipc(table):
    """Arrow IPC stream bytes of a pyarrow Table."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue().to_pybytes()


def from_ipc(data):
    """A pyarrow Table from Arrow IPC stream bytes (b"" is no table)."""
    if not data:
        return None
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()
