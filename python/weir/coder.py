"""The row coders: the Cython ones, or their pure-Python twins.

``from weir.coder import RowDecoder, RowEncoder, IMPLEMENTATION`` gives the
classes of ``weir._coder_fast`` (``IMPLEMENTATION == "fast"``), or those of
``weir._coder_slow`` (``"slow"``) when the environment variable
``WEIR_CYTHON=0`` is set or the extension cannot be imported; in the latter
case one warning goes to the ``weir`` logger. Both behave the same and raise
the same errors (see ``weir._coder_errors``).
"""

import logging
import os

from weir._coder_errors import CoderError, DecodeError, EncodeError, EncodeTypeError  # noqa: F401

__all__ = ["RowDecoder", "RowEncoder", "IMPLEMENTATION", "CoderError", "DecodeError", "EncodeError", "EncodeTypeError"]

IMPLEMENTATION = "slow"
# Why the slow coder is used although the fast one was wanted, or None. The
# worker reports it once in its log.
FALLBACK_REASON = None
if os.environ.get("WEIR_CYTHON", "1") == "0":
    logging.getLogger("weir").debug("weir: WEIR_CYTHON=0; using the pure-Python row coder")
else:
    try:
        from weir._coder_fast import RowDecoder, RowEncoder  # noqa: F401

        IMPLEMENTATION = "fast"
    except ImportError as e:
        FALLBACK_REASON = f"the Cython row coder cannot be imported ({e})"
if IMPLEMENTATION == "slow":
    from weir._coder_slow import RowDecoder, RowEncoder  # noqa: F401,F811
