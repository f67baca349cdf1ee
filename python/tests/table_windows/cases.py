"""Group windows and over windows of the Table API, written for PyFlink.

Run as a program (bench/.venv-pyflink/bin/python cases.py > cases.golden),
it runs each case in each mode PyFlink runs it in and prints one line per
case and mode: the rows left at the end of the result's changelog, sorted,
or ERROR and the error's first line. test_table_windows.py runs the same
cases on weir (the module with its imports changed to weir) and compares.

The rows come in event-time order (ties none), so a streaming window or
over aggregation gives the rows a batch one gives: PyFlink runs Table API
over windows in streaming mode only, weir in batch mode only, and the test
compares weir's batch rows with PyFlink's streaming ones.
"""
import os
import random
import sys
import tempfile

from pyflink.common import Row
from pyflink.table import AggregateFunction, DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.expressions import CURRENT_ROW, UNBOUNDED_RANGE, UNBOUNDED_ROW, col, lit, row_interval
from pyflink.table.udf import udaf
from pyflink.table.window import Over, Session, Slide, Tumble


def rows(n=60, seed=11):
    """(k, v, c, ts): in time order, 1 to 9 minutes apart."""
    r = random.Random(seed)
    out, minute = [], 0
    for _ in range(n):
        minute += r.randint(1, 9)
        out.append((r.choice("abc"), r.randint(-20, 100), r.randint(1, 5),
                    "2026-01-01 %02d:%02d:%02d" % (minute // 60, minute % 60, r.randint(0, 59))))
    return out


def csv_file():
    path = os.path.join(tempfile.mkdtemp(), "rows.csv")
    with open(path, "w") as f:
        for k, v, c, ts in rows():
            f.write(f"{k},{v},{c},{ts}\n")
    return path


class WeightedAvg(AggregateFunction):
    """A general aggregate function (merge: for sliding windows)."""

    def create_accumulator(self):
        return Row(0, 0)

    def get_value(self, acc):
        return None if acc[1] == 0 else acc[0] / acc[1]

    def accumulate(self, acc, value, weight):
        acc[0] += value * weight
        acc[1] += weight

    def retract(self, acc, value, weight):
        acc[0] -= value * weight
        acc[1] -= weight

    def merge(self, acc, accs):
        for a in accs:
            acc[0] += a[0]
            acc[1] += a[1]


class MinMax(AggregateFunction):
    """A general aggregate function of a ROW result, for aggregate(...)."""

    def create_accumulator(self):
        return Row(None, None)

    def accumulate(self, acc, value):
        acc[0] = value if acc[0] is None else min(acc[0], value)
        acc[1] = value if acc[1] is None else max(acc[1], value)

    def merge(self, acc, accs):
        for a in accs:
            if a[0] is not None:
                self.accumulate(acc, a[0])
                self.accumulate(acc, a[1])

    def get_value(self, acc):
        return Row(acc[0], acc[1])


_lo_hi = DataTypes.ROW([DataTypes.FIELD("lo", DataTypes.BIGINT()), DataTypes.FIELD("hi", DataTypes.BIGINT())])
min_max = udaf(MinMax(), result_type=_lo_hi, accumulator_type=_lo_hi)
weighted_avg = udaf(WeightedAvg(), result_type=DataTypes.DOUBLE(),
                    accumulator_type=DataTypes.ROW([DataTypes.FIELD("s", DataTypes.BIGINT()),
                                                    DataTypes.FIELD("n", DataTypes.BIGINT())]))
mean = udaf(lambda v: float(v.mean()), result_type=DataTypes.DOUBLE(), func_type="pandas")
spread = udaf(lambda v: int(v.max() - v.min()), result_type=DataTypes.BIGINT(), func_type="pandas")

BOTH = ("batch", "streaming")
STREAMING = ("streaming",)
tumble = Tumble.over(lit(20).minutes).on(col("ts")).alias("w")
slide = Slide.over(lit(30).minutes).every(lit(10).minutes).on(col("ts")).alias("w")
session = Session.with_gap(lit(7).minutes).on(col("ts")).alias("w")


def by_key(w):
    return Over.partition_by(col("k")).order_by(col("ts")).preceding(w).alias("o")


# name -> (modes PyFlink runs it in, the query of table t)
CASES = {
    "tumble_builtin": (BOTH, lambda t: t.window(tumble).group_by(col("w"), col("k")).select(
        col("k"), col("w").start, col("w").end, col("w").rowtime, col("v").sum, col("v").count.alias("n"),
        col("v").max + 1)),
    "tumble_no_key": (BOTH, lambda t: t.window(tumble).group_by(col("w")).select(
        col("w").end.alias("e"), col("v").min, col("c").sum)),
    "tumble_general_udaf": (STREAMING, lambda t: t.window(tumble).group_by(col("w"), col("k")).select(
        col("k"), col("w").start, weighted_avg(col("v"), col("c")))),
    "tumble_pandas_udaf": (BOTH, lambda t: t.window(tumble).group_by(col("k"), col("w")).select(
        col("k"), col("w").end, mean(col("v")).alias("m"), spread(col("c")))),
    "tumble_aggregate": (BOTH, lambda t: t.window(tumble).group_by(col("w"), col("k")).aggregate(
        mean(col("v")).alias("m")).select(col("k"), col("m"))),
    "tumble_aggregate_row": (STREAMING, lambda t: t.window(tumble).group_by(col("w"), col("k")).aggregate(
        min_max(col("v")).alias("x", "y")).select(col("k"), col("w").start, col("x"), col("y") - col("x"))),
    "group_aggregate_row": (STREAMING, lambda t: t.group_by(col("k")).aggregate(
        min_max(col("v")).alias("lo", "hi")).select(col("k"), col("lo"), col("hi"))),
    "slide_builtin": (BOTH, lambda t: t.window(slide).group_by(col("w"), col("k")).select(
        col("k"), col("w").start, col("w").end, col("v").sum.alias("s"), col("c").max)),
    "slide_general_udaf": (STREAMING, lambda t: t.window(slide).group_by(col("w")).select(
        col("w").start, weighted_avg(col("v"), col("c")).alias("a"))),
    "slide_pandas_udaf": (BOTH, lambda t: t.window(slide).group_by(col("w")).select(
        col("w").start, col("w").end, mean(col("v")))),
    "session_builtin": (BOTH, lambda t: t.window(session).group_by(col("w"), col("k")).select(
        col("k"), col("w").start, col("w").end, col("v").sum)),
    "session_general_udaf": (STREAMING, lambda t: t.window(session).group_by(col("k"), col("w")).select(
        col("k"), col("w").end, weighted_avg(col("v"), col("c")))),
    "over_rows": (STREAMING, lambda t: t.over_window(by_key(row_interval(2))).select(
        col("k"), col("ts"), col("v").sum.over(col("o")), col("v").max.over(col("o")).alias("mx"))),
    "over_unbounded_range": (STREAMING, lambda t: t.over_window(by_key(UNBOUNDED_RANGE)).select(
        col("k"), col("ts"), col("v").sum.over(col("o")), col("c").count.over(col("o")))),
    "over_unbounded_rows": (STREAMING, lambda t: t.over_window(by_key(UNBOUNDED_ROW)).select(
        col("k"), col("ts"), col("v").min.over(col("o")))),
    "over_time_range": (STREAMING, lambda t: t.over_window(by_key(lit(30).minutes)).select(
        col("k"), col("ts"), col("v").sum.over(col("o")).alias("s"), col("v").avg.over(col("o")))),
    "over_default_unpartitioned": (STREAMING, lambda t: t.over_window(
        Over.order_by(col("ts")).alias("o")).select(col("ts"), col("v").sum.over(col("o")))),
    "over_following_current_row": (STREAMING, lambda t: t.over_window(
        Over.partition_by(col("k")).order_by(col("ts")).preceding(row_interval(1)).following(CURRENT_ROW)
        .alias("o")).select(col("k"), col("ts"), col("v").sum.over(col("o")))),
    "over_pandas_udaf": (STREAMING, lambda t: t.over_window(by_key(row_interval(2))).select(
        col("k"), col("ts"), mean(col("v")).over(col("o")))),
}


def environment(mode, path):
    settings = EnvironmentSettings.in_batch_mode() if mode == "batch" else EnvironmentSettings.in_streaming_mode()
    env = TableEnvironment.create(settings)
    env.get_config().set("parallelism.default", "1")
    env.execute_sql(f"""
        CREATE TABLE src (k STRING, v BIGINT, c BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
        WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv')""")
    return env


def final(table):
    """The rows left after applying the changelog of a result, sorted."""
    out = []
    with table.execute().collect() as changes:
        for r in changes:
            if str(r.get_row_kind()) in ("+I", "+U"):
                out.append(tuple(r))
            else:
                out.remove(tuple(r))
    return sorted(out, key=repr)


def run(name, mode, env):
    """The line of a case: its rows, or ERROR."""
    try:
        table = CASES[name][1](env.from_path("src"))
        return f"{name} {mode} {table.get_schema().get_field_names()} {final(table)}"
    except Exception as e:  # the oracle's refusals are recorded too
        return f"{name} {mode} ERROR {str(e).strip().splitlines()[0][:200]}"


if __name__ == "__main__":
    path = csv_file()
    only = sys.argv[1:]  # case names, to record a few
    for mode in ("batch", "streaming"):
        env = environment(mode, path)
        for name, (modes, _) in CASES.items():
            if mode in modes and (not only or name in only):
                print(run(name, mode, env))
                sys.stdout.flush()
