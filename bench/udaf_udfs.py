"""The aggregate function of the UDAF benchmark (bench/udaf.py), importable by weir and by PyFlink."""

try:
    from pyflink.table import DataTypes
    from pyflink.table.udf import AggregateFunction, udaf
except ImportError:
    from weir import AggregateFunction, DataTypes, udaf


class Sum(AggregateFunction):
    """A sum-like aggregate: one list as the accumulator, one addition per row."""

    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, v):
        acc[0] += v

    def retract(self, acc, v):
        acc[0] -= v

    def merge(self, acc, accs):
        for a in accs:
            acc[0] += a[0]

    def get_value(self, acc):
        return acc[0]

    def get_result_type(self):
        return DataTypes.BIGINT()

    def get_accumulator_type(self):
        return DataTypes.ARRAY(DataTypes.BIGINT())


py_sum = udaf(Sum())
