"""Record PyFlink's output of the Table API programs in this directory.

    bench/.venv-pyflink/bin/python python/tests/table_programs/record.py [name ...]

Each program ``<name>.py`` is written for PyFlink; its standard output is
stored in ``<name>.golden``. test_table_programs.py runs the same program
on weir, with the imports changed from pyflink to weir, and compares.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def programs(names=()):
    for f in sorted(os.listdir(HERE)):
        if f.endswith(".py") and f != "record.py" and (not names or f[:-3] in names):
            yield f[:-3]


def main(argv):
    import pyflink  # noqa: F401  (fail early outside the PyFlink venv)

    for name in programs(argv):
        r = subprocess.run([sys.executable, os.path.join(HERE, name + ".py")], capture_output=True, text=True,
                           cwd=HERE, timeout=900)
        if r.returncode != 0:
            sys.exit(f"{name}.py failed on PyFlink:\n{r.stderr}")
        with open(os.path.join(HERE, name + ".golden"), "w") as f:
            f.write(r.stdout)
        print(f"recorded {name}.golden ({len(r.stdout.splitlines())} lines)")


if __name__ == "__main__":
    main(sys.argv[1:])
