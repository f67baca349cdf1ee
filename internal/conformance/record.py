"""Records Flink's answers into weir's conformance corpus.

Run with the PyFlink 2.3 interpreter (`make conformance-record` does):

    bench/.venv-pyflink/bin/python internal/conformance/record.py testdata/conformance [FILTER ...]

Every `query` of every `*.test` file under the corpus directory (only files
whose path contains one of the FILTER strings, when given) runs on Flink in
batch mode (streaming mode for a query marked `streaming`, whose changelog is
materialized into its final rows; for a query marked `changelog`, the changelog
itself is written, each row prefixed by its kind and a tab, in emission order)
with parallelism 1, one TableEnvironment per
file and mode, in UTC; its result block
(the lines after `----`) is replaced by what Flink answered. The format is
described in internal/conformance/corpus.go; this file and that one must agree.

Values are written as Flink's print connector shows them (Java's toString of
the external classes: 1.0E10, 2020-01-01T12:00, [1, -1] for bytes, true),
NULL for a null, (empty) for the empty string, with backslash, tab, newline
and carriage return escaped as \\\\, \\t, \\n and \\r. Fields are separated by
tabs. Rows of a query not marked `ordered` are sorted.
"""

import os
import re
import struct
import sys
import time
from decimal import Decimal

from pyflink.java_gateway import get_gateway
from pyflink.table import EnvironmentSettings, TableEnvironment


def java_double(f, bits=64):
    """Java's Double.toString (bits=64) or Float.toString (bits=32) of f."""
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "Infinity" if f > 0 else "-Infinity"
    if f == 0:
        return "-0.0" if str(f).startswith("-") else "0.0"
    if bits == 32:
        f32 = struct.unpack("f", struct.pack("f", f))[0]
        for p in range(1, 10):
            s = "%.*e" % (p - 1, f32)
            if struct.unpack("f", struct.pack("f", float(s)))[0] == f32:
                break
        lo, hi = struct.unpack("f", struct.pack("f", 1e-3))[0], 1e7
    else:
        s = repr(f)
        lo, hi = 1e-3, 1e7
    d = Decimal(s)
    a = abs(float(s))
    if lo <= a < hi:
        out = format(d.normalize(), "f")
        if "." not in out:
            out += ".0"
        return out
    sign, digits, exp = d.normalize().as_tuple()
    digits = "".join(map(str, digits))
    e = exp + len(digits) - 1
    mant = digits[0] + "." + (digits[1:] or "0")
    return ("-" if sign else "") + mant + "E" + str(e)


def escape(s):
    if s == "":
        return "(empty)"
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def fmt_value(v, type_str, jvm):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return java_double(v, 32 if type_str.startswith("FLOAT") else 64)
    if isinstance(v, Decimal):
        return escape(str(v))
    if isinstance(v, str):
        return escape(v)
    if isinstance(v, (bytes, bytearray)):
        return "[" + ", ".join(str(b - 256 if b > 127 else b) for b in v) + "]"
    # A Java object (LocalDateTime, Instant, arrays, maps, rows): its
    # toString, arrays element by element as Flink's printing does.
    return escape(jvm.org.apache.flink.util.StringUtils.arrayAwareToString(v))


def java_message(e):
    """The first line of a Java exception's message, with its class."""
    je = getattr(e, "java_exception", None)
    if je is not None:
        # The root cause names the problem; the top is usually a wrapper.
        cause = je
        while cause.getCause() is not None and cause.getCause() != cause:
            cause = cause.getCause()
        top = je.toString().splitlines()[0]
        root = cause.toString().splitlines()[0]
        return top if root == top else top + " / " + root
    return str(e).splitlines()[0]


def run_query(tenv, jvm, sql, streaming=False, changelog=False):
    """Returns (types, rows) or raises. In streaming mode the changelog is
    materialized: +I and +U add a row, -U and -D remove one; with changelog
    the rows are the changes themselves, "<kind>\t<row>", in order."""
    r = tenv.execute_sql(sql)
    schema = r._j_table_result.getResolvedSchema()
    types = [str(t.toString()) for t in schema.getColumnDataTypes()]
    rows = []
    it = r._j_table_result.collect()
    try:
        while it.hasNext():
            row = it.next()
            line = "\t".join(fmt_value(row.getField(i), types[i], jvm) for i in range(row.getArity()))
            kind = str(row.getKind().shortString()) if streaming else "+I"
            if changelog:
                rows.append(kind + "\t" + line)
            elif kind in ("+I", "+U"):
                rows.append(line)
            elif line in rows:
                rows.remove(line)
            else:
                raise RuntimeError(f"changelog retracts a row it never added: {kind}{line}")
    finally:
        it.close()
    return types, rows


