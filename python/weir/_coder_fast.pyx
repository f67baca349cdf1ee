# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cython row coders: the fast twin of ``_coder_slow.py``.

Same Python API, values, behaviour and error messages as the pure-Python
coder (see its docstring for the value mapping); the C-level API for other
Cython modules is declared in ``_coder_fast.pxd``.

Decoding reads straight from the bytes' buffer with a bounds check before
every read; encoding writes into a growable C buffer that ``take()`` turns
into bytes. Primitive types, strings and bytes are handled inline per field
from a C array of type codes; DECIMAL, dates and times go through C helpers;
nested types through a recursive path.

Rows of fixed-width primitives only (INT, BIGINT, SMALLINT, TINYINT, DOUBLE,
FLOAT, BOOLEAN) take a fast path first (``_next_fixed`` / ``_write_fixed``):
such a row without nulls has one length, so one check of its length varint,
header and size replaces the per-field bounds checks, and values are read and
written with straight C code (on CPython 3.11 also reading ints' digits and
reusing the int / float objects of the list being decoded into; see the C
helpers below). Anything else (a null, a non-canonical length, a value that is
not an exact int / float / bool, a bad input) falls back to the general path,
which also produces every error. Building error messages is left to
the shared helpers of ``_coder_errors`` (cold path), so both coders say the
same words. Note: cdivision is on, so every ``/`` and ``%`` here works on
non-negative numbers or is corrected for negative ones explicitly.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.datetime cimport (
    PyDate_Check,
    PyDateTime_Check,
    PyDateTime_DATE_GET_HOUR,
    PyDateTime_DATE_GET_MICROSECOND,
    PyDateTime_DATE_GET_MINUTE,
    PyDateTime_DATE_GET_SECOND,
    PyDateTime_DELTA_GET_DAYS,
    PyDateTime_DELTA_GET_MICROSECONDS,
    PyDateTime_DELTA_GET_SECONDS,
    PyDateTime_GET_DAY,
    PyDateTime_GET_MONTH,
    PyDateTime_GET_YEAR,
    PyDateTime_TIME_GET_HOUR,
    PyDateTime_TIME_GET_MICROSECOND,
    PyDateTime_TIME_GET_MINUTE,
    PyDateTime_TIME_GET_SECOND,
    PyDelta_Check,
    PyTime_Check,
    date_new,
    datetime_new,
    datetime_tzinfo,
    import_datetime,
    time_new,
    time_tzinfo,
)
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.ref cimport PyObject, Py_DECREF
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.math cimport isinf
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, memmove, memset

import datetime as _dt

from weir import _coder_errors as E
from weir import _coder_slow as S
from weir._coder_errors import DecodeError, EncodeError
from weir.row import _KINDS, Row, _make_row
from weir.types import (
    ArrayType,
    BigIntType,
    BinaryType,
    BooleanType,
    CharType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntType,
    LocalZonedTimestampType,
    MapType,
    RowType,
    SmallIntType,
    TimestampType,
    TimeType,
    TinyIntType,
    VarBinaryType,
    VarCharType,
)

import_datetime()

cdef extern from *:
    """
    static CYTHON_INLINE void weir_list_set(PyObject* list, Py_ssize_t i, PyObject* v) {
        PyObject* old = PyList_GET_ITEM(list, i);
        Py_INCREF(v);
        PyList_SET_ITEM(list, i, v);
        Py_XDECREF(old);
    }
    """
    # out[i] = v for a list known to hold more than i items (no None / bounds checks)
    void _list_set "weir_list_set"(list l, Py_ssize_t i, object v) noexcept


cdef extern from *:
    """
    /* Primitive values in and out of list / tuple slots, for the per-row hot loops.

       WEIR_INTS311: CPython 3.11's int layout (ob_size = sign * number of 30-bit
       digits, at least one digit allocated) is read directly, and a decoded value
       is stored into the exact int (or float) already in its slot when only that
       slot holds it (refcount 1) and it has room: nothing else can see that
       object, so this is the same as releasing it and handing out a new one
       (which may well come back at the same address). Small ints (-5..256) stay
       the shared cached objects. Elsewhere the portable C API is used. */
    #if !defined(PYPY_VERSION) && !defined(Py_LIMITED_API) && !defined(WEIR_NO_INT_INTERNALS) \
        && PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000 && PyLong_SHIFT == 30
    #define WEIR_INTS311 1
    #else
    #define WEIR_INTS311 0
    #endif

    /* Plain C-API macros under names of our own (so that `cython -a` does not flag them). */
    #define WEIR_LIST_ITEMS(o) (((PyListObject*)(o))->ob_item)
    #define WEIR_TUPLE_ITEMS(o) (((PyTupleObject*)(o))->ob_item)
    #define WEIR_IS_LIST(o) PyList_CheckExact(o)
    #define WEIR_IS_TUPLE(o) PyTuple_CheckExact(o)
    #define WEIR_VAR_SIZE(o) Py_SIZE(o)
    #define WEIR_IS_INT(o) PyLong_CheckExact(o)
    #define WEIR_IS_FLOAT(o) PyFloat_CheckExact(o)
    #define WEIR_FLOAT_VALUE(o) PyFloat_AS_DOUBLE(o)

    /* *slot = new reference o (o may be NULL: an error is set), releasing the previous value. */
    static CYTHON_INLINE int weir_put_new(PyObject** slot, PyObject* o) {
        PyObject* old;
        if (o == NULL) return -1;
        old = *slot;
        *slot = o;
        Py_XDECREF(old);
        return 0;
    }

    /* *slot = o (a new reference is taken), releasing the previous value. */
    static CYTHON_INLINE void weir_put_obj(PyObject** slot, PyObject* o) {
        PyObject* old = *slot;
        Py_INCREF(o);
        *slot = o;
        Py_XDECREF(old);
    }

    #if WEIR_INTS311
    /* Reuse old for the int of sign neg and magnitude a < 2**60 (nd digits) if it is
       a private exact int with room for it. Branch-free in the sign and the size. */
    static CYTHON_INLINE int weir_reuse_int(PyObject* old, int neg, unsigned long long a, Py_ssize_t nd) {
        Py_ssize_t have;
        digit* d;
        if (old == NULL || Py_REFCNT(old) != 1 || !Py_IS_TYPE(old, &PyLong_Type)) return 0;
        have = Py_SIZE(old);
        have = have < 0 ? -have : have;
        if (nd > have) return 0;
        d = ((PyLongObject*)old)->ob_digit;
        d[have >= 2 ? 1 : 0] = (digit)((a >> PyLong_SHIFT) & PyLong_MASK);
        d[0] = (digit)(a & PyLong_MASK);
        Py_SET_SIZE(old, neg ? -nd : nd);
        return 1;
    }
    #endif

    /* *slot = int(v) for an int32 (or narrower) v. */
    static CYTHON_INLINE int weir_set_i32(PyObject** slot, int32_t v) {
    #if WEIR_INTS311
        if (v < -5 || v > 256) {
            unsigned long long a = v < 0 ? 0ULL - (unsigned long long)(long long)v : (unsigned long long)v;
            if (weir_reuse_int(*slot, v < 0, a, 1 + (Py_ssize_t)(a >> PyLong_SHIFT != 0))) return 0;
        }
    #endif
        return weir_put_new(slot, PyLong_FromLong((long)v));
    }

    /* *slot = int(v). */
    static CYTHON_INLINE int weir_set_i64(PyObject** slot, int64_t v) {
    #if WEIR_INTS311
        if (v < -5 || v > 256) {
            unsigned long long a = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
            if ((a >> (2 * PyLong_SHIFT)) == 0
                    && weir_reuse_int(*slot, v < 0, a, 1 + (Py_ssize_t)(a >> PyLong_SHIFT != 0))) return 0;
        }
    #endif
        return weir_put_new(slot, PyLong_FromLongLong((long long)v));
    }

    /* *slot = float(v). */
    static CYTHON_INLINE int weir_set_f64(PyObject** slot, double v) {
    #if WEIR_INTS311
        PyObject* old = *slot;
        if (old != NULL && Py_REFCNT(old) == 1 && Py_IS_TYPE(old, &PyFloat_Type)) {
            ((PyFloatObject*)old)->ob_fval = v;
            return 0;
        }
    #endif
        return weir_put_new(slot, PyFloat_FromDouble(v));
    }

    /* The value of the exact int v in *out: 1, or 0 if it does not fit a long long. Never fails. */
    static CYTHON_INLINE int weir_get_ll(PyObject* v, long long* out) {
        int ovf = 0;
        long long x;
    #if WEIR_INTS311
        /* At most two digits: branch-free in the sign and the size (random data would mispredict). */
        long long s = (long long)Py_SIZE(v);
        unsigned long long neg = (unsigned long long)(s >> 63);   /* 0 or all ones */
        unsigned long long as = ((unsigned long long)s ^ neg) - neg;
        if (as <= 2) {
            const digit* d = ((PyLongObject*)v)->ob_digit;   /* at least one digit is allocated */
            unsigned long long lo = (unsigned long long)d[0] & (0ULL - (unsigned long long)(as != 0));
            unsigned long long hi = (unsigned long long)d[as >> 1] & (0ULL - (as >> 1));
            unsigned long long mag = lo | (hi << PyLong_SHIFT);
            *out = (long long)((mag ^ neg) - neg);
            return 1;
        }
    #endif
        x = PyLong_AsLongLongAndOverflow(v, &ovf);
        if (ovf != 0 || (x == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return 0;
        }
        *out = x;
        return 1;
    }

    /* Whether (p[k] & mask[k]) == pat[k] for k < len (no early exit: len is a few bytes). */
    static CYTHON_INLINE int weir_prefix_ok(const unsigned char* p, const unsigned char* pat,
                                            const unsigned char* mask, Py_ssize_t len) {
        unsigned int acc = 0;
        Py_ssize_t k;
        switch (len) {
        case 2:
            return (((p[0] & mask[0]) ^ pat[0]) | ((p[1] & mask[1]) ^ pat[1])) == 0;
        case 3:
            return (((p[0] & mask[0]) ^ pat[0]) | ((p[1] & mask[1]) ^ pat[1]) | ((p[2] & mask[2]) ^ pat[2])) == 0;
        }
        for (k = 0; k < len; k++) acc |= (p[k] & mask[k]) ^ pat[k];
        return acc == 0;
    }

    /* memcpy(p, pat, len) for a len of a few bytes. */
    static CYTHON_INLINE void weir_copy_prefix(unsigned char* p, const unsigned char* pat, Py_ssize_t len) {
        switch (len) {
        case 2: p[0] = pat[0]; p[1] = pat[1]; return;
        case 3: p[0] = pat[0]; p[1] = pat[1]; p[2] = pat[2]; return;
        }
        memcpy(p, pat, (size_t)len);
    }
    """
    int _set_i32 "weir_set_i32"(PyObject** slot, int32_t v) except -1
    int _set_i64 "weir_set_i64"(PyObject** slot, int64_t v) except -1
    int _set_f64 "weir_set_f64"(PyObject** slot, double v) except -1
    void _put_obj "weir_put_obj"(PyObject** slot, PyObject* o) noexcept
    bint _get_ll "weir_get_ll"(PyObject* v, long long* out) noexcept
    PyObject** _list_items "WEIR_LIST_ITEMS"(object o) noexcept
    PyObject** _tuple_items "WEIR_TUPLE_ITEMS"(object o) noexcept
    bint _is_list "WEIR_IS_LIST"(object o) noexcept
    bint _is_tuple "WEIR_IS_TUPLE"(object o) noexcept
    Py_ssize_t _var_size "WEIR_VAR_SIZE"(object o) noexcept
    bint _long_exact "WEIR_IS_INT"(PyObject* o) noexcept
    bint _float_exact "WEIR_IS_FLOAT"(PyObject* o) noexcept
    double _float_val "WEIR_FLOAT_VALUE"(PyObject* o) noexcept
    PyObject* _Py_True "Py_True"
    PyObject* _Py_False "Py_False"
    bint _prefix_ok "weir_prefix_ok"(const unsigned char* p, const unsigned char* pat, const unsigned char* mask,
                                     Py_ssize_t n) noexcept
    void _copy_prefix "weir_copy_prefix"(unsigned char* p, const unsigned char* pat, Py_ssize_t n) noexcept


