"""Records PyFlink 2.3's answers to examples.sql into examples.golden.

Run with the PyFlink interpreter from the repository root:

    bench/.venv-pyflink/bin/python e2e/testdata/udaf/record.py

Each INSERT of examples.sql runs in its own job (parallelism 1, UTC) with
pyflink_udfs.py as module 'udfs'. Flink runs pandas aggregate functions only
in batch mode and the others only in streaming mode, so an INSERT that calls
a pandas function runs in batch mode and the others in streaming mode, whose
changelog (+I, -U, +U, -D) is folded into the final rows. The print sinks
write to the JVM's stdout, which this script captures; the golden file holds,
per statement, a line '-- <n>' and the final rows, sorted, as +I[...].
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def statements(text):
    return [s.strip() for s in text.split(";") if s.strip()]


PANDAS = ("mean_udaf(", "weighted_mean(")


def fold(lines):
    """The final rows of a changelog."""
    rows = {}
    for l in lines:
        body = l[2:]
        rows[body] = rows.get(body, 0) + (1 if l[:2] in ("+I", "+U") else -1)
    out = []
    for body, n in rows.items():
        if n < 0:
            sys.exit(f"changelog retracts {body} more often than it adds it")
        out.extend(["+I" + body] * n)
    return sorted(out)


def run_one(ddl, insert):
    """Runs one INSERT in a fresh process and returns what the sink printed."""
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(os.path.join(HERE, "pyflink_udfs.py"), os.path.join(d, "udfs.py"))
        prog = f"""
from pyflink.table import EnvironmentSettings, TableEnvironment
t = TableEnvironment.create(EnvironmentSettings.{'in_batch_mode' if any(p in insert for p in PANDAS) else 'in_streaming_mode'}())
c = t.get_config()
c.set('parallelism.default', '1')
c.set('table.local-time-zone', 'UTC')
c.set('python.files', {os.path.join(d, 'udfs.py')!r})
c.set('python.executable', {sys.executable!r})
for s in {ddl!r}:
    t.execute_sql(s)
t.execute_sql({insert!r}).wait()
"""
        out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, cwd=d)
        if out.returncode != 0:
            sys.exit(f"PyFlink failed on {insert[:80]!r}:\n{out.stderr[-4000:]}")
        return fold(l for l in out.stdout.splitlines() if l[:3] in ("+I[", "-U[", "+U[", "-D["))


def main():
    with open(os.path.join(HERE, "examples.sql")) as f:
        stmts = statements(f.read())
    ddl = [s for s in stmts if not s.upper().startswith("INSERT")]
    lines = []
    for i, s in enumerate(x for x in stmts if x.upper().startswith("INSERT")):
        lines.append(f"-- {i + 1}")
        lines.extend(run_one(ddl, s))
    with open(os.path.join(HERE, "examples.golden"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
