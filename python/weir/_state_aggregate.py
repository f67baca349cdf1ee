"""Python aggregate functions in streaming mode, with their state in the engine.

The engine partitions rows by group key and sends each partition's bundles
one after another (``internal/pyexec/keyed.go``). An input row is ``(row
kind, key, arguments...)``: the key is the engine's encoding of the group's
key columns, opaque here but for error messages. The operation buffers a
bundle's rows by key, and at the bundle's end:

1. fetches the accumulators of all the bundle's keys in ONE state request
   (``StateKey.runner``, weir's own payload);
2. per key, in order of first appearance, accumulates (+I, +U) or retracts
   (-U, -D) each row, as Flink's ``GroupAggFunction`` does, and emits +I for a
   new group, -U old / +U new for a changed value, nothing for an unchanged
   one, -D for a group whose rows were all taken back;
3. writes the changed accumulators back in ONE request and waits for its
   answer, so the engine holds them before the bundle is reported complete.

The engine applies the writes only when the bundle has completed, so a
bundle replayed after its worker died starts from the same state.

An accumulator is stored pickled with the group's row count.
"""

import json
import pickle
import traceback
from collections import defaultdict

from apache_beam.portability.api import beam_fn_api_pb2
from apache_beam.runners.worker import bundle_processor

from weir import _functions
from weir._aggregate import AggregateFunction, udaf
from weir._aggregate import _RowAccumulator, _short
from weir.coder import RowDecoder, RowEncoder
from weir.errors import FunctionError
from weir.row import Row
from weir.types import parse_type

KEYED_AGGREGATE_URN = "weir:transform:keyed_aggregate:v1"
# The job parameter that carries the key columns' types (for error messages);
# the functions do not see it.
KEY_TYPES_PARAM = "weir.keyed.key-types"
# "false" when the input holds insertions only.
RETRACTING_PARAM = "weir.keyed.retracting"

INSERT, UPDATE_BEFORE, UPDATE_AFTER, DELETE = 0, 1, 2, 3
# Changelog rows per output element: results leave in parts, so that no
# message nears gRPC's limit whatever the number of groups in a bundle.
PART_ROWS = 20000


def _varint(out, n):
    if n < 0x80:
        out.append(n)
        return
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _read_varint(buf, pos):
    n = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, pos
        shift += 7


