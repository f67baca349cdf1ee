"""Cross-checks weir's partitioned filesystem tables with Flink 2.3, for
TestPartitionsFlink.

Writes flink/<table> with Flink (PyFlink) and records, per table,
<table>.dirs (the partition directories Flink made, one a line, sorted)
and, where Flink 2.3 can read its own table, <table>.flink (the rows Flink
reads, each value CAST to STRING, 'NULL' for NULL, '|' between values,
sorted). With weir/<table> present (go test -run TestPartitionsFlink
-update-partitions writes it), also weir_<table>.flink: the rows Flink reads
from weir's directories.

Flink 2.3 cannot read back a partition directory of a DATE, TIME or
TIMESTAMP column that it wrote (it names them by their internal numbers and
fails parsing those), nor a DECIMAL partition ('Can not convert 10.25 to
type DECIMAL(5, 2) for partition value'), nor the __DEFAULT_PARTITION__ of a
NULL; the tables that hold them are only compared by directory names.

Run with PyFlink 2.3: python flink.py <flink-sql-parquet.jar> <hadoop-uber.jar>
"""
import os
import shutil
import sys

from pyflink.table import EnvironmentSettings, TableEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))

SPECIALS = ['a/b', 'x=y', 'a b', 'ü', '%', ':', '#', '*', '?', '{', '[', ']', '^', "'", '"', '\\', '\t',
            '\x7f', '~', '!', '@', '$', '&', '(', ')', '+', ',', ';', '.dot', '_under',
            '-', '}', '\x01', 'é/ö', '%41', 'k=v/w=z']

TABLES = {
    # name: (columns, partition keys, format, rows)
    "strs": ("a INT, s STRING", "s", "csv",
             [f"({i}, '{s.replace(chr(39), chr(39) * 2)}')" for i, s in enumerate(SPECIALS)]),
    "typed": ("a INT, b STRING, i INT, bi BIGINT, bo BOOLEAN, db DOUBLE", "i, bi, bo, db", "parquet",
              ["(1, 'one', 5, 123456789012, TRUE, CAST(2.5 AS DOUBLE))",
               "(2, 'two', -1, -1, FALSE, CAST(1e20 AS DOUBLE))",
               "(3, 'three', 5, 123456789012, TRUE, CAST(2.5 AS DOUBLE))",
               "(4, 'four', 0, 0, FALSE, CAST(0.1 AS DOUBLE))"]),
    "times": ("a INT, d DATE, tm TIME, ts TIMESTAMP(3), ts0 TIMESTAMP(0), ts6 TIMESTAMP(6), dc DECIMAL(5,2)",
              "d, tm, ts, ts0, ts6, dc", "parquet",
              ["(1, DATE '2024-01-02', TIME '01:02:03', TIMESTAMP '2024-01-02 03:04:05.678', TIMESTAMP '2024-01-02 03:04:00', TIMESTAMP '2024-01-02 03:04:05.123456', 1.50)",
               "(2, DATE '1969-12-31', TIME '00:00:00', TIMESTAMP '2024-01-02 00:00:00', TIMESTAMP '1970-01-01 00:00:00', TIMESTAMP '2024-01-02 03:04:05.100', -0.01)",
               "(3, DATE '0001-01-01', TIME '23:59:59', TIMESTAMP '1900-01-01 00:00:01', TIMESTAMP '2024-01-02 03:04:05', TIMESTAMP '2024-01-02 03:04:05.000001', 10.25)"]),
    "nulls": ("a INT, s STRING, i INT, d DATE", "s, i, d", "csv",
              ["(1, CAST(NULL AS STRING), CAST(NULL AS INT), CAST(NULL AS DATE))", "(2, '', 3, DATE '2024-01-02')",
               "(3, 'x', CAST(NULL AS INT), DATE '2024-01-02')"]),
}
READABLE = ("strs", "typed")


def ddl(env, name, path):
    cols, keys, fmt, _ = TABLES[name]
    env.execute_sql(f"CREATE TABLE {name} ({cols}) PARTITIONED BY ({keys}) "
                    f"WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = '{fmt}')")


def rows_as_text(env, name):
    cols = [c.split()[0] for c in TABLES[name][0].split(", ")]
    sel = ", ".join(f"COALESCE(CAST({c} AS STRING), 'NULL')" for c in cols)
    with env.execute_sql(f"SELECT {sel} FROM {name}").collect() as it:
        lines = ["|".join(r) for r in it]
    return "".join(l + "\n" for l in sorted(lines))


def dirs(root):
    out = []
    for d, subs, files in os.walk(root):
        if files:
            out.append(os.path.relpath(d, root))
    return "".join(l + "\n" for l in sorted(out))


def main():
    env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    env.get_config().set("pipeline.jars", ";".join("file://" + os.path.abspath(j) for j in sys.argv[1:3]))
    env.get_config().set("parallelism.default", "1")
    env.get_config().set("table.local-time-zone", "UTC")
    for name, (_, _, _, rows) in TABLES.items():
        path = os.path.join(HERE, "flink", name)
        shutil.rmtree(path, ignore_errors=True)
        ddl(env, name, path)
        env.execute_sql(f"INSERT INTO {name} VALUES " + ", ".join(rows)).wait()
        with open(os.path.join(HERE, name + ".dirs"), "w") as fh:
            fh.write(dirs(path))
        if name in READABLE:
            with open(os.path.join(HERE, name + ".flink"), "w") as fh:
                fh.write(rows_as_text(env, name))
        env.execute_sql(f"DROP TABLE {name}")
        weir = os.path.join(HERE, "weir", name)
        if name in READABLE and os.path.isdir(weir):
            ddl(env, name, weir)
            with open(os.path.join(HERE, "weir_" + name + ".flink"), "w") as fh:
                fh.write(rows_as_text(env, name))
            env.execute_sql(f"DROP TABLE {name}")


if __name__ == "__main__":
    main()
