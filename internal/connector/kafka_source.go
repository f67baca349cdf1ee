package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/format"
	"github.com/weir-dev/weir/internal/types"
)

// kafkaSource reads a topic's partitions from their start offsets, up to
// their end offsets when bounded. It keeps control records (transaction
// markers) so that it sees every offset up to a bound, even one that ends in
// a marker or in aborted records a read_committed fetch leaves out.
type kafkaSource struct {
	c         *kafkaConfig
	client    *kgo.Client
	arrow     *arrow.Schema
	mem       memory.Allocator
	batchSize int
	keyDec    format.Decoder
	valDec    format.Decoder
	keyB      *format.Builder
	valB      *format.Builder
	// end is the offset each partition is read up to (excluded) when the
	// source is bounded; a partition is dropped from it when done.
	end     map[int32]int64
	bounded bool
	pending []*kgo.Record // polled, not yet decoded
	// next is, per partition read, the offset after the last record taken
	// into a batch: the checkpoint position (kafka_checkpoint.go).
	next map[int32]int64
	// cur and curNext hold the latest partition's entry of next until
	// another partition's record comes (records come by partition): no
	// map write per record.
	cur     int32
	curNext int64
	// idle makes poll return after idlePoll without records: set once the
	// job asks for a position (it takes checkpoints).
	idle     bool
	rows     int64
	closed   bool
	openedAt time.Time
}

