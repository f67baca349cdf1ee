#!/usr/bin/env python3
"""weir's benchmark suite: weir vs the bare-CPython floor vs PyFlink, in one run.

Run it as `make bench` (or `.venv/bin/python bench/run.py [--quick] [--rows N]
[--skip-pyflink] [--sweep] [--render results.json]`). It runs with weir's virtualenv python and needs
only the standard library; PyFlink runs in its own virtualenv
(bench/.venv-pyflink, created here from bench/requirements-pyflink.txt) and the
chart is drawn in bench/.venv-tools (matplotlib, bench/requirements-tools.txt),
so weir's virtualenv stays as `make setup` left it.

What it measures, and how, is written in bench/README.md. Results go to
bench/results/<date>-<host>.json, .png and bench/results/latest.md.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
RESULTS = os.path.join(BENCH, "results")
WEIR = os.path.join(ROOT, "bin", "weir")
WEIR_PY = os.path.join(ROOT, ".venv", "bin", "python")
UDFS = os.path.join(BENCH, "suite_udfs.py")
PF_VENV = os.path.join(BENCH, ".venv-pyflink")
PF_PY = os.path.join(PF_VENV, "bin", "python")
TOOLS_VENV = os.path.join(BENCH, ".venv-tools")
TOOLS_PY = os.path.join(TOOLS_VENV, "bin", "python")

sys.path.insert(0, BENCH)
import kafka_pipeline  # noqa: E402
import relational  # noqa: E402
import udaf  # noqa: E402
import workloads  # noqa: E402

# PyFlink's settings for the throughput jobs, chosen by `run.py --sweep` on
# this machine (bench/README.md has the sweep's figures): streaming mode (10-40%
# faster than batch for this bounded job), metrics off and object reuse on
# (up to 20% faster), and in process mode bundles of 100,000 rows (the
# default; 10,000 and 1,000,000 were slower).
PF_RUNTIME = "streaming"
PF_SETTINGS = {
    "process": {
        "python.fn-execution.bundle.size": "100000",
        "python.metric.enabled": "false",
        "pipeline.object-reuse": "true",
    },
    "thread": {
        "python.metric.enabled": "false",
        "pipeline.object-reuse": "true",
    },
}
# Latency jobs (both systems): bundles close 10 ms after their first row; size large.
LATENCY_SETTINGS = {
    "python.fn-execution.bundle.time": "10",
    "python.fn-execution.bundle.size": "1000000",
}
LATENCY_WARMUP_S = 2.0  # rows created in the first seconds of a latency run are not counted

TARGETS = {
    "weir_per_call_vs_floor_max": 1.3,
    "weir_vs_pyflink_process_min": 5.0,
    "weir_vs_pyflink_thread_min": 2.0,
    "two_vs_one_worker_min": 1.7,
    "engine_rss_mb_max": 150,
    "startup_10_rows_s_max": 2.0,
    "p99_latency_ms_max": 50,
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Environments


def clean_env(**extra):
    """The environment for child processes: no PIP_CONSTRAINT (the Makefile's
    pins are weir's, not PyFlink's) and no PYTHONPATH leaking between venvs."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PIP_CONSTRAINT", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def ensure_venv(path, requirements, what):
    """Creates `path` with `requirements` installed, unless it is already so."""
    want = open(requirements).read()
    stamp = os.path.join(path, ".bench-requirements")
    py = os.path.join(path, "bin", "python")
    if os.path.exists(stamp) and open(stamp).read() == want and os.path.exists(py):
        return True
    log(f"bench: installing {what} into {os.path.relpath(path, ROOT)} (once) ...")
    t0 = time.time()
    env = clean_env()
    try:
        if not os.path.exists(py):
            # the CPython weir's virtualenv was made from: the same interpreter for all
            base = getattr(sys, "_base_executable", None) or sys.executable
            subprocess.run([base, "-m", "venv", path], check=True, env=env)
        subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", requirements], check=True, env=env)
    except subprocess.CalledProcessError as e:
        log(f"bench: installing {what} failed: {e}")
        return False
    with open(stamp, "w") as f:
        f.write(want)
    log(f"bench: {what} installed in {time.time() - t0:.0f} s")
    return True


def java_home():
    jh = os.environ.get("JAVA_HOME")
    if jh and os.path.exists(os.path.join(jh, "bin", "java")):
        return jh
    java = shutil.which("java")
    if not java:
        return None
    return os.path.dirname(os.path.dirname(os.path.realpath(java)))


def cmd_out(cmd, **kw):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)
        return (r.stdout + r.stderr).strip()
    except Exception as e:  # noqa: BLE001
        return f"? ({e})"


def machine_facts():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    jh = java_home()
    java = cmd_out([os.path.join(jh, "bin", "java"), "-version"]) if jh else "none"
    commit = cmd_out(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = cmd_out(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])
    return {
        "host": socket.gethostname(),
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": cmd_out([WEIR_PY, "-c", "import sys; print(sys.version.split()[0])"]),
        "go": cmd_out(["go", "version"]),
        "java": java.splitlines()[0] if java else "?",
        "java_home": jh,
        "weir_commit": commit + ("+dirty" if dirty else ""),
        "weir_version": cmd_out([WEIR, "version"]),
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
    }


# --------------------------------------------------------------------------
# Running a process tree and sampling its memory


CLK_TCK = os.sysconf("SC_CLK_TCK")


def _read_status(pid):
    rss = hwm = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm


def _ppid_map():
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            out[int(d)] = int(s.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return out


class ProcSampler(threading.Thread):
    """Polls /proc every `interval` s for a process and its descendants and
    keeps each one's peak resident memory: the largest VmRSS seen and its
    VmHWM (the kernel's own high-water mark, which also catches peaks between
    polls). New descendants are looked for every fourth poll."""

    def __init__(self, root, interval=0.05):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.procs = {}  # pid -> {"ppid", "cmd", "rss_kb", "hwm_kb"}
        self._stop_evt = threading.Event()
        self._add(root, 0)

    def _add(self, pid, ppid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            cmd = ""
        p = self.procs.get(pid)
        if p is None:
            self.procs[pid] = {"ppid": ppid, "cmd": cmd, "rss_kb": 0, "hwm_kb": 0, "cpu_s": 0.0}
        elif cmd:  # empty while exec'ing or once a zombie: keep the last one
            p["cmd"] = cmd

    def _discover(self):
        # A process seen between fork and exec shows its parent's command
        # line: read them again (the role goes by the last one).
        for pid in list(self.procs):
            self._add(pid, self.procs[pid]["ppid"])
        pm = _ppid_map()
        changed = True
        while changed:
            changed = False
            for pid, ppid in pm.items():
                if pid not in self.procs and ppid in self.procs:
                    self._add(pid, ppid)
                    changed = pid in self.procs or changed

    def poll(self):
        for pid, p in self.procs.items():
            try:
                rss, hwm = _read_status(pid)
                with open(f"/proc/{pid}/stat") as f:
                    st = f.read().rsplit(")", 1)[1].split()
                p["cpu_s"] = (int(st[11]) + int(st[12])) / CLK_TCK
            except (OSError, ValueError, IndexError):
                continue
            if rss is not None:
                p["rss_kb"] = max(p["rss_kb"], rss)
            if hwm is not None:
                p["hwm_kb"] = max(p["hwm_kb"], hwm)

    def run(self):
        n = 0
        while not self._stop_evt.is_set():
            if n % 4 == 0:
                self._discover()
            self.poll()
            n += 1
            self._stop_evt.wait(self.interval)

    def stop(self):
        self._stop_evt.set()
        self.join()

    def peaks(self):
        """Each process: role, peak MB (max of VmRSS samples and VmHWM)."""
        out = []
        for pid, p in sorted(self.procs.items()):
            peak = max(p["rss_kb"], p["hwm_kb"]) / 1024
            out.append({"pid": pid, "role": role_of(p["cmd"], pid == self.root),
                        "peak_mb": round(peak, 1), "cpu_s": round(p["cpu_s"], 2), "cmd": p["cmd"][:160]})
        return out


def role_of(cmd, is_root):
    """engine: weir or the JVM; worker: a Python worker (weir's, or PyFlink's
    process-mode beam_boot); client: PyFlink's driver; other: helpers (PyFlink's
    runner script, tee, weir's describe step)."""
    parts = cmd.split()
    exe = os.path.basename(parts[0]) if parts else ""
    if "weir.worker" in cmd or "pyflink.fn_execution.beam.beam_boot" in cmd:
        return "worker"
    if exe in ("java", "weir"):
        return "engine"
    if "pyflink_job.py" in cmd:
        return "client"
    return "other"


def summarize_rss(peaks):
    eng = [p["peak_mb"] for p in peaks if p["role"] == "engine"]
    wrk = [p["peak_mb"] for p in peaks if p["role"] == "worker"]
    cli = [p["peak_mb"] for p in peaks if p["role"] == "client"]
    return {
        "engine_mb": max(eng) if eng else None,
        "worker_max_mb": max(wrk) if wrk else None,
        "workers_sum_mb": round(sum(wrk), 1) if wrk else None,
        "worker_processes_seen": len(wrk),
        "client_mb": max(cli) if cli else None,
        # CPU seconds (user + system) as last seen, a little short of the total
        "engine_cpu_s": round(sum(p["cpu_s"] for p in peaks if p["role"] == "engine"), 2),
        "workers_cpu_s": round(sum(p["cpu_s"] for p in peaks if p["role"] == "worker"), 2),
    }


def run_proc(cmd, env, cwd=None, on_stdout=None, timeout=1800, end_leftovers=False):
    """Runs cmd under a ProcSampler. Returns the wall time until cmd exits
    (wall_s) and until its output closed (wall_eof_s: later when a child, like
    PyFlink's JVM, outlives it), return code, output and peak memory. With
    on_stdout, stdout is handed over in chunks as it comes, with the wall clock
    (ns) of each read. With end_leftovers, descendants still running when cmd
    has exited are killed (by pid: processes this run started; PyFlink's JVM
    takes ~5 s to shut down after its client is gone)."""
    errf = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=errf, bufsize=0)
    sampler = ProcSampler(p.pid)
    sampler.start()
    t_exit = []

    def waiter():
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"bench: {cmd[0]} ran over {timeout} s: killing it")
            p.kill()
            p.wait()
        t_exit.append(time.perf_counter())
        if end_leftovers:
            for pid in list(sampler.procs):
                if pid != p.pid:
                    try:
                        os.kill(pid, 9)
                    except OSError:
                        pass

    wt = threading.Thread(target=waiter, daemon=True)
    wt.start()
    chunks = []
    fd = p.stdout.fileno()
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        if on_stdout is None:
            chunks.append(chunk)
        else:
            on_stdout(chunk, time.time_ns())
    t_eof = time.perf_counter()
    wt.join()
    sampler.stop()
    errf.seek(0)
    err = errf.read().decode(errors="replace")
    peaks = sampler.peaks()
    return {"wall_s": t_exit[0] - t0, "wall_eof_s": t_eof - t0, "rc": p.returncode,
            "stdout": b"".join(chunks).decode(errors="replace"), "stderr": err, "procs": peaks,
            "rss": summarize_rss(peaks)}


