"""PyFlink's vectorized (pandas) aggregate function examples (Vectorized
User-defined Functions, "Vectorized Aggregate Functions"): mean_udaf in a
GroupBy Aggregation, and four of the five ways to define max_add (options
2 to 5; option 1 is pandas_udaf_class.py), each used in one.
Written for PyFlink; the code is the documentation's with what a runnable
program needs: my_table's rows (schema [a: String, b: BigInt, c: BigInt],
as the documentation gives it), and mean_udaf called on my_table.b (the
documentation's add(my_table.b) calls a two-argument function with one).
Pandas aggregate functions run in batch mode only in a GroupBy
Aggregation."""
import functools

from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.udf import udaf


@udaf(result_type=DataTypes.FLOAT(), func_type="pandas")
def mean_udaf(v):
    return v.mean()


settings = EnvironmentSettings.in_batch_mode()
table_env = TableEnvironment.create(settings)
table_env.get_config().set("parallelism.default", "1")

my_table = table_env.from_elements([("x", 1, 10), ("y", 2, 20), ("x", 3, 30), ("y", 8, 5), ("z", 4, 40)],
                                   ["a", "b", "c"])  # type: Table, table schema: [a: String, b: BigInt, c: BigInt]

# use the vectorized Python aggregate function in GroupBy Aggregation
print(my_table.group_by(my_table.a).select(my_table.a, mean_udaf(my_table.b)).to_pandas())


# option 2: Python function
@udaf(result_type=DataTypes.BIGINT(), func_type="pandas")
def max_add(i, j):
    return i.max() + j.max()


print(my_table.group_by(my_table.a).select(my_table.a, max_add(my_table.b, my_table.c)).to_pandas())

# option 3: lambda function
max_add = udaf(lambda i, j: i.max() + j.max(), result_type=DataTypes.BIGINT(), func_type="pandas")
print(my_table.group_by(my_table.a).select(my_table.a, max_add(my_table.b, my_table.c)).to_pandas())


# option 4: callable function
class CallableMaxAdd(object):
    def __call__(self, i, j):
        return i.max() + j.max()


max_add = udaf(CallableMaxAdd(), result_type=DataTypes.BIGINT(), func_type="pandas")
print(my_table.group_by(my_table.a).select(my_table.a, max_add(my_table.b, my_table.c)).to_pandas())


# option 5: partial function
def partial_max_add(i, j, k):
    return i.max() + j.max() + k


max_add = udaf(functools.partial(partial_max_add, k=1), result_type=DataTypes.BIGINT(), func_type="pandas")
print(my_table.group_by(my_table.a).select(my_table.a, max_add(my_table.b, my_table.c)).to_pandas())
