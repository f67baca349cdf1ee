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
from weir.table.expressions import Expression, _Alias, _Call, _Column, quote
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
        """The session's value of key (set here, by SET, or at start), else
        default_value."""
        resp = self._env._gw.request({"op": "get_config", "name": key})
        return resp["value"] if resp.get("found") else default_value

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
        # As PyFlink's EnvironmentSettings, the mode is the runtime-mode option.
        conf = dict(settings.get_configuration())
        conf.setdefault("execution.runtime-mode", "streaming" if settings.is_streaming_mode() else "batch")
        self._gw = Gateway(conf)
        self._config = TableConfig(self)
        self._config._values.update(conf)
        self._names = itertools.count()
        self._functions = {}  # id(function object) -> (name, object)
        _live.add(self)

    @staticmethod
    def create(environment_settings=None):
        if environment_settings is None:
            environment_settings = EnvironmentSettings.in_streaming_mode()
        if environment_settings.get_configuration().get("execution.target", "local") == "remote":
            from weir._flink.table import remote_environment  # a Flink cluster, through PyFlink

            return remote_environment(environment_settings)
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
        """Run one SQL statement. A query's rows are fetched as they come,
        while the result is iterated (collect); other statements have run
        when this returns."""
        stream = self._gw.stream({"op": "execute_sql", "sql": stmt, "fetch": "stream"})
        resp = stream.header
        if resp.get("kind") == "select":
            return TableResult(TableSchema._of(resp["columns"]), stream=stream,
                               streaming=self._settings.is_streaming_mode(), row_kind=bool(resp.get("row_kind")),
                               zone=lambda: self._config.get("table.local-time-zone", "default"))
        return self._result(resp, None)

    def _result(self, resp, data):
        kind = resp.get("kind")
        streaming = self._settings.is_streaming_mode()
        if kind == "select":
            return TableResult(TableSchema._of(resp["columns"]), _arrow.from_ipc(data), streaming=streaming,
                               row_kind=bool(resp.get("row_kind")))
        if kind == "insert":
            _write_output(resp)
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
        elif schema is not None and all(isinstance(x, DataType) for x in schema):
            names = [str(c) for c in pdf.columns]
            types = list(schema)
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

    def from_path(self, path):
        """The Table of a table or view the session knows by name."""
        self._gw.request({"op": "schema", "sql": f"SELECT * FROM {quote(path)}"})
        return Table(self, source=path)

    # -- Python dependencies ------------------------------------------------

    def add_python_file(self, file_path):
        """Put a file, directory or zip on the workers' Python path."""
        self._gw.request({"op": "add_python_file", "path": file_path})

    def set_python_requirements(self, requirements_file_path, requirements_cache_dir=None):
        """Install the packages of a requirements file for the workers: once
        per file content and interpreter, into a cached directory that later
        programs reuse ($WEIR_CACHE_DIR or ~/.cache/weir). With
        requirements_cache_dir, only packages from that directory are
        installed (no index)."""
        import os
        header = {"op": "set_python_requirements", "path": os.path.abspath(requirements_file_path)}
        if requirements_cache_dir:
            header["cache_dir"] = os.path.abspath(requirements_cache_dir)
        return self._gw.request(header).get("cached", False)

    def add_python_archive(self, archive_path, target_dir=None):
        """Extract an archive (zip, tar, tar.gz) for the workers: it is found
        at target_dir (the archive's name when not given) relative to their
        working directory, which is also on their path."""
        import os
        header = {"op": "add_python_archive", "path": os.path.abspath(archive_path)}
        if target_dir:
            header["target"] = target_dir
        self._gw.request(header)

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

        from weir._aggregate import AggregateFunction
        from weir._udf import UserDefinedFunctionWrapper
        if isinstance(function, AggregateFunction):
            # As PyFlink, an AggregateFunction instance declares its own types.
            from weir.table.udf import udaf
            function = udaf(function)
        from weir._table_aggregate import TableAggregateFunction
        if isinstance(function, TableAggregateFunction):
            from weir.table.udf import udtaf
            function = udtaf(function)
        if not isinstance(function, UserDefinedFunctionWrapper):
            raise TypeError(f"{name}: want a function made with udf(...), udtf(...), udaf(...) or udtaf(...), got {type(function).__name__}")
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
    """Several INSERTs run as one job: planned together, run at the same
    time, and committed together (a failure writes nothing)."""

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
        stmts, self._stmts = self._stmts, []
        resp = self._env._gw.request({"op": "execute_statement_set", "statements": stmts})
        _write_output(resp)
        from weir.types import DataTypes
        names = [c["name"] for c in resp["columns"]]
        return TableResult(TableSchema(names, [DataTypes.BIGINT()] * len(names)), rows=[[-1] * len(names)],
                           streaming=self._env._settings.is_streaming_mode(), insert=True)


