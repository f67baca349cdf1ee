"""DuckDB's side of the relational workloads (bench/relational.py); run in the tools venv.

Usage: duckdb_relational.py '<json spec>' with rows, reps, threads and the queries by name. Each query
runs reps times; its result is read as Arrow record batches and dropped. Prints one JSON line: the
version, the threads and, per query, the best time (seconds), its CPU time and the result's rows.
"""

import json
import sys
import time

import duckdb


def main():
    spec = json.loads(sys.argv[1])
    con = duckdb.connect()
    con.execute(f"SET threads = {int(spec['threads'])}")
    results = {}
    for name, q in spec["queries"].items():
        best, cpu, n = None, None, 0
        for _ in range(spec["reps"]):
            t0, c0 = time.perf_counter(), time.process_time()
            reader = con.sql(q).to_arrow_reader(1_000_000)
            n = 0
            for b in reader:
                n += b.num_rows
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            if best is None or dt < best:
                best, cpu = dt, dc
        results[name] = {"seconds": best, "cpu_s": cpu, "output_rows": n}
    print(json.dumps({"version": duckdb.__version__, "threads": int(spec["threads"]), "results": results}))


if __name__ == "__main__":
    main()
