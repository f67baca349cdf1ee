package plan

import (
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/expr"
)

const partTables = `
CREATE TABLE pt (a INT, b STRING, dt STRING, hr INT) PARTITIONED BY (dt, hr)
  WITH ('connector' = 'filesystem', 'path' = '/tmp/pt', 'format' = 'parquet');
CREATE TABLE pj (a INT, b STRING, c DOUBLE) WITH ('connector' = 'filesystem', 'path' = '/tmp/pj', 'format' = 'json');
CREATE TABLE pc (a INT, b STRING, c DOUBLE) WITH ('connector' = 'filesystem', 'path' = '/tmp/pc', 'format' = 'csv');
`

func TestStaticPartition(t *testing.T) {
	prog := mustPlan(t, partTables+`INSERT INTO pt PARTITION (hr = 7) SELECT c0, s, 'x' FROM s;
INSERT OVERWRITE pt PARTITION (dt = '2024-01-01', hr = '07') SELECT c0, s FROM s;`)
	j := prog.Jobs[0]
	if got := j.Sink.Options[StaticPartitionOption]; got != "hr=7" {
		t.Errorf("static partition option %q", got)
	}
	if got := prog.Tables["pt"].Options[PartitionKeysOption]; got != "key=dt&key=hr" {
		t.Errorf("partition keys option %q", got)
	}
	if _, ok := prog.Tables["pt"].Options[StaticPartitionOption]; ok {
		t.Error("the static partition of one INSERT leaked into the table")
	}
	last := j.Steps[len(j.Steps)-1].Calc
	if last == nil || len(last.Projections) != 4 || last.Projections[3].String() != "7" {
		t.Fatalf("last step should put the static value in column hr: %+v", j.Steps[len(j.Steps)-1])
	}
	j = prog.Jobs[1]
	if !j.Overwrite || j.Sink.Options[StaticPartitionOption] != "dt=2024-01-01&hr=07" {
		t.Errorf("overwrite %v, static %q", j.Overwrite, j.Sink.Options[StaticPartitionOption])
	}
	if got := j.Steps[len(j.Steps)-1].Calc.Projections[3].String(); got != "7" {
		t.Errorf("hr = '07' is the INT %s", got)
	}
}

func TestPartitionErrors(t *testing.T) {
	for _, c := range []struct{ script, want string }{
		{`CREATE TABLE x (a INT) PARTITIONED BY (b) WITH ('connector' = 'filesystem', 'path' = '/x', 'format' = 'csv');`, "partition column 'b' is not a column of table x"},
		{`CREATE TABLE x (a INT, b INT) PARTITIONED BY (b, b) WITH ('connector' = 'filesystem', 'path' = '/x', 'format' = 'csv');`, "listed twice"},
		{`CREATE TABLE x (a INT, b INT) PARTITIONED BY (a, b) WITH ('connector' = 'filesystem', 'path' = '/x', 'format' = 'csv');`, "every column is a partition column"},
		{`CREATE TABLE x (a INT, b INT) PARTITIONED BY (b) WITH ('connector' = 'print');`, "PARTITIONED BY needs the 'filesystem' connector"},
		{`CREATE TABLE x (a INT, b INT) WITH ('connector' = 'print', '$partition-keys' = 'key=a');`, "keys starting with '$' are weir's own"},
		{partTables + `INSERT INTO pj PARTITION (a = 1) SELECT s, 1.0 FROM s;`, "table pj is not partitioned"},
		{partTables + `INSERT INTO pt PARTITION (a = 1) SELECT s, 'x', 1 FROM s;`, "'a' is not a partition column of table pt; its partition columns are dt, hr"},
		{partTables + `INSERT INTO pt PARTITION (hr = 1, hr = 2) SELECT c0, s, 'x' FROM s;`, "given twice"},
		{partTables + `INSERT INTO pt PARTITION (hr = 'abc') SELECT c0, s, 'x' FROM s;`, "partition value for hr INT"},
		{partTables + `INSERT INTO pt PARTITION (hr = 1) SELECT c0, s FROM s;`, "the query gives 2 column(s) but pt has 3"},
		{partTables + `INSERT INTO pt PARTITION (hr = c0) SELECT c0, s, 'x' FROM s;`, "must be a literal"},
	} {
		_, err := planScript(t, c.script)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n  error %v, want %q", c.script, err, c.want)
		}
	}
}

func TestProjectionPushdown(t *testing.T) {
	prog := mustPlan(t, partTables+`INSERT INTO out1 SELECT a + 1 FROM pt WHERE hr > 3;
INSERT INTO outsi SELECT up(b), a FROM pj;
INSERT INTO out1 SELECT a FROM pc;
INSERT INTO outsi SELECT b, a FROM pj;`)
	for i, want := range []string{"a INT, hr INT", "a INT, b STRING", "a INT, b STRING, c DOUBLE", "a INT, b STRING"} {
		if got := schemaString(prog.Jobs[i].Source.Schema); got != want {
			t.Errorf("job %d reads (%s), want (%s)\n%s", i, got, want, prog.Jobs[i].Explain())
		}
	}
	// The narrowed first step reads its columns at their new places.
	if got := prog.Jobs[0].Steps[0].Calc.Filter.String(); got != "(hr > 3)" || prog.Jobs[0].Steps[0].Calc.Projections[0].String() != "(a + 1)" {
		t.Errorf("calc %s", prog.Jobs[0].Explain())
	}
	for i := range prog.Jobs {
		j := prog.Jobs[i]
		var xs []expr.Expr
		if c := j.Steps[0].Calc; c != nil {
			xs = append(append(xs, c.Projections...), c.Filter)
		}
		for _, x := range xs {
			expr.Walk(x, func(e expr.Expr) bool {
				if c, ok := e.(*expr.Column); ok && (c.Index >= len(j.Source.Schema) || j.Source.Schema[c.Index].Name != c.Name) {
					t.Errorf("job %d: column %s at %d of (%s)", i, c.Name, c.Index, schemaString(j.Source.Schema))
				}
				return true
			})
		}
		if st := j.Steps[0].Python; st != nil {
			for _, k := range append(append([]int(nil), st.Inputs...), st.Forward...) {
				if k >= len(j.Source.Schema) {
					t.Errorf("job %d: Python stage reads column %d of (%s)", i, k, schemaString(j.Source.Schema))
				}
			}
		}
	}
}

func TestPartitionFilter(t *testing.T) {
	prog := mustPlan(t, partTables+`INSERT INTO out1 SELECT a FROM pt WHERE dt = '2024-01-01' AND hr IN (1, 2) AND a > 0;
INSERT INTO out1 SELECT a FROM pt WHERE dt = 'x' OR a = 1;
INSERT INTO out1 SELECT a FROM pt WHERE hr > 3;`)
	if got := prog.Jobs[0].Source.Table.Options[PartitionFilterOption]; got != "dt=2024-01-01&hr=1&hr=2" {
		t.Errorf("filter option %q", got)
	}
	for _, j := range prog.Jobs[1:] {
		if got, ok := j.Source.Table.Options[PartitionFilterOption]; ok {
			t.Errorf("%s: filter option %q, want none", j.Explain(), got)
		}
	}
	if _, ok := prog.Tables["pt"].Options[PartitionFilterOption]; ok {
		t.Error("one query's partition filter leaked into the table")
	}
}
