package conformance

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/changelog"
	"github.com/weir-dev/weir/internal/config"
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
	// Changes is the changelog of a streaming run: "<kind>\t<row>" lines in
	// the order the job emitted them.
	Changes []string
	Err     error
}

// Run plans and runs c's set-up statements and query in weir, in-process,
// and returns the last query's result (rows sorted unless c is ordered).
func Run(ctx context.Context, c *Case) Result {
	script := strings.Join(append(append([]string(nil), c.Setup...), c.Query), ";\n")
	if dir, err := filepath.Abs(filepath.Dir(c.File)); err == nil {
		// A table's data file next to the corpus file (corpus.go).
		script = strings.ReplaceAll(script, DirVariable, dir)
	}
	stmts, err := sql.Parse(script)
	if err != nil {
		return Result{Err: err}
	}
	// Flink's answers are recorded in UTC (record.py); a file's SET
	// statements change the zone for its queries.
	settings := map[string]string{config.LocalTimeZone: "UTC"}
	if c.Streaming {
		settings[config.RuntimeMode] = "streaming"
	}
	prog, err := (&plan.Planner{Settings: settings}).Plan(stmts)
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
	res := Result{Rows: sink.rows, Changes: sink.changes}
	if sink.kinds {
		if res.Rows, err = Materialize(sink.changes); err != nil {
			return Result{Err: fmt.Errorf("conformance: %s: weir's changelog: %w", c.Name, err)}
		}
	}
	for _, f := range j.Sink.Schema {
		res.Types = append(res.Types, f.Type.String())
	}
	if !c.Ordered {
		sort.Strings(res.Rows)
	}
	return res
}

// collector is a sink that keeps the rows in the corpus's format, and the
// changelog of batches that carry row kinds.
type collector struct {
	schema  types.Schema
	mu      sync.Mutex
	rows    []string
	changes []string
	kinds   bool // some batch carried row kinds
	buf     []byte
}

// ConsumesChanges marks the collector as a sink that takes updates.
func (s *collector) ConsumesChanges() {}

func (s *collector) Write(_ context.Context, b arrow.RecordBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	kinds := changelog.Kinds(b)
	s.kinds = s.kinds || kinds != nil
	for r := 0; r < int(b.NumRows()); r++ {
		var line []string
		for c := 0; c < changelog.Data(b); c++ {
			col := b.Column(c)
			if col.IsNull(r) || col.DataType().ID() == arrow.NULL {
				line = append(line, "NULL")
				continue
			}
			s.buf = connector.AppendValue(s.buf[:0], col, r, s.schema[c].Type)
			line = append(line, Escape(string(s.buf)))
		}
		row := strings.Join(line, "\t")
		s.rows = append(s.rows, row)
		s.changes = append(s.changes, changelog.At(kinds, r).String()+"\t"+row)
	}
	return nil
}

func (s *collector) Commit() error { return nil }
func (s *collector) Abort(error)   {}
