"""PyFlink's table function examples, written for PyFlink: a TableFunction
and a generator with join_lateral and left_outer_join_lateral, and the same
from SQL with LATERAL TABLE."""
from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.expressions import col
from pyflink.table.udf import TableFunction, udtf


class Split(TableFunction):
    def eval(self, string):
        for s in string.split(" "):
            yield s, len(s)


env_settings = EnvironmentSettings.in_batch_mode()
table_env = TableEnvironment.create(env_settings)
table_env.get_config().set("parallelism.default", "1")
my_table = table_env.from_elements([(1, "Hi Flink"), (2, "Hello"), (3, ""), (4, "a bb ccc")], ["id", "a"])

split = udtf(Split(), result_types=[DataTypes.STRING(), DataTypes.INT()])

# Table API
joined = my_table.join_lateral(split(col("a")).alias("word", "length"))
joined.print_schema()
print(sorted(tuple(r) for r in joined.select(col("id"), col("word"), col("length")).execute().collect()))
left = my_table.left_outer_join_lateral(split(col("a")).alias("word", "length"))
print(sorted(tuple(r) for r in left.select(col("id"), col("word"), col("length")).execute().collect()))


@udtf(result_types=[DataTypes.BIGINT()])
def ids_below(n):
    for i in range(n):
        yield i


nums = table_env.from_elements([(1,), (3,), (0,)], ["n"])
print(sorted(tuple(r) for r in nums.join_lateral(ids_below(col("n")).alias("i")).execute().collect()))
print(sorted(tuple(r) for r in nums.left_outer_join_lateral(ids_below(col("n")).alias("i"))
             .select(col("n"), col("i")).execute().collect()))

# SQL API
table_env.create_temporary_function("split_words", udtf(Split(), result_types=[DataTypes.STRING(), DataTypes.INT()]))
table_env.create_temporary_view("MyTable", my_table)
print(sorted(tuple(r) for r in table_env.sql_query(
    "SELECT a, word, length FROM MyTable, LATERAL TABLE(split_words(a)) as T(word, length)").execute().collect()))
print(sorted(tuple(r) for r in table_env.sql_query(
    "SELECT a, word, length FROM MyTable LEFT JOIN LATERAL TABLE(split_words(a)) as T(word, length) ON TRUE")
    .execute().collect()))
