package plan

import (
	"strings"
	"testing"
)

// TestInsertOverwrite: INSERT OVERWRITE plans into a job that overwrites,
// for a filesystem table only (Flink: the sink must support overwriting).
func TestInsertOverwrite(t *testing.T) {
	const tables = `
CREATE TABLE fs (a INT) WITH ('connector' = 'filesystem', 'path' = '/tmp/x', 'format' = 'csv');
CREATE TABLE p (a INT) WITH ('connector' = 'print');
`
	prog := mustPlan(t, tables+"INSERT INTO fs SELECT c0 FROM s; INSERT OVERWRITE fs SELECT c1 FROM s; INSERT OVERWRITE fs VALUES (1), (2);")
	if len(prog.Jobs) != 3 {
		t.Fatalf("%d jobs, want 3", len(prog.Jobs))
	}
	for i, want := range []bool{false, true, true} {
		if got := prog.Jobs[i].Overwrite; got != want {
			t.Errorf("job %d: Overwrite = %v, want %v", i+1, got, want)
		}
	}
	if ex := prog.Jobs[1].Explain(); !strings.Contains(ex, "Sink: fs [connector=filesystem, overwrite] (a INT)") {
		t.Errorf("explain does not show the overwrite:\n%s", ex)
	}
	if ex := prog.Jobs[0].Explain(); !strings.Contains(ex, "Sink: fs [connector=filesystem] (a INT)") {
		t.Errorf("explain of INSERT INTO:\n%s", ex)
	}

	_, err := planScript(t, tables+"INSERT OVERWRITE p SELECT c0 FROM s;")
	want := "INSERT OVERWRITE needs a table whose connector can replace its rows ('filesystem'); table p uses 'print': use INSERT INTO"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %s", err, want)
	}
}
