"""The operations of Python stages: the Cython ones (``weir._operations_fast``)
against their pure-Python twins (``weir._operations_slow``).

Each test builds a ``weir.v1.Stage`` over functions of a small helper module
written into tmp_path, runs both implementations on the same batches and
asserts byte-identical outputs, the same calls of the functions (counted and
logged by the helper module) and the same errors.
"""

import datetime
import importlib
import random
import sys
import textwrap
import uuid
from decimal import Decimal

import pytest

from weir import _functions
from weir import _operations_slow as S
from weir.coder import DecodeError, RowDecoder, RowEncoder
from weir.errors import FunctionError
from weir.proto import weir_pb2 as pb
from weir.types import parse_type

try:
    from weir import _operations_fast as F
except ImportError as e:  # pragma: no cover - depends on the build
    F = None
    _WHY = f"weir._operations_fast is not built ({e}); cythonize it to test the Cython operations"
else:
    _WHY = ""

needs_fast = pytest.mark.skipif(F is None, reason=_WHY or "built")

HELPERS = '''
import collections
from weir import udf, udtf, ScalarFunction, TableFunction
from weir import Row

calls = collections.Counter()
log = []


@udf(result_type="INT NOT NULL")
def inc(x):
    calls["inc"] += 1
    return x + 1


@udf(result_type="INT NOT NULL")
def dbl(x):
    calls["dbl"] += 1
    return x * 2


@udf(result_type="INT NOT NULL")
def neg(x):
    calls["neg"] += 1
    return -x


@udf(result_type="BIGINT")
def add(x, y):
    calls["add"] += 1
    log.append(("add", x, y))
    return x + y


@udf(result_type="INT NOT NULL")
def tick(x):
    """Deterministic or not as the stage says; logs its calls."""
    calls["tick"] += 1
    log.append(("tick", x))
    return x + calls["tick"] * 0


@udf(result_type="INT NOT NULL")
def tock(x):
    calls["tock"] += 1
    log.append(("tock", x))
    return x - 1


@udf(result_type="STRING")
def show(*args):
    calls["show"] += 1
    return repr(args)


@udf(result_type="STRING")
def upper(s):
    return None if s is None else s.upper()


@udf(result_type="INT")
def boom(x):
    if x % 7 == 3:
        raise ValueError(f"no {x}")
    return x


@udf(result_type="INT NOT NULL")
def wrong(x):
    return "oops" if x % 5 == 2 else x


@udf(result_type="TINYINT")
def big(x):
    return x * 1000


class Affine(ScalarFunction):
    def open(self, function_context):
        self.k = int(function_context.get_job_parameter("k", "3"))
        self.opened = True

    def eval(self, x, y=0):
        calls["affine"] += 1
        return x * self.k + y


affine = udf(Affine(), result_type="BIGINT")


class Flaky(ScalarFunction):
    """Fails once, then works (the diagnosis re-run does not fail)."""

    def __init__(self):
        self.failed = False

    def eval(self, x):
        if not self.failed and x % 7 == 3:
            self.failed = True
            raise KeyError(x)
        return x


flaky = udf(Flaky(), result_type="INT")


@udtf(result_types=["STRING"])
def split(s):
    return s.split()


@udtf(result_types=["INT", "STRING"])
def gen(n):
    for i in range(n % 4):
        yield i, f"{n}-{i}"


@udtf(result_types=["INT"])
def gen1(n):
    for i in range(n % 3):
        yield n + i


@udtf(result_types=["INT", "STRING"])
def maybe(n):
    return None if n % 2 else [Row(n, "x"), (n + 1, "y")]


@udtf(result_types=["INT"])
def single(n):
    return n * 3


@udtf(result_types=["STRING"])
def text(n):
    return f"s{n}"


@udtf(result_types=["INT", "STRING"])
def one_row(n):
    return Row(n, str(n))


@udtf(result_types=["INT", "STRING"])
def tuples(n):
    return ((n, "a"), [n + 1, "b"])


class Pairs:
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter([(i, str(i)) for i in range(self.n % 3)])


@udtf(result_types=["INT", "STRING"])
def pairs(n):
    return Pairs(n)


@udtf(result_types=["INT"])
def rows1(n):
    return [n, (n + 1,), Row(n + 2), [n + 3]]


class Counter(TableFunction):
    def open(self, function_context):
        self.step = int(function_context.get_job_parameter("step", "1"))

    def eval(self, n, label):
        for i in range(0, n % 5, self.step):
            yield i, f"{label}{i}"


counter = udtf(Counter(), result_types=["INT", "STRING"])


@udtf(result_types=["INT", "STRING"])
def tboom(n):
    if n % 7 == 3:
        raise ZeroDivisionError(f"table {n}")
    return [(n, "ok")]


@udtf(result_types=["INT", "STRING"])
def tgenboom(n):
    yield n, "first"
    if n % 7 == 3:
        raise RuntimeError(f"gen {n}")
    yield n, "second"


@udtf(result_types=["INT", "STRING"])
def twrong(n):
    return [(n, "ok"), (n, n)] if n % 5 == 2 else [(n, "ok")]


@udtf(result_types=["INT", "STRING"])
def tarity(n):
    return [(n,)] if n % 5 == 2 else [(n, "ok")]
'''


