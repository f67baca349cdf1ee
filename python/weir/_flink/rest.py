"""A few calls of Flink's REST API (the JobManager's ``rest.port``), with the
standard library only."""

import json
import urllib.error
import urllib.request


class RestError(Exception):
    """The cluster did not answer, or answered with an error."""


class Rest:
    """The REST API of the cluster at host:port."""

    def __init__(self, host, port, timeout=10):
        self.base = f"http://{host}:{port}"
        self.timeout = timeout

    def _open(self, path, method="GET"):
        req = urllib.request.Request(self.base + path, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return r.read()
        except urllib.error.HTTPError as e:
            body = e.read().decode(errors="replace")
            try:
                body = "; ".join(json.loads(body).get("errors", [body]))
            except (ValueError, AttributeError):
                pass
            raise RestError(f"{method} {self.base}{path}: HTTP {e.code}: {body.strip()[:2000]}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise RestError(f"{method} {self.base}{path}: {reason}") from None

    def get(self, path):
        return json.loads(self._open(path))

    def text(self, path):
        return self._open(path).decode("utf-8", errors="replace")

    def config(self):
        """The cluster's version and the like (``GET /config``)."""
        return self.get("/config")

    def job(self, job_id):
        return self.get(f"/jobs/{job_id}")

    def exceptions(self, job_id):
        """The root exception of a failed job, or ''."""
        try:
            return self.get(f"/jobs/{job_id}/exceptions").get("root-exception") or ""
        except RestError:
            return ""

    def restarts(self, job_id):
        """(number, first cause) of the failures the job recovered from, or None."""
        try:
            entries = self.get(f"/jobs/{job_id}/exceptions").get("exceptionHistory", {}).get("entries", [])
        except RestError:
            return None
        if not entries:
            return None
        first = entries[-1]
        cause = (first.get("exceptionName") or "") + ": " + (first.get("stacktrace") or "").split("\n", 1)[0]
        return len(entries), cause.strip(": ")[:300]

    def cancel(self, job_id):
        self._open(f"/jobs/{job_id}?mode=cancel", method="PATCH")

    def taskmanagers(self):
        return [tm["id"] for tm in self.get("/taskmanagers").get("taskmanagers", [])]

    def stdout(self, tm_id):
        """The TaskManager's standard output (its ``.out`` file), where the print
        connector writes."""
        try:
            return self.text(f"/taskmanagers/{tm_id}/stdout")
        except RestError:
            return ""
