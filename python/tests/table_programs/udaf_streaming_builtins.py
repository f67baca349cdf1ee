"""Built-in SUM and AVG beside a Python aggregate function in one streaming
GROUP BY, over integers near the limits of their types. Flink 2.3 then runs
the built-ins in Python too (pyflink.table.functions): SUM adds Python ints,
so a sum beyond its SQL type fails the job (where Java's SUM would wrap),
and AVG of integers divides with Python's true division, then truncates
(where Java divides longs). Over insert-only input and over the updates
(retractions) of another GROUP BY; the program prints the rows left after
each changelog, or that the job failed."""
from pyflink.table import AggregateFunction, DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.udf import udaf


class Count(AggregateFunction):

    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, v):
        acc[0] += 1

    def retract(self, acc, v):
        acc[0] -= 1

    def get_value(self, acc):
        return acc[0]

    def get_result_type(self):
        return DataTypes.BIGINT()

    def get_accumulator_type(self):
        return DataTypes.ARRAY(DataTypes.BIGINT())


def final(table_env, query):
    """The rows left after applying the changelog of a query."""
    rows = []
    with table_env.execute_sql(query).collect() as changes:
        for r in changes:
            if str(r.get_row_kind()) in ("+I", "+U"):
                rows.append(tuple(r))
            else:
                rows.remove(tuple(r))
    return sorted(rows, key=repr)


table_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
table_env.get_config().set("parallelism.default", "1")
table_env.create_temporary_function("ucount", udaf(Count()))
big = 2147483000
table_env.execute_sql(f"""
CREATE TEMPORARY VIEW t AS SELECT k, CAST(i AS INT) AS i, CAST(i % 200 AS TINYINT) AS ti,
  CAST(i % 40000 AS SMALLINT) AS si, CAST(i AS BIGINT) * 4294967296 AS b, CAST(i % 100 - 50 AS INT) AS small
FROM (VALUES (1, {big}), (1, 1000), (2, -{big}), (2, -2000), (1, {big}), (3, 8), (2, -{big}),
             (1, 123456789), (3, 2147483647), (3, 2147483647), (2, -5)) AS v(k, i)""")

QUERIES = [
    # sums that fit, AVG of sums beyond BIGINT (true division)
    "SELECT k, ucount(i), SUM(small), AVG(i), AVG(ti), AVG(si), AVG(b) FROM t GROUP BY k",
    # sums beyond INT, TINYINT, SMALLINT, BIGINT: the job fails
    "SELECT k, ucount(i), SUM(i) FROM t GROUP BY k",
    "SELECT k, ucount(i), SUM(ti) FROM t GROUP BY k",
    "SELECT k, ucount(i), SUM(si) FROM t GROUP BY k",
    "SELECT k, ucount(i), SUM(b) FROM t GROUP BY k",
    # over updates: retractions of large values (PyFlink needs the COUNT(*) there)
    "SELECT c, ucount(m), COUNT(*), AVG(m), AVG(mb), SUM(ms), MIN(m), MAX(m) FROM (SELECT k, COUNT(*) AS c, "
    "MAX(i) AS m, MAX(b) AS mb, MAX(small) AS ms FROM t GROUP BY k) GROUP BY c",
]

for q in QUERIES:
    print(q)
    try:
        rows = final(table_env, q)
    except Exception:
        print("  the job failed")
        continue
    for row in rows:
        print(" ", row)