@pytest.fixture
def helpers(tmp_path, monkeypatch):
    """A fresh helper module (unique name, nothing opened yet)."""
    name = f"weir_ops_helpers_{uuid.uuid4().hex[:12]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(HELPERS))
    monkeypatch.syspath_prepend(str(tmp_path))
    _functions._opened.clear()
    mod = importlib.import_module(name)
    yield mod
    _functions._opened.clear()
    sys.modules.pop(name, None)


# -- building stages --------------------------------------------------------------


def col(i, t="INT NOT NULL"):
    return pb.Expr(column=i, type=t)


def const(v, t):
    return pb.Expr(constant=RowEncoder([parse_type(t)]).encode([[v]]), type=t)


class StageBuilder:
    """Functions of a stage by attribute name of the helper module."""

    def __init__(self, mod, kind=pb.Stage.SCALAR, input_types=("INT NOT NULL",), nondeterministic=(),
                 job_parameters=None):
        self.mod = mod
        self.stage = pb.Stage(kind=kind, input_types=list(input_types), name="PythonCalc[test]")
        self.index = {}
        self.nondeterministic = set(nondeterministic)
        for k, v in (job_parameters or {}).items():
            self.stage.job_parameters[k] = v

    def fn(self, attr):
        if attr not in self.index:
            w = getattr(self.mod, attr)
            self.index[attr] = len(self.stage.functions)
            self.stage.functions.append(pb.Function(
                name=f"{attr}_sql", module=self.mod.__name__, attr=attr,
                result_types=[str(t) for t in w.result_types],
                deterministic=attr not in self.nondeterministic))
        return self.index[attr]

    def call(self, attr, *args):
        i = self.fn(attr)
        f = self.stage.functions[i]
        return pb.Expr(call=pb.Call(function=i, args=list(args)), type=f.result_types[0])

    def outputs(self, *exprs):
        self.stage.outputs.extend(exprs)
        return self.stage

    def table(self, attr, *args):
        self.stage.kind = pb.Stage.TABLE
        i = self.fn(attr)
        self.stage.outputs.append(pb.Expr(call=pb.Call(function=i, args=list(args)), type="ROW"))
        return self.stage


def batch(types, rows):
    return RowEncoder([parse_type(t) for t in types]).encode(rows)


def random_ints(n, seed=1, lo=-1000, hi=1000, ncols=1):
    rnd = random.Random(seed)
    return [[rnd.randint(lo, hi) for _ in range(ncols)] for _ in range(n)]


def ops(stage):
    cls = "ScalarOperation" if stage.kind == pb.Stage.SCALAR else "TableOperation"
    return getattr(S, cls)(stage), getattr(F, cls)(stage)


def run_both(mod, stage, *batches):
    """Run slow then fast on the batches; assert equal outputs and equal call logs; return outputs, calls."""
    slow, fast = ops(stage)
    results = []
    for op in (slow, fast):
        mod.calls.clear()
        del mod.log[:]
        outs = [op.process(b) for b in batches]
        results.append((outs, dict(mod.calls), list(mod.log)))
    (s_out, s_calls, s_log), (f_out, f_calls, f_log) = results
    assert f_out == s_out
    assert f_calls == s_calls
    assert f_log == s_log
    return s_out, s_calls


def errors_of(mod, stage, data):
    """The exceptions of slow and fast on data (each must raise)."""
    errs = []
    for op in ops(stage):
        mod.calls.clear()
        with pytest.raises(Exception) as ei:
            op.process(data)
        errs.append(ei.value)
    return errs


def decode(types, data):
    return RowDecoder([parse_type(t) for t in types]).decode(data)


def decode_table(types, data):
    return RowDecoder([parse_type(t) for t in types]).decode_table(data)


def same_error(f, s):
    """The messages of the fast and the slow error are the same, but for the
    traceback entries of the operations' own code (their files differ)."""
    assert type(f) is type(s)
    assert normalized(str(f)) == normalized(str(s))
    assert (f.__cause__, f.__suppress_context__) == (s.__cause__, s.__suppress_context__)
    assert type(f.__context__) is type(s.__context__)