class KeyedAggregate:
    """The per-bundle work of a keyed stage, apart from Beam."""

    def __init__(self, stage, state):
        self.stage = stage
        self.state = state  # get(payload) -> bytes, put(data) -> None
        params = dict(stage.job_parameters)
        key_types = json.loads(params.pop(KEY_TYPES_PARAM, "[]")) or []
        retracting = params.pop(RETRACTING_PARAM, "true")
        self.key_decoder = RowDecoder([parse_type(t) for t in key_types])
        self.decoder = RowDecoder([parse_type(t) for t in stage.input_types])
        self.encoder = RowEncoder([parse_type("BYTES NOT NULL"), parse_type("TINYINT NOT NULL")]
                                  + [parse_type(o.type) for o in stage.outputs])
        self.calls = []
        self.acc_checks = []
        for o in stage.outputs:
            fn = stage.functions[o.call.function]
            w = _functions.open_function(fn, params)
            if getattr(w, "func_type", "general") != "general":
                raise FunctionError(f"aggregate function {fn.name!r} is a {w.func_type} function: weir runs "
                                    "those in batch mode only, as Flink does")
            # A declared accumulator type is checked on the first group of
            # each bundle (the state itself is pickled).
            acc_enc = None
            if getattr(w, "accumulator_type", None) is not None:
                try:
                    acc_enc = RowEncoder([parse_type(str(w.accumulator_type))])
                except Exception:
                    acc_enc = None  # a type weir's coder does not know (e.g. a view)
            self.acc_checks.append((fn.name, w.accumulator_type, acc_enc))
            cols = [a.column for a in o.call.args]
            # Arguments in consecutive columns are sliced out of the row.
            lo, hi = (cols[0], cols[-1] + 1) if cols and cols == list(range(cols[0], cols[-1] + 1)) else (-1, -1)
            self.calls.append((fn.name, w._func, cols, lo, hi))
        # Insert-only input (the engine says so) needs no row-kind checks.
        self.retracting = retracting != "false"
        self.buffer = defaultdict(list)
        self.rows_done = 0

    def add(self, data):
        buf = self.buffer
        for row in self.decoder.decode(data):
            buf[row[1]].append(row)

    def finish(self, emit):
        """Apply the buffered rows; emit(batch) sends output rows."""
        buf, self.buffer = self.buffer, defaultdict(list)
        if not buf:
            return
        keys = list(buf)
        payload = bytearray(b"G")
        for k in keys:
            _varint(payload, len(k))
            payload += k
        data = self.state.get(bytes(payload))
        writes = bytearray()
        enc = self.encoder
        encode_row = enc.encode_row
        calls = self.calls
        loads, dumps, proto = pickle.loads, pickle.dumps, pickle.HIGHEST_PROTOCOL
        value_of = self._values
        fold = self._fold
        out_rows = 0
        checked = False
        pos = 0
        for key in keys:
            n = data[pos]
            if n < 0x80:
                pos += 1
            else:
                n, pos = _read_varint(data, pos)
            rows = buf[key]
            first = False
            if n == 0:
                # Retractions of a group without state are ignored (Flink).
                start = 0
                while start < len(rows) and rows[start][0] & 1:
                    start += 1
                if start == len(rows):
                    continue
                if start:
                    rows = rows[start:]
                accs = [self._create(c, key) for c in calls]
                count = 0
                first = True
                prev = None
            else:
                accs, count = loads(data[pos:pos + n - 1])
                pos += n - 1
                prev = value_of(accs, key)
            retracts = 0
            for c, acc in zip(calls, accs):
                retracts = fold(c, acc, rows, key)
            count += len(rows) - 2 * retracts
            self.rows_done += len(rows)
            _varint(writes, len(key))
            writes += key
            if count <= 0:
                writes.append(0)
                if not first:
                    encode_row([key, DELETE] + prev)
                    out_rows += 1
                continue
            if checked is False:
                checked = self._check_accumulators(accs, key)
            try:
                value = dumps((accs, count), proto)
            except Exception as err:
                raise self._dump_error(accs, key, err) from None
            _varint(writes, len(value) + 1)
            writes += value
            new = value_of(accs, key)
            if first:
                encode_row([key, INSERT] + new)
                out_rows += 1
            elif prev != new:
                encode_row([key, UPDATE_BEFORE] + prev)
                encode_row([key, UPDATE_AFTER] + new)
                out_rows += 2
            if out_rows >= PART_ROWS:
                # Results leave in parts, so no message nears gRPC's limit.
                emit(enc.take())
                out_rows = 0
        if writes:
            self.state.put(bytes(writes))
        out = enc.take()
        if out:
            emit(out)

    def _fold(self, call, acc, rows, key):
        """Accumulate or retract rows into acc; returns the retractions."""
        name, agg, cols, lo, hi = call
        accumulate = agg.accumulate
        retracts = 0
        row = None
        try:
            if not self.retracting:
                if hi == lo + 1:
                    for row in rows:
                        accumulate(acc, row[lo])
                elif lo >= 0:
                    for row in rows:
                        accumulate(acc, *row[lo:hi])
                else:
                    for row in rows:
                        accumulate(acc, *[row[i] for i in cols])
                return 0
            retract = agg.retract
            for row in rows:
                args = [row[i] for i in cols]
                if row[0] & 1:
                    retracts += 1
                    retract(acc, *args)
                else:
                    accumulate(acc, *args)
        except Exception as err:
            what = "retract" if row is not None and row[0] & 1 else "accumulate"
            raise self._error(name, what, key, err, row) from None
        return retracts

    # -- errors name the function, the group key and the row --

    def key_text(self, key):
        try:
            return _short(tuple(next(iter(self.key_decoder.decode(key)))))
        except Exception:
            return repr(key)

    def _error(self, name, what, key, err, row=None):
        frames = traceback.extract_tb(err.__traceback__)[1:]
        tb = ("Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
              + "".join(traceback.format_exception_only(type(err), err)))
        msg = (f"Python aggregate function {name!r} raised {type(err).__name__} in {what}: {err}\n"
               f"  group key: {self.key_text(key)}\n")
        if row is not None:
            kinds = {INSERT: "+I", UPDATE_BEFORE: "-U", UPDATE_AFTER: "+U", DELETE: "-D"}
            msg += f"  input row ({kinds.get(row[0], row[0])}), arguments: {_short(tuple(row[2:]))}\n"
        e = FunctionError(msg + f"Python traceback:\n{tb}")
        e.weir_aggregate = True
        return e

    def _create(self, call, key):
        try:
            acc = call[1].create_accumulator()
        except Exception as err:
            raise self._error(call[0], "create_accumulator", key, err) from None
        if isinstance(acc, Row):
            acc = _RowAccumulator(acc)
        return acc

    def _values(self, accs, key):
        """The functions' values of a group's accumulators."""
        call = None
        try:
            if len(accs) == 1:
                call = self.calls[0]
                return [call[1].get_value(accs[0])]
            out = []
            for call, acc in zip(self.calls, accs):
                out.append(call[1].get_value(acc))
            return out
        except Exception as err:
            raise self._error(call[0], "get_value", key, err) from None

    def _check_accumulators(self, accs, key):
        """Fail when an accumulator does not fit its declared type."""
        for (name, declared, enc), acc in zip(self.acc_checks, accs):
            if enc is None:
                continue
            try:
                enc.encode_row([acc])
            except (TypeError, ValueError) as err:
                e = FunctionError(
                    f"the accumulator of Python aggregate function {name!r} cannot be encoded as its declared "
                    f"accumulator_type {declared}: {err}\n  group key: {self.key_text(key)}\n"
                    f"  accumulator: {_short(acc)}\n"
                    "Make create_accumulator and accumulate keep values of that type, or declare the type "
                    "the accumulator has.")
                e.weir_aggregate = True
                raise e from None
            finally:
                enc.take()
        return True

    def _dump_error(self, accs, key, err):
        names = ", ".join(repr(c[0]) for c in self.calls)
        e = FunctionError(
            f"the accumulator of Python aggregate function(s) {names} cannot be stored: "
            f"{type(err).__name__}: {err}\n  group key: {self.key_text(key)}\n"
            f"  accumulators: {_short(accs)}\n"
            "weir keeps accumulators in the engine between bundles in streaming mode (pickled): use "
            "values that pickle (numbers, strings, lists, dicts, Row, ListView, MapView), not open "
            "files, locks or generators.")
        e.weir_aggregate = True
        return e


