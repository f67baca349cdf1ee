"""Aggregate functions, shaped like PyFlink's ``pyflink.table.udf.udaf``.

An ``AggregateFunction`` builds an accumulator per group
(``create_accumulator``), folds the group's rows into it (``accumulate``)
and turns it into the group's value (``get_value``). ``@udaf(...,
func_type="pandas")`` wraps a function that gets one ``pandas.Series`` per
argument with all the rows of a group and returns one scalar; an
``AggregateFunction`` with ``func_type="pandas"`` gets those Series in one
``accumulate`` per group, as in PyFlink.

In batch mode the engine collects each group's arguments and calls the
wrapper's evaluator once per group (``internal/plan/udaf.go``): the
evaluator gets the number of arguments, one list per argument (the group's
values in input order, NULLs as None) and then the group's keys, which only
errors use. The values of an integer, FLOAT or DOUBLE argument come packed
in one ``bytes`` instead of a list (see ``_unpack``).
"""

import array
import functools
import gc
import operator
import os
import sys
import traceback

from weir._udf import UserDefinedFunction, UserDefinedFunctionWrapper, _arity, _to_type
from weir.errors import FunctionError
from weir.row import Row
from weir.types import BigIntType, IntType, SmallIntType, TinyIntType, check_no_view

_INT_TYPES = (TinyIntType, SmallIntType, IntType, BigIntType)


class ImperativeAggregateFunction(UserDefinedFunction):
    """What aggregate and table aggregate functions share, as PyFlink's
    ``ImperativeAggregateFunction``: an accumulator per group, built by
    ``create_accumulator`` and fed by ``accumulate``.

    ``retract`` and ``merge`` are optional: batch mode does not call them
    (each group is accumulated in one place).
    """

    # The function that declares this kind's types, named in errors.
    _declared_by = "udaf"

    def create_accumulator(self):
        raise NotImplementedError(f"{type(self).__name__} must define create_accumulator()")

    def accumulate(self, accumulator, *args):
        raise NotImplementedError(f"{type(self).__name__} must define accumulate(accumulator, *args)")

    def retract(self, accumulator, *args):
        raise NotImplementedError(f"{type(self).__name__} does not define retract(accumulator, *args)")

    def merge(self, accumulator, accumulators):
        raise NotImplementedError(f"{type(self).__name__} does not define merge(accumulator, accumulators)")

    def get_result_type(self):
        raise NotImplementedError(
            f"{type(self).__name__}: declare result_type in {self._declared_by}(...) or define get_result_type()")

    def get_accumulator_type(self):
        raise NotImplementedError(
            f"{type(self).__name__}: declare accumulator_type in {self._declared_by}(...) "
            "or define get_accumulator_type()")


class AggregateFunction(ImperativeAggregateFunction):
    """A user-defined aggregate function, as PyFlink's ``AggregateFunction``:
    ``get_value`` turns a group's accumulator into its value."""

    def get_value(self, accumulator):
        raise NotImplementedError(f"{type(self).__name__} must define get_value(accumulator)")


class ListView:
    """A list in an accumulator, as PyFlink's ``ListView``."""

    def __init__(self):
        self._list = []

    def get(self):
        return self._list

    def add(self, value):
        self._list.append(value)

    def add_all(self, values):
        self._list.extend(values)

    def clear(self):
        self._list = []

    def __iter__(self):
        return iter(self._list)

    def __eq__(self, other):
        return isinstance(other, ListView) and self._list == other._list

    def __repr__(self):
        return f"ListView({self._list!r})"


class MapView:
    """A dict in an accumulator, as PyFlink's ``MapView``."""

    def __init__(self):
        self._dict = {}

    def get(self, key):
        return self._dict[key]

    def put(self, key, value):
        self._dict[key] = value

    def put_all(self, mapping):
        self._dict.update(mapping)

    def remove(self, key):
        del self._dict[key]

    def contains(self, key):
        return key in self._dict

    def items(self):
        return self._dict.items()

    def keys(self):
        return self._dict.keys()

    def values(self):
        return self._dict.values()

    def is_empty(self):
        return not self._dict

    def clear(self):
        self._dict = {}

    def __iter__(self):
        return iter(self._dict.items())

    def __eq__(self, other):
        return isinstance(other, MapView) and self._dict == other._dict

    def __repr__(self):
        return f"MapView({self._dict!r})"


def _short(v, limit=200):
    s = repr(v)
    return s if len(s) <= limit else s[:limit] + "..."