def _write_output(resp):
    """Print what the job's print sinks printed (Flink's print connector
    writes to the program's stdout)."""
    out = resp.get("output")
    if out:
        import sys
        sys.stdout.write(out)
        sys.stdout.flush()


class Table:
    """A table: a SQL query over the session's tables. Every operation
    gives a new Table whose query reads this one's as a subquery, so a
    Table API program runs as the one SQL query it stands for."""

    def __init__(self, env, source=None, query=None):
        self._env = env
        self._source = source  # a table or view name, when the table is one
        self._query = query if query is not None else f"SELECT * FROM {quote(source)}"
        self._view = source

    # -- SQL of the table ---------------------------------------------------

    def _sql(self):
        return self._query

    def _from(self):
        """This table as a FROM item."""
        if self._source is not None:
            return quote(self._source)
        return f"({self._query}) AS {self._env._unnamed('_t')}"

    def _name(self):
        """A view name holding this table (registered on first use)."""
        if self._view is None:
            name = self._env._unnamed()
            self._env._gw.request({"op": "create_view", "name": name, "sql": self._query})
            self._view = name
        return self._view

    def _x(self, e):
        if isinstance(e, str):
            # PyFlink 2 has no string expressions; a string names a column.
            return quote(e)
        return e._sql(self._env)

    def _new(self, query):
        return Table(self._env, query=query)

    def __str__(self):
        return self._name()

    def _field_names(self):
        return self.get_schema().get_field_names()

    def __getattr__(self, name):
        # PyFlink's t.a: the column named a.
        if name.startswith("_"):
            raise AttributeError(name)
        names = self._field_names()
        if name not in names:
            raise AttributeError(f"the table has no column {name!r}; its columns are {names}")
        return _Column(name)

    # -- operations ---------------------------------------------------------

    def _expand(self, fields):
        """Fields with with_columns/without_columns expanded to columns."""
        from weir.table.expressions import _Columns
        if not any(isinstance(f, _Columns) for f in fields):
            return list(fields)
        names = self._field_names()
        out = []
        for f in fields:
            out += [_Column(n) for n in f.expand(names)] if isinstance(f, _Columns) else [f]
        return out

    def select(self, *fields):
        fields = self._expand(fields)
        return self._new(f"SELECT {', '.join(self._x(f) for f in fields)} FROM {self._from()}")

    def add_columns(self, *fields):
        return self.select(*([_Column(n) for n in self._field_names()] + list(fields)))

    def add_or_replace_columns(self, *fields):
        names = self._field_names()
        new = {f._name(): f for f in fields if isinstance(f, Expression) and f._name()}
        items = [new.pop(n) if n in new else _Column(n) for n in names]
        return self.select(*(items + [f for f in fields if not (isinstance(f, Expression) and f._name() in names)]))

    def drop_columns(self, *fields):
        drop = {(f if isinstance(f, str) else f._name()) for f in fields}
        names = self._field_names()
        missing = drop - set(names)
        if missing:
            raise ValueError(f"drop_columns: no column {sorted(missing)[0]!r}; the table has {names}")
        return self.select(*[_Column(n) for n in names if n not in drop])

    def rename_columns(self, *fields):
        renames = {}
        for f in fields:
            if not isinstance(f, _Alias) or not isinstance(f.e, _Column):
                raise ValueError("rename_columns takes col('old').alias('new') expressions")
            renames[f.e.name] = f.name
        names = self._field_names()
        missing = set(renames) - set(names)
        if missing:
            raise ValueError(f"rename_columns: no column {sorted(missing)[0]!r}; the table has {names}")
        return self.select(*[_Column(n).alias(renames[n]) if n in renames else _Column(n) for n in names])

    def where(self, predicate):
        return self._new(f"SELECT * FROM {self._from()} WHERE {self._x(predicate)}")

    filter = where

    def alias(self, field, *fields):
        names = [field] + list(fields)
        old = self._field_names()
        if len(names) != len(old):
            raise ValueError(f"alias: {len(names)} names for {len(old)} columns ({old})")
        return self.select(*[_Column(o).alias(n) for o, n in zip(old, names)])

    def distinct(self):
        return self._new(f"SELECT DISTINCT * FROM {self._from()}")

    def group_by(self, *fields):
        return GroupedTable(self, [self._x(f) for f in self._expand(fields)])

    def order_by(self, *fields):
        return self._new(f"SELECT * FROM {self._from()} ORDER BY {', '.join(self._x(f) for f in fields)}")

    def limit(self, fetch, offset=0):
        q = f"SELECT * FROM {self._from()}"
        if fetch is not None and fetch >= 0:
            q += f" LIMIT {int(fetch)}"
        if offset:
            q += f" OFFSET {int(offset)}"
        return self._new(q)

    def fetch(self, fetch):
        return self.limit(fetch)

    def offset(self, offset):
        return self.limit(None, offset)

    def join(self, right, join_predicate=None):
        """Inner join; without a predicate, a cross join (filter it with where)."""
        if join_predicate is None:
            return self._new(f"SELECT * FROM {self._from()} CROSS JOIN {right._from()}")
        return self._new(f"SELECT * FROM {self._from()} JOIN {right._from()} ON {self._x(join_predicate)}")

    def _outer(self, kind, right, join_predicate):
        if join_predicate is None:
            join_predicate = "TRUE"
        return self._new(f"SELECT * FROM {self._from()} {kind} JOIN {right._from()} ON {self._x(join_predicate)}")

    def left_outer_join(self, right, join_predicate=None):
        return self._outer("LEFT", right, join_predicate)

    def right_outer_join(self, right, join_predicate):
        return self._outer("RIGHT", right, join_predicate)

    def full_outer_join(self, right, join_predicate):
        return self._outer("FULL", right, join_predicate)

    def _lateral(self, table_function_call):
        call, names = table_function_call, None
        if isinstance(call, _Alias):
            call, names = call.e, call.names
        if not isinstance(call, _Call):
            raise TypeError("join_lateral takes a call of a table function, e.g. split(col('line')).alias('word')")
        alias = self._env._unnamed("_f")
        if names:
            alias += "(" + ", ".join(quote(n) for n in names) + ")"
        return f"LATERAL TABLE({call._sql(self._env)}) AS {alias}"

    def join_lateral(self, table_function_call, join_predicate=None):
        """Join each row with the rows a table function gives for it."""
        lat = self._lateral(table_function_call)
        if join_predicate is None:
            return self._new(f"SELECT * FROM {self._from()}, {lat}")
        return self._new(f"SELECT * FROM {self._from()} JOIN {lat} ON {self._x(join_predicate)}")

    def left_outer_join_lateral(self, table_function_call, join_predicate=None):
        """As join_lateral, keeping rows the function gives no rows for (NULLs)."""
        lat = self._lateral(table_function_call)
        on = "TRUE" if join_predicate is None else self._x(join_predicate)
        return self._new(f"SELECT * FROM {self._from()} LEFT JOIN {lat} ON {on}")

    def window(self, window):
        """Group the rows by a group window (weir.table.window's Tumble,
        Slide or Session ... .alias('w')); continue with group_by(col('w'), ...)."""
        from weir.table.window import GroupWindowedTable
        return GroupWindowedTable(self, window)

    def over_window(self, *over_windows):
        """Define over windows (weir.table.window's Over ... .alias('w'))
        for aggregates in select(...) with .over(col('w'))."""
        from weir.table.window import OverWindowedTable
        return OverWindowedTable(self, over_windows)

    def aggregate(self, func):
        """An aggregate function over the whole table, its result's fields
        as columns; close it with select(...)."""
        from weir.table.window import AggregatedTable
        return AggregatedTable(self, [], func)

    def flat_aggregate(self, func):
        """A table aggregate function over the whole table (PyFlink's
        flat_aggregate without group_by); close it with select(...)."""
        return FlatAggregateTable(self, [], func)

    def _set(self, op, right):
        return self._new(f"SELECT * FROM {self._from()} {op} SELECT * FROM {right._from()}")

    def union_all(self, right):
        return self._set("UNION ALL", right)

    def union(self, right):
        return self._set("UNION", right)

    def intersect(self, right):
        return self._set("INTERSECT", right)

    def intersect_all(self, right):
        return self._set("INTERSECT ALL", right)

    def minus(self, right):
        return self._set("EXCEPT", right)

    def minus_all(self, right):
        return self._set("EXCEPT ALL", right)

    # -- results ------------------------------------------------------------

    def execute(self):
        return self._env.execute_sql(self._sql())

    def execute_insert(self, table_path_or_descriptor, overwrite=False):
        verb = "INSERT OVERWRITE" if overwrite else "INSERT INTO"
        return self._env.execute_sql(f"{verb} {quote(table_path_or_descriptor)} {self._sql()}")

    def to_pandas(self):
        resp, data = self._env._gw.request_with_body({"op": "execute_sql", "sql": self._sql()})
        t = _arrow.from_ipc(data)
        if t is None:
            import pandas as pd
            return pd.DataFrame(columns=[c["name"] for c in resp["columns"]])
        if resp.get("row_kind"):
            kinds = t.column(0).to_pylist()
            t = t.drop_columns([t.column_names[0]])
            if any(k in (1, 3) for k in kinds):
                t = _fold_changelog(t, kinds)
        from weir.table._result import _pandas_ready
        return _pandas_ready(t, TableSchema._of(resp["columns"]).get_field_data_types()).to_pandas()

    def get_schema(self):
        return TableSchema._of(self._env._gw.request({"op": "schema", "sql": self._sql()})["columns"])

    get_resolved_schema = get_schema

    def print_schema(self):
        print(self.get_schema()._resolved())

    def explain(self, *extra_details):
        return self._env.explain_sql(self._sql())


