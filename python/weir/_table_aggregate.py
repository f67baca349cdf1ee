"""Table aggregate functions, shaped like PyFlink's ``pyflink.table.udf.udtaf``.

A ``TableAggregateFunction`` builds an accumulator per group
(``create_accumulator``), folds the group's rows into it (``accumulate``)
and yields the group's rows from it (``emit_value``): zero or more rows per
group, where an ``AggregateFunction`` gives one value. Flink has no SQL
syntax for them; the Table API calls them with ``flat_aggregate``.

In batch mode the engine collects each group's arguments and calls the
wrapper's evaluator once per group (``internal/plan/udtaf.go``): it gets the
number of arguments, the field names of the Row the function takes (as
JSON; ``null`` when it takes plain arguments), one list per argument (the
group's values in input order, NULLs as None) and the group's keys, which
only errors use. It returns the list of the rows ``emit_value`` yielded.
"""

import functools
import json
import operator

from weir._aggregate import ImperativeAggregateFunction, _group_error, _RowAccumulator, _short
from weir._udf import UserDefinedFunctionWrapper, _arity, _to_type
from weir.errors import FunctionError
from weir.row import Row, _make_row
from weir.types import DataType


class TableAggregateFunction(ImperativeAggregateFunction):
    """A user-defined table aggregate function, as PyFlink's ``TableAggregateFunction``:
    ``emit_value`` yields a group's rows from its accumulator."""

    _declared_by = "udtaf"

    def emit_value(self, accumulator):
        raise NotImplementedError(f"{type(self).__name__} must define emit_value(accumulator), yielding rows")


class UserDefinedTableAggregateFunctionWrapper(UserDefinedFunctionWrapper):
    """A table aggregate function with its declared types, as ``udtaf`` returns it."""

    kind = "table_aggregate"
    _base = TableAggregateFunction

    def __init__(self, func, input_types, result_type, accumulator_type=None, deterministic=None, name=None,
                 func_type="general"):
        if func_type != "general":
            raise ValueError(f"udtaf: func_type={func_type!r} is not supported; table aggregate functions are "
                             "'general' (a TableAggregateFunction), as in PyFlink")
        if isinstance(func, type) and issubclass(func, TableAggregateFunction):
            func = func()
        if not isinstance(func, TableAggregateFunction):
            raise TypeError(f"udtaf: want a TableAggregateFunction, got {func!r}")
        super().__init__(func, input_types, deterministic, name)
        self._func_type = func_type
        if result_type is None:
            result_type = func.get_result_type()
        if result_type is None:
            raise TypeError(f"udtaf {self._name!r}: result_type is required, e.g. "
                            "result_type=DataTypes.ROW([DataTypes.FIELD('a', DataTypes.BIGINT())])")
        self._result_type = _to_type(result_type, "result_type")
        if accumulator_type is None:
            try:
                accumulator_type = func.get_accumulator_type()
            except NotImplementedError:
                accumulator_type = None
        self._accumulator_type = None if accumulator_type is None else _to_type(accumulator_type, "accumulator_type")
        self._alias_names = None

    @property
    def func_type(self):
        return self._func_type

    @property
    def result_type(self):
        return self._result_type

    @property
    def result_types(self):
        return [self._result_type]

    @property
    def accumulator_type(self):
        return self._accumulator_type

    def field_names(self):
        """The names of the columns the function yields (``f0`` for a non-ROW result)."""
        t = self._result_type
        names = getattr(t, "field_names", None)
        if callable(names):
            names = names()
        if names:
            return list(names)
        return ["f0"]

    def alias(self, *names):
        """The same function with its columns renamed, as PyFlink's ``udtaf(...).alias('a', 'b')``."""
        import copy

        if not names or not all(isinstance(n, str) for n in names):
            raise TypeError("alias takes the new column names as strings")
        if len(names) != len(self.field_names()):
            raise ValueError(f"alias: {len(names)} names for the {len(self.field_names())} column(s) of "
                             f"{self._name} ({', '.join(self.field_names())})")
        w = copy.copy(self)
        w._alias_names = list(names)
        return w

    def _arity(self):
        lo, hi = _arity(self._func.accumulate)
        return max(lo - 1, 0), (hi - 1 if hi >= 0 else -1)

    def describe(self):
        lo, hi = self._arity()
        return {
            "min_args": lo,
            "max_args": hi,
            "name": self._name,
            "kind": self.kind,
            "func_type": self._func_type,
            "input_types": None if self._input_types is None else [str(t) for t in self._input_types],
            "result_types": [str(self._result_type)],
            "accumulator_type": None if self._accumulator_type is None else str(self._accumulator_type),
            "deterministic": self._deterministic,
        }

    def evaluator(self):
        """The per-group call: ``ev(nargs, names, *lists, *keys)`` -> the group's rows."""
        # A declared accumulator type is checked on the first group this
        # evaluator folds, as for aggregate functions (an encoding per group
        # would add a third to a small group's time).
        check = accumulator_check(self._name, self._accumulator_type)
        return functools.partial(_table_group, self._name, self._func, [check] if check else [])

    def __call__(self, *args):
        raise TypeError(f"udtaf {self._name!r} is a table aggregate function; call it with the Table API's "
                        "flat_aggregate, e.g. table.group_by(col('k')).flat_aggregate(f).select(col('*'))")

    def __repr__(self):
        return f"<weir udtaf {self._name} -> {self._result_type}>"


