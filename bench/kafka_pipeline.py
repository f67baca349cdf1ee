"""The Kafka pipeline benchmark: Kafka JSON -> Python function -> Kafka JSON on a real broker.

It runs the Go benchmark e2e BenchmarkKafkaPipeline (which starts a single-node Apache Kafka from
`make kafka`, produces the input and reads the output), once, and reads its figures: for each sink
mode (at-least-once without checkpoints and with one every 1 s; exactly-once with a Kafka transaction
per checkpoint, every 1 s and every 200 ms) the rows/s of a job over records already in the topic, and the p50/p99
milliseconds from a record's send to its result's receipt by a consumer (read_committed for
exactly-once) while records arrive at a fixed rate. bench/README.md describes it.
"""

import os
import re
import subprocess

MODES = ["at-least-once", "at-least-once-ckpt-1s", "exactly-once-ckpt-1s", "exactly-once-ckpt-200ms"]


def run(root, weir_py, rows, seconds, rate=0, log=print):
    """Runs the benchmark; returns its figures as a dict."""
    env = dict(os.environ, WEIR_PYTHON=weir_py, WEIR_BIN=os.path.join(root, "bin", "weir"))
    cmd = ["go", "test", "./e2e", "-run", "^$", "-bench", "^BenchmarkKafkaPipeline$", "-benchtime", "1x",
           "-timeout", "60m", f"-kafka-pipeline-rows={rows}", f"-kafka-pipeline-seconds={seconds}",
           f"-kafka-pipeline-rate={rate}"]
    log("bench: kafka pipeline: " + " ".join(cmd))
    p = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    runs = [l for l in (p.stdout + "\n" + p.stderr).splitlines() if l.startswith("kafka pipeline")]
    for line in runs:
        log("bench:   " + line)
    line = next((l for l in p.stdout.splitlines() if l.startswith("BenchmarkKafkaPipeline")), None)
    if p.returncode != 0 or line is None:
        raise RuntimeError(f"BenchmarkKafkaPipeline failed ({p.returncode}):\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    metrics = {unit: float(v) for v, unit in re.findall(r"([0-9.e+-]+) (\S+)", line.split(None, 2)[2])}
    out = {"rows": rows, "latency_seconds": seconds, "latency_rate": metrics.get("latency-rate-rows/s"),
           "modes": {}, "raw": line, "runs": runs}
    for m in MODES:
        out["modes"][m] = {
            "rows_per_s": metrics.get(f"{m}-rows/s"),
            "p50_ms": metrics.get(f"{m}-p50-ms"),
            "p99_ms": metrics.get(f"{m}-p99-ms"),
        }
    return out


def markdown(k):
    """The figures as a markdown table."""
    base = k["modes"]["at-least-once"]["rows_per_s"]
    lines = [f"Kafka JSON -> Python `label()` -> Kafka JSON, streaming mode, {k['rows']:,} records (3 partitions) "
             f"for throughput; latency at {k['latency_rate']:,.0f} records/s for {k['latency_seconds']} s after 5 s of warm-up, "
             "send -> consumer receipt (read_committed for exactly-once), bundles closed after 10 ms.", "",
             "| sink | rows/s | vs at-least-once | p50 ms | p99 ms |", "| --- | --- | --- | --- | --- |"]
    for m in MODES:
        r = k["modes"][m]
        if r["rows_per_s"] is None:
            continue
        lines.append(f"| {m} | {r['rows_per_s']:,.0f} | {r['rows_per_s'] / base:.2f}x | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} |")
    return "\n".join(lines)
