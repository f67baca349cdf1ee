package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// printUDFs print from inside functions, as PyFlink users debug.
const printUDFs = `import sys
from weir import udf, DataTypes

print("printed at import")

@udf(result_type=DataTypes.INT(False))
def shout(x):
    print(f"shout saw {x}")
    print(f"shout complains about {x}", file=sys.stderr)
    return x + 1

@udf(result_type=DataTypes.BIGINT(False))
def chatty(x):
    print("row", x)
    return x
`

// TestPrintShowsByDefault: what a function prints shows in weir's log at the
// default verbosity, marked with its worker and stream; the Beam harness's
// own start-up messages do not.
func TestPrintShowsByDefault(t *testing.T) {
	r := job(t, `CREATE TABLE src (a INT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '3',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '3');
CREATE TEMPORARY FUNCTION shout AS 'printing.shout' LANGUAGE PYTHON;
SELECT shout(a) FROM src;
`, map[string]string{"printing.py": printUDFs}).mustSucceed(t)
	for _, want := range []string{
		`msg="printed at import" worker=worker-0 stream=stdout`,
		`msg="shout saw 1" worker=worker-0 stream=stdout`,
		`msg="shout saw 3" worker=worker-0 stream=stdout`,
		`msg="shout complains about 2" worker=worker-0 stream=stderr`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %s:\n%s", want, r.stderr)
		}
	}
	// Start-up noise of the harness stays at debug level; the marker that
	// separates it from user output is not shown.
	for _, noise := range []string{"apache_beam", "Logging handler created", "semi_persistent_directory", "user code starts"} {
		if strings.Contains(r.stderr, noise) {
			t.Errorf("stderr shows %q at the default verbosity:\n%s", noise, r.stderr)
		}
	}
	// The prints go to the log, not into the query's result.
	if got := strings.Join(r.lines(), " "); got != "+I[2] +I[3] +I[4]" {
		t.Errorf("stdout = %q, want the three results only", got)
	}
}

// TestPrintPerRowIsRateLimited: a print per row over 100,000 rows shows a
// first burst, then a trickle, with counts of the lines not shown; every
// line is either shown or counted, and the job completes.
func TestPrintPerRowIsRateLimited(t *testing.T) {
	const rows = 100000
	r := job(t, `CREATE TABLE src (a BIGINT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '100000',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '100000');
CREATE TABLE snk (a BIGINT) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION chatty AS 'printing.chatty' LANGUAGE PYTHON;
INSERT INTO snk SELECT chatty(a) FROM src;
`, map[string]string{"printing.py": printUDFs}).mustSucceed(t)
	if !strings.Contains(r.stderr, "job finished: 100000 rows") {
		t.Fatalf("the job did not report its 100000 rows:\n%.3000s", r.stderr)
	}
	shown := 0
	suppressed := 0
	notices := 0
	countRe := regexp.MustCompile(` suppressed=(\d+)`)
	for _, l := range strings.Split(r.stderr, "\n") {
		switch {
		case strings.Contains(l, `msg="row `) && strings.Contains(l, "stream=stdout"):
			shown++
		case strings.Contains(l, "lines of Python output not shown"):
			notices++
			m := countRe.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("notice without a count: %s", l)
			}
			n, _ := strconv.Atoi(m[1])
			suppressed += n
		}
	}
	// A burst of 100, then 10 a second while the job runs (plus slack for
	// the start-up of the worker, which the job's time includes).
	limit := 100 + int(10*r.elapsed.Seconds()) + 10
	if shown < 100 || shown > limit {
		t.Errorf("%d print lines shown in %s, want between 100 and %d", shown, r.elapsed, limit)
	}
	if notices == 0 {
		t.Errorf("no notice of suppressed lines")
	}
	// ("printed at import", the first line, is shown and not counted here.)
	if shown+suppressed != rows {
		t.Errorf("%d lines shown + %d suppressed, want %d (each print shown or counted)", shown, suppressed, rows)
	}
	t.Logf("%d rows: %d print lines shown, %d suppressed in %d notices, %s", rows, shown, suppressed, notices, r.elapsed)
}