# --------------------------------------------------------------------------
# The systems


_GO_UNITS = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "μs": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def go_duration_ms(text):
    """Milliseconds of a Go duration string such as 6.98ms, 850µs or 1m2.5s."""
    total, found = 0.0, False
    for num, unit in re.findall(r"([\d.]+)(ns|us|µs|μs|ms|s|m|h)", text):
        total += float(num) * _GO_UNITS[unit]
        found = True
    return total if found else None


def weir_stage_latency(text):
    """weir's own Python-stage latency (per batch, from the batch reaching the
    stage to its results joined), when this weir prints it."""
    m = re.search(r"Python stages: (\d+) batches, latency p50 (\S+), p99 (\S+)", text)
    if m:
        return {"batches": int(m.group(1)), "p50_ms": go_duration_ms(m.group(2).rstrip(",")),
                "p99_ms": go_duration_ms(m.group(3))}
    m = re.search(r"latency per batch: p50 ([\d.]+) ms\s+p99 ([\d.]+) ms\s+\((\d+) batches\)", text)
    if m:
        return {"batches": int(m.group(3)), "p50_ms": float(m.group(1)), "p99_ms": float(m.group(2))}
    return None


def weir_env():
    return clean_env(WEIR_PYTHON=WEIR_PY)


def weir_flip121(rows, columns, workers):
    r = run_proc([WEIR, "bench", "flip121", "--rows", str(rows), "--columns", str(columns),
                  "--workers", str(workers)], weir_env(), cwd=tempfile.gettempdir())
    m = re.search(r"rows: (\d+)\s+seconds: ([\d.]+)\s+rows/s: ([\d.]+)\s+calls/s: ([\d.]+)", r["stdout"])
    if r["rc"] != 0 or not m:
        raise RuntimeError(f"weir bench flip121 failed (rc {r['rc']}):\n{r['stdout']}\n{r['stderr']}")
    rows_done, secs = int(m.group(1)), float(m.group(2))
    out = result("weir", "flip121", "-", workers, columns, rows_done, secs, r,
                 calls=rows_done * columns, reported_rows_per_s=float(m.group(3)),
                 stage_latency=weir_stage_latency(r["stdout"]))
    # weir also reports its throughput after start-up (workers connected).
    s = re.search(r"start-up: ([\d.]+) s\s+after start-up: ([\d.]+) s\s+rows/s: ([\d.]+)", r["stdout"])
    if s:
        out["startup_s"] = float(s.group(1))
        out["steady_rows_per_s"] = float(s.group(3))
        out["steady_ns_per_call"] = 1e9 / (out["steady_rows_per_s"] * columns)
    return out


def weir_sql(workload, rows, columns=1, workers=1, rate=None, settings=None, on_stdout=None, tmp=None):
    script = workloads.script(workload, rows, columns, rate=rate, settings=settings)
    path = os.path.join(tmp, f"{workload}.sql")
    with open(path, "w") as f:
        f.write(script)
    r = run_proc([WEIR, "sql", "-f", path, "--pyfiles", UDFS, "-D", f"parallelism.default={workers}"],
                 weir_env(), cwd=tmp, on_stdout=on_stdout)
    m = re.search(r"job finished: (\d+) rows in ([\d.]+) s", r["stderr"])
    if r["rc"] != 0 or not m:
        raise RuntimeError(f"weir sql {workload} failed (rc {r['rc']}):\n{r['stderr'][-3000:]}")
    out_rows, secs = int(m.group(1)), float(m.group(2))
    return result("weir", workload, "-", workers, columns, rows, secs, r, calls=rows * columns,
                  output_rows=out_rows, stage_latency=weir_stage_latency(r["stderr"]))


def pyflink(workload, rows, columns=1, parallelism=1, mode="process", runtime=PF_RUNTIME,
            config=None, rate=None, warmup_rows=0, fixed_rows=0, on_stdout=None, fast_exit=False,
            end_leftovers=None):
    spec = {"workload": workload, "rows": rows, "columns": columns, "parallelism": parallelism,
            "mode": mode, "runtime": runtime, "rate": rate, "warmup_rows": warmup_rows,
            "fixed_rows": fixed_rows, "config": config if config is not None else PF_SETTINGS[mode],
            "fast_exit": fast_exit}
    env = clean_env(JAVA_HOME=java_home() or "")
    r = run_proc([PF_PY, os.path.join(BENCH, "pyflink_job.py"), json.dumps(spec)], env,
                 cwd=tempfile.gettempdir(), on_stdout=on_stdout,
                 end_leftovers=fast_exit if end_leftovers is None else end_leftovers)
    res = getattr(on_stdout, "result", None)
    for line in r["stdout"].splitlines():
        if line.startswith("@@RESULT "):
            res = json.loads(line[len("@@RESULT "):])
    if r["rc"] != 0 or res is None:
        tail = "\n".join(l for l in r["stderr"].splitlines() if not l.lstrip().startswith("at "))[-3000:]
        raise RuntimeError(f"PyFlink {workload} ({mode}, p={parallelism}) failed (rc {r['rc']}):\n{tail}")
    out = result("pyflink", workload, mode, parallelism, columns, rows, res["t_job"], r,
                 calls=rows * columns)
    out["pyflink"] = res
    # wall time of start-up + this job: the warm-up and fixed-cost jobs left out
    out["wall_with_warmups_s"] = out["wall_s"]
    out["wall_s"] = out["wall_s"] - res.get("t_warmup", 0) - res.get("t_fixed", 0)
    if res.get("t_fixed") is not None and res["t_job"] > res["t_fixed"]:
        # steady state: the rows beyond the fixed-cost job over the time beyond it
        steady = (rows - res["fixed_rows"]) / (res["t_job"] - res["t_fixed"])
        out["steady_rows_per_s"] = steady
        out["steady_ns_per_call"] = 1e9 / (steady * columns)
    return out


