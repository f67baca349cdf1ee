"""The ``weir`` command of the installed package (weir._cli): it becomes the engine, in the same process,
with WEIR_PYTHON pointing at its own interpreter unless that is already set."""

import os
import subprocess
import sys
import textwrap

import pytest

import weir
import weir._cli as cli


@pytest.fixture
def fake_engine(tmp_path):
    """An executable that prints what an engine would see: its pid, argv and WEIR_PYTHON."""
    path = tmp_path / "engine"
    path.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, os, sys
        print(json.dumps({{"pid": os.getpid(), "argv": sys.argv[1:], "python": os.environ.get("WEIR_PYTHON")}}))
        sys.exit(7)
        """))
    path.chmod(0o755)
    return str(path)


def run_weir(args, **env):
    full = {k: v for k, v in os.environ.items() if k not in ("WEIR_PYTHON", "WEIR_BIN")}
    full.update(env)
    # Prints its own pid first, then becomes the weir command: the engine must report the same pid.
    code = "import os, sys; print(os.getpid(), flush=True); sys.argv[0] = 'weir'; from weir._cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], env=full, capture_output=True, text=True, timeout=60)


def test_execs_engine_with_own_python(fake_engine):
    import json

    r = run_weir(["sql", "-f", "job sql", "--x=1"], WEIR_BIN=fake_engine)
    assert r.returncode == 7, r.stderr
    pid, seen = r.stdout.splitlines()
    seen = json.loads(seen)
    assert seen == {"pid": int(pid), "argv": ["sql", "-f", "job sql", "--x=1"], "python": os.path.normpath(sys.executable)}


def test_keeps_weir_python(fake_engine):
    import json

    r = run_weir(["version"], WEIR_BIN=fake_engine, WEIR_PYTHON="/opt/other/python")
    assert json.loads(r.stdout.splitlines()[1])["python"] == "/opt/other/python"


def test_missing_engine_says_what_to_do(tmp_path):
    r = run_weir(["version"], WEIR_BIN=str(tmp_path / "nowhere"))
    assert r.returncode == 2
    assert "WEIR_BIN=" in r.stderr and "not an executable file" in r.stderr


def test_never_runs_itself(tmp_path):
    """WEIR_BIN naming the running launcher (as the e2e tests do for an installed weir) means the bundled engine."""
    launcher = tmp_path / "weir"
    launcher.write_text(f"#!{sys.executable}\nfrom weir._cli import main\nmain()\n")
    launcher.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "WEIR_BIN"}
    env["WEIR_BIN"] = str(launcher)
    r = subprocess.run([str(launcher), "version"], env=env, capture_output=True, text=True, timeout=60)
    try:
        cli.engine()
    except FileNotFoundError:
        assert r.returncode == 2 and "no engine" in r.stderr  # installed without the engine
    else:
        assert r.returncode == 0 and r.stdout.strip() == f"weir {weir.__version__}", r.stderr


def test_engine_is_bundled_or_named(monkeypatch, fake_engine):
    monkeypatch.setenv("WEIR_BIN", fake_engine)
    assert cli.engine() == fake_engine
    monkeypatch.delenv("WEIR_BIN")
    try:
        path = cli.engine()
    except FileNotFoundError as e:
        assert "WEIR_BIN" in str(e)  # an install without the engine says how to get one
    else:
        assert path == os.path.join(os.path.dirname(cli.__file__), "_bin", "weir")


def test_bundled_engine_has_package_version():
    """The engine installed with the package reports the package's version (set at build time)."""
    try:
        path = cli.engine()
    except FileNotFoundError:
        pytest.skip("this weir was installed without its engine")
    out = subprocess.run([path, "version"], capture_output=True, text=True, timeout=60).stdout
    assert out.strip() == f"weir {weir.__version__}"
