package gateway

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/weir-dev/weir/internal/changelog"
	"github.com/weir-dev/weir/internal/plan"
	"github.com/weir-dev/weir/internal/types"
)

// resultSchema is the schema of a query's result as the client receives it:
// the sink's columns, after the row-kind column first when the job emits a
// changelog (streaming mode; the engine's batches carry it last).
func resultSchema(j *plan.Job) types.Schema {
	if !j.RowKinds {
		return j.Sink.Schema
	}
	s := types.Schema{{Name: RowKindColumn, Type: types.TINYINT.NotNull()}}
	return append(s, j.Sink.Schema...)
}

// kindFirst returns b with its row-kind column (last, when it has one) moved
// first, as the client reads it; b itself when it has none. The result is
// a new reference the caller releases.
func kindFirst(b arrow.RecordBatch) arrow.RecordBatch {
	if !changelog.Has(b.Schema()) {
		b.Retain()
		return b
	}
	n := int(b.NumCols())
	cols := append([]arrow.Array{b.Column(n - 1)}, b.Columns()[:n-1]...)
	fields := append([]arrow.Field{b.Schema().Field(n - 1)}, b.Schema().Fields()[:n-1]...)
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, b.NumRows())
}

// ConsumesChanges marks the result sinks as taking changelogs.
func (s *collectSink) ConsumesChanges() {}

// ConsumesChanges marks the result sinks as taking changelogs.
func (s *streamSink) ConsumesChanges() {}
