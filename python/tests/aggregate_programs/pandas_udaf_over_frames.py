"""Vectorized (pandas) aggregate functions in Over Window Aggregations in
batch mode, beyond the documentation's example: ROWS and RANGE frames
(n PRECEDING, INTERVAL, UNBOUNDED PRECEDING to CURRENT ROW with peers, the
whole partition, n PRECEDING to n FOLLOWING), two arguments, several Python
aggregates in one window and in two windows, results of
several types, NULL arguments and a frame of NULLs only, no PARTITION BY,
an AggregateFunction with func_type='pandas'; and a general aggregate
function over a window, which PyFlink refuses. Written for PyFlink; each
query's rows are printed sorted."""
import os
import tempfile

from pyflink.table import AggregateFunction, DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.udf import udaf


@udaf(result_type=DataTypes.DOUBLE(), func_type="pandas")
def mean_udaf(v):
    return v.mean()


@udaf(result_type=DataTypes.FLOAT(), func_type="pandas")
def half_sum(v):
    return v.sum() / 2


@udaf(result_type=DataTypes.DOUBLE(), func_type="pandas")
def wavg(v, w):
    return (v * w).sum() / w.sum()


@udaf(result_type=DataTypes.BIGINT(), func_type="pandas")
def n_rows(v):
    return len(v)


@udaf(result_type=DataTypes.STRING(), func_type="pandas")
def labels(v):
    return "|".join(str(x) for x in v)


@udaf(result_type=DataTypes.DOUBLE(), func_type="pandas")
def first_index(v):
    # the Series' index: positions in the partition, as iloc slices keep them
    return float(v.index[0]) if len(v) else -1.0


class Spread(AggregateFunction):
    def create_accumulator(self):
        return []

    def accumulate(self, acc, v):
        acc.append(v.max() - v.min())

    def get_value(self, acc):
        return acc[0]


spread = udaf(Spread(), result_type=DataTypes.BIGINT(), func_type="pandas")


class Count(AggregateFunction):
    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, v):
        acc[0] += 1

    def retract(self, acc, v):
        acc[0] -= 1

    def get_value(self, acc):
        return acc[0]


general_count = udaf(Count(), result_type=DataTypes.BIGINT(), accumulator_type=DataTypes.ARRAY(DataTypes.BIGINT()))

table_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
table_env.get_config().set("parallelism.default", "1")

path = os.path.join(tempfile.mkdtemp(), "rows.csv")
with open(path, "w") as f:
    f.write("x,1,10.5,2026-01-01 00:05:00\n"
            "y,2,20.0,2026-01-01 00:15:00\n"
            "x,3,30.0,2026-01-01 00:55:00\n"
            "y,8,NULL,2026-01-01 01:05:00\n"
            "z,4,40.0,2026-01-01 02:30:00\n"
            "x,5,NULL,2026-01-01 03:00:00\n"
            "x,7,2.5,2026-01-01 03:00:00\n"
            "y,6,NULL,2026-01-01 03:10:00\n"
            "x,9,8.0,2026-01-01 03:20:00\n"
            "x,2,1.0,2026-01-01 05:00:00\n")
table_env.execute_sql(f"""
    CREATE TABLE T (a STRING, b BIGINT, c DOUBLE, rowtime TIMESTAMP(3))
    WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv', 'csv.null-literal' = 'NULL')""")
for name, f in [("mean_udaf", mean_udaf), ("half_sum", half_sum), ("wavg", wavg), ("n_rows", n_rows),
                ("labels", labels), ("first_index", first_index), ("spread", spread),
                ("general_count", general_count)]:
    table_env.create_temporary_function(name, f)

# PyFlink refuses Python and built-in aggregates over one window ("Python UDAF and Java/Scala UDAF
# cannot be used together"); weir runs them together, and python/tests/test_over_aggregate.py checks
# that against the "_builtin" queries here.
QUERIES = {
    "rows_preceding": """
        SELECT a, rowtime, b,
            mean_udaf(b) OVER w, wavg(c, b) OVER w, n_rows(c) OVER w, labels(b) OVER w, first_index(b) OVER w,
            half_sum(b) OVER w
        FROM T WINDOW w AS (PARTITION BY a ORDER BY rowtime ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)""",
    "rows_preceding_builtin": """
        SELECT a, rowtime, b, SUM(b) OVER w, COUNT(c) OVER w
        FROM T WINDOW w AS (PARTITION BY a ORDER BY rowtime ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)""",
    "range_interval": """
        SELECT a, rowtime, b, mean_udaf(b) OVER (PARTITION BY a ORDER BY rowtime
            RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW),
            mean_udaf(c) OVER (PARTITION BY a ORDER BY rowtime
            RANGE BETWEEN INTERVAL '10' MINUTE PRECEDING AND CURRENT ROW)
        FROM T""",
    "running_with_peers": """
        SELECT a, rowtime, b, labels(b) OVER (PARTITION BY a ORDER BY rowtime
            RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS l, spread(b) OVER (PARTITION BY a ORDER BY rowtime
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS s
        FROM T""",
    "whole_partition": """
        SELECT a, b, wavg(b, b) OVER (PARTITION BY a ORDER BY rowtime
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        FROM T""",
    "centered_and_two_windows": """
        SELECT a, rowtime, b, mean_udaf(b) OVER (PARTITION BY a ORDER BY rowtime
            ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING),
            n_rows(b) OVER (ORDER BY rowtime ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)
        FROM T""",
    "nulls_only_frame": """
        SELECT a, rowtime, mean_udaf(c) OVER (PARTITION BY a ORDER BY rowtime
            ROWS BETWEEN CURRENT ROW AND CURRENT ROW) FROM T""",
    "general_udaf_refused": """
        SELECT a, general_count(b) OVER (PARTITION BY a ORDER BY rowtime
            ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM T""",
}

for name, q in QUERIES.items():
    print(name)
    try:
        rows = sorted((tuple(r) for r in table_env.sql_query(q).execute().collect()), key=repr)
    except Exception:  # PyFlink refuses some; the message differs from weir's
        print("ERROR")
        continue
    for r in rows:
        print(r)
