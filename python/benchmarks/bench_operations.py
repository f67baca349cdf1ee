"""Per-row cost of weir's Python-stage operations: slow (pure Python) vs fast (Cython).

    cd python && python benchmarks/bench_operations.py [--rows N] [--batch B] [--repeat R]

Prints the floor, ``list(map(inc, xs))`` with ``inc = lambda x: x + 1``, in ns
per call, then for each stage the ns per input row and per function call of
both operations (decoding the input batch and encoding the output included),
and per call / floor. The "no call" stages (columns passed through) measure
decoding and encoding alone (for slow, with its per-row Python loop);
"net/call" is the cost per call beyond the no-call run of the same
implementation (for fast: what the calls and the operation add to the row
coder), then its ratio to the floor.

Input rows come in batches of B rows (default 10000; weir's default
python.fn-execution.arrow.batch.size is 100000). The machine may be shared, so
each timing is the sum over the batches (for the floors: over chunks of B
values) of the best of R runs of that batch, with the garbage collector off.
"""

import argparse
import gc
import random
import sys
import time
import types

from weir import _functions, udf, udtf
from weir import _operations_slow as slow
from weir.coder import IMPLEMENTATION as CODER
from weir.coder import RowEncoder
from weir.proto import weir_pb2 as pb
from weir.types import parse_type

try:
    from weir import _operations_fast as fast
except ImportError as e:  # not built
    fast = None
    print(f"weir._operations_fast is not built ({e}): only the slow operations are measured", file=sys.stderr)

MODULE = "weir_bench_udfs"


def inc_(x):
    return x + 1


def dbl_(x):
    return x * 2


def neg_(x):
    return -x


def split_(s):
    return s.split()


def _install_udfs():
    m = types.ModuleType(MODULE)
    m.inc = udf(inc_, result_type="INT NOT NULL")
    m.dbl = udf(dbl_, result_type="INT NOT NULL")
    m.neg = udf(neg_, result_type="INT NOT NULL")
    m.split = udtf(split_, result_types=["STRING"])
    sys.modules[MODULE] = m
    _functions._opened.clear()


def _stage(input_types, outputs, functions, kind=pb.Stage.SCALAR):
    st = pb.Stage(kind=kind, input_types=input_types, name="bench")
    for name, result_types in functions:
        st.functions.append(pb.Function(name=name, module=MODULE, attr=name, result_types=result_types,
                                        deterministic=True))
    st.outputs.extend(outputs)
    return st


def _col(i, t="INT NOT NULL"):
    return pb.Expr(column=i, type=t)


def _call(f, *args, t="INT NOT NULL"):
    return pb.Expr(call=pb.Call(function=f, args=list(args)), type=t)


def _best(fn, chunks, repeat):
    """Sum over the chunks of the best of ``repeat`` timings of fn(chunk), in ns."""
    best = [float("inf")] * len(chunks)
    clock = time.perf_counter_ns
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeat):
            for i, c in enumerate(chunks):
                t0 = clock()
                fn(c)
                t = clock() - t0
                if t < best[i]:
                    best[i] = t
    finally:
        gc.enable()
    return sum(best)


def _batches(types_, rows, size):
    enc = RowEncoder([parse_type(t) for t in types_])
    return [enc.encode(rows[i:i + size]) for i in range(0, len(rows), size)]


