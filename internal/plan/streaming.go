package plan

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/changelog"
	"github.com/weir-dev/weir/internal/config"
	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/join"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/stream"
	"github.com/weir-dev/weir/internal/types"
)

// This file plans Flink's streaming runtime mode (execution.runtime-mode =
// 'streaming'): a GROUP BY or SELECT DISTINCT becomes a stream.GroupAgg
// emitting a changelog, whose row kinds ride in the row-kind column at the
// end of the pipeline's schema (internal/changelog) through the calcs and
// Python stages after it; an operator that needs its whole, insert-only
// input (a sort with LIMIT, joins of bounded inputs, set operations,
// subqueries as values) gets a stream.Materialize in front of it and bounded
// input; an inner join reading a table that never ends becomes a stream.Join
// (insert-only inputs); ORDER BY without LIMIT is refused as Flink refuses
// it; an updating result is refused by a sink that takes only inserts.

// streamingMode reports whether settings run jobs in streaming mode.
func streamingMode(settings map[string]string) bool {
	c, _, err := config.Resolve(settings)
	return err == nil && c.String(config.RuntimeMode) == "streaming"
}

// changelogSinks are the connectors whose sinks accept updates (they show
// or drop the row kinds); the others take insertions only.
var changelogSinks = map[string]bool{"print": true, "blackhole": true}

// hasRowKind reports whether the pipeline's rows carry the row-kind column.
func (p *pipeline) hasRowKind() bool {
	n := len(p.schema)
	return n > 0 && p.schema[n-1].Name == changelog.RowKindColumn
}

// keepRowKind appends the row-kind column to the outputs of a calc over a
// pipeline that carries it, so that the kinds follow the rows (through
// Python stages too, which forward it without sending it to Python).
func (p *pipeline) keepRowKind(outs []expr.Expr, names []string) ([]expr.Expr, []string) {
	if !p.hasRowKind() {
		return outs, names
	}
	last := len(p.schema) - 1
	if n := len(outs); n > 0 {
		if c, ok := outs[n-1].(*expr.Column); ok && c.Index == last {
			return outs, names
		}
	}
	f := p.schema[last]
	outs = append(append([]expr.Expr(nil), outs...), &expr.Column{Index: last, Name: f.Name, T: f.Type})
	return outs, append(append([]string(nil), names...), f.Name)
}

// dataSchema is the pipeline's schema without the row-kind column.
func (p *pipeline) dataSchema() types.Schema {
	if p.hasRowKind() {
		return p.schema[:len(p.schema)-1]
	}
	return p.schema
}

// materialize, in front of an operator that needs insert-only input, turns
// the pipeline's changelog into its final rows (bounded input only).
func (p *pipeline) materialize() {
	if !p.hasRowKind() {
		return
	}
	data := append(types.Schema(nil), p.dataSchema()...)
	p.steps = append(p.steps, Step{Op: &stream.Materialize{Schema: data}})
	p.schema = data
}

// materializeSides prepares both inputs of a two-input operator (joins,
// set operations, IN and scalar subqueries) in streaming mode: weir runs
// them over the final rows of bounded inputs, so updating inputs are
// materialized first; the output then counts as updating.
func materializeSides(p, q *pipeline) {
	p.materialize()
	q.materialize()
	p.changes = p.changes || q.changes
}

// addGroupAgg appends the aggregation op after the calc that computed its
// input: in batch mode op itself; in streaming mode a stream.GroupAgg
// emitting the changelog of op's groups. distinct names SELECT DISTINCT.
func (p *pipeline) addGroupAgg(cat *catalog, op *aggregate.Op, at sql.Pos, job *Job) error {
	if !cat.streaming {
		p.steps = append(p.steps, Step{Op: op})
		p.schema = op.Schema
		return nil
	}
	if hasCollect(op) {
		// Python aggregate and table aggregate functions take keyed stages
		// in streaming mode (udaf_streaming.go, udtaf_streaming.go).
		return errAt(at, "internal error: collected arguments of a Python aggregate in streaming mode outside a keyed stage")
	}
	g := &stream.GroupAgg{Keys: op.Keys, Aggs: op.Aggs, Schema: op.Schema, Retracting: p.hasRowKind(), Name: "GroupAggregate"}
	// Flink's planner folds a global aggregation over VALUES that filter
	// out every row into its one result row; over other sources an empty
	// input gives no row.
	g.EmitEmpty = len(op.Keys) == 0 && job.Source.Table == nil
	if err := g.Check(); err != nil {
		return errAt(at, "%v", err)
	}
	p.steps = append(p.steps, Step{Op: g})
	p.schema = stream.WithRowKind(op.Schema)
	p.changes = true
	return nil
}

