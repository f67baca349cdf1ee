"""Table API expressions, shaped like ``pyflink.table.expressions``.

An expression renders to weir's Flink SQL: ``col('a') + 1`` is ``(a + 1)``.
Calling a weir function with expressions (``f(col('a'))``) gives a call
expression; the function is registered with the engine when the
expression is first used.
"""

import datetime
import decimal
import re

__all__ = ["Expression", "col", "lit", "call", "call_sql", "row", "array", "map_", "null_of", "if_then_else",
           "coalesce", "concat", "concat_ws", "and_", "or_", "not_", "current_date", "current_timestamp", "rand",
           "uuid", "with_columns", "without_columns", "range_", "pi", "e", "row_interval", "UNBOUNDED_ROW",
           "UNBOUNDED_RANGE", "CURRENT_ROW", "CURRENT_RANGE"]

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote(name):
    """A SQL identifier for name: plain, or in backticks."""
    if _PLAIN.match(name):
        return name
    return "`" + name.replace("`", "``") + "`"


class Expression:
    """A Table API expression; renders with ``_sql(env)``."""

    __hash__ = object.__hash__

    def _sql(self, env):
        raise NotImplementedError

    def _name(self):
        """The column name the expression gets without alias, or None."""
        return None

    # Operators, as PyFlink's Expression has them.
    def _bin(self, op, other, reverse=False):
        a, b = (_expr(other), self) if reverse else (self, _expr(other))
        return _Binary(op, a, b)

    def __add__(self, o): return self._bin("+", o)
    def __radd__(self, o): return self._bin("+", o, True)
    def __sub__(self, o): return self._bin("-", o)
    def __rsub__(self, o): return self._bin("-", o, True)
    def __mul__(self, o): return self._bin("*", o)
    def __rmul__(self, o): return self._bin("*", o, True)
    def __truediv__(self, o): return self._bin("/", o)
    def __rtruediv__(self, o): return self._bin("/", o, True)
    def __mod__(self, o): return self._bin("%", o)
    def __eq__(self, o): return self._bin("=", o)
    def __ne__(self, o): return self._bin("<>", o)
    def __lt__(self, o): return self._bin("<", o)
    def __le__(self, o): return self._bin("<=", o)
    def __gt__(self, o): return self._bin(">", o)
    def __ge__(self, o): return self._bin(">=", o)
    def __and__(self, o): return self._bin("AND", o)
    def __rand__(self, o): return self._bin("AND", o, True)
    def __or__(self, o): return self._bin("OR", o)
    def __ror__(self, o): return self._bin("OR", o, True)
    def __invert__(self): return _Raw("({0} IS NOT TRUE)", [self])
    def __neg__(self): return _Raw("(- {0})", [self])
    def __abs__(self): return _Call("ABS", [self])
    def __pow__(self, o): return _Call("POWER", [self, _expr(o)])
    def __rpow__(self, o): return _Call("POWER", [_expr(o), self])
    def __rmod__(self, o): return self._bin("%", o, True)

    def __bool__(self):
        raise TypeError("a Table API expression has no truth value; use & | ~ instead of and, or, not")

    def alias(self, name, *extra_names):
        """The expression under a name; a table function's call takes one
        name per column (for join_lateral)."""
        return _Alias(self, [name] + list(extra_names))

    def cast(self, data_type):
        return _Raw("CAST({0} AS %s)" % data_type, [self])

    def try_cast(self, data_type):
        return _Raw("TRY_CAST({0} AS %s)" % data_type, [self])

    # Properties and methods as PyFlink's Expression has them: those it has
    # as properties are properties here.
    is_null = property(lambda self: _Raw("({0} IS NULL)", [self]))
    is_not_null = property(lambda self: _Raw("({0} IS NOT NULL)", [self]))
    is_true = property(lambda self: _Raw("({0} IS TRUE)", [self]))
    is_false = property(lambda self: _Raw("({0} IS FALSE)", [self]))
    is_not_true = property(lambda self: _Raw("({0} IS NOT TRUE)", [self]))
    is_not_false = property(lambda self: _Raw("({0} IS NOT FALSE)", [self]))
    upper_case = property(lambda self: _Call("UPPER", [self]))
    lower_case = property(lambda self: _Call("LOWER", [self]))
    init_cap = property(lambda self: _Call("INITCAP", [self]))
    char_length = property(lambda self: _Call("CHAR_LENGTH", [self]))
    reverse = property(lambda self: _Call("REVERSE", [self]))
    to_base64 = property(lambda self: _Call("TO_BASE64", [self]))
    from_base64 = property(lambda self: _Call("FROM_BASE64", [self]))
    md5 = property(lambda self: _Call("MD5", [self]))
    sha1 = property(lambda self: _Call("SHA1", [self]))
    sha256 = property(lambda self: _Call("SHA256", [self]))
    exp = property(lambda self: _Call("EXP", [self]))
    log10 = property(lambda self: _Call("LOG10", [self]))
    log2 = property(lambda self: _Call("LOG2", [self]))
    ln = property(lambda self: _Call("LN", [self]))
    sqrt = property(lambda self: _Call("SQRT", [self]))
    abs = property(lambda self: _Call("ABS", [self]))
    sign = property(lambda self: _Call("SIGN", [self]))
    sin = property(lambda self: _Call("SIN", [self]))
    cos = property(lambda self: _Call("COS", [self]))
    tan = property(lambda self: _Call("TAN", [self]))
    degrees = property(lambda self: _Call("DEGREES", [self]))
    radians = property(lambda self: _Call("RADIANS", [self]))
    to_date = property(lambda self: _Raw("CAST({0} AS DATE)", [self]))
    to_time = property(lambda self: _Raw("CAST({0} AS TIME)", [self]))
    to_timestamp = property(lambda self: _Raw("CAST({0} AS TIMESTAMP(3))", [self]))
    cardinality = property(lambda self: _Call("CARDINALITY", [self]))
    element = property(lambda self: _Call("ELEMENT", [self]))
    # Aggregates.
    sum = property(lambda self: _Agg("SUM", self))
    sum0 = property(lambda self: _Raw("COALESCE(SUM({0}), 0)", [self]))
    count = property(lambda self: _Agg("COUNT", self))
    avg = property(lambda self: _Agg("AVG", self))
    min = property(lambda self: _Agg("MIN", self))
    max = property(lambda self: _Agg("MAX", self))
    first_value = property(lambda self: _Agg("FIRST_VALUE", self))
    last_value = property(lambda self: _Agg("LAST_VALUE", self))
    stddev_pop = property(lambda self: _Agg("STDDEV_POP", self))
    stddev_samp = property(lambda self: _Agg("STDDEV_SAMP", self))
    var_pop = property(lambda self: _Agg("VAR_POP", self))
    var_samp = property(lambda self: _Agg("VAR_SAMP", self))
    collect = property(lambda self: _Agg("COLLECT", self))
    # Ordering.
    asc = property(lambda self: _Raw("{0} ASC", [self]))
    desc = property(lambda self: _Raw("{0} DESC", [self]))

    # Time intervals: lit(10).minutes is INTERVAL '10' MINUTE.
    year = years = property(lambda self: _Interval(self, "year"))
    quarter = quarters = property(lambda self: _Interval(self, "quarter"))
    month = months = property(lambda self: _Interval(self, "month"))
    week = weeks = property(lambda self: _Interval(self, "week"))
    day = days = property(lambda self: _Interval(self, "day"))
    hour = hours = property(lambda self: _Interval(self, "hour"))
    minute = minutes = property(lambda self: _Interval(self, "minute"))
    second = seconds = property(lambda self: _Interval(self, "second"))
    milli = millis = property(lambda self: _Interval(self, "milli"))
    # Window properties of a group window's alias: col('w').start, in the
    # select of table.window(...).group_by(col('w'), ...) (weir.table.window).
    start = property(lambda self: _WindowProperty(self, "start"))
    end = property(lambda self: _WindowProperty(self, "end"))
    rowtime = property(lambda self: _WindowProperty(self, "rowtime"))
    proctime = property(lambda self: _WindowProperty(self, "proctime"))

    def over(self, alias):
        """This aggregate over the over window named alias (col('w') or
        'w'), defined by table.over_window(Over....alias('w'))."""
        return _Over(self, alias)

    def list_agg(self, separator=None):
        return _Call("LISTAGG", [self] + ([] if separator is None else [_expr(separator)]))

    def log(self, base=None):
        return _Call("LN", [self]) if base is None else _Call("LOG", [_expr(base), self])

    def round(self, places):
        return _Call("ROUND", [self, _expr(places)])

    def truncate(self, n=0):
        return _Call("TRUNCATE", [self, _expr(n)])

    def power(self, other):
        return _Call("POWER", [self, _expr(other)])

    def floor(self, time_interval_unit=None):
        if time_interval_unit is not None:
            return _Raw("FLOOR({0} TO %s)" % time_interval_unit, [self])
        return _Call("FLOOR", [self])

    def ceil(self, time_interval_unit=None):
        if time_interval_unit is not None:
            return _Raw("CEIL({0} TO %s)" % time_interval_unit, [self])
        return _Call("CEIL", [self])

    def concat(self, other):
        return _Call("CONCAT", [self, _expr(other)])

    def like(self, pattern=None):
        return _Raw("({0} LIKE {1})", [self, _expr(pattern)])

    def similar(self, pattern=None):
        return _Raw("({0} SIMILAR TO {1})", [self, _expr(pattern)])

    def between(self, lower_bound, upper_bound):
        return _Raw("({0} BETWEEN {1} AND {2})", [self, _expr(lower_bound), _expr(upper_bound)])

    def not_between(self, lower_bound, upper_bound):
        return _Raw("({0} NOT BETWEEN {1} AND {2})", [self, _expr(lower_bound), _expr(upper_bound)])

    def in_(self, first_element_or_table, *remaining_elements):
        values = [first_element_or_table] + list(remaining_elements)
        return _Raw("({0} IN (%s))" % ", ".join("{%d}" % (i + 1) for i in range(len(values))),
                    [self] + [_expr(v) for v in values])

    def then(self, if_true, if_false):
        return _Raw("(CASE WHEN {0} THEN {1} ELSE {2} END)", [self, _expr(if_true), _expr(if_false)])

    def if_null(self, null_replacement):
        return _Call("COALESCE", [self, _expr(null_replacement)])

    def substring(self, begin_index, length=None):
        return _Call("SUBSTRING", [self, _expr(begin_index)] + ([] if length is None else [_expr(length)]))

    substr = substring

    def position(self, haystack=None):
        return _Raw("POSITION({0} IN {1})", [self, _expr(haystack)])

    def replace(self, search=None, replacement=None):
        return _Call("REPLACE", [self, _expr(search), _expr(replacement)])

    def trim(self, character=None):
        if character is None:
            return _Call("TRIM", [self])
        return _Raw("TRIM(BOTH {1} FROM {0})", [self, _expr(character)])

    def trim_leading(self, character=None):
        return _Raw("TRIM(LEADING %sFROM {0})" % ("{1} " if character is not None else ""),
                    [self] + ([] if character is None else [_expr(character)]))

    def trim_trailing(self, character=None):
        return _Raw("TRIM(TRAILING %sFROM {0})" % ("{1} " if character is not None else ""),
                    [self] + ([] if character is None else [_expr(character)]))

    def ltrim(self, trim_str=None):
        return _Call("LTRIM", [self] + ([] if trim_str is None else [_expr(trim_str)]))

    def rtrim(self, trim_str=None):
        return _Call("RTRIM", [self] + ([] if trim_str is None else [_expr(trim_str)]))

    def repeat(self, n):
        return _Call("REPEAT", [self, _expr(n)])

    def left(self, length):
        return _Call("LEFT", [self, _expr(length)])

    def right(self, length):
        return _Call("RIGHT", [self, _expr(length)])

    def starts_with(self, start_expr):
        return _Call("STARTSWITH", [self, _expr(start_expr)])

    def ends_with(self, end_expr):
        return _Call("ENDSWITH", [self, _expr(end_expr)])

    def regexp(self, regex):
        return _Call("REGEXP", [self, _expr(regex)])

    def regexp_replace(self, regex, replacement):
        return _Call("REGEXP_REPLACE", [self, _expr(regex), _expr(replacement)])

    def regexp_extract(self, regex, extract_index=None):
        return _Call("REGEXP_EXTRACT", [self, _expr(regex)] + ([] if extract_index is None else [_expr(extract_index)]))

    def split(self, delimiter):
        return _Call("SPLIT", [self, _expr(delimiter)])

    def at(self, index):
        return _Raw("{0}[{1}]", [self, _expr(index)])

    def get(self, name_or_index):
        if isinstance(name_or_index, int):
            return _Raw("{0}[{1}]", [self, _expr(name_or_index)])
        return _Raw("{0}.%s" % quote(name_or_index), [self])

    __getitem__ = at

    def sha2(self, hash_length):
        return _Call("SHA2", [self, _expr(hash_length)])

    def __repr__(self):
        try:
            return self._sql(None)
        except Exception:
            return object.__repr__(self)

    __str__ = __repr__