def result(system, workload, mode, workers, columns, rows, secs, r, calls, **extra):
    d = {
        "system": system, "workload": workload, "mode": mode, "workers": workers,
        "columns": columns, "rows": rows, "seconds": secs,
        "rows_per_s": rows / secs, "ns_per_row": secs * 1e9 / rows,
        "ns_per_call": secs * 1e9 / calls, "wall_s": r["wall_s"], "wall_eof_s": r["wall_eof_s"],
        "rss": r["rss"],
        "procs": r["procs"],
    }
    d.update(extra)
    return d


# --------------------------------------------------------------------------
# Latency: rows carry their creation time (ts) and the call time (t) to a
# print sink; the suite reads the printed lines as they come.


class LineSampler:
    """Collects printed '+I[c0, ts, t]' lines as they are read, with the wall
    clock of the read. To keep up with a million lines a second it takes one
    line every `stride` bytes of output (rows are all about the same length,
    so this samples rows uniformly) and counts the rest."""

    def __init__(self, stride=2048):
        self.stride, self.rest, self.samples, self.lines = stride, b"", [], 0
        self.result = None
        self.first_read_ns = None

    def __call__(self, chunk, t_ns):
        if self.first_read_ns is None:
            self.first_read_ns = t_ns
        buf = self.rest + chunk
        end = buf.rfind(b"\n")
        if end < 0:
            self.rest = buf
            return
        self.lines += buf.count(b"\n", 0, end + 1)
        pos = 0
        while pos <= end:
            nl = buf.find(b"\n", pos)
            line = buf[pos:nl]
            if line.startswith(b"+I["):
                self.samples.append((line, t_ns))
            elif line.startswith(b"@@RESULT "):
                self.result = json.loads(line[len(b"@@RESULT "):])
            nxt = buf.find(b"\n", pos + self.stride)
            if nxt < 0 or nxt >= end:
                break
            pos = nxt + 1
        # results of the driver are on the last line: look there too
        last = buf[:end].rsplit(b"\n", 1)[-1]
        if last.startswith(b"@@RESULT "):
            self.result = json.loads(last[len(b"@@RESULT "):])
        self.rest = buf[end + 1:]

    def analyze(self):
        def ts_ns(b):
            d = datetime.datetime.fromisoformat(b.decode().replace("Z", "+00:00"))
            return round(d.timestamp() * 1000) * 1_000_000

        rows = []
        for line, t_read in self.samples:
            parts = line[3:-1].split(b", ")
            try:
                rows.append((ts_ns(parts[1]), int(parts[2]), t_read))
            except (ValueError, IndexError):
                continue
        if not rows:
            return {"samples": 0}
        t0 = min(r[0] for r in rows)
        steady = [r for r in rows if r[0] >= t0 + LATENCY_WARMUP_S * 1e9] or rows

        def stats(vals):
            vals = sorted(vals)

            def q(p):
                return round(vals[min(len(vals) - 1, int(p * len(vals)))] / 1e6, 3)

            return {"p50_ms": q(0.5), "p90_ms": q(0.9), "p99_ms": q(0.99), "max_ms": round(vals[-1] / 1e6, 3)}

        out = {"lines": self.lines, "samples": len(rows), "samples_counted": len(steady)}
        out["e2e"] = stats([tr - ts for ts, tc, tr in steady])
        out["src_to_call"] = stats([tc - ts for ts, tc, tr in steady])
        out["call_to_sink"] = stats([tr - tc for ts, tc, tr in steady])
        out["e2e_incl_warmup"] = stats([tr - ts for ts, tc, tr in rows])
        return out


def latency_run(system, rate, seconds, mode="-", tmp=None):
    rows = max(1000, int(rate * seconds))
    ls = LineSampler()
    if system == "weir":
        r = weir_sql("latency", rows, rate=rate, settings=LATENCY_SETTINGS, on_stdout=ls, tmp=tmp)
    else:
        cfg = dict(PF_SETTINGS[mode])
        cfg.update(LATENCY_SETTINGS)
        r = pyflink("latency", rows, mode=mode, runtime="streaming", config=cfg, rate=rate, on_stdout=ls)
    r["rate"] = rate
    r["latency"] = ls.analyze()
    return r


# --------------------------------------------------------------------------
# Output


def fmt(v, spec="{:,.0f}", none="—"):
    return none if v is None else spec.format(v)


TABLE_COLS = ["system", "workload", "mode", "workers", "columns", "rows", "seconds", "rows/s",
              "steady rows/s", "ns/call", "x floor", "RSS engine MB", "RSS worker MB", "wall s"]


def table_rows(results, floor):
    out = []
    for r in results:
        fl = floor.get(r["workload"] if r["workload"] != "flip121" else "inc", {}).get("ns_per_call")
        ratio = r["ns_per_call"] / fl if fl else None
        if r["system"] == "floor":
            out.append(["CPython floor", r["workload"], "list(map)", "—", "1", f"{r['rows']:,}", "—",
                        fmt(1e9 / r["ns_per_call"]), "—", f"{r['ns_per_call']:.1f}", "1.00", "—", "—", "—"])
            continue
        rss = r["rss"]
        wk = rss["worker_max_mb"]
        wk_s = "—" if wk is None else f"{wk:.0f}"
        if r["system"] == "pyflink" and r["mode"] == "thread":
            wk_s = "in JVM"
        eng = rss["engine_mb"]
        out.append([
            r["system"], r["workload"], r["mode"], str(r["workers"]), str(r["columns"]), f"{r['rows']:,}",
            f"{r['seconds']:.2f}", fmt(r["rows_per_s"]), fmt(r.get("steady_rows_per_s")),
            f"{r['ns_per_call']:.1f}", fmt(ratio, "{:.2f}"), fmt(eng, "{:.0f}"), wk_s, f"{r['wall_s']:.2f}",
        ])
    return out


def print_table(rows, cols):
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(v.rjust(w) if i >= 3 else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths))))


def markdown_table(rows, cols):
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join(" --- " for _ in cols) + "|"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out)


LAT_COLS = ["system", "mode", "rows/s", "rows", "source->sink p50 / p99 ms", "source->call p50 / p99 ms",
            "call->sink p50 / p99 ms", "weir stage metric p50 / p99 ms"]


def latency_rows(lat):
    out = []
    for l in lat:
        L = l["latency"]
        if not L.get("samples"):
            out.append([l["system"], l["mode"], fmt(l["rate"]), f"{l['rows']:,}", "no samples", "", "", ""])
            continue
        st = l.get("stage_latency")

        def pp(d):
            return f"{d['p50_ms']:.1f} / {d['p99_ms']:.1f}"

        out.append([l["system"], l["mode"], fmt(l["rate"]), f"{l['rows']:,}", pp(L["e2e"]), pp(L["src_to_call"]),
                    pp(L["call_to_sink"]), pp(st) if st else "—"])
    return out


SU_COLS = ["system", "mode", "wall s (median)", "wall s (best)", "runs", "to job end s", "RSS engine MB"]


def startup_rows(su):
    out = []
    for k, v in su.items():
        system, _, mode = k.partition("_")
        out.append([system, mode or "-", f"{v['median_s']:.2f}", f"{v['best_s']:.2f}", str(len(v["walls_s"])),
                    fmt(v.get("to_job_end_s"), "{:.2f}"), fmt(v["rss"]["engine_mb"], "{:.0f}")])
    return out


