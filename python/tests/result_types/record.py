"""Record PyFlink's output of the programs in this directory.

    bench/.venv-pyflink/bin/python python/tests/result_types/record.py [name ...]

Each program ``<name>.py`` is written for PyFlink; its standard output is
stored in ``<name>.golden``. test_result_types.py runs the same program on
weir, with the imports changed from pyflink to weir, and compares.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main(names):
    import pyflink  # noqa: F401  (fail early outside the PyFlink venv)

    for f in sorted(os.listdir(HERE)):
        name = f[:-3]
        if not f.endswith(".py") or f == "record.py" or names and name not in names:
            continue
        r = subprocess.run([sys.executable, os.path.join(HERE, f)], capture_output=True, text=True, cwd=HERE,
                           timeout=3600)
        if r.returncode != 0:
            sys.exit(f"{f} failed on PyFlink:\n{r.stderr}")
        with open(os.path.join(HERE, name + ".golden"), "w") as out:
            out.write(r.stdout)
        print(f"recorded {name}.golden ({len(r.stdout.splitlines())} lines)")


if __name__ == "__main__":
    main(sys.argv[1:])
