"""PyFlink's vectorized (pandas) function and pandas conversion examples,
written for PyFlink."""
import numpy as np
import pandas as pd

from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.expressions import col
from pyflink.table.udf import udf

table_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
table_env.get_config().set("parallelism.default", "1")


@udf(result_type=DataTypes.BIGINT(), func_type="pandas")
def add(i, j):
    return i + j


# Create a PyFlink Table from a Pandas DataFrame
pdf = pd.DataFrame(np.arange(20).reshape(10, 2) * 1.5, columns=["a", "b"])
table = table_env.from_pandas(pdf)
table.print_schema()
# with column names
table = table_env.from_pandas(pdf, ["f0", "f1"])
table.print_schema()
# with data types
table = table_env.from_pandas(pdf, [DataTypes.DOUBLE(), DataTypes.DOUBLE()])
table.print_schema()
# with a row type
table = table_env.from_pandas(pdf, DataTypes.ROW([DataTypes.FIELD("f0", DataTypes.DOUBLE()),
                                                  DataTypes.FIELD("f1", DataTypes.DOUBLE())]))
table.print_schema()

# Convert the PyFlink Table to a Pandas DataFrame
out = table.filter(col("f0") > 10).to_pandas()
print(out.to_string())

ints = table_env.from_pandas(pd.DataFrame({"x": np.arange(1, 8, dtype=np.int64), "y": np.arange(7, dtype=np.int64) * 10}))
print(ints.select(col("x"), add(col("x"), col("y")).alias("s")).to_pandas().to_string())
table_env.create_temporary_function("add", add)
table_env.create_temporary_view("ints", ints)
print(table_env.sql_query("SELECT x, add(x, y) AS s FROM ints WHERE x > 3").to_pandas().to_string())
