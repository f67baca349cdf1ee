"""The operations of Python stages: the Cython ones, or the pure-Python twins.

``WEIR_CYTHON=0`` forces the pure-Python ones; they are also used, with one
warning in the log, when the extension is missing.
"""

import os

IMPLEMENTATION = "slow"
# Why the slow operations are used although the fast ones were wanted, or None.
FALLBACK_REASON = None
if os.environ.get("WEIR_CYTHON", "1") != "0":
    try:
        from weir._operations_fast import ScalarOperation, TableOperation  # noqa: F401

        IMPLEMENTATION = "fast"
    except ImportError as e:
        FALLBACK_REASON = f"the Cython operations cannot be imported ({e})"
if IMPLEMENTATION == "slow":
    from weir._operations_slow import ScalarOperation, TableOperation  # noqa: F401,F811
