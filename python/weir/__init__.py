"""weir: Python user-defined functions over data streams, run by a Go engine.

The user surface follows PyFlink's: ``udf``, ``udtf``, ``DataTypes``,
``ScalarFunction``, ``TableFunction``, ``FunctionContext`` and ``Row``.
Names are imported lazily so that a worker starts fast.
"""

__version__ = "0.1.0"

_EXPORTS = {
    "udf": "weir._udf",
    "udtf": "weir._udf",
    "ScalarFunction": "weir._udf",
    "TableFunction": "weir._udf",
    "FunctionContext": "weir._udf",
    "UserDefinedFunction": "weir._udf",
    "udaf": "weir._aggregate",
    "AggregateFunction": "weir._aggregate",
    "ListView": "weir._aggregate",
    "MapView": "weir._aggregate",
    "udtaf": "weir._table_aggregate",
    "TableAggregateFunction": "weir._table_aggregate",
    "MetricGroup": "weir.metrics",
    "DataTypes": "weir.types",
    "DataType": "weir.types",
    "Row": "weir.row",
    "RowKind": "weir.row",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'weir' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
