"""Records how Flink 2.3's filesystem csv format reads and writes with its
csv.* options, into cases.json, which TestFilesystemCSVFlink reads.

Run with the PyFlink interpreter from the repository root:

    bench/.venv-pyflink/bin/python internal/connector/testdata/csvflink/record.py

Each case is a table of columns (a INT, b STRING, c STRING) with the case's
options (typed_reads: of a column of the type at hand and an INT). A read case writes 'input' to a file, reads the table and records
its rows, every value CAST to STRING (null for NULL), or 'error' when the
job fails (the innermost Java exception's first line). A write case inserts
'values' (a SQL VALUES list) and records the part file Flink wrote.
"""

import glob
import json
import os
import shutil
import sys
import tempfile

from pyflink.table import EnvironmentSettings, TableEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))

SCHEMA = "a INT, b STRING, c STRING"

READS = [
    ("plain", {}, '1,x,y\n2,"p,q","say ""hi"""\n'),
    ("empty_fields", {}, '1,,""\n'),
    ("empty_int", {}, ',x,y\n'),
    ("empty_int_ignore", {"csv.ignore-parse-errors": "true"}, ',x,y\n2,a,b\n'),
    ("bad_int", {}, '1,x,y\nzz,x,y\n'),
    ("bad_int_ignore", {"csv.ignore-parse-errors": "true"}, '1,x,y\nzz,x,y\n'),
    ("null_literal", {"csv.null-literal": "NULL"}, '1,NULL,y\nNULL,,"NULL"\n'),
    ("null_literal_empty_int", {"csv.null-literal": "NULL"}, ',x,y\n'),
    ("null_literal_ignore", {"csv.null-literal": "NULL", "csv.ignore-parse-errors": "true"}, ',x,y\n'),
    ("quote_char", {"csv.quote-character": "'"}, "1,'a,b','it''s'\n2,\"q\",z\n"),
    ("disable_quote", {"csv.disable-quote-character": "true"}, '1,"a","b c"\n'),
    ("escape_char", {"csv.escape-character": "\\"}, '1,a\\,b,c\\\\d\n2,"x\\"y",z\n'),
    ("allow_comments", {"csv.allow-comments": "true"}, '# a comment\n1,x,y\n#2,p,q\n'),
    ("no_comments", {}, '#1,x,y\n'),
    ("delimiter", {"csv.field-delimiter": ";"}, '1;a,b;c\n'),
    ("short_line", {}, '1,x\n'),
    ("short_line_ignore", {"csv.ignore-parse-errors": "true"}, '1,x\n2,a,b\n'),
    ("quoted_empty_int", {}, '"",x,y\n'),
    ("quoted_null_literal_int", {"csv.null-literal": "NULL"}, '"NULL",x,y\n'),
]

# Read cases with a schema of their own: how each type reads an empty field.
TYPED_READS = [
    ("empty_boolean", "v BOOLEAN", ",1\n"),
    ("empty_double", "v DOUBLE", ",1\n"),
    ("empty_date", "v DATE", ",1\n"),
    ("empty_decimal", "v DECIMAL(10, 2)", ",1\n"),
    ("empty_bytes", "v BYTES", ",1\n"),
]

WRITES = [
    ("plain", {}, "(1, 'x', CAST(NULL AS STRING)), (CAST(NULL AS INT), '', 'a,b'), (3, 'say \"hi\"', ' sp ')"),
    ("null_literal", {"csv.null-literal": "NULL"}, "(1, 'x', CAST(NULL AS STRING)), (CAST(NULL AS INT), '', 'NULL')"),
    ("quote_char", {"csv.quote-character": "'"}, "(1, 'a,b', 'it''s'), (2, 'q\"', '')"),
    ("disable_quote", {"csv.disable-quote-character": "true"}, "(1, 'a,b', 'q\"r')"),
    ("disable_quote_escape", {"csv.disable-quote-character": "true", "csv.escape-character": "\\"}, "(1, 'a,b', 'c\\d')"),
    ("escape_char", {"csv.escape-character": "\\"}, "(1, 'a,b', 'c\\d'), (2, 'q\"', 'e')"),
    ("delimiter", {"csv.field-delimiter": ";"}, "(1, 'a;b', 'c,d')"),
    ("allow_comments", {"csv.allow-comments": "true"}, "(1, '#x', 'y')"),
]


def ddl(name, path, opts, schema=SCHEMA):
    with_ = {"connector": "filesystem", "path": path, "format": "csv", **opts}
    kv = ", ".join("'%s' = '%s'" % (k, v.replace("'", "''")) for k, v in with_.items())
    return "CREATE TABLE %s (%s) WITH (%s)" % (name, schema, kv)


def root_cause(e):
    msg = str(e)
    lines = [l for l in msg.splitlines() if l.startswith("Caused by:")]
    return (lines[-1] if lines else msg.splitlines()[0]).removeprefix("Caused by: ").strip()


def main():
    env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    env.get_config().set("parallelism.default", "1")
    env.get_config().set("table.local-time-zone", "UTC")
    tmp = tempfile.mkdtemp()
    out = {"schema": SCHEMA, "reads": [], "typed_reads": [], "writes": []}
    try:
        for i, (name, opts, text) in enumerate(READS):
            d = os.path.join(tmp, "r%d" % i)
            os.makedirs(d)
            with open(os.path.join(d, "part-0.csv"), "w") as f:
                f.write(text)
            env.execute_sql(ddl("r%d" % i, d, opts))
            case = {"name": name, "options": opts, "input": text}
            try:
                t = env.sql_query("SELECT CAST(a AS STRING), b, c FROM r%d" % i)
                with t.execute().collect() as it:
                    case["rows"] = [[None if v is None else str(v) for v in row] for row in it]
            except Exception as e:
                case["error"] = root_cause(e)
            print(name, case.get("rows", case.get("error")), file=sys.stderr)
            out["reads"].append(case)
        for i, (name, col, text) in enumerate(TYPED_READS):
            d = os.path.join(tmp, "t%d" % i)
            os.makedirs(d)
            with open(os.path.join(d, "part-0.csv"), "w") as f:
                f.write(text)
            env.execute_sql(ddl("t%d" % i, d, {}, col + ", n INT"))
            case = {"name": name, "schema": col + ", n INT", "input": text}
            try:
                t = env.sql_query("SELECT CAST(v AS STRING), CAST(n AS STRING) FROM t%d" % i)
                with t.execute().collect() as it:
                    case["rows"] = [[None if v is None else str(v) for v in row] for row in it]
            except Exception as e:
                case["error"] = root_cause(e)
            print(name, case.get("rows", case.get("error")), file=sys.stderr)
            out["typed_reads"].append(case)
        for i, (name, opts, values) in enumerate(WRITES):
            d = os.path.join(tmp, "w%d" % i)
            env.execute_sql(ddl("w%d" % i, d, opts))
            env.execute_sql("INSERT INTO w%d VALUES %s" % (i, values)).wait()
            text = ""
            for p in sorted(glob.glob(os.path.join(d, "**", "*"), recursive=True)):
                if os.path.isfile(p) and not os.path.basename(p).startswith("."):
                    with open(p) as f:
                        text += f.read()
            print(name, repr(text), file=sys.stderr)
            out["writes"].append({"name": name, "options": opts, "values": values, "output": text})
    finally:
        shutil.rmtree(tmp)
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
