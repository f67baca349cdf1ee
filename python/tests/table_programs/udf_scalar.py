"""PyFlink's scalar function examples (Python UDFs page), written for PyFlink:
a function class with open() and a FunctionContext, a lambda, a callable,
a partial function, functions called from the Table API and from SQL."""
import functools

from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.expressions import call, col
from pyflink.table.udf import FunctionContext, ScalarFunction, udf


class HashCode(ScalarFunction):
    def __init__(self):
        self.factor = 0

    def open(self, function_context: FunctionContext):
        self.factor = int(function_context.get_job_parameter("hashcode_factor", "12"))

    def eval(self, s):
        return sum(ord(c) for c in s) * self.factor


settings = EnvironmentSettings.in_batch_mode()
table_env = TableEnvironment.create(settings)
table_env.get_config().set("parallelism.default", "1")
table_env.get_config().set("pipeline.global-job-parameters", "hashcode_factor:31")
print(table_env.get_config().get("pipeline.global-job-parameters", None))

hash_code = udf(HashCode(), result_type=DataTypes.BIGINT())
my_table = table_env.from_elements([(1, "hello", 2), (2, "flink", 3), (3, "python", 4)], ["a", "b", "c"])

# Table API
print(sorted(tuple(r) for r in my_table.select(col("b"), hash_code(col("b"))).execute().collect()))

# SQL API
table_env.create_temporary_function("hash_code", udf(HashCode(), result_type=DataTypes.BIGINT()))
table_env.create_temporary_view("MyTable", my_table)
print(sorted(tuple(r) for r in table_env.sql_query("SELECT b, hash_code(b) FROM MyTable").execute().collect()))

# A lambda.
add = udf(lambda i, j: i + j, result_type=DataTypes.BIGINT())


# A callable.
class Add(object):
    def __call__(self, i, j):
        return i + j


add_callable = udf(Add(), result_type=DataTypes.BIGINT())


# A partial function.
def partial_add(i, j, k):
    return i + j + k


add_partial = udf(functools.partial(partial_add, k=1), result_type=DataTypes.BIGINT())

res = my_table.select(col("a"), add(col("a"), col("c")).alias("l"), add_callable(col("a"), col("c")).alias("cl"),
                      add_partial(col("a"), col("c")).alias("p"))
res.print_schema()
res.order_by(col("a")).execute().print()

# A registered function called with call().
table_env.create_temporary_function("add", add)
print(sorted(tuple(r) for r in my_table.select(call("add", col("a"), col("c")).alias("s")).execute().collect()))
print(table_env.drop_temporary_function("add"))
