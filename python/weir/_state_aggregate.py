"""Python aggregate functions in streaming mode, with their state in the engine.

The engine partitions rows by group key and sends each partition's bundles
one after another (``internal/pyexec/keyed.go``). An input row is ``(row
kind, key, arguments...)``: the key is the engine's encoding of the group's
key columns, opaque here but for error messages. The operation buffers a
bundle's rows by key, each key's rows in one flat list (the row kind when
needed, then the arguments: no container per row), and at the bundle's end:

1. asks the engine for the bundle's state version and its parent (a
   ``'V'`` request): when this worker's last bundle of the partition wrote
   the parent version, the live accumulators it kept are the state;
2. fetches the accumulators of the bundle's other keys in ONE state request
   (``StateKey.runner``, weir's own payload);
3. per key, in order of first appearance, accumulates (+I, +U) or retracts
   (-U, -D) each row, as Flink's ``GroupAggFunction`` does, and emits +I for a
   new group, -U old / +U new for a changed value, nothing for an unchanged
   one, -D for a group whose rows were all taken back;
4. writes the changed accumulators back in ONE request and waits for its
   answer, so the engine holds them before the bundle is reported complete.

The engine applies the writes only when the bundle has completed, so a
bundle replayed after its worker died starts from the same state; its
version never becomes a parent, so nothing kept from it is used.

An accumulator is stored pickled with the group's row count. The per-row
work (grouping, the fold loop) is in weir._state_aggregate_fast, with
pure-Python twins here (``WEIR_CYTHON=0``).
"""

import datetime
import decimal
import gc
import json
import os
import pickle
import traceback

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


def _group_py(dec, data, buf, nvals, kinds):
    """Appends each row of data (kind, key, values...) to buf[key]: its kind
    if kinds, then its nvals values. Returns the number of rows. The twin of
    weir._state_aggregate_fast.group."""
    rows = dec.decode(data)
    for row in rows:
        lst = buf.get(row[1])
        if lst is None:
            lst = buf[row[1]] = []
        if kinds:
            lst.append(row[0])
        lst.extend(row[2:])
    return len(rows)


def _fold_py(accumulate, retract, acc, vals, start, stride, kinds, offs, where):
    """Accumulates (or, kinds set, retracts the rows of odd kind) the rows of
    vals from index start into acc; offs are the function's arguments among
    a row's values. Returns the retractions; where[0] is the failing row's
    index. The twin of weir._state_aggregate_fast.fold."""
    retracts = 0
    b = 1 if kinds else 0
    for i in range(start, len(vals), stride):
        where[0] = i
        f = accumulate
        if kinds and vals[i] & 1:
            f = retract
            retracts += 1
        f(acc, *[vals[i + b + o] for o in offs])
    return retracts


# The files of this module and its fast twin, whose frames tracebacks skip.
_OWN_FILES = ("_state_aggregate.py", "_state_aggregate_fast.pyx")

IMPLEMENTATION = "slow"
_group, _fold_rows, _Grouper = _group_py, _fold_py, None
if os.environ.get("WEIR_CYTHON", "1") != "0":
    try:
        from weir._state_aggregate_fast import Grouper as _Grouper, fold as _fold_rows, group as _group  # noqa: F811

        IMPLEMENTATION = "fast"
    except ImportError:
        pass

# Argument types that weir._state_aggregate_fast.Grouper reads itself.
FIXED_CODES = {"TinyIntType": 1, "SmallIntType": 2, "IntType": 3, "BigIntType": 4, "BooleanType": 5,
               "FloatType": 6, "DoubleType": 7}


def _fixed_codes(input_types):
    """The Grouper's codes of a stage's argument types, or None if it cannot read them."""
    ts = [parse_type(t) for t in input_types]
    if len(ts) < 2 or [type(t).__name__ for t in ts[:2]] != ["TinyIntType", "VarBinaryType"] or any(
            t.nullable for t in ts[:2]):
        return None
    codes = [FIXED_CODES.get(type(t).__name__) for t in ts[2:]]
    return None if None in codes else codes

# Live accumulators kept by a worker between the bundles of a partition, at
# most this many groups (beyond, the bundle's are not kept).
CACHE_GROUPS = 500_000
# ... and at most this many bytes of their pickled state: accumulators that
# grow (lists, maps) would otherwise fill the worker's memory long before
# the count does. Their Python objects take a few times their pickle.
CACHE_BYTES = 32 << 20
# Chains of bundles (partitions) a worker keeps accumulators of.
CACHE_CHAINS = 8
# Types of results that a cache may keep as a group's last value: others may
# be mutated by the next accumulate, so get_value is asked again.
_IMMUTABLE = (int, float, str, bytes, bool, type(None), decimal.Decimal, datetime.date, datetime.time,
              datetime.timedelta)


