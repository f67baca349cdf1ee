"""TableEnvironment, TableConfig, EnvironmentSettings, Table and StatementSet."""

import atexit
import itertools
import re
import weakref

import pyarrow as pa

from weir.row import Row
from weir.table import _arrow
from weir.table._gateway import EngineError, Gateway
from weir.table._result import ResultKind, TableResult, TableSchema
from weir.table.expressions import Expression, _Column, quote
from weir.types import DataType, RowType

__all__ = ["EnvironmentSettings", "TableEnvironment", "TableConfig", "Table", "StatementSet", "GroupedTable"]


class EnvironmentSettings:
    """Batch or streaming mode, as pyflink.table.EnvironmentSettings."""

    def __init__(self, streaming=True, config=None):
        self._streaming = streaming
        self._config = dict(config or {})

    @staticmethod
    def in_batch_mode():
        return EnvironmentSettings(False)

    @staticmethod
    def in_streaming_mode():
        return EnvironmentSettings(True)

    @staticmethod
    def new_instance():
        return _Builder()

    def is_streaming_mode(self):
        return self._streaming

    def get_configuration(self):
        return dict(self._config)


class _Builder:
    def __init__(self):
        self._streaming = True
        self._config = {}

    def in_batch_mode(self):
        self._streaming = False
        return self

    def in_streaming_mode(self):
        self._streaming = True
        return self

    def with_configuration(self, config):
        self._config.update(config if isinstance(config, dict) else dict(config))
        return self

    def build(self):
        return EnvironmentSettings(self._streaming, self._config)


class TableConfig:
    """Options of the session, with Flink's names (``parallelism.default``, ...)."""

    def __init__(self, env):
        self._env = env
        self._values = {}

    def set(self, key, value):
        value = str(value)
        self._env._gw.request({"op": "set_config", "settings": {key: value}})
        self._values[key] = value
        return self

    def get(self, key, default_value=None):
        return self._values.get(key, default_value)

    def get_configuration(self):
        return dict(self._values)

    def add_configuration(self, config):
        for k, v in dict(config).items():
            self.set(k, v)


_live = weakref.WeakSet()


@atexit.register
def _close_all():
    for env in list(_live):
        env.close()


