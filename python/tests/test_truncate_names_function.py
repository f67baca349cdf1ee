"""The warning logged when a float is truncated for an integer result (as
PyFlink 2.3 truncates a general Python function's float) names the
function whose result it was: the encoder is told each field's function
(RowEncoder.label), nested values included, with one warning per function,
result type and value type; both coders behave the same. Through the
engine: a scalar udf, a udaf and a udtaf, in batch and streaming mode."""

import logging
import os
import re
import subprocess
import sys
import textwrap

import pytest

from test_coder import _module
from weir import _coder_slow
from weir.types import parse_type


@pytest.fixture(params=["slow", "fast"])
def impl(request):
    return _module(request.param)


def test_labelled_fields_name_their_function(impl, caplog, monkeypatch):
    monkeypatch.setattr(_coder_slow, "_TRUNCATED", set())
    enc = impl.RowEncoder([parse_type("BIGINT"), parse_type("ARRAY<INT>"), parse_type("ROW<`a` MAP<STRING, SMALLINT>>"),
                           parse_type("BIGINT")])
    assert enc.label(["Python function 'f'", "Python function 'g'", "Python function 'h'", None]) is enc
    with caplog.at_level(logging.WARNING, logger="weir"):
        for _ in range(3):
            enc.encode_row((5.8, [1.5, 2.5], ({"k": -3.9},), 7.5))
    msgs = [r.getMessage() for r in caplog.records if r.name == "weir"]
    assert len(msgs) == 4, msgs
    assert msgs[0].startswith("Python function 'f' returned float 5.8 for a result of type BIGINT: truncated")
    assert msgs[1].startswith("Python function 'g' returned float 1.5 for a result of type INT: truncated")
    assert msgs[2].startswith("Python function 'h' returned float -3.9 for a result of type SMALLINT: truncated")
    assert msgs[3].startswith("a Python function returned float 7.5 for a result of type BIGINT")
    # Truncated values are those of the unlabelled encoder.
    plain = impl.RowEncoder(enc.field_types)
    plain.encode_row((5, [1, 2], ({"k": -3},), 7))
    enc.take()
    enc.encode_row((5.8, [1.5, 2.5], ({"k": -3.9},), 7.5))
    assert enc.take() == plain.take()


def test_label_wants_one_name_per_field(impl):
    with pytest.raises(ValueError, match="label: 1 names for 2 fields"):
        impl.RowEncoder([parse_type("INT"), parse_type("INT")]).label(["x"])


_CHECKOUT_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bin", "weir")

PROGRAM = textwrap.dedent('''
    import sys
    from weir.table import DataTypes, EnvironmentSettings, TableEnvironment
    from weir.table.expressions import col
    from weir.table.udf import udf, udaf, udtaf, AggregateFunction, TableAggregateFunction
    from weir.row import Row

    class S(AggregateFunction):
        def create_accumulator(self): return [0.0]
        def accumulate(self, acc, v): acc[0] += v + 0.5
        def get_value(self, acc): return acc[0]

    class T(TableAggregateFunction):
        def create_accumulator(self): return [0.0]
        def accumulate(self, acc, v): acc[0] += v + 0.5
        def emit_value(self, acc): yield Row(acc[0])

    settings = EnvironmentSettings.in_batch_mode() if sys.argv[1] == "batch" else EnvironmentSettings.in_streaming_mode()
    t = TableEnvironment.create(settings)
    tab = t.from_elements([(1, 2), (1, 3), (2, 4)], ["k", "v"])
    half = udf(lambda v: v + 0.5, result_type=DataTypes.BIGINT(), name="half_up")
    sumhalf = udaf(S(), result_type=DataTypes.BIGINT(), name="sum_half")
    tophalf = udtaf(T(), result_type=DataTypes.ROW([DataTypes.FIELD("a", DataTypes.BIGINT())]), name="top_half")
    print(sorted(tuple(r) for r in tab.select(half(col("v"))).execute().collect()))
    print(sorted(tuple(r) for r in tab.group_by(col("k")).select(col("k"), sumhalf(col("v"))).to_pandas()
                 .itertuples(index=False)))
    print(sorted(tuple(r) for r in tab.group_by(col("k")).flat_aggregate(tophalf(col("v"))).select(col("*"))
                 .to_pandas().itertuples(index=False)))
''')


@pytest.mark.parametrize("mode", ["batch", "streaming"])
def test_through_the_engine(mode, tmp_path):
    env = dict(os.environ)
    if not env.get("WEIR_BIN") and os.access(_CHECKOUT_BIN, os.X_OK):
        env["WEIR_BIN"] = os.path.abspath(_CHECKOUT_BIN)
    if not env.get("WEIR_BIN"):
        pytest.skip("no weir engine to test; run 'make build'")
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    r = subprocess.run([sys.executable, str(prog), mode], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:3] == ["[(2,), (3,), (4,)]", "[(1, 6), (2, 4)]", "[(1, 6), (2, 4)]"], r.stdout
    # (the Table API registers each function under its name with a suffix)
    for name, value in (("half_up", "2.5"), ("sum_half", "6.0"), ("top_half", "6.0")):
        assert re.search(rf"Python function '{name}(_\d+)?' \(.*\) returned float {value} for a result of type BIGINT",
                         r.stderr), (name, r.stderr)
    assert "a Python function returned" not in r.stderr, r.stderr
