"""CPU ns per input row of a Python table aggregate function in streaming
mode on the worker, against the bare CPython calls, measured in one run.

    .venv/bin/python bench/udtaf_streaming.py [--rows 1000000] [--keys 50000] [--bundle 250000]

The streaming side is the worker's whole per-bundle work for one partition
(weir._state_table_aggregate.KeyedTableAggregate): decoding the bundle's
rows, grouping them by key, one state get for the bundle's keys,
unpickling, emit_value of the stored accumulator (the -D rows), accumulate
per row, pickling, emit_value again (the +I rows), one state put and
encoding the changelog rows; the engine's state service is stood in for by
a dict behind the same request format. The bare side does the same Python
calls over each bundle's rows, grouped, with accumulators kept in a dict
(no encoding, state or pickling). They alternate, five times each, and the
best of each is reported in CPU time of the thread (the machine may be
shared), with the load average.
"""

import argparse
import os
import sys
import time
from collections import defaultdict

from weir import DataTypes, Row, TableAggregateFunction, udtaf
from weir._state_table_aggregate import KeyedTableAggregate
from weir.coder import RowEncoder
from weir.proto import weir_pb2
from weir.types import parse_type

# The engine's state requests answered from a dict, as in the udaf benchmark.
from udaf_streaming import DictState


class Top2(TableAggregateFunction):
    def create_accumulator(self):
        return [None, None]

    def accumulate(self, acc, v):
        if acc[0] is None or v > acc[0]:
            acc[1], acc[0] = acc[0], v
        elif acc[1] is None or v > acc[1]:
            acc[1] = v

    def emit_value(self, acc):
        yield Row(acc[0], 1)
        yield Row(acc[1], 2)


top2 = udtaf(Top2(), result_type=DataTypes.ROW([DataTypes.FIELD("v", DataTypes.BIGINT()),
                                                DataTypes.FIELD("r", DataTypes.INT())]))


def stage():
    st = weir_pb2.Stage(name="bench", input_types=["TINYINT NOT NULL", "BYTES NOT NULL", "BIGINT"])
    f = st.functions.add(name="top2", module="__main__", attr="top2")
    f.result_types.append("ROW<`v` BIGINT, `r` INT>")
    for t in ("BIGINT", "INT"):
        o = st.outputs.add(type=t)
        o.call.function = 0
        o.call.args.add(column=2)
    st.job_parameters["weir.keyed.key-types"] = '["BIGINT NOT NULL"]'
    st.job_parameters["weir.keyed.retracting"] = "false"
    return st


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keys", type=int, default=50_000)
    ap.add_argument("--bundle", type=int, default=250_000)
    a = ap.parse_args()
    kenc = RowEncoder([parse_type("BIGINT NOT NULL")])
    keys = []
    for k in range(a.keys):
        kenc.encode_row([k])
        keys.append(kenc.take())
    enc = RowEncoder([parse_type(t) for t in ("TINYINT NOT NULL", "BYTES NOT NULL", "BIGINT")])
    bundles, plain = [], []
    for start in range(0, a.rows, a.bundle):
        rows = [(i % a.keys, i * 7919 % 1_000_003) for i in range(start, min(start + a.bundle, a.rows))]
        for k, v in rows:
            enc.encode_row([0, keys[k], v])
        bundles.append(enc.take())
        plain.append(rows)
    f = Top2()

    def streaming():
        op = KeyedTableAggregate(stage(), DictState())
        for b in bundles:
            op.add(b)
            op.finish(lambda part: None)

    def bare():
        accs = {}
        for rows in plain:
            groups = defaultdict(list)
            for k, v in rows:
                groups[k].append(v)
            for k, vs in groups.items():
                acc = accs.get(k)
                if acc is None:
                    acc = accs[k] = f.create_accumulator()
                else:
                    list(f.emit_value(acc))
                for v in vs:
                    f.accumulate(acc, v)
                list(f.emit_value(acc))

    best = {"streaming": float("inf"), "bare": float("inf")}
    for _ in range(5):
        for name, fn in (("streaming", streaming), ("bare", bare)):
            t = time.thread_time()
            fn()
            best[name] = min(best[name], time.thread_time() - t)
    ns = {n: best[n] / a.rows * 1e9 for n in best}
    print(f"{a.rows} rows, {a.keys} keys, bundles of {a.bundle}, load average {os.getloadavg()[0]:.1f}")
    print(f"worker CPU per row: streaming udtaf {ns['streaming']:.1f} ns, bare CPython calls {ns['bare']:.1f} ns, "
          f"ratio {ns['streaming'] / ns['bare']:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