class KeyedAggregate:
    """The per-bundle work of a keyed stage, apart from Beam."""

    def __init__(self, stage, state):
        self.stage = stage
        self.state = state  # get(payload) -> bytes, put(data) -> None, version() -> (own, parent)
        params = dict(stage.job_parameters)
        key_types = json.loads(params.pop(KEY_TYPES_PARAM, "[]")) or []
        retracting = params.pop(RETRACTING_PARAM, "true")
        self.key_decoder = RowDecoder([parse_type(t) for t in key_types])
        self.decoder = RowDecoder([parse_type(t) for t in stage.input_types])
        self.encoder = RowEncoder([parse_type("BYTES NOT NULL"), parse_type("TINYINT NOT NULL")]
                                  + [parse_type(o.type) for o in stage.outputs])
        self.encoder.label([None, None] + _functions.result_labels(stage))  # for a truncated float's warning
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
            offs = tuple(a.column - 2 for a in o.call.args)
            agg = w._func
            self.calls.append((fn.name, agg, offs, agg.accumulate, getattr(agg, "retract", None), agg.get_value))
        # Insert-only input (the engine says so) needs no row kinds; a stage
        # without arguments (COUNT(*) alone) keeps them to count its rows.
        self.retracting = retracting != "false"
        self.nvals = len(stage.input_types) - 2
        self.kinds = self.retracting or self.nvals == 0
        self.stride = self.nvals + self.kinds
        group = _group
        if IMPLEMENTATION == "fast" and type(self.decoder).__module__ != "weir._coder_fast":
            group = _group_py  # the fast grouping reads with the Cython decoder
        self._group = group
        self.buffer = {}
        # Arguments of fixed width: rows read straight from the bytes, keys
        # found without a bytes object per row.
        codes = _fixed_codes(stage.input_types) if _Grouper is not None and self._group is not _group_py else None
        self.grouper = _Grouper(codes, self.kinds) if codes is not None else None
        if self.grouper is not None:
            self.grouper.reset(self.buffer)
        self.rows_in = 0
        self.rows_done = 0
        # version -> {key: [accs, count, last values or None, pickled
        # bytes]}: the live accumulators after this worker's bundle whose
        # state version that is; valid for a bundle whose parent version it
        # is (see finish). cache_bytes: version -> the sum of their bytes.
        self.caches = {}
        self.cache_bytes = {}

    def add(self, data):
        if self.grouper is not None:
            self.rows_in += self.grouper.add(data)
        else:
            self.rows_in += self._group(self.decoder, data, self.buffer, self.nvals, self.kinds)

    def finish(self, emit):
        """Apply the buffered rows; emit(batch) sends output rows."""
        buf, self.buffer = self.buffer, {}
        if self.grouper is not None:
            self.grouper.reset(self.buffer)
        if not buf:
            return
        # The engine names this attempt's state version and the version it
        # starts from (the last bundle of the partition it applied): the
        # live accumulators of the bundle that wrote that version are the
        # state, any others may not be.
        version = getattr(self.state, "version", None)
        own, parent = version() if version is not None else (None, None)
        cache = self.caches.pop(parent, None) if parent else None
        size = self.cache_bytes.pop(parent, 0)
        if own is None:
            self._drop_caches()
        keep = own is not None
        if cache is None:
            cache, size = {}, 0
        try:
            size = self._finish(buf, cache, size, emit)
        except BaseException:
            # Accumulators changed by a bundle that did not complete.
            self._drop_caches()
            raise
        if keep and len(cache) <= CACHE_GROUPS and size <= CACHE_BYTES:
            # The oldest chains make room.
            while self.caches and (len(self.caches) >= CACHE_CHAINS
                                   or sum(len(c) for c in self.caches.values()) + len(cache) > CACHE_GROUPS
                                   or sum(self.cache_bytes.values()) + size > CACHE_BYTES):
                oldest = next(iter(self.caches))
                del self.caches[oldest]
                self.cache_bytes.pop(oldest, None)
            self.caches[own] = cache
            self.cache_bytes[own] = size

    def _drop_caches(self):
        self.caches.clear()
        self.cache_bytes.clear()

    def _finish(self, buf, cache, size, emit):
        """Folds the bundle's rows into their groups' accumulators, writes
        the state, emits the changes; returns the pickled bytes of cache's
        accumulators (size: before)."""
        keys = list(buf)
        payload = bytearray(b"G")
        miss = 0
        for k in keys:
            if k not in cache:
                _varint(payload, len(k))
                payload += k
                miss += 1
        data = self.state.get(bytes(payload)) if miss else b""
        writes = bytearray()
        enc = self.encoder
        encode_row = enc.encode_row
        calls = self.calls
        loads, dumps, proto = pickle.loads, pickle.dumps, pickle.HIGHEST_PROTOCOL
        value_of = self._values
        fold_rows = _fold_rows
        where = [0]
        stride, kinds, retracting = self.stride, self.kinds, self.retracting
        immutable = _IMMUTABLE
        out_rows = 0
        checked = False
        # One function (the usual case): its calls without the loops over
        # the functions.
        single = calls[0] if len(calls) == 1 else None
        if single is not None:
            _, _, offs0, acc_f0, ret_f0, value_f0 = single
        pos = 0
        for key, vals in buf.items():
            start = 0
            first = False
            entry = cache.get(key)
            if entry is not None:
                accs, count, prev = entry[0], entry[1], entry[2]
                if prev is None:
                    prev = value_of(accs, key)
            else:
                n = data[pos]
                if n < 0x80:
                    pos += 1
                else:
                    n, pos = _read_varint(data, pos)
                if n == 0:
                    # Retractions of a group without state are ignored (Flink).
                    if retracting:
                        while start < len(vals) and vals[start] & 1:
                            start += stride
                        if start == len(vals):
                            continue
                    accs = [self._create(c, key) for c in calls]
                    count = 0
                    first = True
                    prev = None
                else:
                    accs, count = loads(data[pos:pos + n - 1])
                    pos += n - 1
                    prev = value_of(accs, key)
            retracts = 0
            c = single
            try:
                if single is not None:
                    retracts = fold_rows(acc_f0, ret_f0, accs[0], vals, start, stride, kinds, offs0, where)
                else:
                    for c, acc in zip(calls, accs):
                        retracts = fold_rows(c[3], c[4], acc, vals, start, stride, kinds, c[2], where)
            except Exception as err:
                raise self._fold_error(c, vals, where[0], key, err) from None
            rows = (len(vals) - start) // stride
            count += rows - 2 * retracts
            self.rows_done += rows
            n = len(key)
            if n < 0x80:
                writes.append(n)
            else:
                _varint(writes, n)
            writes += key
            if count <= 0:
                writes.append(0)
                if entry is not None:
                    size -= entry[3]
                    del cache[key]
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
            n = len(value) + 1
            if n < 0x80:
                writes.append(n)
            else:
                _varint(writes, n)
            writes += value
            if single is not None:
                try:
                    new = [value_f0(accs[0])]
                except Exception as err:
                    raise self._error(single[0], "get_value", key, err) from None
            else:
                new = value_of(accs, key)
            try:
                if first:
                    encode_row([key, INSERT] + new)
                    out_rows += 1
                elif prev != new:
                    encode_row([key, UPDATE_BEFORE] + prev)
                    encode_row([key, UPDATE_AFTER] + new)
                    out_rows += 2
            except (TypeError, ValueError) as err:
                raise self._result_error(new, key, err) from None
            if single is not None:
                if not isinstance(new[0], immutable):
                    new = None
            else:
                for v in new:
                    if not isinstance(v, immutable):
                        new = None
                        break
            if entry is not None:
                size += len(value) - entry[3]
                entry[1] = count
                entry[2] = new
                entry[3] = len(value)
            else:
                cache[key] = [accs, count, new, len(value)]
                size += len(value)
            if out_rows >= PART_ROWS:
                # Results leave in parts, so no message nears gRPC's limit.
                emit(enc.take())
                out_rows = 0
        if writes:
            self.state.put(bytes(writes))
        out = enc.take()
        if out:
            emit(out)
        return size

    def _fold_error(self, call, vals, i, key, err):
        """The error of accumulate or retract on the row at vals[i]."""
        row = vals[i:i + self.stride]
        kind = row[0] if self.kinds else INSERT
        what = "retract" if kind & 1 else "accumulate"
        return self._error(call[0], what, key, err, kind, tuple(row[1:] if self.kinds else row))

    # -- errors name the function, the group key and the row --

    def key_text(self, key):
        try:
            return _short(tuple(next(iter(self.key_decoder.decode(key)))))
        except Exception:
            return repr(key)

    def _error(self, name, what, key, err, kind=None, args=None):
        # The user's frames only: weir's own come first.
        frames = traceback.extract_tb(err.__traceback__)
        while frames and os.path.basename(frames[0].filename) in _OWN_FILES:
            frames = frames[1:]
        tb = ("Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
              + "".join(traceback.format_exception_only(type(err), err)))
        msg = (f"Python aggregate function {name!r} raised {type(err).__name__} in {what}: {err}\n"
               f"  group key: {self.key_text(key)}\n")
        if args is not None:
            kinds = {INSERT: "+I", UPDATE_BEFORE: "-U", UPDATE_AFTER: "+U", DELETE: "-D"}
            msg += f"  input row ({kinds.get(kind, kind)}), arguments: {_short(args)}\n"
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
                return [call[5](accs[0])]
            out = []
            for call, acc in zip(self.calls, accs):
                out.append(call[5](acc))
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

    def _result_error(self, values, key, err):
        """A value that its SQL result type cannot hold (e.g. a SUM beyond INT)."""
        name, detail = ", ".join(repr(c[0]) for c in self.calls), str(err)
        for (fname, agg, *_), o, v in zip(self.calls, self.stage.outputs, values):
            enc = RowEncoder([parse_type(o.type)])
            try:
                enc.encode_row([v])
            except (TypeError, ValueError) as e:
                msg = str(e)
                name, detail = repr(fname), msg[len("field 0: "):] if msg.startswith("field 0: ") else msg
                if isinstance(agg, _Sum):
                    detail += ("\nweir runs built-in aggregates beside Python aggregate functions in Python, as "
                               "PyFlink 2.3 does (which fails likewise; Java's SUM would wrap around): CAST the "
                               "argument to BIGINT or DECIMAL, or compute the built-in in a query of its own "
                               "and join the two on the keys.")
                break
        e = FunctionError(f"the value of aggregate function {name} does not fit its result type: {detail}\n"
                          f"  group key: {self.key_text(key)}")
        e.weir_aggregate = True
        return e

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

    def version(self):
        """This attempt's state version and the one it starts from (or None)."""
        data, _ = self._handler.get_raw(self._key(b"V"))
        n, pos = _read_varint(data, 0)
        return bytes(data[pos:pos + n]) or None, bytes(data[pos + n:]) or None

    def put(self, data):
        resp = self._handler.append_raw(self._key(b"P"), data).get()
        if resp.error:
            raise RuntimeError(f"weir: the engine refused the state write: {resp.error}")