cdef extern from "Python.h":
    # Declared here (not via cpython.*) to handle their errors on the cold path ourselves.
    PyObject* _decode_utf8 "PyUnicode_DecodeUTF8"(const char* s, Py_ssize_t size, const char* errors)
    PyObject* _decode_ascii "PyUnicode_DecodeASCII"(const char* s, Py_ssize_t size, const char* errors)
    const char* _as_utf8 "PyUnicode_AsUTF8AndSize"(object o, Py_ssize_t* size)
    long long _as_longlong "PyLong_AsLongLongAndOverflow"(object o, int* overflow)
    void PyErr_Clear()
    bint PyLong_CheckExact(object o)
    bint PyFloat_CheckExact(object o)
    bint PyUnicode_Check(object o)
    bint PyTuple_CheckExact(object o)
    bint PyTuple_Check(object o)
    bint PyList_CheckExact(object o)
    bint PyList_Check(object o)
    bint PyDict_CheckExact(object o)
    double PyFloat_AS_DOUBLE(object o)
    double PyFloat_AsDouble(object o) except? -1.0
    object PyNumber_Index(object o)


cdef enum:
    K_TINYINT = 1
    K_SMALLINT
    K_INT
    K_BIGINT
    K_BOOLEAN
    K_FLOAT
    K_DOUBLE
    K_STRING
    K_BINARY
    K_DECIMAL
    K_DATE
    K_TIME
    K_TS_MILLI      # TIMESTAMP(p <= 3)
    K_TS_NANO       # TIMESTAMP(p > 3)
    K_LTZ_MILLI
    K_LTZ_NANO
    K_ARRAY
    K_MAP
    K_ROW

cdef enum:
    MS_PER_DAY = 86400000

cdef int64_t MIN_DAYS = S.MIN_DAYS
cdef int64_t MAX_DAYS = S.MAX_DAYS
cdef int64_t MIN_MS = S.MIN_MS
cdef int64_t MAX_MS = S.MAX_MS

cdef object _UTC = _dt.timezone.utc
cdef object _Decimal = S._Decimal
cdef object _dec_quantize = S.DECIMAL_CONTEXT.quantize
cdef object _decimal_decode = S.decimal_decode
cdef object _decimal_encode = S.decimal_encode
cdef object _DEC_INVALID = S.DEC_INVALID
cdef object _DEC_NOFIT = S.DEC_NOFIT
cdef object _coerce_int = S.coerce_int
cdef object _coerce_float = S.coerce_float
cdef object _bool_of = S.bool_of
cdef object _array_values = S.array_values
cdef object _numpy_date_days = S.numpy_date_days
cdef object _numpy_timestamp_nanos = S.numpy_timestamp_nanos
cdef object _numpy_scalar_kind = S.numpy_scalar_kind
# numpy scalar types seen to be integers (floating numbers): their values
# convert by __index__ (__float__) at once, as the general coercion, which
# sees each type first, would convert them.
cdef set _INDEX_TYPES = set()
cdef set _FLOAT_TYPES = set()
cdef object _bytes_of = S.bytes_of
cdef object _row_values = S.row_values
cdef object _nested_row_values = S.nested_row_values
cdef object _Mapping = S._Mapping
cdef tuple _KIND_OBJS = tuple(_KINDS)
cdef object _RowKind_INSERT = _KINDS[0]
cdef object _RowKind_UB = _KINDS[1]
cdef object _RowKind_UA = _KINDS[2]
cdef object _RowKind_DELETE = _KINDS[3]


# ---------------------------------------------------------------------------
# big-endian access and calendar arithmetic

cdef inline uint16_t _be16(const unsigned char* p) noexcept nogil:
    return (<uint16_t>p[0] << 8) | p[1]

