"""An Arrow function's ROW result must carry the ROW's fields by name, at
every level: Arrow's cast matches struct fields by name and would fill a
missing one with NULLs and drop an extra one, so a result named otherwise
would lose its values without a word. weir refuses it, naming the function,
its declared type and where the fields differ; fields in another order are
matched by name."""

import importlib
import sys
import textwrap
import uuid

import pyarrow as pa
import pytest

from test_vectorized import column, element, results, stage
from weir._vectorized import VectorizedOperation
from weir.errors import FunctionError

ROW = "ROW<a BIGINT, b STRING>"
HELPERS = '''
import pyarrow as pa
from weir import udf

ROW = "ROW<a BIGINT, b STRING>"
T = pa.struct([("a", pa.int64()), ("b", pa.string())])


def const(value, t):
    return lambda x: pa.array([value] * len(x), type=t)


missing = udf(const({"a": 1}, pa.struct([("a", pa.int64())])), result_type=ROW, func_type="arrow")
renamed = udf(const({"x": 1, "y": "s"}, pa.struct([("x", pa.int64()), ("y", pa.string())])), result_type=ROW,
              func_type="arrow")
extra = udf(const({"a": 1, "b": "s", "c": 2.5}, pa.struct([("a", pa.int64()), ("b", pa.string()), ("c", pa.float64())])),
            result_type=ROW, func_type="arrow")
reordered = udf(const({"b": "s", "a": 1}, pa.struct([("b", pa.string()), ("a", pa.int64())])), result_type=ROW,
                func_type="arrow")
in_list = udf(const([{"a": 1}], pa.list_(pa.struct([("a", pa.int64())]))), result_type="ARRAY<" + ROW + ">",
              func_type="arrow")
in_map = udf(const([("k", {"a": 1, "z": "s"})], pa.map_(pa.string(), pa.struct([("a", pa.int64()), ("z", pa.string())]))),
             result_type="MAP<STRING, " + ROW + ">", func_type="arrow")
deep = udf(const({"a": 1, "b": {"x": 1}}, pa.struct([("a", pa.int64()), ("b", pa.struct([("x", pa.int64())]))])),
           result_type="ROW<a BIGINT, b ROW<y BIGINT>>", func_type="arrow")
'''


@pytest.fixture
def mod(tmp_path, monkeypatch):
    name = f"vec_fields_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(HELPERS))
    monkeypatch.syspath_prepend(str(tmp_path))
    m = importlib.import_module(name)
    yield name
    sys.modules.pop(name, None)


def run(mod, attr, rtype):
    st = stage(mod, [(0, [column(0, "BIGINT")], rtype)], ["BIGINT"], [(attr, rtype, "arrow")])
    return results(VectorizedOperation(st).process(element(["BIGINT"], [[1, 2, 3]]))).column(0)


@pytest.mark.parametrize("attr,rtype,where", [
    ("missing", ROW, "value has fields (a) where the ROW has (a, b)"),
    ("renamed", ROW, "value has fields (x, y) where the ROW has (a, b)"),
    ("extra", ROW, "value has fields (a, b, c) where the ROW has (a, b)"),
    ("in_list", "ARRAY<" + ROW + ">", "value[] has fields (a) where the ROW has (a, b)"),
    ("in_map", "MAP<STRING, " + ROW + ">", "value value has fields (a, z) where the ROW has (a, b)"),
    ("deep", "ROW<a BIGINT, b ROW<y BIGINT>>", "value.b has fields (x) where the ROW has (y)"),
])
def test_fields_named_otherwise_are_refused(mod, attr, rtype, where):
    with pytest.raises(FunctionError) as e:
        run(mod, attr, rtype)
    msg = str(e.value)
    assert msg.startswith(f"Python arrow function '{attr}' ({mod}.{attr}) returned a result that does not fit its "
                          "declared result type "), msg
    assert where in msg, msg


def test_fields_in_another_order_are_matched_by_name(mod):
    # (the wire names the fields f0, f1)
    assert [tuple(r.values()) for r in run(mod, "reordered", ROW).to_pylist()] == [(1, "s")] * 3
