"""PyFlink's vectorized (pandas) aggregate function in an Over Window
Aggregation (Vectorized User-defined Functions, "Vectorized Aggregate
Functions"): mean_udaf registered and called in SQL over a window of the
whole partition, in batch mode. Written for PyFlink; the code is the
documentation's with MyTable's rows (schema [a: String, b: BigInt, c:
BigInt] and a rowtime) read from a CSV file, and the query's rows printed
sorted."""
import os
import tempfile

from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.udf import udaf


@udaf(result_type=DataTypes.FLOAT(), func_type="pandas")
def mean_udaf(v):
    return v.mean()


settings = EnvironmentSettings.in_batch_mode()
table_env = TableEnvironment.create(settings)
table_env.get_config().set("parallelism.default", "1")

path = os.path.join(tempfile.mkdtemp(), "rows.csv")
with open(path, "w") as f:
    f.write("x,1,10,2026-01-01 00:05:00\ny,2,20,2026-01-01 00:15:00\nx,3,30,2026-01-01 00:55:00\n"
            "y,8,5,2026-01-01 01:05:00\nz,4,40,2026-01-01 02:30:00\n")
table_env.execute_sql(f"""
    CREATE TABLE MyTable (a STRING, b BIGINT, c BIGINT, rowtime TIMESTAMP(3))
    WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv')""")

# use the vectorized Python aggregate function in Over Window Aggregation
table_env.create_temporary_function("mean_udaf", mean_udaf)
result = table_env.sql_query("""
    SELECT a,
        mean_udaf(b)
        over (PARTITION BY a ORDER BY rowtime
        ROWS BETWEEN UNBOUNDED preceding AND UNBOUNDED FOLLOWING)
    FROM MyTable""")
print(sorted(tuple(r) for r in result.execute().collect()))
