package connector

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/weir-dev/weir/internal/changelog"
	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/types"
)

// The print connector writes one line per row, as Flink's print connector
// does: the row kind and the values in brackets, +I[1, abc], prefixed with
// "<print-identifier>> " when that option is set. Values are shown as Flink
// shows them, with Java's toString of their external classes:
//
//   - integers plainly; FLOAT and DOUBLE like Float/Double.toString (1.0,
//     1.5E10, NaN, Infinity); DECIMAL like BigDecimal.toString, with its
//     scale (1.50, or 1E-8 when very small); BOOLEAN true and false;
//   - strings as they are; BINARY and BYTES like Arrays.toString(byte[]),
//     signed: [1, 2, -1];
//   - DATE like LocalDate (2020-01-01), TIME like LocalTime (12:00,
//     12:00:01, 12:00:01.500), TIMESTAMP like LocalDateTime
//     (2020-01-01T12:00), TIMESTAMP_LTZ like Instant, in UTC
//     (2020-01-01T12:00:00Z);
//   - ARRAY as [1, 2], MAP as {k=v, k2=v2}, a nested ROW as +I[1, a];
//   - NULL as null.
//
// The row kind is the batch's (internal/changelog): +I for a batch without
// the row-kind column, else the column's -U, +U or -D.
//
// Options: 'print-identifier'; 'standard-error' = 'true' to write to the
// process's standard error instead of the job's output; 'sink.parallelism'
// is accepted and ignored (weir prints from one task).
//
// Output is buffered within a batch and flushed at the end of every Write,
// so a row is printed as soon as its batch reaches the sink (one write
// system call per batch, not per row). After Abort nothing more is printed,
// and what was printed stays. With checkpoints print is at-least-once.
type printSink struct {
	schema types.Schema
	w      *bufio.Writer
	prefix string
	line   []byte
	rows   int64
	closed bool
}

func openPrint(o *options, schema types.Schema, out io.Writer) (exec.Sink, error) {
	s := &printSink{schema: schema}
	if v, ok := o.get("print-identifier"); ok {
		s.prefix = v + "> "
	}
	if v, ok := o.get("standard-error"); ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			out = os.Stderr
		case "false":
		default:
			return nil, o.bad("standard-error", "must be 'true' or 'false'")
		}
	}
	if v, ok := o.get("sink.parallelism"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || n <= 0 {
			return nil, o.bad("sink.parallelism", "must be a whole number > 0")
		}
	}
	if err := o.finish([]string{"print-identifier", "standard-error", "sink.parallelism"}); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, fmt.Errorf("table '%s': print has no output", o.table)
	}
	s.w = bufio.NewWriterSize(out, 64<<10)
	return s, nil
}

var errClosed = errors.New("connector: the sink was already committed or aborted")

