package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/kafkatest"
)

// The checkpoint proof of the Kafka sink: JSON records -> Python function
// -> an exactly-once Kafka sink in a job with checkpoints; the engine is
// SIGKILLed at random moments and started again with the same checkpoint
// directory until it finishes; the output topic, read with read_committed,
// must hold each input's result exactly once.
//
// TestCheckpointKafka runs it over 50,000 records with one kill in the
// default suite. TestCheckpointKafkaLarge (make test-checkpoint, or
// WEIR_CHECKPOINT_KAFKA=1) runs it over 1,000,000 records with four kills
// (three after a new checkpoint, one in a run's first seconds) and writes
// testdata/checkpoint-kafka/results.txt, which TestCheckpointKafkaResults
// checks in every run.

func TestCheckpointKafka(t *testing.T) {
	needPython(t)
	res := checkpointKafkaRun(t, 50_000, 1, "300 ms", 10)
	t.Logf("%+v", res)
}

func TestCheckpointKafkaLarge(t *testing.T) {
	if os.Getenv("WEIR_CHECKPOINT_KAFKA") == "" {
		t.Skip("WEIR_CHECKPOINT_KAFKA is not set: make test-checkpoint runs this 1M-record test (a few minutes)")
	}
	needPython(t)
	start := time.Now()
	res := checkpointKafkaRun(t, 1_000_000, 4, "1 s", 0)
	res.total = time.Since(start)
	if err := os.WriteFile(checkpointKafkaResults, []byte(res.report()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s:\n%s", checkpointKafkaResults, res.report())
}

const checkpointKafkaResults = "../testdata/checkpoint-kafka/results.txt"

// checkpointUDFs: label() as in kafka_test.go, slowed by 1 ms every SLOW
// rows (0: not slowed) so that a small input leaves time for kills.
const checkpointUDFs = `import time
from weir import udf

SLOW = %d

@udf(result_type='STRING')
def label(id, name, v):
    if SLOW and id %% SLOW == 0:
        time.sleep(0.001)
    return f"{name.upper()}:{v * 3}"
`

// ckptRun is one start of the engine.
type ckptRun struct {
	seconds float64
	killed  bool
	early   bool   // killed at a random moment of its first 3 s
	resumed string // the checkpoint it resumed from (its log says), or "start"
	chk     int    // newest complete checkpoint in the directory when it ended
}

// resumedFrom reads the checkpoint a run resumed from in its -v log:
// "chk-<id>", "start", or "start (chk-<id> not committed)" when the only
// checkpoint's transaction did not commit (the kill came between the
// checkpoint's write and its commit).
func resumedFrom(stderr string) string {
	notCommitted := ""
	for _, l := range strings.Split(stderr, "\n") {
		i := strings.Index(l, "chk-")
		if i < 0 {
			continue
		}
		chk := strings.TrimRight(strings.Fields(l[i:])[0], `"`)
		switch {
		case strings.Contains(l, "resuming from checkpoint"):
			return chk
		case strings.Contains(l, "output was not committed"):
			notCommitted = chk
		}
	}
	if notCommitted != "" {
		return "start (" + notCommitted + " not committed)"
	}
	return "start"
}

type ckptResult struct {
	records, kills       int
	runs                 []ckptRun
	distinct, duplicates int
	missing, wrong       int
	aborted              int64 // records in aborted transactions
	interval             string
	total                time.Duration
}

func (r ckptResult) report() string {
	var b strings.Builder
	load, _ := os.ReadFile("/proc/loadavg")
	la := strings.Fields(string(load) + " ?")[0]
	fmt.Fprintf(&b, "# make test-checkpoint (e2e TestCheckpointKafkaLarge): %d JSON records in a 3-partition topic -> Python label()\n", r.records)
	fmt.Fprintf(&b, "# -> Kafka sink 'exactly-once' (2 partitions), streaming mode, execution.checkpointing.interval %s; the engine\n", r.interval)
	fmt.Fprintf(&b, "# (bin/weir) SIGKILLed at random moments (within 1.5 s after a new checkpoint; an early kill within a run's\n")
	fmt.Fprintf(&b, "# first 3 s), restarted with the same checkpoint directory until a run finished; the output topic read with\n")
	fmt.Fprintf(&b, "# read_committed, every id and value checked.\n")
	fmt.Fprintf(&b, "# recorded on %s/%s (%d cores, shared; load average %s at the end) at %s.\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), la, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "records\t%d\nkills\t%d\nruns\t%d\ndistinct_ids\t%d\nduplicates\t%d\nmissing\t%d\nwrong_values\t%d\naborted_records\t%d\n",
		r.records, r.kills, len(r.runs), r.distinct, r.duplicates, r.missing, r.wrong, r.aborted)
	for i, run := range r.runs {
		how := "finished"
		if run.killed {
			how = "killed"
		}
		last := fmt.Sprintf("newest checkpoint chk-%d", run.chk)
		if !run.killed && run.chk == 0 {
			last = "checkpoints removed at the job's end"
		}
		secs := fmt.Sprintf("%.1f s", run.seconds)
		if run.early {
			secs += " (early kill)"
		}
		fmt.Fprintf(&b, "run\t%d\t%s\t%s\tfrom %s\t%s\n", i+1, how, secs, run.resumed, last)
	}
	fmt.Fprintf(&b, "# %.0f s in all (broker start, input and reading the output included)\n", r.total.Seconds())
	return b.String()
}

// newestCheckpoint is the largest id of a complete chk-<id> directory.
func newestCheckpoint(dir string) int {
	ents, _ := os.ReadDir(dir)
	best := 0
	for _, e := range ents {
		s, ok := strings.CutPrefix(e.Name(), "chk-")
		if !ok || !e.IsDir() {
			continue
		}
		id, err := strconv.Atoi(s)
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "_metadata")); err == nil && id > best {
			best = id
		}
	}
	return best
}

