"""execution.runtime-mode through the Table API's TableConfig: streaming mode
gives a GROUP BY's changelog with PyFlink's row kinds, batch mode its final
rows."""

from weir.row import RowKind
from weir.table import EnvironmentSettings, TableEnvironment

QUERY = "SELECT k, COUNT(*) AS c FROM (VALUES (1), (2), (1), (1)) AS t(k) GROUP BY k"


def test_streaming_changelog_and_batch_rows():
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.get_config().set("execution.runtime-mode", "streaming")
    with t_env.execute_sql(QUERY).collect() as it:
        got = [(row.get_row_kind(), tuple(row)) for row in it]
    assert got == [
        (RowKind.INSERT, (1, 1)),
        (RowKind.INSERT, (2, 1)),
        (RowKind.UPDATE_BEFORE, (1, 1)),
        (RowKind.UPDATE_AFTER, (1, 2)),
        (RowKind.UPDATE_BEFORE, (1, 2)),
        (RowKind.UPDATE_AFTER, (1, 3)),
    ]
    t_env.get_config().set("execution.runtime-mode", "batch")
    rows = sorted(tuple(r) for r in t_env.execute_sql(QUERY).collect())
    assert rows == [(1, 3), (2, 1)]