def normalized(msg):
    out, skip = [], False
    for line in msg.splitlines():
        if line.startswith('  File "'):
            skip = "_operations_" in line or '"<weir stage ' in line
        elif not (skip and line.startswith("    ")):
            skip = False
        if not skip:
            out.append(line)
    return "\n".join(out)


# -- scalar ----------------------------------------------------------------------------

pytestmark = needs_fast


def test_single_call(helpers):
    b = StageBuilder(helpers)
    stage = b.outputs(b.call("inc", col(0)))
    rows = random_ints(500)
    (out,), calls = run_both(helpers, stage, batch(["INT NOT NULL"], rows))
    assert decode(["INT NOT NULL"], out) == [[r[0] + 1] for r in rows]
    assert calls == {"inc": 500}


def test_several_batches_and_empty_batch(helpers):
    b = StageBuilder(helpers)
    stage = b.outputs(b.call("inc", col(0)), b.call("dbl", col(0)))
    batches = [batch(["INT NOT NULL"], random_ints(n, seed=n)) for n in (3, 0, 1000, 1)]
    outs, _ = run_both(helpers, stage, *batches)
    assert outs[1] == b""


def test_ten_columns(helpers):
    types = ["INT NOT NULL"] * 10
    b = StageBuilder(helpers, input_types=types)
    stage = b.outputs(*[b.call("inc", col(i)) for i in range(10)])
    rows = random_ints(300, ncols=10, lo=-2**31, hi=2**31 - 2)
    (out,), calls = run_both(helpers, stage, batch(types, rows))
    assert decode(types, out) == [[v + 1 for v in r] for r in rows]
    assert calls == {"inc": 3000}


def test_nested_calls(helpers):
    b = StageBuilder(helpers)
    stage = b.outputs(b.call("inc", b.call("dbl", b.call("neg", col(0)))))
    rows = random_ints(400, seed=3)
    (out,), calls = run_both(helpers, stage, batch(["INT NOT NULL"], rows))
    assert decode(["INT NOT NULL"], out) == [[-r[0] * 2 + 1] for r in rows]
    assert calls == {"inc": 400, "dbl": 400, "neg": 400}


def test_columns_constants_and_calls_mixed(helpers):
    types = ["INT NOT NULL", "STRING", "INT NOT NULL"]
    b = StageBuilder(helpers, input_types=types)
    stage = b.outputs(
        col(1, "STRING"),
        b.call("add", col(0), col(2)),
        const(7, "INT NOT NULL"),
        b.call("upper", col(1, "STRING")),
        col(0),
        b.call("add", col(0), col(2)),
    )
    rnd = random.Random(5)
    rows = [[rnd.randint(-50, 50), rnd.choice([None, "ab", "Zürich", ""]), rnd.randint(0, 9)] for _ in range(200)]
    (out,), calls = run_both(helpers, stage, batch(types, rows))
    got = decode(["STRING", "BIGINT", "INT NOT NULL", "STRING", "INT NOT NULL", "BIGINT"], out)
    assert got == [[r[1], r[0] + r[2], 7, None if r[1] is None else r[1].upper(), r[0], r[0] + r[2]] for r in rows]
    assert calls == {"add": 200}


def test_only_columns_and_constants(helpers):
    types = ["INT NOT NULL", "STRING"]
    b = StageBuilder(helpers, input_types=types)
    stage = b.outputs(col(1, "STRING"), const("k", "STRING"), col(0), col(1, "STRING"))
    rows = [[i, f"s{i}"] for i in range(50)]
    (out,), _ = run_both(helpers, stage, batch(types, rows))
    assert decode(["STRING", "STRING", "INT NOT NULL", "STRING"], out) == [[f"s{i}", "k", i, f"s{i}"] for i in range(50)]


CONSTANTS = [
    (42, "INT NOT NULL"),
    (-5, "BIGINT"),
    ("héllo", "STRING"),
    (2.5, "DOUBLE"),
    (None, "INT"),
    (None, "STRING"),
    (Decimal("12.34"), "DECIMAL(10, 2)"),
    (datetime.date(2024, 2, 29), "DATE"),
    (True, "BOOLEAN"),
    (b"\x00\xff", "BYTES"),
]


def test_constants(helpers):
    b = StageBuilder(helpers)
    stage = b.outputs(b.call("show", col(0), *[const(v, t) for v, t in CONSTANTS]))
    rows = random_ints(20)
    (out,), _ = run_both(helpers, stage, batch(["INT NOT NULL"], rows))
    want = [[repr((r[0], *[v for v, _ in CONSTANTS]))] for r in rows]
    assert decode(["STRING"], out) == want


