"""PyFlink's statement set example, written for PyFlink: several INSERTs,
by SQL and by Table, executed together as one job."""
import os
import shutil
import tempfile

from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.expressions import col

t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
t_env.get_config().set("parallelism.default", "1")

table = t_env.from_elements([(1, "Hi"), (2, "Hello"), (3, "Hello world")],
                            DataTypes.ROW([DataTypes.FIELD("id", DataTypes.BIGINT()),
                                           DataTypes.FIELD("data", DataTypes.STRING())]))
t_env.create_temporary_view("simple_source", table)
base = tempfile.mkdtemp()
try:
    for name in ("first_sink", "second_sink", "third_sink"):
        t_env.execute_sql(f"""
            CREATE TABLE {name} (
                id BIGINT,
                data STRING
            ) WITH (
                'connector' = 'filesystem',
                'path' = '{os.path.join(base, name)}',
                'format' = 'csv'
            )""")
    statement_set = t_env.create_statement_set()
    # emit the table into the first sink
    statement_set.add_insert("first_sink", table)
    # emit a query into the second sink
    statement_set.add_insert_sql("INSERT INTO second_sink SELECT * FROM simple_source WHERE id > 1")
    statement_set.add_insert("third_sink", table.where(col("data").char_length > 2).select(col("id"), col("data")))
    result = statement_set.execute()
    print(result.get_table_schema().get_field_names())
    result.wait()
    for name in ("first_sink", "second_sink", "third_sink"):
        print(name, sorted(tuple(r) for r in t_env.execute_sql(f"SELECT * FROM {name}").collect()))
finally:
    shutil.rmtree(base)
