#!/usr/bin/env bash
# Checks the packages that packaging/build.sh left in dist/, as a user would meet them:
#   1. the manylinux wheel of this machine's python3, installed into a new venv, runs with neither Go nor
#      a C compiler nor any other Python on PATH: `weir version`, a SQL job with a Python function (the
#      weir command picks its own interpreter), the e2e smoke tests against the installed `weir`;
#   2. the sdist installs into a new venv from source (Go and a C compiler on PATH) with the Cython
#      extensions; without a C compiler it installs the pure-Python twins with a warning; without Go it
#      stops and says that Go is needed.
# It prints the install time and wheel size, and ends with a "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."

export PIP_CONSTRAINT="$PWD/python/constraints.txt" PIP_DISABLE_PIP_VERSION_CHECK=1
py=${PYTHON:-python3}
go=$(command -v "${GO:-go}") || { echo "packaging/test.sh: Go is needed to compile the e2e tests" >&2; exit 1; }
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' python/weir/__init__.py)
tag=$("$py" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
wheels=(dist/weir-"$version"-"$tag"-"$tag"-*manylinux*.whl)
sdist=dist/weir-$version.tar.gz
[ -f "${wheels[0]}" ] && [ -f "$sdist" ] || { echo "packaging/test.sh: no $tag wheel or sdist of weir $version in dist/: run 'make wheel' first" >&2; exit 1; }
wheel=${wheels[0]}
# The e2e tests that run against the installed weir: jobs, every type, table functions, errors, signals
# through the launcher (it must exec the engine, not wrap it), worker deaths. (Tests whose fake
# interpreters are shell scripts need sh and sleep on PATH, so they stay in 'make test'.)
smoke=${WHEEL_SMOKE:-'^(TestFlip121Exact|TestNullsRoundTrip|TestSQLErrors|TestBareSelect|TestTableFunctionForms|TestCancel|TestWorkerKills)$'}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() { # check NAME COMMAND...: runs the command, counts and reports the result
    local name=$1
    shift
    if "$@" > "$work/out" 2>&1; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name"
        grep -v 'level=INFO' "$work/out" | tail -60 | sed 's/^/     /'
    fi
}

# PATH for the installed package: an empty directory, so no go, gcc, cc or python3 can be found.
bare=$work/bare-path
mkdir "$bare"
# PATH for building from source without a C compiler: Go only.
goonly=$work/go-path
mkdir "$goonly"
ln -s "$go" "$goonly/go"
for p in "$bare" "$goonly"; do
    for tool in gcc cc clang c99 python3; do
        if PATH=$p command -v $tool >/dev/null; then echo "packaging/test.sh: $tool is on $p" >&2; exit 1; fi
    done
done
bare_env() { env -i HOME="$HOME" LANG=C.UTF-8 PATH="$bare" "$@"; }

echo "== compile the e2e tests (with Go, before it leaves PATH)"
"$go" test -c -o "$work/e2e.test" ./e2e

echo "== install $wheel ($(($(stat -c %s "$wheel") / 1024)) KiB) into a new venv"
"$py" -m venv "$work/venv"
t0=$(date +%s%N)
"$work/venv/bin/pip" install --quiet "$wheel"
ms=$((($(date +%s%N) - t0) / 1000000))
printf 'install time: %d.%03d s (the wheel and its dependencies, from pip'"'"'s cache or the index)\n' $((ms / 1000)) $((ms % 1000))
venv=$work/venv

echo "== the installed wheel, PATH=$bare"
check "weir version is weir $version" \
    bash -c '[ "$("$1" version)" = "weir $2" ]' _ "$venv/bin/weir" "$version"
bare_env "$venv/bin/weir" version > "$work/v" 2>&1 || true
check "weir version without PATH" grep -qx "weir $version" "$work/v"
check "python -m weir version" bare_env "$venv/bin/python" -m weir version
check "weir.__version__ and the wheel metadata are $version" bare_env "$venv/bin/python" -c "
import importlib.metadata as m, weir
assert weir.__version__ == m.version('weir') == '$version', (weir.__version__, m.version('weir'))"
check "the Cython extensions load (fast coder and operations)" bare_env "$venv/bin/python" -c "
import weir.coder as c, weir.operations as o
assert (c.IMPLEMENTATION, o.IMPLEMENTATION) == ('fast', 'fast'), (c.FALLBACK_REASON, o.FALLBACK_REASON)"
check "weir._cli.engine() is the bundled engine" bare_env "$venv/bin/python" -c "
import os, weir._cli as c
assert c.engine() == os.path.join(os.path.dirname(c.__file__), '_bin', 'weir'), c.engine()"

job=$work/job
mkdir "$job"
cat > "$job/udfs.py" <<'EOF'
from weir import udf, DataTypes


@udf(result_type=DataTypes.INT(False))
def inc(x):
    return x + 1
EOF
cat > "$job/job.sql" <<'EOF'
CREATE TABLE snk (a INT, b INT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
INSERT INTO snk SELECT inc(x), x FROM (VALUES (1), (2), (41)) AS t(x) WHERE x > 1;
EOF
printf '+I[3, 2]\n+I[42, 41]\n' > "$job/want"
# WEIR_PYTHON is unset and no python3 is on PATH: the workers run only if weir picks its own venv's Python.
check "a SQL job with a Python function, WEIR_PYTHON unset" bash -c \
    'cd "$1" && env -i HOME="$HOME" PATH="$2" "$3" sql -f job.sql --pyfiles udfs.py > got && diff want got' \
    _ "$job" "$bare" "$venv/bin/weir"
check "e2e smoke tests against the installed weir" bash -c \
    'cd e2e && env -i HOME="$HOME" LANG=C.UTF-8 PATH="$1" WEIR_BIN="$2/bin/weir" WEIR_PYTHON="$2/bin/python" "$3" -test.run "$4" -test.count=1 -test.v' \
    _ "$bare" "$venv" "$work/e2e.test" "$smoke"
grep -E '^--- ' "$work/out" | sed 's/^/     /'

echo "== the other wheels, each on its own CPython (without dependencies: the extensions and the engine)"
. packaging/pythons.sh
while read -r other; do
    otag=$("$other" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
    [ "$otag" != "$tag" ] || continue
    owheels=(dist/weir-"$version"-"$otag"-"$otag"-*manylinux*.whl)
    [ -f "${owheels[0]}" ] || continue
    check "$otag wheel on $("$other" -c 'import sys; print(sys.version.split()[0])'): fast extensions load, weir version" bash -c '
        "$1" -m pip install --quiet --no-deps --target "$2" "$3" &&
        env -i PATH="$4" PYTHONPATH="$2" "$1" -c "import weir.coder as c, weir.operations as o; assert (c.IMPLEMENTATION, o.IMPLEMENTATION) == (\"fast\", \"fast\"), (c.FALLBACK_REASON, o.FALLBACK_REASON)" &&
        [ "$(env -i PATH="$4" PYTHONPATH="$2" "$1" -m weir version)" = "weir $5" ]' \
        _ "$other" "$work/t-$otag" "${owheels[0]}" "$bare" "$version"
done < <(find_pythons)

echo "== the sdist, built from source by pip in new venvs"
src_env() { env -u CC -u CXX -u LDSHARED PATH="$1" "${@:2}"; }
"$py" -m venv "$work/src"
check "sdist with Go and a C compiler: fast extensions and the engine" bash -c '
    "$1/bin/pip" install --quiet --no-deps "$2" &&
    "$1/bin/python" -c "import weir.coder as c, weir.operations as o; assert (c.IMPLEMENTATION, o.IMPLEMENTATION) == (\"fast\", \"fast\")" &&
    [ "$("$1/bin/weir" version)" = "weir $3" ]' _ "$work/src" "$sdist" "$version"
"$py" -m venv "$work/nocc"
src_env "$goonly" "$work/nocc/bin/pip" install --verbose --no-deps "$sdist" > "$work/nocc.log" 2>&1 || true
check "sdist without a C compiler: installs, warns, runs on the pure-Python twins" bash -c '
    grep -q "WARNING: weir could not build" "$2" &&
    "$1/bin/python" -c "import weir.coder as c, weir.operations as o; assert (c.IMPLEMENTATION, o.IMPLEMENTATION) == (\"slow\", \"slow\"), (c.IMPLEMENTATION, o.IMPLEMENTATION)" &&
    [ "$("$1/bin/weir" version)" = "weir $3" ]' _ "$work/nocc" "$work/nocc.log" "$version"
"$py" -m venv "$work/nogo"
check "sdist without Go: stops, saying Go is needed" bash -c '
    ! env -u CC PATH="$1" "$2/bin/pip" install --no-deps "$3" > "$4" 2>&1 &&
    grep -q "building weir from source needs Go" "$4" && ! "$2/bin/python" -c "import weir" 2>/dev/null' \
    _ "$bare" "$work/nogo" "$sdist" "$work/nogo.log"

echo "wheel checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
