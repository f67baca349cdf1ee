"""Values of each SQL type as the Table API hands them over: collect()
(each field's value, Python type and the row kind), to_pandas() (the frame
and its dtypes) and print() (the tableau), in batch and streaming mode.
Written for PyFlink; the values come from SQL literals and casts."""
from pyflink.table import EnvironmentSettings, TableEnvironment
from pyflink.table.expressions import col

# PyFlink's collect gives timestamps to the millisecond and fails on
# TIMESTAMP_LTZ and on NULL elements; these are shown by to_pandas and
# print only.
NO_COLLECT = [
    ("TIMESTAMP(6)", "CAST(TIMESTAMP '2024-01-02 03:04:05.123456' AS TIMESTAMP(6))",
     "CAST(TIMESTAMP '1969-12-31 23:59:59.999999' AS TIMESTAMP(6))"),
    ("TIMESTAMP(9)", "CAST(TIMESTAMP '2024-01-02 03:04:05.123456789' AS TIMESTAMP(9))",),
    ("TIMESTAMP_LTZ(3)", "CAST(TIMESTAMP '2024-01-02 03:04:05.123' AS TIMESTAMP_LTZ(3))",
     "CAST(TIMESTAMP '2024-07-01 00:00:00' AS TIMESTAMP_LTZ(3))"),
    ("TIMESTAMP_LTZ(6)", "CAST(TIMESTAMP '2024-01-02 03:04:05.123456' AS TIMESTAMP_LTZ(6))",),
    ("TIMESTAMP_LTZ(9)", "CAST(TIMESTAMP '2024-01-02 03:04:05.123456789' AS TIMESTAMP_LTZ(9))",),
    ("TIMESTAMP_LTZ(0)", "CAST(TIMESTAMP '1969-12-31 23:59:59' AS TIMESTAMP_LTZ(0))",),
    ("ARRAY<INT>", "ARRAY[1, CAST(NULL AS INT), 3]",),
    ("MAP<STRING NOT NULL, INT>", "MAP['a', CAST(NULL AS INT)]",),
]

