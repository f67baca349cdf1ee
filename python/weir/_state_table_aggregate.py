"""Python table aggregate functions in streaming mode, with their state in the engine.

The engine runs them in a keyed stage (``internal/pyexec/keyed.go``, planned
by ``internal/plan/udtaf_streaming.go``), as aggregate functions
(``weir._state_aggregate``): rows partitioned by group key, a partition's
bundles one after another, input rows ``(row kind, key, arguments...)``,
the accumulators of a bundle's keys fetched in one state request and the
changed ones written back in one, applied by the engine only when the
bundle has completed (so a replay after a worker's death starts from the
same state).

Per key, in order of first appearance in the bundle, as PyFlink's
``GroupTableAggFunction``:

1. a group with an accumulator emits the rows ``emit_value`` yields from it
   as -D (whether or not they will change); a group without one skips its
   leading retractions (all retractions: nothing happens) and starts from
   ``create_accumulator``;
2. its rows are accumulated (+I, +U) or retracted (-U, -D), in order;
3. unless retractions have taken back all its rows, it emits the rows
   ``emit_value`` yields now as +I and keeps its accumulator; otherwise its
   state is deleted.

An accumulator is stored pickled with the group's row count; a declared
accumulator type is checked on the first group of each bundle.
"""

import json
import pickle
import traceback
from collections import defaultdict

from weir import _functions
from weir._aggregate import _RowAccumulator, _short
from weir._state_aggregate import (DELETE, INSERT, KEY_TYPES_PARAM, PART_ROWS, RETRACTING_PARAM, UPDATE_AFTER,
                                   UPDATE_BEFORE, _read_varint, _varint, register_keyed_stage)
from weir._table_aggregate import accumulator_check
from weir.coder import RowDecoder, RowEncoder
from weir.errors import FunctionError
from weir.row import Row, _make_row
from weir.types import parse_type

KEYED_TABLE_AGGREGATE_URN = "weir:transform:keyed_table_aggregate:v1"
# The job parameter with the field names of the Row a function given whole
# rows receives (flat_aggregate(f)); absent when it takes arguments.
ROW_FIELDS_PARAM = "weir.keyed.row-fields"

_KINDS = {INSERT: "+I", UPDATE_BEFORE: "-U", UPDATE_AFTER: "+U", DELETE: "-D"}