// addDistinct appends the grouping of SELECT DISTINCT over the pipeline's
// (data) columns.
func (p *pipeline) addDistinct(cat *catalog, at sql.Pos, job *Job) error {
	data := p.dataSchema()
	op := &aggregate.Op{Schema: append(types.Schema(nil), data...)}
	for i := range data {
		op.Keys = append(op.Keys, i)
	}
	return p.addGroupAgg(cat, op, at, job)
}

// checkModeInput checks, before a query is planned further, that the mode
// can run it over its source: batch mode only bounded input for operators
// that hold rows back, and no source that never ends; streaming mode no
// ORDER BY without LIMIT (Flink sorts a stream only on a time attribute),
// and sorts and limits only over bounded input.
func checkModeInput(cat *catalog, q *sql.Select, job *Job, p *pipeline) error {
	t := job.Source.Table
	if !cat.streaming {
		if (isAggregateQuery(q) || q.OrderBy != nil || q.Limit >= 0 || q.Offset > 0) && !bounded(t) {
			// These operators run in batch: a LIMIT would end its output
			// but not the source.
			return errAt(q.At, "this query aggregates, sorts or limits the rows of %s, which never ends; weir runs GROUP BY, aggregates, ORDER BY and LIMIT on bounded input only, as Flink's batch mode does (datagen with 'number-of-rows', filesystem, VALUES); SET 'execution.runtime-mode' = 'streaming' to aggregate it as a stream", t.Name)
		}
		return nil
	}
	if over := findOver(q); over != nil && (isAggregateQuery(q) || p.hasRowKind() || !bounded(t)) {
		return errAt(over.At, "OVER windows in streaming mode need an insert-only, bounded input in weir (Flink orders them by a time attribute, which weir lacks); run the query in batch mode (SET 'execution.runtime-mode' = 'batch')")
	}
	if q.OrderBy != nil && q.Limit < 0 {
		return errAt(q.At, "Sort on a non-time-attribute field is not supported in streaming mode (as in Flink): add a LIMIT (Top-N), or run the query in batch mode (SET 'execution.runtime-mode' = 'batch')")
	}
	if (q.OrderBy != nil || q.Limit >= 0 || q.Offset > 0) && !bounded(t) {
		return errAt(q.At, "this query sorts or limits the rows of %s, which never ends; weir's streaming mode runs ORDER BY ... LIMIT and LIMIT on bounded input only (datagen with 'number-of-rows', filesystem, VALUES)", t.Name)
	}
	return nil
}

// CheckMode fails when the job cannot run in its mode: in batch mode, a
// source that never ends (checked when the job starts, so that such a job
// can still be planned and explained).
func (j *Job) CheckMode() error {
	if j.Streaming {
		return nil
	}
	t := endlessSource(j)
	if t != nil && t.Connector() == "kafka" {
		return fmt.Errorf("table %s is an unbounded Kafka source (no 'scan.bounded.mode'), and this job runs in batch mode (execution.runtime-mode, default 'batch'), which reads bounded input only: SET 'execution.runtime-mode' = 'streaming' to run it until cancelled, or give %s 'scan.bounded.mode' = 'latest-offset' (or 'timestamp', 'specific-offsets', 'group-offsets')", t.Name, t.Name)
	} else if t != nil {
		return fmt.Errorf("table %s never ends (datagen without 'number-of-rows' or a sequence field), and this job runs in batch mode (execution.runtime-mode, default 'batch'), which reads bounded input only: SET 'execution.runtime-mode' = 'streaming' to run it until cancelled, or give %s 'number-of-rows'", t.Name, t.Name)
	}
	return nil
}

// endlessSource returns a source table of j (or of its second inputs) that
// never ends, or nil.
func endlessSource(j *Job) *Table {
	var find func(src Source, steps []Step) *Table
	find = func(src Source, steps []Step) *Table {
		if endless(src.Table) {
			return src.Table
		}
		for _, st := range steps {
			if two, ok := st.Op.(TwoInput); ok {
				if t := find(two.Second().Source, two.Second().Steps); t != nil {
					return t
				}
			}
		}
		return nil
	}
	return find(j.Source, j.Steps)
}

