package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-dev/weir/internal/kafkatest"
)

var (
	kafkaPipeRows    = flag.Int("kafka-pipeline-rows", 200_000, "BenchmarkKafkaPipeline: records of each throughput job")
	kafkaPipeSeconds = flag.Int("kafka-pipeline-seconds", 15, "BenchmarkKafkaPipeline: measured seconds of each latency run (after 5 s of warm-up)")
	kafkaPipeRate    = flag.Int("kafka-pipeline-rate", 0, "BenchmarkKafkaPipeline: records/s of the latency runs (0: half the at-least-once job's rows/s)")
)

// kafkaPipelineModes are the sink settings compared: at-least-once without
// and with checkpoints (their cost without transactions), and exactly-once
// with a transaction per checkpoint.
var kafkaPipelineModes = []struct {
	name     string
	settings string // SET statements
	sink     string // the sink's delivery options
	isolated bool   // read the output with read_committed
}{
	{"at-least-once", "", "'sink.delivery-guarantee' = 'at-least-once'", false},
	{"at-least-once-ckpt-1s", "SET 'execution.checkpointing.interval' = '1 s';\nSET 'execution.checkpointing.dir' = '$DIR/ckpt';\n",
		"'sink.delivery-guarantee' = 'at-least-once'", false},
	{"exactly-once-ckpt-1s", "SET 'execution.checkpointing.interval' = '1 s';\nSET 'execution.checkpointing.dir' = '$DIR/ckpt';\n",
		"'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = 'bench-$TOPIC'", true},
	{"exactly-once-ckpt-200ms", "SET 'execution.checkpointing.interval' = '200 ms';\nSET 'execution.checkpointing.dir' = '$DIR/ckpt';\n",
		"'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = 'bench-$TOPIC'", true},
}

// BenchmarkKafkaPipeline measures Kafka JSON -> Python function -> Kafka
// JSON in streaming mode on a real broker, for each sink mode:
//
//   - throughput: a job over records already in the topic (3 partitions,
//     bounded at their end), rows / wall time of the whole weir command,
//     best of two rounds (the second in the reverse order);
//   - end-to-end latency: a job reading records produced while it runs, at
//     a fixed rate (half the at-least-once rows/s unless set), from each
//     record's send to a consumer's receipt of its result (read_committed
//     for exactly-once, where a result becomes visible when its
//     checkpoint's transaction commits), p50 and p99 over the records after
//     5 s of warm-up. The job's source is bounded at the offsets the run
//     will produce, so it ends by itself.
//
// bench/run.py --kafka-only runs it and writes bench/results. By hand:
//
//	go test ./e2e -run '^$' -bench KafkaPipeline -benchtime 1x [-kafka-pipeline-rows N]
func BenchmarkKafkaPipeline(b *testing.B) {
	if os.Getenv("WEIR_PYTHON") == "" {
		b.Skip("WEIR_PYTHON is not set: run through make, which installs weir into .venv")
	}
	broker, err := kafkatest.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer broker.Stop()
	k := &kafkaCluster{addr: broker.Addr}
	n := *kafkaPipeRows
	recs, _ := inputRecords(n, 3)
	k.createTopic(b, "pipe-in", 3)
	k.produce(b, "pipe-in", recs)
	udfs := map[string]string{"udfs.py": fmt.Sprintf(kafkaUDFs, -1)}
	// Best of two runs per mode, the second round in the reverse order, so
	// that a busy moment of a shared machine does not decide a ratio.
	rates := map[string]float64{}
	for round := range 2 {
		for i := range kafkaPipelineModes {
			m := kafkaPipelineModes[i]
			if round == 1 {
				m = kafkaPipelineModes[len(kafkaPipelineModes)-1-i]
			}
			out := fmt.Sprintf("pipe-out-%s-%d", m.name, round)
			k.createTopic(b, out, 3)
			r := pipelineJob(b, k, m.settings, m.sink, "pipe-in", out, "'scan.bounded.mode' = 'latest-offset'", udfs, "")
			if r.code != 0 {
				b.Fatalf("%s: the job failed:\n%s", m.name, r.stderr)
			}
			rate := float64(n) / r.elapsed.Seconds()
			rates[m.name] = max(rates[m.name], rate)
			fmt.Fprintf(os.Stderr, "kafka pipeline %s: %d rows in %.2f s, %.0f rows/s\n", m.name, n, r.elapsed.Seconds(), rate)
		}
	}
	for _, m := range kafkaPipelineModes {
		b.ReportMetric(rates[m.name], m.name+"-rows/s")
	}
	rate := *kafkaPipeRate
	if rate == 0 {
		rate = int(rates["at-least-once"] / 2)
	}
	b.ReportMetric(float64(rate), "latency-rate-rows/s")
	for _, m := range kafkaPipelineModes {
		p50, p99, count := pipelineLatency(b, k, m.name, m.settings, m.sink, m.isolated, rate, udfs)
		b.ReportMetric(p50, m.name+"-p50-ms")
		b.ReportMetric(p99, m.name+"-p99-ms")
		fmt.Fprintf(os.Stderr, "kafka pipeline %s latency at %d rows/s: p50 %.1f ms, p99 %.1f ms over %d records\n", m.name, rate, p50, p99, count)
	}
	b.ReportMetric(0, "ns/op")
}

