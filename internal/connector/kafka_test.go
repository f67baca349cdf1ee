package connector

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weir-dev/weir/internal/exec"
	"github.com/weir-dev/weir/internal/kafkatest"
	"github.com/weir-dev/weir/internal/types"
)

// TestKafka runs the kafka connector against a real broker (make kafka).
func TestKafka(t *testing.T) {
	broker, err := kafkatest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Stop()
	k := &kafkaEnv{t: t, addr: broker.Addr}
	t.Run("RoundTrip", k.roundTrip)
	t.Run("ExactlyOnce", k.exactlyOnce)
	t.Run("KeyFields", k.keyFields)
	t.Run("StartupAndBoundedModes", k.modes)
	t.Run("BadRecords", k.badRecords)
	t.Run("Unbounded", k.unbounded)
	t.Run("MissingTopic", k.missingTopic)
}

type kafkaEnv struct {
	t    *testing.T
	addr string
	n    int
}

// topic creates a new topic of the given partitions.
func (k *kafkaEnv) topic(t *testing.T, partitions int32) string {
	k.n++
	name := fmt.Sprintf("t%d-%s", k.n, strings.ReplaceAll(t.Name(), "/", "-"))
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// produce writes raw records (a nil value is a tombstone) to partition p.
func (k *kafkaEnv) produce(t *testing.T, topic string, p int32, values ...[]byte) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: v})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// waitStable waits until no transaction is open in topic: a committed
// transaction's markers reach its partitions shortly after the commit.
func (k *kafkaEnv) waitStable(t *testing.T, topic string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		hw, err1 := adm.ListEndOffsets(ctx, topic)
		ls, err2 := adm.ListCommittedOffsets(ctx, topic)
		if err1 != nil || err2 != nil {
			continue
		}
		stable := true
		hw.Each(func(o kadm.ListedOffset) {
			if l, ok := ls.Lookup(o.Topic, o.Partition); !ok || l.Offset != o.Offset {
				stable = false
			}
		})
		if stable {
			return
		}
	}
	t.Fatalf("topic %s still has an open transaction after 30s", topic)
}

func (k *kafkaEnv) options(topic string, kv ...string) map[string]string {
	m := map[string]string{"connector": "kafka", "topic": topic, "properties.bootstrap.servers": k.addr}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// write writes rows through a kafka sink and commits (or aborts).
func (k *kafkaEnv) write(t *testing.T, schema types.Schema, rows [][]any, commit bool, kv ...string) {
	t.Helper()
	sink, err := OpenSink("out", schema, k.options(kv[0], kv[1:]...), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := kafkaBatch(t, schema, rows)
	defer b.Release()
	if err := sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if !commit {
		sink.Abort(fmt.Errorf("test"))
		return
	}
	if err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := sink.(exec.Counter).Rows(); got != int64(len(rows)) {
		t.Errorf("sink counted %d rows, want %d", got, len(rows))
	}
}

// read reads a bounded source to its end.
func (k *kafkaEnv) read(t *testing.T, schema types.Schema, kv ...string) ([][]any, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	src, err := OpenSource("in", schema, k.options(kv[0], kv[1:]...), 7, mem)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var rows [][]any
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		b, err := src.Next(ctx)
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, batchRows(b)...)
		b.Release()
	}
}

func kafkaBatch(t *testing.T, schema types.Schema, rows [][]any) arrow.RecordBatch {
	t.Helper()
	mem := memory.DefaultAllocator
	cols := make([]arrow.Array, len(schema))
	for j, f := range schema {
		vals := make([]any, len(rows))
		for i, r := range rows {
			vals[i] = r[j]
		}
		a, err := exec.BuildArray(mem, f.Type, vals)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Release()
		cols[j] = a
	}
	return arrowBatch(schema, cols, len(rows))
}

func batchRows(b arrow.RecordBatch) [][]any {
	var rows [][]any
	for i := 0; i < int(b.NumRows()); i++ {
		row := make([]any, b.NumCols())
		for j := range row {
			row[j] = exec.ValueAt(b.Column(j), i)
		}
		rows = append(rows, row)
	}
	return rows
}

var kafkaSchema = types.Schema{{Name: "id", Type: types.BIGINT}, {Name: "name", Type: types.STRING}, {Name: "score", Type: types.DOUBLE}}

