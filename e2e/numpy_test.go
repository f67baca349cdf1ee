package e2e

import (
	"strings"
	"testing"
)

// TestNumpyResults: functions that compute with numpy may return its values
// for every type where the Python value they stand for is accepted.
func TestNumpyResults(t *testing.T) {
	r := job(t, `CREATE TEMPORARY FUNCTION is_even AS 'np_udfs.is_even' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION halves AS 'np_udfs.halves' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION tenth AS 'np_udfs.tenth' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION stamp AS 'np_udfs.stamp' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION squares AS 'np_udfs.squares' LANGUAGE PYTHON;
SELECT a, is_even(a), halves(a), tenth(a), stamp(a), squares(a) FROM (VALUES (1), (2)) AS t(a);
`, map[string]string{"np_udfs.py": `import numpy as np
from weir import udf, DataTypes as T

@udf(result_type=T.BOOLEAN())
def is_even(a):
    return np.int64(a) % 2 == 0

@udf(result_type=T.ARRAY(T.DOUBLE()))
def halves(a):
    return np.arange(a + 1) / 2

@udf(result_type=T.FLOAT())
def tenth(a):
    return np.float32(a) / np.float32(10)

@udf(result_type=T.TIMESTAMP(9))
def stamp(a):
    return np.datetime64("2024-01-02T03:04:05.123456789") + np.timedelta64(a, "ns")

@udf(result_type=T.BIGINT())
def squares(a):
    return np.sum(np.arange(a + 1) ** 2)
`}).mustSucceed(t)
	want := "+I[1, false, [0.0, 0.5], 0.1, 2024-01-02T03:04:05.123456790, 1] " +
		"+I[2, true, [0.0, 0.5, 1.0], 0.2, 2024-01-02T03:04:05.123456791, 5]"
	if got := strings.Join(r.lines(), " "); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
