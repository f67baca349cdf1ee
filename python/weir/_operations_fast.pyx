# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cython operations of weir's Python stages: the fast twin of ``_operations_slow.py``.

Same API, results (byte for byte) and errors as the pure-Python operations.
Where the slow ones call the Python function that ``_functions.Fused``
compiles, these compile the stage's expressions once into a flat program of
C structs and run it per row without a Python frame of weir's own:

* locations: the fields of the decoded input row (the item array of a list
  that ``RowDecoder.next_into`` overwrites for each row), the constants, the
  outputs (the item array of the list handed to ``RowEncoder.write_row``) and
  temporaries (a C array of owned references);
* instructions: ``*dst = fn(*args)``, called with ``PyObject_Vectorcall`` on
  the argument pointers gathered into a small C array; a call result that is
  an output is written straight into the output list;
* copies: outputs that are input fields, constants, or values already
  computed for another output.

Equal calls of deterministic functions are computed once per row and the
calls run in the order of the fused function (see ``_plan``), so the
functions see the same calls in the same order as with the slow operations.

Given ``emit``, ``process`` sends the results in parts, exactly as the slow
operations do (see ``_limits``): one comparison of the encoder's size per row
decides, so the per-row cost stays that of the loop without parts.

Only errors take the slow road: the failing row is diagnosed by a
``Fused`` built on demand, exactly as the slow operations do. Like them, a
malformed batch raises its DecodeError before any error of a function: the
rest of the batch is decoded first on the error path. Stages the compiler does
not expect (a column or function index out of range, an expression with no
kind, absurd nesting) run through the ``Fused`` function itself, built at
construction as the slow operations do, so they behave the same too.
"""

from cpython.ref cimport PyObject
from libc.stdlib cimport free, malloc
from libc.string cimport memset

from weir._coder_fast cimport RowDecoder, RowEncoder

import traceback

from weir import _functions
from weir._limits import CONTINUED, MAX_ROW_BYTES, PART_BYTES, row_too_large
from weir.row import Row
from weir.types import parse_type


cdef extern from "Python.h":
    PyObject* _vcall "PyObject_Vectorcall"(PyObject* fn, PyObject** args, size_t nargsf, PyObject* kwnames)
    object _vcall_obj "PyObject_Vectorcall"(object fn, PyObject** args, size_t nargsf, PyObject* kwnames)
    const size_t PY_VECTORCALL_ARGUMENTS_OFFSET
    int PyObject_IsInstance(object o, object cls) except -1
    bint PyList_CheckExact(object o)
    bint PyList_Check(object o)
    bint PyTuple_CheckExact(object o)
    bint PyTuple_Check(object o)
    bint PyLong_CheckExact(object o)
    bint PyFloat_CheckExact(object o)
    bint PyBool_Check(object o)
    bint PyUnicode_CheckExact(object o)
    bint PyBytes_CheckExact(object o)
    bint PyGen_CheckExact(object o)
    Py_ssize_t PyList_GET_SIZE(object o)
    Py_ssize_t PyTuple_GET_SIZE(object o)
    PyObject* PyList_GET_ITEM(object o, Py_ssize_t i)
    PyObject* PyTuple_GET_ITEM(object o, Py_ssize_t i)
    const Py_ssize_t PY_SSIZE_T_MAX


cdef extern from *:
    """
    /* *dst = v, stealing v and releasing the previous value. */
    static CYTHON_INLINE void weir_store(PyObject** dst, PyObject* v) {
        PyObject* old = *dst;
        *dst = v;
        Py_XDECREF(old);
    }
    /* *dst = v, taking a new reference to v. */
    static CYTHON_INLINE void weir_copy(PyObject** dst, PyObject* v) {
        PyObject* old = *dst;
        Py_INCREF(v);
        *dst = v;
        Py_XDECREF(old);
    }
    /* The item array of a list (stable while the list is not resized). */
    static CYTHON_INLINE PyObject** weir_list_items(PyObject* l) {
        return ((PyListObject*)l)->ob_item;
    }
    """
    void weir_store(PyObject** dst, PyObject* v) noexcept
    void weir_copy(PyObject** dst, PyObject* v) noexcept
    PyObject** weir_list_items(object l) noexcept


ctypedef struct Instr:
    PyObject* fn            # borrowed: _Program.fns keeps it alive
    Py_ssize_t nargs
    PyObject*** args        # where each argument is
    PyObject** dst          # where the result goes (an owned reference)


ctypedef struct Copy:
    PyObject** src
    PyObject** dst


# What the per-row loop was doing when an exception left it.
cdef enum:
    PH_DECODE = 0   # decoding a row (or starting the batch)
    PH_CALL = 1     # scalar: computing the outputs
    PH_WRITE = 2    # scalar: encoding the outputs
    PH_ARGS = 3     # table: computing the table function's arguments
    PH_TABLE = 4    # table: calling the table function, iterating and encoding its rows
    PH_END = 5      # table: writing the end marker
    PH_EMIT = 6     # sending a part of the results
    PH_LIMIT = 7    # a result row over max_row_bytes

# Deeper expressions run through the Fused function (as they do in the slow operations).
cdef int MAX_DEPTH = 200

cdef tuple _STR_BYTES = (str, bytes)
cdef tuple _TUPLE_LIST = (tuple, list)
cdef object _None = None


def _field_of(err):
    """The output field index named by a coder error, or 0."""
    return getattr(err, "field", 0) or 0


def _compilable(stage, exprs, Py_ssize_t ninputs, int depth=0):
    """Whether ``_plan`` handles these expressions (else they run through Fused)."""
    cdef Py_ssize_t nfunctions = len(stage.functions)
    if depth > MAX_DEPTH:
        return False
    for e in exprs:
        which = e.WhichOneof("kind")
        if which == "column":
            if not 0 <= e.column < ninputs:
                return False
        elif which == "call":
            if not 0 <= e.call.function < nfunctions:
                return False
            if not _compilable(stage, e.call.args, ninputs, depth + 1):
                return False
        elif which != "constant":
            return False
    return True


def _plan(stage, outputs):
    """The outputs as (constants, instructions, copies, number of temporaries).

    A location is ("row", i), ("const", i), ("out", j) or ("tmp", k); an
    instruction is (function index, [argument locations], result location); a
    copy is (source location, output location).

    The calls are those of ``Fused`` and run in its order: first each distinct
    deterministic call, innermost first, in the order of its first appearance
    (with the non-deterministic calls among its arguments, evaluated where
    they appear); then the non-deterministic calls that are outputs, left to
    right. Two calls are the same when they call the same function on the
    same locations (each constant is a location of its own, as in Fused).
    """
    functions = stage.functions
    constants = []
    memo = {}
    lines = []   # (tmp, call node) of each distinct deterministic call

    def emit(e):
        which = e.WhichOneof("kind")
        if which == "column":
            return ("row", e.column)
        if which == "constant":
            constants.append(_functions.decode_constant(e))
            return ("const", len(constants) - 1)
        call = e.call
        node = ("call", call.function, tuple([emit(a) for a in call.args]))
        if not functions[call.function].deterministic:
            return node   # evaluated where it appears, every time
        t = memo.get(node)
        if t is None:
            t = memo[node] = ("tmp", len(memo))
            lines.append((t, node))
        return t

    roots = [emit(e) for e in outputs]

    instrs = []
    ntmp = [len(memo)]

    def flat(op):
        if op[0] != "call":
            return op
        args = [flat(a) for a in op[2]]
        t = ("tmp", ntmp[0])
        ntmp[0] += 1
        instrs.append((op[1], args, t))
        return t

    for t, node in lines:
        instrs.append((node[1], [flat(a) for a in node[2]], t))
    locs = [flat(r) for r in roots]

    # A computed value lives in the first output that is it; others copy it.
    home = {}
    for j, loc in enumerate(locs):
        if loc[0] == "tmp" and loc not in home:
            home[loc] = ("out", j)
    ntemps = 0
    for k in range(ntmp[0]):
        if ("tmp", k) not in home:
            home[("tmp", k)] = ("tmp", ntemps)
            ntemps += 1

    def where(loc):
        return home[loc] if loc[0] == "tmp" else loc

    instrs = [(f, [where(a) for a in args], where(t)) for f, args, t in instrs]
    copies = []
    for j, loc in enumerate(locs):
        src = where(loc)
        if src != ("out", j):
            copies.append((src, ("out", j)))
    return constants, instrs, copies, ntemps


cdef class _Program:
    """The compiled outputs (or table arguments) of a stage; see the module docstring."""

    cdef list row           # the decoded input row; never resized
    cdef list out           # the outputs; never resized
    cdef list consts        # never resized
    cdef list fns           # keeps the called functions alive
    cdef object stage
    cdef list wrappers
    cdef object outputs     # the Expr list compiled
    cdef object fused       # the Fused of the outputs: built at once for generic stages, else on error
    cdef bint generic       # run through fused.fn, whose tuple is unpacked into out
    cdef Instr* instrs
    cdef Py_ssize_t ninstrs
    cdef PyObject*** arglocs
    cdef Copy* copies
    cdef Py_ssize_t ncopies
    cdef PyObject** temps
    cdef Py_ssize_t ntemps
    cdef PyObject** argv    # argv[0] is left free for PY_VECTORCALL_ARGUMENTS_OFFSET
    cdef Py_ssize_t nout

    def __cinit__(self):
        self.instrs = NULL
        self.arglocs = NULL
        self.copies = NULL
        self.temps = NULL
        self.argv = NULL
        self.ntemps = 0

    def __init__(self, stage, wrappers, outputs, Py_ssize_t ninputs, Py_ssize_t extra_args=0):
        cdef Py_ssize_t i, k, maxargs = extra_args, total = 0
        if self.instrs != NULL:
            raise RuntimeError("_Program is initialised once")
        self.stage = stage
        self.wrappers = list(wrappers)
        self.outputs = outputs
        self.row = [None] * ninputs
        self.nout = len(outputs)
        self.out = [None] * self.nout
        evaluators = [w.evaluator() for w in self.wrappers]
        if _compilable(stage, outputs, ninputs):
            constants, plan, copies, ntemps = _plan(stage, outputs)
            plan = [(evaluators[f], args, dst) for f, args, dst in plan]
        else:
            # What the slow operations do (and the same errors at construction).
            self.generic = True
            self.fused = _functions.Fused(stage, self.wrappers, outputs)
            constants = [self.row]
            plan = [(self.fused.fn, [("const", 0)], ("tmp", 0))]
            copies = []
            ntemps = 1
        self.consts = list(constants)
        self.fns = [f for f, _, _ in plan]
        self.ntemps = ntemps
        self.temps = <PyObject**>malloc(sizeof(PyObject*) * (ntemps + 1))
        if self.temps == NULL:
            raise MemoryError()
        memset(self.temps, 0, sizeof(PyObject*) * (ntemps + 1))
        for _, args, _ in plan:
            total += len(args)
            maxargs = max(maxargs, len(args))
        self.ninstrs = len(plan)
        self.instrs = <Instr*>malloc(sizeof(Instr) * (self.ninstrs + 1))
        self.arglocs = <PyObject***>malloc(sizeof(PyObject**) * (total + 1))
        self.ncopies = len(copies)
        self.copies = <Copy*>malloc(sizeof(Copy) * (self.ncopies + 1))
        self.argv = <PyObject**>malloc(sizeof(PyObject*) * (maxargs + 1))
        if self.instrs == NULL or self.arglocs == NULL or self.copies == NULL or self.argv == NULL:
            raise MemoryError()
        k = 0
        for i, (f, args, dst) in enumerate(plan):
            self.instrs[i].fn = <PyObject*>f
            self.instrs[i].nargs = len(args)
            self.instrs[i].args = self.arglocs + k
            for a in args:
                self.arglocs[k] = self._where(a)
                k += 1
            self.instrs[i].dst = self._where(dst)
        for i, (src, dst) in enumerate(copies):
            self.copies[i].src = self._where(src)
            self.copies[i].dst = self._where(dst)

    def __dealloc__(self):
        cdef Py_ssize_t i
        if self.temps != NULL:
            for i in range(self.ntemps):
                weir_store(self.temps + i, NULL)
            free(self.temps)
        free(self.instrs)
        free(self.arglocs)
        free(self.copies)
        free(self.argv)

    cdef PyObject** _where(self, loc) except NULL:
        kind, i = loc
        if kind == "row":
            return weir_list_items(self.row) + <Py_ssize_t>i
        if kind == "const":
            return weir_list_items(self.consts) + <Py_ssize_t>i
        if kind == "out":
            return weir_list_items(self.out) + <Py_ssize_t>i
        return self.temps + <Py_ssize_t>i

    cdef void clear(self) noexcept:
        """Drop the values of the last row (run after each batch)."""
        cdef Py_ssize_t i
        cdef PyObject** items
        for i in range(self.ntemps):
            weir_store(self.temps + i, NULL)
        items = weir_list_items(self.out)
        for i in range(self.nout):
            weir_copy(items + i, <PyObject*>_None)
        items = weir_list_items(self.row)
        for i in range(PyList_GET_SIZE(self.row)):
            weir_copy(items + i, <PyObject*>_None)

    cdef object get_fused(self):
        if self.fused is None:
            self.fused = _functions.Fused(self.stage, self.wrappers, self.outputs)
        return self.fused


cdef inline int _run(_Program p) except -1:
    """Compute the outputs of the row in p.row into p.out."""
    cdef Instr* ins = p.instrs
    cdef Instr* stop = p.instrs + p.ninstrs
    cdef Copy* c = p.copies
    cdef Copy* cstop = p.copies + p.ncopies
    cdef PyObject** argv = p.argv + 1
    cdef PyObject* res
    cdef Py_ssize_t k, n
    while ins < stop:
        n = ins.nargs
        for k in range(n):
            argv[k] = ins.args[k][0]
        res = _vcall(ins.fn, argv, <size_t>n | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL)
        if res == NULL:
            return -1
        weir_store(ins.dst, res)
        ins += 1
    while c < cstop:
        weir_copy(c.dst, c.src[0])
        c += 1
    if p.generic:
        _unpack(p)
    return 0


cdef int _unpack(_Program p) except -1:
    cdef object t = <object>p.temps[0]
    cdef PyObject** items = weir_list_items(p.out)
    cdef Py_ssize_t j
    if not PyTuple_CheckExact(t) or PyTuple_GET_SIZE(t) != p.nout:
        raise TypeError(f"the fused function returned {t!r:.80}, not a tuple of {p.nout} values")
    for j in range(p.nout):
        weir_copy(items + j, PyTuple_GET_ITEM(t, j))
    return 0


cdef int _drain(RowDecoder dec, list row) except -1:
    # The slow operations decode the whole batch before calling anything, so
    # a malformed batch raises its DecodeError first: decode the rest of it.
    # (Called while the row's error is handled: the DecodeError does not chain to it.)
    try:
        while dec.next_into(row):
            pass
    except BaseException as d:
        d.__context__ = None
        raise
    return 0


cdef class ScalarOperation:
    """Each input row gives one output row: the stage's outputs."""

    cdef readonly object stage
    cdef RowDecoder dec
    cdef RowEncoder enc
    cdef _Program prog
    cdef int phase
    cdef bint busy
    # Input rows processed so far; the engine reads it to tell a slow
    # function from a stuck one.
    cdef readonly long long rows_done
    # Results are sent in parts of about part_bytes; no row may be over max_row_bytes.
    cdef public Py_ssize_t part_bytes
    cdef public Py_ssize_t max_row_bytes
    cdef object emit            # during process: where parts go, or None
    cdef Py_ssize_t part        # during process: part_bytes, or no limit without emit

    def __init__(self, stage):
        self.stage = stage
        self.part_bytes = PART_BYTES
        self.max_row_bytes = MAX_ROW_BYTES
        self.dec = RowDecoder([parse_type(t) for t in stage.input_types])
        self.enc = RowEncoder([parse_type(o.type) for o in stage.outputs])
        self.enc.label(_functions.result_labels(stage))  # names the function in a truncated float's warning
        wrappers = [_functions.open_function(f, stage.job_parameters) for f in stage.functions]
        self.prog = _Program(stage, wrappers, stage.outputs, len(stage.input_types))

    def process(self, data, emit=None):
        """The encoded output rows of a batch of input rows (their last part, given emit)."""
        if self.prog is None:
            raise RuntimeError("ScalarOperation is not initialised")
        if self.busy:
            raise RuntimeError("ScalarOperation.process is not reentrant")
        self.busy = True
        self.emit = emit
        self.part = self.part_bytes if emit is not None else PY_SSIZE_T_MAX
        try:
            return self._process(data)
        finally:
            self.busy = False
            self.emit = None
            self.dec._release()
            self.prog.clear()

    cdef _process(self, data):
        cdef int phase
        cdef _Program p = self.prog
        try:
            self.phase = PH_DECODE
            self.dec.begin(data)
            _scalar_rows(self)
            return self.enc.take()
        except BaseException as e:
            # Cold path: one row failed; answer as the slow operation does.
            phase = self.phase
            self.enc.take()
            if phase == PH_DECODE or phase == PH_EMIT or not isinstance(e, Exception):
                raise
            row = list(p.row)
            _drain(self.dec, p.row)
            if phase == PH_LIMIT:
                raise
            if phase == PH_CALL:
                raise p.get_fused().diagnose(row, e) from None
            if isinstance(e, (TypeError, ValueError)):
                raise _functions.result_error(self.stage, _field_of(e), row, e) from None
            raise