def new_env(streaming=False):
    settings = EnvironmentSettings.in_streaming_mode() if streaming else EnvironmentSettings.in_batch_mode()
    tenv = TableEnvironment.create(settings)
    conf = tenv.get_config()
    conf.set("parallelism.default", "1")
    conf.set("table.local-time-zone", "UTC")
    return tenv


# SET 'key' = 'value' as a statement: Flink's TableEnvironment does not run
# SET through execute_sql (only its SQL client does), so it goes to the
# table config, as weir's SET goes to its session.
SET_STATEMENT = re.compile(r"^\s*SET\s+'([^']*)'\s*=\s*'([^']*)'\s*;?\s*$", re.IGNORECASE)


def run_statement(tenv, text):
    m = SET_STATEMENT.match(text)
    if m:
        tenv.get_config().set(m.group(1), m.group(2))
        return
    tenv.execute_sql(text).wait()


def record_file(path, jvm):
    lines = open(path, encoding="utf-8").read().split("\n")
    # ${DIR} names the corpus file's directory (data files beside it).
    here = os.path.abspath(os.path.dirname(path))
    out = []
    # One environment per mode; the streaming one is made when a query needs
    # it, and the file's statements run in both.
    envs = {False: new_env()}
    setup = []
    i = 0
    n = 0
    while i < len(lines):
        line = lines[i]
        words = line.split()
        if words[:1] == ["statement"]:
            out.append(line)
            i += 1
            stmt = []
            while i < len(lines) and lines[i].strip() != "":
                stmt.append(lines[i])
                out.append(lines[i])
                i += 1
            want_error = words[1:2] == ["error"]
            text = "\n".join(stmt).replace("${DIR}", here)
            if not want_error:
                setup.append(text)
            try:
                for tenv in envs.values():
                    run_statement(tenv, text)
                if want_error:
                    raise SystemExit(f"{path}: statement expected to fail succeeded: {' '.join(stmt)}")
            except Exception as e:  # noqa: BLE001
                if not want_error:
                    raise SystemExit(f"{path}: setup statement failed on Flink: {java_message(e)}")
            continue
        if words[:1] == ["query"]:
            out.append(line)
            i += 1
            q = []
            while i < len(lines) and lines[i] != "----":
                q.append(lines[i])
                out.append(lines[i])
                i += 1
            if i == len(lines):
                raise SystemExit(f"{path}: query {words[1:2]} has no '----' line")
            out.append("----")
            i += 1
            while i < len(lines) and lines[i] != "":
                i += 1  # the old result (a row of blanks is a row)
            changelog = "changelog" in words[2:]
            ordered = "ordered" in words[2:] or changelog
            streaming = "streaming" in words[2:] or changelog
            if streaming not in envs:
                envs[streaming] = new_env(streaming)
                for st in setup:
                    run_statement(envs[streaming], st)
            t0 = time.time()
            try:
                types, rows = run_query(envs[streaming], jvm, "\n".join(q).replace("${DIR}", here), streaming, changelog)
                if not ordered:
                    rows.sort()
                out.append("\t".join(types))
                out.extend(rows)
            except Exception as e:  # noqa: BLE001
                out.append("error: " + escape(java_message(e)))
            n += 1
            print(f"  {words[1] if len(words) > 1 else '?'}: {time.time() - t0:.1f}s", file=sys.stderr)
            continue
        out.append(line)
        i += 1
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    os.replace(path + ".tmp", path)
    return n


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    filters = sys.argv[2:]
    jvm = get_gateway().jvm
    total = 0
    for d, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            path = os.path.join(d, name)
            if not name.endswith(".test") or (filters and not any(f in path for f in filters)):
                continue
            print(f"{path}:", file=sys.stderr)
            total += record_file(path, jvm)
    print(f"recorded {total} queries", file=sys.stderr)


if __name__ == "__main__":
    main()
