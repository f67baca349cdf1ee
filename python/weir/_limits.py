"""Size limits of the results a worker sends to the engine (see docs/WIRE_FORMAT.md).

The results of one input element are sent in parts of about ``PART_BYTES``:
every part but the last starts with the byte ``CONTINUED``, which no batch of
rows starts with, and the engine joins the parts again. So an output element
never grows past ``PART_BYTES`` plus one row, however many rows the input
element had and however large they are.

One row cannot be split. A row whose encoding is over ``MAX_ROW_BYTES`` is a
deterministic failure: the operation raises ``row_too_large`` instead of
sending a message that gRPC would refuse (the engine accepts messages of up
to 256 MiB; the harness may put up to 20 MB of other output in the same
message).
"""

from weir.errors import FunctionError

# An output part is sent once the encoder holds this many bytes.
PART_BYTES = 4 << 20
# The largest encoded row one part may carry.
MAX_ROW_BYTES = 200 << 20
# The first byte of every part of an element's results but the last.
CONTINUED = b"\x00"


def is_row_too_large(err):
    """Whether err is the error of ``row_too_large``."""
    return getattr(err, "weir_row_too_large", False)


def _size(v):
    """A rough size of a value, to tell which output made a row too large."""
    if isinstance(v, (str, bytes, bytearray)):
        return len(v)
    if isinstance(v, (tuple, list)):
        return sum(_size(x) for x in v)
    if isinstance(v, dict):
        return sum(_size(k) + _size(x) for k, x in v.items())
    return 8


def _short(row, limit=200):
    text = repr(tuple(row))
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text):,} characters)"
    return text


def row_too_large(stage, values, row, size, limit=MAX_ROW_BYTES):
    """The error of a result row of ``size`` encoded bytes, over ``limit``.

    ``values`` are the row's values (a scalar stage's outputs, or the table
    function's row), ``row`` the input row. The message names the function
    that returned the largest value.
    """
    if stage.kind == 0:
        sizes = [_size(v) for v in values] if isinstance(values, (tuple, list)) else [0]
        j = max(range(len(sizes)), key=sizes.__getitem__) if sizes else 0
        e = stage.outputs[j] if j < len(stage.outputs) else stage.outputs[0]
        if e.WhichOneof("kind") == "call":
            fn = stage.functions[e.call.function]
            who = f"Python function {fn.name!r} ({fn.module}.{fn.attr})"
        else:
            who = f"output {j} of {stage.name}"
    else:
        fn = stage.functions[stage.outputs[0].call.function]
        who = f"Python table function {fn.name!r} ({fn.module}.{fn.attr})"
    # A FunctionError as any other (the engine reports it as such), marked
    # so that the operations pass it on unchanged.
    err = FunctionError(
        f"{who} returned a result row of {size:,} bytes (encoded), over weir's limit of "
        f"{limit:,} bytes ({limit / (1 << 20):g} MiB) for one row sent from a worker to the engine "
        f"(gRPC messages are limited to 256 MiB).\n"
        f"  input row: {_short(row)}\n"
        "This fails the same way on every try, so the job stops here. Return smaller values: split a large "
        "value over several rows (a table function), or store it elsewhere and return a reference to it.")
    err.weir_row_too_large = True
    return err
