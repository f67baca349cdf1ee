package connector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// An exactly-once Kafka sink in a job with checkpoints runs one Kafka
// transaction per checkpoint, as Flink's does: the records written between
// two checkpoint barriers go into one transaction, which PreCommit flushes
// and CommitCheckpoint commits once the checkpoint is stored.
//
// A transaction cannot be committed again after the engine restarts (a new
// producer with the same transactional id aborts what the old one left
// open), so after a restart the sink must know whether the transaction of
// the checkpoint it restarts from committed. Each transaction therefore
// commits, atomically with its records, a marker: the offset of the
// consumer group '<sink.transactional-id-prefix>-weir-checkpoints' on the
// sink topic's partition 0 is set to the checkpoint's id inside the
// transaction (AddOffsetsToTxn + TxnOffsetCommit). The group offset is the
// id of the last checkpoint whose records are visible. A checkpoint without
// records has no transaction; its marker is a plain offset commit.
//
// The sink has a small pool of producers with transactional ids
// '<prefix>-0', '<prefix>-1', ...: records written after a barrier go to
// another producer's transaction while the one before waits for its commit
// (weir's job commits a checkpoint before it writes on, but the sink does
// not rely on that). A new sink starts all of them, which aborts any
// transaction a killed run left open on them.
//
// Without checkpoints the job's records are one transaction, committed by
// the sink's Commit (finish).

// kafkaTxnPool is the number of producers (transactional ids) of a sink
// with checkpoints: one takes writes while the others' transactions wait
// for their checkpoint to be stored.
const kafkaTxnPool = 3

// markerGroupSuffix names the group of a sink's checkpoint markers.
const markerGroupSuffix = "-weir-checkpoints"

// txnProducer is one transactional producer of the pool.
type txnProducer struct {
	client *kgo.Client
	txnID  string
	inTxn  bool
	mu     sync.Mutex
	err    error // the first failed record's
}

func (p *txnProducer) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// kafkaTxns runs the transactions of an exactly-once sink.
type kafkaTxns struct {
	c     *kafkaConfig
	group string
	admin *kgo.Client // not transactional: markers outside transactions, reads
	adm   *kadm.Client
	pool  []*txnProducer
	cur   *txnProducer // takes writes; nil until the first write after a barrier
	// pending are the producers whose transaction is flushed and waits for
	// its checkpoint's commit, by checkpoint id.
	mu      sync.Mutex
	free    *sync.Cond
	pending map[int64]*txnProducer
	closed  bool
	tid     *[16]byte // the topic's id, once read
}

// openKafkaTxns starts the pool's producers, which fences the producers of
// an earlier run with the same prefix and aborts their open transactions.
func openKafkaTxns(ctx context.Context, c *kafkaConfig, prefix string, opts []kgo.Opt) (*kafkaTxns, error) {
	t := &kafkaTxns{c: c, group: prefix + markerGroupSuffix, pending: map[int64]*txnProducer{}}
	t.free = sync.NewCond(&t.mu)
	var err error
	if t.admin, err = kgo.NewClient(c.clientOpts()...); err != nil {
		return nil, fmt.Errorf("table '%s': kafka: %w", c.table, err)
	}
	t.adm = kadm.NewClient(t.admin)
	for i := range kafkaTxnPool {
		p := &txnProducer{txnID: fmt.Sprintf("%s-%d", prefix, i)}
		t.pool = append(t.pool, p)
		p.client, err = kgo.NewClient(c.clientOpts(append(opts, kgo.TransactionalID(p.txnID), kgo.TransactionTimeout(defaultTransactionTimeout))...)...)
		if err != nil {
			t.close()
			return nil, fmt.Errorf("table '%s': kafka: %w", c.table, err)
		}
		// Loading the producer id (InitProducerID) fences the earlier
		// producer with this id and ends its open transaction.
		if _, _, err := p.client.ProducerID(ctx); err != nil {
			t.close()
			return nil, fmt.Errorf("table '%s': kafka: starting the transactional producer '%s': %w", c.table, p.txnID, err)
		}
	}
	return t, nil
}

// producer returns the producer taking writes, beginning its transaction.
func (t *kafkaTxns) producer(ctx context.Context) (*txnProducer, error) {
	if t.cur != nil {
		return t.cur, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		for _, p := range t.pool {
			if !p.inTxn && !t.isPending(p) {
				if err := p.client.BeginTransaction(); err != nil {
					return nil, fmt.Errorf("table '%s': kafka: beginning a transaction of '%s': %w", t.c.table, p.txnID, err)
				}
				p.inTxn = true
				t.cur = p
				return p, nil
			}
		}
		// Every producer's transaction waits for its checkpoint: wait
		// for a commit (or an abort).
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if t.closed {
			return nil, errClosed
		}
		t.free.Wait()
	}
}

