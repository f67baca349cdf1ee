"""Rows per second of the Cython row coder against the pure-Python one.

    python benchmarks/bench_coder.py [--rows N] [--seconds S]

For each schema it encodes a batch of N rows (encode) and decodes it back
(decode) with weir._coder_fast and weir._coder_slow, repeating each for at
least S seconds and keeping the best run, then prints rows/s and fast/slow.
"""

import argparse
import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from weir import _coder_slow  # noqa: E402
from weir.types import DataTypes as T  # noqa: E402

try:
    from weir import _coder_fast
except ImportError as e:  # pragma: no cover
    _coder_fast = None
    print(f"weir._coder_fast is not built ({e}); only the pure-Python coder is measured")


def schemas(rng):
    return {
        "INT": ([T.INT()], lambda: [rng.randint(-(2**31), 2**31 - 1)]),
        "INT x10": ([T.INT()] * 10, lambda: [rng.randint(-(2**31), 2**31 - 1) for _ in range(10)]),
        "STRING": ([T.STRING()], lambda: ["".join(rng.choice("abcdefghij") for _ in range(rng.randint(5, 30)))]),
        "DOUBLE": ([T.DOUBLE()], lambda: [rng.random() * 1e6]),
        "DECIMAL(18, 4)": ([T.DECIMAL(18, 4)], lambda: [Decimal(rng.randint(-10**17, 10**17)).scaleb(-4)]),
        "TIMESTAMP(6)": (
            [T.TIMESTAMP(6)],
            lambda: [dt.datetime(2000, 1, 1) + dt.timedelta(microseconds=rng.randint(0, 10**15))],
        ),
        "mixed INT,STRING,BIGINT,DOUBLE": (
            [T.INT(), T.STRING(), T.BIGINT(), T.DOUBLE()],
            lambda: [rng.randint(0, 1000), "name-%d" % rng.randint(0, 10**6), rng.randint(0, 2**62), rng.random()],
        ),
    }


def best_rate(fn, nrows, seconds):
    best = float("inf")
    start = time.perf_counter()
    runs = 0
    while runs < 3 or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        runs += 1
    return nrows / best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10000, help="rows per batch (default 10000)")
    ap.add_argument("--seconds", type=float, default=0.5, help="time per measurement (default 0.5)")
    args = ap.parse_args()
    rng = random.Random(42)
    impls = [("slow", _coder_slow)] + ([("fast", _coder_fast)] if _coder_fast else [])

    print(f"Python {sys.version.split()[0]}, {args.rows} rows per batch, best of >= {args.seconds}s")
    header = f"{'schema':<32} {'op':<7}" + "".join(f"{name + ' rows/s':>16}" for name, _ in impls)
    if _coder_fast:
        header += f"{'fast/slow':>11}{'fast ns/row':>13}"
    print(header)
    print("-" * len(header))
    for name, (types, make) in schemas(rng).items():
        rows = [make() for _ in range(args.rows)]
        data = _coder_slow.RowEncoder(types).encode(rows)
        for op in ("decode", "encode"):
            rates = []
            for _, m in impls:
                if op == "decode":
                    dec = m.RowDecoder(types)
                    assert dec.decode(data) == rows
                    rates.append(best_rate(lambda: dec.decode(data), args.rows, args.seconds))
                else:
                    enc = m.RowEncoder(types)
                    assert enc.encode(rows) == data
                    rates.append(best_rate(lambda: enc.encode(rows), args.rows, args.seconds))
            line = f"{name:<32} {op:<7}" + "".join(f"{r:>16,.0f}" for r in rates)
            if len(rates) == 2:
                line += f"{rates[1] / rates[0]:>10.1f}x{1e9 / rates[1]:>13.1f}"
            print(line)


if __name__ == "__main__":
    main()
