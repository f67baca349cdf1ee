package e2e

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// TestJoinWithPython joins two datagen tables through the binary, with
// Python functions on both sides of the join (in the subqueries that feed
// it, one of them computing the join key), in a residual ON condition of an
// inner join, and over the joined rows, on two workers; every row is checked
// against the answer computed here. Sizes are random so that the unmatched
// rows differ from run to run.
func TestJoinWithPython(t *testing.T) {
	n := 20_000 + rand.Intn(20_000)
	m := 1_000 + rand.Intn(n/2)
	udfs := `from weir import udf

@udf(result_type='BIGINT NOT NULL')
def half(x):
    return x // 2

@udf(result_type='BIGINT NOT NULL')
def sq(x):
    return x * x

@udf(result_type='BOOLEAN')
def odd(x):
    return x % 2 == 1

@udf(result_type='STRING')
def label(x, s):
    return f"{x}:{s}"
`
	sqlText := fmt.Sprintf(`CREATE TABLE l (k BIGINT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '%d',
  'fields.k.kind' = 'sequence', 'fields.k.start' = '1', 'fields.k.end' = '%d');
CREATE TABLE r (k BIGINT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '%d',
  'fields.k.kind' = 'sequence', 'fields.k.start' = '1', 'fields.k.end' = '%d');
CREATE TEMPORARY FUNCTION half AS 'udfs.half' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION sq AS 'udfs.sq' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION odd AS 'udfs.odd' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION label AS 'udfs.label' LANGUAGE PYTHON;
SELECT a.k, a.h, b.k, b.s, label(a.k, b.s)
FROM (SELECT k, half(k) AS h FROM l) AS a
LEFT JOIN (SELECT k, sq(k) AS s FROM r) AS b ON a.h = b.k
ORDER BY a.k;
SELECT COUNT(*), SUM(b.s) FROM (SELECT k, half(k) AS h FROM l) AS a
JOIN (SELECT k, sq(k) AS s FROM r) AS b ON a.h = b.k AND odd(b.s);`, n, n, m, m)
	r := job(t, sqlText, map[string]string{"udfs.py": udfs}, "-D", "parallelism.default=2").mustSucceed(t)
	var want []string
	var count, sum int64
	for k := int64(1); k <= int64(n); k++ {
		h := k / 2
		if h >= 1 && h <= int64(m) {
			want = append(want, fmt.Sprintf("+I[%d, %d, %d, %d, %d:%d]", k, h, h, h*h, k, h*h))
			if h%2 == 1 {
				count++
				sum += h * h
			}
			continue
		}
		want = append(want, fmt.Sprintf("+I[%d, %d, null, null, %d:None]", k, h, k))
	}
	want = append(want, fmt.Sprintf("+I[%d, %d]", count, sum))
	got := r.lines()
	if len(got) != len(want) {
		t.Fatalf("n=%d m=%d: %d rows, want %d\nstderr:\n%s", n, m, len(got), len(want), r.stderr)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("n=%d m=%d: row %d is %s, want %s", n, m, i, got[i], want[i])
		}
	}
}

// TestJoinUnboundedSource checks that a join over a source that never ends
// is refused before it starts, naming the table.
func TestJoinUnboundedSource(t *testing.T) {
	sqlText := `CREATE TABLE l (k BIGINT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TABLE u (k BIGINT NOT NULL) WITH ('connector' = 'datagen');
SELECT l.k FROM l JOIN u ON l.k = u.k;`
	stderr := job(t, sqlText, nil).mustFail(t)
	if !strings.Contains(stderr, "reads u, which never ends") || !strings.Contains(stderr, "bounded input only") {
		t.Fatalf("stderr does not explain the unbounded join:\n%s", stderr)
	}
}