// openKafkaSource checks the options, lists the topic's partitions and
// offsets, and starts a client reading them.
func openKafkaSource(o *options, schema types.Schema, batchSize int, mem memory.Allocator) (exec.Source, error) {
	c, err := readKafkaConfig(o, schema, kafkaSourceOptions)
	if err != nil {
		return nil, err
	}
	// Unknown options first: a typo is the likeliest cause of what follows.
	for _, k := range kafkaSourceOptions {
		if _, ok := o.m[k]; ok {
			o.used[k] = true
		}
	}
	if err := o.finish(c.known); err != nil {
		return nil, err
	}
	startMode := "group-offsets"
	if v, ok := o.m["scan.startup.mode"]; ok {
		startMode = v
	}
	boundMode := "unbounded"
	if v, ok := o.m["scan.bounded.mode"]; ok {
		boundMode = v
	}
	var startTS, boundTS int64
	var startSpecific, boundSpecific map[int32]int64
	switch startMode {
	case "earliest-offset", "latest-offset":
	case "group-offsets":
		if c.group == "" {
			return nil, o.errorf("option 'properties.group.id' is required by 'scan.startup.mode' = 'group-offsets' (Flink's default mode); set it, or choose another 'scan.startup.mode' ('earliest-offset', 'latest-offset', 'timestamp', 'specific-offsets')")
		}
	case "timestamp":
		if startTS, err = parseMillis(o, "scan.startup.timestamp-millis", startMode); err != nil {
			return nil, err
		}
	case "specific-offsets":
		if startSpecific, err = parseSpecificOffsets(o, "scan.startup.specific-offsets"); err != nil {
			return nil, err
		}
	default:
		return nil, o.bad("scan.startup.mode", "must be 'earliest-offset', 'latest-offset', 'group-offsets', 'timestamp' or 'specific-offsets'")
	}
	switch boundMode {
	case "unbounded", "latest-offset":
	case "group-offsets":
		if c.group == "" {
			return nil, o.errorf("option 'properties.group.id' is required by 'scan.bounded.mode' = 'group-offsets'")
		}
	case "timestamp":
		if boundTS, err = parseMillis(o, "scan.bounded.timestamp-millis", boundMode); err != nil {
			return nil, err
		}
	case "specific-offsets":
		if boundSpecific, err = parseSpecificOffsets(o, "scan.bounded.specific-offsets"); err != nil {
			return nil, err
		}
	default:
		return nil, o.bad("scan.bounded.mode", "must be 'unbounded', 'latest-offset', 'group-offsets', 'timestamp' or 'specific-offsets'")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := kgo.NewClient(c.clientOpts()...)
	if err != nil {
		return nil, fmt.Errorf("table '%s': kafka: %w", c.table, err)
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)
	readCommitted := c.props["isolation.level"] == "read_committed"
	list := func(what string, f func() (kadm.ListedOffsets, error)) (map[int32]int64, error) {
		var lo kadm.ListedOffsets
		err := retry(ctx, func() error {
			var err error
			if lo, err = f(); err == nil {
				err = lo.Error()
			}
			return err
		})
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return nil, fmt.Errorf("table '%s': kafka topic '%s' does not exist on %s; create it, or fix 'topic'", c.table, c.topic, strings.Join(c.brokers, ","))
		}
		if err != nil {
			return nil, c.brokerErr(fmt.Sprintf("listing the %s offsets of", what), err)
		}
		out := map[int32]int64{}
		for p, l := range lo[c.topic] {
			out[p] = l.Offset
		}
		return out, nil
	}
	earliest, err := list("earliest", func() (kadm.ListedOffsets, error) { return adm.ListStartOffsets(ctx, c.topic) })
	if err != nil {
		return nil, err
	}
	latest, err := list("latest", func() (kadm.ListedOffsets, error) {
		if readCommitted {
			return adm.ListCommittedOffsets(ctx, c.topic)
		}
		return adm.ListEndOffsets(ctx, c.topic)
	})
	if err != nil {
		return nil, err
	}
	if len(latest) == 0 {
		return nil, fmt.Errorf("table '%s': kafka topic '%s' does not exist on %s; create it, or fix 'topic'", c.table, c.topic, strings.Join(c.brokers, ","))
	}
	var group map[int32]int64
	if startMode == "group-offsets" || boundMode == "group-offsets" {
		var resp kadm.OffsetResponses
		err := retry(ctx, func() error {
			var err error
			if resp, err = adm.FetchOffsetsForTopics(ctx, c.group, c.topic); err == nil {
				err = resp.Error()
			}
			return err
		})
		if err != nil {
			return nil, c.brokerErr(fmt.Sprintf("fetching the offsets of group '%s' on", c.group), err)
		}
		group = map[int32]int64{}
		for p, r := range resp[c.topic] {
			if r.At >= 0 {
				group[p] = r.At
			}
		}
	}
	offsetsAt := func(ms int64) (map[int32]int64, error) {
		return list("timestamp", func() (kadm.ListedOffsets, error) { return adm.ListOffsetsAfterMilli(ctx, ms, c.topic) })
	}

	start := map[int32]int64{}
	switch startMode {
	case "earliest-offset":
		start = earliest
	case "latest-offset":
		start = latest
	case "timestamp":
		if start, err = offsetsAt(startTS); err != nil {
			return nil, err
		}
	case "specific-offsets":
		for p := range latest {
			off, ok := startSpecific[p]
			if !ok {
				off = earliest[p] // Flink's default for partitions not listed
			}
			start[p] = off
		}
		for p := range startSpecific {
			if _, ok := latest[p]; !ok {
				return nil, o.bad("scan.startup.specific-offsets", "topic '%s' has no partition %d (it has %d)", c.topic, p, len(latest))
			}
		}
	case "group-offsets":
		reset, _ := c.props["auto.offset.reset"]
		for p := range latest {
			off, ok := group[p]
			switch {
			case ok:
			case reset == "earliest":
				off = earliest[p]
			case reset == "latest":
				off = latest[p]
			default:
				return nil, fmt.Errorf("table '%s': kafka group '%s' has no committed offset for partition %d of topic '%s', and 'properties.auto.offset.reset' is not set (Flink fails here too); set it to 'earliest' or 'latest', or choose another 'scan.startup.mode'", c.table, c.group, p, c.topic)
			}
			start[p] = off
		}
	}
	s := &kafkaSource{c: c, arrow: schema.Arrow(), mem: mem, batchSize: batchSize, openedAt: time.Now()}
	if boundMode != "unbounded" {
		s.bounded = true
		var end map[int32]int64
		switch boundMode {
		case "latest-offset":
			end = latest
		case "group-offsets":
			end = map[int32]int64{}
			for p := range latest {
				if off, ok := group[p]; ok {
					end[p] = off
				} else {
					end[p] = start[p] // nothing committed: nothing to read
				}
			}
		case "timestamp":
			if end, err = offsetsAt(boundTS); err != nil {
				return nil, err
			}
		case "specific-offsets":
			end = map[int32]int64{}
			for p := range latest {
				if off, ok := boundSpecific[p]; ok {
					end[p] = off
				} else {
					end[p] = latest[p]
				}
			}
		}
		s.end = map[int32]int64{}
		for p, e := range end {
			if e > start[p] {
				s.end[p] = e
			}
		}
	}
	s.next = map[int32]int64{}
	for p, off := range start {
		if s.bounded && s.end[p] == 0 {
			continue
		}
		s.next[p] = off
	}
	if err := s.startClient(); err != nil {
		return nil, err
	}
	if c.key != nil && len(c.valCols) < len(c.schema) {
		// With 'value.fields-include' = 'ALL' the value has every column.
		s.keyDec = c.key.NewDecoder()
		s.keyB = format.NewBuilder(schemaOf(c.schema, c.keyCols), mem)
	}
	s.valDec = c.value.NewDecoder()
	s.valB = format.NewBuilder(schemaOf(c.schema, c.valCols), mem)
	return s, nil
}

