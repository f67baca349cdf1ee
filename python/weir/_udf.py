"""User-defined functions, shaped like PyFlink's ``pyflink.table.udf``.

``@udf`` and ``@udtf`` wrap a function, lambda, callable object,
``functools.partial`` or a ``ScalarFunction`` / ``TableFunction`` instance
together with its declared types. The wrapper is still callable, so a UDF
can be unit-tested as plain Python.
"""

import functools
import inspect

from weir.types import DataType, check_no_view, parse_type


class FunctionContext:
    """What a function sees of its job in ``open``."""

    def __init__(self, job_parameters=None, metric_group=None):
        self._job_parameters = dict(job_parameters or {})
        self._metric_group = metric_group

    def get_job_parameter(self, key, default_value=None):
        """The value of ``key`` in ``pipeline.global-job-parameters``, or the default.

        ``SET 'pipeline.global-job-parameters' = 'k1:v1,k2:v2'`` gives
        ``get_job_parameter('k1') == 'v1'``; values are strings.
        """
        return self._job_parameters.get(key, default_value)

    def get_metric_group(self):
        """The function's metric group (counters, gauges, distributions)."""
        if self._metric_group is None:
            from weir.metrics import MetricGroup

            self._metric_group = MetricGroup()
        return self._metric_group


class UserDefinedFunction:
    """Base of function classes: ``open`` and ``close`` run once per worker."""

    def open(self, function_context):
        pass

    def close(self):
        pass

    def is_deterministic(self):
        return True


class ScalarFunction(UserDefinedFunction):
    """A function of one row's values returning one value; implement ``eval``."""

    def eval(self, *args):
        raise NotImplementedError("ScalarFunction subclasses implement eval")


class TableFunction(UserDefinedFunction):
    """A function returning or yielding zero or more rows; implement ``eval``."""

    def eval(self, *args):
        raise NotImplementedError("TableFunction subclasses implement eval")


def _to_type(t, what):
    if t is None:
        return None
    if isinstance(t, DataType):
        return t
    if isinstance(t, str):
        return parse_type(t)
    raise TypeError(f"{what} must be a weir DataType or a type string such as 'INT', got {t!r}")


def _function_name(f):
    if isinstance(f, functools.partial):
        return _function_name(f.func)
    if isinstance(f, UserDefinedFunction):
        return type(f).__name__
    return getattr(f, "__name__", None) or type(f).__name__


class UserDefinedFunctionWrapper:
    """A Python function with its declared types, as ``@udf`` returns it."""

    kind = None

    def __init__(self, func, input_types, deterministic, name):
        if not callable(func) and not isinstance(func, UserDefinedFunction):
            raise TypeError(f"a UDF must be callable or a {self._base.__name__}, got {func!r}")
        if isinstance(func, type) and issubclass(func, UserDefinedFunction):
            func = func()
        self._func = func
        if input_types is not None:
            if isinstance(input_types, (DataType, str)):
                input_types = [input_types]
            input_types = [_to_type(t, "input_types") for t in input_types]
            if self.kind in ("scalar", "table"):
                # Aggregate functions check theirs, naming the function.
                for t in input_types:
                    check_no_view(t, "input_types")
        self._input_types = input_types
        if deterministic is None:
            deterministic = func.is_deterministic() if isinstance(func, UserDefinedFunction) else True
        self._deterministic = bool(deterministic)
        self._name = name or _function_name(func)
        self._context = None

    @property
    def name(self):
        return self._name

    @property
    def input_types(self):
        return self._input_types

    @property
    def deterministic(self):
        return self._deterministic

    @property
    def func(self):
        return self._func

    def evaluator(self):
        """The callable that computes the function (``eval`` of a function class).

        After ``open``, a function that registered gauges with callables gets
        a wrapper that reads them after each call, so that the value at the
        end of a bundle is reported.
        """
        f = self._func.eval if isinstance(self._func, UserDefinedFunction) else self._func
        group = self._context._metric_group if self._context is not None else None
        if group is None or not group.has_callable_gauges():
            return f
        refresh = group.refresh_gauges

        @functools.wraps(f)
        def with_gauges(*args):
            try:
                return f(*args)
            finally:
                refresh()

        return with_gauges

    def open(self, context):
        self._context = context
        if isinstance(self._func, UserDefinedFunction):
            self._func.open(context)

    def close(self):
        if isinstance(self._func, UserDefinedFunction):
            self._func.close()

    def __call__(self, *args):
        return self.evaluator()(*args)

    def describe(self):
        """Types and flags, as the planner reads them."""
        lo, hi = _arity(self.evaluator())
        return {
            "min_args": lo,
            "max_args": hi,
            "name": self._name,
            "kind": self.kind,
            "input_types": None if self._input_types is None else [str(t) for t in self._input_types],
            "result_types": [str(t) for t in self.result_types],
            "deterministic": self._deterministic,
        }


