package connector

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/format"
	"github.com/weir-dev/weir/internal/types"
)

// kafkaSink writes a row per record. Records are sent as they are written;
// Commit waits for all of them (and commits the transaction of an
// exactly-once sink), so a job succeeds only once the brokers have its rows.
type kafkaSink struct {
	c       *kafkaConfig
	client  *kgo.Client // without transactions
	txns    *kafkaTxns  // exactly-once
	token   string      // exactly-once: this run's mark on its checkpoint markers
	keyEnc  format.Encoder
	valEnc  format.Encoder
	fixed   bool // sink.partitioner 'fixed': partition 0
	keyCols []arrow.Array
	valCols []arrow.Array
	rows    int64
	closed  bool
	mu      sync.Mutex
	err     error // the first failed record's
}

var _ checkpoint.Sink = (*kafkaSink)(nil)

// defaultTransactionTimeout is the broker's default maximum
// (transaction.max.timeout.ms): a batch job writes its whole output in one
// transaction.
const defaultTransactionTimeout = 15 * time.Minute

func openKafkaSink(o *options, schema types.Schema) (exec.Sink, error) {
	c, err := readKafkaConfig(o, schema, kafkaSinkOptions)
	if err != nil {
		return nil, err
	}
	for _, k := range kafkaSinkOptions {
		if _, ok := o.m[k]; ok {
			o.used[k] = true
		}
	}
	if err := o.finish(c.known); err != nil {
		return nil, err
	}
	guarantee := "at-least-once"
	if v, ok := o.get("sink.delivery-guarantee"); ok {
		guarantee = strings.ToLower(v)
	}
	prefix, hasPrefix := o.get("sink.transactional-id-prefix")
	opts := []kgo.Opt{kgo.AllowAutoTopicCreation(), kgo.MaxBufferedRecords(100_000), kgo.ProducerBatchMaxBytes(1 << 20)}
	s := &kafkaSink{c: c}
	switch guarantee {
	case "none":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	case "at-least-once":
	case "exactly-once":
		if !hasPrefix || strings.TrimSpace(prefix) == "" {
			return nil, o.errorf("option 'sink.transactional-id-prefix' is required by 'sink.delivery-guarantee' = 'exactly-once': a name unique to this job among the jobs writing to the cluster (its Kafka transactions' ids start with it)")
		}
	default:
		return nil, o.bad("sink.delivery-guarantee", "must be 'none', 'at-least-once' or 'exactly-once'")
	}
	txn := guarantee == "exactly-once"
	if hasPrefix && !txn {
		return nil, o.errorf("option 'sink.transactional-id-prefix' is set, but 'sink.delivery-guarantee' is '%s': it is used only by 'exactly-once'", guarantee)
	}
	if v, ok := o.get("sink.partitioner"); ok {
		switch v {
		case "default":
		case "round-robin":
			opts = append(opts, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
		case "fixed":
			s.fixed = true
			opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
		default:
			return nil, o.bad("sink.partitioner", "weir supports 'default', 'fixed' and 'round-robin' (no partitioner classes)")
		}
	}
	if v, ok := o.get("sink.parallelism"); ok && strings.TrimSpace(v) != "1" {
		return nil, o.bad("sink.parallelism", "weir writes a table with one writer: leave it out or set '1'")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	unreachable := func(err error) error {
		return fmt.Errorf("table '%s': kafka: cannot reach the brokers %s: %w; check 'properties.bootstrap.servers' and that the brokers are up", c.table, strings.Join(c.brokers, ","), err)
	}
	if txn {
		// Starting the transactional producers fences an earlier run's
		// and aborts what it left open.
		probe, err := kgo.NewClient(c.clientOpts()...)
		if err != nil {
			return nil, fmt.Errorf("table '%s': kafka: %w", c.table, err)
		}
		err = probe.Ping(ctx)
		probe.Close()
		if err != nil {
			return nil, unreachable(err)
		}
		if s.txns, err = openKafkaTxns(ctx, c, strings.TrimSpace(prefix), opts); err != nil {
			return nil, err
		}
		var token [8]byte
		rand.Read(token[:])
		s.token = hex.EncodeToString(token[:])
	} else {
		s.client, err = kgo.NewClient(c.clientOpts(opts...)...)
		if err != nil {
			return nil, fmt.Errorf("table '%s': kafka: %w", c.table, err)
		}
		if err := s.client.Ping(ctx); err != nil {
			s.client.Close()
			return nil, unreachable(err)
		}
	}
	if c.key != nil {
		s.keyEnc = c.key.NewEncoder()
		s.keyCols = make([]arrow.Array, len(c.keyCols))
	}
	s.valEnc = c.value.NewEncoder()
	s.valCols = make([]arrow.Array, len(c.valCols))
	return s, nil
}

func (s *kafkaSink) Rows() int64 { return s.rows }

func (s *kafkaSink) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *kafkaSink) Write(ctx context.Context, b arrow.RecordBatch) error {
	if s.closed {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.failure(); err != nil {
		return err
	}
	for i, j := range s.c.valCols {
		s.valCols[i] = b.Column(j)
	}
	for i, j := range s.c.keyCols {
		s.keyCols[i] = b.Column(j)
	}
	n := int(b.NumRows())
	// The records of a batch share one buffer, never overwritten: the
	// client holds them until the brokers have them.
	buf := make([]byte, 0, 64*n)
	for i := 0; i < n; i++ {
		r := &kgo.Record{Topic: s.c.topic}
		if s.keyEnc != nil {
			start := len(buf)
			k, err := s.keyEnc.Append(buf, s.keyCols, i)
			if err != nil {
				return fmt.Errorf("table '%s': kafka: encoding the key of row %d: %w", s.c.table, s.rows+int64(i)+1, err)
			}
			if k != nil {
				buf = k
				r.Key = buf[start:len(buf):len(buf)]
			}
		}
		start := len(buf)
		v, err := s.valEnc.Append(buf, s.valCols, i)
		if err != nil {
			return fmt.Errorf("table '%s': kafka: encoding row %d: %w", s.c.table, s.rows+int64(i)+1, err)
		}
		if v != nil {
			buf = v
			r.Value = buf[start:len(buf):len(buf)]
		}
		if s.fixed {
			r.Partition = 0
		}
		if s.txns != nil {
			if err := s.txns.produce(ctx, r); err != nil {
				return err
			}
			continue
		}
		s.client.Produce(context.Background(), r, s.promise)
	}
	s.rows += int64(n)
	return nil
}

// promise keeps the first error of a record.
func (s *kafkaSink) promise(r *kgo.Record, err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = fmt.Errorf("table '%s': kafka: writing to topic '%s' partition %d: %w", s.c.table, s.c.topic, r.Partition, err)
	}
}

// Commit waits until the brokers have every record and, exactly-once,
// commits the open transaction (with checkpoints: the records after the
// last checkpoint).
func (s *kafkaSink) Commit() error {
	if s.closed {
		return errClosed
	}
	s.closed = true
	ctx := context.Background()
	if s.txns != nil {
		defer s.txns.close()
		return s.txns.finish(ctx)
	}
	defer s.client.Close()
	if err := s.client.Flush(ctx); err != nil {
		return fmt.Errorf("table '%s': kafka: %w", s.c.table, err)
	}
	return s.failure()
}

// Abort drops what is not sent yet and, exactly-once, aborts the open
// transactions, so read_committed readers never see their rows.
func (s *kafkaSink) Abort(error) {
	if s.closed {
		return
	}
	s.closed = true
	if s.txns != nil {
		s.txns.abort()
		return
	}
	defer s.client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Without a transaction what was sent stays; send the rest, as Flink
	// flushes on close.
	s.client.Flush(ctx)
}

// PreCommit flushes the records written before checkpoint id's barrier;
// exactly-once, it ends their transaction's writes (the next record starts
// another) and returns the run's token, which the checkpoint's marker
// carries. At-least-once, the records are then on the brokers.
func (s *kafkaSink) PreCommit(ctx context.Context, id int64) ([]byte, error) {
	if s.closed {
		return nil, errClosed
	}
	if s.txns != nil {
		if err := s.txns.preCommit(ctx, id); err != nil {
			return nil, err
		}
		return []byte(kafkaMarkerVersion + s.token), nil
	}
	if err := s.client.Flush(ctx); err != nil {
		return nil, fmt.Errorf("table '%s': kafka: flushing the records of checkpoint %d: %w", s.c.table, id, err)
	}
	return nil, s.failure()
}

// CommitCheckpoint commits checkpoint id's transaction with its marker
// (nothing to do without transactions).
func (s *kafkaSink) CommitCheckpoint(ctx context.Context, id int64) error {
	if s.closed {
		return errClosed
	}
	if s.txns == nil {
		return nil
	}
	return s.txns.commit(ctx, id, s.token)
}

// kafkaMarkerVersion starts what PreCommit returns.
const kafkaMarkerVersion = "kafka-marker-v1:"

// Recover reports whether checkpoint id's transaction committed: its
// marker group's offset is id or later and carries the token of the run
// that pre-committed id (an offset of another run, or of an older job with
// the same prefix, proves nothing). Without transactions every checkpoint
// counts as committed (at-least-once).
func (s *kafkaSink) Recover(ctx context.Context, id int64, data []byte) (bool, error) {
	if s.txns == nil {
		return true, nil
	}
	token, ok := strings.CutPrefix(string(data), kafkaMarkerVersion)
	if !ok || token == "" {
		return false, fmt.Errorf("table '%s': kafka: checkpoint %d holds no transaction marker of this sink (%q); was it written by a sink other than this exactly-once kafka table?", s.c.table, id, data)
	}
	return s.txns.recover(ctx, id, token)
}
