// Package exec evaluates weir's expressions and runs its Go operators over
// Arrow record batches.
//
// exec imports types, expr and arrow-go.
package exec

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/types"
)

// Source produces batches; Next returns io.EOF after the last one. The caller
// releases each batch.
type Source interface {
	Schema() types.Schema
	Next(ctx context.Context) (arrow.RecordBatch, error)
	Close() error
}

// Sink consumes batches. Commit is called once after the last batch of a
// successful job and makes the output visible as complete; Abort(cause) is
// called instead when the job fails or is cancelled and must not present
// partial output as complete.
type Sink interface {
	Write(ctx context.Context, b arrow.RecordBatch) error
	Commit() error
	Abort(cause error)
}

// Counter is implemented by sources and sinks that count the rows they have
// produced or consumed.
type Counter interface {
	// Rows is the number of rows produced or consumed so far.
	Rows() int64
}