def test_deterministic_call_used_twice_runs_once(helpers):
    b = StageBuilder(helpers)
    stage = b.outputs(b.call("tick", col(0)), b.call("tick", col(0)),
                      b.call("inc", b.call("tick", col(0))))
    rows = random_ints(100)
    _, calls = run_both(helpers, stage, batch(["INT NOT NULL"], rows))
    assert calls == {"tick": 100, "inc": 100}


def test_nondeterministic_call_used_twice_runs_twice(helpers):
    b = StageBuilder(helpers, nondeterministic={"tick"})
    stage = b.outputs(b.call("tick", col(0)), b.call("tick", col(0)),
                      b.call("inc", b.call("tick", col(0))))
    rows = random_ints(100)
    _, calls = run_both(helpers, stage, batch(["INT NOT NULL"], rows))
    assert calls == {"tick": 300, "inc": 100}


def test_same_function_different_args_not_shared(helpers):
    types = ["INT NOT NULL", "INT NOT NULL"]
    b = StageBuilder(helpers, input_types=types)
    stage = b.outputs(b.call("tick", col(0)), b.call("tick", col(1)), b.call("tick", const(1, "INT NOT NULL")),
                      b.call("tick", const(1, "INT NOT NULL")))
    _, calls = run_both(helpers, stage, batch(types, random_ints(10, ncols=2)))
    # equal constants are separate arguments, as in the fused function
    assert calls == {"tick": 40}


def test_call_order_matches_fused(helpers):
    # Fused runs the deterministic calls first, then the non-deterministic outputs;
    # a non-deterministic call under a repeated deterministic one runs once.
    types = ["INT NOT NULL", "INT NOT NULL"]
    b = StageBuilder(helpers, input_types=types, nondeterministic={"tock"})
    inner = b.call("tock", col(1))
    stage = b.outputs(
        b.call("tock", col(0)),
        b.call("add", col(0), b.call("tick", col(1))),
        b.call("add", inner, b.call("tick", col(0))),
        b.call("tick", b.call("tock", b.call("tick", col(1)))),
        b.call("add", inner, b.call("tick", col(0))),
        b.call("tock", b.call("tock", col(0))),
    )
    _, calls = run_both(helpers, stage, batch(types, random_ints(30, ncols=2)))
    assert calls == {"tock": 30 * 5, "tick": 30 * 3, "add": 30 * 2}


def test_output_used_as_argument_and_repeated(helpers):
    b = StageBuilder(helpers)
    t = b.call("inc", col(0))
    stage = b.outputs(t, b.call("dbl", t), t, b.call("neg", b.call("dbl", t)), b.call("dbl", t))
    rows = random_ints(100)
    (out,), calls = run_both(helpers, stage, batch(["INT NOT NULL"], rows))
    got = decode(["INT NOT NULL"] * 5, out)
    assert got == [[r[0] + 1, 2 * r[0] + 2, r[0] + 1, -2 * r[0] - 2, 2 * r[0] + 2] for r in rows]
    assert calls == {"inc": 100, "dbl": 100, "neg": 100}


def test_scalar_function_class_with_open(helpers):
    types = ["INT NOT NULL", "INT NOT NULL"]
    b = StageBuilder(helpers, input_types=types, job_parameters={"k": "5"})
    stage = b.outputs(b.call("affine", col(0)), b.call("affine", col(0), col(1)))
    rows = random_ints(100, ncols=2)
    (out,), calls = run_both(helpers, stage, batch(types, rows))
    assert decode(["BIGINT", "BIGINT"], out) == [[5 * x, 5 * x + y] for x, y in rows]
    assert calls == {"affine": 200}
    assert helpers.affine.func.opened


def test_null_inputs(helpers):
    b = StageBuilder(helpers, input_types=["STRING"])
    stage = b.outputs(b.call("upper", col(0, "STRING")), b.call("show", col(0, "STRING")))
    rows = [[None], ["a"], [None], ["xyz"]]
    (out,), _ = run_both(helpers, stage, batch(["STRING"], rows))
    assert decode(["STRING", "STRING"], out) == [[None, "(None,)"], ["A", "('a',)"], [None, "(None,)"], ["XYZ", "('xyz',)"]]