_frozen = False


def _freeze_worker_heap():
    """Moves the objects of the worker's start-up (Beam, gRPC, pandas: a few
    hundred thousand) out of the garbage collector's sight, once: they live
    as long as the worker, and each full collection during a bundle would
    walk them all (a third of a bundle's time in profiles). No collection
    first: it would cost a second of start-up under load for little."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


# Whether a bundle of this worker paused cycle collection (see
# _pause_collection); module-wide, as the collector is.
_paused = False


def _pause_collection():
    """No cycle collection from a bundle's first rows to its end: its lists
    and new accumulators would start collections that find nothing
    (reference counting frees them), and each would walk the rows buffered
    so far. One runs after, as due."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def _resume_collection():
    global _paused
    if _paused:
        _paused = False
        gc.enable()


def register_keyed_stage(urn, make, tune_gc):
    """Registers the worker transform urn of a keyed stage: an operation
    that buffers a bundle's rows in make(stage, state) (add, finish) and
    applies them at the bundle's end. With tune_gc the worker's heap is
    frozen once and cycle collection paused from a bundle's first rows to
    its end."""
    from weir import _beam

    class KeyedStageOperation(_beam.StageOperation):
        """Buffers a bundle's rows and applies them at its end."""

        def __init__(self, name_context, spec, counter_factory, state_sampler, stage, state_handler):
            super().__init__(name_context, spec, counter_factory, state_sampler, stage)
            self._state_handler = state_handler
            self._last = None

        def setup(self, data_sampler=None):
            super(_beam.StageOperation, self).setup(data_sampler)
            _beam.mark_user_output()
            handler = getattr(self._state_handler, "_underlying", self._state_handler)
            self._op = make(self._stage, _BeamState(handler))
            if tune_gc:
                _freeze_worker_heap()

        def process(self, o):
            if self._last is None and tune_gc:
                _pause_collection()
            self._last = o
            try:
                with self.scoped_process_state:
                    self._op.add(o.value)
            except BaseException:
                _resume_collection()
                raise

        def finish(self):
            try:
                if self._last is not None:
                    o, self._last = self._last, None
                    receive = self.receivers[0].receive
                    with self.scoped_process_state:
                        self._op.finish(lambda part: receive(o.with_value(part)))
            finally:
                if tune_gc:
                    _resume_collection()
            super().finish()

        def teardown(self):
            # A bundle that failed outside process ends here (Beam discards
            # its processor) without finish.
            if tune_gc:
                _resume_collection()
            super().teardown()

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

    bundle_processor.BeamTransformFactory.register_urn(urn, weir_pb2.Stage)(create)


register_keyed_stage(KEYED_AGGREGATE_URN, KeyedAggregate, tune_gc=True)


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
            # PyFlink 2.3 divides with Python's true division and its coder
            # truncates the quotient (not Java's long division).
            return int(acc[0] / acc[1])
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
