"""``python -m weir.flink``: runs a SQL script on a Flink cluster through PyFlink.

``weir sql --target flink://HOST:PORT`` starts this module with the Python
named by ``python.client.executable`` (one with apache-flink; weir's own
package is put on its path by the engine) and the script on standard input.
Each statement goes to a PyFlink TableEnvironment in batch mode whose
``execution.target`` is ``remote`` at the cluster's REST endpoint; each
INSERT is one Flink job, waited for in order, as weir runs them.

What the user sees is what the local target shows: the rows of the print
connector, which Flink's TaskManagers write to their standard output (their
``.out`` files), are read back through the REST API after the job and
printed; a query's rows are collected and printed the same way; a failure
prints the cluster's error and exits 1.
"""

import argparse
import os
import re
import shutil
import signal
import sys
import tempfile
import time

from weir._flink import options as flink_options

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
# Exit code for "this Python has no apache-flink" (the engine adds how to fix it).
EXIT_NO_PYFLINK = 3


# A row as the print connector writes it, after an optional print-identifier.
_PRINTED_ROW = re.compile(r"^([^>\n]*> )?[+-][IUD]\[")

# Flink's job states from which a job does not move on.
FINAL_STATES = ("FINISHED", "FAILED", "CANCELED")


class JobError(Exception):
    """A statement or job failed; the message is the cluster's."""


def parse_target(target):
    """(host, port) of ``flink://HOST:PORT``; ValueError says what is wrong."""
    m = re.fullmatch(r"flink://(\[[0-9a-fA-F:.]+\]|[^/:\[\]]+):(\d{1,5})/?", target or "")
    if not m:
        raise ValueError(f"--target {target!r}: want local or flink://HOST:PORT (the JobManager's REST address "
                         "and port, e.g. flink://127.0.0.1:8081)")
    port = int(m.group(2))
    if not 0 < port < 65536:
        raise ValueError(f"--target {target!r}: port {port} is not between 1 and 65535")
    return m.group(1).strip("[]"), port


def split_statements(script):
    """The statements of a script, split at semicolons outside quotes and
    comments, each with the line it starts on."""
    out, buf, start, line = [], [], None, 1
    i, n = 0, len(script)
    while i < n:
        c = script[i]
        if c in "'\"`":
            j = i + 1
            while j < n:
                if script[j] == c:
                    if j + 1 < n and script[j + 1] == c:  # '' is a quote inside quotes
                        j += 2
                        continue
                    break
                j += 1
            chunk = script[i:j + 1]
        elif script.startswith("--", i):
            j = script.find("\n", i)
            j = n - 1 if j < 0 else j - 1
            chunk = script[i:j + 1]
        elif script.startswith("/*", i):
            j = script.find("*/", i + 2)
            j = n - 1 if j < 0 else j + 1
            chunk = script[i:j + 1]
        elif c == ";":
            text = "".join(buf).strip()
            if text:
                out.append((start, text))
            buf, start = [], None
            i += 1
            continue
        else:
            chunk = c
        if start is None and chunk.strip() and not chunk.startswith(("--", "/*")):
            start = line
        buf.append(chunk)
        line += chunk.count("\n")
        i += len(chunk)
    text = "".join(buf).strip()
    if text and _has_code(text):
        out.append((start, text))
    return out


def _has_code(text):
    return bool(re.sub(r"--[^\n]*|/\*.*?\*/", "", text, flags=re.S).strip())


_SET = re.compile(r"^SET\s+'((?:[^']|'')*)'\s*=\s*'((?:[^']|'')*)'$", re.I | re.S)
_RESET = re.compile(r"^RESET(?:\s+'((?:[^']|'')*)')?$", re.I | re.S)


def _first_word(stmt):
    code = re.sub(r"^(\s|--[^\n]*\n|/\*.*?\*/)*", "", stmt, flags=re.S)
    m = re.match(r"[A-Za-z]+", code)
    return m.group(0).upper() if m else ""


