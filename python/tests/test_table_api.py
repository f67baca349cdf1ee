"""weir.table against the real engine (bin/weir gateway) and real workers.

Skipped, with the reason, when the engine binary is not found: set
WEIR_BIN to bin/weir (``make build``), or put ``weir`` on PATH.
"""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

# The checkout's engine (make build) unless WEIR_BIN names another.
_CHECKOUT_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bin", "weir")
if not os.environ.get("WEIR_BIN") and os.access(_CHECKOUT_BIN, os.X_OK):
    os.environ["WEIR_BIN"] = os.path.abspath(_CHECKOUT_BIN)
try:
    from weir.table._gateway import find_engine

    find_engine()
except FileNotFoundError as e:
    pytest.skip(f"no weir engine to test ({e}); run 'make build'", allow_module_level=True)

pd = pytest.importorskip("pandas")

from weir.table import DataTypes, EngineError, EnvironmentSettings, Row, RowKind, TableEnvironment  # noqa: E402
from weir.table.expressions import call, call_sql, col, lit  # noqa: E402
from weir.table.udf import ScalarFunction, udf  # noqa: E402


@pytest.fixture(scope="module")
def t_env():
    env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    yield env
    env.close()


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def children(pid):
    """The pids of pid's direct children."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().split(")")[-1].split()[1]) == pid:
                        out.append(int(d))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    return out


def test_sql_ddl_insert_and_select(t_env, tmp_path):
    out = tmp_path / "out"
    t_env.execute_sql(f"CREATE TABLE gen (a INT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '1000', "
                      f"'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '1000')")
    t_env.execute_sql(f"CREATE TABLE fs (a INT, b BIGINT) WITH ('connector' = 'filesystem', 'path' = '{out}', 'format' = 'csv')")
    r = t_env.execute_sql("INSERT INTO fs SELECT a, CAST(a AS BIGINT) * a FROM gen WHERE a % 10 = 0")
    r.wait()
    assert r.get_table_schema().get_field_names() == ["default_catalog.default_database.fs"]
    rows = sorted(tuple(x) for x in t_env.execute_sql("SELECT a, b FROM fs").collect())
    assert rows == [(a, a * a) for a in range(10, 1001, 10)]
    res = t_env.execute_sql("SELECT COUNT(*) AS n, SUM(a) AS s FROM gen")
    assert [c for c in res.get_table_schema().get_field_names()] == ["n", "s"]
    with res.collect() as it:
        (row,) = list(it)
    assert tuple(row) == (1000, 500500) and row.get_row_kind() == RowKind.INSERT
    t_env.execute_sql("SET 'pipeline.global-job-parameters' = 'k:v'")


def test_sql_error_has_line_and_column(t_env):
    t = t_env.from_elements([(1,)], ["x"])
    with pytest.raises(EngineError, match=r"line 2, column 8: unknown column nope"):
        t_env.execute_sql(f"SELECT x,\n       nope FROM {t}")
    with pytest.raises(EngineError, match=r"line 1, column \d+"):
        t_env.execute_sql("SELEC 1")
    # The session is still usable after errors.
    assert [tuple(r) for r in t_env.execute_sql("SELECT 1 + 1").collect()] == [(2,)]


def test_udf_error_carries_the_traceback(t_env):
    t = t_env.from_elements([(1,), (0,)], ["x"])

    def invert(v):
        return 10 // v

    f = udf(invert, result_type=DataTypes.BIGINT())
    with pytest.raises(EngineError) as e:
        list(t.select(f(col("x"))).execute().collect())
    msg = str(e.value)
    assert "ZeroDivisionError" in msg and "input row: (0,)" in msg and "in invert" in msg, msg


def test_function_forms(t_env):
    """Lambdas, closures, class instances, decorated functions and
    functions registered by name, called from the Table API and from SQL."""
    offset = random.randint(1, 1000)

    @udf(result_type=DataTypes.BIGINT())
    def plus_offset(x):
        return x + offset

    class Mul(ScalarFunction):
        def __init__(self, k):
            self.k = k

        def open(self, ctx):
            self.extra = int(ctx.get_job_parameter("extra", "0"))

        def eval(self, x):
            return x * self.k + self.extra

    mul = udf(Mul(3), result_type="BIGINT")
    neg = udf(lambda x: -x, result_type=DataTypes.BIGINT())
    xs = [random.randint(-10**6, 10**6) for _ in range(random.randint(1, 3000))]
    t = t_env.from_elements([(x,) for x in xs], ["x"])
    got = [tuple(r) for r in t.select(plus_offset(col("x")), mul(col("x")), neg(plus_offset(col("x")))).execute().collect()]
    assert got == [(x + offset, 3 * x, -(x + offset)) for x in xs]
    t_env.create_temporary_function("plus_offset", plus_offset)
    t_env.create_temporary_system_function("mul3", mul)
    got = [tuple(r) for r in t_env.execute_sql(f"SELECT mul3(plus_offset(x)) FROM {t} WHERE x > 0").collect()]
    assert got == [((x + offset) * 3,) for x in xs if x > 0]
    with pytest.raises(EngineError, match="already defined"):
        t_env.create_temporary_function("plus_offset", neg)
    assert t_env.drop_temporary_function("plus_offset")
    assert not t_env.drop_temporary_function("plus_offset")
    with pytest.raises(EngineError, match="plus_offset"):
        t_env.execute_sql(f"SELECT plus_offset(x) FROM {t}")
    # call() by name and a function object.
    t_env.create_temporary_function("plus_offset", plus_offset)
    got = [tuple(r) for r in t.select(call("plus_offset", col("x")), call(neg, col("x")), call_sql("ABS(x)")).execute().collect()]
    assert got == [(x + offset, -x, abs(x)) for x in xs]
    with pytest.raises(TypeError, match="udf"):
        t_env.create_temporary_function("plain", lambda x: x)


def test_table_operations(t_env):
    n = random.randint(1, 2000)
    rows = [(i, random.choice(["a", "b", "c", None]), random.random()) for i in range(n)]
    t = t_env.from_elements(rows, DataTypes.ROW([DataTypes.FIELD("id", DataTypes.INT()),
                                                  DataTypes.FIELD("k", DataTypes.STRING()),
                                                  DataTypes.FIELD("v", DataTypes.DOUBLE())]))
    assert t.get_schema().get_field_names() == ["id", "k", "v"]
    q = t.where(col("k").is_not_null).where(col("id") % 2 == 0).select(col("id"), col("k").upper_case.alias("K"))
    got = [tuple(r) for r in q.execute().collect()]
    assert got == [(i, k.upper()) for i, k, _ in rows if k is not None and i % 2 == 0]
    # A select over a select (computed as a view), then a grouping.
    q2 = q.select((col("id") + lit(1)).alias("j"), col("K")).group_by(col("K")).select(col("K"), col("j").count.alias("n"))
    got = sorted(tuple(r) for r in q2.execute().collect())
    want = {}
    for i, k, _ in rows:
        if k is not None and i % 2 == 0:
            want[k.upper()] = want.get(k.upper(), 0) + 1
    assert got == sorted(want.items())
    top = [tuple(r) for r in t.order_by(col("v").desc).limit(3).select(col("id")).execute().collect()]
    assert top == [(i,) for i, _, _ in sorted(rows, key=lambda r: -r[2])[:3]]
    assert "GoCalc" in t.where(col("id") > 1).explain()
    t_env.create_temporary_view("tv", q)
    assert [tuple(r) for r in t_env.sql_query("SELECT COUNT(*) FROM tv").execute().collect()] == [(len(got and q.execute()._values()),)]
    assert t_env.drop_temporary_view("tv") and not t_env.drop_temporary_view("tv")


def test_from_pandas_to_pandas_round_trip(t_env):
    rng = random.Random()
    # Enough rows that each column has a value to infer its type from.
    n = rng.randint(20, 5000)
    df = pd.DataFrame({
        "i": pd.array([rng.randint(-2**40, 2**40) for _ in range(n)], dtype="int64"),
        "f": [rng.random() if rng.random() > 0.1 else None for _ in range(n)],
        "s": [rng.choice(["x", "yy", "", "ünï"]) if rng.random() > 0.2 else None for _ in range(n)],
        "b": [rng.random() > 0.5 for _ in range(n)],
    })
    t = t_env.from_pandas(df)
    assert [str(x) for x in t.get_schema().get_field_data_types()] == ["BIGINT", "DOUBLE", "STRING", "BOOLEAN"]
    back = t.to_pandas()
    assert list(back.columns) == ["i", "f", "s", "b"] and len(back) == n
    pd.testing.assert_frame_equal(back.astype(object).where(back.notna(), None),
                                  df.astype(object).where(df.notna(), None), check_dtype=False)
    got = t.where(col("b")).select(col("i") * 2).to_pandas()
    assert got.iloc[:, 0].tolist() == [i * 2 for i, b in zip(df["i"], df["b"]) if b]


def test_from_pandas_moves_as_arrow(t_env):
    """A million rows in and out without per-row Python work on the client."""
    n = 1_000_000
    df = pd.DataFrame({"a": range(n), "b": [1.5] * n})
    start = time.perf_counter()
    t = t_env.from_pandas(df)
    back = t.select(col("a") + 1, col("b")).to_pandas()
    took = time.perf_counter() - start
    assert len(back) == n and back.iloc[-1, 0] == n
    assert took < 20, f"a million rows through from_pandas/to_pandas took {took:.1f} s"


def test_print_tableau(t_env, capfd):
    t = t_env.from_elements([(1, "a"), (None, "a long string that is more than thirty characters")],
                            DataTypes.ROW([DataTypes.FIELD("n", DataTypes.INT()), DataTypes.FIELD("s", DataTypes.STRING())]))
    t.execute().print()
    out = capfd.readouterr().out
    assert out.splitlines() == [
        "+-------------+--------------------------------+",
        "|           n |                              s |",
        "+-------------+--------------------------------+",
        "|           1 |                              a |",
        "|      <NULL> | a long string that is more ... |",
        "+-------------+--------------------------------+",
        "2 rows in set",
    ]
    # Strings are 30 wide whatever their length (PyFlink 2.3's output).
    t_env.execute_sql("SELECT UPPER(c) AS c FROM (VALUES ('a', 1), ('b', 2)) AS t(c, n)").print()
    assert capfd.readouterr().out.splitlines()[:4] == [
        "+--------------------------------+",
        "|                              c |",
        "+--------------------------------+",
        "|                              A |",
    ]
    t_env.execute_sql(f"CREATE TABLE bh (a INT) WITH ('connector' = 'blackhole')").print()
    assert capfd.readouterr().out == "OK\n"


def test_closed_environment_stops_the_engine():
    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    pid = env._gw.pid
    assert [tuple(r) for r in env.execute_sql("SELECT 1").collect()] == [(1,)]
    env.close()
    env.close()
    assert not alive(pid)
    with pytest.raises(EngineError, match="closed"):
        env.execute_sql("SELECT 1")


KILLED_PROGRAM = textwrap.dedent("""
    import os, sys, threading, time
    from weir.table import DataTypes, EnvironmentSettings, TableEnvironment
    from weir.table.expressions import col
    from weir.table.udf import udf

    marks, how = sys.argv[1], sys.argv[2]

    def slow(x):
        with open(os.path.join(marks, "worker-%d" % os.getpid()), "w"):
            pass
        time.sleep(0.05)
        return x

    t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    t_env.get_config().set("parallelism.default", "2")
    t_env.get_config().set("python.fn-execution.bundle.size", "1")
    with open(os.path.join(marks, "engine"), "w") as f:
        f.write(str(t_env._gw.pid))
    t = t_env.from_elements([(i,) for i in range(100000)], ["x"])
    job = lambda: t.select(udf(slow, result_type=DataTypes.BIGINT())(col("x"))).execute().wait()
    if how == "SIGKILL":
        job()
    threading.Thread(target=job, daemon=True).start()
    while not any(m.startswith("worker-") for m in os.listdir(marks)):
        time.sleep(0.05)
    time.sleep(0.5)
    if how == "os._exit":
        os._exit(0)  # no atexit: the engine sees its stdin and the socket close
    sys.exit(0)  # atexit closes the environment while the job runs