def accumulator_check(name, declared, key_text=None, what="table aggregate"):
    """check(acc, key) raising a FunctionError when acc cannot be encoded as
    the declared accumulator type, naming the group by key_text(key) (or by
    key itself; with key None the caller names it: the error has
    weir_accumulator set); None when there is nothing to
    check (no declared type, or one holding a ListView / MapView, which the
    row coder does not encode)."""
    if declared is None:
        return None
    from weir.coder import RowEncoder
    from weir.types import parse_type

    try:
        enc = RowEncoder([parse_type(str(declared))])
    except Exception:
        return None

    def check(acc, key):
        try:
            enc.encode_row([list(acc) if isinstance(acc, _RowAccumulator) else acc])
        except (TypeError, ValueError) as err:
            group = "" if key is None else f"  group key: {key if key_text is None else key_text(key)}\n"
            e = FunctionError(
                f"the accumulator of Python {what} function {name!r} cannot be encoded as its declared "
                f"accumulator_type {declared}: {err}\n{group}  accumulator: {_short(acc)}\n"
                "Make create_accumulator and accumulate keep values of that type, or declare the type the "
                f"accumulator has ({'udtaf' if what == 'table aggregate' else 'udaf'}(..., accumulator_type=...) "
                "or get_accumulator_type()).")
            e.weir_aggregate = True
            e.weir_accumulator = key is None
            raise e from None
        finally:
            enc.take()

    return check


def _table_group(name, agg, checks, nargs, names, *cols):
    lists, keys = cols[:nargs], cols[nargs:]
    if nargs and not lists[0] and not keys:
        # flat_aggregate without group_by over no rows yields nothing, as
        # Flink's (which emits only when a row arrives).
        return []
    try:
        acc = agg.create_accumulator()
    except Exception as err:
        raise _group_error(name, "create_accumulator", keys, err) from None
    if isinstance(acc, Row):
        acc = _RowAccumulator(acc)
    accumulate = agg.accumulate
    # No counter per row: on an error the row is found from what is left of
    # the iterator (as in weir._aggregate).
    if names != "null":
        # The function takes whole rows: one Row per input row, with the
        # columns' names.
        fields = tuple(json.loads(names))
        it = zip(*lists)
        try:
            for values in it:
                accumulate(acc, _make_row(values, fields))
        except Exception as err:
            raise _accumulate_error(name, keys, err, lists, sum(1 for _ in it)) from None
    elif nargs == 1:
        it = iter(lists[0])
        try:
            for v in it:
                accumulate(acc, v)
        except Exception as err:
            raise _accumulate_error(name, keys, err, lists, operator.length_hint(it)) from None
    else:
        it = zip(*lists)
        try:
            for row in it:
                accumulate(acc, *row)
        except Exception as err:
            raise _accumulate_error(name, keys, err, lists, sum(1 for _ in it)) from None
    if checks:
        checks.pop()(acc, _short(tuple(keys)))
    try:
        out = agg.emit_value(acc)
        # Drawn here, so that a failing emit_value names its group.
        return [] if out is None else list(out)
    except Exception as err:
        raise _group_error(name, "emit_value", keys, err) from None


def _accumulate_error(name, keys, err, lists, left):
    i = len(lists[0]) - left - 1
    return _group_error(name, "accumulate", keys, err, i, [col[i] for col in lists])


def udtaf(f=None, input_types=None, result_type=None, accumulator_type=None, deterministic=None, name=None,
          func_type="general"):
    """Declare a Python table aggregate function, as ``pyflink.table.udf.udtaf``.

    ``udtaf(Top2(), result_type=DataTypes.ROW([...]))`` wraps a
    ``TableAggregateFunction`` (instance or class); ``@udtaf(...)`` on a
    class does the same.
    """
    if f is None:
        return functools.partial(udtaf, input_types=input_types, result_type=result_type,
                                 accumulator_type=accumulator_type, deterministic=deterministic, name=name,
                                 func_type=func_type)
    return UserDefinedTableAggregateFunctionWrapper(f, input_types, result_type, accumulator_type, deterministic,
                                                    name, func_type)


__all__ = ["TableAggregateFunction", "udtaf", "UserDefinedTableAggregateFunctionWrapper", "DataType"]