def _chunks(xs, size):
    return [xs[i:i + size] for i in range(0, len(xs), size)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    n, size, rep = a.rows, a.batch, a.repeat
    _install_udfs()
    rnd = random.Random(42)
    print(f"Python {sys.version.split()[0]}, coder {CODER}, {n:,} rows in batches of {size:,}, best of {rep}")

    # inc(x) must fit INT for every x of every stage, so keep |x| < 2**29 (two-digit ints, like most INTs)
    xs = [rnd.randint(-2**29, 2**29) for _ in range(n)]
    inc = lambda x: x + 1  # noqa: E731
    cx = _chunks(xs, size)
    floor = _best(lambda c: list(map(inc, c)), cx, rep) / n
    print(f"floor list(map(inc, xs)): {floor:7.1f} ns/call")
    f3 = _best(lambda c: list(map(inc_, map(dbl_, map(neg_, c)))), cx, rep) / (3 * n)
    print(f"floor list(map(inc, map(dbl, map(neg, xs)))): {f3:7.1f} ns/call")
    print()
    print(f"{'stage':<30}{'impl':>5}{'ns/row':>9}{'ns/call':>9}{'/floor':>8}{'net/call':>10}{'/floor':>8}")
    coded = {}

    def report(label, stage, batches, calls_per_row, floor_per_call, base=None):
        """Time both operations; base: the label of the no-call stage over the same batches."""
        kind = "ScalarOperation" if stage.kind == pb.Stage.SCALAR else "TableOperation"
        impls = [("slow", slow)] + ([("fast", fast)] if fast else [])
        outs = []
        for name, mod in impls:
            op = getattr(mod, kind)(stage)
            outs.append([op.process(b) for b in batches[:2]])
            t = _best(op.process, batches, rep) / n
            coded[label, name] = t
            cells = ["", "", "", ""]
            if calls_per_row:
                per_call = t / calls_per_row
                cells[:2] = [f"{per_call:9.1f}", f"{per_call / floor_per_call:8.2f}"]
                if base:
                    net = (t - coded[base, name]) / calls_per_row
                    cells[2:] = [f"{net:10.1f}", f"{net / floor_per_call:8.2f}"]
            print(f"{label:<30}{name:>5}{t:9.1f}{cells[0]:>9}{cells[1]:>8}{cells[2]:>10}{cells[3]:>8}")
        if len(outs) == 2 and outs[0] != outs[1]:
            raise SystemExit(f"{label}: slow and fast outputs differ")

    # decode + encode only: columns passed through, no call
    ints1 = [[x] for x in xs]
    b1 = _batches(["INT NOT NULL"], ints1, size)
    report("1 INT column, no call", _stage(["INT NOT NULL"], [_col(0)], []), b1, 0, floor)

    report("1 INT column, inc(c0)",
           _stage(["INT NOT NULL"], [_call(0, _col(0))], [("inc", ["INT NOT NULL"])]), b1, 1, floor,
           "1 INT column, no call")

    ten = ["INT NOT NULL"] * 10
    rows10 = [[xs[(i + k * 7919) % n] for k in range(10)] for i in range(n)]
    b10 = _batches(ten, rows10, size)
    del rows10
    report("10 INT columns, no call", _stage(ten, [_col(i) for i in range(10)], []), b10, 0, floor)
    report("10 INT columns, inc(c0..c9)",
           _stage(ten, [_call(0, _col(i)) for i in range(10)], [("inc", ["INT NOT NULL"])]), b10, 10, floor,
           "10 INT columns, no call")
    del b10

    report("inc(dbl(neg(c0)))",
           _stage(["INT NOT NULL"], [_call(0, _call(1, _call(2, _col(0))))],
                  [("inc", ["INT NOT NULL"]), ("dbl", ["INT NOT NULL"]), ("neg", ["INT NOT NULL"])]),
           b1, 3, f3, "1 INT column, no call")
    del b1

    words = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta"]
    texts = [" ".join(rnd.choice(words) for _ in range(rnd.randint(0, 8))) for _ in range(n)]
    fsplit = _best(lambda c: list(map(split_, c)), _chunks(texts, size), rep) / n
    nwords = sum(len(t.split()) for t in texts)
    print(f"floor list(map(split, texts)): {fsplit:7.1f} ns/call ({nwords / n:.2f} words per text)")
    bs = _batches(["STRING"], [[t] for t in texts], size)
    report("udtf split(c0) -> STRING rows",
           _stage(["STRING"], [_call(0, _col(0, "STRING"), t="ROW")], [("split", ["STRING"])],
                  kind=pb.Stage.TABLE), bs, 1, fsplit)


if __name__ == "__main__":
    main()
