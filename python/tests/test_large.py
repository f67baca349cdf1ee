"""Large results: the operations send the results of one input element in
parts (``weir._limits``), the Cython and pure-Python twins byte for byte
alike, and refuse a result row that no part can carry with a clear error.
"""

import random

import pytest

from weir import _limits
from weir._limits import CONTINUED
from weir.coder import RowDecoder
from weir.errors import FunctionError
from weir.proto import weir_pb2 as pb
from weir.types import parse_type

from test_operations import F, S, StageBuilder, batch, col, helpers, needs_fast  # noqa: F401  (helpers is a fixture)

# Functions added to the helper module of test_operations.
LARGE = '''

@udf(result_type="STRING")
def wide(n):
    """A string of n characters (None for a negative n)."""
    return None if n < 0 else "abcdefghijklmnopqrstuvwxyz"[n % 26] * n


@udtf(result_types=["INT", "STRING"])
def spread(n):
    """n % 40 rows of about n bytes each."""
    for i in range(n % 40):
        yield i, str(i) * (n // max(len(str(i)), 1))


@udtf(result_types=["STRING"])
def one_big(n):
    yield "x" * n
'''


@pytest.fixture
def mod(helpers):
    exec(compile("from weir import udf, udtf\n" + LARGE, "<large>", "exec"), helpers.__dict__)
    return helpers


def implementations():
    return [S] + ([F] if F is not None else [])


def run_parts(op, data):
    """The parts process sends for data (the returned last part included)."""
    parts = []
    last = op.process(data, parts.append)
    return parts + [last]


def payloads(parts):
    """Check the framing of parts and return what each carries."""
    for p in parts[:-1]:
        assert p[:1] == CONTINUED, "every part but the last starts with the continuation byte"
    assert parts[-1][:1] != CONTINUED, "the last part has no continuation byte"
    assert parts[-1], "the last part is never empty"
    return [p[1:] for p in parts[:-1]] + [parts[-1]]


def scalar_stage(mod):
    b = StageBuilder(mod)
    return b.outputs(col(0), b.call("wide", col(0)))


def make(impl, stage, part_bytes, max_row_bytes=None):
    cls = impl.ScalarOperation if stage.kind == pb.Stage.SCALAR else impl.TableOperation
    op = cls(stage)
    op.part_bytes = part_bytes
    if max_row_bytes is not None:
        op.max_row_bytes = max_row_bytes
    return op


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scalar_parts(mod, seed):
    rnd = random.Random(seed)
    rows = [[rnd.choice([-1, 0, 1, rnd.randint(0, 3000), rnd.randint(0, 300)])] for _ in range(rnd.randint(1, 400))]
    data = batch(["INT NOT NULL"], rows)
    stage = scalar_stage(mod)
    whole = S.ScalarOperation(stage).process(data)
    part_bytes = rnd.randint(1, 20000)
    got = []
    for impl in implementations():
        parts = run_parts(make(impl, stage, part_bytes), data)
        got.append(parts)
        bodies = payloads(parts)
        assert b"".join(bodies) == whole
        dec = RowDecoder([parse_type("INT NOT NULL"), parse_type("STRING")])
        n = 0
        for body in bodies:
            decoded = dec.decode(body)
            assert decoded, "every part holds at least one row"
            # A part is closed at the first row that finds it full.
            assert len(body) - len(batch(["INT NOT NULL", "STRING"], decoded[-1:])) < part_bytes
            n += len(decoded)
        assert n == len(rows)
    assert all(g == got[0] for g in got), "the Cython and pure-Python operations send the same parts"


def test_scalar_without_emit_is_one_element(mod):
    data = batch(["INT NOT NULL"], [[3000]] * 50)
    stage = scalar_stage(mod)
    for impl in implementations():
        op = make(impl, stage, 100)
        out = op.process(data)
        assert out[:1] != CONTINUED
        assert len(RowDecoder([parse_type("INT NOT NULL"), parse_type("STRING")]).decode(out)) == 50


