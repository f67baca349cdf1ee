package plan

import (
	"strings"
	"testing"
)

// explain renders a planned script as `weir explain` does.
func explain(t *testing.T, script string) string {
	t.Helper()
	return render(mustPlan(t, script))
}

// In batch mode the current time is one value per statement: every
// reference is the same literal.
func TestCurrentTimeOncePerStatement(t *testing.T) {
	got := explain(t, "SELECT NOW(), CURRENT_TIMESTAMP, CURRENT_ROW_TIMESTAMP() FROM (VALUES (1), (2)) AS v(x);")
	if strings.Contains(got, "CURRENT_TIME_OF") {
		t.Fatalf("batch mode reads the clock per batch:\n%s", got)
	}
	i := strings.Index(got, "TIMESTAMP_LTZ '")
	if i < 0 {
		t.Fatalf("no TIMESTAMP_LTZ literal in\n%s", got)
	}
	lit := got[i : i+len("TIMESTAMP_LTZ '2006-01-02 15:04")]
	if n := strings.Count(got, lit); n != 3 {
		t.Errorf("%q appears %d times, want 3 (one value per statement):\n%s", lit, n, got)
	}
}

// In streaming mode the clock is read as rows go by.
func TestCurrentTimeStreaming(t *testing.T) {
	got := explain(t, "SET 'execution.runtime-mode' = 'streaming';\nSET 'table.local-time-zone' = 'Asia/Shanghai';\nSELECT LOCALTIMESTAMP, CURRENT_DATE FROM (VALUES (1)) AS v(x);")
	if !strings.Contains(got, "CURRENT_TIME_OF('LOCALTIMESTAMP', 'Asia/Shanghai')") || !strings.Contains(got, "CURRENT_TIME_OF('CURRENT_DATE'") {
		t.Errorf("want per-batch clock reads in the session zone:\n%s", got)
	}
}

func TestTemporalPlanErrors(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		{"SET 'table.local-time-zone' = 'Mars/Olympus';\nSELECT CAST(TO_TIMESTAMP_LTZ(0, 3) AS STRING);", "invalid time zone 'Mars/Olympus'"},
		{"SELECT DATE_FORMAT(TIMESTAMP '2020-01-01 00:00:00', 'yyyy bbb');", "unknown pattern letter 'b'"},
		{"SELECT DATE_FORMAT(DATE '2020-01-01', 'yyyy');", "CAST it to TIMESTAMP"},
		{"SELECT EXTRACT(YEAR FROM TIME '10:00:00');", "cannot extract YEAR from a TIME"},
		{"SELECT FLOOR(TIMESTAMP '2020-01-01 00:00:00' TO DOW);", "FLOOR does not take the unit DOW"},
		{"SELECT INTERVAL '100' DAY;", "exceeds precision of DAY(2)"},
		{"SELECT INTERVAL '1-13' YEAR TO MONTH;", "MONTH field value 13 is out of range"},
		{"SELECT INTERVAL '1' DAY > INTERVAL '1' MONTH;", "cannot compare"},
		{"SELECT TIMESTAMP '2020-01-01 00:00:00' - TIMESTAMP '2019-01-01 00:00:00';", "TIMESTAMPDIFF"},
		{"SELECT TO_TIMESTAMP_LTZ(0, 10);", "0 (seconds) to 9"},
		{"SELECT CONVERT_TZ('2020-01-01 00:00:00', 'UTC', 'Nowhere/City');", "invalid time zone 'Nowhere/City'"},
		{"SELECT TO_TIMESTAMP('Mon 2020', 'EEE yyyy');", "cannot parse the field 'E'"},
		{"SELECT UNIX_TIMESTAMP('2020 1', 'yyyy u');", "cannot parse the field 'u'"},
		{"SELECT FROM_UNIXTIME(0, 'Q');", "illegal pattern character 'Q'"},
	} {
		_, err := planScript(t, tc.script)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\n  = %v, want an error with %q", tc.script, err, tc.want)
		}
	}
}
