"""The DuckDB anchor of the vectorized workload: x + 1 by a Python Arrow UDF.

Run in the tools venv (requirements-tools.txt: duckdb, pyarrow): DuckDB
calls ``inc`` with pyarrow arrays of a chunk of rows, as weir calls a
func_type="arrow" function with a batch. One thread, over N random INT
values in [0, 1000000] (like weir's datagen), summed so that nothing is
printed per row; best of 3. Prints one JSON object: ns per row with the UDF,
and of the same query with DuckDB's own x + 1 (its engine cost alone).
"""

import json
import sys
import time

import duckdb
import pyarrow.compute as pc

try:
    from duckdb.sqltypes import INTEGER
except ImportError:  # older DuckDB
    from duckdb.typing import INTEGER


def inc(x):
    return pc.add(x, 1)


def best(con, q, reps=3):
    b = None
    for _ in range(reps):
        t0 = time.perf_counter()
        con.execute(q).fetchall()
        dt = time.perf_counter() - t0
        b = dt if b is None else min(b, dt)
    return b


def main():
    n = int(sys.argv[1])
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.create_function("inc", inc, [INTEGER], INTEGER, type="arrow")
    con.execute(f"CREATE TABLE t AS SELECT CAST(floor(random() * 1000001) AS INTEGER) AS x FROM range({n})")
    udf = best(con, "SELECT sum(inc(x)) FROM t")
    native = best(con, "SELECT sum(x + 1) FROM t")
    print(json.dumps({"duckdb_version": duckdb.__version__, "rows": n,
                      "udf_ns_per_row": udf * 1e9 / n, "native_ns_per_row": native * 1e9 / n}))


if __name__ == "__main__":
    main()