QUERIES = [
    ("TINYINT", "CAST(-128 AS TINYINT)", "CAST(127 AS TINYINT)"),
    ("SMALLINT", "CAST(-32768 AS SMALLINT)", "CAST(32767 AS SMALLINT)"),
    ("INT", "-2147483648", "2147483647"),
    ("BIGINT", "CAST(-9223372036854775807 AS BIGINT) - 1", "CAST(9223372036854775807 AS BIGINT)"),
    # Flink's planner keeps 7 digits of a constant FLOAT: constants here
    # have no more; ARRAY<FLOAT> and the changelog's SUM have longer ones.
    ("FLOAT", "CAST(5.333333 AS FLOAT)", "CAST(0.1 AS FLOAT)", "CAST(1e-10 AS FLOAT)",
     "CAST(3.402823e38 AS FLOAT)", "CAST(-2.5 AS FLOAT)", "CAST(1234567 AS FLOAT)", "CAST(1e20 AS FLOAT)",
     "CAST(0.000123 AS FLOAT)", "CAST(-0.0 AS FLOAT)"),
    ("DOUBLE", "CAST(16 AS DOUBLE) / 3", "CAST(0.1 AS DOUBLE)", "1e-7", "1e300", "CAST(-2.5 AS DOUBLE)",
     "CAST(12345678.9 AS DOUBLE)"),
    ("DECIMAL(10, 2)", "CAST(12345678.91 AS DECIMAL(10, 2))", "CAST(-0.5 AS DECIMAL(10, 2))",
     "CAST(0 AS DECIMAL(10, 2))"),
    ("DECIMAL(38, 18)", "CAST(1.5 AS DECIMAL(38, 18))",
     "CAST('-12345678901234567890.123456789012345678' AS DECIMAL(38, 18))"),
    ("DECIMAL(5, 0)", "CAST(12345 AS DECIMAL(5, 0))", "CAST(-7 AS DECIMAL(5, 0))"),
    ("DECIMAL(3, 3)", "CAST(0.125 AS DECIMAL(3, 3))", "CAST(-0.001 AS DECIMAL(3, 3))"),
    ("BOOLEAN", "TRUE", "FALSE"),
    ("CHAR(3)", "CAST('ab' AS CHAR(3))", "CAST('xyz' AS CHAR(3))"),
    ("VARCHAR(5)", "CAST('héllo' AS VARCHAR(5))", "CAST('' AS VARCHAR(5))"),
    ("STRING", "'a string longer than thirty characters, surely'", "'日本語'"),
    ("BINARY(3)", "CAST(X'0102' AS BINARY(3))", "CAST(X'ffeedd' AS BINARY(3))"),
    ("VARBINARY(4)", "CAST(X'00ff' AS VARBINARY(4))", "CAST(X'' AS VARBINARY(4))"),
    ("BYTES", "CAST('abc' AS BYTES)", "X'deadbeef'"),
    ("DATE", "DATE '2024-02-29'", "DATE '1969-12-31'", "DATE '1970-01-01'"),
    ("TIME(0)", "TIME '12:34:56'", "TIME '00:00:00'"),
    ("TIME(3)", "CAST(TIME '12:34:56.789' AS TIME(3))", "CAST(TIME '23:59:59.001' AS TIME(3))"),
    ("TIMESTAMP(0)", "CAST(TIMESTAMP '2024-01-02 03:04:05' AS TIMESTAMP(0))",
     "CAST(TIMESTAMP '1969-12-31 23:59:59' AS TIMESTAMP(0))"),
    ("TIMESTAMP(3)", "CAST(TIMESTAMP '2024-01-02 03:04:05.123' AS TIMESTAMP(3))",
     "CAST(TIMESTAMP '2024-01-02 03:04:05' AS TIMESTAMP(3))"),
    ("TIMESTAMP(6)", "CAST(TIMESTAMP '2024-01-02 03:04:05.123' AS TIMESTAMP(6))",
     "CAST(TIMESTAMP '1969-12-31 23:59:59.999' AS TIMESTAMP(6))"),
    ("TIMESTAMP(9)", "CAST(TIMESTAMP '2024-01-02 03:04:05.1' AS TIMESTAMP(9))",),
    ("ARRAY<INT>", "ARRAY[1, 2, 3]", "ARRAY[CAST(7 AS INT)]"),
    ("ARRAY<STRING>", "ARRAY['a', 'bc']",),
    ("ARRAY<FLOAT>", "ARRAY[CAST(16 AS FLOAT) / CAST(3 AS FLOAT), CAST(0.1 AS FLOAT)]",),
    ("ARRAY<ARRAY<BIGINT>>", "ARRAY[ARRAY[CAST(1 AS BIGINT)], ARRAY[CAST(2 AS BIGINT), CAST(3 AS BIGINT)]]",),
    ("ARRAY<DECIMAL(10, 2)>", "ARRAY[CAST(1.25 AS DECIMAL(10, 2))]",),
    ("ARRAY<TIMESTAMP(3)>", "ARRAY[CAST(TIMESTAMP '2024-01-02 03:04:05.123' AS TIMESTAMP(3))]",),
    ("MAP<STRING NOT NULL, INT>", "MAP['a', 1, 'b', 2]",),
    ("MAP<INT NOT NULL, FLOAT>", "MAP[1, CAST(0.1 AS FLOAT)]",),
    ("MAP<STRING NOT NULL, ARRAY<INT>>", "MAP['k', ARRAY[1, 2]]",),
    ("ROW<a INT, b STRING>", "CAST(ROW(1, 'x') AS ROW<a INT, b STRING>)",),
    ("ROW<a DOUBLE, r ROW<f FLOAT, d DATE>, s ARRAY<INT>>",
     "CAST(ROW(2.5, ROW(CAST(0.1 AS FLOAT), DATE '2024-02-29'), ARRAY[1, 2]) "
     "AS ROW<a DOUBLE, r ROW<f FLOAT, d DATE>, s ARRAY<INT>>)",),
    ("ROW<b BYTES, t TIMESTAMP(6), m DECIMAL(5, 2)>",
     "CAST(ROW(X'01', TIMESTAMP '2024-01-02 03:04:05.5', 1.5) AS ROW<b BYTES, t TIMESTAMP(6), m DECIMAL(5, 2)>)",),
]




