package connector

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

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
	if m, err := tx.marker(ctx); err != nil || m != -1 {
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
	// transaction while 2 waits for its commit; checkpoint 3 is empty.
	write(tx, 1+rng.IntN(500), true)
	step(tx, tx.preCommit, 1)
	step(tx, tx.commit, 1)
	write(tx, 1+rng.IntN(500), true)
	step(tx, tx.preCommit, 2)
	write(tx, 1+rng.IntN(500), false) // checkpoint 3's, never committed
	step(tx, tx.commit, 2)
	if m, _ := tx.marker(ctx); m != 2 {
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
		got, err := tx2.recover(ctx, id)
		if err != nil || got != want {
			t.Fatalf("recover(%d) = %v, %v; want %v", id, got, err, want)
		}
	}
	// The restarted run: checkpoint 3 again, then an empty checkpoint 4.
	write(tx2, 1+rng.IntN(500), true)
	step(tx2, tx2.preCommit, 3)
	step(tx2, tx2.commit, 3)
	step(tx2, tx2.preCommit, 4)
	step(tx2, tx2.commit, 4)
	if ok, err := tx2.recover(ctx, 4); err != nil || !ok {
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
	if err := tx.commit(ctx, 1); err != nil {
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
		if err := tx.commit(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if got := k.readCommitted(t, topic); len(got) != kafkaTxnPool+1 {
		t.Fatalf("read_committed reads %v, want %d records", got, kafkaTxnPool+1)
	}
}