def _fold_changelog(t, kinds):
    """The rows of an Arrow table of changes (kinds: 0 +I, 1 -U, 2 +U, 3 -D)
    left when the retractions (-U, -D) remove the rows they name, in the
    order the remaining rows came, as PyFlink's to_pandas gives them."""
    alive = {}  # row's repr -> indices of its live copies
    keep = set()
    for i, (k, r) in enumerate(zip(kinds, t.to_pylist())):
        key = repr(r)
        if k in (1, 3):
            copies = alive.get(key)
            if copies:  # a retraction of a row never inserted removes nothing
                keep.discard(copies.pop(0))
        else:
            alive.setdefault(key, []).append(i)
            keep.add(i)
    return t.take(sorted(keep))


class GroupedTable:
    """A table grouped by keys; select gives one row per group."""

    def __init__(self, table, keys):
        self._table = table
        self._keys = keys

    def select(self, *fields):
        from weir.table.window import _named
        t = self._table
        # Unaliased aggregates are named EXPR$<n>, other expressions _c<i>, as Flink's Table API names them.
        return t._new(f"SELECT {', '.join(_named(t, fields))} FROM {t._from()} GROUP BY {', '.join(self._keys)}")

    def aggregate(self, func):
        """An aggregate function per group, its result's fields as columns
        after the keys; close it with select(...)."""
        from weir.table.window import AggregatedTable
        return AggregatedTable(self._table, self._keys, func)

    def flat_aggregate(self, func):
        """A table aggregate function (udtaf) per group: the group keys, then
        the columns of the rows the function yields; close it with
        select(...). Given the function itself, it takes each row whole (a
        Row of every column), as in PyFlink; given a call, its arguments."""
        return FlatAggregateTable(self._table, self._keys, func)