// endless reports whether t is a datagen table whose rows never end: no
// 'number-of-rows' and no sequence field (a sequence ends the data, though
// Flink still calls such a source unbounded); or a kafka table without a
// 'scan.bounded.mode'.
func endless(t *Table) bool {
	if t != nil && t.Connector() == "kafka" {
		mode, ok := t.Options["scan.bounded.mode"]
		return !ok || mode == "unbounded"
	}
	if t == nil || t.Connector() != "datagen" {
		return false
	}
	if _, ok := t.Options["number-of-rows"]; ok {
		return false
	}
	for k, v := range t.Options {
		if strings.HasPrefix(k, "fields.") && strings.HasSuffix(k, ".kind") && strings.EqualFold(strings.TrimSpace(v), "sequence") {
			return false
		}
	}
	return true
}

// checkSink refuses an updating result for a sink that takes only inserts,
// as Flink does, naming the operator that produces the updates.
func checkSink(st *sql.Insert, sink *Table, job *Job) error {
	if !job.Updating || sink == nil || changelogSinks[sink.Connector()] {
		return nil
	}
	node := "an updating operator"
	for _, s := range job.Steps {
		if g, ok := s.Op.(*stream.GroupAgg); ok {
			node = g.String()
		}
	}
	return errAt(st.At, "Table sink '%s' doesn't support consuming update changes which is produced by node %s (the '%s' connector writes insertions only; print and blackhole take updates, or run the query in batch mode: SET 'execution.runtime-mode' = 'batch')", sink.Name, node, sink.Connector())
}

// streamingJoin decides how a join runs in streaming mode: over bounded
// inputs as in batch (updating inputs materialized first); over unbounded
// input as a stream.Join, which keeps both sides as state and emits joined
// rows as they arrive. weir's streaming join is an inner join of
// insert-only inputs: the rest is refused.
func streamingJoin(cat *catalog, f *sql.Join, job, build *Job, p, q *pipeline) (bool, error) {
	if !cat.streaming {
		return false, nil
	}
	if bounded(job.Source.Table) && joinBounded(p.steps) && bounded(build.Source.Table) && joinBounded(q.steps) {
		return false, nil
	}
	if f.Type != sql.JoinInner && f.Type != sql.JoinCross {
		return false, errAt(f.At, "this %s reads a table that never ends; weir's streaming mode joins unbounded input with inner joins only (an outer join needs bounded input: datagen with 'number-of-rows', filesystem, VALUES)", f.Type)
	}
	if p.hasRowKind() || q.hasRowKind() {
		return false, errAt(f.At, "this join reads a table that never ends and a side whose rows are updated as they arrive (an aggregate); weir's streaming join takes insert-only inputs")
	}
	return true, nil
}

// StreamJoinOp is a regular streaming join step: its second input (the
// right side) runs alongside the first, both unbounded.
type StreamJoinOp struct {
	Join  *stream.Join
	Right *Job
}

// joinStep is the step of a planned join: a batch hash join, or a
// streaming join.
func joinStep(op *join.Op, build *Job, streaming bool) Operator {
	if !streaming {
		return &JoinOp{Op: op, Build: build}
	}
	return &StreamJoinOp{Right: build, Join: &stream.Join{LeftKeys: op.LeftKeys, RightKeys: op.RightKeys,
		LeftWidth: op.LeftWidth, Schema: op.Schema, Text: op.Text}}
}

// Second is the right side.
func (s *StreamJoinOp) Second() *Job { return s.Right }

// RunTwo joins the two inputs as they arrive.
func (s *StreamJoinOp) RunTwo(ctx context.Context, mem memory.Allocator, in, second <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	return s.Join.Run(ctx, mem, in, second, out)
}

// Run is not how a join runs: it needs its second input.
func (s *StreamJoinOp) Run(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	return fmt.Errorf("plan: a streaming join needs its second input")
}

func (s *StreamJoinOp) String() string {
	src := "VALUES"
	if t := s.Right.Source.Table; t != nil {
		src = t.Name
	}
	return fmt.Sprintf("%s right=[%s, %d step(s)]", s.Join, src, len(s.Right.Steps))
}

// findOver returns the first OVER window call of q's select list, or nil.
func findOver(q *sql.Select) *sql.Over {
	var found *sql.Over
	for _, it := range q.Items {
		walkAST(it.Expr, func(e sql.Expr) {
			if o, ok := e.(*sql.Over); ok && found == nil {
				found = o
			}
		})
	}
	return found
}

// lateralInput refuses a LATERAL TABLE join over rows that are updated as
// they arrive: the table function's stage does not carry row kinds.
func lateralInput(p *pipeline, l *sql.Lateral) error {
	if p.hasRowKind() {
		return errAt(l.At, "LATERAL TABLE over rows that are updated as they arrive (an aggregate in streaming mode) is not supported by weir yet; run the query in batch mode (SET 'execution.runtime-mode' = 'batch')")
	}
	return nil
}
