"""The Flink target's client parts that run without a cluster: statement
splitting, targets, value printing, options, and the message when
apache-flink is missing (make test-flink runs the real cluster)."""

import os
import subprocess
import sys

import pytest

from weir._flink import client, options


def test_split_statements_keeps_quotes_comments_and_lines():
    script = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE t (a STRING) WITH ('connector' = 'print', 'x' = 'it''s; fine');\n"
        "\n"
        "/* block; comment */ INSERT INTO t\n"
        "SELECT `we;ird` FROM s;\n"
        "SET 'k' = 'v'\n"
        "-- trailing comment only\n"
    )
    got = client.split_statements(script)
    assert [line for line, _ in got] == [2, 4, 6]
    assert got[0][1].endswith("'it''s; fine')")
    assert got[1][1].startswith("/* block; comment */ INSERT INTO t")
    assert got[1][1].endswith("SELECT `we;ird` FROM s")
    assert got[2][1].startswith("SET 'k' = 'v'")
    assert client.split_statements("-- nothing\n/* at all */\n") == []


@pytest.mark.parametrize("target, want", [
    ("flink://127.0.0.1:8081", ("127.0.0.1", 8081)),
    ("flink://jm:443/", ("jm", 443)),
    ("flink://[::1]:8081", ("::1", 8081)),
])
def test_parse_target(target, want):
    assert client.parse_target(target) == want


@pytest.mark.parametrize("target", ["local", "flink://h", "http://h:1", "flink://h:0", "flink://h:70000", ""])
def test_parse_target_refuses(target):
    with pytest.raises(ValueError, match="flink://HOST:PORT|between 1 and 65535"):
        client.parse_target(target)


@pytest.mark.parametrize("value, want", [
    (None, "null"), (True, "true"), (3, "3"), (99.84210526315789, "99.84210526315789"), (1101.5, "1101.5"),
    (1e7, "1.0E7"), (1.5e-5, "1.5E-5"), (float("nan"), "NaN"), (float("-inf"), "-Infinity"),
    ("a b", "a b"), ([1, None], "[1, null]"), ({"k": 1}, "{k=1}"), (b"\x01\xff", "[1, -1]"),
])
def test_java_string(value, want):
    assert client.java_string(value) == want


def test_options_refuse_weir_only_and_pass_flinks():
    with pytest.raises(ValueError, match="weir's own"):
        options.check("python.worker.startup-timeout", "-D")
    options.check("python.fn-execution.bundle.size", "-D")
    conf = options.flink_settings({"python.files": "udfs.py, lib", "parallelism.default": "2"}, "h", 9, "/ship")
    assert conf["execution.target"] == "remote" and conf["rest.address"] == "h" and conf["rest.port"] == "9"
    assert conf["execution.runtime-mode"] == "batch" and conf["parallelism.default"] == "2"
    assert conf["python.files"] == ",".join([os.path.abspath("udfs.py"), os.path.abspath("lib"), "/ship"])
    with pytest.raises(ValueError):
        options.flink_settings({"python.fn-execution.max-attempts": "2"}, "h", 9, "/ship")


def test_ship_weir_copies_pure_python(tmp_path):
    client.ship_weir(str(tmp_path))
    files = {os.path.relpath(os.path.join(d, f), tmp_path) for d, _, fs in os.walk(tmp_path) for f in fs}
    assert "weir/_udf.py" in files and "weir/_flink/functions.py" in files
    assert not [f for f in files if f.endswith((".so", ".c", ".pyx")) or "/_bin/" in f or "__pycache__" in f]


def test_client_without_pyflink_says_what_to_do():
    try:
        import pyflink  # noqa: F401
        pytest.skip("this Python has apache-flink")
    except ImportError:
        pass
    p = subprocess.run([sys.executable, "-m", "weir.flink", "--target", "flink://127.0.0.1:1"], input="",
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == client.EXIT_NO_PYFLINK, p.stderr
    assert "apache-flink" in p.stderr and "python.client.executable" in p.stderr and "conflict" in p.stderr


def test_client_bad_target_is_a_usage_error():
    p = subprocess.run([sys.executable, "-m", "weir.flink", "--target", "flink://nope"], input="",
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == client.EXIT_USAGE and "flink://HOST:PORT" in p.stderr
