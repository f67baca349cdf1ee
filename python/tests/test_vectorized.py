"""Vectorized functions (``weir._vectorized``): pandas and Arrow UDFs over
Arrow batches, run by ``VectorizedOperation`` on IPC elements as the engine
sends them.

Each test writes a helper module into tmp_path, builds a ``weir.v1.Stage`` of
kind VECTORIZED over its functions and runs the operation on Arrow IPC
elements.
"""

import datetime
import importlib
import platform
import random
import sys
import textwrap
import uuid
from decimal import Decimal

import pyarrow as pa
import pytest

from weir import udf
from weir._limits import CONTINUED
from weir._vectorized import VectorizedOperation, _ipc, _Type, arrow_type, to_pandas
from weir.errors import FunctionError
from weir.proto import weir_pb2 as pb
from weir.types import parse_type

HELPERS = '''
import collections
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from weir import udf

calls = collections.Counter()


def _identity(name, t, ft):
    return udf(lambda x: x, result_type=t, func_type=ft, name=name)


@udf(result_type="BIGINT", func_type="pandas")
def add(i, j):
    calls["add"] += 1
    return i + j


@udf(result_type="BIGINT", func_type="arrow")
def aadd(i, j):
    calls["aadd"] += 1
    return pc.add(i, j)


@udf(result_type="STRING", func_type="pandas")
def big(x):
    return x.astype(str).str.pad(3000, side="right", fillchar="x")


@udf(result_type="ROW<total BIGINT, label STRING>", func_type="pandas")
def summarize(a, s):
    return pd.DataFrame({"total": a * 2, "label": s.str.upper()})


@udf(result_type="STRING", func_type="pandas")
def field_names(r):
    return pd.Series([",".join(r.columns)] * len(r))


@udf(result_type="STRING", func_type="pandas")
def dtype_of(x):
    return pd.Series([str(x.dtype)] * len(x))


short = udf(lambda x: x.head(1), result_type="INT", func_type="pandas")
words = udf(lambda x: x.astype(str) + " apples", result_type="INT", func_type="pandas")
not_null = udf(lambda x: x.where(x != 2), result_type="INT NOT NULL", func_type="pandas")
arrow_list = udf(lambda x: x.to_pylist(), result_type="INT", func_type="arrow")
'''


@pytest.fixture
def helpers(tmp_path, monkeypatch):
    name = f"vec_helpers_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(HELPERS))
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module(name)
    yield name, mod
    sys.modules.pop(name, None)


def column(i, t):
    return pb.Expr(column=i, type=t)


def stage(module, calls, input_types, attrs):
    """A VECTORIZED stage: calls are (function index, [arg exprs], type)."""
    st = pb.Stage(kind=pb.Stage.VECTORIZED, input_types=input_types, name="VectorizedPythonCalc[test]")
    for attr, rtype, ft in attrs:
        st.functions.add(name=attr, module=module, attr=attr, result_types=[rtype], deterministic=True, func_type=ft)
    for f, args, t in calls:
        o = st.outputs.add(type=t)
        o.call.function = f
        for a in args:
            o.call.args.append(a)
    return st


def element(types, columns):
    arrays = []
    for t, values in zip(types, columns):
        tt = _Type(t)
        arrays.append(pa.array(values, type=tt.named).view(tt.wire))
    return _ipc(pa.RecordBatch.from_arrays(arrays, names=[f"f{i}" for i in range(len(arrays))]))


def results(data):
    return pa.ipc.open_stream(pa.py_buffer(data)).read_next_batch()


