package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/job"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
)

// RowKindColumn is the column a changelog result carries first: Flink's
// RowKind byte of each row (0 +I, 1 -U, 2 +U, 3 -D) as a TINYINT NOT NULL.
// The client turns it into Row.get_row_kind(); Columns in a response omit
// it and say it is there with RowKind.
const RowKindColumn = "$row_kind"

// hasRowKind reports whether a result's schema starts with the row kind.
func hasRowKind(s types.Schema) bool {
	return len(s) > 0 && s[0].Name == RowKindColumn
}

// resultColumns are a result's columns as the client shows them: without
// the row kind.
func resultColumns(s types.Schema) []Column {
	if hasRowKind(s) {
		s = s[1:]
	}
	return columnsOf(s)
}

// maxPrinted bounds what print sinks may print into one response.
const maxPrinted = 64 << 20

// printed collects the output of a job's print sinks for the response;
// beyond maxPrinted it keeps a note that output was dropped.
type printed struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	dropped bool
}

func (p *printed) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buf.Len()+len(b) > maxPrinted {
		p.dropped = true
		return len(b), nil
	}
	return p.buf.Write(b)
}

func (p *printed) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dropped {
		return p.buf.String() + fmt.Sprintf("(weir: the print sink's output beyond %d MiB was dropped)\n", maxPrinted>>20)
	}
	return p.buf.String()
}

// emitFunc sends one message of a streamed result to the client.
type emitFunc func(resp *Response, body []byte) error

// Stream runs one statement as Execute does, but sends a query's rows as
// they come: a first response with the columns and More set, then one
// message per group of batches (each an Arrow IPC stream), then the last
// response with the row count, or the job's error. The job runs while the
// client reads; a client that reads slowly slows the job down (the socket
// and a small channel are the only buffers). Other statements are answered
// as Execute answers them.
func (s *Session) Stream(ctx context.Context, text string, emit emitFunc) (*Response, []byte, error) {
	st, err := parseOne(text)
	if err != nil {
		return nil, nil, err
	}
	q, ok := st.(*sql.SelectStmt)
	if !ok {
		return s.Execute(ctx, text)
	}
	prog, err := s.plan(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	j := prog.Jobs[len(prog.Jobs)-1]
	schema := resultSchema(j) // changelog.go
	if err := emit(&Response{OK: true, Kind: "select", More: true, Columns: resultColumns(schema), RowKind: hasRowKind(schema)}, nil); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sink := &streamSink{batches: make(chan arrow.RecordBatch, 4)}
	type outcome struct {
		res *job.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := job.Run(ctx, j, prog.Settings, s.jobOptions(sink))
		close(sink.batches)
		done <- outcome{res, err}
	}()
	var sendErr error
	for b := range sink.batches {
		if sendErr != nil {
			b.Release()
			continue
		}
		// Batches that are already waiting go in the same message.
		group := []arrow.RecordBatch{b}
	more:
		for len(group) < 64 {
			select {
			case b, ok := <-sink.batches:
				if !ok {
					break more
				}
				group = append(group, b)
			default:
				break more
			}
		}
		body, err := encodeIPC(schema, group)
		for _, g := range group {
			g.Release()
		}
		if err == nil {
			err = emit(&Response{OK: true, More: true}, body)
		}
		if err != nil {
			sendErr = err
			cancel()
		}
	}
	o := <-done
	if sendErr != nil {
		return nil, nil, sendErr
	}
	if o.err != nil {
		if errors.Is(context.Cause(ctx), errCancelled) {
			return &Response{OK: true, Cancelled: true}, nil, nil
		}
		return nil, nil, fmt.Errorf("job failed: %w", o.err)
	}
	return &Response{OK: true, Rows: o.res.Rows}, nil, nil
}

// streamSink hands a job's batches to Stream.
type streamSink struct {
	batches chan arrow.RecordBatch
}

func (s *streamSink) Write(ctx context.Context, b arrow.RecordBatch) error {
	b = kindFirst(b) // changelog.go
	select {
	case s.batches <- b:
		return nil
	case <-ctx.Done():
		b.Release()
		return context.Cause(ctx)
	}
}

func (s *streamSink) Commit() error { return nil }
func (s *streamSink) Abort(error)   {}

// errCancelled is the cause of a statement the client cancelled.
var errCancelled = errors.New("the client cancelled the statement")
