"""weir's Table API, shaped like PyFlink's ``pyflink.table``.

A PyFlink program moves to weir by changing its imports: ``from
pyflink.table import ...`` becomes ``from weir.table import ...``. The
TableEnvironment starts the Go engine (``weir gateway``: ``$WEIR_BIN``, the
engine of the installed wheel, or ``weir`` on PATH) and talks to it over a private Unix socket
(docs/GATEWAY.md); Python functions are shipped to the engine's workers
with cloudpickle; tables and results move as Arrow.
"""

from weir.row import Row, RowKind
from weir.table._env import (EnvironmentSettings, GroupedTable, StatementSet, Table, TableConfig,
                             TableEnvironment)
from weir.table._gateway import EngineError
from weir.table._result import CloseableIterator, ResultKind, TableResult, TableSchema
from weir.types import DataTypes
from weir.table import expressions
from weir.table.expressions import Expression
from weir.table.window import AggregatedTable, GroupWindowedTable, OverWindowedTable, WindowGroupedTable
from weir.table.udf import (AggregateFunction, FunctionContext, ListView, MapView, ScalarFunction,
                            TableAggregateFunction, TableFunction)

__all__ = ["EnvironmentSettings", "TableEnvironment", "TableConfig", "Table", "GroupedTable", "StatementSet",
           "TableResult", "TableSchema", "ResultKind", "CloseableIterator", "DataTypes", "Row", "RowKind",
           "EngineError", "expressions", "Expression", "ScalarFunction", "TableFunction", "AggregateFunction",
           "TableAggregateFunction", "FunctionContext", "ListView", "MapView", "GroupWindowedTable",
           "WindowGroupedTable", "OverWindowedTable", "AggregatedTable"]