def find(results, **kw):
    for r in results:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def headlines(data):
    res, floor = data["results"], data["floor"]
    h = {}
    fl = floor["inc"]["ns_per_call"]
    for c in (1, 10):
        w = find(res, system="weir", workload="flip121", workers=1, columns=c)
        if w:
            h[f"weir_per_call_vs_floor_{c}col"] = w.get("steady_ns_per_call", w["ns_per_call"]) / fl
            h[f"weir_per_call_vs_floor_{c}col_job"] = w["ns_per_call"] / fl
    for mode in ("process", "thread"):
        for c in (1, 10):
            for p in (1, 2):
                w = find(res, system="weir", workload="flip121", workers=p, columns=c)
                f = find(res, system="pyflink", workload="flip121", mode=mode, workers=p, columns=c)
                if w and f:
                    h[f"weir_vs_pyflink_{mode}_{c}col_p{p}_steady"] = (
                        w.get("steady_rows_per_s", w["rows_per_s"]) / f["steady_rows_per_s"]
                        if f.get("steady_rows_per_s") else None)
                    h[f"weir_vs_pyflink_{mode}_{c}col_p{p}_job"] = w["rows_per_s"] / f["rows_per_s"]
    for c in (1, 10):
        w1 = find(res, system="weir", workload="flip121", workers=1, columns=c)
        w2 = find(res, system="weir", workload="flip121", workers=2, columns=c)
        if w1 and w2:
            h[f"weir_2_vs_1_worker_{c}col"] = (w2.get("steady_rows_per_s", w2["rows_per_s"])
                                               / w1.get("steady_rows_per_s", w1["rows_per_s"]))
            h[f"weir_2_vs_1_worker_{c}col_job"] = w2["rows_per_s"] / w1["rows_per_s"]
    eng = [r["rss"]["engine_mb"] for r in res if r["system"] == "weir" and r["rss"]["engine_mb"]]
    if eng:
        h["weir_engine_peak_rss_mb"] = max(eng)
    for wl in ("flip121", "upper", "udtf"):
        e = [r["rss"]["engine_mb"] for r in res if r["system"] == "weir" and r["workload"] == wl
             and r["rss"]["engine_mb"]]
        if e:
            h[f"weir_engine_peak_rss_mb_{wl}"] = max(e)
    wk = [r["rss"]["worker_max_mb"] for r in res if r["system"] == "weir" and r["rss"]["worker_max_mb"]]
    if wk:
        h["weir_worker_peak_rss_mb"] = max(wk)
    su = data.get("startup", {})
    if su.get("weir"):
        h["startup_10_rows_weir_s"] = su["weir"]["median_s"]
    for mode in ("process", "thread"):
        if su.get(f"pyflink_{mode}"):
            h[f"startup_10_rows_pyflink_{mode}_s"] = su[f"pyflink_{mode}"]["median_s"]
    ls = data.get("latency_stage")
    if ls and ls.get("stage_latency"):
        h["weir_stage_p99_ms_half_load"] = ls["stage_latency"]["p99_ms"]
        h["weir_stage_p50_ms_half_load"] = ls["stage_latency"]["p50_ms"]
    lat = data.get("latency", [])
    for l in lat:
        key = f"{l['system']}" + (f"_{l['mode']}" if l["mode"] != "-" else "") + f"_at_{l['rate']:.0f}rps"
        if l["latency"].get("samples"):
            h[f"p99_e2e_ms_{key}"] = l["latency"]["e2e"]["p99_ms"]
            h[f"p99_call_to_sink_ms_{key}"] = l["latency"]["call_to_sink"]["p99_ms"]
    for wl in ("upper", "udtf"):
        w = find(res, system="weir", workload=wl)
        if w and wl in floor:
            h[f"weir_{wl}_per_call_vs_floor"] = w["ns_per_call"] / floor[wl]["ns_per_call"]
        for mode in ("process", "thread"):
            f = find(res, system="pyflink", workload=wl, mode=mode)
            if w and f:
                h[f"weir_vs_pyflink_{mode}_{wl}_steady"] = (
                    w["rows_per_s"] / f["steady_rows_per_s"] if f.get("steady_rows_per_s") else None)
                h[f"weir_vs_pyflink_{mode}_{wl}_job"] = w["rows_per_s"] / f["rows_per_s"]
    return h


def headline_lines(h, data):
    def g(k, spec="{:.2f}"):
        v = h.get(k)
        return "n/a" if v is None else spec.format(v)

    T = TARGETS
    lines = [
        f"weir per call / floor, 1 worker, after start-up: 1 column {g('weir_per_call_vs_floor_1col')}x, "
        f"10 columns {g('weir_per_call_vs_floor_10col')}x (target <= {T['weir_per_call_vs_floor_max']}x); "
        f"whole job with start-up: {g('weir_per_call_vs_floor_1col_job')}x, {g('weir_per_call_vs_floor_10col_job')}x",
    ]
    for mode, tgt in (("process", T["weir_vs_pyflink_process_min"]), ("thread", T["weir_vs_pyflink_thread_min"])):
        parts = []
        for c in (1, 10):
            for p in (1, 2):
                s = h.get(f"weir_vs_pyflink_{mode}_{c}col_p{p}_steady")
                j = h.get(f"weir_vs_pyflink_{mode}_{c}col_p{p}_job")
                if j is not None:
                    parts.append(f"{c}col p{p} {j:.1f}x" + (f" ({s:.1f}x)" if s else ""))
        if parts:
            lines.append(f"weir / PyFlink {mode} mode rows/s, equal parallelism, whole jobs (in brackets: "
                         "both after their fixed start-up cost): " + ", ".join(parts)
                         + f" (target >= {tgt}x)")
    lines.append(f"weir 2 workers / 1 worker, after start-up: 1 column {g('weir_2_vs_1_worker_1col')}x, "
                 f"10 columns {g('weir_2_vs_1_worker_10col')}x (whole jobs {g('weir_2_vs_1_worker_1col_job')}x, "
                 f"{g('weir_2_vs_1_worker_10col_job')}x) (target >= {T['two_vs_one_worker_min']}x; "
                 f"{data['machine']['nproc']} cores)")
    lines.append(f"weir engine peak RSS: {g('weir_engine_peak_rss_mb', '{:.0f}')} MB over all jobs (FLIP-121 "
                 f"{g('weir_engine_peak_rss_mb_flip121', '{:.0f}')}, upper {g('weir_engine_peak_rss_mb_upper', '{:.0f}')}, "
                 f"udtf {g('weir_engine_peak_rss_mb_udtf', '{:.0f}')}) (target <= {T['engine_rss_mb_max']} MB); "
                 f"largest worker {g('weir_worker_peak_rss_mb', '{:.0f}')} MB")
    lines.append(f"10-row job start-up (wall, median): weir {g('startup_10_rows_weir_s')} s, PyFlink process "
                 f"{g('startup_10_rows_pyflink_process_s')} s, thread {g('startup_10_rows_pyflink_thread_s')} s "
                 f"(target weir < {T['startup_10_rows_s_max']} s)")
    ls = data.get("latency_stage")
    if ls and ls.get("stage_latency"):
        lines.append(f"weir Python-stage latency (weir's metric, per batch) at {ls['rate']:,.0f} rows/s "
                     f"(half its throughput), blackhole: p50 {ls['stage_latency']['p50_ms']:.2f} ms, "
                     f"p99 {ls['stage_latency']['p99_ms']:.2f} ms (target p99 < {T['p99_latency_ms_max']} ms)")
    for l in data.get("latency", []):
        L = l["latency"]
        if not L.get("samples"):
            continue
        name = l["system"] + (f" {l['mode']}" if l["mode"] != "-" else "")
        st = l.get("stage_latency")
        lines.append(
            f"latency {name} at {l['rate']:,.0f} rows/s, print sink: source->sink p50 {L['e2e']['p50_ms']:.1f} ms, "
            f"p99 {L['e2e']['p99_ms']:.1f} ms; call->sink p50 {L['call_to_sink']['p50_ms']:.1f} ms, "
            f"p99 {L['call_to_sink']['p99_ms']:.1f} ms"
            + (f"; weir's stage metric p50 {st['p50_ms']:.1f} ms, p99 {st['p99_ms']:.1f} ms" if st else ""))
    for wl in ("upper", "udtf"):
        if h.get(f"weir_{wl}_per_call_vs_floor") is not None:
            s = f"{wl}: weir per row / floor {g(f'weir_{wl}_per_call_vs_floor')}x"
            for mode in ("process", "thread"):
                v = h.get(f"weir_vs_pyflink_{mode}_{wl}_job")
                v2 = h.get(f"weir_vs_pyflink_{mode}_{wl}_steady")
                if v is not None:
                    s += f"; weir / PyFlink {mode} {v:.1f}x" + (f" ({v2:.1f}x steady)" if v2 else "")
            lines.append(s)
    return lines


