"""User-defined functions for the Table API, as ``pyflink.table.udf``.

The same ``udf`` and ``udtf`` as ``weir``'s, whose functions may also be
called with Table API expressions: ``f(col('a'))`` is an expression that
calls f in the engine (f called with plain values runs it in Python, for
unit tests).
"""

import functools

from weir._udf import (FunctionContext, ScalarFunction, TableFunction, UserDefinedFunction,
                       UserDefinedScalarFunctionWrapper, UserDefinedTableFunctionWrapper)

__all__ = ["udf", "udtf", "ScalarFunction", "TableFunction", "FunctionContext", "UserDefinedFunction"]


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


def udf(f=None, input_types=None, result_type=None, deterministic=None, name=None, func_type="general"):
    """Declare a scalar Python function: ``@udf(result_type=DataTypes.INT())``
    or ``udf(lambda x: x + 1, result_type='INT')``."""
    if func_type != "general":
        raise ValueError(f"func_type={func_type!r} is not supported; weir runs 'general' (row at a time) UDFs")
    if f is None:
        return functools.partial(udf, input_types=input_types, result_type=result_type,
                                 deterministic=deterministic, name=name, func_type=func_type)
    return ScalarFunctionWrapper(f, input_types, result_type, deterministic, name)


def udtf(f=None, input_types=None, result_types=None, deterministic=None, name=None):
    """Declare a Python table function: ``@udtf(result_types=[...])``."""
    if f is None:
        return functools.partial(udtf, input_types=input_types, result_types=result_types,
                                 deterministic=deterministic, name=name)
    return TableFunctionWrapper(f, input_types, result_types, deterministic, name)
