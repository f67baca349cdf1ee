"""weir.table's streamed results, row kinds, statement sets, Python
dependencies and options, against the real engine (bin/weir gateway).

Skipped, with the reason, when the engine binary is not found (make build).
"""

import os
import zipfile

import pytest

_CHECKOUT_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bin", "weir")
if not os.environ.get("WEIR_BIN") and os.access(_CHECKOUT_BIN, os.X_OK):
    os.environ["WEIR_BIN"] = os.path.abspath(_CHECKOUT_BIN)
try:
    from weir.table._gateway import find_engine

    find_engine()
except FileNotFoundError as e:
    pytest.skip(f"no weir engine to test ({e}); run 'make build'", allow_module_level=True)

from weir.table import DataTypes, EngineError, EnvironmentSettings, RowKind, TableEnvironment  # noqa: E402
from weir.table.expressions import col  # noqa: E402
from weir.table.udf import udf  # noqa: E402


@pytest.fixture(scope="module")
def t_env():
    env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    yield env
    env.close()


def test_collect_streams_rows_of_an_unbounded_query():
    """collect() yields rows while the job runs: the source never ends, so
    rows fetched only at the job's end would never come. Closing the
    iterator cancels the job and the session goes on."""
    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    try:
        env.execute_sql("CREATE TABLE endless (n BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '50', "
                        "'fields.n.min' = '1', 'fields.n.max' = '9')")
        double = udf(lambda n: n * 2, result_type=DataTypes.BIGINT())
        env.create_temporary_function("double_it", double)
        result = env.execute_sql("SELECT n, double_it(n) AS d FROM endless")
        got = []
        with result.collect() as rows:
            for r in rows:
                got.append((r.get_row_kind(), tuple(r)))
                if len(got) == 7:
                    break
        assert len(got) == 7 and all(k == RowKind.INSERT and 1 <= n <= 9 and d == 2 * n for k, (n, d) in got), got
        assert [tuple(r) for r in env.execute_sql("SELECT 40 + 2").collect()] == [(42,)]
    finally:
        env.close()


def test_requests_while_a_result_streams_keep_its_rows(t_env):
    t = t_env.from_elements([(i,) for i in range(5000)], ["i"])
    first = t.select(col("i") * 2).execute()
    it = first.collect()
    head = next(it)
    # Another statement while the first result is still being read.
    assert [tuple(r) for r in t_env.execute_sql("SELECT 1").collect()] == [(1,)]
    rest = [r[0] for r in it]
    assert sorted([head[0]] + rest) == [2 * i for i in range(5000)]


