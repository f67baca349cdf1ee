"""The worker's start-up (``weir.worker``): what Beam imports that the
harness does not use (I/O connectors, httplib2, yaml, beartype, pandas) is
imported only when something uses it, and numpy starts no BLAS threads."""

import os
import subprocess
import sys
import textwrap

import pytest


def run_script(script, *args, env=None):
    """The lines a Python script prints, run in a fresh interpreter (so that
    nothing is imported yet); a failing script fails the test."""
    r = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()

SCRIPT = textwrap.dedent('''
    import sys
    from weir import worker

    io_getattr = worker._defer_connectors()
    import apache_beam
    import apache_beam.io
    apache_beam.io.__getattr__ = io_getattr
    import weir._beam
    from weir import _vectorized_io
    from apache_beam.runners.worker import sdk_worker_main
    _vectorized_io.install()
    print("loaded before use:", "pymongo" in sys.modules, "WriteToBigQuery" in vars(sys.modules["apache_beam.io.gcp.bigquery"]))
    import apache_beam.io.mongodbio as m
    print("stand-in:", "pymongo" in sys.modules)
    print(m.WriteToMongoDB.__module__)
    from apache_beam.io import ReadFromAvro, WriteToParquet, ReadFromText
    print(ReadFromAvro.__module__, WriteToParquet.__module__, ReadFromText.__module__)
    print(apache_beam.io.WriteToMongoDB is m.WriteToMongoDB)
    try:
        apache_beam.io.NoSuchThing
    except AttributeError as e:
        print("missing:", e)
''')


def test_connectors_load_when_used():
    assert run_script(SCRIPT) == [
        "loaded before use: False False",
        "stand-in: False",
        "apache_beam.io.mongodbio",
        "apache_beam.io.avroio apache_beam.io.parquetio apache_beam.io.textio",
        "True",
        "missing: module 'apache_beam.io' has no attribute 'NoSuchThing'",
    ]


LAZY = textwrap.dedent('''
    import sys
    from weir import worker

    sys.meta_path.insert(0, worker._LazyModules(["httplib2"]))
    import apache_beam
    from apache_beam.runners.worker import sdk_worker_main
    import weir._beam
    print("loaded before use:", "pyparsing" in sys.modules)
    import httplib2
    print("stand-in:", "pyparsing" in sys.modules)
    if sys.argv[1] == "attribute":
        from apache_beam.internal import http_client
        print(type(http_client.get_new_http()) is httplib2.Http)
    elif sys.argv[1] == "from":
        from httplib2 import ProxyInfo
        print(ProxyInfo is sys.modules["httplib2"].ProxyInfo)
    else:
        import httplib2.auth
        print(httplib2.auth.__name__ == "httplib2.auth")
    print("loaded:", "pyparsing" in sys.modules, worker._LazyModules not in map(type, sys.meta_path))
''')


@pytest.mark.parametrize("use", ["attribute", "from", "submodule"])
def test_httplib2_loads_when_used(use):
    """httplib2 (Beam's stager's, unused by the harness) is a stand-in until
    an attribute, a name or a submodule of it is asked for."""
    assert run_script(LAZY, use) == ["loaded before use: False", "stand-in: False", "True", "loaded: True True"]


SAMPLER = textwrap.dedent('''
    import threading
    from apache_beam.utils.counters import CounterFactory
    from apache_beam.runners.worker import statesampler
    import weir._beam

    weir._beam.no_sampling_threads()
    weir._beam.no_sampling_threads()
    s = statesampler.StateSampler("stage", CounterFactory())
    for _ in range(2):
        before = threading.active_count()
        s.start()
        print(threading.active_count() - before, statesampler.get_current_tracker() is s, s.started)
        with s.scoped_state("step", "process"):
            print(s.current_state().name.step_name)
        s.stop_if_still_running()
        print(statesampler.get_current_tracker(), s.finished, threading.active_count() - before)
        s.reset()
''')


def test_bundles_start_no_sampling_thread():
    """With no_sampling_threads, a bundle's state sampler starts no thread,
    still tracks the current state and is the current tracker while it runs."""
    assert run_script(SAMPLER) == ["0 True True", "step", "None True 0"] * 2


