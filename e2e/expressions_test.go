package e2e

import (
	"strings"
	"testing"
)

// TestDecimalArithmeticAndTryCast: `weir sql` prints DECIMAL results with
// Flink's scales (the cases users reported), and TRY_CAST's NULLs, for
// constants and for columns.
func TestDecimalArithmeticAndTryCast(t *testing.T) {
	t.Parallel()
	r := job(t, `SELECT 2.5 * 2.5, CAST(19.99 AS DECIMAL(10, 2)) * 1.1, 0.05 / 7, 1.0 / 3, TRY_CAST('alice' AS INT), ROUND(-2.345, 2);
SELECT d * 1.1, d / i, TRY_CAST(s AS INT), TRY_CAST(s AS DECIMAL(4, 1))
  FROM (VALUES (CAST(19.99 AS DECIMAL(10, 2)), 3, '42'), (CAST(-0.05 AS DECIMAL(10, 2)), -7, 'bob'), (CAST(NULL AS DECIMAL(10, 2)), 1, ' 4.65 ')) AS t(d, i, s);
`, nil)
	r.mustSucceed(t)
	wantLines(t, r,
		"+I[6.25, 21.989, 0.0071428571429, 0.333333333333, null, -2.35]",
		"+I[21.989, 6.6633333333333, 42, 42.0]",
		"+I[-0.055, 0.0071428571429, null, null]",
		"+I[null, null, 4, 4.7]",
	)
}

// TestCastFailure: a value CAST cannot convert fails the job with a message
// that names the value and the expression and suggests TRY_CAST.
func TestCastFailure(t *testing.T) {
	t.Parallel()
	r := job(t, `SELECT CAST(s AS INT) FROM (VALUES ('1'), ('bob')) AS t(s);`, nil)
	msg := r.mustFail(t)
	for _, want := range []string{"cannot cast 'bob' to INT", "CAST(s AS INT)", "TRY_CAST(s AS INT)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q:\n%s", want, msg)
		}
	}
}
