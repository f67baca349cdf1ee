# cython: language_level=3, boundscheck=False, wraparound=False
"""The per-row work of a keyed stage's bundle (weir._state_aggregate), in C.

``group`` and ``fold`` are the twins of ``_group_py`` and ``_fold_py`` in
weir._state_aggregate, which tests/test_state_aggregate_fast.py runs against
these on the same random bundles. A bundle's rows are kept per key in one
flat list, ``stride`` values per row: the row kind when ``kinds`` is set,
then the row's arguments. No list or tuple is made per row, so a bundle of
a few hundred thousand rows neither allocates containers per row nor wakes
the garbage collector, and each row costs its decoding, one dict lookup and
the call of the user's ``accumulate``.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItem, PyDict_SetItem
from cpython.float cimport PyFloat_FromDouble
from cpython.list cimport PyList_Append, PyList_GET_ITEM
from cpython.long cimport PyLong_FromLongLong
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.ref cimport PyObject
from libc.string cimport memcmp, memcpy, memset

from weir._coder_fast cimport RowDecoder


def group(RowDecoder dec, data, dict buf, Py_ssize_t nvals, bint kinds):
    """Appends each row of data (kind, key, values...) to buf[key]: its kind
    if kinds, then its nvals values. Returns the number of rows."""
    cdef list out = [None] * (nvals + 2)
    cdef list lst
    cdef object key
    cdef PyObject* found
    cdef Py_ssize_t rows = 0, c
    dec.begin(data)
    try:
        while dec.next_into(out):
            key = out[1]
            found = PyDict_GetItem(buf, key)
            if found == NULL:
                lst = []
                PyDict_SetItem(buf, key, lst)
            else:
                lst = <list>found
            if kinds:
                PyList_Append(lst, out[0])
            if nvals == 1:
                PyList_Append(lst, out[2])
            else:
                for c in range(2, nvals + 2):
                    PyList_Append(lst, out[c])
            rows += 1
    finally:
        dec._release()
    return rows


def fold(accumulate, retract, acc, list vals, Py_ssize_t start, Py_ssize_t stride, bint kinds, tuple offs,
         list where):
    """Accumulates (or, kinds set, retracts the rows of odd kind) the rows of
    vals from index start into acc; offs are the function's arguments among a
    row's values. Returns the number of retractions. On an exception,
    where[0] is the index of the failing row's first value."""
    cdef Py_ssize_t i = start, n = len(vals), retracts = 0, nargs = len(offs), a, b
    cdef bint whole = True
    cdef object f
    for a in range(nargs):
        if <Py_ssize_t>offs[a] != a:
            whole = False
    b = 1 if kinds else 0
    try:
        if not kinds and whole and nargs == 1:
            while i < n:
                accumulate(acc, vals[i])
                i += stride
            return 0
        if not kinds and whole and nargs == 2:
            while i < n:
                accumulate(acc, vals[i], vals[i + 1])
                i += stride
            return 0
        while i < n:
            f = accumulate
            if kinds and (<long>vals[i]) & 1:
                f = retract
                retracts += 1
            if whole and nargs == 1:
                f(acc, vals[i + b])
            elif whole and nargs == 2:
                f(acc, vals[i + b], vals[i + b + 1])
            elif nargs == 0:
                f(acc)
            else:
                f(acc, *[vals[i + b + <Py_ssize_t>offs[a]] for a in range(nargs)])
            i += stride
    except BaseException:
        where[0] = i
        raise
    return retracts


# Argument types the Grouper decodes itself (codes of weir._state_aggregate.FIXED_CODES).
cdef enum:
    A_TINYINT = 1
    A_SMALLINT
    A_INT
    A_BIGINT
    A_BOOLEAN
    A_FLOAT
    A_DOUBLE


cdef inline unsigned long long _be(const unsigned char* p, int n) noexcept nogil:
    cdef unsigned long long v = 0
    cdef int i
    for i in range(n):
        v = (v << 8) | p[i]
    return v