cdef inline uint32_t _be32(const unsigned char* p) noexcept nogil:
    return (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | p[3]

cdef inline uint64_t _be64(const unsigned char* p) noexcept nogil:
    return (<uint64_t>_be32(p) << 32) | _be32(p + 4)

cdef inline double _bef64(const unsigned char* p) noexcept nogil:
    cdef uint64_t u = _be64(p)
    cdef double d
    memcpy(&d, &u, 8)
    return d

cdef inline float _bef32(const unsigned char* p) noexcept nogil:
    cdef uint32_t u = _be32(p)
    cdef float f
    memcpy(&f, &u, 4)
    return f

cdef inline void _st32(unsigned char* p, uint32_t v) noexcept nogil:
    p[0] = <unsigned char>(v >> 24)
    p[1] = <unsigned char>(v >> 16)
    p[2] = <unsigned char>(v >> 8)
    p[3] = <unsigned char>v

cdef inline void _st64(unsigned char* p, uint64_t v) noexcept nogil:
    _st32(p, <uint32_t>(v >> 32))
    _st32(p + 4, <uint32_t>v)


cdef inline void _civil_from_days(int64_t z, int* y, int* m, int* d) noexcept nogil:
    # Gregorian date of a day number (days since 1970-01-01); the era arithmetic
    # keeps every division on non-negative numbers.
    cdef int64_t era, doe, yoe, doy, mp
    z += 719468
    era = (z if z >= 0 else z - 146096) / 146097
    doe = z - era * 146097
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    mp = (5 * doy + 2) / 153
    d[0] = <int>(doy - (153 * mp + 2) / 5 + 1)
    m[0] = <int>(mp + 3 if mp < 10 else mp - 9)
    y[0] = <int>(yoe + era * 400 + (1 if m[0] <= 2 else 0))


cdef inline int64_t _days_from_civil(int y, int m, int d) noexcept nogil:
    # Day number of a date with year >= 1 (so every division is on non-negative numbers).
    cdef int64_t yy = y - (1 if m <= 2 else 0)
    cdef int64_t era = yy / 400
    cdef int64_t yoe = yy - era * 400
    cdef int64_t doy = (153 * (m - 3 if m > 2 else m + 9) + 2) / 5 + d - 1
    cdef int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468


# ---------------------------------------------------------------------------
# type nodes

cdef class _Node:
    pass


cdef _Node _compile(object t, bint key_mode):
    cdef _Node nd = _Node.__new__(_Node)
    nd.dtype = t
    nd.tstr = str(t)
    nd.nullable = t.nullable
    nd.key_mode = key_mode
    if type(t) in S.INT_RANGES:
        nd.code = {TinyIntType: K_TINYINT, SmallIntType: K_SMALLINT, IntType: K_INT, BigIntType: K_BIGINT}[type(t)]
        lo, hi = S.INT_RANGES[type(t)]
        nd.lo = lo
        nd.hi = hi
        nd.why = f"range {lo}..{hi}"
    elif isinstance(t, BooleanType):
        nd.code = K_BOOLEAN
    elif isinstance(t, FloatType):
        nd.code = K_FLOAT
    elif isinstance(t, DoubleType):
        nd.code = K_DOUBLE
    elif isinstance(t, (CharType, VarCharType)):
        nd.code = K_STRING
    elif isinstance(t, (BinaryType, VarBinaryType)):
        nd.code = K_BINARY
    elif isinstance(t, DecimalType):
        nd.code = K_DECIMAL
        nd.precision = t.precision
        nd.scale = t.scale
        nd.quantum = S.decimal_quantum(t.scale)
    elif isinstance(t, DateType):
        nd.code = K_DATE
    elif isinstance(t, TimeType):
        nd.code = K_TIME
        nd.precision = t.precision
    elif isinstance(t, TimestampType):
        nd.code = K_TS_MILLI if t.precision <= 3 else K_TS_NANO
        nd.precision = t.precision
    elif isinstance(t, LocalZonedTimestampType):
        nd.code = K_LTZ_MILLI if t.precision <= 3 else K_LTZ_NANO
        nd.precision = t.precision
    elif isinstance(t, ArrayType):
        nd.code = K_ARRAY
        nd.elem = _compile(t.element_type, key_mode)
    elif isinstance(t, MapType):
        nd.code = K_MAP
        nd.key = _compile(t.key_type, True)
        nd.value = _compile(t.value_type, key_mode)
        nd.unhashable_key = S.contains_map(t.key_type)
    elif isinstance(t, RowType):
        nd.code = K_ROW
        nd.fields = [_compile(f.data_type, key_mode) for f in t.fields]
        nd.names = tuple(t.field_names())
        nd.segs = [f".{n}" for n in nd.names]
        nd.nfields = len(nd.fields)
        nd.hdr = S.header_size(nd.nfields)
    else:
        raise TypeError(f"the row coder does not support {nd.tstr}")
    return nd


cdef int* _codes_of(list nodes) except NULL:
    cdef Py_ssize_t i, n = len(nodes)
    cdef int* codes = <int*>malloc(sizeof(int) * (n if n > 0 else 1))
    if codes == NULL:
        raise MemoryError()
    for i in range(n):
        codes[i] = (<_Node>nodes[i]).code
    return codes


cdef inline Py_ssize_t _fixed_width(int code) noexcept nogil:
    # Bytes of a fixed-width primitive type, else 0.
    if code == K_INT or code == K_FLOAT:
        return 4
    if code == K_BIGINT or code == K_DOUBLE:
        return 8
    if code == K_SMALLINT:
        return 2
    if code == K_TINYINT or code == K_BOOLEAN:
        return 1
    return 0


cdef Py_ssize_t _fixed_layout(const int* codes, Py_ssize_t n, Py_ssize_t hdr, unsigned char* pat,
                              unsigned char* mask, Py_ssize_t* plen, int* code) noexcept:
    # If every field is fixed-width and the length varint and header of a row
    # take at most 16 bytes: the bytes of a row without nulls, length varint
    # included; their first plen[0] bytes are pat[:plen] where mask[:plen] is
    # set (the length varint, and a header with no null bit set; the RowKind
    # bits are left out of the mask and zero in pat); code[0]: the code of
    # every field if they are all the same, else 0. Else 0.
    cdef Py_ssize_t i, w, bit, rowlen = hdr, k = 0
    cdef uint64_t u
    code[0] = codes[0] if n > 0 else 0
    for i in range(n):
        w = _fixed_width(codes[i])
        if w == 0:
            return 0
        if codes[i] != code[0]:
            code[0] = 0
        rowlen += w
    u = <uint64_t>rowlen
    while u >= 0x80:
        if k >= 16:
            return 0
        pat[k] = <unsigned char>((u & 0x7F) | 0x80)
        mask[k] = 0xFF
        u >>= 7
        k += 1
    if k + 1 + hdr > 16:
        return 0
    pat[k] = <unsigned char>u
    mask[k] = 0xFF
    k += 1
    memset(pat + k, 0, hdr)
    memset(mask + k, 0, hdr)
    for i in range(n):
        bit = i + 2
        mask[k + (bit >> 3)] |= <unsigned char>(0x80 >> (bit & 7))
    plen[0] = k + hdr
    return k + rowlen


# ---------------------------------------------------------------------------
# decoding: error paths (cold)

cdef int _fail_row(RowDecoder d, str detail) except -1:
    raise DecodeError(f"row {d.row_index}: {detail}")


cdef int _fail(RowDecoder d, str detail) except -1:
    cdef _Node top = <_Node>d.nodes[d.cur_field]
    raise DecodeError(f"row {d.row_index}, field {d.cur_field} ({top.tstr}): {detail}")


cdef int _fail_trunc(RowDecoder d, _Node nd, Py_ssize_t need, Py_ssize_t pos) except -1:
    return _fail(d, E.dec_truncated(nd.tstr, need, pos, d.rend - pos))


cdef int _fail_utf8(RowDecoder d, _Node nd, Py_ssize_t pos) except -1:
    PyErr_Clear()
    return _fail(d, E.dec_utf8(nd.tstr, pos))


# ---------------------------------------------------------------------------
# decoding: readers

cdef inline const unsigned char* _take(RowDecoder d, Py_ssize_t k, _Node nd) except NULL:
    # k bytes at d.pos (advancing past them), or a "truncated" error.
    cdef Py_ssize_t pos = d.pos
    if d.rend - pos < k:
        _fail_trunc(d, nd, k, pos)
        return NULL
    d.pos = pos + k
    return d.buf + pos


cdef inline Py_ssize_t _read_len(RowDecoder d, _Node nd) except -1:
    # The int32 length of a string-like value; d.pos is left at its first byte.
    cdef const unsigned char* p = _take(d, 4, nd)
    cdef int32_t n = <int32_t>_be32(p)
    if n < 0:
        return _fail(d, E.dec_negative(n, nd.tstr, d.pos - 4))
    if d.rend - d.pos < n:
        return _fail_trunc(d, nd, n, d.pos)
    return n


cdef object _make_datetime(int64_t ms, int32_t ns, object tz):
    cdef int64_t days = ms / MS_PER_DAY
    cdef int64_t rem = ms % MS_PER_DAY
    cdef int y, m, dd, secs
    if rem < 0:
        rem += MS_PER_DAY
        days -= 1
    _civil_from_days(days, &y, &m, &dd)
    secs = <int>(rem / 1000)
    return datetime_new(y, m, dd, secs / 3600, (secs / 60) % 60, secs % 60,
                        <int>(rem % 1000) * 1000 + ns / 1000, tz)


cdef object _read_decimal(RowDecoder d, _Node nd):
    cdef Py_ssize_t n = _read_len(d, nd)
    cdef Py_ssize_t pos = d.pos
    cdef const unsigned char* s = d.buf + pos
    cdef Py_ssize_t i = 0, j, intstart, sig = 0
    cdef bint neg = False, nonzero = False, ok
    cdef PyObject* text
    # Fast path: canonical text ("-"? digits ("." scale digits)?) that fits.
    if n > 0 and s[0] == 45:  # '-'
        neg = True
        i = 1
    j = i
    while j < n and 48 <= s[j] <= 57:
        if s[j] != 48:
            nonzero = True
        if nonzero:
            sig += 1
        j += 1
    ok = j > i and sig <= nd.precision - nd.scale
    if ok and nd.scale > 0:
        ok = j < n and s[j] == 46 and n - j - 1 == nd.scale  # '.'
        if ok:
            j += 1
            while j < n:
                if not 48 <= s[j] <= 57:
                    ok = False
                    break
                if s[j] != 48:
                    nonzero = True
                j += 1
    elif ok:
        ok = j == n
    if ok and (nonzero or not neg):
        text = _decode_ascii(<const char*>s, n, NULL)
        if text == NULL:
            raise MemoryError()
        t = <object>text
        Py_DECREF(t)
        d.pos = pos + n
        return _Decimal(t)
    raw = PyBytes_FromStringAndSize(<const char*>s, n)
    r = _decimal_decode(raw, nd.precision, nd.scale, nd.quantum)
    if r is _DEC_INVALID:
        _fail(d, E.dec_decimal_text(raw, nd.tstr, pos))
    if r is _DEC_NOFIT:
        _fail(d, E.dec_decimal_fit(raw, nd.tstr, pos))
    d.pos = pos + n
    return r


cdef object _read_timestamp(RowDecoder d, _Node nd, bint nano, object tz):
    cdef Py_ssize_t pos = d.pos
    cdef const unsigned char* p = _take(d, 8, nd)
    cdef int64_t ms = <int64_t>_be64(p)
    cdef int32_t ns = 0
    if nano:
        p = _take(d, 4, nd)
        ns = <int32_t>_be32(p)
        if ns < 0 or ns > 999999:
            _fail(d, E.dec_nanos(ns, nd.tstr, pos + 8))
    if ms < MIN_MS or ms > MAX_MS:
        _fail(d, E.dec_timestamp(ms, nd.tstr, pos))
    return _make_datetime(ms, ns, tz)


cdef object _read_array(RowDecoder d, _Node nd):
    cdef const unsigned char* p = _take(d, 4, nd)
    cdef int32_t n = <int32_t>_be32(p)
    cdef Py_ssize_t i
    cdef unsigned char flag
    cdef list out
    cdef _Node elem = nd.elem
    if n < 0:
        _fail(d, E.dec_negative(n, nd.tstr, d.pos - 4))
    if n > d.rend - d.pos:
        _fail(d, E.dec_count(n, nd.tstr, d.pos - 4, d.rend - d.pos))
    out = [None] * n
    for i in range(n):
        p = _take(d, 1, nd)
        flag = p[0]
        if flag == 1:
            out[i] = _read_value(d, elem)
        elif flag != 0:
            _fail(d, E.dec_flag(flag, nd.tstr, d.pos - 1))
    if nd.key_mode:
        return tuple(out)
    return out


cdef object _read_map(RowDecoder d, _Node nd):
    cdef const unsigned char* p = _take(d, 4, nd)
    cdef int32_t n = <int32_t>_be32(p)
    cdef Py_ssize_t i
    cdef unsigned char flag
    cdef dict out = {}
    if n < 0:
        _fail(d, E.dec_negative(n, nd.tstr, d.pos - 4))
    if n > (d.rend - d.pos) / 2:
        _fail(d, E.dec_count(n, nd.tstr, d.pos - 4, d.rend - d.pos))
    if n > 0 and nd.unhashable_key:
        _fail(d, E.dec_map_key(nd.tstr, d.pos))
    for i in range(n):
        k = _read_value(d, nd.key)
        p = _take(d, 1, nd)
        flag = p[0]
        if flag == 0:
            out[k] = _read_value(d, nd.value)
        elif flag == 1:
            out[k] = None
        else:
            _fail(d, E.dec_flag(flag, nd.tstr, d.pos - 1))
    return out


cdef object _read_row(RowDecoder d, _Node nd):
    cdef const unsigned char* h = _take(d, nd.hdr, nd)
    cdef Py_ssize_t i, bit, n = nd.nfields
    cdef list vals = [None] * n
    for i in range(n):
        bit = i + 2
        if not (h[bit >> 3] & (0x80 >> (bit & 7))):
            vals[i] = _read_value(d, <_Node>nd.fields[i])
    return _make_row(vals, nd.names, _KIND_OBJS[(h[0] >> 7) | ((h[0] >> 5) & 2)])


cdef object _read_value(RowDecoder d, _Node nd):
    # A non-null value of type nd at d.pos.
    cdef const unsigned char* p
    cdef Py_ssize_t n, pos
    cdef PyObject* o
    cdef int32_t v32
    cdef int code = nd.code
    cdef int y, m, dd, secs
    if code == K_TINYINT:
        p = _take(d, 1, nd)
        return <int8_t>p[0]
    elif code == K_SMALLINT:
        p = _take(d, 2, nd)
        return <int16_t>_be16(p)
    elif code == K_INT:
        p = _take(d, 4, nd)
        return <int32_t>_be32(p)
    elif code == K_BIGINT:
        p = _take(d, 8, nd)
        return <int64_t>_be64(p)
    elif code == K_BOOLEAN:
        p = _take(d, 1, nd)
        if p[0] > 1:
            _fail(d, E.dec_bool(p[0], d.pos - 1))
        return p[0] == 1
    elif code == K_FLOAT:
        p = _take(d, 4, nd)
        return <double>_bef32(p)
    elif code == K_DOUBLE:
        p = _take(d, 8, nd)
        return _bef64(p)
    elif code == K_STRING:
        n = _read_len(d, nd)
        pos = d.pos
        o = _decode_utf8(<const char*>(d.buf + pos), n, NULL)
        if o == NULL:
            _fail_utf8(d, nd, pos)
        d.pos = pos + n
        r = <object>o
        Py_DECREF(r)
        return r
    elif code == K_BINARY:
        n = _read_len(d, nd)
        pos = d.pos
        d.pos = pos + n
        return PyBytes_FromStringAndSize(<const char*>(d.buf + pos), n)
    elif code == K_DECIMAL:
        return _read_decimal(d, nd)
    elif code == K_DATE:
        p = _take(d, 4, nd)
        v32 = <int32_t>_be32(p)
        if v32 < MIN_DAYS or v32 > MAX_DAYS:
            _fail(d, E.dec_date(v32, nd.tstr, d.pos - 4))
        _civil_from_days(v32, &y, &m, &dd)
        return date_new(y, m, dd)
    elif code == K_TIME:
        p = _take(d, 4, nd)
        v32 = <int32_t>_be32(p)
        if v32 < 0 or v32 >= MS_PER_DAY:
            _fail(d, E.dec_time(v32, nd.tstr, d.pos - 4))
        secs = v32 / 1000
        return time_new(secs / 3600, (secs / 60) % 60, secs % 60, (v32 % 1000) * 1000, None)
    elif code == K_TS_MILLI:
        return _read_timestamp(d, nd, False, None)
    elif code == K_TS_NANO:
        return _read_timestamp(d, nd, True, None)
    elif code == K_LTZ_MILLI:
        return _read_timestamp(d, nd, False, _UTC)
    elif code == K_LTZ_NANO:
        return _read_timestamp(d, nd, True, _UTC)
    elif code == K_ARRAY:
        return _read_array(d, nd)
    elif code == K_MAP:
        return _read_map(d, nd)
    elif code == K_ROW:
        return _read_row(d, nd)
    raise AssertionError(f"bad type code {code}")


cdef inline Py_ssize_t _read_row_length(RowDecoder d) except -1:
    # The varint length of the element at d.pos; moves d.pos past the varint.
    cdef Py_ssize_t pos = d.pos, start = d.pos
    cdef uint64_t result = 0
    cdef int shift = 0
    cdef unsigned char b
    while True:
        if pos >= d.end:
            return _fail_row(d, E.dec_varint(start))
        if shift >= 63:
            return _fail_row(d, E.dec_varint_long(start))
        b = d.buf[pos]
        pos += 1
        result |= (<uint64_t>(b & 0x7F)) << shift
        if b < 0x80:
            break
        shift += 7
    if result > <uint64_t>(d.end - pos):
        return _fail_row(d, E.dec_row_length(result, start, d.end - pos))
    d.pos = pos
    return <Py_ssize_t>result


cdef inline int _next_fixed(RowDecoder d, PyObject** items) except -1:
    # The fast path of next_into for a schema of fixed-width primitives: reads
    # the row at d.pos into items and returns 1 if it is the plain case (the
    # length varint is the canonical one of fixed_len, no null field, every
    # BOOLEAN byte 0 or 1), which needs no further bounds checks. Else returns
    # 0 having moved nothing but (possibly) some of the items, for the general
    # path to read the row again and raise its error, if any.
    cdef Py_ssize_t pos = d.pos, i, n = d.n
    cdef const unsigned char* p = d.buf + pos
    cdef const unsigned char* h
    cdef const int* codes
    cdef int code
    cdef unsigned char c
    if d.end - pos < d.fixed_len or not _prefix_ok(p, d.fixed_pat, d.fixed_mask, d.fixed_plen):
        return 0
    h = p + d.fixed_plen - d.hdr
    p += d.fixed_plen
    if d.fixed_code == K_INT:
        for i in range(n):
            _set_i32(items + i, <int32_t>_be32(p))
            p += 4
    else:
        codes = d.codes
        for i in range(n):
            code = codes[i]
            if code == K_INT:
                _set_i32(items + i, <int32_t>_be32(p))
                p += 4
            elif code == K_BIGINT:
                _set_i64(items + i, <int64_t>_be64(p))
                p += 8
            elif code == K_DOUBLE:
                _set_f64(items + i, _bef64(p))
                p += 8
            elif code == K_FLOAT:
                _set_f64(items + i, <double>_bef32(p))
                p += 4
            elif code == K_SMALLINT:
                _set_i32(items + i, <int16_t>_be16(p))
                p += 2
            elif code == K_TINYINT:
                _set_i32(items + i, <int8_t>p[0])
                p += 1
            else:  # K_BOOLEAN
                c = p[0]
                if c > 1:
                    return 0
                _put_obj(items + i, _Py_True if c else _Py_False)
                p += 1
    d.row_kind = (h[0] >> 7) | ((h[0] >> 5) & 2)
    d.pos = pos + d.fixed_len
    d.row_index += 1
    return 1


cdef int _next_general(RowDecoder self, list out) except -1:
    # next_into for any row (the fast path declined it).
    cdef Py_ssize_t i, n = self.n, rowlen, pos, rend, ln, bit
    cdef const unsigned char* b
    cdef const unsigned char* h
    cdef int code
    cdef unsigned char flag
    cdef PyObject* o
    if self.buf[self.pos] < 0x80 and self.buf[self.pos] < self.end - self.pos:  # a one-byte length that fits
        rowlen = self.buf[self.pos]
        self.pos += 1
    else:
        rowlen = _read_row_length(self)
    pos = self.pos
    rend = pos + rowlen
    self.rend = rend
    if rowlen < self.hdr:
        _fail_row(self, E.dec_header(self.hdr, rowlen, pos))
    b = self.buf
    h = b + pos
    self.row_kind = (h[0] >> 7) | ((h[0] >> 5) & 2)
    pos += self.hdr
    for i in range(n):
        bit = i + 2
        if h[bit >> 3] & (0x80 >> (bit & 7)):
            _list_set(out, i, None)
            continue
        code = self.codes[i]
        if code == K_INT:
            if rend - pos < 4:
                self.cur_field = i
                _fail_trunc(self, <_Node>self.nodes[i], 4, pos)
            _set_i32(_list_items(out) + i, <int32_t>_be32(b + pos))
            pos += 4
        elif code == K_BIGINT:
            if rend - pos < 8:
                self.cur_field = i
                _fail_trunc(self, <_Node>self.nodes[i], 8, pos)
            _set_i64(_list_items(out) + i, <int64_t>_be64(b + pos))
            pos += 8
        elif code == K_DOUBLE:
            if rend - pos < 8:
                self.cur_field = i
                _fail_trunc(self, <_Node>self.nodes[i], 8, pos)
            _set_f64(_list_items(out) + i, _bef64(b + pos))
            pos += 8
        elif code == K_STRING or code == K_BINARY:
            if rend - pos < 4:
                self.cur_field = i
                _fail_trunc(self, <_Node>self.nodes[i], 4, pos)
            ln = <int32_t>_be32(b + pos)
            pos += 4
            if ln < 0 or rend - pos < ln:
                self.cur_field = i
                if ln < 0:
                    _fail(self, E.dec_negative(ln, (<_Node>self.nodes[i]).tstr, pos - 4))
                _fail_trunc(self, <_Node>self.nodes[i], ln, pos)
            if code == K_STRING:
                o = _decode_utf8(<const char*>(b + pos), ln, NULL)
                if o == NULL:
                    self.cur_field = i
                    _fail_utf8(self, <_Node>self.nodes[i], pos)
                r = <object>o
                Py_DECREF(r)
                _list_set(out, i, r)
            else:
                _list_set(out, i, PyBytes_FromStringAndSize(<const char*>(b + pos), ln))
            pos += ln
        elif code == K_TINYINT:
            if rend - pos < 1:
                self.cur_field = i
                _fail_trunc(self, <_Node>self.nodes[i], 1, pos)
            _set_i32(_list_items(out) + i, <int8_t>b[pos])
            pos += 1
        elif code == K_SMALLINT:
            if rend - pos < 2:
                self.cur_field = i
                _fail_trunc(self, <_Node>self.nodes[i], 2, pos)
            _set_i32(_list_items(out) + i, <int16_t>_be16(b + pos))
            pos += 2
        elif code == K_FLOAT:
            if rend - pos < 4:
                self.cur_field = i
                _fail_trunc(self, <_Node>self.nodes[i], 4, pos)
            _set_f64(_list_items(out) + i, <double>_bef32(b + pos))
            pos += 4
        elif code == K_BOOLEAN:
            if rend - pos < 1:
                self.cur_field = i
                _fail_trunc(self, <_Node>self.nodes[i], 1, pos)
            flag = b[pos]
            if flag > 1:
                self.cur_field = i
                _fail(self, E.dec_bool(flag, pos))
            _list_set(out, i, flag == 1)
            pos += 1
        else:
            self.cur_field = i
            self.pos = pos
            _list_set(out, i, _read_value(self, <_Node>self.nodes[i]))
            pos = self.pos
    if pos != rend:
        _fail_row(self, E.dec_trailing(rend - pos, pos))
    self.pos = rend
    self.row_index += 1
    return 1


# Called through a pointer so that the C compiler does not inline the whole
# general path into next_into (its stack frame and spills cost every row).
cdef int (*_next_general_p)(RowDecoder, list) except -1
_next_general_p = _next_general


cdef class RowDecoder:
    """Decodes batches of rows of the given field types (see WIRE_FORMAT.md).

    ``decode(data)`` returns each row as a list of Python values; the RowKind
    of each row (0 INSERT, 1 UPDATE_BEFORE, 2 UPDATE_AFTER, 3 DELETE) is
    appended to ``kinds`` when a list is given. Malformed input raises
    DecodeError (a ValueError) naming the row and field. A decoder is not
    thread-safe; use one per thread.
    """

    def __cinit__(self):
        self.codes = NULL
        self.buf = NULL
        self.pos = 0
        self.end = 0
        self.fixed = False

    def __init__(self, field_types):
        self.fixed = False
        self.field_types = S.field_types_of(field_types)
        self.nodes = [_compile(t, False) for t in self.field_types]
        self.n = len(self.nodes)
        self.hdr = S.header_size(self.n)
        if self.codes != NULL:
            free(self.codes)
            self.codes = NULL
        self.codes = _codes_of(self.nodes)
        self.fixed_len = _fixed_layout(self.codes, self.n, self.hdr, self.fixed_pat, self.fixed_mask,
                                       &self.fixed_plen, &self.fixed_code)
        self.fixed = self.fixed_len > 0
        self.row_kind = 0

    def __dealloc__(self):
        if self.codes != NULL:
            free(self.codes)

    cdef int begin(self, object data) except -1:
        if not PyBytes_CheckExact(data):
            if isinstance(data, (bytes, bytearray, memoryview)):
                data = bytes(data)
            else:
                raise TypeError(f"expected bytes, got {type(data).__name__}")
        self.data = data
        self.buf = <const unsigned char*>PyBytes_AS_STRING(data)
        self.pos = 0
        self.end = PyBytes_GET_SIZE(data)
        self.rend = 0
        self.row_index = 0
        return 0

    cdef int next_table_marker(self) except -1:
        cdef Py_ssize_t start = self.pos
        cdef Py_ssize_t n
        if self.pos >= self.end:
            return 0
        n = _read_row_length(self)
        if n == 1 and self.buf[self.pos] == 0:
            self.pos += 1
            self.row_index += 1
            return 1
        self.pos = start
        return 0

    cdef int next_into(self, list out) except -1:
        if self.pos >= self.end:
            return 0
        if out is None or _var_size(out) != self.n:
            raise ValueError(f"next_into needs a list of {self.n} slots, got {out!r:.60}")
        if self.fixed and _next_fixed(self, _list_items(out)):
            return 1
        return _next_general_p(self, out)

    def decode(self, data, kinds=None):
        """Every length-prefixed row of the batch, each a list of Python values."""
        cdef list rows = []
        cdef list out
        cdef Py_ssize_t n = self.n
        self.begin(data)
        try:
            while True:
                out = [None] * n
                if not self.next_into(out):
                    break
                rows.append(out)
                if kinds is not None:
                    kinds.append(self.row_kind)
        finally:
            self._release()
        return rows

    def decode_table(self, data):
        """Each input row's result rows, from a table function's answer (rows, then an end marker, per input row)."""
        cdef list groups = []
        cdef list cur = []
        cdef list out
        cdef Py_ssize_t n = self.n
        self.begin(data)
        try:
            while True:
                if self.next_table_marker():
                    groups.append(cur)
                    cur = []
                    continue
                out = [None] * n
                if not self.next_into(out):
                    break
                cur.append(out)
            if cur:
                raise DecodeError(E.dec_no_marker(len(cur), self.end))
        finally:
            self._release()
        return groups

    def _release(self):
        self.data = None
        self.buf = NULL
        self.pos = 0
        self.end = 0
        self.rend = 0


# ---------------------------------------------------------------------------
# encoding: buffer

cdef int _grow(RowEncoder e, Py_ssize_t k) except -1:
    cdef Py_ssize_t want = e.size + k
    cdef Py_ssize_t cap = e.cap * 2
    cdef unsigned char* nb
    if cap < want:
        cap = want
    if cap < 256:
        cap = 256
    nb = <unsigned char*>realloc(e.buf, cap)
    if nb == NULL:
        raise MemoryError()
    e.buf = nb
    e.cap = cap
    return 0


cdef inline int _ensure(RowEncoder e, Py_ssize_t k) except -1:
    if e.size + k > e.cap:
        return _grow(e, k)
    return 0


cdef inline int _put8(RowEncoder e, unsigned char x) except -1:
    if e.size + 1 > e.cap:
        _grow(e, 1)
    e.buf[e.size] = x
    e.size += 1
    return 0


cdef inline int _put32(RowEncoder e, uint32_t x) except -1:
    if e.size + 4 > e.cap:
        _grow(e, 4)
    _st32(e.buf + e.size, x)
    e.size += 4
    return 0


cdef inline int _put64(RowEncoder e, uint64_t x) except -1:
    if e.size + 8 > e.cap:
        _grow(e, 8)
    _st64(e.buf + e.size, x)
    e.size += 8
    return 0


cdef inline int _put_bytes(RowEncoder e, const char* p, Py_ssize_t n) except -1:
    if e.size + 4 + n > e.cap:
        _grow(e, 4 + n)
    _st32(e.buf + e.size, <uint32_t>n)
    memcpy(e.buf + e.size + 4, p, n)
    e.size += 4 + n
    return 0


# ---------------------------------------------------------------------------
# encoding: values

cdef object _int_of(_Node nd, object v):
    # An int from a value that is not one: numpy integers of a known type
    # directly, the rest by the general coercion.
    if type(v) in _INDEX_TYPES:
        return PyNumber_Index(v)
    r = _coerce_int(v, nd.tstr, nd.who)
    if _numpy_scalar_kind(type(v)) == "int":
        _INDEX_TYPES.add(type(v))
    return r


cdef inline int _int_value(_Node nd, object v, long long* out) except -1:
    cdef int ovf = 0
    cdef long long x
    if not PyLong_CheckExact(v):
        v = _int_of(nd, v)
    x = _as_longlong(v, &ovf)
    if ovf != 0 or x < nd.lo or x > nd.hi:
        raise E.enc_range(v, nd.tstr, nd.why)
    out[0] = x
    return 0


cdef double _float_of(_Node nd, object v) except? -1.0:
    if type(v) in _FLOAT_TYPES:
        return PyFloat_AsDouble(v)
    r = _coerce_float(v, nd.tstr)
    if _numpy_scalar_kind(type(v)) == "float":
        _FLOAT_TYPES.add(type(v))
    return r


cdef inline double _float_value(_Node nd, object v) except? -1.0:
    if PyFloat_CheckExact(v):
        return PyFloat_AS_DOUBLE(v)
    return _float_of(nd, v)


cdef inline int _put_float32(RowEncoder e, _Node nd, double x) except -1:
    cdef float y = <float>x
    cdef uint32_t u
    if isinf(y) and not isinf(x):
        raise E.enc_range(x, nd.tstr, "out of range")
    memcpy(&u, &y, 4)
    return _put32(e, u)


cdef inline int _put_double(RowEncoder e, double x) except -1:
    cdef uint64_t u
    memcpy(&u, &x, 8)
    return _put64(e, u)


cdef inline int _put_str(RowEncoder e, _Node nd, object v) except -1:
    cdef const char* s
    cdef Py_ssize_t n
    if PyUnicode_Check(v):
        s = _as_utf8(v, &n)
        if s == NULL:
            PyErr_Clear()
            raise E.enc_utf8(v, nd.tstr)
        if n > 2147483647:
            raise E.enc_too_long(n, nd.tstr)
        return _put_bytes(e, s, n)
    raise E.enc_type("str", nd.tstr, v)


cdef inline int _put_binary(RowEncoder e, _Node nd, object v) except -1:
    if not PyBytes_CheckExact(v):
        v = _bytes_of(v, nd.tstr)
    if PyBytes_GET_SIZE(v) > 2147483647:
        raise E.enc_too_long(PyBytes_GET_SIZE(v), nd.tstr)
    return _put_bytes(e, PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v))


