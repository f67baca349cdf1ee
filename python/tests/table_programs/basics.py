"""PyFlink's basic Table API examples, written for PyFlink.

The test runs this file on weir with the imports changed from pyflink to
weir, and compares its output with PyFlink's (basics.golden).
"""
from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.expressions import call, col, lit
from pyflink.table.udf import ScalarFunction, udf

t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
t_env.get_config().set("parallelism.default", "1")

# Word count with SQL over a table made from Python elements.
words = t_env.from_elements([("hello",), ("world",), ("hello",), ("flink",), ("hello",)], ["word"])
t_env.create_temporary_view("words", words)
t_env.execute_sql("SELECT word, COUNT(*) AS cnt FROM words GROUP BY word ORDER BY word").print()

# A scalar function as a lambda, called from the Table API.
add = udf(lambda i, j: i + j, result_type=DataTypes.BIGINT())
nums = t_env.from_elements([(1, 2), (3, 4), (5, 6)], ["a", "b"])
nums.select(col("a"), add(col("a"), col("b")).alias("s")).execute().print()


# A decorated function, registered and called from SQL.
@udf(result_type=DataTypes.STRING())
def shout(s):
    return s.upper() + "!"


t_env.create_temporary_function("shout", shout)
with t_env.execute_sql("SELECT word, shout(word) AS loud FROM words WHERE word <> 'world'").collect() as results:
    for r in results:
        print(r.get_row_kind(), list(r))

# A closure and a function class instance.
factor = 10


class Scale(ScalarFunction):
    def __init__(self, k):
        self.k = k

    def eval(self, x):
        return x * self.k + factor


scale = udf(Scale(3), result_type=DataTypes.BIGINT())
times = udf(lambda x: x * factor, result_type=DataTypes.BIGINT())
t = t_env.from_elements([(1, "a"), (2, "b"), (3, "c")],
                        DataTypes.ROW([DataTypes.FIELD("id", DataTypes.BIGINT()),
                                       DataTypes.FIELD("name", DataTypes.STRING())]))
res = t.where(col("id") > 1).select(scale(col("id")).alias("x"), times(col("id")).alias("y"), col("name"))
print(sorted(tuple(r) for r in res.execute().collect()))
res.print_schema()

# to_pandas.
df = t.select(col("id"), col("name"), (col("id") + lit(1)).alias("next")).to_pandas()
print(list(df.columns), df.values.tolist())

# A system function through call(), and SQL expressions.
print([tuple(r) for r in t.select(call("upper", col("name")).alias("u")).execute().collect()])
t_env.create_temporary_system_function("shout2", shout)
print([tuple(r) for r in t_env.sql_query("SELECT shout2(name) AS s FROM %s" % t).execute().collect()])
t_env.drop_temporary_system_function("shout2")