UTC = datetime.timezone.utc
TYPES = [
    ("TINYINT", [-128, 127, 0, None]),
    ("SMALLINT", [-32768, 32767, None]),
    ("INT", [-2147483648, 2147483647, 0, None]),
    ("BIGINT", [-9223372036854775808, 9223372036854775807, 0, None]),
    ("BIGINT NOT NULL", [-9223372036854775808, 9223372036854775807, 0]),
    ("BOOLEAN", [True, False, None]),
    ("FLOAT", [-3.4028234663852886e38, 1.401298464324817e-45, -0.0, None]),
    ("DOUBLE", [-1.7976931348623157e308, 5e-324, -0.0, None]),
    ("DECIMAL(38, 10)", [Decimal("-9999999999999999999999999999.9999999999"), Decimal("0.0000000001"), None]),
    ("DECIMAL(5, 2)", [Decimal("-999.99"), Decimal("0.10"), None]),
    ("STRING", ["a'b", "héllo, 世界 🎉", "", None]),
    ("CHAR(5)", ["ab   ", None]),
    ("BYTES", [b"\x00\xff", b"", None]),
    ("BINARY(3)", [b"\x00\x01\x02", None]),
    ("DATE", [datetime.date(1, 1, 1), datetime.date(9999, 12, 31), None]),
    ("TIME(3)", [datetime.time(0, 0, 0, 1000), datetime.time(23, 59, 59, 999000), None]),
    ("TIMESTAMP(0)", [datetime.datetime(1, 1, 1), datetime.datetime(9999, 12, 31, 23, 59, 59), None]),
    ("TIMESTAMP(3)", [datetime.datetime(1969, 12, 31, 23, 59, 59, 999000), None]),
    ("TIMESTAMP(6)", [datetime.datetime(1, 1, 1, 0, 0, 0, 1), datetime.datetime(9999, 12, 31, 23, 59, 59, 999999), None]),
    ("TIMESTAMP(9)", [datetime.datetime(1677, 9, 21, 0, 12, 43, 145225), datetime.datetime(2262, 4, 11, 23, 47, 16, 854775), None]),
    ("TIMESTAMP_LTZ(3)", [datetime.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC), None]),
    ("TIMESTAMP_LTZ(6)", [datetime.datetime(1, 1, 1, tzinfo=UTC), None]),
    ("ARRAY<INT>", [None, [], [None], [1, None, -1], [2147483647]]),
    ("ARRAY<BIGINT>", [None, [9223372036854775807, None, -9223372036854775808]]),
    ("ARRAY<ARRAY<STRING>>", [None, [], [None, []], [["a", None, "é"]]]),
    ("MAP<STRING, INT>", [None, [], [("a", None)], [("a", 1), ("b", None)]]),
    ("MAP<INT, ARRAY<DOUBLE>>", [None, [(1, [1.5, None])], [(2147483647, None)]]),
    ("ARRAY<ROW<a INT, b MAP<STRING, ARRAY<BIGINT>>>>",
     [None, [], [None], [{"a": None, "b": None}], [{"a": -2147483648, "b": [("k", None), ("x", [None, 9223372036854775807])]}]]),
    ("ROW<a INT NOT NULL, s STRING, c ARRAY<DECIMAL(10, 2)>, d DATE, e TIMESTAMP(3), f ROW<x BOOLEAN, y BYTES>>",
     [{"a": 0, "s": None, "c": None, "d": None, "e": None, "f": None},
      {"a": 2, "s": "é", "c": [Decimal("-99999999.99"), None], "d": datetime.date(9999, 12, 31),
       "e": datetime.datetime(2020, 1, 1), "f": {"x": True, "y": b"\x00"}},
      {"a": 3, "s": "", "c": [], "d": datetime.date(1, 1, 1), "e": None, "f": None}]),
    ("ROW<a INT, b STRING>", [None, {"a": None, "b": "x"}]),
    ("ARRAY<TIMESTAMP_LTZ(6)>", [None, [], [None], [datetime.datetime(1, 1, 1, tzinfo=UTC)]]),
]


@pytest.mark.parametrize("func_type", ["pandas", "arrow"])
@pytest.mark.parametrize("sql_type,values", TYPES, ids=[t for t, _ in TYPES])
def test_identity(helpers, func_type, sql_type, values):
    """Every type with NULLs comes back unchanged through an identity
    function (a NULL ROW through pandas excepted: a DataFrame has no NULL
    rows, so it arrives as a row of NULL fields, as in PyFlink)."""
    name, mod = helpers
    mod.ident = udf(lambda x: x, result_type=sql_type, func_type=func_type)
    st = stage(name, [(0, [column(0, sql_type)], sql_type)], [sql_type], [("ident", sql_type, func_type)])
    op = VectorizedOperation(st)
    data = element([sql_type], [values])
    got = results(op.process(data)).column(0)
    want = results(data).column(0)
    if func_type == "pandas" and sql_type == "ROW<a INT, b STRING>":
        assert got.to_pylist() == [{"f0": None, "f1": None}, {"f0": None, "f1": "x"}]
        return
    assert got.equals(want), (got.to_pylist(), want.to_pylist())
    assert op.rows_done == len(values)


def test_wire_types_match_the_engine():
    # The engine's Arrow types (internal/types T.Arrow): ROW fields f0, f1, ...
    assert arrow_type(parse_type("ROW<a INT, b ARRAY<ROW<c STRING>>>")) == pa.struct(
        [pa.field("f0", pa.int32()), pa.field("f1", pa.list_(pa.field("element", pa.struct([pa.field("f0", pa.string())]))))])
    assert arrow_type(parse_type("TIMESTAMP_LTZ(9)")) == pa.timestamp("ns", tz="UTC")
    assert arrow_type(parse_type("TIME(0)")) == pa.time32("ms")
    assert arrow_type(parse_type("MAP<STRING, INT>")) == pa.map_(pa.string(), pa.int32())


