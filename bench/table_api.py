"""The Table API benchmark: one PyFlink Table API program, run on PyFlink
and on weir (its imports changed, nothing else), in one run.

    .venv/bin/python bench/table_api.py [--rows N] [--skip-pyflink]

The program makes a table of N rows with from_pandas, calls a Python
function (a plain scalar udf) on every row through Table.select, and reads
the result back with to_pandas; it checks the result and times the whole
(environment start included) and the query alone. weir also reports its
client's own work per row: the Arrow conversions of from_pandas and
to_pandas, timed in the client's process on the same data.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Written for PyFlink; weir runs it with `pyflink.` -> `weir.` in its imports.
PROGRAM = r'''
import json
import sys
import time

import numpy as np
import pandas as pd

from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.expressions import col
from pyflink.table.udf import udf

rows = int(sys.argv[1])
start = time.perf_counter()
t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
t_env.get_config().set("parallelism.default", "1")


@udf(result_type=DataTypes.BIGINT())
def scale(x):
    return x * 3 + 1


pdf = pd.DataFrame({"x": np.arange(rows, dtype=np.int64)})
query_start = time.perf_counter()
table = t_env.from_pandas(pdf)
out = table.select(scale(col("x")).alias("y")).to_pandas()
end = time.perf_counter()
assert len(out) == rows and int(out["y"].sum()) == 3 * rows * (rows - 1) // 2 + rows, out.describe()
client = None
if "weir" in sys.modules:
    # The client's own work on the same data: Arrow in (from_pandas) and out (to_pandas).
    from weir.table import _arrow
    import pyarrow as pa
    c0 = time.perf_counter()
    data = _arrow.to_ipc(pa.Table.from_pandas(pdf, preserve_index=False))
    back = _arrow.from_ipc(data).to_pandas()
    client = time.perf_counter() - c0
    assert len(back) == rows
print(json.dumps({"total_s": end - start, "query_s": end - query_start, "client_s": client}))
'''


def run(python, src, rows, env=None):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "table_api_job.py")
        with open(path, "w") as f:
            f.write(src)
        r = subprocess.run([python, path, str(rows)], capture_output=True, text=True, cwd=d, env=env, timeout=3600)
    if r.returncode != 0:
        sys.exit(f"{python} failed:\n{r.stderr[-4000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--skip-pyflink", action="store_true")
    args = ap.parse_args()
    weir_src = re.sub(r"^(from|import) pyflink\.", r"\1 weir.", PROGRAM, flags=re.M)
    env = dict(os.environ)
    if not env.get("WEIR_BIN") and os.access(os.path.join(ROOT, "bin", "weir"), os.X_OK):
        env["WEIR_BIN"] = os.path.join(ROOT, "bin", "weir")
    w = run(sys.executable, weir_src, args.rows, env)
    n = args.rows
    print(f"Table API, from_pandas -> Python udf -> to_pandas, {n:,} BIGINT rows, 1 worker")
    print(f"  weir:    {w['total_s']:.2f} s in all, query {w['query_s']:.2f} s ({w['query_s'] / n * 1e9:.0f} ns/row); "
          f"client's own Arrow work {w['client_s'] / n * 1e9:.1f} ns/row")
    result = {"rows": n, "weir": w}
    pf_python = os.path.join(HERE, ".venv-pyflink", "bin", "python")
    if not args.skip_pyflink and os.access(pf_python, os.X_OK):
        p = run(pf_python, PROGRAM, n)
        result["pyflink"] = p
        print(f"  PyFlink: {p['total_s']:.2f} s in all, query {p['query_s']:.2f} s ({p['query_s'] / n * 1e9:.0f} ns/row)")
        print(f"  weir is {p['total_s'] / w['total_s']:.1f}x faster in all, {p['query_s'] / w['query_s']:.1f}x on the query")
    else:
        print("  PyFlink: skipped (no bench/.venv-pyflink)")
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "table-api-latest.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
