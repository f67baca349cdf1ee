package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-dev/weir/internal/kafkatest"
)

// TestKafka runs SQL jobs through bin/weir against a real Apache Kafka
// broker (make kafka fetches it): JSON records -> Python function -> an
// exactly-once Kafka sink, read back with read_committed.
func TestKafka(t *testing.T) {
	needPython(t)
	broker, err := kafkatest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Stop()
	k := &kafkaCluster{addr: broker.Addr}
	t.Run("ExactlyOnceThroughUDF", k.exactlyOnce)
	t.Run("FailedJobCommitsNothing", k.failedJob)
	t.Run("BadRecord", k.badRecord)
	t.Run("BatchRefusesUnbounded", k.batchRefusesUnbounded)
	t.Run("StreamingUnbounded", k.streamingUnbounded)
	t.Run("StreamingExactlyOnceRefused", k.streamingExactlyOnceRefused)
	t.Run("StreamingExactlyOnceCheckpoints", k.streamingExactlyOnceCheckpoints)
	t.Run("KilledEngineRerun", k.killedEngineRerun)
}

type kafkaCluster struct{ addr string }

func (k *kafkaCluster) client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(k.addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// createTopic creates a topic of the given partitions.
func (k *kafkaCluster) createTopic(t testing.TB, name string, partitions int32) {
	t.Helper()
	cl := k.client(t)
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(context.Background(), partitions, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
}

// produce writes values round-robin over the topic's partitions.
func (k *kafkaCluster) produce(t testing.TB, topic string, values [][]byte) {
	t.Helper()
	cl := k.client(t, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ProducerLinger(5*time.Millisecond))
	defer cl.Close()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Topic: topic, Value: v}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// readAll reads every record of topic as a consumer with the isolation
// level does, once no transaction is open in it (a commit's markers reach
// the partitions shortly after the commit returns).
func (k *kafkaCluster) readAll(t *testing.T, topic string, committed bool) [][]byte {
	t.Helper()
	cl := k.client(t)
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	var end kadm.ListedOffsets
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("topic %s still has an open transaction after 60s", topic)
		}
		hw, err1 := adm.ListEndOffsets(ctx, topic)
		ls, err2 := adm.ListCommittedOffsets(ctx, topic)
		if err1 != nil || err2 != nil || hw.Error() != nil || ls.Error() != nil {
			continue
		}
		stable := true
		hw.Each(func(o kadm.ListedOffset) {
			if l, ok := ls.Lookup(o.Topic, o.Partition); !ok || l.Offset != o.Offset {
				stable = false
			}
		})
		if stable {
			end = hw
			break
		}
	}
	cl.Close()
	left := map[int32]int64{}
	consume := map[int32]kgo.Offset{}
	end.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
			consume[o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	if len(left) == 0 {
		return nil
	}
	level := kgo.ReadUncommitted()
	if committed {
		level = kgo.ReadCommitted()
	}
	cl = k.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: consume}), kgo.FetchIsolationLevel(level), kgo.KeepControlRecords())
	defer cl.Close()
	var out [][]byte
	pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for len(left) > 0 {
		f := cl.PollFetches(pctx)
		if pctx.Err() != nil {
			t.Fatalf("reading %s: timed out with partitions %v not read to their end", topic, left)
		}
		if errs := f.Errors(); len(errs) > 0 {
			t.Fatalf("reading %s: %v", topic, errs[0].Err)
		}
		for _, r := range f.Records() {
			if r.Offset+1 >= left[r.Partition] {
				delete(left, r.Partition)
			}
			if !r.Attrs.IsControl() {
				out = append(out, r.Value)
			}
		}
	}
	return out
}

const kafkaUDFs = `import time
from weir import udf

@udf(result_type='STRING')
def label(name, v):
    if v == FAIL_AT:
        time.sleep(2)  # the rows before it reach the sink and the broker first
        raise ValueError(f"refusing row {v}")
    return f"{name.upper()}:{v * 3}"

FAIL_AT = %d
`

// kafkaJob is the SQL of a job from topic in to topic out through label().
func (k *kafkaCluster) kafkaJob(in, out string) string {
	return fmt.Sprintf(`CREATE TABLE src (id BIGINT, name STRING, v INT) WITH (
  'connector' = 'kafka', 'topic' = '%[1]s', 'properties.bootstrap.servers' = '%[3]s',
  'format' = 'json', 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset');
CREATE TABLE snk (id BIGINT, label STRING) WITH (
  'connector' = 'kafka', 'topic' = '%[2]s', 'properties.bootstrap.servers' = '%[3]s',
  'format' = 'json', 'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = 'weir-e2e-%[2]s');
CREATE TEMPORARY FUNCTION label AS 'udfs.label' LANGUAGE PYTHON;
INSERT INTO snk SELECT id, label(name, v) FROM src WHERE v IS NOT NULL;
`, in, out, k.addr)
}