def value(v):
    """A value as text: Rows by their fields (the Row class's own repr is
    not what this compares)."""
    if hasattr(v, "get_row_kind"):
        return "Row[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, list):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{value(k)}: {value(x)}" for k, x in v.items()) + "}"
    return f"{v!r}:{type(v).__name__}"


def show(env, label, query, collect=True, pandas_columns=None):
    print(f"== {label}")
    table = env.sql_query(query)
    if collect:
        try:
            with table.execute().collect() as rows:
                for r in rows:
                    print(r.get_row_kind(), " | ".join(value(v) for v in r))
        except Exception as e:
            print("collect fails:", type(e).__name__)
    # to_pandas of the columns in groups: one that fails leaves the others.
    for cols in pandas_columns or [None]:
        to_pandas(table if cols is None else table.select(*[col(c) for c in ["i"] + cols]))
    table.execute().print()


def to_pandas(table):
    try:
        pdf = table.to_pandas()
    except Exception as e:
        print("to_pandas fails:", type(e).__name__)
    else:
        if len(pdf.columns):  # rows by their first column (i, or the changelog's key)
            pdf = pdf.sort_values(pdf.columns[0], kind="stable").reset_index(drop=True)
        # pandas 3 makes str columns of strings (NaN for NULL), pandas 2 object
        # ones (None): object columns, as pandas 2 (the frame's display is
        # pandas' own and differs between versions: values are shown instead).
        for c in pdf.columns:
            if str(pdf[c].dtype) == "str":
                pdf[c] = pdf[c].astype(object).where(pdf[c].notna(), None)
        print(" ".join(f"{c}:{d}" for c, d in pdf.dtypes.items()))
        for c in pdf.columns:
            print(c, [f"{v!r}:{type(v).__name__}" for v in pdf[c].tolist()])


def wide(queries):
    """One query with a column of each type (t0, t1, ...): row i holds each
    column's i-th value, NULL past its last."""
    n = max(len(e) for _, *e in queries) + 1
    rows = []
    for i in range(n):
        cells = [f"CAST({e[i] if i < len(e) else 'NULL'} AS {t})" for t, *e in queries]
        rows.append(f"({i}, " + ", ".join(cells) + ")")
    names = ", ".join(f"t{j}" for j in range(len(queries)))
    return f"SELECT * FROM (VALUES {', '.join(rows)}) AS v(i, {names})"


for mode in ("batch", "streaming"):
    settings = EnvironmentSettings.in_batch_mode() if mode == "batch" else EnvironmentSettings.in_streaming_mode()
    env = TableEnvironment.create(settings)
    env.get_config().set("parallelism.default", "1")
    env.get_config().set("table.local-time-zone", "Asia/Shanghai")
    print(f"#### {mode}")
    for j, (t, *_) in enumerate(QUERIES):
        print(f"t{j}: {t}")
    # PyFlink's to_pandas fails on a ROW in a ROW (TypeError), and gives
    # TIMESTAMP_LTZ's UTC wall time labelled with the session's zone (another
    # instant): those are left out of to_pandas.
    nested = [j for j, (t, *_) in enumerate(QUERIES) if t.startswith(("ARRAY", "MAP", "ROW"))]
    flat = [f"t{j}" for j in range(len(QUERIES)) if j not in nested]
    nested = [j for j in nested if QUERIES[j][0].count("ROW") < 2]
    show(env, f"{mode} types", wide(QUERIES), pandas_columns=[flat] + [[f"t{j}"] for j in nested])
    for j, (t, *_) in enumerate(NO_COLLECT):
        print(f"t{j}: {t}")
    show(env, f"{mode} timestamps", wide(NO_COLLECT), collect=False,
         pandas_columns=[[f"t{j}" for j, (t, *_) in enumerate(NO_COLLECT) if "LTZ" not in t]])
    # Changes: row kinds in collect, the tableau's op column, to_pandas' final
    # rows (streaming VALUES come in any order: equal values keep the changes
    # the same whatever the order).
    show(env, f"{mode} changelog", "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM (VALUES ('a', CAST(0.1 AS FLOAT)), "
         "('b', CAST(0.1 AS FLOAT)), ('a', CAST(0.1 AS FLOAT))) AS t(k, v) GROUP BY k")