def write_outputs(data, args):
    os.makedirs(RESULTS, exist_ok=True)
    stem = f"{data['date']}-{data['machine']['host']}" + ("-quick" if args.quick else "")
    jpath = os.path.join(RESULTS, stem + ".json")
    with open(jpath, "w") as f:
        json.dump(data, f, indent=1)
    rows = table_rows(data["results_with_floor"], data["floor"])
    m = data["machine"]
    machine_line = (f"{m['host']}: {m['nproc']} cores ({m['cpu_model']}), {m['memory_gib']} GiB, "
                    f"Python {m['python']}, {m['go']}, {m['java']}, weir {m['weir_commit']}, "
                    f"PyFlink {data.get('pyflink_version', 'not run')}; suite {data['suite_seconds']:.0f} s")
    md = [f"# Benchmark results ({data['date']})", "", f"Machine: {machine_line}", "",
          markdown_table(rows, TABLE_COLS), "",
          "Start-up: a 10-row job (datagen -> inc -> blackhole), wall time of the whole command:", "",
          markdown_table(startup_rows(data["startup"]), SU_COLS), "",
          "Latency: rate-limited datagen -> stamp(c0) -> print, bundles closed after 10 ms "
          f"(first {LATENCY_WARMUP_S:.0f} s of rows not counted; method in bench/README.md):", "",
          markdown_table(latency_rows(data["latency"]), LAT_COLS), "",
          "Headlines (ratios from this one run):", ""]
    md += [f"- {l}" for l in data["headline_lines"]]
    if data.get("relational"):
        md += ["", "Relational operators (bench/relational.py), rows/s:", "", relational.markdown(data["relational"])]
    md += ["", "rows/s and ns/call use each job's own time (weir: from job start, Python workers included; "
           "PyFlink: execute_sql to wait(), in a warmed-up JVM). PyFlink's steady rows/s leaves out its fixed "
           "per-job cost (the median time of three 1,000-row jobs). `x floor`: ns/call over the bare CPython "
           "list(map(f, values)) on one core (so 2-worker rows can go below 1; udtf: per input row). "
           "RSS: peak resident memory of the engine process (weir / the JVM) and of the largest Python worker. "
           "See bench/README.md for the method.", ""]
    if not args.quick:
        with open(os.path.join(RESULTS, "latest.md"), "w") as f:
            f.write("\n".join(md))
    with open(os.path.join(RESULTS, stem + ".md"), "w") as f:
        f.write("\n".join(md))
    png = os.path.join(RESULTS, stem + ".png")
    if os.path.exists(TOOLS_PY):
        r = subprocess.run([TOOLS_PY, os.path.join(BENCH, "chart.py"), jpath, png], env=clean_env(),
                           capture_output=True, text=True)
        if r.returncode != 0:
            log("bench: chart failed:", r.stderr[-2000:])
            png = None
    else:
        png = None
    return jpath, png, machine_line


# --------------------------------------------------------------------------
# The suite