def test_malformed_stage_runs_like_the_slow_one(helpers):
    # A negative column works in the fused function (row[-1]); the fast operation runs it the same way.
    types = ["INT NOT NULL", "INT NOT NULL"]
    b = StageBuilder(helpers, input_types=types)
    stage = b.outputs(b.call("inc", col(-1)), b.call("inc", col(0)))
    rows = random_ints(20, ncols=2)
    (out,), _ = run_both(helpers, stage, batch(types, rows))
    assert decode(["INT NOT NULL"] * 2, out) == [[y + 1, x + 1] for x, y in rows]

    b = StageBuilder(helpers, input_types=types)
    stage = b.outputs(b.call("inc", col(5)))
    s, f = errors_of(helpers, stage, batch(types, rows))
    assert type(s) is type(f) is FunctionError
    assert str(s).splitlines()[0] == str(f).splitlines()[0] == "Python stage PythonCalc[test] failed on input row " + repr(tuple(rows[0])) + ":"


# -- scalar errors -----------------------------------------------------------------------


def test_raising_function_same_error(helpers):
    b = StageBuilder(helpers)
    stage = b.outputs(b.call("inc", col(0)), b.call("boom", b.call("inc", col(0))))
    rows = [[1], [5], [2], [9]]
    s, f = errors_of(helpers, stage, batch(["INT NOT NULL"], rows))
    assert type(s) is type(f) is FunctionError
    same_error(f, s)
    msg = str(f)
    assert msg.startswith("Python function 'boom_sql' (")
    assert "raised ValueError: no 3\n  arguments: (3,)\n  input row: (2,)\n" in msg
    assert "Python traceback:" in msg and 'raise ValueError(f"no {x}")' in msg
    assert f.__cause__ is None and f.__suppress_context__


def test_flaky_function_same_error_head(helpers):
    # The diagnosis re-run does not fail: the message carries the original traceback.
    b = StageBuilder(helpers)
    stage = b.outputs(b.call("flaky", col(0)))
    rows = [[1], [3]]
    errs = []
    for op in ops(stage):
        helpers.flaky.func.failed = False
        with pytest.raises(FunctionError) as ei:
            op.process(batch(["INT NOT NULL"], rows))
        errs.append(str(ei.value))
    s, f = errs
    assert f.splitlines()[0] == s.splitlines()[0] == "Python stage PythonCalc[test] failed on input row (3,):"
    assert f.splitlines()[-1] == s.splitlines()[-1] == "KeyError: 3"


def test_result_type_mismatch_same_error(helpers):
    b = StageBuilder(helpers)
    stage = b.outputs(b.call("inc", col(0)), b.call("wrong", col(0)))
    rows = [[0], [1], [7], [2]]
    s, f = errors_of(helpers, stage, batch(["INT NOT NULL"], rows))
    assert type(s) is type(f) is FunctionError
    assert str(f) == str(s)
    same_error(f, s)
    assert str(f).startswith("Python function 'wrong_sql' (")
    assert "field 1: " in str(f) and "'oops'" in str(f)
    assert str(f).endswith("  input row: (7,)")


def test_range_error_and_column_output_error(helpers):
    b = StageBuilder(helpers)
    stage = b.outputs(b.call("big", col(0)))
    s, f = errors_of(helpers, stage, batch(["INT NOT NULL"], [[0], [1000]]))
    assert str(f) == str(s)
    same_error(f, s)
    assert "does not fit TINYINT" in str(f)

    b = StageBuilder(helpers, input_types=["INT"])
    stage = b.outputs(pb.Expr(column=0, type="INT NOT NULL"))
    s, f = errors_of(helpers, stage, batch(["INT"], [[1], [None]]))
    assert str(f) == str(s)
    same_error(f, s)
    assert str(f).startswith("output 0 of PythonCalc[test] returned a value that does not fit")


def test_next_batch_is_clean_after_errors(helpers):
    b = StageBuilder(helpers)
    stage = b.outputs(b.call("boom", col(0)))
    good = batch(["INT NOT NULL"], [[1], [2]])
    bad = batch(["INT NOT NULL"], [[1], [2], [3]])
    fast = F.ScalarOperation(stage)
    with pytest.raises(FunctionError):
        fast.process(bad)
    assert fast.process(good) == S.ScalarOperation(stage).process(good)

    b = StageBuilder(helpers)
    stage = b.outputs(b.call("wrong", col(0)))
    fast = F.ScalarOperation(stage)
    with pytest.raises(FunctionError):
        fast.process(batch(["INT NOT NULL"], [[1], [2], [3]]))
    good = batch(["INT NOT NULL"], [[1], [3]])
    assert fast.process(good) == S.ScalarOperation(stage).process(good)


