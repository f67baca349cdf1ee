"""The connection to the engine: starts ``weir gateway`` and talks to it.

Protocol (docs/GATEWAY.md): each message is a JSON header frame and a body
frame, each a 4-byte big-endian length then its bytes, over a Unix socket
in a private directory the engine makes. The client proves it started the
engine by sending a secret it put in the engine's environment. The engine
holds a pipe to this process on its stdin: when this process ends, even by
SIGKILL, the pipe closes and the engine stops its job, its workers and
itself.
"""

import json
import os
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import threading


class EngineError(Exception):
    """An error the engine reported: a SQL error (with line and column), a
    Python function's error (with its traceback), or a failed job."""


def find_engine():
    """The ``weir`` engine binary: ``$WEIR_BIN``, else the one a weir wheel
    carries, else ``weir`` on PATH."""
    from weir import _cli

    try:
        return _cli.engine()
    except FileNotFoundError as e:
        if os.environ.get("WEIR_BIN"):
            raise
        path = shutil.which("weir")
        if path is None:
            raise FileNotFoundError(f"the weir engine was not found: {e}; or put 'weir' on PATH") from None
        return path


_LEN = struct.Struct(">I")


class Gateway:
    """One engine process and its session."""

    def __init__(self, settings=None):
        self._lock = threading.RLock()
        self._closed = False
        self._stream = None  # the Stream whose messages are still coming
        secret = secrets.token_hex(32)
        env = dict(os.environ)
        env["WEIR_GATEWAY_SECRET"] = secret
        args = [find_engine(), "gateway", "-D", f"python.executable={sys.executable}"]
        for k, v in (settings or {}).items():
            args += ["-D", f"{k}={v}"]
        # stdin is a pipe the engine watches; stderr is ours (function prints, logs).
        self._proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                      close_fds=True)
        line = self._proc.stdout.readline()
        if not line:
            code = self._proc.wait()
            raise EngineError(f"the weir engine ({args[0]}) exited with code {code} before it was ready; see its message above")
        sock_path = json.loads(line)["socket"]
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(sock_path)
        self._file = self._sock.makefile("rwb", buffering=1 << 16)
        hello = self.request({"op": "hello", "secret": secret})
        self.version = hello.get("version")

    def _send(self, header, body=b""):
        h = json.dumps(header).encode()
        f = self._file
        f.write(_LEN.pack(len(h)))
        f.write(h)
        f.write(_LEN.pack(len(body)))
        f.write(body)
        f.flush()

    def _read_frame(self):
        n = self._file.read(4)
        if len(n) < 4:
            raise EngineError("the weir engine closed the connection; see its message above")
        (size,) = _LEN.unpack(n)
        data = self._file.read(size)
        if len(data) < size:
            raise EngineError("the weir engine closed the connection mid-message")
        return data

    def _exchange(self, send):
        """Run send (which writes a request and reads a response) under the
        lock, turning broken connections into EngineError."""
        with self._lock:
            if self._closed:
                raise EngineError("the TableEnvironment is closed")
            try:
                if self._stream is not None:
                    # A result still streaming: keep its rest for its reader.
                    self._stream._drain()
                return send()
            except (OSError, ValueError) as e:
                if self._closed:
                    raise EngineError("the TableEnvironment was closed while the statement ran") from None
                raise EngineError(f"lost the connection to the weir engine: {e}") from e
            except EngineError:
                raise
            except BaseException:
                # Interrupted (Ctrl-C) mid-exchange: the stream is out of step,
                # so end the session; the engine cancels the statement.
                threading.Thread(target=self.close, daemon=True).start()
                raise

    def _read_message(self):
        resp = json.loads(self._read_frame())
        return resp, self._read_frame()

    def request_with_body(self, header, body=b""):
        """Send one request; return the response header and body, or raise
        EngineError with the engine's message."""

        def send():
            self._send(header, body)
            return self._read_message()

        resp, data = self._exchange(send)
        if not resp.get("ok"):
            raise EngineError(resp.get("error") or "the engine reported an error without a message")
        return resp, data

    def stream(self, header):
        """Send a request whose answer may be streamed: returns a Stream
        whose header is the first response (an error raises here)."""

        def send():
            self._send(header, b"")
            resp, data = self._read_message()
            if not resp.get("ok"):
                raise EngineError(resp.get("error") or "the engine reported an error without a message")
            st = Stream(self, resp, data)
            if resp.get("more"):
                self._stream = st
            return st

        return self._exchange(send)

    def request(self, header, body=b""):
        return self.request_with_body(header, body)[0]

    def close(self):
        """End the session; the engine exits. Safe to call twice, and from
        another thread (or atexit) while a request runs: that request then
        fails and the engine cancels its job."""
        if self._closed:
            return
        self._closed = True
        try:
            # Unlocked: a request may be running in another thread; the
            # engine cancels it. The message is whole or the socket breaks.
            self._send({"op": "close"})
        except (OSError, ValueError):
            pass
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        for c in (self._proc.stdin, self._proc.stdout):
            try:
                c.close()
            except OSError:
                pass
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    @property
    def pid(self):
        return self._proc.pid


class Stream:
    """A response and, when it says More, the messages that follow it: the
    batches of a query's rows as the job makes them (docs/GATEWAY.md)."""

    def __init__(self, gw, header, body):
        self._gw = gw
        self.header = header
        self.body = body
        self._pending = []  # messages read ahead while another request was sent
        self._done = not header.get("more")
        self._error = None
        self.rows = header.get("rows")

    def _read_one(self):
        """Read the next message of this stream (lock held)."""
        resp, data = self._gw._read_message()
        if resp.get("more"):
            return data
        self._done = True
        self._gw._stream = None
        if not resp.get("ok"):
            self._error = EngineError(resp.get("error") or "the engine reported an error without a message")
        self.rows = resp.get("rows")
        return None

    def _drain(self):
        while not self._done:
            data = self._read_one()
            if data is not None:
                self._pending.append(data)

    def next_body(self):
        """The next body of Arrow IPC bytes, or None at the end; the job's
        error raises here."""
        if self._pending:
            return self._pending.pop(0)
        if not self._done:
            def read():
                if self._pending:  # drained meanwhile
                    return self._pending.pop(0)
                if self._done:
                    return None
                return self._read_one()

            with self._gw._lock:
                if self._gw._closed:
                    raise EngineError("the TableEnvironment is closed")
                try:
                    data = read()
                except (OSError, ValueError) as e:
                    raise EngineError(f"lost the connection to the weir engine: {e}") from e
                except BaseException:
                    # Interrupted (Ctrl-C) mid-message: end the session, as
                    # for a request; the engine cancels the job.
                    self.end_session()
                    raise
            if data is not None:
                return data
        if self._error is not None:
            err, self._error = self._error, None
            raise err
        return None

    def end_session(self):
        """End the session from another thread (the caller was interrupted);
        the engine cancels the job."""
        threading.Thread(target=self._gw.close, daemon=True).start()

    def cancel(self):
        """Stop the statement: the engine cancels its job; what it sent
        meanwhile is dropped."""
        self._pending = []
        if self._done:
            return
        with self._gw._lock:
            if self._done or self._gw._closed:
                return
            try:
                self._gw._send({"op": "cancel"})
                while not self._done:
                    self._read_one()
            except (OSError, ValueError):
                pass
            self._error = None