def test_pandas_arguments_as_pyflink(helpers):
    """Columns arrive as Series (numpy views for numbers without NULLs;
    nullable dtypes for integers with NULLs), a ROW as a DataFrame with the
    ROW's field names; constants as plain values."""
    name, mod = helpers
    st = stage(name, [
        (0, [column(0, "INT NOT NULL")], "STRING"),
        (0, [column(1, "INT")], "STRING"),
        (1, [column(2, "ROW<total BIGINT, `my label` STRING>")], "STRING"),
        (2, [column(0, "INT NOT NULL"), pb.Expr(constant=b"", type="BIGINT NOT NULL")], "BIGINT"),
    ], ["INT NOT NULL", "INT", "ROW<total BIGINT, `my label` STRING>"],
        [("dtype_of", "STRING", "pandas"), ("field_names", "STRING", "pandas"), ("add", "BIGINT", "pandas")])
    from weir.coder import RowEncoder

    enc = RowEncoder([parse_type("BIGINT NOT NULL")])
    enc.encode_row((1000,))
    st.outputs[3].call.args[1].constant = enc.take()
    op = VectorizedOperation(st)
    out = results(op.process(element(st.input_types, [[1, 2], [3, None], [{"total": 1, "my label": "a"}, None]])))
    assert out.column(0).to_pylist() == ["int32", "int32"]
    assert out.column(1).to_pylist() == ["Int32", "Int32"]
    assert out.column(2).to_pylist() == ["total,my label"] * 2
    assert out.column(3).to_pylist() == [1001, 1002]


def test_row_result_from_dataframe(helpers):
    name, _ = helpers
    st = stage(name, [(0, [column(0, "BIGINT"), column(1, "STRING")], "ROW<total BIGINT, label STRING>")],
               ["BIGINT", "STRING"], [("summarize", "ROW<total BIGINT, label STRING>", "pandas")])
    out = results(VectorizedOperation(st).process(element(st.input_types, [[1, None, 3], ["a", "b", None]])))
    assert out.column(0).to_pylist() == [{"f0": 2, "f1": "A"}, {"f0": None, "f1": "B"}, {"f0": 6, "f1": None}]


def test_deterministic_calls_run_once_per_batch(helpers):
    """add(a, b) twice and nested in another call is one call per batch;
    pandas and Arrow functions mix in one stage."""
    name, mod = helpers
    call = pb.Expr(type="BIGINT")
    call.call.function = 0
    call.call.args.extend([column(0, "BIGINT"), column(1, "BIGINT")])
    outer = pb.Expr(type="BIGINT")
    outer.call.function = 1
    outer.call.args.extend([call, column(0, "BIGINT")])
    st = stage(name, [(0, [column(0, "BIGINT"), column(1, "BIGINT")], "BIGINT")], ["BIGINT", "BIGINT"],
               [("add", "BIGINT", "pandas"), ("aadd", "BIGINT", "arrow")])
    st.outputs.append(call)
    st.outputs.append(outer)
    op = VectorizedOperation(st)
    mod.calls.clear()
    out = results(op.process(element(st.input_types, [[1, 2, None], [10, 20, 30]])))
    assert out.column(0).to_pylist() == [11, 22, None]
    assert out.column(1).to_pylist() == [11, 22, None]
    assert out.column(2).to_pylist() == [12, 24, None]
    assert mod.calls == {"add": 1, "aadd": 1}


def test_large_results_leave_in_parts(helpers):
    """Results over the part size leave in parts, each but the last prefixed
    with CONTINUED; together they hold every row in order."""
    name, _ = helpers
    st = stage(name, [(0, [column(0, "INT")], "STRING")], ["INT"], [("big", "STRING", "pandas")])
    op = VectorizedOperation(st)
    op.part_bytes = 100_000
    rows = random.randint(200, 400)
    parts = []
    last = op.process(element(["INT"], [list(range(rows))]), parts.append)
    assert len(parts) >= 4 and all(p[:1] == CONTINUED for p in parts) and last[:1] != CONTINUED
    got = []
    for p in parts:
        got += results(p[1:]).column(0).to_pylist()
    got += results(last).column(0).to_pylist()
    assert got == [str(i).ljust(3000, "x") for i in range(rows)]