cdef int _scalar_rows(ScalarOperation op) except -1:
    cdef _Program p = op.prog
    cdef RowDecoder dec = op.dec
    cdef RowEncoder enc = op.enc
    cdef list row = p.row
    cdef list out = p.out
    cdef Py_ssize_t start, part = op.part
    while True:
        op.phase = PH_DECODE
        if not dec.next_into(row):
            return 0
        if enc.size >= part:
            op.phase = PH_EMIT
            _emit_part(op.emit, enc)
        op.phase = PH_CALL
        _run(p)
        op.phase = PH_WRITE
        start = enc.size
        enc.write_row(out)
        if enc.size - start > op.max_row_bytes:
            op.phase = PH_LIMIT
            raise row_too_large(op.stage, list(out), list(row), enc.size - start, op.max_row_bytes)
        op.rows_done += 1


cdef int _emit_part(object emit, RowEncoder enc) except -1:
    emit(CONTINUED + enc.take())
    return 0


cdef class TableOperation:
    """Each input row gives the table function's rows, then an end marker."""

    cdef readonly object stage
    cdef object fn_proto
    cdef object table_fn
    cdef bint single
    cdef RowDecoder dec
    cdef RowEncoder enc
    cdef _Program prog
    cdef list one           # the row of a bare value of a one-column function
    cdef int phase
    cdef bint busy
    cdef readonly long long rows_done   # input rows processed so far
    cdef public Py_ssize_t part_bytes
    cdef public Py_ssize_t max_row_bytes
    cdef object emit
    cdef Py_ssize_t part

    def __init__(self, stage):
        self.stage = stage
        self.part_bytes = PART_BYTES
        self.max_row_bytes = MAX_ROW_BYTES
        call = stage.outputs[0].call
        self.fn_proto = stage.functions[call.function]
        self.dec = RowDecoder([parse_type(t) for t in stage.input_types])
        self.enc = RowEncoder([parse_type(t) for t in self.fn_proto.result_types])
        self.enc.label([_functions.function_label(self.fn_proto)] * len(self.fn_proto.result_types))
        wrappers = [_functions.open_function(f, stage.job_parameters) for f in stage.functions]
        self.prog = _Program(stage, wrappers, call.args, len(stage.input_types), len(call.args))
        self.table_fn = [w.evaluator() for w in wrappers][call.function]
        self.single = len(self.fn_proto.result_types) == 1
        self.one = [None]

    def process(self, data, emit=None):
        """The encoded result rows of a batch of input rows, each input row's followed by an end marker
        (their last part, given emit)."""
        if self.prog is None:
            raise RuntimeError("TableOperation is not initialised")
        if self.busy:
            raise RuntimeError("TableOperation.process is not reentrant")
        self.busy = True
        self.emit = emit
        self.part = self.part_bytes if emit is not None else PY_SSIZE_T_MAX
        try:
            return self._process(data)
        finally:
            self.busy = False
            self.emit = None
            self.dec._release()
            self.prog.clear()
            weir_copy(weir_list_items(self.one), <PyObject*>_None)

    cdef _process(self, data):
        cdef int phase
        cdef _Program p = self.prog
        try:
            self.phase = PH_DECODE
            self.dec.begin(data)
            _table_rows(self)
            return self.enc.take()
        except BaseException as e:
            # Cold path: one row failed; answer as the slow operation does.
            phase = self.phase
            self.enc.take()
            if phase == PH_DECODE or phase == PH_END or phase == PH_EMIT or not isinstance(e, Exception):
                raise
            row = list(p.row)
            args = tuple(p.out) if phase == PH_TABLE else None
            _drain(self.dec, p.row)
            if phase == PH_LIMIT:
                raise
            if args is None:
                raise p.get_fused().diagnose(row, e) from None
            if isinstance(e, (TypeError, ValueError)) and getattr(e, "weir_coder_error", False):
                raise _functions.result_error(self.stage, 0, row, e) from None
            raise _functions.function_error(self.fn_proto, args, row, e, traceback.format_exc()) from None