class _Column(Expression):
    def __init__(self, name):
        self.name = name

    def _sql(self, env):
        scope = getattr(env, "_window_scope", None)
        if scope is not None and self.name == scope.alias:
            raise ValueError(f"col({self.name!r}) is the group window's alias: select its properties "
                             f"col({self.name!r}).start, .end, .rowtime or .proctime")
        # col('*') is every column, as in PyFlink.
        return "*" if self.name == "*" else quote(self.name)

    def _name(self):
        return self.name


class _Literal(Expression):
    def __init__(self, value, data_type=None):
        self.value, self.data_type = value, data_type

    def _sql(self, env):
        s = literal(self.value)
        if self.data_type is not None:
            return f"CAST({s} AS {self.data_type})"
        return s


def literal(v):
    """SQL text of a Python value."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v) if -2**31 <= v < 2**31 else f"CAST({v} AS BIGINT)"
    if isinstance(v, float):
        return f"CAST({v!r} AS DOUBLE)"
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, datetime.datetime):
        return f"TIMESTAMP '{v.isoformat(sep=' ')}'"
    if isinstance(v, datetime.date):
        return f"DATE '{v.isoformat()}'"
    if isinstance(v, datetime.time):
        return f"TIME '{v.isoformat()}'"
    raise TypeError(f"cannot write {v!r} ({type(v).__name__}) as a SQL literal")


class _Binary(Expression):
    def __init__(self, op, a, b):
        self.op, self.a, self.b = op, a, b

    def _sql(self, env):
        return f"({self.a._sql(env)} {self.op} {self.b._sql(env)})"


class _Raw(Expression):
    """SQL text with {i} standing for the i-th argument."""

    def __init__(self, template, args):
        self.template, self.args = template, args

    def _sql(self, env):
        return self.template.format(*[a._sql(env) for a in self.args])


class _Call(Expression):
    def __init__(self, func, args):
        self.func, self.args = func, args

    def _sql(self, env):
        f = self.func
        if not isinstance(f, str):
            if env is None:
                name = getattr(f, "name", "f")
            else:
                name = env._function_name(f)
        else:
            name = f
        return f"{name}({', '.join(a._sql(env) for a in self.args)})"


class _Alias(Expression):
    def __init__(self, e, names):
        self.e, self.names = e, list(names)
        self.name = self.names[0]

    def _sql(self, env):
        if len(self.names) > 1:
            raise ValueError(f"alias({', '.join(map(repr, self.names))}): several names are for a table function's "
                             "call in join_lateral or left_outer_join_lateral")
        return f"{self.e._sql(env)} AS {quote(self.name)}"

    def _name(self):
        return self.name


class _Agg(Expression):
    """An aggregate call; .distinct makes it aggregate distinct values."""

    def __init__(self, func, arg, distinct=False):
        self.func, self.arg, self._distinct = func, arg, distinct

    @property
    def distinct(self):
        return _Agg(self.func, self.arg, True)

    def _sql(self, env):
        return f"{self.func}({'DISTINCT ' if self._distinct else ''}{self.arg._sql(env)})"


def _expr(v):
    if isinstance(v, Expression):
        return v
    if isinstance(v, str):
        # Strings in Table API calls name columns (PyFlink's string expressions are gone).
        return _Literal(v)
    return _Literal(v)


def col(name):
    """The column named name."""
    return _Column(name)


def lit(v, data_type=None):
    """A literal value, optionally of a given DataType."""
    return _Literal(v, data_type)


def call(f, *args):
    """A call of a function: a built-in or registered function's name, or a
    weir function object."""
    return _Call(f, [_expr(a) for a in args])


def call_sql(sql_expression):
    """A SQL expression as text, e.g. call_sql("UPPER(name)")."""
    return _Raw("(" + sql_expression.replace("{", "{{").replace("}", "}}") + ")", [])


def if_then_else(condition, if_true, if_false):
    return _Raw("(CASE WHEN {0} THEN {1} ELSE {2} END)", [_expr(condition), _expr(if_true), _expr(if_false)])


def row(*values):
    return _Raw("ROW(%s)" % ", ".join("{%d}" % i for i in range(len(values))), [_expr(v) for v in values])


def array(*values):
    return _Raw("ARRAY[%s]" % ", ".join("{%d}" % i for i in range(len(values))), [_expr(v) for v in values])


def null_of(data_type):
    return _Raw("CAST(NULL AS %s)" % data_type, [])


def map_(key, value, *tail):
    args = [key, value] + list(tail)
    return _Raw("MAP[%s]" % ", ".join("{%d}" % i for i in range(len(args))), [_expr(v) for v in args])


def coalesce(*args):
    return _Call("COALESCE", [_expr(a) for a in args])


def concat(first, *others):
    return _Call("CONCAT", [_expr(first)] + [_expr(o) for o in others])


def concat_ws(separator, first, *others):
    return _Call("CONCAT_WS", [_expr(separator), _expr(first)] + [_expr(o) for o in others])


def and_(predicate0, predicate1, *predicates):
    out = _Binary("AND", _expr(predicate0), _expr(predicate1))
    for p in predicates:
        out = _Binary("AND", out, _expr(p))
    return out


def or_(predicate0, predicate1, *predicates):
    out = _Binary("OR", _expr(predicate0), _expr(predicate1))
    for p in predicates:
        out = _Binary("OR", out, _expr(p))
    return out


def not_(expression):
    return _Raw("(NOT {0})", [_expr(expression)])


def current_date():
    return _Raw("CURRENT_DATE", [])


def current_timestamp():
    return _Raw("CURRENT_TIMESTAMP", [])


def rand(seed=None):
    return _Call("RAND", [] if seed is None else [_expr(seed)])


def uuid():
    return _Call("UUID", [])


def pi():
    return _Call("PI", [])


def e():
    return _Call("E", [])


class _Range:
    def __init__(self, start, end):
        self.start, self.end = start, end


def range_(start, end):
    """Columns start to end (names or 1-based positions), for with_columns."""
    return _Range(start, end)


class _Columns(Expression):
    """with_columns / without_columns: expanded against a table's columns
    by Table.select."""

    def __init__(self, keep, items):
        self.keep, self.items = keep, items

    def _sql(self, env):
        raise ValueError("with_columns and without_columns are expanded by Table.select, add_columns and group_by")

    def expand(self, names):
        chosen = []
        for it in self.items:
            if isinstance(it, _Range):
                lo = it.start if isinstance(it.start, int) else names.index(it.start) + 1
                hi = it.end if isinstance(it.end, int) else names.index(it.end) + 1
                chosen += names[lo - 1:hi]
            elif isinstance(it, int):
                chosen.append(names[it - 1])
            else:
                chosen.append(it if isinstance(it, str) else it._name())
        if self.keep:
            return chosen
        return [n for n in names if n not in chosen]


def with_columns(head, *tails):
    return _Columns(True, [head] + list(tails))


def without_columns(head, *tails):
    return _Columns(False, [head] + list(tails))


# Units of Expression's interval properties: (SQL unit, how many of it).
_INTERVAL_UNITS = {"year": ("YEAR", 1), "quarter": ("MONTH", 3), "month": ("MONTH", 1), "week": ("DAY", 7),
                   "day": ("DAY", 1), "hour": ("HOUR", 1), "minute": ("MINUTE", 1), "second": ("SECOND", 1),
                   "milli": ("SECOND", decimal.Decimal("0.001"))}
_DAY_TIME_MS = {"DAY": 86_400_000, "HOUR": 3_600_000, "MINUTE": 60_000, "SECOND": 1000}


class _Interval(Expression):
    """lit(n).<unit>: an interval of n units."""

    def __init__(self, value, unit):
        self.value, self.unit = value, unit

    def _count(self):
        """(SQL unit, count) when the value is a literal number, else None."""
        v = self.value.value if isinstance(self.value, _Literal) and self.value.data_type is None else None
        if isinstance(v, bool) or not isinstance(v, (int, decimal.Decimal)):
            return None
        unit, times = _INTERVAL_UNITS[self.unit]
        return unit, decimal.Decimal(v) * times

    def _ms(self):
        """The interval in milliseconds, or None when it is not a literal
        day-time interval (months and years have no fixed length)."""
        c = self._count()
        if c is None or c[0] not in _DAY_TIME_MS:
            return None
        return int(c[1] * _DAY_TIME_MS[c[0]])

    def _sql(self, env):
        c = self._count()
        if c is not None:
            n = c[1]
            text = str(n.normalize()) if n != n.to_integral_value() else str(int(n))
            return f"INTERVAL '{text}' {c[0]}"
        unit, times = _INTERVAL_UNITS[self.unit]
        return f"({self.value._sql(env)} * INTERVAL '{times}' {unit})"

    def __repr__(self):
        return f"{self.value!r}.{self.unit}s"

    __str__ = __repr__


class _RowInterval(Expression):
    """row_interval(n): n rows, for Over.preceding."""

    def __init__(self, rows):
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise ValueError(f"row_interval takes a number of rows (an int >= 0), got {rows!r}")
        self.rows = rows

    def _sql(self, env):
        raise ValueError(f"row_interval({self.rows}) is an over window's bound: pass it to Over...preceding(...)")

    def __repr__(self):
        return f"row_interval({self.rows})"

    __str__ = __repr__


def row_interval(rows):
    """An interval of rows, for Over.partition_by(...).order_by(...).preceding(row_interval(2))."""
    return _RowInterval(rows)


class _Bound(Expression):
    """UNBOUNDED_ROW, UNBOUNDED_RANGE, CURRENT_ROW and CURRENT_RANGE."""

    def __init__(self, name):
        self.bound = name

    def _sql(self, env):
        raise ValueError(f"{self.bound} is an over window's bound: pass it to Over...preceding(...) or .following(...)")

    def __repr__(self):
        return self.bound

    __str__ = __repr__


# The bounds of over windows, as in PyFlink: unbounded or current, counted
# in rows or in the range of the order key.
UNBOUNDED_ROW = _Bound("UNBOUNDED_ROW")
UNBOUNDED_RANGE = _Bound("UNBOUNDED_RANGE")
CURRENT_ROW = _Bound("CURRENT_ROW")
CURRENT_RANGE = _Bound("CURRENT_RANGE")

_WINDOW_COLUMNS = {"start": "window_start", "end": "window_end", "rowtime": "window_time", "proctime": "window_time"}


class _WindowProperty(Expression):
    """col('w').start, .end, .rowtime or .proctime of a group window."""

    def __init__(self, base, prop):
        self.base, self.prop = base, prop

    def _sql(self, env):
        scope = getattr(env, "_window_scope", None)
        name = self.base._name() if isinstance(self.base, _Column) else None
        if scope is None or name != scope.alias:
            where = (f"the group window is named {scope.alias!r}" if scope is not None else
                     "no group window is defined here (table.window(Tumble...alias('w')).group_by(col('w'))...)")
            base = f"col({name!r})" if name is not None else repr(self.base)
            raise ValueError(f"{base}.{self.prop}: a window property of an unknown window alias; {where}")
        scope.check_property(self.prop)
        return _WINDOW_COLUMNS[self.prop]

    def _name(self):
        return None

    def __repr__(self):
        return f"{self.base!r}.{self.prop}"

    __str__ = __repr__


class _Over(Expression):
    """agg.over(col('w')): an aggregate over a window of over_window."""

    def __init__(self, agg, alias):
        if isinstance(alias, _Column):
            alias = alias.name
        if not isinstance(alias, str):
            raise TypeError(f"over takes the alias of an over window, e.g. col('w'), got {alias!r}")
        self.agg, self.window = agg, alias

    def _sql(self, env):
        scope = getattr(env, "_over_scope", None) or {}
        w = scope.get(self.window)
        if w is None:
            known = ", ".join(repr(a) for a in scope) or "none"
            raise ValueError(f"{self.agg!r}.over(col({self.window!r})): no over window is named {self.window!r} "
                             f"(over windows of this over_window: {known})")
        return f"{self.agg._sql(env)} OVER ({w._spec_sql(env)})"