class FlatAggregateTable:
    """The result of flat_aggregate, to be closed with select(...)."""

    def __init__(self, table, keys, func):
        from weir._table_aggregate import UserDefinedTableAggregateFunctionWrapper as Wrapper

        env = table._env
        call, names = func, None
        if isinstance(call, _Alias):
            call, names = call.e, call.names
        if isinstance(call, Wrapper):
            wrapper = call
            cols = ", ".join(quote(c) for c in table._field_names())
            item = f"{quote('$flat_aggregate_row')}({env._function_name(wrapper)}({cols}))"
        elif isinstance(call, _Call):
            wrapper = call.func if isinstance(call.func, Wrapper) else None
            item = f"{quote('$flat_aggregate')}({call._sql(env)})"
        else:
            raise TypeError(f"flat_aggregate takes a table aggregate function made with udtaf, or a call of one "
                            f"(e.g. top2(col('a'))), got {type(func).__name__}")
        if names is None and wrapper is not None:
            names = wrapper._alias_names
        q = f"SELECT {', '.join(list(keys) + [item])} FROM {table._from()}"
        if keys:
            q += f" GROUP BY {', '.join(keys)}"
        self._result = table._new(q)
        if names:
            have = self._result._field_names()
            if len(names) != len(have) - len(keys):
                raise ValueError(f"flat_aggregate: {len(names)} alias name(s) for the function's "
                                 f"{len(have) - len(keys)} column(s) ({', '.join(have[len(keys):])})")
            self._result = self._result.alias(*(have[:len(keys)] + list(names)))

    def select(self, *fields):
        return self._result.select(*fields)