def test_job_error_raises_while_iterating_with_the_traceback(t_env):
    t = t_env.from_elements([(1,), (0,)], ["x"])
    boom = udf(lambda v: 10 // v, result_type=DataTypes.BIGINT())
    result = t.select(boom(col("x"))).execute()
    with pytest.raises(EngineError) as e:
        list(result.collect())
    assert "ZeroDivisionError" in str(e.value) and "Traceback" in str(e.value), str(e.value)


def test_row_kinds_come_from_the_engine(capfd):
    """A result whose first column is $row_kind (docs/GATEWAY.md) gives each
    Row its kind, and streaming mode's print shows it in the op column."""
    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    try:
        q = ("SELECT CAST(k AS TINYINT) AS `$row_kind`, v FROM (VALUES (0, 'a'), (1, 'b'), (2, 'c'), (3, 'd')) "
             "AS t(k, v)")
        result = env.execute_sql(q)
        assert result.get_table_schema().get_field_names() == ["v"]
        got = [(r.get_row_kind(), tuple(r)) for r in result.collect()]
        assert got == [(RowKind.INSERT, ("a",)), (RowKind.UPDATE_BEFORE, ("b",)), (RowKind.UPDATE_AFTER, ("c",)),
                       (RowKind.DELETE, ("d",))]
        env.execute_sql(q).print()
        out = capfd.readouterr().out
        assert [ln.split("|")[1].strip() for ln in out.splitlines() if ln.startswith("| ") and "op" not in ln] == \
            ["+I", "-U", "+U", "-D"], out
        assert list(env.sql_query(q).to_pandas().columns) == ["v"]
    finally:
        env.close()


def _csv_rows(path):
    rows = []
    for root, _, files in os.walk(path):
        for f in files:
            if not f.startswith("."):
                with open(os.path.join(root, f)) as fh:
                    rows += [ln.strip() for ln in fh if ln.strip()]
    return sorted(rows)


def test_statement_set_is_one_job(t_env, tmp_path):
    """Both INSERTs commit, or neither: one failing row of the second
    leaves the first sink empty too."""
    t = t_env.from_elements([(i,) for i in range(1, 101)], ["i"])
    t_env.create_temporary_view("hundred", t)
    for name in ("s_ok", "s_bad"):
        t_env.execute_sql(f"CREATE TABLE {name} (i BIGINT) WITH ('connector' = 'filesystem', "
                          f"'path' = '{tmp_path / name}', 'format' = 'csv')")
    inv = udf(lambda i: 100 // (i - 77), result_type=DataTypes.BIGINT())
    t_env.create_temporary_function("inv", inv)
    bad = t_env.create_statement_set()
    bad.add_insert_sql("INSERT INTO s_ok SELECT i FROM hundred")
    bad.add_insert("s_bad", t.select(inv(col("i"))))
    with pytest.raises(EngineError, match="ZeroDivisionError"):
        bad.execute()
    assert _csv_rows(tmp_path / "s_ok") == [] and _csv_rows(tmp_path / "s_bad") == []
    good = t_env.create_statement_set()
    good.add_insert_sql("INSERT INTO s_ok SELECT i FROM hundred WHERE i <= 3")
    good.add_insert("s_bad", t.where(col("i") > 98))
    r = good.execute()
    assert r.get_table_schema().get_field_names() == ["default_catalog.default_database.s_ok",
                                                      "default_catalog.default_database.s_bad"]
    assert _csv_rows(tmp_path / "s_ok") == ["1", "2", "3"] and _csv_rows(tmp_path / "s_bad") == ["100", "99"]
    with pytest.raises(EngineError, match="not an INSERT"):
        t_env.create_statement_set().add_insert_sql("SELECT 1").execute()


def test_config_set_and_get(t_env):
    cfg = t_env.get_config()
    assert cfg.get("python.fn-execution.bundle.size", "unset") == "unset"
    cfg.set("python.fn-execution.bundle.size", "1000")
    assert cfg.get("python.fn-execution.bundle.size", None) == "1000"
    t_env.execute_sql("SET 'python.fn-execution.bundle.size' = '2000'")
    assert cfg.get("python.fn-execution.bundle.size") == "2000"
    with pytest.raises(EngineError, match="python.fn-execution.bundle.time"):
        cfg.set("python.fn-execution.bundle.time", "soon")
    t_env.execute_sql("RESET 'python.fn-execution.bundle.size'")


def test_python_file_archive_and_functions(tmp_path):
    mod = tmp_path / "helper_mod_for_weir.py"
    mod.write_text("def shout(s):\n    return s.upper() + '!'\n")
    arc = tmp_path / "words.zip"
    with zipfile.ZipFile(arc, "w") as z:
        z.writestr("data/suffix.txt", "-zipped")
    env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    try:
        env.add_python_file(str(mod))
        env.add_python_archive(str(arc), "myarchive")

        def use_both(s):
            import helper_mod_for_weir
            with open("myarchive/data/suffix.txt") as f:
                return helper_mod_for_weir.shout(s) + f.read()

        f = udf(use_both, result_type=DataTypes.STRING())
        t = env.from_elements([("a",), ("b",)], ["s"])
        assert sorted(r[0] for r in t.select(f(col("s"))).execute().collect()) == ["A!-zipped", "B!-zipped"]
        assert str(mod) in env.get_config().get("python.files")
        env.create_temporary_system_function("shout_sys", f)
        env.create_temporary_view("letters", t)
        assert [r[0] for r in env.from_path("letters").select(col("s")).execute().collect()] == ["a", "b"]
        assert sorted(r[0] for r in env.sql_query("SELECT shout_sys(s) FROM letters").execute().collect()) == \
            ["A!-zipped", "B!-zipped"]
        assert env.drop_temporary_function("shout_sys") and not env.drop_temporary_function("shout_sys")
        with pytest.raises(EngineError, match=r"line 1, column 8"):
            env.execute_sql("SELECT shout_sys(s) FROM letters")
        with pytest.raises(EngineError, match="nope"):
            env.from_path("nope")
    finally:
        env.close()


def _tiny_wheel(directory):
    """A wheel of a one-module package, written by hand (no index, no build)."""
    name = "weirtinypkg"
    path = os.path.join(directory, f"{name}-1.0-py3-none-any.whl")
    info = f"{name}-1.0.dist-info"
    files = {
        f"{name}.py": "ANSWER = 42\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{p},,\n" for p in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as z:
        for p, text in files.items():
            z.writestr(p, text)
    return path


def test_python_requirements_installed_once_into_a_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WEIR_CACHE_DIR", str(tmp_path / "cache"))
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _tiny_wheel(str(wheels))
    req = tmp_path / "requirements.txt"
    req.write_text("weirtinypkg==1.0\n")

    def answer(x):
        import weirtinypkg
        return weirtinypkg.ANSWER + x

    for attempt in range(2):
        env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
        try:
            cached = env.set_python_requirements(str(req), str(wheels))
            assert cached == (attempt == 1)
            f = udf(answer, result_type=DataTypes.BIGINT())
            t = env.from_elements([(1,)], ["x"])
            assert [r[0] for r in t.select(f(col("x"))).execute().collect()] == [43]
        finally:
            env.close()
    installed = os.listdir(tmp_path / "cache" / "python-requirements")
    assert len(installed) == 1, installed
    req.write_text("weirtinypkg==2.0\n")
    env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    try:
        with pytest.raises(EngineError, match="weirtinypkg==2.0"):
            env.set_python_requirements(str(req), str(wheels))
    finally:
        env.close()


def test_udaf_with_a_row_accumulator_in_group_by(t_env):
    """PyFlink's AggregateFunction example assigns to its Row accumulator."""
    from weir.common import Row
    from weir.table import AggregateFunction
    from weir.table.udf import udaf

    class WeightedSum(AggregateFunction):
        def create_accumulator(self):
            return Row(0, 0)

        def get_value(self, accumulator):
            return accumulator[0] if accumulator[1] else None

        def accumulate(self, accumulator, value, weight):
            accumulator[0] += value * weight
            accumulator[1] += weight

        def get_result_type(self):
            return DataTypes.BIGINT()

        def get_accumulator_type(self):
            return DataTypes.ROW([DataTypes.FIELD("f0", DataTypes.BIGINT()), DataTypes.FIELD("f1", DataTypes.BIGINT())])

    t = t_env.from_elements([(1, 2, "Lee"), (3, 4, "Jay"), (5, 6, "Jay"), (7, 8, "Lee")], ["v", "w", "name"])
    wsum = udaf(WeightedSum())
    got = sorted(tuple(r) for r in t.group_by(col("name")).select(col("name"), wsum(col("v"), col("w")).alias("s"))
                 .execute().collect())
    assert got == [("Jay", 42), ("Lee", 58)]