class UserDefinedScalarFunctionWrapper(UserDefinedFunctionWrapper):
    kind = "scalar"
    _base = ScalarFunction

    def __init__(self, func, input_types, result_type, deterministic=None, name=None, func_type="general"):
        super().__init__(func, input_types, deterministic, name)
        if result_type is None:
            raise TypeError(f"udf {self._name!r}: result_type is required, e.g. result_type=DataTypes.INT()")
        self._result_type = check_no_view(_to_type(result_type, "result_type"), "result_type")
        if func_type not in _FUNC_TYPES:
            raise ValueError(f"func_type={func_type!r} is not supported; use 'general' (called once per row), "
                             "'pandas' (pandas.Series in and out, once per batch) or 'arrow' (pyarrow arrays "
                             "in and out)")
        self._func_type = func_type

    @property
    def func_type(self):
        """"general" (called once per row), "pandas" or "arrow" (called once per batch)."""
        return self._func_type

    def describe(self):
        d = super().describe()
        d["func_type"] = self._func_type
        return d

    @property
    def result_type(self):
        return self._result_type

    @property
    def result_types(self):
        return [self._result_type]

    def __repr__(self):
        return f"<weir udf {self._name} -> {self._result_type}>"


class UserDefinedTableFunctionWrapper(UserDefinedFunctionWrapper):
    kind = "table"
    _base = TableFunction

    def __init__(self, func, input_types, result_types, deterministic=None, name=None):
        super().__init__(func, input_types, deterministic, name)
        if result_types is None:
            raise TypeError(
                f"udtf {self._name!r}: result_types is required, e.g. result_types=[DataTypes.STRING()]")
        if isinstance(result_types, (DataType, str)):
            result_types = [result_types]
        self._result_types = [check_no_view(_to_type(t, "result_types"), "result_types") for t in result_types]
        if not self._result_types:
            raise TypeError(f"udtf {self._name!r}: result_types must name at least one column")

    @property
    def result_types(self):
        return list(self._result_types)

    def __repr__(self):
        return f"<weir udtf {self._name} -> {', '.join(map(str, self._result_types))}>"


def udf(f=None, input_types=None, result_type=None, deterministic=None, name=None, func_type="general"):
    """Declare a scalar Python function, as ``pyflink.table.udf.udf``.

    Use as ``@udf(result_type=DataTypes.INT())`` or ``udf(lambda x: x + 1,
    result_type='INT')``. With ``func_type="pandas"`` the function is called
    once per batch of rows with a ``pandas.Series`` per argument (a
    ``DataFrame`` for a ROW) and returns a Series of the same length (a
    DataFrame for a ROW result), as PyFlink's vectorized functions; with
    ``func_type="arrow"`` it gets and returns ``pyarrow`` arrays.
    """
    if f is None:
        return functools.partial(udf, input_types=input_types, result_type=result_type,
                                 deterministic=deterministic, name=name, func_type=func_type)
    return UserDefinedScalarFunctionWrapper(f, input_types, result_type, deterministic, name, func_type)


# The ways a scalar function is called: once per row, or once per batch of
# rows with pandas.Series or pyarrow arrays (weir._vectorized).
_FUNC_TYPES = ("general", "pandas", "arrow")


def udtf(f=None, input_types=None, result_types=None, deterministic=None, name=None):
    """Declare a Python table function, as ``pyflink.table.udf.udtf``."""
    if f is None:
        return functools.partial(udtf, input_types=input_types, result_types=result_types,
                                 deterministic=deterministic, name=name)
    return UserDefinedTableFunctionWrapper(f, input_types, result_types, deterministic, name)


def is_generator(f):
    return inspect.isgeneratorfunction(f)


def _arity(f):
    """(min, max) positional arguments of f; max is -1 for *args."""
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return 0, -1
    lo = hi = 0
    for p in sig.parameters.values():
        if p.kind == p.VAR_POSITIONAL:
            hi = -1
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            if hi >= 0:
                hi += 1
            if p.default is p.empty:
                lo += 1
    return lo, hi