// inputRecords makes n JSON records with ids 0..n-1.
func inputRecords(n int, seed uint64) ([][]byte, map[int64]string) {
	rng := rand.New(rand.NewPCG(seed, 7))
	var recs [][]byte
	want := map[int64]string{}
	for i := range n {
		name := fmt.Sprintf("n%x", rng.Uint32())
		v := rng.IntN(1_000_000)
		recs = append(recs, fmt.Appendf(nil, `{"id":%d,"name":"%s","v":%d}`, i, name, v))
		want[int64(i)] = fmt.Sprintf("%s:%d", strings.ToUpper(name), v*3)
	}
	return recs, want
}

func (k *kafkaCluster) exactlyOnce(t *testing.T) {
	const n = 20_000
	k.createTopic(t, "eo-in", 3)
	k.createTopic(t, "eo-out", 2)
	recs, want := inputRecords(n, 1)
	k.produce(t, "eo-in", recs)
	job(t, k.kafkaJob("eo-in", "eo-out"), map[string]string{"udfs.py": fmt.Sprintf(kafkaUDFs, -1)}).mustSucceed(t)
	seen := map[int64]int{}
	for _, rec := range k.readAll(t, "eo-out", true) {
		var row struct {
			ID    int64  `json:"id"`
			Label string `json:"label"`
		}
		if err := json.Unmarshal(rec, &row); err != nil {
			t.Fatalf("output record %s: %v", rec, err)
		}
		seen[row.ID]++
		if row.Label != want[row.ID] {
			t.Fatalf("id %d: label %q, want %q", row.ID, row.Label, want[row.ID])
		}
	}
	for id := range int64(n) {
		if seen[id] != 1 {
			t.Fatalf("id %d is in the output %d times, want exactly once (%d distinct ids read)", id, seen[id], len(seen))
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct ids in the output, want %d", len(seen), n)
	}
}

// failedJob: the function fails on a row late in the input; the sink's
// transaction is aborted, so read_committed readers see nothing.
func (k *kafkaCluster) failedJob(t *testing.T) {
	const n = 20_000
	k.createTopic(t, "fail-in", 1)
	k.createTopic(t, "fail-out", 1)
	recs, _ := inputRecords(n, 2)
	// The last record is the one the function refuses.
	recs[n-1] = []byte(`{"id":-1,"name":"x","v":1000001}`)
	k.produce(t, "fail-in", recs)
	// Small bundles, so that the rows before the failure leave the function.
	r := job(t, "SET 'python.fn-execution.bundle.size' = '5000';\n"+k.kafkaJob("fail-in", "fail-out"), map[string]string{"udfs.py": fmt.Sprintf(kafkaUDFs, 1000001)})
	if r.code == 0 {
		t.Fatalf("job succeeded, want it to fail on the refused row\nstdout:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "refusing row 1000001") {
		t.Errorf("stderr does not name the function's error:\n%s", r.stderr)
	}
	if got := k.readAll(t, "fail-out", true); len(got) != 0 {
		t.Fatalf("read_committed reads %d records of the failed job, want none", len(got))
	}
	// The rows before the failure did reach the broker, in the aborted
	// transaction.
	if got := len(k.readAll(t, "fail-out", false)); got == 0 {
		t.Errorf("read_uncommitted reads no record: the test no longer shows an abort of written records")
	} else {
		t.Logf("records written before the abort (read_uncommitted): %d", got)
	}
}

// badRecord: a record that is not the table's JSON fails the job with its
// topic, partition, offset and field.
func (k *kafkaCluster) badRecord(t *testing.T) {
	k.createTopic(t, "bad-in", 1)
	k.createTopic(t, "bad-out", 1)
	k.produce(t, "bad-in", [][]byte{[]byte(`{"id":1,"name":"a","v":1}`), []byte(`{"id":2,"name":"b","v":"two"}`)})
	r := job(t, k.kafkaJob("bad-in", "bad-out"), map[string]string{"udfs.py": fmt.Sprintf(kafkaUDFs, -1)})
	want := "table 'src': kafka topic 'bad-in' partition 0 offset 1: the value does not decode as json: field 'v': 'two' is not a valid INT; fix the record, or set 'json.ignore-parse-errors' = 'true' to skip such records"
	if r.code == 0 || !strings.Contains(r.stderr, want) {
		t.Fatalf("exit %d, stderr:\n%s\nwant it to contain:\n%s", r.code, r.stderr, want)
	}
	if got := k.readAll(t, "bad-out", true); len(got) != 0 {
		t.Fatalf("read_committed reads %d records of the failed job, want none", len(got))
	}
}

// unboundedJob reads topic without a bound, through label(), to print.
func (k *kafkaCluster) unboundedJob(topic string) string {
	return fmt.Sprintf(`CREATE TABLE src (id BIGINT, name STRING, v INT) WITH (
  'connector' = 'kafka', 'topic' = '%s', 'properties.bootstrap.servers' = '%s',
  'format' = 'json', 'scan.startup.mode' = 'earliest-offset');
CREATE TABLE snk (id BIGINT, label STRING) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION label AS 'udfs.label' LANGUAGE PYTHON;
INSERT INTO snk SELECT id, label(name, v) FROM src;
`, topic, k.addr)
}

// batchRefusesUnbounded: batch mode reads bounded input only.
func (k *kafkaCluster) batchRefusesUnbounded(t *testing.T) {
	k.createTopic(t, "unb-batch", 1)
	r := job(t, k.unboundedJob("unb-batch"), map[string]string{"udfs.py": fmt.Sprintf(kafkaUDFs, -1)})
	want := "table src is an unbounded Kafka source (no 'scan.bounded.mode'), and this job runs in batch mode"
	if r.code == 0 || !strings.Contains(r.stderr, want) {
		t.Fatalf("exit %d, stderr:\n%s\nwant it to contain %q", r.code, r.stderr, want)
	}
}

// streamingUnbounded: in streaming mode a source without a bound reads
// records produced after the job started, until the job is cancelled.
func (k *kafkaCluster) streamingUnbounded(t *testing.T) {
	k.createTopic(t, "unb-stream", 2)
	recs, want := inputRecords(200, 4)
	k.produce(t, "unb-stream", recs[:100])
	args, _ := writeJob(t, k.unboundedJob("unb-stream"), map[string]string{"udfs.py": fmt.Sprintf(kafkaUDFs, -1)})
	cmd := exec.Command(weirBin, append(args, "-D", "execution.runtime-mode=streaming", "-D", "python.fn-execution.bundle.time=100 ms")...)
	cmd.Env = append(os.Environ(), testMark)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitLines := func(n int) {
		deadline := time.Now().Add(90 * time.Second)
		for strings.Count(stdout.String(), "+I[") < n {
			select {
			case err := <-done:
				t.Fatalf("the unbounded job ended by itself (%v):\n%s", err, stderr.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d rows printed after 90 s, want %d; stderr:\n%s", strings.Count(stdout.String(), "+I["), n, stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitLines(100)
	k.produce(t, "unb-stream", recs[100:])
	waitLines(200)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("weir did not stop within 20 s of SIGINT")
	}
	seen := map[string]bool{}
	for _, l := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(l, "+I[") {
			seen[l] = true
		}
	}
	for id, label := range want {
		if l := fmt.Sprintf("+I[%d, %s]", id, label); !seen[l] {
			t.Fatalf("row %s was not printed", l)
		}
	}
}

// highWatermark is the sum of the end offsets of topic's partitions (what
// was written, committed or not).
func (k *kafkaCluster) highWatermark(t *testing.T, topic string) int64 {
	cl := k.client(t)
	defer cl.Close()
	hw, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), topic)
	if err != nil {
		return 0
	}
	var n int64
	hw.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

// killedEngineRerun SIGKILLs the engine three times while it writes an
// exactly-once sink, then runs the job to its end: the killed runs'
// transactions never commit (the rerun, with the same transactional id,
// fences and aborts them), so read_committed sees each result once.
// Without checkpoints a rerun starts again from the beginning.
func (k *kafkaCluster) killedEngineRerun(t *testing.T) {
	const n = 30_000
	k.createTopic(t, "kill-in", 3)
	k.createTopic(t, "kill-out", 2)
	recs, want := inputRecords(n, 5)
	k.produce(t, "kill-in", recs)
	sqlText := "SET 'python.fn-execution.bundle.size' = '1000';\n" + k.kafkaJob("kill-in", "kill-out")
	udfs := map[string]string{"udfs.py": fmt.Sprintf(kafkaUDFs, -1)}
	for kill := 1; kill <= 3; kill++ {
		args, _ := writeJob(t, sqlText, udfs)
		cmd := exec.Command(weirBin, args...)
		cmd.Env = append(os.Environ(), testMark)
		var stderr syncBuffer
		cmd.Stderr = &stderr
		before := k.highWatermark(t, "kill-out")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Kill it once it has written records of its own (not only the
		// markers of the transaction it aborted).
		deadline := time.Now().Add(90 * time.Second)
		for k.highWatermark(t, "kill-out") < before+100 {
			select {
			case err := <-done:
				t.Fatalf("run %d ended before it wrote a record (%v):\n%s", kill, err, stderr.String())
			default:
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("run %d wrote nothing in 90 s:\n%s", kill, stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-done
		t.Logf("run %d killed after %d records written", kill, k.highWatermark(t, "kill-out")-before)
		for wait := time.Now().Add(10 * time.Second); len(workerProcesses()) > 0; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(wait) {
				t.Fatalf("Python workers still running 10 s after the engine was killed: %v", workerProcesses())
			}
		}
	}
	job(t, sqlText, udfs).mustSucceed(t)
	seen := map[int64]int{}
	for _, rec := range k.readAll(t, "kill-out", true) {
		var row struct {
			ID    int64  `json:"id"`
			Label string `json:"label"`
		}
		if err := json.Unmarshal(rec, &row); err != nil {
			t.Fatalf("output record %s: %v", rec, err)
		}
		seen[row.ID]++
		if row.Label != want[row.ID] {
			t.Fatalf("id %d: label %q, want %q", row.ID, row.Label, want[row.ID])
		}
	}
	for id := range int64(n) {
		if seen[id] != 1 {
			t.Fatalf("id %d is in the output %d times, want exactly once (%d distinct ids read)", id, seen[id], len(seen))
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct ids in the output, want %d", len(seen), n)
	}
}

// streamingExactlyOnceRefused: without checkpoints an exactly-once sink
// after an unbounded source would never commit, so the job is refused.
func (k *kafkaCluster) streamingExactlyOnceRefused(t *testing.T) {
	k.createTopic(t, "unb-eo", 1)
	sqlText := strings.Replace(k.kafkaJob("unb-eo", "unb-eo-out"), ", 'scan.bounded.mode' = 'latest-offset'", "", 1)
	r := job(t, sqlText, map[string]string{"udfs.py": fmt.Sprintf(kafkaUDFs, -1)}, "-D", "execution.runtime-mode=streaming")
	want := "table snk is written with 'sink.delivery-guarantee' = 'exactly-once', which commits its Kafka transaction when the job ends, but src never ends"
	if r.code == 0 || !strings.Contains(r.stderr, want) {
		t.Fatalf("exit %d, stderr:\n%s\nwant it to contain %q", r.code, r.stderr, want)
	}
}

// streamingExactlyOnceCheckpoints: with checkpoints an exactly-once sink
// after a source that never ends commits a transaction per checkpoint, so
// read_committed readers see the results while the job runs; records
// produced later follow; SIGINT stops the job (exit 130) leaving no open
// transaction, and the output holds each result once.
func (k *kafkaCluster) streamingExactlyOnceCheckpoints(t *testing.T) {
	k.createTopic(t, "unb-ck-in", 2)
	k.createTopic(t, "unb-ck-out", 2)
	recs, want := inputRecords(2000, 6)
	k.produce(t, "unb-ck-in", recs[:1000])
	sqlText := "SET 'execution.checkpointing.interval' = '200 ms';\nSET 'execution.checkpointing.dir' = '$DIR/ckpt';\n" +
		strings.Replace(k.kafkaJob("unb-ck-in", "unb-ck-out"), ", 'scan.bounded.mode' = 'latest-offset'", "", 1)
	args, _ := writeJob(t, sqlText, map[string]string{"udfs.py": fmt.Sprintf(kafkaUDFs, -1)})
	cmd := exec.Command(weirBin, append(args, "-D", "execution.runtime-mode=streaming", "-D", "python.fn-execution.bundle.time=50 ms")...)
	cmd.Env = append(os.Environ(), testMark)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	// committed counts the results visible to read_committed readers.
	consumer := k.client(t, kgo.ConsumeTopics("unb-ck-out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	defer consumer.Close()
	seen := map[int64]int{}
	waitCommitted := func(n int) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for len(seen) < n {
			select {
			case err := <-done:
				t.Fatalf("the unbounded job ended by itself (%v):\n%s", err, stderr.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d results visible to read_committed after 90 s, want %d; stderr:\n%s", len(seen), n, stderr.String())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			f := consumer.PollFetches(ctx)
			cancel()
			f.EachRecord(func(r *kgo.Record) {
				var row struct {
					ID    int64  `json:"id"`
					Label string `json:"label"`
				}
				if err := json.Unmarshal(r.Value, &row); err != nil || row.Label != want[row.ID] {
					t.Fatalf("output record %s: %v, want label %q", r.Value, err, want[row.ID])
				}
				seen[row.ID]++
			})
		}
	}
	waitCommitted(1000)
	k.produce(t, "unb-ck-in", recs[1000:])
	waitCommitted(2000)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("weir did not stop within 20 s of SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit code %d after SIGINT, want 130", code)
	}
	got := map[int64]int{}
	for _, rec := range k.readAll(t, "unb-ck-out", true) { // waits until no transaction is open
		var row struct {
			ID int64 `json:"id"`
		}
		json.Unmarshal(rec, &row)
		got[row.ID]++
	}
	for id := range int64(2000) {
		if got[id] != 1 {
			t.Fatalf("id %d is in the output %d times, want exactly once", id, got[id])
		}
	}
}
