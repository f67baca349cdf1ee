# Sourced by build.sh and test.sh. find_pythons prints the interpreters weir has wheels for: CPython
# >= 3.10 with pip, one per minor version, the first found wins ($PYTHON or python3, python3.X on PATH,
# pyenv's, then /usr's).
find_pythons() {
    local c v seen=" "
    local root
    root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    for c in "${PYTHON:-python3}" python3.10 python3.11 python3.12 python3.13 python3.14 \
        "$root"/versions/*/bin/python3 /usr/local/bin/python3.* /usr/bin/python3.*; do
        case "$c" in *-config) continue ;; esac
        command -v "$c" >/dev/null 2>&1 || continue
        v=$("$c" -c 'import sys; assert sys.implementation.name == "cpython" and sys.version_info >= (3, 10); import pip; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
        case "$seen" in *" $v "*) continue ;; esac
        seen="$seen$v "
        command -v "$c"
    done
}