// pipelineJob runs one job from topic in to topic out to its end.
func pipelineJob(b *testing.B, k *kafkaCluster, settings, sink, in, out, bound string, udfs map[string]string, extra string) result {
	dir := b.TempDir()
	cmd := pipelineCmd(b, k, dir, settings, sink, in, out, bound, udfs, extra)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stderr: stderr.String(), elapsed: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		b.Fatal(err)
	}
	return r
}

func pipelineCmd(b *testing.B, k *kafkaCluster, dir, settings, sink, in, out, bound string, udfs map[string]string, extra string) *exec.Cmd {
	for name, src := range udfs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	sqlText := fmt.Sprintf(`SET 'execution.runtime-mode' = 'streaming';
%s%s
CREATE TABLE src (id BIGINT, name STRING, v INT) WITH (
  'connector' = 'kafka', 'topic' = '%s', 'properties.bootstrap.servers' = '%s',
  'format' = 'json', 'scan.startup.mode' = 'earliest-offset', %s);
CREATE TABLE snk (id BIGINT, label STRING) WITH (
  'connector' = 'kafka', 'topic' = '%s', 'properties.bootstrap.servers' = '%s', 'format' = 'json', %s);
CREATE TEMPORARY FUNCTION label AS 'udfs.label' LANGUAGE PYTHON;
INSERT INTO snk SELECT id, label(name, v) FROM src WHERE v IS NOT NULL;
`, settings, extra, in, k.addr, bound, out, k.addr, sink)
	sqlText = strings.NewReplacer("$DIR", dir, "$TOPIC", out).Replace(sqlText)
	path := filepath.Join(dir, "job.sql")
	if err := os.WriteFile(path, []byte(sqlText), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(weirBin, "sql", "-f", path, "--pyfiles", dir)
	cmd.Env = append(os.Environ(), testMark)
	return cmd
}

// pipelineLatency runs a job over records produced at rate while it runs and
// returns the p50 and p99 milliseconds from a record's send to its result's
// receipt, and how many records they cover.
func pipelineLatency(b *testing.B, k *kafkaCluster, name, settings, sink string, isolated bool, rate int, udfs map[string]string) (p50, p99 float64, count int) {
	const warmup = 5 * time.Second
	const parts = 3
	total := rate * (int(warmup/time.Second) + *kafkaPipeSeconds)
	total -= total % parts
	in, out := "lat-in-"+name, "lat-out-"+name
	k.createTopic(b, in, parts)
	k.createTopic(b, out, parts)
	// The source ends at the offsets this run produces (round-robin over
	// the partitions, total/parts each).
	var bound strings.Builder
	for p := range parts {
		if p > 0 {
			bound.WriteString(";")
		}
		fmt.Fprintf(&bound, "partition:%d,offset:%d", p, total/parts)
	}
	dir := b.TempDir()
	cmd := pipelineCmd(b, k, dir, settings, sink, in, out,
		fmt.Sprintf("'scan.bounded.mode' = 'specific-offsets', 'scan.bounded.specific-offsets' = '%s'", bound.String()), udfs,
		"SET 'python.fn-execution.bundle.time' = '10 ms';\n")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()

	sent := make([]int64, total) // unix ns of each id's send
	recv := make([]int64, total)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	level := kgo.ReadUncommitted()
	if isolated {
		level = kgo.ReadCommitted()
	}
	consumer := k.client(b, kgo.ConsumeTopics(out), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(level), kgo.FetchMaxWait(50*time.Millisecond))
	defer consumer.Close()
	var got atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for got.Load() < int64(total) && ctx.Err() == nil {
			f := consumer.PollFetches(ctx)
			now := time.Now().UnixNano()
			f.EachRecord(func(r *kgo.Record) {
				v := r.Value
				i := bytes.IndexByte(v, ',')
				if !bytes.HasPrefix(v, []byte(`{"id":`)) || i < 0 {
					return
				}
				id, err := strconv.Atoi(string(v[len(`{"id":`):i]))
				if err == nil && id >= 0 && id < total && recv[id] == 0 {
					recv[id] = now
					got.Add(1)
				}
			})
		}
	}()
	producer := k.client(b, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
	defer producer.Close()
	recs, _ := inputRecords(total, 17)
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	for i := 0; i < total; {
		<-tick.C
		due := int(float64(rate) * time.Since(start).Seconds())
		for ; i < total && i < due; i++ {
			sent[i] = time.Now().UnixNano()
			producer.Produce(ctx, &kgo.Record{Topic: in, Partition: int32(i % parts), Value: recs[i]}, nil)
		}
	}
	tick.Stop()
	if err := producer.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			b.Fatalf("%s: the latency job failed (%v):\n%s", name, err, stderr.String())
		}
	case <-time.After(5 * time.Minute):
		b.Fatalf("%s: the latency job did not end:\n%s", name, stderr.String())
	}
	// The last results may still be on their way to the consumer.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got.Load() >= int64(total) {
			break
		}
	}
	cancel()
	wg.Wait()
	var lat []float64
	from := start.Add(warmup).UnixNano()
	for i := range total {
		if sent[i] >= from {
			if recv[i] == 0 {
				b.Fatalf("%s: record %d's result was not received", name, i)
			}
			lat = append(lat, float64(recv[i]-sent[i])/1e6)
		}
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return q(0.50), q(0.99), len(lat)
}