def java_string(v):
    """A value as Flink's print connector and Row.toString print it."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v != v:
            return "NaN"
        if v in (float("inf"), float("-inf")):
            return "Infinity" if v > 0 else "-Infinity"
        if v == 0 or 1e-3 <= abs(v) < 1e7:
            return repr(v)
        mant, exp = f"{v!r}".replace("E", "e").split("e") if "e" in repr(v) else (None, None)
        if mant is None:
            s = f"{v:.17e}"
            mant, exp = s.split("e")
            mant = mant.rstrip("0")
        if "." not in mant:
            mant += ".0"
        if mant.endswith("."):
            mant += "0"
        return f"{mant}E{int(exp)}"
    if isinstance(v, (bytes, bytearray)):
        return "[" + ", ".join(str(b if b < 128 else b - 256) for b in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{java_string(k)}={java_string(x)}" for k, x in v.items()) + "}"
    if hasattr(v, "isoformat") and hasattr(v, "hour") and hasattr(v, "year"):
        s = v.isoformat()
        return s[:-3] if s.endswith(":00") and len(s) > 16 and not v.second and not v.microsecond else s
    if _is_row(v):
        return "(" + ", ".join(java_string(x) for x in _row_values(v)) + ")"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(java_string(x) for x in v) + "]"
    return str(v)


def _is_row(v):
    return type(v).__name__ == "Row"


def _row_values(v):
    return list(v._values) if hasattr(v, "_values") else list(v)


def format_row(row):
    """``+I[a, b]``, as the print connector prints a row."""
    kind = "+I"
    if hasattr(row, "get_row_kind"):
        kind = str(row.get_row_kind().short_string() if hasattr(row.get_row_kind(), "short_string")
                   else "+I")
    return f"{kind}[" + ", ".join(java_string(x) for x in _row_values(row)) + "]"


def without_java_frames(trace):
    """A Java stack trace's messages ("Caused by: ..." and the Python
    traceback inside a Python function's error) without its frames."""
    keep = [l for l in trace.strip().splitlines()
            if not re.match(r"\s+(at |\.\.\. \d+ more)", l)]
    return "\n".join(keep)


def root_cause(err):
    """The last 'Caused by' of a Java exception's text, else its first line."""
    text = str(getattr(err, "java_exception", None) or err)
    try:
        from py4j.protocol import Py4JJavaError

        if isinstance(err, Py4JJavaError):
            text = err.java_exception.toString()
            cause = err.java_exception
            while cause.getCause() is not None and cause.getCause() != cause:
                cause = cause.getCause()
            last = cause.toString()
            if last != text:
                text = f"{text}\nCaused by: {last}"
    except Exception:
        pass
    return text.strip()


def ship_weir(dest):
    """Copy weir's pure-Python package into dest/weir for the cluster's
    workers (python.files), without the engine and compiled extensions."""
    import weir

    src = os.path.dirname(os.path.abspath(weir.__file__))
    shutil.copytree(src, os.path.join(dest, "weir"),
                    ignore=shutil.ignore_patterns("_bin", "__pycache__", "*.so", "*.c", "*.pyx", "*.pxd"))
    return dest