def batches_element(types, batches):
    """An element of several record batches (the columns of each)."""
    wire = [_Type(t).wire for t in types]
    schema = pa.schema([pa.field(f"f{i}", w) for i, w in enumerate(wire)])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as w:
        for cols in batches:
            w.write_batch(pa.RecordBatch.from_arrays([pa.array(c, type=t) for c, t in zip(cols, wire)], schema=schema))
    return sink.getvalue().to_pybytes()


def all_batches(data):
    return list(pa.ipc.open_stream(pa.py_buffer(data)))


def test_empty_batch_of_arrow_backed_strings(helpers):
    """A batch of no rows: a result of pandas' Arrow-backed strings converts
    to no chunks, and is an empty column."""
    name, _ = helpers
    st = stage(name, [(0, [column(0, "INT")], "STRING")], ["INT"], [("big", "STRING", "pandas")])
    out = all_batches(VectorizedOperation(st).process(batches_element(["INT"], [[[]], [[1, 2]]])))
    assert [b.column(0).to_pylist() for b in out] == [[], ["1".ljust(3000, "x"), "2".ljust(3000, "x")]]


@pytest.mark.parametrize("part_bytes", [None, 2_000])
def test_element_of_several_batches(helpers, part_bytes):
    """Each record batch of an element is one call; the answer holds one
    result batch per input batch, in order, also when it leaves in parts."""
    name, mod = helpers
    st = stage(name, [(0, [column(0, "BIGINT"), column(1, "BIGINT")], "BIGINT")], ["BIGINT", "BIGINT"],
               [("add", "BIGINT", "pandas")])
    op = VectorizedOperation(st)
    if part_bytes:
        op.part_bytes = part_bytes
    rng = random.Random()
    sizes = [rng.randint(1, 300) for _ in range(rng.randint(2, 6))]
    # One batch of results (8 bytes a row) over part_bytes, at a random place,
    # so that the answer always leaves in parts when part_bytes is set.
    sizes.insert(rng.randint(0, len(sizes)), rng.randint(300, 700))
    batches, start = [], 0
    for n in sizes:
        a = list(range(start, start + n))
        b = [None if i % 5 == 0 else 2 * i for i in a]
        batches.append([a, b])
        start += n
    mod.calls.clear()
    parts = []
    last = op.process(batches_element(st.input_types, batches), parts.append if part_bytes else None)
    assert mod.calls == {"add": len(sizes)}
    assert op.rows_done == sum(sizes)
    got = []
    for p in parts:
        assert p[:1] == CONTINUED
        got += all_batches(p[1:])
    got += all_batches(last)
    assert (len(parts) > 0) == bool(part_bytes)
    if not part_bytes:
        assert [g.num_rows for g in got] == sizes
    values = [v for g in got for v in g.column(0).to_pylist()]
    assert values == [None if i % 5 == 0 else 3 * i for i in range(start)]


@pytest.mark.parametrize("attr,rtype,ft,want", [
    ("short", "INT", "pandas", "it returned 1 values for the batch's 3 rows"),
    ("words", "INT", "pandas", "cannot be converted to INT"),
    ("not_null", "INT NOT NULL", "pandas", "returned NULL (value at row 2 of the batch) where the type is NOT NULL"),
    ("arrow_list", "INT", "arrow", "expected a pyarrow.Array, got list"),
])
def test_wrong_results_name_the_function(helpers, attr, rtype, ft, want):
    name, _ = helpers
    st = stage(name, [(0, [column(0, "INT")], rtype)], ["INT"], [(attr, rtype, ft)])
    with pytest.raises(FunctionError) as e:
        VectorizedOperation(st).process(element(["INT"], [[1, 2, 3]]))
    msg = str(e.value)
    assert f"Python {ft} function {attr!r} ({name}.{attr})" in msg
    assert f"declared result type {rtype}" in msg
    assert want in msg


def test_udf_func_type():
    f = udf(lambda x: x, result_type="INT", func_type="pandas")
    assert f.func_type == "pandas" and f.describe()["func_type"] == "pandas"
    assert udf(lambda x: x, result_type="INT").describe()["func_type"] == "general"
    with pytest.raises(ValueError, match="func_type='numpy' is not supported"):
        udf(lambda x: x, result_type="INT", func_type="numpy")


def test_to_pandas_keeps_large_integers():
    s = to_pandas(pa.array([9223372036854775807, None], type=pa.int64()), parse_type("BIGINT"))
    assert str(s.dtype) == "Int64" and s[0] == 9223372036854775807


NUMBER_TYPES = ["TINYINT", "SMALLINT", "INT", "BIGINT", "FLOAT", "DOUBLE"]


