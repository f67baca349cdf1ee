package plan

import (
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/window"
)

const procTable = `CREATE TABLE pr (a INT, proc AS PROCTIME(), b STRING) WITH ('connector' = 'datagen');
`

func TestProcTime(t *testing.T) {
	prog := mustPlan(t, procTable+`SELECT a, proc, b FROM pr;
SET 'execution.runtime-mode' = 'streaming';
SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE pr, DESCRIPTOR(proc), INTERVAL '1' SECOND)) GROUP BY window_start, window_end;`)
	j := prog.Jobs[0]
	if got := schemaString(j.Source.Schema); got != "a INT, b STRING" {
		t.Errorf("the source reads (%s)", got)
	}
	op, ok := j.Steps[0].Op.(*ProcTime)
	if !ok || op.At != 1 || op.Schema[1].Type.String() != "TIMESTAMP_LTZ(3) NOT NULL" {
		t.Fatalf("first step %v", j.Steps[0])
	}
	var assign *window.Assign
	for _, s := range prog.Jobs[1].Steps {
		if a, ok := s.Op.(*window.Assign); ok {
			assign = a
		}
	}
	if assign == nil || !assign.ProcTime || !assign.Hold {
		t.Fatalf("streaming TUMBLE over proc: %s", prog.Jobs[1].Explain())
	}
}

func TestProcTimeErrors(t *testing.T) {
	for _, c := range []struct{ script, want string }{
		{`CREATE TABLE x (a INT, p AS PROCTIME(), q AS PROCTIME()) WITH ('connector' = 'datagen');`, "two processing-time columns"},
		{procTable + `INSERT INTO pr SELECT 1, 'x';`, "has a processing-time column (proc AS PROCTIME()), which weir cannot write"},
	} {
		_, err := planScript(t, c.script)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n  error %v, want %q", c.script, err, c.want)
		}
	}
}
