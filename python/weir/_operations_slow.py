"""Pure-Python operations of weir's Python stages: the reference twin of
``_operations_fast.pyx``. Each ``process`` call takes one element, a batch of
input rows in weir's row format, and returns the encoded results.

Given ``emit``, ``process`` sends the results in parts: whenever the encoded
results reach ``part_bytes`` (``_limits.PART_BYTES``), they go to
``emit(CONTINUED + part)`` and the next part starts; the last part is returned.
Every row is checked against ``_limits.MAX_ROW_BYTES``.
"""

from weir import _functions
from weir._limits import CONTINUED, MAX_ROW_BYTES, PART_BYTES, is_row_too_large, row_too_large
from weir.coder import RowDecoder, RowEncoder
from weir.types import parse_type


class _Sized:
    """An encoder and the size of what it holds.

    The pure-Python encoder's buffer tells its size; another encoder (the
    Cython one, when only the Cython operations are missing) is emptied after
    every row into a list of pieces.
    """

    def __init__(self, enc):
        self.enc = enc
        self.direct = hasattr(enc, "_buf")
        self.pieces = []
        self.held = 0

    def size(self):
        if self.direct:
            return len(self.enc._buf)
        return self.held

    def encode_row(self, values):
        self.enc.encode_row(values)
        self._collect()

    def encode_end_marker(self):
        self.enc.encode_end_marker()
        self._collect()

    def _collect(self):
        if not self.direct:
            b = self.enc.take()
            self.pieces.append(b)
            self.held += len(b)

    def take(self):
        if self.direct:
            return self.enc.take()
        b = b"".join(self.pieces) + self.enc.take()
        self.pieces, self.held = [], 0
        return b


def _field_of(err):
    """The output field index named by a coder error, or 0."""
    return getattr(err, "field", 0) or 0


class ScalarOperation:
    """Each input row gives one output row: the stage's outputs."""

    def __init__(self, stage):
        self.stage = stage
        self.rows_done = 0  # input rows processed, read by the engine's progress checks
        self.decoder = RowDecoder([parse_type(t) for t in stage.input_types])
        # Labelled: a truncated float's warning names the function.
        self.encoder = _Sized(RowEncoder([parse_type(o.type) for o in stage.outputs])
                              .label(_functions.result_labels(stage)))
        self.part_bytes = PART_BYTES  # results are sent in parts of about this size
        self.max_row_bytes = MAX_ROW_BYTES  # the largest result row
        wrappers = [_functions.open_function(f, stage.job_parameters) for f in stage.functions]
        self.fused = _functions.Fused(stage, wrappers, stage.outputs)

    def process(self, data, emit=None):
        fused = self.fused.fn
        enc = self.encoder
        encode_row = enc.encode_row
        size = enc.size
        part = self.part_bytes if emit is not None else None
        try:
            for row in self.decoder.decode(data):
                if part is not None and size() >= part:
                    emit(CONTINUED + enc.take())
                try:
                    values = fused(row)
                except Exception as e:
                    raise self.fused.diagnose(row, e) from None
                start = size()
                try:
                    encode_row(values)
                except (TypeError, ValueError) as e:
                    raise _functions.result_error(self.stage, _field_of(e), row, e) from None
                if size() - start > self.max_row_bytes:
                    raise row_too_large(self.stage, values, row, size() - start, self.max_row_bytes)
                self.rows_done += 1
        except BaseException:
            # Drop the failed batch's rows so that the next batch starts clean.
            enc.take()
            raise
        return enc.take()


class TableOperation:
    """Each input row gives the table function's rows, then an end marker."""

    def __init__(self, stage):
        self.stage = stage
        self.rows_done = 0  # input rows answered, read by the engine's progress checks
        call = stage.outputs[0].call
        self.fn_proto = stage.functions[call.function]
        self.decoder = RowDecoder([parse_type(t) for t in stage.input_types])
        self.encoder = _Sized(RowEncoder([parse_type(t) for t in self.fn_proto.result_types])
                              .label([_functions.function_label(self.fn_proto)] * len(self.fn_proto.result_types)))
        self.part_bytes = PART_BYTES  # results are sent in parts of about this size
        self.max_row_bytes = MAX_ROW_BYTES  # the largest result row
        wrappers = [_functions.open_function(f, stage.job_parameters) for f in stage.functions]
        self.fused = _functions.Fused(stage, wrappers, call.args)
        self.table_fn = self.fused.evaluators[call.function]
        self.single = len(self.fn_proto.result_types) == 1

    def process(self, data, emit=None):
        args_of = self.fused.fn
        fn = self.table_fn
        enc = self.encoder
        size = enc.size
        part = self.part_bytes if emit is not None else None
        for row in self.decoder.decode(data):
            args = None
            emitting = False
            try:
                args = args_of(row)
                for out in rows_of(fn(*args), self.single):
                    if part is not None and size() >= part:
                        emitting = True
                        emit(CONTINUED + enc.take())
                        emitting = False
                    start = size()
                    enc.encode_row(out)
                    if size() - start > self.max_row_bytes:
                        raise row_too_large(self.stage, out, row, size() - start, self.max_row_bytes)
            except (TypeError, ValueError) as e:
                if emitting:
                    enc.take()
                    raise
                if args is not None and getattr(e, "weir_coder_error", False):
                    enc.take()
                    raise _functions.result_error(self.stage, 0, row, e) from None
                raise self._error(row, args, e) from None
            except BaseException as e:
                if emitting or not isinstance(e, Exception) or is_row_too_large(e):
                    enc.take()
                    raise
                raise self._error(row, args, e) from None
            enc.encode_end_marker()
            self.rows_done += 1
        return enc.take()

    def _error(self, row, args, e):
        self.encoder.take()
        if args is None:
            return self.fused.diagnose(row, e)
        import traceback

        return _functions.function_error(self.fn_proto, args, row, e, traceback.format_exc())


def rows_of(result, single):
    """The rows of a table function's result, as PyFlink reads them.

    None is no row; a Row is one row; a str, bytes or non-iterable value is
    one row of one column; anything else is iterated, each item a row (or,
    for a one-column function, a bare value).
    """
    from weir.row import Row

    if result is None:
        return ()
    if isinstance(result, Row) or isinstance(result, (str, bytes)) or not hasattr(result, "__iter__"):
        result = (result,)
    if single:
        return ((r,) if not isinstance(r, (tuple, list)) else r for r in result)
    return result
