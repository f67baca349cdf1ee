"""ns per accumulate call of a Python aggregate function in streaming mode,
against the bare CPython call, measured in one run.

    .venv/bin/python bench/udaf_streaming.py [--rows 1000000] [--keys 50000] [--bundle 250000]

The streaming side is the worker's whole per-bundle work for one partition
(weir._state_aggregate.KeyedAggregate): decoding the bundle's rows, grouping
them by key, one state get for the bundle's keys, unpickling, accumulate per
row, get_value before and after, pickling, one state put and encoding the
changelog rows; the engine's state service is stood in for by a dict behind
the same request format, which hands out state versions as the engine does
(each bundle's parent the version of the one before), so the worker keeps
its live accumulators between bundles; "no versions" is the same without
them (every group read and unpickled each bundle). Rows have random keys
and values in [0, 1000], as the benchmark job's source draws them. The bare
side calls accumulate(acc, *args) on the accumulators in turn with the same
values. Cycle collection is paused during each bundle and the heap frozen,
as the worker's operation does. They alternate, five times each, and the
best of each is reported in CPU time of the thread (the machine may be
shared).
"""

import argparse
import random
import sys
import time

from weir._state_aggregate import (IMPLEMENTATION, KeyedAggregate, _freeze_worker_heap, _pause_collection,
                                   _read_varint, _resume_collection, _varint)
from weir.coder import RowEncoder
from weir.proto import weir_pb2
from weir.types import parse_type
from weir import AggregateFunction, DataTypes, udaf


class Sum(AggregateFunction):
    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, v):
        acc[0] += v

    def retract(self, acc, v):
        acc[0] -= v

    def get_value(self, acc):
        return acc[0]


usum = udaf(Sum(), result_type=DataTypes.BIGINT())


class DictState:
    """The engine's state requests, answered from a dict."""

    def __init__(self):
        self.d = {}

    def get(self, payload):
        out, pos = bytearray(), 1
        while pos < len(payload):
            n, pos = _read_varint(payload, pos)
            v = self.d.get(payload[pos:pos + n])
            pos += n
            if v is None:
                out.append(0)
            else:
                _varint(out, len(v) + 1)
                out += v
        return bytes(out)

    def put(self, data):
        pos = 0  # the dict's own cost: not the engine's (Go), but counted here
        while pos < len(data):
            n, pos = _read_varint(data, pos)
            k = data[pos:pos + n]
            pos += n
            m, pos = _read_varint(data, pos)
            if m == 0:
                self.d.pop(k, None)
            else:
                self.d[k] = data[pos:pos + m - 1]
                pos += m - 1


class VersionedState(DictState):
    """DictState whose bundles chain state versions, as the engine's do."""

    def __init__(self):
        super().__init__()
        self.n, self.last = 0, None

    def version(self):
        self.n += 1
        own, parent, self.last = b"%d" % self.n, self.last, b"%d" % self.n
        return own, parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keys", type=int, default=50_000)
    ap.add_argument("--bundle", type=int, default=250_000)
    a = ap.parse_args()
    sys.modules["bench_udaf"] = sys.modules[__name__]
    st = weir_pb2.Stage(name="bench", input_types=["TINYINT NOT NULL", "BYTES NOT NULL", "BIGINT NOT NULL"])
    f = st.functions.add(name="usum", module="bench_udaf", attr="usum")
    f.result_types.append("BIGINT")
    o = st.outputs.add(type="BIGINT")
    o.call.function = 0
    o.call.args.add(column=2)
    st.job_parameters["weir.keyed.key-types"] = '["BIGINT NOT NULL"]'
    st.job_parameters["weir.keyed.retracting"] = "false"
    kenc = RowEncoder([parse_type("BIGINT NOT NULL")])
    keys = []
    for k in range(a.keys):
        kenc.encode_row([k])
        keys.append(kenc.take())
    enc = RowEncoder([parse_type(t) for t in st.input_types])
    bundles = []
    # Keys and values drawn as the benchmark job's datagen source draws them:
    # a key's rows are scattered over the bundle (not in turn), which costs
    # the worker memory traffic a round-robin order would hide.
    rnd = random.Random(42)
    ks = [rnd.randrange(a.keys) for _ in range(a.rows)]
    args = [(rnd.randint(0, 1000),) for _ in range(a.rows)]
    for start in range(0, a.rows, a.bundle):
        for r in range(start, min(start + a.bundle, a.rows)):
            enc.encode_row([0, keys[ks[r]], args[r][0]])
        bundles.append(enc.take())
    agg = usum._func

    def streaming(state):
        op = KeyedAggregate(st, state)
        out = []
        t0 = time.thread_time()
        for b in bundles:
            # As the worker's operation: no cycle collection during a bundle.
            _pause_collection()
            try:
                op.add(b)
                op.finish(out.append)
            finally:
                _resume_collection()
        return time.thread_time() - t0

    def bare():
        accs = [agg.create_accumulator() for _ in range(a.keys)]
        acc_f, k = agg.accumulate, a.keys
        t0 = time.thread_time()
        for r, x in enumerate(args):
            acc_f(accs[r % k], *x)
        return time.thread_time() - t0

    _freeze_worker_heap()  # as the worker does once
    s, p, b = [], [], []
    for _ in range(5):
        s.append(streaming(VersionedState()))
        p.append(streaming(DictState()))
        b.append(bare())
    ns_s, ns_p, ns_b = (min(x) / a.rows * 1e9 for x in (s, p, b))
    print(f"{a.rows} rows, {a.keys} keys, bundles of {a.bundle} rows ({a.bundle / a.keys:.1f} rows per key per bundle), "
          f"weir._state_aggregate {IMPLEMENTATION}")
    print(f"streaming (worker's work per row, CPU): {ns_s:.0f} ns ({ns_p:.0f} with no versions); bare accumulate "
          f"call: {ns_b:.0f} ns; ratio {ns_s / ns_b:.1f}x ({ns_p / ns_b:.1f}x)")


if __name__ == "__main__":
    main()
