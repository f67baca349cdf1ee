"""Records PyFlink 2.3's changelogs of queries.sql into changelog.golden.

Run with the PyFlink interpreter from the repository root:

    bench/.venv-pyflink/bin/python e2e/testdata/udaf_streaming/record.py

Each INSERT runs in its own job in streaming mode (parallelism 1, UTC) with
udfs.py as module 'udfs', twice: with python.fn-execution.bundle.size = 1
(each row its own bundle, so every change is emitted) and with the default
bundle size (the whole input in one bundle). The golden file holds, per run,
a line '-- <statement> bundle=<size>' and the changelog lines in the order
the print sink wrote them.
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLES = ("1", "default")


def statements(text):
    return [s.strip() for s in text.split(";") if s.strip()]


def run_one(ddl, insert, bundle):
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(os.path.join(HERE, "udfs.py"), os.path.join(d, "udfs.py"))
        size = "" if bundle == "default" else f"c.set('python.fn-execution.bundle.size', {bundle!r})"
        prog = f"""
from pyflink.table import EnvironmentSettings, TableEnvironment
t = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
c = t.get_config()
c.set('parallelism.default', '1')
c.set('table.local-time-zone', 'UTC')
c.set('python.files', {os.path.join(d, 'udfs.py')!r})
c.set('python.executable', {sys.executable!r})
{size}
for s in {ddl!r}:
    t.execute_sql(s)
t.execute_sql({insert!r}).wait()
"""
        out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, cwd=d)
        if out.returncode != 0:
            sys.exit(f"PyFlink failed on {insert[:80]!r}:\n{out.stderr[-4000:]}")
        return [l for l in out.stdout.splitlines() if l[:3] in ("+I[", "-U[", "+U[", "-D[")]


def main():
    """Arguments, if any, are the statements (from 1) to record again; the
    others keep their recorded runs."""
    with open(os.path.join(HERE, "queries.sql")) as f:
        stmts = statements(f.read())
    ddl = [s for s in stmts if not s.upper().startswith("INSERT")]
    only = {int(a) for a in sys.argv[1:]}
    old = {}
    if only:
        with open(os.path.join(HERE, "changelog.golden")) as f:
            cur = None
            for l in f.read().splitlines():
                if l.startswith("-- "):
                    cur = l
                    old[cur] = []
                elif l:
                    old[cur].append(l)
    lines = []
    for i, s in enumerate(x for x in stmts if x.upper().startswith("INSERT")):
        for b in BUNDLES:
            head = f"-- {i + 1} bundle={b}"
            lines.append(head)
            if only and i + 1 not in only:
                lines.extend(old[head])
                continue
            lines.extend(run_one(ddl, s, b))
            print(lines[-1], file=sys.stderr)
    with open(os.path.join(HERE, "changelog.golden"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