class _BeamState:
    """weir's state requests over the harness's state channel."""

    def __init__(self, handler):
        self._handler = handler

    def _key(self, payload):
        return beam_fn_api_pb2.StateKey(runner=beam_fn_api_pb2.StateKey.Runner(key=payload))

    def get(self, payload):
        data, _ = self._handler.get_raw(self._key(payload))
        return data

    def put(self, data):
        resp = self._handler.append_raw(self._key(b"P"), data).get()
        if resp.error:
            raise RuntimeError(f"weir: the engine refused the state write: {resp.error}")


def _register():
    from weir import _beam

    class KeyedStageOperation(_beam.StageOperation):
        """Buffers a bundle's rows and aggregates them at its end."""

        def __init__(self, name_context, spec, counter_factory, state_sampler, stage, state_handler):
            super().__init__(name_context, spec, counter_factory, state_sampler, stage)
            self._state_handler = state_handler
            self._last = None

        def setup(self, data_sampler=None):
            super(_beam.StageOperation, self).setup(data_sampler)
            _beam.mark_user_output()
            handler = getattr(self._state_handler, "_underlying", self._state_handler)
            self._op = KeyedAggregate(self._stage, _BeamState(handler))

        def process(self, o):
            self._last = o
            with self.scoped_process_state:
                self._op.add(o.value)

        def finish(self):
            if self._last is not None:
                o, self._last = self._last, None
                receive = self.receivers[0].receive
                with self.scoped_process_state:
                    self._op.finish(lambda part: receive(o.with_value(part)))
            super().finish()

    def create(factory, transform_id, transform_proto, stage, consumers):
        from apache_beam.runners import common
        from apache_beam.runners.worker import operation_specs

        output_coders = factory.get_output_coders(transform_proto)
        tags = list(transform_proto.outputs.keys())
        spec = operation_specs.WorkerDoFn(
            serialized_fn=None, output_tags=tags, input=None, side_inputs=None,
            output_coders=[output_coders[t] for t in tags])
        op = KeyedStageOperation(
            common.NameContext(transform_proto.unique_name, transform_id),
            spec, factory.counter_factory, factory.state_sampler, stage, factory.state_handler)
        return factory.augment_oldstyle_op(op, transform_proto.unique_name, consumers, tags)

    from weir.proto import weir_pb2

    bundle_processor.BeamTransformFactory.register_urn(KEYED_AGGREGATE_URN, weir_pb2.Stage)(create)