NO_PANDAS = textwrap.dedent('''
    import gc
    import sys
    from weir import worker

    io_getattr = worker._defer_connectors()
    finder = worker._NoPandasForBeam()
    sys.meta_path.insert(0, finder)
    import apache_beam
    import apache_beam.io
    apache_beam.io.__getattr__ = io_getattr
    sys.meta_path.remove(finder)
    import weir._beam
    from weir import _vectorized_io
    from apache_beam.runners.worker import sdk_worker_main
    from weir.proto import weir_pb2
    print("loaded before use:", "pandas" in sys.modules)
    stage = weir_pb2.Stage(kind=weir_pb2.Stage.VECTORIZED, functions=[weir_pb2.Function(func_type="arrow")])
    weir._beam._import_pandas_for(stage)
    print("arrow stage:", "pandas" in sys.modules)
    stage.functions.add(func_type="pandas")
    weir._beam._import_pandas_for(stage)
    print("pandas stage:", "pandas" in sys.modules, gc.isenabled(), gc.get_freeze_count() > 0)
    import pyarrow as pa
    print(pa.table({"a": [1, 2]}).to_pandas()["a"].sum())
    from apache_beam.io import ReadFromCsv
    print(ReadFromCsv.__module__, ReadFromCsv.__name__)
''')


def test_pandas_loads_for_pandas_stages():
    """Beam's own import of pandas is skipped in the worker: pandas is
    imported for the first stage of pandas functions, and then works (with
    pyarrow too); Beam's textio, which imports pandas, is deferred and still
    has its pandas transforms."""
    assert run_script(NO_PANDAS) == [
        "loaded before use: False",
        "arrow stage: False",
        "pandas stage: True True True",
        "3",
        "apache_beam.io.textio ReadFromCsv",
    ]


BEARTYPE = textwrap.dedent('''
    import sys
    import typing
    from weir import worker

    if sys.argv[1] == "stand-ins":
        beam_only = [worker._NoPandasForBeam(), worker._BeartypeForBeam()]
        sys.meta_path[:0] = beam_only
        sys.meta_path.insert(0, worker._LazyModules(worker._LAZY_MODULES))
    import apache_beam
    from apache_beam.runners.worker import sdk_worker_main
    if sys.argv[1] == "stand-ins":
        for finder in beam_only:
            sys.meta_path.remove(finder)
        worker._BeartypeForBeam.forget()
    import weir._beam
    loaded = [m for m in ("beartype", "yaml.reader", "proto.message") if m in sys.modules]
    from apache_beam.typehints import typehints
    cases = [(int, float), (list, typing.Iterable), (int, str), (typing.List[int], typing.Iterable[int]),
             (dict, typing.Mapping), (bool, int), (1, int), (str, typing.Sequence[str]), (typing.Optional[int], int)]
    print([typehints.is_consistent_with(a, b) for a, b in cases])
    import beartype.door
    import proto
    import yaml
    print(beartype.door.is_subhint(int, object), beartype.door.is_subhint.__module__.startswith("beartype."),
          yaml.safe_load("a: 1"), proto.Message.__module__)
    print("loaded before use:", loaded)
''')


def test_beartype_yaml_and_proto_load_when_used():
    """Beam's typehints get beartype's is_subhint from a stand-in that
    imports beartype at its first call: Beam's type checks give the same
    answers as with the real one, and beartype imported by anyone else
    afterwards is the real package; yaml and proto load at their first use."""
    def run(how):
        return run_script(BEARTYPE, how)

    real, lazy = run("real"), run("stand-ins")
    assert lazy[:2] == real[:2]
    assert lazy[2] == "loaded before use: []"
    assert real[2] == "loaded before use: ['beartype', 'yaml.reader', 'proto.message']"


BLAS = textwrap.dedent('''
    import os
    from weir import worker

    worker._one_blas_thread()
    import numpy
    print(os.environ.get("OPENBLAS_NUM_THREADS"), len(os.listdir("/proc/self/task")))
''')


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
def test_one_blas_thread_unless_set():
    """The worker's numpy starts no OpenBLAS threads, unless the environment
    asks for a number of them."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")}
    assert " ".join(run_script(BLAS, env=env)).split() == ["1", "1"]
    assert " ".join(run_script(BLAS, env={**env, "OMP_NUM_THREADS": "2"})).split()[0] == "None"