@pytest.mark.parametrize("sql_type", NUMBER_TYPES)
def test_number_series_as_pyarrow_makes_them(sql_type):
    """The quick Series of NULL-free numbers (a numpy view and a shared
    RangeIndex) equals pyarrow's to_pandas on random batches; with NULLs the
    general path runs."""
    rng = random.Random()
    t = _Type(sql_type)
    for _ in range(20):
        n = rng.choice([0, 1, 2, 7, 1000])
        nulls = rng.random() < 0.3
        values = [None if nulls and rng.random() < 0.2 else rng.randint(-100, 100) for _ in range(n)]
        if t.numbers.kind == "f":
            values = [None if v is None else v / 7 for v in values]
        arr = pa.array(values, type=t.wire)
        got = to_pandas(arr, t.sql)
        want = arr.to_pandas(types_mapper=None if t.numbers.kind == "f" or not arr.null_count else
                             {t.wire: got.dtype}.get)
        assert got.dtype == want.dtype and got.index.equals(want.index) and got.name is None
        assert got.equals(want), (values, got.tolist())


def test_shared_index_renamed_by_a_function_is_not_reused(helpers):
    """Batches of one length share a RangeIndex; a function that names its
    argument's index does not pass that name to later batches."""
    name, mod = helpers
    def pd_index_name(x):
        seen = x.index.name
        x.index.name = "mine"
        return x.map(lambda _: str(seen))

    mod.named = udf(pd_index_name, result_type="STRING", func_type="pandas")
    st = stage(name, [(0, [column(0, "INT NOT NULL")], "STRING")], ["INT NOT NULL"], [("named", "STRING", "pandas")])
    op = VectorizedOperation(st)
    for _ in range(3):
        got = results(op.process(element(["INT NOT NULL"], [[1, 2, 3]]))).column(0).to_pylist()
        assert got == ["None"] * 3


def test_table_api_runs_pandas_functions():
    """A pandas function of weir.table.udf runs in the engine from the Table
    API's select and from SQL (the engine's binary: WEIR_BIN or bin/weir)."""
    import os

    checkout_bin = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bin", "weir")
    if not os.environ.get("WEIR_BIN") and os.access(checkout_bin, os.X_OK):
        os.environ["WEIR_BIN"] = os.path.abspath(checkout_bin)
    from weir.table._gateway import find_engine

    try:
        find_engine()
    except FileNotFoundError as e:
        pytest.skip(f"no weir engine ({e}); run 'make build'")
    from weir.table import DataTypes, EnvironmentSettings, TableEnvironment
    from weir.table.expressions import col
    from weir.table.udf import udf as table_udf

    add = table_udf(lambda i, j: i + j, result_type=DataTypes.BIGINT(), func_type="pandas")
    env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    try:
        t = env.from_elements([(1, 2), (3, 4), (None, 5)], ["a", "b"])
        assert [tuple(r) for r in t.select(add(col("a"), col("b"))).execute().collect()] == [(3,), (7,), (None,)]
        env.create_temporary_function("add", add)
        got = [tuple(r) for r in env.sql_query(f"SELECT add(a, b) FROM {t}").execute().collect()]
        assert got == [(3,), (7,), (None,)]
    finally:
        env.close()


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_malloc_keeps_freed_memory_on_glibc(monkeypatch):
    """glibc's mallopt is found among the process's symbols (no ldconfig
    subprocess) and both settings take."""
    from weir import _vectorized

    monkeypatch.setattr(_vectorized, "_malloc_tuned", False)
    assert _vectorized._keep_freed_memory() is True
    assert _vectorized._keep_freed_memory() is None


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "float32", "float64"])
def test_numbers_series_fast_and_slow_agree(dtype):
    """A pandas function's Series of numbers, built through pandas' block
    manager, is the Series the constructor builds: values (without a copy),
    dtype, index, name, flags; and behaves the same."""
    import numpy as np

    from weir._vectorized import _check_fast_series, numbers_series, slow_numbers_series

    assert _check_fast_series() is not False, "this pandas has no block-manager way: the fast path is off"
    rng = random.Random()
    values = np.array([rng.randint(-100, 100) for _ in range(rng.randint(0, 3000))], dtype=dtype)
    values.flags.writeable = False
    fast, slow = numbers_series(values), slow_numbers_series(values)
    assert type(fast) is type(slow) and fast.dtype == slow.dtype and fast.index.equals(slow.index)
    assert fast.name is None and fast.flags.allows_duplicate_labels == slow.flags.allows_duplicate_labels
    # No copy (numpy says no two empty arrays share memory).
    assert np.shares_memory(fast.to_numpy(), values) or len(values) == 0
    assert fast.equals(slow)
    assert (fast * 3 + 1).equals(slow * 3 + 1) and fast.describe().equals(slow.describe())
