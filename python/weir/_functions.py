"""Loading, opening and fusing the functions of a Python stage.

Shared by the slow and the fast operations: both call the fused Python
function that ``fuse`` compiles, so the two differ only in how rows are
decoded and encoded and how the per-row loop runs.
"""

import atexit
import importlib
import os
import sys
import threading
import traceback

from weir.errors import FunctionError, FunctionLoadError
from weir.types import parse_type

_lock = threading.RLock()  # re-entrant: close_all may run in a signal handler
_opened = {}  # (module, attr) -> wrapper, opened once per worker process


def isolate_path():
    """Drop the working directory that ``python -m`` put first on sys.path.

    weir.describe (planning) and weir.worker both call this first, so both
    find the user's modules on PYTHONPATH, python.files first, in the same
    order: a stray file of the same name in the working directory cannot
    shadow a shipped module in one and not in the other. (Both also run in a
    private empty directory, in case this is bypassed.) Under ``python -P``
    (Python 3.11+: PYTHONSAFEPATH) nothing was put there and nothing is dropped.
    """
    if getattr(sys.flags, "safe_path", False) or not sys.path:
        return
    first = sys.path[0]
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = None
    if first == "" or (cwd is not None and os.path.abspath(first) == cwd):
        del sys.path[0]


def _import_failure(module, e):
    # Keep the user's frames: not weir's call, nor importlib's machinery.
    frames = [f for f in traceback.extract_tb(e.__traceback__)
              if "importlib" not in f.filename and not f.filename.endswith("weir/_functions.py")]
    tb = "".join(traceback.format_list(frames)) + "".join(traceback.format_exception_only(type(e), e))
    return (f"importing Python module {module!r} failed: {type(e).__name__}: {e}\n"
            f"Traceback (most recent call last):\n{tb}").rstrip()


def load(module, attr):
    """Import ``module`` and return its weir UDF ``attr``."""
    from weir._udf import UserDefinedFunctionWrapper

    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and module.split(".")[0] == e.name.split(".")[0]:
            # The module itself is not on the path: say where we looked.
            raise FunctionLoadError(
                f"cannot import Python module {module!r}: {type(e).__name__}: {e}\n"
                f"Python path: {sys.path}\n"
                f"Ship the file with --pyfiles (or SET 'python.files' = '...')."
            ) from e
        raise FunctionLoadError(_import_failure(module, e)) from e
    except Exception as e:
        # The module was found but failed while importing: show where.
        raise FunctionLoadError(_import_failure(module, e)) from e
    try:
        f = getattr(mod, attr)
    except AttributeError:
        raise FunctionLoadError(f"module {module!r} ({getattr(mod, '__file__', '?')}) has no attribute {attr!r}") from None
    if not isinstance(f, UserDefinedFunctionWrapper):
        raise FunctionLoadError(
            f"{module}.{attr} is {type(f).__name__}, not a weir function; "
            f"decorate it with @weir.udf(result_type=...) or @weir.udtf(result_types=[...])")
    return f


def open_function(fn, job_parameters):
    """Load and open the function of a ``weir.v1.Function``, once per process."""
    key = (fn.module, fn.attr)
    with _lock:
        w = _opened.get(key)
        if w is None:
            from weir._udf import FunctionContext

            w = load(fn.module, fn.attr)
            try:
                w.open(FunctionContext(dict(job_parameters)))
            except Exception as e:
                raise FunctionError(
                    f"open() of Python function {fn.name!r} ({fn.module}.{fn.attr}) failed: "
                    f"{type(e).__name__}: {e}\n{traceback.format_exc()}") from e
            _opened[key] = w
    return w


@atexit.register
def close_all():
    """Close every opened function, once, in the order they were opened.

    Runs when the worker exits: at exit (the harness returns when the engine
    ends the control stream) or on SIGTERM (weir.worker's handler). A close
    that raises is reported on stderr and does not keep the others from
    closing.
    """
    with _lock:
        ws = list(_opened.values())
        _opened.clear()
    if not ws:
        return
    restore = _defer_sigterm()
    try:
        for w in ws:
            try:
                w.close()
            except Exception:
                sys.stderr.write(f"weir: close() of Python function {w.name!r} raised:\n{traceback.format_exc()}")
                sys.stderr.flush()
    finally:
        restore()


def _defer_sigterm():
    """Hold off SIGTERM while functions close; returns the function that
    restores the previous handler and then delivers a SIGTERM that came.

    The engine ends a worker by closing its control stream, then, if it has
    not exited a moment later, with SIGTERM (whose handler in weir.worker
    closes the functions and exits at once). Without this, a close() that is
    running at exit when SIGTERM comes would be cut short by that handler.
    Signal handlers can be changed only in the main thread; elsewhere this
    does nothing.
    """
    import signal

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    try:
        previous = signal.getsignal(signal.SIGTERM)
        pending = []
        signal.signal(signal.SIGTERM, lambda signum, frame: pending.append(signum))
    except (ValueError, OSError):
        return lambda: None

    def restore():
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        if pending:
            signal.raise_signal(signal.SIGTERM)

    return restore


def decode_constant(expr):
    from weir.coder import RowDecoder

    rows = RowDecoder([parse_type(expr.type)]).decode(expr.constant)
    return rows[0][0]


