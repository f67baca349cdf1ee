# PyFlink's documented aggregate function examples (the weighted average
# AggregateFunction of "General User-defined Aggregate Functions" and the
# pandas mean of "Vectorized Aggregate Functions"), plus a few more over the
# same surface. Only the import lines differ between PyFlink and weir.
# WeightedAvg declares DOUBLE where the documentation declares BIGINT:
# PyFlink truncates get_value's float into BIGINT, weir refuses a float for
# BIGINT, as it does for every function's result.
from pyflink.table import DataTypes
from pyflink.table.udf import AggregateFunction, udaf


class WeightedAvg(AggregateFunction):

    def create_accumulator(self):
        # Row(sum, count)
        return [0, 0]

    def get_value(self, accumulator):
        if accumulator[1] == 0:
            return None
        else:
            return accumulator[0] / accumulator[1]

    def accumulate(self, accumulator, value, weight):
        accumulator[0] += value * weight
        accumulator[1] += weight

    def retract(self, accumulator, value, weight):
        accumulator[0] -= value * weight
        accumulator[1] -= weight

    def merge(self, accumulator, accumulators):
        for other_acc in accumulators:
            accumulator[0] += other_acc[0]
            accumulator[1] += other_acc[1]

    def get_accumulator_type(self):
        return DataTypes.ARRAY(DataTypes.BIGINT())

    def get_result_type(self):
        return DataTypes.DOUBLE()


weighted_avg = udaf(WeightedAvg())


@udaf(result_type=DataTypes.FLOAT(), func_type="pandas")
def mean_udaf(v):
    return v.mean()


class CountNonNull(AggregateFunction):
    """Counts the non-NULL values; NULLs reach accumulate as None."""

    def create_accumulator(self):
        return [0]

    def accumulate(self, accumulator, v):
        if v is not None:
            accumulator[0] += 1

    def get_value(self, accumulator):
        return accumulator[0]


count_non_null = udaf(CountNonNull(), result_type=DataTypes.BIGINT(), accumulator_type=DataTypes.ARRAY(DataTypes.BIGINT()))


class Concat(AggregateFunction):
    """Joins strings in input order."""

    def create_accumulator(self):
        return []

    def accumulate(self, accumulator, s):
        if s is not None:
            accumulator.append(s)

    def get_value(self, accumulator):
        return "|".join(accumulator)


concat = udaf(Concat(), result_type=DataTypes.STRING(), accumulator_type=DataTypes.ARRAY(DataTypes.STRING()))


@udaf(result_type=DataTypes.DOUBLE(), func_type="pandas")
def weighted_mean(v, w):
    return float((v * w).sum() / w.sum())