class TableEnvironment:
    """A session of the weir engine, as pyflink.table.TableEnvironment."""

    def __init__(self, settings):
        self._settings = settings
        self._gw = Gateway(settings.get_configuration())
        self._config = TableConfig(self)
        self._config._values.update(settings.get_configuration())
        self._names = itertools.count()
        self._functions = {}  # id(function object) -> (name, object)
        _live.add(self)

    @staticmethod
    def create(environment_settings=None):
        if environment_settings is None:
            environment_settings = EnvironmentSettings.in_streaming_mode()
        return TableEnvironment(environment_settings)

    def get_config(self):
        return self._config

    def close(self):
        """Stop the engine and its workers. Safe to call twice."""
        self._gw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _unnamed(self, prefix="UnnamedTable"):
        return f"{prefix}_{next(self._names)}"

    # -- SQL ----------------------------------------------------------------

    def execute_sql(self, stmt):
        """Run one SQL statement; a query's rows are in the result."""
        resp, data = self._gw.request_with_body({"op": "execute_sql", "sql": stmt})
        return self._result(resp, data)

    def _result(self, resp, data):
        kind = resp.get("kind")
        streaming = self._settings.is_streaming_mode()
        if kind == "select":
            return TableResult(TableSchema._of(resp["columns"]), _arrow.from_ipc(data), streaming=streaming)
        if kind == "insert":
            return TableResult(TableSchema._of(resp["columns"]), rows=[[-1]], streaming=streaming,
                               insert=True)
        from weir.types import DataTypes
        return TableResult(TableSchema(["result"], [DataTypes.STRING()]), rows=[["OK"]], kind=ResultKind.SUCCESS)

    def sql_query(self, query):
        """A Table of a SQL query; runs when executed."""
        return Table(self, query=query)

    def explain_sql(self, stmt, *extra_details):
        return self._gw.request({"op": "explain", "sql": stmt})["text"]

    # -- data from Python ---------------------------------------------------

    def from_elements(self, elements, schema=None, verify_schema=True):
        """A Table of Python rows; schema is a list of names or DataTypes.ROW."""
        elements = list(elements)
        names, types = self._schema_of(elements, schema)
        rows = [self._as_tuple(e, names) for e in elements]
        cols = []
        for i, t in enumerate(types):
            try:
                cols.append(pa.array([r[i] for r in rows], type=_arrow.arrow_type(t)))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as e:
                raise TypeError(f"from_elements: column {names[i]!r} ({t}): {e}") from None
        table = pa.Table.from_arrays(cols, names=names) if cols else pa.table({})
        return self._register(table, names, types)

    @staticmethod
    def _as_tuple(e, names):
        if isinstance(e, dict):
            return tuple(e[n] for n in names)
        if isinstance(e, (tuple, list)):
            return tuple(e)
        return (e,)

    def _schema_of(self, elements, schema):
        if isinstance(schema, RowType):
            return [f.name for f in schema.fields], [f.data_type for f in schema.fields]
        if isinstance(schema, DataType):
            raise TypeError("from_elements: schema must be DataTypes.ROW([...]) or a list of column names")
        first = self._as_tuple(elements[0], schema) if elements else ()
        if schema is None:
            if isinstance(elements[0] if elements else None, Row) and elements[0]._fields:
                schema = list(elements[0]._fields)
            else:
                schema = [f"_{i + 1}" for i in range(len(first))]
        names = list(schema)
        types = []
        for i, n in enumerate(names):
            v = next((self._as_tuple(e, names)[i] for e in elements if self._as_tuple(e, names)[i] is not None), None)
            if v is None:
                raise TypeError(f"from_elements: column {n!r} has no non-NULL value to infer its type from; give DataTypes.ROW")
            types.append(_arrow.type_of_value(v))
        return names, types

    def from_pandas(self, pdf, schema=None, splits_num=1):
        """A Table of a pandas DataFrame (sent as Arrow, no per-row work)."""
        table = pa.Table.from_pandas(pdf, preserve_index=False)
        if isinstance(schema, RowType):
            names = [f.name for f in schema.fields]
            types = [f.data_type for f in schema.fields]
        else:
            names = list(schema) if schema is not None else [str(c) for c in pdf.columns]
            types = [_arrow.type_of_arrow(f.type) for f in table.schema]
        target = pa.schema([pa.field(n, _arrow.arrow_type(t)) for n, t in zip(names, types)])
        table = table.rename_columns(names).cast(target)
        return self._register(table, names, types)

    def _register(self, table, names, types):
        name = self._unnamed()
        self._gw.request({"op": "register_table", "name": name,
                          "columns": [{"name": n, "type": str(t)} for n, t in zip(names, types)]},
                         _arrow.to_ipc(table))
        return Table(self, source=name)

    # -- views and functions ------------------------------------------------

    def create_temporary_view(self, view_path, table_or_data_stream, *fields):
        """Register a Table under a name, for SQL."""
        table = table_or_data_stream
        self._gw.request({"op": "create_view", "name": view_path, "sql": table._sql()})

    def drop_temporary_view(self, view_path):
        try:
            self._gw.request({"op": "drop_view", "name": view_path})
            return True
        except EngineError:
            return False

    drop_temporary_table = drop_temporary_view

    def create_temporary_function(self, path, function):
        """Register a weir function object (from udf/udtf) under a name."""
        self._register_function(path, function)

    def create_temporary_system_function(self, name, function):
        self._register_function(name, function)

    def _register_function(self, name, function):
        import cloudpickle

        from weir._udf import UserDefinedFunctionWrapper
        if not isinstance(function, UserDefinedFunctionWrapper):
            raise TypeError(f"{name}: want a function made with udf(...) or udtf(...), got {type(function).__name__}")
        self._gw.request({"op": "register_function", "name": name}, cloudpickle.dumps(function))

    def drop_temporary_function(self, path):
        try:
            self._gw.request({"op": "drop_function", "name": path})
            return True
        except EngineError:
            return False

    drop_temporary_system_function = drop_temporary_function

    def _function_name(self, function):
        """The name of a function object used in an expression, registered
        on first use."""
        got = self._functions.get(id(function))
        if got is None:
            # Named after the function, for error messages: <lambda> is lambda_3.
            base = re.sub(r"\W+", "_", str(getattr(function, "name", "") or "udf")).strip("_") or "udf"
            if not base[0].isalpha():
                base = "udf_" + base
            name = self._unnamed(base)
            self._register_function(name, function)
            got = self._functions[id(function)] = (name, function)
        return got[0]

    def create_statement_set(self):
        return StatementSet(self)


class StatementSet:
    """Several INSERTs run together (one after the other in weir for now)."""

    def __init__(self, env):
        self._env = env
        self._stmts = []

    def add_insert_sql(self, stmt):
        self._stmts.append(stmt)
        return self

    def add_insert(self, target_path, table, overwrite=False):
        verb = "INSERT OVERWRITE" if overwrite else "INSERT INTO"
        self._stmts.append(f"{verb} {quote(target_path)} {table._sql()}")
        return self

    def explain(self, *extra_details):
        return "\n".join(self._env.explain_sql(s) for s in self._stmts)

    def execute(self):
        names = []
        for s in self._stmts:
            r = self._env.execute_sql(s)
            names += r.get_table_schema().get_field_names()
        self._stmts = []
        from weir.types import DataTypes
        return TableResult(TableSchema(names, [DataTypes.BIGINT()] * len(names)), rows=[[-1] * len(names)],
                           streaming=self._env._settings.is_streaming_mode(), insert=True)


