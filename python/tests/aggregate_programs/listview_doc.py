"""PyFlink's ListView examples (Python user-defined functions, "ListView
and MapView" of aggregate and of table aggregate functions): an aggregate
function and a table aggregate function whose accumulator keeps a
ListView of strings, joined with a separator. Written for PyFlink; the
classes are the documentation's, the program around them (a table, the
calls in group_by, the rows kept at the end of the changelog) is what a
runnable program needs. PyFlink runs both in streaming mode."""
from pyflink.common import Row
from pyflink.table import AggregateFunction, DataTypes, EnvironmentSettings, ListView, TableEnvironment
from pyflink.table.expressions import col, lit
from pyflink.table.udf import TableAggregateFunction, udaf, udtaf


class ListViewConcatAggregateFunction(AggregateFunction):

    def get_value(self, accumulator):
        # the ListView is iterable
        return accumulator[1].join(accumulator[0])

    def create_accumulator(self):
        return Row(ListView(), '')

    def accumulate(self, accumulator, *args):
        accumulator[1] = args[1]
        # the ListView support add, clear and iterate operations.
        accumulator[0].add(args[0])

    def get_accumulator_type(self):
        return DataTypes.ROW([
            # declare the first column of the accumulator as a string ListView.
            DataTypes.FIELD("f0", DataTypes.LIST_VIEW(DataTypes.STRING())),
            DataTypes.FIELD("f1", DataTypes.BIGINT())])

    def get_result_type(self):
        return DataTypes.STRING()


class ListViewConcatTableAggregateFunction(TableAggregateFunction):

    def emit_value(self, accumulator):
        result = accumulator[1].join(accumulator[0])
        yield Row(result)
        yield Row(result)

    def create_accumulator(self):
        return Row(ListView(), '')

    def accumulate(self, accumulator, *args):
        accumulator[1] = args[1]
        accumulator[0].add(args[0])

    def get_accumulator_type(self):
        return DataTypes.ROW([
            DataTypes.FIELD("f0", DataTypes.LIST_VIEW(DataTypes.STRING())),
            DataTypes.FIELD("f1", DataTypes.BIGINT())])

    def get_result_type(self):
        return DataTypes.ROW([DataTypes.FIELD("a", DataTypes.STRING())])


def final(result):
    """The rows left after applying the changelog of a result."""
    rows = []
    with result.execute().collect() as changes:
        for r in changes:
            if str(r.get_row_kind()) in ("+I", "+U"):
                rows.append(tuple(r))
            else:
                rows.remove(tuple(r))
    return sorted(rows, key=repr)


table_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
table_env.get_config().set("parallelism.default", "1")
t = table_env.from_elements([(1, "a", "Hi"), (2, "b", "Hi"), (3, "c", "Hello"), (4, "d", "Hi")], ["id", "s", "k"])

concat = udaf(ListViewConcatAggregateFunction())
print(final(t.group_by(col("k")).select(col("k"), concat(col("s"), lit(",")).alias("v"))))

concat_twice = udtaf(ListViewConcatTableAggregateFunction())
print(final(t.group_by(col("k")).flat_aggregate(concat_twice(col("s"), lit("-"))).select(col("k"), col("a"))))
