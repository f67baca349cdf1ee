package plan

import (
	"strings"

	"github.com/weir-dev/weir/internal/sql"
)

// checkKafkaSink refuses an exactly-once Kafka sink fed by a source that
// never ends: its one transaction commits when the job ends, and without
// checkpoints (which would commit it along the way, as Flink does) nothing
// would ever be visible to read_committed readers, who would wait behind the
// open transaction.
func checkKafkaSink(st *sql.Insert, sink *Table, job *Job) error {
	if sink == nil || sink.Connector() != "kafka" || !job.Streaming ||
		!strings.EqualFold(strings.TrimSpace(sink.Options["sink.delivery-guarantee"]), "exactly-once") {
		return nil
	}
	if t := endlessSource(job); t != nil {
		return errAt(st.At, "table %s is written with 'sink.delivery-guarantee' = 'exactly-once', which commits its Kafka transaction when the job ends, but %s never ends and weir has no checkpoints yet to commit along the way: use 'at-least-once' for an unbounded job, or bound %s", sink.Name, t.Name, t.Name)
	}
	return nil
}
