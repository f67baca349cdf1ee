"""PyFlink's table aggregate function example, written for PyFlink: Top2 in
group_by().flat_aggregate().select() and in flat_aggregate without
group_by, given the function (each row whole) or a call of it. PyFlink runs
Python table aggregate functions in streaming mode, where a group's rows
are retracted and emitted again as rows come: the program keeps the rows
left at the end of the changelog."""
from pyflink.common import Row
from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.expressions import col
from pyflink.table.udf import TableAggregateFunction, udtaf


class Top2(TableAggregateFunction):

    def emit_value(self, accumulator):
        yield Row(accumulator[0])
        yield Row(accumulator[1])

    def create_accumulator(self):
        return [None, None]

    def accumulate(self, accumulator, row):
        if row[0] is not None:
            if accumulator[0] is None or row[0] > accumulator[0]:
                accumulator[1] = accumulator[0]
                accumulator[0] = row[0]
            elif accumulator[1] is None or row[0] > accumulator[1]:
                accumulator[1] = row[0]

    def get_accumulator_type(self):
        return DataTypes.ARRAY(DataTypes.BIGINT())

    def get_result_type(self):
        return DataTypes.ROW(
            [DataTypes.FIELD("a", DataTypes.BIGINT())])


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
# the result type and accumulator type can also be specified in the udtaf decorator:
# top2 = udtaf(Top2(), result_type=DataTypes.ROW([DataTypes.FIELD("a", DataTypes.BIGINT())]), accumulator_type=DataTypes.ARRAY(DataTypes.BIGINT()))
top2 = udtaf(Top2())
t = table_env.from_elements([(1, 'Hi', 'Hello'),
                             (3, 'Hi', 'hi'),
                             (5, 'Hi2', 'hi'),
                             (7, 'Hi', 'Hello'),
                             (2, 'Hi', 'Hello')],
                            ['a', 'b', 'c'])

# call function "inline" without registration in Table API
print(final(t.group_by(t.b).flat_aggregate(top2).select(t.b, t.a)))
print(final(t.group_by(t.b).flat_aggregate(top2).select(col('*'))))

# flat_aggregate without group_by
print(final(t.flat_aggregate(top2).select(col('*'))))


# A function of one column, called with it, its result renamed, declared in udtaf.
class MaxMin(TableAggregateFunction):

    def create_accumulator(self):
        return Row(None, None, 0)

    def accumulate(self, accumulator, value):
        if value is not None:
            if accumulator[0] is None or value > accumulator[0]:
                accumulator[0] = value
            if accumulator[1] is None or value < accumulator[1]:
                accumulator[1] = value
            accumulator[2] += 1

    def emit_value(self, accumulator):
        if accumulator[2] > 0:
            yield Row("max", accumulator[0])
            yield Row("min", accumulator[1])


max_min = udtaf(MaxMin(),
                result_type=DataTypes.ROW([DataTypes.FIELD("kind", DataTypes.STRING()),
                                           DataTypes.FIELD("v", DataTypes.BIGINT())]),
                accumulator_type=DataTypes.ROW([DataTypes.FIELD("mx", DataTypes.BIGINT()),
                                                DataTypes.FIELD("mn", DataTypes.BIGINT()),
                                                DataTypes.FIELD("n", DataTypes.BIGINT())]))
print(final(t.group_by(col('c')).flat_aggregate(max_min(col('a')).alias("k", "x")).select(col('c'), col('k'), col('x'))))
print(final(t.where(col('a') > 1).group_by(col('b'), col('c')).flat_aggregate(max_min(col('a')))
            .select(col('b'), col('c'), col('kind'), col('v'))))
