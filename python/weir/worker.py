"""``python -m weir.worker``: a Beam Python SDK harness with weir's operations.

The Go engine starts it with the environment the harness reads
(CONTROL_API_SERVICE_DESCRIPTOR, LOGGING_API_SERVICE_DESCRIPTOR, WORKER_ID,
PIPELINE_OPTIONS, SEMI_PERSISTENT_DIRECTORY).
"""

import atexit
import faulthandler
import gc
import importlib.abc
import importlib.machinery
import io
import logging
import os
import signal
import sys
import threading


class _DropNoise:
    """Drops harness messages that are noise in weir: it ships no main
    session, and a failed bundle's error reaches the engine in the bundle's
    response, which weir reports once, cleanly."""

    def filter(self, record):
        msg = str(record.msg)
        return not (msg.startswith("No session file found") or msg.startswith("Error processing instruction"))


class _LineWriter(io.TextIOBase):
    """A worker's sys.stdout or sys.stderr that writes whole lines, each at once.

    print() writes its pieces (values, separators, the newline) one by one,
    and the harness runs bundles in several threads at a time: printed
    straight to the file, the prints of two bundles mix within a line. Each
    thread's text is held here until it ends a line (or is flushed); the
    complete lines then go to the file in one write, under a lock.
    """

    def __init__(self, stream):
        super().__init__()
        self._stream = stream
        self._fd = stream.fileno()
        self._encoding = stream.encoding or "utf-8"
        self._errors = stream.errors or "strict"
        self._pending = {}  # thread id -> the text of its unfinished line
        self._dropped = set()  # threads whose next bare newline ends a dropped print
        self._lock = threading.Lock()

    @property
    def encoding(self):
        return self._encoding

    @property
    def errors(self):
        return self._errors

    @property
    def buffer(self):
        return self._stream.buffer

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self._fd

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        me = threading.get_ident()
        if _is_failed_instruction(s):
            # The harness prints the traceback of a failed instruction; the
            # engine reports the same error, cleanly, from the response.
            self._dropped.add(me)
            return len(s)
        if s == "\n" and me in self._dropped:
            self._dropped.discard(me)  # the end of that print()
            return len(s)
        pending = self._pending.pop(me, "") + s
        end = pending.rfind("\n") + 1
        if end:
            self._emit(pending[:end])
            pending = pending[end:]
        if pending:
            self._pending[me] = pending
        return len(s)

    def flush(self):
        pending = self._pending.pop(threading.get_ident(), "")
        if pending:
            self._emit(pending)

    def flush_all(self):
        """Write every thread's unfinished line (the worker is leaving)."""
        for ident in list(self._pending):
            pending = self._pending.pop(ident, "")
            if pending:
                self._emit(pending + "\n")

    def _emit(self, text):
        data = text.encode(self._encoding, self._errors)
        with self._lock:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]


def _is_failed_instruction(text):
    """Whether text is the harness's print of a failed instruction's traceback."""
    return (text.startswith("Traceback (most recent call last):")
            and "apache_beam/runners/worker/sdk_worker.py" in text and ", in _execute" in text)


class _StartupLog(logging.StreamHandler):
    """Log records on stderr only until the harness sends them to the engine.

    Without a handler of its own, the root logger would get Python's default
    stderr handler from the first warning at import, and every harness
    message would then reach the engine twice: through the Fn API logging
    service and on stderr, where it would pass for the user's output. This
    one writes only while it is the root logger's sole handler: before the
    harness has added its Fn API handler, or if it could not.
    """

    def __init__(self):
        super().__init__(sys.stderr)
        self.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))

    def emit(self, record):
        if len(logging.getLogger().handlers) == 1:
            super().emit(record)


# Beam's I/O connectors that `import apache_beam` loads (apache_beam.io
# re-exports them) and the harness never uses: about 300 modules (pymongo,
# Google Cloud clients, avro, ...), ~0.2 CPU s of each worker's start-up.
# textio imports pandas for its CSV and JSON transforms (see _NoPandasForBeam).
_DEFERRED_CONNECTORS = (
    "apache_beam.io.avroio", "apache_beam.io.mongodbio", "apache_beam.io.parquetio",
    "apache_beam.io.tfrecordio", "apache_beam.io.gcp.bigquery", "apache_beam.io.gcp.pubsub",
    "apache_beam.transforms.xlang.io", "apache_beam.io.textio",
)