class UserDefinedAggregateFunctionWrapper(UserDefinedFunctionWrapper):
    """An aggregate function with its declared types, as ``udaf`` returns it."""

    kind = "aggregate"
    _base = AggregateFunction

    def __init__(self, func, input_types, result_type, accumulator_type=None, deterministic=None,
                 name=None, func_type="general"):
        if func_type not in ("general", "pandas"):
            raise ValueError(f"udaf: func_type={func_type!r} is not supported; use 'general' (an "
                             "AggregateFunction) or 'pandas' (a function of pandas.Series returning a scalar)")
        if isinstance(func, type) and issubclass(func, AggregateFunction):
            func = func()
        if func_type == "general":
            if not isinstance(func, AggregateFunction):
                raise TypeError(f"udaf: a general aggregate function must be an AggregateFunction, got {func!r}; "
                                "for a function of pandas.Series use func_type='pandas'")
        elif not callable(func) and not isinstance(func, AggregateFunction) or (
                isinstance(func, UserDefinedFunction) and not isinstance(func, AggregateFunction)):
            raise TypeError(f"udaf: a pandas aggregate function must be a plain callable or an AggregateFunction "
                            f"whose accumulate gets one pandas.Series per argument, got {func!r}")
        super().__init__(func, input_types, deterministic, name)
        self._func_type = func_type
        # An AggregateFunction class, in either mode; PyFlink's pandas one
        # is called once per group: create_accumulator, accumulate(acc,
        # *series), get_value.
        self._is_class = isinstance(func, AggregateFunction)
        if result_type is None and self._is_class:
            try:
                result_type = func.get_result_type()
            except NotImplementedError:
                if func_type == "general":
                    raise
        if result_type is None:
            raise TypeError(f"udaf {self._name!r}: result_type is required, e.g. result_type=DataTypes.FLOAT()")
        self._result_type = check_no_view(_to_type(result_type, "result_type"), f"udaf {self._name!r}: result_type")
        for t in self._input_types or ():
            check_no_view(t, f"udaf {self._name!r}: input type")
        if accumulator_type is None and func_type == "general":
            try:
                accumulator_type = func.get_accumulator_type()
            except NotImplementedError:
                accumulator_type = None
        self._accumulator_type = None if accumulator_type is None else _to_type(accumulator_type, "accumulator_type")

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

    def _arity(self):
        """(min, max) arguments of the SQL call; max is -1 for *args."""
        f = self._func.accumulate if self._is_class else self._func
        skip = 1 if self._is_class else 0  # the accumulator
        lo, hi = _arity(f)
        return max(lo - skip, 0), (hi - skip if hi >= 0 else -1)

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
        """The per-group call: ``ev(nargs, *lists, *keys)`` -> the group's value."""
        if self._func_type == "pandas":
            # PyFlink converts a pandas function's value with pyarrow, which
            # refuses a float with a fraction for an integer type (a general
            # function's is truncated by the row coder).
            ints = str(self._result_type) if isinstance(self._result_type, _INT_TYPES) else None
            if self._is_class:
                return functools.partial(_pandas_class_group, self._name, ints, self._func)
            return functools.partial(_pandas_group, self._name, ints, self._func)
        _freeze_heap()
        agg = self._func
        if self._accumulator_type is not None:
            from weir._table_aggregate import accumulator_check

            check = accumulator_check(self._name, self._accumulator_type, what="aggregate")
            if check is not None:
                agg = _FirstGroupChecked(agg, check)
        return functools.partial(group_loop(), self._name, agg)

    def __call__(self, *args):
        raise TypeError(f"udaf {self._name!r} is an aggregate function; call it in SQL over a GROUP BY")

    def __repr__(self):
        return f"<weir udaf {self._name} -> {self._result_type}>"