cdef int _put_decimal(RowEncoder e, _Node nd, object v) except -1:
    cdef bytes b
    cdef int room = nd.precision - nd.scale
    cdef object q
    cdef object text = None
    if type(v) is _Decimal and v.is_finite() and (v.is_zero() or v.adjusted() < room):
        q = _dec_quantize(v, nd.quantum)
        if not q.is_zero():
            adj = q.adjusted()
            if adj < room:
                text = str(q) if adj >= -6 else format(q, "f")
    if text is None:
        b = _decimal_encode(v, nd.precision, nd.scale, nd.quantum, nd.tstr)
    else:
        b = (<str>text).encode("ascii")
    return _put_bytes(e, PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))


cdef int _put_numpy_timestamp(RowEncoder e, _Node nd, object v, bint ltz, bint nano) except -1:
    # Not a datetime: a numpy.datetime64, or an EncodeError.
    ms, ns = divmod(_numpy_timestamp_nanos(v, nd.tstr, ltz), 1000000)
    _put64(e, <uint64_t><int64_t>ms)
    if nano:
        _put32(e, <uint32_t><int32_t>ns)
    return 0


cdef int _put_timestamp(RowEncoder e, _Node nd, object v, bint ltz, bint nano) except -1:
    cdef int64_t us, ms, days
    cdef object tz, off = None
    cdef bint aware
    if not PyDateTime_Check(v):
        return _put_numpy_timestamp(e, nd, v, ltz, nano)
    tz = datetime_tzinfo(v)
    if tz is None:
        aware = False
    elif tz is _UTC:
        aware = True
    else:
        off = v.utcoffset()
        aware = off is not None
    if ltz and not aware:
        raise E.enc_naive(v, nd.tstr)
    if not ltz and aware:
        raise E.enc_aware(v, nd.tstr)
    days = _days_from_civil(PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v), PyDateTime_GET_DAY(v))
    us = (days * 86400 + PyDateTime_DATE_GET_HOUR(v) * 3600 + PyDateTime_DATE_GET_MINUTE(v) * 60
          + PyDateTime_DATE_GET_SECOND(v)) * 1000000 + PyDateTime_DATE_GET_MICROSECOND(v)
    if off is not None:
        if not PyDelta_Check(off):
            raise TypeError(f"utcoffset() returned {type(off).__name__}, not timedelta")
        us -= ((<int64_t>PyDateTime_DELTA_GET_DAYS(off) * 86400 + PyDateTime_DELTA_GET_SECONDS(off)) * 1000000
               + PyDateTime_DELTA_GET_MICROSECONDS(off))
    ms = us / 1000
    if us % 1000 < 0:
        ms -= 1
    _put64(e, <uint64_t>ms)
    if nano:
        _put32(e, <uint32_t>((us - ms * 1000) * 1000))
    return 0