class _DeferredConnectors(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports _DEFERRED_CONNECTORS as empty stand-ins until first used.

    A stand-in exports nothing to apache_beam.io's star imports; the first
    attribute asked of it, or of apache_beam.io that is not there, imports
    the real connectors (and puts their names into apache_beam.io), so user
    code that uses them still works, a little later.
    """

    def __init__(self):
        self.pending = set(_DEFERRED_CONNECTORS)

    def find_spec(self, name, path, target=None):
        if name in self.pending:
            return importlib.machinery.ModuleSpec(name, self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__all__ = []

        def getattr_(attr):
            if attr.startswith("__"):  # the import system's questions (__path__, ...)
                raise AttributeError(attr)
            return getattr(self.load(module.__name__), attr)

        module.__getattr__ = getattr_

    def load(self, name):
        """The real module name (importing all of them the first time)."""
        if self.pending:
            names, self.pending = list(self.pending), set()
            sys.meta_path.remove(self)
            for n in names:
                sys.modules.pop(n, None)
            io = importlib.import_module("apache_beam.io")
            for n in names:
                try:
                    mod = importlib.import_module(n)
                except ImportError:
                    continue  # as apache_beam.io does without the optional ones
                if n.startswith("apache_beam.io."):
                    for attr in getattr(mod, "__all__", ()):
                        setattr(io, attr, getattr(mod, attr))
        if name not in sys.modules:
            raise AttributeError(f"{name} could not be imported")
        return sys.modules[name]


def _defer_connectors():
    """Install _DeferredConnectors before apache_beam is imported."""
    finder = _DeferredConnectors()
    sys.meta_path.insert(0, finder)

    def io_getattr(attr):
        if finder.pending:
            finder.load(_DEFERRED_CONNECTORS[0])
            io = sys.modules["apache_beam.io"]
            if attr in io.__dict__:
                return io.__dict__[attr]
        raise AttributeError(f"module 'apache_beam.io' has no attribute {attr!r}")

    return io_getattr


# Imported by Beam's stager (through apache_beam.internal.http_client),
# which the harness never runs: httplib2 and the pyparsing it imports were
# ~0.1 of ~1.2 CPU s of a worker's start-up. yaml (~0.015 s) is imported by
# Beam's cross-language and managed transforms, which use it only when such
# a transform is built in a pipeline; proto (proto-plus, ~0.015 s) by Beam's
# coders, which use it only to pick the coder of a proto-plus type hint.
_LAZY_MODULES = ("httplib2", "yaml", "proto")


class _LazyModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports _LAZY_MODULES as stand-ins whose first attribute asked (or
    submodule imported) imports the real module, through which the stand-in
    then reads every attribute."""

    def __init__(self, names):
        self.pending = set(names)

    def find_spec(self, name, path, target=None):
        if name in self.pending:
            return importlib.machinery.ModuleSpec(name, self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        name = module.__name__

        def getattr_(attr):
            # The import system's own questions are not a use, but __path__
            # is asked when a submodule or a name from it is imported.
            if attr.startswith("__") and attr != "__path__":
                raise AttributeError(attr)
            return getattr(self.load(name), attr)

        module.__getattr__ = getattr_

    def load(self, name):
        """The real module name."""
        if name in self.pending:
            self.pending.discard(name)
            if not self.pending:
                sys.meta_path.remove(self)
            if sys.modules.get(name) is not None and sys.modules[name].__spec__.loader is self:
                del sys.modules[name]
            importlib.import_module(name)
        return sys.modules[name]


class _NoPandasForBeam(importlib.abc.MetaPathFinder):
    """While apache_beam is imported, Beam's typehints package finds no pandas.

    apache_beam.typehints imports pandas (~0.25 CPU s, a quarter of a
    worker's start-up) only to load its pandas batch converters, which
    export no names and serve Beam's batched DoFns, which the harness never
    runs for weir. weir's vectorized operations import pandas themselves
    when a stage needs it, so a worker of scalar functions does without.
    Any other import of pandas, at any time, finds it as usual.
    """

    def find_spec(self, name, path, target=None):
        if name == "pandas" and _importer() == "apache_beam.typehints":
            raise ModuleNotFoundError("weir's worker imports pandas only for its own stages", name=name)
        return None


class _BeartypeForBeam(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """While apache_beam is imported, Beam's typehints get beartype's two
    names from stand-ins that import beartype at the first call.

    apache_beam.typehints.typehints imports beartype (~0.1 CPU s: ~300
    modules and importlib.metadata) for is_subhint, which is_consistent_with
    calls when it checks the type hints of a pipeline being built, which
    the harness does not do for weir's stages. The stand-in is_subhint
    imports beartype and calls the real one, raising the stand-in
    BeartypeDoorException (the one Beam catches) for the real one, so Beam
    behaves the same. The stand-ins are Beam's alone: forget() takes them
    out of sys.modules once Beam is imported, and any other import of
    beartype gets the real package.
    """

    NAMES = ("beartype", "beartype.door", "beartype.roar")

    def find_spec(self, name, path, target=None):
        if name in self.NAMES and _importer() == "apache_beam.typehints.typehints":
            return importlib.machinery.ModuleSpec(name, self, is_package=name == "beartype")
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        if module.__name__ == "beartype.door":
            module.is_subhint = _is_subhint
        elif module.__name__ == "beartype.roar":
            module.BeartypeDoorException = _BeartypeDoorException

    @classmethod
    def forget(cls):
        """Take the stand-ins out of sys.modules."""
        for name in cls.NAMES:
            module = sys.modules.get(name)
            if module is not None and isinstance(getattr(module.__spec__, "loader", None), cls):
                del sys.modules[name]


class _BeartypeDoorException(Exception):
    """The stand-in of beartype.roar.BeartypeDoorException in Beam's typehints."""


def _is_subhint(*args, **kwargs):
    """beartype.door.is_subhint, imported at the first call."""
    _BeartypeForBeam.forget()
    from beartype.door import is_subhint
    from beartype.roar import BeartypeDoorException

    try:
        return is_subhint(*args, **kwargs)
    except BeartypeDoorException as e:
        raise _BeartypeDoorException(str(e)) from e


def _importer():
    """The name of the module whose code runs the import under way."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        frame = frame.f_back
    return frame.f_globals.get("__name__") if frame is not None else None


def _stop(signum, frame):
    # A polite stop from the engine: close the functions, then leave without
    # the harness logging the interruption as a failure.
    from weir import _functions

    _functions.close_all()
    logging.shutdown()
    _flush_output()
    os._exit(0)


def _flush_output():
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, _LineWriter):
            stream.flush_all()


def _collect_after_startup():
    """Turn the garbage collector back on, leaving the start-up's objects out of it.

    Imports make no garbage worth collecting, but their hundreds of
    thousands of new objects start hundreds of collections, the last ones
    traversing the whole heap: ~0.24 CPU s of a worker's start-up and first
    bundle (~0.01 s this way). The collector is off until the modules are
    imported; frozen, their objects (the modules, classes and functions
    that live as long as the worker) are not traversed by the collections
    that follow either.
    """
    gc.freeze()
    gc.enable()


def _one_blas_thread():
    """OpenBLAS (numpy's, which Beam's coders import) runs one thread per
    worker unless the environment says otherwise.

    At load, OpenBLAS starts a thread per core, each with its own buffers:
    ~0.06 CPU s and ~0.1 s of a worker's start-up, and between calls those
    threads spin. The engine runs a worker per slot of parallelism, so the
    cores are the workers'; as PySpark and Ray do for their Python workers,
    a user who wants more sets OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS)
    in the environment the engine is started with.
    """
    if not any(v in os.environ for v in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"


def main():
    gc.disable()  # until _collect_after_startup
    _one_blas_thread()  # before numpy is imported
    from weir import _functions

    # Find the user's modules where weir.describe found them at planning.
    _functions.isolate_path()
    # The session's archives (add_python_archive) are found by relative
    # paths, as in Flink, where they are extracted into the working directory.
    archives = os.environ.get("WEIR_PYTHON_ARCHIVES")
    if archives:
        os.chdir(archives)
    sys.stdout = _LineWriter(sys.stdout)
    sys.stderr = _LineWriter(sys.stderr)
    atexit.register(_flush_output)
    logging.getLogger().addHandler(_StartupLog())
    signal.signal(signal.SIGTERM, _stop)
    # The engine asks for the Python stacks of a bundle that makes no progress.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    for name in ("apache_beam.runners.worker.sdk_worker_main", "apache_beam.runners.worker.sdk_worker"):
        logging.getLogger(name).addFilter(_DropNoise())
    io_getattr = _defer_connectors()
    sys.meta_path.insert(0, _LazyModules(_LAZY_MODULES))
    beam_only = [_NoPandasForBeam(), _BeartypeForBeam()]
    sys.meta_path[:0] = beam_only
    try:
        import apache_beam  # noqa: F401
        import apache_beam.io

        apache_beam.io.__getattr__ = io_getattr
    except ImportError as e:
        sys.stderr.write(
            f"weir worker: the apache-beam package is missing from {sys.executable}: {e}\n"
            "Install weir with its dependencies (pip install weir) into the interpreter "
            "named by python.executable.\n")
        sys.exit(3)
    finally:
        for finder in beam_only:
            sys.meta_path.remove(finder)
        _BeartypeForBeam.forget()
    import weir._beam  # registers weir's URNs

    weir._beam.no_sampling_threads()
    from weir import _vectorized_io

    # Vectorized stages' data around Beam's copies.
    _vectorized_io.install()
    from weir import coder, operations

    log = logging.getLogger("weir")
    reasons = [r for r in (coder.FALLBACK_REASON, operations.FALLBACK_REASON) if r]
    if reasons:
        log.warning("weir is running on its slower pure-Python code: %s. Reinstall weir where a C "
                    "compiler is available to get the Cython fast paths.", "; ".join(reasons))
    log.info("weir worker ready: coder %s, operations %s, Python %s",
             coder.IMPLEMENTATION, operations.IMPLEMENTATION, sys.version.split()[0])
    from apache_beam.runners.worker import sdk_worker_main

    _collect_after_startup()
    sdk_worker_main.main(sys.argv)


if __name__ == "__main__":
    main()
