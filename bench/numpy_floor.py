"""The floor of the vectorized workload: numpy's x + 1 over the same data.

Run with weir's venv python. N random int32 values in [0, 1000000] (like
weir's datagen), in arrays of ``batch`` values (weir's
python.fn-execution.arrow.batch.size, 100,000), so that the floor works on
the same batch sizes as the function; also over one array of all N values.
Best of 5. Prints one JSON object.
"""

import json
import sys
import time

import numpy as np


def main():
    n = int(sys.argv[1])
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    rng = np.random.default_rng(42)
    x = rng.integers(0, 1_000_001, size=n, dtype=np.int32)
    chunks = [x[i:i + batch] for i in range(0, n, batch)]

    def best(f, reps=5):
        b = None
        for _ in range(reps):
            t0 = time.perf_counter()
            f()
            dt = time.perf_counter() - t0
            b = dt if b is None else min(b, dt)
        return b

    per_batch = best(lambda: [c + 1 for c in chunks])
    whole = best(lambda: x + 1)
    print(json.dumps({"numpy_version": np.__version__, "rows": n, "batch": batch,
                      "ns_per_row": per_batch * 1e9 / n, "whole_array_ns_per_row": whole * 1e9 / n}))


if __name__ == "__main__":
    main()
