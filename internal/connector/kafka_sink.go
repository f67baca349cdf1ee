package connector

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/format"
	"github.com/weir-dev/weir/internal/types"
)

// kafkaSink writes a row per record. Records are sent as they are written;
// Commit waits for all of them (and commits the transaction of an
// exactly-once sink), so a job succeeds only once the brokers have its rows.
type kafkaSink struct {
	c       *kafkaConfig
	client  *kgo.Client
	keyEnc  format.Encoder
	valEnc  format.Encoder
	txn     bool
	fixed   bool // sink.partitioner 'fixed': partition 0
	keyCols []arrow.Array
	valCols []arrow.Array
	rows    int64
	closed  bool
	mu      sync.Mutex
	err     error // the first failed record's
}

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
		s.txn = true
		opts = append(opts, kgo.TransactionalID(prefix+"-0"), kgo.TransactionTimeout(defaultTransactionTimeout))
	default:
		return nil, o.bad("sink.delivery-guarantee", "must be 'none', 'at-least-once' or 'exactly-once'")
	}
	if hasPrefix && !s.txn {
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
	s.client, err = kgo.NewClient(c.clientOpts(opts...)...)
	if err != nil {
		return nil, fmt.Errorf("table '%s': kafka: %w", c.table, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.client.Ping(ctx); err != nil {
		s.client.Close()
		return nil, fmt.Errorf("table '%s': kafka: cannot reach the brokers %s: %w; check 'properties.bootstrap.servers' and that the brokers are up", c.table, strings.Join(c.brokers, ","), err)
	}
	if s.txn {
		if err := s.client.BeginTransaction(); err != nil {
			s.client.Close()
			return nil, fmt.Errorf("table '%s': kafka: beginning a transaction: %w", c.table, err)
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
// commits the transaction.
func (s *kafkaSink) Commit() error {
	if s.closed {
		return errClosed
	}
	s.closed = true
	defer s.client.Close()
	ctx := context.Background()
	if err := s.client.Flush(ctx); err != nil {
		return fmt.Errorf("table '%s': kafka: %w", s.c.table, err)
	}
	if err := s.failure(); err != nil {
		if s.txn {
			s.client.EndTransaction(ctx, kgo.TryAbort)
		}
		return err
	}
	if s.txn {
		if err := s.client.EndTransaction(ctx, kgo.TryCommit); err != nil {
			return fmt.Errorf("table '%s': kafka: committing the transaction (its rows are not visible to read_committed readers): %w", s.c.table, err)
		}
	}
	return nil
}

// Abort drops what is not sent yet and, exactly-once, aborts the
// transaction, so read_committed readers never see the job's rows.
func (s *kafkaSink) Abort(error) {
	if s.closed {
		return
	}
	s.closed = true
	defer s.client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if s.txn {
		s.client.AbortBufferedRecords(ctx)
		s.client.EndTransaction(ctx, kgo.TryAbort)
		return
	}
	// Without a transaction what was sent stays; send the rest, as Flink
	// flushes on close.
	s.client.Flush(ctx)
}