func (t *kafkaTxns) isPending(p *txnProducer) bool {
	for _, q := range t.pending {
		if q == p {
			return true
		}
	}
	return false
}

// produce sends a record in the current transaction.
func (t *kafkaTxns) produce(ctx context.Context, r *kgo.Record) error {
	p, err := t.producer(ctx)
	if err != nil {
		return err
	}
	if err := p.failure(); err != nil {
		return err
	}
	p.client.Produce(context.Background(), r, func(r *kgo.Record, err error) {
		if err == nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.err == nil {
			p.err = fmt.Errorf("table '%s': kafka: writing to topic '%s' partition %d: %w", t.c.table, t.c.topic, r.Partition, err)
		}
	})
	return nil
}

// preCommit flushes the current transaction and sets it aside for
// checkpoint id; the next record starts a new transaction.
func (t *kafkaTxns) preCommit(ctx context.Context, id int64) error {
	p := t.cur
	t.cur = nil
	t.mu.Lock()
	if _, dup := t.pending[id]; dup {
		t.mu.Unlock()
		return fmt.Errorf("table '%s': kafka: checkpoint %d is pre-committed twice", t.c.table, id)
	}
	t.pending[id] = p // nil: no records since the last barrier
	t.mu.Unlock()
	if p == nil {
		return nil
	}
	if err := p.client.Flush(ctx); err != nil {
		return fmt.Errorf("table '%s': kafka: flushing the records of checkpoint %d: %w", t.c.table, id, err)
	}
	return p.failure()
}

// commit commits the transaction of checkpoint id with its marker, which
// carries token (the run's, see kafkaSink.Recover).
func (t *kafkaTxns) commit(ctx context.Context, id int64, token string) error {
	t.mu.Lock()
	p, ok := t.pending[id]
	t.mu.Unlock()
	if !ok {
		return fmt.Errorf("table '%s': kafka: checkpoint %d was not pre-committed", t.c.table, id)
	}
	var err error
	if p == nil {
		err = t.commitMarker(ctx, id, token)
	} else {
		err = t.commitTxn(ctx, p, id, token)
	}
	t.mu.Lock()
	delete(t.pending, id)
	if p != nil {
		p.inTxn = false
	}
	t.free.Broadcast()
	t.mu.Unlock()
	return err
}

// commitTxn adds the marker to p's transaction and commits it.
func (t *kafkaTxns) commitTxn(ctx context.Context, p *txnProducer, id int64, token string) error {
	if err := p.failure(); err != nil {
		p.client.EndTransaction(ctx, kgo.TryAbort)
		return err
	}
	if err := t.txnMarker(ctx, p, id, token); err != nil {
		p.client.EndTransaction(ctx, kgo.TryAbort)
		return fmt.Errorf("table '%s': kafka: adding checkpoint %d's marker (group '%s') to transaction '%s': %w", t.c.table, id, t.group, p.txnID, err)
	}
	if err := p.client.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return fmt.Errorf("table '%s': kafka: committing the transaction '%s' of checkpoint %d (its records are not visible to read_committed readers): %w", t.c.table, p.txnID, id, err)
	}
	return nil
}

