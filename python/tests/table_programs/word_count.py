"""PyFlink's Table API word count (the tutorial's program), written for
PyFlink: a table function splits lines into words with join_lateral, a
group_by counts them, and the counts go to a print table and a
filesystem table."""
import os
import shutil
import tempfile

from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
from pyflink.table.expressions import col, lit
from pyflink.table.udf import udtf

word_count_data = ["To be, or not to be,--that is the question:--",
                   "Whether 'tis nobler in the mind to suffer",
                   "The slings and arrows of outrageous fortune",
                   "Or to take arms against a sea of troubles,",
                   "And by opposing end them?--To die,--to sleep,--",
                   "No more; and by a sleep to say we end",
                   "The heartache, and the thousand natural shocks",
                   "That flesh is heir to,--'tis a consummation",
                   "Devoutly to be wish'd. To die,--to sleep;--"]

t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
t_env.get_config().set("parallelism.default", "1")

tab = t_env.from_elements(map(lambda i: (i,), word_count_data),
                          DataTypes.ROW([DataTypes.FIELD("line", DataTypes.STRING())]))


@udtf(result_types=[DataTypes.STRING()])
def split(line):
    for s in line.split():
        yield s.lower().strip(",.:;?!-'")


counts = (tab.join_lateral(split(col("line")).alias("word"))
          .where(col("word") != lit(""))
          .group_by(col("word"))
          .select(col("word"), lit(1).count.alias("count")))

out = tempfile.mkdtemp()
try:
    path = os.path.join(out, "counts")
    t_env.execute_sql(f"""
        CREATE TABLE sink (
            word STRING,
            `count` BIGINT
        ) WITH (
            'connector' = 'filesystem',
            'path' = '{path}',
            'format' = 'csv'
        )""")
    counts.execute_insert("sink").wait()
    t_env.execute_sql("SELECT * FROM sink WHERE `count` > 1 ORDER BY `count` DESC, word").print()
    top = counts.order_by(col("count").desc, col("word").asc).limit(5)
    for row in top.execute().collect():
        print(row[0], row[1])
finally:
    shutil.rmtree(out)
