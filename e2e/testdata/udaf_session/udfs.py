# Python aggregate functions over SESSION windows. trace records the calls
# it gets (a<id>; per accumulate, m[...] per merge), so the golden rows show
# in which order rows reach a session's accumulator and whether accumulators
# are merged when a late row bridges two sessions; no_merge defines no merge
# method. Only the import lines differ between PyFlink and weir.
from pyflink.table import DataTypes
from pyflink.table.udf import AggregateFunction, udaf


class Trace(AggregateFunction):

    def create_accumulator(self):
        return [""]

    def accumulate(self, acc, v):
        acc[0] += "a%d;" % v

    def merge(self, acc, accs):
        acc[0] += "m[" + "|".join(o[0] for o in accs) + "];"

    def get_value(self, acc):
        return acc[0]

    def get_result_type(self):
        return DataTypes.STRING()

    def get_accumulator_type(self):
        return DataTypes.ARRAY(DataTypes.STRING())


class NoMerge(AggregateFunction):

    def create_accumulator(self):
        return [0, 0]

    def accumulate(self, acc, v, w):
        if v is not None:
            acc[0] += v * w
            acc[1] += w

    def get_value(self, acc):
        return None if acc[1] == 0 else acc[0] / acc[1]

    def get_result_type(self):
        return DataTypes.DOUBLE()

    def get_accumulator_type(self):
        return DataTypes.ARRAY(DataTypes.BIGINT())


trace = udaf(Trace())
no_merge = udaf(NoMerge())