// txnMarker commits offset id of the marker group inside p's open
// transaction.
func (t *kafkaTxns) txnMarker(ctx context.Context, p *txnProducer, id int64, token string) error {
	pid, epoch, err := p.client.ProducerID(ctx)
	if err != nil {
		return err
	}
	add := kmsg.NewPtrAddOffsetsToTxnRequest()
	add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = p.txnID, pid, epoch, t.group
	if err := retry(ctx, func() error {
		resp, err := add.RequestWith(ctx, p.client)
		if err != nil {
			return err
		}
		return kerr.ErrorForCode(resp.ErrorCode)
	}); err != nil {
		return fmt.Errorf("AddOffsetsToTxn: %w", err)
	}
	topicID, err := t.topicID(ctx)
	if err != nil {
		return err
	}
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch = p.txnID, t.group, pid, epoch
	req.Generation, req.MemberID = -1, ""
	part := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	part.Partition, part.Offset, part.LeaderEpoch, part.Metadata = 0, id, -1, &token
	topic := kmsg.NewTxnOffsetCommitRequestTopic()
	topic.Topic, topic.TopicID, topic.Partitions = t.c.topic, topicID, []kmsg.TxnOffsetCommitRequestTopicPartition{part}
	req.Topics = []kmsg.TxnOffsetCommitRequestTopic{topic}
	return retry(ctx, func() error {
		resp, err := req.RequestWith(ctx, p.client)
		if err != nil {
			return err
		}
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// topicID is the sink topic's id (newer OffsetCommit and TxnOffsetCommit
// versions name topics by id).
func (t *kafkaTxns) topicID(ctx context.Context) ([16]byte, error) {
	if t.tid != nil {
		return *t.tid, nil
	}
	var md kadm.Metadata
	err := retry(ctx, func() error {
		var err error
		if md, err = t.adm.Metadata(ctx, t.c.topic); err == nil {
			err = md.Topics[t.c.topic].Err
		}
		return err
	})
	if err != nil {
		return [16]byte{}, fmt.Errorf("reading topic '%s''s metadata: %w", t.c.topic, err)
	}
	id := [16]byte(md.Topics[t.c.topic].ID)
	t.tid = &id
	return id, nil
}

// commitMarker sets the marker to id outside a transaction: a checkpoint
// without records.
func (t *kafkaTxns) commitMarker(ctx context.Context, id int64, token string) error {
	topicID, err := t.topicID(ctx)
	if err != nil {
		return fmt.Errorf("table '%s': kafka: committing checkpoint %d's marker (group '%s'): %w", t.c.table, id, t.group, err)
	}
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: t.c.topic, TopicID: topicID, Partition: 0, At: id, LeaderEpoch: -1, Metadata: token})
	err = retry(ctx, func() error {
		resp, err := t.adm.CommitOffsets(ctx, t.group, os)
		if err == nil {
			err = resp.Error()
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("table '%s': kafka: committing checkpoint %d's marker (group '%s'): %w", t.c.table, id, t.group, err)
	}
	return nil
}

// marker reads the id of the last checkpoint whose transaction committed
// and its run's token, -1 when the group has none. Pending transactional
// commits are waited for (RequireStable), so call it after openKafkaTxns
// ended the earlier run's.
func (t *kafkaTxns) marker(ctx context.Context) (int64, string, error) {
	var resp kadm.OffsetResponses
	err := retry(ctx, func() error {
		var err error
		if resp, err = t.adm.FetchOffsets(kadm.RequireStable(ctx), t.group); err == nil {
			err = resp.Error()
		}
		if errors.Is(err, kerr.UnstableOffsetCommit) {
			return kerr.CoordinatorLoadInProgress // retriable: wait
		}
		return err
	})
	if err != nil {
		return 0, "", fmt.Errorf("table '%s': kafka: reading the checkpoint marker (group '%s'): %w", t.c.table, t.group, err)
	}
	if r, ok := resp.Lookup(t.c.topic, 0); ok && r.At >= 0 {
		return r.At, r.Metadata, nil
	}
	return -1, "", nil
}

// recover reports whether checkpoint id's transaction, pre-committed by
// the run of token, committed before the engine stopped.
func (t *kafkaTxns) recover(ctx context.Context, id int64, token string) (bool, error) {
	m, mark, err := t.marker(ctx)
	if err != nil {
		return false, err
	}
	return m >= id && mark == token, nil
}

// finish commits the open transaction, if any, without a marker: the
// records after the last checkpoint of a job that ended.
func (t *kafkaTxns) finish(ctx context.Context) error {
	p := t.cur
	t.cur = nil
	if p == nil {
		return nil
	}
	p.inTxn = false
	if err := p.client.Flush(ctx); err != nil {
		return fmt.Errorf("table '%s': kafka: %w", t.c.table, err)
	}
	if err := p.failure(); err != nil {
		p.client.EndTransaction(ctx, kgo.TryAbort)
		return err
	}
	if err := p.client.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return fmt.Errorf("table '%s': kafka: committing the transaction (its rows are not visible to read_committed readers): %w", t.c.table, err)
	}
	return nil
}

// abort aborts every open transaction (a failed or cancelled job).
func (t *kafkaTxns) abort() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, p := range t.pool {
		if p.inTxn {
			p.client.AbortBufferedRecords(ctx)
			p.client.EndTransaction(ctx, kgo.TryAbort)
			p.inTxn = false
		}
	}
	t.close()
}

// close closes the clients, waking a writer waiting for a free producer.
func (t *kafkaTxns) close() {
	t.mu.Lock()
	t.closed = true
	t.free.Broadcast()
	t.mu.Unlock()
	for _, p := range t.pool {
		if p.client != nil {
			p.client.Close()
		}
	}
	if t.admin != nil {
		t.admin.Close()
	}
}
