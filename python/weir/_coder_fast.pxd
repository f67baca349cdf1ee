# cython: language_level=3
"""C-level API of the Cython row coders, for other Cython modules::

    from weir._coder_fast cimport RowDecoder, RowEncoder

    dec.begin(data)                  # a batch (bytes)
    while dec.next_into(args):       # args: a list of len(field_types), overwritten
        ...                          # dec.row_kind: RowKind int of that row
    enc.write_row(values)            # tuple / list (fast), Row (its kind), any sequence
    enc.write_end_marker()           # after a table function's rows for one input row
    data = enc.take()

All of them raise (``except -1``) a weir._coder_errors error on bad input.
"""

cdef class _Node:
    # One SQL type: a code (see the K_* enum in _coder_fast.pyx) and its parameters.
    cdef int code
    cdef bint nullable
    cdef bint key_mode          # ARRAY decodes as tuple (inside a MAP key)
    cdef bint unhashable_key    # MAP whose key type holds a MAP
    cdef int precision
    cdef int scale
    cdef long long lo           # integer range
    cdef long long hi
    cdef str why                # "range lo..hi"
    cdef str tstr               # str(dtype)
    cdef object dtype
    cdef object quantum         # Decimal(10) ** -scale
    cdef _Node elem             # ARRAY
    cdef _Node key              # MAP
    cdef _Node value            # MAP
    cdef list fields            # ROW: list of _Node
    cdef tuple names            # ROW
    cdef list segs              # ROW: ".name" per field
    cdef Py_ssize_t nfields     # ROW
    cdef Py_ssize_t hdr         # ROW header bytes
    cdef str who                # the function whose result this is (RowEncoder.label), or None


cdef class RowDecoder:
    cdef const unsigned char* buf
    cdef Py_ssize_t pos
    cdef Py_ssize_t end
    cdef Py_ssize_t rend
    cdef object data
    cdef Py_ssize_t row_index
    cdef Py_ssize_t cur_field
    cdef Py_ssize_t n
    cdef Py_ssize_t hdr
    cdef int* codes
    cdef list nodes
    cdef readonly list field_types
    # Fast path, when every field is a fixed-width primitive (``fixed``): a row
    # with no null field is always fixed_len bytes, length varint included, and
    # starts with the fixed_plen bytes (length varint, header) p with
    # p & fixed_mask == fixed_pat (null bits clear); fixed_code: the code of
    # every field if they are all the same, else 0.
    cdef bint fixed
    cdef Py_ssize_t fixed_len
    cdef Py_ssize_t fixed_plen
    cdef int fixed_code
    cdef unsigned char fixed_pat[16]
    cdef unsigned char fixed_mask[16]
    # RowKind value (0 INSERT, 1 UPDATE_BEFORE, 2 UPDATE_AFTER, 3 DELETE) of the last row read
    cdef readonly int row_kind

    # Start reading a batch (bytes; bytearray / memoryview are copied).
    cdef int begin(self, object data) except -1
    # Decode the next row into out (a list of len(field_types); slots overwritten).
    # Returns 1 if a row was read, 0 at the end of the batch.
    cdef int next_into(self, list out) except -1
    # If the next element is a table-function end marker, consume it and return 1; else 0.
    cdef int next_table_marker(self) except -1


cdef class RowEncoder:
    cdef unsigned char* buf
    cdef Py_ssize_t size
    cdef Py_ssize_t cap
    cdef Py_ssize_t committed
    cdef Py_ssize_t n
    cdef Py_ssize_t hdr
    cdef int* codes
    cdef unsigned char* nullables
    cdef list nodes
    cdef readonly list field_types
    # Fast path, when every field is a fixed-width primitive (``fixed``): a
    # list / tuple row with no None is fixed_len bytes, starting with the
    # fixed_plen bytes of fixed_pat (length varint, header of an INSERT row
    # without nulls); fixed_code: the code of every field if they are all the
    # same, else 0.
    cdef bint fixed
    cdef Py_ssize_t fixed_len
    cdef Py_ssize_t fixed_plen
    cdef int fixed_code
    cdef unsigned char fixed_pat[16]

    # Append one length-prefixed row. On error nothing of the row is kept.
    cdef int write_row(self, object values) except -1
    # Append the table-function end marker (varint 1, byte 0).
    cdef int write_end_marker(self) except -1
    # Everything appended so far; starts a new batch (the buffer is reused).
    cpdef bytes take(self)
