package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestProcTimeWindows: a streaming TUMBLE of 1 s over a PROCTIME() column
// of a paced source (about 3 s of rows) prints each window while the job
// runs, once the wall clock passes its end: the first window's row comes
// well before the job ends, the windows are whole seconds, and their
// counts add up to the rows read.
func TestProcTimeWindows(t *testing.T) {
	dir := t.TempDir()
	script := `SET 'execution.runtime-mode' = 'streaming';
CREATE TABLE src (a BIGINT, proc AS PROCTIME()) WITH ('connector' = 'datagen', 'number-of-rows' = '30000', 'rows-per-second' = '10000',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '30000');
SELECT window_start, window_end, COUNT(*), SUM(a) FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(proc), INTERVAL '1' SECOND))
GROUP BY window_start, window_end;
`
	path := filepath.Join(dir, "job.sql")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, weirBin, "sql", "-f", path, "-D", "table.local-time-zone=UTC")
	cmd.Env = append(os.Environ(), testMark)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var arrived []time.Time
	var lines []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		arrived = append(arrived, time.Now())
		lines = append(lines, sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("weir failed: %v", err)
	}
	end := time.Now()
	if len(lines) < 2 {
		t.Fatalf("%d windows, want at least 2 over 3 s of rows: %q", len(lines), lines)
	}
	if early := end.Sub(arrived[0]); early < 500*time.Millisecond {
		t.Errorf("the first window came %v before the job's end: windows should fire while it runs", early)
	}
	var count, sum int64
	for _, l := range lines {
		// +I[2026-12-01T14:16:05, 2026-12-01T14:16:06, 5000, 12502500]
		f := strings.Split(strings.TrimSuffix(strings.TrimPrefix(l, "+I["), "]"), ", ")
		if len(f) != 4 {
			t.Fatalf("line %q", l)
		}
		start, err1 := parseWall(f[0])
		stop, err2 := parseWall(f[1])
		c, err3 := strconv.ParseInt(f[2], 10, 64)
		s, err4 := strconv.ParseInt(f[3], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || stop.Sub(start) != time.Second {
			t.Fatalf("line %q is not a 1 s window", l)
		}
		count += c
		sum += s
	}
	if count != 30000 || sum != 30000*30001/2 {
		t.Errorf("windows hold %d rows (sum %d), want 30000 (%d)", count, sum, 30000*30001/2)
	}
}

// parseWall reads a printed TIMESTAMP(3) of whole seconds (the seconds are
// left out when zero, as java.time prints them).
func parseWall(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04", s)
}
