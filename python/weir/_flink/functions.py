"""weir's functions as PyFlink functions, for a job on a Flink cluster.

PyFlink ships a function to its workers as the pickled ``func`` of a
``pyflink.table.udf`` wrapper, and calls ``open``/``eval``/``close`` on it
when it is a ``pyflink.table.udf.UserDefinedFunction``. :func:`to_pyflink`
turns a weir wrapper (``udf``, ``udtf``, ``udaf``) into such a PyFlink
wrapper whose function is an adapter class of this module holding the weir
function: the worker unpickles the adapter (weir's pure-Python package is in
``python.files``), the adapter opens the weir function with a context that
behaves as weir's (job parameters, metric groups whose gauges may be set)
and gives results the way weir reads them (a table function's forms, see
``weir._operations_slow.rows_of``).

Types go to PyFlink as their Flink SQL spelling (``str`` of a weir type),
which PyFlink hands to Flink's type parser unchanged.
"""

from pyflink.table import udf as pf_udf


class WeirOnlyError(ValueError):
    """A weir feature that Flink does not have, asked of a Flink job."""


class _Gauge:
    """A gauge set with ``set(value)`` (weir's), reported through a PyFlink
    gauge that reads the latest value."""

    def __init__(self, name):
        self.name = name
        self._value = 0

    def set(self, value):
        self._value = int(value)

    def refresh(self):
        pass

    def read(self):
        return self._value


class _MetricGroup:
    """PyFlink's metric group with weir's extras: ``gauge(name)`` without a
    callable returns a gauge to ``set``."""

    def __init__(self, group):
        self._group = group

    def add_group(self, name, extra=None):
        return _MetricGroup(self._group.add_group(name, extra))

    def counter(self, name):
        return self._group.counter(name)

    def meter(self, name, time_span_in_seconds=60):
        return self._group.meter(name, time_span_in_seconds)

    def distribution(self, name):
        return self._group.distribution(name)

    def gauge(self, name, obj=None):
        if obj is not None:
            self._group.gauge(name, lambda: int(obj()))
            return None
        g = _Gauge(name)
        self._group.gauge(name, g.read)
        return g

    def has_callable_gauges(self):
        # PyFlink reads callable gauges itself.
        return False

    def refresh_gauges(self):
        pass


class _Context:
    """What a weir function sees in ``open``, over PyFlink's FunctionContext."""

    def __init__(self, ctx):
        self._ctx = ctx
        self._metric_group = None

    def get_job_parameter(self, key, default_value=None):
        return self._ctx.get_job_parameter(key, default_value)

    def get_metric_group(self):
        if self._metric_group is None:
            self._metric_group = _MetricGroup(self._ctx.get_metric_group())
        return self._metric_group


class _Adapter:
    """Opens, evaluates and closes one weir function wrapper."""

    def __init__(self, wrapper):
        self._wrapper = wrapper
        self._eval = None

    def open(self, function_context):
        self._wrapper.open(_Context(function_context))
        self._eval = self._wrapper.evaluator()

    def close(self):
        self._wrapper.close()

    def is_deterministic(self):
        return self._wrapper.deterministic


class ScalarAdapter(_Adapter, pf_udf.ScalarFunction):
    """A weir scalar function (general or pandas) as a PyFlink ScalarFunction."""

    def eval(self, *args):
        return self._eval(*args)


class TableAdapter(_Adapter, pf_udf.TableFunction):
    """A weir table function as a PyFlink TableFunction; results are read as
    weir reads them and handed to PyFlink as a list of tuples."""

    def __init__(self, wrapper):
        super().__init__(wrapper)
        self._single = len(wrapper.result_types) == 1

    def eval(self, *args):
        from weir._operations_slow import rows_of

        return [tuple(r) for r in rows_of(self._eval(*args), self._single)]


class AggregateAdapter(pf_udf.AggregateFunction):
    """A weir AggregateFunction as a PyFlink AggregateFunction."""

    def __init__(self, wrapper):
        self._wrapper = wrapper
        self._f = wrapper.func

    def open(self, function_context):
        self._f.open(_Context(function_context))

    def close(self):
        self._f.close()

    def is_deterministic(self):
        return self._wrapper.deterministic

    def create_accumulator(self):
        return self._f.create_accumulator()

    def accumulate(self, accumulator, *args):
        self._f.accumulate(accumulator, *args)

    def retract(self, accumulator, *args):
        self._f.retract(accumulator, *args)

    def merge(self, accumulator, accumulators):
        self._f.merge(accumulator, accumulators)

    def get_value(self, accumulator):
        return self._f.get_value(accumulator)


def _types(types):
    return None if types is None else [str(t) for t in types]


def is_weir_function(obj):
    from weir._udf import UserDefinedFunctionWrapper

    return isinstance(obj, UserDefinedFunctionWrapper)


def to_pyflink(wrapper, name=None):
    """The PyFlink wrapper of a weir function wrapper (a PyFlink wrapper is
    returned unchanged); name is for errors."""
    if not is_weir_function(wrapper):
        return wrapper
    name = name or wrapper.name
    kind = wrapper.kind
    func_type = getattr(wrapper, "func_type", "general")
    if kind == "scalar":
        if func_type not in ("general", "pandas"):
            raise WeirOnlyError(
                f"function {name!r}: func_type={func_type!r} is weir's own (pyarrow arrays); Flink has "
                "'general' and 'pandas' only: declare it with func_type='pandas' to run it on Flink")
        return pf_udf.udf(ScalarAdapter(wrapper), input_types=_types(wrapper.input_types),
                          result_type=str(wrapper.result_type), func_type=func_type,
                          deterministic=wrapper.deterministic, name=wrapper.name)
    if kind == "table":
        return pf_udf.udtf(TableAdapter(wrapper), input_types=_types(wrapper.input_types),
                           result_types=_types(wrapper.result_types), deterministic=wrapper.deterministic,
                           name=wrapper.name)
    if kind == "aggregate":
        if func_type == "pandas":
            return pf_udf.udaf(wrapper.func, input_types=_types(wrapper.input_types),
                               result_type=str(wrapper.result_type), func_type="pandas",
                               deterministic=wrapper.deterministic, name=wrapper.name)
        if wrapper.accumulator_type is None:
            raise WeirOnlyError(
                f"aggregate function {name!r} has no accumulator type: Flink needs one; declare it with "
                "udaf(..., accumulator_type=DataTypes.ROW(...)) or get_accumulator_type()")
        return pf_udf.udaf(AggregateAdapter(wrapper), input_types=_types(wrapper.input_types),
                           result_type=str(wrapper.result_type), accumulator_type=str(wrapper.accumulator_type),
                           func_type="general", deterministic=wrapper.deterministic, name=wrapper.name)
    raise WeirOnlyError(f"function {name!r}: weir function kind {kind!r} has no Flink counterpart")
