"""Writes flink_types with Flink 2.3 and records what Flink reads from
flink_types and weir_types (as *.flink files), for TestParquetFlink.

Run with PyFlink 2.3 and the flink-sql-parquet and flink-shaded-hadoop-2-uber
jars: python flink.py <flink-sql-parquet.jar> <hadoop-uber.jar> [write]
"""
import os
import sys

from pyflink.table import EnvironmentSettings, TableEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))

FLINK_COLS = """tn TINYINT, sm SMALLINT, i INT, bi BIGINT, bo BOOLEAN, f FLOAT, d DOUBLE,
 dc DECIMAL(10,2), dbig DECIMAL(30,5), s STRING, vb BYTES, dt DATE, tm TIME, ts TIMESTAMP(3),
 ts6 TIMESTAMP(6), ts9 TIMESTAMP(9)"""
WEIR_COLS = """tn TINYINT, sm SMALLINT, i INT, bi BIGINT, bo BOOLEAN, f FLOAT, d DOUBLE,
 dc DECIMAL(10,2), dbig DECIMAL(30,5), ch CHAR(3), s STRING, vb BYTES, dt DATE, tm TIME,
 ts TIMESTAMP(3), ts6 TIMESTAMP(6), ts9 TIMESTAMP(9)"""

ROWS = """
 (CAST(1 AS TINYINT), CAST(-2 AS SMALLINT), 3, 4000000000, TRUE, CAST(1.5 AS FLOAT), 2.25,
  CAST(12345678.91 AS DECIMAL(10,2)), CAST('-1234567890123456789012345.12345' AS DECIMAL(30,5)),
  'héllo, "wörld"', X'00FF10', DATE '2024-02-29', TIME '23:59:58', TIMESTAMP '2024-02-29 12:34:56.789',
  TIMESTAMP '1969-12-31 23:59:59.123456', TIMESTAMP '2001-01-01 00:00:00.123456789'),
 (CAST(-128 AS TINYINT), CAST(32767 AS SMALLINT), -2147483648, -9223372036854775808, FALSE,
  CAST(-0.0 AS FLOAT), -1e300, CAST(0 AS DECIMAL(10,2)), CAST(0.00001 AS DECIMAL(30,5)), '', X'',
  DATE '0001-01-01', TIME '00:00:00', TIMESTAMP '1900-01-01 00:00:00',
  TIMESTAMP '9999-12-31 23:59:59.999999', TIMESTAMP '1970-01-01 00:00:00'),
 (CAST(NULL AS TINYINT), CAST(NULL AS SMALLINT), CAST(NULL AS INT), CAST(NULL AS BIGINT),
  CAST(NULL AS BOOLEAN), CAST(NULL AS FLOAT), CAST(NULL AS DOUBLE), CAST(NULL AS DECIMAL(10,2)),
  CAST(NULL AS DECIMAL(30,5)), CAST(NULL AS STRING), CAST(NULL AS BYTES), CAST(NULL AS DATE),
  CAST(NULL AS TIME), CAST(NULL AS TIMESTAMP(3)), CAST(NULL AS TIMESTAMP(6)), CAST(NULL AS TIMESTAMP(9)))
"""


def main():
    jars = ";".join("file://" + os.path.abspath(j) for j in sys.argv[1:3])
    env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    env.get_config().set("pipeline.jars", jars)
    env.get_config().set("pipeline.classpaths", jars)
    env.get_config().set("parallelism.default", "1")
    for name, cols in (("flink_types", FLINK_COLS), ("weir_types", WEIR_COLS)):
        env.execute_sql(f"CREATE TABLE {name} ({cols}) WITH ('connector'='filesystem', "
                        f"'path'='{os.path.join(HERE, name)}', 'format'='parquet')")
    if sys.argv[3:] == ["write"]:
        env.execute_sql(f"INSERT INTO flink_types VALUES {ROWS}").wait()
    for name, cols in (("flink_types", FLINK_COLS), ("weir_types", WEIR_COLS)):
        names = [c.strip().split()[0] for c in cols.split(",") if c.strip() and not c.strip()[0].isdigit()]
        exprs = ", ".join(f"COALESCE(CAST({n} AS STRING), 'NULL')" for n in names)
        with env.execute_sql(f"SELECT {exprs} FROM {name}").collect() as rows:
            lines = ["|".join(r) for r in rows]
        with open(os.path.join(HERE, name + ".flink"), "w") as f:
            f.write("".join(line + "\n" for line in lines))


if __name__ == "__main__":
    main()
