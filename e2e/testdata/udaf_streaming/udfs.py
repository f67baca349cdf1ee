# Aggregate functions of the streaming UDAF tests, written against PyFlink's
# API; record.py runs them on PyFlink 2.3, the e2e tests on weir with only
# the import changed.
from pyflink.table import DataTypes
from pyflink.table.udf import AggregateFunction, udaf


class Sum(AggregateFunction):
    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, v):
        if v is not None:
            acc[0] += v

    def retract(self, acc, v):
        if v is not None:
            acc[0] -= v

    def get_value(self, acc):
        return acc[0]


class Largest(AggregateFunction):
    """The largest value, kept in a dict of counts so it retracts."""

    def create_accumulator(self):
        return [{}]

    def accumulate(self, acc, v):
        acc[0][v] = acc[0].get(v, 0) + 1

    def retract(self, acc, v):
        n = acc[0].get(v, 0) - 1
        if n <= 0:
            acc[0].pop(v, None)
        else:
            acc[0][v] = n

    def get_value(self, acc):
        return max(acc[0]) if acc[0] else None


class WeightedAvg(AggregateFunction):
    def create_accumulator(self):
        return [0, 0]

    def accumulate(self, acc, value, weight):
        acc[0] += value * weight
        acc[1] += weight

    def retract(self, acc, value, weight):
        acc[0] -= value * weight
        acc[1] -= weight

    def get_value(self, acc):
        return None if acc[1] == 0 else acc[0] / acc[1]


class Concat(AggregateFunction):
    def create_accumulator(self):
        return []

    def accumulate(self, acc, s):
        acc.append(s)

    def retract(self, acc, s):
        acc.remove(s)

    def get_value(self, acc):
        return "|".join(sorted(acc))


usum = udaf(Sum(), result_type=DataTypes.BIGINT(), accumulator_type=DataTypes.ARRAY(DataTypes.BIGINT()))
largest = udaf(Largest(), result_type=DataTypes.BIGINT(),
               accumulator_type=DataTypes.ARRAY(DataTypes.MAP(DataTypes.BIGINT(), DataTypes.BIGINT())))
wavg = udaf(WeightedAvg(), result_type=DataTypes.DOUBLE(), accumulator_type=DataTypes.ARRAY(DataTypes.BIGINT()))
concat = udaf(Concat(), result_type=DataTypes.STRING(), accumulator_type=DataTypes.ARRAY(DataTypes.STRING()))