cdef int _put_time(RowEncoder e, _Node nd, object v) except -1:
    cdef object tz
    if not PyTime_Check(v):
        raise E.enc_type("datetime.time", nd.tstr, v)
    tz = time_tzinfo(v)
    if tz is not None and v.utcoffset() is not None:
        raise E.enc_aware_time(v, nd.tstr)
    return _put32(e, <uint32_t>(((PyDateTime_TIME_GET_HOUR(v) * 60 + PyDateTime_TIME_GET_MINUTE(v)) * 60
                                 + PyDateTime_TIME_GET_SECOND(v)) * 1000
                                + PyDateTime_TIME_GET_MICROSECOND(v) / 1000))


cdef int _put_date(RowEncoder e, _Node nd, object v) except -1:
    if not PyDate_Check(v) or PyDateTime_Check(v):
        if PyDateTime_Check(v):
            raise E.enc_type("datetime.date", nd.tstr, v)
        return _put32(e, <uint32_t><int32_t>_numpy_date_days(v, nd.tstr))
    return _put32(e, <uint32_t>_days_from_civil(PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v), PyDateTime_GET_DAY(v)))


cdef int _put_array(RowEncoder e, _Node nd, object v) except -1:
    cdef Py_ssize_t i = 0, n
    cdef bint is_list
    cdef _Node elem = nd.elem
    cdef object x
    if PyList_Check(v):
        is_list = True
    elif PyTuple_Check(v):
        is_list = False
    else:
        v = _array_values(v, nd.tstr)  # a numpy array, as a list
        is_list = True
    n = len(v)
    _put32(e, <uint32_t>n)
    try:
        for i in range(n):
            if is_list:
                if i >= PyList_GET_SIZE(v):
                    raise RuntimeError("list changed size during encoding")
                x = <object>PyList_GET_ITEM(v, i)
            else:
                x = <object>PyTuple_GET_ITEM(v, i)
            if x is None:
                if not elem.nullable:
                    raise E.enc_null(elem.tstr)
                _put8(e, 0)
            else:
                _put8(e, 1)
                _put_value(e, elem, x)
    except EncodeError as err:
        err.at(f"[{i}]")
        raise
    return 0


