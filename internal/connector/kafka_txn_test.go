package connector

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/kafkatest"
)

// TestKafkaCheckpointTransactions runs the transactions of an exactly-once
// sink with checkpoints against a real broker: per-checkpoint commits with
// their marker, a "killed" run (clients dropped with transactions open) and
// the next run's recovery, checkpoints without records, and a writer
// waiting for a free producer.
func TestKafkaCheckpointTransactions(t *testing.T) {
	broker, err := kafkatest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Stop()
	k := &kafkaEnv{t: t, addr: broker.Addr}
	t.Run("CommitsAndRecovery", k.checkpointCommits)
	t.Run("WaitsForFreeProducer", k.checkpointPoolWait)
	t.Run("Sink", k.checkpointSink)
}

// checkpointSink drives an exactly-once kafka table's sink as a
// checkpointed job does (checkpoint.Sink), "kills" it between a
// checkpoint's pre-commit and its commit, and resumes with a new sink:
// Recover tells the committed checkpoint from the lost one, and
// read_committed readers see the committed checkpoints' rows and the final
// commit's, each once.
func (k *kafkaEnv) checkpointSink(t *testing.T) {
	topic := k.topic(t, 2)
	opts := k.options(topic, "format", "json", "sink.delivery-guarantee", "exactly-once", "sink.transactional-id-prefix", "ckpt-sink-"+topic)
	ctx := context.Background()
	open := func() checkpoint.Sink {
		s, err := OpenSink("out", kafkaSchema, opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s.(checkpoint.Sink)
	}
	rows := kafkaRows(1000, 9)
	write := func(s checkpoint.Sink, rows [][]any) {
		b := kafkaBatch(t, kafkaSchema, rows)
		defer b.Release()
		if err := s.(exec.Sink).Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Run 1: checkpoint 1 commits; checkpoint 2 is pre-committed, then the
	// run dies.
	s1 := open()
	write(s1, rows[:300])
	data1, err := s1.PreCommit(ctx, 1)
	must(err)
	must(s1.CommitCheckpoint(ctx, 1))
	write(s1, rows[300:500])
	data2, err := s1.PreCommit(ctx, 2)
	must(err)
	write(s1, rows[500:600]) // after barrier 2: lost with the run
	// Run 2 resumes: 2 is lost, 1 committed; it writes rows[300:] again.
	s2 := open()
	if ok, err := s2.Recover(ctx, 2, data2); err != nil || ok {
		t.Fatalf("Recover(2) = %v, %v; want false (pre-committed, never committed)", ok, err)
	}
	if ok, err := s2.Recover(ctx, 1, data1); err != nil || !ok {
		t.Fatalf("Recover(1) = %v, %v; want true", ok, err)
	}
	if _, err := s2.Recover(ctx, 1, []byte("junk")); err == nil || !strings.Contains(err.Error(), "no transaction marker") {
		t.Fatalf("Recover with data that is not this sink's: %v", err)
	}
	write(s2, rows[300:700])
	_, err = s2.PreCommit(ctx, 3)
	must(err)
	must(s2.CommitCheckpoint(ctx, 3))
	_, err = s2.PreCommit(ctx, 4) // nothing since 3
	must(err)
	must(s2.CommitCheckpoint(ctx, 4))
	write(s2, rows[700:])
	must(s2.(exec.Sink).Commit())
	k.waitStable(t, topic)
	got, err := k.read(t, kafkaSchema, topic, "format", "json", "scan.startup.mode", "earliest-offset", "scan.bounded.mode", "latest-offset", "properties.isolation.level", "read_committed")
	must(err)
	sameMultiset(t, got, rows)
}

// txns opens the transactions of a sink of topic with prefix.
func (k *kafkaEnv) txns(t *testing.T, topic, prefix string) *kafkaTxns {
	t.Helper()
	c := &kafkaConfig{table: "snk", topic: topic, brokers: []string{k.addr}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tx, err := openKafkaTxns(ctx, c, prefix, []kgo.Opt{kgo.AllowAutoTopicCreation()})
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func commitFn(tx *kafkaTxns) func(context.Context, int64) error {
	return func(ctx context.Context, id int64) error { return tx.commit(ctx, id, "t") }
}

// readCommitted reads topic's values with read_committed once no
// transaction is open in it.
func (k *kafkaEnv) readCommitted(t *testing.T, topic string) []string {
	t.Helper()
	k.waitStable(t, topic)
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []string
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		f := cl.PollFetches(ctx)
		f.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	}
	slices.Sort(out)
	return out
}

func (k *kafkaEnv) checkpointCommits(t *testing.T) {
	topic := k.topic(t, 3)
	prefix := "ckpt-" + topic
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	tx := k.txns(t, topic, prefix)
	if m, _, err := tx.marker(ctx); err != nil || m != -1 {
		t.Fatalf("marker of a new prefix: %d, %v; want -1", m, err)
	}
	var want []string
	next := 0
	write := func(tx *kafkaTxns, n int, keep bool) {
		for range n {
			v := strconv.Itoa(next)
			next++
			if err := tx.produce(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}); err != nil {
				t.Fatal(err)
			}
			if keep {
				want = append(want, v)
			}
		}
	}
	step := func(tx *kafkaTxns, f func(context.Context, int64) error, id int64) {
		t.Helper()
		if err := f(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	// Checkpoints 1 and 2 commit; records after barrier 2 go to a new
	// transaction while 2 waits for its commit.
	write(tx, 1+rng.IntN(500), true)
	step(tx, tx.preCommit, 1)
	step(tx, commitFn(tx), 1)
	write(tx, 1+rng.IntN(500), true)
	step(tx, tx.preCommit, 2)
	write(tx, 1+rng.IntN(500), false) // checkpoint 3's, never committed
	step(tx, commitFn(tx), 2)
	if m, _, _ := tx.marker(ctx); m != 2 {
		t.Fatalf("marker after checkpoint 2: %d", m)
	}
	// Checkpoint 3: pre-committed (flushed) but the run "dies" before its
	// commit: its records reached the broker and must never be visible.
	step(tx, tx.preCommit, 3)
	write(tx, 1+rng.IntN(500), false)
	// The "killed" run: its clients are dropped with two transactions open.

	tx2 := k.txns(t, topic, prefix)
	defer tx2.close()
	for id, want := range map[int64]bool{1: true, 2: true, 3: false, 4: false} {
		got, err := tx2.recover(ctx, id, "t")
		if err != nil || got != want {
			t.Fatalf("recover(%d) = %v, %v; want %v", id, got, err, want)
		}
	}
	// A marker of another run (token) proves nothing.
	if ok, err := tx2.recover(ctx, 1, "other"); err != nil || ok {
		t.Fatalf("recover(1) with another run's token = %v, %v; want false", ok, err)
	}
	// The restarted run: checkpoint 3 again, then an empty checkpoint 4.
	write(tx2, 1+rng.IntN(500), true)
	step(tx2, tx2.preCommit, 3)
	step(tx2, commitFn(tx2), 3)
	step(tx2, tx2.preCommit, 4)
	step(tx2, commitFn(tx2), 4)
	if ok, err := tx2.recover(ctx, 4, "t"); err != nil || !ok {
		t.Fatalf("recover(4) after an empty checkpoint 4: %v, %v", ok, err)
	}
	slices.Sort(want)
	got := k.readCommitted(t, topic)
	if !slices.Equal(got, want) {
		t.Fatalf("read_committed reads %d records, want %d (the committed checkpoints' only, each once)", len(got), len(want))
	}
	tx.close()
}

// checkpointPoolWait: with every producer's transaction waiting for its
// checkpoint, a write waits until a commit frees one.
func (k *kafkaEnv) checkpointPoolWait(t *testing.T) {
	topic := k.topic(t, 1)
	ctx := context.Background()
	tx := k.txns(t, topic, "pool-"+topic)
	defer tx.close()
	rec := func(i int) *kgo.Record { return &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "%d", i)} }
	for id := int64(1); id <= kafkaTxnPool; id++ {
		if err := tx.produce(ctx, rec(int(id))); err != nil {
			t.Fatal(err)
		}
		if err := tx.preCommit(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- tx.produce(ctx, rec(99)) }()
	select {
	case err := <-done:
		t.Fatalf("a write with %d transactions pending did not wait (%v)", kafkaTxnPool, err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.commit(ctx, 1, "t"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the write still waits after checkpoint 1's commit")
	}
	for id := int64(2); id <= kafkaTxnPool+1; id++ {
		if id == kafkaTxnPool+1 {
			if err := tx.preCommit(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.commit(ctx, id, "t"); err != nil {
			t.Fatal(err)
		}
	}
	if got := k.readCommitted(t, topic); len(got) != kafkaTxnPool+1 {
		t.Fatalf("read_committed reads %v, want %d records", got, kafkaTxnPool+1)
	}
}
