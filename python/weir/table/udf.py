"""User-defined functions for the Table API, as ``pyflink.table.udf``.

The same ``udf`` and ``udtf`` as ``weir``'s, whose functions may also be
called with Table API expressions: ``f(col('a'))`` is an expression that
calls f in the engine (f called with plain values runs it in Python, for
unit tests).
"""

import functools

from weir import _aggregate, _udf
from weir import _table_aggregate
from weir._aggregate import AggregateFunction, ListView, MapView, UserDefinedAggregateFunctionWrapper
from weir._table_aggregate import TableAggregateFunction, UserDefinedTableAggregateFunctionWrapper
from weir._udf import (FunctionContext, ScalarFunction, TableFunction, UserDefinedFunction,
                       UserDefinedScalarFunctionWrapper, UserDefinedTableFunctionWrapper)

__all__ = ["udf", "udtf", "udaf", "udtaf", "ScalarFunction", "TableFunction", "AggregateFunction",
           "TableAggregateFunction", "FunctionContext", "UserDefinedFunction", "ListView", "MapView"]


def _has_expression(args):
    from weir.table.expressions import Expression

    return any(isinstance(a, Expression) for a in args)


class _ExpressionCalls:
    def __call__(self, *args):
        if _has_expression(args):
            from weir.table.expressions import _Call, _expr

            return _Call(self, [_expr(a) for a in args])
        return super().__call__(*args)


class ScalarFunctionWrapper(_ExpressionCalls, UserDefinedScalarFunctionWrapper):
    pass


class TableFunctionWrapper(_ExpressionCalls, UserDefinedTableFunctionWrapper):
    pass


class AggregateFunctionWrapper(_ExpressionCalls, UserDefinedAggregateFunctionWrapper):
    pass


class TableAggregateFunctionWrapper(_ExpressionCalls, UserDefinedTableAggregateFunctionWrapper):
    pass


def udf(f=None, input_types=None, result_type=None, deterministic=None, name=None, func_type="general"):
    """Declare a scalar Python function, as weir.udf (func_type 'general',
    'pandas' or 'arrow'); it may also be called with expressions."""
    if f is None:
        return functools.partial(udf, input_types=input_types, result_type=result_type,
                                 deterministic=deterministic, name=name, func_type=func_type)
    w = _udf.udf(f, input_types=input_types, result_type=result_type, deterministic=deterministic, name=name,
                 func_type=func_type)
    w.__class__ = ScalarFunctionWrapper  # the same function; calls with expressions build expressions
    return w


def udtf(f=None, input_types=None, result_types=None, deterministic=None, name=None):
    """Declare a Python table function, as weir.udtf."""
    if f is None:
        return functools.partial(udtf, input_types=input_types, result_types=result_types,
                                 deterministic=deterministic, name=name)
    w = _udf.udtf(f, input_types=input_types, result_types=result_types, deterministic=deterministic, name=name)
    w.__class__ = TableFunctionWrapper
    return w


def udaf(f=None, input_types=None, result_type=None, accumulator_type=None, deterministic=None, name=None,
         func_type="general"):
    """Declare a Python aggregate function, as weir.udaf; called with
    expressions in group_by(...).select(...), it aggregates in the engine."""
    if f is None:
        return functools.partial(udaf, input_types=input_types, result_type=result_type,
                                 accumulator_type=accumulator_type, deterministic=deterministic, name=name,
                                 func_type=func_type)
    w = _aggregate.udaf(f, input_types=input_types, result_type=result_type, accumulator_type=accumulator_type,
                        deterministic=deterministic, name=name, func_type=func_type)
    w.__class__ = AggregateFunctionWrapper
    return w


def udtaf(f=None, input_types=None, result_type=None, accumulator_type=None, deterministic=None, name=None,
          func_type="general"):
    """Declare a Python table aggregate function, as weir.udtaf; pass it (or
    a call of it with expressions) to flat_aggregate."""
    if f is None:
        return functools.partial(udtaf, input_types=input_types, result_type=result_type,
                                 accumulator_type=accumulator_type, deterministic=deterministic, name=name,
                                 func_type=func_type)
    w = _table_aggregate.udtaf(f, input_types=input_types, result_type=result_type,
                               accumulator_type=accumulator_type, deterministic=deterministic, name=name,
                               func_type=func_type)
    w.__class__ = TableAggregateFunctionWrapper
    return w