func (s *printSink) Write(ctx context.Context, b arrow.RecordBatch) error {
	if s.closed {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	kinds := changelog.Kinds(b)
	if changelog.Data(b) != len(s.schema) {
		return fmt.Errorf("connector: print: batch has %d columns, the table has %d", changelog.Data(b), len(s.schema))
	}
	cols := b.Columns()[:len(s.schema)]
	n := int(b.NumRows())
	for i := 0; i < n; i++ {
		line := append(s.line[:0], s.prefix...)
		line = append(line, changelog.At(kinds, i).String()...)
		line = append(line, '[')
		for j, c := range cols {
			if j > 0 {
				line = append(line, ", "...)
			}
			line = appendJava(line, c, i, s.schema[j].Type)
		}
		line = append(line, "]\n"...)
		s.line = line
		if _, err := s.w.Write(line); err != nil {
			return err
		}
	}
	s.rows += int64(n)
	return s.w.Flush()
}

func (s *printSink) Commit() error {
	if s.closed {
		return errClosed
	}
	s.closed = true
	return s.w.Flush()
}

func (s *printSink) Abort(error) {
	if s.closed {
		return
	}
	s.closed = true
	s.w.Flush()
}

func (s *printSink) Rows() int64 { return s.rows }

// Print is at-least-once with checkpoints: what was printed stays, so rows
// after a job's last checkpoint are printed again when it resumes.
var _ checkpoint.Sink = (*printSink)(nil)

// PreCommit flushes what is printed (Write already has).
func (s *printSink) PreCommit(context.Context, int64) ([]byte, error) {
	if s.closed {
		return nil, errClosed
	}
	return nil, s.w.Flush()
}

// CommitCheckpoint has nothing to do: printed rows are out.
func (s *printSink) CommitCheckpoint(context.Context, int64) error { return nil }

// Recover reports every checkpoint committed: its rows were printed.
func (s *printSink) Recover(context.Context, int64, []byte) (bool, error) { return true, nil }

// appendJava appends row i of a, of SQL type t, as Java's toString of Flink's
// external representation shows it (see printSink).
func appendJava(b []byte, a arrow.Array, i int, t types.T) []byte {
	if a.DataType().ID() == arrow.NULL || a.IsNull(i) {
		return append(b, "null"...)
	}
	if t.Kind == types.IntervalDayTime || t.Kind == types.IntervalYearMonth {
		return exec.AppendInterval(b, intervalValue(a, i), t)
	}
	switch a := a.(type) {
	case *array.Int8:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Int16:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Int32:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.AppendInt(b, a.Value(i), 10)
	case *array.Float32:
		return append(b, exec.FormatDouble(float64(a.Value(i)), 32)...)
	case *array.Float64:
		return append(b, exec.FormatDouble(a.Value(i), 64)...)
	case *array.Decimal128:
		return appendBigDecimal(b, a.Value(i), t.Scale)
	case *array.Boolean:
		return strconv.AppendBool(b, a.Value(i))
	case *array.String:
		return append(b, a.Value(i)...)
	case *array.Binary:
		b = append(b, '[')
		for k, x := range a.Value(i) {
			if k > 0 {
				b = append(b, ", "...)
			}
			b = strconv.AppendInt(b, int64(int8(x)), 10)
		}
		return append(b, ']')
	case *array.Date32:
		return append(b, exec.FormatDate(a.Value(i))...)
	case *array.Time32:
		return appendLocalTime(b, int64(a.Value(i))*1e6, false)
	case *array.Timestamp:
		days, nanos := splitTimestamp(int64(a.Value(i)), t.Precision)
		b = append(b, exec.FormatDate(arrow.Date32(days))...)
		b = append(b, 'T')
		if t.Kind == types.TimestampLTZ {
			return append(appendLocalTime(b, nanos, true), 'Z')
		}
		return appendLocalTime(b, nanos, false)
	case *array.Map:
		start, end := a.ValueOffsets(i)
		keys, items := a.Keys(), a.Items()
		b = append(b, '{')
		for k := start; k < end; k++ {
			if k > start {
				b = append(b, ", "...)
			}
			b = appendJava(b, keys, int(k), *t.Key)
			b = append(b, '=')
			b = appendJava(b, items, int(k), *t.Value)
		}
		return append(b, '}')
	case *array.List:
		start, end := a.ValueOffsets(i)
		vals := a.ListValues()
		b = append(b, '[')
		for k := start; k < end; k++ {
			if k > start {
				b = append(b, ", "...)
			}
			b = appendJava(b, vals, int(k), *t.Elem)
		}
		return append(b, ']')
	case *array.Struct:
		b = append(b, "+I["...)
		for k := 0; k < a.NumField(); k++ {
			if k > 0 {
				b = append(b, ", "...)
			}
			b = appendJava(b, a.Field(k), i, t.Fields[k].Type)
		}
		return append(b, ']')
	}
	return fmt.Appendf(b, "%v", a.GetOneForMarshal(i))
}

// splitTimestamp splits a timestamp of precision p into days since the epoch
// and nanoseconds of the day.
func splitTimestamp(v int64, p int) (days, nanos int64) {
	perDay, mul := int64(86400_000), int64(1_000_000)
	switch types.TimestampUnit(p) {
	case arrow.Microsecond:
		perDay, mul = 86400_000_000, 1000
	case arrow.Nanosecond:
		perDay, mul = 86400_000_000_000, 1
	}
	days, rem := v/perDay, v%perDay
	if rem < 0 {
		rem += perDay
		days--
	}
	return days, rem * mul
}

// appendLocalTime appends a time of day like Java's LocalTime.toString
// (seconds shown when not zero, or always for an Instant), with a fraction
// of 3, 6 or 9 digits when not zero.
func appendLocalTime(b []byte, nanos int64, seconds bool) []byte {
	secs, frac := nanos/1e9, nanos%1e9
	b = exec.AppendPadded(b, secs/3600, 2)
	b = append(b, ':')
	b = exec.AppendPadded(b, secs/60%60, 2)
	if !seconds && secs%60 == 0 && frac == 0 {
		return b
	}
	b = append(b, ':')
	b = exec.AppendPadded(b, secs%60, 2)
	switch {
	case frac == 0:
	case frac%1e6 == 0:
		b = append(b, '.')
		b = exec.AppendPadded(b, frac/1e6, 3)
	case frac%1e3 == 0:
		b = append(b, '.')
		b = exec.AppendPadded(b, frac/1e3, 6)
	default:
		b = append(b, '.')
		b = exec.AppendPadded(b, frac, 9)
	}
	return b
}

// appendBigDecimal appends a decimal like Java's BigDecimal.toString: plain
// with its scale, or in scientific notation when the adjusted exponent is
// below -6 (1E-8, 1.5E-7, 0E-8).
func appendBigDecimal(b []byte, n decimal128.Num, scale int) []byte {
	digits := n.BigInt().String()
	neg := digits[0] == '-'
	if neg {
		digits = digits[1:]
	}
	adjusted := len(digits) - 1 - scale
	if scale == 0 || adjusted >= -6 {
		return append(b, n.ToString(int32(scale))...)
	}
	if neg {
		b = append(b, '-')
	}
	b = append(b, digits[0])
	if len(digits) > 1 {
		b = append(b, '.')
		b = append(b, digits[1:]...)
	}
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(adjusted), 10)
}

// blackhole discards rows and counts them.
type blackhole struct{ rows int64 }

func (s *blackhole) Write(ctx context.Context, b arrow.RecordBatch) error {
	s.rows += b.NumRows()
	return nil
}
func (s *blackhole) Commit() error { return nil }
func (s *blackhole) Abort(error)   {}
func (s *blackhole) Rows() int64   { return s.rows }

// intervalValue is an interval's months (int32) or milliseconds (int64).
func intervalValue(a arrow.Array, i int) int64 {
	if m, ok := a.(*array.Int32); ok {
		return int64(m.Value(i))
	}
	return a.(*array.Int64).Value(i)
}