cdef int _table_rows(TableOperation op) except -1:
    cdef _Program p = op.prog
    cdef RowDecoder dec = op.dec
    cdef RowEncoder enc = op.enc
    cdef list row = p.row
    cdef PyObject** args = weir_list_items(p.out)
    cdef PyObject** argv = p.argv + 1
    cdef Py_ssize_t k, nargs = p.nout
    cdef size_t nargsf = <size_t>nargs | PY_VECTORCALL_ARGUMENTS_OFFSET
    cdef object fn = op.table_fn
    cdef object result
    while True:
        op.phase = PH_DECODE
        if not dec.next_into(row):
            return 0
        op.phase = PH_ARGS
        _run(p)
        op.phase = PH_TABLE
        for k in range(nargs):
            argv[k] = args[k]
        result = _vcall_obj(fn, argv, nargsf, NULL)
        if result is not None:
            _write_rows(op, enc, result)
        result = None
        op.phase = PH_END
        enc.write_end_marker()
        op.rows_done += 1


cdef int _write_rows(TableOperation op, RowEncoder enc, object result) except -1:
    """Encode the rows of a table function's result, as ``_operations_slow.rows_of`` reads them."""
    cdef Py_ssize_t i = 0
    cdef object item
    if PyList_CheckExact(result):
        while i < PyList_GET_SIZE(result):
            item = <object>PyList_GET_ITEM(result, i)
            _write_item(op, enc, item)
            i += 1
        return 0
    if PyTuple_CheckExact(result):
        while i < PyTuple_GET_SIZE(result):
            item = <object>PyTuple_GET_ITEM(result, i)
            _write_item(op, enc, item)
            i += 1
        return 0
    if not PyGen_CheckExact(result) and _one_row(result):
        _write_item(op, enc, result)
        return 0
    for item in result:
        _write_item(op, enc, item)
    return 0


