"""``python -m weir.flink``: submit a SQL script to a Flink cluster through
PyFlink (started by ``weir sql --target flink://HOST:PORT``; see
weir._flink.client)."""

import sys

if __name__ == "__main__":
    from weir._flink.client import main

    sys.exit(main())