// retry runs f until it succeeds, fails for good, or ctx ends: a new
// cluster answers "coordinator not available" for a moment.
func retry(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil || !kerr.IsRetriable(err) || errors.Is(err, kerr.UnknownTopicOrPartition) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func schemaOf(s types.Schema, cols []int) types.Schema {
	out := make(types.Schema, len(cols))
	for i, j := range cols {
		out[i] = s[j]
	}
	return out
}

// brokerErr wraps an error from the brokers.
func (c *kafkaConfig) brokerErr(what string, err error) error {
	return fmt.Errorf("table '%s': kafka: %s topic '%s' on %s: %w; check 'properties.bootstrap.servers' and that the brokers are up", c.table, what, c.topic, strings.Join(c.brokers, ","), err)
}

func (s *kafkaSource) Schema() types.Schema { return s.c.schema }
func (s *kafkaSource) Rows() int64          { return s.rows }

func (s *kafkaSource) Close() error {
	if !s.closed && s.client != nil {
		s.client.Close()
	}
	s.closed = true
	return nil
}

// done reports whether a bounded source has read every partition.
func (s *kafkaSource) done() bool { return s.client == nil || s.bounded && len(s.end) == 0 }

func (s *kafkaSource) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.closed {
		return nil, fmt.Errorf("table '%s': source is closed", s.c.table)
	}
	for s.valB.Len() < s.batchSize {
		if len(s.pending) == 0 {
			if s.done() || s.valB.Len() > 0 {
				break
			}
			if err := s.poll(ctx); err != nil {
				return nil, err
			}
			if len(s.pending) == 0 {
				break // idle: a batch of no rows
			}
			continue
		}
		r := s.pending[0]
		s.pending = s.pending[1:]
		if r.Partition != s.cur {
			s.flushNext()
			s.cur = r.Partition
		}
		s.curNext = r.Offset + 1
		if s.bounded {
			end, ok := s.end[r.Partition]
			if !ok || r.Offset >= end {
				continue
			}
			if r.Offset+1 >= end {
				delete(s.end, r.Partition)
				if len(s.end) == 0 {
					s.pending = nil
				}
			}
		}
		if r.Attrs.IsControl() {
			continue
		}
		if err := s.decode(r); err != nil {
			return nil, err
		}
	}
	if s.valB.Len() == 0 && s.done() {
		return nil, io.EOF
	}
	return s.finish()
}

// poll waits for the next records.
//
// In a job that takes checkpoints, an idle topic returns after idlePoll
// with nothing polled: Next then returns a batch of no rows, so that the
// job's source goroutine can send a checkpoint's barrier while no records
// come.
func (s *kafkaSource) poll(ctx context.Context) error {
	pctx := ctx
	if s.idle {
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(ctx, idlePoll)
		defer cancel()
	}
	fetches := s.client.PollFetches(pctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	fetches.EachError(func(topic string, p int32, e error) {
		if err == nil && !errors.Is(e, context.Canceled) && !errors.Is(e, context.DeadlineExceeded) {
			err = fmt.Errorf("table '%s': kafka topic '%s' partition %d: %w", s.c.table, topic, p, e)
		}
	})
	if err != nil {
		return err
	}
	s.pending = append(s.pending[:0], fetches.Records()...)
	return nil
}

// decode appends the row of a record to the builders.
func (s *kafkaSource) decode(r *kgo.Record) error {
	n := s.valB.Len()
	if err := s.valDec.Decode(r.Value, s.valB); err != nil {
		return s.decodeErr(r, "value", err)
	}
	if s.keyDec == nil || s.valB.Len() == n {
		return nil
	}
	k := s.keyB.Len()
	if err := s.keyDec.Decode(r.Key, s.keyB); err != nil {
		return s.decodeErr(r, "key", err)
	}
	if s.keyB.Len() == k {
		// The key was skipped (ignore-parse-errors): skip the row.
		return fmt.Errorf("%s: the key does not decode and was skipped, but its value was not; set the same ignore-parse-errors option for 'key.format' and the value's format", s.c.where(r.Partition, r.Offset))
	}
	return nil
}

func (s *kafkaSource) decodeErr(r *kgo.Record, part string, err error) error {
	hint := "fix the record, or set the format's ignore-parse-errors option to skip such records"
	f := s.c.value
	prefix := ""
	if part == "key" {
		f, prefix = s.c.key, "key."
	} else {
		prefix = s.c.valuePrefix
	}
	switch f.Name() {
	case "json", "csv":
		hint = fmt.Sprintf("fix the record, or set '%s%s.ignore-parse-errors' = 'true' to skip such records", prefix, f.Name())
	}
	return fmt.Errorf("%s: the %s does not decode as %s: %w; %s", s.c.where(r.Partition, r.Offset), part, f.Name(), err, hint)
}

// finish builds the batch of the rows decoded so far.
func (s *kafkaSource) finish() (arrow.RecordBatch, error) {
	val, err := s.valB.Finish()
	if err != nil {
		return nil, fmt.Errorf("table '%s': %w", s.c.table, err)
	}
	defer val.Release()
	cols := make([]arrow.Array, len(s.c.schema))
	for i, j := range s.c.valCols {
		cols[j] = val.Column(i)
	}
	if s.keyB != nil {
		key, err := s.keyB.Finish()
		if err != nil {
			return nil, fmt.Errorf("table '%s': %w", s.c.table, err)
		}
		defer key.Release()
		for i, j := range s.c.keyCols {
			if cols[j] == nil { // with 'ALL', the value's copy wins
				cols[j] = key.Column(i)
			}
		}
	}
	n := val.NumRows()
	s.rows += n
	return array.NewRecordBatch(s.arrow, cols, n), nil
}