func kafkaRows(n int, seed uint64) [][]any {
	r := rand.New(rand.NewPCG(seed, 1))
	var rows [][]any
	for i := range n {
		var name any = fmt.Sprintf("n%d-%x", i, r.Uint32())
		if r.IntN(10) == 0 {
			name = nil
		}
		rows = append(rows, []any{int64(i), name, r.Float64() * 1000})
	}
	return rows
}

// sameMultiset compares rows regardless of order (partitions interleave).
func sameMultiset(t *testing.T, got, want [][]any) {
	t.Helper()
	count := map[string]int{}
	for _, r := range want {
		count[fmt.Sprint(r)]++
	}
	for _, r := range got {
		count[fmt.Sprint(r)]--
	}
	for r, c := range count {
		if c != 0 {
			t.Fatalf("row %s: %d more wanted than read (read %d rows, want %d)", r, c, len(got), len(want))
		}
	}
}

func (k *kafkaEnv) roundTrip(t *testing.T) {
	for _, f := range []string{"json", "csv", "avro"} {
		t.Run(f, func(t *testing.T) {
			topic := k.topic(t, 3)
			rows := kafkaRows(500, 1)
			k.write(t, kafkaSchema, rows, true, topic, "format", f, "sink.partitioner", "round-robin")
			got, err := k.read(t, kafkaSchema, topic, "format", f, "scan.startup.mode", "earliest-offset", "scan.bounded.mode", "latest-offset")
			if err != nil {
				t.Fatal(err)
			}
			sameMultiset(t, got, rows)
		})
	}
}

func (k *kafkaEnv) exactlyOnce(t *testing.T) {
	topic := k.topic(t, 2)
	eo := []string{"format", "json", "sink.delivery-guarantee", "exactly-once", "sink.transactional-id-prefix", "weir-test-" + topic}
	aborted := kafkaRows(100, 2)
	k.write(t, kafkaSchema, aborted, false, append([]string{topic}, eo...)...)
	k.write(t, kafkaSchema, nil, true, append([]string{topic}, eo...)...) // no rows: an empty transaction commits
	committed := kafkaRows(300, 3)
	k.write(t, kafkaSchema, committed, true, append([]string{topic}, eo...)...)
	read := []string{topic, "format", "json", "scan.startup.mode", "earliest-offset", "scan.bounded.mode", "latest-offset"}
	k.waitStable(t, topic)
	got, err := k.read(t, kafkaSchema, append(read, "properties.isolation.level", "read_committed")...)
	if err != nil {
		t.Fatal(err)
	}
	sameMultiset(t, got, committed)
	// read_uncommitted also sees the aborted rows that reached the broker
	// before the abort.
	got, err = k.read(t, kafkaSchema, read...)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < len(committed) || len(got) > len(committed)+len(aborted) {
		t.Errorf("read_uncommitted read %d rows, want %d to %d", len(got), len(committed), len(committed)+len(aborted))
	}
}

func (k *kafkaEnv) keyFields(t *testing.T) {
	topic := k.topic(t, 2)
	rows := kafkaRows(50, 4)
	opts := []string{topic, "key.format", "json", "key.fields", "id", "value.format", "csv", "value.fields-include", "EXCEPT_KEY"}
	k.write(t, kafkaSchema, rows, true, opts...)
	got, err := k.read(t, kafkaSchema, append(opts, "scan.startup.mode", "earliest-offset", "scan.bounded.mode", "latest-offset")...)
	if err != nil {
		t.Fatal(err)
	}
	sameMultiset(t, got, rows)
	// The key is the JSON of the key column, the value the CSV of the others.
	cl, _ := kgo.NewClient(kgo.SeedBrokers(k.addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart(), 1: kgo.NewOffset().AtStart()}}))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f := cl.PollFetches(ctx)
	recs := f.Records()
	if len(recs) == 0 {
		t.Fatal("no records")
	}
	r := recs[0]
	if !strings.HasPrefix(string(r.Key), `{"id":`) || strings.Contains(string(r.Value), "{") {
		t.Errorf("record key %q value %q: want a JSON key with id and a CSV value", r.Key, r.Value)
	}
}

