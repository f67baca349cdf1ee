"""Group windows and over windows of the Table API, as ``pyflink.table.window``.

A group window (``Tumble``, ``Slide``, ``Session``) groups a table's rows
by time::

    t.window(Tumble.over(lit(10).minutes).on(col('ts')).alias('w')) \\
        .group_by(col('w'), col('k')) \\
        .select(col('k'), col('w').start, col('w').end, col('v').sum)

and is written as a window table function of weir's SQL::

    SELECT k, window_start, window_end, SUM(v)
    FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' MINUTE))
    GROUP BY window_start, window_end, window_time, k

``col('w').start``/``.end`` are window_start/window_end, ``.rowtime`` and
``.proctime`` are window_time. An over window (``Over``) names a window
spec that aggregates use with ``.over(col('w'))``::

    t.over_window(Over.partition_by(col('k')).order_by(col('ts'))
                  .preceding(UNBOUNDED_RANGE).alias('w')) \\
        .select(col('k'), col('v').sum.over(col('w')))

is ``SUM(v) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN UNBOUNDED
PRECEDING AND CURRENT ROW)``.
"""

import contextlib

from weir.table.expressions import (CURRENT_RANGE, CURRENT_ROW, UNBOUNDED_RANGE, UNBOUNDED_ROW, Expression, _Agg,
                                    _Alias, _Bound, _Call, _Column, _Interval, _RowInterval, _WindowProperty,
                                    quote)

__all__ = ["Tumble", "Session", "Slide", "Over", "GroupWindow", "OverWindow"]


def _column_name(e, what):
    if isinstance(e, str):
        return e
    if isinstance(e, _Column) and e.name != "*":
        return e.name
    raise TypeError(f"{what} takes a column, e.g. col('ts'), got {e!r}")


def _time_interval(e, what):
    """The SQL of a window's size, slide or gap: lit(n).<unit>."""
    if isinstance(e, _RowInterval):
        raise ValueError(f"{what}: row-count windows ({e!r}) are not supported by weir; give a time interval, "
                         "e.g. lit(10).minutes")
    if not isinstance(e, _Interval):
        raise TypeError(f"{what} takes a time interval, e.g. lit(10).minutes, got {e!r}")
    ms = e._ms()
    if ms is None:
        raise ValueError(f"{what}: {e!r} must be a literal interval of days, hours, minutes, seconds or "
                         "milliseconds (months and years have no fixed length)")
    if ms <= 0:
        raise ValueError(f"{what}: {e!r} must be positive")
    return e._sql(None)


@contextlib.contextmanager
def _scope(env, attr, value):
    """Render expressions with env.<attr> set (window aliases in scope)."""
    old = getattr(env, attr, None)
    setattr(env, attr, value)
    try:
        yield
    finally:
        setattr(env, attr, old)