def test_decode_error_comes_first(helpers):
    b = StageBuilder(helpers)
    stage = b.outputs(b.call("boom", col(0)))
    data = batch(["INT NOT NULL"], [[1], [3], [4]]) + b"\x05\x00\x00"   # a function error, then a truncated row
    s, f = errors_of(helpers, stage, data)
    assert type(s) is type(f) is DecodeError
    assert str(f) == str(s)
    same_error(f, s)

    fast = F.ScalarOperation(stage)
    with pytest.raises(DecodeError):
        fast.process(batch(["INT NOT NULL"], [[1]]) + b"\x05\x00\x00")
    good = batch(["INT NOT NULL"], [[1]])
    assert fast.process(good) == S.ScalarOperation(stage).process(good)
    with pytest.raises(TypeError):
        fast.process("not bytes")


def test_base_exceptions_pass_through(helpers, monkeypatch):
    b = StageBuilder(helpers)
    stage = b.outputs(b.call("inc", col(0)))

    def interrupt(x):
        raise KeyboardInterrupt

    monkeypatch.setattr(helpers.inc, "_func", interrupt)
    fast = F.ScalarOperation(stage)
    with pytest.raises(KeyboardInterrupt):
        fast.process(batch(["INT NOT NULL"], [[1]]))


def test_construction_errors_match(helpers):
    b = StageBuilder(helpers)
    stage = b.outputs(b.call("inc", col(0)))
    stage.functions.add(name="nope", module=helpers.__name__, attr="missing", result_types=["INT"])
    errs = []
    for cls in (S.ScalarOperation, F.ScalarOperation):
        with pytest.raises(Exception) as ei:
            cls(stage)
        errs.append(ei.value)
    assert type(errs[0]) is type(errs[1])
    assert str(errs[0]) == str(errs[1])

    b = StageBuilder(helpers)
    stage = b.outputs(b.call("inc", col(0)))
    stage.outputs[0].call.function = 9
    errs = []
    for cls in (S.ScalarOperation, F.ScalarOperation):
        with pytest.raises(Exception) as ei:
            cls(stage)
        errs.append(ei.value)
    assert type(errs[0]) is type(errs[1]) is IndexError


def test_uninitialised():
    for cls in (F.ScalarOperation, F.TableOperation):
        with pytest.raises(RuntimeError, match="not initialised"):
            cls.__new__(cls).process(b"")


def test_not_reentrant(helpers):
    b = StageBuilder(helpers)
    stage = b.outputs(b.call("inc", col(0)))
    data = batch(["INT NOT NULL"], [[1]])

    def again(x):
        return fast.process(data)

    helpers.inc._func = again
    fast = F.ScalarOperation(stage)
    with pytest.raises(FunctionError, match="not reentrant"):
        fast.process(data)


# -- table functions ---------------------------------------------------------------------


def test_table_list_of_bare_values(helpers):
    b = StageBuilder(helpers, input_types=["STRING"])
    stage = b.table("split", col(0, "STRING"))
    rows = [["a b c"], [""], ["  one  "], ["x y"]]
    (out,), _ = run_both(helpers, stage, batch(["STRING"], rows))
    assert decode_table(["STRING"], out) == [[["a"], ["b"], ["c"]], [], [["one"]], [["x"], ["y"]]]


def test_table_generators(helpers):
    b = StageBuilder(helpers)
    stage = b.table("gen", col(0))
    rows = random_ints(200, lo=0, hi=100)
    (out,), _ = run_both(helpers, stage, batch(["INT NOT NULL"], rows))
    assert decode_table(["INT", "STRING"], out) == [[[i, f"{r[0]}-{i}"] for i in range(r[0] % 4)] for r in rows]

    b = StageBuilder(helpers)
    stage = b.table("gen1", col(0))
    (out,), _ = run_both(helpers, stage, batch(["INT NOT NULL"], rows))
    assert decode_table(["INT"], out) == [[[r[0] + i] for i in range(r[0] % 3)] for r in rows]


@pytest.mark.parametrize("attr,types", [
    ("maybe", ["INT", "STRING"]),      # None, or a list of a Row and a tuple
    ("single", ["INT"]),               # a bare value
    ("text", ["STRING"]),              # a str: one row
    ("one_row", ["INT", "STRING"]),    # a Row: one row
    ("tuples", ["INT", "STRING"]),     # a tuple of rows
    ("pairs", ["INT", "STRING"]),      # some iterable
    ("rows1", ["INT"]),                # bare values, tuples, Rows and lists of one column
])
def test_table_result_shapes(helpers, attr, types):
    b = StageBuilder(helpers)
    stage = b.table(attr, col(0))
    rows = random_ints(100, lo=0, hi=50)
    (out,), _ = run_both(helpers, stage, batch(["INT NOT NULL"], rows))
    got = decode_table(types, out)
    assert len(got) == len(rows)
    fn = getattr(helpers, attr)
    want = [list(S.rows_of(fn(*r), len(types) == 1)) for r in rows]
    assert [[tuple(x) for x in g] for g in got] == [[tuple(x) for x in w] for w in want]


