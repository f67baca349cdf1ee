"""PyFlink's vectorized (pandas) aggregate function defined by extending
AggregateFunction (Vectorized User-defined Functions, option 1 of the ways
to define max_add): accumulate gets a pandas.Series per argument, open
reads the metric group. Written for PyFlink; the class is the
documentation's, used in a GroupBy Aggregation in batch mode over the rows
of pandas_udaf_group.py."""
from pyflink.table import AggregateFunction, DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.udf import udaf

table_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
table_env.get_config().set("parallelism.default", "1")
my_table = table_env.from_elements([("x", 1, 10), ("y", 2, 20), ("x", 3, 30), ("y", 8, 5), ("z", 4, 40)],
                                   ["a", "b", "c"])


# option 1: extending the base class `AggregateFunction`
class MaxAdd(AggregateFunction):

    def open(self, function_context):
        mg = function_context.get_metric_group()
        self.counter = mg.add_group("key", "value").counter("my_counter")
        self.counter_sum = 0

    def get_value(self, accumulator):
        # counter
        self.counter.inc(10)
        self.counter_sum += 10
        return accumulator[0]

    def create_accumulator(self):
        return []

    def accumulate(self, accumulator, *args):
        result = 0
        for arg in args:
            result += arg.max()
        accumulator.append(result)


max_add = udaf(MaxAdd(), result_type=DataTypes.BIGINT(), func_type="pandas")
print(my_table.group_by(my_table.a).select(my_table.a, max_add(my_table.b, my_table.c)).to_pandas())