class GroupWindow:
    """A group window with its alias, for Table.window."""

    def __init__(self, kind, time_field, alias, size=None, slide=None, gap=None):
        if not isinstance(alias, str) or not alias:
            raise TypeError(f"a group window's alias must be a name, e.g. alias('w'), got {alias!r}")
        self._kind, self._time_field, self.alias = kind, time_field, alias
        self._size, self._slide, self._gap = size, slide, gap

    def __repr__(self):
        args = {"TUMBLE": f"over({self._size})", "HOP": f"over({self._size}).every({self._slide})",
                "SESSION": f"with_gap({self._gap})"}[self._kind]
        return (f"{ {'TUMBLE': 'Tumble', 'HOP': 'Slide', 'SESSION': 'Session'}[self._kind]}.{args}"
                f".on(col({self._time_field!r})).alias({self.alias!r})")

    # -- planning -----------------------------------------------------------

    def _check(self, table):
        """Refuse a time field the table has not, or that is no time."""
        schema = table.get_schema()
        names = schema.get_field_names()
        if self._time_field not in names:
            raise ValueError(f"{self!r}: the table has no column {self._time_field!r} to window on; its columns "
                             f"are {names}")
        if self.alias in names:
            raise ValueError(f"{self!r}: the window's alias {self.alias!r} is a column of the table; choose "
                             "another alias")
        t = str(schema.get_field_data_type(self._time_field)).upper()
        if "TIMESTAMP" not in t:
            raise ValueError(f"{self!r}: a group window's time field must be a time attribute (TIMESTAMP(3) with "
                             f"a watermark, or PROCTIME()), and {self._time_field!r} is {t}")
        for n in ("window_start", "window_end", "window_time"):
            if n in names:
                raise ValueError(f"{self!r}: the table has a column {n!r}, which weir's window table functions "
                                 "add; rename it first")
        # The engine's event time is TIMESTAMP(p); its processing time (PROCTIME()) is TIMESTAMP_LTZ(3).
        self._proctime = "PROCTIME" in t or "TIMESTAMP_LTZ" in t or "LOCAL TIME ZONE" in t

    def _from_sql(self, table, keys):
        """The FROM item: a window table function over table."""
        source = quote(table._name())
        ts = quote(self._time_field)
        if self._kind == "TUMBLE":
            return f"TABLE(TUMBLE(TABLE {source}, DESCRIPTOR({ts}), {self._size}))"
        if self._kind == "HOP":
            return f"TABLE(HOP(TABLE {source}, DESCRIPTOR({ts}), {self._slide}, {self._size}))"
        partition = ""
        if len(keys) == 1:
            partition = " PARTITION BY " + keys[0]
        elif keys:
            partition = " PARTITION BY (" + ", ".join(keys) + ")"
        return f"TABLE(SESSION(TABLE {source}{partition}, DESCRIPTOR({ts}), {self._gap}))"

    def check_property(self, prop):
        proc = getattr(self, "_proctime", False)
        if prop == "rowtime" and proc:
            raise ValueError(f"col({self.alias!r}).rowtime: the window is on processing time "
                             f"({self._time_field!r}); use col({self.alias!r}).proctime")
        if prop == "proctime" and not proc:
            raise ValueError(f"col({self.alias!r}).proctime: the window is on event time "
                             f"({self._time_field!r}); use col({self.alias!r}).rowtime")


class Tumble:
    """Tumbling windows: consecutive, non-overlapping, of a fixed size.

    ``Tumble.over(lit(10).minutes).on(col('ts')).alias('w')``
    """

    @classmethod
    def over(cls, size):
        return TumbleWithSize(_time_interval(size, "Tumble.over"))


class TumbleWithSize:
    def __init__(self, size):
        self._size = size

    def on(self, time_field):
        return TumbleWithSizeOnTime(self._size, _column_name(time_field, "Tumble...on"))


class TumbleWithSizeOnTime:
    def __init__(self, size, time_field):
        self._size, self._time_field = size, time_field

    def alias(self, alias):
        return GroupWindow("TUMBLE", self._time_field, alias, size=self._size)


class Slide:
    """Sliding (hopping) windows of a fixed size that start every slide.

    ``Slide.over(lit(10).minutes).every(lit(5).minutes).on(col('ts')).alias('w')``
    """

    @classmethod
    def over(cls, size):
        return SlideWithSize(_time_interval(size, "Slide.over"))


class SlideWithSize:
    def __init__(self, size):
        self._size = size

    def every(self, slide):
        return SlideWithSizeAndSlide(self._size, _time_interval(slide, "Slide...every"))


class SlideWithSizeAndSlide:
    def __init__(self, size, slide):
        self._size, self._slide = size, slide

    def on(self, time_field):
        return SlideWithSizeAndSlideOnTime(self._size, self._slide, _column_name(time_field, "Slide...on"))


class SlideWithSizeAndSlideOnTime:
    def __init__(self, size, slide, time_field):
        self._size, self._slide, self._time_field = size, slide, time_field

    def alias(self, alias):
        return GroupWindow("HOP", self._time_field, alias, size=self._size, slide=self._slide)


class Session:
    """Session windows: rows closer than the gap share a window.

    ``Session.with_gap(lit(10).minutes).on(col('ts')).alias('w')``
    """

    @classmethod
    def with_gap(cls, gap):
        return SessionWithGap(_time_interval(gap, "Session.with_gap"))


class SessionWithGap:
    def __init__(self, gap):
        self._gap = gap

    def on(self, time_field):
        return SessionWithGapOnTime(self._gap, _column_name(time_field, "Session...on"))


class SessionWithGapOnTime:
    def __init__(self, gap, time_field):
        self._gap, self._time_field = gap, time_field

    def alias(self, alias):
        return GroupWindow("SESSION", self._time_field, alias, gap=self._gap)


# -- over windows -------------------------------------------------------------


