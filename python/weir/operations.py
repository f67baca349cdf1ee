"""The operations of Python stages: the Cython ones, or the pure-Python twins.

``WEIR_CYTHON=0`` forces the pure-Python ones; they are also used, with one
warning in the log, when the extension is missing.
"""

import logging
import os

IMPLEMENTATION = "slow"
if os.environ.get("WEIR_CYTHON", "1") != "0":
    try:
        from weir._operations_fast import ScalarOperation, TableOperation  # noqa: F401

        IMPLEMENTATION = "fast"
    except ImportError as e:
        logging.getLogger("weir").warning(
            "weir: Cython operations unavailable (%s); using the pure-Python operations", e)
if IMPLEMENTATION == "slow":
    from weir._operations_slow import ScalarOperation, TableOperation  # noqa: F401,F811