_register()


# Built-in aggregates planned into a keyed stage beside Python aggregate
# functions (a GROUP BY that mixes them, in streaming mode), as PyFlink runs
# them in Python too. Their SQL result types come from the engine's plan;
# each retracts.

class _Count(AggregateFunction):
    """COUNT(x) (NULLs not counted) and COUNT(*) (no argument)."""

    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, *v):
        if not v or v[0] is not None:
            acc[0] += 1

    def retract(self, acc, *v):
        if not v or v[0] is not None:
            acc[0] -= 1

    def get_value(self, acc):
        return acc[0]


class _Sum(AggregateFunction):
    """SUM and AVG: the sum and count of the non-NULL values."""

    def __init__(self, avg=False, integral=False):
        self.avg, self.integral = avg, integral

    def create_accumulator(self):
        return [0, 0]

    def accumulate(self, acc, v):
        if v is not None:
            acc[0] += v
            acc[1] += 1

    def retract(self, acc, v):
        if v is not None:
            acc[0] -= v
            acc[1] -= 1

    def get_value(self, acc):
        if acc[1] == 0:
            return None
        if not self.avg:
            return acc[0]
        if self.integral:
            q = abs(acc[0]) // acc[1]  # Java's division: toward zero
            return q if acc[0] >= 0 else -q
        return acc[0] / acc[1]


class _Extreme(AggregateFunction):
    """MIN and MAX over the multiset of the values (count per value)."""

    def __init__(self, largest):
        self.largest = largest

    def create_accumulator(self):
        return [{}]

    def accumulate(self, acc, v):
        if v is not None:
            acc[0][v] = acc[0].get(v, 0) + 1

    def retract(self, acc, v):
        if v is not None:
            n = acc[0].get(v, 0) - 1
            if n > 0:
                acc[0][v] = n
            else:
                acc[0].pop(v, None)

    def get_value(self, acc):
        if not acc[0]:
            return None
        return max(acc[0]) if self.largest else min(acc[0])


builtin_count = udaf(_Count(), result_type="BIGINT", name="COUNT")
builtin_sum = udaf(_Sum(), result_type="BIGINT", name="SUM")
builtin_avg = udaf(_Sum(avg=True), result_type="DOUBLE", name="AVG")
builtin_avg_integral = udaf(_Sum(avg=True, integral=True), result_type="BIGINT", name="AVG")
builtin_min = udaf(_Extreme(False), result_type="BIGINT", name="MIN")
builtin_max = udaf(_Extreme(True), result_type="BIGINT", name="MAX")
