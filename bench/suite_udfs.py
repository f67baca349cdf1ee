"""The Python functions of weir's benchmark suite, shared by weir and PyFlink.

The same file is given to both systems (weir's ``--pyfiles`` / PyFlink's
``python.files``) and registered with the same DDL,
``CREATE TEMPORARY FUNCTION inc AS 'suite_udfs.inc' LANGUAGE PYTHON``, so both run
byte-identical function bodies. weir's workers import ``weir``; PyFlink's
import ``pyflink`` (neither virtualenv has the other package). The floor
measurement imports the bare functions (``*_py``) without any decorator.
"""

import time

try:  # weir's workers and describe step
    from weir import DataTypes, udf, udtf
except ImportError:  # PyFlink's workers, client and embedded interpreter
    from pyflink.table import DataTypes
    from pyflink.table.udf import udf, udtf


# --- bare functions: the floor measures exactly these ----------------------

def inc_py(x):
    return x + 1


def upper_py(s):
    return s.upper()


def split_words_py(s):
    # datagen strings are hexadecimal digits (weir and Flink alike); '0' plays
    # the space, so a 64-character string holds about 4 words.
    for w in s.split("0"):
        if w:
            yield (w,)


def vinc_pd(x):
    # The vectorized workload: x is a pandas.Series of a batch's values.
    return x + 1


def stamp_py(c):
    # The wall clock (ns since the epoch) when the function runs, to compare
    # with the row's creation time (ts) and with when its printed line is read.
    return time.time_ns()


# --- the registered functions ----------------------------------------------

inc = udf(inc_py, result_type=DataTypes.INT(False))
py_upper = udf(upper_py, result_type=DataTypes.STRING())
split_words = udtf(split_words_py, result_types=[DataTypes.STRING()])
stamp = udf(stamp_py, result_type=DataTypes.BIGINT(False))
vinc = udf(vinc_pd, result_type=DataTypes.INT(False), func_type="pandas")
