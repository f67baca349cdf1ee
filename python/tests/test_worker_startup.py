"""The worker's start-up (``weir.worker``): Beam's unused I/O connectors are
imported only when something uses them."""

import subprocess
import sys
import textwrap

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
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "loaded before use: False False",
        "stand-in: False",
        "apache_beam.io.mongodbio",
        "apache_beam.io.avroio apache_beam.io.parquetio apache_beam.io.textio",
        "True",
        "missing: module 'apache_beam.io' has no attribute 'NoSuchThing'",
    ]