def table_answers(body_parts, types):
    """Decode the parts of a table answer into per-input-row result lists."""
    body = b"".join(body_parts)
    dec = RowDecoder([parse_type(t) for t in types])
    answers, cur, pos = [], [], 0
    # Walk the rows: an end marker is varint 1 then byte 0.
    while pos < len(body):
        if body[pos:pos + 2] == b"\x01\x00":
            answers.append(cur)
            cur = []
            pos += 2
            continue
        n, k = 0, 0
        while True:
            b = body[pos + k]
            n |= (b & 0x7F) << (7 * k)
            k += 1
            if b < 0x80:
                break
        cur.append(dec.decode(body[pos:pos + k + n])[0])
        pos += k + n
    assert cur == []
    return answers


@pytest.mark.parametrize("seed", [1, 2])
def test_table_parts(mod, seed):
    rnd = random.Random(seed)
    rows = [[rnd.randint(0, 2000)] for _ in range(rnd.randint(1, 60))]
    data = batch(["INT NOT NULL"], rows)
    stage = StageBuilder(mod).table("spread", col(0))
    whole = S.TableOperation(stage).process(data)
    part_bytes = rnd.randint(1, 30000)
    got = []
    for impl in implementations():
        parts = run_parts(make(impl, stage, part_bytes), data)
        got.append(parts)
        bodies = payloads(parts)
        assert b"".join(bodies) == whole
        answers = table_answers(bodies, ["INT", "STRING"])
        assert len(answers) == len(rows)
        for (n,), a in zip(rows, answers):
            assert a == [[i, str(i) * (n // len(str(i)))] for i in range(n % 40)]
    assert all(g == got[0] for g in got)


def test_table_splits_inside_one_rows_results(mod):
    # One input row with 39 rows of 39,000 bytes: its results span many parts.
    data = batch(["INT NOT NULL"], [[39 * 1000 + 39]])
    stage = StageBuilder(mod).table("spread", col(0))
    for impl in implementations():
        parts = run_parts(make(impl, stage, 100_000), data)
        assert len(parts) >= 10
        bodies = payloads(parts)
        # Only the last part ends the input row's answer.
        assert [b.endswith(b"\x01\x00") for b in bodies] == [False] * (len(bodies) - 1) + [True]
        assert len(table_answers(bodies, ["INT", "STRING"])[0]) == 39


def test_default_part_size(mod):
    # 1,000 rows of 12 KB: several parts of at most PART_BYTES plus one row.
    data = batch(["INT NOT NULL"], [[12 * 1024]] * 1000)
    stage = scalar_stage(mod)
    for impl in implementations():
        cls = impl.ScalarOperation
        op = cls(stage)
        assert op.part_bytes == _limits.PART_BYTES
        parts = run_parts(op, data)
        assert len(parts) == 3
        assert all(len(p) <= _limits.PART_BYTES + 12 * 1024 + 16 for p in parts)


@pytest.mark.parametrize("kind", ["scalar", "table"])
def test_row_too_large(mod, kind):
    rows = [[10], [20], [5000], [30]]
    data = batch(["INT NOT NULL"], rows)
    if kind == "scalar":
        stage = scalar_stage(mod)
    else:
        stage = StageBuilder(mod).table("one_big", col(0))
    messages = []
    for impl in implementations():
        op = make(impl, stage, 1 << 20, max_row_bytes=1000)
        with pytest.raises(FunctionError) as e:
            op.process(data, lambda p: None)
        assert _limits.is_row_too_large(e.value)
        assert type(e.value) is FunctionError, "the engine reports it as any function error"
        msg = str(e.value)
        assert "wide_sql" in msg if kind == "scalar" else "one_big_sql" in msg
        assert "1,000 bytes" in msg and "input row: (5000,)" in msg
        assert "every try" in msg and "split a large value" in msg
        messages.append(msg)
        # The operation is clean for the next batch.
        ok = batch(["INT NOT NULL"], [[1], [2]])
        assert op.process(ok) == S.ScalarOperation(stage).process(ok) if kind == "scalar" else op.process(ok)
    assert all(m == messages[0] for m in messages)


def test_too_large_message_shortens_the_input_row(mod):
    b = StageBuilder(mod, input_types=["STRING"])
    stage = b.outputs(b.call("upper", col(0, "STRING")))
    data = batch(["STRING"], [["q" * 5000]])
    for impl in implementations():
        op = make(impl, stage, 1 << 20, max_row_bytes=100)
        with pytest.raises(FunctionError) as e:
            op.process(data)
        assert _limits.is_row_too_large(e.value)
        assert "upper_sql" in str(e.value)
        assert len(str(e.value)) < 1500


def test_emit_errors_pass_through(mod):
    data = batch(["INT NOT NULL"], [[500]] * 20)

    class Closed(Exception):
        pass

    def emit(part):
        raise Closed("output stream closed")

    for stage in (scalar_stage(mod), StageBuilder(mod).table("one_big", col(0))):
        for impl in implementations():
            op = make(impl, stage, 1000)
            with pytest.raises(Closed):
                op.process(data, emit)
            ok = batch(["INT NOT NULL"], [[1]])
            assert op.process(ok) == make(S, stage, 1000).process(ok)


@needs_fast
def test_fast_is_used():
    assert F is not None


# -- shared vectors ----------------------------------------------------------------
#
# testdata/parts/vectors.json pins the parts the operations send for two small
# stages; the Go engine's test (internal/pyexec/parts_vectors_test.go) joins
# the same parts back into the rows listed there. WEIR_UPDATE_VECTORS=1
# rewrites the file from the pure-Python operations.

import json  # noqa: E402
import os  # noqa: E402
import pathlib  # noqa: E402

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "testdata" / "parts" / "vectors.json"
VECTOR_CASES = [
    # name, kind, function, inputs, part_bytes
    ("scalar_strings", "scalar", "wide", [0, 5, 3000, 1, 2500, 7, 4000, 2, 0, 1800], 2048),
    ("table_rows", "table", "spread", [130, 0, 45, 2001, 1, 79], 1024),
]


def _vector_cases(mod):
    out = []
    for name, kind, fn, inputs, part_bytes in VECTOR_CASES:
        b = StageBuilder(mod)
        if kind == "scalar":
            stage = b.outputs(b.call(fn, col(0)))
            types = ["STRING"]
        else:
            stage = b.table(fn, col(0))
            types = ["INT", "STRING"]
        data = batch(["INT NOT NULL"], [[n] for n in inputs])
        out.append((name, kind, stage, data, part_bytes, types, inputs))
    return out


def _expected_rows(kind, inputs):
    if kind == "scalar":
        return [["abcdefghijklmnopqrstuvwxyz"[n % 26] * n] for n in inputs]
    return [[[i, str(i) * (n // len(str(i)))] for i in range(n % 40)] for n in inputs]


def test_shared_vectors(mod):
    cases = []
    for name, kind, stage, data, part_bytes, types, inputs in _vector_cases(mod):
        parts = run_parts(make(S, stage, part_bytes), data)
        for impl in implementations():
            assert run_parts(make(impl, stage, part_bytes), data) == parts
        cases.append({"name": name, "kind": kind, "result_types": types, "inputs": inputs,
                      "part_bytes": part_bytes, "parts": [p.hex() for p in parts],
                      "rows": _expected_rows(kind, inputs)})
        assert len(parts) > 2
    if os.environ.get("WEIR_UPDATE_VECTORS") == "1":
        VECTORS.parent.mkdir(parents=True, exist_ok=True)
        VECTORS.write_text(json.dumps({"cases": cases}, indent=1) + "\n")
    want = json.loads(VECTORS.read_text())["cases"]
    assert [c["name"] for c in want] == [c["name"] for c in cases]
    for w, c in zip(want, cases):
        assert w == c, f"{c['name']}: the operations no longer send the parts of {VECTORS}"