cdef int _put_map(RowEncoder e, _Node nd, object v) except -1:
    cdef Py_ssize_t j = 0
    cdef bint in_key = False
    cdef _Node key = nd.key, value = nd.value
    k = None
    if PyDict_CheckExact(v):
        items = (<dict>v).items()
    elif isinstance(v, _Mapping):
        items = v.items()
    else:
        raise E.enc_type("dict", nd.tstr, v)
    _put32(e, <uint32_t>len(v))
    try:
        for k, x in items:
            in_key = True
            if k is None:
                raise E.enc_null_key(nd.tstr)
            _put_value(e, key, k)
            in_key = False
            if x is None:
                if not value.nullable:
                    raise E.enc_null(value.tstr)
                _put8(e, 1)
            else:
                _put8(e, 0)
                _put_value(e, value, x)
            j += 1
    except EncodeError as err:
        err.at(E.key_segment(j) if in_key else E.value_segment(k))
        raise
    return 0


cdef int _put_row(RowEncoder e, _Node nd, object v) except -1:
    cdef Py_ssize_t i = 0, n = nd.nfields, start, bit
    cdef int kind = 0
    cdef bint is_list
    cdef _Node f
    cdef object x
    if (PyTuple_CheckExact(v) or PyList_CheckExact(v)) and len(v) == n:
        vals = v
    else:
        vals, kind = _nested_row_values(v, nd.names, nd.tstr)
    is_list = PyList_Check(vals)
    start = e.size
    _ensure(e, nd.hdr)
    memset(e.buf + start, 0, nd.hdr)
    e.buf[start] = <unsigned char>(((kind & 1) << 7) | ((kind & 2) << 5))
    e.size += nd.hdr
    try:
        for i in range(n):
            if is_list:
                if i >= PyList_GET_SIZE(vals):
                    raise RuntimeError("list changed size during encoding")
                x = <object>PyList_GET_ITEM(vals, i)
            else:
                x = <object>PyTuple_GET_ITEM(vals, i)
            f = <_Node>nd.fields[i]
            if x is None:
                if not f.nullable:
                    raise E.enc_null(f.tstr)
                bit = i + 2
                e.buf[start + (bit >> 3)] |= <unsigned char>(0x80 >> (bit & 7))
            else:
                _put_value(e, f, x)
    except EncodeError as err:
        err.at(nd.segs[i])
        raise
    return 0