func checkpointKafkaRun(t *testing.T, n, kills int, interval string, slow int) ckptResult {
	broker, err := kafkatest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Stop()
	k := &kafkaCluster{addr: broker.Addr}
	k.createTopic(t, "ck-in", 3)
	k.createTopic(t, "ck-out", 2)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 11))
	recs, want := inputRecords(n, seed)
	k.produce(t, "ck-in", recs)
	ckDir := t.TempDir()
	// Small bundles: a checkpoint waits for the Python stage's open bundles,
	// and the stage's bundles in flight hold the rows the source has read.
	sqlText := fmt.Sprintf(`SET 'execution.runtime-mode' = 'streaming';
SET 'python.fn-execution.bundle.size' = '2000';
SET 'execution.checkpointing.interval' = '%s';
SET 'execution.checkpointing.dir' = '%s';
CREATE TABLE src (id BIGINT, name STRING, v INT) WITH (
  'connector' = 'kafka', 'topic' = 'ck-in', 'properties.bootstrap.servers' = '%[3]s',
  'format' = 'json', 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset');
CREATE TABLE snk (id BIGINT, label STRING) WITH (
  'connector' = 'kafka', 'topic' = 'ck-out', 'properties.bootstrap.servers' = '%[3]s',
  'format' = 'json', 'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = 'weir-ck');
CREATE TEMPORARY FUNCTION label AS 'udfs.label' LANGUAGE PYTHON;
INSERT INTO snk SELECT id, label(id, name, v) FROM src;
`, interval, ckDir, k.addr)
	args, _ := writeJob(t, sqlText, map[string]string{"udfs.py": fmt.Sprintf(checkpointUDFs, slow)})
	args = append(args, "-v") // the log says which checkpoint a run resumes from
	res := ckptResult{records: n, interval: interval}
	lastChk := 0
	for run := 1; ; run++ {
		if run > kills+20 {
			t.Fatalf("the job did not finish in %d runs", run-1)
		}
		cmd := exec.Command(weirBin, args...)
		cmd.Env = append(os.Environ(), testMark)
		var stderr syncBuffer
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		if res.kills < kills {
			// Kill at a random moment once the run has taken a checkpoint
			// of its own (so that each restart resumes further on); with
			// three kills or more, every second one comes at a random
			// moment of the run's first 3 s instead, checkpoint or not
			// (in its start-up, its recovery or its first writes).
			var killAt time.Time
			early := kills >= 3 && res.kills%2 == 1
			if early {
				killAt = start.Add(time.Duration(rng.Int64N(int64(3 * time.Second))))
			}
			ended := false
			for !ended {
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("run %d failed (%v):\n%s", run, err, stderr.String())
					}
					ended = true
					continue
				case <-time.After(10 * time.Millisecond):
				}
				if killAt.IsZero() && newestCheckpoint(ckDir) > lastChk {
					killAt = time.Now().Add(time.Duration(rng.Int64N(int64(1500 * time.Millisecond))))
				}
				if !killAt.IsZero() && time.Now().After(killAt) {
					break
				}
				if time.Since(start) > 5*time.Minute {
					cmd.Process.Kill()
					t.Fatalf("run %d took no checkpoint in 5 min:\n%s", run, stderr.String())
				}
			}
			if ended {
				t.Fatalf("run %d finished before it was killed (kill %d of %d): the job is too fast for this test's kills; stderr:\n%s", run, res.kills+1, kills, tailLines(stderr.String(), 20))
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-done
			res.kills++
			lastChk = newestCheckpoint(ckDir)
			from := resumedFrom(stderr.String())
			if early && from == "start" {
				from = "? (killed before its log said)"
			}
			res.runs = append(res.runs, ckptRun{seconds: time.Since(start).Seconds(), killed: true, early: early, chk: lastChk, resumed: from})
			t.Logf("run %d (from %s) killed after %.1f s (early: %v); newest checkpoint chk-%d", run, from, time.Since(start).Seconds(), early, lastChk)
			for wait := time.Now().Add(10 * time.Second); len(workerProcesses()) > 0; time.Sleep(50 * time.Millisecond) {
				if time.Now().After(wait) {
					t.Fatalf("Python workers still running 10 s after the engine was killed: %v", workerProcesses())
				}
			}
			continue
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d failed (%v):\n%s", run, err, stderr.String())
			}
		case <-time.After(10 * time.Minute):
			cmd.Process.Kill()
			t.Fatalf("run %d did not finish in 10 min:\n%s", run, stderr.String())
		}
		res.runs = append(res.runs, ckptRun{seconds: time.Since(start).Seconds(), chk: newestCheckpoint(ckDir), resumed: resumedFrom(stderr.String())})
		t.Logf("run %d (from %s) finished in %.1f s; stderr tail:\n%s", run, resumedFrom(stderr.String()), time.Since(start).Seconds(), tailLines(stderr.String(), 5))
		break
	}
	// Every run after one killed with a checkpoint in the directory resumed
	// from a checkpoint, or found its only one uncommitted (a run killed
	// early may not have said yet).
	for i, r := range res.runs[1:] {
		if r.resumed == "start" && res.runs[i].chk > 0 {
			t.Errorf("run %d started from the beginning, not from a checkpoint (the one before it was killed after chk-%d)", i+2, res.runs[i].chk)
		}
	}
	seen := map[int64]int{}
	committed := k.readAll(t, "ck-out", true)
	for _, rec := range committed {
		var row struct {
			ID    int64  `json:"id"`
			Label string `json:"label"`
		}
		if err := json.Unmarshal(rec, &row); err != nil {
			t.Fatalf("output record %s: %v", rec, err)
		}
		seen[row.ID]++
		if w, ok := want[row.ID]; !ok || row.Label != w {
			res.wrong++
			if res.wrong <= 5 {
				t.Errorf("id %d: label %q, want %q", row.ID, row.Label, w)
			}
		}
	}
	for id := range int64(n) {
		switch c := seen[id]; {
		case c == 0:
			res.missing++
		case c > 1:
			res.duplicates += c - 1
		}
	}
	res.distinct = len(seen)
	res.aborted = int64(len(k.readAll(t, "ck-out", false)) - len(committed))
	if res.missing > 0 || res.duplicates > 0 || res.wrong > 0 || res.distinct != n {
		t.Fatalf("read_committed: %d records, %d distinct ids of %d, %d missing, %d duplicates, %d wrong values",
			len(committed), res.distinct, n, res.missing, res.duplicates, res.wrong)
	}
	if res.aborted == 0 {
		t.Logf("no record was written in an aborted transaction: no kill landed between a checkpoint's writes and its commit")
	}
	t.Logf("each of %d results exactly once after %d kills; %d records of aborted transactions left invisible", n, res.kills, res.aborted)
	return res
}

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// TestCheckpointKafkaResults checks testdata/checkpoint-kafka/results.txt,
// written by make test-checkpoint: at least 1M records and 3 kills, every
// result exactly once.
func TestCheckpointKafkaResults(t *testing.T) {
	b, err := os.ReadFile(checkpointKafkaResults)
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("no testdata/checkpoint-kafka/results.txt yet: make test-checkpoint writes it")
	}
	if err != nil {
		t.Fatal(err)
	}
	v := map[string]int64{}
	var runs, killed, finished int
	for i, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if f[0] == "run" {
			runs++
			if len(f) != 6 || (f[2] != "killed" && f[2] != "finished") || (f[1] != "1" && !strings.Contains(f[3], "early kill") && !strings.HasPrefix(f[4], "from chk-") && !strings.HasPrefix(f[4], "from start (chk-")) {
				t.Errorf("line %d: %q: want run, number, killed or finished, seconds, the checkpoint it resumed from (every run but the first), the newest checkpoint", i+1, l)
				continue
			}
			if f[2] == "killed" {
				killed++
			} else {
				finished++
			}
			continue
		}
		if len(f) != 2 {
			t.Errorf("line %d: %q: want a name and a number", i+1, l)
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			t.Errorf("line %d: %q: %v", i+1, l, err)
		}
		v[f[0]] = n
	}
	if v["records"] < 1_000_000 || v["kills"] < 3 {
		t.Errorf("records %d, kills %d: want at least 1,000,000 records and 3 kills", v["records"], v["kills"])
	}
	if v["distinct_ids"] != v["records"] || v["duplicates"] != 0 || v["missing"] != 0 || v["wrong_values"] != 0 {
		t.Errorf("distinct %d of %d records, %d duplicates, %d missing, %d wrong: want each result exactly once",
			v["distinct_ids"], v["records"], v["duplicates"], v["missing"], v["wrong_values"])
	}
	if int64(killed) != v["kills"] || finished != 1 || int64(runs) != v["runs"] {
		t.Errorf("%d run lines (%d killed, %d finished), runs %d, kills %d: want the kills and one finished run", runs, killed, finished, v["runs"], v["kills"])
	}
}

func TestResumedFrom(t *testing.T) {
	for log, want := range map[string]string{
		"": "start",
		`level=INFO msg="resuming from checkpoint" checkpoint=/tmp/x/chk-7 taken=2026-12-01T13:00:00Z`:                      "chk-7",
		`level=INFO msg="checkpoint's sink output was not committed; resuming from the one before" checkpoint=/tmp/x/chk-1`: "start (chk-1 not committed)",
		"level=INFO msg=\"checkpoint's sink output was not committed; resuming from the one before\" checkpoint=/tmp/x/chk-4\n" +
			`level=INFO msg="resuming from checkpoint" checkpoint="/tmp/x y/chk-3" taken=2026-12-01T13:00:00Z`: "chk-3",
	} {
		if got := resumedFrom(log); got != want {
			t.Errorf("resumedFrom(%q) = %q, want %q", log, got, want)
		}
	}
}
