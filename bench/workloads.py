"""The SQL of the suite's jobs, one builder for weir and PyFlink alike (stdlib only).

Each workload is datagen -> one Python function (bench/suite_udfs.py) -> a sink. The
statements differ between the systems in one place only: Flink's datagen
defaults to 10,000 rows per second, weir's to unlimited, so Flink's throughput
jobs set 'rows-per-second' far above any reachable rate.
"""

UNLIMITED = 10 ** 12  # rows per second: no limit in practice


def _with(opts):
    return ", ".join(f"'{k}' = '{v}'" for k, v in opts.items())


def sql(workload, rows, columns=1, flink=False, rate=None, suffix=""):
    """The statements (CREATE TABLE x2, CREATE FUNCTION, INSERT) of a job."""
    src, snk = "src" + suffix, "snk" + suffix
    opts = {"connector": "datagen", "number-of-rows": rows}
    if rate:
        opts["rows-per-second"] = int(rate)
    elif flink:
        opts["rows-per-second"] = UNLIMITED
    if workload in ("flip121", "startup"):
        # FLIP-121's job: inc on each of `columns` INT NOT NULL columns, into blackhole.
        cols = [f"c{i}" for i in range(columns)]
        for c in cols:
            opts[f"fields.{c}.min"] = 0
            opts[f"fields.{c}.max"] = 1000000
        src_cols = ", ".join(f"{c} INT NOT NULL" for c in cols)
        snk_cols = src_cols
        fn = ("inc", "suite_udfs.inc")
        select = ", ".join(f"inc({c})" for c in cols) + f" FROM {src}"
        sink = {"connector": "blackhole"}
    elif workload == "vectorized":
        # x + 1 over INT NOT NULL values by a pandas function (func_type="pandas").
        opts["fields.c0.min"] = 0
        opts["fields.c0.max"] = 1000000
        src_cols, snk_cols = "c0 INT NOT NULL", "c0 INT NOT NULL"
        fn = ("vinc", "suite_udfs.vinc")
        select = f"vinc(c0) FROM {src}"
        sink = {"connector": "blackhole"}
    elif workload == "upper":
        opts["fields.s.length"] = 32
        src_cols, snk_cols = "s STRING", "s STRING"
        fn = ("py_upper", "suite_udfs.py_upper")
        select = f"py_upper(s) FROM {src}"
        sink = {"connector": "blackhole"}
    elif workload == "udtf":
        opts["fields.s.length"] = 64
        src_cols, snk_cols = "s STRING", "w STRING"
        fn = ("split_words", "suite_udfs.split_words")
        select = f"w FROM {src}, LATERAL TABLE(split_words(s)) AS T(w)"
        sink = {"connector": "blackhole"}
    elif workload == "latency":
        # ts: the row's creation time (datagen's random TIMESTAMP_LTZ with the
        # default 'max-past' 0 is the wall clock when the row is generated);
        # stamp(c0): the wall clock when the Python function ran.
        opts["fields.c0.min"] = 0
        opts["fields.c0.max"] = 1000000
        src_cols = "c0 INT NOT NULL, ts TIMESTAMP_LTZ(3)"
        snk_cols = "c0 INT, ts TIMESTAMP_LTZ(3), t BIGINT"
        fn = ("stamp", "suite_udfs.stamp")
        select = f"c0, ts, stamp(c0) FROM {src}"
        sink = {"connector": "print"}
    else:
        raise ValueError(f"unknown workload {workload!r}")
    return [
        f"CREATE TABLE {src} ({src_cols}) WITH ({_with(opts)})",
        f"CREATE TABLE {snk} ({snk_cols}) WITH ({_with(sink)})",
        f"CREATE TEMPORARY FUNCTION IF NOT EXISTS {fn[0]} AS '{fn[1]}' LANGUAGE PYTHON",
        f"INSERT INTO {snk} SELECT {select}",
    ]


def script(workload, rows, columns=1, rate=None, settings=None):
    """A weir SQL script of the job (statements separated by ';')."""
    stmts = [f"SET '{k}' = '{v}'" for k, v in (settings or {}).items()]
    stmts += sql(workload, rows, columns, flink=False, rate=rate)
    return ";\n".join(stmts) + ";\n"