""")


@pytest.mark.parametrize("how", ["SIGKILL", "os._exit", "sys.exit"])
def test_program_killed_leaves_no_engine_or_worker(tmp_path, how):
    """A program SIGKILLed while a job runs, or that exits during one,
    leaves no engine or worker process."""
    prog = tmp_path / "prog.py"
    prog.write_text(KILLED_PROGRAM)
    marks = tmp_path / "marks"
    marks.mkdir()
    p = subprocess.Popen([sys.executable, str(prog), str(marks), how], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and p.poll() is None:
        if any(m.startswith("worker-") for m in os.listdir(marks)) and (marks / "engine").exists():
            break
        time.sleep(0.05)
    assert (marks / "engine").exists(), "the program did not start its engine"
    engine = int((marks / "engine").read_text())
    workers = children(engine)
    assert workers, "the engine has no worker processes"
    if how == "SIGKILL":
        time.sleep(random.uniform(0, 0.5))
        p.send_signal(signal.SIGKILL)
    p.wait(timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (alive(engine) or any(alive(w) for w in workers)):
        time.sleep(0.1)
    assert not alive(engine), f"engine {engine} outlived its program"
    left = [w for w in workers if alive(w)]
    assert not left, f"workers {left} outlived the program"


def test_function_needing_a_module_the_workers_lack(tmp_path, monkeypatch):
    """A function that uses an importable module refers to it by name: the
    registration says to ship it, and works once python.files has it."""
    mod = tmp_path / "weir_test_helper_mod.py"
    k = random.randint(2, 100)
    mod.write_text(f"def helper(x):\n    return x * {k}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import weir_test_helper_mod

    f = udf(lambda x: weir_test_helper_mod.helper(x), result_type=DataTypes.BIGINT())
    with TableEnvironment.create(EnvironmentSettings.in_batch_mode()) as env:
        with pytest.raises(EngineError, match=r"(?s)No module named 'weir_test_helper_mod'.*python\.files"):
            env.create_temporary_function("f", f)
        env.get_config().set("python.files", str(mod))
        env.create_temporary_function("f", f)
        assert [tuple(r) for r in env.execute_sql("SELECT f(3)").collect()] == [(3 * k,)]


INTERRUPTED_PROGRAM = textwrap.dedent("""
    import os, signal, sys, time
    # Ctrl-C raises KeyboardInterrupt as at a terminal, even when the tests
    # run in a background job, where the shell starts them with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from weir.table import DataTypes, EngineError, EnvironmentSettings, TableEnvironment
    from weir.table.expressions import col
    from weir.table.udf import udf

    def slow(x):
        time.sleep(0.01)
        return x

    t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    t_env.get_config().set("python.fn-execution.bundle.size", "1")
    pid = t_env._gw.pid
    t = t_env.from_elements([(i,) for i in range(100000)], ["x"])
    print("running", flush=True)
    try:
        t.select(udf(slow, result_type=DataTypes.BIGINT())(col("x"))).execute().wait()
    except KeyboardInterrupt:
        start = time.monotonic()
        while time.monotonic() - start < 30 and os.path.exists("/proc/%d" % pid) and \\
                open("/proc/%d/stat" % pid).read().split(")")[-1].split()[0] != "Z":
            time.sleep(0.05)
        print("interrupted", os.path.exists("/proc/%d" % pid) and
              open("/proc/%d/stat" % pid).read().split(")")[-1].split()[0] != "Z", flush=True)
    try:
        t_env.execute_sql("SELECT 1")
    except EngineError as e:
        print("closed:", "closed" in str(e), flush=True)
    with TableEnvironment.create(EnvironmentSettings.in_batch_mode()) as env2:
        print([tuple(r) for r in env2.execute_sql("SELECT 41 + 1").collect()], flush=True)
