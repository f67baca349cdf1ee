# cython: language_level=3, boundscheck=False, wraparound=False
"""The per-group loop of general aggregate functions, in C.

``general_group`` is ``weir._aggregate._general_group`` without the
interpreter's loop: the group's lists are walked by index and each row's
values passed to ``accumulate`` with one vectorcall, so a row costs the call
of the user's ``accumulate`` and little else (the benchmark's floor is that
call in a plain Python loop). One argument packed by the engine without NULLs
(``weir._aggregate._unpack``) is read straight from its bytes, each value made
a Python object just before its call: no list per group. Errors are raised
exactly as the pure-Python twin raises them; tests/test_udaf.py runs both.
"""

import sys

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t
from libc.string cimport memcpy

from weir._aggregate import _group_error, _lists, _RowAccumulator, _unpack
from weir.row import Row

# Packed values are little-endian: read in place only on such a machine.
cdef bint _LITTLE = sys.byteorder == "little"


cdef inline Py_ssize_t _plain_width(bytes b):
    # The width of the values of b when it is packed without NULLs and
    # well formed, else 0 (the general path unpacks it, or raises).
    cdef Py_ssize_t n = len(b), w
    cdef char c
    if n == 0 or not _LITTLE:
        return 0
    c = (<const char*>b)[0]
    if c == b'b':
        w = 1
    elif c == b'h':
        w = 2
    elif c == b'i' or c == b'f':
        w = 4
    elif c == b'q' or c == b'd':
        w = 8
    else:
        return 0
    return w if (n - 1) % w == 0 else 0


cdef inline object _packed_value(const char* p, char tag, Py_ssize_t i):
    # Value i of packed values p (after the tag) as a Python object.
    cdef int8_t v8
    cdef int16_t v16
    cdef int32_t v32
    cdef int64_t v64
    cdef float f32
    cdef double f64
    if tag == b'q':
        memcpy(&v64, p + i * 8, 8)
        return v64
    elif tag == b'i':
        memcpy(&v32, p + i * 4, 4)
        return v32
    elif tag == b'd':
        memcpy(&f64, p + i * 8, 8)
        return f64
    elif tag == b'f':
        memcpy(&f32, p + i * 4, 4)
        return <double>f32
    elif tag == b'h':
        memcpy(&v16, p + i * 2, 2)
        return v16
    v8 = <int8_t>p[i]
    return v8


def general_group(name, agg, Py_ssize_t nargs, *cols):
    """One group: create_accumulator, accumulate per row, get_value."""
    cdef tuple lists = cols[:nargs]
    cdef tuple keys = cols[nargs:]
    cdef Py_ssize_t i = 0, n, j, w = 0
    cdef list a, b
    cdef bytes packed = None
    cdef const char* p
    cdef char tag
    cdef object acc, accumulate
    if nargs == 1 and type(lists[0]) is bytes:
        w = _plain_width(<bytes>lists[0])
    if w:
        packed = <bytes>lists[0]
    else:
        lists = _lists(lists)
    try:
        acc = agg.create_accumulator()
    except Exception as err:
        raise _group_error(name, "create_accumulator", keys, err) from None
    if isinstance(acc, Row):
        acc = _RowAccumulator(acc)
    accumulate = agg.accumulate
    if packed is not None:
        n = (len(packed) - 1) // w
    else:
        n = len(lists[0]) if nargs else 0
    try:
        if packed is not None:
            p = <const char*>packed
            tag = p[0]
            p += 1
            while i < n:
                accumulate(acc, _packed_value(p, tag, i))
                i += 1
        elif nargs == 1 and type(lists[0]) is list:
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
        if packed is not None:
            lists = (_unpack(packed),)
        raise _group_error(name, "accumulate", keys, err, i, [col[i] for col in lists]) from None
    try:
        return agg.get_value(acc)
    except Exception as err:
        raise _group_error(name, "get_value", keys, err) from None