def _freeze_heap():
    """Leaves the objects alive now (the modules, the user's functions) out of
    the garbage collector's work from now on (gc.freeze). The groups of a
    batch allocate containers (rows, accumulators) that live until the batch
    is done, so they trigger full collections, each of which otherwise walks
    the whole heap of the worker (Beam, pyarrow, pandas): about a tenth of
    its time in the UDAF benchmark. Frozen objects are still freed by
    reference counting; only cycles among them stay. Once per process: the
    objects of a later batch are not left out."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


_frozen = False


def _length(r):
    try:
        return f" of {len(r)} values"
    except TypeError:
        return ""


class _FirstGroupChecked:
    """An aggregate function whose first get_value checks the accumulator
    against the declared accumulator type (as streaming mode checks the first
    group of each bundle); later groups call the function's own get_value,
    looked up on this object as on the function (no extra call per group)."""

    def __init__(self, agg, check):
        self._agg, self._check = agg, check
        self.create_accumulator = agg.create_accumulator
        self.accumulate = agg.accumulate
        self.get_value = self._first_get_value

    def _first_get_value(self, acc):
        self.get_value = self._agg.get_value
        self._check(acc, None)
        return self._agg.get_value(acc)


def _group_error(name, what, keys, err, index=None, args=None):
    if getattr(err, "weir_accumulator", False):
        # The accumulator does not fit its declared type: the check's own
        # message, with the group.
        e = FunctionError(f"{err}\n  group key: {_short(tuple(keys))}")
        e.weir_aggregate = True
        return e
    frames = traceback.extract_tb(err.__traceback__)[1:]
    tb = ("Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
          + "".join(traceback.format_exception_only(type(err), err)))
    msg = f"Python aggregate function {name!r} raised {type(err).__name__} in {what}: {err}\n"
    msg += f"  group key: {_short(tuple(keys))}\n"
    if index is not None:
        msg += f"  row {index + 1} of the group, arguments: {_short(tuple(args))}\n"
    e = FunctionError(msg + f"Python traceback:\n{tb}")
    e.weir_aggregate = True
    return e


class _RowAccumulator(list):
    """A Row accumulator whose fields can be assigned (``acc[0] += v``), as
    PyFlink's mutable Row allows; weir's Row is an immutable tuple."""

    def __init__(self, row):
        super().__init__(row)
        self._fields = row._fields

    def __getattr__(self, name):
        fields = self.__dict__.get("_fields") or ()
        if name in fields:
            return self[fields.index(name)]
        raise AttributeError(name)

    def __setattr__(self, name, value):
        fields = self.__dict__.get("_fields") or ()
        if name in fields:
            self[fields.index(name)] = value
        else:
            super().__setattr__(name, value)


def group_loop():
    """The per-group loop of general aggregate functions: the Cython one
    (weir._aggregate_fast), or its pure-Python twin below when WEIR_CYTHON=0
    or the extension is missing."""
    if os.environ.get("WEIR_CYTHON", "1") != "0":
        try:
            from weir._aggregate_fast import general_group

            return general_group
        except ImportError:
            pass
    return _general_group


# The byte width of each tag of packed values (the format characters of
# Python's struct and array modules for the C types).
_PACKED_WIDTH = {"b": 1, "h": 2, "i": 4, "q": 8, "f": 4, "d": 8}


def _unpack(b):
    """The list of a group's values packed by the engine (``$COLLECT_PACKED``,
    internal/aggregate/collect.go): a tag (a format character: b, h, i, q, f,
    d) and the values, little-endian; with an upper-case tag, one byte per
    value follows them, 0 for NULL (None)."""
    if not b:
        raise ValueError("packed aggregate values: empty, with no tag")
    tag = chr(b[0])
    fmt = tag.lower()
    w = _PACKED_WIDTH.get(fmt)
    if w is None:
        raise ValueError(f"packed aggregate values: unknown tag {tag!r}")
    nulls = tag != fmt
    n, rest = divmod(len(b) - 1, w + 1 if nulls else w)
    if rest:
        raise ValueError(f"packed aggregate values with tag {tag!r}: {len(b) - 1} bytes is not a whole number of values")
    vals = array.array(fmt)
    vals.frombytes(b[1:1 + n * w])
    if sys.byteorder != "little":
        vals.byteswap()
    out = vals.tolist()
    if nulls:
        valid = b[1 + n * w:]
        out = [v if ok else None for v, ok in zip(out, valid)]
    return out


def _lists(cols):
    """cols with each packed argument (bytes) as its list of values."""
    if any(type(c) is bytes for c in cols):
        return tuple(_unpack(c) if type(c) is bytes else c for c in cols)
    return cols


def _general_group(name, agg, nargs, *cols):
    """One group of a general aggregate function: create_accumulator,
    accumulate per row, get_value. The pure-Python twin of
    ``weir._aggregate_fast.general_group``, which must behave the same."""
    lists, keys = _lists(cols[:nargs]), cols[nargs:]
    try:
        acc = agg.create_accumulator()
    except Exception as err:
        raise _group_error(name, "create_accumulator", keys, err) from None
    if isinstance(acc, Row):
        acc = _RowAccumulator(acc)
    accumulate = agg.accumulate
    # No counter per row: the row that failed is found from what is left
    # of the iterator (a list iterator knows its length).
    it = iter(lists[0]) if nargs == 1 else zip(*lists)
    try:
        if nargs == 1:
            for v in it:
                accumulate(acc, v)
        else:
            for row in it:
                accumulate(acc, *row)
    except Exception as err:
        # Only here: a list iterator knows how many rows are left; a zip is
        # counted out.
        left = operator.length_hint(it) if nargs == 1 else sum(1 for _ in it)
        i = len(lists[0]) - left - 1
        raise _group_error(name, "accumulate", keys, err, i, [col[i] for col in lists]) from None
    try:
        return agg.get_value(acc)
    except Exception as err:
        raise _group_error(name, "get_value", keys, err) from None


def _pandas_group(name, ints, f, nargs, *cols):
    import pandas as pd

    lists, keys = _lists(cols[:nargs]), cols[nargs:]
    try:
        r = f(*[pd.Series(c) for c in lists])
    except Exception as err:
        raise _group_error(name, "its call", keys, err) from None
    return _pandas_value(name, ints, r, keys)


def _pandas_class_group(name, ints, agg, nargs, *cols):
    """One group of an AggregateFunction declared with func_type='pandas',
    as PyFlink calls it: a new accumulator, one accumulate with a
    pandas.Series per argument (all the group's rows), get_value."""
    import pandas as pd

    lists, keys = _lists(cols[:nargs]), cols[nargs:]
    try:
        acc = agg.create_accumulator()
    except Exception as err:
        raise _group_error(name, "create_accumulator", keys, err) from None
    if isinstance(acc, Row):
        acc = _RowAccumulator(acc)
    try:
        agg.accumulate(acc, *[pd.Series(c) for c in lists])
    except Exception as err:
        raise _group_error(name, "accumulate (one pandas.Series per argument)", keys, err) from None
    try:
        r = agg.get_value(acc)
    except Exception as err:
        raise _group_error(name, "get_value", keys, err) from None
    return _pandas_value(name, ints, r, keys)


def _pandas_value(name, ints, r, keys):
    """A pandas aggregate function's value for a group: one scalar, numpy's
    as Python's, NaN as NULL; for an integer result type (ints), not a float
    with a fraction."""
    import pandas as pd

    if isinstance(r, (pd.Series, pd.DataFrame, list, tuple, dict)) or getattr(r, "ndim", 0) != 0:
        e = FunctionError(
            f"pandas aggregate function {name!r} returned a {type(r).__name__}{_length(r)} for group key "
            f"{_short(tuple(keys))}; it must return one scalar per group (e.g. series.mean())")
        e.weir_aggregate = True
        raise e
    if hasattr(r, "item"):
        r = r.item()  # numpy scalar -> Python
    if r is pd.NA or (isinstance(r, float) and r != r):
        return None  # NaN is NULL, as PyFlink's pyarrow (from_pandas) makes it, for every result type
    if ints is not None and isinstance(r, float) and not r.is_integer():
        e = FunctionError(
            f"pandas aggregate function {name!r} returned float {r!r} for its {ints} result for group key "
            f"{_short(tuple(keys))}: a float with a fraction is not converted to an integer type (as in "
            "PyFlink); round it (e.g. int(x), round(x)) or declare a FLOAT or DOUBLE result")
        e.weir_aggregate = True
        raise e
    if ints is not None and isinstance(r, float):
        r = int(r)  # a whole float, which pyarrow converts silently
    return r


def udaf(f=None, input_types=None, result_type=None, accumulator_type=None, deterministic=None, name=None,
         func_type="general"):
    """Declare a Python aggregate function, as ``pyflink.table.udf.udaf``.

    ``udaf(WeightedAvg(), result_type=...)`` wraps an ``AggregateFunction``
    (instance or class); ``@udaf(result_type='FLOAT', func_type='pandas')``
    wraps a function of one ``pandas.Series`` per argument that returns a
    scalar, or an ``AggregateFunction`` whose ``accumulate`` gets those
    Series once per group.
    """
    if f is None:
        return functools.partial(udaf, input_types=input_types, result_type=result_type,
                                 accumulator_type=accumulator_type, deterministic=deterministic, name=name,
                                 func_type=func_type)
    return UserDefinedAggregateFunctionWrapper(f, input_types, result_type, accumulator_type, deterministic, name,
                                               func_type)