class Over:
    """Over windows: for each row, an aggregate of the rows around it.

    ``Over.partition_by(col('k')).order_by(col('ts')).preceding(UNBOUNDED_RANGE).alias('w')``
    """

    @classmethod
    def order_by(cls, order_by):
        return OverWindowPartitionedOrdered([], order_by)

    @classmethod
    def partition_by(cls, *partition_by):
        return OverWindowPartitioned(list(partition_by))


class OverWindowPartitioned:
    def __init__(self, partition_by):
        self._partition_by = partition_by

    def order_by(self, order_by):
        return OverWindowPartitionedOrdered(self._partition_by, order_by)


class OverWindowPartitionedOrdered:
    def __init__(self, partition_by, order_by):
        self._partition_by, self._order_by = partition_by, order_by

    def alias(self, alias):
        # As PyFlink: without preceding, from the partition's first row.
        return OverWindow(alias, self._partition_by, self._order_by, UNBOUNDED_RANGE, None)

    def preceding(self, preceding):
        return OverWindowPartitionedOrderedPreceding(self._partition_by, self._order_by, preceding)


class OverWindowPartitionedOrderedPreceding:
    def __init__(self, partition_by, order_by, preceding, following=None):
        self._partition_by, self._order_by = partition_by, order_by
        self._preceding, self._following = preceding, following

    def alias(self, alias):
        return OverWindow(alias, self._partition_by, self._order_by, self._preceding, self._following)

    def following(self, following):
        return OverWindowPartitionedOrderedPreceding(self._partition_by, self._order_by, self._preceding, following)


def _is_rows(bound):
    return isinstance(bound, _RowInterval) or bound is UNBOUNDED_ROW or bound is CURRENT_ROW


class OverWindow:
    """An over window with its alias, for Table.over_window."""

    def __init__(self, alias, partition_by, order_by, preceding, following):
        if not isinstance(alias, str) or not alias:
            raise TypeError(f"an over window's alias must be a name, e.g. alias('w'), got {alias!r}")
        self.alias = alias
        self._partition_by, self._order_by = partition_by, order_by
        if not isinstance(preceding, (_Bound, _RowInterval, _Interval)):
            raise TypeError(f"over window {alias!r}: preceding takes UNBOUNDED_RANGE, UNBOUNDED_ROW, CURRENT_ROW, "
                            f"CURRENT_RANGE, row_interval(n) or a time interval such as lit(1).hours, "
                            f"got {preceding!r}")
        if preceding is not None and isinstance(preceding, _Interval) and preceding._ms() is None:
            raise ValueError(f"over window {alias!r}: preceding {preceding!r} must be a literal interval of days, "
                             "hours, minutes, seconds or milliseconds")
        rows = _is_rows(preceding)
        if following is None:
            following = CURRENT_ROW if rows else CURRENT_RANGE
        if not isinstance(following, (_Bound, _RowInterval, _Interval)):
            raise TypeError(f"over window {alias!r}: following takes CURRENT_ROW, CURRENT_RANGE, UNBOUNDED_ROW, "
                            f"UNBOUNDED_RANGE, row_interval(n) or a time interval, got {following!r}")
        if _is_rows(following) != rows:
            raise ValueError(f"over window {alias!r}: preceding ({preceding!r}) and following ({following!r}) must "
                             "both count rows or both be ranges of the order key")
        self._preceding, self._following = preceding, following

    def __repr__(self):
        return f"Over...alias({self.alias!r})"

    @staticmethod
    def _bound_sql(b, side):
        if b is UNBOUNDED_ROW or b is UNBOUNDED_RANGE:
            return "UNBOUNDED " + side
        if b is CURRENT_ROW or b is CURRENT_RANGE:
            return "CURRENT ROW"
        if isinstance(b, _RowInterval):
            return f"{b.rows} {side}"
        return f"{b._sql(None)} {side}"

    def _spec_sql(self, env):
        parts = []
        if self._partition_by:
            parts.append("PARTITION BY " + ", ".join(_x(env, p) for p in self._partition_by))
        parts.append("ORDER BY " + _x(env, self._order_by))
        unit = "ROWS" if _is_rows(self._preceding) else "RANGE"
        parts.append(f"{unit} BETWEEN {self._bound_sql(self._preceding, 'PRECEDING')} AND "
                     f"{self._bound_sql(self._following, 'FOLLOWING')}")
        return " ".join(parts)


