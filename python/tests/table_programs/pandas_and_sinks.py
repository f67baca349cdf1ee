"""pandas in and out, a statement set writing CSV files, streaming mode's
changelog column, and a udf over a pandas table; written for PyFlink."""
import os
import shutil
import tempfile

import pandas as pd

from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.expressions import col, lit
from pyflink.table.udf import udf

t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
t_env.get_config().set("parallelism.default", "1")

df = pd.DataFrame({"id": [1, 2, 3, 4], "city": ["Oslo", "Lima", "Oslo", "Pune"], "temp": [2.5, 19.0, -1.25, 31.5]})
t = t_env.from_pandas(df)
t.print_schema()


@udf(result_type=DataTypes.DOUBLE())
def to_fahrenheit(c):
    return c * 9 / 5 + 32


out = t.select(col("id"), col("city"), to_fahrenheit(col("temp")).alias("f")).to_pandas()
print(out.columns.tolist(), out.values.tolist())

# A statement set: two INSERTs into CSV directories.
base = tempfile.mkdtemp()
try:
    hot, cold = os.path.join(base, "hot"), os.path.join(base, "cold")
    t_env.create_temporary_view("readings", t)
    for name, path in (("hot", hot), ("cold", cold)):
        t_env.execute_sql(f"CREATE TABLE {name} (id BIGINT, city STRING) "
                          f"WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv')")
    s = t_env.create_statement_set()
    s.add_insert_sql("INSERT INTO hot SELECT id, city FROM readings WHERE temp > 10")
    s.add_insert("cold", t.where(col("temp") <= lit(10)).select(col("id"), col("city")))
    s.execute().wait()
    for name in ("hot", "cold"):
        t_env.execute_sql(f"SELECT * FROM {name} ORDER BY id").print()
finally:
    shutil.rmtree(base)

# Streaming mode prints the changelog's row kinds.
s_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
s_env.execute_sql("SELECT UPPER(c) AS c, n * 2 AS n FROM (VALUES ('a', 1), ('b', 2)) AS t(c, n)").print()
with s_env.execute_sql("SELECT 'x' AS c").collect() as rows:
    print([(r.get_row_kind(), tuple(r)) for r in rows])
