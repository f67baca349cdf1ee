package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// overFaultUDFs has a pandas aggregate function that SIGKILLs its own worker
// the first time it meets a frame of each of a few partitions (a marker
// file per partition makes it the first time only), so the kills happen
// inside bundles of the over-window stage that must then be replayed.
const overFaultUDFs = `
import os, signal
from weir import DataTypes, udaf

MARKS = os.environ["WEIR_OVER_MARKS"]
KILL_AT = {int(k) for k in os.environ["WEIR_OVER_KILL"].split(",")}

@udaf(result_type=DataTypes.BIGINT(), func_type="pandas")
def psum(v, k):
    key = int(k.iloc[0])
    if key in KILL_AT and len(v) == 4:
        try:
            fd = os.open(os.path.join(MARKS, str(key)), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass
        else:
            os.close(fd)
            os.kill(os.getpid(), signal.SIGKILL)
    return int(v.sum())
`

// TestOverUDAFWorkerKills: 300,000 rows in 1,000 partitions through a
// pandas aggregate function over a sliding ROWS frame and over whole
// partitions, on two workers whose workers are SIGKILLed 5 times in the
// middle of bundles; every row's values are exact (equal to SUM over the
// same frames, computed in Go in the same query) and no row is lost or
// doubled.
func TestOverUDAFWorkerKills(t *testing.T) {
	const rows, parts = 300_000, 1_000
	marks := t.TempDir()
	kill := []string{"3", "250", "501", "777", "998"}
	q := fmt.Sprintf(`
SET 'execution.runtime-mode' = 'batch';
CREATE TABLE src (a BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '%d',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '0', 'fields.a.end' = '%d');
CREATE TEMPORARY FUNCTION psum AS 'udfs.psum' LANGUAGE PYTHON;
SELECT a, psum(a %% 97, a %% %d) OVER w, SUM(a %% 97) OVER w,
  psum(a, a %% %d) OVER (PARTITION BY a %% %d), SUM(a) OVER (PARTITION BY a %% %d)
FROM src WINDOW w AS (PARTITION BY a %% %d ORDER BY a ROWS BETWEEN 3 PRECEDING AND CURRENT ROW);
`, rows, rows-1, parts, parts, parts, parts, parts)
	r := runWeirJob(t, q, map[string]string{"udfs.py": overFaultUDFs},
		[]string{"WEIR_OVER_MARKS=" + marks, "WEIR_OVER_KILL=" + strings.Join(kill, ",")},
		"-D", "parallelism.default=2", "-D", "python.fn-execution.bundle.size=50",
		"-D", "python.fn-execution.max-attempts=8")
	r.mustSucceed(t)
	mustHaveKilled(t, r, marks, len(kill))
	seen := map[int]bool{}
	for _, l := range r.lines() {
		f := strings.Split(strings.TrimSuffix(strings.TrimPrefix(l, "+I["), "]"), ", ")
		if len(f) != 5 {
			t.Fatalf("unexpected output line %q", l)
		}
		a, err := strconv.Atoi(f[0])
		if err != nil || seen[a] {
			t.Fatalf("row %q: bad or repeated a", l)
		}
		seen[a] = true
		if f[1] != f[2] || f[3] != f[4] {
			t.Fatalf("row %q: the pandas sums differ from SUM over the same frames", l)
		}
	}
	if len(seen) != rows {
		t.Fatalf("%d rows in the output, want %d", len(seen), rows)
	}
}
