"""PyFlink's vectorized (pandas) aggregate function in a GroupBy Window
Aggregation (Vectorized User-defined Functions, "Vectorized Aggregate
Functions"), which PyFlink runs in batch and in streaming mode: mean_udaf
over a one-hour tumbling window. Written for PyFlink; the code is the
documentation's with what a runnable program needs: my_table's rows, read
from a CSV file through a table whose rowtime has a watermark, and the
window alias grouped by as col('w') (PyFlink 2 has no string
expressions). The window's start and end are unaliased, so Flink names the
columns EXPR$0, EXPR$1, EXPR$2."""
import os
import tempfile

from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table import expressions as expr
from pyflink.table.expressions import col
from pyflink.table.udf import udaf
from pyflink.table.window import Tumble


@udaf(result_type=DataTypes.FLOAT(), func_type="pandas")
def mean_udaf(v):
    return v.mean()


path = os.path.join(tempfile.mkdtemp(), "rows.csv")
with open(path, "w") as f:
    f.write("x,1,10,2026-01-01 00:05:00\ny,2,20,2026-01-01 00:15:00\nx,3,30,2026-01-01 00:55:00\n"
            "y,8,5,2026-01-01 01:05:00\nz,4,40,2026-01-01 02:30:00\nz,7,1,2026-01-01 02:59:59.999\n")

for settings in (EnvironmentSettings.in_batch_mode(), EnvironmentSettings.in_streaming_mode()):
    table_env = TableEnvironment.create(settings)
    table_env.get_config().set("parallelism.default", "1")
    table_env.execute_sql(f"""
        CREATE TABLE MyTable (a STRING, b BIGINT, c BIGINT, rowtime TIMESTAMP(3),
                              WATERMARK FOR rowtime AS rowtime - INTERVAL '1' SECOND)
        WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv')""")
    my_table = table_env.from_path("MyTable")

    # use the vectorized Python aggregate function in GroupBy Window Aggregation
    tumble_window = Tumble.over(expr.lit(1).hours) \
                .on(expr.col("rowtime")) \
                .alias("w")

    print(my_table.window(tumble_window)
          .group_by(col("w"))
          .select(col('w').start, col('w').end, mean_udaf(col('b')))
          .to_pandas())
