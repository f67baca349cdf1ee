package connector

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// valuesBatch is the number of rows per batch of a ValuesSource.
const valuesBatch = 4096

// ValuesSource serves literal rows, as in FROM (VALUES (1, 'a'), (2, NULL))
// AS t(a, b). Each value is an expr.Literal-style Go value already converted
// to the column type, or nil. A row of the wrong width or a value of the
// wrong Go type is reported by Next.
func ValuesSource(schema types.Schema, rows [][]any, mem memory.Allocator) exec.Source {
	return &valuesSource{schema: schema, arrow: schema.Arrow(), rows: rows, mem: mem}
}

type valuesSource struct {
	schema types.Schema
	arrow  *arrow.Schema
	rows   [][]any
	mem    memory.Allocator
	pos    int
}

func (s *valuesSource) Schema() types.Schema { return s.schema }
func (s *valuesSource) Close() error         { return nil }
func (s *valuesSource) Rows() int64          { return int64(s.pos) }

func (s *valuesSource) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.pos >= len(s.rows) {
		return nil, io.EOF
	}
	rows := s.rows[s.pos:min(len(s.rows), s.pos+valuesBatch)]
	for k, r := range rows {
		if len(r) != len(s.schema) {
			return nil, fmt.Errorf("connector: VALUES row %d has %d values, the table has %d columns", s.pos+k+1, len(r), len(s.schema))
		}
	}
	cols := make([]arrow.Array, len(s.schema))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	vals := make([]any, len(rows))
	for j, f := range s.schema {
		for k, r := range rows {
			vals[k] = r[j]
		}
		a, err := exec.BuildArray(s.mem, f.Type, vals)
		if err != nil {
			return nil, fmt.Errorf("connector: VALUES column '%s': %w", f.Name, err)
		}
		cols[j] = a
	}
	s.pos += len(rows)
	return array.NewRecordBatch(s.arrow, cols, int64(len(rows))), nil
}