def sizes(args):
    """Rows per job. weir's N is --rows; the others follow it."""
    n = args.rows or (1_000_000 if args.quick else 10_000_000)
    s = {
        "weir_flip121": n,
        "weir_upper": n // 2,
        "weir_udtf": n // 5,
        "pf_flip121_1col": max(1000, n // 5),
        "pf_flip121_10col": max(1000, n // 10),
        "pf_upper": max(1000, n // 10),
        "pf_udtf": max(1000, n // 25),
        "pf_warmup": 0 if args.quick else max(1000, n // 100),
        "pf_fixed": 0 if args.quick else 1000,
        "floor": 1_000_000 if not args.quick else 300_000,
        "reps": 1 if args.quick else 2,
        "latency_s": 6 if args.quick else 15,
        "latency_cap_weir": n // 2,
        "latency_cap_pf": max(1000, n // 10),
        "startup_reps": 1 if args.quick else 3,
        # The vectorized workload: x + 1 by a pandas function over 100M INT rows, 1 worker.
        "weir_vectorized": args.vectorized_rows or (2_000_000 if args.quick else 100_000_000),
    }
    s["pf_vectorized"] = max(1000, s["weir_vectorized"] // 20)
    # The relational workloads (bench/relational.py): GROUP BY, join, ORDER BY over N rows.
    s["relational"] = args.relational_rows or (1_000_000 if args.quick else 10_000_000)
    return s


def run_relational(args, S, data, tmp, run_pf):
    """GROUP BY / join / ORDER BY: weir vs Flink batch vs DuckDB over the same rows (bench/relational.py)."""
    rel = relational.run(S["relational"], S["reps"], tmp, run_pf, sys.modules[__name__])
    data["relational"] = rel
    return rel["lines"]


def run_relational_only(args):
    S = sizes(args)
    run_pf = not args.skip_pyflink and java_home() is not None and ensure_venv(
        PF_VENV, os.path.join(BENCH, "requirements-pyflink.txt"), "PyFlink")
    data = {"date": datetime.date.today().isoformat(), "machine": machine_facts(), "args": vars(args),
            "sizes": S}
    tmp = tempfile.mkdtemp(prefix="weir-bench-")
    t0 = time.time()
    try:
        lines = run_relational(args, S, data, tmp, run_pf)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    data["relational_seconds"] = time.time() - t0
    data["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    os.makedirs(RESULTS, exist_ok=True)
    stem = f"{data['date']}-{socket.gethostname()}-relational" + ("-quick" if args.quick else "")
    path = os.path.join(RESULTS, stem + ".json")
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
    with open(os.path.join(RESULTS, stem + ".md"), "w") as f:
        f.write(f"# Relational benchmarks ({data['date']})\n\n" + relational.markdown(data["relational"]) + "\n\n"
                + "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"{data['relational_seconds']:.0f} s; load average at the end: {' '.join(data['machine']['loadavg_end'])}; "
          f"results: {os.path.relpath(path, ROOT)}")


# weir's python.fn-execution.arrow.batch.size (internal/config): the vectorized
# job's batches unless --vectorized-batch-size, and the numpy floor's.
WEIR_BATCH_ROWS = 1_000_000


def run_vectorized(args, S, res, data, tmp, run_pf):
    """The vectorized workload: weir's pandas x + 1 over S["weir_vectorized"]
    rows with 1 worker, against numpy's x + 1 over the same number of values
    (the floor, in batches of weir's batch size and as one array), DuckDB's
    Arrow UDF (the anchor, one thread) and PyFlink's pandas UDF, in one run."""
    n = S["weir_vectorized"]
    # python.fn-execution.arrow.batch.size: weir's default (1,000,000) unless --vectorized-batch-size.
    batch = args.vectorized_batch_size
    settings = {"python.fn-execution.arrow.batch.size": batch} if batch else None
    log(f"bench: vectorized: numpy floor over {n:,} values ...")
    r = subprocess.run([WEIR_PY, os.path.join(BENCH, "numpy_floor.py"), str(n), str(batch or WEIR_BATCH_ROWS)],
                       capture_output=True, text=True, env=clean_env(), check=True)
    fl = json.loads(r.stdout)
    data["vectorized_floor"] = fl
    log(f"bench:   numpy x + 1: {fl['ns_per_row']:.2f} ns/row in batches of {fl['batch']:,}, "
        f"{fl['whole_array_ns_per_row']:.2f} as one array")
    if ensure_venv(TOOLS_VENV, os.path.join(BENCH, "requirements-tools.txt"), "duckdb and matplotlib"):
        r = subprocess.run([TOOLS_PY, os.path.join(BENCH, "duckdb_anchor.py"), str(n)], capture_output=True,
                           text=True, env=clean_env())
        if r.returncode == 0:
            data["vectorized_duckdb"] = json.loads(r.stdout)
            d = data["vectorized_duckdb"]
            log(f"bench:   DuckDB {d['duckdb_version']} Arrow UDF: {d['udf_ns_per_row']:.2f} ns/row "
                f"(its own x + 1: {d['native_ns_per_row']:.2f})")
        else:
            log(f"bench:   DuckDB anchor failed: {r.stderr[-2000:]}")
    # Best of args.vectorized_reps runs, as the anchor (best of 3) and the
    # floor (best of 5): one run on a shared machine says as much about the
    # other processes as about weir. The runs alternate with those of the
    # same job over a tenth of the rows: the difference is the cost of 0.9 n
    # rows without the start-up (the worker importing pandas and Beam).
    runs, smalls = [], []
    for _ in range(max(1, args.vectorized_reps)):
        runs.append(weir_sql("vectorized", n, tmp=tmp, settings=settings))
        smalls.append(weir_sql("vectorized", max(1, n // 10), tmp=tmp, settings=settings))
    x = min(runs, key=lambda r: r["seconds"])
    small = min(smalls, key=lambda r: r["seconds"])
    x["runs_s"] = [r["seconds"] for r in runs]
    x["batch_size"] = batch or WEIR_BATCH_ROWS
    if x["seconds"] > small["seconds"]:
        x["steady_rows_per_s"] = (n - small["rows"]) / (x["seconds"] - small["seconds"])
        x["steady_ns_per_call"] = 1e9 / x["steady_rows_per_s"]
    x["small_run"] = {"rows": small["rows"], "seconds": small["seconds"], "runs_s": [r["seconds"] for r in smalls],
                      "engine_cpu_s": small["rss"]["engine_cpu_s"], "workers_cpu_s": small["rss"]["workers_cpu_s"]}
    # CPU per row of the engine and the worker: of the whole job, and after
    # start-up (the difference between the two runs over their rows' difference).
    x["cpu_ns_per_row"] = {k: x["rss"][k + "_cpu_s"] * 1e9 / n for k in ("engine", "workers")}
    if n > small["rows"]:
        x["steady_cpu_ns_per_row"] = {
            k: (x["rss"][k + "_cpu_s"] - small["rss"][k + "_cpu_s"]) * 1e9 / (n - small["rows"])
            for k in ("engine", "workers")}
    x["loadavg"] = open("/proc/loadavg").read().split()[:3]
    res.append(x)
    log(f"bench: weir vectorized x + 1: {x['rows_per_s']:,.0f} rows/s, {x['ns_per_call']:.2f} ns/row, "
        f"{x['ns_per_call'] / fl['ns_per_row']:.1f}x numpy's batches, engine {x['rss']['engine_mb']} MB, "
        f"worker {x['rss']['worker_max_mb']} MB")
    if run_pf:
        y = pyflink("vectorized", S["pf_vectorized"], 1, 1, "process", warmup_rows=S["pf_warmup"],
                    fixed_rows=S["pf_fixed"], fast_exit=True)
        res.append(y)
        log(f"bench: PyFlink process vectorized: {y['rows_per_s']:,.0f} rows/s "
            f"(steady {fmt(y.get('steady_rows_per_s'))}), {y['ns_per_call']:.1f} ns/row")
    return vectorized_lines(data, res)


def vectorized_lines(data, res):
    """The vectorized workload's figures, as lines of text."""
    w = find(res, system="weir", workload="vectorized")
    if not w:
        return []
    fl = data.get("vectorized_floor", {})
    st = w.get("steady_ns_per_call")
    out = [f"vectorized x + 1 (pandas), {w['rows']:,} INT rows, 1 worker, batches of {w.get('batch_size', WEIR_BATCH_ROWS):,} rows: "
           f"weir {w['ns_per_call']:.2f} ns/row "
           f"({w['seconds']:.2f} s, start-up included"
           + (f"; best of {len(w['runs_s'])}: {', '.join(f'{r:.2f}' for r in w['runs_s'])} s" if len(w.get('runs_s', [])) > 1 else "")
           + ")"
           + (f"; {st:.2f} ns/row after start-up (against a run of {w['small_run']['rows']:,} rows "
              f"in {w['small_run']['seconds']:.2f} s)" if st else "")]
    cpu, steady = w.get("cpu_ns_per_row"), w.get("steady_cpu_ns_per_row")
    if cpu:
        out.append(f"  CPU per row: engine {cpu['engine']:.1f} ns, worker {cpu['workers']:.1f} ns (whole job)"
                   + (f"; after start-up engine {steady['engine']:.1f} ns, worker {steady['workers']:.1f} ns"
                      if steady else "")
                   + f"; load average {' '.join(w.get('loadavg', []))} on {os.cpu_count()} CPUs")
    if fl:
        out.append(f"  numpy x + 1 over the same values: {fl['ns_per_row']:.2f} ns/row in batches of {fl['batch']:,} "
                   f"({fl['whole_array_ns_per_row']:.2f} as one array): weir takes {w['ns_per_call'] / fl['ns_per_row']:.1f}x")
    d = data.get("vectorized_duckdb")
    if d:
        out.append(f"  DuckDB {d['duckdb_version']} Arrow UDF (1 thread): {d['udf_ns_per_row']:.2f} ns/row "
                   f"(its own x + 1: {d['native_ns_per_row']:.2f}): weir / DuckDB = {w['ns_per_call'] / d['udf_ns_per_row']:.2f}")
    f = find(res, system="pyflink", workload="vectorized")
    if f:
        steady = f.get("steady_ns_per_call")
        out.append(f"  PyFlink pandas UDF (process mode, {f['rows']:,} rows): {f['ns_per_call']:.1f} ns/row"
                   + (f", steady {steady:.1f}" if steady else "")
                   + f": weir is {f['ns_per_call'] / w['ns_per_call']:.1f}x faster"
                   + (f" ({steady / w['ns_per_call']:.1f}x steady)" if steady else ""))
    return out


def run_vectorized_only(args):
    S = sizes(args)
    run_pf = not args.skip_pyflink and java_home() is not None and ensure_venv(
        PF_VENV, os.path.join(BENCH, "requirements-pyflink.txt"), "PyFlink")
    data = {"date": datetime.date.today().isoformat(), "machine": machine_facts(), "args": vars(args),
            "sizes": S, "results": []}
    tmp = tempfile.mkdtemp(prefix="weir-bench-")
    try:
        lines = run_vectorized(args, S, data["results"], data, tmp, run_pf)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    data["vectorized_lines"] = lines
    data["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    os.makedirs(RESULTS, exist_ok=True)
    stem = (f"{data['date']}-{socket.gethostname()}-vectorized" + ("-quick" if args.quick else "")
            + (f"-batch{args.vectorized_batch_size}" if args.vectorized_batch_size else ""))
    path = os.path.join(RESULTS, stem + ".json")
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
    with open(os.path.join(RESULTS, stem + ".md"), "w") as f:
        f.write(f"# Vectorized functions benchmark ({data['date']})\n\n"
                f"weir {data['machine']['weir_commit']}, {data['machine']['nproc']} CPUs, load average "
                f"{' '.join(data['machine']['loadavg_start'])} at the start, "
                f"{' '.join(data['machine']['loadavg_end'])} at the end.\n\n```\n" + "\n".join(lines) + "\n```\n")
    print("\n".join(lines))
    print(f"load average at the end: {' '.join(data['machine']['loadavg_end'])}; results: {os.path.relpath(path, ROOT)}")


def run_udaf_only(args):
    """A sum-like Python UDAF over 10M rows / 100k keys (bench/udaf.py): ns per accumulate call against the
    CPython floor in the same run, and rows/s against PyFlink's streaming mode."""
    if not os.path.exists(WEIR) or not os.path.exists(WEIR_PY):
        sys.exit("bench: bin/weir or .venv missing: run `make setup` first")
    rows = args.udaf_rows or (1_000_000 if args.quick else 10_000_000)
    pf_rows = args.udaf_pyflink_rows or (20_000 if args.quick else 200_000)
    run_pf = not args.skip_pyflink and java_home() is not None and ensure_venv(
        PF_VENV, os.path.join(BENCH, "requirements-pyflink.txt"), "PyFlink")
    data = {"date": datetime.date.today().isoformat(), "machine": machine_facts(), "args": vars(args)}
    tmp = tempfile.mkdtemp(prefix="weir-bench-")
    t0 = time.time()
    try:
        data["udaf"] = udaf.run(sys.modules[__name__], rows, 100_000, pf_rows, tmp, run_pf, args.quick, log=log)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    data["udaf_seconds"] = time.time() - t0
    os.makedirs(RESULTS, exist_ok=True)
    stem = f"{data['date']}-{socket.gethostname()}-udaf" + ("-quick" if args.quick else "")
    path = os.path.join(RESULTS, stem + ".json")
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
    with open(os.path.join(RESULTS, stem + ".md"), "w") as f:
        f.write(udaf.markdown(data["udaf"]))
    print("\n".join(data["udaf"]["lines"]))
    print(f"{data['udaf_seconds']:.0f} s; results: {os.path.relpath(path, ROOT)}")


def run_kafka_only(args):
    """Kafka JSON -> UDF -> Kafka (bench/kafka_pipeline.py): rows/s and end-to-end p50/p99 per sink mode."""
    if not os.path.exists(WEIR) or not os.path.exists(WEIR_PY):
        sys.exit("bench: bin/weir or .venv missing: run `make setup` first")
    rows = args.kafka_rows or (50_000 if args.quick else 500_000)
    seconds = 6 if args.quick else 15
    data = {"date": datetime.date.today().isoformat(), "machine": machine_facts(), "args": vars(args)}
    t0 = time.time()
    data["kafka"] = kafka_pipeline.run(ROOT, WEIR_PY, rows, seconds, args.kafka_rate or 0, log=log)
    data["kafka_seconds"] = time.time() - t0
    data["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    os.makedirs(RESULTS, exist_ok=True)
    stem = f"{data['date']}-{socket.gethostname()}-kafka" + ("-quick" if args.quick else "")
    path = os.path.join(RESULTS, stem + ".json")
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
    md = kafka_pipeline.markdown(data["kafka"])
    with open(os.path.join(RESULTS, stem + ".md"), "w") as f:
        f.write(f"# Kafka pipeline benchmark ({data['date']})\n\n{md}\n\nload average at the end: "
                f"{' '.join(data['machine']['loadavg_end'])}; {data['kafka_seconds']:.0f} s in all\n")
    print(md)
    print(f"{data['kafka_seconds']:.0f} s; load average at the end: {' '.join(data['machine']['loadavg_end'])}; "
          f"results: {os.path.relpath(path, ROOT)}")


def run_suite(args):
    t_suite = time.time()
    date = datetime.date.today().isoformat()
    S = sizes(args)
    if not os.path.exists(WEIR) or not os.path.exists(WEIR_PY):
        sys.exit("bench: bin/weir or .venv missing: run `make setup` first")
    run_pf = not args.skip_pyflink
    jh = java_home()
    if run_pf and not jh:
        log("bench: no Java found: skipping PyFlink")
        run_pf = False
    if run_pf and not ensure_venv(PF_VENV, os.path.join(BENCH, "requirements-pyflink.txt"), "PyFlink"):
        log("bench: PyFlink could not be installed: skipping it")
        run_pf = False
    ensure_venv(TOOLS_VENV, os.path.join(BENCH, "requirements-tools.txt"), "matplotlib (for the chart)")
    t_measure = time.time()

    data = {"date": date, "machine": machine_facts(), "args": vars(args), "sizes": S,
            "pyflink_settings": {"runtime": PF_RUNTIME, **PF_SETTINGS}, "latency_settings": LATENCY_SETTINGS,
            "results": [], "latency": [], "startup": {}}
    res = data["results"]
    tmp = tempfile.mkdtemp(prefix="weir-bench-")

    # 1. Floor
    log("bench: floor (bare CPython list(map(f, values))) ...")
    r = subprocess.run([WEIR_PY, os.path.join(BENCH, "floor.py"), str(S["floor"])], capture_output=True,
                       text=True, env=clean_env(), check=True)
    floor = json.loads(r.stdout)
    data["floor"] = floor
    log(f"bench:   inc {floor['inc']['ns_per_call']:.1f} ns/call, upper {floor['upper']['ns_per_call']:.1f}, "
        f"split_words {floor['udtf']['ns_per_call']:.1f} ns/row")

    # 2. weir FLIP-121 (best of reps)
    for c in (1, 10):
        for w in (1, 2):
            best = None
            runs = []
            for _ in range(S["reps"]):
                x = weir_flip121(S["weir_flip121"], c, w)
                runs.append(x["rows_per_s"])
                if best is None or x["rows_per_s"] > best["rows_per_s"]:
                    best = x
            best["reps_rows_per_s"] = runs
            res.append(best)
            log(f"bench: weir flip121 {c} col {w} worker(s): {best['rows_per_s']:,.0f} rows/s, "
                f"{best['ns_per_call']:.1f} ns/call, engine {best['rss']['engine_mb']} MB, "
                f"worker {best['rss']['worker_max_mb']} MB (runs {[round(v) for v in runs]})")
    w11 = find(res, system="weir", workload="flip121", workers=1, columns=1)

    # 3. PyFlink FLIP-121
    pf_modes = ("process", "thread")
    # --quick runs fewer PyFlink jobs (each costs ~10 s of JVM and mini-cluster)
    pf_modes_short = ("thread",) if args.quick else pf_modes
    if run_pf:
        for mode in pf_modes:
            for c in (1, 10):
                for p in (1, 2):
                    if args.quick and p == 2:
                        continue
                    x = pyflink("flip121", S["pf_flip121_1col" if c == 1 else "pf_flip121_10col"], c, p, mode,
                                warmup_rows=S["pf_warmup"],
                                fixed_rows=S["pf_fixed"], fast_exit=True)
                    res.append(x)
                    data["pyflink_version"] = x["pyflink"]["pyflink_version"]
                    log(f"bench: PyFlink {mode} flip121 {c} col p={p}: {x['rows_per_s']:,.0f} rows/s "
                        f"(steady {fmt(x.get('steady_rows_per_s'))}), {x['ns_per_call']:.0f} ns/call, "
                        f"JVM {x['rss']['engine_mb']} MB, workers {x['rss']['worker_max_mb']} MB")

    # 6. Strings and table functions
    x = weir_sql("upper", S["weir_upper"], tmp=tmp)
    res.append(x)
    log(f"bench: weir upper: {x['rows_per_s']:,.0f} rows/s, {x['ns_per_call']:.1f} ns/call")
    x = weir_sql("udtf", S["weir_udtf"], tmp=tmp)
    res.append(x)
    log(f"bench: weir udtf: {x['rows_per_s']:,.0f} rows/s in, {x['output_rows']:,} words out")
    if run_pf:
        for mode in pf_modes_short:
            for wl, n in (("upper", S["pf_upper"]), ("udtf", S["pf_udtf"])):
                x = pyflink(wl, n, 1, 1, mode, warmup_rows=S["pf_warmup"] // 2, fixed_rows=S["pf_fixed"],
                            fast_exit=True)
                res.append(x)
                log(f"bench: PyFlink {mode} {wl}: {x['rows_per_s']:,.0f} rows/s "
                    f"(steady {fmt(x.get('steady_rows_per_s'))})")

    # 7. Vectorized functions (pandas x + 1)
    data["vectorized_lines"] = run_vectorized(args, S, res, data, tmp, run_pf)

    # 8. Relational operators: GROUP BY, join, ORDER BY against Flink batch and DuckDB
    data["relational_lines"] = run_relational(args, S, data, tmp, run_pf)

    # 4. Start-up: a 10-row job, wall time of the whole command
    def startup(fn, reps):
        walls, ends = [], []
        last = None
        for _ in range(reps):
            last = fn()
            walls.append(last["wall_s"])
            if last.get("pyflink"):  # client start to the job's end, before shutting down
                ends.append(last["pyflink"]["t_total"])
        return {"walls_s": walls, "median_s": statistics.median(walls), "best_s": min(walls),
                "to_job_end_s": statistics.median(ends) if ends else None, "rss": last["rss"]}

    data["startup"]["weir"] = startup(lambda: weir_sql("startup", 10, tmp=tmp), S["startup_reps"])
    log(f"bench: start-up weir 10 rows: {data['startup']['weir']['walls_s']}")
    if run_pf:
        for mode in (("process",) if args.quick else pf_modes):
            data["startup"][f"pyflink_{mode}"] = startup(
                lambda: pyflink("startup", 10, 1, 1, mode, end_leftovers=True), max(1, S["startup_reps"] - 1))
            log(f"bench: start-up PyFlink {mode} 10 rows: {data['startup'][f'pyflink_{mode}']['walls_s']}")

    # 5. Latency. (a) weir's own Python-stage metric at the brief's load: half
    # of its 1-worker 1-column throughput, blackhole sink. (b) Source->sink
    # through the print connector, both systems, each at half of what its own
    # print job sustains (the print path is slower than blackhole), and weir at
    # PyFlink process mode's rate too (the same absolute load).
    rate_a = w11["rows_per_s"] / 2
    n_a = max(1000, int(rate_a * S["latency_s"]))
    x = weir_sql("flip121", n_a, rate=rate_a, settings=LATENCY_SETTINGS, tmp=tmp)
    data["latency_stage"] = {"system": "weir", "rate": rate_a, "rows": n_a, "seconds": x["seconds"],
                             "stage_latency": x.get("stage_latency"), "rss": x["rss"]}
    log(f"bench: weir stage latency at {rate_a:,.0f} rows/s (blackhole): {x.get('stage_latency')}")

    def capacity(system, mode="-"):
        n = S["latency_cap_weir"] if system == "weir" else S["latency_cap_pf"]
        ls = LineSampler()
        if system == "weir":
            c = weir_sql("latency", n, settings=LATENCY_SETTINGS, on_stdout=ls, tmp=tmp)
        else:
            cfg = dict(PF_SETTINGS[mode], **LATENCY_SETTINGS)
            c = pyflink("latency", n, mode=mode, runtime="streaming", config=cfg, on_stdout=ls,
                        warmup_rows=S["pf_warmup"] // 4, end_leftovers=True)
        return c["rows_per_s"]

    cap_w = capacity("weir")
    rate_w = min(w11["rows_per_s"], cap_w) / 2
    x = latency_run("weir", rate_w, S["latency_s"], tmp=tmp)
    x["print_capacity_rows_per_s"] = cap_w
    data["latency"].append(x)
    log(f"bench: latency weir at {rate_w:,.0f} rows/s (print job sustains {cap_w:,.0f}): {x['latency'].get('e2e')}")
    if run_pf:
        for mode in pf_modes_short:
            f = find(res, system="pyflink", workload="flip121", mode=mode, workers=1, columns=1)
            cap_p = capacity("pyflink", mode)
            rate_p = min(f["rows_per_s"], cap_p) / 2
            x = latency_run("pyflink", rate_p, S["latency_s"], mode=mode)
            x["print_capacity_rows_per_s"] = cap_p
            data["latency"].append(x)
            log(f"bench: latency PyFlink {mode} at {rate_p:,.0f} rows/s (print job sustains {cap_p:,.0f}): "
                f"{x['latency'].get('e2e')}")
        if not args.quick:
            rate_same = find(data["latency"], system="pyflink", mode="process")["rate"]
            x = latency_run("weir", rate_same, S["latency_s"], tmp=tmp)
            data["latency"].append(x)
            log(f"bench: latency weir at {rate_same:,.0f} rows/s: {x['latency'].get('e2e')}")

    shutil.rmtree(tmp, ignore_errors=True)
    floor_rows = [
        {"system": "floor", "workload": k, "rows": floor[k]["n"], "ns_per_call": floor[k]["ns_per_call"]}
        for k in ("inc", "upper", "udtf")]
    order = {"inc": 0, "flip121": 0, "startup": 1, "upper": 2, "udtf": 3}
    data["results_with_floor"] = sorted(floor_rows + res, key=lambda r: order.get(r["workload"], 9))
    data["setup_seconds"] = t_measure - t_suite  # creating the bench venvs, if it had to
    data["suite_seconds"] = time.time() - t_suite
    data["measure_seconds"] = time.time() - t_measure
    data["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    data["headlines"] = headlines(data)
    data["headline_lines"] = headline_lines(data["headlines"], data)
    jpath, png, machine_line = write_outputs(data, args)

    print()
    print("Machine:", machine_line)
    print()
    print_table(table_rows(data["results_with_floor"], floor), TABLE_COLS)
    print()
    print_table(startup_rows(data["startup"]), SU_COLS)
    print()
    print_table(latency_rows(data["latency"]), LAT_COLS)
    print()
    print("Headlines (same run):")
    for l in data["headline_lines"]:
        print("  " + l)
    for l in data.get("vectorized_lines", []):
        print("  " + l)
    for l in data.get("relational_lines", []):
        print("  " + l)
    print()
    print(f"Suite: {data['suite_seconds']:.0f} s (setting up venvs {data['setup_seconds']:.0f} s, "
          f"measuring {data['measure_seconds']:.0f} s). "
          f"Results: {os.path.relpath(jpath, ROOT)}" + (f", {os.path.relpath(png, ROOT)}" if png else ""))


# --------------------------------------------------------------------------
# The sweep of PyFlink's settings (run once, by hand; its choice is PF_SETTINGS)


def run_sweep(args):
    """Tries PyFlink's settings side by side, each mode in one warmed-up JVM
    (pyflink_job.py's sweep), and writes the times to results/sweep-*.json."""
    if not ensure_venv(PF_VENV, os.path.join(BENCH, "requirements-pyflink.txt"), "PyFlink"):
        sys.exit("bench: PyFlink could not be installed")
    n = args.rows or 1_000_000
    default = {"python.metric.enabled": "true", "pipeline.object-reuse": "false"}
    tuned = {"python.metric.enabled": "false", "pipeline.object-reuse": "true"}
    runs = []
    for mode in ("process", "thread"):
        for columns, rows in ((1, n), (10, max(1000, n // 4))):
            combos = []
            for runtime in ("batch", "streaming"):
                combos.append({"runtime": runtime, "config": dict(default, **{
                    "python.fn-execution.bundle.size": "100000"})})
                combos.append({"runtime": runtime, "config": dict(tuned, **{
                    "python.fn-execution.bundle.size": "100000"})})
                if mode == "process" and columns == 1:
                    for bs in ("10000", "1000000"):
                        combos.append({"runtime": runtime, "config": dict(tuned, **{
                            "python.fn-execution.bundle.size": bs})})
            spec = {"workload": "flip121", "rows": rows, "columns": columns, "parallelism": 1, "mode": mode,
                    "combos": combos, "reps": 1 if args.quick else 2, "warmup_rows": max(1000, rows // 10)}
            env = clean_env(JAVA_HOME=java_home() or "")
            r = run_proc([PF_PY, os.path.join(BENCH, "pyflink_job.py"), json.dumps(spec)], env,
                         cwd=tempfile.gettempdir(), end_leftovers=True)
            res = None
            for line in r["stdout"].splitlines():
                if line.startswith("@@RESULT "):
                    res = json.loads(line[len("@@RESULT "):])
            if res is None:
                sys.exit(f"sweep failed:\n{r['stderr'][-3000:]}")
            for c in res["combos"]:
                best = min(c["times"])
                runs.append({"mode": mode, "columns": columns, "rows": rows, "runtime": c["runtime"],
                             "config": c["config"], "times_s": c["times"], "best_rows_per_s": rows / best})
                log(f"sweep: {mode:7s} {columns:2d} col {c['runtime']:9s} "
                    + " ".join(f"{k.split('.')[-1]}={v}" for k, v in c["config"].items())
                    + f": best {rows / best:>10,.0f} rows/s (times {[round(t, 2) for t in c['times']]})")
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, f"sweep-{datetime.date.today().isoformat()}-{socket.gethostname()}.json")
    with open(path, "w") as f:
        json.dump({"machine": machine_facts(), "runs": runs}, f, indent=1)
    log(f"sweep: written to {os.path.relpath(path, ROOT)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=None,
                    help="weir's rows for the FLIP-121 jobs (default 10,000,000; --quick 1,000,000); "
                         "the other jobs and PyFlink's scale with it")
    ap.add_argument("--quick", action="store_true", help="a 1-2 minute smoke run (small N, fewer runs)")
    ap.add_argument("--skip-pyflink", action="store_true", help="run weir and the floor only")
    ap.add_argument("--sweep", action="store_true", help="sweep PyFlink's settings instead of the suite")
    ap.add_argument("--render", metavar="JSON", help="write the tables and chart of a results JSON again")
    ap.add_argument("--vectorized-rows", type=int, default=None,
                    help="rows of the vectorized (pandas x + 1) job (default 100,000,000; --quick 2,000,000)")
    ap.add_argument("--relational-rows", type=int, default=None,
                    help="rows of the GROUP BY / join / ORDER BY jobs (default 10,000,000; --quick 1,000,000)")
    ap.add_argument("--relational-only", action="store_true",
                    help="run the relational workloads alone (weir, Flink batch, DuckDB) and print their figures")
    ap.add_argument("--vectorized-reps", type=int, default=3,
                    help="runs of weir's vectorized job (and of its tenth-size twin); the best counts (default 3)")
    ap.add_argument("--vectorized-batch-size", type=int, default=None,
                    help="python.fn-execution.arrow.batch.size of weir's vectorized job and the numpy floor's batches "
                         "(default: weir's, 1,000,000; PyFlink keeps its own)")
    ap.add_argument("--vectorized-only", action="store_true",
                    help="run the vectorized workload alone (weir, numpy, DuckDB, PyFlink) and print its figures")
    ap.add_argument("--kafka-only", action="store_true",
                    help="run the Kafka pipeline (JSON -> UDF -> Kafka, at-least-once and exactly-once with "
                         "checkpoints: rows/s, p50/p99 latency) alone on a real broker (make kafka)")
    ap.add_argument("--kafka-rows", type=int, default=None,
                    help="records of the Kafka pipeline's throughput jobs (default 500,000; --quick 50,000)")
    ap.add_argument("--kafka-rate", type=int, default=None,
                    help="records/s of the Kafka pipeline's latency runs (default: half the at-least-once rows/s)")
    ap.add_argument("--udaf-only", action="store_true",
                    help="run the Python UDAF benchmark alone (sum-like UDAF, 10M rows / 100k keys: ns per "
                         "accumulate call vs the CPython floor, rows/s vs PyFlink's streaming mode)")
    ap.add_argument("--udaf-rows", type=int, default=None,
                    help="rows of weir's UDAF job (default 10,000,000; --quick 1,000,000)")
    ap.add_argument("--udaf-pyflink-rows", type=int, default=None,
                    help="rows of PyFlink's UDAF job (default 200,000; --quick 20,000)")
    args = ap.parse_args()
    if args.udaf_only:
        run_udaf_only(args)
    elif args.kafka_only:
        run_kafka_only(args)
    elif args.vectorized_only:
        run_vectorized_only(args)
    elif args.relational_only:
        run_relational_only(args)
    elif args.render:
        data = json.load(open(args.render))
        args.quick = data["args"].get("quick", False)
        data["headlines"] = headlines(data)
        data["headline_lines"] = headline_lines(data["headlines"], data)
        jpath, png, _ = write_outputs(data, args)
        print("\n".join(data["headline_lines"]))
        print(jpath, png)
    elif args.sweep:
        run_sweep(args)
    else:
        run_suite(args)


if __name__ == "__main__":
    main()
