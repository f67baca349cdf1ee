"""One weir.table program for both targets: on weir's engine without an
argument, on a Flink cluster with flink://HOST:PORT (make test-flink runs
both and compares what they print)."""

import sys

from weir.table import DataTypes, EnvironmentSettings, TableEnvironment
from weir.table.expressions import col
from weir.table.udf import udf, udtf

settings = EnvironmentSettings.new_instance().in_batch_mode()
if len(sys.argv) > 1:
    host, port = sys.argv[1].removeprefix("flink://").rsplit(":", 1)
    settings = settings.with_configuration({"execution.target": "remote", "rest.address": host, "rest.port": port})
t_env = TableEnvironment.create(settings.build())


@udf(result_type=DataTypes.BIGINT())
def plus_one(x):
    return x + 1


@udtf(result_types=[DataTypes.STRING()])
def words(s):
    yield from s.split()


t = t_env.from_elements([(1, "a b"), (2, "c"), (3, "d e f")],
                        DataTypes.ROW([DataTypes.FIELD("id", DataTypes.BIGINT()),
                                       DataTypes.FIELD("text", DataTypes.STRING())]))
t_env.create_temporary_view("src", t)
t_env.create_temporary_function("plus_one", plus_one)
t_env.create_temporary_function("words", words)
rows = t_env.execute_sql("SELECT id, plus_one(id), w FROM src, LATERAL TABLE(words(text)) AS T(w)").collect()
print(sorted(tuple(r) for r in rows))
print(sorted(tuple(r) for r in t.select(col("id"), plus_one(col("id"))).execute().collect()))
