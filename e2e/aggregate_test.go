package e2e

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
)

// TestAggregateWithPython runs GROUP BY, HAVING, ORDER BY and LIMIT through
// the binary over a datagen sequence, with Python functions in a grouping key
// and in an aggregate's argument, on two workers, and checks every row
// against the sums computed here. The modulus is random so that the groups
// differ from run to run.
func TestAggregateWithPython(t *testing.T) {
	const n = 200_000
	m := 50 + rand.Intn(900)
	udfs := `from weir import udf

@udf(result_type='BIGINT NOT NULL')
def bucket(x, m):
    return x % m

@udf(result_type='BIGINT NOT NULL')
def triple(x):
    return 3 * x
`
	sqlText := fmt.Sprintf(`CREATE TABLE seq (k BIGINT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '%d',
  'fields.k.kind' = 'sequence', 'fields.k.start' = '1', 'fields.k.end' = '%d');
CREATE TEMPORARY FUNCTION bucket AS 'udfs.bucket' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION triple AS 'udfs.triple' LANGUAGE PYTHON;
SELECT bucket(k, %d) AS b, COUNT(*) AS c, SUM(triple(k)) AS s, MIN(k), MAX(k)
FROM seq WHERE k %% 7 <> 0
GROUP BY bucket(k, %d) HAVING COUNT(*) > 1
ORDER BY s DESC, b LIMIT 10;`, n, n, m, m)
	r := job(t, sqlText, map[string]string{"udfs.py": udfs}, "-D", "parallelism.default=2").mustSucceed(t)
	type group struct{ c, s, lo, hi int64 }
	groups := map[int64]*group{}
	for k := int64(1); k <= n; k++ {
		if k%7 == 0 {
			continue
		}
		g := groups[k%int64(m)]
		if g == nil {
			g = &group{lo: k}
			groups[k%int64(m)] = g
		}
		g.c++
		g.s += 3 * k
		g.hi = k
	}
	var want []string
	for b, g := range groups {
		if g.c > 1 {
			want = append(want, fmt.Sprintf("+I[%d, %d, %d, %d, %d]", b, g.c, g.s, g.lo, g.hi))
		}
	}
	// Sort by s descending, then b.
	key := func(line string) (s, b int64) {
		var c, lo, hi int64
		fmt.Sscanf(strings.NewReplacer("+I[", "", "]", "", ",", "").Replace(line), "%d %d %d %d %d", &b, &c, &s, &lo, &hi)
		return s, b
	}
	sort.Slice(want, func(i, j int) bool {
		si, bi := key(want[i])
		sj, bj := key(want[j])
		return si > sj || (si == sj && bi < bj)
	})
	want = want[:10]
	got := r.lines()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("m=%d: got\n%s\nwant\n%s", m, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAggregateUnboundedSource checks the error of an aggregation over a
// source that never ends: weir refuses it before starting, as Flink's batch
// mode does.
func TestAggregateUnboundedSource(t *testing.T) {
	r := job(t, `CREATE TABLE gen (k INT) WITH ('connector' = 'datagen');
SELECT k % 3, COUNT(*) FROM gen GROUP BY k % 3;`, nil)
	if r.code == 0 || !strings.Contains(r.stderr, "which never ends") {
		t.Errorf("exit %d, stderr %q; want a failure saying the source never ends", r.code, r.stderr)
	}
}
