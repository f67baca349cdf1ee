package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/kafkatest"
)

// BenchmarkKafkaJSONUDF measures a job reading JSON records from Kafka,
// calling a Python function on each row and writing JSON records to Kafka
// exactly-once, on a real broker; in the same run, the same query from a
// CSV file to blackhole, for the cost of Kafka and JSON against the rest.
// It reports rows/s of both and their ratio. Run it with
//
//	go test ./e2e -run '^$' -bench KafkaJSONUDF -benchtime 1x [-kafka-rows N]
func BenchmarkKafkaJSONUDF(b *testing.B) {
	if os.Getenv("WEIR_PYTHON") == "" {
		b.Skip("WEIR_PYTHON is not set: run through make, which installs weir into .venv")
	}
	n := kafkaBenchRows
	broker, err := kafkatest.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer broker.Stop()
	k := &kafkaCluster{addr: broker.Addr}
	recs, _ := inputRecords(n, 3)
	dir := b.TempDir()
	var csv strings.Builder
	for i := range n {
		// The same rows as the JSON records, as CSV.
		var id int
		var name string
		var v int
		fmt.Sscanf(strings.NewReplacer(`{"id":`, "", `,"name":"`, " ", `","v":`, " ", "}", "").Replace(string(recs[i])), "%d %s %d", &id, &name, &v)
		fmt.Fprintf(&csv, "%d,%s,%d\n", id, name, v)
	}
	if err := os.WriteFile(filepath.Join(dir, "in.csv"), []byte(csv.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	k.createTopic(b, "bench-in", 3)
	k.produce(b, "bench-in", recs)
	udfs := map[string]string{"udfs.py": fmt.Sprintf(kafkaUDFs, -1)}
	var kafkaTime, fileTime time.Duration
	for i := range b.N {
		out := fmt.Sprintf("bench-out-%d", i)
		k.createTopic(b, out, 3)
		start := time.Now()
		r := benchJob(b, k.kafkaJob("bench-in", out), udfs)
		kafkaTime += time.Since(start)
		if r.code != 0 {
			b.Fatalf("kafka job failed:\n%s", r.stderr)
		}
		fileSQL := fmt.Sprintf(`CREATE TABLE src (id BIGINT, name STRING, v INT) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
CREATE TABLE snk (id BIGINT, label STRING) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION label AS 'udfs.label' LANGUAGE PYTHON;
INSERT INTO snk SELECT id, label(name, v) FROM src WHERE v IS NOT NULL;
`, filepath.Join(dir, "in.csv"))
		start = time.Now()
		r = benchJob(b, fileSQL, udfs)
		fileTime += time.Since(start)
		if r.code != 0 {
			b.Fatalf("file job failed:\n%s", r.stderr)
		}
	}
	kafkaRate := float64(n*b.N) / kafkaTime.Seconds()
	fileRate := float64(n*b.N) / fileTime.Seconds()
	b.ReportMetric(kafkaRate, "kafka-rows/s")
	b.ReportMetric(fileRate, "csv-blackhole-rows/s")
	b.ReportMetric(kafkaRate/fileRate, "kafka/csv")
	b.ReportMetric(0, "ns/op")
}

// kafkaBenchRows is the benchmark's input size.
var kafkaBenchRows = 200_000

// benchJob runs a job (a benchmark's twin of job).
func benchJob(b *testing.B, sqlText string, pyFiles map[string]string) result {
	dir := b.TempDir()
	for name, src := range pyFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	sqlPath := filepath.Join(dir, "job.sql")
	if err := os.WriteFile(sqlPath, []byte(sqlText), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(weirBin, "sql", "-f", sqlPath, "--pyfiles", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	r := result{stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		b.Fatal(err)
	}
	return r
}