def test_table_function_class_with_nested_args(helpers):
    types = ["INT NOT NULL", "STRING"]
    b = StageBuilder(helpers, input_types=types, job_parameters={"step": "2"})
    stage = b.table("counter", b.call("inc", b.call("dbl", col(0))), b.call("upper", col(1, "STRING")))
    rnd = random.Random(9)
    rows = [[rnd.randint(0, 20), rnd.choice(["a", "bc"])] for _ in range(100)]
    (out,), calls = run_both(helpers, stage, batch(types, rows))
    want = [[[i, f"{s.upper()}{i}"] for i in range(0, (2 * n + 1) % 5, 2)] for n, s in rows]
    assert decode_table(["INT", "STRING"], out) == want
    assert calls == {"inc": 100, "dbl": 100}


def test_table_constant_and_column_args(helpers):
    b = StageBuilder(helpers)
    stage = b.table("counter", col(0), const("k", "STRING"))
    rows = random_ints(50, lo=0, hi=20)
    (out,), _ = run_both(helpers, stage, batch(["INT NOT NULL"], rows))
    assert decode_table(["INT", "STRING"], out) == [[[i, f"k{i}"] for i in range(r[0] % 5)] for r in rows]


def test_table_raising_function(helpers):
    b = StageBuilder(helpers)
    stage = b.table("tboom", col(0))
    rows = [[1], [2], [10], [4]]
    s, f = errors_of(helpers, stage, batch(["INT NOT NULL"], rows))
    assert type(s) is type(f) is FunctionError
    same_error(f, s)
    assert str(f).startswith("Python function 'tboom_sql' (")
    assert "raised ZeroDivisionError: table 10\n  arguments: (10,)\n  input row: (10,)\n" in str(f)
    assert 'raise ZeroDivisionError(f"table {n}")' in str(f)


def test_table_generator_raising_midway(helpers):
    b = StageBuilder(helpers)
    stage = b.table("tgenboom", col(0))
    rows = [[1], [2], [10]]
    s, f = errors_of(helpers, stage, batch(["INT NOT NULL"], rows))
    same_error(f, s)
    assert "raised RuntimeError: gen 10" in str(f)

    fast = F.TableOperation(stage)
    with pytest.raises(FunctionError):
        fast.process(batch(["INT NOT NULL"], rows))
    good = batch(["INT NOT NULL"], [[1]])
    assert fast.process(good) == S.TableOperation(stage).process(good)


def test_table_error_in_arguments(helpers):
    b = StageBuilder(helpers)
    stage = b.table("gen", b.call("boom", col(0)))
    s, f = errors_of(helpers, stage, batch(["INT NOT NULL"], [[1], [3]]))
    same_error(f, s)
    assert str(f).startswith("Python function 'boom_sql' (")


@pytest.mark.parametrize("attr", ["twrong", "tarity"])
def test_table_result_mismatch(helpers, attr):
    b = StageBuilder(helpers)
    stage = b.table(attr, col(0))
    s, f = errors_of(helpers, stage, batch(["INT NOT NULL"], [[1], [2]]))
    assert type(s) is type(f) is FunctionError
    assert str(f) == str(s)
    same_error(f, s)
    assert str(f).startswith(f"Python function '{attr}_sql' (")
    assert str(f).endswith("  input row: (2,)")


def test_table_single_value_mismatch(helpers):
    b = StageBuilder(helpers)
    stage = b.table("text", col(0))
    stage.functions[0].result_types[:] = ["INT"]
    s, f = errors_of(helpers, stage, batch(["INT NOT NULL"], [[1]]))
    assert str(f) == str(s)
    same_error(f, s)
    assert "does not fit its declared result type" in str(f)


def test_table_decode_error_comes_first(helpers):
    b = StageBuilder(helpers)
    stage = b.table("tboom", col(0))
    data = batch(["INT NOT NULL"], [[1], [3], [10]]) + b"\x09\x00"
    s, f = errors_of(helpers, stage, data)
    assert type(s) is type(f) is DecodeError
    assert str(f) == str(s)
    same_error(f, s)


# -- randomized: call order, sharing and results against the fused function ------------


