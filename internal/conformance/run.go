package conformance

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/connector"
	"github.com/weir-dev/weir/internal/job"
	"github.com/weir-dev/weir/internal/plan"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// Result is weir's answer to a case: column types and rows in the corpus's
// format, or the error that rejected the query.
type Result struct {
	Types []string
	Rows  []string
	Err   error
}

// Run plans and runs c's set-up statements and query in weir, in-process,
// and returns the last query's result (rows sorted unless c is ordered).
func Run(ctx context.Context, c *Case) Result {
	script := strings.Join(append(append([]string(nil), c.Setup...), c.Query), ";\n")
	stmts, err := sql.Parse(script)
	if err != nil {
		return Result{Err: err}
	}
	prog, err := (&plan.Planner{}).Plan(stmts)
	if err != nil {
		return Result{Err: err}
	}
	if len(prog.Jobs) == 0 {
		return Result{Err: fmt.Errorf("conformance: %s: the query planned no job", c.Name)}
	}
	j := prog.Jobs[len(prog.Jobs)-1]
	sink := &collector{schema: j.Sink.Schema}
	if _, err := job.Run(ctx, j, prog.Settings, job.Options{Sink: sink}); err != nil {
		return Result{Err: err}
	}
	res := Result{Rows: sink.rows}
	for _, f := range j.Sink.Schema {
		res.Types = append(res.Types, f.Type.String())
	}
	if !c.Ordered {
		sort.Strings(res.Rows)
	}
	return res
}

// collector is a sink that keeps the rows in the corpus's format.
type collector struct {
	schema types.Schema
	mu     sync.Mutex
	rows   []string
	buf    []byte
}

func (s *collector) Write(_ context.Context, b arrow.RecordBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for r := 0; r < int(b.NumRows()); r++ {
		var line []string
		for c := 0; c < int(b.NumCols()); c++ {
			col := b.Column(c)
			if col.IsNull(r) || col.DataType().ID() == arrow.NULL {
				line = append(line, "NULL")
				continue
			}
			s.buf = connector.AppendValue(s.buf[:0], col, r, s.schema[c].Type)
			line = append(line, Escape(string(s.buf)))
		}
		s.rows = append(s.rows, strings.Join(line, "\t"))
	}
	return nil
}

func (s *collector) Commit() error { return nil }
func (s *collector) Abort(error)   {}