class KeyedTableAggregate:
    """The per-bundle work of a table aggregate function's keyed stage, apart from Beam."""

    def __init__(self, stage, state):
        self.stage = stage
        self.state = state  # get(payload) -> bytes, put(data) -> None
        params = dict(stage.job_parameters)
        key_types = json.loads(params.pop(KEY_TYPES_PARAM, "[]")) or []
        retracting = params.pop(RETRACTING_PARAM, "true")
        fields = params.pop(ROW_FIELDS_PARAM, None)
        self.row_fields = None if fields is None else tuple(json.loads(fields))
        self.key_decoder = RowDecoder([parse_type(t) for t in key_types])
        self.decoder = RowDecoder([parse_type(t) for t in stage.input_types])
        self.encoder = RowEncoder([parse_type("BYTES NOT NULL"), parse_type("TINYINT NOT NULL")]
                                  + [parse_type(o.type) for o in stage.outputs])
        self.encoder.label([None, None] + [_functions.function_label(stage.functions[0])] * len(stage.outputs))
        self.width = len(stage.outputs)
        fn = stage.functions[stage.outputs[0].call.function]
        self.name = fn.name
        w = _functions.open_function(fn, params)
        self.func = w._func
        # A declared accumulator type is checked on the first group of each
        # bundle, as for aggregate functions (the state itself is pickled, as
        # PyFlink's is).
        self.check = accumulator_check(self.name, w.accumulator_type, self.key_text)
        self.cols = [a.column for a in stage.outputs[0].call.args]
        # Insert-only input (the engine says so) needs no row-kind checks.
        self.retracting = retracting != "false"
        self.buffer = defaultdict(list)
        self.rows_done = 0
        self._send, self._rows = None, 0  # finish's emit, and the rows encoded since it was last called

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
        loads, dumps, proto = pickle.loads, pickle.dumps, pickle.HIGHEST_PROTOCOL
        self._send, self._rows = emit, 0
        pos = 0
        check = self.check
        for key in keys:
            n, pos = _read_varint(data, pos)
            rows = buf[key]
            if n == 0:
                # Retractions of a group without state are ignored (Flink).
                start = 0
                while start < len(rows) and rows[start][0] & 1:
                    start += 1
                if start == len(rows):
                    continue
                rows = rows[start:]
                acc = self._create(key)
                count = 0
            else:
                acc, count = loads(data[pos:pos + n - 1])
                pos += n - 1
                self._emit(acc, key, DELETE)
            count += len(rows) - 2 * self._fold(acc, rows, key)
            self.rows_done += len(rows)
            _varint(writes, len(key))
            writes += key
            if count <= 0 and self.retracting:
                writes.append(0)
                continue
            if check is not None:
                check(acc, key)
                check = None
            try:
                value = dumps((acc, count), proto)
            except Exception as err:
                raise self._dump_error(acc, key, err) from None
            _varint(writes, len(value) + 1)
            writes += value
            self._emit(acc, key, INSERT)
        if writes:
            self.state.put(bytes(writes))
        out = enc.take()
        if out:
            emit(out)

    def _fold(self, acc, rows, key):
        """Accumulate or retract rows into acc; returns the retractions."""
        f = self.func
        accumulate = f.accumulate
        cols, fields = self.cols, self.row_fields
        retracts = 0
        row = None
        try:
            if not self.retracting and fields is None:
                # Insert-only rows: no row-kind checks, arguments picked
                # without building a list when there is one.
                if len(cols) == 1:
                    c = cols[0]
                    for row in rows:
                        accumulate(acc, row[c])
                else:
                    for row in rows:
                        accumulate(acc, *[row[i] for i in cols])
                return 0
            for row in rows:
                if fields is not None:
                    args = (_make_row(row[2:], fields),)
                else:
                    args = [row[i] for i in cols]
                if row[0] & 1:
                    retracts += 1
                    f.retract(acc, *args)
                else:
                    accumulate(acc, *args)
        except Exception as err:
            what = "retract" if row is not None and row[0] & 1 else "accumulate"
            raise self._error(what, key, err, row) from None
        return retracts

    def _emit(self, acc, key, kind):
        """Encode the rows emit_value yields from acc with kind."""
        try:
            out = self.func.emit_value(acc)
            # Drawn here, before acc changes, so that a failure names its group.
            rows = [] if out is None else list(out)
        except Exception as err:
            raise self._error("emit_value", key, err) from None
        encode_row = self.encoder.encode_row
        for r in rows:
            vals = list(r) if isinstance(r, tuple) else [r]
            if len(vals) != self.width:
                raise self._row_error(key, r, f"it has {len(vals)} field(s) where the function's result type "
                                              f"has {self.width}")
            try:
                encode_row([key, kind] + vals)
            except (TypeError, ValueError, OverflowError) as err:
                self.encoder.take()  # drop the half-encoded bundle: the job fails
                raise self._row_error(key, r, f"{type(err).__name__}: {err}") from None
            self._rows += 1
            if self._rows >= PART_ROWS:
                # Results leave in parts, even within a group's rows, so
                # that no message nears gRPC's limit.
                self._send(self.encoder.take())
                self._rows = 0

    # -- errors name the function, the group key and the row --

    def key_text(self, key):
        try:
            return _short(tuple(next(iter(self.key_decoder.decode(key)))))
        except Exception:
            return repr(key)

    def _error(self, what, key, err, row=None):
        frames = traceback.extract_tb(err.__traceback__)[1:]
        tb = ("Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
              + "".join(traceback.format_exception_only(type(err), err)))
        msg = (f"Python table aggregate function {self.name!r} raised {type(err).__name__} in {what}: {err}\n"
               f"  group key: {self.key_text(key)}\n")
        if row is not None:
            msg += f"  input row ({_KINDS.get(row[0], row[0])}), arguments: {_short(tuple(row[2:]))}\n"
        if what == "retract" and isinstance(err, NotImplementedError):
            msg += ("Its input is updating (it takes back rows it sent before): define retract(accumulator, "
                    "*args) to take a row back out of the accumulator.\n")
        e = FunctionError(msg + f"Python traceback:\n{tb}")
        e.weir_aggregate = True
        return e

    def _row_error(self, key, r, why):
        e = FunctionError(f"emit_value of Python table aggregate function {self.name!r} yielded a row that does "
                          f"not fit its result type: {why}\n  group key: {self.key_text(key)}\n"
                          f"  row: {_short(r)}\n  result type: {self.stage.functions[0].result_types[0]}\n"
                          "Yield Row(...) values of the declared result type.")
        e.weir_aggregate = True
        return e

    def _create(self, key):
        try:
            acc = self.func.create_accumulator()
        except Exception as err:
            raise self._error("create_accumulator", key, err) from None
        if isinstance(acc, Row):
            acc = _RowAccumulator(acc)
        return acc

    def _dump_error(self, acc, key, err):
        e = FunctionError(
            f"the accumulator of Python table aggregate function {self.name!r} cannot be stored: "
            f"{type(err).__name__}: {err}\n  group key: {self.key_text(key)}\n"
            f"  accumulator: {_short(acc)}\n"
            "weir keeps accumulators in the engine between bundles in streaming mode (pickled): use "
            "values that pickle (numbers, strings, lists, dicts, Row, ListView, MapView), not open "
            "files, locks or generators.")
        e.weir_aggregate = True
        return e


register_keyed_stage(KEYED_TABLE_AGGREGATE_URN, KeyedTableAggregate, tune_gc=False)
