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
        self._lock = threading.Lock()
        self._closed = False
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

    def request_with_body(self, header, body=b""):
        """Send one request; return the response header and body, or raise
        EngineError with the engine's message."""
        with self._lock:
            if self._closed:
                raise EngineError("the TableEnvironment is closed")
            try:
                self._send(header, body)
                resp = json.loads(self._read_frame())
                data = self._read_frame()
            except (OSError, ValueError) as e:
                if self._closed:
                    raise EngineError("the TableEnvironment was closed while the statement ran") from None
                raise EngineError(f"lost the connection to the weir engine: {e}") from e
            except BaseException:
                # Interrupted (Ctrl-C) mid-exchange: the stream is out of step,
                # so end the session; the engine cancels the statement.
                threading.Thread(target=self.close, daemon=True).start()
                raise
        if not resp.get("ok"):
            raise EngineError(resp.get("error") or "the engine reported an error without a message")
        return resp, data

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
