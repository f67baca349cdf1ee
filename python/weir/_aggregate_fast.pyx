# cython: language_level=3, boundscheck=False, wraparound=False
"""The per-group loop of general aggregate functions, in C.

``general_group`` is ``weir._aggregate._general_group`` without the
interpreter's loop: the group's lists are walked by index and each row's
values passed to ``accumulate`` with one vectorcall, so a row costs the call
of the user's ``accumulate`` and little else (the benchmark's floor is that
call in a plain Python loop). Errors are raised exactly as the pure-Python
twin raises them; tests/test_udaf.py runs both.
"""

from weir._aggregate import _group_error, _RowAccumulator
from weir.row import Row


def general_group(name, agg, Py_ssize_t nargs, *cols):
    """One group: create_accumulator, accumulate per row, get_value."""
    cdef tuple lists = cols[:nargs]
    cdef tuple keys = cols[nargs:]
    cdef Py_ssize_t i = 0, n, j
    cdef list a, b
    cdef object acc, accumulate
    try:
        acc = agg.create_accumulator()
    except Exception as err:
        raise _group_error(name, "create_accumulator", keys, err) from None
    if isinstance(acc, Row):
        acc = _RowAccumulator(acc)
    accumulate = agg.accumulate
    n = len(lists[0]) if nargs else 0
    try:
        if nargs == 1 and type(lists[0]) is list:
            a = <list>lists[0]
            while i < n:
                accumulate(acc, a[i])
                i += 1
        elif nargs == 2 and type(lists[0]) is list and type(lists[1]) is list:
            a = <list>lists[0]
            b = <list>lists[1]
            while i < n:
                accumulate(acc, a[i], b[i])
                i += 1
        else:
            while i < n:
                accumulate(acc, *[lists[j][i] for j in range(nargs)])
                i += 1
    except Exception as err:
        raise _group_error(name, "accumulate", keys, err, i, [col[i] for col in lists]) from None
    try:
        return agg.get_value(acc)
    except Exception as err:
        raise _group_error(name, "get_value", keys, err) from None
