# Vectorized (pandas) functions written for PyFlink, as in its documentation
# ("Vectorized User-defined Functions"). e2e/vectorized_test.go runs them on
# weir with only the import lines changed, and compares with what PyFlink 2.3
# answered (examples.golden, recorded by record.py).
import pandas as pd
from pyflink.table import DataTypes
from pyflink.table.udf import udf


@udf(result_type='BIGINT', func_type="pandas")
def add(i, j):
    return i + j


@udf(result_type=DataTypes.STRING(), func_type="pandas")
def shout(s):
    return s.str.upper() + "!"


@udf(result_type=DataTypes.DOUBLE(), func_type="pandas")
def scale(x, factor):
    return x * factor


@udf(result_type=DataTypes.BOOLEAN(), func_type="pandas")
def is_big(x):
    return x > 100


@udf(result_type=DataTypes.ROW([DataTypes.FIELD("total", DataTypes.BIGINT()),
                                DataTypes.FIELD("label", DataTypes.STRING())]),
     func_type="pandas")
def summarize(a, b, s):
    return pd.DataFrame({"total": a + b, "label": s.str.lower()})


@udf(result_type=DataTypes.DOUBLE(), func_type="pandas")
def centered(x):
    # A function of the whole batch: each value minus the batch's mean.
    return x - x.mean()


@udf(result_type=DataTypes.BIGINT())
def plus_one(x):
    return None if x is None else x + 1