cdef int _put_value(RowEncoder e, _Node nd, object v) except -1:
    # A non-None value of type nd; errors are EncodeErrors without the field.
    cdef long long x
    cdef int code = nd.code
    if code == K_INT:
        _int_value(nd, v, &x)
        return _put32(e, <uint32_t>x)
    elif code == K_BIGINT:
        _int_value(nd, v, &x)
        return _put64(e, <uint64_t>x)
    elif code == K_TINYINT:
        _int_value(nd, v, &x)
        return _put8(e, <unsigned char>x)
    elif code == K_SMALLINT:
        _int_value(nd, v, &x)
        _ensure(e, 2)
        e.buf[e.size] = <unsigned char>(x >> 8)
        e.buf[e.size + 1] = <unsigned char>x
        e.size += 2
        return 0
    elif code == K_DOUBLE:
        return _put_double(e, _float_value(nd, v))
    elif code == K_FLOAT:
        return _put_float32(e, nd, _float_value(nd, v))
    elif code == K_BOOLEAN:
        if v is True:
            return _put8(e, 1)
        elif v is False:
            return _put8(e, 0)
        return _put8(e, <unsigned char>_bool_of(v, nd.tstr))
    elif code == K_STRING:
        return _put_str(e, nd, v)
    elif code == K_BINARY:
        return _put_binary(e, nd, v)
    elif code == K_DECIMAL:
        return _put_decimal(e, nd, v)
    elif code == K_DATE:
        return _put_date(e, nd, v)
    elif code == K_TIME:
        return _put_time(e, nd, v)
    elif code == K_TS_MILLI:
        return _put_timestamp(e, nd, v, False, False)
    elif code == K_TS_NANO:
        return _put_timestamp(e, nd, v, False, True)
    elif code == K_LTZ_MILLI:
        return _put_timestamp(e, nd, v, True, False)
    elif code == K_LTZ_NANO:
        return _put_timestamp(e, nd, v, True, True)
    elif code == K_ARRAY:
        return _put_array(e, nd, v)
    elif code == K_MAP:
        return _put_map(e, nd, v)
    elif code == K_ROW:
        return _put_row(e, nd, v)
    raise AssertionError(f"bad type code {code}")


cdef inline int _row_kind_of(object row) except -1:
    k = row.__dict__["_row_kind"]
    if k is _RowKind_INSERT:
        return 0
    if k is _RowKind_UB:
        return 1
    if k is _RowKind_UA:
        return 2
    if k is _RowKind_DELETE:
        return 3
    return k.value


cdef inline int _write_fixed(RowEncoder e, PyObject** items) except -1:
    # The fast path of write_row for a schema of fixed-width primitives and a
    # list / tuple of its arity: appends the row and returns 1 if every value
    # is plain (an exact int in range, an exact float, True / False; no None).
    # Else returns 0 having committed nothing, for the general path.
    cdef Py_ssize_t i, n = e.n, start = e.committed
    cdef unsigned char* p
    cdef const int* codes = e.codes
    cdef PyObject* v
    cdef long long x
    cdef double f
    cdef float g
    cdef uint32_t u32
    cdef uint64_t u64
    cdef int code
    if start + e.fixed_len > e.cap:
        e.size = start
        _grow(e, e.fixed_len)
    p = e.buf + start
    _copy_prefix(p, e.fixed_pat, e.fixed_plen)
    p += e.fixed_plen
    if e.fixed_code == K_INT:
        for i in range(n):
            v = items[i]
            if not _long_exact(v) or not _get_ll(v, &x) or x < -2147483648 or x > 2147483647:
                return 0
            _st32(p, <uint32_t>x)
            p += 4
        e.size = e.committed = start + e.fixed_len
        return 1
    for i in range(n):
        v = items[i]
        code = codes[i]
        if code == K_INT:
            if not _long_exact(v) or not _get_ll(v, &x) or x < -2147483648 or x > 2147483647:
                return 0
            _st32(p, <uint32_t>x)
            p += 4
        elif code == K_BIGINT:
            if not _long_exact(v) or not _get_ll(v, &x):
                return 0
            _st64(p, <uint64_t>x)
            p += 8
        elif code == K_DOUBLE:
            if not _float_exact(v):
                return 0
            f = _float_val(v)
            memcpy(&u64, &f, 8)
            _st64(p, u64)
            p += 8
        elif code == K_FLOAT:
            if not _float_exact(v):
                return 0
            f = _float_val(v)
            g = <float>f
            if isinf(g) and not isinf(f):
                return 0
            memcpy(&u32, &g, 4)
            _st32(p, u32)
            p += 4
        elif code == K_SMALLINT:
            if not _long_exact(v) or not _get_ll(v, &x) or x < -32768 or x > 32767:
                return 0
            p[0] = <unsigned char>(x >> 8)
            p[1] = <unsigned char>x
            p += 2
        elif code == K_TINYINT:
            if not _long_exact(v) or not _get_ll(v, &x) or x < -128 or x > 127:
                return 0
            p[0] = <unsigned char>x
            p += 1
        else:  # K_BOOLEAN
            if v == _Py_True:
                p[0] = 1
            elif v == _Py_False:
                p[0] = 0
            else:
                return 0
            p += 1
    e.size = e.committed = start + e.fixed_len
    return 1


