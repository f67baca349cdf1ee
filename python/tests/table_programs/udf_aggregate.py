"""PyFlink's aggregate function examples, written for PyFlink: the
WeightedAvg AggregateFunction in group_by().select() and in SQL, and a
pandas aggregate function. Python aggregate functions run in streaming
mode in PyFlink, where a group's result is updated as rows come: the
program keeps the last value of each group from the changelog."""
from pyflink.common import Row
from pyflink.table import AggregateFunction, DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.expressions import col
from pyflink.table.udf import udaf


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


def final(result):
    """The rows left after applying the changelog of a result."""
    rows = []
    with result.execute().collect() as changes:
        for r in changes:
            kind = str(r.get_row_kind())
            if kind in ("+I", "+U"):
                rows.append(tuple(r))
            else:
                rows.remove(tuple(r))
    return sorted(rows, key=repr)


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
result = t.group_by(col("name")).select(col("name"), weighted_avg(col("value"), col("count")).alias("avg"))
print(final(result))

# register function
table_env.create_temporary_function("weighted_avg", WeightedAvg())

# call registered function in Table API
result = t.group_by(col("name")).select(col("name"), weighted_avg(col("value"), col("count")).alias("avg"))
print(final(result))

# register table
table_env.create_temporary_view("source", t)

# call registered function in SQL
result = table_env.sql_query("SELECT name, weighted_avg(`value`, `count`) AS w_avg FROM source GROUP BY name")
print(final(result))
# Built-in aggregates through expressions.
print(final(t.group_by(col("name")).select(
    col("name"), col("value").sum.alias("s"), col("count").max.alias("mx"), col("value").count.alias("n"))))

# A pandas aggregate function, in batch mode.
b_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
b_env.get_config().set("parallelism.default", "1")
b = b_env.from_elements([(1, "Lee"), (3, "Jay"), (5, "Jay"), (7, "Lee"), (8, "Lee")], ["value", "name"])


# A pandas aggregate function.
@udaf(result_type=DataTypes.FLOAT(), func_type="pandas")
def mean_udaf(v):
    return v.mean()


print(sorted(tuple(r) for r in b.group_by(col("name")).select(col("name"), mean_udaf(col("value")).alias("m"))
             .execute().collect()))
b.group_by(col("name")).select(col("name"), col("value").avg.alias("a")).order_by(col("name")).execute().print()
