// Package changelog is weir's model of Flink's changelog: each row of a
// batch is an insertion (+I), the old value of an update (-U), the new value
// of an update (+U) or a deletion (-D), Flink's RowKind.
//
// The kinds travel as one extra column, named RowKindColumn, of type TINYINT
// NOT NULL (Flink's RowKind byte values), placed last in the batch. A
// pipeline that only inserts rows (every batch-mode job, and streaming jobs
// without updating operators) has no such column: the model costs nothing
// there. Operators that produce updates (a streaming GROUP BY) append it;
// operators in between carry it along like any column; a sink that accepts
// changes (print, blackhole) reads it; the planner refuses to write updates
// into a sink that takes only inserts.
//
// changelog imports arrow-go only.
package changelog

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Kind is the change a row stands for; the values are Flink's RowKind bytes.
type Kind int8

// The row kinds.
const (
	Insert       Kind = 0 // +I
	UpdateBefore Kind = 1 // -U: the value an update replaces
	UpdateAfter  Kind = 2 // +U: the value after an update
	Delete       Kind = 3 // -D
)

// RowKindColumn names the row-kind column of a batch that carries one.
const RowKindColumn = "$row_kind"

var shortNames = [...]string{"+I", "-U", "+U", "-D"}

// String returns Flink's short string of the kind: +I, -U, +U or -D.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(shortNames) {
		return fmt.Sprintf("?%d", int8(k))
	}
	return shortNames[k]
}

// Accumulates reports whether a row of this kind adds its value to an
// aggregate (+I, +U) rather than taking it back (-U, -D).
func (k Kind) Accumulates() bool { return k == Insert || k == UpdateAfter }

// Parse returns the kind of Flink's short string s (+I, -U, +U, -D).
func Parse(s string) (Kind, error) {
	for i, n := range shortNames {
		if n == s {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("changelog: %q is not a row kind (+I, -U, +U or -D)", s)
}

// Has reports whether schema ends with the row-kind column.
func Has(schema *arrow.Schema) bool {
	n := schema.NumFields()
	return n > 0 && schema.Field(n-1).Name == RowKindColumn
}

// Kinds returns the row kinds of b, or nil when b carries no row-kind column
// (every row is an insertion).
func Kinds(b arrow.RecordBatch) *array.Int8 {
	if !Has(b.Schema()) {
		return nil
	}
	k, _ := b.Column(int(b.NumCols()) - 1).(*array.Int8)
	return k
}

// At returns the kind of row i given the kinds column of its batch (nil:
// insert-only).
func At(kinds *array.Int8, i int) Kind {
	if kinds == nil {
		return Insert
	}
	return Kind(kinds.Value(i))
}

// Data returns the number of data columns of b: all of them but the
// row-kind column.
func Data(b arrow.RecordBatch) int {
	n := int(b.NumCols())
	if Has(b.Schema()) {
		n--
	}
	return n
}

// Materializer applies a changelog to a multiset of rows: +I and +U add a
// row, -U and -D take one back. It keys rows by an encoding the caller
// chooses (equal rows, equal keys) and keeps their insertion order, so that
// the rows left at the end come out in the order they were first added.
type Materializer[R any] struct {
	index map[string]int // key -> position in rows
	rows  []entry[R]
	live  int
}

type entry[R any] struct {
	key   string
	row   R
	count int
}

// Apply applies one change of row r (encoded as key). It fails when a row is
// taken back that is not there, which a correct changelog never does.
func (m *Materializer[R]) Apply(k Kind, key string, r R) error {
	if m.index == nil {
		m.index = map[string]int{}
	}
	i, ok := m.index[key]
	if k.Accumulates() {
		if !ok {
			i = len(m.rows)
			m.index[key] = i
			m.rows = append(m.rows, entry[R]{key: key, row: r})
		}
		if m.rows[i].count == 0 {
			m.live++
		}
		m.rows[i].count++
		return nil
	}
	if !ok || m.rows[i].count == 0 {
		return fmt.Errorf("changelog: %s of a row that is not there", k)
	}
	m.rows[i].count--
	if m.rows[i].count == 0 {
		m.live--
	}
	return nil
}

// Rows returns the rows present, each as many times as it is present, in the
// order they were first added.
func (m *Materializer[R]) Rows() []R {
	var out []R
	for _, e := range m.rows {
		for j := 0; j < e.count; j++ {
			out = append(out, e.row)
		}
	}
	return out
}

// Len is the number of distinct rows present.
func (m *Materializer[R]) Len() int { return m.live }

// Consumer is implemented by sinks given to a job by its caller that accept
// batches carrying the row-kind column; the job runner refuses an updating
// job for any other such sink.
type Consumer interface {
	ConsumesChanges()
}