def _x(env, e):
    return quote(e) if isinstance(e, str) else e._sql(env)


# -- windowed tables ------------------------------------------------------------


class GroupWindowedTable:
    """A table with a group window, from Table.window; group it with
    group_by(col(alias), ...)."""

    def __init__(self, table, window):
        if not isinstance(window, GroupWindow):
            raise TypeError(f"window takes a group window (Tumble, Slide or Session ... .alias('w')), got "
                            f"{type(window).__name__}" + (": over windows go to over_window(...)"
                                                          if isinstance(window, OverWindow) else ""))
        self._table, self._window = table, window

    def group_by(self, *fields):
        w = self._window
        t = self._table
        named = [f for f in fields if _column_name_or_none(f) == w.alias]
        if len(named) != 1:
            got = ", ".join(f"col({f.name!r})" if isinstance(f, _Column) else repr(f) for f in fields) or "nothing"
            raise ValueError(f"GroupBy must contain exactly one window alias: group_by of a table windowed by "
                             f"{w!r} names {w.alias!r} once, as col({w.alias!r}); got {got}")
        w._check(t)
        keys = [t._x(f) for f in t._expand([f for f in fields if f is not named[0]])]
        return WindowGroupedTable(t, w, keys)


def _column_name_or_none(f):
    if isinstance(f, str):
        return f
    if isinstance(f, _Column):
        return f.name
    return None


class WindowGroupedTable:
    """A windowed table grouped by its window (and keys); select gives a
    row per window and group."""

    def __init__(self, table, window, keys):
        self._table, self._window, self._keys = table, window, keys

    def _query(self, items):
        w = self._window
        group = ["window_start", "window_end", "window_time"] + self._keys
        q = (f"SELECT {', '.join(items)} FROM {w._from_sql(self._table, self._keys)} "
             f"GROUP BY {', '.join(group)}")
        if w._kind == "SESSION":
            _check_session(self._table, q)
        return q

    def select(self, *fields):
        t = self._table
        with _scope(t._env, "_window_scope", self._window):
            items = _named(t, fields)
        return t._new(self._query(items))

    def aggregate(self, func):
        """An aggregate function per window and group, whose result's
        fields become columns; close it with select(...), where the window
        properties (col('w').start ...) may be used."""
        return AggregatedTable(self._table, self._keys, func, self)


def _check_session(table, q):
    """Plan a session window's query now: an engine without SESSION window
    table functions refuses it, and the Table API says so plainly."""
    from weir.table._gateway import EngineError
    try:
        table._env._gw.request({"op": "schema", "sql": q})
    except EngineError as e:
        msg = str(e)
        if "SESSION windows are not supported in batch mode" in msg:
            raise NotImplementedError("Session windows (Session.with_gap(...)) run in streaming mode only in weir "
                                      "(as SESSION window table functions in Flink 2.3's SQL); use "
                                      "EnvironmentSettings.in_streaming_mode()") from None
        if "SESSION windows are not supported" in msg:
            raise NotImplementedError("Session windows (Session.with_gap(...)) are not supported by this weir "
                                      "engine: it has no SESSION window table function; use Tumble or Slide") from None
        raise


def _is_aggregate(e):
    from weir._aggregate import UserDefinedAggregateFunctionWrapper
    return isinstance(e, _Agg) or isinstance(e, _Call) and isinstance(e.func, UserDefinedAggregateFunctionWrapper)


def _count_named(e):
    """How many aggregates and window properties e holds: Flink numbers
    them EXPR$0, EXPR$1 ... in the order they occur in a select."""
    if _is_aggregate(e) or isinstance(e, _WindowProperty):
        return 1
    n = 0
    for v in vars(e).values():
        for x in (v if isinstance(v, list) else [v]):
            if isinstance(x, Expression):
                n += _count_named(x)
    return n


def _named(t, fields, grouped=True):
    """The select items, named as Flink's Table API names them: an
    aggregate or window property without alias is EXPR$<its number among
    them> (grouped selects), another expression without alias
    _c<position>."""
    items = []
    k = 0
    for i, f in enumerate(t._expand(fields)):
        sql = t._x(f)
        if isinstance(f, (_Alias, _Column)) or isinstance(f, str):
            pass
        elif grouped and (_is_aggregate(f) or isinstance(f, _WindowProperty)):
            sql += f" AS {quote('EXPR$%d' % k)}"
        else:
            sql += f" AS {quote('_c%d' % i)}"
        if grouped and isinstance(f, Expression):
            k += _count_named(f)
        items.append(sql)
    return items


