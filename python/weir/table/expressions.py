"""Table API expressions, shaped like ``pyflink.table.expressions``.

An expression renders to weir's Flink SQL: ``col('a') + 1`` is ``(a + 1)``.
Calling a weir function with expressions (``f(col('a'))``) gives a call
expression; the function is registered with the engine when the
expression is first used.
"""

import datetime
import decimal
import re

__all__ = ["Expression", "col", "lit", "call", "call_sql", "row", "array", "null_of", "if_then_else"]

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
    def __invert__(self): return _Raw("(NOT {0})", [self])
    def __neg__(self): return _Raw("(- {0})", [self])

    def __bool__(self):
        raise TypeError("a Table API expression has no truth value; use & | ~ instead of and, or, not")

    def alias(self, name, *extra):
        if extra:
            raise ValueError("alias of several names is for table functions, which weir's Table API does not call yet")
        return _Alias(self, name)

    def cast(self, data_type):
        return _Raw("CAST({0} AS %s)" % data_type, [self])

    @property
    def is_null(self): return _Raw("({0} IS NULL)", [self])
    @property
    def is_not_null(self): return _Raw("({0} IS NOT NULL)", [self])
    @property
    def is_true(self): return _Raw("({0} IS TRUE)", [self])
    @property
    def upper_case(self): return _Call("UPPER", [self])
    @property
    def lower_case(self): return _Call("LOWER", [self])
    @property
    def char_length(self): return _Call("CHAR_LENGTH", [self])
    @property
    def trim(self): return _Call("TRIM", [self])
    @property
    def abs(self): return _Call("ABS", [self])
    @property
    def sum(self): return _Call("SUM", [self])
    @property
    def count(self): return _Call("COUNT", [self])
    @property
    def avg(self): return _Call("AVG", [self])
    @property
    def min(self): return _Call("MIN", [self])
    @property
    def max(self): return _Call("MAX", [self])
    @property
    def asc(self): return _Raw("{0} ASC", [self])
    @property
    def desc(self): return _Raw("{0} DESC", [self])

    def like(self, pattern): return _Raw("({0} LIKE {1})", [self, _expr(pattern)])
    def between(self, lo, hi): return _Raw("({0} BETWEEN {1} AND {2})", [self, _expr(lo), _expr(hi)])
    def in_(self, *values): return _Raw("({0} IN (%s))" % ", ".join("{%d}" % (i + 1) for i in range(len(values))), [self] + [_expr(v) for v in values])
    def substring(self, begin, length=None):
        args = [self, _expr(begin)] + ([] if length is None else [_expr(length)])
        return _Call("SUBSTRING", args)

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
        return quote(self.name)

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
    def __init__(self, e, name):
        self.e, self.name = e, name

    def _sql(self, env):
        return f"{self.e._sql(env)} AS {quote(self.name)}"

    def _name(self):
        return self.name


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