class Fused:
    """The stage's outputs compiled into one Python function of the input row.

    ``fn(row)`` returns a tuple of the outputs (scalar stages) or the
    argument tuple of the table function (table stages). Equal calls of
    deterministic functions are evaluated once per row. (So is a
    deterministic call of a non-deterministic call's result, f(rand()),
    which Flink would evaluate each time; _operations_fast._plan mirrors this
    and must change with it.)
    """

    def __init__(self, stage, wrappers, outputs):
        self.stage = stage
        self.wrappers = wrappers
        self.evaluators = [w.evaluator() for w in wrappers]
        self.constants = []
        self._lines = []
        self._memo = {}
        names = [self._emit(e) for e in outputs]
        src = "def fused(row):\n"
        src += "".join(f"    {line}\n" for line in self._lines)
        src += f"    return ({''.join(n + ', ' for n in names)})\n"
        self.source = src
        env = {f"f{i}": f for i, f in enumerate(self.evaluators)}
        env.update({f"c{i}": c for i, c in enumerate(self.constants)})
        exec(compile(src, f"<weir stage {stage.name}>", "exec"), env)
        self.fn = env["fused"]

    def _emit(self, e):
        which = e.WhichOneof("kind")
        if which == "column":
            return f"row[{e.column}]"
        if which == "constant":
            self.constants.append(decode_constant(e))
            return f"c{len(self.constants) - 1}"
        args = [self._emit(a) for a in e.call.args]
        call = f"f{e.call.function}({', '.join(args)})"
        fn = self.stage.functions[e.call.function]
        if not fn.deterministic:
            return call
        if call not in self._memo:
            self._memo[call] = f"t{len(self._memo)}"
            self._lines.append(f"{self._memo[call]} = {call}")
        return self._memo[call]

    def diagnose(self, row, exc):
        """Re-run a failed row call by call and name the function that failed."""
        if getattr(exc, "weir_aggregate", False):
            return exc  # an aggregate function's evaluator named the group and the row
        failed = {}

        def ev(e):
            which = e.WhichOneof("kind")
            if which == "column":
                return row[e.column]
            if which == "constant":
                return decode_constant(e)
            args = [ev(a) for a in e.call.args]
            try:
                return self.evaluators[e.call.function](*args)
            except Exception as err:
                if not failed:
                    failed.update(fn=self.stage.functions[e.call.function], args=args,
                                  tb=user_traceback(err), err=err)
                raise

        outputs = self.stage.outputs if self.stage.kind == 0 else self.stage.outputs[0].call.args
        try:
            for e in outputs:
                ev(e)
        except Exception:
            pass
        if failed:
            fn = failed["fn"]
            return function_error(fn, failed["args"], row, failed["err"], failed["tb"])
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return FunctionError(f"Python stage {self.stage.name} failed on input row {tuple(row)!r}:\n{tb}")


def user_traceback(err):
    """The traceback of err from the user's function down: without this
    module's frame that called it, and without the exception it happened
    while handling (the first, undiagnosed failure of the same row)."""
    frames = traceback.extract_tb(err.__traceback__)[1:]
    return ("Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
            + "".join(traceback.format_exception_only(type(err), err)))


def function_error(fn, args, row, err, tb):
    if getattr(err, "weir_aggregate", False):
        return err  # an aggregate's evaluator named the group and the row itself
    return FunctionError(
        f"Python function {fn.name!r} ({fn.module}.{fn.attr}) raised {type(err).__name__}: {err}\n"
        f"  arguments: {tuple(args)!r}\n"
        f"  input row: {tuple(row)!r}\n"
        f"Python traceback:\n{tb}")


def function_label(fn):
    """How warnings about a function's results name it."""
    return f"Python function {fn.name!r} ({fn.module}.{fn.attr})"


def result_labels(stage, outputs=None):
    """The function_label of each output of a scalar stage (None for an
    output that is a column or a constant), for RowEncoder.label."""
    out = []
    for e in stage.outputs if outputs is None else outputs:
        out.append(function_label(stage.functions[e.call.function]) if e.WhichOneof("kind") == "call" else None)
    return out


def result_error(stage, field, row, err):
    """A result that does not fit its declared type.

    ``field`` is the output of a scalar stage, or the column of the table
    function's row, that the coder could not encode; the message names the
    function, its declared type and what was wrong with the value.
    """
    # The coder's error knows the field (None: the row as a whole, e.g. a
    # table function's row of the wrong width); the callers pass 0 for it.
    if getattr(err, "weir_coder_error", False):
        field = getattr(err, "field", None)
    e = stage.outputs[field or 0] if stage.kind == 0 and (field or 0) < len(stage.outputs) else stage.outputs[0]
    declared = e.type
    if e.WhichOneof("kind") == "call":
        fn = stage.functions[e.call.function]
        who = f"Python function {fn.name!r} ({fn.module}.{fn.attr})"
        if stage.kind != 0:
            types = list(fn.result_types)
            declared = ", ".join(types)
            if len(types) > 1 and field is not None and field < len(types):
                declared = f"{declared} (column {field + 1}: {types[field]})"
    else:
        who = f"output {field or 0} of {stage.name}"
    # str(err) starts with the field (of the stage's outputs, or of the
    # table function's row) and the path inside a nested value, e.g.
    # "field 0[1]: expected int for INT, got str 'two'".
    return FunctionError(f"{who} returned a value that does not fit its declared result type {declared}: {err}\n"
                         f"  input row: {tuple(row)!r}")