class Runner:
    """Runs statements on one TableEnvironment bound to the cluster."""

    def __init__(self, host, port, settings, out, err, file_name):
        from pyflink.common import Configuration
        from pyflink.table import EnvironmentSettings, TableEnvironment

        from weir._flink.rest import Rest

        self.host, self.port = host, port
        self.target = f"flink://{host}:{port}"
        self.out, self.err, self.file = out, err, file_name
        self.rest = Rest(host, port)
        self._tmp = tempfile.mkdtemp(prefix="weir-flink-")
        conf = Configuration()
        for k, v in flink_options.flink_settings(settings, host, port, ship_weir(os.path.join(self._tmp, "ship")))\
                .items():
            conf.set_string(k, v)
        for p in flink_options.client_paths(conf.get_string("python.files", "")):
            if p not in sys.path:
                sys.path.insert(0, p)
        es = EnvironmentSettings.new_instance().in_batch_mode().with_configuration(conf).build()
        self.env = TableEnvironment.create(es)
        install_function_factory()
        self.job_id = None  # of the running job, to cancel
        self._offsets = None  # TaskManager id -> length of its output already printed

    def close(self):
        shutil.rmtree(self._tmp, ignore_errors=True)

    def run(self, statements):
        for line, stmt in statements:
            where = f"{self.file}:{line}"
            word = _first_word(stmt)
            if word == "SET":
                m = _SET.match(stmt)
                if not m:
                    raise JobError(f"{where}: SET takes 'key' = 'value' (both quoted)")
                key, value = m.group(1).replace("''", "'"), m.group(2).replace("''", "'")
                flink_options.check(key, where + ": SET")
                self.env.get_config().set(key, value)
                continue
            if word == "RESET":
                raise JobError(f"{where}: RESET is not supported on a Flink target; set the value again with SET")
            try:
                if word in ("INSERT", "EXECUTE", "BEGIN"):
                    self._insert(stmt, where)
                elif word in ("SELECT", "WITH", "VALUES"):
                    self._query(stmt)
                else:
                    self.env.execute_sql(stmt)
            except JobError:
                raise
            except Exception as e:  # py4j errors carry the cluster's message
                raise JobError(f"{where}: {root_cause(e)}") from None

    def _stdout_sizes(self):
        """How much of each TaskManager's standard output was there before
        the next job: read once, then carried from job to job."""
        if self._offsets is None:
            try:
                self._offsets = {tm: len(self.rest.stdout(tm)) for tm in self.rest.taskmanagers()}
            except Exception:
                self._offsets = {}
        return dict(self._offsets)

    def _refresh_seconds(self):
        """How long the JobManager may serve a cached copy of a TaskManager's
        output (its refresh interval), plus a margin."""
        try:
            return int(self.rest.config().get("refresh-interval", 3000)) / 1000 + 0.5
        except Exception:
            return 3.5

    def _insert(self, stmt, where):
        before = self._stdout_sizes()
        t0 = time.monotonic()
        result = self.env.execute_sql(stmt)
        job_client = result.get_job_client()
        job_id = str(job_client.get_job_id()) if job_client else "?"
        self.job_id = None if job_id == "?" else job_id
        self.err.write(f"weir: job {job_id} submitted to {self.target}\n")
        self.err.flush()
        try:
            if job_id == "?":
                result.wait()
                state = "FINISHED"
            else:
                state = self._wait(job_id)
        except Exception as e:
            detail = self.rest.exceptions(job_id) if job_id != "?" else ""
            raise JobError(f"{where}: job {job_id} failed on {self.target}: "
                           f"{without_java_frames(detail) or root_cause(e)}") \
                from None
        self.job_id = None
        elapsed = time.monotonic() - t0
        rows = self._print_new_output(before)
        if state != "FINISHED":
            raise JobError(f"{where}: job {job_id} ended {state} on {self.target}: "
                           f"{without_java_frames(self.rest.exceptions(job_id))}")
        self.err.write(f"weir: job finished on {self.target}: job {job_id} FINISHED, {rows} printed rows "
                       f"in {elapsed:.2f} s\n")
        restarts = self.rest.restarts(job_id)
        if restarts:
            n, cause = restarts
            self.err.write(f"weir: warning: job {job_id} was restarted {n} time(s) on the cluster (first cause: "
                           f"{cause}); the print connector prints again after a restart, so rows may repeat\n")

    def _wait(self, job_id):
        """The final state of the job, polled through the REST API (a sleep
        between polls, so that SIGINT and SIGTERM are handled at once)."""
        delay, failures = 0.1, 0
        while True:
            try:
                state = self.rest.job(job_id).get("state", "")
                failures = 0
            except Exception:
                failures += 1
                if failures > 30:
                    raise
                state = ""
            if state in FINAL_STATES:
                return state
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    def _print_new_output(self, before):
        """Print what the job's print sinks wrote to the TaskManagers' .out
        files; returns the number of rows printed."""
        n = 0
        # A copy cached while the job ran would miss its last rows.
        time.sleep(self._refresh_seconds())
        try:
            tms = self.rest.taskmanagers()
        except Exception:
            return 0
        for tm in tms:
            whole = self.rest.stdout(tm)
            text = whole[before.get(tm, 0):]
            self._offsets[tm] = len(whole)
            for l in text.splitlines():
                # With parallelism > 1 Flink writes "<subtask>> " before each row.
                l = re.sub(r"^\d+> ", "", l)
                # The .out file also holds what the TaskManager's libraries print.
                if _PRINTED_ROW.match(l):
                    self.out.write(l + "\n")
                    n += 1
        self.out.flush()
        return n

    def _query(self, stmt):
        result = self.env.execute_sql(stmt)
        with result.collect() as rows:
            for row in rows:
                self.out.write(format_row(row) + "\n")
        self.out.flush()

    def cancel(self):
        """Cancel the running job, if any, and wait (up to a minute) until the
        cluster says it ended; returns its state, or ''."""
        if self.job_id is None:
            return ""
        try:
            self.rest.cancel(self.job_id)
        except Exception as e:
            self.err.write(f"weir: cancelling job {self.job_id} on {self.target}: {e}\n")
            return ""
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                state = self.rest.job(self.job_id).get("state", "")
            except Exception:
                state = ""
            if state in FINAL_STATES:
                return state
            time.sleep(0.2)
        return ""


