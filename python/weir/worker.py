"""``python -m weir.worker``: a Beam Python SDK harness with weir's operations.

The Go engine starts it with the environment the harness reads
(CONTROL_API_SERVICE_DESCRIPTOR, LOGGING_API_SERVICE_DESCRIPTOR, WORKER_ID,
PIPELINE_OPTIONS, SEMI_PERSISTENT_DIRECTORY).
"""

import signal
import sys


def main():
    # A polite stop from the engine: leave through the normal exit path so
    # that functions' close() runs (atexit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        import apache_beam  # noqa: F401
    except ImportError as e:
        sys.stderr.write(
            f"weir worker: the apache-beam package is missing from {sys.executable}: {e}\n"
            "Install weir with its dependencies (pip install weir) into the interpreter "
            "named by python.executable.\n")
        sys.exit(3)
    import weir._beam  # noqa: F401  registers weir's URNs
    from weir import coder, operations
    import logging

    logging.getLogger("weir").info(
        "weir worker ready: coder %s, operations %s, Python %s",
        coder.IMPLEMENTATION, operations.IMPLEMENTATION, sys.version.split()[0])
    from apache_beam.runners.worker import sdk_worker_main

    sdk_worker_main.main(sys.argv)


if __name__ == "__main__":
    main()