cdef inline int _write_item(TableOperation op, RowEncoder enc, object item) except -1:
    cdef Py_ssize_t start
    if enc.size >= op.part:
        op.phase = PH_EMIT
        _emit_part(op.emit, enc)
        op.phase = PH_TABLE
    start = enc.size
    if op.single and not _is_row(item):
        weir_copy(weir_list_items(op.one), <PyObject*>item)
        enc.write_row(op.one)
    else:
        enc.write_row(item)
    if enc.size - start > op.max_row_bytes:
        op.phase = PH_LIMIT
        raise row_too_large(op.stage, item, list(op.prog.row), enc.size - start, op.max_row_bytes)
    return 0


cdef inline bint _is_row(object v) except -1:
    """isinstance(v, (tuple, list)), without asking common values for their __class__."""
    if PyTuple_Check(v) or PyList_Check(v):
        return True
    if (v is None or PyLong_CheckExact(v) or PyUnicode_CheckExact(v) or PyFloat_CheckExact(v)
            or PyBool_Check(v) or PyBytes_CheckExact(v)):
        return False
    return PyObject_IsInstance(v, _TUPLE_LIST)


cdef bint _one_row(object r) except -1:
    """Whether a (non-None) result is one row: a Row, str, bytes or non-iterable value."""
    if (PyUnicode_CheckExact(r) or PyBytes_CheckExact(r) or PyLong_CheckExact(r)
            or PyFloat_CheckExact(r) or PyBool_Check(r)):
        return True
    if PyObject_IsInstance(r, Row) or PyObject_IsInstance(r, _STR_BYTES):
        return True
    return not hasattr(r, "__iter__")
