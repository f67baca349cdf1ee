"""Records PyFlink 2.3's answers to session.sql into session.golden.

Run with the PyFlink interpreter from the repository root:

    bench/.venv-pyflink/bin/python e2e/testdata/udaf_session/record.py

Each INSERT of session.sql runs in its own streaming job (parallelism 1, UTC)
with udfs.py as module 'udfs' and ${DIR} replaced by this directory, where
sessions.csv holds out-of-order rows (read in file order). The print sinks
write to the JVM's stdout, which this script captures; the golden file holds,
per statement, a line '-- <n>' and the final rows, sorted, as +I[...]: the
changelog folded, since PyFlink 2.3's Python window aggregation over merging
sessions without PARTITION BY emitted a session early with its first row
only, then replaced it (-U, +U) with the whole session; the changelog is
printed to stderr.
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def statements(text):
    return [s.strip() for s in text.replace("${DIR}", HERE).split(";") if s.strip()]


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
        shutil.copy(os.path.join(HERE, "udfs.py"), os.path.join(d, "udfs.py"))
        prog = f"""
from pyflink.table import EnvironmentSettings, TableEnvironment
t = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
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
        rows = [l for l in out.stdout.splitlines() if l[:3] in ("+I[", "-U[", "+U[", "-D[")]
        print("\n".join(rows), file=sys.stderr)
        return fold(rows)


def main():
    with open(os.path.join(HERE, "session.sql")) as f:
        stmts = statements(f.read())
    ddl = [s for s in stmts if not s.upper().startswith("INSERT")]
    lines = []
    for i, s in enumerate(x for x in stmts if x.upper().startswith("INSERT")):
        lines.append(f"-- {i + 1}")
        lines.extend(run_one(ddl, s))
    with open(os.path.join(HERE, "session.golden"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
