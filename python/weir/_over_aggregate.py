"""Vectorized (pandas) aggregate functions over OVER windows, in batch mode.

The engine sorts each partition by the window, computes each row's frame and
sends the partition in chunks (``internal/over/python.go``); the evaluator
of a function is called once per chunk with: the number of arguments, one
list per argument (the values the chunk's frames cover, in window order),
the runs of frames as flat triples ``(rows, start, end)`` over those lists,
the position in its partition of the lists' first value and of the chunk's
first row, and then the partition's keys, which only errors use. It calls
the function once per run, with each argument's frame as a
``pandas.Series`` sliced from the partition's (its index is the position in
the partition, as PyFlink's ``iloc`` slices keep), and returns one value
per run.

The stage finds the evaluator as an attribute of this module named
``<module>:<attr>`` after the aggregate function's module and attribute.
"""

import functools
import traceback
import types

from weir._udf import UserDefinedFunctionWrapper
from weir.errors import FunctionError
from weir.row import Row
from weir.types import BigIntType, IntType, SmallIntType, TinyIntType

_INT_TYPES = (TinyIntType, SmallIntType, IntType, BigIntType)
_wrappers = {}


def __getattr__(name):
    if name.startswith("__") or ":" not in name:
        raise AttributeError(name)
    w = _wrappers.get(name)
    if w is None:
        module, attr = name.rsplit(":", 1)
        w = _wrappers[name] = OverAggregateWrapper(module, attr)
    return w


class OverAggregateWrapper(UserDefinedFunctionWrapper):
    """The over-window evaluator of the aggregate function ``module.attr``.

    The function itself is opened once per worker, as a function of any
    stage (weir._functions.open_function), when this wrapper is."""

    kind = "aggregate"

    def __init__(self, module, attr):  # noqa: super's checks are the function's own
        self._module, self._attr = module, attr
        self._inner = None
        self._name = attr
        self._deterministic = True
        self._input_types = None
        self._context = None

    def open(self, context):
        from weir import _functions

        fn = types.SimpleNamespace(name=self._attr, module=self._module, attr=self._attr)
        self._inner = _functions.open_function(fn, context._job_parameters)
        self._name = self._inner.name
        if getattr(self._inner, "kind", None) != "aggregate":
            raise FunctionError(f"{self._module}.{self._attr} is not an aggregate function (udaf)")

    def close(self):
        pass  # the function closes with the worker's other functions

    def evaluator(self):
        inner = self._inner
        if inner.func_type != "pandas":
            raise FunctionError(f"aggregate function {inner.name!r} is a general aggregate function: over "
                                "windows run only pandas ones (func_type='pandas'), as in PyFlink")
        ints = str(inner.result_type) if isinstance(inner.result_type, _INT_TYPES) else None
        return functools.partial(_chunk, inner.name, ints, inner.func, inner._is_class)

    def __repr__(self):
        return f"<weir over-window evaluator of {self._module}.{self._attr}>"


def _chunk(name, ints, f, is_class, nargs, *cols):
    import pandas as pd

    lists, runs, base, first, keys = cols[:nargs], cols[nargs], cols[nargs + 1], cols[nargs + 2], cols[nargs + 3:]
    index = pd.RangeIndex(base, base + (len(lists[0]) if nargs else 0))
    series = [pd.Series(c, index=index) for c in lists]
    out = []
    row = first
    for i in range(0, len(runs), 3):
        n, s, e = runs[i], runs[i + 1], runs[i + 2]
        args = [x.iloc[s:e] for x in series]
        try:
            if is_class:
                acc = f.create_accumulator()
                if isinstance(acc, Row):
                    from weir._aggregate import _RowAccumulator

                    acc = _RowAccumulator(acc)
                f.accumulate(acc, *args)
                r = f.get_value(acc)
            else:
                r = f(*args)
        except Exception as err:
            raise _error(name, keys, row, n, args, err) from None
        out.append(_scalar(name, ints, r, keys, row))
        row += n
    return out


def _where(keys, row, n=1):
    rows = f"row {row + 1}" if n == 1 else f"rows {row + 1} to {row + n}"
    return f"the OVER window frame of {rows} of partition {_short(tuple(keys))}"


def _short(v, limit=200):
    s = repr(v)
    return s if len(s) <= limit else s[:limit] + "..."


def _error(name, keys, row, n, args, err):
    frames = traceback.extract_tb(err.__traceback__)[1:]
    tb = ("Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
          + "".join(traceback.format_exception_only(type(err), err)))
    sizes = ", ".join(str(len(a)) for a in args)
    e = FunctionError(f"pandas aggregate function {name!r} raised {type(err).__name__} over {_where(keys, row, n)} "
                      f"(pandas.Series of {sizes} values): {err}\nPython traceback:\n{tb}")
    e.weir_aggregate = True
    return e


def _scalar(name, ints, r, keys, row):
    """The function's value for a frame: one scalar, numpy's as Python's;
    for an integer result type (ints), not a float with a fraction (as
    PyFlink's pyarrow conversion refuses it)."""
    import pandas as pd

    if isinstance(r, (pd.Series, pd.DataFrame, list, tuple, dict)) or getattr(r, "ndim", 0) != 0:
        size = f" of {len(r)} values" if hasattr(r, "__len__") else ""
        e = FunctionError(f"pandas aggregate function {name!r} returned a {type(r).__name__}{size} for "
                          f"{_where(keys, row)}; it must return one scalar per frame (e.g. series.mean())")
        e.weir_aggregate = True
        raise e
    if hasattr(r, "item"):
        r = r.item()
    if isinstance(r, float) and r != r:
        return None  # NaN is NULL, as pyarrow converts PyFlink's pandas results
    if ints is not None and isinstance(r, float):
        if not r.is_integer():
            e = FunctionError(f"pandas aggregate function {name!r} returned float {r!r} for its {ints} result for "
                              f"{_where(keys, row)}: a float with a fraction is not converted to an integer type "
                              "(as in PyFlink); round it (e.g. int(x), round(x)) or declare a FLOAT or DOUBLE result")
            e.weir_aggregate = True
            raise e
        r = int(r)
    return r
