// Package plan turns parsed SQL statements into executable jobs: it resolves
// tables and functions, types every expression, and splits each SELECT into
// Go calculations and Python stages, fusing consecutive Python calls into
// one stage (one round trip per batch), as Flink's PythonCalc does, and the
// operators of the engine's packages: aggregations, sorts, joins and set
// operations, OVER windows, window table functions, and in streaming mode
// (execution.runtime-mode) the changelog operators of internal/stream.
//
// plan imports the packages internal/README.md lists for it (among them
// pyexec for the Stage type only); it starts no processes: Python functions
// are described through the Describer it is given.
package plan

import (
	"fmt"
	"strings"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/pyexec"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// Table is a table declared with CREATE TABLE.
type Table struct {
	Name    string
	Schema  types.Schema
	Options map[string]string
	// Watermark is the table's WATERMARK (window.go), or nil.
	Watermark *Watermark
	// PartitionKeys are the columns of PARTITIONED BY (partitions.go).
	PartitionKeys []string
	// ProcTime is the column declared AS PROCTIME() (proctime.go), or "".
	ProcTime string
}

// MemoryConnector is the connector of tables whose rows a client of the
// engine holds in memory (the gateway's tables sent from Python): bounded,
// opened by the caller of the job (job.Options.OpenSource).
const MemoryConnector = "weir-memory"

// Connector is the table's 'connector' option.
func (t *Table) Connector() string { return t.Options["connector"] }

// Source is where a job's rows come from: a table or literal VALUES rows.
type Source struct {
	Table  *Table
	Values [][]any
	Schema types.Schema
}

// Step is one operator of a job's pipeline: a Go calculation, a Python
// stage, or a Go operator that holds rows back (aggregation, sort).
type Step struct {
	Calc   *exec.Calc
	Python *pyexec.Stage
	Op     Operator
}

// Job is one INSERT INTO or INSERT OVERWRITE statement, ready to run.
type Job struct {
	SQL    string // the statement's text, for logs
	Source Source
	Steps  []Step
	Sink   *Table
	// Overwrite is INSERT OVERWRITE: the sink replaces the table's rows.
	Overwrite bool
	// Settings are the options in force at the statement: the initial
	// ones with the SETs before it, in script order.
	Settings map[string]string
	// Streaming is execution.runtime-mode = 'streaming' (plan/streaming.go);
	// Updating says the output is a changelog with updates, whose batches
	// end with the row-kind column when RowKinds is set.
	Streaming, Updating, RowKinds bool
}

// Program is a whole SQL script after planning.
type Program struct {
	Settings map[string]string
	Tables   map[string]*Table
	Jobs     []*Job
}

// Explain renders the job's operators, one per line, Python stages marked.
func (j *Job) Explain() string {
	var b strings.Builder
	src := "VALUES"
	if j.Source.Table != nil {
		src = fmt.Sprintf("%s [connector=%s]", j.Source.Table.Name, j.Source.Table.Connector())
	}
	fmt.Fprintf(&b, "Source: %s (%s)\n", src, schemaString(j.Source.Schema))
	for _, s := range j.Steps {
		switch {
		case s.Calc != nil:
			fmt.Fprintf(&b, "GoCalc: %s\n", calcString(s.Calc))
		case s.Python != nil:
			kind := "PythonCalc"
			if s.Python.Vectorized() {
				kind = "VectorizedPythonCalc"
			}
			if s.Python.Table() {
				kind = "PythonTableFunction"
				if s.Python.LeftJoin {
					kind += "[LEFT]"
				}
			}
			fmt.Fprintf(&b, "%s: %s -> (%s)\n", kind, s.Python.Spec.GetName(), schemaString(s.Python.Output))
		case s.Op != nil:
			fmt.Fprintf(&b, "%s\n", s.Op)
		}
	}
	mode := ""
	if j.Overwrite {
		mode = ", overwrite"
	}
	fmt.Fprintf(&b, "Sink: %s [connector=%s%s] (%s)\n", j.Sink.Name, j.Sink.Connector(), mode, schemaString(j.Sink.Schema))
	return b.String()
}

func calcString(c *exec.Calc) string {
	parts := make([]string, len(c.Projections))
	for i, p := range c.Projections {
		parts[i] = p.String()
		if i < len(c.Schema) && c.Schema[i].Name != "" && c.Schema[i].Name != parts[i] {
			parts[i] += " AS " + c.Schema[i].Name
		}
	}
	s := "select=[" + strings.Join(parts, ", ") + "]"
	if c.Filter != nil {
		s += " where=[" + c.Filter.String() + "]"
	}
	return s
}

func schemaString(s types.Schema) string {
	parts := make([]string, len(s))
	for i, f := range s {
		parts[i] = f.Name + " " + f.Type.String()
	}
	return strings.Join(parts, ", ")
}

// FunctionInfo is what the Describer learns about a Python function.
type FunctionInfo struct {
	Kind          string // "scalar", "table" or "aggregate"
	InputTypes    []string
	ResultTypes   []string
	Deterministic bool
	// FuncType is "general" (or empty), "pandas" or "arrow".
	FuncType string
	// MinArgs and MaxArgs bound the number of arguments (MaxArgs < 0: any).
	MinArgs, MaxArgs int
}

// Describer looks up Python functions by 'module.attr' path. It returns, per
// path, either the information or an error that explains the failure.
type Describer func(paths []string) (map[string]FunctionInfo, map[string]error, error)

// errAt returns a SQL error at p.
func errAt(p sql.Pos, format string, args ...any) error {
	return &sql.Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}