""")


def _output(p):
    """The program's output; a program still running after 120 s fails the
    test and is killed (its engine exits with the closed pipe)."""
    try:
        return p.communicate(timeout=120)[0]
    except subprocess.TimeoutExpired:
        p.kill()
        out = p.communicate()[0]
        pytest.fail(f"the program did not end within 120 s after Ctrl-C; its output: {out!r}")


def test_ctrl_c_cancels_the_statement_and_ends_the_session(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(INTERRUPTED_PROGRAM)
    p = subprocess.Popen([sys.executable, str(prog)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert p.stdout.readline() == "running\n"
    time.sleep(random.uniform(1.5, 3))
    p.send_signal(signal.SIGINT)
    out = _output(p)
    assert out.splitlines() == ["interrupted False", "closed: True", "[(42,)]"], out


@pytest.mark.parametrize("read", ["wait", "print"])
def test_ctrl_c_while_rows_are_decoded_ends_the_session(tmp_path, read):
    """A Ctrl-C that lands while a result's batch is decoded (outside the
    gateway's exchange) ends the session too: without that, the next
    statement waited behind the rest of the running job."""
    call = random.randint(1, 4)
    prog = tmp_path / "prog.py"
    prog.write_text(INTERRUPTED_PROGRAM.replace(
        "print(\"running\", flush=True)",
        "print(\"running\", flush=True)\n"
        "from weir.table import _arrow\n"
        "_calls = [0]\n"
        "_from_ipc = _arrow.from_ipc\n"
        "def _interrupting(body):\n"
        "    _calls[0] += 1\n"
        f"    if _calls[0] == {call}:\n"
        "        raise KeyboardInterrupt\n"
        "    return _from_ipc(body)\n"
        "_arrow.from_ipc = _interrupting").replace(
        ".execute().wait()", ".execute().wait()" if read == "wait" else ".execute().print()"))
    p = subprocess.Popen([sys.executable, str(prog)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = _output(p)
    assert out.splitlines() == ["running", "interrupted False", "closed: True", "[(42,)]"], (call, out)


def test_vectorized_udf_in_table_api(t_env):
    xs = [random.randint(-1000, 1000) for _ in range(random.randint(1, 5000))]
    t = t_env.from_elements([(x,) for x in xs], ["x"])
    times10 = udf(lambda s: s * 10, result_type="BIGINT", func_type="pandas")
    plus1 = udf(lambda x: x + 1, result_type="BIGINT")
    assert times10(3) == 30 and plus1(3) == 4  # still plain Python when called with values
    got = [tuple(r) for r in t.select(times10(col("x")), plus1(col("x"))).execute().collect()]
    assert got == [(10 * x, x + 1) for x in xs]


def test_nested_values(t_env):
    """ARRAY, MAP and ROW values in and out, typed as PyFlink types them."""
    rows = [(i, [i, i + 1], {"k%d" % i: i / 2}, Row(i, "s%d" % i)) for i in range(random.randint(1, 50))]
    t = t_env.from_elements(rows, DataTypes.ROW([
        DataTypes.FIELD("a", DataTypes.BIGINT()), DataTypes.FIELD("b", DataTypes.ARRAY(DataTypes.BIGINT())),
        DataTypes.FIELD("c", DataTypes.MAP(DataTypes.STRING().not_null(), DataTypes.DOUBLE())),
        DataTypes.FIELD("r", DataTypes.ROW([DataTypes.FIELD("x", DataTypes.INT()), DataTypes.FIELD("y", DataTypes.STRING())]))]))
    got = list(t.execute().collect())
    assert [tuple(r) for r in got] == [tuple(r) for r in rows]
    assert isinstance(got[0][3], Row)
    inferred = t_env.from_elements([(1, [1, 2], {"a": 1.5})], ["a", "b", "c"])
    assert [str(x) for x in inferred.get_schema().get_field_data_types()] == ["BIGINT", "ARRAY<BIGINT>", "MAP<STRING NOT NULL, DOUBLE>"]