class _FunctionFactory:
    """PyFlink's PythonFunctionFactory (the planner's callback that loads
    ``CREATE FUNCTION ... LANGUAGE PYTHON``), which also takes weir's
    functions, converted by weir._flink.functions.to_pyflink."""

    def getPythonFunction(self, moduleName, objectName):
        import importlib

        from weir._flink.functions import to_pyflink

        obj = getattr(importlib.import_module(moduleName), objectName)
        return to_pyflink(obj, f"{moduleName}.{objectName}")._java_user_defined_function()

    class Java:
        implements = ["org.apache.flink.client.python.PythonFunctionFactory"]


def install_function_factory():
    from pyflink.java_gateway import get_gateway

    get_gateway().entry_point.put("PythonFunctionFactory", _FunctionFactory())


def _args(argv):
    p = argparse.ArgumentParser(prog="python -m weir.flink",
                                description="Run a SQL script on a Flink cluster (started by weir sql --target).")
    p.add_argument("--target", required=True, help="flink://HOST:PORT, the JobManager's REST endpoint")
    p.add_argument("--file-name", default="<stdin>", help="the script's name, for messages")
    p.add_argument("-D", dest="settings", action="append", default=[], metavar="KEY=VALUE")
    return p.parse_args(argv)


def main(argv=None, stdin=None, stdout=None, stderr=None):
    stdin, out, err = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    a = _args(sys.argv[1:] if argv is None else argv)
    try:
        host, port = parse_target(a.target)
        settings = {}
        for kv in a.settings:
            k, sep, v = kv.partition("=")
            if not sep:
                raise ValueError(f"-D {kv!r}: want key=value")
            settings[k.strip()] = v.strip()
        for k in settings:
            flink_options.check(k, "-D")
    except ValueError as e:
        err.write(f"weir: {e}\n")
        return EXIT_USAGE
    missing = pyflink_missing()
    if missing:
        err.write(f"weir: {missing}\n")
        return EXIT_NO_PYFLINK
    script = stdin.read()
    statements = split_statements(script)
    runner = None

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        runner = Runner(host, port, settings, out, err, a.file_name)
        runner.run(statements)
        return EXIT_OK
    except KeyboardInterrupt:
        state = runner.cancel() if runner is not None else ""
        if runner is not None and runner.job_id is not None:
            err.write(f"weir: cancelled; job {runner.job_id} on {runner.target} is {state or 'being cancelled'}\n")
        else:
            err.write("weir: cancelled\n")
        return EXIT_CANCELLED
    except (JobError, ValueError) as e:
        err.write(f"weir: {e}\n")
        return EXIT_FAILED
    except Exception as e:
        err.write(f"weir: {a.file_name}: {root_cause(e)}\n")
        return EXIT_FAILED
    finally:
        if runner is not None:
            runner.close()


def pyflink_missing():
    """Why this Python cannot submit to Flink, or ''."""
    try:
        import pyflink.version
    except ImportError:
        return (f"the Flink target needs apache-flink (PyFlink 2.3) in the Python that submits the job, and "
                f"{sys.executable} has none. apache-flink pins versions that conflict with weir's (apache-beam, "
                "pandas, pyarrow), so give it its own virtualenv: python3 -m venv ~/pyflink && "
                "~/pyflink/bin/pip install apache-flink==2.3.0, then run weir with "
                "-D python.client.executable=$HOME/pyflink/bin/python")
    v = pyflink.version.__version__
    if not v.startswith("2."):
        return f"the Flink target needs PyFlink 2.x; {sys.executable} has apache-flink {v}"
    return ""