cdef class Grouper:
    """``group`` for rows (TINYINT NOT NULL kind, BYTES NOT NULL key, fixed-
    width arguments...), read straight from the wire format (docs/
    WIRE_FORMAT.md): keys are found in a hash table over the bundle's bytes,
    so a key's bytes object is made once per bundle, not once per row.
    ``add`` appends to the dict it was given as ``group`` does; ``reset``
    starts a new bundle (a new dict)."""

    cdef list codes        # argument type codes
    cdef int* acodes
    cdef Py_ssize_t nvals
    cdef bint kinds
    cdef Py_ssize_t hdr
    cdef dict buf
    cdef list lists        # per key index: its list
    cdef list keyobjs      # per key index: its bytes
    cdef Py_ssize_t* slots # open addressing: key index + 1, 0 = empty
    cdef unsigned long long* hashes
    cdef Py_ssize_t cap    # slots (a power of two)

    def __cinit__(self):
        self.acodes = NULL
        self.slots = NULL
        self.hashes = NULL

    def __init__(self, codes, bint kinds):
        cdef Py_ssize_t i
        self.codes = list(codes)
        self.nvals = len(self.codes)
        self.kinds = kinds
        self.hdr = (self.nvals + 2 + 2 + 7) // 8
        self.acodes = <int*>PyMem_Malloc(sizeof(int) * (self.nvals + 1))
        if self.acodes == NULL:
            raise MemoryError()
        for i in range(self.nvals):
            self.acodes[i] = self.codes[i]
        self.cap = 0
        self.reset({})

    def __dealloc__(self):
        PyMem_Free(self.acodes)
        PyMem_Free(self.slots)
        PyMem_Free(self.hashes)

    def reset(self, dict buf):
        """Start a bundle whose rows go to buf."""
        self.buf = buf
        self.lists = []
        self.keyobjs = []
        self._alloc(1024)

    cdef int _alloc(self, Py_ssize_t cap) except -1:
        cdef Py_ssize_t* slots = <Py_ssize_t*>PyMem_Malloc(sizeof(Py_ssize_t) * cap)
        cdef unsigned long long* hashes
        cdef Py_ssize_t i, j, n = len(self.keyobjs)
        if slots == NULL:
            raise MemoryError()
        memset(slots, 0, sizeof(Py_ssize_t) * cap)
        hashes = <unsigned long long*>PyMem_Realloc(self.hashes, sizeof(unsigned long long) * (cap // 2 + 1))
        if hashes == NULL:
            PyMem_Free(slots)
            raise MemoryError()
        self.hashes = hashes
        for i in range(n):
            j = <Py_ssize_t>(hashes[i] & <unsigned long long>(cap - 1))
            while slots[j] != 0:
                j = (j + 1) & (cap - 1)
            slots[j] = i + 1
        PyMem_Free(self.slots)
        self.slots = slots
        self.cap = cap
        return 0

    cdef object _list_of(self, const unsigned char* k, Py_ssize_t n):
        cdef unsigned long long h = 14695981039346656037ULL
        cdef Py_ssize_t i, j, idx
        cdef object key, lst
        for i in range(n):
            h = (h ^ k[i]) * 1099511628211ULL
        h ^= h >> 29
        j = <Py_ssize_t>(h & <unsigned long long>(self.cap - 1))
        while True:
            idx = self.slots[j]
            if idx == 0:
                break
            idx -= 1
            if self.hashes[idx] == h:
                key = <object>PyList_GET_ITEM(self.keyobjs, idx)
                if PyBytes_GET_SIZE(key) == n and memcmp(PyBytes_AS_STRING(key), k, n) == 0:
                    return <object>PyList_GET_ITEM(self.lists, idx)
            j = (j + 1) & (self.cap - 1)
        key = PyBytes_FromStringAndSize(<const char*>k, n)
        found = PyDict_GetItem(self.buf, key)
        if found != NULL:
            lst = <object>found  # a key of an earlier add of the bundle
        else:
            lst = []
            PyDict_SetItem(self.buf, key, lst)
        idx = len(self.keyobjs)
        self.keyobjs.append(key)
        self.lists.append(lst)
        self.hashes[idx] = h
        self.slots[j] = idx + 1
        if 2 * (idx + 1) >= self.cap:
            self._alloc(self.cap * 2)
        return lst

    def add(self, data):
        """Appends each row of data to its key's list; returns the rows."""
        cdef const unsigned char* p
        cdef Py_ssize_t end, pos = 0, rend, n, klen, i, rows = 0, f
        cdef unsigned long long ln
        cdef int shift, code
        cdef unsigned int u32
        cdef double d
        cdef float fl
        cdef const unsigned char* row
        cdef object lst, v
        if not PyBytes_CheckExact(data):
            data = bytes(data)
        p = <const unsigned char*>PyBytes_AS_STRING(data)
        end = PyBytes_GET_SIZE(data)
        while pos < end:
            ln = 0
            shift = 0
            while True:
                if pos >= end or shift > 56:
                    raise ValueError(f"weir: a keyed stage's input row {rows} is truncated")
                ln |= <unsigned long long>(p[pos] & 0x7F) << shift
                pos += 1
                if p[pos - 1] < 0x80:
                    break
                shift += 7
            if ln > <unsigned long long>(end - pos):
                raise ValueError(f"weir: a keyed stage's input row {rows} is truncated")
            row = p + pos
            rend = <Py_ssize_t>ln
            pos += rend
            # header, kind, key length
            if rend < self.hdr + 5 or (row[0] & 0x30):
                raise ValueError(f"weir: a keyed stage's input row {rows} is malformed")
            i = self.hdr
            klen = <Py_ssize_t>_be(row + i + 1, 4)
            if klen < 0 or klen > rend - i - 5:
                raise ValueError(f"weir: a keyed stage's input row {rows} is malformed")
            lst = self._list_of(row + i + 5, klen)
            if self.kinds:
                PyList_Append(lst, <int>(<signed char>row[i]))
            i += 5 + klen
            for f in range(self.nvals):
                if row[(f + 4) >> 3] & (0x80 >> ((f + 4) & 7)):
                    PyList_Append(lst, None)
                    continue
                code = self.acodes[f]
                if code == A_BIGINT:
                    n = 8
                    if i + n > rend:
                        break
                    v = PyLong_FromLongLong(<long long>_be(row + i, 8))
                elif code == A_INT:
                    n = 4
                    if i + n > rend:
                        break
                    v = <int>(<unsigned int>_be(row + i, 4))
                elif code == A_DOUBLE:
                    n = 8
                    if i + n > rend:
                        break
                    ln = _be(row + i, 8)
                    memcpy(&d, &ln, 8)
                    v = PyFloat_FromDouble(d)
                elif code == A_FLOAT:
                    n = 4
                    if i + n > rend:
                        break
                    u32 = <unsigned int>_be(row + i, 4)
                    memcpy(&fl, &u32, 4)
                    v = PyFloat_FromDouble(fl)
                elif code == A_SMALLINT:
                    n = 2
                    if i + n > rend:
                        break
                    v = <int>(<short>(<unsigned short>_be(row + i, 2)))
                elif code == A_TINYINT:
                    n = 1
                    if i + n > rend:
                        break
                    v = <int>(<signed char>row[i])
                else:  # A_BOOLEAN
                    n = 1
                    if i + n > rend:
                        break
                    v = row[i] != 0
                PyList_Append(lst, v)
                i += n
            if i != rend:
                raise ValueError(f"weir: a keyed stage's input row {rows} is malformed ({i} of {rend} bytes read)")
            rows += 1
        return rows