func (k *kafkaEnv) modes(t *testing.T) {
	topic := k.topic(t, 2)
	var p0, p1 [][]byte
	for i := range 10 {
		p0 = append(p0, fmt.Appendf(nil, `{"id":%d}`, i))
		p1 = append(p1, fmt.Appendf(nil, `{"id":%d}`, 100+i))
	}
	k.produce(t, topic, 0, p0[:5]...)
	time.Sleep(20 * time.Millisecond)
	middle := time.Now().UnixMilli()
	time.Sleep(20 * time.Millisecond)
	k.produce(t, topic, 0, p0[5:]...)
	k.produce(t, topic, 1, p1...)
	schema := types.Schema{{Name: "id", Type: types.BIGINT}}
	ids := func(opts ...string) string {
		t.Helper()
		rows, err := k.read(t, schema, append([]string{topic, "format", "json"}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, r := range rows {
			out = append(out, int(r[0].(int64)))
		}
		return fmt.Sprint(sortInts(out))
	}
	cases := []struct {
		opts []string
		want string
	}{
		{[]string{"scan.startup.mode", "specific-offsets", "scan.startup.specific-offsets", "partition:0,offset:8;partition:1,offset:9", "scan.bounded.mode", "latest-offset"}, "[8 9 109]"},
		{[]string{"scan.startup.mode", "earliest-offset", "scan.bounded.mode", "specific-offsets", "scan.bounded.specific-offsets", "partition:0,offset:2;partition:1,offset:1"}, "[0 1 100]"},
		{[]string{"scan.startup.mode", "timestamp", "scan.startup.timestamp-millis", fmt.Sprint(middle), "scan.bounded.mode", "latest-offset"}, "[5 6 7 8 9 100 101 102 103 104 105 106 107 108 109]"},
		{[]string{"scan.startup.mode", "earliest-offset", "scan.bounded.mode", "timestamp", "scan.bounded.timestamp-millis", fmt.Sprint(middle)}, "[0 1 2 3 4]"},
		{[]string{"scan.startup.mode", "latest-offset", "scan.bounded.mode", "latest-offset"}, "[]"},
		{[]string{"scan.startup.mode", "group-offsets", "properties.group.id", "g-none", "properties.auto.offset.reset", "earliest", "scan.bounded.mode", "specific-offsets", "scan.bounded.specific-offsets", "partition:0,offset:1;partition:1,offset:0"}, "[0]"},
	}
	for _, c := range cases {
		if got := ids(c.opts...); got != c.want {
			t.Errorf("read with %v = %s, want %s", c.opts, got, c.want)
		}
	}
	_, err := k.read(t, schema, topic, "format", "json", "properties.group.id", "g-none", "scan.bounded.mode", "latest-offset")
	if err == nil || !strings.Contains(err.Error(), "group 'g-none' has no committed offset for partition") {
		t.Errorf("group-offsets without a committed offset: %v", err)
	}
}

func sortInts(xs []int) []int {
	for i := range xs {
		for j := i + 1; j < len(xs); j++ {
			if xs[j] < xs[i] {
				xs[i], xs[j] = xs[j], xs[i]
			}
		}
	}
	return xs
}

func (k *kafkaEnv) badRecords(t *testing.T) {
	topic := k.topic(t, 1)
	k.produce(t, topic, 0, []byte(`{"id":1,"name":"a"}`), nil, []byte(`{"id":"x2","name":"b"}`), []byte(`{"id":3}`), []byte(`not json`))
	opts := []string{topic, "format", "json", "scan.startup.mode", "earliest-offset", "scan.bounded.mode", "latest-offset"}
	_, err := k.read(t, kafkaSchema, opts...)
	want := fmt.Sprintf("table 'in': kafka topic '%s' partition 0 offset 2: the value does not decode as json: field 'id': 'x2' is not a valid BIGINT; fix the record, or set 'json.ignore-parse-errors' = 'true' to skip such records", topic)
	if err == nil || err.Error() != want {
		t.Errorf("bad record: got error\n%v\nwant\n%s", err, want)
	}
	rows, err := k.read(t, kafkaSchema, append(opts, "json.ignore-parse-errors", "true")...)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rows) != "[[1 a <nil>] [<nil> b <nil>] [3 <nil> <nil>]]" {
		t.Errorf("with json.ignore-parse-errors: rows %v, want the bad field as NULL, the record that is not JSON and the tombstone skipped (as Flink)", rows)
	}
}

// unbounded checks that a source without a bound delivers rows as they come
// and stops when its context is cancelled.
func (k *kafkaEnv) unbounded(t *testing.T) {
	topic := k.topic(t, 1)
	src, err := OpenSource("in", kafkaSchema, k.options(topic, "format", "json", "scan.startup.mode", "earliest-offset"), 100, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k.produce(t, topic, 0, []byte(`{"id":1}`))
	b, err := src.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.NumRows() != 1 {
		t.Errorf("first batch has %d rows, want 1", b.NumRows())
	}
	b.Release()
	go func() {
		time.Sleep(200 * time.Millisecond)
		cancel()
	}()
	if _, err := src.Next(ctx); err != context.Canceled {
		t.Errorf("Next after cancel = %v, want context.Canceled", err)
	}
}

func (k *kafkaEnv) missingTopic(t *testing.T) {
	_, err := k.read(t, kafkaSchema, "no-such-topic", "format", "json", "scan.startup.mode", "earliest-offset")
	if err == nil || !strings.Contains(err.Error(), "kafka topic 'no-such-topic' does not exist on "+k.addr) {
		t.Errorf("missing topic: %v", err)
	}
}

// TestKafkaOptionErrors checks the messages of bad options (no broker needed).
func TestKafkaOptionErrors(t *testing.T) {
	base := map[string]string{"connector": "kafka", "topic": "t", "properties.bootstrap.servers": "127.0.0.1:1", "format": "json"}
	cases := []struct {
		sink bool
		kv   []string
		want string
	}{
		{false, []string{"topic", ""}, "table 'x': kafka option 'topic' is required"},
		{false, []string{"format", "xml"}, "kafka option 'format' = 'xml': weir's formats are avro, csv, json, raw"},
		{false, []string{"scan.startup.mode", "earliest"}, "'scan.startup.mode' = 'earliest': must be 'earliest-offset', 'latest-offset', 'group-offsets', 'timestamp' or 'specific-offsets'"},
		{false, nil, "option 'properties.group.id' is required by 'scan.startup.mode' = 'group-offsets'"},
		{false, []string{"scan.startup.mode", "timestamp"}, "option 'scan.startup.timestamp-millis' is required by its mode 'timestamp'"},
		{false, []string{"scan.startup.mode", "specific-offsets", "scan.startup.specific-offsets", "p0:1"}, "'p0:1' is not 'partition:<n>,offset:<n>'"},
		{false, []string{"json.ignore-parse-error", "true"}, "kafka option 'json.ignore-parse-error' is unknown; did you mean 'json.ignore-parse-errors'?"},
		{false, []string{"properties.isolation.level", "committed"}, "'properties.isolation.level' = 'committed': must be 'read_committed' or 'read_uncommitted'"},
		{false, []string{"properties.sasl.mechanism", "PLAIN"}, "Kafka client property 'sasl.mechanism' is not supported by weir's Kafka client"},
		{false, []string{"json.fail-on-missing-field", "yes"}, "kafka option 'json.fail-on-missing-field' = 'yes': must be 'true' or 'false'"},
		{false, []string{"key.format", "json"}, "option 'key.format' needs 'key.fields'"},
		{false, []string{"key.format", "json", "key.fields", "nope"}, "'key.fields' = 'nope': column 'nope' is not a column of the table"},
		{false, []string{"value.format", "json"}, "options 'format' and 'value.format' are both set"},
		{true, []string{"sink.delivery-guarantee", "exactly-once"}, "option 'sink.transactional-id-prefix' is required by 'sink.delivery-guarantee' = 'exactly-once'"},
		{true, []string{"sink.delivery-guarantee", "exactly_once"}, "must be 'none', 'at-least-once' or 'exactly-once'"},
		{true, []string{"sink.partitioner", "com.x.P"}, "weir supports 'default', 'fixed' and 'round-robin'"},
		{true, []string{"scan.startup.mode", "earliest-offset"}, "kafka option 'scan.startup.mode' is unknown"},
		{true, nil, "kafka: cannot reach the brokers 127.0.0.1:1"},
	}
	for _, c := range cases {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(c.kv); i += 2 {
			m[c.kv[i]] = c.kv[i+1]
		}
		var err error
		if c.sink {
			var s exec.Sink
			s, err = OpenSink("x", kafkaSchema, m, nil)
			if s != nil {
				s.Abort(nil)
			}
		} else {
			var s exec.Source
			s, err = OpenSource("x", kafkaSchema, m, 0, memory.DefaultAllocator)
			if s != nil {
				s.Close()
			}
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("options %v: got %v, want an error containing %q", c.kv, err, c.want)
		}
	}
}

func arrowBatch(schema types.Schema, cols []arrow.Array, n int) arrow.RecordBatch {
	return array.NewRecordBatch(schema.Arrow(), cols, int64(n))
}
