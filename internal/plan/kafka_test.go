package plan

import (
	"strings"
	"testing"
)

// TestKafkaExactlyOnceUnbounded: an exactly-once Kafka sink after a source
// that never ends is refused in streaming mode without checkpoints (its one
// transaction would never commit) and planned with them.
func TestKafkaExactlyOnceUnbounded(t *testing.T) {
	const tables = `CREATE TABLE src (id BIGINT) WITH ('connector' = 'kafka', 'topic' = 'in', 'properties.bootstrap.servers' = 'localhost:9092', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset');
CREATE TABLE snk (id BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out', 'properties.bootstrap.servers' = 'localhost:9092', 'format' = 'json', 'sink.delivery-guarantee' = '%s', 'sink.transactional-id-prefix' = 'p');
INSERT INTO snk SELECT id FROM src;`
	streaming := "SET 'execution.runtime-mode' = 'streaming';\n"
	eo := strings.Replace(tables, "%s", "exactly-once", 1)
	_, err := planScript(t, streaming+eo)
	want := "table snk is written with 'sink.delivery-guarantee' = 'exactly-once', which commits its Kafka transaction when the job ends, but src never ends: set 'execution.checkpointing.interval'"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("without checkpoints: %v; want %q", err, want)
	}
	ckpt := streaming + "SET 'execution.checkpointing.interval' = '1 s';\nSET 'execution.checkpointing.dir' = '/tmp/x';\n"
	if _, err := planScript(t, ckpt+eo); err != nil {
		t.Fatalf("with checkpoints: %v", err)
	}
	// A bounded source commits at the job's end: planned without checkpoints.
	bounded := strings.Replace(eo, "'earliest-offset'", "'earliest-offset', 'scan.bounded.mode' = 'latest-offset'", 1)
	if _, err := planScript(t, streaming+bounded); err != nil {
		t.Fatalf("bounded source: %v", err)
	}
}