cdef int _write_general(RowEncoder self, object values) except -1:
    # write_row for any row (the fast path declined it).
    cdef Py_ssize_t n = self.n, i = 0, start, hstart, rowlen, k, bit
    cdef int kind = 0
    cdef int code
    cdef bint is_list
    cdef long long x
    cdef object v
    cdef uint64_t len64
    if PyTuple_CheckExact(values):
        is_list = False
    elif PyList_CheckExact(values):
        is_list = True
    else:
        if isinstance(values, Row):
            kind = _row_kind_of(values)
        else:
            values, kind = _row_values(values, n)
        is_list = PyList_Check(values)
    if len(values) != n:
        raise E.enc_row_arity(n, values)
    # Drop whatever a failed row left; reserve one byte for the length.
    self.size = self.committed
    start = self.size
    _ensure(self, 1 + self.hdr)
    hstart = start + 1
    memset(self.buf + hstart, 0, self.hdr)
    self.buf[hstart] = <unsigned char>(((kind & 1) << 7) | ((kind & 2) << 5))
    self.size = hstart + self.hdr
    try:
        for i in range(n):
            if is_list:
                if i >= PyList_GET_SIZE(values):
                    raise RuntimeError("list changed size during encoding")
                v = <object>PyList_GET_ITEM(values, i)
            else:
                v = <object>PyTuple_GET_ITEM(values, i)
            if v is None:
                if not self.nullables[i]:
                    raise E.enc_null((<_Node>self.nodes[i]).tstr)
                bit = i + 2
                self.buf[hstart + (bit >> 3)] |= <unsigned char>(0x80 >> (bit & 7))
                continue
            code = self.codes[i]
            if code == K_INT:
                if (not _long_exact(<PyObject*>v) or not _get_ll(<PyObject*>v, &x)
                        or x < -2147483648 or x > 2147483647):
                    _int_value(<_Node>self.nodes[i], v, &x)
                if self.size + 4 > self.cap:
                    _grow(self, 4)
                _st32(self.buf + self.size, <uint32_t>x)
                self.size += 4
            elif code == K_BIGINT:
                if not _long_exact(<PyObject*>v) or not _get_ll(<PyObject*>v, &x):
                    _int_value(<_Node>self.nodes[i], v, &x)
                if self.size + 8 > self.cap:
                    _grow(self, 8)
                _st64(self.buf + self.size, <uint64_t>x)
                self.size += 8
            elif code == K_DOUBLE:
                if PyFloat_CheckExact(v):
                    _put_double(self, PyFloat_AS_DOUBLE(v))
                else:
                    _put_double(self, _float_value(<_Node>self.nodes[i], v))
            elif code == K_STRING:
                _put_str(self, <_Node>self.nodes[i], v)
            elif code == K_BINARY:
                _put_binary(self, <_Node>self.nodes[i], v)
            else:
                _put_value(self, <_Node>self.nodes[i], v)
    except EncodeError as err:
        err.in_field(i)
        raise
    rowlen = self.size - hstart
    if rowlen < 0x80:
        self.buf[start] = <unsigned char>rowlen
    else:
        k = 1
        len64 = <uint64_t>rowlen >> 7
        while len64 != 0:
            k += 1
            len64 >>= 7
        _ensure(self, k - 1)
        memmove(self.buf + start + k, self.buf + hstart, rowlen)
        len64 = <uint64_t>rowlen
        i = start
        while len64 >= 0x80:
            self.buf[i] = <unsigned char>((len64 & 0x7F) | 0x80)
            len64 >>= 7
            i += 1
        self.buf[i] = <unsigned char>len64
        self.size = start + k + rowlen
    self.committed = self.size
    return 0


# Called through a pointer so that the C compiler does not inline the whole
# general path into write_row (its stack frame and spills cost every row).
cdef int (*_write_general_p)(RowEncoder, object) except -1
_write_general_p = _write_general


cdef int _label(_Node nd, str who) except -1:
    # who on nd and the nodes inside it.
    nd.who = who
    if nd.elem is not None:
        _label(nd.elem, who)
    if nd.key is not None:
        _label(nd.key, who)
    if nd.value is not None:
        _label(nd.value, who)
    if nd.fields is not None:
        for f in nd.fields:
            _label(<_Node>f, who)
    return 0


cdef class RowEncoder:
    """Encodes rows of the given field types into one batch (see WIRE_FORMAT.md).

    ``encode_row(values)`` appends a row (a tuple, list or Row; a Row's kind
    goes into the header); a value the type cannot hold raises EncodeError /
    EncodeTypeError (ValueError subclasses) naming the field, and leaves the
    rows appended before it intact. ``take()`` returns the batch and starts a
    new one. An encoder is not thread-safe; use one per thread.
    """

    def __cinit__(self):
        self.buf = NULL
        self.size = 0
        self.cap = 0
        self.committed = 0
        self.codes = NULL
        self.nullables = NULL

    def __init__(self, field_types):
        cdef Py_ssize_t i
        cdef unsigned char mask[16]
        self.fixed = False
        self.field_types = S.field_types_of(field_types)
        self.nodes = [_compile(t, False) for t in self.field_types]
        self.n = len(self.nodes)
        self.hdr = S.header_size(self.n)
        if self.codes != NULL:
            free(self.codes)
            self.codes = NULL
        if self.nullables != NULL:
            free(self.nullables)
            self.nullables = NULL
        self.codes = _codes_of(self.nodes)
        self.nullables = <unsigned char*>malloc(self.n if self.n > 0 else 1)
        if self.nullables == NULL:
            raise MemoryError()
        for i in range(self.n):
            self.nullables[i] = (<_Node>self.nodes[i]).nullable
        self.fixed_len = _fixed_layout(self.codes, self.n, self.hdr, self.fixed_pat, mask, &self.fixed_plen,
                                       &self.fixed_code)
        self.fixed = self.fixed_len > 0
        self.size = 0
        self.committed = 0

    def __dealloc__(self):
        if self.buf != NULL:
            free(self.buf)
        if self.codes != NULL:
            free(self.codes)
        if self.nullables != NULL:
            free(self.nullables)

    cdef int write_row(self, object values) except -1:
        cdef PyObject** items = NULL
        if self.fixed:
            if _is_list(values):
                items = _list_items(values)
            elif _is_tuple(values):
                items = _tuple_items(values)
            if items != NULL and _var_size(values) == self.n and _write_fixed(self, items):
                return 0
        return _write_general_p(self, values)

    cdef int write_end_marker(self) except -1:
        self.size = self.committed
        _ensure(self, 2)
        self.buf[self.size] = 1
        self.buf[self.size + 1] = 0
        self.size += 2
        self.committed = self.size
        return 0

    cpdef bytes take(self):
        """Everything appended so far, as bytes; starts a new batch."""
        cdef bytes b = PyBytes_FromStringAndSize(<char*>self.buf, self.committed)
        self.size = 0
        self.committed = 0
        if self.cap > (64 << 20):  # do not hold on to a huge buffer
            free(self.buf)
            self.buf = NULL
            self.cap = 0
        return b

    def label(self, names):
        """Name the function whose result each field is (a text such as
        "Python function 'f'", or None), for the warning a truncated float
        logs; returns self."""
        names = list(names)
        if len(names) != self.n:
            raise ValueError(f"label: {len(names)} names for {self.n} fields")
        for nd, w in zip(self.nodes, names):
            _label(<_Node>nd, w)
        return self

    def encode_row(self, values):
        """Append one length-prefixed row (a tuple, list or Row)."""
        self.write_row(values)

    def encode_end_marker(self):
        """Append the table-function end marker."""
        self.write_end_marker()

    def encode(self, rows):
        """encode_row for each row, then take()."""
        for r in rows:
            self.write_row(r)
        return self.take()
