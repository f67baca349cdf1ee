package stream

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/changelog"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// Materialize applies the changelog of its bounded input and, when the
// input ends, sends the rows left (in the order they were first added) as
// insertions, without the row-kind column. Schema is the data columns.
type Materialize struct {
	Schema types.Schema
	// BatchRows bounds the rows of each output batch (default 65536).
	BatchRows int
}

// String describes the operator for EXPLAIN.
func (o *Materialize) String() string {
	names := make([]string, len(o.Schema))
	for i, f := range o.Schema {
		names[i] = f.Name
	}
	return fmt.Sprintf("Materialize: [%s]", strings.Join(names, ", "))
}

// Run consumes in and sends the materialized rows when it is closed.
func (o *Materialize) Run(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	var m changelog.Materializer[[]any]
	var key strings.Builder
	for b := range in {
		if ctx.Err() != nil {
			b.Release()
			continue
		}
		kinds := changelog.Kinds(b)
		nd := changelog.Data(b)
		for r := 0; r < int(b.NumRows()); r++ {
			row := make([]any, nd)
			key.Reset()
			for c := 0; c < nd; c++ {
				row[c] = keep(exec.ValueAt(b.Column(c), r))
				key.WriteString(valueKey(row[c]))
				key.WriteByte(0)
			}
			if err := m.Apply(changelog.At(kinds, r), key.String(), row); err != nil {
				b.Release()
				drain(in)
				return err
			}
		}
		b.Release()
	}
	if ctx.Err() != nil {
		return nil
	}
	rows := m.Rows()
	size := o.BatchRows
	if size <= 0 {
		size = 65536
	}
	for lo := 0; lo < len(rows); lo += size {
		part := rows[lo:min(len(rows), lo+size)]
		arrs := make([]arrow.Array, 0, len(o.Schema))
		for c, f := range o.Schema {
			vals := make([]any, len(part))
			for i, r := range part {
				vals[i] = r[c]
			}
			a, err := exec.BuildArray(mem, f.Type, vals)
			if err != nil {
				for _, x := range arrs {
					x.Release()
				}
				return fmt.Errorf("materialize: %w", err)
			}
			arrs = append(arrs, a)
		}
		rec := array.NewRecordBatch(o.Schema.Arrow(), arrs, int64(len(part)))
		for _, x := range arrs {
			x.Release()
		}
		select {
		case out <- rec:
		case <-ctx.Done():
			rec.Release()
			return nil
		}
	}
	return nil
}
