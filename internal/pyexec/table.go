package pyexec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/coder"
)

// joinTable builds the output of a table stage for one input batch: for each
// result row, the forwarded columns of its input row and the result; with
// LeftJoin, input rows without results once, with NULL results.
func (p *Pool) joinTable(s *Stage, mem memory.Allocator, dec *coder.Decoder, rec arrow.RecordBatch, value []byte) (arrow.RecordBatch, error) {
	n, err := dec.DecodeTable(value, 0)
	if err != nil {
		return nil, err
	}
	if n != int(rec.NumRows()) {
		return nil, fmt.Errorf("got answers for %d input rows, sent %d", n, rec.NumRows())
	}
	return nil, fmt.Errorf("table functions are not supported yet")
}
