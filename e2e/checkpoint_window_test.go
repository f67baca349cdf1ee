package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/kafkatest"
)

// TestCheckpointWindowKafka: a streaming TUMBLE aggregation over a Kafka
// topic of out-of-order event times (some late), with checkpoints every
// 200 ms, SIGKILLed at random moments after its first checkpoint and
// restarted until it finishes, gives each window's row with the values of
// an uninterrupted run: the Kafka offsets, the held rows, the watermark and
// the late rows come back exactly (print is at-least-once: rows after the
// last checkpoint may come twice, identical).
func TestCheckpointWindowKafka(t *testing.T) {
	needPython(t)
	broker, err := kafkatest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Stop()
	k := &kafkaCluster{addr: broker.Addr}
	topic := "events"
	k.createTopic(t, topic, 1) // one partition: the order of arrival, and so the late rows, are the same each run
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	var recs [][]byte
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 400_000; i++ {
		ts := base.Add(time.Duration(i)*time.Millisecond - time.Duration(r.IntN(300))*time.Millisecond)
		recs = append(recs, fmt.Appendf(nil, `{"id":%d,"k":%d,"ts":"%s"}`, i, r.IntN(5), ts.Format("2006-01-02 15:04:05.000")))
	}
	k.produce(t, topic, recs)
	script := fmt.Sprintf(`SET 'execution.runtime-mode' = 'streaming';
CREATE TABLE ev (id BIGINT, k INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '0.1' SECOND) WITH (
  'connector' = 'kafka', 'topic' = '%s', 'properties.bootstrap.servers' = '%s',
  'format' = 'json', 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset');
CREATE TABLE snk (ws TIMESTAMP(3), we TIMESTAMP(3), k INT, c BIGINT, s BIGINT) WITH ('connector' = 'print');
INSERT INTO snk SELECT window_start, window_end, k, COUNT(*), SUM(id)
FROM TABLE(TUMBLE(TABLE ev, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY window_start, window_end, k;
`, topic, broker.Addr)
	args, dir := writeJob(t, script, nil)
	want := map[string]bool{}
	for _, l := range runWeir(t, nil, args...).mustSucceed(t).lines() {
		want[l] = true
	}
	if len(want) < 1000 {
		t.Fatalf("the uninterrupted run gave %d windows", len(want))
	}
	ckdir := filepath.Join(dir, "checkpoints")
	runArgs := append(append([]string(nil), args...), "-D", "execution.checkpointing.interval=200 ms", "-D", "execution.checkpointing.dir="+ckdir)
	var got map[string]bool
	resumed, killed := 0, 0
	// A job may end before its first kill (the kill waits for a checkpoint,
	// then up to maxAfter): then the whole job runs again with kills sooner.
	for maxAfter := 800 * time.Millisecond; killed == 0; maxAfter /= 4 {
		if maxAfter < 10*time.Millisecond {
			t.Fatal("every run of the job ended before it could be killed after a checkpoint")
		}
		got, resumed, killed = killedRuns(t, r, runArgs, ckdir, maxAfter)
	}
	t.Logf("%d runs killed, %d resumed from a checkpoint; %d windows", killed, resumed, len(want))
	for l := range got {
		if !want[l] {
			t.Errorf("a row the uninterrupted run does not give: %s", l)
		}
	}
	for l := range want {
		if !got[l] {
			t.Errorf("a window lost: %s", l)
		}
	}
	if resumed == 0 {
		t.Error("no run resumed from a checkpoint")
	}
	if ents, _ := os.ReadDir(ckdir); len(ents) != 0 {
		t.Errorf("the finished job left %d entries in its checkpoint directory", len(ents))
	}
}

// killedRuns runs the job until it finishes, killing its first three runs at
// a random moment up to maxAfter after a checkpoint of theirs; it returns the
// lines printed by all runs, how many runs resumed from a checkpoint and how
// many were killed.
func killedRuns(t *testing.T, r *rand.Rand, runArgs []string, ckdir string, maxAfter time.Duration) (map[string]bool, int, int) {
	got := map[string]bool{}
	resumed, killed := 0, 0
	for attempt := 0; ; attempt++ {
		var kill func() bool
		if attempt < 3 {
			after := time.Duration(r.Int64N(int64(maxAfter)))
			var since time.Time
			before := checkpointsIn(ckdir)
			kill = func() bool {
				if since.IsZero() {
					if checkpointsIn(ckdir) == before {
						return false // a checkpoint of this run first
					}
					since = time.Now()
				}
				return time.Since(since) >= after
			}
		}
		out, stderr, finished := runKilled(t, runArgs, kill)
		for _, l := range strings.Split(out, "\n") {
			if l != "" {
				got[l] = true
			}
		}
		if strings.Contains(stderr, "resuming from checkpoint") {
			resumed++
		}
		if finished {
			return got, resumed, killed
		}
		killed++
		if attempt > 6 {
			t.Fatal("the job did not finish after 7 restarts")
		}
	}
}
