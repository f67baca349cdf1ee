"""Record PyFlink's rows of the window cases.

    bench/.venv-pyflink/bin/python python/tests/table_windows/record.py

runs cases.py on PyFlink 2.3 and stores its output in cases.golden, which
test_table_windows.py compares weir's rows with.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

if __name__ == "__main__":
    import pyflink  # noqa: F401  (fail early outside the PyFlink venv)

    r = subprocess.run([sys.executable, os.path.join(HERE, "cases.py")], capture_output=True, text=True,
                       cwd=HERE, timeout=3600)
    if r.returncode != 0:
        sys.exit(f"cases.py failed on PyFlink:\n{r.stderr}")
    with open(os.path.join(HERE, "cases.golden"), "w") as f:
        f.write(r.stdout)
    print(f"recorded cases.golden ({len(r.stdout.splitlines())} cases)")