class _Field:
    """Field i of a ROW value (None for a NULL row)."""

    def __init__(self, i):
        self.i = i

    def __call__(self, row):
        return None if row is None else row[self.i]


class AggregatedTable:
    """The result of aggregate(...), to be closed with select(...)."""

    def __init__(self, table, keys, func, windowed=None):
        env = table._env
        call, names = func, None
        if isinstance(call, _Alias):
            call, names = call.e, call.names
        if not isinstance(call, _Call):
            raise TypeError(f"aggregate takes a call of an aggregate function with expressions, e.g. "
                            f"agg(col('b')).alias('c', 'd'), got {func!r}")
        wrapper = call.func
        result_type = getattr(wrapper, "_result_type", None)
        fields = getattr(result_type, "fields", None)
        inner_item = f"{call._sql(env)} AS {quote('$agg')}"
        if windowed is not None:
            items = list(keys) + ["window_start", "window_end", "window_time", inner_item]
            inner = table._new(windowed._query(items))
        else:
            q = f"SELECT {', '.join(list(keys) + [inner_item])} FROM {table._from()}"
            if keys:
                q += f" GROUP BY {', '.join(keys)}"
            inner = table._new(q)
        have = inner._field_names()
        lead = have[:-1]
        if fields:
            out_names = names or [f.name for f in fields]
            if len(out_names) != len(fields):
                raise ValueError(f"aggregate: {len(out_names)} alias name(s) for the function's {len(fields)} "
                                 f"result field(s) ({', '.join(f.name for f in fields)})")
            # weir's SQL has no field access on ROW values: a small Python
            # function takes each field of the aggregated rows.
            from weir.table.udf import udf
            cols = []
            for i, (f, n) in enumerate(zip(fields, out_names)):
                get = udf(_Field(i), result_type=f.data_type, name=f"field_{f.name}")
                cols.append(f"{env._function_name(get)}({quote('$agg')}) AS {quote(n)}")
        else:
            out_names = names or [getattr(wrapper, "name", None) or "EXPR$0"]
            if len(out_names) != 1:
                raise ValueError(f"aggregate: {len(out_names)} alias names for a function of one result column")
            cols = [f"{quote('$agg')} AS {quote(out_names[0])}"]
        clash = set(out_names) & set(lead)
        if clash:
            raise ValueError(f"aggregate: the result column {sorted(clash)[0]!r} is also a group key; alias it")
        self._table = inner._new(f"SELECT {', '.join([quote(c) for c in lead] + cols)} FROM {inner._from()}")
        self._window = windowed._window if windowed is not None else None

    def select(self, *fields):
        t = self._table
        if self._window is None:
            return t.select(*fields)
        with _scope(t._env, "_window_scope", _Columns(self._window)):
            items = _named(t, fields)
        return t._new(f"SELECT {', '.join(items)} FROM {t._from()}")


class _Columns:
    """A group window whose properties are already columns (after aggregate)."""

    def __init__(self, window):
        self.alias = window.alias
        self._window = window

    def check_property(self, prop):
        self._window.check_property(prop)


class OverWindowedTable:
    """A table with over windows, from Table.over_window; aggregates in its
    select use them with .over(col(alias))."""

    def __init__(self, table, windows):
        if not windows:
            raise ValueError("over_window takes at least one over window (Over....alias('w'))")
        scope = {}
        for w in windows:
            if not isinstance(w, OverWindow):
                raise TypeError(f"over_window takes over windows (Over.partition_by(...).order_by(...)...alias('w')), "
                                f"got {type(w).__name__}" + (": group windows go to window(...)"
                                                             if isinstance(w, GroupWindow) else ""))
            if w.alias in scope:
                raise ValueError(f"over_window: two over windows are named {w.alias!r}")
            scope[w.alias] = w
        self._table, self._scope = table, scope

    def select(self, *fields):
        t = self._table
        with _scope(t._env, "_over_scope", self._scope):
            items = _named(t, fields, grouped=False)
        return t._new(f"SELECT {', '.join(items)} FROM {t._from()}")