def _random_expr(rnd, b, depth, pool):
    r = rnd.random()
    if pool and r < 0.25:
        return rnd.choice(pool)
    if depth == 0 or r < 0.45:
        if rnd.random() < 0.8:
            return col(rnd.randrange(2))
        return const(rnd.randint(0, 3), "INT NOT NULL")
    attr = rnd.choice(["tick", "tock", "add"])
    args = [_random_expr(rnd, b, depth - 1, pool) for _ in range(2 if attr == "add" else 1)]
    e = b.call(attr, *args)
    pool.append(e)
    return e


@pytest.mark.parametrize("seed", range(40))
def test_random_stages(helpers, seed):
    rnd = random.Random(seed)
    types = ["INT NOT NULL", "INT NOT NULL"]
    nondet = {a for a in ("tick", "tock", "add") if rnd.random() < 0.4}
    b = StageBuilder(helpers, input_types=types, nondeterministic=nondet)
    pool = []
    outputs = [_random_expr(rnd, b, 3, pool) for _ in range(rnd.randint(1, 6))]
    for e in outputs:
        if e.WhichOneof("kind") != "constant":
            e.type = "BIGINT"   # sums of sums may leave INT
    if rnd.random() < 0.5:
        stage = b.outputs(*outputs)
    else:
        b.fn("gen")
        b.stage.kind = pb.Stage.TABLE
        b.stage.functions[b.index["gen"]].result_types[:] = ["INT", "STRING"]
        stage = b.outputs(pb.Expr(call=pb.Call(function=b.index["gen"], args=outputs[:1]), type="ROW"))
    rows = random_ints(30, seed=seed, lo=0, hi=50, ncols=2)
    run_both(helpers, stage, batch(types, rows[:10]), batch(types, rows[10:]))


# -- shapes and references -------------------------------------------------------------------


def test_no_outputs_and_no_inputs(helpers):
    b = StageBuilder(helpers)
    stage = b.outputs()
    (out,), _ = run_both(helpers, stage, batch(["INT NOT NULL"], random_ints(5)))

    b = StageBuilder(helpers, input_types=[])
    stage = b.outputs(b.call("inc", const(1, "INT NOT NULL")), const("c", "STRING"))
    (out,), calls = run_both(helpers, stage, batch([], [[]] * 4))
    assert decode(["INT NOT NULL", "STRING"], out) == [[2, "c"]] * 4
    assert calls == {"inc": 4}


def test_references_are_released(helpers):
    big = 10 ** 12 + 7
    helpers.same = type(helpers.inc)(lambda x: big, None, "BIGINT")
    helpers.first = type(helpers.inc)(lambda x, y: x, None, "BIGINT")
    b = StageBuilder(helpers)
    stage = b.outputs(b.call("same", col(0)), b.call("same", col(0)), b.call("first", b.call("same", col(0)), col(0)))
    fast = F.ScalarOperation(stage)
    data = batch(["INT NOT NULL"], random_ints(1000))
    base = sys.getrefcount(big)
    for _ in range(3):
        fast.process(data)
    assert sys.getrefcount(big) == base

    b = StageBuilder(helpers)
    helpers.gen_big = type(helpers.gen)(lambda x: [(big, "a")] * 3, None, ["BIGINT", "STRING"])
    stage = b.table("gen_big", col(0))
    fast = F.TableOperation(stage)
    for _ in range(3):
        fast.process(data)
    assert sys.getrefcount(big) == base


def test_failed_batch_leaves_no_rows_behind(tmp_path, monkeypatch):
    """After a function fails, the next batch's output holds only its own rows."""
    import sys
    import weir._functions as functions
    from weir import _operations_slow
    from weir.coder import RowDecoder, RowEncoder
    from weir.proto import weir_pb2
    from weir.types import parse_type

    mod = tmp_path / "failonce_mod.py"
    mod.write_text("from weir import udf\n\n@udf(result_type='INT')\ndef f(x):\n    if x == 2:\n        raise ValueError('two')\n    return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(functions, "_opened", {})
    sys.modules.pop("failonce_mod", None)
    stage = weir_pb2.Stage(kind=weir_pb2.Stage.SCALAR, input_types=["INT"], name="t")
    stage.functions.add(name="f", module="failonce_mod", attr="f", result_types=["INT"], deterministic=True)
    out = stage.outputs.add(type="INT")
    out.call.function = 0
    out.call.args.add(column=0, type="INT")
    impls = [_operations_slow]
    try:
        from weir import _operations_fast
        impls.append(_operations_fast)
    except ImportError:
        pass
    t = [parse_type("INT")]
    for impl in impls:
        op = impl.ScalarOperation(stage)
        with pytest.raises(Exception, match="two"):
            op.process(RowEncoder(t).encode([[1], [2]]))
        assert RowDecoder(t).decode(op.process(RowEncoder(t).encode([[5]]))) == [[5]], impl.__name__
