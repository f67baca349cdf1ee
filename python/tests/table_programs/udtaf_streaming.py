"""Python table aggregate functions in streaming mode, written for PyFlink:
the changelog each flat_aggregate emits with one row per bundle (every
change, in order), and the rows left at the end with the default bundle
size. The documentation's Top2 over insert-only rows, with and without
group_by; a function whose rows do not change or are empty for a while;
and a function with retract over the updates of a GROUP BY (its
emit_update_with_retract is never called)."""
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
        return DataTypes.ROW([DataTypes.FIELD("a", DataTypes.BIGINT())])


class EvenOnes(TableAggregateFunction):
    """Rows only once a group has an even count: none before, and the same
    rows again when an odd value leaves the evens unchanged."""

    def create_accumulator(self):
        return Row(0, [])

    def accumulate(self, acc, v):
        acc[0] += 1
        if v % 2 == 0:
            acc[1].append(v)

    def emit_value(self, acc):
        if acc[0] % 2 == 0:
            for v in sorted(acc[1]):
                yield Row(v, acc[0])


class Largest(TableAggregateFunction):
    """The two largest values of a multiset, which rows can leave (retract)."""

    def create_accumulator(self):
        return {}

    def accumulate(self, acc, v):
        acc[v] = acc.get(v, 0) + 1

    def retract(self, acc, v):
        acc[v] -= 1
        if acc[v] == 0:
            del acc[v]

    def emit_value(self, acc):
        for rank, v in enumerate(sorted(acc, reverse=True)[:2]):
            yield Row(rank + 1, v)

    def emit_update_with_retract(self, acc, out):
        # Flink's Java table aggregates may emit updates with retractions
        # this way; PyFlink calls emit_value only.
        raise RuntimeError("emit_update_with_retract is not called")


top2 = udtaf(Top2())
even_ones = udtaf(EvenOnes(), result_type=DataTypes.ROW([DataTypes.FIELD("v", DataTypes.BIGINT()),
                                                          DataTypes.FIELD("n", DataTypes.BIGINT())]),
                  accumulator_type=DataTypes.ROW([DataTypes.FIELD("n", DataTypes.BIGINT()),
                                                  DataTypes.FIELD("evens", DataTypes.ARRAY(DataTypes.BIGINT()))]))
largest = udtaf(Largest(), result_type=DataTypes.ROW([DataTypes.FIELD("rank", DataTypes.INT()),
                                                      DataTypes.FIELD("s", DataTypes.BIGINT())]),
                accumulator_type=DataTypes.MAP(DataTypes.BIGINT(), DataTypes.BIGINT()))

ROWS = [(1, 'Hi', 'Hello'), (3, 'Hi', 'hi'), (5, 'Hi2', 'hi'), (7, 'Hi', 'Hello'), (2, 'Hi', 'Hello'),
        (6, 'Hi2', 'Hello'), (4, 'Hi', 'hi'), (8, 'Hi2', 'hi'), (9, 'Hi', 'Hello'), (10, 'Hi2', 'hi')]


def queries(table_env):
    t = table_env.from_elements(ROWS, ['a', 'b', 'c'])
    table_env.create_temporary_view("src", t)
    # An updating input: each c's running sum, retracted as it changes.
    sums = table_env.sql_query("SELECT c, MOD(SUM(a), 2) AS p, SUM(a) AS s FROM src GROUP BY c")
    return [
        t.group_by(t.b).flat_aggregate(top2).select(t.b, t.a),
        t.flat_aggregate(top2).select(col('*')),
        t.group_by(col('c')).flat_aggregate(even_ones(col('a'))).select(col('c'), col('v'), col('n')),
        sums.group_by(col('p')).flat_aggregate(largest(col('s'))).select(col('p'), col('rank'), col('s')),
        sums.flat_aggregate(largest(col('s'))).select(col('*')),
    ]


def changelog(result):
    with result.execute().collect() as changes:
        return [(str(r.get_row_kind()), tuple(r)) for r in changes]


def final(result):
    """The rows left after applying the changelog of a result."""
    rows = []
    for kind, r in changelog(result):
        if kind in ("+I", "+U"):
            rows.append(r)
        else:
            rows.remove(r)
    return sorted(rows, key=repr)


for bundle in ("1", None):
    table_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    table_env.get_config().set("parallelism.default", "1")
    if bundle:
        table_env.get_config().set("python.fn-execution.bundle.size", bundle)
    for i, q in enumerate(queries(table_env)):
        print(f"-- query {i + 1}, bundle size {bundle or 'default'}")
        if bundle:
            for change in changelog(q):
                print(*change)
        else:
            print(final(q))
