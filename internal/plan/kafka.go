package plan

import (
	"strings"

	"github.com/weir-dev/weir/internal/config"
	"github.com/weir-dev/weir/internal/sql"
)

// checkKafkaSink refuses an exactly-once Kafka sink fed by a source that
// never ends in a job without checkpoints: its one transaction commits when
// the job ends, so nothing would ever be visible to read_committed readers,
// who would wait behind the open transaction. With checkpoints
// (execution.checkpointing.interval) the sink commits a transaction per
// checkpoint, as Flink's does. It needs the job's settings.
func checkKafkaSink(st *sql.Insert, job *Job) error {
	sink := job.Sink
	if sink == nil || sink.Connector() != "kafka" || !job.Streaming ||
		!strings.EqualFold(strings.TrimSpace(sink.Options["sink.delivery-guarantee"]), "exactly-once") {
		return nil
	}
	if c, _, err := config.Resolve(job.Settings); err == nil && c.Duration(config.CheckpointInterval) > 0 {
		return nil
	}
	if t := endlessSource(job); t != nil {
		return errAt(st.At, "table %s is written with 'sink.delivery-guarantee' = 'exactly-once', which commits its Kafka transaction when the job ends, but %s never ends: set 'execution.checkpointing.interval' (and 'execution.checkpointing.dir') to commit a transaction at each checkpoint, use 'at-least-once', or bound %s", sink.Name, t.Name, t.Name)
	}
	return nil
}
