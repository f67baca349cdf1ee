"""PyFlink's general Python aggregate function example (Python user-defined
functions, "Aggregate Functions"): WeightedAvg called inline, registered,
and in SQL, then in a group window. Written for PyFlink; the code is the
documentation's with what a runnable program needs: the window part's
table has a rowtime column (the documentation windows a table without one),
so it reads the same rows with times from a CSV file through a table with a
watermark, and its select uses expressions (the documentation's string
expression is gone in PyFlink 2); the SQL query's alias avg is quoted
(Flink 2.3's parser refuses the reserved word unquoted). General Python
aggregate functions run in streaming mode only in PyFlink 2.3."""
import os
import tempfile

from pyflink.common import Row
from pyflink.table import AggregateFunction, DataTypes, TableEnvironment, EnvironmentSettings
from pyflink.table.expressions import call
from pyflink.table.udf import udaf
from pyflink.table.expressions import col, lit
from pyflink.table.window import Tumble


class WeightedAvg(AggregateFunction):

    def create_accumulator(self):
        # Row(sum, count)
        return Row(0, 0)

    def get_value(self, accumulator):
        if accumulator[1] == 0:
            return None
        else:
            return accumulator[0] / accumulator[1]

    def accumulate(self, accumulator, value, weight):
        accumulator[0] += value * weight
        accumulator[1] += weight

    def retract(self, accumulator, value, weight):
        accumulator[0] -= value * weight
        accumulator[1] -= weight

    def get_result_type(self):
        return DataTypes.BIGINT()

    def get_accumulator_type(self):
        return DataTypes.ROW([
            DataTypes.FIELD("f0", DataTypes.BIGINT()),
            DataTypes.FIELD("f1", DataTypes.BIGINT())])


env_settings = EnvironmentSettings.in_streaming_mode()
table_env = TableEnvironment.create(env_settings)
table_env.get_config().set("parallelism.default", "1")
# the result type and accumulator type can also be specified in the udaf decorator:
# weighted_avg = udaf(WeightedAvg(), result_type=DataTypes.BIGINT(), accumulator_type=...)
weighted_avg = udaf(WeightedAvg())
t = table_env.from_elements([(1, 2, "Lee"),
                             (3, 4, "Jay"),
                             (5, 6, "Jay"),
                             (7, 8, "Lee")]).alias("value", "count", "name")

# call function "inline" without registration in Table API
result = t.group_by(t.name).select(weighted_avg(t.value, t.count).alias("avg")).to_pandas()
print(result)

# register function
table_env.create_temporary_function("weighted_avg", WeightedAvg())

# call registered function in Table API
result = t.group_by(t.name).select(call("weighted_avg", t.value, t.count).alias("avg")).to_pandas()
print(result)

# register table
table_env.create_temporary_view("source", t)

# call registered function in SQL
result = table_env.sql_query(
    "SELECT weighted_avg(`value`, `count`) AS `avg` FROM source GROUP BY name").to_pandas()
print(result)

# The same rows with a rowtime, for the group window.
path = os.path.join(tempfile.mkdtemp(), "rows.csv")
with open(path, "w") as f:
    f.write("1,2,Lee,2026-01-01 00:10:00\n3,4,Jay,2026-01-01 00:40:00\n"
            "5,6,Jay,2026-01-01 01:20:00\n7,8,Lee,2026-01-01 01:50:00\n")
table_env.execute_sql(f"""
    CREATE TABLE timed (`value` BIGINT, `count` BIGINT, name STRING, rowtime TIMESTAMP(3),
                        WATERMARK FOR rowtime AS rowtime - INTERVAL '1' SECOND)
    WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv')""")
t = table_env.from_path("timed")

# use the general Python aggregate function in GroupBy Window Aggregation
tumble_window = Tumble.over(lit(1).hours) \
            .on(col("rowtime")) \
            .alias("w")

result = t.window(tumble_window) \
        .group_by(col('w'), col('name')) \
        .select(col('w').start, col('w').end, weighted_avg(col('value'), col('count'))) \
        .to_pandas()
print(result)