class Table:
    """A table: a source, or a query over one. Operations compose SQL; one
    that cannot extend the query (a select after a select, a filter after
    a grouping) first computes the table as an anonymous view."""

    def __init__(self, env, source=None, query=None):
        self._env = env
        self._source = source  # a table name
        self._query = query  # SQL text of a query
        self._where = []
        self._items = None
        self._group = None
        self._order = None
        self._limit = None
        self._offset = None
        self._distinct = False
        self._view = None

    # -- SQL of the table ---------------------------------------------------

    def _sql(self):
        if self._query is not None:
            return self._query
        env = self._env
        s = "SELECT " + ("DISTINCT " if self._distinct else "")
        s += ", ".join(self._items) if self._items else "*"
        s += " FROM " + quote(self._source)
        if self._where:
            s += " WHERE " + " AND ".join(f"({w})" for w in self._where)
        if self._group:
            s += " GROUP BY " + ", ".join(self._group)
        if self._order:
            s += " ORDER BY " + ", ".join(self._order)
        if self._limit is not None:
            s += f" LIMIT {self._limit}"
        if self._offset:
            s += f" OFFSET {self._offset}"
        return s

    def _plain(self):
        return (self._query is None and not self._where and self._items is None and self._group is None
                and self._order is None and self._limit is None and not self._offset and not self._distinct)

    def _name(self):
        """A table name holding this table's rows (computed once)."""
        if self._query is None and self._plain():
            return self._source
        if self._view is None:
            name = self._env._unnamed()
            self._env._gw.request({"op": "create_view", "name": name, "sql": self._sql()})
            self._view = name
        return self._view

    def _derive(self):
        """A copy to extend; a query is first computed as a view."""
        if self._query is not None:
            t = Table(self._env, source=self._name())
            return t
        t = Table(self._env, source=self._source)
        t.__dict__.update({k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()
                           if k not in ("_view",)})
        return t

    def _fresh(self):
        return Table(self._env, source=self._name())

    def _x(self, e):
        if isinstance(e, str):
            return e
        return e._sql(self._env)

    def __str__(self):
        return self._name()

    # -- operations ---------------------------------------------------------

    def select(self, *fields):
        t = self._derive()
        if t._items is not None or t._order is not None or t._limit is not None or t._distinct:
            t = self._fresh()
        t._items = [self._x(f) for f in fields]
        return t

    def add_columns(self, *fields):
        return self.select(*([_Column(n) for n in self.get_schema().get_field_names()] + list(fields)))

    def where(self, predicate):
        t = self._derive()
        if t._items is not None or t._order is not None or t._limit is not None or t._distinct:
            t = self._fresh()
        t._where.append(self._x(predicate))
        return t

    filter = where

    def alias(self, field, *fields):
        names = [field] + list(fields)
        old = self.get_schema().get_field_names()
        return self.select(*[_Column(o).alias(n) for o, n in zip(old, names)])

    def distinct(self):
        t = self._derive()
        if t._distinct or t._order is not None or t._limit is not None:
            t = self._fresh()
        t._distinct = True
        return t

    def group_by(self, *fields):
        return GroupedTable(self, [self._x(f) for f in fields])

    def order_by(self, *fields):
        t = self._derive()
        if t._order is not None or t._limit is not None:
            t = self._fresh()
        t._order = [self._x(f) for f in fields]
        return t

    def limit(self, fetch, offset=0):
        t = self._derive()
        if t._limit is not None:
            t = self._fresh()
        t._limit, t._offset = fetch, offset
        return t

    def fetch(self, fetch):
        return self.limit(fetch)

    def offset(self, offset):
        t = self._derive()
        t._offset = offset
        if t._limit is None:
            t._limit = 2**62
        return t

    # -- results ------------------------------------------------------------

    def execute(self):
        return self._env.execute_sql(self._sql())

    def execute_insert(self, table_path, overwrite=False):
        verb = "INSERT OVERWRITE" if overwrite else "INSERT INTO"
        return self._env.execute_sql(f"{verb} {quote(table_path)} {self._sql()}")

    def to_pandas(self):
        resp, data = self._env._gw.request_with_body({"op": "execute_sql", "sql": self._sql()})
        t = _arrow.from_ipc(data)
        if t is None:
            import pandas as pd
            return pd.DataFrame(columns=[c["name"] for c in resp["columns"]])
        return t.to_pandas()

    def get_schema(self):
        return TableSchema._of(self._env._gw.request({"op": "schema", "sql": self._sql()})["columns"])

    get_resolved_schema = get_schema

    def print_schema(self):
        print(self.get_schema()._resolved())

    def explain(self, *extra_details):
        return self._env.explain_sql(self._sql())


class GroupedTable:
    def __init__(self, table, keys):
        self._table = table
        self._keys = keys

    def select(self, *fields):
        t = self._table._derive()
        if t._items is not None or t._group is not None or t._order is not None or t._limit is not None or t._distinct:
            t = self._table._fresh()
        t._group = list(self._keys)
        t._items = [t._x(f) for f in fields]
        return t
