"""Records PyFlink 2.3's answers to examples.sql into examples.golden.

Run with the PyFlink interpreter from the repository root:

    bench/.venv-pyflink/bin/python e2e/testdata/vectorized/record.py

Each INSERT of examples.sql runs in its own batch job (parallelism 1, UTC)
with pyflink_udfs.py as module 'udfs'. The print sinks write to the JVM's
stdout, which this script captures; the golden file holds, per statement, a
line '-- <n>' and the rows it printed, sorted.
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def statements(text):
    return [s.strip() for s in text.split(";") if s.strip()]


def run_one(ddl, insert):
    """Runs one INSERT in a fresh process and returns what the sink printed."""
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(os.path.join(HERE, "pyflink_udfs.py"), os.path.join(d, "udfs.py"))
        prog = f"""
from pyflink.table import EnvironmentSettings, TableEnvironment
t = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
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
        return sorted(l for l in out.stdout.splitlines() if l[:3] in ("+I[", "-U[", "+U[", "-D["))


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
