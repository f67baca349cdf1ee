"""Pure-Python operations of weir's Python stages: the reference twin of
``_operations_fast.pyx``. Each ``process`` call takes one element, a batch of
input rows in weir's row format, and returns the encoded results.
"""

from weir import _functions
from weir.coder import RowDecoder, RowEncoder
from weir.types import parse_type


def _field_of(err):
    """The output field index named by a coder error, or 0."""
    return getattr(err, "field", 0) or 0


class ScalarOperation:
    """Each input row gives one output row: the stage's outputs."""

    def __init__(self, stage):
        self.stage = stage
        self.rows_done = 0  # input rows processed, read by the engine's progress checks
        self.decoder = RowDecoder([parse_type(t) for t in stage.input_types])
        self.encoder = RowEncoder([parse_type(o.type) for o in stage.outputs])
        wrappers = [_functions.open_function(f, stage.job_parameters) for f in stage.functions]
        self.fused = _functions.Fused(stage, wrappers, stage.outputs)

    def process(self, data):
        fused = self.fused.fn
        encode_row = self.encoder.encode_row
        try:
            for row in self.decoder.decode(data):
                try:
                    values = fused(row)
                except Exception as e:
                    raise self.fused.diagnose(row, e) from None
                try:
                    encode_row(values)
                except (TypeError, ValueError) as e:
                    raise _functions.result_error(self.stage, _field_of(e), row, e) from None
                self.rows_done += 1
        except BaseException:
            # Drop the failed batch's rows so that the next batch starts clean.
            self.encoder.take()
            raise
        return self.encoder.take()


class TableOperation:
    """Each input row gives the table function's rows, then an end marker."""

    def __init__(self, stage):
        self.stage = stage
        self.rows_done = 0  # input rows answered, read by the engine's progress checks
        call = stage.outputs[0].call
        self.fn_proto = stage.functions[call.function]
        self.decoder = RowDecoder([parse_type(t) for t in stage.input_types])
        self.encoder = RowEncoder([parse_type(t) for t in self.fn_proto.result_types])
        wrappers = [_functions.open_function(f, stage.job_parameters) for f in stage.functions]
        self.fused = _functions.Fused(stage, wrappers, call.args)
        self.table_fn = self.fused.evaluators[call.function]
        self.single = len(self.fn_proto.result_types) == 1

    def process(self, data):
        args_of = self.fused.fn
        fn = self.table_fn
        enc = self.encoder
        for row in self.decoder.decode(data):
            args = None
            try:
                args = args_of(row)
                for out in rows_of(fn(*args), self.single):
                    enc.encode_row(out)
            except (TypeError, ValueError) as e:
                if args is not None and getattr(e, "weir_coder_error", False):
                    enc.take()
                    raise _functions.result_error(self.stage, 0, row, e) from None
                raise self._error(row, args, e) from None
            except Exception as e:
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
